// math.mjs: small pure helpers for the page (no DOM): binomials in log
// space, Kendall's tau, a seeded PRNG for the diagram's Shuffle button,
// summaries of draws as the C core computes them.

/** ln(n!) by summation, cached: n is at most a few hundred here. */
const lnFact = [0];
export function logFactorial(n) {
  for (let i = lnFact.length; i <= n; i++)
    lnFact[i] = lnFact[i - 1] + Math.log(i);
  return lnFact[n];
}

/** ln C(n, k). */
export function logChoose(n, k) {
  if (k < 0 || k > n)
    return -Infinity;
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

/**
 * Path-length distribution of an n-block residual network: P(length = k) =
 * C(n, k) / 2^n, computed in log space so n = 54 (or 500) is exact to double
 * precision. Returns { k, paths, logPaths, p } per length.
 */
export function pathLengthDistribution(n) {
  const out = [];
  for (let k = 0; k <= n; k++) {
    const lc = logChoose(n, k);
    out.push({ k, logPaths: lc, paths: Math.exp(lc), p: Math.exp(lc - n * Math.LN2) });
  }
  return out;
}

/** Share of all 2^n paths whose length lies in [a, b]. */
export function pathShare(n, a, b) {
  let s = 0;
  for (let k = Math.max(0, a); k <= Math.min(n, b); k++)
    s += Math.exp(logChoose(n, k) - n * Math.LN2);
  return s;
}

/**
 * mean, sd (n-1), min, max of v, summed in the order of the C core's
 * unr_summarize, so points merged here equal the CLI's bit for bit. (The
 * API module has the same; the page's main thread does not load it.)
 */
export function summarize(v) {
  let s = 0, lo = Infinity, hi = -Infinity;
  for (const x of v) {
    s += x;
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  const mean = v.length ? s / v.length : 0;
  let ss = 0;
  for (const x of v)
    ss += (x - mean) * (x - mean);
  return { mean, sd: v.length > 1 ? Math.sqrt(ss / (v.length - 1)) : 0,
           min: v.length ? lo : 0, max: v.length ? hi : 0 };
}

/** The median of v (NaN when empty). */
export function median(v) {
  const c = [...v].sort((a, b) => a - b);
  if (!c.length) return NaN;
  const m = c.length >> 1;
  return c.length % 2 ? c[m] : (c[m - 1] + c[m]) / 2;
}

/** Kendall's tau between the identity order and `order` (no ties). */
export function kendallTau(order) {
  const n = order.length;
  if (n < 2)
    return 1;
  let c = 0, d = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++)
      (order[i] < order[j] ? c++ : d++);
  return (c - d) / (n * (n - 1) / 2);
}

/** mulberry32: a tiny seeded PRNG, returns () => [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pairs of swappable positions (same stage, not downsampling). */
export function swappablePairs(blocks) {
  const pairs = [];
  for (let i = 0; i < blocks.length; i++)
    for (let j = i + 1; j < blocks.length; j++)
      if (blocks[i].swappable && blocks[j].swappable && blocks[i].stage === blocks[j].stage)
        pairs.push([i, j]);
  return pairs;
}

/**
 * Apply k random swaps (distinct pairs, seeded) to `order` (block id at each
 * position); returns a new order. k is clamped to the number of pairs.
 */
export function randomSwaps(blocks, order, k, seed) {
  const pairs = swappablePairs(blocks);
  const r = rng(seed);
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [pairs[i], pairs[j]] = [pairs[j], pairs[i]];
  }
  const out = order.slice();
  for (const [i, j] of pairs.slice(0, Math.min(k, pairs.length)))
    [out[i], out[j]] = [out[j], out[i]];
  return out;
}

/** Format a fraction as a percentage with `d` decimals. */
export function pct(x, d = 1) {
  return Number.isFinite(x) ? `${(100 * x).toFixed(d)}%` : '–';
}

/**
 * How the gradient norm changes per extra residual branch on the path: a
 * least-squares line through log g[k] over the lengths with g[k] > 0 (as
 * scripts/results.mjs fits it). Returns { factor: e^slope, r2 }, or null
 * with fewer than 3 such lengths.
 */
export function decayFit(g) {
  const ks = [...g.keys()].filter((k) => g[k] > 0);
  if (ks.length < 3) return null;
  const ys = ks.map((k) => Math.log(g[k]));
  const mx = ks.reduce((a, b) => a + b) / ks.length, my = ys.reduce((a, b) => a + b) / ys.length;
  let sxy = 0, sxx = 0, syy = 0;
  ks.forEach((k, i) => { sxy += (k - mx) * (ys[i] - my); sxx += (k - mx) ** 2; syy += (ys[i] - my) ** 2; });
  return { factor: Math.exp(sxy / sxx), r2: syy ? (sxy * sxy) / (sxx * syy) : 1 };
}

/** 2⁵⁴: n as superscript digits. */
export function sup(n) {
  return String(n).replace(/\d/g, (d) => '⁰¹²³⁴⁵⁶⁷⁸⁹'[d]);
}

/** "2–3" for a range [2, 3], "7" for [7, 7]. */
export function span([lo, hi]) {
  return lo === hi ? String(lo) : `${lo}–${hi}`;
}

/**
 * The change of error from one plan to another on the same images, paired
 * image by image: `turnedWrong` answers the base got right and the plan gets
 * wrong (their image numbers in `wrongImages`), `turnedRight` the reverse;
 * change = (turnedWrong - turnedRight) / n. `half` is the half-width of a 95%
 * normal interval on it from the paired differences (each -1, 0 or 1), far
 * narrower than two independent errors' noise when the plans agree on most
 * images.
 * @param {ArrayLike<number>} base  predicted classes under the base plan
 * @param {ArrayLike<number>} plan  predicted classes under the plan, same images
 * @param {ArrayLike<number>} labels  true classes (at least as many)
 */
export function pairedChange(base, plan, labels) {
  const n = base.length;
  if (plan.length !== n || labels.length < n)
    throw new Error(`pairedChange: ${n} base, ${plan.length} plan predictions and ${labels.length} labels`);
  const wrongImages = [], rightImages = [];
  for (let i = 0; i < n; i++) {
    const was = base[i] === labels[i], is = plan[i] === labels[i];
    if (was && !is) wrongImages.push(i);
    else if (!was && is) rightImages.push(i);
  }
  const wrong = wrongImages.length, right = rightImages.length;
  return { n, turnedWrong: wrong, turnedRight: right, wrongImages, rightImages,
           change: n ? (wrong - right) / n : 0, half: pairedCi95(n, wrong, right) };
}

/** Half-width of that 95% interval from the counts alone (unr_paired_ci95). */
export function pairedCi95(n, wrong, right) {
  const d = wrong - right;
  const variance = n > 1 ? (wrong + right - (d * d) / n) / (n - 1) : 0;
  return 1.96 * Math.sqrt(variance / Math.max(1, n));
}
