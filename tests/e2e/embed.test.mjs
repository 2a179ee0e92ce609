// embed.test.mjs: <unravel-explorer> on another site. unravel's files are
// served by scripts/serve.mjs on one port, a host page by a tiny server of
// this test on another (another origin): the element's workers start there
// (through the blob: trampoline), it computes the numbers `unravel lesion`
// and `unravel eval` print, reports them and the plan by events, takes the
// page's theme, and its models-url / data-url / wasm-url attributes move
// its files, relative ones against the host page.
//   node --test tests/e2e/embed.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { skipReason, startServer, launch, freePort, cliJson, repo } from './harness.mjs';
import { STATE_TABLE } from '../../web/url-state.mjs';

/** web/custom-elements.json's one declaration: what it says must be what the element does. */
const MANIFEST = JSON.parse(fs.readFileSync(path.join(repo, 'web/custom-elements.json'), 'utf8'));
const DECLARED = MANIFEST.modules[0].declarations[0];

const MODEL = path.join(repo, 'models/resnet20.json');
const reason = (await skipReason()) ??
  (fs.existsSync(MODEL) ? null : 'models/resnet20.json is missing') ??
  (fs.existsSync(path.join(repo, 'build/unravel')) ? null : 'build/unravel is missing (make), needed for the numbers to compare');
const skip = reason ?? false;
if (skip) console.log(`# embed tests skipped: ${skip}`);

// The theme the host page sets: an accent on an ancestor (it inherits), a
// font on the element, and a rule on one of its parts.
const THEME = { accent: 'rgb(200, 0, 100)', font: 'Georgia', chartBorder: 'rgb(1, 2, 3)' };

const hostPage = (unravel, body) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>a host page</title><link rel="icon" href="data:,">
<style>
  body { --unravel-accent: ${THEME.accent}; }
  unravel-explorer { --unravel-font: 16px/1.4 ${THEME.font}, serif; }
  unravel-explorer::part(chart) { border-color: ${THEME.chartBorder}; }
</style>
<script>
  window.heard = [];
  for (const type of ['unravel-plan-change', 'unravel-result'])
    document.addEventListener(type, (e) => heard.push({ type, detail: e.detail, bubbles: e.bubbles, composed: e.composed }));
</script>
<script type="module" src="${unravel}unravel-explorer.mjs"></script>
</head><body>
${body}
</body></html>`;

let server, host, browser;
const hostRequests = [];
before(async () => {
  if (skip) return;
  server = await startServer();
  const port = await freePort();
  const pages = {
    '/': hostPage(server.url, '<unravel-explorer model="resnet20" view="lesion" images="500"></unravel-explorer>'),
    // its own copy of the model (relative models-url), no test images where data-url points, and a wasm-url that is not there
    '/moved.html': hostPage(server.url,
      '<unravel-explorer id="moved" model="resnet20" models-url="mine" data-url="nowhere/test_batch.bin"></unravel-explorer>\n' +
      '<unravel-explorer id="nowasm" model="resnet20" wasm-url="nowhere/unravel.wasm"></unravel-explorer>'),
    '/blank.html': hostPage(server.url, ''),
  };
  host = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    hostRequests.push(p);
    if (pages[p]) { res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(pages[p]); return; }
    const mine = /^\/mine\/(resnet20\.(json|bin))$/.exec(p);
    if (mine) { res.writeHead(200).end(fs.readFileSync(path.join(repo, 'models', mine[1]))); return; }
    res.writeHead(404).end();
  });
  await new Promise((resolve) => host.listen(port, '127.0.0.1', resolve));
  host.url = `http://127.0.0.1:${port}/`;
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.stop();
  host?.close();
});

// A host page with every console error and page error kept (an absent model
// name the explorer probes is a 404 by design; so is the test's missing file).
async function open(pagePath, expected404 = /\/models\/[\w.-]+\.json$/) {
  const page = await browser.context.newPage();
  const errors = [], workers = [];
  page.on('worker', (w) => workers.push(w.url()));
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (expected404.test(m.location()?.url ?? '') && /404/.test(m.text())) return;
    errors.push(`console: ${m.text()} (${m.location()?.url ?? ''})`);
  });
  await page.goto(host.url + pagePath);
  return { page, errors, workers };
}

/** The first event of this type (and view) the host page has heard, waiting for it. */
async function heard(page, type, match = {}) {
  const h = await page.waitForFunction(([t, m]) => window.heard.find((e) => e.type === t &&
    Object.entries(m).every(([k, v]) => JSON.stringify(e.detail[k]) === JSON.stringify(v))), [type, match], { timeout: 180000 });
  return await h.jsonValue();
}

