// path-dist.mjs: chart 4, the distribution of path lengths in an n-block
// residual network: C(n, k) paths of length k, Binomial(n, 1/2), exact in
// log space. Optionally shades an effective window [a, b].
import { COLORS } from '../config.mjs';
import { chartSvg, frame, el, text, linear, band, axes, emptyMessage } from '../svg.mjs';
import { pathLengthDistribution, pathShare, sup } from '../math.mjs';

export function createPathDistChart(container, options = {}) {
  const svg = chartSvg(container, { title: options.title ?? 'Path lengths: Binomial(n, 1/2)',
    description: 'One bar per path length k: the share of the 2^n paths through the network that take ' +
      'the residual branch at k of its n blocks; shaded, the effective window when measured.' });
  const f = frame();
  let g = el('g', {}, svg);
  let current = null;

  function reset(message = 'Load a model to see its path lengths.') {
    current = null;
    g.remove();
    g = el('g', {}, svg);
    emptyMessage(g, f, message);
  }

  /** @param {{n: number, color?: string, window?: {a: number, b: number}|null}} data */
  function update(data) {
    const dist = pathLengthDistribution(data.n);
    current = { n: data.n, window: data.window ?? null, dist };
    g.remove();
    g = el('g', {}, svg);
    const n = data.n;
    const top = Math.max(...dist.map((d) => d.p)) * (data.window ? 1.28 : 1.15);   // room for the labels
    const y = linear([0, top], [f.y0, f.y1]);
    const xb = band(n + 1, [f.x0, f.x1], n > 40 ? 0.1 : 0.2);
    const x = linear([-0.5, n + 0.5], [f.x0, f.x1]);
    if (data.window) {
      const { a, b } = data.window;
      el('rect', { x: x(a - 0.5), y: f.y1, width: x(b + 0.5) - x(a - 0.5), height: f.y0 - f.y1,
                   fill: COLORS.window, opacity: 0.45 }, g);
    }
    axes(g, f, {
      y, yFormat: (v) => `${(100 * v).toFixed(v < 0.1 && top < 0.2 ? 1 : 0)}%`, yLabel: 'share of all paths',
      x, xTicks: x.ticks(Math.min(10, n)).filter((t) => Number.isInteger(t) && t >= 0 && t <= n),
      xLabel: `path length k (residual branches on the path), n = ${n} blocks`,
    });
    const color = data.color ?? COLORS.resnet;
    for (const d of dist) {
      const r = el('rect', { x: xb.x(d.k), y: y(d.p), width: Math.max(0.8, xb.width), height: f.y0 - y(d.p),
                             fill: color, opacity: 0.85, 'data-k': d.k, 'data-p': d.p }, g);
      el('title', {}, r).textContent = `length ${d.k}: C(${n},${d.k}) ${eq(d.logPaths)} ${fmtCount(d.logPaths)} paths, ` +
        `${(100 * d.p).toPrecision(3)}% of all`;
    }
    const total = n * Math.LN2;
    text(g, f.x0 + 8, f.y1 + 14, `2${sup(n)} ${eq(total)} ${fmtCount(total)} paths, mean length ${n / 2}`,
         { 'font-size': 11, fill: COLORS.muted, stroke: '#fff', 'stroke-width': 3, 'paint-order': 'stroke', class: 'path-count' });
    if (data.window) {
      const share = pathShare(n, data.window.a, data.window.b);
      text(g, f.x0 + 8, f.y1 + 30, `shaded: lengths ${data.window.a}-${data.window.b}, ` +
           `${(100 * share).toPrecision(3)}% of all paths`, { 'font-size': 11, fill: COLORS.ink, stroke: '#fff', 'stroke-width': 3, 'paint-order': 'stroke' });
    }
  }

  reset();
  return {
    update, reset, svg,
    rows: () => (current?.dist ?? []).map((d) => ({ length: d.k, paths: Math.round(d.paths) < 2 ** 53 ? Math.round(d.paths) : d.paths, log10_paths: d.logPaths / Math.LN10, share: d.p })),
    json: () => current && { n: current.n, window: current.window,
      distribution: current.dist.map((d) => d.p) },
  };
}

/**
 * A count given as ln(count): exact below 1e6 ("512", "1,048,576"), otherwise
 * in one notation with superscripts, as 2⁵⁴ is written: "1.8 × 10¹⁶".
 */
export function fmtCount(ln) {
  const v = Math.exp(ln);
  if (v < 1e6) return Math.round(v).toLocaleString('en-US');
  let e = Math.floor(ln / Math.LN10);
  let m = Math.exp(ln - e * Math.LN10);
  if (m >= 9.95) { m /= 10; e += 1; }   // 9.96 x 10^5 reads 1.0 x 10^6
  return `${m.toFixed(1)} × 10${sup(e)}`;
}

/** "=" before an exact count, "≈" before a rounded one. */
const eq = (ln) => (Math.exp(ln) < 1e6 ? '=' : '≈');
