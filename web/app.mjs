// app.mjs: the explorer. Builds the controls, the block diagram, the live
// test error, the sample grid and the experiment tabs inside a root element,
// and wires them to the worker pool. No model code here: numbers come from
// workers (unravel.wasm) through experiments.mjs.
//
//   createExplorer(root, { syncUrl: true })                       // the page
//   createExplorer(root, { syncUrl: false, state: { model, view }, only: 'lesion' })   // embeds
import { COLORS, CIFAR, IMAGE_COUNTS, PAPER, PATHS, SAMPLE_GRID, VIEWS, PATH_STATS, LESION_BATCH, TEST_IMAGES } from './config.mjs';
import { parseState, serializeState, checkPlan, embedSnippet, STATE_TABLE } from './url-state.mjs';
import { Pool, AbortError } from './pool.mjs';
import { probeModels, fetchWeights, classifyFiles, cifarImage } from './data.mjs';
import { TestImages } from './test-images.mjs';
import * as ex from './experiments.mjs';
import { createBlockDiagram } from './blocks.mjs';
import { randomSwaps, pct, kendallTau, sup } from './math.mjs';
import { lesionRows, kRows, pathsRows, pathsNote } from './paper-tables.mjs';
import { h, progressRow, chartCard, fmtSeconds } from './ui.mjs';
import { createLesionChart } from './charts/lesion.mjs';
import { createErrorKChart } from './charts/error-k.mjs';
import { createPathDistChart } from './charts/path-dist.mjs';
import { createGradLengthChart } from './charts/grad-length.mjs';
import { createGradTotalChart } from './charts/grad-total.mjs';

const VIEW_LABELS = { lesion: 'Delete one block', delete: 'Delete k blocks', swap: 'Swap k pairs', paths: 'Path lengths & gradients' };
const isAbort = (e) => e instanceof AbortError || e?.name === 'AbortError';

/** One compiled module for every explorer on the page. */
let modulePromise = null;
function compileWasm() {
  modulePromise ??= (async () => {
    const res = await fetch(PATHS.wasm);
    if (!res.ok) throw new Error(`unravel.wasm: HTTP ${res.status} for ${PATHS.wasm} (run \`make wasm\`)`);
    return await WebAssembly.compile(await res.arrayBuffer());
  })();
  return modulePromise;
}

/**
 * @param {HTMLElement|ShadowRoot} root
 * @param {{syncUrl?: boolean, state?: object, only?: string|null}} [options]
 *   only: show just the block diagram and this experiment (for embeds)
 */
