// version.test.mjs: one version everywhere: package.json (and its lock),
// UNR_VERSION_STRING in c/unravel.h, `unravel --version`, the JS API's
// `version` export and the version unravel.wasm reports, the newest
// released entry of CHANGELOG.md, and the tarball README.md and docs/*.md name.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadUnravel, version } from '../wasm/unravel.mjs';
import { ROOT, cli, unravel } from './helpers.mjs';

const read = (f) => fs.readFileSync(path.join(ROOT, f), 'utf8');

test('package.json, the C header, the CLI, the JS API, the WASM module and CHANGELOG.md name one version', async () => {
  const pkg = JSON.parse(read('package.json'));
  assert.match(pkg.version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, 'package.json: not a semantic version');
  const lock = JSON.parse(read('package-lock.json'));
  const header = read('c/unravel.h').match(/^#define UNR_VERSION_STRING "([^"]*)"/m)?.[1];
  const changelog = read('CHANGELOG.md').match(/^## \[?(\d+\.\d+\.\d+[^\]\s]*)\]? - \d{4}-\d{2}-\d{2}$/m)?.[1];
  const found = {
    'package.json': pkg.version,
    'package-lock.json': lock.version,
    "package-lock.json packages['']": lock.packages[''].version,
    'c/unravel.h UNR_VERSION_STRING': header,
    'unravel --version': cli('--version').trim().replace(/^unravel /, ''),
    'wasm/unravel.mjs version': version,
    'unravel.wasm (Unravel#version)': (await unravel()).version,
    'CHANGELOG.md, newest release': changelog,
  };
  for (const [where, v] of Object.entries(found))
    assert.equal(v, pkg.version, `${where} says ${v}, package.json ${pkg.version}`);
  assert.equal(cli('--version'), `unravel ${pkg.version}\n`);
  // docs/API.md's "As a package" names the tarball npm pack writes; so may the README and other docs.
  const docs = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  for (const f of docs)
    for (const m of read(f).matchAll(/unravel-(\d+\.\d+\.\d+[^\s`]*?)\.tgz/g))
      assert.equal(m[1], pkg.version, `${f} names ${m[0]}`);
  assert.match(read('docs/API.md'), /`npm pack` writes `unravel-[^`]+\.tgz`/, 'docs/API.md no longer names the tarball npm pack writes');
});

test('loadUnravel refuses an unravel.wasm of another version', async () => {
  // The version string sits in the data section; patch its bytes in a copy.
  const bytes = fs.readFileSync(path.join(ROOT, 'wasm/unravel.wasm'));
  const needle = Buffer.from(`\0${version}\0`);
  const at = bytes.indexOf(needle);
  assert.ok(at > 0 && bytes.lastIndexOf(needle) === at, 'the version string is not once in unravel.wasm');
  const other = Buffer.from(bytes);
  other[at + 1] = other[at + 1] === 0x39 ? 0x38 : other[at + 1] + 1;   // "0.1.0" -> "1.1.0"
  await assert.rejects(loadUnravel({ wasmBytes: other }), (e) => e.name === 'UnravelError' && e.status === 'unsupported' &&
    /unravel\.wasm is version \S+ but unravel\.mjs is /.test(e.message));
});
