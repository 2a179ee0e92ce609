#!/usr/bin/env node
// results.mjs: run the paper's experiments on the trained models with the `unravel` CLI and
// write docs/RESULTS.md with its charts (docs/results/*.svg) and raw numbers (*.json).
//
//   node scripts/results.mjs [--models resnet20,plain20,resnet56,resnet110-half,resnet110-half-k23,resnet110-half-k23-e160]
//                            [--limit N] [--samples S] [--quick] [--force] [--out DIR]
//
// Each experiment's CLI output is cached in DIR/results/NAME-EXPERIMENT.json together with
// the model's sha256 and the exact parameters; a rerun with the same ones reuses it.
// Node 20, no dependencies. Progress goes to stderr.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as figures from './figures.mjs';
import { COLORS } from '../web/config.mjs';
import { decayFit } from '../web/math.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ---- options (table-driven) ----

const OPTIONS = [
  { name: 'models', type: 'list', def: 'resnet20,plain20,resnet56,resnet110-half,resnet110-half-k23,resnet110-half-k23-e160',
    help: 'model names (models/NAME.json) or paths to manifests, comma-separated; NAME:limit=1000:samples=5 overrides options for one model' },
  { name: 'experiments', type: 'list', def: 'lesion,delete-random,swap-random,paths',
    help: 'which experiments to run, in this order (the others are read from the cache when there)' },
  { name: 'limit', type: 'int', def: 0, help: 'test images per evaluation (0 = all 10,000)' },
  { name: 'samples', type: 'int', def: 10, help: 'random draws per k for delete-random and swap-random' },
  { name: 'path-samples', type: 'int', def: 100, help: 'gradient measurements per path length (paths --samples)' },
  { name: 'path-batch', type: 'int', def: 32, help: 'training images per gradient measurement (paths --batch)' },
  { name: 'kmax', type: 'int', def: 20, help: 'largest k for delete-random and swap-random (capped by the model)' },
  { name: 'seed', type: 'int', def: 1, help: 'random seed of every draw' },
  { name: 'q', type: 'num', def: 0.9, help: 'share of the gradient the effective window must hold' },
  { name: 'bootstrap', type: 'int', def: 1000, help: 'bootstrap resamples of the path draws for the window\'s spread (paths --bootstrap)' },
  { name: 'threads', type: 'int', def: 0, help: 'CLI threads (0 = the CLI default: one per CPU)' },
  { name: 'nice', type: 'int', def: 19, help: 'run the CLI under `nice -n N` (0 = not niced)' },
  { name: 'data', type: 'str', def: '', help: 'CIFAR-10 directory (default $CIFAR10_DIR or data/cifar10)' },
  { name: 'out', type: 'str', def: 'docs', help: 'output directory: writes OUT/RESULTS.md and OUT/results/' },
  { name: 'bin', type: 'str', def: 'build/unravel', help: 'the unravel CLI' },
  { name: 'quick', type: 'bool', def: false, help: 'a fast look: --limit 1000 --samples 3 --path-samples 10 unless given' },
  { name: 'force', type: 'bool', def: false, help: 'recompute even when a cached result matches' },
  { name: 'help', type: 'bool', def: false, help: 'show this help' },
];

// The arguments that shape the results: not which experiments this run
// computed (the others came from the cache), its priority, or --force.
function rerunArgs(argv) {
  const out = [];
  for (let i = 0; i < argv.length; i++) {
    const [, name, inline] = /^--([a-z-]+)(=.*)?$/.exec(argv[i]) ?? [];
    if (['experiments', 'nice'].includes(name)) { if (inline === undefined) i++; continue; }
    if (name !== 'force') out.push(argv[i]);
  }
  return out;
}

function parseArgs(argv) {
  const o = Object.fromEntries(OPTIONS.map((d) => [d.name, d.def]));
  const given = new Set();
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    const d = m && OPTIONS.find((x) => x.name === m[1]);
    if (!d) throw new Error(`unknown argument '${argv[i]}' (see --help)`);
    given.add(d.name);
    if (d.type === 'bool') { o[d.name] = true; continue; }
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new Error(`--${d.name} needs a value`);
    if (d.type === 'int' || d.type === 'num') {
      const x = Number(v);
      if (!Number.isFinite(x) || x < 0 || (d.type === 'int' && !Number.isInteger(x))) throw new Error(`--${d.name}: '${v}' is not a ${d.type === 'int' ? 'non-negative integer' : 'number'}`);
      o[d.name] = x;
    } else o[d.name] = v;
  }
  if (o.quick) {
    if (!given.has('limit')) o.limit = 1000;
    if (!given.has('samples')) o.samples = 3;
    if (!given.has('path-samples')) o['path-samples'] = 10;
  }
  o.models = String(o.models).split(',').map((s) => s.trim()).filter(Boolean);
  o.experiments = String(o.experiments).split(',').map((s) => s.trim()).filter(Boolean);
  return o;
}

function usage() {
  const lines = OPTIONS.map((d) => `  --${(d.name + (d.type === 'bool' ? '' : ' X')).padEnd(16)} ${d.help}` +
    (d.type === 'bool' || d.def === '' ? '' : ` (default ${d.def})`));
  return `usage: node scripts/results.mjs [options]\n\nRuns lesion, delete-random, swap-random and paths on each model that exists and writes\nOUT/RESULTS.md with SVG charts and the raw JSON in OUT/results/.\n\n${lines.join('\n')}\n`;
}

const log = (msg) => process.stderr.write(`${msg}\n`);
/** A path as the user would type it from the repository root. */
const show = (f) => (f.startsWith(ROOT + path.sep) ? path.relative(ROOT, f) : f);

// ---- models ----

const KNOWN_LABELS = {
  resnet20: 'ResNet-20', plain20: 'Plain-20', resnet56: 'ResNet-56', plain56: 'Plain-56',
  'resnet110-half': 'ResNet-110 (half width)', 'resnet110-half-k23': 'ResNet-110 (half width), 23 of 54 blocks per batch',
  'resnet110-half-k23-e160': 'ResNet-110 (half width), 23 of 54 blocks per batch, 160 epochs',
};

const OVERRIDABLE = ['limit', 'samples', 'path-samples', 'path-batch', 'kmax'];

function loadModel(arg) {
  // NAME:key=value:... gives one model its own numeric options.
  const [spec, ...kv] = arg.split(':');
  const over = {};
  for (const x of kv) {
    const [k, v] = x.split('=');
    if (!OVERRIDABLE.includes(k) || !/^\d+$/.test(v ?? '')) throw new Error(`--models: '${x}' in '${arg}': expected one of ${OVERRIDABLE.join(', ')} = a number`);
    over[k] = Number(v);
  }
  const isPath = spec.includes('/') || spec.endsWith('.json');
  const file = isPath ? path.resolve(spec.endsWith('.json') ? spec : `${spec}.json`) : path.join(ROOT, 'models', `${spec}.json`);
  const name = path.basename(file, '.json');
  if (!existsSync(file)) return { name, file, missing: true, over };
  const man = JSON.parse(readFileSync(file, 'utf8'));
  const a = man.arch;
  // blocks_per_stage: one count for every stage, or one per stage
  const stageBlocks = Array.isArray(a.blocks_per_stage) ? a.blocks_per_stage : a.widths.map(() => a.blocks_per_stage);
  const n = stageBlocks.reduce((x, y) => x + y, 0);
  const plain = a.shortcut === 'none';
  const widths = a.widths.join('-');
  const label = KNOWN_LABELS[name] ??
    `${plain ? 'Plain' : 'ResNet'}-${2 * n + 2}${widths === '16-32-64' ? '' : ` (widths ${widths})`} [${name}]`;
  // What the CLI allows: plain nets cannot delete their downsampling blocks (the first of
  // every stage but the first); swaps are same-stage pairs of non-downsampling blocks
  // (capped as in unr_max_swaps).
  const pairs = (s) => (s * (s - 1)) / 2;
  const maxSwaps = Math.min(stageBlocks.reduce((t, b, s) => t + pairs(s ? b - 1 : b), 0), 1200);
  return {
    name, file, man, label, plain, n, layout: stageBlocks.join('-'), widths, over,
    rel: file.startsWith(ROOT + path.sep) ? path.relative(ROOT, file) : file,
    sha256: man.weights.sha256, params: man.weights.parameters,
    maxDeletions: plain ? n - (stageBlocks.length - 1) : n, maxSwaps,
  };
}

