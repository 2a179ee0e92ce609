// svgplot.mjs: static SVG charts for docs/RESULTS.md, as plain strings (no DOM, no deps).
//
// Each chart is one function `(data, options) -> string` built on `plot()`, which draws
// the frame (title, legend, grid, axes, labels) and hands the chart its scales. The
// palette matches the explorer page (web/config.mjs): Okabe-Ito, safe for the common
// colour-vision deficiencies. Text uses the reader's system sans-serif (no web fonts).

// ---- visual constants ----

export const COLORS = Object.freeze({
  resnet: '#0072B2',
  plain: '#D55E00',
  series: ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#56B4E9', '#E69F00'],
  downsample: '#ececec',   // background of downsampling-block columns
  window: '#F0E442',       // effective-window shading
  windowEdge: '#b8a800',
  chance: '#8a8a8a',
  ink: '#1d1d1f',
  muted: '#5f5f5f',
  grid: '#e6e6e6',
  axis: '#444444',
});

const FONT = 'system-ui, -apple-system, &quot;Segoe UI&quot;, Roboto, Helvetica, Arial, sans-serif';
const SIZE = Object.freeze({ width: 640, height: 340, title: 15, label: 12.5, tick: 11.5 });
const CHANCE = 0.9;  // CIFAR-10: 10 balanced classes
const HALO = 'stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"';  // legible over lines

// ---- small helpers ----

export function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const r2 = (v) => Math.round(v * 100) / 100;
export const pct = (v, digits = 1) => (v == null ? 'n/a' : `${(100 * v).toFixed(digits)}%`);

/** Rough text width in px for a sans-serif font (for legend layout only). */
const textWidth = (s, size) => String(s).length * size * 0.56;

/** Greedy word wrap to lines of at most `width` px (estimated). */
function wrap(text, width, size) {
  const lines = [];
  let cur = '';
  for (const w of String(text).split(' ')) {
    const next = cur ? `${cur} ${w}` : w;
    if (cur && textWidth(next, size) > width) lines.push(cur), (cur = w);
    else cur = next;
  }
  if (cur) lines.push(cur);
  return lines;
}

/** Ticks at 1, 2 or 5 x 10^e covering [lo, hi], about `count` of them. */
export function niceTicks(lo, hi, count = 5) {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / Math.max(1, count);
  const e = Math.floor(Math.log10(raw));
  const f = raw / 10 ** e;
  const step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * 10 ** e;
  const a = Math.floor(lo / step + 1e-9) * step, b = Math.ceil(hi / step - 1e-9) * step;
  const ticks = [];
  for (let v = a; v <= b + step / 2; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : +v.toPrecision(12));
  return { lo: a, hi: b, step, ticks };
}

/**
 * Decade ticks (and 2, 5 x 10^e when the range is under two decades) for a
 * log axis; over many decades every few powers, at most about 8 labels.
 */
export function logTicks(lo, hi) {
  const e0 = Math.floor(Math.log10(lo)), e1 = Math.ceil(Math.log10(hi));
  const ticks = [];
  const every = Math.max(1, Math.ceil((e1 - e0) / 8));
  for (let e = e0; e <= e1; e++) {
    if ((e - e1) % every) continue;
    const mult = e1 - e0 <= 2 ? [1, 2, 5] : [1];
    for (const m of mult) ticks.push(m * 10 ** e);
  }
  return { lo: 10 ** e0, hi: 10 ** e1, ticks: ticks.filter((t) => t >= 10 ** e0 && t <= 10 ** e1) };
}

const SUP = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };
export function fmtPow10(v) {
  const e = Math.floor(Math.log10(v) + 1e-9);
  const m = v / 10 ** e;
  const sup = String(e).split('').map((c) => SUP[c]).join('');
  return Math.abs(m - 1) < 1e-6 ? `10${sup}` : `${+m.toFixed(2)}·10${sup}`;
}

// ---- the frame ----

/**
 * plot(opts, draw): one chart with title, legend, grid and axes.
 * opts: { width, height, title, subtitle, xLabel, yLabel,
 *         x: { lo, hi, ticks, format, reverse, band: n (categorical, n slots), tickEvery },
 *         y: { lo, hi, ticks, format, log },
 *         legend: [{ label, color, kind: 'line'|'dash'|'dot'|'bar'|'band'|'swatch'|'cross', opacity }] }
 * draw(ctx): returns SVG markup; ctx = { sx, sy, x0, x1, y0, y1, bw (band width) }.
 */
