// theme.test.mjs: the page in light and dark. It follows the system's
// prefers-color-scheme (charts, block tiles, the image captions, the
// unraveled diagram), the theme control fixes one and keeps it in the URL
// (theme=light|dark, auto the default), and in either theme the text is WCAG
// AA legible: 4.5:1 for body text, tile and stage labels, chart text (ticks,
// axis labels, legends) and captions, 3:1 for the chart's axes and bars.
// Contrast is computed from getComputedStyle, colours normalised through a
// canvas, on a tiny random-weight model (9 blocks) and 500 images.
//   node --test tests/e2e/theme.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { skipReason, startServer, launch, tinyModel, serveModels } from './harness.mjs';

const reason = await skipReason();
const tiny = reason ? null : tinyModel('e2e-theme', ['--blocks-per-stage', '3', '--widths', '4,8,16', '--shortcut', 'A']);
const skip = reason ?? (tiny ? false : 'build/unravel is missing (make), needed to write the test model');
if (skip) console.log(`# theme tests skipped: ${skip}`);

let server, light, dark;
before(async () => {
  if (skip) return;
  server = await startServer();
  [light, dark] = await Promise.all([launch({ colorScheme: 'light' }), launch({ colorScheme: 'dark' })]);
});
after(async () => {
  await light?.close();
  await dark?.close();
  server?.stop();
  tiny?.cleanup();
});

async function open(browser, query) {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await serveModels(page, [tiny]);
  await page.goto(`${server.url}?model=e2e-theme&view=lesion&images=500${query}`);
  await page.waitForSelector('#explorer[data-ready]', { timeout: 60000 });
  await page.waitForFunction(() => document.querySelectorAll('[data-chart="lesion-single"] rect[data-error]').length === 9 &&
    !document.querySelector('#ux-panel-lesion .progress-row.running') && document.querySelector('.sample .pred'), null, { timeout: 120000 });
  return { page, errors };
}

/**
 * In the page: each kind of text and mark with its colour, its background's,
 * their contrast ratio and the least it must reach; and the page's and the
 * chart's background.
 */
