// charts-node.test.mjs: one set of chart modules draws the page's figures
// (DOM, in Chromium) and docs/results' (SVG text, in Node). The lesion and
// delete-k charts of the page, drawn from its own runs on a tiny random-weight
// model, are drawn again in Node from the data their JSON export gives, and
// their data marks must agree attribute for attribute: values, positions,
// sizes and names. And the CLI's `unravel lesion --json` for that model, put
// through scripts/figures.mjs as RESULTS does, gives bars of the page's values.
//   node --test tests/e2e/charts-node.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { skipReason, startServer, launch, tinyModel, serveModels, cliJson } from './harness.mjs';
import { toSvg } from '../../web/svg.mjs';
import { lesionChart } from '../../web/charts/lesion.mjs';
import { errorKChart } from '../../web/charts/error-k.mjs';
import * as figures from '../../scripts/figures.mjs';

const reason = await skipReason();
const tiny = reason ? null : tinyModel('e2e-cmp', ['--blocks-per-stage', '2', '--widths', '4,8,16', '--shortcut', 'A']);
const skip = reason ?? (tiny ? false : 'build/unravel is missing (make), needed to write the test model');
if (skip) console.log(`# chart page/Node tests skipped: ${skip}`);

let server, browser;
before(async () => {
  if (skip) return;
  server = await startServer();
  browser = await launch();   // 1280x900: the charts' full width (config.mjs CHART.width)
});
after(async () => {
  await browser?.close();
  server?.stop();
  tiny?.cleanup();
});

const idle = (page, v) => page.waitForFunction((view) =>
  !document.querySelector(`#ux-panel-${view} .progress-row.running`) &&
  /Done/.test(document.querySelector(`#ux-panel-${view} .progress-label`)?.textContent ?? ''), v, { timeout: 120000 });

// what a data mark is: its values, where it is, how big, its name as a button
const KEYS = ['data-block', 'data-error', 'data-model', 'data-ci95', 'data-k', 'data-sample', 'data-x', 'data-mean',
              'x', 'y', 'width', 'height', 'cx', 'cy', 'r', 'd', 'aria-label', 'role'];
const pick = (attrs) => Object.fromEntries(KEYS.filter((k) => attrs[k] != null).map((k) => [k, attrs[k]]));

/** The marks of SVG text matched by selector in a blank page (the browser parses both sides the same way). */
function nodeMarks(page, svg, selector) {
  return page.evaluate(({ svg, selector, KEYS }) => {
    const div = document.createElement('div');
    div.innerHTML = svg;
    return [...div.querySelectorAll(selector)].map((e) => Object.fromEntries(KEYS.filter((k) => e.hasAttribute(k)).map((k) => [k, e.getAttribute(k)])));
  }, { svg, selector, KEYS });
}

const pageMarks = (page, selector) => page.$$eval(selector, (es, KEYS) =>
  es.map((e) => Object.fromEntries(KEYS.filter((k) => e.hasAttribute(k)).map((k) => [k, e.getAttribute(k)]))), KEYS);

async function exported(page, chart) {
  const [dl] = await Promise.all([page.waitForEvent('download'),
    page.locator(`[data-chart="${chart}"] .export[data-format="json"]`).click()]);
  return JSON.parse(fs.readFileSync(await dl.path(), 'utf8')).data;
}

test('the page\'s lesion and delete-k charts and the same charts drawn in Node have the same data marks', { skip, timeout: 240000 }, async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await serveModels(page, [tiny]);
  await page.goto(`${server.url}?model=e2e-cmp&view=lesion&images=500&samples=2&seed=3`);
  await page.waitForSelector('#explorer[data-ready]', { timeout: 60000 });

  // -- lesion: bars (their buttons' names too) and whiskers
  await idle(page, 'lesion');
  const lesion = await exported(page, 'lesion-single');
  const inPage = await pageMarks(page, '[data-chart="lesion-single"] rect[data-error]');
  assert.equal(inPage.length, 6);
  // the page's series is selectable; in Node a chooser gives the same buttons
  const svg = toSvg(lesionChart(lesion, { id: 'n', onSelect: () => {} }));
  assert.deepEqual((await nodeMarks(page, svg, 'rect[data-error]')).map(pick), inPage.map(pick));
  assert.deepEqual(await nodeMarks(page, svg, 'path.ci'), await pageMarks(page, '[data-chart="lesion-single"] path.ci'));
  assert.ok(inPage.every((m) => m.role === 'button' && /^Delete block \d /.test(m['aria-label'])), 'the bars are buttons');

  // -- and RESULTS' way there: the CLI's JSON through scripts/figures.mjs gives the page's values
  const native = cliJson('lesion', '--model', tiny.path, '--limit', '500');
  const docs = figures.lesion({ series: [figures.lesionSeries('e2e-cmp', lesion.series[0].color, native)] }, { id: 'd', width: 560 });
  const docBars = await nodeMarks(page, docs, 'rect[data-error]');
  assert.deepEqual(docBars.map((m) => [m['data-block'], m['data-model']]), inPage.map((m) => [m['data-block'], m['data-model']]));
  docBars.forEach((m, i) => {
    assert.ok(Math.abs(Number(m['data-error']) - Number(inPage[i]['data-error'])) < 1e-9, `block ${i}: error`);
    assert.ok(Math.abs(Number(m['data-ci95']) - Number(inPage[i]['data-ci95'])) < 1e-9, `block ${i}: ci95`);
  });

  // -- delete k: the means' markers and every draw's dot (buttons in the page)
  await page.locator('#ux-tab-delete').click();
  await idle(page, 'delete');
  const curve = await exported(page, 'delete-k');
  const means = await pageMarks(page, '[data-chart="delete-k"] circle[data-mean]');
  const draws = await pageMarks(page, '[data-chart="delete-k"] circle.draw');
  assert.ok(means.length >= 3 && draws.length === 2 * means.length, `${means.length} means, ${draws.length} draws`);
  const k = toSvg(errorKChart(curve, { id: 'k', draws: true }));
  assert.deepEqual((await nodeMarks(page, k, 'circle[data-mean]')).map(pick), means.map(pick));
  const noButtons = (m) => { const { role, 'aria-label': label, ...rest } = pick(m); return rest; };
  assert.deepEqual((await nodeMarks(page, k, 'circle.draw')).map(noButtons), draws.map(noButtons));
  assert.deepEqual(await nodeMarks(page, k, 'path.mean'), await pageMarks(page, '[data-chart="delete-k"] path.mean'));
  assert.deepEqual(errors, []);
  await page.close();
});
