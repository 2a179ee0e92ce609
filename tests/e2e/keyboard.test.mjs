// keyboard.test.mjs: the explorer with the keyboard alone. The skip link
// takes the focus to the network; Enter and Space on a block delete and
// restore it and the focus stays on that block (so Space never scrolls the
// page); a swap arrow keeps the focus on the block it moves; the experiment
// tabs follow the ARIA tabs pattern (arrows, Home, End; one Tab stop); Run
// stays focusable while its run is under way, says so, and Escape or Cancel
// stops it with the focus back on Run. On a tiny random-weight model (9
// blocks of 4 to 16 channels, 3 per stage) and 500 images.
//   node --test tests/e2e/keyboard.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { skipReason, startServer, launch, tinyModel, serveModels } from './harness.mjs';

const reason = await skipReason();
const tiny = reason ? null : tinyModel('e2e-keys', ['--blocks-per-stage', '3', '--widths', '4,8,16', '--shortcut', 'A']);
const skip = reason ?? (tiny ? false : 'build/unravel is missing (make), needed to write the test model');
if (skip) console.log(`# keyboard tests skipped: ${skip}`);

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

async function open(query) {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await serveModels(page, [tiny]);
  await page.goto(server.url + query);
  await page.waitForSelector('#explorer[data-ready]', { timeout: 60000 });
  return { page, errors };
}

/** What has the focus: its data-focus key, id, role, name and text. */
const focused = (page) => page.evaluate(() => {
  const e = document.activeElement;
  return { focus: e?.dataset?.focus ?? null, id: e?.id ?? '', role: e?.getAttribute('role') ?? null, tag: e?.tagName ?? '',
           name: e?.getAttribute('aria-label') ?? e?.textContent?.trim() ?? '', cls: e?.className ?? '' };
});
// the URL state from the page itself (page.url() may lag history.replaceState)
const param = (page, name) => page.evaluate((n) => new URLSearchParams(location.search).get(n), name);

/** Press Tab until `until(focused)` holds (at most `max` presses); the number of presses. */
async function tabTo(page, until, max = 80) {
  for (let n = 1; n <= max; n++) {
    await page.keyboard.press('Tab');
    if (until(await focused(page))) return n;
  }
  throw new Error(`not reached in ${max} Tab presses`);
}

test('the skip link, then Enter / Space on a block and on a swap arrow: the focus stays on that block, the page does not scroll', { skip }, async () => {
  const { page, errors } = await open('?model=e2e-keys');
  // the first Tab reaches the skip link, shown on screen
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).name, 'Skip to the network');
  const box = await page.locator('.skip-link').boundingBox();
  assert.ok(box && box.y >= 0 && box.width > 20, `the skip link is on screen: ${JSON.stringify(box)}`);
  await page.keyboard.press('Enter');
  assert.equal((await focused(page)).id, 'ux-network');
  const top = await page.evaluate(() => document.getElementById('ux-network').getBoundingClientRect().top);
  assert.ok(Math.abs(top) < 5, `the network is at the top of the window (${top})`);
  // the next Tab: the first block
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).focus, 'toggle:0');

  // Enter deletes block 0, Space restores it; the focus stays on it; nothing scrolls
  const y0 = await page.evaluate(() => scrollY);
  await page.keyboard.press('Enter');
  assert.equal(await param(page, 'deleted'), '0');
  assert.equal(await page.locator('[data-focus="toggle:0"]').getAttribute('aria-pressed'), 'true');
  assert.equal((await focused(page)).focus, 'toggle:0');
  assert.match(await page.locator('.diagram [role=status]').textContent(), /block 0 deleted/);
  await page.keyboard.press(' ');
  assert.equal(await param(page, 'deleted'), null);
  assert.equal((await focused(page)).focus, 'toggle:0');
  await page.keyboard.press(' ');
  assert.equal(await param(page, 'deleted'), '0');
  assert.equal((await focused(page)).focus, 'toggle:0');
  assert.equal(await page.evaluate(() => scrollY), y0, 'Space did not scroll the page');
  await page.keyboard.press('Enter');   // restored
  assert.equal(await param(page, 'deleted'), null);

  // the next Tab: block 0's › (its ‹ is off: it is first in its stage)
  await page.keyboard.press('Tab');
  let f = await focused(page);
  assert.deepEqual([f.focus, f.name], ['right:0', 'swap block 0 with block 1']);
  await page.keyboard.press('Enter');   // block 0 to position 1; the focus goes with it
  assert.equal(await param(page, 'order'), '1,0,2,3,4,5,6,7,8');
  f = await focused(page);
  assert.deepEqual([f.focus, f.name], ['right:0', 'swap block 0 with block 2']);
  assert.match(await page.locator('.diagram [role=status]').textContent(), /blocks 0 and 1 swapped/);
  await page.keyboard.press(' ');       // to position 2, the last of its stage: its › is off, the focus is on its ‹
  assert.equal(await param(page, 'order'), '1,2,0,3,4,5,6,7,8');
  f = await focused(page);
  assert.deepEqual([f.focus, f.name], ['left:0', 'swap block 0 with block 2']);
  await page.keyboard.press('Enter');
  assert.equal(await param(page, 'order'), '1,0,2,3,4,5,6,7,8');
  assert.equal((await focused(page)).focus, 'left:0');
  assert.equal(await page.evaluate(() => scrollY), y0, 'no key scrolled the page');
  assert.deepEqual(errors, []);
  await page.close();
});

