// layout.test.mjs: what the page looks like, measured in headless Chromium
// at 1280x900 (bounding boxes, not pixels): chart labels never sit on the
// marks, path counts in one notation, selects and the file control show their
// whole text, the live error is whole on the first screen, and a long run
// says what it will cost, as cost.mjs counts it, before it starts.
//   node --test tests/e2e/layout.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { skipReason, startServer, launch, tinyModel, serveModels, repo } from './harness.mjs';
import { randomCurvePasses, PASS } from '../../web/cost.mjs';
import { defaultKs } from '../../web/experiments.mjs';

const reason = await skipReason();
const tiny = reason ? null : tinyModel('e2e-lay');
const deep = reason ? null : tinyModel('e2e-deep', ['--blocks-per-stage', '18', '--widths', '8,16,32', '--shortcut', 'A']);
const skip = reason ?? (tiny && deep ? false : 'build/unravel is missing (make), needed to write the test models');
if (skip) console.log(`# browser tests skipped: ${skip}`);
const siteHas = (m) => fs.existsSync(path.join(repo, 'models', `${m}.json`));

let server, browser;
before(async () => {
  if (skip) return;
  server = await startServer();
  browser = await launch();   // 1280x900
});
after(async () => {
  await browser?.close();
  server?.stop();
  tiny?.cleanup();
  deep?.cleanup();
});

async function open(query) {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await serveModels(page, [tiny, deep]);
  await page.goto(server.url + query);
  await page.waitForSelector('#explorer[data-ready]', { timeout: 60000 });
  return { page, errors };
}

const liveError = (page) => page.waitForFunction(() => {
  const e = document.querySelector('.err-big');
  return e && !e.classList.contains('stale') && /%$/.test(e.textContent);
}, null, { timeout: 60000 });

/**
 * In the page: draw a chart of `module` (web/charts/*.mjs) with `data`, and
 * return its texts that overlap a mark (`marks`, a selector), and every text.
 */
function overlaps(page, module, factory, data, marks) {
  return page.evaluate(async ({ module, factory, data, marks }) => {
    const chart = (await import(module))[factory](Object.assign(document.body.appendChild(document.createElement('div')),
                                                                  { style: 'width: 560px' }), {});
    chart.update(data);
    const box = (e) => e.getBoundingClientRect();
    const meet = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
    const texts = [...chart.svg.querySelectorAll('text')].filter((t) => t.textContent.trim());
    const shapes = [...chart.svg.querySelectorAll(marks)].map(box);
    return { texts: texts.map((t) => t.textContent),
             over: texts.filter((t) => shapes.some((s) => meet(box(t), s))).map((t) => t.textContent) };
  }, { module, factory, data, marks });
}

