// svg.mjs: what the charts draw with, in the page and in Node alike. A chart
// is built as a small element tree ({tag, attrs, children, text, on}); the
// page turns it into DOM nodes (toDom, mount), listeners included, and Node
// (scripts/results.mjs, scripts/model-card.mjs) into an SVG string (toSvg).
// Styling is written as attributes (not CSS classes) so that an exported SVG
// looks the same outside the page. A colour may be a CSS variable with its
// light value as fallback (config.mjs COLORS: 'var(--ux-ink, #1d1d1f)'): the
// page follows its theme through it, toSvg writes the fallback.
// Also here: scales, ticks, axes, legends and the frame every chart shares.
import { CHART, COLORS } from './config.mjs';

const NS = 'http://www.w3.org/2000/svg';

// ---- the element tree ----

/** A tree node with attributes (null and undefined left out), appended to parent if given. */
export function el(tag, attrs = {}, parent = null) {
  const node = { tag, attrs: {}, children: [], text: null, on: null, parent: null };
  for (const [k, v] of Object.entries(attrs))
    if (v !== undefined && v !== null) node.attrs[k] = String(v);
  if (parent) { node.parent = parent; parent.children.push(node); }
  return node;
}

/** A text element. */
export function text(parent, x, y, s, attrs = {}) {
  const t = el('text', { x, y, fill: COLORS.ink, 'font-size': 12, ...attrs }, parent);
  t.text = String(s);
  return t;
}

/** A tooltip: the <title> child a browser shows on hover. */
export function tip(node, s) {
  el('title', {}, node).text = String(s);
  return node;
}

/**
 * A chart mark that acts as a button: a tab stop named label for assistive
 * technology; click, Enter or Space calls choose(event). The mark must
 * already be in its <svg> tree: that root becomes a group (role="img" would
 * make its children presentational and hide the button), keeping its name
 * and description.
 */
export function choosable(mark, label, choose) {
  let root = mark;
  while (root.parent) root = root.parent;
  if (root === mark || root.tag !== 'svg') throw new Error('choosable: the mark is not inside an <svg> yet');
  root.attrs.role = 'group';
  Object.assign(mark.attrs, { tabindex: '0', role: 'button', 'aria-label': label, cursor: 'pointer' });
  mark.on = { ...mark.on, click: choose,
    keydown: (e) => {
      if (e.key !== 'Enter' && e.key !== ' ') return;
      e.preventDefault();   // Space would scroll the page
      choose(e);
    } };
  return mark;
}

// `var(--name, fallback)`: the fallback, what a colour is outside the page
const VAR = /var\(--[\w-]+,\s*([^()]+(?:\([^()]*\))?)\)/g;
const fallback = (v) => v.replace(VAR, '$1');
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The tree as SVG markup: colours at their light values, listeners dropped. */
export function toSvg(node) {
  const attrs = Object.entries(node.attrs).map(([k, v]) => ` ${k}="${esc(fallback(v))}"`).join('');
  const sep = node.tag === 'svg' || node.tag === 'g' ? '\n' : '';
  const inner = (node.text != null ? esc(node.text) : '') + node.children.map((c) => sep + toSvg(c)).join('') +
    (node.children.length ? sep : '');
  return inner ? `<${node.tag}${attrs}>${inner}</${node.tag}>` : `<${node.tag}${attrs}/>`;
}

/** The tree as DOM nodes, listeners attached; a CSS-variable colour also set as a style, its fallback as the attribute. */
export function toDom(node, doc = document) {
  const e = doc.createElementNS(NS, node.tag);
  setAttributes(e, node.attrs);
  if (node.text != null) e.textContent = node.text;
  for (const [type, fn] of Object.entries(node.on ?? {})) e.addEventListener(type, fn);
  for (const c of node.children) e.appendChild(toDom(c, doc));
  return e;
}

