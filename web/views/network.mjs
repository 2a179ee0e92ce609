// views/network.mjs: "The network" section. The block diagram (click to
// delete, drag or ‹ › to swap, Shuffle, Reset), the plan's path count, its
// live test error beside the full network's (the change paired image by
// image), the same set against the compared model's full network when one is
// chosen, and the grid of test images (sample-grid.mjs).
import * as ex from '../experiments.mjs';
import { PAPER } from '../config.mjs';
import { createBlockDiagram } from '../blocks.mjs';
import { createSampleGrid } from './sample-grid.mjs';
import { pct, sup } from '../math.mjs';
import { h, progressRow } from '../ui.mjs';
import { isAbort, imageCount } from './panel.mjs';

/**
 * @param {object} ctx  the explorer's shared state (see panel.mjs)
 * @returns {{el, plan, setModel(info, plan), setPlan(plan), refresh(), dataChanged(), cancel()}}
 */
export function createNetworkSection(ctx) {
  const diagramEl = h('div', { class: 'diagram', part: 'diagram' });
  const shuffleK = h('input', { type: 'number', min: 1, max: 100, value: 2, 'aria-label': 'swaps per shuffle', class: 'small' });
  // aria-live: a screen reader hears the new error when a click changes the plan
  const errBig = h('span', { class: 'err-big', 'data-testid': 'live-error', 'aria-live': 'polite', part: 'live-error' }, '–');
  const errSub = h('span', { class: 'err-sub', 'aria-live': 'polite' });
  const errVs = h('span', { class: 'err-vs', 'aria-live': 'polite', hidden: true });
  const evalProgress = progressRow('eval');
  const samples = createSampleGrid(ctx);
  const planInfo = h('span', { class: 'plan-info' });
  // id and tabindex: the page's skip link and the landing's button take the focus here
  const el = h('section', { class: 'network', id: 'ux-network', tabindex: -1, 'aria-label': 'the network', part: 'network' },
    h('div', { class: 'section-head' }, h('h2', {}, 'The network'), planInfo),
    h('p', { class: 'hint' }, 'Click a block to delete its residual branch (the skip stays), drag a block onto another of its stage, or use ‹ ›, to swap them. ',
      h('b', {}, '↓2'), ' marks downsampling blocks; the hatched downsampling blocks of a plain network cannot be deleted (they have no skip).'),
    diagramEl,
    h('div', { class: 'toolbar' },
      h('button', { type: 'button', onclick: () => shuffle() }, 'Shuffle'), ' ', shuffleK, ' random swaps ',
      h('button', { type: 'button', onclick: () => setPlan(identityPlan()) }, 'Reset')),
    h('div', { class: 'live' },
      h('div', { class: 'live-num' }, h('span', { class: 'live-label' }, 'Test error of this plan'), errBig, errSub, errVs, evalProgress.el),
      samples.el));
  const diagram = createBlockDiagram(diagramEl, { onChange: (plan) => setPlan(plan) });
  // the numbers the API computes in C, with the pool's instance on this thread
  const numbers = () => ctx.pool.unravel;

  let full = null;   // {key, error, pred}: the primary's full network on this many images
  let other = null;  // the same for the compared model
  let evalCtl = null, evalGen = 0, shuffleCount = 0;
  const info = () => ctx.loaded.primary?.info;
  const identityPlan = () => ({ order: info().blocks.map((b) => b.id), deleted: [] });
  const inOrder = (plan) => plan.order.every((b, p) => b === p);
  // the plan as `unravel eval` options: " --delete 4,7 --order ..." (empty for the full network)
  const planArgs = (plan) => `${plan.deleted.length ? ` --delete ${plan.deleted.join(',')}` : ''}` +
    `${inOrder(plan) ? '' : ` --order ${plan.order.join(',')}`}`;

  function setPlan(plan) {
    const blocks = info()?.blocks;
    if (!blocks) return;
    const identity = inOrder(plan);
    diagram.setPlan(plan);
    ctx.setState({ deleted: plan.deleted, order: identity ? null : plan.order });
    const live = blocks.length - plan.deleted.length;
    const paths = info().arch.shortcut === 'none' ? '1 path (no skips)'   // a plain net is one path, whatever is deleted
      : `${2 ** live > 1e6 ? `2${sup(live)}` : (2 ** live).toLocaleString('en-US')} paths`;
    planInfo.textContent = `${blocks.length} blocks · ${paths}` +
      `${plan.deleted.length ? ` · ${plan.deleted.length} deleted` : ''}` +
      `${identity ? '' : ` · reordered, Kendall's tau ${numbers().kendallTau(plan.order).toFixed(2)}`}`;
    liveEval();
  }

  // k random swaps on top of the plan on show: a draw of the module's seeded
  // generator (as swap-random draws, by seed, k and the shuffle's number),
  // whose swaps are made on the current order.
  async function shuffle() {
    const primary = ctx.loaded.primary;
    if (!primary) return;
    const k = Math.min(primary.maxSwaps, Math.max(1, Math.min(100, Math.floor(Number(shuffleK.value)) || 1)));
    try {
      const { order: swaps } = await ctx.pool.run({ type: 'drawPlan', key: 'primary', kind: 'swap', k,
                                                    seed: ctx.st.seed, sample: ++shuffleCount });
      if (ctx.loaded.primary !== primary) return;   // another model meanwhile
      const plan = diagram.plan;
      plan.order = swaps.map((p) => plan.order[p]);
      setPlan(plan);
    } catch (e) {
      ctx.say(`Shuffle: ${e.message}`, 'error', 'eval');
    }
  }

  async function liveEval() {
    const { loaded, images } = ctx;
    if (!loaded.primary || !images.bytes) return;
    const gen = ++evalGen;
    evalCtl?.abort();
    const ctl = evalCtl = new AbortController();
    const plan = diagram.plan;
    const count = imageCount(ctx);
    const isFull = !plan.deleted.length && inOrder(plan);
    const fullKey = `${loaded.primary.name}:${count}`;
    errBig.classList.add('stale');
    errVs.classList.add('stale');
    evalProgress.start(`Evaluating ${count.toLocaleString('en-US')} images`, () => ctl.abort());
    samples.update(plan, count, isFull);
    const onProgress = (f) => { if (gen === evalGen) evalProgress.set(f); };
    try {
      const r = await ex.evaluatePlan(ctx.pool, 'primary', plan, count, { signal: ctl.signal, onProgress });
      if (gen !== evalGen) return;
      if (isFull) full = { key: fullKey, error: r.error, pred: r.pred };
      if (r.seconds > 0 && r.n) ctx.speed[loaded.primary.name] = r.seconds / r.n;
      errBig.textContent = pct(r.error, 1);
      errBig.classList.remove('stale');
      if (!isFull && full?.key !== fullKey) {
        evalProgress.start(`Evaluating the full network on ${count.toLocaleString('en-US')} images`, () => ctl.abort());
        const f = await ex.evaluatePlan(ctx.pool, 'primary', { deleted: [] }, count, { signal: ctl.signal, onProgress });
        if (gen !== evalGen) return;
        full = { key: fullKey, error: f.error, pred: f.pred };
      }
      const nText = r.n.toLocaleString('en-US');
      const c = isFull ? null : numbers().pairedChange(full.pred, r.pred, ctx.images.labels);
      if (isFull) {
        errSub.textContent = `full network, ${nText} images`;
        errSub.removeAttribute('title');
        delete errSub.dataset.turnedWrong;
        delete errSub.dataset.turnedRight;
      } else {
        errSub.textContent = `full network ${pct(full.error, 1)} · ${changeText(c)} · ${nText} images`;
        errSub.dataset.turnedWrong = String(c.turnedWrong);
        errSub.dataset.turnedRight = String(c.turnedRight);
        errSub.title = `Same numbers as: unravel eval --model ${loaded.primary.name}.json${planArgs(plan)} --limit ${count}`;
        samples.setFlips(full.pred, r.pred, c);
      }
      errSub.dataset.full = String(full.error);
      await versusCompared(r, plan, count, gen, { signal: ctl.signal, onProgress, cancel: () => ctl.abort() });
      if (gen !== evalGen) return;
      evalProgress.done();
      // the live error as `unravel eval` prints it: the change paired with the full network's answers
      ctx.emit('result', { view: 'network', model: loaded.primary.name, images: r.n, deleted: [...plan.deleted],
                           order: isFull || inOrder(plan) ? null : [...plan.order], error: r.error, fullError: full.error,
                           change: c?.change ?? 0, ci95: c?.ci95 ?? 0, turnedWrong: c?.turnedWrong ?? 0, turnedRight: c?.turnedRight ?? 0 });
    } catch (e) {
      if (gen !== evalGen) return;
      evalProgress.done(isAbort(e) ? 'Cancelled.' : null);
      if (!isAbort(e)) ctx.say(`Evaluation failed: ${e.message}`, 'error', 'eval');
    }
  }

  /* The plan against the compared model's full network on the same images,
   * paired as against its own (a claim-7 pair, or a ResNet and its plain
   * twin: is the difference more than the noise of this many images?). */
  async function versusCompared(r, plan, count, gen, { signal, onProgress, cancel }) {
    const cmp = ctx.loaded.compare;
    if (!cmp) {
      errVs.hidden = true;
      errVs.classList.remove('stale');
      return;
    }
    const key = `${cmp.name}:${count}`;
    if (other?.key !== key) {
      evalProgress.start(`Evaluating ${ctx.labelOf(cmp.name)} on ${count.toLocaleString('en-US')} images`, cancel);
      const f = await ex.evaluatePlan(ctx.pool, 'compare', { deleted: [] }, count, { signal, onProgress });
      if (gen !== evalGen) return;
      other = { key, error: f.error, pred: f.pred };
    }
    const c = numbers().pairedChange(other.pred, r.pred, ctx.images.labels);
    // A claim-7 pair (the same network, one trained on short paths, the other not): the paper's two errors beside ours.
    const shortPaths = (name) => ctx.manifestOf(name)?.training?.active_blocks > 0;
    const p = ctx.loaded.primary.info, q = cmp.info;
    const twins = p.blocks.length === q.blocks.length && p.arch.shortcut === q.arch.shortcut;
    const claim7 = twins && shortPaths(ctx.loaded.primary.name) !== shortPaths(cmp.name)
      ? ` · the paper's ResNet-110: ${pct(PAPER.shortPathTraining.sampled, 2)} trained on short paths against ${pct(PAPER.shortPathTraining.normal, 2)}` : '';
    errVs.textContent = `against ${ctx.labelOf(cmp.name)}, full network ${pct(other.error, 1)} · ${changeText(c)}${claim7}`;
    errVs.dataset.turnedWrong = String(c.turnedWrong);
    errVs.dataset.turnedRight = String(c.turnedRight);
    errVs.title = `Same numbers as: unravel eval --model ${ctx.loaded.primary.name}.json${planArgs(plan)} --versus ${cmp.name}.json --limit ${count}`;
    errVs.hidden = false;
    errVs.classList.remove('stale');
  }

  // "change +2.4 points ± 1.1 · 19 answers turned wrong, 7 right": the
  // interval is paired (the same images), so it says whether the change is
  // more than the noise of measuring on this many images.
  function changeText(c) {
    const pts = (x) => (100 * Math.abs(x)).toFixed(1);
    const noise = Math.abs(c.change) <= c.ci95 ? ', within the noise' : '';
    return `change ${c.change >= 0 ? '+' : '−'}${pts(c.change)}\u00a0points\u00a0±\u00a0${pts(c.ci95)} (95%${noise}) · ` +
      `${c.turnedWrong.toLocaleString('en-US')} answers turned wrong, ${c.turnedRight.toLocaleString('en-US')} right`;
  }

  return {
    el,
    /** The plan on show: {order, deleted}, a copy. */
    get plan() { return diagram.plan; },
    /** A new primary model, with this plan (default: every block, in order). */
    setModel(modelInfo, plan = null) {
      full = other = null;
      diagram.setModel(modelInfo.blocks);
      setPlan(plan ?? identityPlan());
    },
    setPlan,
    /** Measure the plan on show again (the image count changed). */
    refresh() { setPlan(diagram.plan); },
    /** A new compared model (or none): measure the plan against it. */
    compareChanged() {
      other = null;
      if (info()) liveEval();
    },
    /** New test images: forget what was measured on the old ones. */
    dataChanged() {
      full = other = null;
      samples.forget();
      if (info()) setPlan(diagram.plan);
    },
    cancel() { evalCtl?.abort(); },
  };
}
