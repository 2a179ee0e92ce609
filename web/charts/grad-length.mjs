// grad-length.mjs: chart 5, the norm of the input gradient carried by paths
// of each length k (loss gradient propagated through the residual branch at
// k random blocks, the skip elsewhere), mean +- sd over samples, log y axis.
// The numbers come from model.pathStats in unravel.wasm.
import { COLORS } from '../config.mjs';
import { chartSvg, frame, el, linear, log10, axes, legend, emptyMessage } from '../svg.mjs';
import { drawBandSeries } from './common.mjs';

export function createGradLengthChart(container, options = {}) {
  const svg = chartSvg(container, { title: options.title ?? 'Gradient magnitude per path length' });
  const f = frame();
  let g = el('g', {}, svg);
  let current = null;

  function reset(message = 'Run the path statistics to fill this chart.') {
    current = null;
    g.remove();
    g = el('g', {}, svg);
    emptyMessage(g, f, message);
  }

  /** @param {{n: number, gradMean: number[], gradSd: number[], color?: string, name?: string}} data */
  function update(data) {
    current = data;
    g.remove();
    g = el('g', {}, svg);
    const pts = data.gradMean.map((m, k) => ({ x: k, k, mean: m, sd: data.gradSd?.[k] ?? 0 }))
      .filter((p) => Number.isFinite(p.mean) && p.mean > 0);
    if (!pts.length) { reset('No gradient measurements yet.'); return; }
    const hi = Math.max(...pts.map((p) => p.mean + p.sd));
    const lo = Math.min(...pts.map((p) => p.mean));
    const y = log10([10 ** Math.floor(Math.log10(lo) - 0.3), 10 ** Math.ceil(Math.log10(hi))], [f.y0, f.y1]);
    const x = linear([0, data.n], [f.x0, f.x1]);
    axes(g, f, {
      x, y, xTicks: x.ticks(Math.min(10, data.n)).filter(Number.isInteger),
      yFormat: (v) => `1e${Math.round(Math.log10(v))}`,
      xLabel: 'path length k', yLabel: 'gradient norm at the input (log)',
    });
    const color = data.color ?? COLORS.resnet;
    drawBandSeries(g, { x, y }, { color, points: pts }, { clampLow: y.domain[0] });
    legend(g, f, [{ label: `${data.name ?? 'mean'}`, color }, { label: '± sd', color, band: true }]);
  }

  reset();
  return {
    update, reset, svg,
    rows: () => (current?.gradMean ?? []).map((m, k) => ({ length: k, grad_mean: m, grad_sd: current.gradSd?.[k] ?? '' })),
    json: () => current,
  };
}
