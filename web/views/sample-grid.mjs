// views/sample-grid.mjs: the test images under the live error. By default a
// seeded sample of the pixel-exact first 1,000 with the plan's answers; once a
// plan differs from the full network, also the images whose answers it turned
// wrong, or right: which images an ensemble loses when a member goes.
import { CIFAR, SAMPLE_GRID } from '../config.mjs';
import * as ex from '../experiments.mjs';
import { cifarImage } from '../data.mjs';
import { h } from '../ui.mjs';
import { isAbort } from './panel.mjs';

const MODES = [['sample', 'a sample'], ['wrong', 'turned wrong'], ['right', 'turned right']];

/**
 * @param {object} ctx  the explorer's shared state (see panel.mjs)
 * @returns {{el, update(plan, count, isFull), setFlips(base, pred, change), forget()}}
 */
export function createSampleGrid(ctx) {
  const grid = h('div', { class: 'samples', 'aria-label': 'test images with predicted and true labels' });
  const note = h('p', { class: 'grid-note' });
  const buttons = Object.fromEntries(MODES.map(([m, text]) =>
    [m, h('button', { type: 'button', 'data-mode': m, 'aria-pressed': String(m === (ctx.st.grid ?? 'sample')),
                      onclick: () => setMode(m) }, text)]));
  const modes = h('div', { class: 'grid-modes', role: 'group', 'aria-label': 'which images to show', hidden: true },
    h('span', {}, 'Show: '), ...Object.values(buttons));
  const el = h('div', { class: 'grid-wrap' }, modes, grid, note);

  let mode = ctx.st.grid ?? 'sample';   // the URL's grid; it waits for a plan to have flips
  let flips = null;              // {wrong: [i], right: [i], base, pred}: the last plan against the full network
  let last = null;               // {plan, count}: the plan on show
  let gen = 0;

  function figure(i, answer) {
    const c = h('canvas', { width: 32, height: 32 });
    c.getContext('2d').putImageData(cifarImage(ctx.images.bytes, i), 0, 0);
    const truth = ctx.images.labels[i];
    const fig = h('figure', { class: 'sample', 'data-image': i }, c,
      h('figcaption', {}, h('span', { class: 'pred' }, '…'), h('span', { class: 'truth' }, CIFAR.classes[truth])));
    if (answer != null) caption(fig, i, answer);
    return fig;
  }

  function caption(fig, i, answer, fullAnswer = null) {
    const truth = ctx.images.labels[i];
    const ok = answer === truth;
    fig.querySelector('.pred').textContent = `${ok ? '✓' : '✗'} ${CIFAR.classes[answer]}`;
    fig.classList.toggle('wrong', !ok);
    fig.title = `image ${i}: predicted ${CIFAR.classes[answer]}` +
      (fullAnswer == null ? '' : ` (the full network: ${CIFAR.classes[fullAnswer]})`) + `, true ${CIFAR.classes[truth]}`;
  }

  // SAMPLE_GRID images from the pixel-exact first 1,000, chosen by the seed
  function sampleStart(count) {
    const span = Math.min(1000, count) - SAMPLE_GRID;
    return span > 0 ? (ctx.st.seed * 97) % span : 0;
  }

  async function showSample(plan, count) {
    const g = ++gen;
    const start = sampleStart(count);
    const n = Math.min(SAMPLE_GRID, ctx.images.count - start);
    note.textContent = '';
    if (grid.dataset.start !== String(start)) {
      grid.replaceChildren(...Array.from({ length: n }, (_, i) => figure(start + i)));
      grid.dataset.start = String(start);
    }
    grid.classList.add('stale');
    try {
      const pred = await ex.predict(ctx.pool, 'primary', plan, start, n);
      if (g !== gen) return;
      [...grid.children].forEach((fig, i) => caption(fig, start + i, pred[i]));
      grid.classList.remove('stale');
    } catch (e) {
      if (!isAbort(e) && g === gen) ctx.say(`Prediction failed: ${e.message}`, 'error', 'predict');
    }
  }

  // The first SAMPLE_GRID images the plan turned wrong (or right), by number;
  // their answers are known already, from the measurement of the error.
  function showFlips() {
    ++gen;
    const list = flips[mode];
    const shown = list.slice(0, SAMPLE_GRID);
    grid.replaceChildren(...shown.map((i) => {
      const fig = figure(i);
      caption(fig, i, flips.pred[i], flips.base[i]);
      return fig;
    }));
    grid.dataset.start = '';
    grid.classList.remove('stale');
    const what = mode === 'wrong' ? 'turned wrong' : 'turned right';
    note.textContent = list.length
      ? `${shown.length < list.length ? `The first ${shown.length} of the` : `The`} ${list.length.toLocaleString('en-US')} ` +
        `answers this plan ${what}, by image number; hover for the full network's answer.`
      : `This plan ${what} no answer.`;
  }

  function setMode(m) {
    mode = m;
    if (ctx.st.grid !== m) ctx.setState({ grid: m });
    for (const [k, b] of Object.entries(buttons)) b.setAttribute('aria-pressed', String(k === m));
    if (m === 'sample' || !flips) { if (last) showSample(last.plan, last.count); }
    else showFlips();
  }

  return {
    el,
    /** A plan is being measured: the sample shows its answers; a flips view waits for them. */
    update(plan, count, isFull) {
      last = { plan, count };
      if (isFull) {
        flips = null;
        modes.hidden = true;
        if (mode !== 'sample') { setMode('sample'); return; }
      }
      if (mode === 'sample') showSample(plan, count);
      else grid.classList.add('stale');
    },
    /** The plan's answers (pred) against the full network's (base), and the
     *  images it turned wrong and right (the API's pairedChange). */
    setFlips(base, pred, change) {
      flips = { wrong: change.wrongImages, right: change.rightImages, base, pred };
      buttons.wrong.textContent = `turned wrong (${flips.wrong.length.toLocaleString('en-US')})`;
      buttons.right.textContent = `turned right (${flips.right.length.toLocaleString('en-US')})`;
      modes.hidden = false;
      if (mode !== 'sample') showFlips();
    },
    /** New test images: redraw from scratch. */
    forget() { grid.dataset.start = ''; flips = null; },
  };
}
