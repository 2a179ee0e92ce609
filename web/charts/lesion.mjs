// lesion.mjs: chart 1, test error when each block alone is deleted.
// One bar per block, stage bands behind, downsampling blocks marked, a dashed
// line per model for the full network, a dotted line at chance (90%), and
// on each bar the 95% interval of its change (paired image by image).
// Two models with the same blocks share one panel (grouped bars); models of
// different depths get one panel each, stacked, on a shared error scale, so a
// 9-block and a 54-block net can be set side by side.
import { COLORS, CHART } from '../config.mjs';
import { el, text, tip, linear, band, axes, legend, legendRows, pctFmt, frame, choosable, HALO } from '../svg.mjs';
import { chartBase, chartLayer, emptyChart, hRule, errorCeiling } from './common.mjs';

const PANEL_HEIGHT = 150;   // plot height of each stacked panel
const PANEL_GAP = 50;       // room under a stacked panel for its block numbers
const TITLE = 'Error when one block is deleted';
const DESCRIPTION = 'One bar per block: the test error with that block alone deleted, with the 95% interval ' +
  'of its change from the full network (paired image by image); a dashed line per model: the full network.';

/**
 * The chart as a tree (svg.mjs): the page's (createLesionChart) and
 * docs/results' figure.
 * @param {{series: {name: string, color: string, selectable?: boolean, result: {full: {error: number}|null,
 *   blocks: {block: number, stage: number, downsample: boolean, deletable: boolean,
 *   error: number|null, ci95?: number, turnedWrong?: number, turnedRight?: number}[]}}[]}|null} data
 * @param {{id?: string, width?: number, height?: number, title?: string, heading?: object, empty?: string,
 *   onSelect?: (model: string, block: number) => void}} [o] onSelect: a bar of a series marked
 *   selectable was clicked (or chosen with Enter): try that deletion
 */
export function lesionChart(data, o = {}) {
  const margin = { ...CHART.margin, bottom: 58 };
  const width = o.width ?? CHART.width, height = o.height ?? CHART.height;
  const opts = { id: o.id, width, height, margin, title: o.title ?? TITLE, heading: o.heading, description: DESCRIPTION };
  const series = (data?.series ?? []).filter((s) => s.result?.blocks?.length);
  if (!series.length) return emptyChart(opts, o.empty ?? 'Run the lesion study to fill this chart.');
  const errs = series.flatMap((s) => [s.result.full?.error, ...s.result.blocks.map((b) => (b.error ?? NaN) + (b.ci95 ?? 0))]);
  const top = errorCeiling(errs);
  const summary = series.map((s) => describeSeries(s, o.onSelect && s.selectable)).join(' ');
  const sameBlocks = series.every((s) => s.result.blocks.length === series[0].result.blocks.length);
  // the reference lines are named in the legend, above the plot, never over the bars
  const items = legendItems(series, top);
  const single = frame(width, height, margin);
  const below = 15 * (legendRows(single, items) - 1);   // a second legend row lowers the plot
  if (sameBlocks) {
    const { root, f, g } = chartLayer(opts, summary);
    drawPanel(g, { ...f, y1: f.y1 + below }, series, top, { yLabel: 'test error', onSelect: o.onSelect });
    legend(g, f, items);
    return root;
  }
  // models of different depths: one panel each, stacked; the svg keeps its width and grows
  const tall = margin.top + below + series.length * (PANEL_HEIGHT + PANEL_GAP) - PANEL_GAP + margin.bottom;
  const { root, f, g } = chartLayer({ ...opts, height: tall }, summary);
  legend(g, f, items);
  series.forEach((s, i) => {
    const y1 = f.y1 + below + i * (PANEL_HEIGHT + PANEL_GAP);
    const pf = { ...f, y1, y0: y1 + PANEL_HEIGHT };
    drawPanel(g, pf, [s], top, { yTicks: 3, yLabel: 'test error', onSelect: o.onSelect });
    text(g, pf.x0 + 4, pf.y1 + 12, `${s.name} (${s.result.blocks.length} blocks)`,
         { 'font-weight': 600, 'font-size': CHART.tick, ...HALO });
  });
  return root;
}

