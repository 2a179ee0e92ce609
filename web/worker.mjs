// worker.mjs: one unravel.wasm instance per Web Worker. The page's pool
// (pool.mjs) sends it a compiled module, models and the test images, then
// tasks; every reply carries the task id. Long calls post progress messages
// while they run (postMessage leaves a worker at once, even mid-call).
import { loadUnravel, Model } from './wasm/unravel.mjs';

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

/** Which experiment functions this build of the JS API has. */
function capabilities() {
  const proto = Model.prototype;
  const has = (fn) => typeof proto?.[fn] === 'function';
  return { lesionSingle: has('lesionSingle'), deleteRandom: has('deleteRandom'),
           swapRandom: has('swapRandom'), pathStats: has('pathStats') };
}

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
    return { info: m.info, caps: capabilities() };
  },
  unloadModel({ key }) {
    models.get(key)?.dispose();
    models.delete(key);
    return {};
  },
  data({ bytes }) {
    for (const d of slices.values()) d.dispose();
    slices.clear();
    testBytes = new Uint8Array(bytes);
    return { n: testBytes.length / RECORD };
  },
  // One plan on images start..start+count-1.
  eval({ key, plan, start, count }, progress) {
    const r = model(key).evaluate(dataSlice(start, count),
                                  { ...plan, onProgress: (d, t) => { progress(d, t); } });
    return { correct: r.correct, n: r.n, confusion: r.confusion, seconds: r.seconds };
  },
  // Predicted class of images start..start+count-1 under a plan.
  predict({ key, plan, start, count }) {
    const logits = model(key).forward(dataSlice(start, count), { ...plan });
    const pred = [];
    for (let i = 0; i < count; i++) {
      let best = 0;
      for (let c = 1; c < 10; c++)
        if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
      pred.push(best);
    }
    return { pred };
  },
  // Several plans, each on the first `count` images (dev fallback path).
  plans({ key, plans, count }, progress) {
    const data = dataSlice(0, count);
    const m = model(key);
    return {
      errors: plans.map((plan, i) => {
        const r = m.evaluate(data, { ...plan, onProgress: (d, t) => { progress(i * t + d, plans.length * t); } });
        return r.error;
      }),
    };
  },
  // An experiment of the JS API: model[fn](data, opts) on the first `count` images.
  async expt({ key, fn, opts, count }, progress) {
    const m = model(key);
    if (typeof m[fn] !== 'function')
      throw new Error(`model.${fn} is not in this build of unravel`);
    return await m[fn](dataSlice(0, count), { ...opts, onProgress: (d, t) => { progress(d, t); } });
  },
};

self.onmessage = async ({ data: msg }) => {
  const { id, type } = msg;
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
