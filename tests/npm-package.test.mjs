// npm-package.test.mjs: `npm pack` makes a package that ships exactly the JS
// API, unravel.wasm, the types, README, LICENSE and NOTICE; it installs
// offline into an empty project, where a script importing it by name loads
// the wasm from node_modules and evaluates ResNet-20 (models/resnet20.*)
// exactly as the in-repo API does; and `npm pack` refuses (prepack,
// scripts/check-package.mjs) when wasm/unravel.wasm is missing, stale or of
// another version.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { version } from '../wasm/unravel.mjs';
import { ROOT, WASM, cifarDir, requireBuilt, syntheticCifar, tmpdir } from './helpers.mjs';

// the binding: its entry point and the modules of wasm/lib/ it imports
const LIB = ['wasm/lib/experiments.mjs', 'wasm/lib/loader.mjs', 'wasm/lib/memory.mjs',
             'wasm/lib/model.mjs', 'wasm/lib/stats.mjs'];
const SHIPPED = ['LICENSE', 'NOTICE', 'README.md', 'package.json',
                 ...LIB, 'wasm/unravel.d.ts', 'wasm/unravel.mjs', 'wasm/unravel.wasm'];
const IMAGES = 20;

const probe = spawnSync('npm', ['--version'], { encoding: 'utf8' });
const skip = probe.error || probe.status !== 0 ? 'npm is not installed' : false;

// npm with its own cache, no registry traffic, and none of the npm_* variables
// of an enclosing `npm test`.
function npm(args, cwd, cache) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  Object.assign(env, { npm_config_cache: cache, npm_config_update_notifier: 'false',
                       npm_config_audit: 'false', npm_config_fund: 'false' });
  return spawnSync('npm', args, { cwd, env, encoding: 'utf8', timeout: 60_000 });
}

