// screenshots.mjs: take the page's screenshots into docs/screenshots/ (each
// experiment tab at 1280 px, the page in the dark theme, Across depths on 1,000 images; the network and the path statistics at 375 px;
// the network on a 390x844 touch screen).
//   node tests/e2e/screenshots.mjs [model] [compare]
// (default: resnet20 and plain20 if present, else the dev-* random models).
// SHOTS=depth,short-paths takes only those groups (landing, main, dark, phone, touch,
// depths, depth, short-paths).
import fs from 'node:fs';
import path from 'node:path';
import { repo, skipReason, startServer, launch } from './harness.mjs';

const has = (m) => fs.existsSync(path.join(repo, 'models', `${m}.json`));
const model = process.argv[2] ?? (has('resnet20') ? 'resnet20' : 'dev-resnet20');
const compare = process.argv[3] ?? (has('plain20') ? 'plain20' : has('dev-plain20') ? 'dev-plain20' : '');
const out = path.join(repo, 'docs/screenshots');
const only = process.env.SHOTS ? process.env.SHOTS.split(',') : null;
const want = (group) => !only || only.includes(group);
const why = await skipReason();
if (why) { console.error(`screenshots: ${why}`); process.exit(1); }
fs.mkdirSync(out, { recursive: true });
const server = await startServer();
const { context, close } = await launch();
try {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('pageerror', e.message));
  // Committed screenshots must not carry CIFAR-10 images (the data set is
  // never redistributed): the sample grid's thumbnails are masked first.
  const mask = (pg = page) => pg.evaluate(() => {
    for (const c of document.querySelectorAll('.samples canvas')) {
      const g = c.getContext('2d');
      g.fillStyle = '#d5dae1';
      g.fillRect(0, 0, c.width, c.height);
      g.fillStyle = '#8792a2';
      g.font = 'bold 20px sans-serif';
      g.textAlign = 'center';
      g.fillText('?', c.width / 2, c.height / 2 + 7);
    }
  });
  const idle = (v, pg = page) => pg.waitForFunction((view) => !document.querySelector(`#ux-panel-${view} .progress-row.running`) &&
    !document.querySelector('.err-big.stale, .err-vs.stale'), v, { timeout: 600000 });
  // the landing as a newcomer sees it (bare address, 1280x900): the first
  // chart while its image chunks come in, then complete
  if (want('landing')) {
    await page.setViewportSize({ width: 1280, height: 900 });
    const t0 = Date.now();
    await page.goto(server.url);
    await page.waitForFunction(() => /so far/.test(document.querySelector('.hero-status')?.textContent ?? ''), null, { timeout: 120000 })
      .then(async () => {
        console.log(`screenshots: first partial chart after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        await page.screenshot({ path: path.join(out, 'landing-partial.png') });
      }, () => console.log('screenshots: no partial chart seen'));
    await page.waitForFunction(() => /Measured here on/.test(document.querySelector('.hero-status')?.textContent ?? ''), null, { timeout: 600000 });
    console.log(`screenshots: landing complete after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await mask();
    await page.screenshot({ path: path.join(out, 'landing-1280.png') });
  }
  if (want('main')) {
    await page.goto(`${server.url}?model=${model}&compare=${compare}&deleted=4&samples=3`);
    await page.waitForSelector('#explorer[data-ready]', { timeout: 120000 });
    await idle('lesion');
    await mask();
    await page.screenshot({ path: path.join(out, 'page-1280.png') });
    await page.locator('.network').screenshot({ path: path.join(out, 'network.png') });
    await page.locator('.experiments').screenshot({ path: path.join(out, 'lesion.png') });
    for (const v of ['delete', 'swap', 'paths']) {
      await page.locator(`#ux-tab-${v}`).click();
      await idle(v);
      await page.locator('.experiments').screenshot({ path: path.join(out, `${v}.png`) });
    }
  }
  // the same view in the dark theme (the system's, prefers-color-scheme: dark)
  if (want('dark')) {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${server.url}?model=${model}&compare=${compare}&deleted=4&samples=3`);
    await page.waitForSelector('#explorer[data-ready]', { timeout: 120000 });
    await idle('lesion');
    await mask();
    await page.screenshot({ path: path.join(out, 'dark-1280.png') });
    await page.emulateMedia({ colorScheme: 'light' });
  }
  if (want('phone')) {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.goto(`${server.url}?model=${model}&deleted=4&view=lesion&images=500`);
    await page.waitForSelector('#explorer[data-ready]', { timeout: 120000 });
    await idle('lesion');
    await page.evaluate(() => document.querySelector('.network').scrollIntoView({ block: 'start' }));
    await mask();
    await page.screenshot({ path: path.join(out, 'phone-375.png') });
    // the path statistics at phone width: the three charts stacked
    await page.locator('#ux-tab-paths').click();
    await idle('paths');
    await page.locator('#ux-panel-paths').screenshot({ path: path.join(out, 'phone-paths-375.png') });
  }
  // a phone's touch screen (isMobile, hasTouch: pointer coarse), 390x844:
  // the network's blocks and swap arrows as 44 px targets
  if (want('touch')) {
    const phone = await launch({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      const p = await phone.context.newPage();
      p.on('pageerror', (e) => console.error('pageerror', e.message));
      await p.goto(`${server.url}?model=${model}&deleted=4&view=lesion&images=500`);
      await p.waitForSelector('#explorer[data-ready]', { timeout: 120000 });
      await idle('lesion', p);
      await p.evaluate(() => document.querySelector('.network').scrollIntoView({ block: 'start' }));
      await mask(p);
      await p.screenshot({ path: path.join(out, 'phone-390.png') });
    } finally {
      await phone.close();
    }
  }
  // two depths on one page (docs/PAGE.md): ResNet-20 above the 54-block net, then
  // their delete-k curves against the share k/n of each net's blocks
  if (want('depths') && has('resnet20') && has('resnet110-half')) {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${server.url}?model=resnet20&compare=resnet110-half&view=lesion&images=500&samples=3`);
    await page.waitForSelector('#explorer[data-ready]', { timeout: 120000 });
    await idle('lesion');
    await page.locator('.experiments').screenshot({ path: path.join(out, 'lesion-depths.png') });
    await page.locator('#ux-tab-delete').click();
    await idle('delete');
    await page.locator('#ux-delete-x').selectOption('share');
    await page.locator('.experiments').screenshot({ path: path.join(out, 'delete-depths.png') });
  }
  // the Across depths tab: every residual network offered, on the 1,000 exact records
  if (want('depth')) {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${server.url}?model=${model}&view=depth&images=1000`);
    await page.waitForSelector('#explorer[data-ready]', { timeout: 120000 });
    await idle('depth');
    await page.locator('.experiments').screenshot({ path: path.join(out, 'depth.png') });
  }
  // claim 7: the short-path net against its twin, the live comparison and the delete-k curves
  if (want('short-paths') && has('resnet110-half-k23-e160') && has('resnet110-half')) {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${server.url}?model=resnet110-half-k23-e160&compare=resnet110-half&view=delete&images=1000&samples=3`);
    await page.waitForSelector('#explorer[data-ready]', { timeout: 120000 });
    await idle('delete');
    await mask();
    await page.locator('.network').screenshot({ path: path.join(out, 'short-paths-network.png') });
    await page.locator('.experiments').screenshot({ path: path.join(out, 'short-paths.png') });
  }
  console.log(`screenshots: ${fs.readdirSync(out).join(', ')} in docs/screenshots (model ${model}, compare ${compare || 'none'})`);
} finally {
  await close();
  server.stop();
}