function setAttributes(e, attrs) {
  for (const [k, v] of Object.entries(attrs)) setAttr(e, k, v);
}

/**
 * Set an attribute of a DOM element; a value with a CSS variable goes in as
 * its fallback and, as a style property, the variable itself (presentation
 * attributes do not take var() in every browser; a style does).
 */
export function setAttr(e, name, value) {
  const v = String(value);
  e.setAttribute(name, fallback(v));
  if (v.includes('var(')) e.style.setProperty(name, v);
  else e.style?.removeProperty(name);
}

/** Make the page's <svg> element show the tree: its attributes and children replaced, the element kept. */
export function mount(svg, tree) {
  for (const a of [...svg.attributes]) if (!(a.name in tree.attrs)) svg.removeAttribute(a.name);
  svg.removeAttribute('style');
  setAttributes(svg, tree.attrs);
  svg.replaceChildren(...tree.children.map((c) => toDom(c, svg.ownerDocument)));
  return svg;
}

// ---- chart roots ----

/**
 * The drawing size of a chart in the page: narrower on phones, so that text
 * stays legible once the SVG is scaled to the screen.
 */
export function chartSize() {
  const narrow = typeof window !== 'undefined' && window.innerWidth < 600;
  return { width: narrow ? CHART.narrowWidth : CHART.width, height: CHART.height };
}

/** Greedy word wrap into lines of at most `width` px, widths estimated (no fonts in Node). */
function wrap(s, width, size) {
  const lines = [];
  let cur = '';
  for (const w of String(s).split(' ')) {
    const next = cur ? `${cur} ${w}` : w;
    if (cur && textWidth(next, size) > width) { lines.push(cur); cur = w; } else cur = next;
  }
  if (cur) lines.push(cur);
  return lines;
}

/** A rough width in px of s in a sans-serif font of this size. */
export const textWidth = (s, size = 11) => String(s).length * size * 0.6;

/**
 * A chart's root: <svg viewBox> that scales with its container, named by its
 * <title> and described by its <desc> (ids from `id`, unique in a page), on a
 * background; an image until a choosable() mark makes it a group. With
 * `heading` ({title, subtitle}: the figures of docs/results, which have no
 * caption around them), the title and subtitle are drawn above the plot and
 * the chart grows by their height. Returns {root, f}: f is the plot frame.
 */
export function chartRoot({ id = 'chart', width = CHART.width, height = CHART.height, margin = CHART.margin,
                            title, description = '', heading = null }) {
  const sub = heading?.subtitle ? wrap(heading.subtitle, width - margin.left - 8, CHART.tick) : [];
  const head = heading ? (heading.title ? 24 : 6) + 15 * sub.length : 0;
  const H = height + head;
  const root = el('svg', {
    xmlns: NS, viewBox: `0 0 ${width} ${H}`, width, height: H, role: 'img',
    'aria-labelledby': title ? `${id}-title` : null, 'aria-describedby': `${id}-desc`,
    'font-family': CHART.fontFamily, 'font-size': 12, class: 'chart-svg',
  });
  if (title) el('title', { id: `${id}-title` }, root).text = title;
  el('desc', { id: `${id}-desc` }, root).text = description;
  el('rect', { x: 0, y: 0, width, height: H, fill: COLORS.bg, class: 'chart-bg' }, root);
  if (heading?.title) text(root, margin.left, 18, heading.title, { 'font-size': CHART.titleSize, 'font-weight': 600 });
  sub.forEach((line, i) => text(root, margin.left, (heading.title ? 24 : 6) + 11 + 15 * i, line,
                                { 'font-size': CHART.tick, fill: COLORS.muted }));
  return { root, f: frame(width, height, margin, head) };
}

/** Plot area: x0..x1 left to right, y0 (bottom) .. y1 (top), below a heading of `top` px. */
export function frame(width = chartSize().width, height = chartSize().height, margin = CHART.margin, top = 0) {
  return { x0: margin.left, x1: width - margin.right, y0: top + height - margin.bottom, y1: top + margin.top,
           width, height: height + top, top };
}

