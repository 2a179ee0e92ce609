// wasm-parity.test.mjs: the WASM module and the native CLI agree: the same
// test error and logits within LOGIT_TOL, for the full plan and for plans
// with deleted and swapped blocks; SIMD128 and scalar WASM kernels agree too.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import {
  NO_DATA, WASM_SCALAR, cifarDir, cli, makeModel, maxAbsDiff, nativeEval, syntheticCifar, tmpdir,
  unravel,
} from './helpers.mjs';

// Absolute tolerance on logits (random-weight logits reach |30|; float32
// sums in a different order differ by ~1e-5 there).
const LOGIT_TOL = 1e-3;

// ResNet-20 (blocks 0..8; 0, 3 and 6 open stages, 3 and 6 downsample).
const PLANS = [
  { label: 'the full plan' },
  { label: 'block 4 deleted', deleted: [4] },
  { label: 'a downsampling block deleted', deleted: [3], syntheticOnly: true },
  { label: 'blocks 1, 5, 6, 8 deleted', deleted: [1, 5, 6, 8], syntheticOnly: true },
  { label: 'blocks swapped within stages', order: [0, 2, 1, 3, 5, 4, 6, 8, 7] },
  { label: 'stage 1 reversed, block 7 deleted', order: [2, 1, 0, 3, 4, 5, 6, 7, 8], deleted: [7] },
];

// (syntheticOnly: not repeated on the 1,000 real images, to keep the suite short.)

function checkParity(native, wasmRes, wasmLogits) {
  assert.equal(wasmRes.n, native.res.n);
  assert.equal(wasmRes.correct, native.res.correct, 'correct count differs from native');
  assert.equal(wasmRes.error, native.res.error);
  assert.deepEqual(wasmRes.confusion, native.res.confusion);
  const d = maxAbsDiff(wasmLogits, native.logits);
  assert.ok(d <= LOGIT_TOL, `max |logit difference| ${d} > ${LOGIT_TOL}`);
  return d;
}

// { n, correct, error, confusion } from logits [n][10] and labels.
function resultFromLogits(logits, labels) {
  const n = logits.length / 10;
  const confusion = Array.from({ length: 10 }, () => new Array(10).fill(0));
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < 10; j++)
      if (logits[i * 10 + j] > logits[i * 10 + best])
        best = j;
    confusion[labels[i]][best]++;
    correct += best === labels[i];
  }
  return { n, correct, error: 1 - correct / n, confusion };
}

