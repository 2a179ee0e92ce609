// math.mjs: small pure helpers for the page (no DOM): binomials in log
// space, summary statistics, Kendall's tau, a seeded PRNG for UI shuffles.

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
 * The shortest interval [a, b] of lengths holding at least a fraction q of
 * sum(values); ties go to the interval with the larger mass. For charting
 * only: the numbers reported come from the WASM pathStats.
 */
export function shortestWindow(values, q) {
  const total = values.reduce((s, v) => s + v, 0);
  if (!(total > 0))
    return null;
  let best = null;
  for (let a = 0; a < values.length; a++) {
    let s = 0;
    for (let b = a; b < values.length; b++) {
      s += values[b];
      if (s >= q * total) {
        if (!best || b - a < best.b - best.a || (b - a === best.b - best.a && s > best.mass))
          best = { a, b, mass: s };
        break;
      }
    }
  }
  return best && { a: best.a, b: best.b, fraction: best.mass / total };
}

/** Mean, sample standard deviation, min, max. */
export function summary(xs) {
  const n = xs.length;
  if (!n)
    return { mean: NaN, sd: NaN, min: NaN, max: NaN };
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const v = n > 1 ? xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, sd: Math.sqrt(v), min: Math.min(...xs), max: Math.max(...xs) };
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

/** k distinct deletable blocks, seeded. */
export function randomDeletion(blocks, k, r) {
  const ids = blocks.filter((b) => b.deletable).map((b) => b.id);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return ids.slice(0, Math.min(k, ids.length)).sort((a, b) => a - b);
}

/** Format a fraction as a percentage with `d` decimals. */
export function pct(x, d = 1) {
  return Number.isFinite(x) ? `${(100 * x).toFixed(d)}%` : '–';
}
