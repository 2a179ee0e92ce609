// views/paths-view.mjs: the "Path lengths & gradients" tab. The binomial
// path-length distribution, the gradient reaching the input per path length
// (measured), the total per length and the effective window holding a share q
// of it; q moves the window live, over the gradients already measured.
import { PATH_STATS } from '../config.mjs';
import * as ex from '../experiments.mjs';
import { pathsRows, pathsNote } from '../paper-tables.mjs';
import { h, chartCard, fmtSeconds } from '../ui.mjs';
import { createPathDistChart } from '../charts/path-dist.mjs';
import { createGradLengthChart } from '../charts/grad-length.mjs';
import { createGradTotalChart } from '../charts/grad-total.mjs';
import { createPanel, modelsToRun, pathsImageCount, viewSignature, cli, runEstimate } from './panel.mjs';

const EXPLAIN = 'Paths of a residual network have lengths Binomial(n, 1/2). The gradient reaching the input through a path ' +
  'shrinks exponentially with its length, so nearly all of it flows through a window of short paths: the effective paths.';

/** @returns {{run, reset, setModel(n), resummarize, syncControls}} */
export function createPathsView(panel, ctx) {
  const p = createPanel(panel, 'paths', ctx, EXPLAIN, (force) => run(force));
  const batchSel = h('select', { id: 'ux-pbatch', 'aria-label': 'images per draw' },
    PATH_STATS.batches.map((b) => h('option', { value: b }, `${b} images per draw`)));
  batchSel.addEventListener('change', () => { ctx.setState({ pbatch: Number(batchSel.value) }); ctx.showView(); });
  // q only re-reads the measured gradients (pathSummary), so it moves live
  const qIn = h('input', { type: 'range', id: 'ux-q', min: PATH_STATS.qMin, max: PATH_STATS.qMax, step: 0.01,
                           'aria-label': 'share of the gradient in the effective window' });
  const qOut = h('output', { for: 'ux-q', class: 'q-value' });
  qIn.addEventListener('input', () => { qOut.textContent = `${Math.round(100 * Number(qIn.value))}%`; });
  qIn.addEventListener('change', () => { ctx.setState({ q: Number(qIn.value) }); resummarize(); });
  p.runRow.append(batchSel, h('label', { class: 'q-label', title: 'q: the share of the gradient the effective window must hold' },
    'gradient in window', qIn, qOut));
  p.head.append(p.meta);
  const grid = h('div', { class: 'chart-grid' });
  panel.append(grid);
  const dist = chartCard(grid, { title: 'Path lengths', name: 'path-lengths', factory: createPathDistChart,
    caption: 'C(n, k) of the 2ⁿ paths have length k; exact, computed in log space.' });
  const grad = chartCard(grid, { title: 'Gradient magnitude per path length', name: 'grad-per-length', factory: createGradLengthChart,
    caption: 'Norm of the loss gradient at the input when it flows through the residual branch of k random blocks and the skip of the rest ' +
      '(line: mean over the draws; band: smallest to largest draw; each draw: a batch of test images and a random set of k blocks).' });
  const total = chartCard(grid, { title: 'Total gradient per path length', name: 'grad-total', factory: createGradTotalChart,
    caption: 'C(n, k) × mean gradient at length k, as a share of the whole; shaded: the shortest window holding a fraction q of it.' });
  const why = h('p', { class: 'caption' });
  panel.append(p.table, why);

  const primary = () => ctx.loaded.primary;

  function table(r, n) {
    const plain = primary()?.info.arch.shortcut === 'none';
    p.compare(pathsRows(r, n, plain));
    why.textContent = plain ? '' : pathsNote(n, !primary()?.info.training, r?.gradMean);
  }

  // What a run will cost: image passes (cost.mjs), and seconds on this
  // machine once the live evaluation has measured a speed.
  const work = (n) => [{ kind: 'paths', name: primary().name, passes: ex.pathStatsCost(n, ctx.st.samples, ctx.st.pbatch) }];
  function estimate(n) {
    const { st } = ctx;
    const s = runEstimate(ctx, work(n));
    return `${st.samples} draws × ${st.pbatch} images × (n + 2) ≈ ${work(n)[0].passes.toLocaleString('en-US')} image passes` +
      (s ? `, about ${fmtSeconds(s)} on this machine` : '');
  }

  async function run(force) {
    const info = primary()?.info;
    if (!info) return;
    const { st } = ctx;
    const n = info.blocks.length;
    if (info.arch.shortcut === 'none') {   // model.pathStats refuses: there is one path
      const msg = `A plain network has a single path (through all ${n} blocks): no path statistics. Pick a residual network.`;
      dist.reset(msg);
      grad.reset(msg);
      total.reset(msg);
      p.btn.disabled = true;
      p.meta.textContent = '';
      table(null, n);
      return;
    }
    p.btn.disabled = false;   // a run under way shows itself on Run (panel.mjs)
    const cached = ctx.results.paths?.sig === viewSignature('paths', ctx) ? ctx.results.paths.data : null;
    dist.update({ n, window: cached?.window ?? null });
    if (!cached) {
      p.meta.textContent = estimate(n);
      table(null, n);
    }
    const count = pathsImageCount(ctx);
    const r = p.begin(force, `Gradients per path length: ${st.samples} draws of ${st.pbatch} images`, work(n));
    if (!r) return;
    const t0 = performance.now();
    p.meta.textContent = estimate(n);
    // the gradient per length on the draws so far (the window needs them all)
    const color = modelsToRun(ctx.loaded)[0].color;
    const onPartial = ({ norms, samples }) => {
      if (!r.current()) return;
      const s = norms.map((row) => ctx.pool.unravel.summarize(row));   // C's summaries, on this thread
      grad.update({ n, color, name: primary().name, gradMean: s.map((x) => x.mean), gradSd: s.map((x) => x.sd),
                    gradMin: s.map((x) => x.min), gradMax: s.map((x) => x.max) });
      grad.status.textContent = `So far on ${samples} of ${st.samples} draws; the rest are coming…`;
    };
    try {
      const res = await ex.pathStats(ctx.pool, 'primary', count, { samples: st.samples, seed: st.seed, batch: st.pbatch, q: st.q },
                                     { signal: r.ctl.signal, onProgress: (f) => p.prog.set(f), onPartial });
      grad.status.textContent = '';
      ctx.results.paths = { sig: r.s, data: res, seconds: (performance.now() - t0) / 1000, count };
      ctx.emit('result', { view: 'paths', model: primary().name, images: count, samples: st.samples, seed: st.seed,
                           batch: st.pbatch, q: st.q, stats: structuredClone(res) });
      show();
      r.finish(`Done: ${st.samples} draws per length, ${st.pbatch} images each.`);
    } catch (e) {
      if (r.current()) grad.status.textContent = '';
      p.fail(r, e, 'Path statistics');
    }
  }

  // The measured result under the current q: charts, table, and the CLI
  // command that prints the same numbers.
  function show() {
    const { data: r, seconds, count } = ctx.results.paths;
    const { st } = ctx;
    const color = modelsToRun(ctx.loaded)[0].color;
    grad.update({ n: r.n, gradMean: r.gradMean, gradSd: r.gradSd, color, name: primary().name,
                  gradMin: r.norms.map((v) => Math.min(...v)), gradMax: r.norms.map((v) => Math.max(...v)) });
    total.update({ n: r.n, total: r.total, window: r.window, color });
    dist.update({ n: r.n, window: r.window });
    table(r, r.n);
    const q = r.window.q === PATH_STATS.q ? '' : ` --q ${r.window.q}`;
    p.meta.replaceChildren(`${estimate(r.n).replace(/, about .*$/, '')}; took ${fmtSeconds(seconds)}. Same draws as `,
      cli(`unravel paths --model ${primary().name}.json --split test --limit ${count} --samples ${st.samples} --batch ${st.pbatch} --seed ${st.seed}${q}`),
      `${ctx.images.fromSite ? '' : ` on your ${count.toLocaleString('en-US')} images`}.`);
  }

  // A new q: the window of the gradients already measured (nothing reruns).
  async function resummarize() {
    const cur = ctx.results.paths;
    const { st } = ctx;
    if (!cur || cur.sig !== viewSignature('paths', ctx) || cur.data.window.q === st.q) return;
    try {
      const r = await ctx.pool.run({ type: 'pathSummary', key: 'primary', norms: cur.data.norms,
                                     opts: { q: st.q, seed: st.seed, batch: st.pbatch } });
      if (ctx.results.paths !== cur) return;   // a new run replaced it meanwhile
      cur.data = r;
      show();
    } catch (e) {
      ctx.say(`Effective window: ${e.message}`, 'error', 'paths');
    }
  }

  return {
    run,
    resummarize,
    /** A new model: its path-length distribution, nothing measured yet. */
    setModel(n) { dist.update({ n }); },
    reset() { grad.reset(); total.reset(); p.reset(); },
    syncControls() {
      batchSel.value = String(ctx.st.pbatch);
      qIn.value = String(ctx.st.q);
      qOut.textContent = `${Math.round(100 * ctx.st.q)}%`;
    },
  };
}
