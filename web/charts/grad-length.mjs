// grad-length.mjs: chart 5, the norm of the input gradient carried by paths
// of each length k (loss gradient propagated through the residual branch at
// k random blocks, the skip elsewhere), mean over samples with the range of
// the samples as a band (mean - sd is often below zero: no place on a log
// axis), log y axis.
// The numbers come from model.pathStats in unravel.wasm (the page) or
// `unravel paths` (docs/results, which shows the middle 80% of the draws).
import { COLORS } from '../config.mjs';
import { linear, log10, axes, legend, logTicks, nice125 } from '../svg.mjs';
import { chartBase, chartLayer, emptyChart, drawBandSeries } from './common.mjs';

export { logTicks };

const DESCRIPTION = 'The norm of the input gradient carried by paths of each length k, on a log axis: ' +
  'the mean over the draws as a line, the spread of the draws as a band.';

/**
 * The chart as a tree (svg.mjs).
 * @param {{n: number, gradMean: number[], gradSd: number[], gradMin?: number[], gradMax?: number[],
 *          spreadLabel?: string, color?: string, name?: string}|null} data gradMin / gradMax: the
 *   band's ends per length (the page: the smallest and largest draw; spreadLabel says what they are)
 * @param {{id?: string, width?: number, height?: number, title?: string, heading?: object, empty?: string,
 *          pointTitles?: boolean}} [o]
 */
export function gradLengthChart(data, o = {}) {
  const opts = { id: o.id, width: o.width, height: o.height, title: o.title ?? 'Gradient magnitude per path length',
                 heading: o.heading, description: DESCRIPTION, margin: o.margin };
  const pts = (data?.gradMean ?? []).map((m, k) => ({ x: k, k, mean: m, sd: data.gradSd?.[k] ?? 0,
                                                     lo: data.gradMin?.[k], hi: data.gradMax?.[k] }))
    .filter((p) => Number.isFinite(p.mean) && p.mean > 0);
  if (!pts.length) return emptyChart(opts, o.empty ?? (data ? 'No gradient measurements yet.' : 'Run the path statistics to fill this chart.'));
  const spread = pts.some((p) => Number.isFinite(p.lo) && Number.isFinite(p.hi));
  const hi = Math.max(...pts.map((p) => (Number.isFinite(p.hi) ? p.hi : p.mean + (spread ? 0 : p.sd))));
  const lo = Math.min(...pts.map((p) => (p.lo > 0 ? p.lo : p.mean)));
  const { root, f, g } = chartLayer(opts);
  const y = log10([nice125(lo / 1.3, Math.floor), nice125(hi * 1.05, Math.ceil)], [f.y0, f.y1]);
  const x = linear([0, data.n], [f.x0, f.x1]);
  axes(g, f, {
    x, y, xTicks: x.ticks(Math.min(10, data.n)).filter(Number.isInteger), yTicks: logTicks(y.domain),
    yFormat: (v) => { const e = Math.floor(Math.log10(v) + 1e-9); return `${Math.round(v / 10 ** e)}e${e}`; },
    xLabel: 'path length k', yLabel: 'gradient norm at the input (log)',
  });
  const color = data.color ?? COLORS.resnet;
  drawBandSeries(g, { x, y }, { color, points: pts }, {
    clampLow: y.domain[0], band: spread ? 'spread' : 'sd',
    pointTitle: o.pointTitles ? (p) => `length ${p.k}: mean ${p.mean.toPrecision(3)}` +
      (spread ? `, ${data.spreadLabel ?? 'range of draws'} ${p.lo.toPrecision(3)}–${p.hi.toPrecision(3)}` : ` ± ${p.sd.toPrecision(3)}`)
      : undefined });
  legend(g, f, [{ label: `${data.name ?? 'mean'}`, color },
                { label: spread ? (data.spreadLabel ?? 'range of draws') : '± sd', color, band: true }]);
  return root;
}

export function createGradLengthChart(container, options = {}) {
  const base = chartBase(container, (data, o) => gradLengthChart(data, { ...options, ...o }));
  return {
    update: base.update, reset: base.reset, svg: base.svg,
    rows: () => (base.current?.gradMean ?? []).map((m, k) => ({ length: k, grad_mean: m, grad_sd: base.current.gradSd?.[k] ?? '',
      grad_min: base.current.gradMin?.[k] ?? '', grad_max: base.current.gradMax?.[k] ?? '' })),
    json: () => base.current,
  };
}
