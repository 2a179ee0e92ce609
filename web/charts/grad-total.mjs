// grad-total.mjs: chart 6, the total gradient contributed by all paths of
// length k: C(n, k) x mean gradient norm at k, as a share of the sum over k.
// The effective window [a, b] (the shortest interval holding a fraction q of
// the total, from model.pathStats) is shaded, with the share of all paths
// whose length lies in it, and the paper's ResNet-110 numbers for comparison.
// With window.bootstrap, whiskers under the window's edges span where 95% of
// the resampled windows start and end: how firm the edges are.
import { COLORS, CHART, PAPER } from '../config.mjs';
import { el, text, tip, linear, band, axes, textWidth, HALO } from '../svg.mjs';
import { chartBase, chartLayer, emptyChart } from './common.mjs';

const DESCRIPTION = 'One bar per path length k: its share of the total gradient (the number of paths of that length ' +
  'times their mean gradient); shaded, the effective window, the shortest range of lengths holding the share q of it.';

/**
 * The chart as a tree (svg.mjs).
 * @param {{n: number, total: number[], color?: string, window: {a: number, b: number, q: number, mass?: number,
 *   share: number, bootstrap?: {resamples: number, same: number, a: number[], b: number[]}}|null}|null} data
 *   mass: the share the window holds (at least q)
 * @param {{id?: string, width?: number, height?: number, title?: string, heading?: object, empty?: string,
 *   paper?: boolean}} [o] paper: the paper's window beside ours (default true)
 */
export function gradTotalChart(data, o = {}) {
  const opts = { id: o.id, width: o.width, height: o.height, title: o.title ?? 'Total gradient per path length',
                 heading: o.heading, description: DESCRIPTION };
  const sum = (data?.total ?? []).reduce((s, v) => s + (Number.isFinite(v) ? v : 0), 0);
  if (!(sum > 0)) return emptyChart(opts, o.empty ?? (data ? 'No gradient measurements yet.' : 'Run the path statistics to fill this chart.'));
  const frac = data.total.map((v) => (Number.isFinite(v) ? v / sum : 0));
  const n = data.n;
  const w = data.window;
  const held = w && (w.mass != null ? `${(100 * w.mass).toFixed(1)}%` : `${(100 * w.q).toFixed(0)}%`);
  const { root, f, g } = chartLayer(opts, w ? `Window: lengths ${w.a} to ${w.b} hold ${held} of the gradient, ` +
                                                `${fmtShare(w.share)} of all paths.` : '');
  // the labels at the top right, one a line; a line too long for the plot (phones, docs' panels) is cut in two
  const labels = [];
  if (w) {
    const same = w.bootstrap ? `(same in ${Math.round(100 * w.bootstrap.same)}% of resamples)` : '';
    const first = `window ${w.a}–${w.b} holds ${held} of the gradient`;
    if (!same) labels.push({ s: first });
    else if (textWidth(`${first} ${same}`, CHART.tick) <= f.x1 - f.x0 - 8) labels.push({ s: `${first} ${same}` });
    else labels.push({ s: first }, { s: same });
    labels.push({ s: `paths in window: ${fmtShare(w.share)} of all`, attrs: { 'font-size': 12, 'font-weight': 700, class: 'window-share' } });
    if (o.paper !== false)
      labels.push({ s: `paper (${PAPER.window.n} blocks): ${PAPER.window.a}–${PAPER.window.b}, ${fmtShare(PAPER.window.share)} of paths`,
                    attrs: { fill: COLORS.muted } });
  }
  // the tallest bar stays under the labels
  const room = labels.length ? (16 * labels.length + 6) / (f.y0 - f.y1) : 0;
  const top = Math.max(...frac) * Math.max(1.15, 1.05 / (1 - room));
  const y = linear([0, top], [f.y0, f.y1]);
  const x = linear([-0.5, n + 0.5], [f.x0, f.x1]);
  const xb = band(n + 1, [f.x0, f.x1], n > 40 ? 0.1 : 0.2);
  if (w) {
    el('rect', { x: r2(x(w.a - 0.5)), y: f.y1, width: r2(x(w.b + 0.5) - x(w.a - 0.5)), height: f.y0 - f.y1,
                 fill: COLORS.window, opacity: 0.45, 'data-a': w.a, 'data-b': w.b, class: 'window' }, g);
  }
  axes(g, f, {
    x, y, xTicks: x.ticks(Math.min(10, n)).filter((t) => Number.isInteger(t) && t >= 0 && t <= n),
    yFormat: (v) => `${(100 * v).toFixed(top < 0.05 ? 1 : 0)}%`, yLabel: 'share of the total gradient',
    xLabel: 'path length k',
  });
  const color = data.color ?? COLORS.resnet;
  frac.forEach((v, k) => {
    const r = el('rect', { x: r2(xb.x(k)), y: r2(y(v)), width: r2(Math.max(0.8, xb.width)), height: r2(f.y0 - y(v)),
                           fill: color, opacity: w && k >= w.a && k <= w.b ? 0.95 : 0.55, 'data-k': k, 'data-share': v }, g);
    tip(r, `length ${k}: ${(100 * v).toPrecision(3)}% of the total gradient`);
  });
  if (w?.bootstrap) {
    const bs = w.bootstrap, yw = f.y0 - 6, stroke = COLORS.windowEdge;
    for (const [edge, [lo, hi]] of [['a', bs.a], ['b', bs.b]]) {
      const off = edge === 'a' ? -0.5 : 0.5, x0 = r2(x(lo + off)), x1 = r2(x(hi + off));
      const wg = el('g', { class: `window-spread window-spread-${edge}`, 'data-lo': lo, 'data-hi': hi }, g);
      el('line', { x1: x0, x2: x1, y1: yw, y2: yw, stroke, 'stroke-width': 2 }, wg);
      for (const xe of [x0, x1]) el('line', { x1: xe, x2: xe, y1: yw - 4, y2: yw + 4, stroke, 'stroke-width': 2 }, wg);
      tip(wg, `95% of ${bs.resamples} bootstrap resamples of the draws ` +
        `${edge === 'a' ? 'start' : 'end'} the window at length ${lo === hi ? lo : `${lo}–${hi}`}`);
    }
  }
  labels.forEach(({ s: line, attrs }, i) =>
    text(g, f.x1 - 4, f.y1 + 14 + 16 * i, line, { 'text-anchor': 'end', 'font-size': CHART.tick, ...HALO, ...attrs }));
  return root;
}

export function createGradTotalChart(container, options = {}) {
  const base = chartBase(container, (data, o) => gradTotalChart(data, { ...options, ...o }));
  return {
    update: base.update, reset: base.reset, svg: base.svg,
    rows: () => (base.current?.total ?? []).map((v, k) => ({ length: k, total: v,
      in_window: base.current.window ? k >= base.current.window.a && k <= base.current.window.b : '' })),
    json: () => base.current,
  };
}

const r2 = (v) => Math.round(v * 100) / 100;

export function fmtShare(s) {
  if (!Number.isFinite(s)) return '–';
  return s >= 0.1 ? `${(100 * s).toFixed(1)}%` : `${(100 * s).toPrecision(2)}%`;
}
