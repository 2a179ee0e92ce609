// grad-length.mjs: chart 5, the norm of the input gradient carried by paths
// of each length k (loss gradient propagated through the residual branch at
// k random blocks, the skip elsewhere), mean over samples with the range of
// the samples as a band (mean - sd is often below zero: no place on a log
// axis), log y axis.
// The numbers come from model.pathStats in unravel.wasm.
import { COLORS } from '../config.mjs';
import { linear, log10, axes, legend } from '../svg.mjs';
import { chartBase, drawBandSeries } from './common.mjs';

/** The 1-2-5 value below (round = Math.floor) or above (Math.ceil) v. */
function nice125(v, round) {
  const e = Math.floor(Math.log10(v));
  const steps = [1, 2, 5, 10].map((m) => m * 10 ** e);
  return round === Math.floor ? steps.filter((s) => s <= v * 1.000001).pop() : steps.find((s) => s >= v * 0.999999);
}

/**
 * Powers of ten, and 2 and 5 times them where the axis spans two decades or
 * less; over many decades (deep nets: 1e-2 down to 1e-36) every few powers,
 * so that at most about 8 labels share the axis.
 */
export function logTicks([d0, d1]) {
  const out = [];
  const decades = Math.log10(d1 / d0);
  const fine = decades <= 2.01;
  const every = Math.max(1, Math.ceil(decades / 8));
  for (let e = Math.floor(Math.log10(d0)); e <= Math.ceil(Math.log10(d1)); e++) {
    if (e % every) continue;
    for (const m of fine ? [1, 2, 5] : [1]) {
      const v = m * 10 ** e;
      if (v >= d0 * 0.999 && v <= d1 * 1.001) out.push(v);
    }
  }
  return out;
}

export function createGradLengthChart(container, options = {}) {
  const base = chartBase(container, { title: options.title ?? 'Gradient magnitude per path length',
    description: 'The norm of the input gradient carried by paths of each length k, on a log axis: ' +
      'the mean over the draws as a line, the range of the draws as a band.',
    empty: 'Run the path statistics to fill this chart.' });
  const { f, reset } = base;

  /**
   * @param {{n: number, gradMean: number[], gradSd: number[], gradMin?: number[], gradMax?: number[],
   *          color?: string, name?: string}} data gradMin / gradMax: the smallest and largest draw per length
   */
  function update(data) {
    const g = base.draw(data);
    const pts = data.gradMean.map((m, k) => ({ x: k, k, mean: m, sd: data.gradSd?.[k] ?? 0,
                                              min: data.gradMin?.[k], max: data.gradMax?.[k] }))
      .filter((p) => Number.isFinite(p.mean) && p.mean > 0);
    if (!pts.length) { reset('No gradient measurements yet.'); return; }
    const hi = Math.max(...pts.map((p) => (Number.isFinite(p.max) ? p.max : p.mean)));
    const lo = Math.min(...pts.map((p) => (p.min > 0 ? p.min : p.mean)));
    const y = log10([nice125(lo / 1.3, Math.floor), nice125(hi * 1.05, Math.ceil)], [f.y0, f.y1]);
    const x = linear([0, data.n], [f.x0, f.x1]);
    axes(g, f, {
      x, y, xTicks: x.ticks(Math.min(10, data.n)).filter(Number.isInteger), yTicks: logTicks(y.domain),
      yFormat: (v) => { const e = Math.floor(Math.log10(v) + 1e-9); return `${Math.round(v / 10 ** e)}e${e}`; },
      xLabel: 'path length k', yLabel: 'gradient norm at the input (log)',
    });
    const color = data.color ?? COLORS.resnet;
    drawBandSeries(g, { x, y }, { color, points: pts }, { clampLow: y.domain[0], band: 'range' });
    legend(g, f, [{ label: `${data.name ?? 'mean'}`, color }, { label: 'range of draws', color, band: true }]);
  }

  return {
    update, reset, svg: base.svg,
    rows: () => (base.current?.gradMean ?? []).map((m, k) => ({ length: k, grad_mean: m, grad_sd: base.current.gradSd?.[k] ?? '',
      grad_min: base.current.gradMin?.[k] ?? '', grad_max: base.current.gradMax?.[k] ?? '' })),
    json: () => base.current,
  };
}
