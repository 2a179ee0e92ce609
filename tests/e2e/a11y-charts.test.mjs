// a11y-charts.test.mjs: chart marks that are buttons reach assistive
// technology. role="img" makes an element's children presentational, so a
// chart with buttons in it (lesion bars, the draws of the delete-k and swap-k
// curves, the unraveled diagram's blocks) must be a group instead, named and
// described; each mark a named button that Enter and Space choose as a click
// does. Checked through Playwright's role queries and Chromium's own
// accessibility tree (CDP), after every tab has drawn its chart, on a tiny
// random-weight model (9 blocks of 4 to 16 channels) and 500 images.
//   node --test tests/e2e/a11y-charts.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { skipReason, startServer, launch, tinyModel, serveModels } from './harness.mjs';

const reason = await skipReason();
const tiny = reason ? null : tinyModel('e2e-a11y', ['--blocks-per-stage', '3', '--widths', '4,8,16', '--shortcut', 'A']);
const skip = reason ?? (tiny ? false : 'build/unravel is missing (make), needed to write the test model');
if (skip) console.log(`# a11y chart tests skipped: ${skip}`);

let server, browser;
before(async () => {
  if (skip) return;
  server = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.stop();
  tiny?.cleanup();
});

const VIEWS = ['lesion', 'delete', 'swap', 'paths', 'depth'];

const idle = (page, v) => page.waitForFunction((view) =>
  !document.querySelector(`#ux-panel-${view} .progress-row.running`) &&
  /Done/.test(document.querySelector(`#ux-panel-${view} .progress-label`)?.textContent ?? ''), v, { timeout: 120000 });

const deleted = (page) => new URL(page.url()).searchParams.get('deleted');
const focusedName = (page) => page.evaluate(() => document.activeElement?.getAttribute('aria-label'));

/** Chromium's accessibility tree: its unignored nodes, each with its chain of ancestors' roles. */
async function axTree(page) {
  const cdp = await page.context().newCDPSession(page);
  const { nodes } = await cdp.send('Accessibility.getFullAXTree');
  await cdp.detach();
  const byId = new Map(nodes.map((n) => [n.nodeId, n]));
  return nodes.filter((n) => !n.ignored).map((n) => {
    const ancestors = [];
    for (let p = byId.get(n.parentId); p; p = byId.get(p.parentId)) if (!p.ignored) ancestors.push(p.role?.value);
    return { role: n.role?.value, name: n.name?.value ?? '', description: n.description?.value ?? '', ancestors };
  });
}