function contrasts(page) {
  return page.evaluate(() => {
    const ctx = Object.assign(document.createElement('canvas'), { width: 1, height: 1 }).getContext('2d', { willReadFrequently: true });
    // any CSS colour (rgb(), color(srgb ...), color-mix results) as [r, g, b, a] 0-255, over `under` when translucent
    const rgba = (c, under = [255, 255, 255]) => {
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillStyle = `rgb(${under.join(' ')})`;
      ctx.fillRect(0, 0, 1, 1);
      ctx.fillStyle = '#000';
      ctx.fillStyle = c;
      ctx.fillRect(0, 0, 1, 1);
      return [...ctx.getImageData(0, 0, 1, 1).data].slice(0, 3);
    };
    const lum = (rgb) => {
      const [r, g, b] = rgb.map((v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (a, b) => { const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x); return (hi + 0.05) / (lo + 0.05); };
    // an HTML element's background: the first opaque one up its ancestors (the page's, at worst)
    const bgOf = (e) => {
      for (let x = e; x; x = x.parentElement) {
        const c = getComputedStyle(x).backgroundColor;
        if (c && !/rgba\(.*, 0\)|transparent/.test(c)) return rgba(c, bgOf(x.parentElement ?? document.documentElement));
        if (x === document.documentElement) break;
      }
      return rgba(getComputedStyle(document.documentElement).backgroundColor || 'white');
    };
    // an SVG mark's: its chart's background rect, or (the unraveled diagram) the page's under the <svg>
    const chartBg = (e) => {
      const rect = e.closest('svg').querySelector(':scope > rect.chart-bg');
      return rect ? rgba(getComputedStyle(rect).fill) : bgOf(e.closest('svg').parentElement);
    };
    const out = [];
    const html = (what, sel, least = 4.5) => {
      const e = document.querySelector(sel);
      if (!e) { out.push({ what, missing: sel }); return; }
      const bg = bgOf(e);
      const fg = rgba(getComputedStyle(e).color, bg);
      out.push({ what, fg, bg, ratio: ratio(fg, bg), least });
    };
    const svg = (what, sel, prop = 'fill', least = 4.5) => {
      const es = [...document.querySelectorAll(sel)];
      if (!es.length) { out.push({ what, missing: sel }); return; }
      for (const e of es.slice(0, 3)) {
        const bg = chartBg(e), fg = rgba(getComputedStyle(e)[prop], bg);
        out.push({ what, fg, bg, ratio: ratio(fg, bg), least });
      }
    };
    html('body text', '.explain');
    html('muted text', '.hint');
    for (const s of [1, 2, 3]) {
      html(`tile label, stage ${s}`, `.blocks .stage:nth-of-type(${s + 1}) .tile:not(.deleted) .toggle .id`);
      html(`stage ${s} label`, `.blocks .stage:nth-of-type(${s + 1}) .stage-label`);
    }
    html('chart caption', '#ux-panel-lesion .caption');
    html('image caption (prediction)', '.sample .pred');
    html('image caption (truth)', '.sample .truth');
    const lesion = '[data-chart="lesion-single"]';
    svg('chart tick labels', `${lesion} text.tick`);
    svg('chart axis label', `${lesion} text.axis-label`);
    svg('chart legend', `${lesion} text.legend-label`);
    svg('chart axes', `${lesion} line.axis`, 'stroke', 3);
    svg('chart bars', `${lesion} rect[data-error]`, 'fill', 3);
    svg('unraveled diagram text', '.unraveled text.paths-alive');
    return { checks: out, page: rgba(getComputedStyle(document.body).backgroundColor),
             chart: chartBg(document.querySelector(`${lesion} rect[data-error]`)),
             tick: rgba(getComputedStyle(document.querySelector(`${lesion} text.tick`)).fill),
             tile: rgba(getComputedStyle(document.querySelector('.tile .toggle')).color),
             unraveled: rgba(getComputedStyle(document.querySelector('.unraveled .chip rect')).fill),
             theme: document.documentElement.dataset.theme ?? 'auto' };
  });
}

function assertLegible(c, where) {
  for (const k of c.checks) {
    assert.ok(!k.missing, `${where}: ${k.what}: nothing at ${k.missing}`);
    assert.ok(k.ratio >= k.least, `${where}: ${k.what} rgb(${k.fg}) on rgb(${k.bg}): ${k.ratio.toFixed(2)}:1 < ${k.least}:1`);
  }
}
const darkish = (rgb) => rgb.reduce((a, b) => a + b) / 3 < 60;
const lightish = (rgb) => rgb.reduce((a, b) => a + b) / 3 > 220;

test('the page follows prefers-color-scheme, charts and tiles and captions included, and is AA legible in both', { skip, timeout: 240000 }, async () => {
  const a = await open(light, '');
  const b = await open(dark, '');
  const day = await contrasts(a.page), night = await contrasts(b.page);
  assertLegible(day, 'light');
  assertLegible(night, 'dark');
  assert.ok(lightish(day.page) && lightish(day.chart), `light: page rgb(${day.page}), chart rgb(${day.chart})`);
  assert.ok(darkish(night.page) && darkish(night.chart), `dark: page rgb(${night.page}), chart rgb(${night.chart})`);
  assert.notDeepEqual(night.tick, day.tick, 'the chart text changes');
  assert.notDeepEqual(night.unraveled, day.unraveled, 'the unraveled diagram changes');
  assert.deepEqual([day.theme, night.theme], ['auto', 'auto']);
  // an exported chart is the light figure, whatever the page shows (its colours' fallbacks)
  const [dl] = await Promise.all([b.page.waitForEvent('download'),
    b.page.locator('[data-chart="lesion-single"] .export[data-format="svg"]').click()]);
  const { readFileSync } = await import('node:fs');
  const svg = readFileSync(await dl.path(), 'utf8');
  assert.match(svg, /class="chart-bg"/);
  assert.match(svg, /<rect [^>]*fill="#ffffff"[^>]*style="fill: var\(--ux-bg, #ffffff\);"/);
  assert.deepEqual([...a.errors, ...b.errors], []);
  await a.page.close();
  await b.page.close();
});

test('the theme control fixes light or dark over the system\'s, in the URL and from it', { skip, timeout: 240000 }, async () => {
  // a dark system, the control set to light
  const { page, errors } = await open(dark, '');
  await page.selectOption('#ux-theme', 'light');
  assert.equal(new URL(page.url()).searchParams.get('theme'), 'light');
  let c = await contrasts(page);
  assert.equal(c.theme, 'light');
  assert.ok(lightish(c.page) && lightish(c.chart), `light over a dark system: page rgb(${c.page}), chart rgb(${c.chart})`);
  assertLegible(c, 'light over a dark system');
  await page.selectOption('#ux-theme', 'auto');
  assert.equal(new URL(page.url()).searchParams.get('theme'), null);
  assert.ok(darkish((await contrasts(page)).page), 'auto: the system\'s dark again');
  await page.close();
  // a light system, a link with theme=dark: the page opens dark, the control says so
  const o = await open(light, '&theme=dark');
  assert.equal(await o.page.locator('#ux-theme').inputValue(), 'dark');
  c = await contrasts(o.page);
  assert.ok(darkish(c.page) && darkish(c.chart) && !lightish(c.tick), `dark over a light system: page rgb(${c.page}), chart rgb(${c.chart})`);
  assertLegible(c, 'dark over a light system');
  assert.deepEqual([...errors, ...o.errors], []);
  await o.page.close();
});

test('the element: theme="dark" on a light host page is dark inside its shadow root, auto takes the host page\'s', { skip, timeout: 240000 }, async () => {
  const page = await light.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await serveModels(page, [tiny]);
  await page.route('**/theme-host.html', (r) => r.fulfill({ contentType: 'text/html', body: `<!doctype html>
    <script type="module" src="unravel-explorer.mjs"></script>
    <unravel-explorer id="night" model="e2e-theme" view="lesion" images="500" theme="dark"></unravel-explorer>
    <unravel-explorer id="day" model="e2e-theme" view="lesion" images="500"></unravel-explorer>` }));
  await page.goto(`${server.url}theme-host.html`);
  await page.waitForFunction(() => ['night', 'day'].every((id) =>
    document.getElementById(id).shadowRoot?.querySelectorAll('[data-chart="lesion-single"] rect[data-error]').length === 9), null, { timeout: 120000 });
  const look = await page.evaluate(() => Object.fromEntries(['night', 'day'].map((id) => {
    const root = document.getElementById(id).shadowRoot;
    const css = (sel, prop) => getComputedStyle(root.querySelector(sel))[prop];
    return [id, { chart: css('[data-chart="lesion-single"] rect.chart-bg', 'fill'), tick: css('[data-chart="lesion-single"] text.tick', 'fill'),
                  card: css('.card', 'backgroundColor'), text: css('.explain', 'color') }];
  })));
  assert.equal(look.night.chart, 'rgb(22, 24, 29)', 'theme="dark": the chart on the dark background');
  assert.equal(look.night.card, 'rgb(22, 24, 29)');
  assert.equal(look.day.chart, 'rgb(255, 255, 255)', 'auto on a light page: light');
  assert.notEqual(look.night.tick, look.day.tick);
  assert.notEqual(look.night.text, look.day.text);
  assert.deepEqual(errors, []);
  await page.close();
});
