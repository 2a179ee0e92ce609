// views/hero.mjs: the landing's first screen. Each block of a plain network,
// a 9-block ResNet and the 54-block ResNet deleted in turn on the same test
// images, measured here in the workers (not a cached picture) and drawn as the
// "across depths" chart while image chunks come in: the paper's claim 2 at a
// glance. The lesions land in ctx.lesions like any other, so the "Delete one
// block" and "Across depths" tabs reuse them.
import { HERO, COLORS } from '../config.mjs';
import { h, progressRow } from '../ui.mjs';
import { createDepthChart, medianCost } from '../charts/depth.mjs';
import { imageCount, lesionOf, isAbort, knownLesion, runEstimate } from './panel.mjs';
import { archBlocks, lesionPasses } from '../cost.mjs';

/** "+0.6", "+31", "−0.2": points of error, as the hero's big numbers show them. */
export function fmtPoints(v) {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return `${v < 0 ? '−' : '+'}${a >= 10 ? a.toFixed(0) : a.toFixed(1)}`;
}


/**
 * @param {object} ctx the explorer's shared state (views/panel.mjs)
 * @param {{onExplore: () => void}} o onExplore: take the reader to the network section
 * @returns {{el: HTMLElement, start: () => Promise<void>, cancel: () => void}} start resolves once its sweeps are queued
 */
export function createHero(ctx, { onExplore }) {
  const stats = h('ul', { class: 'hero-stats', 'aria-live': 'polite' });
  const status = h('p', { class: 'hero-status' });
  const prog = progressRow('hero-progress');
  const chartEl = h('div', { class: 'hero-chart' });
  const chart = createDepthChart(chartEl, { title: 'Error added by deleting one block', empty: 'Measuring…' });
  const el = h('section', { class: 'hero', 'aria-labelledby': 'ux-hero-h' },
    h('div', { class: 'hero-text' },
      h('h2', { id: 'ux-hero-h' }, 'Delete one block. A deep ResNet barely notices; a plain network breaks.'),
      h('p', { class: 'hero-lede' }, 'Each dot is one block of a network deleted (its residual branch; the skip stays), ' +
        'at the test error that deletion adds, measured now in your browser. The 54-block ResNet is an ensemble of 2',
        h('sup', {}, '54'), ' paths: removing one block removes half of them, and the rest still vote.'),
      stats, status, prog.el,
      h('p', { class: 'hero-actions' },
        h('button', { type: 'button', class: 'primary', onclick: () => onExplore() }, 'Delete blocks yourself ↓'),
        ' ', h('a', { href: '#intro-h' }, 'Why it works'))),
    h('figure', { class: 'card hero-figure', 'data-chart': 'hero' }, chartEl));

  let ctl = null;

  /** The hero's networks that this site has: [{name, label, color}]. */
  function networks() {
    return HERO.networks.filter((n) => ctx.manifestOf(n.name)).map((n) => ({ ...n, label: ctx.labelOf(n.name) }));
  }

  /** The worker key a network runs under: a slot already holding it, or its own. */
  async function keyFor(name) {
    for (const slot of ['primary', 'compare'])
      if (ctx.loaded[slot]?.name === name) return slot;
    const key = `hero:${name}`;
    await ctx.pool.broadcast(`model:${key}`, { type: 'model', key, ...(await ctx.modelBytes(name)) });
    return key;
  }

  function draw(series) {
    chart.update({ series: series.filter((s) => s.images > 0) });
    stats.replaceChildren(...series.map((s) => h('li', { style: { '--swatch': s.color } },
      h('span', { class: 'hero-num', 'data-model': s.name }, s.blocks.some((b) => b.error != null) ? fmtPoints(medianCost(s)) : '…'),
      h('span', { class: 'hero-what' }, h('b', {}, s.label), ` · ${s.n} blocks`, h('br'),
        'points of error, median deletion'))));
  }

  /**
   * Measure every network, cheap ones first so that all columns appear early;
   * partials redraw. Resolves once every sweep is queued on the pool (so that
   * a tab started next joins them rather than queueing ahead), before they end.
   */
  async function start() {
    const nets = networks();
    if (!nets.length || !ctx.images.bytes) { el.hidden = true; return; }
    ctl?.abort();
    const mine = ctl = new AbortController();
    ctx.running.hero = mine;
    const count = imageCount(ctx);
    const series = nets.map((n) => ({ name: n.name, label: n.label, color: n.color, n: archBlocks(ctx.manifestOf(n.name).arch),
                                      full: NaN, blocks: [], images: 0 }));
    const done = new Array(nets.length).fill(0);
    const refresh = () => {
      if (ctl !== mine) return;
      draw(series);
      const n = (v) => v.toLocaleString('en-US');
      status.textContent = series.every((s) => s.images >= count)
        ? `Measured here on ${n(count)} CIFAR-10 test images (rebuilt set; see below).`
        : `Measured here so far on the first ${series.map((s) => n(s.images)).join(' / ')} of ${n(count)} test images; refining…`;
    };
    const take = (i, res) => {
      Object.assign(series[i], { n: res.blocks.length, full: res.full.error, blocks: res.blocks, images: res.n });
      refresh();
    };
    const fail = (e) => {
      if (ctl !== mine) return;
      prog.done(isAbort(e) ? 'Cancelled: Run in the "Delete one block" tab measures it again.' : null);
      if (!isAbort(e)) ctx.say(`The first chart failed: ${e.message}`, 'error', 'hero');
      if (ctx.running.hero === mine) ctx.running.hero = null;
    };
    draw(series);
    // what it takes here (once the live evaluation has measured a speed): the sweeps not measured yet
    const work = series.filter((s) => !knownLesion(ctx, s.name, count))
      .map((s) => ({ kind: 'lesion', name: s.name, passes: lesionPasses(s.n) * count }));
    prog.start(`Deleting each block of ${nets.length} networks`, () => mine.abort(), { estimate: () => runEstimate(ctx, work) });
    let runs;
    try {
      const keys = [];
      for (const n of nets) keys.push(await keyFor(n.name));
      mine.signal.throwIfAborted();
      runs = nets.map((n, i) => lesionOf(ctx, n.name, keys[i], count, false, {
        signal: mine.signal,
        onPartial: (res) => take(i, res),
        onProgress: (f) => {
          done[i] = f * series[i].n;   // weigh each network by its blocks: the sweep's cost grows with them
          prog.set(done.reduce((a, b) => a + b, 0) / Math.max(1, series.reduce((a, s) => a + s.n, 0)));
        },
      }).then((res) => take(i, res)));
    } catch (e) {
      fail(e);
      return;
    }
    Promise.all(runs).then(() => {
      if (ctl !== mine) return;
      prog.done();
      refresh();
      if (ctx.running.hero === mine) ctx.running.hero = null;
    }, fail);
  }

  return { el, start, cancel: () => ctl?.abort() };
}
