// error-k.mjs: charts 2 and 3, test error against the number k of deleted
// blocks or of swaps (or, for swaps, against Kendall's tau of the order; for
// deletions, against the share k/n of the blocks, which sets nets of
// different depths on one axis): mean line, mean +- sd band, dotted min /
// max, one series per model.
import { COLORS } from '../config.mjs';
import { linear, axes, legend, pctFmt } from '../svg.mjs';
import { chartBase, chartLayer, emptyChart, drawBandSeries, hRule, errorCeiling } from './common.mjs';

const DESCRIPTION = 'Test error against k, one line per model: the mean over the random draws, ' +
  'a band of ± one standard deviation, the smallest and largest draw dotted.';

/**
 * The chart as a tree (svg.mjs): the page's (createErrorKChart) and docs/results' figure.
 * @param {{series: {name: string, color: string, selectable?: boolean, blocks?: number, kmax?: number,
 *   points: {k: number, mean: number, sd: number, min: number, max: number, tau?: number,
 *   errors?: number[], taus?: number[]}[]}[], kmax?: number}|null} data blocks: the model's n and
 *   kmax its largest k (for the k/n axis)
 * @param {{id?: string, width?: number, height?: number, title?: string, heading?: object, empty?: string,
 *          xLabel?: string, xMode?: 'k'|'tau'|'share', kWords?: (k: number) => string, draws?: boolean,
 *          pointTitles?: boolean,
 *          onSelect?: (model: string, k: number, sample: number) => void}} [o]
 *   onSelect: a draw's dot of a series marked selectable was chosen: try that plan;
 *   draws: every draw a dot (at its own tau on the tau axis), buttons or not;
 *   pointTitles: each mean's marker has a tooltip (docs/results: no page around it);
 *   kWords: what k means, in words ("3 blocks deleted"), for the dots' names
 */
export function errorKChart(data, o = {}) {
  const opts = { id: o.id, width: o.width, height: o.height, title: o.title ?? 'Error against k', heading: o.heading,
                 description: DESCRIPTION };
  const kWords = o.kWords ?? ((k) => `k = ${k}`);
  const series = (data?.series ?? []).filter((s) => s.points?.some((p) => Number.isFinite(p.mean)));
  if (!series.length) return emptyChart(opts, o.empty ?? 'Run the experiment to fill this chart.');
  const xMode = o.xMode ?? 'k';
  const mode = xMode === 'share' && !series.every((s) => s.blocks > 0) ? 'k' : xMode;
  const xOf = (p, s) => (mode === 'tau' ? p.tau : mode === 'share' ? p.k / s.blocks : p.k);
  const all = series.flatMap((s) => s.points.filter((p) => Number.isFinite(p.mean)));
  const top = errorCeiling(all.map((p) => p.max ?? p.mean));
  const selectable = (s) => o.onSelect && s.selectable;
  const { root, f, g } = chartLayer(opts, series.map((s) => {
    const ps = s.points.filter((p) => Number.isFinite(p.mean)).sort((a, b) => a.k - b.k);
    const at = (p) => `${(100 * p.mean).toFixed(1)}% at ${kWords(p.k)}`;
    return `${s.name}: mean error ${at(ps[0])}${ps.length > 1 ? `, ${at(ps[ps.length - 1])}` : ''}.` +
      (selectable(s) ? ' Each draw is a button that puts its plan on the network above.' : '');
  }).join(' '));
  let x;
  if (mode === 'tau') {
    const taus = all.flatMap((p) => [p.tau, ...(p.taus ?? [])]).filter(Number.isFinite);
    const lo = Math.min(...taus, 0.9);
    x = linear([1, Math.floor(lo * 10) / 10], [f.x0, f.x1]);   // tau falls to the right
  } else if (mode === 'share') {
    const most = Math.max(...series.map((s) => (s.kmax ?? Math.max(...s.points.map((p) => p.k))) / s.blocks));
    x = linear([0, Math.min(1, Math.max(most, 0.1))], [f.x0, f.x1]);
  } else {
    const kmax = Math.max(...(data.kmax != null ? [data.kmax] : all.map((p) => p.k)), 1);
    x = linear([0, kmax], [f.x0, f.x1]);
  }
  const y = linear([0, top], [f.y0, f.y1]);
  axes(g, f, {
    x, y, yFormat: pctFmt(top <= 0.2 ? 1 : 0), yLabel: 'test error',
    xTicks: mode === 'k' ? x.ticks(Math.min(10, x.domain[1])).filter(Number.isInteger) : x.ticks(6),
    xFormat: mode === 'tau' ? (v) => v.toFixed(1) : mode === 'share' ? pctFmt(0) : String,
    xLabel: mode === 'tau' ? "Kendall's tau of the block order (1 = original)"
      : mode === 'share' ? 'k/n: share of the blocks deleted' : (o.xLabel ?? 'k'),
  });
  if (top >= 0.9) hRule(g, f, y(0.9), 'chance (90%)', COLORS.chance, '2 3');
  for (const s of series)
    drawBandSeries(g, { x, y }, { color: s.color,
      points: s.points.filter((p) => Number.isFinite(xOf(p, s))).map((p) => ({ ...p, x: xOf(p, s) })) },
    { draws: o.draws, drawX: mode === 'tau' ? (p, i) => p.taus?.[i] ?? p.tau : undefined,
      onDraw: selectable(s) ? (p, sample) => o.onSelect(s.name, p.k, sample) : undefined,
      drawLabel: (p, sample) => `Try ${s.name} with ${kWords(p.k)}, draw ${sample + 1} of ${p.errors.length}: ` +
        `error ${(100 * p.errors[sample]).toFixed(1)}%` +
        (p.taus?.[sample] != null ? `, Kendall's tau ${p.taus[sample].toFixed(2)}` : ''),
      pointTitle: !o.pointTitles ? undefined : (p) => `${s.name}, ${kWords(p.k)}: ${(100 * p.mean).toFixed(2)}% ± ` +
        `${(100 * p.sd).toFixed(2)} (min ${(100 * p.min).toFixed(2)}%, max ${(100 * p.max).toFixed(2)}%)` +
        (p.tau != null ? `, mean tau ${p.tau.toFixed(3)}` : '') });
  legend(g, f, [...series.map((s) => ({ label: s.name, color: s.color })),
                { label: '± sd', color: COLORS.muted, band: true },
                { label: 'min/max', color: COLORS.muted, dash: '2 3' },
                ...(o.draws ? [{ label: 'one draw', color: COLORS.muted, dot: true }] : [])]);
  return root;
}

/**
 * @param {HTMLElement} container
 * @param {{title?: string, xLabel?: string, xMode?: 'k'|'tau'|'share', kWords?: (k: number) => string,
 *          onSelect?: (model: string, k: number, sample: number) => void}} [options] as errorKChart's
 */
export function createErrorKChart(container, options = {}) {
  let xMode = options.xMode ?? 'k';
  const base = chartBase(container, (data, o) => errorKChart(data, { ...options, ...o, xMode }));
  return {
    update: base.update, reset: base.reset, svg: base.svg,
    setXMode(mode) { xMode = mode; if (base.current) base.update(base.current); },
    rows: () => (base.current?.series ?? []).flatMap((s) => s.points.map((p) => ({
      model: s.name, k: p.k, mean: p.mean, sd: p.sd, min: p.min, max: p.max,
      ...(p.tau !== undefined ? { tau: p.tau } : {}), samples: p.errors?.length ?? '' }))),
    json: () => base.current,
  };
}
