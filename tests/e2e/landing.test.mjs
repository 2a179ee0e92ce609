// landing.test.mjs: the page as a newcomer first sees it (no model named in
// the URL), in headless Chromium at 1280x900 with the shipped models: the
// first chart deletes each block of Plain-20, ResNet-20 and the 54-block
// ResNet-110 (half width) in the page, fits the first screen, and draws the
// numbers `unravel lesion` prints for the same models and images.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { skipReason, startServer, launch, cliJson, repo } from './harness.mjs';
import { HERO } from '../../web/config.mjs';

const models = HERO.networks.map((n) => path.join(repo, 'models', `${n.name}.json`));
const reason = await skipReason() ??
  (models.every((m) => fs.existsSync(m)) ? null : 'the shipped models are missing from models/');
const skip = reason ?? (fs.existsSync(path.join(repo, 'build/unravel')) ? false : 'build/unravel is missing (make)');
if (skip) console.log(`# landing tests skipped: ${skip}`);

let server, browser;
before(async () => {
  if (skip) return;
  server = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.stop();
});

async function open(query) {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (/\/models\/[\w.-]+\.json$/.test(m.location()?.url ?? '') && /404/.test(m.text())) return;   // probing absent dev models
    errors.push(`console: ${m.text()}`);
  });
  await page.goto(server.url + query);
  return { page, errors };
}

test('the landing deletes each block of three networks in the page, on the first screen, as the CLI does', { skip, timeout: 240000 }, async () => {
  const { page, errors } = await open('');
  await page.waitForSelector('section.hero', { timeout: 60000 });
  const box = await page.locator('section.hero').boundingBox();
  assert.ok(box.y + box.height <= 900, `the first chart ends at ${Math.round(box.y + box.height)} px, below the first screen`);
  assert.match(await page.locator('.hero h2').innerText(), /barely notices/);
  // partial results first: the chart draws while chunks of images come in
  await page.waitForFunction(() => /so far on the first/.test(document.querySelector('.hero-status')?.textContent ?? '') &&
                                   document.querySelectorAll('[data-chart="hero"] circle[data-model]').length > 0, null, { timeout: 120000 });
  // every network's sweep finished: the status names the full image count
  await page.waitForFunction(() => /Measured here on 500 /.test(document.querySelector('.hero-status')?.textContent ?? ''),
                             null, { timeout: 220000 });
  const dots = await page.$$eval('[data-chart="hero"] circle[data-model]', (cs) =>
    cs.map((c) => ({ model: c.dataset.model, block: Number(c.dataset.block), cost: Number(c.dataset.cost) })));
  for (const [i, n] of HERO.networks.entries()) {
    const cli = cliJson('lesion', '--model', models[i], '--limit', '500');
    const want = cli.blocks.filter((b) => b.error != null);
    const got = dots.filter((d) => d.model === n.name);
    assert.equal(got.length, want.length, `${n.name}: one dot per deletable block`);
    for (const b of want) {
      const d = got.find((x) => x.block === b.block);
      assert.ok(Math.abs(d.cost - 100 * (b.error - cli.full_error)) < 1e-3, `${n.name} block ${b.block}: ${d.cost} points`);
    }
  }
  // the big numbers: the 54-block net's median deletion is far below the plain net's
  const num = async (name) => Number((await page.locator(`.hero-num[data-model="${name}"]`).innerText()).replace('−', '-'));
  assert.ok(await num('resnet110-half') < 3, 'the 54-block median deletion costs under 3 points');
  assert.ok(await num('plain20') > 10, 'a plain network\'s median deletion costs over 10 points');
  // the "Delete one block" tab joined the landing's sweep of the same network instead of running it again
  await page.waitForFunction(() => /Done/.test(document.querySelector('#ux-panel-lesion .progress-label')?.textContent ?? ''),
                             null, { timeout: 60000 });
  assert.equal(await page.locator('#ux-panel-lesion [data-chart="lesion-single"] rect[data-error]').count() >= 54, true);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a link to a view opens straight on the explorer, without the landing chart', { skip }, async () => {
  const { page, errors } = await open('?model=resnet20&view=swap');
  await page.waitForSelector('#explorer[data-ready]', { timeout: 60000 });
  assert.equal(await page.locator('section.hero').count(), 0);
  assert.deepEqual(errors, []);
  await page.close();
});
