// experiments.mjs: the experiments of PAPER.md over a model's Core
// (model.mjs): single-block lesions, the random deletion and swap curves,
// and path statistics. Each runs one C step at a time (a batch, a group of
// draws on a slice of images, a sample) and yields to the event loop in
// between, so progress is reported, a worker stays responsive, and
// cancellation (options.signal, or onProgress returning true) takes effect
// between steps. Random draws depend only on (seed, k, sample), exactly as
// in the CLI, and an option left out takes the CLI's default (the C
// registry's, it.defaults).
import { UnravelError, argError } from './memory.mjs';
import { curveResult, lesionResult, summarize } from './stats.mjs';

// Path statistics, whose batch is part of the experiment, refuse a batch
// whose activations need more than this.
const PATHS_BUDGET = 1024 * 2 ** 20;
// deleteRandom / swapRandom: plans that share one unmodified forward pass
// (the C side's limit), and the plan x image passes of one step.
const RANDOM_GROUP = 256;
const STEP_PLAN_IMAGES = 1024;
const MAX_RANDOM_DRAWS = 1e6;   // UNR_MAX_RANDOM_DRAWS: ks x samples, as in C

/**
 * Progress and cancellation between the steps of an experiment.
 * @typedef {object} ExperimentOptions
 * @property {(done: number, total: number) => boolean|void} [onProgress] return true to cancel
 * @property {AbortSignal} [signal]
 */
class Stepper {
  #onProgress;
  #signal;
  constructor({ onProgress, signal } = {}) {
    if (onProgress != null && typeof onProgress !== 'function')
      throw argError('onProgress: expected a function');
    this.#onProgress = onProgress;
    this.#signal = signal;
    this.#check();
  }

  #check() {
    if (this.#signal?.aborted)
      throw new UnravelError('cancelled', 'cancelled');
  }

