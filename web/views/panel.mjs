// views/panel.mjs: what the experiment tabs share. The panel head (what the
// experiment does, Run, the progress row), a run that can be cancelled and is
// skipped when the result on show is still current, the models a run covers,
// the "Ours beside the paper" table and the CLI command that prints the same
// numbers.
//
// ctx is the explorer's shared state (built in app.mjs): st (the URL state),
// setState, say (and place: where a message beside a control goes), pool,
// images, loaded {primary, compare}, results, running,
// speed, lesions, labelOf, manifestOf, offered, modelBytes, showView, and
// emit(type, detail): the explorer's one event hook (a view emits 'result'
// with its numbers when a run finishes; unravel-explorer.mjs dispatches it).
import { COLORS, PAPER, PATH_STATS } from '../config.mjs';
import { AbortError } from '../pool.mjs';
import { lesionSingle } from '../experiments.mjs';
import { h, progressRow } from '../ui.mjs';
import { runSeconds } from '../cost.mjs';

export const VIEW_LABELS = Object.freeze({ lesion: 'Delete one block', delete: 'Delete k blocks', swap: 'Swap k pairs',
                                          paths: 'Path lengths & gradients', depth: 'Across depths' });

export const isAbort = (e) => e instanceof AbortError || e?.name === 'AbortError';

/** Images the view measures: the URL's count, or all of a smaller file. */
export const imageCount = (ctx) => Math.min(ctx.st.images, ctx.images.count);

/** Path draws take their batches from the first 1,000 test images (the
 *  pixel-exact ones), or from all of a smaller file, as `--limit` does. */
export const pathsImageCount = (ctx) => Math.min(PATH_STATS.images, ctx.images.count);

/** What a view's result depends on: a run with the same signature is not repeated. */
export function viewSignature(v, ctx) {
  const { loaded, st } = ctx;
  if (v === 'paths')   // the primary model only
    return JSON.stringify([v, loaded.primary?.name, pathsImageCount(ctx), st.samples, st.seed, st.pbatch]);
  return JSON.stringify([v, loaded.primary?.name, loaded.compare?.name, imageCount(ctx), st.samples, st.seed]);
}

/**
 * Each block of a loaded model (worker key `key`, named `name`) deleted in
 * turn on the first `count` images. Measured once a page: the lesion and
 * depth tabs and the landing's chart share the result (it is deterministic),
 * unless a Run forces it; a sweep under way is joined rather than run twice
 * (the landing and the "Delete one block" tab start on the same network),
 * with its partial results and progress, and stops only when every caller
 * has cancelled.
 * @param {{batch?: number, signal?: AbortSignal, onProgress?: (f: number) => void,
 *          onPartial?: (r: object) => void}} opts
 */
export async function lesionOf(ctx, name, key, count, force, opts) {
  const id = `${name}|${count}`;
  const known = !force && knownLesion(ctx, name, count);
  if (known) {
    opts.onProgress?.(1);
    return known;
  }
  const runs = runsOf(ctx);
  let run = !force && runs.get(id);
  if (!run) {
    run = startLesion(ctx, id, key, count, opts.batch);
    runs.set(id, run);
  }
  return run.join(opts);
}

// The sweeps under way, per explorer: "name|count" -> a shared run.
const underWay = new WeakMap();
const runsOf = (ctx) => underWay.get(ctx) ?? underWay.set(ctx, new Map()).get(ctx);

/** Forget every measured lesion and every sweep under way (new test images, a model file reusing a name). */
export function forgetLesions(ctx) {
  ctx.lesions.clear();
  runsOf(ctx).clear();
}

function startLesion(ctx, id, key, count, batch) {
  const ctl = new AbortController();
  const callers = new Set();
  let last = null, fraction = 0;
  const runs = runsOf(ctx);
  const promise = lesionSingle(ctx.pool, key, count, {
    ...(batch ? { batch } : {}),
    signal: ctl.signal,
    onProgress: (f) => { fraction = f; for (const c of callers) c.onProgress?.(f); },
    onPartial: (r) => { last = r; for (const c of callers) c.onPartial?.(r); },
  });
  const run = {
    join(opts) {
      return new Promise((resolve, reject) => {
        const caller = { onProgress: opts.onProgress, onPartial: opts.onPartial };
        const leave = () => {
          callers.delete(caller);
          if (!callers.size) { ctl.abort(); if (runs.get(id) === run) runs.delete(id); }
          reject(new AbortError());
        };
        if (opts.signal?.aborted) { leave(); return; }
        callers.add(caller);
        if (last) opts.onPartial?.(last);
        if (fraction) opts.onProgress?.(fraction);
        opts.signal?.addEventListener('abort', leave, { once: true });
        promise.then((r) => { callers.delete(caller); opts.signal?.removeEventListener('abort', leave); resolve(r); },
                     (e) => { callers.delete(caller); opts.signal?.removeEventListener('abort', leave); reject(e); });
      });
    },
  };
  promise.then((r) => { if (runs.get(id) === run) { runs.delete(id); ctx.lesions.set(id, r); } }, () => {
    if (runs.get(id) === run) runs.delete(id);
  });
  return run;
}

/** A lesion sweep's numbers for a 'result' event: a copy, with each deletion's change from the full network. */
export function lesionNumbers(model, { n, full, blocks }) {
  return { model, images: n, fullError: full.error,
           blocks: blocks.map((b) => ({ block: b.block, stage: b.stage, downsample: b.downsample, deletable: b.deletable, error: b.error,
                                       change: b.error == null ? null : b.error - full.error, ci95: b.ci95 ?? null,
                                       turnedWrong: b.turnedWrong ?? null, turnedRight: b.turnedRight ?? null })) };
}

