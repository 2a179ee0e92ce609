// views/k-view.mjs: the "Delete k blocks" and "Swap k pairs" tabs. Random
// draws per k (seeded), the error's mean, spread and range against k (or k/n,
// or Kendall's tau), the table beside the paper and the CLI command.
import * as ex from '../experiments.mjs';
import { kRows } from '../paper-tables.mjs';
import { h, chartCard } from '../ui.mjs';
import { createErrorKChart } from '../charts/error-k.mjs';
import { createPanel, modelsToRun, imageCount, cli, VIEW_LABELS } from './panel.mjs';
import { randomCurvePasses } from '../cost.mjs';

const KINDS = {
  delete: {
    explain: 'Delete k random blocks at once (draws per k, seeded) and measure the error. ' +
      'An ensemble degrades smoothly as members are removed; so, the paper finds, does a ResNet.',
    // k/n sets nets of different depths (9 and 54 blocks) on one axis
    xModes: [['k', 'x: number of deleted blocks k'], ['share', 'x: share of the blocks k/n']],
    xSelectId: 'ux-delete-x',
    chart: { title: 'Error against the number of deleted blocks', name: 'delete-k', xLabel: 'k: number of deleted blocks',
             kWords: (k) => `${k} random block${k === 1 ? '' : 's'} deleted`,
             caption: 'Line: mean over draws; band: ± one standard deviation; dotted: min and max.' },
    kmax: (m) => m.maxDeletions,
  },
  swap: {
    explain: 'Swap k random pairs of same-stage, non-downsampling blocks (reordering). ' +
      "The further the order moves from the original (lower Kendall's tau), the higher the error, and smoothly so.",
    xModes: [['k', 'x: number of swaps k'], ['tau', "x: Kendall's tau"]],
    xSelectId: null,
    chart: { title: 'Error against reordering', name: 'swap-k', xLabel: 'k: number of swapped pairs',
             kWords: (k) => `${k} random swap${k === 1 ? '' : 's'}`,
             caption: "Mean, ± sd and min/max over draws; tau is the mean Kendall's tau of the draws at each k." },
    kmax: (m) => Math.min(m.maxSwaps, m.info.blocks.length),
  },
};

/** "0-9" for a run of consecutive ks, else "0,2,4". */
export function ksArg(ks) {
  return ks.length > 2 && ks.every((k, i) => k === ks[0] + i) ? `${ks[0]}-${ks[ks.length - 1]}` : ks.join(',');
}

/**
 * @param {HTMLElement} panel
 * @param {'delete'|'swap'} v
 * @returns {{run: (force: boolean) => Promise<void>, reset: () => void}}
 */
export function createKView(panel, v, ctx) {
  const kind = KINDS[v];
  const p = createPanel(panel, v, ctx, kind.explain, (force) => run(force));
  const xSel = h('select', { 'aria-label': `${v} chart x axis`, id: kind.xSelectId, onchange: () => chart.setXMode(xSel.value) },
    kind.xModes.map(([value, text]) => h('option', { value }, text)));
  p.runRow.append(xSel);
  // a draw of the primary model: the same plan (a draw depends only on seed, k and sample), in the network section
  let shownSeed = null;   // the seed of the curves on show
  const onSelect = async (model, k, sample) => {
    try {
      ctx.applyPlan(await ctx.pool.run({ type: 'drawPlan', key: 'primary', kind: v, k, seed: shownSeed, sample }));
    } catch (e) {
      ctx.say(`That draw: ${e.message}`, 'error', v);
    }
  };
  const chart = chartCard(panel, { title: kind.chart.title, name: kind.chart.name, factory: createErrorKChart,
    options: { title: kind.chart.title, xLabel: kind.chart.xLabel, kWords: kind.chart.kWords, onSelect },
    caption: `${kind.chart.caption} Faint dots: each draw; click one to try its plan in the network above.` });
  panel.append(h('div', { class: 'result-row' }, chart.fig, h('div', { class: 'result-side' }, p.table, p.meta)));

  async function run(force) {
    const { st } = ctx;
    if (!ctx.loaded.primary) return;
    const count = imageCount(ctx);
    const ms = modelsToRun(ctx.loaded);
    const ksOf = ms.map((m) => ex.defaultKs(kind.kmax(m)));
    const work = ms.map((m, i) => ({ kind: v, name: m.name, passes: randomCurvePasses(v, m.info.blocks, ksOf[i], st.samples) * count }));
    const r = p.begin(force, `${st.samples} draws per k, ${count.toLocaleString('en-US')} images each`, work);
    if (!r) return;
    shownSeed = st.seed;
    const series = ms.map((m, i) => ({ name: m.name, color: m.color, blocks: m.info.blocks.length, kmax: kind.kmax(m), points: [],
                                        selectable: i === 0 }));   // the primary's draws can be tried above
    const fracs = ms.map(() => 0);
    const kmax = Math.max(...ms.map(kind.kmax));
    const draw = () => chart.update({ series, kmax: v === 'delete' ? kmax : undefined });
    chart.update({ series });
    p.meta.textContent = '';
    try {
      await Promise.all(ms.map((m, i) => ex.randomCurve(ctx.pool, m.key, v, count, { ks: ksOf[i], samples: st.samples, seed: st.seed }, {
        signal: r.ctl.signal,
        onProgress: (f) => { fracs[i] = f; p.prog.set(fracs.reduce((a, b) => a + b) / fracs.length); },
        onPartial: (res) => {
          series[i].points = res.points;
          if (!r.current()) return;
          draw();
          p.meta.textContent = `${ms.length > 1 ? `${m.name}: ` : ''}the curve so far, on ${res.n.toLocaleString('en-US')} of ` +
            `${count.toLocaleString('en-US')} images; it settles as the rest come in.`;
        },
      }).then((res) => { series[i].points = res.points; })));
      ctx.results[v] = { sig: r.s, data: series };
      ctx.emit('result', { view: v, images: count, samples: st.samples, seed: st.seed,
                           models: series.map((s) => ({ model: s.name, points: structuredClone(s.points) })) });
      draw();
      p.compare(kRows(v, series));
      const plans = ksOf.reduce((s, ks) => s + ks.length, 0) * st.samples;
      p.meta.replaceChildren(`${plans} networks evaluated. Same draws as `,
        cli(`unravel ${v}-random --model ${ctx.loaded.primary.name}.json --k ${ksArg(ksOf[0])} --samples ${st.samples} --seed ${st.seed} --limit ${count}`), '.');
      r.finish(`Done: ${st.samples} draws per k on ${count.toLocaleString('en-US')} images.`);
    } catch (e) {
      p.fail(r, e, VIEW_LABELS[v]);
    }
  }

  return { run, reset() { chart.reset(); p.reset(); } };
}