describe('WASM matches the native CLI', () => {
  let u, dir, r20, model;
  before(async () => {
    u = await unravel();
    dir = tmpdir();
    r20 = makeModel(dir, 'r20', { blocksPerStage: 3, shortcut: 'A', seed: 7 });
    model = u.loadModel(r20.manifest, r20.weights, { name: 'r20' });
  });

  test('the module reports its build', () => {
    assert.match(u.version, /^\d+\.\d+\.\d+/);
    assert.equal(u.simd, true);
    assert.equal(u.isa, 'wasmsimd');
    assert.equal(model.info.depth, 20);
    assert.equal(model.info.blocks.length, 9);
    assert.deepEqual(model.info.blocks.map((b) => b.downsample),
                     [false, false, false, true, false, false, true, false, false]);
    assert.deepEqual(model.info.blocks[3].inShape, [32, 32, 16]);
    assert.deepEqual(model.info.blocks[3].outShape, [16, 16, 32]);
    assert.ok(Math.abs(model.info.macs - 40.6e6) / 40.6e6 < 0.01, `macs ${model.info.macs}`);
  });

  describe('on synthetic images (always runs)', () => {
    let synthDir, data;
    before(() => {
      synthDir = path.join(dir, 'synth');
      fs.mkdirSync(synthDir);
      const bytes = syntheticCifar(120, 42);
      fs.writeFileSync(path.join(synthDir, 'test_batch.bin'), bytes);
      data = u.loadCifar(bytes);
    });
    for (const plan of PLANS)
      test(`with ${plan.label}`, () => {
        const native = nativeEval(dir, r20.json, synthDir, plan);
        const res = model.evaluate(data, { ...plan, batch: 64 });
        const logits = model.forward(data, { ...plan, batch: 64 });
        checkParity(native, res, logits);
      });

    test('evaluate({ predictions: true }) gives each image\'s class, as the logits\' argmax', () => {
      const argmax = (lg, i) => lg.subarray(i * 10, i * 10 + 10).reduce((b, v, j, a) => (v > a[b] ? j : b), 0);
      for (const plan of [PLANS[0], PLANS[1], PLANS[4]]) {
        const res = model.evaluate(data, { ...plan, batch: 64, limit: 100, predictions: true });
        const logits = model.forward(data, { ...plan, count: 100 });
        assert.ok(res.predictions instanceof Uint8Array);
        assert.equal(res.predictions.length, 100);
        res.predictions.forEach((p, i) => assert.equal(p, argmax(logits, i), `${plan.label}: image ${i}`));
        assert.equal(res.predictions.filter((p, i) => p === data.labels[i]).length, res.correct);
      }
      assert.equal(model.evaluate(data, { limit: 10 }).predictions, undefined);
    });
  });

  describe('on the first 1,000 CIFAR-10 test images', () => {
    const cdir = cifarDir();
    let data;
    before(() => {
      if (cdir)
        data = u.loadCifar(fs.readFileSync(path.join(cdir, 'test_batch.bin')), { name: 'test_batch.bin' });
    });
    // evaluate() runs for two plans; the others compare forward()'s logits
    // and the error they imply (each pass over 1,000 images takes seconds).
    for (const [i, plan] of PLANS.filter((p) => !p.syntheticOnly).entries())
      test(`with ${plan.label}`, { skip: cdir ? false : NO_DATA }, (t) => {
        const native = nativeEval(dir, r20.json, cdir, { ...plan, limit: 1000 });
        const logits = model.forward(data, { ...plan, count: 1000 });
        const res = i < 2 ? model.evaluate(data, { ...plan, limit: 1000 })
          : resultFromLogits(logits, data.labels);
        const d = checkParity(native, res, logits);
        t.diagnostic(`error ${res.error}, max |logit diff| ${d.toExponential(2)}`);
      });
  });

  test('shortcut B and plain networks match too', () => {
    const synthDir = path.join(dir, 'synth-small');
    fs.mkdirSync(synthDir);
    const bytes = syntheticCifar(50, 9);
    fs.writeFileSync(path.join(synthDir, 'test_batch.bin'), bytes);
    const data = u.loadCifar(bytes);
    for (const [shortcut, deleted] of [['B', [1, 2]], ['none', [1, 3]]]) {
      const m = makeModel(dir, `small-${shortcut}`, { blocksPerStage: 2, shortcut, seed: 3,
                                                      widths: [8, 16, 32] });
      const model = u.loadModel(m.manifest, m.weights);
      for (const plan of [{}, { deleted }]) {
        const native = nativeEval(dir, m.json, synthDir, plan);
        checkParity(native, model.evaluate(data, plan), model.forward(data, plan));
      }
      model.dispose();
    }
    data.dispose();
  });

  test('four-stage networks with per-stage block counts match too, with the same info and draws', () => {
    const synthDir = path.join(dir, 'synth-four');
    fs.mkdirSync(synthDir);
    const bytes = syntheticCifar(30, 4);
    fs.writeFileSync(path.join(synthDir, 'test_batch.bin'), bytes);
    const data = u.loadCifar(bytes);
    for (const shortcut of ['B', 'A']) {
      const m = makeModel(dir, `four-${shortcut}`, { blocksPerStage: '2,1,1,3', shortcut, seed: 5, widths: [8, 12, 16, 24] });
      const model = u.loadModel(m.manifest, m.weights);
      assert.deepEqual(model.info.arch.stageBlocks, [2, 1, 1, 3]);
      assert.equal(model.info.arch.blocksPerStage, null);
      assert.equal(model.info.depth, 16);
      assert.deepEqual(model.info.blocks.map((b) => b.stage), [1, 1, 2, 3, 4, 4, 4]);
      assert.deepEqual(model.info.blocks.at(-1).outShape, [4, 4, 24]);
      // blocks 5 and 6 (stage 4) may trade places; block 4 (downsampling) may not
      for (const plan of [{}, { deleted: [0, 5] }, { order: [1, 0, 2, 3, 4, 6, 5] }]) {
        const native = nativeEval(dir, m.json, synthDir, plan);
        checkParity(native, model.evaluate(data, plan), model.forward(data, plan));
      }
      assert.throws(() => model.evaluate(data, { order: [0, 1, 2, 4, 3, 5, 6] }), /stage/);
      model.dispose();
    }
    data.dispose();
  });

  test('pre-activation networks match too, in evaluation and path statistics', async () => {
    const synthDir = path.join(dir, 'synth-pre');
    fs.mkdirSync(synthDir);
    const bytes = syntheticCifar(30, 6);
    fs.writeFileSync(path.join(synthDir, 'test_batch.bin'), bytes);
    const data = u.loadCifar(bytes);
    for (const [shortcut, extra] of [['B', ['--head-bn', '--stem-width', '4']], ['A', []]]) {
      const m = makeModel(dir, `pre-${shortcut}`, { blocksPerStage: '3,1,2', shortcut, seed: 8, widths: [8, 12, 16],
                                                     extra: ['--preactivation', ...extra] });
      const model = u.loadModel(m.manifest, m.weights);
      assert.equal(model.info.arch.preactivation, true);
      assert.equal(model.info.arch.headBn, extra.length > 0);
      assert.equal(model.info.arch.stemWidth, extra.length ? 4 : 8);
      for (const plan of [{}, { deleted: [0, 3] }, { order: [0, 2, 1, 3, 4, 5] }]) {
        const native = nativeEval(dir, m.json, synthDir, plan);
        checkParity(native, model.evaluate(data, plan), model.forward(data, plan));
      }
      // gradient per path length: the CLI's numbers, to float precision
      const native = JSON.parse(cli('paths', '--model', m.json, '--data', synthDir, '--split', 'test', '--json',
                                    '--samples', '2', '--batch', '4', '--seed', '3'));
      const ours = await model.pathStats(data, { samples: 2, batch: 4, seed: 3 });
      assert.equal(ours.gradMean.length, 7);
      ours.gradMean.forEach((g, k) => assert.ok(Math.abs(g - native.grad_mean[k]) <= 1e-4 * native.grad_mean[k], `k = ${k}`));
      // and every draw, in the same [length][sample] layout
      assert.equal(native.norms.length, 7);
      native.norms.forEach((row, k) => row.forEach((v, s) =>
        assert.ok(Math.abs(v - ours.norms[k][s]) <= 1e-4 * v, `norms[${k}][${s}]: ${v} vs ${ours.norms[k][s]}`)));
      // the window's bootstrap: the CLI's draws through the JS API give the CLI's spread exactly
      const boot = native.window.bootstrap, again = model.pathSummary(native.norms, { seed: 3 }).window.bootstrap;
      assert.equal(boot.resamples, 1000);
      assert.deepEqual(again, { resamples: boot.resamples, level: boot.level, a: boot.a, b: boot.b,
                                share: boot.share_of_paths, same: boot.same_window });
      model.dispose();
    }
    data.dispose();
  });

  test('SIMD128 and scalar WASM kernels agree', async () => {
    const scalarIsa = await unravel(undefined, { isa: 'scalar' });
    assert.equal(scalarIsa.simd, false);
    const modules = [scalarIsa];
    if (fs.existsSync(WASM_SCALAR))
      modules.push(await unravel(WASM_SCALAR));
    const bytes = syntheticCifar(40, 5);
    const data = u.loadCifar(bytes);
    const want = model.forward(data, { deleted: [2], order: [0, 1, 2, 3, 5, 4, 6, 7, 8] });
    for (const v of modules) {
      assert.equal(v.isa, 'scalar');
      const m = v.loadModel(r20.manifest, r20.weights);
      const got = m.forward(v.loadCifar(bytes), { deleted: [2], order: [0, 1, 2, 3, 5, 4, 6, 7, 8] });
      assert.ok(maxAbsDiff(got, want) <= LOGIT_TOL);
    }
    data.dispose();
  });

  test('forward in batch 1 equals forward in batch 100', () => {
    const data = u.loadCifar(syntheticCifar(7, 11));
    const one = new Float32Array(70);
    for (let i = 0; i < 7; i++)
      one.set(model.forward(data, { start: i, count: 1, batch: 1 }), i * 10);
    assert.ok(maxAbsDiff(one, model.forward(data, { batch: 100 })) <= 1e-4);
    data.dispose();
  });
});
