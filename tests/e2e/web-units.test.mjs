// web-units.test.mjs: the page's DOM-free modules under plain node:test:
// URL state, path-length math, and the experiment layer over a fake pool
// (real-API path split by k, dev-fallback path, pathStats without fallback).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseState, serializeState, checkPlan } from '../../web/url-state.mjs';
import { pathShare, pathLengthDistribution, kendallTau, randomSwaps, shortestWindow } from '../../web/math.mjs';
import * as ex from '../../web/experiments.mjs';

const blocks = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((id) => ({
  id, stage: 1 + Math.floor(id / 3), downsample: id === 3 || id === 6,
  deletable: true, swappable: !(id === 3 || id === 6),
}));

test('URL state: defaults, bad values reported and replaced, unknown keys ignored', () => {
  const { state, problems } = parseState('?model=resnet56&deleted=1,x&images=123&samples=0&seed=7&view=swap&zzz=1');
  assert.equal(state.model, 'resnet56');
  assert.deepEqual(state.deleted, []);
  assert.equal(state.images, 500);
  assert.equal(state.samples, 10);
  assert.equal(state.seed, 7);
  assert.equal(state.view, 'swap');
  assert.equal(problems.length, 3);
  assert.ok(problems.every((p) => /using the default/.test(p)));
  assert.equal(parseState('?model=../../etc').problems.length, 1);
  assert.equal(serializeState({ ...parseState('').state, deleted: [2, 5], seed: 3 }), 'deleted=2,5&seed=3');
});

test('URL state: plans are checked against the model', () => {
  assert.match(checkPlan(blocks, [99], null).problems[0], /out of range/);
  assert.match(checkPlan(blocks, [], [1, 0, 2]).problems[0], /9 blocks/);
  assert.match(checkPlan(blocks, [], [0, 1, 2, 4, 3, 5, 6, 7, 8]).problems[0], /cannot move/);
  assert.match(checkPlan(blocks, [], [0, 0, 2, 3, 4, 5, 6, 7, 8]).problems[0], /permutation/);
  const ok = checkPlan(blocks, [4, 1], [2, 1, 0, 3, 5, 4, 6, 8, 7]);
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.deleted, [1, 4]);
  const plain = blocks.map((b) => ({ ...b, deletable: !b.downsample }));
  assert.match(checkPlan(plain, [3], null).problems[0], /plain network/);
});

test('path lengths: exact binomial in log space, the paper\'s 0.45%', () => {
  assert.ok(Math.abs(pathShare(54, 5, 17) - 0.004537) < 1e-6);
  const d = pathLengthDistribution(500);
  assert.ok(Math.abs(d.reduce((s, x) => s + x.p, 0) - 1) < 1e-9);
  assert.deepEqual(pathLengthDistribution(3).map((x) => Math.round(x.paths)), [1, 3, 3, 1]);
  assert.deepEqual(shortestWindow([0, 1, 8, 1, 0], 0.8), { a: 2, b: 2, fraction: 0.8 });
});

test('swaps stay within a stage and off downsampling blocks; tau falls', () => {
  const id = blocks.map((b) => b.id);
  const o = randomSwaps(blocks, id, 3, 42);
  assert.deepEqual([...o].sort((a, b) => a - b), id);
  assert.equal(o[3], 3);
  assert.equal(o[6], 6);
  o.forEach((b, p) => assert.equal(blocks[b].stage, blocks[p].stage));
  assert.ok(kendallTau(o) < 1);
  assert.deepEqual(randomSwaps(blocks, id, 3, 42), o);   // seeded
});

function fakePool(handler, size = 3) {
  const calls = [];
  return { size, calls, run: async (msg, { onProgress } = {}) => { calls.push(msg); onProgress?.(1, 1); return handler(msg); } };
}

test('the real API path deals ks round-robin to workers and merges points by k', async () => {
  const pool = fakePool((m) => ({ points: m.opts.ks.map((k) => ({ k, mean: k / 10, sd: 0, min: k / 10, max: k / 10, errors: [k / 10] })) }));
  const caps = { deleteRandom: true, swapRandom: true, lesionSingle: true, pathStats: true };
  const partial = [];
  const r = await ex.deleteRandom(pool, 'primary', { blocks }, caps, 500, { samples: 4, seed: 9 },
                                  { onPartial: (p) => partial.push(p.points.length) });
  assert.deepEqual(r.points.map((p) => p.k), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(pool.calls.length, 3);
  assert.ok(pool.calls.every((c) => c.type === 'expt' && c.fn === 'deleteRandom' && c.opts.seed === 9 && c.opts.samples === 4 && c.opts.limit === 500));
  assert.deepEqual(pool.calls.flatMap((c) => c.opts.ks).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(partial, [4, 7, 10]);
});

test('the dev fallback evaluates seeded plans and summarises them per k', async () => {
  const pool = fakePool((m) => ({ errors: m.plans.map((p) => 0.1 + 0.05 * (p.deleted?.length ?? 0)) }));
  const caps = { deleteRandom: false, swapRandom: false, lesionSingle: false, pathStats: false };
  const r = await ex.deleteRandom(pool, 'primary', { blocks }, caps, 500, { samples: 3, seed: 1, ks: [0, 2, 9] });
  assert.equal(r.fallback, true);
  assert.deepEqual(r.points.map((p) => [p.k, p.errors.length, +p.mean.toFixed(3), +p.sd.toFixed(9)]), [[0, 3, 0.1, 0], [2, 3, 0.2, 0], [9, 3, 0.55, 0]]);
  const l = await ex.lesionSingle(pool, 'primary', { blocks }, caps, 500);
  assert.equal(l.full.error, 0.1);
  assert.ok(l.blocks.every((b) => Math.abs(b.error - 0.15) < 1e-12));
  const s = await ex.swapRandom(pool, 'primary', { blocks }, caps, 500, { samples: 2, seed: 1, ks: [0, 3] });
  assert.equal(s.points[0].tau, 1);
  assert.ok(s.points[1].tau < 1);
  await assert.rejects(ex.pathStats(pool, 'primary', caps, 500, { samples: 2, seed: 1 }), /pathStats is not in this build/);
});
