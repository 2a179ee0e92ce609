// figures.mjs: docs/results' figures and the model cards' training curves, drawn by the
// page's own chart modules (web/charts/*.mjs) and written as SVG strings (web/svg.mjs
// toSvg): no drawing code here, only what turns the CLI's JSON into the charts' data.
// Figures have their title and subtitle drawn over them (`heading`): in RESULTS.md
// they stand without a caption.
import { CHART } from '../web/config.mjs';
import { toSvg } from '../web/svg.mjs';
import { sup } from '../web/math.mjs';
import { lesionChart } from '../web/charts/lesion.mjs';
import { errorKChart } from '../web/charts/error-k.mjs';
import { pathDistChart } from '../web/charts/path-dist.mjs';
import { gradLengthChart } from '../web/charts/grad-length.mjs';
import { gradTotalChart } from '../web/charts/grad-total.mjs';
import { depthChart } from '../web/charts/depth.mjs';
import { lineChart } from '../web/charts/line.mjs';
import { trainingChart, trainingCompareChart } from '../web/charts/training.mjs';

// ---- the CLI's JSON as the charts take it (the page's names: web/views/*) ----

/** `unravel lesion --json`'s result as one series of the lesion chart (a null error: not deletable). */
export function lesionSeries(name, color, R) {
  return { name, color, result: { full: { error: R.full_error }, blocks: R.blocks.map((b) => ({
    block: b.block, stage: b.stage, downsample: b.downsample, deletable: b.error != null, error: b.error,
    ci95: b.ci95, turnedWrong: b.turned_wrong, turnedRight: b.turned_right })) } };
}

/** `unravel delete-random` / `swap-random`'s result as one series of the error-against-k chart. */
export function curveSeries(name, color, R) {
  return { name, color, blocks: R.blocks, points: R.points };
}

/** `unravel lesion`'s result as one column of the across-depths chart. */
export function depthSeries(name, label, color, R) {
  return { name, label, color, n: R.blocks.length, full: R.full_error,
           blocks: R.blocks.map((b) => ({ block: b.block, downsample: b.downsample, error: b.error, ci95: b.ci95 })) };
}

/** `unravel paths`'s window as the charts take it (the JS API's names). */
function windowOf(w) {
  if (!w) return null;
  const b = w.bootstrap;
  return { a: w.a, b: w.b, q: w.q, mass: w.mass, share: w.share_of_paths,
           bootstrap: b && { resamples: b.resamples, same: b.same_window, a: b.a, b: b.b } };
}

/** The q-quantile of xs (linear between order statistics). */
export function quantile(xs, q) {
  const v = [...xs].sort((a, b) => a - b);
  const i = (v.length - 1) * q, lo = Math.floor(i);
  return lo + 1 < v.length ? v[lo] + (i - lo) * (v[lo + 1] - v[lo]) : v[lo];
}

/** A share of paths as a percentage with enough digits to be non-zero. */
export function sharePct(v) {
  if (v >= 0.1) return `${(100 * v).toFixed(1)}%`;
  if (v >= 0.001) return `${(100 * v).toFixed(2)}%`;
  return `${(100 * v).toPrecision(2)}%`;
}

// ---- the figures, as SVG text ----

const wide = { width: CHART.wideWidth };
const panel = { width: CHART.narrowWidth, height: CHART.height + 20 };   // three side by side

/** Each block deleted alone: bars with the paired 95% interval of their change. */
export const lesion = (data, o) => toSvg(lesionChart(data, { ...wide, ...o }));

/** Error against k (deletions, swaps) or, with xMode 'tau', against Kendall's tau with every draw a dot. */
export const curve = (data, o) => toSvg(errorKChart(data, { ...wide, pointTitles: true, ...o }));

/** The page's across-depths chart: a column per network, a dot per deleted block. */
export const depths = (data, o) => toSvg(depthChart(data, { ...wide, ...o }));

/** Lines on given axes (RESULTS' cumulative gradient across depths). */
export const lines = (data, o) => toSvg(lineChart(data, { ...wide, ...o }));

/** (a) the share of the 2^n paths with each length, the effective window shaded. */
export function pathLengths(P, o) {
  const n = P.grad_mean.length - 1;
  const heading = { subtitle: `all 2${sup(n)} paths: Binomial(${n}, 1/2)`, ...o.heading };
  return toSvg(pathDistChart({ n, window: windowOf(P.window) }, { ...panel, ...o, heading }));
}

/**
 * (b) the gradient norm per path length, log axis: the mean over draws, with a band over
 * the middle 80% of the draws (P.norms, [length][draw]: they spread over decades, so sd is
 * often above the mean and has no lower half on a log axis), or +- 1 sd without them.
 * Lengths of zero gradient have no place on a log axis: the subtitle names them.
 */
export function pathGradient(P, o) {
  const n = P.grad_mean.length - 1;
  const draws = P.norms?.length === n + 1;
  const zeros = P.grad_mean.map((m, k) => (m > 0 ? null : k)).filter((k) => k != null);
  const note = zeros.length ? `zero gradient at length${zeros.length > 1 ? 's' : ''} ${ranges(zeros)} (not shown)` : '';
  const heading = { ...o.heading, subtitle: [o.heading?.subtitle, note].filter(Boolean).join('; ') };
  return toSvg(gradLengthChart({ n, gradMean: P.grad_mean, gradSd: P.grad_sd, name: 'mean over draws',
    ...(draws ? { gradMin: P.norms.map((d) => quantile(d, 0.1)), gradMax: P.norms.map((d) => quantile(d, 0.9)),
                  spreadLabel: 'middle 80% of draws' } : {}) },
  { ...panel, pointTitles: true, margin: { ...CHART.margin, left: 62 }, ...o, heading }));
}

/** (c) the share of the total gradient from each length (C(n, k) x mean norm), the window shaded. */
export function pathTotal(P, o) {
  return toSvg(gradTotalChart({ n: P.total_share.length - 1, total: P.total_share, window: windowOf(P.window) },
                              { ...panel, paper: false, ...o }));
}

/** A model card's training curve: error against epoch from the trainer's log. */
export const training = (log, o) => toSvg(trainingChart(log, o));

/** Claim 7: several networks' training against the compute spent, side by side panels. */
export const trainingCompare = (data, o) => toSvg(trainingCompareChart(data, o));

/** [0, 1, 2, 5] -> '0–2, 5' */
function ranges(ks) {
  const out = [];
  for (let i = 0; i < ks.length; i++) {
    let j = i;
    while (j + 1 < ks.length && ks[j + 1] === ks[j] + 1) j++;
    out.push(j > i ? `${ks[i]}–${ks[j]}` : `${ks[i]}`);
    i = j;
  }
  return out.join(', ');
}
