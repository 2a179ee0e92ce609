// touch.test.mjs: the explorer on a 390x844 touch screen (a phone: isMobile,
// hasTouch, so `pointer: coarse`). Every block's toggle and swap arrow is a
// target of at least 44x44 CSS px, in a 9-block and a 54-block network; the
// network starts on the first screen of a link to the explorer, and within
// one screen's swipe on the landing (whose first screen has a button to it);
// a tap deletes a block and swaps two as a click does. On tiny random-weight
// models; a screenshot of the network goes to $SCREENSHOT_DIR (default: a
// temporary folder; docs/screenshots/phone-390.png comes from screenshots.mjs,
// on a trained model).
//   node --test tests/e2e/touch.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { skipReason, startServer, launch, tinyModel, serveModels } from './harness.mjs';

const PHONE = { width: 390, height: 844 };
const reason = await skipReason();
const small = reason ? null : tinyModel('e2e-touch9', ['--blocks-per-stage', '3', '--widths', '4,8,16', '--shortcut', 'A']);
const many = reason ? null : tinyModel('e2e-touch54', ['--blocks-per-stage', '18', '--widths', '4,8,16', '--shortcut', 'A']);
const skip = reason ?? (small && many ? false : 'build/unravel is missing (make), needed to write the test models');
if (skip) console.log(`# touch tests skipped: ${skip}`);
const shots = process.env.SCREENSHOT_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'unravel-touch-'));

let server, browser;
before(async () => {
  if (skip) return;
  server = await startServer();
  browser = await launch({ viewport: PHONE, isMobile: true, hasTouch: true });
});
after(async () => {
  await browser?.close();
  server?.stop();
  small?.cleanup();
  many?.cleanup();
  if (!process.env.SCREENSHOT_DIR) fs.rmSync(shots, { recursive: true, force: true });
});

async function open(query, ready = '#explorer[data-ready]') {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await serveModels(page, [small, many]);
  await page.goto(server.url + query);
  await page.waitForSelector(ready, { timeout: 60000 });
  return { page, errors };
}

/** Every block toggle and swap arrow narrower or shorter than 44 CSS px: "toggle:3 38x34". */
const smallTargets = (page) => page.$$eval('.tile .toggle, .tile .arrow', (els) => els.flatMap((e) => {
  const b = e.getBoundingClientRect();
  return b.width >= 44 && b.height >= 44 ? [] : [`${e.dataset.focus} ${b.width.toFixed(0)}x${b.height.toFixed(0)}`];
}));
const networkTop = (page) => page.evaluate(() => document.getElementById('ux-network').getBoundingClientRect().top + scrollY);
const param = (page, name) => page.evaluate((n) => new URLSearchParams(location.search).get(n), name);

test('a phone: 44x44 targets for every block and arrow, the network on the first screen, a tap deletes and swaps', { skip }, async () => {
  const { page, errors } = await open('?model=e2e-touch9');
  assert.equal(await page.evaluate(() => matchMedia('(pointer: coarse)').matches), true);
  assert.equal(await page.locator('.tile .toggle').count(), 9);
  assert.equal(await page.locator('.tile .arrow').count(), 14);   // 3 + 2 + 2 swappable blocks, two arrows each
  assert.deepEqual(await smallTargets(page), []);
  const top = await networkTop(page);
  assert.ok(top < PHONE.height - 200, `the network starts at ${top} px, on the first screen with room for its blocks`);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth - innerWidth) <= 1, 'no horizontal scrolling');

  // a tap on a block deletes it, a second restores it; a tap on › swaps
  await page.locator('[data-focus="toggle:1"]').tap();
  assert.equal(await param(page, 'deleted'), '1');
  assert.equal(await page.locator('[data-focus="toggle:1"]').getAttribute('aria-pressed'), 'true');
  await page.locator('[data-focus="toggle:1"]').tap();
  assert.equal(await param(page, 'deleted'), null);
  await page.locator('[data-focus="right:0"]').tap();
  assert.equal(await param(page, 'order'), '1,0,2,3,4,5,6,7,8');
  await page.locator('[data-focus="toggle:4"]').tap();
  assert.equal(await param(page, 'deleted'), '4');

  await page.waitForFunction(() => !document.querySelector('.err-big.stale') && /%$/.test(document.querySelector('.err-big')?.textContent ?? ''),
                             null, { timeout: 60000 });
  await page.evaluate(() => document.getElementById('ux-network').scrollIntoView({ block: 'start' }));
  const file = path.join(shots, 'phone-390.png');
  await page.screenshot({ path: file });
  const png = fs.readFileSync(file);
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [PHONE.width, PHONE.height]);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a phone: 54 blocks wrap into more rows, every target still 44x44', { skip }, async () => {
  const { page, errors } = await open('?model=e2e-touch54');
  assert.equal(await page.locator('.blocks.many').count(), 1);
  assert.equal(await page.locator('.tile .toggle').count(), 54);
  assert.deepEqual(await smallTargets(page), []);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth - innerWidth) <= 1, 'no horizontal scrolling');
  await page.locator('[data-focus="toggle:40"]').tap();
  assert.equal(await param(page, 'deleted'), '40');
  assert.deepEqual(errors, []);
  await page.close();
});

test('the landing on a phone: the network within one swipe, and its first screen\'s button takes a tap there', { skip }, async () => {
  const { page, errors } = await open('', '.network .tile[data-block]');
  const top = await networkTop(page);
  // one swipe (a screen's height) down, the network's head and first blocks are on screen
  assert.ok(top - PHONE.height < PHONE.height - 200, `the network starts at ${top} px`);
  const explore = page.locator('.hero-actions .primary');
  const box = await explore.boundingBox();
  assert.ok(box.y + box.height <= PHONE.height, `the landing's button to the network is on the first screen (${JSON.stringify(box)})`);
  await explore.tap();
  await page.waitForFunction(() => Math.abs(document.getElementById('ux-network').getBoundingClientRect().top) < 2, null, { timeout: 5000 });
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'ux-network');
  assert.deepEqual(errors, []);
  await page.close();   // the landing's sweeps stop with it
});