  async step(done, total) {
    if (this.#onProgress?.(done, total) === true)
      throw new UnravelError('cancelled', 'cancelled');
    // Let messages (a cancel, say) through between steps.
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.#check();
  }
}

/** An experiment's parameter within the C registry's range (c/experiments.c), as the CLI checks it. */
function checkParam(it, fn, name, value) {
  const p = it.params[name];
  if (!(p.real ? Number.isFinite(value) : Number.isInteger(value)))
    throw argError(`${fn}: ${name}: ${value} is not ${p.real ? 'a number' : 'a whole number'}`);
  if (value < p.min || value > p.max)
    throw argError(`${fn}: ${name}: ${value} is outside ${p.min}..${p.max}`);
}

// ---- single-block lesions (claim 2) ----

/**
 * model.lesionSingle: test error with each block deleted alone, on top of
 * an optional base plan.
 * @param {import('./model.mjs').Core} core
 * @returns {Promise<LesionResult>}
 */
export async function lesionSingle(core, data, options = {}) {
  const it = core.it, x = it.x, nb = core.numBlocks, d = it.defaults.lesionSingle;
  const { limit = d.limit } = options;
  const batch = core.memoryBatch(core.checkBatch(options.batch ?? d.batch), true);
  const dataPtr = core.dataPtr(data);
  const total = limit > 0 && limit < data.n ? limit : data.n;
  const sums = new Float64Array(nb + 1);
  const flipSums = new Float64Array(2 * nb);
  const stepper = new Stepper(options);
  return it.withAllocations([4 * (nb + 1), 4 * 2 * nb, 8], async (correct, flips, run) => {
    new DataView(it.u8().buffer).setFloat64(run, 0, true);
    for (let at = 0; at < total; at += batch) {
      const n = Math.min(batch, total - at);
      const runner = core.runner(batch);
      const plan = core.writePlan(options);
      it.check(it.call(() => x.unr_wasm_lesion_batch(runner, plan, dataPtr, at, n,
                                                     correct, flips, run, it.err)));
      const c = it.i32(correct, nb + 1);
      for (let b = 0; b <= nb; b++)
        sums[b] += c[b];
      const f = it.i32(flips, 2 * nb);
      for (let i = 0; i < 2 * nb; i++)
        flipSums[i] += f[i];
      await stepper.step(at + n, total);
    }
    const blocksRun = new DataView(it.u8().buffer).getFloat64(run, true);
    const c = it.i32(correct, nb + 1);   // the last batch's: -1 where a block cannot be deleted
    return lesionResult(it, core.info.blocks, {
      n: total, correct: Array.from(sums, (v, b) => (c[b] < 0 ? -1 : v)), flips: Array.from(flipSums),
      blocksRun, batches: Math.ceil(total / batch),
    });
  });
}

// ---- random deletions and swaps (claim 3) ----

/**
 * model.deleteRandom (kind 0) and model.swapRandom (kind 1).
 * @param {import('./model.mjs').Core} core
 * @returns {Promise<{points: CurvePoint[], n: number}>}
 */
export async function randomCurve(core, kind, data, options) {
  const name = kind ? 'swapRandom' : 'deleteRandom';
  const it = core.it, x = it.x, d = it.defaults[name];
  const { samples = d.samples, seed = d.seed, limit = d.limit } = options;
  const most = kind ? core.maxSwaps() : core.maxDeletions();
  const ks = options.ks ?? Array.from({ length: most + 1 }, (_, k) => k);
  checkParam(it, name, 'seed', seed);
  checkParam(it, name, 'samples', samples);
  checkParam(it, name, 'limit', limit);
  for (const k of ks)
    if (!Number.isInteger(k) || k < 0 || k > most)
      throw argError(`${name}: k = ${k} is outside 0..${most}`);
  if (ks.length * samples > MAX_RANDOM_DRAWS)
    throw argError(`${name}: ${ks.length} ks x ${samples} samples = ${ks.length * samples} draws is over ` +
                   `the limit of ${MAX_RANDOM_DRAWS}`);
  const dataPtr = core.dataPtr(data);
  const batch = core.memoryBatch(core.checkBatch(options.batch ?? d.batch), true);
  const total = limit > 0 && limit < data.n ? limit : data.n;
  // Plans in groups that share each step's unmodified forward pass (as
  // the CLI's unr_random_curve does); a step is a slice of images small
  // enough that the whole group on it stays near STEP_PLAN_IMAGES image
  // passes, so progress and cancellation stay prompt.
  const nplans = ks.length * samples;
  const right = new Float64Array(nplans), taus = new Float64Array(nplans);
  const group = Math.min(nplans, RANDOM_GROUP);
  const stepper = new Stepper(options);
  await it.withAllocations([4 * group, 4 * group, 4 * group, 8 * group], async (kPtr, sPtr, correct, tauPtr) => {
    for (let p0 = 0; p0 < nplans; p0 += group) {
      const g = Math.min(group, nplans - p0);
      const kv = it.i32(kPtr, g), sv = it.i32(sPtr, g);
      for (let j = 0; j < g; j++) {
        kv[j] = ks[Math.floor((p0 + j) / samples)];
        sv[j] = (p0 + j) % samples;
      }
      const step = Math.max(1, Math.min(batch, Math.floor(STEP_PLAN_IMAGES / g)));
      for (let at = 0; at < total; at += step) {
        const n = Math.min(step, total - at);
        const runner = core.runner(batch);
        it.check(it.call(() => x.unr_wasm_random_batch(runner, kind, dataPtr, at, n, kPtr, sPtr, g,
                                                       seed, correct, tauPtr, it.err)));
        const c = it.i32(correct, g);
        for (let j = 0; j < g; j++)
          right[p0 + j] += c[j];
        taus.set(it.f64(tauPtr, g), p0);
        await stepper.step(p0 * total + g * (at + n), nplans * total);
      }
    }
  });
  return curveResult(it, { ks, samples, n: total, right, taus: kind ? taus : null });
}

// ---- path statistics (claims 4-6) ----

/**
 * model.pathStats: sample s draws a batch of images by (seed, s), runs the
 * network forward once, then for each k = 0..n back-propagates through the
 * residual branches of k random blocks and the shortcuts of the rest.
 * @param {import('./model.mjs').Core} core
 * @returns {Promise<PathStats>}
 */
export async function pathStats(core, data, options = {}) {
  const it = core.it, x = it.x, n = core.numBlocks, d = it.defaults.pathStats;
  const { samples = d.samples, seed = d.seed, batch = d.batch, q = d.q, limit = d.limit, firstSample = 0,
          bootstrap = d.bootstrap } = options;
  const dataPtr = core.dataPtr(data);
  checkParam(it, 'pathStats', 'seed', seed);
  checkParam(it, 'pathStats', 'samples', samples);
  checkParam(it, 'pathStats', 'q', q);
  checkParam(it, 'pathStats', 'limit', limit);
  if (!Number.isInteger(firstSample) || firstSample < 0)
    throw argError(`pathStats: firstSample: ${firstSample} is not a whole number >= 0`);
  core.checkBatch(batch);
  const need = batch * core.bytesPerImage(true);
  if (need > PATHS_BUDGET)
    throw argError(`pathStats: batch: ${batch} images need ${Math.round(need / 2 ** 20)} MB of activations ` +
                   `for this model, over the ${PATHS_BUDGET / 2 ** 20} MB limit; use a batch of at most ` +
                   `${Math.floor(PATHS_BUDGET / core.bytesPerImage(true))}`);
  const norms = Array.from({ length: n + 1 }, () => []);
  const stepper = new Stepper(options);
  await it.withAllocations([8 * (n + 1)], async (out) => {
    for (let s = firstSample; s < firstSample + samples; s++) {
      const runner = core.runner(batch);
      it.check(it.call(() => x.unr_wasm_paths_sample(runner, dataPtr, limit, batch, seed, s, out,
                                                     it.err)));
      const v = it.f64(out, n + 1);
      for (let k = 0; k <= n; k++)
        norms[k].push(v[k]);
      await stepper.step(s + 1 - firstSample, samples);
    }
  });
  return pathSummary(core, norms, { q, seed, batch, bootstrap });
}

/**
 * model.pathSummary: the numbers pathStats returns, from norms[k][sample].
 * @param {import('./model.mjs').Core} core
 * @returns {PathStats}
 */
export function pathSummary(core, norms, options = {}) {
  const it = core.it, x = it.x, n = core.numBlocks, d = it.defaults.pathStats;
  const { q = d.q, seed, batch, bootstrap = d.bootstrap } = options;
  if (!Array.isArray(norms) || norms.length !== n + 1)
    throw argError(`pathSummary: norms must have ${n + 1} rows (path lengths 0..${n})`);
  const samples = norms[0].length;
  if (!norms.every((row) => Array.isArray(row) && row.length === samples))
    throw argError(`pathSummary: every row of norms must have ${samples} samples`);
  checkParam(it, 'pathSummary', 'bootstrap', bootstrap);
  checkParam(it, 'pathSummary', 'q', q);
  if (seed !== undefined)
    checkParam(it, 'pathSummary', 'seed', seed);
  const stats = norms.map((row) => summarize(it, row));
  const gradMean = stats.map((t) => t.mean);
  return it.withAllocations([8 * (n + 1), 8 * (n + 1), 8 * (n + 1), 8 * 5], (dist, g, share, win) => {
    it.f64(g, n + 1).set(gradMean);
    x.unr_wasm_path_distribution(n, dist);
    it.check(it.call(() => x.unr_wasm_effective_window(n, g, q, win, share, it.err)));
    const f64 = (ptr, len) => Array.from(it.f64(ptr, len));
    const [a, b, qq, mass, shareOfPaths] = f64(win, 5);
    const window = { a, b, q: qq, mass, share: shareOfPaths };
    if (bootstrap > 0 && samples > 0)
      window.bootstrap = windowBootstrap(it, norms, q, bootstrap, seed ?? d.seed);
    return {
      n, samples, batch, seed, norms,
      distribution: f64(dist, n + 1),
      gradMean,
      gradSd: stats.map((t) => t.sd),
      total: f64(share, n + 1),
      window,
    };
  });
}

function windowBootstrap(it, norms, q, resamples, seed) {
  const x = it.x, n = norms.length - 1, samples = norms[0].length;
  return it.withAllocations([8 * (n + 1) * samples, 8 * 8], (flat, out) => {
    const f = it.f64(flat, (n + 1) * samples);
    norms.forEach((row, k) => f.set(row, k * samples));
    it.check(it.call(() => x.unr_wasm_window_bootstrap(n, flat, samples, q, resamples, seed, out, it.err)));
    const [r, aLo, aHi, bLo, bHi, sLo, sHi, same] = it.f64(out, 8);
    return { resamples: r, level: 0.95, a: [aLo, aHi], b: [bLo, bHi], share: [sLo, sHi], same };
  });
}

/**
 * @typedef {object} LesionResult
 * @property {number} n images
 * @property {{error: number, correct: number}} full the base plan
 * @property {{block: number, stage: number, downsample: boolean, deletable: boolean,
 *             error: number|null, turnedWrong?: number, turnedRight?: number, ci95?: number,
 *             correct?: number}[]} blocks error with each block deleted alone (and, for a
 *             deletable block, the answers it turned wrong and right, the paired interval, the
 *             right answers)
 * @property {number} forwardEquivalents cost in full forward passes: blocksRun / batches / blocks
 * @property {number} blocksRun block evaluations
 * @property {number} batches C batches
 *
 * @typedef {object} CurvePoint
 * @property {number} k
 * @property {number} mean
 * @property {number} sd
 * @property {number} min
 * @property {number} max
 * @property {number} [tau] mean Kendall's tau (swaps)
 * @property {number[]} [taus] Kendall's tau of each draw (swaps)
 * @property {number[]} errors one per sample
 * @property {number[]} correct right answers of each sample (errors = 1 - correct / n)
 *
 * @typedef {object} PathStats
 * @property {number} n blocks
 * @property {number[]} distribution C(n,k)/2^n
 * @property {number[]} gradMean mean gradient norm per path length
 * @property {number[]} gradSd
 * @property {number[]} total share of the total gradient per length
 * @property {{a: number, b: number, q: number, mass: number, share: number,
 *             bootstrap?: WindowSpread}} window
 * @property {number[][]} norms every measurement, [length][sample]
 */

/**
 * @typedef {Object} WindowSpread how far the window moves with the draws: over
 *   `resamples` bootstrap resamples of the samples, the central 95% of the
 *   windows' first (a) and last (b) lengths and of their share of all paths,
 *   and the fraction whose window is the one above (same)
 * @property {number} resamples
 * @property {number} level
 * @property {[number, number]} a
 * @property {[number, number]} b
 * @property {[number, number]} share
 * @property {number} same
 */
