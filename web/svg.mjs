// svg.mjs: the few SVG pieces the charts share: elements, scales, axes.
// Styling is written as attributes (not CSS classes) so an exported SVG
// looks the same outside the page.
import { CHART, COLORS } from './config.mjs';

const NS = 'http://www.w3.org/2000/svg';

/** Create an SVG element with attributes, optionally appended to parent. */
export function el(tag, attrs = {}, parent = null) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs))
    if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

/**
 * A chart mark that acts as a button: a tab stop named label for assistive
 * technology; click, Enter or Space calls choose. The mark must already be in
 * its <svg>: that root becomes a group (role="img" would make its children
 * presentational and hide the button), keeping its name and description.
 */
export function choosable(mark, label, choose) {
  let root = mark.ownerSVGElement;
  while (root?.ownerSVGElement) root = root.ownerSVGElement;
  if (!root) throw new Error('choosable: the mark is not inside an <svg> yet');
  root.setAttribute('role', 'group');
  mark.setAttribute('tabindex', '0');
  mark.setAttribute('role', 'button');
  mark.setAttribute('aria-label', label);
  mark.style.cursor = 'pointer';
  mark.addEventListener('click', choose);
  mark.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' && e.key !== ' ') return;
    e.preventDefault();   // Space would scroll the page
    choose();
  });
  return mark;
}

/** A text element. */
export function text(parent, x, y, s, attrs = {}) {
  const t = el('text', { x, y, fill: COLORS.ink, 'font-size': 12, ...attrs }, parent);
  t.textContent = s;
  return t;
}

/**
 * The drawing size of a chart: narrower on phones, so that text stays legible
 * once the SVG is scaled to the screen.
 */
export function chartSize() {
  const narrow = typeof window !== 'undefined' && window.innerWidth < 600;
  return narrow ? { width: CHART.narrowWidth, height: CHART.height } : { width: CHART.width, height: CHART.height };
}

let chartIds = 0;   // the ids that tie each chart to its <title> and <desc>, unique in a page

/**
 * A chart root: <svg viewBox> that scales with its container, named by its
 * <title> and described by its <desc> (describe() rewrites it as the data
 * changes). It is an image until a choosable() mark makes it a group.
 */
export function chartSvg(container, { width = chartSize().width, height = chartSize().height, title, description } = {}) {
  const id = `ux-chart-${++chartIds}`;
  const svg = el('svg', {
    xmlns: NS, viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    'aria-labelledby': title ? `${id}-title` : null, 'aria-describedby': `${id}-desc`,
    'font-family': 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif', 'font-size': 12,
    class: 'chart-svg',
  });
  if (title) el('title', { id: `${id}-title` }, svg).textContent = title;
  el('desc', { id: `${id}-desc` }, svg).textContent = description ?? '';
  el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }, svg);
  container.appendChild(svg);
  return svg;
}

/** Rewrite a chartSvg's description: what it shows now, in words. */
export function describe(svg, description) {
  svg.querySelector(':scope > desc').textContent = description;
}

export function linear([d0, d1], [r0, r1]) {
  const s = (v) => r0 + ((v - d0) / (d1 - d0 || 1)) * (r1 - r0);
  s.domain = [d0, d1];
  s.ticks = (n = 5) => niceTicks(d0, d1, n);
  return s;
}

export function log10([d0, d1], [r0, r1]) {
  const l0 = Math.log10(d0), l1 = Math.log10(d1);
  const s = (v) => r0 + ((Math.log10(Math.max(v, d0 * 1e-3)) - l0) / (l1 - l0 || 1)) * (r1 - r0);
  s.domain = [d0, d1];
  s.ticks = () => {
    const out = [];
    for (let e = Math.floor(l0); e <= Math.ceil(l1); e++)
      if (10 ** e >= d0 * 0.999 && 10 ** e <= d1 * 1.001) out.push(10 ** e);
    return out;
  };
  return s;
}

/** Band scale: n equal slots across [r0, r1]; returns { x(i), width }. */
export function band(n, [r0, r1], padding = 0.2) {
  const step = (r1 - r0) / Math.max(1, n);
  return { x: (i) => r0 + i * step + (step * padding) / 2, width: step * (1 - padding), step };
}

export function niceTicks(a, b, n = 5) {
  const d0 = Math.min(a, b), d1 = Math.max(a, b);
  if (!(d1 > d0)) return [d0];
  const raw = (d1 - d0) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out = [];
  for (let v = Math.ceil(d0 / step - 1e-9) * step; v <= d1 + 1e-9 * step; v += step)
    out.push(Math.round(v / step) * step);
  return out;
}