// ---- running the CLI, with a cache ----

function cliArgs(exp, m, o0) {
  const o = { ...o0, ...m.over };
  const a = [exp, '--model', m.rel, '--json'];
  if (o.data) a.push('--data', o.data);
  if (exp !== 'paths' && o.limit) a.push('--limit', String(o.limit));
  if (exp === 'delete-random' || exp === 'swap-random') {
    const most = exp === 'delete-random' ? m.maxDeletions : m.maxSwaps;
    a.push('--k', `0-${Math.min(most, o.kmax)}`, '--samples', String(o.samples), '--seed', String(o.seed));
  }
  if (exp === 'paths') a.push('--samples', String(o['path-samples']), '--batch', String(o['path-batch']), '--seed', String(o.seed), '--q', String(o.q),
                             '--bootstrap', String(o.bootstrap));
  return a;
}

function runCli(bin, args, o) {
  const cmd = o.nice ? 'nice' : bin;
  const full = o.nice ? ['-n', String(o.nice), bin, ...args] : args;
  if (o.threads) full.push('--threads', String(o.threads));
  return new Promise((resolve, reject) => {
    const tty = process.stderr.isTTY;
    const p = spawn(cmd, full, { cwd: process.cwd(), stdio: ['ignore', 'pipe', tty ? 'inherit' : 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr?.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(err.trim().split('\n').pop() || `${bin} exited with status ${code}`));
      try { resolve(JSON.parse(out)); } catch (e) { reject(new Error(`${bin}: output is not JSON (${e.message})`)); }
    });
  });
}

// The CLI's output format per experiment: a cached result of an older format
// is rerun. lesion 2: each block's answers turned wrong and right, and ci95.
const FORMATS = { lesion: 2 };

/** One experiment: the cached result when model, parameters and command match, else a CLI run. */
function experiment(exp, m, o, dir, step, cacheOnly = false) {
  const args = cliArgs(exp, m, o);
  const key = { model_sha256: m.sha256, key_args: args.slice(1).filter((x, i, a) => a[i - 1] !== '--model' && x !== '--model'), format: FORMATS[exp] ?? 1 };
  return cachedRun(args, key, path.join(dir, `${m.name}-${exp}.json`), `[${step}] ${m.name} ${exp}`, o, cacheOnly);
}

/* The CLI's output for args: the record cached in file when it holds the same key (every
 * field equal; a record without format is format 1), else (unless cacheOnly, then null)
 * a fresh run, stored with the key. --force recomputes what this run computes; results
 * it only shows come from the cache. */
async function cachedRun(args, key, file, tag, o, cacheOnly = false) {
  const command = [o.bin, ...args].join(' ');
  if ((!o.force || cacheOnly) && existsSync(file)) {
    try {
      const c = JSON.parse(readFileSync(file, 'utf8'));
      if (Object.entries(key).every(([f, v]) => JSON.stringify(c[f] ?? (f === 'format' ? 1 : undefined)) === JSON.stringify(v))) {
        log(`${tag}: cached (${show(file)})`);
        return c;
      }
    } catch { /* unreadable cache: recompute */ }
  }
  if (cacheOnly)
    return null;
  log(`${tag}: running ${command}`);
  const t0 = Date.now();
  const result = await runCli(o.bin, args, o);
  const seconds = (Date.now() - t0) / 1000;
  log(`${tag}: done in ${seconds.toFixed(0)} s`);
  const rec = {
    generated_by: 'scripts/results.mjs', command, model: args[args.indexOf('--model') + 1], ...key,
    threads: o.threads || 'CLI default', seconds, date: new Date().toISOString(), result,
  };
  writeAtomic(file, `${JSON.stringify(rec, null, 1)}\n`);
  return rec;
}

function writeAtomic(file, text) {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

// ---- numbers derived from the results ----

const pp = (d) => `${d >= 0 ? '+' : '−'}${Math.abs(100 * d).toFixed(1)} pp`;
const pct = (v, digits = 1) => (v == null ? 'n/a' : `${(100 * v).toFixed(digits)}%`);
const { quantile, sharePct } = figures;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * How the single draws behind each mean gradient spread (the paper reports
 * means only): the typical width of their middle 80% in decades, and at how
 * many lengths the mean lies above the median, i.e. is carried by a few large
 * draws. Empty for results without the draws (older CLI output).
 */
function drawSpread(P) {
  if (!P.norms?.length) return '';
  const rows = P.norms.filter((d) => d.length > 1 && d.every((v) => v > 0));
  if (!rows.length) return '';
  const widths = rows.map((d) => Math.log10(quantile(d, 0.9) / quantile(d, 0.1))).sort((a, b) => a - b);
  const medianWidth = widths[Math.floor(widths.length / 2)];
  const skewed = rows.filter((d) => mean(d) > quantile(d, 0.5)).length;
  const above90 = rows.filter((d) => mean(d) > quantile(d, 0.9)).length;
  return ` The ${P.samples} draws behind each mean spread widely: their middle 80% spans ${medianWidth.toFixed(1)} decades ` +
    `(median over lengths), and the mean lies above the median draw at ${skewed} of ${rows.length} lengths` +
    (above90 ? ` and above the 90th percentile at ${above90}` : '') +
    ': a few large draws carry it, so means from few draws are noisy.';
}

/** How far the window moves with the draws: the CLI's bootstrap of them. */
function windowSpread(P) {
  const b = P.window?.bootstrap;
  if (!b) return '';
  const span = ([lo, hi]) => (lo === hi ? `${lo}` : `${lo}–${hi}`);
  return ` Resampling those draws (${b.resamples.toLocaleString('en-US')} bootstrap resamples of the ${P.samples} samples) ` +
    `gives the same window ${P.window.a}–${P.window.b} in ${Math.round(100 * b.same_window)}% of resamples; ` +
    `${Math.round(100 * b.level)}% of the windows start at ${span(b.a)} and end at ${span(b.b)}, holding ` +
    `${sharePct(b.share_of_paths[0])} to ${sharePct(b.share_of_paths[1])} of all paths.`;
}

/** Key numbers of one model: only what its experiments measured. */
function summarize(m, r) {
  const s = { m };
  const L = r.lesion?.result;
  if (L) {
    s.full = L.full_error;
    s.images = L.images;
    // A rule stated in RESULTS.md: an increase is noticeable above 1 pp or 3 binomial SEs.
    s.threshold = Math.max(0.01, 3 * Math.sqrt((s.full * (1 - s.full)) / L.images));
    const ok = L.blocks.filter((b) => b.error != null);
    s.worst = ok.reduce((a, b) => (b.error > a.error ? b : a));
    s.nd = ok.filter((b) => !b.downsample);
    s.ds = ok.filter((b) => b.downsample);
    s.notDeletable = L.blocks.filter((b) => b.error == null).map((b) => b.block);
    s.meanNd = s.nd.length ? mean(s.nd.map((b) => b.error)) : null;
    s.maxNd = s.nd.length ? s.nd.reduce((a, b) => (b.error > a.error ? b : a)) : null;
    // the median increase of a non-downsampling deletion (the upper middle one of an even count)
    s.incNd = s.nd.map((b) => b.error - s.full).sort((a, b) => a - b);
    s.medNd = s.incNd.length ? s.incNd[Math.floor(s.incNd.length / 2)] : null;
    s.noticeableNd = s.nd.filter((b) => b.error - s.full > s.threshold);
    s.noticeableDs = s.ds.filter((b) => b.error - s.full > s.threshold);
    s.nearChance = ok.filter((b) => b.error >= 0.8);
    // paired image by image: a change within its 95% interval is within the noise
    s.pairedNd = s.nd.filter((b) => b.ci95 != null);
    s.quietNd = s.pairedNd.filter((b) => Math.abs(b.error - s.full) <= b.ci95);
  }
  const D = r['delete-random']?.result;
  if (D) s.del = curveStats(D.points);
  const S = r['swap-random']?.result;
  if (S) {
    s.swap = curveStats(S.points);
    const xs = S.points.map((p) => p.tau), ys = S.points.map((p) => p.mean);
    s.swap.corr = pearson(xs, ys);
  }
  const P = r.paths?.result;
  if (P) {
    s.paths = P;
    const n = P.grad_mean.length - 1;
    const fit = decayFit(P.grad_mean);   // as the page fits it; null with under 3 measured lengths
    s.decay = fit && { ...fit, ratio: P.grad_mean[n] / P.grad_mean[0] };
  }
  return s;
}

function curveStats(points) {
  const at = (k) => points.find((p) => p.k === k) ?? null;
  let big = { d: -Infinity }, dips = [];
  for (let i = 1; i < points.length; i++) {
    const d = points[i].mean - points[i - 1].mean;
    if (d > big.d) big = { d, from: points[i - 1].k, to: points[i].k };
    // A fall larger than the noise of the means (their sd over draws) is a real dip; near
    // chance (both means >= 80%) the curve is saturated and its wobbles are noise.
    const saturated = Math.min(points[i].mean, points[i - 1].mean) >= 0.8;
    if (!saturated && d < -Math.max(points[i].sd, points[i - 1].sd, 0.002)) dips.push(points[i].k);
  }
  const first = points[0], last = points[points.length - 1];
  const rise = last.mean - first.mean;
  const firstShare = points.length > 1 && rise > 0 ? (points[1].mean - first.mean) / rise : 0;
  return { points, at, first, last, rise, big, dips, firstShare, smooth: dips.length === 0 && rise > 0 && big.d <= 0.4 * rise };
}

function pearson(x, y) {
  const mx = mean(x), my = mean(y);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < x.length; i++) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) ** 2, syy += (y[i] - my) ** 2;
  return sxx && syy ? sxy / Math.sqrt(sxx * syy) : NaN;
}

