// wasm-experiments.test.mjs: the experiments in WASM give the CLI's numbers
// for the same model, images and seed; they report progress, can be
// cancelled, and refuse bad requests with a clear error.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { cli, makeModel, parseStrictJson, syntheticCifar, tmpdir, unravel } from './helpers.mjs';

const IMAGES = 120;

// The CLI prints doubles with 15 significant digits (cJSON), so compare the
// numbers it prints to within that.
function assertClose(actual, expected, what) {
  assert.equal(actual.length, expected.length, what);
  actual.flat().forEach((a, i) => {
    const e = expected.flat()[i];
    assert.ok(Math.abs(a - e) <= 1e-13 * Math.max(1, Math.abs(e)), `${what}[${i}]: ${a} vs ${e}`);
  });
}

test('the CLI output here is read strictly: a key named twice in one object is an error', () => {
  assert.deepEqual(parseStrictJson('{"a":1,"b":{"a":2,"s":"x\\"a\\": [\\"}"},"c":[{"a":3},{"a":4}]}'),
                   { a: 1, b: { a: 2, s: 'x"a": ["}' }, c: [{ a: 3 }, { a: 4 }] });
  assert.throws(() => parseStrictJson('{"blocks":9,"x":{"blocks":1},"blocks":[]}'), /"blocks" twice/);
});

