// common.mjs: what the charts share: the set-up every chart starts with
// (chartBase), and for the line-with-band charts (delete k, swap k, gradient
// per length) series of {x, mean, sd, min, max} drawn as a mean line, a
// mean +- sd band and dotted min / max lines.
import { CHART, COLORS } from '../config.mjs';
import { chartSvg, frame, el, line, area, emptyMessage, choosable, describe } from '../svg.mjs';

/**
 * A chart's <svg>, its plot frame, and one <g> layer that every redraw
 * replaces, so that nothing from the previous data lingers. draw(data) keeps
 * data as `current` and returns the fresh layer; reset(message) empties the
 * chart and shows message (by default `empty`), as it does from the start.
 * describe(summary) sets the chart's description for assistive technology:
 * `description` (what it shows), then summary (the data on show), which
 * reset() sets to its message.
 * @param {HTMLElement} container
 * @param {{title: string, description: string, empty: string, margin?: object}} o margin: as for frame()
 */
export function chartBase(container, { title, description, empty, margin }) {
  const svg = chartSvg(container, { title, description });
  const f = frame(undefined, undefined, margin);
  let g = null;
  const base = {
    svg, f, current: null,
    draw(data) {
      base.current = data;
      g?.remove();
      g = el('g', {}, svg);
      return g;
    },
    describe(summary) { describe(svg, [description, summary].filter(Boolean).join(' ')); },
    reset(message = empty) {
      emptyMessage(base.draw(null), f, message);
      base.describe(message);
    },
  };
  base.reset();
  return base;
}

/**
 * @param {SVGElement} g
 * @param {{x: Function, y: Function}} s scales
 * @param {{color: string, points: {x: number, mean: number, sd?: number, min?: number, max?: number}[]}} series
 * @param {{clampLow?: number, markers?: boolean, band?: 'sd'|'range',
 *          onDraw?: (p: object, sample: number) => void,
 *          drawLabel?: (p: object, sample: number) => string}} [o] band: mean +- sd
 *   with dotted min / max lines (default), or the min..max range as the band;
 *   onDraw: each draw of a point (p.errors) is a faint dot that can be chosen,
 *   named drawLabel(p, sample) for assistive technology
 */
export function drawBandSeries(g, s, series, o = {}) {
  const pts = series.points.filter((p) => Number.isFinite(p.mean)).sort((a, b) => a.x - b.x);
  if (!pts.length) return;
  const lowOf = (v) => (o.clampLow != null ? Math.max(o.clampLow, v) : v);
  if (o.band === 'range') {
    // min..max of the draws as the band (for log axes, where mean - sd is often <= 0)
    const r = pts.filter((p) => Number.isFinite(p.min) && Number.isFinite(p.max));
    if (r.length)
      el('path', { d: area(r.map((p) => [s.x(p.x), s.y(p.max)]), r.map((p) => [s.x(p.x), s.y(lowOf(p.min))])),
                   fill: series.color, opacity: CHART.bandOpacity, stroke: 'none' }, g);
  } else if (pts.some((p) => Number.isFinite(p.sd) && p.sd > 0)) {
    el('path', {
      d: area(pts.map((p) => [s.x(p.x), s.y(p.mean + (p.sd || 0))]),
              pts.map((p) => [s.x(p.x), s.y(lowOf(p.mean - (p.sd || 0)))])),
      fill: series.color, opacity: CHART.bandOpacity, stroke: 'none',
    }, g);
  }
  for (const key of o.band === 'range' ? [] : ['min', 'max']) {
    if (pts.every((p) => Number.isFinite(p[key])) && pts.some((p) => p[key] !== p.mean))
      el('path', { d: line(pts.map((p) => [s.x(p.x), s.y(lowOf(p[key]))])), fill: 'none',
                   stroke: series.color, 'stroke-width': 1, 'stroke-dasharray': '2 3',
                   opacity: 0.8 }, g);
  }
  el('path', { d: line(pts.map((p) => [s.x(p.x), s.y(p.mean)])), fill: 'none',
               stroke: series.color, 'stroke-width': 2.2 }, g);
  if (o.onDraw)
    for (const p of pts)
      (p.errors ?? []).forEach((e, sample) => {
        const dot = el('circle', { cx: s.x(p.x), cy: s.y(e), r: 2.5, fill: series.color, 'fill-opacity': 0.4,
                                   stroke: 'transparent', 'stroke-width': 5, class: 'draw',
                                   'data-k': p.k, 'data-sample': sample, 'data-error': e }, g);
        el('title', {}, dot).textContent = `k = ${p.k}, draw ${sample + 1}: ${(100 * e).toFixed(1)}% error. Click to try this plan in the network above.`;
        choosable(dot, o.drawLabel?.(p, sample) ?? `Try draw ${sample + 1} at k = ${p.k}: ${(100 * e).toFixed(1)}% error`,
                  () => o.onDraw(p, sample));
      });
  if (o.markers !== false)
    for (const p of pts)
      el('circle', { cx: s.x(p.x), cy: s.y(p.mean), r: 3, fill: series.color, stroke: '#fff',
                     'stroke-width': 1, 'data-x': p.x, 'data-mean': p.mean, 'pointer-events': 'none' }, g);
}

/** A horizontal reference line with a label at its right (or left) end (none: the legend names it). */
export function hRule(g, f, y, label, color = COLORS.chance, dash = '5 4', side = 'right') {
  el('line', { x1: f.x0, x2: f.x1, y1: y, y2: y, stroke: color, 'stroke-width': 1.3,
               'stroke-dasharray': dash }, g);
  if (!label) return;
  const right = side === 'right';
  const t = el('text', { x: right ? f.x1 - 4 : f.x0 + 4, y: y - 4, 'text-anchor': right ? 'end' : 'start', fill: color,
                         'font-size': 11, stroke: '#fff', 'stroke-width': 3, 'paint-order': 'stroke' }, g);
  t.textContent = label;
}

/** Upper limit for an error axis: a tidy value above the data, at most 1. */
export function errorCeiling(values) {
  const m = Math.max(0.05, ...values.filter(Number.isFinite));
  for (const c of [0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1])
    if (m * 1.08 <= c) return c;
  return 1;
}