function check(r, what) {
  assert.equal(r.status, 0, `${what} exits ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function walk(dir, base = dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory()
    ? walk(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name))]).sort();
}

// The script run in the installed project (and, with the in-repo module, here):
// it prints what the API computes, as JSON, for each CIFAR file it is given.
const SCRIPT = (from) => `
import fs from 'node:fs';
import { loadUnravel, version } from ${JSON.stringify(from)};
const [manifest, weights, ...dataFiles] = process.argv.slice(2);
const u = await loadUnravel();            // the unravel.wasm beside the module
const wasmUrl = typeof import.meta.resolve === 'function' && ${JSON.stringify(from)} === 'unravel'
  ? import.meta.resolve('unravel/unravel.wasm') : null;
const byUrl = wasmUrl ? (await loadUnravel({ wasmUrl })).version : null;
const model = u.loadModel(fs.readFileSync(manifest, 'utf8'), fs.readFileSync(weights), { name: 'resnet20' });
const untimed = ({ seconds, ...rest }) => rest;
const runs = dataFiles.map((f) => {
  const data = u.loadCifar(fs.readFileSync(f));
  const res = untimed(model.evaluate(data, { predictions: true }));
  const lesioned = untimed(model.evaluate(data, { deleted: [4] }));
  const logits = model.forward(data, { start: 0, count: data.n });
  data.dispose();
  return { res: { ...res, predictions: Array.from(res.predictions) }, lesioned, logits: Array.from(logits) };
});
console.log(JSON.stringify({ version, wasmVersion: u.version, isa: u.isa, wasmUrl, byUrl,
  modelInfo: { depth: model.info.depth, params: model.info.params }, runs }));
`;

describe('the npm package', { skip }, () => {
  let dir, cache, packed, tarball;
  before(() => {
    requireBuilt();
    dir = tmpdir();
    cache = path.join(dir, 'npm-cache');
    const out = check(npm(['pack', '--pack-destination', dir, '--json'], ROOT, cache), 'npm pack');
    packed = JSON.parse(out)[0];
    tarball = path.join(dir, packed.filename);
  });

  test('npm pack ships the API, unravel.wasm, the types, README, LICENSE and NOTICE, and nothing else', () => {
    assert.equal(packed.filename, `unravel-${version}.tgz`);
    assert.ok(fs.existsSync(tarball));
    assert.deepEqual(packed.files.map((f) => f.path).sort(), SHIPPED);
    const tar = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' });
    if (!tar.error)
      assert.deepEqual(check(tar, 'tar -tzf').trim().split('\n').sort(), SHIPPED.map((f) => `package/${f}`));
    assert.equal(packed.files.find((f) => f.path === 'wasm/unravel.wasm').size, fs.statSync(WASM).size);
  });

  test('it installs offline into an empty project and evaluates ResNet-20 there as the in-repo API does', (t) => {
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'),
                     JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
    check(npm(['install', '--offline', '--no-audit', '--no-fund', tarball], app, cache), 'npm install --offline');

    // What was installed: the package alone (it has no dependencies), its files, its types.
    const pkgDir = path.join(app, 'node_modules/unravel');
    assert.deepEqual(fs.readdirSync(path.join(app, 'node_modules')).filter((f) => !f.startsWith('.')), ['unravel']);
    assert.deepEqual(walk(pkgDir), SHIPPED);
    const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
    assert.equal(pkg.version, version);
    assert.equal(pkg.private, undefined);
    assert.equal(pkg.dependencies, undefined, 'the JS API has no runtime dependencies');
    assert.equal(pkg.exports['.'].types, `./${pkg.types}`);
    assert.ok(fs.existsSync(path.join(pkgDir, pkg.types)), `types: ${pkg.types} is not in the package`);
    assert.ok(fs.readFileSync(path.join(pkgDir, pkg.types), 'utf8').includes('export declare const version'));
    assert.ok(fs.existsSync(path.join(pkgDir, pkg.exports['./unravel.wasm'])));

    // Data: synthetic records always; the first real test images where CIFAR-10 is here.
    const files = [path.join(dir, 'synthetic.bin')];
    fs.writeFileSync(files[0], syntheticCifar(IMAGES, 3));
    const cifar = cifarDir();
    if (cifar) {
      files.push(path.join(dir, 'test-head.bin'));
      const fd = fs.openSync(path.join(cifar, 'test_batch.bin'), 'r');
      const head = Buffer.alloc(IMAGES * 3073);
      fs.readSync(fd, head, 0, head.length, 0);
      fs.closeSync(fd);
      fs.writeFileSync(files[1], head);
    } else {
      t.diagnostic('no CIFAR-10 test set here: synthetic images only');
    }
    const args = [path.join(ROOT, 'models/resnet20.json'), path.join(ROOT, 'models/resnet20.bin'), ...files];

    fs.writeFileSync(path.join(app, 'check.mjs'), SCRIPT('unravel'));
    const there = JSON.parse(check(spawnSync(process.execPath, ['check.mjs', ...args],
                                             { cwd: app, encoding: 'utf8' }), 'the installed package'));
    const repoScript = path.join(dir, 'check-repo.mjs');
    fs.writeFileSync(repoScript, SCRIPT(pathToFileURL(path.join(ROOT, 'wasm/unravel.mjs')).href));
    const here = JSON.parse(check(spawnSync(process.execPath, [repoScript, ...args],
                                            { cwd: ROOT, encoding: 'utf8' }), 'the in-repo API'));

    assert.equal(there.version, version);
    assert.equal(there.wasmVersion, version);
    if (there.wasmUrl) {   // import.meta.resolve: Node >= 18.19 / 20.6
      assert.ok(there.wasmUrl.endsWith('/app/node_modules/unravel/wasm/unravel.wasm'), there.wasmUrl);
      assert.equal(there.byUrl, version);
    }
    assert.equal(there.runs.length, files.length);
    assert.ok(there.runs.every((r) => r.res.n === IMAGES && r.logits.length === IMAGES * 10));
    if (cifar) {   // a trained ResNet-20 gets most of 20 real test images right
      assert.ok(there.runs[1].res.correct >= 14, `ResNet-20: ${there.runs[1].res.correct}/20 correct`);
      t.diagnostic(`installed package: ResNet-20 ${there.runs[1].res.correct}/${IMAGES} test images right`);
    }
    t.diagnostic(`unravel.wasm ${there.wasmUrl ? `also by import.meta.resolve: ${there.wasmUrl}` : 'beside the module'}`);
    assert.deepEqual({ ...there, wasmUrl: null, byUrl: null }, here);
  });

  test('npm pack refuses, packing nothing, when wasm/unravel.wasm is missing, stale or of another version', () => {
    // A skeleton of the repository: what prepack reads, and a one-rule Makefile.
    const skel = path.join(dir, 'skeleton');
    const copy = (f) => {
      fs.mkdirSync(path.dirname(path.join(skel, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(skel, f));
    };
    for (const f of ['package.json', 'scripts/check-package.mjs', 'c/unravel.h', 'wasm/unravel.mjs', ...LIB,
                     'wasm/unravel.d.ts', 'README.md', 'LICENSE', 'NOTICE'])
      copy(f);
    fs.writeFileSync(path.join(skel, 'Makefile'), 'wasm/unravel.wasm: c/unravel.h\n\tfalse\n');
    const out = path.join(dir, 'refused');
    fs.mkdirSync(out);
    const refuses = (pattern) => {
      const r = npm(['pack', '--pack-destination', out], skel, cache);
      assert.notEqual(r.status, 0, `npm pack packed:\n${r.stdout}`);
      assert.match(r.stderr, pattern);
      assert.deepEqual(fs.readdirSync(out), []);
    };
    refuses(/npm pack: wasm\/unravel\.wasm is missing: .*run `make wasm` first/);

    copy('wasm/unravel.wasm');
    const hour = 3600;
    const now = Date.now() / 1000;
    fs.utimesSync(path.join(skel, 'wasm/unravel.wasm'), now - hour, now - hour);
    fs.utimesSync(path.join(skel, 'c/unravel.h'), now, now);
    refuses(/npm pack: wasm\/unravel\.wasm is older than its sources .*run `make wasm` first/);

    fs.utimesSync(path.join(skel, 'c/unravel.h'), now - 2 * hour, now - 2 * hour);
    const pkg = JSON.parse(fs.readFileSync(path.join(skel, 'package.json'), 'utf8'));
    fs.writeFileSync(path.join(skel, 'package.json'), JSON.stringify({ ...pkg, version: '99.0.0' }));
    refuses(/npm pack: the versions differ: package\.json 99\.0\.0, /);

    // Agreeing again, the skeleton packs.
    fs.writeFileSync(path.join(skel, 'package.json'), JSON.stringify(pkg));
    check(npm(['pack', '--pack-destination', out], skel, cache), 'npm pack (skeleton)');
    assert.deepEqual(fs.readdirSync(out), [`unravel-${version}.tgz`]);
  });
});
