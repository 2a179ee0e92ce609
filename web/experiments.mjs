// experiments.mjs: the page's experiments over the worker pool. Every number
// comes from the JS API of unravel.wasm (model.evaluate, forward,
// lesionSingle, deleteRandom, swapRandom, pathStats), run in workers:
//   - lesionSingle: the images are split into ranges (whole batches), one
//     task per range; their counts are summed (the API's mergeLesion, in the
//     pool's own instance), so the errors are exactly those of one call on
//     all the images (and of `unravel lesion`);
//   - deleteRandom / swapRandom: split by image range like lesionSingle,
//     each task running every draw (a draw depends only on (seed, k,
//     sample)), merged by mergeCurves, so the points equal the CLI's for the
//     same ks;
//   - pathStats: samples split by firstSample across workers, the
//     measurements summarised (window, bootstrap) in one worker.
// Experiment tasks are cooperative: cancelling asks the worker to stop.
import { POOL, LESION_BATCH, LESION_CHUNKS } from './config.mjs';

/**
 * A progress aggregator over parts of the given sizes (images or samples
 * each): returns part(i) => (done, total). Each part counts by its share of
 * the whole, not by its own units (plans x images), so a part that has not
 * started weighs what it will cost and the fraction never falls back.
 */
function progressOf(sizes, onProgress) {
  const frac = sizes.map(() => 0), all = sizes.reduce((a, b) => a + b, 0) || 1;
  return (i) => (d, t) => {
    frac[i] = t ? Math.min(1, d / t) : 1;
    onProgress?.(sizes.reduce((s, w, j) => s + w * frac[j], 0) / all);
  };
}

/**
 * Split `count` images into at most `parts` ranges of whole multiples of
 * `align` images (the last one takes the rest), each at least `min` images.
 * @returns {{start: number, count: number}[]}
 */
export function splitImages(count, parts, align = 1, min = 1) {
  const n = Math.max(1, Math.min(parts, Math.floor(count / Math.max(min, align))));
  const units = Math.ceil(count / align);
  const ranges = [];
  for (let i = 0, u = 0; i < n && u < units; i++) {
    const take = Math.ceil((units - u) / (n - i));
    const start = u * align;
    ranges.push({ start, count: Math.min(count, (u + take) * align) - start });
    u += take;
  }
  return ranges;
}

/**
 * Test error of one plan on the first `count` images, split into chunks
 * across the pool. Resolves { error, correct, n, confusion, seconds, pred }
 * (seconds: worker time summed over chunks; pred: each image's predicted
 * class, Uint8Array).
 */
export async function evaluatePlan(pool, key, plan, count, { onProgress, signal } = {}) {
  const ranges = splitImages(count, pool.size * 4, 1, POOL.minChunkImages);
  const part = progressOf(ranges.map((r) => r.count), onProgress);
  const parts = await Promise.all(ranges.map((r, c) =>
    pool.run({ type: 'eval', key, plan, start: r.start, count: r.count },
             { onProgress: part(c), signal, soft: true })));
  const confusion = Array.from({ length: 10 }, () => new Array(10).fill(0));
  const pred = new Uint8Array(count);
  let correct = 0, n = 0, seconds = 0;
  parts.forEach((p, i) => {
    correct += p.correct;
    n += p.n;
    seconds += p.seconds ?? 0;
    p.confusion.forEach((row, t) => row.forEach((v, q) => { confusion[t][q] += v; }));
    pred.set(p.pred, ranges[i].start);
  });
  return { error: n ? 1 - correct / n : NaN, correct, n, confusion, seconds, pred };
}

/** Predicted class of images start..start+count-1 under a plan. */
export async function predict(pool, key, plan, start, count, { signal } = {}) {
  return (await pool.run({ type: 'predict', key, plan, start, count }, { signal, soft: true })).pred;
}

/**
 * Default ks: dense up to 20 (where the paper plots its curve), at most ~11
 * values there, then the middle and the end of the rest for deep networks.
 */
export function defaultKs(max) {
  const dense = Math.min(max, 20);
  const step = Math.max(1, Math.ceil(dense / 10));
  const ks = [];
  for (let k = 0; k <= dense; k += step) ks.push(k);
  if (ks[ks.length - 1] !== dense) ks.push(dense);
  if (max >= 2 * dense) ks.push(Math.round((dense + max) / 2));
  if (max > dense) ks.push(max);
  return ks;
}

/**
 * Image chunks for a progressive sweep: `workers` small first chunks of
 * `first` images (so every worker returns something within seconds), then
 * chunks of at most `batch` images (one C batch each), as many as a multiple
 * of `workers` and of equal size, so that the workers finish together rather
 * than one idling while another runs the last chunk.
 * @returns {{start: number, count: number}[]} contiguous, in image order
 */
export function progressiveChunks(count, workers, batch, first = LESION_CHUNKS.first) {
  const chunks = [];
  let at = 0;
  for (let w = 0; w < workers && at < count; w++, at += first)
    chunks.push({ start: at, count: Math.min(first, count - at) });
  const rest = count - at;
  if (rest <= 0) return chunks;
  const n = workers * Math.ceil(Math.ceil(rest / batch) / workers);
  const size = Math.ceil(rest / n);
  for (; at < count; at += size)
    chunks.push({ start: at, count: Math.min(size, count - at) });
  return chunks;
}

