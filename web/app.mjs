// app.mjs: the explorer. Builds the controls, the network section and the
// experiment tabs inside a root element, loads the models and test images,
// and keeps the URL state; each tab and the network section live in views/.
// No model code here: numbers come from workers (unravel.wasm) through
// experiments.mjs.
//
//   createExplorer(root, { syncUrl: true })                       // the page
//   createExplorer(root, { syncUrl: false, state: { model, view }, only: 'lesion' })   // embeds
//
// Embeds may move the files (options.paths over config.mjs PATHS) and hear
// what happens through one hook, options.onEvent(type, detail): 'plan-change'
// when the plan on show changes after start, 'result' when an experiment or
// a live evaluation finishes (views call ctx.emit).
import { IMAGE_COUNTS, PATHS, VIEWS, TEST_IMAGES, THEMES } from './config.mjs';
import { parseState, serializeState, checkPlan, STATE_TABLE } from './url-state.mjs';
import { Pool } from './pool.mjs';
import { probeModels, fetchWeights, classifyFiles, CHECKPOINT_EXTENSIONS } from './data.mjs';
import { cifarProblem, unknownFileProblem, manifestProblem, missingWeightsProblem, loneWeightsProblem, modelFileProblem,
         checkpointProblem } from './file-messages.mjs';
import { createCheckpointForm } from './checkpoint-form.mjs';
import { download } from './export.mjs';
import { TestImages } from './test-images.mjs';
import { h, progressRow, createMessages } from './ui.mjs';
import { createShareBox } from './share-box.mjs';
import { VIEW_LABELS, forgetLesions } from './views/panel.mjs';
import { createNetworkSection } from './views/network.mjs';
import { createLesionView } from './views/lesion-view.mjs';
import { createKView } from './views/k-view.mjs';
import { createPathsView } from './views/paths-view.mjs';
import { createDepthView } from './views/depth-view.mjs';
import { createHero } from './views/hero.mjs';

/** One compiled module per wasm URL for every explorer on the page. */
const modules = new Map();   // url -> Promise<WebAssembly.Module>
function compileWasm(url) {
  if (!modules.has(url)) modules.set(url, (async () => {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`unravel.wasm: HTTP ${res.status} for ${url} (run \`make wasm\`)`);
    return await WebAssembly.compile(await res.arrayBuffer());
  })());
  return modules.get(url);
}

/**
 * @param {HTMLElement|ShadowRoot} root
 * @param {{syncUrl?: boolean, state?: object, only?: string|null,
 *          paths?: {models?: string, testBatch?: string, wasm?: string},
 *          onEvent?: (type: 'plan-change'|'result', detail: object) => void}} [options]
 *   only: show just the block diagram and this experiment (for embeds);
 *   paths: absolute URLs replacing those of PATHS
 */