// ---- charts ----

function seriesColor(m, i) {
  return m.plain ? COLORS.plain : i === 0 ? COLORS.resnet : COLORS.series[2 + (i % 4)];
}

function charts(group, res, dir) {
  const files = {};
  const save = (suffix, svg) => {
    const f = `${group.id}-${suffix}.svg`;
    writeAtomic(path.join(dir, f), svg);
    files[suffix] = f;
  };
  const members = group.models.map((m, i) => ({ m, r: res[m.name], color: seriesColor(m, i) }));
  const with_ = (exp) => members.filter((x) => x.r[exp]);
  const imgs = (exp) => `${list([...new Set(with_(exp).map((x) => x.r[exp].result.images))].map((x) => x.toLocaleString('en-US')))} test images`;

  const lesion = (list) => list.map(({ m, r, color }) => figures.lesionSeries(m.label, color, r.lesion.result));
  const heading = (title, subtitle) => ({ title, subtitle });
  if (with_('lesion').length) {
    save('lesion', figures.lesion({ series: lesion(with_('lesion')) },
      { id: `${group.id}-lesion`, heading: heading('Deleting one block at test time', `rebuilt CIFAR-10 test set, ${imgs('lesion')}`) }));
  }
  const resL = with_('lesion').filter(({ m }) => !m.plain);
  if (resL.length && resL.length < with_('lesion').length) {
    save('lesion-resnet', figures.lesion({ series: lesion(resL) }, { id: `${group.id}-lesionz`,
      heading: heading('Deleting one block at test time: the ResNet alone, magnified', `rebuilt CIFAR-10 test set, ${imgs('lesion')}`) }));
  }
  const curves = (exp) => with_(exp).map(({ m, r, color }) => figures.curveSeries(m.label, color, r[exp].result));
  if (with_('delete-random').length) {
    const x = with_('delete-random')[0].r['delete-random'].result;
    save('delete-random', figures.curve({ series: curves('delete-random') }, { id: `${group.id}-del`, xLabel: 'k, number of blocks deleted',
      heading: heading('Deleting k random blocks at test time', `${x.samples} random draws per k (seed ${x.seed}), ${imgs('delete-random')}`) }));
  }
  if (with_('swap-random').length) {
    const x = with_('swap-random')[0].r['swap-random'].result;
    const series = curves('swap-random');
    const sub = `${x.samples} random draws per k (seed ${x.seed}), ${imgs('swap-random')}`;
    save('swap-k', figures.curve({ series }, { id: `${group.id}-swk`, xLabel: 'k, number of same-stage swaps',
      heading: heading('Reordering: k random same-stage swaps', sub) }));
    const perDraw = series.every((s) => s.points.every((p) => Array.isArray(p.taus)));
    save('swap-tau', figures.curve({ series }, { id: `${group.id}-swt`, xMode: 'tau', draws: true,
      heading: heading("Reordering: error against Kendall's τ of the order", perDraw ? sub : `${sub}; each draw at the mean τ of its k`) }));
  }
  for (const { m, r } of with_('paths')) {
    const P = r.paths.result;
    const sub = `${P.samples} draws × ${P.batch} training images per length`;
    const f = (suffix, svg) => { const name = `${m.name}-${suffix}.svg`; writeAtomic(path.join(dir, name), svg); files[`${m.name}:${suffix}`] = name; };
    f('paths-lengths', figures.pathLengths(P, { id: `${m.name}-pa`, heading: { title: `(a) Path lengths, ${m.name}` } }));
    f('paths-gradient', figures.pathGradient(P, { id: `${m.name}-pb`, heading: heading('(b) Gradient magnitude per length', sub) }));
    f('paths-total', figures.pathTotal(P, { id: `${m.name}-pc`, heading: heading('(c) Total gradient per length',
      P.window ? `shaded: shortest window with ≥ ${Math.round(P.window.q * 100)}% of gradient` : '') }));
  }
  return files;
}

// ---- RESULTS.md ----

const PAPER = {
  full: 'about 6.1%',
  nd: 'no noticeable change',
  ds: 'modest increase',
  vgg: 'about 90% (chance), VGG-15',
  del: 'smooth increase with k (plotted to k ≈ 20)',
  swap: "smooth increase as Kendall's τ falls",
  window: 'lengths 5–17 of 54 (10–34 layers)',
  windowShare: '0.45% of paths',
};

