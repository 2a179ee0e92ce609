// math.mjs: small pure helpers for the page (no DOM): binomials in log
// space, medians, a decay fit, formatting. The numbers the experiments
// report (summaries of draws, paired intervals, Kendall's tau) and the
// Shuffle button's draws come from the C core, through the JS API.

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

/** The median of v (NaN when empty). */
export function median(v) {
  const c = [...v].sort((a, b) => a - b);
  if (!c.length) return NaN;
  const m = c.length >> 1;
  return c.length % 2 ? c[m] : (c[m - 1] + c[m]) / 2;
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