export function plot(opts, draw) {
  const W = opts.width ?? SIZE.width, H = opts.height ?? SIZE.height;
  const legend = opts.legend ?? [];
  // Legend rows: wrap when wider than the plot.
  const rows = [[]];
  let used = 0;
  const avail = W - 80;
  for (const item of legend) {
    const w = 26 + textWidth(item.label, SIZE.tick) + 16;
    if (used + w > avail && rows[rows.length - 1].length) rows.push([]), (used = 0);
    rows[rows.length - 1].push({ ...item, w });
    used += w;
  }
  const titleH = opts.title ? 24 : 4;
  const subLines = opts.subtitle ? wrap(opts.subtitle, W - (opts.marginLeft ?? 62) - 12, SIZE.tick) : [];
  const subH = subLines.length * 15 + (subLines.length ? 2 : 0);
  const legendH = legend.length ? rows.length * 18 + 4 : 0;
  const m = { top: titleH + subH + legendH + 10, right: opts.marginRight ?? 20, bottom: 48 + (opts.bottomExtra ?? 0), left: opts.marginLeft ?? 62 };
  const x0 = m.left, x1 = W - m.right, y0 = H - m.bottom, y1 = m.top;
  const X = opts.x, Y = opts.y;

  let sx, bw = 0;
  if (X.band) {
    bw = (x1 - x0) / X.band;
    sx = (i) => x0 + bw * (i + 0.5);
  } else {
    const [a, b] = X.reverse ? [X.hi, X.lo] : [X.lo, X.hi];
    sx = (v) => x0 + ((v - a) / (b - a)) * (x1 - x0);
  }
  const sy = Y.log
    ? (v) => y0 - ((Math.log10(Math.max(v, Y.lo)) - Math.log10(Y.lo)) / (Math.log10(Y.hi) - Math.log10(Y.lo))) * (y0 - y1)
    : (v) => y0 - ((v - Y.lo) / (Y.hi - Y.lo)) * (y0 - y1);

  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
    `font-family="${FONT}" font-size="${SIZE.tick}" fill="${COLORS.ink}">`);
  if (opts.title) out.push(`<title>${esc(opts.title)}</title>`);
  out.push(`<defs><clipPath id="${opts.id ?? 'c'}-clip"><rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}"/></clipPath>` +
    `<pattern id="${opts.id ?? 'c'}-hatch" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
    `<line x1="0" y1="0" x2="0" y2="5" stroke="${COLORS.muted}" stroke-width="1.2"/></pattern></defs>`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  if (opts.title) out.push(`<text x="${x0}" y="18" font-size="${SIZE.title}" font-weight="600">${esc(opts.title)}</text>`);
  subLines.forEach((line, i) => out.push(`<text x="${x0}" y="${titleH + 12 + 15 * i}" font-size="${SIZE.tick}" fill="${COLORS.muted}">${esc(line)}</text>`));

  // Legend.
  rows.forEach((row, ri) => {
    let lx = x0;
    const ly = titleH + subH + 6 + ri * 18;
    for (const it of row) {
      out.push(legendKey(it, lx, ly + 6, opts.id ?? 'c'));
      out.push(`<text x="${lx + 24}" y="${ly + 10}">${esc(it.label)}</text>`);
      lx += it.w;
    }
  });

  // Grid and y axis.
  const yFmt = Y.format ?? ((v) => String(v));
  for (const t of Y.ticks) {
    const y = r2(sy(t));
    out.push(`<line x1="${x0}" x2="${x1}" y1="${y}" y2="${y}" stroke="${COLORS.grid}"/>`);
    out.push(`<text x="${x0 - 6}" y="${y + 4}" text-anchor="end">${esc(yFmt(t))}</text>`);
  }
  for (const t of Y.minor ?? []) {
    const y = r2(sy(t));
    out.push(`<line x1="${x0}" x2="${x1}" y1="${y}" y2="${y}" stroke="${COLORS.grid}" stroke-dasharray="2 3"/>`);
  }
  // x ticks.
  const xFmt = X.format ?? ((v) => String(v));
  if (X.band) {
    const every = X.tickEvery ?? 1;
    for (let i = 0; i < X.band; i += every) {
      const x = r2(sx(i));
      out.push(`<line x1="${x}" x2="${x}" y1="${y0}" y2="${y0 + 4}" stroke="${COLORS.axis}"/>`);
      out.push(`<text x="${x}" y="${y0 + 16}" text-anchor="middle">${esc(xFmt(i))}</text>`);
    }
  } else {
    for (const t of X.ticks) {
      const x = r2(sx(t));
      out.push(`<line x1="${x}" x2="${x}" y1="${y1}" y2="${y0}" stroke="${COLORS.grid}"/>`);
      out.push(`<line x1="${x}" x2="${x}" y1="${y0}" y2="${y0 + 4}" stroke="${COLORS.axis}"/>`);
      out.push(`<text x="${x}" y="${y0 + 16}" text-anchor="middle">${esc(xFmt(t))}</text>`);
    }
  }

  out.push(`<g clip-path="url(#${opts.id ?? 'c'}-clip)">`);
  out.push(draw({ sx, sy, x0, x1, y0, y1, bw, id: opts.id ?? 'c' }));
  out.push('</g>');
  if (opts.overlay) out.push(opts.overlay({ sx, sy, x0, x1, y0, y1, bw }));

  // Axes on top.
  out.push(`<line x1="${x0}" x2="${x1}" y1="${y0}" y2="${y0}" stroke="${COLORS.axis}"/>`);
  out.push(`<line x1="${x0}" x2="${x0}" y1="${y1}" y2="${y0}" stroke="${COLORS.axis}"/>`);
  out.push(`<text x="${(x0 + x1) / 2}" y="${H - 10}" text-anchor="middle" font-size="${SIZE.label}">${esc(opts.xLabel ?? '')}</text>`);
  out.push(`<text transform="translate(16 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle" font-size="${SIZE.label}">${esc(opts.yLabel ?? '')}</text>`);
  out.push('</svg>');
  return out.join('\n');
}

function legendKey(it, x, y, id) {
  const c = it.color;
  switch (it.kind) {
    case 'dash': return `<line x1="${x}" x2="${x + 18}" y1="${y}" y2="${y}" stroke="${c}" stroke-width="1.6" stroke-dasharray="5 3"/>`;
    case 'dot': return `<circle cx="${x + 9}" cy="${y}" r="3" fill="${c}" fill-opacity="${it.opacity ?? 0.6}"/>`;
    case 'bar': return `<rect x="${x + 3}" y="${y - 6}" width="12" height="12" fill="${c}"/>`;
    case 'swatch': return `<rect x="${x}" y="${y - 6}" width="18" height="12" fill="${c}" stroke="${it.stroke ?? 'none'}"/>`;
    case 'band': return `<rect x="${x}" y="${y - 5}" width="18" height="10" fill="${c}" fill-opacity="0.2"/>` +
      `<line x1="${x}" x2="${x + 18}" y1="${y}" y2="${y}" stroke="${c}" stroke-width="2"/>`;
    case 'whisker': return `<line x1="${x + 9}" x2="${x + 9}" y1="${y - 6}" y2="${y + 6}" stroke="${c}"/>` +
      `<line x1="${x + 6}" x2="${x + 12}" y1="${y - 6}" y2="${y - 6}" stroke="${c}"/><line x1="${x + 6}" x2="${x + 12}" y1="${y + 6}" y2="${y + 6}" stroke="${c}"/>`;
    case 'hollow': return `<circle cx="${x + 9}" cy="${y}" r="3.6" fill="#ffffff" stroke="${c}" stroke-width="1.6"/>`;
    case 'hatch': return `<rect x="${x + 3}" y="${y - 6}" width="12" height="12" fill="url(#${id}-hatch)" stroke="${COLORS.muted}"/>`;
    default: return `<line x1="${x}" x2="${x + 18}" y1="${y}" y2="${y}" stroke="${c}" stroke-width="2"/>` +
      `<circle cx="${x + 9}" cy="${y}" r="2.8" fill="${c}"/>`;
  }
}

/** Place charts side by side in one SVG (nested <svg> elements keep their own ids). */
export function row(svgs, gap = 8) {
  const dims = svgs.map((s) => {
    const m = /width="(\d+(?:\.\d+)?)" height="(\d+(?:\.\d+)?)"/.exec(s);
    return { w: +m[1], h: +m[2] };
  });
  const W = dims.reduce((a, d) => a + d.w, 0) + gap * (svgs.length - 1), H = Math.max(...dims.map((d) => d.h));
  let x = 0;
  const parts = svgs.map((s, i) => {
    const inner = s.replace('<svg ', `<svg x="${x}" y="0" `);
    x += dims[i].w + gap;
    return inner;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">\n` +
    `<rect width="${W}" height="${H}" fill="#ffffff"/>\n${parts.join('\n')}\n</svg>\n`;
}

