// The C kernel tests (tests/c/test_kernels.c) compiled to WebAssembly with
// SIMD128: every wasmsimd micro-kernel, the direct and both Winograd convs,
// against the scalar reference, inside the same engine the page uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const wasm = 'build/wasm/test_kernels.wasm';

test('SIMD128 kernels match the scalar reference', { skip: !existsSync(wasm) && `${wasm} not built (make test-node builds it)` }, () => {
  const run = spawnSync(process.execPath, ['--no-warnings', 'tests/wasi/run.mjs', wasm],
                        { encoding: 'utf8', timeout: 120_000 });
  const out = run.stdout + run.stderr;
  assert.match(out, /variants: wasmsimd\/t1\/F4 wasmsimd\/t1\/F2 wasmsimd\/t1\/direct/, out);
  const m = out.match(/(\d+) checks, (\d+) failed/);
  assert.ok(m, out);
  assert.ok(Number(m[1]) > 1000, `only ${m[1]} checks ran`);
  assert.equal(Number(m[2]), 0, out);
  assert.equal(run.status, 0, out);
});