test('chart labels sit clear of the marks: the lesion chart\'s full-network and chance lines, the depth chart\'s medians; path counts in one notation', { skip }, async () => {
  const { page, errors } = await open('?model=e2e-lay');
  // two nets of 9 blocks, bars as tall as the page draws them: the full-network
  // lines near the bars' tops at both ends (where their labels used to be), chance just under them
  const blocks = (errs) => errs.map((error, b) => ({ block: b, stage: 1 + Math.floor(b / 3), downsample: b === 3 || b === 6,
                                                     deletable: true, error, ci95: 0.03, turnedWrong: 5, turnedRight: 1 }));
  const lesion = await overlaps(page, '/charts/lesion.mjs', 'createLesionChart', { series: [
    { name: 'resnet20', color: '#0072B2', result: { full: { error: 0.082 }, blocks: blocks([0.7, 0.19, 0.72, 0.45, 0.19, 0.18, 0.65, 0.3, 0.09]) } },
    { name: 'plain20', color: '#D55E00', result: { full: { error: 0.104 }, blocks: blocks([0.9, 0.89, 0.9, 0.93, 0.93, 0.91, 0.9, 0.9, 0.11]) } },
  ] }, 'rect[data-block]');
  assert.deepEqual(lesion.over, [], `labels over bars: ${lesion.over.join(' | ')}`);
  for (const label of ['full 8.2%', 'full 10.4%', 'chance 90%']) assert.ok(lesion.texts.includes(label), `the legend names ${label}`);

  // three columns, each with dots all along its median line (where its label used to be)
  const col = (name, n, costs) => ({ name, label: name, n, color: '#0072B2', full: 0.1,
    blocks: Array.from({ length: n }, (_, b) => ({ block: b, downsample: false, error: 0.1 + costs[b % costs.length] / 100, ci95: 0.01 })) });
  const depth = await overlaps(page, '/charts/depth.mjs', 'createDepthChart', { series: [
    col('ResNet-20', 9, [20, 21, 60, 9.5, 20, 64, 20, 30, 20]), col('ResNet-56', 27, [0.7, 0.8, 31, -0.4, 0.7, 2]),
    col('ResNet-110 (half width)', 54, [0.6, 0.7, 3.1, -0.6, 0.6, 0])] }, 'circle');
  assert.deepEqual(depth.over, [], `labels over dots: ${depth.over.join(' | ')}`);
  assert.ok(depth.texts.includes('median +20') && depth.texts.includes('median +0.6'), depth.texts.join(' | '));

  const paths = await overlaps(page, '/charts/path-dist.mjs', 'createPathDistChart', { n: 54, window: { a: 5, b: 17 } }, 'rect[data-k]');
  assert.ok(paths.texts.includes('2⁵⁴ ≈ 1.8 × 10¹⁶ paths, mean length 27'), paths.texts.join(' | '));
  assert.ok(!paths.texts.some((t) => /\^|×10/.test(t)), 'no caret notation');
  assert.deepEqual(errors, []);
  await page.close();
});

test('selects and the file control show their whole text; the file input is out of sight but reached by Tab', { skip, timeout: 120000 }, async () => {
  const { page, errors } = await open('?model=e2e-lay&view=delete&samples=1');
  await liveError(page);
  // a select's text runs up to its arrow (about 20 px) with padding, not under it
  const fits = () => page.evaluate(() => [...document.querySelectorAll('.controls select, .run-row select')]
    .filter((s) => s.offsetParent).map((s) => {
      const cs = getComputedStyle(s), span = document.body.appendChild(document.createElement('span'));
      span.style.font = cs.font; span.style.whiteSpace = 'pre'; span.textContent = s.selectedOptions[0].text;
      const text = span.getBoundingClientRect().width;
      span.remove();
      return { id: s.id || s.getAttribute('aria-label'), padding: parseFloat(cs.paddingRight),
               room: s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - text };
    }));
  const selects = await fits();
  assert.ok(selects.some((s) => s.id === 'ux-delete-x'), 'the delete-k x-axis select is measured');
  for (const s of selects) assert.ok(s.padding >= 2 && s.room >= 18, `${s.id}: ${JSON.stringify(s)}`);

  const whole = (sel) => page.locator(sel).evaluate((e) => ({ text: e.textContent, fits: e.scrollWidth <= e.clientWidth + 0.5,
                                                              right: e.getBoundingClientRect().right }));
  assert.deepEqual(await whole('.file-button'), { ...(await whole('.file-button')), text: 'Your files…', fits: true });
  assert.equal((await whole('.file-chosen')).fits, true);
  const input = await page.locator('.file-input').evaluate((e) => ({ opacity: getComputedStyle(e).opacity, w: e.getBoundingClientRect().width }));
  assert.ok(input.opacity === '0' && input.w <= 1, JSON.stringify(input));
  // what was taken, whole (a long name shortened in the middle, all of it in the title)
  const long = 'a-model-with-a-very-long-name-indeed';
  await page.locator('.file-input').setInputFiles([{ name: `${long}.json`, mimeType: 'application/json', buffer: Buffer.from('{}') },
                                                  { name: `${long}.bin`, mimeType: 'application/octet-stream', buffer: Buffer.alloc(8) }]);
  await page.waitForSelector('.msg[data-key="files"]');
  const chosen = await whole('.file-chosen');
  assert.ok(chosen.fits && chosen.right <= 1280 && /…/.test(chosen.text), JSON.stringify(chosen));
  assert.equal(await page.locator('.file-chosen').getAttribute('title'), `${long}.json, ${long}.bin`);
  // Tab from the seed reaches the hidden input, and its label shows the focus
  await page.locator('#ux-seed').focus();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'file-input');
  assert.equal(await page.locator('.file-button').evaluate((e) => getComputedStyle(e).outlineStyle), 'solid');
  assert.deepEqual(errors, []);
  await page.close();
});

