// grad-total.mjs: chart 6, the total gradient contributed by all paths of
// length k: C(n, k) x mean gradient norm at k, as a share of the sum over k.
// The effective window [a, b] (the shortest interval holding a fraction q of
// the total, from model.pathStats) is shaded, with the share of all paths
// whose length lies in it, and the paper's ResNet-110 numbers for comparison.
// With window.bootstrap, whiskers under the window's edges span where 95% of
// the resampled windows start and end: how firm the edges are.
import { COLORS, PAPER } from '../config.mjs';
import { el, text, linear, band, axes } from '../svg.mjs';
import { chartBase } from './common.mjs';

export function createGradTotalChart(container, options = {}) {
  const base = chartBase(container, { title: options.title ?? 'Total gradient per path length',
    description: 'One bar per path length k: its share of the total gradient (the number of paths of that length ' +
      'times their mean gradient); shaded, the effective window, the shortest range of lengths holding the share q of it.',
    empty: 'Run the path statistics to fill this chart.' });
  const { f, reset } = base;

  /** @param {{n: number, total: number[], window: {a: number, b: number, q: number, share: number}|null, color?: string}} data */
  function update(data) {
    const g = base.draw(data);
    const sum = data.total.reduce((s, v) => s + (Number.isFinite(v) ? v : 0), 0);
    if (!(sum > 0)) { reset('No gradient measurements yet.'); return; }
    const frac = data.total.map((v) => (Number.isFinite(v) ? v / sum : 0));
    const n = data.n;
    const w = data.window;
    const top = Math.max(...frac) * (w ? 1.4 : 1.15);   // room for the three labels
    const y = linear([0, top], [f.y0, f.y1]);
    const x = linear([-0.5, n + 0.5], [f.x0, f.x1]);
    const xb = band(n + 1, [f.x0, f.x1], n > 40 ? 0.1 : 0.2);
    if (w) {
      el('rect', { x: x(w.a - 0.5), y: f.y1, width: x(w.b + 0.5) - x(w.a - 0.5), height: f.y0 - f.y1,
                   fill: COLORS.window, opacity: 0.45, 'data-a': w.a, 'data-b': w.b }, g);
    }
    axes(g, f, {
      x, y, xTicks: x.ticks(Math.min(10, n)).filter((t) => Number.isInteger(t) && t >= 0 && t <= n),
      yFormat: (v) => `${(100 * v).toFixed(0)}%`, yLabel: 'share of the total gradient',
      xLabel: 'path length k',
    });
    base.describe(w ? `Window: lengths ${w.a} to ${w.b} hold ${(100 * w.q).toFixed(0)}% of the gradient, ` +
                      `${fmtShare(w.share)} of all paths.` : '');
    const color = data.color ?? COLORS.resnet;
    frac.forEach((v, k) => {
      const r = el('rect', { x: xb.x(k), y: y(v), width: Math.max(0.8, xb.width), height: f.y0 - y(v),
                             fill: color, opacity: w && k >= w.a && k <= w.b ? 0.95 : 0.55 }, g);
      el('title', {}, r).textContent = `length ${k}: ${(100 * v).toPrecision(3)}% of the total gradient`;
    });
    if (w?.bootstrap) {
      const bs = w.bootstrap, yw = f.y0 - 6, stroke = COLORS.windowEdge;
      for (const [edge, [lo, hi]] of [['a', bs.a], ['b', bs.b]]) {
        const off = edge === 'a' ? -0.5 : 0.5, x0 = x(lo + off), x1 = x(hi + off);
        const wg = el('g', { class: `window-spread window-spread-${edge}`, 'data-lo': lo, 'data-hi': hi }, g);
        el('line', { x1: x0, x2: x1, y1: yw, y2: yw, stroke, 'stroke-width': 2 }, wg);
        for (const xe of [x0, x1]) el('line', { x1: xe, x2: xe, y1: yw - 4, y2: yw + 4, stroke, 'stroke-width': 2 }, wg);
        el('title', {}, wg).textContent = `95% of ${bs.resamples} bootstrap resamples of the draws ` +
          `${edge === 'a' ? 'start' : 'end'} the window at length ${lo === hi ? lo : `${lo}–${hi}`}`;
      }
    }
    if (w) {
      text(g, f.x1 - 4, f.y1 + 14, `window ${w.a}–${w.b} holds ${(100 * w.q).toFixed(0)}% of the gradient` +
           (w.bootstrap ? ` (same in ${Math.round(100 * w.bootstrap.same)}% of resamples)` : ''),
           { 'text-anchor': 'end', 'font-size': 11, stroke: '#fff', 'stroke-width': 3, 'paint-order': 'stroke' });
      text(g, f.x1 - 4, f.y1 + 30, `paths in window: ${fmtShare(w.share)} of all`,
           { 'text-anchor': 'end', 'font-size': 12, 'font-weight': 700, class: 'window-share', stroke: '#fff', 'stroke-width': 3, 'paint-order': 'stroke' });
      text(g, f.x1 - 4, f.y1 + 46, `paper (${PAPER.window.n} blocks): ${PAPER.window.a}–${PAPER.window.b}, ` +
           `${fmtShare(PAPER.window.share)} of paths`, { 'text-anchor': 'end', 'font-size': 11, fill: COLORS.paper, stroke: '#fff', 'stroke-width': 3, 'paint-order': 'stroke' });
    }
  }

  return {
    update, reset, svg: base.svg,
    rows: () => (base.current?.total ?? []).map((v, k) => ({ length: k, total: v,
      in_window: base.current.window ? k >= base.current.window.a && k <= base.current.window.b : '' })),
    json: () => base.current,
  };
}

export function fmtShare(s) {
  if (!Number.isFinite(s)) return '–';
  return s >= 0.1 ? `${(100 * s).toFixed(1)}%` : `${(100 * s).toPrecision(2)}%`;
}