const near = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-12, `${what}: embed ${a}, CLI ${b}`);

test('custom-elements.json declares the URL state\'s attributes with their defaults, and style.css\'s --unravel-* properties', () => {
  assert.equal(MANIFEST.schemaVersion, '1.0.0');
  assert.equal(DECLARED.tagName, 'unravel-explorer');
  const attrs = new Map(DECLARED.attributes.map((a) => [a.name, a]));
  for (const e of STATE_TABLE) {
    const a = attrs.get(e.name);
    assert.ok(a, `attribute ${e.name} is not declared`);
    if (e.values) assert.equal(a.type.text, e.values.map((v) => `"${v}"`).join(' | '), e.name);
    if (e.default != null && !Array.isArray(e.default)) assert.equal(a.default, `"${e.default}"`, `${e.name} default`);
  }
  const css = fs.readFileSync(path.join(repo, 'web/style.css'), 'utf8');
  assert.deepEqual(DECLARED.cssProperties.map((p) => p.name).sort(), [...new Set(css.match(/--unravel-[\w-]+/g))].sort());
  assert.deepEqual(DECLARED.events.map((e) => e.name), ['unravel-plan-change', 'unravel-result']);
});

test('on another origin the element computes the lesion study as `unravel lesion` does, and says so by an event', { skip, timeout: 240000 }, async () => {
  assert.notEqual(new URL(host.url).origin, new URL(server.url).origin);
  const { page, errors, workers } = await open('');
  await page.waitForSelector('unravel-explorer[data-ready]', { timeout: 60000 });
  // new Worker(url of unravel's origin) would throw here: each started from a same-origin blob:
  assert.ok(workers.length >= 1 && workers.every((u) => u.startsWith(`blob:${host.url.slice(0, -1)}/`)), workers.join(' '));
  const result = await heard(page, 'unravel-result', { view: 'lesion' });
  assert.equal(result.bubbles, true);
  assert.equal(result.composed, true);
  const native = cliJson('lesion', '--model', MODEL, '--limit', '500');
  const { detail } = result;
  assert.equal(detail.images, 500);
  assert.equal(detail.models.length, 1);
  const m = detail.models[0];
  assert.equal(m.model, 'resnet20');
  assert.equal(m.images, native.images);
  near(m.fullError, native.full_error, 'full network');
  assert.equal(m.blocks.length, native.blocks.length);
  m.blocks.forEach((b, i) => {
    const n = native.blocks[i];
    assert.equal(b.block, i);
    near(b.error, n.error, `block ${i}`);
    near(b.change, n.error - native.full_error, `block ${i} change`);
    near(b.ci95, n.ci95, `block ${i} ci95`);
    assert.deepEqual([b.turnedWrong, b.turnedRight], [n.turned_wrong, n.turned_right], `block ${i} flips`);
  });
  // the chart has its bars, one per deletable block
  assert.equal(await page.locator('unravel-explorer [data-chart="lesion-single"] rect[data-error]').count(),
               native.blocks.filter((b) => b.error != null).length);
  assert.match(await page.locator('unravel-explorer .engine').innerText(), /unravel \d+\.\d+\.\d+ .* \d+ workers?/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('deleting a block fires unravel-plan-change with the plan, then unravel-result with the live error `unravel eval` prints', { skip, timeout: 240000 }, async () => {
  const { page, errors } = await open('');
  await page.waitForSelector('unravel-explorer[data-ready]', { timeout: 60000 });
  await heard(page, 'unravel-result', { view: 'network', deleted: [] });
  assert.equal(await page.evaluate(() => window.heard.filter((e) => e.type === 'unravel-plan-change').length), 0,
               'no plan change before the user changes it');
  await page.locator('unravel-explorer .tile[data-block="3"] .toggle').click();
  const change = await heard(page, 'unravel-plan-change');
  assert.deepEqual(change.detail, { model: 'resnet20', deleted: [3], order: null });
  assert.equal(change.composed, true);
  assert.deepEqual(await page.evaluate(() => document.querySelector('unravel-explorer').plan), change.detail);
  const live = (await heard(page, 'unravel-result', { view: 'network', deleted: [3] })).detail;
  const v = cliJson('eval', '--model', MODEL, '--limit', '500', '--delete', '3');
  assert.equal(live.images, 500);
  near(live.error, v.error, 'plan error');
  near(live.fullError, v.versus_full.error, 'full network');
  near(live.change, v.versus_full.change, 'change');
  near(live.ci95, v.versus_full.ci95, 'ci95');
  assert.deepEqual([live.turnedWrong, live.turnedRight], [v.versus_full.turned_wrong, v.versus_full.turned_right]);
  // restoring it is a plan change too
  await page.locator('unravel-explorer .tile[data-block="3"] .toggle').click();
  await page.waitForFunction(() => window.heard.filter((e) => e.type === 'unravel-plan-change').length === 2);
  assert.deepEqual(await page.evaluate(() => window.heard.filter((e) => e.type === 'unravel-plan-change')[1].detail),
                   { model: 'resnet20', deleted: [], order: null });
  assert.deepEqual(errors, []);
  await page.close();
});

test('the host page themes the element through --unravel-* properties and ::part()', { skip, timeout: 120000 }, async () => {
  const { page, errors } = await open('');
  await page.waitForSelector('unravel-explorer[data-ready]', { timeout: 60000 });
  const look = await page.evaluate(() => {
    const root = document.querySelector('unravel-explorer').shadowRoot;
    const style = (sel) => getComputedStyle(root.querySelector(sel));
    return {
      attributes: customElements.get('unravel-explorer').observedAttributes,
      parts: [...new Set([...root.querySelectorAll('[part]')].flatMap((e) => [...e.part]))],
      run: style('#ux-panel-lesion .run').backgroundColor,
      font: style('[part~="controls"]').fontFamily,
      chartBorder: style('[part~="chart"]').borderTopColor,
    };
  });
  // the element's attributes and parts are those custom-elements.json declares
  assert.deepEqual([...look.attributes].sort(), DECLARED.attributes.map((a) => a.name).sort());
  assert.deepEqual(look.parts.sort(), DECLARED.cssParts.map((p) => p.name).sort());
  assert.equal(look.run, THEME.accent);
  assert.match(look.font, new RegExp(`^${THEME.font}`));
  assert.equal(look.chartBorder, THEME.chartBorder);
  assert.deepEqual(errors, []);
  await page.close();
});

test('models-url, data-url and wasm-url move the files, relative to the host page', { skip, timeout: 120000 }, async () => {
  const { page } = await open('moved.html', /\/nowhere\/|\/models\/[\w.-]+\.json$/);
  const moved = page.locator('#moved');
  await page.waitForSelector('#moved[data-ready]', { timeout: 60000 });
  // the model from the host's own folder, no test images where data-url points (a 404 the explorer explains)
  assert.ok(hostRequests.includes('/mine/resnet20.json') && hostRequests.includes('/mine/resnet20.bin'), hostRequests.join(' '));
  assert.ok(hostRequests.includes('/nowhere/test_batch.bin'), hostRequests.join(' '));
  assert.equal(await moved.locator('.tile[data-block]').count(), 9);
  assert.match(await moved.locator('.messages').innerText(), /No CIFAR-10 test images/);
  // a wasm-url with nothing there: the message names the resolved URL on the host
  await page.waitForFunction(() => /could not start/.test(document.querySelector('#nowasm').shadowRoot.querySelector('.messages')?.textContent));
  assert.match(await page.locator('#nowasm .messages').innerText(), new RegExp(`HTTP 404 for ${host.url}nowhere/unravel\\.wasm`));
  await page.close();
});

test('"Link & embed" also gives an <iframe> of the view, which shows it on another site', { skip, timeout: 120000 }, async () => {
  const page = await browser.context.newPage();
  const query = '?model=resnet20&deleted=1&view=swap&samples=1';
  await page.goto(server.url + query);
  await page.waitForSelector('#explorer[data-ready]', { timeout: 60000 });
  await page.locator('.share-btn').click();
  const html = page.locator('#ux-share textarea');
  assert.match(await html.inputValue(), /^<script type="module"/);   // the element first
  await page.locator('#ux-share .share-kind[data-kind="iframe"]').click();
  assert.equal(await page.locator('#ux-share .share-kind[data-kind="iframe"]').getAttribute('aria-pressed'), 'true');
  const snippet = await html.inputValue();
  assert.equal(snippet, `<iframe src="${page.url().replace(/&/g, '&#38;')}" title="unravel explorer: Swap k pairs, resnet20" ` +
                        'width="100%" height="900" style="border: 0" loading="lazy"></iframe>');
  await page.close();
  const { page: other, errors } = await open('blank.html');
  await other.evaluate((h) => { document.body.innerHTML = h; }, snippet);
  const frame = other.frameLocator('iframe');
  await frame.locator('#explorer[data-ready]').waitFor({ state: 'attached', timeout: 60000 });
  assert.equal(await frame.locator('.tile.deleted').count(), 1);
  assert.equal(await frame.locator('#ux-panel-swap').isVisible(), true);
  assert.deepEqual(errors, []);
  await other.close();
});
