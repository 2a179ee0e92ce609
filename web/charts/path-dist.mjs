// path-dist.mjs: chart 4, the distribution of path lengths in an n-block
// residual network: C(n, k) paths of length k, Binomial(n, 1/2), exact in
// log space. Optionally shades an effective window [a, b].
import { COLORS, CHART } from '../config.mjs';
import { el, text, tip, linear, band, axes, HALO } from '../svg.mjs';
import { chartBase, chartLayer, emptyChart } from './common.mjs';
import { pathLengthDistribution, pathShare, sup } from '../math.mjs';

const DESCRIPTION = 'One bar per path length k: the share of the 2^n paths through the network that take ' +
  'the residual branch at k of its n blocks; shaded, the effective window when measured.';

/**
 * The chart as a tree (svg.mjs).
 * @param {{n: number, color?: string, window?: {a: number, b: number}|null}|null} data
 * @param {{id?: string, width?: number, height?: number, title?: string, heading?: object, empty?: string}} [o]
 */
export function pathDistChart(data, o = {}) {
  const opts = { id: o.id, width: o.width, height: o.height, title: o.title ?? 'Path lengths: Binomial(n, 1/2)',
                 heading: o.heading, description: DESCRIPTION };
  if (!(data?.n > 0)) return emptyChart(opts, o.empty ?? 'Load a model to see its path lengths.');
  const n = data.n;
  const dist = pathLengthDistribution(n);
  const { root, f, g } = chartLayer(opts);
  const top = Math.max(...dist.map((d) => d.p)) * (data.window ? 1.28 : 1.15);   // room for the labels
  const y = linear([0, top], [f.y0, f.y1]);
  const xb = band(n + 1, [f.x0, f.x1], n > 40 ? 0.1 : 0.2);
  const x = linear([-0.5, n + 0.5], [f.x0, f.x1]);
  if (data.window) {
    const { a, b } = data.window;
    el('rect', { x: r2(x(a - 0.5)), y: f.y1, width: r2(x(b + 0.5) - x(a - 0.5)), height: f.y0 - f.y1,
                 fill: COLORS.window, opacity: 0.45, class: 'window' }, g);
  }
  axes(g, f, {
    y, yFormat: (v) => `${(100 * v).toFixed(v < 0.1 && top < 0.2 ? 1 : 0)}%`, yLabel: 'share of all paths',
    x, xTicks: x.ticks(Math.min(10, n)).filter((t) => Number.isInteger(t) && t >= 0 && t <= n),
    xLabel: `path length k (residual branches on the path), n = ${n} blocks`,
  });
  const color = data.color ?? COLORS.resnet;
  for (const d of dist) {
    const r = el('rect', { x: r2(xb.x(d.k)), y: r2(y(d.p)), width: r2(Math.max(0.8, xb.width)), height: r2(f.y0 - y(d.p)),
                           fill: color, opacity: 0.85, 'data-k': d.k, 'data-p': d.p }, g);
    tip(r, `length ${d.k}: C(${n},${d.k}) ${eq(d.logPaths)} ${fmtCount(d.logPaths)} paths, ${(100 * d.p).toPrecision(3)}% of all`);
  }
  const total = n * Math.LN2;
  text(g, f.x0 + 8, f.y1 + 14, `2${sup(n)} ${eq(total)} ${fmtCount(total)} paths, mean length ${n / 2}`,
       { 'font-size': CHART.tick, fill: COLORS.muted, ...HALO, class: 'path-count' });
  if (data.window) {
    const share = pathShare(n, data.window.a, data.window.b);
    text(g, f.x0 + 8, f.y1 + 30, `shaded: lengths ${data.window.a}-${data.window.b}, ` +
         `${(100 * share).toPrecision(3)}% of all paths`, { 'font-size': CHART.tick, ...HALO });
  }
  return root;
}

export function createPathDistChart(container, options = {}) {
  const base = chartBase(container, (data, o) => pathDistChart(data, { ...options, ...o }));
  const distOf = () => (base.current ? pathLengthDistribution(base.current.n) : []);
  return {
    update: base.update, reset: base.reset, svg: base.svg,
    rows: () => distOf().map((d) => ({ length: d.k, paths: Math.round(d.paths) < 2 ** 53 ? Math.round(d.paths) : d.paths, log10_paths: d.logPaths / Math.LN10, share: d.p })),
    json: () => base.current && { n: base.current.n, window: base.current.window ?? null,
      distribution: distOf().map((d) => d.p) },
  };
}

const r2 = (v) => Math.round(v * 100) / 100;

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