export function createExplorer(root, options = {}) {
  const syncUrl = options.syncUrl ?? true;
  const only = options.only ?? null;
  const paths = { ...PATHS, ...options.paths };
  const emit = options.onEvent ?? (() => {});
  // The landing (the full page at its bare address): the first chart tells the
  // story. A link to a view (any parameter) opens straight on the explorer.
  const landing = syncUrl && !only && location.search === '';
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
  let loadGen = 0;
  const { el: messages, say, unsay, place } = createMessages();
  // messages about the settings (a file refused, a bad number): beside them, not at the page top
  const atControls = { at: place('controls-messages') };
  const loadProgress = progressRow('load');
  // The test images: the site's, fetched as needed, or the user's own file.
  const images = new TestImages({ url: paths.testBatch, progress: loadProgress,
                                  publish: (bytes, append) => pool.broadcast('data', { type: 'data', bytes, append }) });
  // What the views share (views/panel.mjs lists it).
  const ctx = {
    st, setState, say, place, images, loaded, showView, emit,
    get pool() { return pool; },
    results: {},                    // view -> {sig, data}: the result on show
    running: {},                    // view -> AbortController
    speed: {},                      // model name -> seconds per image forward, in one worker (measured)
    lesions: new Map(),             // "name|count" -> a lesionSingle result, shared by the lesion and depth tabs
    /** A model's name as the selects show it. */
    labelOf(name) { return available.find((m) => m.name === name)?.label ?? name; },
    /** A model's manifest, parsed (null when unknown or not JSON). */
    manifestOf,
    /** The models the selects offer with a manifest here (the site's, not the random-weight dev ones, and the user's). */
    offered: () => available.filter((m) => m.manifest && !m.dev),
    /** A model's {manifest, weights}, fetched (null when not offered). */
    modelBytes: (name) => modelBytes(name),
    /** Show a plan in the network section (a lesion bar was chosen). */
    applyPlan(plan) {
      network.setPlan(plan);
      network.el.scrollIntoView?.({ behavior: 'smooth', block: 'start' });
    },
  };

  // ---- skeleton ----
  const modelSel = h('select', { id: 'ux-model', 'aria-label': 'model' });
  const compareSel = h('select', { id: 'ux-compare', 'aria-label': 'compare with' });
  const imagesSel = h('select', { id: 'ux-images', 'aria-label': 'test images' },
    IMAGE_COUNTS.map((n) => h('option', { value: n }, n.toLocaleString('en-US'))));
  const samplesIn = h('input', { id: 'ux-samples', type: 'number', min: 1, max: 200, step: 1, 'aria-label': 'random draws per k' });
  const seedIn = h('input', { id: 'ux-seed', type: 'number', min: 0, step: 1, 'aria-label': 'random seed' });
  const themeLabels = { auto: 'auto (system)', light: 'light', dark: 'dark' };
  const themeSel = h('select', { id: 'ux-theme', 'aria-label': 'colour theme' },
    THEMES.map((t) => h('option', { value: t }, themeLabels[t])));
  // the native file input stays (the keyboard and screen readers reach it) but out of sight: its
  // "No file chosen" is cut short in a row of controls; the label shows what was taken instead
  const fileIn = h('input', { type: 'file', multiple: true, accept: ['.json', '.bin', ...CHECKPOINT_EXTENSIONS].join(','), class: 'file-input',
                              'aria-label': 'your own model (.json + .bin, or a PyTorch checkpoint) or test_batch.bin' });
  const fileChosen = h('span', { class: 'file-chosen' }, 'a model or test_batch.bin');
  const engine = h('span', { class: 'engine' }, 'starting WebAssembly…');
  const share = syncUrl ? createShareBox(() => st) : null;   // Link & embed: the full page only
  // a PyTorch checkpoint picked or dropped: its mean, std and shortcut, asked beside the file control
  const ckptForm = createCheckpointForm({
    onImport: (file, opts) => importCheckpointFile(file, opts),
    onProblem: (p) => say(p.text, 'error', 'files', { ...atControls, reveal: true }),
  });
  // part: what an embedding page may style (unravel-explorer::part(controls))
  const controls = h('section', { class: 'controls', 'aria-label': 'settings', part: 'controls' },
    h('label', {}, 'Model ', modelSel),
    h('label', {}, 'Compare with ', compareSel),
    h('label', {}, 'Test images ', imagesSel),
    h('label', {}, 'Draws per k ', samplesIn),
    h('label', {}, 'Seed ', seedIn),
    h('label', { class: 'file-label', title: 'A model (.json + .bin, or a PyTorch checkpoint: .pt, .pth, .th, .safetensors) ' +
                 'or CIFAR-10 test_batch.bin; you can also drop files on the page' },
      fileIn, h('span', { class: 'file-button' }, 'Your files…'), fileChosen),
    share?.button, h('label', {}, 'Theme ', themeSel), ckptForm.el, atControls.at, loadProgress.el, engine, share?.box);
  messages.setAttribute('part', 'status');

  const network = createNetworkSection(ctx);
  const toNetwork = () => {
    network.el.scrollIntoView?.({ behavior: 'smooth', block: 'start' });
    network.el.focus({ preventScroll: true });   // the next Tab goes on from the network
  };
  const hero = landing ? createHero(ctx, { onExplore: toNetwork }) : null;

  // experiment tabs: the ARIA tabs pattern (one tab in the Tab order, the
  // selected one; ArrowLeft / ArrowRight / Home / End move to and select a tab)
  const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'experiments', onkeydown: tabKey });
  const panels = {};
  for (const v of VIEWS) {
    tabs.append(h('button', { type: 'button', role: 'tab', id: `ux-tab-${v}`, 'data-view': v, 'aria-controls': `ux-panel-${v}`,
                              onclick: () => selectView(v) }, VIEW_LABELS[v]));
    panels[v] = h('div', { class: 'panel', role: 'tabpanel', id: `ux-panel-${v}`, 'aria-labelledby': `ux-tab-${v}`, 'data-view': v });
  }
  const views = {
    lesion: createLesionView(panels.lesion, ctx),
    delete: createKView(panels.delete, 'delete', ctx),
    swap: createKView(panels.swap, 'swap', ctx),
    paths: createPathsView(panels.paths, ctx),
    depth: createDepthView(panels.depth, ctx),
  };
  const experiments = h('section', { class: 'experiments', 'aria-label': 'experiments', part: 'experiments' },
    only ? null : tabs, ...Object.values(panels));
  for (const card of experiments.querySelectorAll('figure.card')) card.setAttribute('part', 'chart');

  root.append(h('div', { class: `ux${only ? ' ux-embed' : ''}` }, messages, hero?.el, controls, network.el, experiments));
  for (const p of startProblems) say(p, 'warn');

  // ---- state ----
  // The plan as the URL state has it; changes are announced once the explorer
  // has started (the plan it starts on, checked, is the attributes' own).
  const planOf = () => ({ model: st.model, deleted: [...st.deleted], order: st.order ? [...st.order] : null });
  let announcePlans = false;
  function setState(patch) {
    const before = JSON.stringify(planOf());
    Object.assign(st, patch);
    if (syncUrl) {
      const q = serializeState(st);
      history.replaceState(null, '', q ? `?${q}` : location.pathname);
      share.update();
    }
    if (announcePlans && JSON.stringify(planOf()) !== before) emit('plan-change', planOf());
  }

  function syncControls() {
    imagesSel.value = String(st.images);
    samplesIn.value = String(st.samples);
    seedIn.value = String(st.seed);
    themeSel.value = st.theme;
    views.paths.syncControls();
    for (const b of tabs.children) {
      b.setAttribute('aria-selected', String(b.dataset.view === st.view));
      b.tabIndex = b.dataset.view === st.view ? 0 : -1;
    }
  }

  /**
   * Fewer test images than the largest count (a site that ships only the first
   * 1,000 records, `make site`; a short file of the user's): the counts above
   * the first one that covers them all are off, a larger one asked for becomes
   * that one, and `who` ("This site", the file's name) is said to have so many
   * (the user's file: beside the file control, where = atControls).
   */
  function fitImageCounts(who, where = {}) {
    const total = images.total, fmt = (n) => n.toLocaleString('en-US');
    const cover = IMAGE_COUNTS.find((n) => n >= total) ?? Infinity;
    for (const o of imagesSel.options) {
      const n = Number(o.value);
      o.disabled = n > cover;
      o.textContent = n > cover ? `${fmt(n)} (${fmt(total)} here)` : fmt(n);
    }
    if (total >= IMAGE_COUNTS[IMAGE_COUNTS.length - 1]) { unsay('data-size'); return; }
    const asked = st.images > cover ? st.images : null;
    if (asked) { setState({ images: cover }); syncControls(); }
    say(`${who} has ${fmt(total)} test images: image counts above ${fmt(cover)} are off` +
        (asked ? `, so images=${asked} shows ${fmt(cover)}` : '') +
        (cover > total ? `; ${fmt(cover)} uses all ${fmt(total)}` : '') + '.', 'info', 'data-size', where);
  }

  function showView() {
    clearTimeout(tabRunTimer);
    for (const v of VIEWS) panels[v].hidden = v !== st.view;
    syncControls();
    if (loaded.primary && images.bytes) views[st.view].run(false);
  }

  // A tab chosen from the keyboard starts its run only once the arrows rest
  // on it, so stepping across the tabs does not start every experiment.
  let tabRunTimer = 0;
  function selectView(v, runAfterMs = 0) {
    setState({ view: v });
    if (!runAfterMs) { showView(); return; }
    for (const w of VIEWS) panels[w].hidden = w !== v;
    syncControls();
    clearTimeout(tabRunTimer);
    tabRunTimer = setTimeout(() => { if (st.view === v) showView(); }, runAfterMs);
  }

  function tabKey(e) {
    const list = [...tabs.children];
    const i = list.indexOf(e.target.closest?.('[role=tab]'));
    const j = i < 0 ? undefined
      : { ArrowRight: (i + 1) % list.length, ArrowLeft: (i - 1 + list.length) % list.length, Home: 0, End: list.length - 1 }[e.key];
    if (j === undefined) return;
    e.preventDefault();
    list[j].focus();
    selectView(list[j].dataset.view, 300);
  }

  /** Every view's result is stale (new model, comparison or test images). */
  function forgetResults() {
    for (const v of VIEWS) ctx.results[v] = null;
  }

  function resetViews() {
    for (const v of VIEWS) views[v].reset();
  }

  function cancelAll() {
    for (const v of Object.keys(ctx.running)) ctx.running[v]?.abort();
    network.cancel();
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
    return { manifest: m.manifest, weights: await fetchWeights(m.json, { onProgress, modelsUrl: paths.models }) };
  }

  /** Load a model into a slot; false if it could not be (report(e): what went wrong, said by default). */
  async function loadModel(slot, name, report = null) {
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
            'Pick another model, or load your own files.', 'warn', `missing-${slot}`, atControls);
        return false;
      }
      const r = await pool.broadcast(`model:${key}`, { type: 'model', key, manifest: bytes.manifest, weights: bytes.weights });
      if (gen !== loadGen) return false;
      loaded[slot] = { name, info: r.info, maxDeletions: r.maxDeletions, maxSwaps: r.maxSwaps };
      unsay(`missing-${slot}`);
      unsay(`load-${slot}`);
      return true;
    } catch (e) {
      if (report) report(e);
      else say(`Could not load model "${name}": ${e.message}`, 'error', `load-${slot}`, atControls);
      return false;
    } finally {
      loadProgress.done();
    }
  }

  function manifestOf(name) {
    const m = available.find((x) => x.name === name && x.manifest);
    try { return m?.json ?? JSON.parse(m?.manifest ?? 'null'); } catch { return null; }
  }

  /** "trained 50 epochs; test error 12.22% (rebuilt set) / 9.80% (exact records 0-999)", from the manifest. */
  function trainingSummary(name) {
    const j = manifestOf(name);
    const tr = j?.training, me = j?.metrics;
    if (!tr?.epochs || typeof me?.test_error !== 'number') return '';
    const pc = (x) => `${(100 * x).toFixed(2)}%`;
    return `, trained ${tr.epochs} epoch${tr.epochs === 1 ? '' : 's'}${tr.active_blocks ? ` (${tr.active_blocks} blocks per batch)` : ''}: ` +
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
    forgetResults();
    let plan = null;
    if (planFromUrl) {
      // the model's own rules, in C: a worker validates the URL's plan
      const c = await checkPlan(info.blocks, st.deleted, st.order,
                                (plan) => pool.run({ type: 'checkPlan', key: 'primary', ...plan }));
      for (const p of c.problems) say(p, 'warn');
      plan = { order: c.order, deleted: c.deleted };
    }
    resetViews();
    views.paths.setModel(info.blocks.length);
    network.setModel(info, plan);
  }

  // ---- user files ----
  // One message for each pick or drop, beside the file control (the next
  // replaces it): a line per file taken or refused, saying why in plain words.
  async function takeFiles(files) {
    if (!files.length) return;
    showChosen(files);
    const c = classifyFiles(files);
    const lines = [], details = [];
    let refused = 0;
    const refuse = ({ text, detail }) => { refused++; lines.push(text); if (detail) details.push(detail); };
    try {
      for (const f of c.ignored) refuse(unknownFileProblem(f.name));
      // a checkpoint needs its normalisation first: the form asks, its Import imports
      const [ckpt, ...moreCkpts] = c.checkpoints;
      if (ckpt) {
        ckptForm.show(ckpt);
        lines.push(`${ckpt.name} is a PyTorch checkpoint: give the mean and std it was trained with (CIFAR-10's are filled in), then Import.`);
      } else {
        ckptForm.hide();
      }
      for (const f of moreCkpts) refuse({ text: `${f.name} was left out: import one checkpoint at a time.` });
      if (c.cifar) {
        const bytes = await c.cifar.arrayBuffer();
        const bad = cifarProblem(c.cifar.name, bytes);
        if (bad) refuse(bad);
        else {
          await setTestData(bytes, c.cifar.name);
          lines.push(`Loaded your test images: ${c.cifar.name}, ${images.count.toLocaleString('en-US')} images.`);
        }
      }
      const used = new Set();
      for (const mf of c.manifests) {
        const text = await mf.text();
        let j;
        try { j = JSON.parse(text); } catch (e) { refuse(manifestProblem(mf.name, e)); continue; }
        if (j?.format !== 'unravel-model') { refuse(manifestProblem(mf.name)); continue; }
        const want = j.weights?.file;
        const wf = c.weights.find((w) => w.name === want) ?? (c.weights.length === 1 ? c.weights[0] : null);
        if (!wf) { refuse(missingWeightsProblem(mf.name, want)); continue; }
        used.add(wf);
        const name = userModelName(j.name ?? mf.name.replace(/\.json$/, ''));
        const problem = await addUserModel(name, text, await wf.arrayBuffer());
        if (problem) refuse(modelFileProblem(problem, { manifest: mf.name, weights: wf.name }));
        else lines.push(`Loaded your model "${name}" (${mf.name} with ${wf.name}).`);
      }
      // weights without a manifest: the site's manifests may say whose (and what size) they are
      const known = available.filter((m) => m.json).map((m) => ({ file: `${m.name}.json`, json: m.json }));
      for (const w of c.weights) if (!used.has(w)) refuse(loneWeightsProblem(w.name, w.size, known));
    } catch (e) {
      refuse({ text: `Could not read ${files.map((f) => f.name).join(', ')}.`, detail: e.message });
    }
    say(lines, refused ? 'error' : 'info', 'files', { ...atControls, detail: details, reveal: true });
  }

  /** A user's model name as the page keeps it: a plain file name. */
  function userModelName(n) {
    return String(n).replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'user-model';
  }

  /**
   * Offer a user's model (manifest text + weights) in the selects and load it
   * as the primary model, as a shipped one is loaded. Resolves null when it
   * is loaded; else the loader's error, the model list as it was before.
   */
  async function addUserModel(name, manifest, weights) {
    const before = { user: userModels.get(name), entry: available.find((m) => m.name === name) };
    userModels.set(name, { manifest, weights });
    forgetLesions(ctx);   // a file may reuse a name measured before
    available = available.filter((m) => m.name !== name);
    available.push({ name, label: `${name} (your file)`, manifest });
    const prev = loaded.primary;
    let problem = null;
    if (await loadModel('primary', name, (e) => { problem = e; })) {
      setState({ model: name });
      fillModelSelects();
      await applyPrimary(false);
      describeEngine(await pool.ready());
      showView();
      return null;
    }
    // refused: the model list goes back to what it was
    if (before.user) userModels.set(name, before.user); else userModels.delete(name);
    available = available.filter((m) => m.name !== name).concat(before.entry ? [before.entry] : []);
    if (prev) await loadModel('primary', prev.name);
    return problem ?? new Error(`${name}: not loaded`);
  }

  /**
   * A PyTorch checkpoint, with the form's mean, std and shortcut: imported
   * in a worker (unravel.importCheckpoint, c/checkpoint.c) into unravel's own
   * files, which are then loaded into every worker like a user's .json + .bin.
   */
  async function importCheckpointFile(file, options) {
    const name = userModelName(file.name.replace(/\.[^.]*$/, ''));
    const say1 = (lines, level, detail = null) => say(lines, level, 'files', { ...atControls, detail, reveal: true });
    ckptForm.busy(true);
    loadProgress.start(`Importing ${file.name}`, null);
    let r;
    try {
      r = await pool.run({ type: 'importCheckpoint', bytes: await file.arrayBuffer(), name: file.name,
                           options: { ...options, modelName: name } });
    } catch (e) {
      const p = checkpointProblem(e, file.name);
      ckptForm.busy(false);
      if (!/shortcut/.test(e?.message ?? '')) ckptForm.hide();   // a wrong shortcut can be chosen again
      say1(p.text, 'error', p.detail);
      return;
    } finally {
      loadProgress.done();
    }
    ckptForm.hide();
    const problem = await addUserModel(name, r.manifest, r.weights);
    if (problem) {
      const p = checkpointProblem(problem, file.name);
      say1(p.text, 'error', p.detail);
      return;
    }
    const a = r.info.arch;
    const save = h('button', { type: 'button', class: 'save-model', title: `${name}.json + ${name}.bin, to load again with "Your files…" (no import)`,
                               onclick: () => { download(`${name}.json`, new Blob([r.manifest], { type: 'application/json' }));
                                                download(`${name}.bin`, new Blob([r.weights], { type: 'application/octet-stream' })); } },
                     'Save as unravel model');
    say1([`Imported your checkpoint ${file.name} as "${name}": ResNet-${r.info.depth} (blocks ${a.stageBlocks.join('/')}, ` +
          `widths ${a.widths.join('/')}, shortcut ${a.shortcut}${a.preactivation ? ', pre-activation' : ''}).`,
          ...r.warnings, [save]], 'info');
  }

  /** What was picked or dropped, on the file control (whole names, or a count). */
  function showChosen(files) {
    const names = files.map((f) => f.name);
    const short = (n) => (n.length > 28 ? `${n.slice(0, 13)}…${n.slice(-13)}` : n);
    fileChosen.textContent = names.length > 2 ? `${names.length} files` : names.map(short).join(' + ');
    fileChosen.title = names.join(', ');
  }

  async function setTestData(bytes, name) {
    const n = await images.replace(bytes, name);
    unsay('no-data');
    fitImageCounts(name, atControls);
    forgetResults();
    forgetLesions(ctx);
    network.dataChanged();
    if (loaded.primary) showView();
  }

  fileIn.addEventListener('change', () => { takeFiles([...fileIn.files]); fileIn.value = ''; });
  // the full page takes a drop anywhere on it (dropped on the notes below, a file would replace the page)
  const dropTarget = root instanceof ShadowRoot ? root.host : syncUrl && !only ? document.body : root;
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
    forgetResults();
    fillModelSelects();
    resetViews();
    network.compareChanged();
    showView();
  });
  const numberInput = (input, name) => input.addEventListener('change', () => {
    const entry = STATE_TABLE.find((e) => e.name === name);
    const v = Number(input.value);
    if (!Number.isInteger(v) || v < entry.min || v > entry.max) {
      say(`${name}: ${input.value} is not a whole number in ${entry.min}..${entry.max}; keeping ${st[name]}.`, 'warn', `input-${name}`, atControls);
      input.value = String(st[name]);
      return;
    }
    unsay(`input-${name}`);
    setState({ [name]: v });
    showView();
  });
  numberInput(samplesIn, 'samples');
  numberInput(seedIn, 'seed');
  themeSel.addEventListener('change', () => { setState({ theme: themeSel.value }); applyTheme(); });
  // the theme: data-theme on <html> (the page) or on the element (an embed), where style.css reads it;
  // auto removes it: the system's light or dark (the page), the host page's (an embed)
  function applyTheme() {
    const target = root.host ?? root.ownerDocument.documentElement;
    if (st.theme === 'auto') delete target.dataset.theme;
    else target.dataset.theme = st.theme;
  }
  applyTheme();
  imagesSel.addEventListener('change', async () => {
    setState({ images: Number(imagesSel.value) });
    const problem = await images.ensure(st.images);
    if (problem) say(problem, 'error', 'more-data', atControls);
    network.refresh();
    showView();
  });

  // ---- start ----
  syncControls();
  for (const v of VIEWS) panels[v].hidden = v !== st.view;
  const started = (async () => {
    try {
      const module = await compileWasm(paths.wasm);
      pool = new Pool(module, { onError: (e) => say(e.message, 'error', 'worker') });
      const [info, models_, haveImages] = await Promise.all([
        pool.ready(),
        probeModels([st.model, st.compare], paths.models),
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
      if (haveImages) fitImageCounts('This site');
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
        await hero?.start();   // queued after the live error's evaluation, before the tab's run (which joins it)
        showView();
      }
      announcePlans = true;
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
    /** What run estimates rest on (cost.mjs): seconds per image the live evaluation measured, per model, and the workers. */
    get speed() { return { ...ctx.speed }; },
    get workers() { return pool?.size ?? 0; },
    destroy() { cancelAll(); pool?.terminate(); },
  };
}
