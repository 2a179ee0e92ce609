// lesion.mjs: chart 1, test error when each block alone is deleted.
// One bar per block, stage bands behind, downsampling blocks marked, a dashed
// line per model for the full network, a dotted line at chance (90%), and
// on each bar the 95% interval of its change (paired image by image).
// Two models with the same blocks share one panel (grouped bars); models of
// different depths get one panel each, stacked, on a shared error scale, so a
// 9-block and a 54-block net can be set side by side.
import { COLORS, CHART } from '../config.mjs';
import { el, text, linear, band, axes, legend, legendRows, pctFmt, frame, choosable } from '../svg.mjs';
import { chartBase, hRule, errorCeiling } from './common.mjs';

const PANEL_HEIGHT = 150;   // plot height of each stacked panel
const PANEL_GAP = 50;       // room under a stacked panel for its block numbers

/**
 * @param {HTMLElement} container
 * @param {{title?: string, onSelect?: (model: string, block: number) => void}} [options]
 *   onSelect: a bar of a series marked selectable was clicked (or chosen with Enter): try that deletion
 */
export function createLesionChart(container, options = {}) {
  const margin = { ...CHART.margin, bottom: 58 };
  const base = chartBase(container, { title: options.title ?? 'Error when one block is deleted',
    description: 'One bar per block: the test error with that block alone deleted, with the 95% interval ' +
      'of its change from the full network (paired image by image); a dashed line per model: the full network.',
    empty: 'Run the lesion study to fill this chart.', margin });
  const { svg } = base;
  const single = { ...base.f };

  // The stacked layout is taller; the svg keeps its width and grows.
  function resize(height) {
    svg.setAttribute('viewBox', `0 0 ${single.width} ${height}`);
    svg.setAttribute('height', height);
    svg.querySelector(':scope > rect')?.setAttribute('height', height);
  }

  function reset(message) {
    resize(single.height);
    base.reset(message);
  }

  /**
   * @param {{series: {name: string, color: string, result: {full: {error: number}|null,
   *   blocks: {block: number, stage: number, downsample: boolean, deletable: boolean,
   *   error: number|null}[]}}[]}} data
   */
  function update(data) {
    const series = data.series.filter((s) => s.result?.blocks?.length);
    if (!series.length) { reset(); return; }
    const errs = series.flatMap((s) => [s.result.full?.error, ...s.result.blocks.map((b) => (b.error ?? NaN) + (b.ci95 ?? 0))]);
    const top = errorCeiling(errs);
    base.describe(series.map((s) => summary(s, options.onSelect && s.selectable)).join(' '));
    const sameBlocks = series.every((s) => s.result.blocks.length === series[0].result.blocks.length);
    // the reference lines are named in the legend, above the plot, never over the bars
    const items = legendItems(series, top);
    const below = 15 * (legendRows(single, items) - 1);   // a second legend row lowers the plot
    if (sameBlocks) {
      resize(single.height);
      const g = base.draw(data);
      drawPanel(g, { ...single, y1: single.y1 + below }, series, top, { yLabel: 'test error', onSelect: options.onSelect });
      legend(g, single, items);
      return;
    }
    const height = margin.top + below + series.length * (PANEL_HEIGHT + PANEL_GAP) - PANEL_GAP + margin.bottom;
    resize(height);
    const g = base.draw(data);
    legend(g, single, items);
    series.forEach((s, i) => {
      const y1 = margin.top + below + i * (PANEL_HEIGHT + PANEL_GAP);
      const pf = { ...frame(single.width, height, margin), y1, y0: y1 + PANEL_HEIGHT };
      drawPanel(g, pf, [s], top, { yTicks: 3, yLabel: 'test error', onSelect: options.onSelect });
      text(g, pf.x0 + 4, pf.y1 + 12, `${s.name} (${s.result.blocks.length} blocks)`,
           { fill: s.color, 'font-weight': 600, 'font-size': 11, stroke: '#fff', 'stroke-width': 3,
             'paint-order': 'stroke' });
    });
  }

  return {
    update, reset, svg,
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
  return items;
}

/** A series in words: its full network and the range of its deletions, and whether its bars are buttons. */
function summary(s, selectable) {
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
      el('rect', { x: x0, y: f.y1, width: x1 - x0, height: f.y0 - f.y1,
                   fill: COLORS.stageLight[st - 1], opacity: 0.55 }, g);
      text(g, (x0 + x1) / 2, f.y0 + 40, `stage ${st}`,
           { 'text-anchor': 'middle', fill: COLORS.stage[st - 1], 'font-weight': 600, 'font-size': 11 });
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
        text(g, x + w / 2, f.y0 - 6, '×', { 'text-anchor': 'middle', fill: s.color, 'font-size': 13 });
        continue;
      }
      if (b.error == null) {
        el('rect', { x, y: f.y1, width: w, height: f.y0 - f.y1, fill: s.color, opacity: 0.06 }, g);
        continue;
      }
      const rect = el('rect', { x, y: y(b.error), width: Math.max(1, w - 1), height: f.y0 - y(b.error),
                                fill: s.color, opacity: b.downsample ? 1 : 0.8,
                                'data-block': b.block, 'data-error': b.error, 'data-model': s.name,
                                'data-ci95': b.ci95 ?? null }, g);
      const full = s.result.full?.error;
      const change = b.ci95 != null && full != null
        ? `; change ${b.error >= full ? '+' : '−'}${(100 * Math.abs(b.error - full)).toFixed(2)} points ± ${(100 * b.ci95).toFixed(2)} (95%, paired), ` +
          `${b.turnedWrong} answers turned wrong, ${b.turnedRight} right` : '';
      el('title', {}, rect).textContent =
        `${s.name}: block ${b.block}${b.downsample ? ' (downsampling)' : ''} deleted: ${(100 * b.error).toFixed(2)}% error${change}` +
        (o.onSelect && s.selectable ? '. Click to delete it in the network above.' : '');
      if (o.onSelect && s.selectable) choosable(rect, barLabel(s, b), () => o.onSelect(s.name, b.block));
      // whisker: the 95% interval of the change from the full network, paired
      // image by image, drawn around the bar's top
      if (b.ci95 > 0) {
        const cx = x + Math.max(1, w - 1) / 2, cap = Math.min(4, w / 3);
        const lo = y(Math.max(0, b.error - b.ci95)), hi = y(Math.min(top, b.error + b.ci95));
        el('path', { d: `M${cx},${lo}V${hi}M${cx - cap},${lo}H${cx + cap}M${cx - cap},${hi}H${cx + cap}`,
                     stroke: COLORS.ink, 'stroke-width': 1, opacity: 0.7, fill: 'none', class: 'ci' }, g);
      }
    }
  });
  // block labels, downsampling marked; with many narrow bars only every few
  // blocks and the downsampling ones are named, so labels never collide
  const every = Math.max(1, Math.ceil(16 / Math.max(1, xb.width)));
  for (const b of blocks) {
    const cx = xb.x(b.block) + xb.width / 2;
    if (!b.downsample && b.block % every) continue;
    text(g, cx, f.y0 + 15, String(b.block), { 'text-anchor': 'middle', 'font-size': 10,
      fill: b.downsample ? COLORS.ink : COLORS.muted, 'font-weight': b.downsample ? 700 : 400 });
    if (b.downsample)
      text(g, cx, f.y0 + 27, '↓2', { 'text-anchor': 'middle', 'font-size': 10, fill: COLORS.ink });
  }
  if (top >= 0.9) hRule(g, f, y(0.9), null, COLORS.chance, '2 3');
  for (const s of series)
    if (s.result.full?.error != null) hRule(g, f, y(s.result.full.error), null, s.color, '5 4');
}
