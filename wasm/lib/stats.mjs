// stats.mjs: the numbers the binding reports, computed by the C core
// through one instance (no second implementation in JS): summaries of
// draws (unr_summarize), the paired 95% interval of a change of error
// (unr_paired_ci95), Kendall's tau of an order (unr_plan_kendall_tau), and
// the results of the experiments built from their counts, once, whether
// they come from one call or are merged from the calls of several workers
// on disjoint image ranges (mergeLesion, mergeCurves: the counts are
// summed, then everything else is computed from them).

/**
 * mean, sd (n-1), min, max of values (unr_summarize).
 * @param {import('./memory.mjs').Internals} it
 * @param {ArrayLike<number>} values
 * @returns {{mean: number, sd: number, min: number, max: number}}
 */
export function summarize(it, values) {
  const v = Float64Array.from(values);
  return it.withAllocations([8 * v.length, 8 * 4], (at, out) => {
    it.f64(at, v.length).set(v);
    it.x.unr_wasm_summarize(at, v.length, out);
    const [mean, sd, min, max] = it.f64(out, 4);
    return { mean, sd, min, max };
  });
}

/**
 * Half-width of the 95% interval of a change of error paired image by
 * image: n images, answers turned wrong and right (unr_paired_ci95).
 */
export function pairedCi95(it, n, turnedWrong, turnedRight) {
  return it.x.unr_wasm_paired_ci95(n, turnedWrong, turnedRight);
}

/** Kendall's tau between the network order and order (block id at each position). */
export function kendallTau(it, order) {
  const o = Int32Array.from(order);
  return it.withAllocations([4 * o.length], (at) => {
    it.i32(at, o.length).set(o);
    return it.x.unr_wasm_kendall_tau(at, o.length);
  });
}

/**
 * The change of error from one plan to another on the same images, paired
 * image by image (as unr_paired_compare): the images whose answer it
 * turned wrong and right, their counts, change = (turnedWrong -
 * turnedRight) / n and ci95, the half-width of its 95% interval.
 * @param {ArrayLike<number>} base predicted classes under the base plan
 * @param {ArrayLike<number>} plan predicted classes under the plan, same images
 * @param {ArrayLike<number>} labels true classes (at least as many)
 */
export function pairedChange(it, base, plan, labels) {
  const n = base.length;
  if (plan.length !== n || labels.length < n)
    throw new RangeError(`pairedChange: ${n} base, ${plan.length} plan predictions and ${labels.length} labels`);
  const wrongImages = [], rightImages = [];
  for (let i = 0; i < n; i++) {
    const was = base[i] === labels[i], is = plan[i] === labels[i];
    if (was && !is) wrongImages.push(i);
    else if (!was && is) rightImages.push(i);
  }
  const wrong = wrongImages.length, right = rightImages.length;
  return { n, turnedWrong: wrong, turnedRight: right, wrongImages, rightImages,
           change: n ? (wrong - right) / n : 0, ci95: pairedCi95(it, n, wrong, right) };
}

// ---- experiment results from their counts ----

/**
 * A LesionResult from counts on n images: correct[b] right answers with
 * block b deleted (-1: it cannot be), correct[nb] the base plan's;
 * flips[2b], flips[2b + 1] the answers deleting b turned wrong and right;
 * blocksRun block evaluations over `batches` C batches.
 * @param {import('./model.mjs').BlockInfo[]} blocks
 */
export function lesionResult(it, blocks, { n, correct, flips, blocksRun, batches }) {
  const nb = blocks.length;
  return {
    n,
    full: { error: 1 - correct[nb] / n, correct: correct[nb] },
    blocks: blocks.map((bi, b) => {
      const deletable = correct[b] >= 0;
      const block = { block: b, stage: bi.stage, downsample: bi.downsample, deletable,
                      error: deletable ? 1 - correct[b] / n : null };
      if (!deletable)
        return block;
      const wrong = flips[2 * b], right = flips[2 * b + 1];
      return { ...block, turnedWrong: wrong, turnedRight: right, ci95: pairedCi95(it, n, wrong, right),
               correct: correct[b] };
    }),
    forwardEquivalents: blocksRun / batches / nb,
    blocksRun,
    batches,
  };
}

/**
 * lesionSingle results of disjoint image ranges, as one call on them all
 * would give it: counts summed, errors and intervals from the sums.
 * @param {LesionPart[]} parts
 */
export function mergeLesion(it, parts) {
  if (!Array.isArray(parts) || !parts.length)
    throw new RangeError('mergeLesion: expected lesionSingle results of one or more image ranges');
  const sum = (f) => parts.reduce((s, p) => s + f(p), 0);
  const blocks = parts[0].blocks;
  const correct = blocks.map((b, i) => (b.deletable ? sum((p) => p.blocks[i].correct) : -1));
  correct.push(sum((p) => p.full.correct));
  const flips = blocks.flatMap((b, i) => (b.deletable
    ? [sum((p) => p.blocks[i].turnedWrong), sum((p) => p.blocks[i].turnedRight)] : [0, 0]));
  return lesionResult(it, blocks, { n: sum((p) => p.n), correct, flips, blocksRun: sum((p) => p.blocksRun),
                                    batches: sum((p) => p.batches) });
}

/**
 * The points of a random curve from counts on n images: right[i * samples
 * + s] right answers of draw s of ks[i]; taus (swaps) the draws' Kendall's
 * tau, in the same order, or null (deletions).
 */
export function curveResult(it, { ks, samples, n, right, taus }) {
  return {
    points: ks.map((k, i) => {
      const at = i * samples;
      const correct = Array.from(right.slice(at, at + samples));
      const errors = correct.map((r) => (n ? 1 - r / n : 0));
      const point = { k, ...summarize(it, errors), errors, correct };
      if (taus) {
        point.taus = Array.from(taus.slice(at, at + samples));
        point.tau = summarize(it, point.taus).mean;
      }
      return point;
    }),
    n,
  };
}

/**
 * deleteRandom / swapRandom results of disjoint image ranges (every draw
 * run on each), as one call on them all would give it.
 * @param {{n: number, points: {k: number, correct: number[], taus?: number[]}[]}[]} parts
 */
export function mergeCurves(it, parts) {
  if (!Array.isArray(parts) || !parts.length)
    throw new RangeError('mergeCurves: expected deleteRandom or swapRandom results of one or more image ranges');
  const first = parts[0].points;
  const samples = first.length ? first[0].correct.length : 0;
  const right = first.flatMap((pt, i) => pt.correct.map((_, s) => parts.reduce((t, p) => t + p.points[i].correct[s], 0)));
  const taus = first.length && first[0].taus ? first.flatMap((pt) => pt.taus) : null;
  return curveResult(it, { ks: first.map((pt) => pt.k), samples, n: parts.reduce((t, p) => t + p.n, 0), right, taus });
}

/**
 * @typedef {{n: number, full: {correct: number}, blocks: {deletable: boolean, correct?: number,
 *            turnedWrong?: number, turnedRight?: number}[], blocksRun: number, batches: number}} LesionPart
 */