/**
 * @param {HTMLElement} container
 * @param {{title?: string, onSelect?: (model: string, block: number) => void}} [options] as lesionChart's
 */
export function createLesionChart(container, options = {}) {
  const base = chartBase(container, (data, o) => lesionChart(data, { ...options, ...o }));
  return {
    update: base.update, reset: base.reset, svg: base.svg,
    rows: () => (base.current?.series ?? []).flatMap((s) => [
      { model: s.name, block: 'full', stage: '', downsample: '', deletable: '', error: s.result?.full?.error ?? '',
        turned_wrong: '', turned_right: '', ci95: '' },
      ...(s.result?.blocks ?? []).map((b) => ({ model: s.name, block: b.block, stage: b.stage,
        downsample: b.downsample, deletable: b.deletable, error: b.error ?? '',
        turned_wrong: b.turnedWrong ?? '', turned_right: b.turnedRight ?? '', ci95: b.ci95 ?? '' }))]),
    json: () => base.current,
  };
}

/** The legend: each model's bars and its full network's dashed line (with its error), and chance. */
function legendItems(series, top) {
  const items = series.flatMap((s) => [{ label: s.name, color: s.color, bar: true },
    ...(s.result.full?.error != null ? [{ label: `full ${(100 * s.result.full.error).toFixed(1)}%`, color: s.color, dash: '5 4' }] : [])]);
  if (top >= 0.9) items.push({ label: 'chance 90%', color: COLORS.chance, dash: '2 3' });
  if (series.some((s) => s.result.blocks.some((b) => !b.deletable)))
    items.push({ label: 'not deletable', color: COLORS.muted, glyph: '×' });
  return items;
}

/** A series in words: its full network and the range of its deletions, and whether its bars are buttons. */
function describeSeries(s, selectable) {
  const errs = s.result.blocks.filter((b) => b.error != null).map((b) => 100 * b.error);
  const full = s.result.full?.error;
  return `${s.name}: ${full != null ? `full network ${(100 * full).toFixed(1)}% error; ` : ''}` +
    (errs.length ? `one block deleted, ${Math.min(...errs).toFixed(1)}% to ${Math.max(...errs).toFixed(1)}% error.`
      : 'no deletion measured yet.') +
    (selectable ? ' Each of its bars is a button that deletes that block in the network above.' : '');
}

/** A bar as a button: what choosing it does, and what it shows. */
export function barLabel(s, b) {
  const full = s.result.full?.error;
  const change = full == null ? '' : `, ${b.error >= full ? '+' : '−'}${(100 * Math.abs(b.error - full)).toFixed(2)} points` +
    (b.ci95 != null ? ` ± ${(100 * b.ci95).toFixed(2)}` : '');
  return `Delete block ${b.block} (stage ${b.stage}${b.downsample ? ', downsampling' : ''}) of ${s.name}: ` +
    `error ${(100 * b.error).toFixed(2)}%${change}`;
}