/** y range for error rates: 0..100% when anything is near chance, else a nice bound. */
function errorAxis(maxErr) {
  if (maxErr > 0.5) return { lo: 0, hi: 1, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], format: (v) => `${Math.round(v * 100)}` };
  const t = niceTicks(0, maxErr * 1.08, 5);
  return { lo: 0, hi: t.hi, ticks: t.ticks, format: (v) => `${+(v * 100).toFixed(1)}` };
}

function chanceLine(ctx, yAxis) {
  if (yAxis.hi < CHANCE) return '';
  const y = r2(ctx.sy(CHANCE));
  return `<line x1="${ctx.x0}" x2="${ctx.x1}" y1="${y}" y2="${y}" stroke="${COLORS.chance}" stroke-dasharray="1.5 3" stroke-width="1.4"/>` +
    `<text x="${ctx.x1 - 4}" y="${y - 4}" text-anchor="end" fill="${COLORS.muted}" ${HALO}>chance (90%)</text>`;
}

// ---- 1. lesion: error with each block deleted alone ----

/**
 * data.series: [{ label, color, full, blocks: [{ block, stage, downsample, error|null }] }]
 * A null error is a block that may not be deleted (a plain net's downsampling block).
 */
export function lesionChart(data, opts = {}) {
  const series = data.series;
  const n = Math.max(...series.map((s) => s.blocks.length));
  const blocks = series[0].blocks;
  const maxErr = Math.max(...series.flatMap((s) => [s.full, ...s.blocks.map((b) => (b.error ?? 0) + (b.ci95 ?? 0))]));
  const Y = errorAxis(maxErr);
  const anyNull = series.some((s) => s.blocks.some((b) => b.error == null));
  const anyCi = series.some((s) => s.blocks.some((b) => b.ci95 > 0));
  const legend = [
    ...series.map((s) => ({ label: `${s.label} (full network ${pct(s.full)})`, color: s.color, kind: 'bar' })),
    { label: 'full network, no block deleted', color: COLORS.ink, kind: 'dash' },
    ...(anyCi ? [{ label: '95% interval of the change (paired)', color: COLORS.ink, kind: 'whisker' }] : []),
    { label: 'downsampling block', color: COLORS.downsample, kind: 'swatch', stroke: '#cfcfcf' },
    ...(anyNull ? [{ label: 'not deletable (plain net, shape changes)', kind: 'hatch' }] : []),
  ];
  const stageOf = blocks.map((b) => b.stage);
  return plot({
    id: opts.id ?? 'lesion', width: opts.width, height: opts.height ?? 360,
    title: opts.title ?? 'Test error with one block deleted', subtitle: opts.subtitle,
    xLabel: 'deleted block', yLabel: 'test error (%)',
    x: { band: n, tickEvery: n > 30 ? 3 : 1 }, y: Y, legend, bottomExtra: 14,
    overlay: (ctx) => {
      // Stage names under the block numbers, each centred on its stage.
      const o = [];
      let start = 0;
      blocks.forEach((b, i) => {
        if (i === blocks.length - 1 || stageOf[i + 1] !== b.stage) {
          const x = r2((ctx.sx(start) + ctx.sx(i)) / 2);
          o.push(`<text x="${x}" y="${ctx.y0 + 31}" text-anchor="middle" fill="${COLORS.muted}">stage ${b.stage}</text>`);
          start = i + 1;
        }
      });
      return o.join('\n');
    },
  }, (ctx) => {
    const o = [];
    const inner = ctx.bw * 0.8, w = inner / series.length;
    // Downsampling columns and stage separators behind the bars.
    blocks.forEach((b, i) => {
      if (b.downsample) o.push(`<rect x="${r2(ctx.sx(i) - ctx.bw / 2)}" y="${ctx.y1}" width="${r2(ctx.bw)}" height="${ctx.y0 - ctx.y1}" fill="${COLORS.downsample}"/>`);
      if (i > 0 && stageOf[i] !== stageOf[i - 1]) {
        const x = r2(ctx.sx(i) - ctx.bw / 2);
        o.push(`<line x1="${x}" x2="${x}" y1="${ctx.y1}" y2="${ctx.y0}" stroke="#b5b5b5" stroke-dasharray="3 3"/>`);
      }
    });
    o.push(chanceLine(ctx, Y));
    series.forEach((s, si) => {
      s.blocks.forEach((b, i) => {
        const x = r2(ctx.sx(i) - inner / 2 + si * w);
        if (b.error == null) {
          const h = 14;
          o.push(`<rect x="${x + 0.5}" y="${r2(ctx.y0 - h)}" width="${r2(w - 1)}" height="${h}" fill="url(#${ctx.id}-hatch)" stroke="${COLORS.muted}" stroke-width="0.8"/>`);
          return;
        }
        const y = r2(ctx.sy(b.error));
        o.push(`<rect x="${x + 0.5}" y="${y}" width="${r2(Math.max(1, w - 1))}" height="${r2(ctx.y0 - y)}" fill="${s.color}">` +
          `<title>${esc(`${s.label}: block ${b.block} deleted: ${pct(b.error, 2)}`)}</title></rect>`);
        if (b.ci95 > 0) {   // the 95% interval of the change from the full network, paired
          const cx = r2(x + 0.5 + Math.max(1, w - 1) / 2), cap = r2(Math.min(3, w / 3));
          const lo = r2(ctx.sy(Math.max(0, b.error - b.ci95))), hi = r2(ctx.sy(b.error + b.ci95));
          o.push(`<path class="ci" d="M${cx},${lo}V${hi}M${r2(cx - cap)},${lo}H${r2(cx + cap)}M${r2(cx - cap)},${hi}H${r2(cx + cap)}" ` +
            `stroke="${COLORS.ink}" stroke-width="0.9" opacity="0.75" fill="none"/>`);
        }
      });
    });
    // Full-network lines above all bars.
    for (const s of series) {
      const y = r2(ctx.sy(s.full));
      o.push(`<line x1="${ctx.x0}" x2="${ctx.x1}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="1.6" stroke-dasharray="5 3"/>`);
    }
    return o.join('\n');
  });
}