export function createExplorer(root, options = {}) {
  const syncUrl = options.syncUrl ?? true;
  const only = options.only ?? null;
  let st;
  const startProblems = [];
  if (syncUrl) {
    const r = parseState(location.search);
    st = r.state;
    startProblems.push(...r.problems);
  } else {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(options.state ?? {})) if (v != null && v !== '') params.set(k, String(v));
    const r = parseState(params);
    st = r.state;
    startProblems.push(...r.problems.map((p) => p.replace('URL parameter', 'attribute')));
  }
  if (only) st.view = only;

  // ---- state beyond the URL ----
  let pool = null;
  let available = [];               // probeModels() result + user models
  const userModels = new Map();     // name -> {manifest, weights}
  const loaded = { primary: null, compare: null };   // {name, info, maxDeletions, maxSwaps}
  const speed = {};                 // model name -> seconds per image forward, in one worker (measured)
  let fullError = null;             // {key, error} of the primary's full network
  const results = {};               // view -> {sig, data}
  const running = {};               // view -> AbortController
  let evalCtl = null, evalGen = 0, predictGen = 0, loadGen = 0;
  let shuffleCount = 0;

  // ---- skeleton ----
  const messages = h('div', { class: 'messages', role: 'status', 'aria-live': 'polite' });
  const modelSel = h('select', { id: 'ux-model', 'aria-label': 'model' });
  const compareSel = h('select', { id: 'ux-compare', 'aria-label': 'compare with' });
  const imagesSel = h('select', { id: 'ux-images', 'aria-label': 'test images' },
    IMAGE_COUNTS.map((n) => h('option', { value: n }, n.toLocaleString('en-US'))));
  const samplesIn = h('input', { id: 'ux-samples', type: 'number', min: 1, max: 200, step: 1, 'aria-label': 'random draws per k' });
  const seedIn = h('input', { id: 'ux-seed', type: 'number', min: 0, step: 1, 'aria-label': 'random seed' });
  const fileIn = h('input', { type: 'file', multiple: true, accept: '.json,.bin', class: 'file-input', 'aria-label': 'your own model or test_batch.bin' });
  const engine = h('span', { class: 'engine' }, 'starting WebAssembly…');
  const loadProgress = progressRow('load');
  // The test images: the site's, fetched as needed, or the user's own file.
  const images = new TestImages({ url: PATHS.testBatch, progress: loadProgress,
                                  publish: (bytes, append) => pool.broadcast('data', { type: 'data', bytes, append }) });
  // Link & embed (the full page only): this view as a URL and as HTML for another page.
  const shareBtn = h('button', { type: 'button', class: 'share-btn', 'aria-expanded': 'false', 'aria-controls': 'ux-share' }, 'Link & embed');
  const shareUrl = h('input', { type: 'text', readonly: true, class: 'share-text', 'aria-label': 'link to this view' });
  const shareHtml = h('textarea', { readonly: true, rows: 2, class: 'share-text', 'aria-label': 'HTML that embeds this view' });
  const copyButton = (field) => h('button', { type: 'button', onclick: async (e) => {
    field.select();
    try { await navigator.clipboard.writeText(field.value); e.target.textContent = 'Copied'; }
    catch { e.target.textContent = 'Selected: press Ctrl+C'; }
    setTimeout(() => { e.target.textContent = 'Copy'; }, 1500);
  } }, 'Copy');
  const shareBox = h('div', { class: 'share', id: 'ux-share', hidden: true },
    h('label', {}, 'Link ', shareUrl), copyButton(shareUrl),
    h('label', {}, 'Embed this view on another page ', shareHtml), copyButton(shareHtml));
  shareBtn.addEventListener('click', () => {
    shareBox.hidden = !shareBox.hidden;
    shareBtn.setAttribute('aria-expanded', String(!shareBox.hidden));
    updateShare();
  });
  const controls = h('section', { class: 'controls', 'aria-label': 'settings' },
    h('label', {}, 'Model ', modelSel),
    h('label', {}, 'Compare with ', compareSel),
    h('label', {}, 'Test images ', imagesSel),
    h('label', {}, 'Draws per k ', samplesIn),
    h('label', {}, 'Seed ', seedIn),
    h('label', { class: 'file-label', title: 'A model (.json + .bin) or CIFAR-10 test_batch.bin; you can also drop files on the page' },
      'Your files… ', fileIn),
    syncUrl ? shareBtn : null,
    loadProgress.el, engine, syncUrl ? shareBox : null);

  const diagramEl = h('div', { class: 'diagram' });
  const shuffleK = h('input', { type: 'number', min: 1, max: 100, value: 2, 'aria-label': 'swaps per shuffle', class: 'small' });
  const errBig = h('span', { class: 'err-big', 'data-testid': 'live-error' }, '–');
  const errSub = h('span', { class: 'err-sub' });
  const evalProgress = progressRow('eval');
  const grid = h('div', { class: 'samples', 'aria-label': 'sample test images with predicted and true labels' });
  const planInfo = h('span', { class: 'plan-info' });
  const network = h('section', { class: 'network', 'aria-label': 'the network' },
    h('div', { class: 'section-head' }, h('h2', {}, 'The network'), planInfo),
    h('p', { class: 'hint' }, 'Click a block to delete its residual branch (the skip stays), drag a block onto another of its stage, or use ‹ ›, to swap them. ',
      h('b', {}, '↓2'), ' marks downsampling blocks; the hatched downsampling blocks of a plain network cannot be deleted (they have no skip).'),
    diagramEl,
    h('div', { class: 'toolbar' },
      h('button', { type: 'button', onclick: () => shuffle() }, 'Shuffle'), ' ', shuffleK, ' random swaps ',
      h('button', { type: 'button', onclick: () => setPlan({ order: loaded.primary.info.blocks.map((b) => b.id), deleted: [] }) }, 'Reset')),
    h('div', { class: 'live' },
      h('div', { class: 'live-num' }, h('span', { class: 'live-label' }, 'Test error of this plan'), errBig, errSub, evalProgress.el),
      grid));
  const diagram = createBlockDiagram(diagramEl, { onChange: (plan) => setPlan(plan) });

  // experiment tabs
  const tabs = h('div', { class: 'tabs', role: 'tablist' });
  const panels = {};
  for (const v of VIEWS) {
    tabs.append(h('button', { type: 'button', role: 'tab', id: `ux-tab-${v}`, 'data-view': v, 'aria-controls': `ux-panel-${v}`,
                              onclick: () => { setState({ view: v }); showView(); } }, VIEW_LABELS[v]));
    panels[v] = h('div', { class: 'panel', role: 'tabpanel', id: `ux-panel-${v}`, 'aria-labelledby': `ux-tab-${v}`, 'data-view': v });
  }
  const experiments = h('section', { class: 'experiments', 'aria-label': 'experiments' },
    only ? null : tabs, ...Object.values(panels));

  root.append(h('div', { class: `ux${only ? ' ux-embed' : ''}` }, messages, controls, network, experiments));

  // ---- panels ----
  const P = {};
  function panelHead(v, text, run) {
    const prog = progressRow();
    const btn = h('button', { type: 'button', class: 'run', onclick: () => run(true) }, 'Run');
    const meta = h('p', { class: 'run-meta' });   // cost of the last run, or an estimate of the next
    const table = h('table', { class: 'compare' });
    panels[v].append(h('div', { class: 'panel-head' }, h('p', { class: 'explain' }, text), h('div', { class: 'run-row' }, btn, prog.el)));
    return { prog, btn, meta, table };
  }

  P.lesion = panelHead('lesion', 'Delete one block at a time (its residual branch; the skip stays) and measure the test error. ' +
    'Removing a block removes half of all paths, yet the paper finds a ResNet barely notices, except at the downsampling blocks; ' +
    'deleting a layer of a plain network drops it to chance (90% error).', (force) => runLesion(force));
  P.lesion.chart = chartCard(panels.lesion, { title: 'Error when one block is deleted', name: 'lesion-single', factory: createLesionChart,
    caption: 'One bar per block (grouped by model when two of the same depth are compared, one panel each otherwise); dashed lines: the full network; × marks a block that cannot be deleted.' });
  panels.lesion.append(h('div', { class: 'result-row' }, P.lesion.chart.fig, h('div', { class: 'result-side' }, P.lesion.table, P.lesion.meta)));

  P.delete = panelHead('delete', 'Delete k random blocks at once (draws per k, seeded) and measure the error. ' +
    'An ensemble degrades smoothly as members are removed; so, the paper finds, does a ResNet.', (force) => runByK('delete', force));
  // k/n sets nets of different depths (9 and 54 blocks) on one axis
  const delModeSel = h('select', { 'aria-label': 'delete chart x axis', id: 'ux-delete-x', onchange: () => P.delete.chart.setXMode(delModeSel.value) },
    h('option', { value: 'k' }, 'x: number of deleted blocks k'), h('option', { value: 'share' }, 'x: share of the blocks k/n'));
  panels.delete.querySelector('.run-row').append(delModeSel);
  P.delete.chart = chartCard(panels.delete, { title: 'Error against the number of deleted blocks', name: 'delete-k', factory: createErrorKChart,
    options: { xLabel: 'k: number of deleted blocks' }, caption: 'Line: mean over draws; band: ± one standard deviation; dotted: min and max.' });
  panels.delete.append(h('div', { class: 'result-row' }, P.delete.chart.fig, h('div', { class: 'result-side' }, P.delete.table, P.delete.meta)));

  P.swap = panelHead('swap', 'Swap k random pairs of same-stage, non-downsampling blocks (reordering). ' +
    "The further the order moves from the original (lower Kendall's tau), the higher the error, and smoothly so.", (force) => runByK('swap', force));
  const xModeSel = h('select', { 'aria-label': 'swap chart x axis', onchange: () => P.swap.chart.setXMode(xModeSel.value) },
    h('option', { value: 'k' }, 'x: number of swaps k'), h('option', { value: 'tau' }, "x: Kendall's tau"));
  panels.swap.querySelector('.run-row').append(xModeSel);
  P.swap.chart = chartCard(panels.swap, { title: 'Error against reordering', name: 'swap-k', factory: createErrorKChart,
    options: { xLabel: 'k: number of swapped pairs' }, caption: "Mean, ± sd and min/max over draws; tau is the mean Kendall's tau of the draws at each k." });
  panels.swap.append(h('div', { class: 'result-row' }, P.swap.chart.fig, h('div', { class: 'result-side' }, P.swap.table, P.swap.meta)));

  P.paths = panelHead('paths', 'Paths of a residual network have lengths Binomial(n, 1/2). The gradient reaching the input through a path ' +
    'shrinks exponentially with its length, so nearly all of it flows through a window of short paths: the effective paths.', (force) => runPaths(force));
  const pbatchSel = h('select', { id: 'ux-pbatch', 'aria-label': 'images per draw' },
    PATH_STATS.batches.map((b) => h('option', { value: b }, `${b} images per draw`)));
  pbatchSel.addEventListener('change', () => { setState({ pbatch: Number(pbatchSel.value) }); showView(); });
  panels.paths.querySelector('.run-row').append(pbatchSel);
  // q only re-reads the measured gradients (pathSummary), so it moves live
  const qIn = h('input', { type: 'range', id: 'ux-q', min: PATH_STATS.qMin, max: PATH_STATS.qMax, step: 0.01,
                           'aria-label': 'share of the gradient in the effective window' });
  const qOut = h('output', { for: 'ux-q', class: 'q-value' });
  qIn.addEventListener('input', () => { qOut.textContent = `${Math.round(100 * Number(qIn.value))}%`; });
  qIn.addEventListener('change', () => { setState({ q: Number(qIn.value) }); resummarizePaths(); });
  panels.paths.querySelector('.run-row').append(h('label', { class: 'q-label', title: 'q: the share of the gradient the effective window must hold' },
    'gradient in window', qIn, qOut));
  panels.paths.querySelector('.panel-head').append(P.paths.meta);
  const pathCharts = h('div', { class: 'chart-grid' });
  panels.paths.append(pathCharts);
  P.paths.dist = chartCard(pathCharts, { title: 'Path lengths', name: 'path-lengths', factory: createPathDistChart,
    caption: 'C(n, k) of the 2ⁿ paths have length k; exact, computed in log space.' });
  P.paths.grad = chartCard(pathCharts, { title: 'Gradient magnitude per path length', name: 'grad-per-length', factory: createGradLengthChart,
    caption: 'Norm of the loss gradient at the input when it flows through the residual branch of k random blocks and the skip of the rest ' +
      '(line: mean over the draws; band: smallest to largest draw; each draw: a batch of test images and a random set of k blocks).' });
  P.paths.total = chartCard(pathCharts, { title: 'Total gradient per path length', name: 'grad-total', factory: createGradTotalChart,
    caption: 'C(n, k) × mean gradient at length k, as a share of the whole; shaded: the shortest window holding a fraction q of it.' });
  P.paths.why = h('p', { class: 'caption' });
  panels.paths.append(P.paths.table, P.paths.why);

  // ---- messages ----
  function say(text, level = 'warn', key = null) {
    if (key) messages.querySelector(`[data-key="${CSS.escape(key)}"]`)?.remove();
    const m = h('div', { class: `msg msg-${level}`, 'data-key': key, role: level === 'error' ? 'alert' : null },
      h('span', {}, text), h('button', { type: 'button', class: 'dismiss', 'aria-label': 'dismiss', onclick: () => m.remove() }, '×'));
    messages.append(m);
    return m;
  }
  const unsay = (key) => messages.querySelector(`[data-key="${CSS.escape(key)}"]`)?.remove();
  for (const p of startProblems) say(p, 'warn');

  // ---- state ----
  function setState(patch) {
    Object.assign(st, patch);
    if (syncUrl) {
      const q = serializeState(st);
      history.replaceState(null, '', q ? `?${q}` : location.pathname);
      updateShare();
    }
  }

  function updateShare() {
    if (shareBox.hidden) return;
    shareUrl.value = location.href;
    shareHtml.value = embedSnippet(st, new URL('unravel-explorer.mjs', import.meta.url).href);
  }

  function syncControls() {
    imagesSel.value = String(st.images);
    pbatchSel.value = String(st.pbatch);
    qIn.value = String(st.q);
    qOut.textContent = `${Math.round(100 * st.q)}%`;
    samplesIn.value = String(st.samples);
    seedIn.value = String(st.seed);
    for (const b of tabs.children) b.setAttribute('aria-selected', String(b.dataset.view === st.view));
  }

  function showView() {
    for (const v of VIEWS) panels[v].hidden = v !== st.view;
    syncControls();
    if (loaded.primary && images.bytes) runView(st.view, false);
  }

  // ---- models ----
  function fillModelSelects() {
    const opts = (sel, withNone) => {
      sel.replaceChildren();
      if (withNone) sel.append(h('option', { value: '' }, 'nothing'));
      for (const m of available) {
        if (!m.manifest && m.dev) continue;   // absent dev models are not worth a line
        sel.append(h('option', { value: m.name, disabled: !m.manifest }, `${m.label}${m.manifest ? '' : ' (not available)'}`));
      }
    };
    opts(modelSel, false);
    opts(compareSel, true);
    modelSel.value = loaded.primary?.name ?? st.model;
    compareSel.value = loaded.compare?.name ?? '';
  }

  async function modelBytes(name, onProgress) {
    if (userModels.has(name)) return userModels.get(name);
    const m = available.find((x) => x.name === name && x.manifest);
    if (!m) return null;
    return { manifest: m.manifest, weights: await fetchWeights(m.json, { onProgress }) };
  }

  async function loadModel(slot, name) {
    const gen = ++loadGen;
    cancelAll();
    const key = slot;
    if (!name) {
      await pool.broadcast(`model:${key}`, null);
      loaded[slot] = null;
      await pool.broadcast(`unload:${key}`, { type: 'unloadModel', key });
      return true;
    }
    loadProgress.start(`Loading ${name}`, null);
    try {
      const bytes = await modelBytes(name, (d, t) => loadProgress.set(d / t));
      if (!bytes) {
        say(`Model "${name}" is not available: no models/${name}.json here. ` +
            'Pick another model, or load your own files.', 'warn', `missing-${slot}`);
        return false;
      }
      const r = await pool.broadcast(`model:${key}`, { type: 'model', key, manifest: bytes.manifest, weights: bytes.weights });
      if (gen !== loadGen) return false;
      loaded[slot] = { name, info: r.info, maxDeletions: r.maxDeletions, maxSwaps: r.maxSwaps };
      unsay(`missing-${slot}`);
      unsay(`load-${slot}`);
      return true;
    } catch (e) {
      say(`Could not load model "${name}": ${e.message}`, 'error', `load-${slot}`);
      return false;
    } finally {
      loadProgress.done();
    }
  }

  /** "trained 50 epochs; test error 12.22% (rebuilt set) / 9.80% (exact records 0-999)", from the manifest. */
  function trainingSummary(name) {
    const m = available.find((x) => x.name === name && x.manifest);
    let j = m?.json;
    try { j = j ?? JSON.parse(m?.manifest ?? 'null'); } catch { j = null; }
    const tr = j?.training, me = j?.metrics;
    if (!tr?.epochs || typeof me?.test_error !== 'number') return '';
    const pc = (x) => `${(100 * x).toFixed(2)}%`;
    return `, trained ${tr.epochs} epochs${tr.active_blocks ? ` (${tr.active_blocks} blocks per batch)` : ''}: ` +
      `test error ${pc(me.test_error)} (rebuilt set)` +
      (typeof me.test_error_exact_0_999 === 'number' ? ` / ${pc(me.test_error_exact_0_999)} (exact records 0-999)` : '');
  }

  function describeEngine(info) {
    const p = loaded.primary?.info;
    engine.textContent = `unravel ${info.version} · ${info.isa}${info.simd ? ' (SIMD128)' : ''} · ${pool.size} worker${pool.size > 1 ? 's' : ''}` +
      (p ? ` · ${p.name}: ${p.blocks.length} blocks${p.arch.preactivation ? ' (pre-activation)' : ''}, ` +
           `${(p.params / 1e6).toFixed(2)} M parameters${trainingSummary(loaded.primary.name)}` : '');
  }

  async function applyPrimary(planFromUrl) {
    const info = loaded.primary.info;
    fullError = null;
    for (const v of VIEWS) results[v] = null;
    diagram.setModel(info.blocks);
    let plan = { order: info.blocks.map((b) => b.id), deleted: [] };
    if (planFromUrl) {
      const c = checkPlan(info.blocks, st.deleted, st.order);
      for (const p of c.problems) say(p, 'warn');
      plan = { order: c.order, deleted: c.deleted };
    }
    resetCharts();
    P.paths.dist.update({ n: info.blocks.length });
    setPlan(plan);
  }

  function resetCharts() {
    P.lesion.chart.reset();
    P.delete.chart.reset();
    P.swap.chart.reset();
    P.paths.grad.reset();
    P.paths.total.reset();
    for (const v of VIEWS) { P[v].meta.textContent = ''; P[v].table.replaceChildren(); }
  }

  // ---- the plan and its live error ----
  function currentPlan() { return diagram.plan; }

  function setPlan(plan) {
    const info = loaded.primary?.info;
    if (!info) return;
    const identity = plan.order.every((b, p) => b === p);
    diagram.setPlan(plan);
    setState({ deleted: plan.deleted, order: identity ? null : plan.order });
    const tau = kendallTau(plan.order);
    planInfo.textContent = `${info.blocks.length} blocks · ${2 ** (info.blocks.length - plan.deleted.length) > 1e6
      ? `2${sup(info.blocks.length - plan.deleted.length)}` : (2 ** (info.blocks.length - plan.deleted.length)).toLocaleString('en-US')} paths` +
      `${plan.deleted.length ? ` · ${plan.deleted.length} deleted` : ''}${identity ? '' : ` · reordered, Kendall's tau ${tau.toFixed(2)}`}`;
    liveEval();
  }

  function shuffle() {
    const info = loaded.primary?.info;
    if (!info) return;
    const k = Math.max(1, Math.min(100, Math.floor(Number(shuffleK.value)) || 1));
    const plan = currentPlan();
    plan.order = randomSwaps(info.blocks, plan.order, k, (st.seed * 7919 + ++shuffleCount) >>> 0);
    setPlan(plan);
  }

  async function liveEval() {
    if (!loaded.primary || !images.bytes) return;
    const gen = ++evalGen;
    evalCtl?.abort();
    const ctl = evalCtl = new AbortController();
    const plan = currentPlan();
    const count = Math.min(st.images, images.count);
    const isFull = !plan.deleted.length && plan.order.every((b, p) => b === p);
    const fullKey = `${loaded.primary.name}:${count}`;
    errBig.classList.add('stale');
    evalProgress.start(`Evaluating ${count.toLocaleString('en-US')} images`, () => ctl.abort());
    updateSamples(plan, count);
    try {
      const r = await ex.evaluatePlan(pool, 'primary', plan, count, { signal: ctl.signal, onProgress: (f) => { if (gen === evalGen) evalProgress.set(f); } });
      if (gen !== evalGen) return;
      if (isFull) fullError = { key: fullKey, error: r.error };
      if (r.seconds > 0 && r.n) speed[loaded.primary.name] = r.seconds / r.n;
      errBig.textContent = pct(r.error, 1);
      errBig.classList.remove('stale');
      evalProgress.done();
      if (!isFull && fullError?.key !== fullKey) {
        const f = await ex.evaluatePlan(pool, 'primary', { deleted: [] }, count, { signal: ctl.signal });
        if (gen !== evalGen) return;
        fullError = { key: fullKey, error: f.error };
      }
      const d = r.error - (fullError?.error ?? r.error);
      errSub.textContent = isFull ? `full network, ${r.n.toLocaleString('en-US')} images` :
        `full network ${pct(fullError.error, 1)} · change ${d >= 0 ? '+' : '−'}${(100 * Math.abs(d)).toFixed(1)} points · ${r.n.toLocaleString('en-US')} images`;
      errSub.dataset.full = String(fullError?.error ?? '');
    } catch (e) {
      if (gen !== evalGen) return;
      evalProgress.done(isAbort(e) ? 'Cancelled.' : null);
      if (!isAbort(e)) say(`Evaluation failed: ${e.message}`, 'error', 'eval');
    }
  }

  // sample grid: SAMPLE_GRID images from the pixel-exact first 1,000, chosen by the seed
  function sampleStart(count) {
    const span = Math.min(1000, count) - SAMPLE_GRID;
    return span > 0 ? (st.seed * 97) % span : 0;
  }

  async function updateSamples(plan, count) {
    const gen = ++predictGen;
    const start = sampleStart(count);
    const n = Math.min(SAMPLE_GRID, images.count - start);
    if (grid.dataset.start !== String(start)) {
      grid.replaceChildren();
      for (let i = 0; i < n; i++) {
        const c = h('canvas', { width: 32, height: 32 });
        c.getContext('2d').putImageData(cifarImage(images.bytes, start + i), 0, 0);
        grid.append(h('figure', { class: 'sample' }, c,
          h('figcaption', {}, h('span', { class: 'pred' }, '…'), h('span', { class: 'truth' }, CIFAR.classes[images.labels[start + i]]))));
      }
      grid.dataset.start = String(start);
    }
    grid.classList.add('stale');
    try {
      const pred = await ex.predict(pool, 'primary', plan, start, n);
      if (gen !== predictGen) return;
      [...grid.children].forEach((fig, i) => {
        const ok = pred[i] === images.labels[start + i];
        const p = fig.querySelector('.pred');
        p.textContent = `${ok ? '✓' : '✗'} ${CIFAR.classes[pred[i]]}`;
        fig.classList.toggle('wrong', !ok);
        fig.title = `image ${start + i}: predicted ${CIFAR.classes[pred[i]]}, true ${CIFAR.classes[images.labels[start + i]]}`;
      });
      grid.classList.remove('stale');
    } catch (e) {
      if (!isAbort(e) && gen === predictGen) say(`Prediction failed: ${e.message}`, 'error', 'predict');
    }
  }

  // ---- experiments ----
  function cancelAll() {
    for (const v of Object.keys(running)) running[v]?.abort();
    evalCtl?.abort();
  }

  // Path draws take their batches from the first 1,000 test images (the
  // pixel-exact ones), or from all of a smaller file, as `--limit` does.
  function pathsImages() {
    return Math.min(PATH_STATS.images, images.count);
  }

  function sig(v) {
    if (v === 'paths')   // the primary model only
      return JSON.stringify([v, loaded.primary?.name, pathsImages(), st.samples, st.seed, st.pbatch]);
    return JSON.stringify([v, loaded.primary?.name, loaded.compare?.name, Math.min(st.images, images.count), st.samples, st.seed]);
  }

  function runView(v, force) {
    if (v === 'lesion') return runLesion(force);
    if (v === 'delete' || v === 'swap') return runByK(v, force);
    if (v === 'paths') return runPaths(force);
  }

  function models() {
    const list = [{ key: 'primary', ...loaded.primary, color: COLORS.resnet }];
    if (loaded.compare) list.push({ key: 'compare', ...loaded.compare, color: COLORS.plain });
    // colour by kind: plain nets in vermillion, residual nets in blue (second residual: green)
    for (const m of list) m.color = m.info.arch.shortcut === 'none' ? COLORS.plain : COLORS.resnet;
    if (list.length === 2 && list[0].color === list[1].color) list[1].color = list[0].color === COLORS.plain ? '#CC79A7' : COLORS.stage[2];
    return list;
  }

  // Start a cancellable run for view v; returns {ctl, done(label)} or null if cached.
  function begin(v, force, label) {
    if (!loaded.primary || !images.bytes) return null;
    const s = sig(v);
    if (!force && results[v]?.sig === s) return null;
    running[v]?.abort();
    const ctl = running[v] = new AbortController();
    P[v].prog.start(label, () => ctl.abort());
    P[v].btn.disabled = true;
    return { ctl, s, finish: (text) => { if (running[v] === ctl) { running[v] = null; P[v].prog.done(text); P[v].btn.disabled = false; } } };
  }

  async function runLesion(force) {
    const count = Math.min(st.images, images.count);
    const run = begin('lesion', force, `Deleting each block in turn, ${count.toLocaleString('en-US')} images`);
    if (!run) return;
    const ms = models();
    const parts = ms.map((m) => ({ name: m.name, color: m.color, result: null }));
    const fracs = ms.map(() => 0);
    P.lesion.chart.update({ series: parts });
    P.lesion.meta.textContent = '';
    try {
      await Promise.all(ms.map((m, i) => ex.lesionSingle(pool, m.key, count, {
        batch: LESION_BATCH,
        signal: run.ctl.signal,
        onProgress: (f) => { fracs[i] = f; P.lesion.prog.set(fracs.reduce((a, b) => a + b) / fracs.length); },
      }).then((r) => {
        parts[i].result = r;
        if (running.lesion === run.ctl) P.lesion.chart.update({ series: parts });
      })));
      results.lesion = { sig: run.s, data: parts };
      P.lesion.chart.update({ series: parts });
      lesionTable(parts);
      const fe = parts.map((p) => `${parts.length > 1 ? `${p.name}: ` : ''}${p.result.forwardEquivalents.toFixed(1)} ` +
        `full forward passes for ${p.result.blocks.length + 1} plans`).join('; ');
      P.lesion.meta.replaceChildren(`Cost: ${fe} (each deletion reuses the activations ` +
        'before its block). Same numbers as ', cli(`unravel lesion --model ${loaded.primary.name}.json --limit ${count}`), '.');
      const plans = parts.map((p) => p.result.blocks.length + 1).join(' and ');
      run.finish(`Done: ${plans} plans${ms.length > 1 ? ` (${parts.map((p) => p.name).join(', ')})` : ''} on ${count.toLocaleString('en-US')} images.`);
    } catch (e) {
      run.finish(isAbort(e) ? 'Cancelled.' : null);
      if (!isAbort(e)) say(`Lesion study failed: ${e.message}`, 'error', 'lesion');
    }
  }

  /** A CLI command, breakable only between its options. */
  function cli(cmd) {
    const parts = cmd.split(/ (?=--)/);
    return h('code', { class: 'cli' }, parts.flatMap((p, i) => [i ? ' ' : null, h('span', {}, p)]));
  }

  /** "0-9" for a run of consecutive ks, else "0,2,4". */
  function ksArg(ks) {
    return ks.length > 2 && ks.every((k, i) => k === ks[0] + i) ? `${ks[0]}-${ks[ks.length - 1]}` : ks.join(',');
  }

  async function runByK(v, force) {
    const count = Math.min(st.images, images.count);
    const run = begin(v, force, `${st.samples} draws per k, ${count.toLocaleString('en-US')} images each`);
    if (!run) return;
    const ms = models();
    const kmaxOf = (m) => (v === 'delete' ? m.maxDeletions : Math.min(m.maxSwaps, m.info.blocks.length));
    const ksOf = ms.map((m) => ex.defaultKs(kmaxOf(m)));
    const series = ms.map((m) => ({ name: m.name, color: m.color, blocks: m.info.blocks.length, kmax: kmaxOf(m), points: [] }));
    const fracs = ms.map(() => 0);
    const kmax = Math.max(...ms.map(kmaxOf));
    const draw = () => P[v].chart.update({ series, kmax: v === 'delete' ? kmax : undefined });
    P[v].chart.update({ series });
    P[v].meta.textContent = '';
    try {
      await Promise.all(ms.map((m, i) => ex.randomCurve(pool, m.key, v, count, { ks: ksOf[i], samples: st.samples, seed: st.seed }, {
        signal: run.ctl.signal,
        onProgress: (f) => { fracs[i] = f; P[v].prog.set(fracs.reduce((a, b) => a + b) / fracs.length); },
        onPartial: (r) => {
          series[i].points = r.points;
          if (running[v] !== run.ctl) return;
          draw();
          P[v].meta.textContent = `${ms.length > 1 ? `${m.name}: ` : ''}the curve so far, on ${r.n.toLocaleString('en-US')} of ` +
            `${count.toLocaleString('en-US')} images; it settles as the rest come in.`;
        },
      }).then((r) => { series[i].points = r.points; })));
      results[v] = { sig: run.s, data: series };
      draw();
      kTable(v, series);
      const plans = ksOf.reduce((s, ks) => s + ks.length, 0) * st.samples;
      P[v].meta.replaceChildren(`${plans} networks evaluated. Same draws as `,
        cli(`unravel ${v}-random --model ${loaded.primary.name}.json --k ${ksArg(ksOf[0])} --samples ${st.samples} --seed ${st.seed} --limit ${count}`), '.');
      run.finish(`Done: ${st.samples} draws per k on ${count.toLocaleString('en-US')} images.`);
    } catch (e) {
      run.finish(isAbort(e) ? 'Cancelled.' : null);
      if (!isAbort(e)) say(`${VIEW_LABELS[v]} failed: ${e.message}`, 'error', v);
    }
  }

  // What a path-statistics run will cost: image passes, and seconds where the
  // live evaluation has measured this model's speed.
  function pathsEstimate(n) {
    const cost = ex.pathStatsCost(n, st.samples, st.pbatch);
    const s = speed[loaded.primary.name];
    return `${st.samples} draws × ${st.pbatch} images × (n + 2) ≈ ${cost.toLocaleString('en-US')} image passes` +
      (s ? `, about ${fmtSeconds(cost * s)} here` : '');
  }

  async function runPaths(force) {
    const info = loaded.primary?.info;
    if (!info) return;
    const n = info.blocks.length;
    if (info.arch.shortcut === 'none') {   // model.pathStats refuses: there is one path
      const why = `A plain network has a single path (through all ${n} blocks): no path statistics. Pick a residual network.`;
      P.paths.dist.reset(why);
      P.paths.grad.reset(why);
      P.paths.total.reset(why);
      P.paths.btn.disabled = true;
      P.paths.meta.textContent = '';
      pathsTable(null, n);
      return;
    }
    P.paths.btn.disabled = !!running.paths;
    const cached = results.paths?.sig === sig('paths') ? results.paths.data : null;
    P.paths.dist.update({ n, window: cached?.window ?? null });
    if (!cached) {
      P.paths.meta.textContent = pathsEstimate(n);
      pathsTable(null, n);
    }
    const count = pathsImages();
    const run = begin('paths', force, `Gradients per path length: ${st.samples} draws of ${st.pbatch} images`);
    if (!run) return;
    const t0 = performance.now();
    P.paths.meta.textContent = pathsEstimate(n);
    try {
      const r = await ex.pathStats(pool, 'primary', count, { samples: st.samples, seed: st.seed, batch: st.pbatch, q: st.q },
                                   { signal: run.ctl.signal, onProgress: (f) => P.paths.prog.set(f) });
      results.paths = { sig: run.s, data: r, seconds: (performance.now() - t0) / 1000, count };
      showPaths();
      run.finish(`Done: ${st.samples} draws per length, ${st.pbatch} images each.`);
    } catch (e) {
      run.finish(isAbort(e) ? 'Cancelled.' : null);
      if (!isAbort(e)) say(`Path statistics failed: ${e.message}`, 'error', 'paths');
    }
  }

  // The measured paths result under the current q: charts, table, and the
  // CLI command that prints the same numbers.
  function showPaths() {
    const { data: r, seconds, count } = results.paths;
    const color = models()[0].color;
    P.paths.grad.update({ n: r.n, gradMean: r.gradMean, gradSd: r.gradSd, color, name: loaded.primary.name,
                          gradMin: r.norms.map((v) => Math.min(...v)), gradMax: r.norms.map((v) => Math.max(...v)) });
    P.paths.total.update({ n: r.n, total: r.total, window: r.window, color });
    P.paths.dist.update({ n: r.n, window: r.window });
    pathsTable(r, r.n);
    const q = r.window.q === PATH_STATS.q ? '' : ` --q ${r.window.q}`;
    P.paths.meta.replaceChildren(`${pathsEstimate(r.n).replace(/, about .*$/, '')}; took ${fmtSeconds(seconds)}. Same draws as `,
      cli(`unravel paths --model ${loaded.primary.name}.json --split test --limit ${count} --samples ${st.samples} --batch ${st.pbatch} --seed ${st.seed}${q}`),
      `${images.fromSite ? '' : ` on your ${count.toLocaleString('en-US')} images`}.`);
  }

  // A new q: the window of the gradients already measured (nothing reruns).
  async function resummarizePaths() {
    const cur = results.paths;
    if (!cur || cur.sig !== sig('paths') || cur.data.window.q === st.q) return;
    try {
      const r = await pool.run({ type: 'pathSummary', key: 'primary', norms: cur.data.norms,
                                 opts: { q: st.q, seed: st.seed, batch: st.pbatch } });
      if (results.paths !== cur) return;   // a new run replaced it meanwhile
      cur.data = r;
      showPaths();
    } catch (e) {
      say(`Effective window: ${e.message}`, 'error', 'paths');
    }
  }

  function table(el, rows) {
    el.replaceChildren(h('caption', {}, 'Ours beside the paper'),
      h('tr', {}, h('th', {}, ''), h('th', {}, 'this page'), h('th', {}, `paper: ${PAPER.model}`)),
      ...rows.map(([a, b, c]) => h('tr', {}, h('th', { scope: 'row' }, a), h('td', {}, b), h('td', {}, c))));
  }

  function lesionTable(parts) {
    table(P.lesion.table, lesionRows(parts, (name) => loadedInfo(name)?.arch.shortcut === 'none'));
  }

  function loadedInfo(name) {
    return loaded.primary?.name === name ? loaded.primary.info : loaded.compare?.name === name ? loaded.compare.info : null;
  }

  function kTable(v, series) {
    table(P[v].table, kRows(v, series));
  }

  function pathsTable(r, n) {
    const plain = loaded.primary?.info.arch.shortcut === 'none';
    table(P.paths.table, pathsRows(r, n, plain));
    P.paths.why.textContent = plain ? '' : pathsNote(n, !loaded.primary?.info.training, r?.gradMean);
  }

  // ---- user files ----
  async function takeFiles(files) {
    const c = classifyFiles(files);
    try {
      if (c.cifar) {
        await setTestData(await c.cifar.arrayBuffer(), c.cifar.name);   // checked there
      }
      for (const mf of c.manifests) {
        const text = await mf.text();
        let j;
        try { j = JSON.parse(text); } catch (e) { throw new Error(`${mf.name}: not JSON (${e.message})`); }
        const want = j?.weights?.file;
        const wf = c.weights.find((w) => w.name === want) ?? (c.weights.length === 1 ? c.weights[0] : null);
        if (!wf) throw new Error(`${mf.name} names weights "${want}": pick that .bin file together with the .json`);
        const name = String(j.name ?? mf.name.replace(/\.json$/, '')).replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'user-model';
        userModels.set(name, { manifest: text, weights: await wf.arrayBuffer() });
        available = available.filter((m) => m.name !== name);
        available.push({ name, label: `${name} (your file)`, manifest: text });
        const prev = loaded.primary;
        if (await loadModel('primary', name)) {
          setState({ model: name });
          fillModelSelects();
          say(`Loaded your model "${name}".`, 'info', 'user-model');
          await applyPrimary(false);
          describeEngine(await pool.ready());
          showView();
        } else if (prev) {
          await loadModel('primary', prev.name);
        }
      }
      if (!c.cifar && !c.manifests.length) say('Drop a model (.json with its .bin) or CIFAR-10 test_batch.bin.', 'warn', 'files');
    } catch (e) {
      say(e.message, 'error', 'files');
    }
  }

  async function setTestData(bytes, name) {
    const n = await images.replace(bytes, name);
    unsay('no-data');
    grid.dataset.start = '';
    if (n < 10000) say(`${name}: ${n} images; larger image counts use all ${n}.`, 'info', 'data-size');
    for (const v of VIEWS) results[v] = null;
    fullError = null;
    if (loaded.primary) { setPlan(currentPlan()); showView(); }
  }

  fileIn.addEventListener('change', () => { takeFiles([...fileIn.files]); fileIn.value = ''; });
  const dropTarget = root instanceof ShadowRoot ? root.host : root;
  dropTarget.addEventListener('dragover', (e) => { if (e.dataTransfer?.types?.includes('Files')) { e.preventDefault(); dropTarget.classList.add('dropping'); } });
  dropTarget.addEventListener('dragleave', () => dropTarget.classList.remove('dropping'));
  dropTarget.addEventListener('drop', (e) => {
    if (!e.dataTransfer?.files?.length) return;
    e.preventDefault();
    dropTarget.classList.remove('dropping');
    takeFiles([...e.dataTransfer.files]);
  });

  // ---- control events ----
  modelSel.addEventListener('change', async () => {
    const name = modelSel.value;
    if (await loadModel('primary', name)) { setState({ model: name, deleted: [], order: null }); await applyPrimary(false); describeEngine(await pool.ready()); showView(); }
    fillModelSelects();
  });
  compareSel.addEventListener('change', async () => {
    const name = compareSel.value;
    if (await loadModel('compare', name)) setState({ compare: name });
    for (const v of VIEWS) results[v] = null;
    fillModelSelects();
    resetCharts();
    showView();
  });
  const numberInput = (input, name) => input.addEventListener('change', () => {
    const entry = STATE_TABLE.find((e) => e.name === name);
    const v = Number(input.value);
    if (!Number.isInteger(v) || v < entry.min || v > entry.max) {
      say(`${name}: ${input.value} is not a whole number in ${entry.min}..${entry.max}; keeping ${st[name]}.`, 'warn', `input-${name}`);
      input.value = String(st[name]);
      return;
    }
    unsay(`input-${name}`);
    setState({ [name]: v });
    showView();
  });
  numberInput(samplesIn, 'samples');
  numberInput(seedIn, 'seed');
  imagesSel.addEventListener('change', async () => {
    setState({ images: Number(imagesSel.value) });
    const problem = await images.ensure(st.images);
    if (problem) say(problem, 'error', 'more-data');
    setPlan(currentPlan());
    showView();
  });

  // ---- start ----
  syncControls();
  for (const v of VIEWS) panels[v].hidden = v !== st.view;
  const started = (async () => {
    try {
      const module = await compileWasm();
      pool = new Pool(module, { onError: (e) => say(e.message, 'error', 'worker') });
      const [info, models_, haveImages] = await Promise.all([
        pool.ready(),
        probeModels([st.model, st.compare]),
        (loadProgress.start('Loading CIFAR-10 test images', null),
         images.start(Math.max(TEST_IMAGES.first, st.images), { onProgress: (d, t) => loadProgress.set(d / t) }))
          .catch((e) => { say(`Test images: ${e.message}`, 'error', 'no-data'); return null; }),
      ]);
      available = models_;
      loadProgress.done();
      describeEngine(info);
      let name = st.model;
      if (!available.some((m) => m.name === name && m.manifest)) {
        const fallback = available.find((m) => m.manifest && !m.dev) ?? available.find((m) => m.manifest);
        say(`Model "${name}" is not available here (no models/${name}.json)` +
            (fallback ? `; showing ${fallback.name} instead.` : '. No model was found: run `make` and train one, or load your own .json + .bin.'), 'warn', 'missing-model');
        name = fallback?.name ?? null;
      }
      fillModelSelects();
      if (haveImages === false) {   // none on the site (null: an error, already said)
        say('No CIFAR-10 test images at data/test_batch.bin: pick or drop your test_batch.bin (CIFAR-10 binary version) to measure errors.', 'warn', 'no-data');
      }
      const urlModel = name === st.model;
      if (name && await loadModel('primary', name)) {
        if (!urlModel) setState({ model: name, deleted: [], order: null });
        if (st.compare && !(await loadModel('compare', st.compare))) setState({ compare: '' });
        fillModelSelects();
        describeEngine(info);
        await applyPrimary(urlModel);
        showView();
      }
      (root instanceof ShadowRoot ? root.host : root).dataset.ready = 'true';
    } catch (e) {
      say(`The explorer could not start: ${e.message}`, 'error', 'start');
      engine.textContent = 'not running';
    }
  })();

  return {
    ready: started,
    get state() { return { ...st }; },
    /** Workers terminated and replaced so far (a cancelled experiment that did not stop in time). */
    get workersReplaced() { return pool?.replaced ?? 0; },
    destroy() { cancelAll(); pool?.terminate(); },
  };
}