/** A clip path of the plot frame f in root's <defs>; returns the clip-path attribute that applies it. */
export function clipFrame(root, f, id = 'chart') {
  const defs = el('defs', {}, root);
  const cp = el('clipPath', { id: `${id}-clip` }, defs);
  el('rect', { x: f.x0, y: f.y1, width: f.x1 - f.x0, height: f.y0 - f.y1 }, cp);
  return `url(#${id}-clip)`;
}

/** A centred message inside an empty chart. */
export function emptyMessage(parent, f, message) {
  const g = el('g', { class: 'empty' }, parent);
  text(g, (f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2, message, { 'text-anchor': 'middle', fill: COLORS.muted, 'font-size': 13 });
  return g;
}

/**
 * Charts side by side in one SVG (claim 7's training panels): each tree a
 * nested <svg> at its x offset.
 */
export function row(trees, gap = 8) {
  const dims = trees.map((t) => ({ w: Number(t.attrs.width), h: Number(t.attrs.height) }));
  const W = dims.reduce((a, d) => a + d.w, 0) + gap * (trees.length - 1), H = Math.max(...dims.map((d) => d.h));
  const root = el('svg', { xmlns: NS, viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'group', class: 'chart-svg' });
  el('rect', { x: 0, y: 0, width: W, height: H, fill: COLORS.bg, class: 'chart-bg' }, root);
  let x = 0;
  trees.forEach((t, i) => {
    delete t.attrs.xmlns;
    t.attrs = { x: String(x), y: '0', ...t.attrs };
    t.parent = root;
    root.children.push(t);
    x += dims[i].w + gap;
  });
  return root;
}

// ---- scales and ticks ----

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
  s.ticks = () => logTicks([d0, d1]);
  return s;
}

/** Band scale: n equal slots across [r0, r1]; returns { x(i), width, step }. */
export function band(n, [r0, r1], padding = 0.2) {
  const step = (r1 - r0) / Math.max(1, n);
  return { x: (i) => r0 + i * step + (step * padding) / 2, width: step * (1 - padding), step };
}

/** About n round values (1, 2, 2.5, 5 x 10^e apart) within [a, b]. */
export function niceTicks(a, b, n = 5) {
  const d0 = Math.min(a, b), d1 = Math.max(a, b);
  if (!(d1 > d0)) return [d0];
  const raw = (d1 - d0) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out = [];
  for (let v = Math.ceil(d0 / step - 1e-9) * step; v <= d1 + 1e-9 * step; v += step)
    out.push(+(Math.round(v / step) * step).toPrecision(12));
  return out;
}

/** The 1-2-5 value below (round = Math.floor) or above (Math.ceil) v. */
export function nice125(v, round) {
  const e = Math.floor(Math.log10(v));
  const steps = [1, 2, 5, 10].map((m) => m * 10 ** e);
  return round === Math.floor ? steps.filter((s) => s <= v * 1.000001).pop() : steps.find((s) => s >= v * 0.999999);
}

/**
 * Ticks of a log axis: powers of ten, and 2 and 5 times them where the axis
 * spans two decades or less; over many decades (deep nets: 1e-2 down to
 * 1e-36) every few powers, so that at most about 8 labels share the axis.
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

// ---- axes, legends, lines ----

/**
 * Axes with grid lines and labels.
 * @param {object} g a tree node
 * @param {object} f frame()
 * @param {{x?: Function, y: Function, xTicks?: number[], yTicks?: number[],
 *          xFormat?: Function, yFormat?: Function, xLabel?: string, yLabel?: string}} o
 */