// ---- 2. error against k (random deletions, random swaps) ----

/**
 * data.series: [{ label, color, points: [{ k, mean, sd, min, max }] }]
 * Mean line with a +-1 sd band and min/max whiskers.
 */
export function curveChart(data, opts = {}) {
  const series = data.series;
  const kMax = Math.max(...series.flatMap((s) => s.points.map((p) => p.k)));
  const maxErr = Math.max(...series.flatMap((s) => s.points.map((p) => p.max)));
  const Y = errorAxis(maxErr);
  const X = niceTicks(0, kMax, Math.min(10, kMax));
  X.lo = 0, X.hi = kMax;
  X.ticks = X.ticks.filter((t) => t <= kMax && Number.isInteger(t));
  const legend = [
    ...series.map((s) => ({ label: `${s.label}: mean ± 1 sd`, color: s.color, kind: 'band' })),
    { label: 'min–max of draws', color: COLORS.muted, kind: 'whisker' },
  ];
  const pad = (X.hi - X.lo) * 0.02;
  return plot({
    id: opts.id ?? 'curve', width: opts.width, height: opts.height,
    title: opts.title, subtitle: opts.subtitle,
    xLabel: opts.xLabel ?? 'k', yLabel: 'test error (%)',
    x: { lo: X.lo - pad, hi: X.hi + pad, ticks: X.ticks }, y: Y, legend,
  }, (ctx) => {
    const o = [chanceLine(ctx, Y)];
    series.forEach((s, si) => {
      const pts = s.points;
      const dx = (si - (series.length - 1) / 2) * 3;  // keep whiskers of two series apart
      const up = pts.map((p) => `${r2(ctx.sx(p.k))},${r2(ctx.sy(Math.min(1, p.mean + p.sd)))}`);
      const dn = pts.map((p) => `${r2(ctx.sx(p.k))},${r2(ctx.sy(Math.max(0, p.mean - p.sd)))}`).reverse();
      o.push(`<polygon points="${[...up, ...dn].join(' ')}" fill="${s.color}" fill-opacity="0.18"/>`);
      for (const p of pts) {
        const x = r2(ctx.sx(p.k) + dx), a = r2(ctx.sy(p.min)), b = r2(ctx.sy(p.max));
        o.push(`<line x1="${x}" x2="${x}" y1="${a}" y2="${b}" stroke="${s.color}" stroke-width="1" stroke-opacity="0.8"/>` +
          `<line x1="${x - 2.5}" x2="${x + 2.5}" y1="${a}" y2="${a}" stroke="${s.color}" stroke-opacity="0.8"/>` +
          `<line x1="${x - 2.5}" x2="${x + 2.5}" y1="${b}" y2="${b}" stroke="${s.color}" stroke-opacity="0.8"/>`);
      }
      o.push(`<polyline points="${pts.map((p) => `${r2(ctx.sx(p.k))},${r2(ctx.sy(p.mean))}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
      for (const p of pts) {
        o.push(`<circle cx="${r2(ctx.sx(p.k))}" cy="${r2(ctx.sy(p.mean))}" r="2.8" fill="${s.color}">` +
          `<title>${esc(`${s.label}, k = ${p.k}: ${pct(p.mean, 2)} ± ${pct(p.sd, 2)} (min ${pct(p.min, 2)}, max ${pct(p.max, 2)})`)}</title></circle>`);
      }
    });
    return o.join('\n');
  });
}

// ---- 3a'. training curve (model cards) ----

/**
 * log: the trainer's JSON lines ({ epoch, train_error, test_error, test_error_exact_0_999 }).
 * Error against epoch: training error (augmented batches), the rebuilt 10,000 test images,
 * and the pixel-exact records 0-999.
 */
export function trainingChart(log, opts = {}) {
  const epochs = log.map((e) => e.epoch);
  const last = Math.max(...epochs);
  const series = [
    { key: 'train_error', label: 'training batches (augmented)', color: COLORS.series[2] },
    { key: 'test_error', label: 'test, rebuilt 10,000', color: COLORS.series[0] },
    { key: 'test_error_exact_0_999', label: 'test, pixel-exact 0-999', color: COLORS.series[1] },
  ];
  // The first epochs' errors would squash the rest: the axis ends at 2.5x the
  // final test errors, and the early part of the curves runs off the top.
  const end = log[log.length - 1];
  const maxErr = Math.min(Math.max(...log.flatMap((e) => series.map((s) => e[s.key] ?? 0))),
    2.5 * Math.max(end.test_error ?? 0, end.test_error_exact_0_999 ?? 0, 0.04));
  const Y = errorAxis(maxErr);
  const X = niceTicks(0, last, 8);
  X.ticks = X.ticks.filter((t) => t <= last);
  return plot({
    id: opts.id ?? 'train', width: opts.width, height: opts.height,
    title: opts.title, subtitle: opts.subtitle, xLabel: 'epoch', yLabel: 'error (%)',
    x: { lo: 0, hi: last, ticks: X.ticks }, y: Y,
    legend: series.map((s) => ({ label: s.label, color: s.color, kind: 'line' })),
  }, (ctx) => series.map((s) => {
    const pts = log.filter((e) => e[s.key] != null);
    return `<polyline points="${pts.map((e) => `${r2(ctx.sx(e.epoch))},${r2(ctx.sy(e[s.key]))}`).join(' ')}" ` +
      `fill="none" stroke="${s.color}" stroke-width="2"><title>${esc(s.label)}</title></polyline>`;
  }).join('\n'));
}

/**
 * Several training runs on one compute axis (claim 7's pairs): data.series =
 * [{ label, color, log, macsPerEpoch }], x = training multiply-adds so far,
 * in units of opts.unit (e.g. the twin's whole run), one panel per error key.
 */
export function trainingCompareChart(data, opts = {}) {
  const unit = opts.unit ?? 1;
  const panel = (key, title) => {
    const pts = (s) => s.log.filter((e) => e[key] != null).map((e) => ({ x: e.epoch * s.macsPerEpoch / unit, y: e[key] }));
    const ends = data.series.map((s) => pts(s).at(-1)?.y ?? 0);
    const Y = errorAxis(Math.min(1, 2.5 * Math.max(...ends, 0.04)));
    const hi = Math.max(...data.series.map((s) => pts(s).at(-1)?.x ?? 0));
    const X = niceTicks(0, hi, 6);
    X.ticks = X.ticks.filter((t) => t <= hi);
    return plot({
      id: `${opts.id ?? 'tc'}-${key}`, width: opts.width ?? 440, height: opts.height ?? 300, title,
      xLabel: opts.xLabel ?? 'training multiply-adds', yLabel: 'error (%)',
      x: { lo: 0, hi, ticks: X.ticks, format: opts.xFormat }, y: Y,
      legend: data.series.map((s) => ({ label: `${s.label}: ${pct(pts(s).at(-1)?.y ?? NaN, 1)}`, color: s.color, kind: 'line' })),
    }, (ctx) => data.series.map((s) =>
      `<polyline points="${pts(s).map((p) => `${r2(ctx.sx(p.x))},${r2(ctx.sy(p.y))}`).join(' ')}" fill="none" ` +
      `stroke="${s.color}" stroke-width="2"><title>${esc(s.label)}</title></polyline>`).join('\n'));
  };
  return row([panel('train_error', 'training error (batches as trained)'), panel('test_error', 'test error (rebuilt 10,000)')]);
}

// ---- 3b. error against Kendall's tau (random swaps) ----

/**
 * data.series: [{ label, color, points: [{ k, tau, taus?, mean, errors }] }]
 * Every draw is a dot (at its own tau when `taus` is given, else at the mean tau of its k);
 * the line joins the per-k means. The tau axis runs from 1 (original order) leftwards down.
 */
export function tauChart(data, opts = {}) {
  const series = data.series;
  const allTau = series.flatMap((s) => s.points.flatMap((p) => p.taus ?? [p.tau]));
  const allErr = series.flatMap((s) => s.points.flatMap((p) => p.errors ?? [p.mean]));
  const lo = Math.min(...allTau);
  const T = niceTicks(lo, 1, 5);
  const Y = errorAxis(Math.max(...allErr));
  const legend = [
    ...series.map((s) => ({ label: `${s.label}: one draw`, color: s.color, kind: 'dot', opacity: 0.45 })),
    ...series.map((s) => ({ label: `${s.label}: mean per k`, color: s.color, kind: 'line' })),
  ];
  const pad = (1 - T.lo) * 0.03;
  return plot({
    id: opts.id ?? 'tau', width: opts.width, height: opts.height,
    title: opts.title ?? "Test error against Kendall's τ of the block order", subtitle: opts.subtitle,
    xLabel: "Kendall's τ between original and shuffled order (1 = unchanged)", yLabel: 'test error (%)',
    x: { lo: Math.max(-1, T.lo - pad), hi: 1 + pad, ticks: T.ticks.filter((t) => t <= 1), reverse: true, format: (v) => v.toFixed(T.step < 0.1 ? 2 : 1) },
    y: Y, legend,
  }, (ctx) => {
    const o = [chanceLine(ctx, Y)];
    for (const s of series) {
      for (const p of s.points) {
        (p.errors ?? []).forEach((e, i) => {
          const t = p.taus ? p.taus[i] : p.tau;
          o.push(`<circle cx="${r2(ctx.sx(t))}" cy="${r2(ctx.sy(e))}" r="2.6" fill="${s.color}" fill-opacity="0.35"/>`);
        });
      }
      const pts = [...s.points].sort((a, b) => b.tau - a.tau);
      o.push(`<polyline points="${pts.map((p) => `${r2(ctx.sx(p.tau))},${r2(ctx.sy(p.mean))}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
      for (const p of pts) o.push(`<circle cx="${r2(ctx.sx(p.tau))}" cy="${r2(ctx.sy(p.mean))}" r="3" fill="${s.color}" stroke="#fff" stroke-width="0.8">` +
        `<title>${esc(`${s.label}, k = ${p.k}: mean τ ${p.tau.toFixed(3)}, error ${pct(p.mean, 2)}`)}</title></circle>`);
    }
    return o.join('\n');
  });
}

// ---- 4. paths: distribution, gradient per length, total gradient per length ----

function windowShade(ctx, w, n) {
  if (!w) return '';
  const xa = r2(ctx.sx(w.a) - ctx.bw / 2), xb = r2(ctx.sx(w.b) + ctx.bw / 2);
  return `<rect x="${xa}" y="${ctx.y1}" width="${r2(xb - xa)}" height="${ctx.y0 - ctx.y1}" fill="${COLORS.window}" fill-opacity="0.35"/>` +
    `<line x1="${xa}" x2="${xa}" y1="${ctx.y1}" y2="${ctx.y0}" stroke="${COLORS.windowEdge}"/>` +
    `<line x1="${xb}" x2="${xb}" y1="${ctx.y1}" y2="${ctx.y0}" stroke="${COLORS.windowEdge}"/>`;
}

const lengthAxis = (n) => ({ band: n + 1, tickEvery: n > 40 ? 5 : n > 16 ? 2 : 1 });

/** (a) share of the 2^n paths with each length (Binomial(n, 1/2)). */
export function pathDistChart(data, opts = {}) {
  const n = data.distribution.length - 1;
  const t = niceTicks(0, Math.max(...data.distribution) * 100 * 1.05, 5);
  return plot({
    id: opts.id ?? 'pdist', width: opts.width ?? 420, height: opts.height ?? 320,
    title: opts.title ?? '(a) Path lengths', subtitle: opts.subtitle ?? `all 2${String(n).split('').map((c) => SUP[c]).join('')} paths: Binomial(${n}, 1/2)`,
    xLabel: 'path length (residual branches on the path)', yLabel: 'share of paths (%)',
    x: lengthAxis(n), y: { lo: 0, hi: t.hi, ticks: t.ticks, format: (v) => `${+v.toFixed(2)}` },
    legend: data.window ? [{ label: `effective window ${data.window.a}–${data.window.b}`, color: COLORS.window, kind: 'swatch', stroke: COLORS.windowEdge }] : [],
  }, (ctx) => {
    const o = [windowShade(ctx, data.window, n)];
    data.distribution.forEach((v, k) => {
      const y = r2(ctx.sy(v * 100)), w = Math.max(1, ctx.bw * 0.8);
      o.push(`<rect x="${r2(ctx.sx(k) - w / 2)}" y="${y}" width="${r2(w)}" height="${r2(ctx.y0 - y)}" fill="${COLORS.resnet}"><title>length ${k}: ${(v * 100).toPrecision(3)}% of paths</title></rect>`);
    });
    return o.join('\n');
  });
}

/** The q-quantile of xs (linear between order statistics). */
export function quantile(xs, q) {
  const v = [...xs].sort((a, b) => a - b);
  const i = (v.length - 1) * q, lo = Math.floor(i);
  return lo + 1 < v.length ? v[lo] + (i - lo) * (v[lo + 1] - v[lo]) : v[lo];
}

/**
 * (b) gradient norm at the input for paths of each length, log scale: the
 * mean over draws, with bars over the middle 80% of the draws (data.norms,
 * [length][draw]; the draws spread over decades, so sd is often above the
 * mean and has no lower half on a log axis), or +- 1 sd without them.
 */
export function gradNormChart(data, opts = {}) {
  const n = data.grad_mean.length - 1;
  const draws = data.norms?.length === n + 1;
  const spread = draws
    ? data.norms.map((d) => [quantile(d, 0.1), quantile(d, 0.9)])
    : data.grad_mean.map((m, k) => [m - data.grad_sd[k] > 0 ? m - data.grad_sd[k] : m, m + data.grad_sd[k]]);
  const vals = spread.flat().concat(data.grad_mean).filter((v) => v > 0);
  const L = logTicks(Math.min(...vals) * 0.9, Math.max(...vals) * 1.1);
  // A log axis cannot show a zero: such lengths are left out and named in the subtitle.
  const zeros = data.grad_mean.map((m, k) => (m > 0 ? null : k)).filter((k) => k != null);
  const zeroNote = zeros.length ? `zero gradient at length${zeros.length > 1 ? 's' : ''} ${ranges(zeros)} (not shown)` : '';
  const wide = draws ? 0 : data.grad_mean.filter((m, k) => m > 0 && m - data.grad_sd[k] <= 0).length;
  const wideNote = wide ? `upper bar only where sd ≥ mean (${wide} of ${n + 1} lengths)` : '';
  return plot({
    id: opts.id ?? 'gnorm', width: opts.width ?? 420, height: opts.height ?? 320, marginLeft: 78,
    title: opts.title ?? '(b) Gradient magnitude per path length',
    subtitle: [opts.subtitle, zeroNote, wideNote].filter(Boolean).join('; '),
    xLabel: 'path length', yLabel: 'gradient norm at the input (log)',
    x: lengthAxis(n), y: { lo: L.lo, hi: L.hi, ticks: L.ticks, log: true, format: fmtPow10 },
    legend: [{ label: draws ? 'mean over draws; bars: middle 80% of draws' : 'mean, bars ± 1 sd over draws',
               color: COLORS.resnet, kind: 'line' }],
  }, (ctx) => {
    const o = [];
    // Without the draws, where mean - sd <= 0 the lower bar has no place on a
    // log axis: only the upper one is drawn (said in the subtitle).
    data.grad_mean.forEach((m, k) => {
      if (!(m > 0)) return;
      const [lo, hi] = spread[k], x = r2(ctx.sx(k));
      if (lo > 0 && hi > 0)
        o.push(`<line x1="${x}" x2="${x}" y1="${r2(ctx.sy(lo))}" y2="${r2(ctx.sy(hi))}" stroke="${COLORS.resnet}" stroke-opacity="0.55"/>`);
    });
    // The line breaks where a length has no (zero) gradient.
    let seg = [];
    const flush = () => { if (seg.length > 1) o.push(`<polyline points="${seg.join(' ')}" fill="none" stroke="${COLORS.resnet}" stroke-width="2"/>`); seg = []; };
    data.grad_mean.forEach((m, k) => (m > 0 ? seg.push(`${r2(ctx.sx(k))},${r2(ctx.sy(m))}`) : flush()));
    flush();
    data.grad_mean.forEach((m, k) => m > 0 && o.push(`<circle cx="${r2(ctx.sx(k))}" cy="${r2(ctx.sy(m))}" r="${n > 30 ? 1.8 : 2.6}" fill="${COLORS.resnet}"><title>length ${k}: ${m.toPrecision(3)} ± ${data.grad_sd[k].toPrecision(3)}</title></circle>`));
    return o.join('\n');
  });
}

/** (c) share of the total gradient from each length: C(n,k) x mean norm, normalised. */
export function totalGradChart(data, opts = {}) {
  const n = data.total_share.length - 1, w = data.window;
  const t = niceTicks(0, Math.max(...data.total_share) * 100 * 1.25, 5);
  const label = w ? `lengths ${w.a}–${w.b}: ${(100 * w.mass).toFixed(1)}% of gradient, ${sharePct(w.share_of_paths)} of paths` : '';
  return plot({
    id: opts.id ?? 'gtotal', width: opts.width ?? 420, height: opts.height ?? 320,
    title: opts.title ?? '(c) Total gradient per path length', subtitle: opts.subtitle ?? (w ? `shaded: shortest window holding ≥ ${Math.round(w.q * 100)}% of the gradient` : ''),
    xLabel: 'path length', yLabel: 'share of total gradient (%)',
    x: lengthAxis(n), y: { lo: 0, hi: t.hi, ticks: t.ticks, format: (v) => `${+v.toFixed(1)}` },
    legend: w ? [{ label, color: COLORS.window, kind: 'swatch', stroke: COLORS.windowEdge }] : [],
  }, (ctx) => {
    const o = [windowShade(ctx, w, n)];
    data.total_share.forEach((v, k) => {
      const y = r2(ctx.sy(v * 100)), bw = Math.max(1, ctx.bw * 0.8);
      o.push(`<rect x="${r2(ctx.sx(k) - bw / 2)}" y="${y}" width="${r2(bw)}" height="${r2(ctx.y0 - y)}" fill="${COLORS.resnet}"><title>length ${k}: ${(v * 100).toPrecision(3)}% of the gradient</title></rect>`);
    });
    return o.join('\n');
  });
}

// ---- 6. several networks on one relative axis (RESULTS.md, "Across depths") ----

/**
 * data.series: [{ label, color, points: [{ x, y, hollow?, title? }] }], x in opts.x's range.
 * Lines with markers; hollow markers for points to set apart (downsampling blocks).
 * opts: { x: {lo, hi, ticks, format}, y: {lo, hi, ticks, format}, xLabel, yLabel, zero: draw y = 0,
 *         band: { lo, hi, label }: an x range shaded behind the lines (e.g. the paper's window) }.
 */
export function lineChart(data, opts = {}) {
  const series = data.series;
  const legend = series.map((s) => ({ label: s.label, color: s.color, kind: 'line' }));
  if (opts.hollowLabel) legend.push({ label: opts.hollowLabel, color: COLORS.muted, kind: 'hollow' });
  if (opts.band) legend.push({ label: opts.band.label, color: COLORS.window, kind: 'swatch', stroke: COLORS.windowEdge });
  return plot({
    id: opts.id ?? 'line', width: opts.width ?? 680, height: opts.height, title: opts.title,
    subtitle: opts.subtitle, xLabel: opts.xLabel, yLabel: opts.yLabel, x: opts.x, y: opts.y, legend,
  }, (ctx) => {
    const o = [];
    if (opts.band) {
      const a = r2(ctx.sx(opts.band.lo)), b = r2(ctx.sx(opts.band.hi));
      o.push(`<rect x="${a}" y="${ctx.y1}" width="${r2(b - a)}" height="${ctx.y0 - ctx.y1}" fill="${COLORS.window}" fill-opacity="0.45"/>`);
    }
    if (opts.zero && opts.y.lo < 0)
      o.push(`<line x1="${ctx.x0}" x2="${ctx.x1}" y1="${r2(ctx.sy(0))}" y2="${r2(ctx.sy(0))}" stroke="${COLORS.axis}" stroke-width="0.8"/>`);
    for (const s of series) {
      o.push(`<polyline points="${s.points.map((p) => `${r2(ctx.sx(p.x))},${r2(ctx.sy(p.y))}`).join(' ')}" fill="none" ` +
        `stroke="${s.color}" stroke-width="1.6" stroke-opacity="0.85"/>`);
      for (const p of s.points)
        o.push(`<circle cx="${r2(ctx.sx(p.x))}" cy="${r2(ctx.sy(p.y))}" r="${p.hollow ? 3.6 : 2.6}" ` +
          (p.hollow ? `fill="#ffffff" stroke="${s.color}" stroke-width="1.6"` : `fill="${s.color}"`) +
          `>${p.title ? `<title>${esc(p.title)}</title>` : ''}</circle>`);
    }
    return o.join('\n');
  });
}

/** [0, 1, 2, 5] -> '0–2, 5' */
function ranges(ks) {
  const out = [];
  for (let i = 0; i < ks.length; i++) {
    let j = i;
    while (j + 1 < ks.length && ks[j + 1] === ks[j] + 1) j++;
    out.push(j > i ? `${ks[i]}–${ks[j]}` : `${ks[i]}`);
    i = j;
  }
  return out.join(', ');
}

/** A share of paths as a percentage with enough digits to be non-zero. */
export function sharePct(v) {
  if (v >= 0.1) return `${(100 * v).toFixed(1)}%`;
  if (v >= 0.001) return `${(100 * v).toFixed(2)}%`;
  return `${(100 * v).toPrecision(2)}%`;
}

/** The three path panels side by side, like Figure 6 of the paper. */
export function pathsFigure(data, opts = {}) {
  return row([
    pathDistChart(data, { id: `${opts.id ?? 'p'}-a` }),
    gradNormChart(data, { id: `${opts.id ?? 'p'}-b` }),
    totalGradChart(data, { id: `${opts.id ?? 'p'}-c` }),
  ]);
}
