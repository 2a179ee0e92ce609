// common.mjs: what the charts share. Each chart module has a pure function
// (data, options) -> element tree (svg.mjs), which Node turns into an SVG
// string (docs/results) and the page into DOM through chartBase: the page's
// factory `createXChart(container, options)` with update, reset, svg, rows and
// json. Also here: for the line-with-band charts (delete k, swap k, gradient
// per length) series of {x, mean, sd, min, max} drawn as a mean line, a band
// and dotted min / max lines; reference lines; the error axis' ceiling.
import { CHART, COLORS } from '../config.mjs';
import { el, line, area, choosable, chartRoot, chartSize, emptyMessage, mount, tip, HALO } from '../svg.mjs';

let chartIds = 0;   // the ids that tie each chart to its <title> and <desc>, unique in a page

/**
 * The page's side of a chart: an <svg> in container that shows draw(data,
 * {id, width, height}) on update(data), and draw(null, {..., empty: message})
 * on reset(message), as from the start. `current` is the data on show (null
 * while the chart is empty: draw's tree has `empty` set).
 * @param {HTMLElement} container
 * @param {(data: object|null, o: object) => object} draw a tree of svg.mjs
 */
export function chartBase(container, draw) {
  const id = `ux-chart-${++chartIds}`;
  const svg = container.appendChild(container.ownerDocument.createElementNS('http://www.w3.org/2000/svg', 'svg'));
  const base = {
    svg, current: null,
    update(data) {
      const tree = draw(data, { id, ...chartSize() });
      base.current = tree.empty ? null : data;
      mount(svg, tree);
    },
    reset(message) {
      base.current = null;
      mount(svg, draw(null, { id, ...chartSize(), empty: message }));
    },
  };
  base.reset();
  return base;
}

/**
 * A chart's root, frame and one layer to draw in: chartRoot's, described by
 * `description` then `summary` (the data on show, in words).
 * @param {object} o chartRoot's options (id, width, height, margin, title, heading) and description
 */
export function chartLayer(o, summary = '') {
  const { root, f } = chartRoot({ ...o, description: [o.description, summary].filter(Boolean).join(' ') });
  return { root, f, g: el('g', {}, root) };
}

/** A chart that shows only its message (nothing measured yet). */
export function emptyChart(o, message) {
  const { root, f, g } = chartLayer(o, message);
  emptyMessage(g, f, message);
  root.empty = true;
  return root;
}

/**
 * @param {object} g a tree node
 * @param {{x: Function, y: Function}} s scales
 * @param {{color: string, points: {x: number, mean: number, sd?: number, min?: number, max?: number,
 *          lo?: number, hi?: number}[]}} series
 * @param {{clampLow?: number, markers?: boolean, band?: 'sd'|'spread', draws?: boolean,
 *          drawX?: (p: object, sample: number) => number,
 *          onDraw?: (p: object, sample: number) => void,
 *          drawLabel?: (p: object, sample: number) => string,
 *          pointTitle?: (p: object) => string}} [o] band: mean +- sd with dotted
 *   min / max lines (default), or the points' lo..hi as the band (for log
 *   axes, where mean - sd is often <= 0); draws: each draw of a point
 *   (p.errors) is a faint dot at drawX(p, sample) (p.x by default), which
 *   onDraw makes a button named drawLabel(p, sample)
 */
export function drawBandSeries(g, s, series, o = {}) {
  const pts = series.points.filter((p) => Number.isFinite(p.mean)).sort((a, b) => a.x - b.x);
  if (!pts.length) return;
  const lowOf = (v) => (o.clampLow != null ? Math.max(o.clampLow, v) : v);
  if (o.band === 'spread') {
    const r = pts.filter((p) => Number.isFinite(p.lo) && Number.isFinite(p.hi));
    if (r.length)
      el('path', { d: area(r.map((p) => [s.x(p.x), s.y(p.hi)]), r.map((p) => [s.x(p.x), s.y(lowOf(p.lo))])),
                   fill: series.color, opacity: CHART.bandOpacity, stroke: 'none', class: 'band' }, g);
  } else if (pts.some((p) => Number.isFinite(p.sd) && p.sd > 0)) {
    el('path', {
      d: area(pts.map((p) => [s.x(p.x), s.y(p.mean + (p.sd || 0))]),
              pts.map((p) => [s.x(p.x), s.y(lowOf(p.mean - (p.sd || 0)))])),
      fill: series.color, opacity: CHART.bandOpacity, stroke: 'none', class: 'band',
    }, g);
  }
  for (const key of o.band === 'spread' ? [] : ['min', 'max']) {
    if (pts.every((p) => Number.isFinite(p[key])) && pts.some((p) => p[key] !== p.mean))
      el('path', { d: line(pts.map((p) => [s.x(p.x), s.y(lowOf(p[key]))])), fill: 'none',
                   stroke: series.color, 'stroke-width': 1, 'stroke-dasharray': '2 3',
                   opacity: 0.8, class: `range-${key}` }, g);
  }
  el('path', { d: line(pts.map((p) => [s.x(p.x), s.y(p.mean)])), fill: 'none',
               stroke: series.color, 'stroke-width': 2.2, class: 'mean' }, g);
  if (o.draws || o.onDraw)
    for (const p of pts)
      (p.errors ?? []).forEach((e, sample) => {
        const dot = el('circle', { cx: r2(s.x(o.drawX?.(p, sample) ?? p.x)), cy: r2(s.y(e)), r: 2.5, fill: series.color,
                                   'fill-opacity': 0.4, stroke: 'transparent', 'stroke-width': 5, class: 'draw',
                                   'data-k': p.k, 'data-sample': sample, 'data-error': e }, g);
        if (!o.onDraw) return;
        tip(dot, `k = ${p.k}, draw ${sample + 1}: ${(100 * e).toFixed(1)}% error. Click to try this plan in the network above.`);
        choosable(dot, o.drawLabel?.(p, sample) ?? `Try draw ${sample + 1} at k = ${p.k}: ${(100 * e).toFixed(1)}% error`,
                  () => o.onDraw(p, sample));
      });
  if (o.markers !== false)
    for (const p of pts) {
      const c = el('circle', { cx: r2(s.x(p.x)), cy: r2(s.y(p.mean)), r: 3, fill: series.color, stroke: COLORS.bg,
                               'stroke-width': 1, 'data-x': p.x, 'data-mean': p.mean,
                               'pointer-events': o.pointTitle ? null : 'none' }, g);
      if (o.pointTitle) tip(c, o.pointTitle(p));
    }
}

const r2 = (v) => Math.round(v * 100) / 100;

/** A horizontal reference line with a label at its right (or left) end (none: the legend names it). */
export function hRule(g, f, y, label, color = COLORS.chance, dash = '5 4', side = 'right') {
  el('line', { x1: f.x0, x2: f.x1, y1: r2(y), y2: r2(y), stroke: color, 'stroke-width': 1.3,
               'stroke-dasharray': dash }, g);
  if (!label) return;
  const right = side === 'right';
  // the label in the muted tone (a grey rule's own colour is too faint for text)
  el('text', { x: right ? f.x1 - 4 : f.x0 + 4, y: r2(y - 4), 'text-anchor': right ? 'end' : 'start', fill: COLORS.muted,
               'font-size': CHART.tick, ...HALO }, g).text = label;
}

/** Upper limit for an error axis: a tidy value above the data, at most 1. */
export function errorCeiling(values) {
  const m = Math.max(0.05, ...values.filter(Number.isFinite));
  for (const c of [0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1])
    if (m * 1.08 <= c) return c;
  return 1;
}
