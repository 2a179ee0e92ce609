// stats.mjs: the statistics the binding reports: summaries of draws and the
// paired 95% interval of a change of error.

/** mean, sd (n-1), min, max, in the order the C core sums them. */
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

/** Half-width of the 95% interval of a paired change of error: n images,
 *  answers turned wrong and right (unr_paired_ci95; the page's math.mjs has
 *  the same formula, for results merged across workers). */
export function pairedCi95(n, wrong, right) {
  const d = wrong - right;
  const variance = n > 1 ? (wrong + right - (d * d) / n) / (n - 1) : 0;
  return 1.96 * Math.sqrt(variance / Math.max(1, n));
}
