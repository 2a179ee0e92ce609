// views/depth-view.mjs: the "Across depths" tab. Every residual network the
// site offers (normally trained: not the plain nets, not the short-path one),
// plus the chosen and compared models when residual, each with every block
// deleted in turn on the same images: the deeper the network, the less one
// block matters, which is the paper's ensemble reading of claim 2.
import { PAPER, COLORS } from '../config.mjs';
import { h, chartCard } from '../ui.mjs';
import { createDepthChart, medianCost } from '../charts/depth.mjs';
import { median } from '../math.mjs';
import { createPanel, imageCount, cli, lesionOf, knownLesion, reusedNote, lesionNumbers, runEstimate } from './panel.mjs';
import { lesionPasses, archBlocks } from '../cost.mjs';

const EXPLAIN = 'Delete each block in turn in every residual network here, on the same test images. If a ResNet is an ensemble ' +
  'of paths, more blocks mean more paths, each deletion removes a smaller share of the paths that matter, and the error it adds ' +
  'shrinks with depth: the paper\'s 54-block ResNet-110 shows no noticeable change.';

// The worker slot for a network that is neither the chosen nor the compared
// one: one per run, so a run cancelled by the next frees only its own.
let runs = 0;

/** @returns {{run: (force: boolean) => Promise<void>, reset: () => void}} */
export function createDepthView(panel, ctx) {
  const p = createPanel(panel, 'depth', ctx, EXPLAIN, (force) => run(force));
  const chart = chartCard(panel, { title: 'Error added by deleting one block, across depths', name: 'lesion-depths', factory: createDepthChart,
    caption: 'One column per residual network, ordered by its number of blocks; in each, one dot per block in network order, at the points of ' +
      'error its deletion adds (symmetric log axis: below zero, the deletion helped); hollow: downsampling blocks. ' +
      'The line is the median non-downsampling deletion. Hover a dot for its paired 95% interval.' });
  panel.append(h('div', { class: 'result-row' }, chart.fig, h('div', { class: 'result-side' }, p.table, p.meta)));

  /** The networks to measure: [{name, label, key|null}], the loaded ones first run where they are. */
  function networks() {
    const out = [];
    const add = (name, key) => { if (name && !out.some((m) => m.name === name)) out.push({ name, label: ctx.labelOf(name), key }); };
    const residual = (name) => {
      const j = ctx.manifestOf(name);
      return j && j.arch?.shortcut !== 'none' && !(j.training?.active_blocks > 0);
    };
    for (const slot of ['primary', 'compare']) {
      const m = ctx.loaded[slot];
      if (m && m.info.arch.shortcut !== 'none') add(m.name, slot);
    }
    for (const m of ctx.offered()) if (residual(m.name)) add(m.name, null);
    return out;
  }

  async function run(force) {
    const count = imageCount(ctx);
    const nets = networks();
    // each network's sweep, unless measured already (residual: every block deletable)
    const work = nets.map((net) => {
      if (!force && knownLesion(ctx, net.name, count)) return null;
      const arch = ctx.manifestOf(net.name)?.arch;
      const blocks = net.key ? ctx.loaded[net.key].info.blocks : arch ? archBlocks(arch) : 0;
      return { kind: 'lesion', name: net.name, passes: lesionPasses(blocks) * count };
    });
    const todo = (from, to = nets.length) => work.slice(from, to).filter(Boolean);
    const r = p.begin(force, `Deleting each block of ${nets.length} residual network${nets.length === 1 ? '' : 's'}, ${count.toLocaleString('en-US')} images each`,
                      todo(0));
    if (!r) return;
    const series = [];
    chart.update({ series });
    p.meta.textContent = '';
    const slot = `depth-${++runs}`;
    let usedSlot = false;
    const reused = [];
    try {
      for (const [i, net] of nets.entries()) {
        const known = !force && knownLesion(ctx, net.name, count);   // measured by this tab or the lesion tab
        if (known) reused.push(net.label);
        let key = net.key, info = key && ctx.loaded[key].info;
        if (!key && !known) {
          const bytes = await ctx.modelBytes(net.name);
          info = (await ctx.pool.broadcast(`model:${slot}`, { type: 'model', key: slot, ...bytes })).info;
          key = slot;
          usedSlot = true;
        }
        r.ctl.signal.throwIfAborted();
        const blocks = known ? known.blocks.length : info.blocks.length;
        p.prog.start(`${net.label} (${i + 1} of ${nets.length}): deleting each of its ${blocks} blocks, ` +
                     `${count.toLocaleString('en-US')} images`, () => r.ctl.abort(),
                     { estimate: () => runEstimate(ctx, todo(i, i + 1)), after: () => runEstimate(ctx, todo(i + 1)) });
        const entry = (res) => ({ name: net.name, label: net.label, n: res.blocks.length, color: COLORS.stage[i % COLORS.stage.length],
                                  full: res.full.error, blocks: res.blocks });
        const onPartial = (res) => {   // this network's column on the images measured so far
          if (!r.current()) return;
          chart.update({ series: [...series, entry(res)] });
          chart.status.textContent = `${net.label}: so far on the first ${res.n.toLocaleString('en-US')} of ${count.toLocaleString('en-US')} images…`;
        };
        const res = known || await lesionOf(ctx, net.name, key, count, force,
                                            { signal: r.ctl.signal, onProgress: (f) => p.prog.set(f), onPartial });
        series.push(entry(res));
        chart.status.textContent = '';
        if (r.current()) chart.update({ series });
      }
      ctx.results.depth = { sig: r.s, data: series };
      ctx.emit('result', { view: 'depth', images: count,
                           models: series.map((s) => lesionNumbers(s.name, { n: count, full: { error: s.full }, blocks: s.blocks })) });
      p.compare(rowsBesidePaper(series));
      p.meta.replaceChildren(noiseNote(series, count), ' Same numbers as ', ...series.flatMap((s, i) => [...(i ? [', '] : []),
        cli(`unravel lesion --model ${s.name}.json --limit ${count}`)]), '.');
      r.finish(`Done: ${series.length} network${series.length === 1 ? '' : 's'} on ${count.toLocaleString('en-US')} images${reusedNote(reused)}.`);
    } catch (e) {
      p.fail(r, e, 'Across depths');
    } finally {
      if (usedSlot) {   // free the extra network's memory in every worker
        // forget the set-up (a new worker loads nothing), unload it everywhere, forget that too
        await ctx.pool.broadcast(`model:${slot}`, null);
        await ctx.pool.broadcast(`unload:${slot}`, { type: 'unloadModel', key: slot });
        await ctx.pool.broadcast(`unload:${slot}`, null);
      }
    }
  }

  /** How wide a deletion's paired 95% interval typically is: on few images the deep nets' costs are within it. */
  function noiseNote(series, count) {
    const widths = [...series].sort((a, b) => a.n - b.n).map((s) =>
      `${s.label} ±${median(s.blocks.filter((b) => b.ci95 != null && !b.downsample).map((b) => 100 * b.ci95)).toFixed(1)}`);
    return `On ${count.toLocaleString('en-US')} images a deletion's change is known to within (median 95% interval, points): ` +
      `${widths.join(', ')}${count < 10000 ? '; more test images narrow it' : ''}.`;
  }

  function rowsBesidePaper(series) {
    const pts = (v) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(Math.abs(v) >= 10 ? 0 : 1)}`;
    const rows = [...series].sort((a, b) => a.n - b.n).map((s) => {
      const c = s.blocks.filter((b) => b.error != null && !b.downsample).map((b) => 100 * (b.error - s.full));
      return [`${s.label}, ${s.n} blocks: a non-downsampling deletion adds`,
        c.length ? `median ${pts(medianCost(s))} points (${pts(Math.min(...c))} to ${pts(Math.max(...c))})` : '–',
        s.n === PAPER.window.n ? 'no noticeable change' : '–'];
    });
    if (!series.some((s) => s.n === PAPER.window.n))
      rows.push([`${PAPER.window.n} blocks (the paper's depth)`, 'not here', 'no noticeable change']);
    return rows;
  }

  return { run, reset() { chart.reset(); p.reset(); } };
}
