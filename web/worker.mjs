// worker.mjs: one unravel.wasm instance per Web Worker. The page's pool
// (pool.mjs) sends it a compiled module, models and the test images, then
// tasks; every reply carries the task id. Long calls post progress messages
// while they run (postMessage leaves a worker at once, even mid-call).
// Experiments (model.lesionSingle, deleteRandom, swapRandom, pathStats) yield
// between their steps, so a {type: 'cancel', target: id} message reaches the
// worker mid-run and aborts that task's AbortSignal; the pool terminates the
// worker only if that takes too long.
// It fetches nothing itself: the compiled module and every byte of models
// and images arrive in messages, and its one import resolves against this
// file's URL, so it works the same when started cross-origin through a
// blob: trampoline (pool.mjs), whose own URL means nothing to it.
import { loadUnravel } from './wasm/unravel.mjs';
import { planProblems } from './url-state.mjs';

let unravel = null;
const models = new Map();   // key -> Model
let testBytes = null;       // Uint8Array of CIFAR-10 records
const slices = new Map();   // "start:count" -> CifarData, a few kept
const RECORD = 3073;
const MAX_SLICES = 6;

function dataSlice(start, count) {
  if (!testBytes)
    throw new Error('no test images loaded');
  const n = testBytes.length / RECORD;
  if (start < 0 || count < 1 || start + count > n)
    throw new Error(`images ${start}..${start + count - 1} are outside the loaded 0..${n - 1}`);
  const key = `${start}:${count}`;
  let d = slices.get(key);
  if (d) {
    slices.delete(key);   // re-insert: most recent last
  } else {
    d = unravel.loadCifar(testBytes.subarray(start * RECORD, (start + count) * RECORD),
                          { name: `test_batch[${start}..${start + count - 1}]` });
    if (slices.size >= MAX_SLICES) {
      const [oldKey, old] = slices.entries().next().value;
      slices.delete(oldKey);
      old.dispose();
    }
  }
  slices.set(key, d);
  return d;
}

function model(key) {
  const m = models.get(key);
  if (!m)
    throw new Error(`model ${key} is not loaded in this worker`);
  return m;
}

const EXPERIMENTS = new Set(['lesionSingle', 'deleteRandom', 'swapRandom', 'pathStats']);
const controllers = new Map();   // task id -> AbortController of a running experiment

const handlers = {
  async init({ module }) {
    unravel = await loadUnravel(module ? { module } : {});
    return { version: unravel.version, isa: unravel.isa, simd: unravel.simd };
  },
  model({ key, manifest, weights }) {
    models.get(key)?.dispose();
    models.delete(key);
    const m = unravel.loadModel(manifest, weights, { name: key });
    models.set(key, m);
    return { info: m.info, maxDeletions: m.maxDeletions, maxSwaps: m.maxSwaps };
  },
  // A PyTorch checkpoint (the bytes of the user's .pt / .th / .safetensors)
  // read into unravel's own files: the page then loads them into every
  // worker as it loads a user's .json + .bin, and can offer them to save.
  importCheckpoint({ bytes, name, options }) {
    const m = unravel.importCheckpoint(new Uint8Array(bytes), { ...options, name });
    try {
      const { manifest, weights } = m.serialize();
      return { manifest, weights, warnings: m.warnings, info: m.info };
    } finally {
      m.dispose();
    }
  },
  unloadModel({ key }) {
    models.get(key)?.dispose();
    models.delete(key);
    return {};
  },
  // New test images; append: more records of the same file (the page
  // fetches them as needed), so slices of the first ones stay as they are.
  data({ bytes, append }) {
    const next = new Uint8Array(bytes);
    if (!(append && testBytes && next.length >= testBytes.length)) {
      for (const d of slices.values()) d.dispose();
      slices.clear();
    }
    testBytes = next;
    return { n: testBytes.length / RECORD };
  },
  // One plan on images start..start+count-1, with each image's prediction
  // (the page pairs them with the full network's).
  eval({ key, plan, start, count }, progress) {
    const r = model(key).evaluate(dataSlice(start, count),
                                  { ...plan, predictions: true, onProgress: (d, t) => { progress(d, t); } });
    return { correct: r.correct, n: r.n, confusion: r.confusion, seconds: r.seconds, pred: r.predictions };
  },
  // Predicted class of images start..start+count-1 under a plan: C's
  // answers (evaluate's predictions), as every error here counts them.
  predict({ key, plan, start, count }) {
    return { pred: model(key).evaluate(dataSlice(start, count), { ...plan, predictions: true }).predictions };
  },
  // Whether the model runs a plan's deletions and its order (C's rules,
  // unr_plan_validate): the reason it refuses each, or null.
  checkPlan({ key, deleted, order }) {
    return planProblems(model(key), { deleted, order });
  },
  // The plan of one random draw (depends only on kind, k, seed and sample).
  drawPlan({ key, kind, k, seed, sample }) {
    const { order, deleted } = model(key).drawPlan(kind, k, seed, sample);
    return { order, deleted };
  },
  // Path statistics from the measurements of several workers (pathStats
  // runs with disjoint firstSample ranges), norms[length][sample].
  pathSummary({ key, norms, opts }) {
    return model(key).pathSummary(norms, opts);
  },
  // An experiment of the JS API, model[fn](data, opts), on images
  // start..start+count-1; cancelled by a 'cancel' message naming this task.
  async expt({ id, key, fn, opts, start = 0, count }, progress) {
    if (!EXPERIMENTS.has(fn))
      throw new Error(`worker: unknown experiment ${fn}`);
    const m = model(key);
    const ctl = new AbortController();
    controllers.set(id, ctl);
    try {
      return await m[fn](dataSlice(start, count),
                         { ...opts, signal: ctl.signal, onProgress: (d, t) => { progress(d, t); } });
    } finally {
      controllers.delete(id);
    }
  },
};

self.onmessage = async ({ data: msg }) => {
  const { id, type } = msg;
  if (type === 'cancel') {          // no reply: the cancelled task answers for itself
    controllers.get(msg.target)?.abort();
    return;
  }
  let last = 0;
  const progress = (done, total) => {
    const now = performance.now();
    if (now - last > 80 || done === total) {   // at most ~12 messages a second
      last = now;
      self.postMessage({ id, progress: [done, total] });
    }
  };
  try {
    const h = handlers[type];
    if (!h)
      throw new Error(`worker: unknown task ${type}`);
    const result = await h(msg, progress);
    self.postMessage({ id, ok: true, result });
  } catch (e) {
    self.postMessage({ id, ok: false, error: { message: e?.message ?? String(e),
                                               status: e?.status ?? 'error' } });
  }
};