describe('experiments: WASM and the native CLI agree', () => {
  let u, dir, resnet, plain, data;
  const json = (...args) => parseStrictJson(cli(...args, '--data', dir, '--split', 'test', '--json'));   // every key once

  before(async () => {
    u = await unravel();
    dir = tmpdir();
    const bytes = syntheticCifar(IMAGES, 3);
    fs.writeFileSync(path.join(dir, 'test_batch.bin'), bytes);
    data = u.loadCifar(bytes);
    const r = makeModel(dir, 'r20', { seed: 11 });
    const p = makeModel(dir, 'p20', { seed: 12, shortcut: 'none' });
    resnet = { path: r.json, model: u.loadModel(r.manifest, r.weights) };
    plain = { path: p.json, model: u.loadModel(p.manifest, p.weights) };
  });

  test('lesionSingle gives the errors of `unravel lesion`', async () => {
    for (const { path: p, model } of [resnet, plain]) {
      const native = json('lesion', '--model', p, '--batch', '50');
      const ours = await model.lesionSingle(data, { batch: 50 });
      assert.equal(ours.n, native.images);
      assertClose([ours.full.error], [native.full_error], 'full error');
      assert.deepEqual(ours.blocks.map((b) => b.error === null), native.blocks.map((b) => b.error === null));
      assertClose(ours.blocks.map((b) => b.error ?? -1), native.blocks.map((b) => b.error ?? -1), 'errors');
      assertClose([ours.forwardEquivalents], [native.forward_equivalents], 'cost');
      // the answers each deletion turned wrong and right, and the paired interval
      ours.blocks.forEach((b, i) => {
        const nb = native.blocks[i];
        assert.deepEqual([b.turnedWrong, b.turnedRight], [nb.turned_wrong, nb.turned_right], `block ${i} flips`);
        if (b.deletable) {
          assertClose([b.ci95], [nb.ci95], `block ${i} ci95`);
          // flips account for the change exactly
          assert.equal(Math.round((b.error - ours.full.error) * ours.n), b.turnedWrong - b.turnedRight);
        }
      });
      assert.ok(ours.blocks.some((b) => b.turnedWrong + b.turnedRight > 0), 'no deletion changed an answer');
    }
    // the plain net's downsampling blocks cannot be deleted
    const pl = await plain.model.lesionSingle(data, { limit: 20 });
    assert.deepEqual(pl.blocks.filter((b) => !b.deletable).map((b) => b.block), [3, 6]);
  });

  test('deleteRandom and swapRandom draw the CLI\'s plans and get its errors', async () => {
    const nd = json('delete-random', '--model', resnet.path, '--k', '0,1,4', '--samples', '3',
                    '--seed', '5', '--limit', '60');
    const od = await resnet.model.deleteRandom(data, { ks: [0, 1, 4], samples: 3, seed: 5, limit: 60 });
    assert.equal(od.n, 60);
    assertClose(od.points.map((p) => p.errors), nd.points.map((p) => p.errors), 'errors');
    assertClose(od.points.map((p) => [p.mean, p.sd, p.min, p.max]),
                nd.points.map((p) => [p.mean, p.sd, p.min, p.max]), 'statistics');
    const ns = json('swap-random', '--model', resnet.path, '--k', '0-3', '--samples', '2',
                    '--seed', '9', '--limit', '60');
    const os = await resnet.model.swapRandom(data, { ks: [0, 1, 2, 3], samples: 2, seed: 9, limit: 60 });
    assertClose(os.points.map((p) => p.errors), ns.points.map((p) => p.errors), 'errors');
    assertClose(os.points.map((p) => p.tau), ns.points.map((p) => p.tau), 'tau');
    assertClose(os.points.map((p) => p.taus), ns.points.map((p) => p.taus), 'taus');
    // a draw depends only on (seed, k, sample): one k alone draws the same
    const single = await resnet.model.deleteRandom(data, { ks: [4], samples: 3, seed: 5, limit: 60 });
    assert.deepEqual(single.points[0].errors, od.points[2].errors);
  });

  test('pathStats gives the numbers of `unravel paths`', async () => {
    const native = json('paths', '--model', resnet.path, '--samples', '3', '--batch', '8', '--seed', '2');
    const ours = await resnet.model.pathStats(data, { samples: 3, batch: 8, seed: 2 });
    assert.equal(ours.n, native.num_blocks);
    for (let k = 0; k <= ours.n; k++) {
      assert.ok(Math.abs(ours.distribution[k] - native.distribution[k]) <= 1e-12 * native.distribution[k]);
      // SIMD128 and AVX2 sum in different orders: agree to float precision
      const rel = Math.abs(ours.gradMean[k] - native.grad_mean[k]) / native.grad_mean[k];
      assert.ok(rel < 1e-4, `k = ${k}: ${ours.gradMean[k]} vs ${native.grad_mean[k]}`);
    }
    assert.equal(ours.window.a, native.window.a);
    assert.equal(ours.window.b, native.window.b);
    assertClose([ours.window.share], [native.window.share_of_paths], 'share');
    // split across two "workers" by firstSample and merged: the same numbers
    const a = await resnet.model.pathStats(data, { samples: 2, batch: 8, seed: 2 });
    const b = await resnet.model.pathStats(data, { samples: 1, batch: 8, seed: 2, firstSample: 2 });
    const merged = resnet.model.pathSummary(a.norms.map((row, k) => row.concat(b.norms[k])), { q: 0.9, seed: 2 });
    assert.deepEqual(merged.gradMean, ours.gradMean);
    assert.deepEqual(merged.window, ours.window);
    // --limit: batches from the first N images only
    const nl = json('paths', '--model', resnet.path, '--samples', '2', '--batch', '8', '--seed', '4', '--limit', '30');
    const ol = await resnet.model.pathStats(data, { samples: 2, batch: 8, seed: 4, limit: 30 });
    ol.gradMean.forEach((g, k) => assert.ok(Math.abs(g - nl.grad_mean[k]) / nl.grad_mean[k] < 1e-4));
  });

  test('results carry their counts, and those of image ranges merge into one call\'s exactly', async () => {
    const ranges = [[0, 30], [30, 50], [80, 40]];   // images start, count
    const slices = ranges.map(([s, c]) => u.loadCifar(syntheticCifar(IMAGES, 3).subarray(s * 3073, (s + c) * 3073)));
    for (const { model } of [resnet, plain]) {
      const one = await model.lesionSingle(data, { batch: 50 });
      assert.equal(one.full.correct, Math.round((1 - one.full.error) * one.n));
      for (const b of one.blocks)
        if (b.deletable) assert.equal(b.error, 1 - b.correct / one.n);
        else assert.equal(b.correct, undefined);
      assert.equal(one.forwardEquivalents, one.blocksRun / one.batches / model.numBlocks);
      const parts = [];
      for (const d of slices) parts.push(await model.lesionSingle(d, { batch: 50 }));
      const merged = u.mergeLesion(parts);
      const drop = ({ forwardEquivalents, blocksRun, batches, ...r }) => r;   // the cost counts other batches
      assert.deepEqual(drop(merged), drop(one));
      assert.equal(merged.batches, 3);
    }
    for (const fn of ['deleteRandom', 'swapRandom']) {
      const o = { ks: [0, 1, 3], samples: 3, seed: 7 };
      const one = await resnet.model[fn](data, o);
      one.points.forEach((p) => assert.deepEqual(p.errors, p.correct.map((c) => 1 - c / one.n)));
      const parts = [];
      for (const d of slices) parts.push(await resnet.model[fn](d, o));
      assert.deepEqual(u.mergeCurves(parts), one);
    }
    // the numbers come from the C core: its summaries, intervals and tau
    const lesion = json('lesion', '--model', resnet.path, '--batch', '50');
    const b = lesion.blocks.find((x) => x.turned_wrong + x.turned_right > 1);
    assertClose([u.pairedCi95(IMAGES, b.turned_wrong, b.turned_right)], [b.ci95], 'ci95');
    assert.deepEqual(u.summarize([3, 1, 2]), { mean: 2, sd: 1, min: 1, max: 3 });
    assert.deepEqual(u.summarize([]), { mean: 0, sd: 0, min: 0, max: 0 });
    const draw = resnet.model.drawPlan('swap', 3, 9, 1);
    assert.equal(u.kendallTau(draw.order), draw.tau);
    const c = u.pairedChange([0, 1, 2, 3], [0, 2, 1, 1], [0, 1, 1, 1]);
    assert.deepEqual([c.turnedWrong, c.turnedRight, c.wrongImages, c.rightImages, c.change],
                     [1, 2, [1], [2, 3], -0.25]);
    assert.equal(c.ci95, u.pairedCi95(4, 1, 2));
    for (const d of slices) d.dispose();
  });

  test('options left out take the CLI\'s defaults (one registry, c/experiments.c)', async () => {
    // delete-random: 10 draws per k, seed 1
    const nd = json('delete-random', '--model', resnet.path, '--k', '0,2', '--limit', '20');
    const od = await resnet.model.deleteRandom(data, { ks: [0, 2], limit: 20 });
    assert.deepEqual(od.points.map((p) => p.errors.length), [10, 10]);
    assertClose(od.points.map((p) => p.errors), nd.points.map((p) => p.errors), 'errors');
    // paths: seed 1, batch 32, q 0.9, 1000 resamples; 100 samples (its progress total, cancelled at once)
    const np = json('paths', '--model', resnet.path, '--samples', '2');
    const op = await resnet.model.pathStats(data, { samples: 2 });
    assert.equal(op.batch, 32);
    assert.deepEqual([op.window.a, op.window.b, op.window.q], [np.window.a, np.window.b, 0.9]);
    assert.equal(op.window.bootstrap.resamples, np.window.bootstrap.resamples);
    let total = 0;
    await assert.rejects(resnet.model.pathStats(data, { onProgress: (d, t) => { total = t; return true; } }), /cancelled/);
    assert.equal(total, 100);
  });

  test('progress is reported and cancellation stops an experiment', async () => {
    const seen = [];
    await resnet.model.lesionSingle(data, { batch: 40, onProgress: (d, t) => { seen.push([d, t]); } });
    assert.deepEqual(seen, [[40, IMAGES], [80, IMAGES], [120, IMAGES]]);
    // 10 ks x 30 draws = 300 plans: a group of 256 (20 images in steps of
    // 4: 1024 plan-images each), then one of 44 (all 20 images in one step)
    const steps = [];
    await resnet.model.deleteRandom(data, { samples: 30, limit: 20, onProgress: (d, t) => { steps.push([d, t]); } });
    assert.deepEqual(steps, [...[4, 8, 12, 16, 20].map((i) => [256 * i, 6000]), [6000, 6000]]);
    const ctl = new AbortController();
    let after = 0;
    const run = resnet.model.deleteRandom(data, {
      samples: 50, limit: 20, signal: ctl.signal, onProgress: () => { after++; ctl.abort(); },
    });
    await assert.rejects(run, /cancelled/);
    assert.equal(after, 1);   // stopped after its first step
    await assert.rejects(resnet.model.pathStats(data, { samples: 5, batch: 4, onProgress: () => true }),
                         /cancelled/);
    // and the module keeps working
    const again = await resnet.model.lesionSingle(data, { limit: 40 });
    assert.equal(again.n, 40);
  });

  test('bad requests are refused with a clear message', async () => {
    await assert.rejects(resnet.model.deleteRandom(data, { ks: [10] }), /k = 10 is outside 0\.\.9/);
    await assert.rejects(resnet.model.swapRandom(data, { ks: [-1] }), /outside/);
    await assert.rejects(resnet.model.deleteRandom(data, { seed: -3 }), /seed/);
    await assert.rejects(resnet.model.deleteRandom(data, { limit: -1 }), /deleteRandom: limit: -1 is outside 0\.\.1000000/);
    await assert.rejects(resnet.model.swapRandom(data, { samples: 0 }), /swapRandom: samples: 0 is outside/);
    await assert.rejects(resnet.model.deleteRandom(data, { batch: 0 }), /batch/);
    await assert.rejects(resnet.model.deleteRandom(data, { ks: [1, 2], samples: 600000 }),
                         /deleteRandom: 2 ks x 600000 samples = 1200000 draws is over the limit of 1000000/);
    await assert.rejects(resnet.model.pathStats(data, { q: 2 }), /q/);
    await assert.rejects(resnet.model.pathStats(data, { batch: IMAGES + 1 }), /larger than/);
    await assert.rejects(plain.model.pathStats(data, { samples: 1, batch: 4 }), /single path/);
    await assert.rejects(resnet.model.lesionSingle(data, { deleted: [42] }), /out of range/);
    const ok = await resnet.model.lesionSingle(data, { limit: 10 });
    assert.equal(ok.n, 10);
  });
});
