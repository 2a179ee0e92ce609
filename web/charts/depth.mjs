// depth.mjs: the "Across depths" chart. One column per residual network,
// ordered by its number of blocks; in each column one dot per block, in
// network order, at the error its deletion adds, and a line at the median
// non-downsampling deletion. Downsampling blocks are hollow. The axis is
// symmetric-log in points (linear within about ±0.1, logarithmic beyond), since a
// 9-block net loses tens of points where a 54-block one loses fractions of
// one, and a deletion can also help (a negative change), which a log axis
// could not show.
import { COLORS, CHART } from '../config.mjs';
import { el, text, tip, linear, band, axes, legend } from '../svg.mjs';
import { chartBase, chartLayer, emptyChart, hRule } from './common.mjs';
import { sup, median } from '../math.mjs';

const LINEAR_WITHIN = 0.1;   // points: the symlog axis is about linear inside ±this
const symlog = (v) => Math.sign(v) * Math.log10(1 + Math.abs(v) / LINEAR_WITHIN);
const DESCRIPTION = 'One column per network, ordered by depth; in each, one dot per block at the points of error its deletion ' +
  'adds, and a line at the median non-downsampling deletion.';

/** The median of the non-downsampling deletions' costs, in points (NaN when none). */
export function medianCost(s) {
  return median(s.blocks.filter((b) => b.error != null && !b.downsample).map((b) => 100 * (b.error - s.full)));
}

/**
 * The chart as a tree (svg.mjs).
 * @param {{series: {name: string, label: string, n: number, color: string, full: number,
 *   blocks: {block: number, downsample: boolean, error: number|null, ci95?: number}[]}[]}|null} data
 *   series with blocks measured (the others are skipped), in any order
 * @param {{id?: string, width?: number, height?: number, title?: string, heading?: object, empty?: string}} [o]
 */
export function depthChart(data, o = {}) {
  const margin = { top: 22, right: 18, bottom: 62, left: 56 };   // three lines under each column
  const opts = { id: o.id, width: o.width, height: o.height, margin, heading: o.heading, description: DESCRIPTION,
                 title: o.title ?? 'Error added by deleting one block, across depths' };
  const series = (data?.series ?? []).filter((s) => s.blocks?.some((b) => b.error != null)).sort((a, b) => a.n - b.n);
  if (!series.length) return emptyChart(opts, o.empty ?? 'Run to measure each residual network.');
  const { root, f, g } = chartLayer(opts, series.map((s) => {
    const med = medianCost(s);
    return `${s.label}, ${s.n} blocks: ` +
      (Number.isFinite(med) ? `the median deletion adds ${med >= 0 ? '+' : '−'}${Math.abs(med).toFixed(2)} points.` : 'measuring.');
  }).join(' '));
  const costs = series.flatMap((s) => s.blocks.filter((b) => b.error != null).map((b) => 100 * (b.error - s.full)));
  // the next power of ten past the data each way, at least ±1
  const reach = (vs) => 10 ** Math.ceil(Math.log10(Math.max(1, ...vs.map((v) => 1.05 * v))));
  const top = reach(costs), bottom = -reach(costs.map((c) => -c));
  const ys = linear([symlog(bottom), symlog(top)], [f.y0, f.y1]);
  const y = (v) => ys(symlog(v));
  const ticks = [];
  for (let v = 1; v <= top; v *= 10) ticks.push(v);
  for (let v = -1; v >= bottom; v *= 10) ticks.push(v);
  axes(g, f, { y, yTicks: [0, ...ticks], yFormat: (v) => (v > 0 ? `+${v}` : v < 0 ? `−${-v}` : '0'),
               yLabel: 'points of error added (symmetric log)' });
  hRule(g, f, y(0), 'no change', COLORS.muted, '3 3', 'left');
  const xb = band(series.length, [f.x0, f.x1], 0.18);
  series.forEach((s, i) => {
    const x0 = xb.x(i), w = xb.width;
    const blocks = s.blocks.filter((b) => b.error != null);
    const step = w / Math.max(1, s.blocks.length);
    for (const b of blocks) {
      const cost = 100 * (b.error - s.full);
      const cx = r2(x0 + (b.block + 0.5) * step), cy = r2(y(cost));
      const r = r2(Math.max(2, Math.min(4, step / 2.2)));
      const mark = el('circle', { cx, cy, r, fill: b.downsample ? COLORS.bg : s.color, stroke: s.color,
                                  'stroke-width': b.downsample ? 1.6 : 0, opacity: b.downsample ? 1 : 0.8,
                                  'data-model': s.name, 'data-block': b.block, 'data-cost': cost.toFixed(4) }, g);
      tip(mark, `${s.label}: block ${b.block}${b.downsample ? ' (downsampling)' : ''} deleted: ` +
        `${cost >= 0 ? '+' : '−'}${Math.abs(cost).toFixed(2)} points` +
        (b.ci95 != null ? ` ± ${(100 * b.ci95).toFixed(2)} (95%, paired)` : '') + ` (error ${(100 * b.error).toFixed(2)}%)`);
    }
    const med = medianCost(s);
    if (Number.isFinite(med)) {
      const my = r2(y(med));
      el('line', { x1: r2(x0), x2: r2(x0 + w), y1: my, y2: my, stroke: COLORS.ink, 'stroke-width': 1.5, class: 'median' }, g);
      // its value under the column, with the network's name: by the line it covered a dot
      text(g, r2(x0 + w / 2), f.y0 + 44, `median ${med >= 0 ? '+' : '−'}${Math.abs(med).toFixed(med >= 10 ? 0 : 1)}`,
           { 'text-anchor': 'middle', 'font-size': CHART.tick, 'font-weight': 600, class: 'median-label' });
    }
    // the name in the ink (a data colour may be too faint for text); the dots carry the colour
    text(g, r2(x0 + w / 2), f.y0 + 16, s.label, { 'text-anchor': 'middle', 'font-size': CHART.tick, 'font-weight': 600 });
    text(g, r2(x0 + w / 2), f.y0 + 30, `${s.n} blocks · 2${sup(s.n)} paths`, { 'text-anchor': 'middle', 'font-size': 10, fill: COLORS.muted });
  });
  legend(g, f, [{ label: 'median (non-downsampling)', color: COLORS.ink }, { label: 'downsampling', color: COLORS.muted, hollow: true }]);
  return root;
}

export function createDepthChart(container, options = {}) {
  const base = chartBase(container, (data, o) => depthChart(data, { ...options, ...o }));
  return {
    update: base.update, reset: () => base.reset(), svg: base.svg,
    rows: () => (base.current?.series ?? []).flatMap((s) => s.blocks.map((b) => ({
      model: s.name, blocks: s.n, block: b.block, downsample: b.downsample, full_error: s.full, error: b.error ?? '',
      added_points: b.error == null ? '' : 100 * (b.error - s.full), ci95_points: b.ci95 == null ? '' : 100 * b.ci95 }))),
    json: () => base.current,
  };
}

const r2 = (v) => Math.round(v * 100) / 100;
