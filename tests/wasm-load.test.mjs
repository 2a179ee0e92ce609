// wasm-load.test.mjs: the ways of loading the module: beside the ES module
// (fs in Node), from bytes, from a compiled WebAssembly.Module, and with a
// chosen kernel variant.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { UnravelError, loadUnravel } from '../wasm/unravel.mjs';
import { WASM, requireBuilt, syntheticCifar } from './helpers.mjs';

test('loadUnravel() finds unravel.wasm beside unravel.mjs', async () => {
  requireBuilt();
  const u = await loadUnravel();
  assert.equal(u.simd, true);
  assert.equal(u.isa, 'wasmsimd');
  assert.ok(u.memoryBytes >= 16 << 20);
});

test('loadUnravel() takes bytes, a compiled module or a URL', async () => {
  requireBuilt();
  const bytes = fs.readFileSync(WASM);
  const module = await WebAssembly.compile(bytes);
  for (const options of [{ wasmBytes: bytes }, { wasmBytes: new Uint8Array(bytes).buffer }, { module },
                         { wasmUrl: new URL('../wasm/unravel.wasm', import.meta.url) }]) {
    const u = await loadUnravel(options);
    const d = u.loadCifar(syntheticCifar(3));
    assert.equal(d.n, 3);
    d.dispose();
  }
});

test('instances are independent', async () => {
  requireBuilt();
  const [a, b] = await Promise.all([loadUnravel(), loadUnravel()]);
  const d = a.loadCifar(syntheticCifar(5));
  assert.equal(d.n, 5);
  assert.notEqual(a.memoryBytes, 0);
  assert.equal(b.loadCifar(syntheticCifar(2)).n, 2);
});

test('a scalar-kernel instance from the SIMD build; unknown kernels are refused', async () => {
  requireBuilt();
  const s = await loadUnravel({ isa: 'scalar' });
  assert.equal(s.simd, false);
  assert.equal(s.isa, 'scalar');
  await assert.rejects(loadUnravel({ isa: 'avx2' }), (e) => e instanceof UnravelError && /isa/.test(e.message));
  await assert.rejects(loadUnravel({ wasmBytes: new Uint8Array([0, 97, 115, 109]) }), WebAssembly.CompileError);
});