/** Plot area for a chart of the standard size. */
export function frame(width = chartSize().width, height = chartSize().height, margin = CHART.margin) {
  return { x0: margin.left, x1: width - margin.right, y0: height - margin.bottom, y1: margin.top,
           width, height };
}

/**
 * Axes with grid lines and labels.
 * @param {SVGElement} g
 * @param {object} f frame()
 * @param {{x?: Function, y: Function, xTicks?: number[], yTicks?: number[],
 *          xFormat?: Function, yFormat?: Function, xLabel?: string, yLabel?: string}} o
 */
export function axes(g, f, o) {
  const yTicks = o.yTicks ?? o.y.ticks(5);
  const yFmt = o.yFormat ?? String;
  for (const t of yTicks) {
    const y = o.y(t);
    el('line', { x1: f.x0, x2: f.x1, y1: y, y2: y, stroke: COLORS.grid }, g);
    text(g, f.x0 - 6, y + 4, yFmt(t), { 'text-anchor': 'end', fill: COLORS.muted, 'font-size': 11 });
  }
  el('line', { x1: f.x0, x2: f.x1, y1: f.y0, y2: f.y0, stroke: COLORS.ink }, g);
  el('line', { x1: f.x0, x2: f.x0, y1: f.y0, y2: f.y1, stroke: COLORS.ink }, g);
  if (o.x) {
    const xFmt = o.xFormat ?? String;
    for (const t of o.xTicks ?? o.x.ticks(8)) {
      const x = o.x(t);
      el('line', { x1: x, x2: x, y1: f.y0, y2: f.y0 + 4, stroke: COLORS.ink }, g);
      text(g, x, f.y0 + 16, xFmt(t), { 'text-anchor': 'middle', fill: COLORS.muted, 'font-size': 11 });
    }
  }
  if (o.xLabel)
    text(g, (f.x0 + f.x1) / 2, f.height - 8, o.xLabel, { 'text-anchor': 'middle' });
  if (o.yLabel)
    text(g, 14, (f.y0 + f.y1) / 2, o.yLabel,
         { 'text-anchor': 'middle', transform: `rotate(-90 14 ${(f.y0 + f.y1) / 2})` });
}

/** Where legend() puts each item: [{x, y, it}], right to left from the top right, wrapping when narrow. */
function legendLayout(f, items) {
  let x = f.x1, y = f.y1 - 11;
  const out = [];
  for (const it of [...items].reverse()) {
    const w = 34 + it.label.length * 6.6;
    if (x - w < f.x0 - 40 && x < f.x1) { x = f.x1; y += 15; }
    x -= w;
    out.push({ x, y, it });
  }
  return out;
}

/** Rows the legend of these items takes (a chart with more than one lowers its plot by 15 px a row). */
export function legendRows(f, items) {
  return new Set(legendLayout(f, items).map((p) => p.y)).size;
}

/**
 * A legend at the top right, wrapping onto a second row when narrow: items
 * [{label, color, dash?, band?, bar?}] (a line, dashed or not; a pale band;
 * a bar's swatch).
 */
export function legend(g, f, items) {
  for (const { x, y, it } of legendLayout(f, items)) {
    if (it.band || it.bar)
      el('rect', { x, y: y - 5, width: 18, height: 10, fill: it.color, opacity: it.bar ? 0.8 : 0.35 }, g);
    else
      el('line', { x1: x, x2: x + 18, y1: y, y2: y, stroke: it.color,
                   'stroke-width': 2.5, 'stroke-dasharray': it.dash ?? null }, g);
    text(g, x + 22, y + 4, it.label, { 'font-size': 11, stroke: '#fff', 'stroke-width': 3, 'paint-order': 'stroke', class: 'legend-label' });
  }
}

/** Path string through points [[x, y], ...]. */
export function line(points) {
  return points.map(([x, y], i) => `${i ? 'L' : 'M'}${x.toFixed(2)},${y.toFixed(2)}`).join('');
}

/** Closed band between upper and lower point lists (same xs). */
export function area(upper, lower) {
  return `${line(upper)}${lower.slice().reverse().map(([x, y]) => `L${x.toFixed(2)},${y.toFixed(2)}`).join('')}Z`;
}

/** A centred message inside an empty chart. */
export function emptyMessage(svg, f, message) {
  const g = el('g', { class: 'empty' }, svg);
  text(g, (f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2, message,
       { 'text-anchor': 'middle', fill: COLORS.muted, 'font-size': 13 });
  return g;
}

export const pctFmt = (d = 0) => (v) => `${(100 * v).toFixed(d)}%`;