function table(rows) {
  const w = rows[0].length;
  return [rows[0], Array(w).fill('---'), ...rows.slice(1)].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

const blockName = (b) => `block ${b.block} (stage ${b.stage}${b.downsample ? ', downsampling' : ''})`;
const list = (xs) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

function keyTable(sums) {
  const head = ['', ...sums.map((s) => s.m.label), 'paper (ResNet-110, 54 blocks)'];
  const row = (label, f, paper) => [label, ...sums.map((s) => { try { const v = f(s); return v == null || v === false ? '—' : v; } catch { return '—'; } }), paper];
  const at = (c, k) => { const p = c?.at(k); return p ? `${pct(p.mean)} ± ${pct(p.sd)}` : null; };
  const rows = [head,
    row('test error, full network', (s) => s.full != null && `${pct(s.full, 2)} (${s.images.toLocaleString('en-US')} images)`, PAPER.full),
    row('worst single-block deletion', (s) => s.worst && `${pct(s.worst.error)}: ${blockName(s.worst)}`, 'a downsampling block'),
    row('mean error, one non-downsampling block deleted', (s) => s.meanNd != null && `${pct(s.meanNd)} (${pp(s.meanNd - s.full)}, ${s.nd.length} blocks)`, `${PAPER.nd}; plain: ${PAPER.vgg}`),
    row('error, one downsampling block deleted', (s) => (s.ds?.length ? s.ds.map((b) => `${pct(b.error)} (block ${b.block})`).join(', ') : s.notDeletable?.length ? 'not deletable' : null), PAPER.ds),
    row('k = 5 random blocks deleted (mean ± sd)', (s) => at(s.del, 5), PAPER.del),
    row('k = 10 random blocks deleted (mean ± sd)', (s) => at(s.del, 10), PAPER.del),
    row('largest k of swaps: error, mean τ', (s) => s.swap && `k = ${s.swap.last.k}: ${pct(s.swap.last.mean)}, τ = ${s.swap.last.tau.toFixed(2)}`, PAPER.swap),
    row('effective window (gradient share)', (s) => s.paths && `lengths ${s.paths.window.a}–${s.paths.window.b} of ${s.m.n} (${2 * s.paths.window.a}–${2 * s.paths.window.b} layers), ${pct(s.paths.window.mass)} of gradient`, PAPER.window),
    row('share of paths in the window', (s) => s.paths && sharePct(s.paths.window.share_of_paths), PAPER.windowShare),
  ];
  // Rows no model measured (e.g. k = 10 on a 9-block network) are left out.
  return table([rows[0], ...rows.slice(1).filter((r) => r.slice(1, -1).some((c) => c !== '—'))]);
}

/** Sentences written from the numbers; each claim is conditional on the data. */
function findings(sums, o) {
  const out = { lesion: [], del: [], swap: [], paths: [] };
  for (const s of sums) {
    const L = s.m.label;
    if (s.full != null && !s.m.plain) {
      const T = s.threshold;
      const bits = [`Deleting one non-downsampling block of ${L} changes its error from ${pct(s.full, 2)} to ${pct(s.meanNd, 2)} on average (${pp(s.meanNd - s.full)}; the largest, block ${s.maxNd.block}, ${pp(s.maxNd.error - s.full)}).`];
      const dsTxt = s.ds.map((b) => `block ${b.block}: ${pp(b.error - s.full)}`).join(', ');
      if (!s.noticeableNd.length && s.noticeableDs.length === s.ds.length && s.ds.length)
        bits.push(`As in the paper, only the downsampling blocks hurt noticeably (${dsTxt}), taking "noticeable" to mean more than ${pp(T).slice(1)}.`);
      else if (!s.noticeableNd.length)
        bits.push(`No non-downsampling deletion is noticeable (none adds more than ${pp(T).slice(1)}); the downsampling blocks give ${dsTxt}${s.noticeableDs.length < s.ds.length ? ', so not all of them stand out either' : ''}.`);
      else {
        const st = [...new Set(s.noticeableNd.map((b) => b.stage))];
        bits.push(`Unlike the paper's ResNet-110, ${s.noticeableNd.length} of ${s.nd.length} non-downsampling deletions add more than ${pp(T).slice(1)} ` +
          `(blocks ${list(s.noticeableNd.map((b) => String(b.block)))}, in stage${st.length > 1 ? 's' : ''} ${list(st.map(String))}); the downsampling blocks give ${dsTxt}.`);
      }
      if (s.pairedNd.length) {
        const loud = s.pairedNd.filter((b) => !s.quietNd.includes(b));
        const range = `from ${pp(Math.min(...loud.map((b) => b.error - s.full)))} to ${pp(Math.max(...loud.map((b) => b.error - s.full)))}`;
        const head = `Set against the full network image by image (a paired 95% interval per deletion: the chart's whiskers), `;
        const imgs = `${s.images.toLocaleString('en-US')} images`;
        if (!s.quietNd.length)
          bits.push(`${head}every one of the ${s.pairedNd.length} non-downsampling deletions is a measurable change on ${imgs}, ${range}.`);
        else
          bits.push(`${head}${s.quietNd.length} of the ${s.pairedNd.length} non-downsampling deletions ${s.quietNd.length === 1 ? 'is' : 'are'} within the noise of ${imgs}` +
            (loud.length ? `; the other ${loud.length} ${loud.length === 1 ? 'is a measurable change' : 'are measurable changes'}, ${range}.` : '.'));
      }
      out.lesion.push(bits.join(' '));
    }
    if (s.full != null && s.m.plain) {
      const ok = [...s.nd, ...s.ds];
      const lo = Math.min(...ok.map((b) => b.error)), hi = Math.max(...ok.map((b) => b.error));
      let t = `Deleting one block of ${L} (full network ${pct(s.full, 2)}) gives ${pct(lo)} to ${pct(hi)}; ${s.nearChance.length} of ${ok.length} deletable blocks bring it to 80% or more (chance is 90%).`;
      if (s.nearChance.length === ok.length) t += " As with the paper's VGG-15, every single deletion breaks the network.";
      else if (s.nearChance.length === 0) t += " Unlike the paper's VGG-15, no single deletion drives it to chance.";
      if (s.notDeletable.length) t += ` Blocks ${list(s.notDeletable.map(String))} change the shape (downsampling) and cannot be removed from a plain net.`;
      out.lesion.push(t);
    }
    if (s.del) {
      const c = s.del;
      let t = `${L}: the mean error over ${s.m.r['delete-random'].result.samples} draws goes from ${pct(c.first.mean)} (k = 0) to ${pct(c.last.mean)} (k = ${c.last.k}); ` +
        `the largest step between neighbouring k is ${pp(c.big.d)} (k = ${c.big.from} → ${c.big.to}) of a total rise of ${pp(c.rise)}`;
      t += c.dips.length ? `, and the mean falls by more than its spread at k = ${list(c.dips.map(String))}.` : '.';
      t += shape(c, 'deleted block');
      out.del.push(t);
    }
    if (s.swap) {
      const c = s.swap;
      let t = `${L}: from ${pct(c.first.mean)} at τ = 1 to ${pct(c.last.mean)} at k = ${c.last.k} swaps (mean τ ${c.last.tau.toFixed(2)}); across k, mean error and mean τ correlate with r = ${c.corr.toFixed(2)}.`;
      if (c.smooth && c.corr < -0.8) t += " Error rises smoothly as τ falls, as in the paper.";
      else t += shape(c, 'swap');
      out.swap.push(t);
    }
    if (s.paths) {
      const P = s.paths, w = P.window, n = s.m.n, d = s.decay;
      let t = `${L} (n = ${n}): ${pct(w.mass)} of the gradient comes from paths of length ${w.a}–${w.b} (${2 * w.a}–${2 * w.b} layers), ` +
        `which are ${sharePct(w.share_of_paths)} of all 2^${n} paths; the mean path length is ${n / 2}` +
        (w.b < n / 2 ? ', so the window lies entirely below it' : w.a > n / 2 ? ', so the window lies entirely above it' : '') + '. ';
      t += !d ? ''
        : d.factor < 1
        ? `The gradient norm falls with length, by a factor ${d.factor.toFixed(2)} per extra residual branch on a least-squares fit of its logarithm${d.r2 > 0.9 ? ` (R² = ${d.r2.toFixed(2)}: close to exponential, as in the paper)` : ` (R² = ${d.r2.toFixed(2)}: not a clean exponential)`}.`
        : `Unlike the paper, the gradient norm does not fall with length (fitted factor ${d.factor.toFixed(2)} per extra branch).`;
      t += ` The paper's window for its 54-block ResNet-110 is 5–17, ${(100 * 5 / 54).toFixed(0)}–${(100 * 17 / 54).toFixed(0)}% of the depth; ours is ${(100 * w.a / n).toFixed(0)}–${(100 * w.b / n).toFixed(0)}%.`;
      t += drawSpread(P) + windowSpread(P);
      out.paths.push(t);
    }
  }
  return out;
}

/** One sentence on the shape of an error-against-k curve. */
function shape(c, what) {
  if (c.rise <= 0) return ' The error does not rise with k here.';
  if (c.firstShare > 0.7) return ` ${c.firstShare >= 0.995 ? 'All' : `${(100 * c.firstShare).toFixed(0)}%`} of the rise comes with the first ${what}: the network breaks at once rather than degrading smoothly.`;
  if (c.smooth) return ' The rise is smooth, as in the paper.';
  if (c.dips.length) return ` The mean is not monotone in k (it falls at k = ${list(c.dips.map(String))}).`;
  return ' The rise is monotone but concentrated in a few steps.';
}

function differences(sums, o) {
  const res = sums.filter((s) => !s.m.plain);
  const t = [];
  const sizes = res.map((s) => `${s.m.label} has ${s.m.n} blocks (widths ${s.m.widths})`);
  const fewer = res.filter((s) => s.m.n < 54), same = res.filter((s) => s.m.n === 54);
  if (sizes.length) t.push(`The paper's ResNet-110 has 54 blocks of widths 16-32-64; ${list(sizes)}.`);
  if (fewer.length) t.push(`Fewer blocks (${list(fewer.map((s) => s.m.label))}) mean fewer paths (2^n), a different binomial ` +
    'spread of lengths, and a window that cannot be compared length-for-length with 5–17.');
  if (same.length) t.push(`${list(same.map((s) => s.m.label))} ${same.length > 1 ? 'have' : 'has'} the paper's 54 blocks, so ` +
    'its path-length distribution is the paper\'s exactly and its window compares length-for-length with 5–17; only the widths ' +
    (same.some((s) => s.m.widths !== '16-32-64') ? '(half the paper\'s) ' : '') + 'and the training differ.');
  const err = res.filter((s) => s.full != null).map((s) => `${s.m.label} ${pct(s.full, 2)}`);
  if (err.length) t.push(`Full-network errors (${list(err)}) are measured on the rebuilt test set, not the official one` +
    (res.every((s) => s.m.man.training) ? ', and come from our own training recipe (see each model card)' : '') + ", so they are not expected to match the paper's 6.1%.");
  const any = sums.find((s) => s.m.r['delete-random']);
  const p = sums.find((s) => s.paths);
  t.push(`We use ${any ? any.m.r['delete-random'].result.samples : o.samples} random draws per k (the spread shown is over those draws) on ${(sums[0].images ?? 10000).toLocaleString('en-US')} test images` +
    (p ? ` and ${p.paths.samples} gradient measurements of ${p.paths.batch} training images per path length, where the paper uses 1,000` : '') +
    '; error rates from fewer draws and fewer test images carry more sampling noise.');
  return t.join(' ');
}

function modelCard(m) {
  const me = m.man.metrics ?? {}, tr = m.man.training ?? {};
  const stored = me.test_error != null ? `${pct(me.test_error, 2)} (${(me.test_images ?? 10000).toLocaleString('en-US')})` : '—';
  const exact = me.test_error_exact_0_999 != null ? pct(me.test_error_exact_0_999, 2) : '—';
  const trained = tr.epochs ? `${tr.epochs} epochs${tr.active_blocks ? `, ${tr.active_blocks} active blocks` : ''}` : (m.man.metrics ? '—' : 'untrained (random weights)');
  return [m.label, `\`${m.rel}\``, String(m.n), m.widths, m.plain ? 'none (plain)' : m.man.arch.shortcut, m.params.toLocaleString('en-US'), `\`${m.sha256.slice(0, 12)}\``, trained, stored, exact];
}

/**
 * "Across depths": the normally trained residual networks on relative axes, when there are
 * two or more: where the paper's claims get stronger with depth. Returns the markdown lines
 * (charts written into dir).
 */
function acrossDepths(models, sums, dir) {
  const resid = models.filter((m) => !m.plain && !(m.man.training?.active_blocks > 0)).sort((a, b) => a.n - b.n);
  if (resid.length < 2) return [];
  const color = (i) => COLORS.series[[0, 2, 3, 4, 5][i % 5]];
  const save = (name, svg) => { writeAtomic(path.join(dir, name), svg); return `results/${name}`; };
  const L = ['## Across depths', '',
    `The normally trained residual networks side by side (${list(resid.map((m) => `${m.label}, n = ${m.n}`))}), ` +
    'on axes relative to their depth, so networks of different depths can be read together.', ''];
  const withL = resid.filter((m) => m.r.lesion);
  if (withL.length >= 2) {
    // the page's "Across depths" chart: a column per network, a dot per block
    const f = save('depths-lesion.svg', figures.depths({ series: withL.map((m, i) => figures.depthSeries(m.name, m.label, color(i), m.r.lesion.result)) }, {
      id: 'dl', heading: { title: 'Deleting one block, by depth',
        subtitle: 'error added by each single-block deletion, one column per network, its blocks in order (hollow: downsampling)' } }));
    L.push(`![single-block deletions across depths](${f})`, '');
  }
  const withD = resid.filter((m) => m.r['delete-random']);
  if (withD.length >= 2) {
    const f = save('depths-delete-random.svg', figures.curve({
      series: withD.map((m, i) => figures.curveSeries(`${m.label} (n = ${m.n})`, color(i), m.r['delete-random'].result)),
    }, { id: 'dd', xLabel: 'k, number of blocks deleted', heading: { title: 'Deleting k random blocks, by depth',
      subtitle: 'the same k removes a smaller share of a deeper network\'s blocks (and paths: 1 − 2^−k of them in every network)' } }));
    L.push(`![random deletions across depths](${f})`, '');
  }
  const withP = resid.filter((m) => m.r.paths);
  if (withP.length >= 2) {
    const series = withP.map((m, i) => {
      const share = m.r.paths.result.total_share;
      let c = 0;
      return { name: `${m.label} (n = ${m.n})`, color: color(i), points: share.map((v, k) => {
        c += v;
        return { x: (100 * k) / m.n, y: Math.min(1, c), title: `${m.label}: paths of ≤ ${k} blocks carry ${(100 * Math.min(1, c)).toFixed(1)}% of the gradient` };
      }) };
    });
    const f = save('depths-paths.svg', figures.lines({ series }, {
      id: 'dp', heading: { title: 'Where the gradient comes from, by depth',
        subtitle: 'cumulative share of the gradient carried by paths up to a given length, the length as a share of the depth' },
      band: { lo: (100 * 5) / 54, hi: (100 * 17) / 54, label: "the paper's window: lengths 5–17 of 54 (90% of its gradient)" },
      xLabel: 'path length (% of the blocks)', yLabel: 'cumulative share of gradient',
      x: { lo: 0, hi: 100, ticks: [0, 20, 40, 60, 80, 100], format: (v) => `${v}%` },
      y: { lo: 0, hi: 1, ticks: [0, 0.25, 0.5, 0.75, 1], format: (v) => `${100 * v}%` } }));
    L.push(`![gradient by relative path length across depths](${f})`, '');
  }
  const rows = resid.map((m) => {
    const s = sums[m.name], P = s.paths;
    const k10 = s.del ? s.del.at(Math.max(1, Math.round(m.n / 10))) : null;
    return [`${m.label}`, String(m.n), s.full != null ? pct(s.full, 2) : '—',
      s.medNd != null ? `${pp(s.medNd)} (max ${pp(s.incNd[s.incNd.length - 1])})` : '—',
      k10 ? `${pct(k10.mean, 1)} (k = ${k10.k})` : '—',
      P ? `${P.window.a}–${P.window.b} (${Math.round((100 * P.window.a) / m.n)}–${Math.round((100 * P.window.b) / m.n)}%)` : '—',
      P ? sharePct(P.window.share_of_paths) : '—',
      s.decay ? `× ${s.decay.factor.toPrecision(2)}` : '—'];
  });
  rows.push(['paper: ResNet-110', '54', '≈ 6.1%', 'no noticeable change', '—', '5–17 (9–31%)', '0.45%', '—']);
  L.push(table([['model', 'blocks n', 'full network', 'deleting one non-downsampling block: median increase', 'error with 10% of the blocks deleted', 'effective window (90% of gradient)', 'share of paths in it', 'gradient per extra block on the path'], ...rows]), '');
  return L;
}

const training = (m) => m.man.training ?? {};

/** Claim 7's pairs [normal, short]: each model trained with --active-blocks and its normally trained twin. */
function shortPathPairs(models) {
  const tr = training;
  return models.filter((m) => tr(m).active_blocks > 0).map((k) => [
    models.find((b) => !tr(b).active_blocks && b.layout === k.layout && b.widths === k.widths && b.plain === k.plain), k]).filter(([b]) => b);
}

/** Each pair set against each other on the same test images, paired (`unravel eval --versus`), cached like the experiments. */
async function shortPathComparisons(pairs, o, dir) {
  const out = new Map();
  // on the test images of the run, and on the pixel-exact records 0-999
  const sets = [{ limit: o.limit, suffix: '' }, { limit: 1000, suffix: '-exact-0-999' }];
  for (const [b, k] of pairs) {
    for (const { limit, suffix } of sets) {
      const args = ['eval', '--model', k.rel, '--versus', b.rel, '--json'];
      if (o.data) args.push('--data', o.data);
      if (limit) args.push('--limit', String(limit));
      const key = { model_sha256: k.sha256, versus_sha256: b.sha256, key_args: args.slice(5) };
      try {
        const r = await cachedRun(args, key, path.join(dir, `${k.name}-versus-${b.name}${suffix}.json`), `[claim 7] ${k.name} against ${b.name}, paired${suffix ? ', records 0-999' : ''}`, o);
        out.set(k.name + suffix, r);
      } catch (e) {
        log(`[claim 7] ${k.name} against ${b.name}: ${e.message}`);
      }
    }
  }
  return out;
}

/** Claim 7: a model trained with --active-blocks beside the same network trained normally. */
function shortPaths(models, comparisons = new Map(), sums = {}, dir = null) {
  const tr = training;
  // The fairest pair (training compute closest to the twin's) first.
  const pairs = shortPathPairs(models).sort(([b1, k1], [b2, k2]) =>
    Math.abs(Math.log(computeRatio(b1, k1))) - Math.abs(Math.log(computeRatio(b2, k2))));
  if (!pairs.length) return [];
  const err = (m) => { const me = m.man.metrics ?? {}; return [me.test_error != null ? pct(me.test_error, 2) : '—', me.test_error_exact_0_999 != null ? pct(me.test_error_exact_0_999, 2) : '—']; };
  const L = ['## Training only short paths (claim 7)', ''];
  L.push('The paper trains its ResNet-110 with only 23 of its 54 residual branches active in each mini-batch (the others ' +
    'skipped, as in stochastic depth), so no path longer than 23 blocks ever receives a gradient, and finds it as good as ' +
    'normal training: 5.96% against 6.10% test error. A step with fewer active branches costs less, so the comparison ' +
    'can be made at equal epochs or at equal training compute; we report both, each against the same normally trained twin, ' +
    'on the same test images, answer by answer.', '');
  L.push(table([['model', 'residual branches per batch', 'path lengths trained', 'epochs', 'test error (rebuilt, 10,000)', 'records 0–999', 'paper (ResNet-110, CIFAR-10)'],
    ...[...new Set(pairs.map(([b]) => b))].map((b) => [b.label, `all ${b.n}`, `all, centred on ${b.n / 2}`, String(tr(b).epochs ?? '—'), ...err(b), '6.10%']),
    ...pairs.map(([, k]) => { const K = tr(k).active_blocks; return [k.label, `${K} of ${k.n}, drawn per batch`, `at most ${K}, centred on ${K / 2}`, String(tr(k).epochs ?? '—'), ...err(k), '5.96%']; })]), '');
  const curves = dir && trainingCurves(pairs, dir);
  if (curves) L.push(`![training and test error against training compute](${curves})`, '',
    'Error during training against the compute spent so far (multiply-adds, in units of the twin\'s whole run). ' +
    'Training error is measured on the augmented batches as trained, so the short-path networks\' is that of their ' +
    'randomly thinned selves; test error is measured with every block on.', '');
  for (const [b, k] of pairs) {
    const K = tr(k).active_blocks;
    const fair = Math.abs(computeRatio(b, k) - 1) < 0.2;
    L.push(`### ${fair ? 'Equal compute' : 'Equal epochs'}: ${k.label} against ${b.label}`, '');
    const d = (k.man.metrics?.test_error ?? NaN) - (b.man.metrics?.test_error ?? NaN);
    const scaled = tr(k).test_time_branch_scale != null;
    L.push(`The errors are the ones stored in the manifests (\`unravel eval\` at the end of training). ` +
      `At test time every block of ${k.label} runs` + (scaled
        ? `, each residual branch scaled by ${K}/${k.n} (stochastic depth's test rule, folded into the branch's last ` +
          `batch norm; without it the residual stream is ${(k.n / K).toFixed(1)} times larger than in training). `
        : ` with its branch unscaled (trained before unravel saved the test-time rule), so the residual stream is about ` +
          `${(k.n / K).toFixed(1)} times larger than in training and the error says little. `) +
      (Number.isFinite(d) ? `Training only paths of at most ${K} blocks changes the error by ${pp(d)}; the paper saw −0.14 pp (5.96% against 6.10%).` : ''), '');
    L.push(...trainingCompute(b, k), '');
    for (const [suffix, what] of [['', 'test images'], ['-exact-0-999', 'pixel-exact test records (0–999)']]) {
      const c = comparisons.get(k.name + suffix);
      if (!c) continue;
      const v = c.result.versus_model, n = c.result.n.toLocaleString('en-US');
      const same = Math.abs(v.change) <= v.ci95;
      L.push(`Set against each other on the same ${n} ${what}, answer by answer: ${k.label} errs on ${pct(c.result.error, 2)}, ` +
        `${b.label} on ${pct(v.error, 2)}, a change of ${pp(v.change)} ± ${pp(v.ci95).replace(/^\+/, '')} (95%, paired; ` +
        `${v.turned_wrong.toLocaleString('en-US')} answers turned wrong, ${v.turned_right.toLocaleString('en-US')} right): ` +
        (same ? `within the noise of ${n} images: no significant difference, as the paper found.` : `${v.change > 0 ? 'a loss' : 'a gain'} beyond the noise, where the paper found a tie.`), '');
      L.push('```sh', c.command, '```', '');
    }
    L.push(...leansLess(sums[b.name], sums[k.name]));
    L.push(...windowMoves(sums[b.name], sums[k.name], K));
  }
  return L;
}

/** Each twin and its short-path networks, error against training compute: one chart, its docs-relative path. */
function trainingCurves(pairs, dir) {
  const twins = [...new Set(pairs.map(([b]) => b))];
  const files = twins.map((b) => {
    const nets = [b, ...pairs.filter(([t]) => t === b).map(([, k]) => k)];
    const logs = nets.map((m) => m.rel.replace(/\.json$/, '.log.jsonl')).map((f) => existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : null);
    if (logs.some((x) => !x)) return null;
    const unit = trainingMacs(b, b);
    const series = nets.map((m, i) => ({ name: `${m.name} (${training(m).epochs} epochs)`, color: COLORS.series[i], log: logs[i], macsPerEpoch: trainingMacs(b, m) / training(m).epochs }));
    const name = `${b.name}-short-path-training.svg`;
    writeAtomic(path.join(dir, name), figures.trainingCompare({ series }, { unit, id: b.name, xLabel: `training compute (1 = ${b.name}'s ${training(b).epochs} epochs)` }));
    return `results/${name}`;
  }).filter(Boolean);
  return files[0] ?? null;
}

/**
 * Multiply-adds to train m (twin b's forward cost per image): a training step
 * counted as three forward passes, the backward pass twice the forward; a
 * batch with K of n branches active runs the stem, the head and K/n of the
 * blocks' work.
 */
function trainingMacs(b, m) {
  const a = b.man.arch, w0 = a.widths[0], wl = a.widths[a.widths.length - 1];
  const outside = 27 * (a.stem_width ?? w0) * 32 * 32 + wl * 10;   // stem conv and the linear head
  const forward = b.man.metrics?.macs_per_image ?? macsOf(b);
  const K = training(m).active_blocks;
  const perImage = K ? outside + (forward - outside) * K / m.n : forward;
  return 3 * perImage * 50000 * (training(m).epochs ?? NaN);
}

const computeRatio = (b, k) => trainingMacs(b, k) / trainingMacs(b, b);

/** What each network of a pair cost to train: multiply-adds and the measured wall-clock. */
function trainingCompute(b, k) {
  const hours = (m) => (training(m).wall_seconds ?? NaN) / 3600;
  const sci = (x) => { const e = Math.floor(Math.log10(x)); return `${(x / 10 ** e).toFixed(2)}×10^${e}`; };
  const ratio = computeRatio(b, k);
  return [`Training compute: the twin, ${training(b).epochs} epochs, ${sci(trainingMacs(b, b))} multiply-adds, ${hours(b).toFixed(2)} h; ` +
    `the short-path network, ${training(k).epochs} epochs, ${sci(trainingMacs(b, k))} multiply-adds (${ratio.toFixed(2)} of its twin's), ${hours(k).toFixed(2)} h ` +
    `(${(hours(k) / hours(b)).toFixed(2)} of its twin's), both on ${training(k).machine ?? 'the same machine'}. ` +
    (Math.abs(ratio - 1) < 0.2
      ? `About equal compute: the fair comparison${ratio < 1 ? ', if anything tilted against the short-path network' : ''} ` +
        `(equal multiply-adds would be ${Math.round(training(k).epochs / ratio)} epochs).`
      : `Equal epochs, not equal compute: each block trained in only ${training(k).active_blocks} of ${k.n} batches, so this network had less than half its twin's training.`)];
}

/** Forward multiply-adds of one image, from `unravel info --json` (BIN: the --bin of this run). */
let BIN = 'build/unravel';
function macsOf(m) {
  const r = spawnSync(BIN, ['info', m.rel, '--json'], { encoding: 'utf8' });
  return r.status === 0 ? JSON.parse(r.stdout).macs_per_image : NaN;
}

/** Where the short-path network's gradient flows, beside its twin's (claim 7's premise: short paths suffice). */
function windowMoves(sb, sk, K) {
  const wb = sb?.paths?.window, wk = sk?.paths?.window;
  if (!wb || !wk) return [];
  const d = (wk.a + wk.b) - (wb.a + wb.b);
  return [`Its gradient flows through ${d < 0 ? 'shorter paths than its twin\'s' : d > 0 ? 'longer paths than its twin\'s' : 'paths of the same lengths as its twin\'s'}: ` +
    `${pct(wk.mass)} of it through lengths ${wk.a}–${wk.b}, against ${pct(wb.mass)} through lengths ${wb.a}–${wb.b} for its twin. ` +
    `The gradient is measured on the network as tested, whose branches are scaled by ${K}/${sk.m.n}, so each branch on a path ` +
    `also scales its gradient by that factor, which favours short paths.${scaleDividedOut(sb, sk)}`, ''];
}

/** The fitted decay per extra branch with the test-time scale divided out, beside the twin's. */
function scaleDividedOut(sb, sk) {
  const scale = sk.m.man.training?.test_time_branch_scale;
  if (!scale || !sb.decay || !sk.decay) return '';
  const f = (x) => `× ${x.toPrecision(2)}`;
  const un = sk.decay.factor / scale;
  return ` Its fitted decay is ${f(sk.decay.factor)} per extra branch, its twin's ${f(sb.decay.factor)}; divided by the scale, ` +
    `its own is ${f(un)}, ` + (un >= sb.decay.factor
      ? 'no steeper than its twin\'s: the shorter window is the test-time rule\'s doing, not a sign that the training weakened long paths.'
      : 'still steeper than its twin\'s: the training shortened its paths beyond the rule\'s share.');
}

/** How much less a short-path network leans on any one block than its twin: deletions at test time. */
function leansLess(sb, sk) {
  if (!sb || !sk) return [];
  const bits = [];
  if (sb.medNd != null && sk.medNd != null) {
    const worst = (s) => s.ds.reduce((a, b) => Math.max(a, b.error - s.full), -Infinity);
    bits.push(`deleting one block costs the short-path network a median ${pp(sk.medNd)} (its twin ${pp(sb.medNd)})` +
      (sb.ds.length && sk.ds.length ? `, and its worst downsampling block ${pp(worst(sk))} (its twin ${pp(worst(sb))})` : ''));
  }
  const both = (x) => sb.del?.at(x) && sk.del?.at(x);
  let ks = [5, 10, 20].filter(both);
  if (!ks.length) ks = (sk.del?.points ?? []).map((p) => p.k).filter((x) => x > 0 && both(x)).slice(-1);   // small nets: the largest k
  if (ks.length) {
    bits.push(`deleting k random blocks takes it to ${list(ks.map((x) => `${pct(sk.del.at(x).mean)} at k = ${x}`))}, ` +
      `where its twin reaches ${list(ks.map((x) => pct(sb.del.at(x).mean)))} (means of the draws)`);
  }
  if (!bits.length) return [];
  const n = (sk.images ?? 10000).toLocaleString('en-US');
  return [`What short-path training buys is robustness. At test time, on the same ${n} images, ${bits.join('; ')}: ` +
    'a network trained to do without most of its blocks in every batch does without them at test time too.', ''];
}

function markdown({ groups, sums, files, skipped, o, commands, outDir, comparisons }) {
  const rel = (f) => `results/${f}`;
  const L = [];
  // Images per model, from the results themselves (options may differ per model).
  const imgs = [...new Set(Object.values(sums).map((s) => s.images).filter(Boolean))].sort((a, b) => a - b);
  const fmtN = (x) => x.toLocaleString('en-US');
  const firstN = imgs.length === 1 && imgs[0] === 10000 ? 'all 10,000' :
    `the first ${imgs.map(fmtN).join(' or ')}${imgs.length > 1 ? ' (depending on the model)' : ''}`;
  L.push('# Results: residual networks behave like ensembles of shallow paths', '');
  // The date of the newest result, not of this run: rerunning on cached results changes nothing.
  const date = [...Object.values(sums)].flatMap((s) => Object.values(s.m.r ?? {}).map((r) => r.date)).sort().pop()?.slice(0, 10);
  L.push(`<!-- Generated by scripts/results.mjs from results computed up to ${date}; do not edit by hand: rerun the script. -->`, '');
  // docs/PAPER.md, linked from wherever --out puts RESULTS.md
  const paper = path.relative(outDir, path.join(ROOT, 'docs', 'PAPER.md')).split(path.sep).join('/');
  L.push('Our reproduction of the experiments of Veit, Wilber & Belongie, "Residual Networks Behave Like ' +
    'Ensembles of Relatively Shallow Networks" (NeurIPS 2016), on our CIFAR-10 networks, beside the paper\'s ' +
    `numbers for its 54-block ResNet-110 (from [docs/PAPER.md](${paper})). Definitions are those of PAPER.md; every ` +
    'number below was produced by the `unravel` CLI with the commands listed at the end.', '');
  L.push('> **Test images.** Error rates are measured on a CIFAR-10 test set **rebuilt offline**: labels exact, ' +
    'records 0–999 pixel-exact, the rest decoded from JPEG copies. They are not official CIFAR-10 figures.' +
    (imgs.length && imgs[imgs.length - 1] <= 1000 ? ` This run used ${firstN} test images, all of them pixel-exact.` : '') +
    (imgs.length && imgs[0] <= 1000 && imgs[imgs.length - 1] > 1000 ? ` Models evaluated on ${fmtN(imgs[0])} images or fewer saw only pixel-exact records.` : ''), '');
  L.push('## Models', '');
  L.push(table([['model', 'manifest', 'blocks', 'widths', 'shortcut', 'parameters', 'sha256', 'training', 'stored test error (images)', 'records 0–999'],
    ...groups.flatMap((g) => g.models.map(modelCard))]), '');
  if (skipped.length) L.push(`Not run (no manifest): ${skipped.map((m) => `\`${m.name}\``).join(', ')}.`, '');

  for (const g of groups) {
    const gs = g.models.map((m) => sums[m.name]);
    const f = files[g.id];
    const fx = findings(gs, o);
    L.push(`## ${g.title}`, '');
    L.push('### Key numbers', '', keyTable(gs), '');
    L.push(`Differences are in percentage points (pp). An increase counts as noticeable above ${gs.filter((s) => s.threshold).map((s) => `${pp(s.threshold).slice(1)} for ${s.m.label}`).join(', ')} ` +
      '(the larger of 1 pp and three binomial standard errors of the full network\'s error on these images).', '');
    if (f.lesion) {
      L.push('### Deleting single blocks (claim 2)', '', `![${g.title}: test error with each block deleted](${rel(f.lesion)})`, '');
      if (f['lesion-resnet']) L.push(`![the same for the ResNet alone, on a magnified error axis](${rel(f['lesion-resnet'])})`, '');
      L.push(...fx.lesion.map((x) => `${x}\n`));
    }
    if (f['delete-random']) L.push('### Deleting k random blocks (claim 3)', '', `![${g.title}: error against k deleted blocks](${rel(f['delete-random'])})`, '', ...fx.del.map((x) => `${x}\n`));
    if (f['swap-k']) {
      L.push('### Reordering blocks (claim 3)', '', `![${g.title}: error against k swaps](${rel(f['swap-k'])})`, '', `![${g.title}: error against Kendall's tau](${rel(f['swap-tau'])})`, '');
      L.push(...fx.swap.map((x) => `${x}\n`));
    }
    for (const m of g.models.filter((m) => f[`${m.name}:paths-total`])) {
      L.push(`### Paths and their gradients: ${m.label} (claims 4–6)`, '');
      L.push(`![path lengths](${rel(f[`${m.name}:paths-lengths`])}) ![gradient per length](${rel(f[`${m.name}:paths-gradient`])}) ![total gradient per length](${rel(f[`${m.name}:paths-total`])})`, '');
      L.push('Like Figure 6 of the paper: (a) how many paths have each length; (b) the norm of the loss gradient ' +
        'at the input when the backward pass goes through the residual branches of k random blocks and the skips ' +
        'of the others; (c) (a) × (b), normalised: the share of the whole gradient that paths of each length carry.', '');
    }
    if (fx.paths.length) L.push(...fx.paths.map((x) => `${x}\n`));
    const plainNoPaths = g.models.filter((m) => m.plain);
    if (plainNoPaths.length) L.push(`(${list(plainNoPaths.map((m) => m.label))} has a single path, so it has no path statistics.)`, '');
    L.push('### Where ours differ from the paper, and why', '', differences(gs, o), '');
  }

  L.push(...acrossDepths(groups.flatMap((g) => g.models), sums, path.join(outDir, 'results')));
  L.push(...shortPaths(groups.flatMap((g) => g.models), comparisons, sums, path.join(outDir, 'results')));

  L.push('## How these figures were produced', '');
  L.push('Rerun everything (cached results are reused when the model\'s sha256 and the parameters match; `--force` recomputes):', '');
  L.push('```sh', `make build/unravel`, `node scripts/results.mjs ${rerunArgs(o.argv).join(' ')}`.trim(), '```', '');
  L.push(`Seed ${o.seed} for every random draw (a draw depends only on the seed, k and the sample number, ` +
    `so the CLI, the JS API and the page draw the same plans). Test-set experiments use ` +
    `${firstN} test images; \`paths\` draws batches from the training set. ` +
    `Data: \`${o.data || process.env.CIFAR10_DIR || 'data/cifar10'}\`; CLI: \`${o.version}\`. ` +
    'Each command below prints the JSON stored next to the charts in `results/` (key `result`, with the model\'s sha256 and the run time):', '');
  L.push('```sh', ...commands, '```', '');
  return L.join('\n');
}

