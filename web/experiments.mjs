// experiments.mjs: the page's experiments over the worker pool, in the shapes
// of the JS API contract (model.lesionSingle, deleteRandom, swapRandom,
// pathStats). Where this build of unravel.mjs has the function, workers call
// it (deleteRandom and swapRandom are split by k across workers); where it
// does not yet, a DEV FALLBACK evaluates the same plans with model.evaluate.
// pathStats has no fallback: gradient statistics must come from the C core.
import { POOL } from './config.mjs';
import { summary, rng, randomDeletion, randomSwaps, kendallTau, swappablePairs } from './math.mjs';

/** A progress aggregator over several parts: returns part(i) => (done, total). */
function progressOf(parts, onProgress) {
  const done = new Array(parts).fill(0), total = new Array(parts).fill(1);
  return (i) => (d, t) => {
    done[i] = d; total[i] = t || 1;
    onProgress?.(done.reduce((a, b) => a + b, 0) / total.reduce((a, b) => a + b, 0));
  };
}

/**
 * Test error of one plan on the first `count` images, split into chunks
 * across the pool. Resolves { error, correct, n, confusion }.
 */
export async function evaluatePlan(pool, key, plan, count, { onProgress, signal } = {}) {
  const chunks = Math.max(1, Math.min(pool.size * 4, Math.floor(count / POOL.minChunkImages)));
  const size = Math.ceil(count / chunks);
  const part = progressOf(chunks, onProgress);
  const jobs = [];
  for (let c = 0, start = 0; start < count; c++, start += size) {
    const n = Math.min(size, count - start);
    jobs.push(pool.run({ type: 'eval', key, plan, start, count: n },
                       { onProgress: part(c), signal, soft: true }));
  }
  const parts = await Promise.all(jobs);
  const confusion = Array.from({ length: 10 }, () => new Array(10).fill(0));
  let correct = 0, n = 0;
  for (const p of parts) {
    correct += p.correct;
    n += p.n;
    p.confusion.forEach((row, t) => row.forEach((v, q) => { confusion[t][q] += v; }));
  }
  return { error: n ? 1 - correct / n : NaN, correct, n, confusion };
}

/** Predicted class of images start..start+count-1 under a plan. */
export async function predict(pool, key, plan, start, count, { signal } = {}) {
  return (await pool.run({ type: 'predict', key, plan, start, count }, { signal, soft: true })).pred;
}

/** Default ks: 0..max, thinned to at most ~13 values for deep networks. */
export function defaultKs(max) {
  const step = Math.max(1, Math.ceil(max / 12));
  const ks = [];
  for (let k = 0; k <= max; k += step) ks.push(k);
  if (ks[ks.length - 1] !== max) ks.push(max);
  return ks;
}

/**
 * Error when each block alone is deleted (plus the full network).
 * onPartial(result) is called as blocks finish (fallback) or once (real API).
 */
export async function lesionSingle(pool, key, info, caps, count, { onProgress, onPartial, signal } = {}) {
  if (caps.lesionSingle) {
    const r = await pool.run({ type: 'expt', key, fn: 'lesionSingle', count, opts: { limit: count } },
                             { onProgress: (d, t) => onProgress?.(d / (t || 1)), signal });
    onPartial?.(r);
    return r;
  }
  // DEV FALLBACK: one evaluate() per plan, spread over the pool.
  const result = {
    n: info.blocks.length, full: null, fallback: true,
    blocks: info.blocks.map((b) => ({ block: b.id, stage: b.stage, downsample: b.downsample,
                                      deletable: b.deletable, error: null })),
  };
  const plans = [{ deleted: [] }, ...info.blocks.filter((b) => b.deletable).map((b) => ({ deleted: [b.id] }))];
  const part = progressOf(plans.length, onProgress);
  await Promise.all(plans.map((plan, i) =>
    pool.run({ type: 'plans', key, plans: [plan], count }, { onProgress: part(i), signal })
      .then(({ errors }) => {
        if (!plan.deleted.length) result.full = { error: errors[0] };
        else result.blocks[plan.deleted[0]].error = errors[0];
        onPartial?.(result);
      })));
  return result;
}