/** That result when this page has measured it, else undefined. */
export const knownLesion = (ctx, name, count) => ctx.lesions.get(`${name}|${count}`);

/** " (a and b measured earlier on this page)" for a run's done line, or "". */
export const reusedNote = (names) => names.length ? ` (${names.join(' and ')} measured earlier on this page)` : '';

/** The loaded models with their colours: plain nets in vermillion, residual
 *  nets in blue (a second residual net: green; a second plain one: purple). */
export function modelsToRun(loaded) {
  const list = [{ key: 'primary', ...loaded.primary }];
  if (loaded.compare) list.push({ key: 'compare', ...loaded.compare });
  for (const m of list) m.color = m.info.arch.shortcut === 'none' ? COLORS.plain : COLORS.resnet;
  if (list.length === 2 && list[0].color === list[1].color) list[1].color = list[0].color === COLORS.plain ? '#CC79A7' : COLORS.stage[2];
  return list;
}

/**
 * Seconds a run of these parts ([{kind, name, passes}], as cost.mjs counts
 * them) takes on this machine, from the speed measured here; null until the
 * live evaluation has measured one.
 */
export const runEstimate = (ctx, parts) =>
  runSeconds(parts, { speed: ctx.speed, manifestOf: ctx.manifestOf, workers: ctx.pool?.size ?? 1 });

/** A CLI command, breakable only between its options. */
export function cli(cmd) {
  const parts = cmd.split(/ (?=--)/);
  return h('code', { class: 'cli' }, parts.flatMap((p, i) => [i ? ' ' : null, h('span', {}, p)]));
}

/**
 * The head of tab panel v and its run bookkeeping.
 * @param {HTMLElement} panel
 * @param {string} v  the view: lesion, delete, swap or paths
 * @param {object} ctx
 * @param {string} text  what the experiment does and what the paper found
 * @param {(force: boolean) => void} run  the Run button's action
 */
export function createPanel(panel, v, ctx, text, run) {
  const prog = progressRow();
  // While a run is under way, Run stays in the Tab order (a disabled button
  // would drop the focus) as "Running…", described by the progress line;
  // Escape there or on Cancel stops the run.
  const progLabel = prog.el.querySelector('.progress-label');
  progLabel.id = `ux-progress-${v}`;
  const btn = h('button', { type: 'button', class: 'run', 'aria-describedby': progLabel.id,
                            onclick: () => { if (btn.getAttribute('aria-disabled') !== 'true') run(true); } }, 'Run');
  const busy = (on) => {
    btn.textContent = on ? 'Running…' : 'Run';
    if (on) btn.setAttribute('aria-disabled', 'true'); else btn.removeAttribute('aria-disabled');
  };
  const meta = h('p', { class: 'run-meta' });   // cost of the last run, or an estimate of the next
  const table = h('table', { class: 'compare' });
  const runRow = h('div', { class: 'run-row', onkeydown: (e) => {
    if (e.key === 'Escape' && ctx.running[v] && !ctx.running[v].signal.aborted) { e.preventDefault(); ctx.running[v].abort(); }
  } }, btn, prog.el);
  const said = ctx.place?.('panel-messages');   // a failed run says so under its Run button
  const head = h('div', { class: 'panel-head' }, h('p', { class: 'explain' }, text), runRow, said);
  panel.append(head);
  return {
    prog, btn, meta, table, runRow, head,

    /** Start a cancellable run: {ctl, s, finish(text)}, or null when there is
     *  nothing to measure yet, or (unless forced) the result on show is current
     *  or the same run is under way (coming back to its tab does not restart it).
     *  parts: the run's work (see runEstimate), for the time it says it takes. */
    begin(force, label, parts = null) {
      if (!ctx.loaded.primary || !ctx.images.bytes) return null;
      const s = viewSignature(v, ctx);
      const underWay = ctx.running[v] && !ctx.running[v].signal.aborted && ctx.running[v].sig === s;
      if (!force && (ctx.results[v]?.sig === s || underWay)) return null;
      ctx.running[v]?.abort();
      const ctl = ctx.running[v] = new AbortController();
      ctl.sig = s;
      prog.start(label, () => ctl.abort(), parts ? { estimate: () => runEstimate(ctx, parts) } : {});
      busy(true);
      return {
        ctl, s,
        current: () => ctx.running[v] === ctl,
        finish(doneText) {
          if (ctx.running[v] !== ctl) return;
          ctx.running[v] = null;
          const cancel = prog.el.querySelector('.cancel');
          const hadFocus = cancel === cancel.getRootNode().activeElement;
          prog.done(doneText);   // hides Cancel: its focus goes to Run
          busy(false);
          if (hadFocus) btn.focus();
        },
      };
    },

    /** A run that ended in an error or a cancel. */
    fail(r, e, what) {
      r.finish(isAbort(e) ? 'Cancelled.' : null);
      if (!isAbort(e)) ctx.say(`${what} failed: ${e.message}`, 'error', v, { at: said });
    },

    /** The "Ours beside the paper" rows: [label, this page, the paper]. */
    compare(rows) {
      table.replaceChildren(h('caption', {}, 'Ours beside the paper'),
        h('tr', {}, h('th', {}, ''), h('th', {}, 'this page'), h('th', {}, `paper: ${PAPER.model}`)),
        ...rows.map(([a, b, c]) => h('tr', {}, h('th', { scope: 'row' }, a), h('td', {}, b), h('td', {}, c))));
    },

    reset() {
      meta.textContent = '';
      table.replaceChildren();
    },
  };
}
