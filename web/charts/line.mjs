// line.mjs: lines with markers on given axes, one per series: docs/results'
// "Across depths" figures (each network's deletions or cumulative gradient
// on axes relative to its depth) and the training curves (training.mjs).
// Hollow markers set points apart (downsampling blocks); an x range may be
// shaded behind the lines (the paper's window).
import { COLORS } from '../config.mjs';
import { el, tip, linear, axes, legend, legendRows, clipFrame, niceTicks } from '../svg.mjs';
import { chartLayer, emptyChart } from './common.mjs';

/**
 * @param {{series: {name: string, color: string, points: {x: number, y: number, hollow?: boolean, title?: string}[]}[]}} data
 * @param {{id?: string, width?: number, height?: number, title?: string, heading?: object, description?: string,
 *   x: {lo: number, hi: number, ticks?: number[], format?: Function}, y: {lo: number, hi: number, ticks?: number[], format?: Function},
 *   xLabel?: string, yLabel?: string, zero?: boolean, markers?: boolean, hollowLabel?: string,
 *   band?: {lo: number, hi: number, label: string}}} o zero: a line at y = 0; markers: a dot per point
 *   (default true); the lines are clipped to the plot (a curve may run off its top)
 */
export function lineChart(data, o) {
  const opts = { id: o.id, width: o.width, height: o.height, title: o.title ?? 'Lines', heading: o.heading,
                 description: o.description ?? '', margin: o.margin };
  const series = (data?.series ?? []).filter((s) => s.points?.length);
  if (!series.length) return emptyChart(opts, o.empty ?? 'Nothing measured yet.');
  const { root, f: f0, g } = chartLayer(opts);
  const items = [...series.map((s) => ({ label: s.name, color: s.color })),
    ...(o.hollowLabel ? [{ label: o.hollowLabel, color: COLORS.muted, hollow: true }] : []),
    ...(o.band ? [{ label: o.band.label, color: COLORS.window, band: true }] : [])];
  const f = { ...f0, y1: f0.y1 + 15 * (legendRows(f0, items) - 1) };   // legend rows past the first lower the plot
  const x = linear([o.x.lo, o.x.hi], [f.x0, f.x1]), y = linear([o.y.lo, o.y.hi], [f.y0, f.y1]);
  if (o.band)
    el('rect', { x: r2(x(o.band.lo)), y: f.y1, width: r2(x(o.band.hi) - x(o.band.lo)), height: f.y0 - f.y1,
                 fill: COLORS.window, opacity: 0.45, class: 'window' }, g);
  axes(g, f, { x, y, xTicks: o.x.ticks ?? niceTicks(o.x.lo, o.x.hi, 6), yTicks: o.y.ticks ?? niceTicks(o.y.lo, o.y.hi, 5),
               xFormat: o.x.format, yFormat: o.y.format, xLabel: o.xLabel, yLabel: o.yLabel });
  const plot = el('g', { 'clip-path': clipFrame(root, f, o.id ?? 'chart') }, g);
  if (o.zero && o.y.lo < 0)
    el('line', { x1: f.x0, x2: f.x1, y1: r2(y(0)), y2: r2(y(0)), stroke: COLORS.axis, 'stroke-width': 0.8 }, plot);
  for (const s of series) {
    el('polyline', { points: s.points.map((p) => `${r2(x(p.x))},${r2(y(p.y))}`).join(' '), fill: 'none',
                     stroke: s.color, 'stroke-width': 1.8, 'stroke-opacity': 0.9, 'data-series': s.name }, plot);
    if (o.markers === false) continue;
    for (const p of s.points) {
      const c = el('circle', { cx: r2(x(p.x)), cy: r2(y(p.y)), r: p.hollow ? 3.6 : 2.6, fill: p.hollow ? COLORS.bg : s.color,
                               stroke: p.hollow ? s.color : null, 'stroke-width': p.hollow ? 1.6 : null,
                               'data-series': s.name, 'data-x': p.x, 'data-y': p.y }, plot);
      if (p.title) tip(c, p.title);
    }
  }
  legend(g, f0, items);
  return root;
}

/** An error axis: 0 to 100% when anything is past a half, else a tidy bound above the data. */
export function errorAxis(maxErr) {
  if (maxErr > 0.5) return { lo: 0, hi: 1, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], format: pct };
  const ticks = niceTicks(0, maxErr * 1.08, 5);
  const hi = ticks.at(-1) >= maxErr * 1.08 ? ticks.at(-1) : ticks.at(-1) + (ticks[1] - ticks[0]);
  return { lo: 0, hi, ticks: ticks.at(-1) === hi ? ticks : [...ticks, hi], format: pct };
}

const pct = (v) => `${+(100 * v).toFixed(1)}%`;
const r2 = (v) => Math.round(v * 100) / 100;
