// scripts/serve.mjs: the explorer's static server answers one byte range the
// way static hosts do (the page fetches test images as it needs them), lets
// any origin read its files (an embed on another site), and never serves
// outside its folders.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './helpers.mjs';
import { startServer } from './e2e/harness.mjs';

let server;
before(async () => { server = await startServer(); });
after(() => server?.stop());

const get = (p, headers = {}) => fetch(server.url + p, { headers });

test('a byte range gives 206 with Content-Range; past the end 416; none the whole file', async () => {
  const file = path.join(ROOT, 'web/index.html');
  const whole = fs.readFileSync(file);
  let r = await get('index.html', { Range: 'bytes=10-29' });
  assert.equal(r.status, 206);
  assert.equal(r.headers.get('content-range'), `bytes 10-29/${whole.length}`);
  assert.equal(r.headers.get('content-length'), '20');
  assert.deepEqual(Buffer.from(await r.arrayBuffer()), whole.subarray(10, 30));
  r = await get('index.html', { Range: `bytes=${whole.length - 5}-${whole.length + 100}` });   // clamped to the end
  assert.equal(r.status, 206);
  assert.deepEqual(Buffer.from(await r.arrayBuffer()), whole.subarray(whole.length - 5));
  r = await get('index.html', { Range: 'bytes=100-' });
  assert.deepEqual(Buffer.from(await r.arrayBuffer()), whole.subarray(100));
  r = await get('index.html', { Range: `bytes=${whole.length}-` });
  assert.equal(r.status, 416);
  assert.equal(r.headers.get('content-range'), `bytes */${whole.length}`);
  await r.arrayBuffer();
  r = await get('index.html');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('accept-ranges'), 'bytes');
  assert.deepEqual(Buffer.from(await r.arrayBuffer()), whole);
  r = await get('index.html', { Range: 'bytes=5-1' });   // backwards
  assert.equal(r.status, 416);
  await r.arrayBuffer();
});

test('paths outside the mounted folders are not served', async () => {
  const r = await get('models/..%2F..%2Fetc%2Fpasswd');
  assert.equal(r.status, 404);
  await r.arrayBuffer();
});

test('any origin may read the files and a range reply\'s headers; a Range preflight is answered', async () => {
  const origin = { Origin: 'https://elsewhere.example' };
  let r = await get('unravel-explorer.mjs', origin);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
  assert.equal(r.headers.get('cross-origin-resource-policy'), 'cross-origin');
  await r.arrayBuffer();
  r = await get('index.html', { ...origin, Range: 'bytes=0-9' });
  assert.equal(r.status, 206);
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
  const exposed = r.headers.get('access-control-expose-headers').split(/,\s*/).map((h) => h.toLowerCase());
  assert.ok(exposed.includes('content-range') && exposed.includes('accept-ranges'), exposed.join());
  await r.arrayBuffer();
  r = await fetch(server.url + 'index.html', { method: 'OPTIONS', headers: { ...origin,
    'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range' } });
  assert.equal(r.status, 204);
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
  assert.match(r.headers.get('access-control-allow-headers'), /range/i);
  assert.match(r.headers.get('access-control-allow-methods'), /GET/);
  r = await get('no-such-file.txt', origin);   // a missing file is readable too (the page reads 404s as "absent")
  assert.equal(r.status, 404);
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
  await r.arrayBuffer();
});

test('models/index.json lists the models of the folder as it is now: manifests whose weights are there', async () => {
  const r = await get('models/index.json');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /application\/json/);
  const index = await r.json();
  assert.equal(index.format, 'unravel-model-index');
  const want = fs.readdirSync(path.join(ROOT, 'models')).filter((f) => f.endsWith('.json')).filter((f) => {
    const m = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', f), 'utf8'));
    return m.format === 'unravel-model' && fs.existsSync(path.join(ROOT, 'models', m.weights.file));
  }).map((f) => f.replace(/\.json$/, '')).sort();
  assert.deepEqual(index.models.map((m) => m.name), want);
  assert.ok(want.includes('resnet20'));
});

test('modelIndex leaves out what the page could not open: no weights, not a manifest, not JSON', async () => {
  const { modelIndex } = await import('../scripts/models-index.mjs');
  const dir = fs.mkdtempSync(path.join(ROOT, 'build', 'index-'));
  try {
    const man = (file) => JSON.stringify({ format: 'unravel-model', weights: { file } });
    fs.writeFileSync(path.join(dir, 'a.json'), man('a.bin'));
    fs.writeFileSync(path.join(dir, 'a.bin'), 'x');
    fs.writeFileSync(path.join(dir, 'b.json'), man('b.bin'));            // weights missing
    fs.writeFileSync(path.join(dir, 'c.json'), '{"format": "other"}');
    fs.writeFileSync(path.join(dir, 'd.json'), '{ not json');
    assert.deepEqual(modelIndex(dir), { format: 'unravel-model-index', models: [{ name: 'a', weights: 'a.bin' }] });
    assert.deepEqual(modelIndex(path.join(dir, 'nowhere')).models, []);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});
