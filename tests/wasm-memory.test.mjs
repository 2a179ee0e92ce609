// wasm-memory.test.mjs: loading and disposing things many times does not
// grow WASM memory. WASM memory never shrinks, so a leak shows as growth:
// after a short warm-up (which sizes the allocator's pools), 1,000 more
// cycles may grow memory by at most GROWTH_BOUND bytes.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { makeModel, syntheticCifar, tmpdir, unravel } from './helpers.mjs';

const GROWTH_BOUND = 1 << 20;   // 1 MiB; one ResNet-20 alone is ~2.2 MB (raw + folded)
const CYCLES = 1000;
const WARMUP = 10;

describe('WASM memory stays bounded', () => {
  let u, r20, cifarBytes;
  before(async () => {
    u = await unravel();
    r20 = makeModel(tmpdir(), 'r20', { blocksPerStage: 3, shortcut: 'A', seed: 7 });
    cifarBytes = syntheticCifar(200, 4);
  });

  function cycles(n, body) {
    for (let i = 0; i < n; i++)
      body(i);
  }

  test(`loading and disposing a ResNet-20 ${CYCLES} times`, (t) => {
    const data = u.loadCifar(cifarBytes);
    // every 50th cycle also creates runners (batch 1 and 4) and runs them
    const body = (i) => {
      const m = u.loadModel(r20.manifest, r20.weights);
      if (i % 50 === 0) {
        m.forward(data, { count: 1, batch: 1 });
        m.evaluate(data, { limit: 4, batch: 4, deleted: [i % 9] });
      }
      m.dispose();
    };
    cycles(WARMUP, body);
    const before = u.memoryBytes;
    cycles(CYCLES, body);
    const growth = u.memoryBytes - before;
    t.diagnostic(`memory ${before} -> ${u.memoryBytes} bytes`);
    assert.ok(growth <= GROWTH_BOUND, `memory grew by ${growth} bytes over ${CYCLES} cycles`);
    data.dispose();
  });

  test(`loading and disposing CIFAR data ${CYCLES} times`, () => {
    const body = () => u.loadCifar(cifarBytes).dispose();
    cycles(WARMUP, body);
    const before = u.memoryBytes;
    cycles(CYCLES, body);
    assert.ok(u.memoryBytes - before <= GROWTH_BOUND);
  });

  test(`${CYCLES} failed loads leak nothing either`, () => {
    const bad = new Uint8Array(r20.weights);
    bad[99] ^= 1;   // sha256 mismatch: fails after the manifest is parsed
    const body = () => {
      assert.throws(() => u.loadModel(r20.manifest, bad), /sha256/);
      assert.throws(() => u.loadModel(r20.manifest.slice(0, 500), r20.weights), /malformed JSON/);
      assert.throws(() => u.loadCifar(cifarBytes.subarray(1)), /whole number/);
    };
    cycles(WARMUP, body);
    const before = u.memoryBytes;
    cycles(CYCLES, body);
    assert.ok(u.memoryBytes - before <= GROWTH_BOUND);
  });

  test('a wide imported net runs in batches that fit, and oversized path batches are refused', async () => {
    // 256 channels at 32x32: 1 MB per activation, ~12 MB per image in a lesion
    // sweep, so 100-image batches would need 1.2 GB. The API runs smaller ones.
    const wide = makeModel(tmpdir(), 'wide', { blocksPerStage: 1, shortcut: 'B', seed: 2, widths: [256, 256, 256] });
    const v = await unravel();   // a fresh instance: memory starts small
    const m = v.loadModel(wide.manifest, wide.weights);
    const data = v.loadCifar(syntheticCifar(6, 3));
    const want = m.evaluate(data, { limit: 6, batch: 1 });
    const lesion = await m.lesionSingle(data, { limit: 6 });
    assert.equal(m.evaluate(data, { limit: 6 }).error, want.error);
    assert.equal(lesion.full.error, want.error);
    assert.ok(v.memoryBytes < 600 * 2 ** 20, `memory grew to ${(v.memoryBytes / 2 ** 20).toFixed(0)} MB`);
    await assert.rejects(m.pathStats(data, { samples: 1, batch: 100 }), /batch: 100 images need \d+ MB .* at most \d+/);
    m.dispose();
    data.dispose();
  });

  test('views survive memory growth', () => {
    // A batch of 2,000 needs ~130 MB of activations: memory must grow while
    // a model and data are live, and both keep working.
    const m = u.loadModel(r20.manifest, r20.weights);
    const data = u.loadCifar(cifarBytes);
    const want = m.forward(data, { count: 3 });
    const before = u.memoryBytes;
    const res = m.evaluate(data, { batch: 2000 });
    assert.ok(u.memoryBytes > before, 'memory was expected to grow');
    assert.equal(res.n, 200);
    assert.deepEqual(m.forward(data, { count: 3 }), want);
    assert.deepEqual(Array.from(data.image(5).subarray(0, 4)),
                     [cifarBytes[5 * 3073 + 1], cifarBytes[5 * 3073 + 1025], cifarBytes[5 * 3073 + 2049], 255]);
    m.dispose();
    data.dispose();
  });
});