/** One plot frame f: stage bands, axes, a bar per block for each series (grouped), labels. */
function drawPanel(g, f, series, top, o) {
  const blocks = series[0].result.blocks;
  const n = blocks.length;
  const y = linear([0, top], [f.y0, f.y1]);
  const xb = band(n, [f.x0, f.x1], 0.25);
  let start = 0;
  for (let i = 1; i <= n; i++) {
    if (i === n || blocks[i].stage !== blocks[start].stage) {
      const st = blocks[start].stage;
      const x0 = f.x0 + start * xb.step, x1 = f.x0 + i * xb.step;
      el('rect', { x: r2(x0), y: f.y1, width: r2(x1 - x0), height: f.y0 - f.y1,
                   fill: COLORS.stageLight[st - 1], opacity: 0.55, class: 'stage-band' }, g);
      text(g, r2((x0 + x1) / 2), f.y0 + 40, `stage ${st}`,
           { 'text-anchor': 'middle', fill: COLORS.stageText[st - 1], 'font-weight': 600, 'font-size': CHART.tick });
      start = i;
    }
  }
  axes(g, f, { y, yTicks: o.yTicks ? y.ticks(o.yTicks) : undefined, yFormat: pctFmt(top <= 0.2 ? 1 : 0),
               yLabel: o.yLabel });
  const w = xb.width / series.length;
  series.forEach((s, si) => {
    for (const b of s.result.blocks) {
      const x = xb.x(b.block) + si * w;
      if (!b.deletable) {
        text(g, r2(x + w / 2), f.y0 - 6, '×', { 'text-anchor': 'middle', fill: s.color, 'font-size': 13,
                                              'data-block': b.block, 'data-model': s.name, class: 'not-deletable' });
        continue;
      }
      if (b.error == null) {
        el('rect', { x: r2(x), y: f.y1, width: r2(w), height: f.y0 - f.y1, fill: s.color, opacity: 0.06 }, g);
        continue;
      }
      const rect = el('rect', { x: r2(x), y: r2(y(b.error)), width: r2(Math.max(1, w - 1)), height: r2(f.y0 - y(b.error)),
                                fill: s.color, opacity: b.downsample ? 1 : 0.8,
                                'data-block': b.block, 'data-error': b.error, 'data-model': s.name,
                                'data-ci95': b.ci95 ?? null }, g);
      const full = s.result.full?.error;
      const change = b.ci95 != null && full != null
        ? `; change ${b.error >= full ? '+' : '−'}${(100 * Math.abs(b.error - full)).toFixed(2)} points ± ${(100 * b.ci95).toFixed(2)} (95%, paired), ` +
          `${b.turnedWrong} answers turned wrong, ${b.turnedRight} right` : '';
      tip(rect,
        `${s.name}: block ${b.block}${b.downsample ? ' (downsampling)' : ''} deleted: ${(100 * b.error).toFixed(2)}% error${change}` +
        (o.onSelect && s.selectable ? '. Click to delete it in the network above.' : ''));
      if (o.onSelect && s.selectable) choosable(rect, barLabel(s, b), () => o.onSelect(s.name, b.block));
      // whisker: the 95% interval of the change from the full network, paired
      // image by image, drawn around the bar's top
      if (b.ci95 > 0) {
        const cx = r2(x + Math.max(1, w - 1) / 2), cap = r2(Math.min(4, w / 3));
        const lo = r2(y(Math.max(0, b.error - b.ci95))), hi = r2(y(Math.min(top, b.error + b.ci95)));
        el('path', { d: `M${cx},${lo}V${hi}M${r2(cx - cap)},${lo}H${r2(cx + cap)}M${r2(cx - cap)},${hi}H${r2(cx + cap)}`,
                     stroke: COLORS.ink, 'stroke-width': 1, opacity: 0.7, fill: 'none', class: 'ci' }, g);
      }
    }
  });
  // block labels, downsampling marked; with many narrow bars only every few
  // blocks and the downsampling ones are named, so labels never collide
  const every = Math.max(1, Math.ceil(16 / Math.max(1, xb.width)));
  for (const b of blocks) {
    const cx = r2(xb.x(b.block) + xb.width / 2);
    if (!b.downsample && b.block % every) continue;
    text(g, cx, f.y0 + 15, String(b.block), { 'text-anchor': 'middle', 'font-size': 10, class: 'tick',
      fill: b.downsample ? COLORS.ink : COLORS.muted, 'font-weight': b.downsample ? 700 : 400 });
    if (b.downsample)
      text(g, cx, f.y0 + 27, '↓2', { 'text-anchor': 'middle', 'font-size': 10, fill: COLORS.ink });
  }
  if (top >= 0.9) hRule(g, f, y(0.9), null, COLORS.chance, '2 3');
  for (const s of series)
    if (s.result.full?.error != null) hRule(g, f, y(s.result.full.error), null, s.color, '5 4');
}

const r2 = (v) => Math.round(v * 100) / 100;
