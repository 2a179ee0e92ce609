// views/lesion-view.mjs: the "Delete one block" tab. Each block's residual
// branch deleted in turn, for the model and the one it is compared with; a
// bar chart, the table beside the paper, the cost and the CLI command.
import { LESION_BATCH } from '../config.mjs';
import { lesionRows } from '../paper-tables.mjs';
import { h, chartCard } from '../ui.mjs';
import { createLesionChart } from '../charts/lesion.mjs';
import { createPanel, modelsToRun, imageCount, cli, lesionOf, knownLesion, reusedNote, lesionNumbers } from './panel.mjs';
import { lesionPasses } from '../cost.mjs';

const EXPLAIN = 'Delete one block at a time (its residual branch; the skip stays) and measure the test error. ' +
  'Removing a block removes half of all paths, yet the paper finds a ResNet barely notices, except at the downsampling blocks; ' +
  'deleting a layer of a plain network drops it to chance (90% error).';

/** @returns {{run: (force: boolean) => Promise<void>, reset: () => void}} */
export function createLesionView(panel, ctx) {
  const p = createPanel(panel, 'lesion', ctx, EXPLAIN, (force) => run(force));
  // a bar of the primary model: that deletion, in the network section
  const onSelect = (model, block) => {
    const info = ctx.loaded.primary?.info;
    if (info) ctx.applyPlan({ order: info.blocks.map((b) => b.id), deleted: [block] });
  };
  const chart = chartCard(panel, { title: 'Error when one block is deleted', name: 'lesion-single', factory: createLesionChart,
    options: { onSelect },
    caption: 'One bar per block (grouped by model when two of the same depth are compared, one panel each otherwise); whiskers: 95% interval of the change from the full network, paired image by image; dashed lines: the full network; × marks a block that cannot be deleted. Click a bar to try that deletion in the network above.' });
  panel.append(h('div', { class: 'result-row' }, chart.fig, h('div', { class: 'result-side' }, p.table, p.meta)));

  const isPlain = (name) => {
    const { primary, compare } = ctx.loaded;
    const info = primary?.name === name ? primary.info : compare?.name === name ? compare.info : null;
    return info?.arch.shortcut === 'none';
  };

  async function run(force) {
    if (!ctx.loaded.primary) return;
    const count = imageCount(ctx);
    const ms = modelsToRun(ctx.loaded);
    const work = ms.filter((m) => force || !knownLesion(ctx, m.name, count))   // what is measured again
      .map((m) => ({ kind: 'lesion', name: m.name, passes: lesionPasses(m.info.blocks) * count }));
    const r = p.begin(force, `Deleting each block in turn, ${count.toLocaleString('en-US')} images`, work);
    if (!r) return;
    const parts = ms.map((m, i) => ({ name: m.name, color: m.color, result: null, selectable: i === 0 }));   // the primary's bars can be tried above
    const fracs = ms.map(() => 0);
    const seen = ms.map(() => 0);   // images each model's bars cover so far
    const showPartial = (i, res) => {
      if (!r.current()) return;
      parts[i].result = res;
      seen[i] = res.n;
      chart.update({ series: parts });
      chart.status.textContent = `So far on the first ${Math.min(...seen).toLocaleString('en-US')} of ` +
        `${count.toLocaleString('en-US')} images; the intervals narrow as more come in…`;
    };
    const reused = force ? [] : ms.filter((m) => knownLesion(ctx, m.name, count)).map((m) => m.name);
    chart.update({ series: parts });
    p.meta.textContent = '';
    try {
      await Promise.all(ms.map((m, i) => lesionOf(ctx, m.name, m.key, count, force, {
        batch: LESION_BATCH,
        signal: r.ctl.signal,
        onProgress: (f) => { fracs[i] = f; p.prog.set(fracs.reduce((a, b) => a + b) / fracs.length); },
        onPartial: (res) => showPartial(i, res),
      }).then((res) => showPartial(i, res))));   // each model's bars as they come
      chart.status.textContent = '';
      ctx.results.lesion = { sig: r.s, data: parts };
      ctx.emit('result', { view: 'lesion', images: count, models: parts.map((x) => lesionNumbers(x.name, x.result)) });
      chart.update({ series: parts });
      p.compare(lesionRows(parts, isPlain));
      const fe = parts.map((x) => `${parts.length > 1 ? `${x.name}: ` : ''}${x.result.forwardEquivalents.toFixed(1)} ` +
        `full forward passes for ${x.result.blocks.length + 1} plans`).join('; ');
      p.meta.replaceChildren(`Cost: ${fe} (each deletion reuses the activations ` +
        'before its block). Same numbers as ', cli(`unravel lesion --model ${ctx.loaded.primary.name}.json --limit ${count}`), '.');
      const plans = parts.map((x) => x.result.blocks.length + 1).join(' and ');
      r.finish(`Done: ${plans} plans${ms.length > 1 ? ` (${parts.map((x) => x.name).join(', ')})` : ''} on ${count.toLocaleString('en-US')} images` +
               `${reusedNote(reused)}.`);
    } catch (e) {
      chart.status.textContent = '';
      p.fail(r, e, 'Lesion study');
    }
  }

  return { run, reset() { chart.reset(); p.reset(); } };
}