/**
 * model.lesionSingle on the first `count` images: error with each block
 * deleted alone, plus the full network, and the cost in full forward passes.
 * The images are cut into chunks (progressiveChunks) queued on the pool;
 * each chunk's counts are summed (pool.unravel.mergeLesion), so the result
 * equals one call's on all the images (and `unravel lesion --limit count`). Chunk i runs at pool priority
 * i, so sweeps started together (the landing's three networks) take turns
 * chunk by chunk and every one draws early. After each chunk, onPartial
 * gets the sweep on the longest run of finished chunks from image 0: exactly
 * the lesion on the first `n` images, its intervals narrowing as n grows.
 * @param {{batch?: number, onProgress?: (f: number) => void,
 *          onPartial?: (r: object) => void, signal?: AbortSignal}} [o]
 */
export async function lesionSingle(pool, key, count, { batch = LESION_BATCH, onProgress, onPartial, signal } = {}) {
  const chunks = progressiveChunks(count, pool.size, batch);
  const part = progressOf(chunks.map((c) => c.count), onProgress);
  const results = new Array(chunks.length).fill(null);
  let prefix = 0;   // chunks 0..prefix-1 are done
  const parts = await Promise.all(chunks.map((r, i) =>
    pool.run({ type: 'expt', key, fn: 'lesionSingle', start: r.start, count: r.count, opts: { batch } },
             { onProgress: part(i), signal, cooperative: true, priority: i })
      .then((res) => {
        results[i] = res;
        const before = prefix;
        while (prefix < chunks.length && results[prefix]) prefix++;
        if (prefix > before && prefix < chunks.length && !signal?.aborted)
          onPartial?.(pool.unravel.mergeLesion(results.slice(0, prefix)));
        return res;
      })));
  return pool.unravel.mergeLesion(parts);
}

/**
 * model.deleteRandom (kind 'delete') or model.swapRandom ('swap'): error
 * against the number k of random deletions / swaps. The images are split
 * into ranges, one task each, every task running all the draws on its range
 * (so each batch's unmodified forward pass serves every draw); their
 * counts are summed (pool.unravel.mergeCurves), so the points equal one
 * call's, and the CLI's. After each range, onPartial gets the curve on the
 * images measured so far.
 * @param {{ks: number[], samples: number, seed: number}} o
 * @param {{onProgress?: Function, onPartial?: (r: {points: object[], n: number}) => void, signal?: AbortSignal}} [cb]
 */
export async function randomCurve(pool, key, kind, count, o, { onProgress, onPartial, signal } = {}) {
  const fn = kind === 'swap' ? 'swapRandom' : 'deleteRandom';
  // about one chunk per 100 images (at least two per worker), so the curve redraws often
  const ranges = splitImages(count, Math.max(2 * pool.size, Math.ceil(count / POOL.minChunkImages)), 1, POOL.minChunkImages);
  const part = progressOf(ranges.map((r) => r.count), onProgress);
  const done = [];
  const parts = await Promise.all(ranges.map((r, i) =>
    pool.run({ type: 'expt', key, fn, start: r.start, count: r.count,
               opts: { ks: o.ks, samples: o.samples, seed: o.seed } },
             { onProgress: part(i), signal, cooperative: true, priority: i })
      .then((res) => {
        const p = { n: r.count, points: res.points };
        done.push(p);
        if (done.length < ranges.length)
          onPartial?.(pool.unravel.mergeCurves(done));
        return p;
      })));
  return pool.unravel.mergeCurves(parts);
}

/**
 * model.pathStats on the first `count` images: gradient norm per path length
 * (mean, sd over samples), each length's share of the total gradient, and the
 * effective window. After each range of samples that ends the run of finished
 * ones from sample 0, onPartial gets their norms ({norms: [length][sample],
 * samples}): the gradient per length on the draws so far.
 * @param {{samples: number, seed: number, batch: number, q: number}} o
 * @param {{onProgress?: Function, onPartial?: (r: {norms: number[][], samples: number}) => void, signal?: AbortSignal}} [cb]
 */
export async function pathStats(pool, key, count, o, { onProgress, onPartial, signal } = {}) {
  // Samples are split into contiguous ranges, two per worker (pathStats'
  // firstSample), of equal size so the workers finish together: a draw
  // depends only on (seed, sample), so the merged measurements are exactly
  // those of one call, and of `unravel paths`.
  const ranges = splitImages(o.samples, 2 * pool.size).map((r) => ({ first: r.start, samples: r.count }));
  const part = progressOf(ranges.map((r) => r.samples), onProgress);
  const merge = (parts) => parts[0].norms.map((_, k) => parts.flatMap((p) => p.norms[k]));
  const results = new Array(ranges.length).fill(null);
  let prefix = 0;
  const parts = await Promise.all(ranges.map((r, i) =>
    pool.run({ type: 'expt', key, fn: 'pathStats', count,
               opts: { samples: r.samples, firstSample: r.first, seed: o.seed, batch: o.batch, q: o.q, bootstrap: 0 } },
             { onProgress: part(i), signal, cooperative: true, priority: i })
      .then((res) => {
        results[i] = res;
        const before = prefix;
        while (prefix < ranges.length && results[prefix]) prefix++;
        if (prefix > before && prefix < ranges.length && !signal?.aborted)
          onPartial?.({ norms: merge(results.slice(0, prefix)), samples: ranges[prefix - 1].first + ranges[prefix - 1].samples });
        return res;
      })));
  return await pool.run({ type: 'pathSummary', key, norms: merge(parts), opts: { q: o.q, seed: o.seed, batch: o.batch } });
}

// What a run costs (pathStatsCost and the rest) lives in cost.mjs.
export { pathStatsCost } from './cost.mjs';
