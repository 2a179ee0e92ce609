// site.test.mjs: the static bundle of `make site` (scripts/make-site.mjs),
// written into a temporary folder. Without a browser: every trained model's
// weights are there and match their manifest's sha256, the data file holds
// exactly the first 1,000 test records, every module the page imports is in
// the bundle, and a missing file stops it with the file and the reason. In
// Chromium: the bundle served under a sub-path by a plain static server with
// no range support (python3 -m http.server) runs the page with no 404 and no
// console error, shows the live test error `unravel eval --limit 1000` prints,
// and offers no image count above the 1,000 it has.
//   node --test tests/e2e/site.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { skipReason, launch, freePort, cliJson, repo, TEST_BATCH } from './harness.mjs';
import { makeSite, collectModels, summary } from '../../scripts/make-site.mjs';

const R = 3073;
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const hasPython = (() => { try { execFileSync('python3', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();

const noData = fs.existsSync(TEST_BATCH) ? null : `no CIFAR-10 test batch at ${TEST_BATCH} (set CIFAR10_DIR)`;
const noModels = collectModels().models.length ? null : 'no trained models in models/';
const bundleSkip = noData ?? noModels ?? false;
const browserSkip = bundleSkip || (await skipReason()) ||
  (fs.existsSync(path.join(repo, 'models/resnet20.json')) ? null : 'models/resnet20.json is missing') ||
  (fs.existsSync(path.join(repo, 'build/unravel')) ? null : 'build/unravel is missing (make), needed for the numbers to compare') ||
  (hasPython ? null : 'python3 is missing (the plain static server)') || false;
if (bundleSkip) console.log(`# site tests skipped: ${bundleSkip}`);
else if (browserSkip) console.log(`# site browser test skipped: ${browserSkip}`);

// The bundle at TMP/site, served from TMP, so the page lives under /site/.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'unravel-site-'));
const out = path.join(tmp, 'site');
let built = null;
before(async () => {
  if (!bundleSkip) built = await makeSite({ out, dataDir: path.dirname(TEST_BATCH) });
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('make-site: every trained model sha256-checked, exactly the first 1,000 test records, every import in the bundle', { skip: bundleSkip }, () => {
  const files = new Map(built.files.map((f) => [f.path, f]));
  assert.match(summary(built), new RegExp(`${built.files.length} files, ${built.total.toLocaleString('en-US')} bytes`));
  // every manifest in models/ but the dev-* ones, with its weights
  const manifests = fs.readdirSync(path.join(repo, 'models'))
    .filter((f) => f.endsWith('.json') && !f.startsWith('dev-') &&
                   JSON.parse(fs.readFileSync(path.join(repo, 'models', f), 'utf8')).format === 'unravel-model');
  assert.ok(manifests.length > 0);
  assert.deepEqual(built.models.sort(), manifests.map((f) => f.slice(0, -5)).sort());
  for (const f of manifests) {
    const w = JSON.parse(fs.readFileSync(path.join(out, 'models', f), 'utf8')).weights;
    const bin = fs.readFileSync(path.join(out, 'models', w.file));
    assert.equal(bin.length, w.bytes, w.file);
    assert.equal(sha256(bin), w.sha256, w.file);
  }
  assert.ok(!built.files.some((f) => /(^|\/)dev-/.test(f.path)), 'no random-weight dev model');
  // the data: the first 1,000 records, byte for byte
  const data = fs.readFileSync(path.join(out, 'data/test_batch.bin'));
  assert.equal(data.length, 3073000);
  const fd = fs.openSync(TEST_BATCH, 'r');
  const head = Buffer.alloc(data.length);
  fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  assert.ok(data.equals(head));
  // the page, the wasm and its JS API; no web/README.md
  for (const p of ['index.html', 'embed.html', 'app.mjs', 'worker.mjs', 'wasm/unravel.mjs', 'wasm/unravel.wasm', 'LICENSE', 'NOTICE', '.nojekyll'])
    assert.ok(files.has(p), p);
  for (const f of fs.readdirSync(path.join(repo, 'wasm/lib')))   // the modules unravel.mjs imports
    assert.ok(files.has(`wasm/lib/${f}`), `wasm/lib/${f}`);
  assert.ok(!files.has('README.md') && !files.has('unravel.wasm'));   // web/'s README, and its copy of the wasm the page does not load
  assert.ok(fs.readFileSync(path.join(out, 'wasm/unravel.wasm')).equals(fs.readFileSync(path.join(repo, 'wasm/unravel.wasm'))));
  // the bundle's model list (models/index.json) is the models it holds, so the page probes nothing absent
  const index = JSON.parse(fs.readFileSync(path.join(out, 'models/index.json'), 'utf8'));
  assert.equal(index.format, 'unravel-model-index');
  assert.deepEqual(index.models.map((m) => m.name).sort(), [...built.models].sort());
  assert.ok(!built.models.some((m) => m.startsWith('dev-')));
  for (const m of index.models) assert.ok(files.has(`models/${m.weights}`), m.weights);
  assert.ok(fs.readFileSync(path.join(out, 'config.mjs')).equals(fs.readFileSync(path.join(repo, 'web/config.mjs'))), 'config.mjs is copied as it is');
  // SHA256SUMS lists every other file with its hash
  const sums = fs.readFileSync(path.join(out, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => l.split('  '));
  assert.equal(sums.length, built.files.length - 1);
  for (const [h, p] of sums) assert.equal(sha256(fs.readFileSync(path.join(out, p))), h, p);
  // every relative module import and every relative href/src of the HTML resolves inside the bundle
  for (const f of built.files.filter((x) => /\.(mjs|html)$/.test(x.path))) {
    const text = fs.readFileSync(path.join(out, f.path), 'utf8');
    const refs = (f.path.endsWith('.html')
      ? [...text.matchAll(/\b(?:href|src)="(?!https?:|data:|#|\?|mailto:)([^"]+)"/g)]
      : [...text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"](\.[^'"]+)['"]/gm),
         ...text.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g)]).map((m) => m[1]);
    if (f.path === 'app.mjs') assert.ok(refs.length >= 10, `app.mjs: only ${refs.length} imports found`);
    for (const ref of refs) {
      const target = path.resolve(path.dirname(path.join(out, f.path)), ref.replace(/[?#].*$/, ''));
      assert.ok(target.startsWith(out + path.sep) || target === out, `${f.path}: ${ref} leaves the bundle`);
      const file = fs.existsSync(target) && fs.statSync(target).isDirectory() ? path.join(target, 'index.html') : target;
      assert.ok(fs.existsSync(file), `${f.path}: ${ref} is not in the bundle`);
    }
  }
});

test('make-site: a missing data file or a damaged model is named, with the reason, and nothing is written', { skip: bundleSkip }, async () => {
  const empty = fs.mkdtempSync(path.join(tmp, 'no-data-'));
  const other = path.join(tmp, 'other');
  await assert.rejects(makeSite({ out: other, dataDir: empty }),
                       (e) => e.message.includes(`${path.join(empty, 'test_batch.bin')}: missing`) && /make data|CIFAR10_DIR/.test(e.message));
  assert.ok(!fs.existsSync(other));
  // a folder that is not a bundle is never replaced
  const mine = fs.mkdtempSync(path.join(tmp, 'mine-'));
  fs.writeFileSync(path.join(mine, 'keep.txt'), 'mine');
  await assert.rejects(makeSite({ out: mine, dataDir: path.dirname(TEST_BATCH) }), /is not a bundle of make-site/);
  assert.equal(fs.readFileSync(path.join(mine, 'keep.txt'), 'utf8'), 'mine');
  // a weights file that does not match its manifest
  const models = fs.mkdtempSync(path.join(tmp, 'models-'));
  const m = collectModels().models[0];
  fs.writeFileSync(path.join(models, m.manifestFile), m.manifest);
  const bad = Buffer.from(m.weights);
  bad[0] ^= 1;
  fs.writeFileSync(path.join(models, m.weightsFile), bad);
  let r = collectModels(models);
  assert.equal(r.models.length, 0);
  assert.match(r.problems[0], new RegExp(`${m.weightsFile}: sha256 [0-9a-f]{64}, but .*${m.manifestFile} says`));
  fs.rmSync(path.join(models, m.weightsFile));
  r = collectModels(models);
  assert.match(r.problems[0], new RegExp(`${m.weightsFile}: missing \\(the weights .*${m.manifestFile} names\\)`));
});

/** python3 -m http.server over dir: a plain static server with no range support. */
async function staticServer(dir) {
  const port = await freePort();
  const child = spawn('python3', ['-m', 'http.server', '--bind', '127.0.0.1', String(port), '--directory', dir],
                      { stdio: ['ignore', 'ignore', 'ignore'] });
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; ; i++) {
    if (child.exitCode != null) throw new Error(`python3 -m http.server exited with ${child.exitCode}`);
    try { await fetch(url); break; } catch {
      if (i > 100) throw new Error('python3 -m http.server did not start in 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, stop: () => child.kill() };
}

let server, browser;
before(async () => {
  if (browserSkip) return;
  server = await staticServer(tmp);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.stop();
});

test('the bundle under a sub-path of a plain static server: no 404, no console error, the live error of `unravel eval`, 1,000 images at most', { skip: browserSkip, timeout: 180000 }, async () => {
  const page = await browser.context.newPage();
  const errors = [], failed = [], data = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location()?.url ?? ''})`); });
  page.on('requestfailed', (req) => failed.push(`${req.url()}: ${req.failure()?.errorText}`));
  page.on('response', (res) => {
    if (res.status() >= 400) failed.push(`${res.url()}: HTTP ${res.status()}`);
    if (res.url().endsWith('/data/test_batch.bin')) data.push(res.status());
  });
  // a link asking for 10,000 images: the site has 1,000, so the page uses those and says so
  await page.goto(`${server.url}site/?model=resnet20&images=10000`);
  await page.waitForSelector('#explorer[data-ready]', { timeout: 60000 });
  await page.waitForFunction(() => {
    const e = document.querySelector('.err-big');
    return e && !e.classList.contains('stale') && /%$/.test(e.textContent) && /1,000 images/.test(document.querySelector('.err-sub')?.textContent ?? '');
  }, null, { timeout: 90000 });
  const native = cliJson('eval', '--model', path.join(repo, 'models/resnet20.json'), '--limit', '1000');
  assert.equal(await page.locator('.err-big').innerText(), `${(100 * native.error).toFixed(1)}%`);
  assert.deepEqual(data, [200]);   // the whole (short) file, once: no range reply
  assert.match(page.url(), /\/site\/\?(.*&)?images=1000(&|$)/);
  assert.match(await page.locator('.messages').innerText(), /This site has 1,000 test images: image counts above 1,000 are off, so images=10000 shows 1,000/);
  assert.deepEqual(await page.$$eval('#ux-images option', (os_) => os_.map((o) => [o.value, o.disabled])),
                   [['500', false], ['1000', false], ['10000', true]]);
  // every bundled model is offered, none "not available"
  const offered = await page.$$eval('#ux-model option', (os_) => os_.map((o) => [o.value, o.disabled]));
  assert.deepEqual(offered.map(([v]) => v).sort(), [...built.models].sort());
  assert.ok(offered.every(([, d]) => !d));
  assert.deepEqual(failed, []);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the bundle\'s embed.html runs <unravel-explorer> from the same plain server, with no 404 and no console error', { skip: browserSkip, timeout: 120000 }, async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location()?.url ?? ''})`); });
  page.on('response', (res) => { if (res.status() >= 400) errors.push(`${res.url()}: HTTP ${res.status()}`); });
  await page.addInitScript(() => {
    window.heard = [];
    document.addEventListener('unravel-result', (e) => window.heard.push(e.detail));
  });
  await page.goto(`${server.url}site/embed.html`);
  await page.waitForSelector('unravel-explorer[data-ready]', { timeout: 60000 });
  await page.waitForFunction(() => window.heard.some((d) => d.view === 'network'), null, { timeout: 90000 });
  const heard = await page.evaluate(() => window.heard.find((d) => d.view === 'network'));
  const native = cliJson('eval', '--model', path.join(repo, 'models/resnet20.json'), '--limit', '500');
  assert.equal(heard.images, 500);
  assert.ok(Math.abs(heard.error - native.error) < 1e-9, `${heard.error} against ${native.error}`);
  assert.deepEqual(errors, []);
  await page.close();
});