test('chart marks that are buttons are named buttons outside any role="img", and Enter or Space does what a click does', { skip, timeout: 240000 }, async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (/\/models\/[\w.-]+\.json$/.test(m.location()?.url ?? '') && /404/.test(m.text())) return;   // absent models, by design
    errors.push(`console: ${m.text()}`);
  });
  // the shipped models are hidden, so "Across depths" measures the tiny one only
  await page.route(/\/models\/(resnet|plain|dev-)[\w-]*\.json$/, (r) => r.fulfill({ status: 404, body: '' }));
  await serveModels(page, [tiny]);
  await page.goto(`${server.url}?model=e2e-a11y&view=lesion&images=500&samples=2&seed=4&pbatch=8`);
  await page.waitForSelector('#explorer[data-ready]', { timeout: 60000 });

  // -- Delete one block: a bar per block, each a named button
  await idle(page, 'lesion');
  const lesion = page.getByRole('group', { name: 'Error when one block is deleted', exact: true });
  const bar = /^Delete block (\d) \(stage [123](, downsampling)?\) of e2e-a11y: error \d+\.\d\d%, [+−]\d+\.\d\d points ± \d+\.\d\d$/;
  assert.equal(await lesion.getByRole('button', { name: bar }).count(), 9);
  assert.match(await lesion.getByRole('button', { name: /^Delete block 3 / }).getAttribute('aria-label'), /\(stage 2, downsampling\)/);
  const lesionAx = (await axTree(page)).find((n) => n.role === 'group' && n.name === 'Error when one block is deleted');
  assert.match(lesionAx.description, /^One bar per block: .* e2e-a11y: full network \d+\.\d% error; one block deleted, \d+\.\d% to \d+\.\d% error\. Each of its bars is a button/);
  // reached by Tab from the export buttons above it; Enter deletes that block, as a click does
  await page.locator('[data-chart="lesion-single"] .export[data-format="json"]').focus();
  await page.keyboard.press('Tab');
  assert.match(await focusedName(page), /^Delete block 0 /);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => new URLSearchParams(location.search).get('deleted') === '0');
  await lesion.getByRole('button', { name: /^Delete block 4 / }).click();
  await page.waitForFunction(() => new URLSearchParams(location.search).get('deleted') === '4');
  await lesion.getByRole('button', { name: /^Delete block 7 / }).focus();
  await page.keyboard.press(' ');
  await page.waitForFunction(() => new URLSearchParams(location.search).get('deleted') === '7');

  // -- the random curves: each draw a named button; Enter gives the plan a click gives
  for (const [v, title, draw] of [
    ['delete', 'Error against the number of deleted blocks', /^Try e2e-a11y with 2 random blocks deleted, draw 2 of 2: error \d+\.\d%$/],
    ['swap', 'Error against reordering', /^Try e2e-a11y with 2 random swaps, draw 2 of 2: error \d+\.\d%, Kendall's tau 0\.\d\d$/],
  ]) {
    await page.locator(`#ux-tab-${v}`).click();
    await idle(page, v);
    const chart = page.getByRole('group', { name: title, exact: true });
    const dots = await page.locator(`[data-chart="${v}-k"] circle.draw`).count();
    assert.ok(dots >= 4, `${v}: ${dots} draws`);
    assert.equal(await chart.getByRole('button', { name: /^Try e2e-a11y with \d+ random (blocks? deleted|swaps?), draw [12] of 2: error / }).count(), dots);
    const mark = chart.getByRole('button', { name: draw });
    assert.equal(await mark.count(), 1, `${v}: the draw at k = 2`);
    await page.locator('.toolbar button', { hasText: 'Reset' }).click();
    let before = page.url();
    await mark.click();
    await page.waitForFunction((b) => location.href !== b, before);
    const clicked = page.url();
    await page.locator('.toolbar button', { hasText: 'Reset' }).click();
    await page.waitForFunction((b) => location.href !== b, clicked);
    before = page.url();
    await mark.focus();
    await page.keyboard.press(v === 'delete' ? 'Enter' : ' ');
    await page.waitForFunction((b) => location.href !== b, before);
    assert.equal(page.url(), clicked, `${v}: the key and the click give the same plan`);
    if (v === 'delete') assert.equal(deleted(page).split(',').length, 2);
    else assert.ok(new URL(page.url()).searchParams.get('order'), 'a swap draw reorders');
    await page.locator('.toolbar button', { hasText: 'Reset' }).click();
  }

  // -- the charts without buttons stay images, named and described
  for (const v of ['paths', 'depth']) {
    await page.locator(`#ux-tab-${v}`).click();
    await idle(page, v);
  }
  const depthAx = (await axTree(page)).find((n) => n.role === 'image' && n.name === 'Error added by deleting one block, across depths');
  assert.match(depthAx?.description ?? '', /e2e-a11y, 9 blocks: the median deletion adds [+−]\d+\.\d\d points\./);

  // -- the unraveled diagram: its blocks are toggle buttons, and the focus stays on one as it redraws
  const block2 = page.getByRole('group', { name: 'three residual blocks unraveled into eight paths' })
    .getByRole('button', { name: 'Delete block 2 (f2)', exact: true });
  await block2.focus();
  await page.keyboard.press('Enter');
  assert.equal(await block2.getAttribute('aria-pressed'), 'true');
  assert.equal(await focusedName(page), 'Delete block 2 (f2)');
  assert.match(await page.locator('.unraveled .paths-alive').textContent(), /^4 of 8 paths remain/);
  await page.keyboard.press(' ');
  assert.equal(await block2.getAttribute('aria-pressed'), 'false');
  assert.match(await page.locator('.unraveled .paths-alive').textContent(), /^8 of 8 paths remain/);

  // -- every tab has drawn its chart: no role="img" anywhere holds something focusable or a button
  const inImages = await page.evaluate(() => [...document.querySelectorAll('[role="img"]')].flatMap((img) =>
    [...img.querySelectorAll('[role="button"], [tabindex], button, a[href], input, select, textarea')]
      .map((e) => `${img.getAttribute('aria-labelledby') ?? img.getAttribute('aria-label')}: ${e.outerHTML.slice(0, 80)}`)));
  assert.deepEqual(inImages, []);
  for (const v of VIEWS) {   // each chart came to be drawn (its panel is hidden now, but kept)
    assert.ok(await page.locator(`#ux-panel-${v} svg.chart-svg [data-error], #ux-panel-${v} svg.chart-svg rect[data-k], ` +
                                 `#ux-panel-${v} svg.chart-svg [data-cost], #ux-panel-${v} svg.chart-svg circle[data-mean]`).count() > 0,
              `${v}: a chart with data`);
  }
  // and in Chromium's tree (the panel on show, the network, the diagram): no button under an image
  for (const v of ['lesion', 'delete']) {
    await page.locator(`#ux-tab-${v}`).click();
    await idle(page, v);
    const ax = await axTree(page);
    const buttons = ax.filter((n) => n.role === 'button');
    assert.ok(buttons.some((n) => /^(Delete block \d \(stage|Try e2e-a11y)/.test(n.name)), `${v}: its marks are in the tree`);
    assert.deepEqual(buttons.filter((n) => n.ancestors.includes('image')).map((n) => n.name), [], v);
  }
  assert.deepEqual(errors, []);
  await page.close();
});