test('the first screen at 1280x900 shows the live error whole: a 54-block network, a deletion, a comparison and a URL message', { skip, timeout: 120000 }, async () => {
  const { page, errors } = await open('?model=e2e-deep&compare=e2e-lay&deleted=3&samples=x');
  await liveError(page);
  await page.waitForFunction(() => !document.querySelector('.err-vs').hidden && /against/.test(document.querySelector('.err-vs').textContent),
                             null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => window.scrollY), 0);
  for (const sel of ['.err-big', '.err-sub', '.err-vs']) {
    const b = await page.locator(sel).boundingBox();
    assert.ok(b.height > 0 && b.y + b.height <= 900, `${sel} ends at ${b.y + b.height}`);
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test('the landing\'s first screen at 1280x900 holds its chart, its numbers and the way on', { skip: skip || (!siteHas('resnet20') && 'no site models'), timeout: 120000 }, async () => {
  const page = await browser.context.newPage();
  await page.goto(server.url);
  await page.waitForSelector('#explorer[data-ready]', { timeout: 60000 });
  for (const sel of ['[data-chart="hero"]', '.hero-stats', '.hero-actions .primary']) {
    const b = await page.locator(sel).boundingBox();
    assert.ok(b.y + b.height <= 900, `${sel} ends at ${b.y + b.height}`);
  }
  await page.close();   // its sweeps stop with it
});

test('a long run says what it will cost before it starts, from the speed measured here, as cost.mjs counts it, and is about right',
     { skip: skip || (!siteHas('resnet20') && 'no models/resnet20.json'), timeout: 240000 }, async () => {
  const { page, errors } = await open('?model=resnet20&view=delete&samples=3');
  await liveError(page);
  const label = page.locator('#ux-panel-delete .progress-label');
  await page.waitForFunction(() => /Done/.test(document.querySelector('#ux-panel-delete .progress-label').textContent), null, { timeout: 120000 });
  const t0 = Date.now();
  await page.locator('#ux-panel-delete .run').click();
  assert.match(await label.innerText(), /^3 draws per k, 500 images each… about \d+ s on this machine$/);
  const estimate = Number(await page.locator('#ux-panel-delete .progress-row').getAttribute('data-estimate'));
  const { speed, workers } = await page.evaluate(() => ({ speed: window.unravelExplorer.speed, workers: window.unravelExplorer.workers }));
  // ResNet-20: 9 blocks, every one deletable; the work of cost.mjs at the speed the live error measured
  const blocks = Array.from({ length: 9 }, (_, b) => ({ deletable: true, swappable: b !== 3 && b !== 6 }));
  const formula = randomCurvePasses('delete', blocks, defaultKs(9), 3) * 500 * speed.resnet20 * PASS.delete / workers;
  assert.ok(Math.abs(estimate - formula) <= 0.05 * formula + 0.01, `estimate ${estimate} s, formula ${formula} s`);
  await page.waitForFunction(() => /Done/.test(document.querySelector('#ux-panel-delete .progress-label').textContent), null, { timeout: 120000 });
  const took = (Date.now() - t0) / 1000;
  console.log(`# delete k, ResNet-20, 3 draws, 500 images: estimated ${estimate.toFixed(1)} s, took ${took.toFixed(1)} s`);
  assert.ok(took > estimate / 4 && took < estimate * 4, `estimated ${estimate} s, took ${took} s`);
  assert.deepEqual(errors, []);
  await page.close();
});