/**
 * Error against the number k of randomly deleted blocks.
 * @param {{ks?: number[], samples: number, seed: number}} o
 */
export async function deleteRandom(pool, key, info, caps, count, o, cb = {}) {
  const maxK = info.blocks.filter((b) => b.deletable).length;
  const ks = o.ks ?? defaultKs(maxK);
  if (caps.deleteRandom)
    return await splitByK(pool, key, 'deleteRandom', ks, count, o, cb);
  // DEV FALLBACK: draw plans here (seeded per k), evaluate each in a worker.
  return await fallbackByK(pool, key, ks, count, o, cb, (k, r) => ({
    plan: { deleted: randomDeletion(info.blocks, k, r) } }));
}

/** Error against the number k of random swaps (and Kendall's tau). */
export async function swapRandom(pool, key, info, caps, count, o, cb = {}) {
  const pairs = swappablePairs(info.blocks).length;
  const ks = o.ks ?? defaultKs(Math.min(pairs, info.blocks.length));
  if (caps.swapRandom)
    return await splitByK(pool, key, 'swapRandom', ks, count, o, cb);
  const identity = info.blocks.map((b) => b.id);
  return await fallbackByK(pool, key, ks, count, o, cb, (k, r) => {
    const order = randomSwaps(info.blocks, identity, k, Math.floor(r() * 2 ** 31));
    return { plan: { order }, tau: kendallTau(order) };
  });
}

// The real API, with ks dealt round-robin to the workers; points merged by k.
async function splitByK(pool, key, fn, ks, count, o, { onProgress, onPartial, signal }) {
  const groups = Array.from({ length: Math.min(pool.size, ks.length) }, () => []);
  ks.forEach((k, i) => groups[i % groups.length].push(k));
  const part = progressOf(groups.length, onProgress);
  const points = [];
  await Promise.all(groups.map((g, i) =>
    pool.run({ type: 'expt', key, fn, count,
               opts: { ks: g, samples: o.samples, seed: o.seed, limit: count } },
             { onProgress: part(i), signal })
      .then((r) => {
        points.push(...r.points);
        points.sort((a, b) => a.k - b.k);
        onPartial?.({ points });
      })));
  return { points };
}

async function fallbackByK(pool, key, ks, count, o, { onProgress, onPartial, signal }, draw) {
  const points = ks.map((k) => ({ k, errors: [], taus: [], mean: NaN, sd: NaN, min: NaN, max: NaN }));
  const jobs = [];
  ks.forEach((k, ki) => {
    const r = rng((o.seed * 1000003 + k * 7919) >>> 0);
    for (let s = 0; s < o.samples; s++) jobs.push({ ki, ...draw(k, r) });
  });
  const part = progressOf(jobs.length, onProgress);
  await Promise.all(jobs.map((job, i) =>
    pool.run({ type: 'plans', key, plans: [job.plan], count }, { onProgress: part(i), signal })
      .then(({ errors }) => {
        const p = points[job.ki];
        p.errors.push(errors[0]);
        if (job.tau !== undefined) p.taus.push(job.tau);
        Object.assign(p, summary(p.errors));
        if (p.taus.length) p.tau = summary(p.taus).mean;
        onPartial?.({ points, fallback: true });
      })));
  for (const p of points) delete p.taus;
  return { points, fallback: true };
}

/** Gradient statistics per path length (claims 5 and 6): the C core only. */
export async function pathStats(pool, key, caps, count, o, { onProgress, signal } = {}) {
  if (!caps.pathStats)
    throw Object.assign(new Error('model.pathStats is not in this build of unravel.wasm yet: ' +
                                  'gradient statistics come from the C core, so these two charts ' +
                                  'stay empty until it is.'), { status: 'unsupported' });
  return await pool.run({ type: 'expt', key, fn: 'pathStats', count,
                          opts: { samples: o.samples, seed: o.seed, batch: o.batch, q: o.q } },
                        { onProgress: (d, t) => onProgress?.(d / (t || 1)), signal });
}