// ---- main ----

async function main() {
  let o;
  try { o = parseArgs(process.argv.slice(2)); } catch (e) { log(`results.mjs: ${e.message}`); process.exit(2); }
  if (o.help) { process.stdout.write(usage()); return; }
  o.argv = process.argv.slice(2);
  // Paths given on the command line are taken from the caller's directory; the CLI runs
  // from the repository root so that the commands recorded in RESULTS.md rerun as printed.
  const outDir = path.resolve(o.out), resDir = path.join(outDir, 'results');
  o.models = o.models.map((s) => (s.includes('/') || s.split(':')[0].endsWith('.json') ? s.replace(/^[^:]+/, (f) => path.resolve(f)) : s));
  if (o.data) o.data = path.relative(ROOT, path.resolve(o.data)) || '.';
  process.chdir(ROOT);
  BIN = o.bin;
  if (!existsSync(o.bin)) { log(`results.mjs: ${o.bin} not found: run \`make build/unravel\` first`); process.exit(1); }
  mkdirSync(resDir, { recursive: true });
  o.version = await new Promise((resolve) => {
    const p = spawn(o.bin, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let v = '';
    p.stdout.on('data', (d) => (v += d));
    p.on('close', () => resolve(v.trim() || 'unknown version'));
    p.on('error', () => resolve('unknown version'));
  });

  let all;
  try { all = o.models.map(loadModel); } catch (e) { log(`results.mjs: ${e.message}`); process.exit(2); }
  const skipped = all.filter((m) => m.missing);
  for (const m of skipped) log(`note: ${m.name}: ${show(m.file)} not found, skipped`);
  const models = all.filter((m) => !m.missing);
  if (!models.length) { log('results.mjs: no model to run'); process.exit(1); }

  // Groups: each ResNet with the plain net of the same shape (if any); leftover plain nets alone.
  const groups = [];
  const used = new Set();
  for (const m of models) {
    if (used.has(m)) continue;
    const twin = models.find((x) => !used.has(x) && x !== m && x.plain !== m.plain && x.layout === m.layout && x.widths === m.widths);
    const ms = [m, twin].filter(Boolean).sort((a, b) => a.plain - b.plain);
    ms.forEach((x) => used.add(x));
    groups.push({ id: ms.map((x) => x.name).join('-vs-'), title: list(ms.map((x) => x.label)), models: ms });
  }

  const known = ['lesion', 'delete-random', 'swap-random', 'paths'];
  const bad = o.experiments.filter((e) => !known.includes(e));
  if (bad.length) { log(`results.mjs: --experiments: ${bad.join(', ')} is not one of ${known.join(', ')}`); process.exit(2); }
  const applies = (m, e) => (e !== 'swap-random' || m.maxSwaps > 0) && (e !== 'paths' || !m.plain);
  const exps = (m) => o.experiments.filter((e) => applies(m, e));
  const others = (m) => known.filter((e) => applies(m, e) && !o.experiments.includes(e));
  const total = models.reduce((a, m) => a + exps(m).length, 0);
  let step = 0;
  const res = {}, commands = [];
  for (const g of groups) for (const m of g.models) {
    res[m.name] = {};
    for (const exp of exps(m)) {
      step++;
      try {
        res[m.name][exp] = await experiment(exp, m, o, resDir, `${step}/${total}`);
        commands.push(res[m.name][exp].command);
      } catch (e) {
        log(`[${step}/${total}] ${m.name} ${exp}: FAILED: ${e.message}`);
      }
    }
    for (const exp of others(m)) {   // not asked to run: shown where a matching result is cached
      const c = await experiment(exp, m, o, resDir, 'cache', true);
      if (c) res[m.name][exp] = c, commands.push(c.command);
    }
    m.r = res[m.name];
  }

  const sums = Object.fromEntries(models.map((m) => [m.name, summarize(m, res[m.name])]));
  const files = Object.fromEntries(groups.map((g) => [g.id, charts(g, res, resDir)]));
  const comparisons = await shortPathComparisons(shortPathPairs(groups.flatMap((g) => g.models)), o, resDir);
  const md = markdown({ groups, sums, files, skipped, o, commands, outDir, comparisons });
  writeAtomic(path.join(outDir, 'RESULTS.md'), md);
  log(`wrote ${show(path.join(outDir, 'RESULTS.md'))} and ${Object.values(files).reduce((a, f) => a + Object.keys(f).length, 0)} charts in ${show(resDir)}/`);
}

main().catch((e) => { log(`results.mjs: ${e.stack ?? e.message}`); process.exit(1); });
