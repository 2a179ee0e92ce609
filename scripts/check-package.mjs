#!/usr/bin/env node
// check-package.mjs: run by `npm pack` (package.json "prepack") before it packs
// anything; it builds nothing. The package ships wasm/unravel.wasm, a build
// output git ignores, so this refuses to pack when that file is
// - missing (`make wasm` was never run here),
// - older than its sources (`make -q wasm/unravel.wasm` says it would rebuild),
// - or of another version than package.json, c/unravel.h (UNR_VERSION_STRING)
//   and wasm/unravel.mjs (`version`), which must all agree.
// Quiet on success, but for one line on stderr (npm pack --json keeps stdout).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WASM = 'wasm/unravel.wasm';

function fail(message) {
  process.stderr.write(`npm pack: ${message}\n`);
  process.exit(1);
}

if (!fs.existsSync(path.join(ROOT, WASM)))
  fail(`${WASM} is missing: it is a build output (git ignores it); run \`make wasm\` first`);

const make = spawnSync('make', ['-q', WASM], { cwd: ROOT, stdio: 'ignore' });
if (make.error)
  process.stderr.write(`npm pack: warning: no make (${make.error.code}), so ${WASM} is not checked ` +
                       'against its sources\n');
else if (make.status === 1)
  fail(`${WASM} is older than its sources (\`make -q ${WASM}\` would rebuild it): run \`make wasm\` first`);
else if (make.status !== 0)
  fail(`\`make -q ${WASM}\` exits ${make.status}, so cannot tell whether ${WASM} is up to date`);

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const header = fs.readFileSync(path.join(ROOT, 'c/unravel.h'), 'utf8')
  .match(/^#define UNR_VERSION_STRING "([^"]*)"/m)?.[1];
const api = await import('../wasm/unravel.mjs');
let built;
try {
  built = (await api.loadUnravel({ wasmBytes: fs.readFileSync(path.join(ROOT, WASM)) })).version;
} catch (e) {
  fail(`${WASM} does not load: ${e.message}`);
}
const versions = { 'package.json': pkg.version, 'c/unravel.h UNR_VERSION_STRING': header,
                   'wasm/unravel.mjs version': api.version, [WASM]: built };
if (new Set(Object.values(versions)).size !== 1)
  fail('the versions differ: ' + Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', '));
process.stderr.write(`npm pack: ${WASM} is up to date; version ${pkg.version}\n`);