test('the experiment tabs: one Tab stop; arrows, Home and End move and select; Run stays focusable while it runs, Escape or Cancel stops it', { skip }, async () => {
  const { page, errors } = await open('?model=e2e-keys&samples=200&images=1000');
  const tabState = () => page.$$eval('[role=tab]', (ts) => ts.map((t) => `${t.dataset.view}:${t.getAttribute('aria-selected')}:${t.tabIndex}`));
  const selected = async () => (await tabState()).find((s) => /:true:0$/.test(s))?.split(':')[0];
  // Tab reaches the selected tab; the others are not in the Tab order
  await tabTo(page, (f) => f.role === 'tab');
  assert.equal((await focused(page)).id, 'ux-tab-lesion');
  assert.deepEqual(await tabState(), ['lesion:true:0', 'delete:false:-1', 'swap:false:-1', 'paths:false:-1', 'depth:false:-1']);
  // quick steps across the tabs select each, but start no run until they rest
  for (const [key, view] of [['ArrowLeft', 'depth'], ['Home', 'lesion'], ['End', 'depth'], ['ArrowRight', 'lesion'], ['ArrowRight', 'delete']]) {
    await page.keyboard.press(key);
    assert.equal((await focused(page)).id, `ux-tab-${view}`, key);
    assert.equal(await selected(), view, key);
    assert.equal(await page.locator(`#ux-panel-${view}`).isVisible(), true, key);
  }
  assert.equal(await param(page, 'view'), 'delete');
  assert.equal(await page.locator('#ux-panel-depth .progress-row.running').count(), 0, 'passing over Across depths did not start it');
  await page.waitForSelector('#ux-panel-delete .progress-row.running', { timeout: 10000 });
  // Tab leaves the tab list for the panel: the next stops up to Run, none a tab
  await tabTo(page, (f) => /\brun\b/.test(f.cls), 10);
  const run = page.locator('#ux-panel-delete .run');
  assert.equal(await run.textContent(), 'Running…');
  assert.equal(await run.getAttribute('aria-disabled'), 'true');
  assert.equal(await run.evaluate((b) => document.getElementById(b.getAttribute('aria-describedby'))?.className), 'progress-label');
  // Enter on a running Run does nothing; Escape cancels, the focus stays on Run
  await page.keyboard.press('Enter');
  assert.equal(await run.textContent(), 'Running…');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => /Cancelled/.test(document.querySelector('#ux-panel-delete .progress-label')?.textContent ?? ''));
  assert.equal(await run.textContent(), 'Run');
  assert.equal(await run.getAttribute('aria-disabled'), null);
  assert.ok(/\brun\b/.test((await focused(page)).cls), 'the focus is on Run');
  // Enter runs again; Tab to Cancel, Enter: cancelled, and the focus is back on Run (Cancel hides)
  await page.keyboard.press('Enter');
  assert.equal(await run.textContent(), 'Running…');
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).name, 'Cancel');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /Cancelled/.test(document.querySelector('#ux-panel-delete .progress-label')?.textContent ?? ''));
  assert.ok(/\brun\b/.test((await focused(page)).cls), 'the focus is back on Run');
  assert.deepEqual(errors, []);
  await page.close();
});