export function axes(g, f, o) {
  const yTicks = o.yTicks ?? o.y.ticks(5);
  const yFmt = o.yFormat ?? String;
  for (const t of yTicks) {
    const y = r2(o.y(t));
    el('line', { x1: f.x0, x2: f.x1, y1: y, y2: y, stroke: COLORS.grid }, g);
    text(g, f.x0 - 6, y + 4, yFmt(t), { 'text-anchor': 'end', fill: COLORS.muted, 'font-size': CHART.tick, class: 'tick' });
  }
  el('line', { x1: f.x0, x2: f.x1, y1: f.y0, y2: f.y0, stroke: COLORS.axis, class: 'axis' }, g);
  el('line', { x1: f.x0, x2: f.x0, y1: f.y0, y2: f.y1, stroke: COLORS.axis, class: 'axis' }, g);
  if (o.x) {
    const xFmt = o.xFormat ?? String;
    for (const t of o.xTicks ?? o.x.ticks(8)) {
      const x = r2(o.x(t));
      el('line', { x1: x, x2: x, y1: f.y0, y2: f.y0 + 4, stroke: COLORS.axis }, g);
      text(g, x, f.y0 + 16, xFmt(t), { 'text-anchor': 'middle', fill: COLORS.muted, 'font-size': CHART.tick, class: 'tick' });
    }
  }
  if (o.xLabel)
    text(g, (f.x0 + f.x1) / 2, f.height - 8, o.xLabel, { 'text-anchor': 'middle', class: 'axis-label' });
  if (o.yLabel)
    text(g, 14, (f.y0 + f.y1) / 2, o.yLabel,
         { 'text-anchor': 'middle', transform: `rotate(-90 14 ${r2((f.y0 + f.y1) / 2)})`, class: 'axis-label' });
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

/** The halo under a label drawn over lines: the background's colour around each glyph. */
export const HALO = Object.freeze({ stroke: COLORS.bg, 'stroke-width': 3, 'paint-order': 'stroke', 'stroke-linejoin': 'round' });

/**
 * A legend at the top right, wrapping onto more rows when narrow: items
 * [{label, color, dash?, band?, bar?, dot?, hollow?, glyph?}] (a line, dashed
 * or not; a pale band; a bar's swatch; a dot, filled or hollow; a character
 * as the chart draws it).
 */
export function legend(g, f, items) {
  for (const { x, y, it } of legendLayout(f, items)) {
    if (it.band || it.bar)
      el('rect', { x, y: y - 5, width: 18, height: 10, fill: it.color, opacity: it.bar ? 0.8 : 0.35,
                   stroke: it.stroke ?? null }, g);
    else if (it.glyph)
      text(g, x + 9, y + 4, it.glyph, { 'text-anchor': 'middle', fill: it.color, 'font-size': 13 });
    else if (it.dot || it.hollow)
      el('circle', { cx: x + 9, cy: y, r: 3.4, fill: it.hollow ? COLORS.bg : it.color, stroke: it.color,
                     'stroke-width': it.hollow ? 1.6 : 0, 'fill-opacity': it.dot && !it.hollow ? 0.6 : null }, g);
    else
      el('line', { x1: x, x2: x + 18, y1: y, y2: y, stroke: it.color,
                   'stroke-width': 2.5, 'stroke-dasharray': it.dash ?? null }, g);
    text(g, x + 22, y + 4, it.label, { 'font-size': CHART.tick, ...HALO, class: 'legend-label' });
  }
}

const r2 = (v) => Math.round(v * 100) / 100;

/** Path string through points [[x, y], ...]. */
export function line(points) {
  return points.map(([x, y], i) => `${i ? 'L' : 'M'}${x.toFixed(2)},${y.toFixed(2)}`).join('');
}

/** Closed band between upper and lower point lists (same xs). */
export function area(upper, lower) {
  return `${line(upper)}${lower.slice().reverse().map(([x, y]) => `L${x.toFixed(2)},${y.toFixed(2)}`).join('')}Z`;
}

export const pctFmt = (d = 0) => (v) => `${(100 * v).toFixed(d)}%`;
