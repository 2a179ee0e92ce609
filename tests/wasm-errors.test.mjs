// wasm-errors.test.mjs: every bad input gives an UnravelError with a useful
// message (the C message, naming the field, tensor or block), and the module
// keeps working afterwards.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { UnravelError } from '../wasm/unravel.mjs';
import { makeModel, sha256, syntheticCifar, tmpdir, unravel } from './helpers.mjs';

// assert.throws with an UnravelError of this status whose message matches re.
function throwsUnravel(fn, status, re) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof UnravelError, `expected an UnravelError, got ${e}`);
    assert.ok(e instanceof Error);
    assert.equal(e.status, status, `status of "${e.message}"`);
    assert.match(e.message, re);
    return true;
  });
}

// A copy of the weights with fn applied, and a manifest whose size and
// sha256 match it (so only the defect fn introduces is left).
function tampered(r20, fn) {
  const w = new Uint8Array(r20.weights);
  fn(w, JSON.parse(r20.manifest));
  const m = JSON.parse(r20.manifest);
  m.weights.bytes = w.length;
  m.weights.sha256 = sha256(w);
  return { manifest: m, weights: w };
}

describe('bad inputs give UnravelErrors and the module keeps working', () => {
  let u, r20, data, baseline;
  before(async () => {
    u = await unravel();
    r20 = makeModel(tmpdir(), 'r20', { blocksPerStage: 3, shortcut: 'A', seed: 7 });
    data = u.loadCifar(syntheticCifar(20, 3));
    const m = u.loadModel(r20.manifest, r20.weights);
    baseline = m.forward(data);
    m.dispose();
  });

  // After each test: a model still loads and computes the same logits.
  function stillWorks() {
    const m = u.loadModel(r20.manifest, r20.weights);
    assert.deepEqual(m.forward(data), baseline);
    m.dispose();
  }

  describe('models', () => {
    test('malformed manifest JSON', () => {
      throwsUnravel(() => u.loadModel('{"format": "unravel-model", ', r20.weights, { name: 'm.json' }),
                    'parse', /^m\.json: malformed JSON near byte \d+/);
      throwsUnravel(() => u.loadModel('', r20.weights), 'parse', /malformed JSON/);
      stillWorks();
    });

    test('a manifest that is not a model', () => {
      throwsUnravel(() => u.loadModel('[1, 2]', r20.weights), 'parse', /expected a JSON object/);
      throwsUnravel(() => u.loadModel({ format: 'something-else' }, r20.weights), 'field',
                    /format: "something-else" is not "unravel-model"/);
      const m = JSON.parse(r20.manifest);
      delete m.arch.widths;
      throwsUnravel(() => u.loadModel(m, r20.weights), 'field', /arch\.widths/);
      stillWorks();
    });

    test('a wrong tensor shape names the tensor', () => {
      const m = JSON.parse(r20.manifest);
      const t = m.tensors.find((t) => t.name === 'blocks.4.conv2.weight');
      t.shape = [32, 32, 3, 1];
      throwsUnravel(() => u.loadModel(m, r20.weights), 'shape', /blocks\.4\.conv2\.weight/);
      stillWorks();
    });

    test('truncated weights', () => {
      throwsUnravel(() => u.loadModel(r20.manifest, r20.weights.subarray(0, r20.weights.length - 100)),
                    'range', /weights\.bytes: the manifest says \d+ bytes, the weights file has \d+/);
      throwsUnravel(() => u.loadModel(r20.manifest, new ArrayBuffer(0)), 'range', /weights\.bytes/);
      stillWorks();
    });

    test('weights whose sha256 does not match', () => {
      const w = new Uint8Array(r20.weights);
      w[1000] ^= 0x40;
      throwsUnravel(() => u.loadModel(r20.manifest, w), 'checksum',
                    /weights\.sha256: the weights hash to [0-9a-f]{64}, the manifest says/);
      stillWorks();
    });

    test('NaN and infinite weights name the tensor', () => {
      for (const bad of [NaN, Infinity]) {
        const { manifest, weights } = tampered(r20, (w, m) => {
          const t = m.tensors.find((t) => t.name === 'blocks.2.conv1.weight');
          new DataView(w.buffer, w.byteOffset).setFloat32(t.offset + 4 * 17, bad, true);
        });
        throwsUnravel(() => u.loadModel(manifest, weights), 'nonfinite', /blocks\.2\.conv1\.weight/);
      }
      stillWorks();
    });

    test('arguments of the wrong type', () => {
      throwsUnravel(() => u.loadModel(r20.manifest, 'weights'), 'argument', /ArrayBuffer/);
      throwsUnravel(() => u.loadModel(r20.manifest, null), 'argument', /ArrayBuffer/);
      stillWorks();
    });
  });

  describe('plans', () => {
    let m;
    before(() => { m = u.loadModel(r20.manifest, r20.weights); });

    test('a deleted block out of range', () => {
      throwsUnravel(() => m.evaluate(data, { deleted: [9] }), 'range',
                    /deleted block 9 is out of range \(the model has blocks 0\.\.8\)/);
      throwsUnravel(() => m.forward(data, { deleted: [-1] }), 'range', /out of range/);
      throwsUnravel(() => m.forward(data, { deleted: [1.5] }), 'plan', /not a block number/);
      throwsUnravel(() => m.forward(data, { deleted: [true, false] }), 'plan',
                    /deleted has 2 flags, the model has 9 blocks/);
    });

    test('an order out of range, too short or with a repeat', () => {
      throwsUnravel(() => m.forward(data, { order: [0, 1, 2, 3, 4, 5, 6, 7, 99] }), 'range',
                    /order\[8\] = 99 is out of range \(blocks 0\.\.8\)/);
      throwsUnravel(() => m.forward(data, { order: [0, 1, 2] }), 'plan',
                    /order has 3 entries, the model has 9 blocks/);
      throwsUnravel(() => m.forward(data, { order: [0, 1, 1, 3, 4, 5, 6, 7, 8] }), 'plan',
                    /block 1 appears twice/);
    });

    test('a swap across stages', () => {
      throwsUnravel(() => m.evaluate(data, { order: [0, 1, 4, 3, 2, 5, 6, 7, 8] }), 'plan',
                    /block 4 \(stage 2\) cannot move to position 2 in stage 1/);
    });

    test('moving a downsampling block', () => {
      throwsUnravel(() => m.forward(data, { order: [0, 1, 2, 4, 3, 5, 6, 7, 8] }), 'plan',
                    /downsampling blocks keep their place/);
    });

    test('validatePlan checks without running', () => {
      m.validatePlan({ order: [1, 0, 2, 3, 5, 4, 6, 8, 7], deleted: [0, 3] });
      throwsUnravel(() => m.validatePlan({ order: [0, 1, 2, 3, 4, 5, 7, 6, 8].reverse() }), 'plan',
                    /cannot move/);
    });

    test('deleting a downsampling block of a plain network', () => {
      const plain = makeModel(tmpdir(), 'plain', { blocksPerStage: 1, shortcut: 'none', seed: 2,
                                                   widths: [4, 8, 16] });
      const p = u.loadModel(plain.manifest, plain.weights);
      throwsUnravel(() => p.evaluate(data, { deleted: [1] }), 'plan',
                    /block 1 of a plain network downsamples .* cannot be deleted/);
      assert.equal(p.info.blocks[1].deletable, false);
      p.dispose();
    });

    test('deleted as ids and as booleans mean the same', () => {
      const flags = Array.from({ length: 9 }, (_, b) => b === 2 || b === 7);
      assert.deepEqual(m.forward(data, { deleted: flags }), m.forward(data, { deleted: [2, 7] }));
      assert.deepEqual(m.forward(data, { deleted: new Set([7, 2]) }), m.forward(data, { deleted: [7, 2] }));
    });

    test('bad run options', () => {
      throwsUnravel(() => m.forward(data, { start: 15, count: 10 }), 'argument',
                    /images 15\.\.24 are outside the data set's 0\.\.19/);
      throwsUnravel(() => m.evaluate(data, { batch: 0 }), 'argument', /batch: 0 is outside 1\.\.4096/);
      throwsUnravel(() => m.evaluate(data, { limit: -1 }), 'argument', /limit/);
      throwsUnravel(() => m.evaluate({ n: 10 }), 'argument', /loadCifar/);
      stillWorks();
    });

    test('bad path measurements and bootstrap counts', () => {
      const norms = Array.from({ length: 10 }, (_, k) => [1, 2, 3].map((v) => v * 2 ** -k));
      assert.ok(m.pathSummary(norms, { seed: 1 }).window.bootstrap.same > 0);
      assert.equal(m.pathSummary(norms, { bootstrap: 0 }).window.bootstrap, undefined);
      throwsUnravel(() => m.pathSummary(norms.slice(1)), 'argument', /10 rows/);
      throwsUnravel(() => m.pathSummary(norms.map((r, k) => (k === 4 ? r.slice(1) : r))), 'argument',
                    /every row of norms must have 3 samples/);
      throwsUnravel(() => m.pathSummary(norms, { bootstrap: -1 }), 'argument', /bootstrap: -1/);
      throwsUnravel(() => m.pathSummary(norms, { bootstrap: 2.5 }), 'argument', /bootstrap: 2\.5/);
      throwsUnravel(() => m.pathSummary(norms, { seed: -3 }), 'argument', /seed: -3/);
      const bad = norms.map((r, k) => (k === 3 ? [1, NaN, 3] : r));
      throwsUnravel(() => m.pathSummary(bad), 'range', /length 3/);
      throwsUnravel(() => m.pathSummary(bad, { bootstrap: 0 }), 'range', /gradient norm of length 3 is nan/i);
      stillWorks();
    });

    test('progress callbacks can cancel, and their exceptions propagate', () => {
      const seen = [];
      const res = m.evaluate(data, { batch: 5, onProgress: (done, total) => { seen.push([done, total]); } });
      assert.equal(res.n, 20);
      assert.deepEqual(seen, [[5, 20], [10, 20], [15, 20], [20, 20]]);
      throwsUnravel(() => m.evaluate(data, { batch: 5, onProgress: (done) => done >= 10 }),
                    'cancelled', /evaluate: cancelled/);
      assert.throws(() => m.evaluate(data, { batch: 5, onProgress: () => { throw new RangeError('mine'); } }),
                    RangeError);
      assert.equal(m.evaluate(data).n, 20);
      stillWorks();
    });

    test('use after dispose', () => {
      const m2 = u.loadModel(r20.manifest, r20.weights);
      m2.dispose();
      m2.dispose();
      throwsUnravel(() => m2.forward(data), 'argument', /after dispose/);
      const d2 = u.loadCifar(syntheticCifar(2));
      d2.dispose();
      throwsUnravel(() => m.forward(d2), 'argument', /after dispose/);
      stillWorks();
    });
  });

  describe('CIFAR-10 data', () => {
    test('a buffer that is not whole records', () => {
      throwsUnravel(() => u.loadCifar(new Uint8Array(3073 * 2 + 5), { name: 'bad.bin' }), 'parse',
                    /^bad\.bin: 6151 bytes is not a whole number of 3073-byte CIFAR-10 records \(5 left over\)/);
      throwsUnravel(() => u.loadCifar(new ArrayBuffer(0)), 'parse', /empty/);
      throwsUnravel(() => u.loadCifar('bytes'), 'argument', /ArrayBuffer/);
      stillWorks();
    });

    test('a label outside 0..9', () => {
      const b = syntheticCifar(3);
      b[3073 * 2] = 10;
      throwsUnravel(() => u.loadCifar(b), 'field', /record 2: label 10 is not 0\.\.9/);
      stillWorks();
    });

    test('labels and images come out as loaded', () => {
      const b = syntheticCifar(4, 8);
      const d = u.loadCifar(b.buffer);
      assert.equal(d.n, 4);
      assert.deepEqual(Array.from(d.labels), [0, 1, 2, 3]);
      const img = d.image(3);
      assert.ok(img instanceof Uint8ClampedArray);
      assert.equal(img.length, 32 * 32 * 4);
      const rec = 3 * 3073 + 1;
      for (const p of [0, 77, 1023])
        assert.deepEqual(Array.from(img.subarray(4 * p, 4 * p + 4)),
                         [b[rec + p], b[rec + 1024 + p], b[rec + 2048 + p], 255]);
      throwsUnravel(() => d.image(4), 'argument', /outside 0\.\.3/);
      d.dispose();
    });
  });
});
