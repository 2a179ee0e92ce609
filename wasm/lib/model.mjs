// model.mjs: models and images in WASM memory. loadModel, importCheckpoint
// and loadCifar bring them in; a Model holds its plan and runner, evaluates
// and runs forward under a plan, draws the random plans of the experiments,
// and hands its files back (serialize). The experiments themselves live in
// experiments.mjs, over the Core a Model gives them.
import { UnravelError, argError, asBytes } from './memory.mjs';
import * as ex from './experiments.mjs';

const NUM_CLASSES = 10;
const IMAGE_SIDE = 32;
const IMAGE_BYTES = 3 * IMAGE_SIDE * IMAGE_SIDE;
const DEFAULT_BATCH = 100;    // evaluate and forward, as `unravel eval --batch`
// Activation memory one instance may hold for a C batch. The heap is capped
// at 2 GB and a page runs several workers, so a big imported net (a Wide
// ResNet-28-10 keeps ~11 MB of activations per image in a lesion sweep) is
// run in smaller batches; evaluation and lesion results do not depend on
// the batch. Path statistics, whose batch is part of the experiment, refuse
// a batch over their own budget instead (experiments.mjs).
const ACTIVATION_BUDGET = 256 * 2 ** 20;

/** CIFAR-10 class names, by label. */
export const CIFAR10_CLASSES = Object.freeze([
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
]);

function checkBatch(batch) {
  if (!Number.isInteger(batch) || batch < 1 || batch > 4096)
    throw argError(`batch: ${batch} is outside 1..4096`);
  return batch;
}

// ---- loading ----

/**
 * Parse and validate a model: its manifest (JSON text or object) and
 * weights (.bin). Throws UnravelError naming the field or tensor at fault.
 * @param {import('./memory.mjs').Internals} it
 * @returns {Model}
 */
export function loadModel(it, manifest, weights, options = {}) {
  const text = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
  if (typeof text !== 'string')
    throw argError('loadModel: the manifest must be JSON text or an object');
  const bytes = asBytes(weights, 'loadModel: weights');
  const name = String(options.name ?? 'model');
  const mText = new TextEncoder().encode(text);
  const ptr = it.withAllocations([mText, bytes, name], (m, w, src) =>
    it.call(() => it.x.unr_wasm_model_load(m, mText.length, w, bytes.length, src, it.err)));
  if (!ptr)
    it.throwLast();
  return newModel(it, ptr, []);
}

/**
 * Options of importCheckpoint, as `unravel import` takes them.
 * @typedef {object} ImportOptions
 * @property {string} [name] the checkpoint's file name (default 'checkpoint'): messages name it,
 *   and the model is named after it without its extension
 * @property {string} [modelName] the model's name instead (the CLI's --name)
 * @property {number[]} [mean] per channel, 0..1 pixel units, with std (default: CIFAR-10's, with a warning)
 * @property {number[]} [std]
 * @property {'auto'|'A'|'B'|'none'} [shortcut] auto (default): B where the checkpoint has
 *   projections, else A; a plain network ('none') has no tensors to tell it by
 * @property {'auto'|'post'|'pre'} [block] post- or pre-activation blocks (auto: by the batch-norm shapes)
 * @property {number[]} [blocksPerStage] blocks in each stage, needed only for unravel's own
 *   blocks.I names when the stages differ
 * @property {number} [bnEps] batch-norm epsilon (default 1e-5, PyTorch's)
 */

/**
 * A PyTorch checkpoint read into a model, in C (unravel.importCheckpoint).
 * @param {import('./memory.mjs').Internals} it
 * @param {ArrayBuffer|ArrayBufferView} bytes
 * @param {ImportOptions} [options]
 * @returns {Model}
 */
export function importCheckpoint(it, bytes, options = {}) {
  const b = asBytes(bytes, 'importCheckpoint');
  const o = importOptions(options);
  const norm = o.norm ? new Uint8Array(new Float32Array(o.norm).buffer) : null;
  const stages = new Uint8Array(new Int32Array(o.stageBlocks).buffer);
  const warnCap = 1024;
  let warnings;
  const ptr = it.withAllocations([b, o.source, o.modelName, norm, stages, warnCap],
    (data, src, name, normPtr, stagesPtr, warn) => {
      it.u8()[warn] = 0;
      const p = it.call(() => it.x.unr_wasm_model_import_checkpoint(
        data, b.length, src, normPtr, o.shortcut, o.block, stagesPtr, o.stageBlocks.length, o.bnEps,
        name, warn, warnCap, it.err));
      warnings = it.string(warn).split('\n').filter(Boolean);
      return p;
    });
  if (!ptr)
    it.throwLast();
  return newModel(it, ptr, warnings);
}

const SHORTCUTS = { auto: -1, A: 0, B: 1, none: 2 };    // unr_shortcut
const BLOCK_KINDS = { auto: 0, post: 1, pre: 2 };       // unr_block_kind

// ImportOptions checked as `unravel import` checks its flags, as plain values.
function importOptions(o) {
  if (o == null || typeof o !== 'object')
    throw argError('importCheckpoint: options must be an object');
  const source = String(o.name ?? 'checkpoint');
  const modelName = o.modelName == null ? null : String(o.modelName);
  const triple = (v, what) => {
    if (!(Array.isArray(v) || ArrayBuffer.isView(v)) || v.length !== 3 ||
        ![...v].every((c) => typeof c === 'number' && Number.isFinite(c) && Math.abs(c) < 1e3))
      throw argError(`importCheckpoint: ${what}: expected three numbers like [0.49, 0.48, 0.45]`);
    return [...v];
  };
  if ((o.mean == null) !== (o.std == null))
    throw argError('importCheckpoint: mean and std go together (the normalisation the network was trained with)');
  let norm = null;
  if (o.mean != null) {
    const mean = triple(o.mean, 'mean'), std = triple(o.std, 'std');
    if (!std.every((c) => c > 0))
      throw argError(`importCheckpoint: std: [${std.join(', ')}]: every value must be positive`);
    norm = [...mean, ...std];
  }
  if (!Object.hasOwn(SHORTCUTS, o.shortcut ?? 'auto'))
    throw argError(`importCheckpoint: shortcut: '${o.shortcut}' is not auto, A, B or none`);
  if (!Object.hasOwn(BLOCK_KINDS, o.block ?? 'auto'))
    throw argError(`importCheckpoint: block: '${o.block}' is not auto, post or pre`);
  const shortcut = SHORTCUTS[o.shortcut ?? 'auto'], block = BLOCK_KINDS[o.block ?? 'auto'];
  const stageBlocks = o.blocksPerStage == null ? [] : [...o.blocksPerStage];
  if (o.blocksPerStage != null && (stageBlocks.length < 1 || stageBlocks.length > 4 ||
      !stageBlocks.every((n) => Number.isInteger(n) && n >= 1 && n <= 400)))
    throw argError(`importCheckpoint: blocksPerStage: expected 1 to 4 block counts like [3, 3, 3]`);
  const bnEps = o.bnEps ?? 0;
  if (o.bnEps != null && !(typeof bnEps === 'number' && bnEps >= 1e-12 && bnEps <= 0.5))
    throw argError(`importCheckpoint: bnEps: ${o.bnEps} is outside 1e-12..0.5`);
  return { source, modelName, norm, shortcut, block, stageBlocks, bnEps };
}

// A Model around a loaded unr_model * (freed here if its info fails).
function newModel(it, ptr, warnings) {
  const x = it.x;
  let info;
  try {
    const infoPtr = it.call(() => x.unr_wasm_model_info(ptr, it.err));
    if (!infoPtr)
      it.throwLast();
    const json = it.string(infoPtr);
    x.free(infoPtr);
    info = modelInfo(JSON.parse(json));
  } catch (e) {
    x.unr_wasm_model_free(ptr);
    throw e;
  }
  return new Model(it, ptr, info, warnings);
}

/**
 * CIFAR-10 binary records into WASM memory (unravel.loadCifar).
 * @param {import('./memory.mjs').Internals} it
 * @returns {CifarData}
 */
export function loadCifar(it, bytes, options = {}) {
  const b = asBytes(bytes, 'loadCifar');
  const ptr = it.withAllocations([b, String(options.name ?? 'cifar')], (data, src) =>
    it.call(() => it.x.unr_wasm_cifar_load(data, b.length, src, it.err)));
  if (!ptr)
    it.throwLast();
  return new CifarData(it, ptr);
}

// A model's name as a plain file name: what the page's file pairing and
// fetchWeights accept ([A-Za-z0-9._-]).
function fileStem(name) {
  return String(name).replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'model';
}

// ---- model info ----

/**
 * @typedef {object} BlockInfo
 * @property {number} id block number, 0..blocks-1 in network order
 * @property {number} stage 1 .. number of stages (3 for the CIFAR ResNets of He et al., 4 for ResNet-18/34-style nets)
 * @property {number} indexInStage
 * @property {number[]} inShape [h, w, c]
 * @property {number[]} outShape [h, w, c]
 * @property {number} stride
 * @property {boolean} downsample
 * @property {boolean} deletable
 * @property {boolean} swappable may trade places with another swappable block of its stage
 * @property {number} swapGroup blocks that may trade places share it (the stage of a swappable
 *   block), -1 for a block that keeps its place
 */

/**
 * @typedef {object} ModelInfo
 * @property {string} name
 * @property {number} depth weighted layers: 2 per block, the stem and the classifier
 * @property {{family: string, blocksPerStage: number|null, stageBlocks: number[], widths: number[],
 *             stemWidth: number, preactivation: boolean, headBn: boolean,
 *             shortcut: 'A'|'B'|'none', numClasses: number, bnEps: number}} arch
 * @property {BlockInfo[]} blocks
 * @property {number} params parameters (incl. batch-norm statistics)
 * @property {number} macs multiply-adds per image, full plan
 * @property {object|null} metrics the manifest's metrics object
 * @property {object|null} training the manifest's training object
 */

function modelInfo(j) {
  return deepFreeze({
    name: j.name,
    depth: j.depth,
    arch: {
      family: j.arch.family,
      // one count where every stage has it, else null; stageBlocks always per stage
      blocksPerStage: Array.isArray(j.arch.blocks_per_stage) ? null : j.arch.blocks_per_stage,
      stageBlocks: j.arch.widths.map((_, s) => j.blocks.filter((b) => b.stage === s + 1).length),
      widths: j.arch.widths,
      stemWidth: j.arch.stem_width ?? j.arch.widths[0],
      preactivation: j.arch.preactivation === true,   // pre-activation blocks (PreActResNet, Wide ResNet)
      headBn: j.arch.head_bn === true,
      shortcut: j.arch.shortcut,
      numClasses: j.arch.num_classes,
      bnEps: j.arch.bn_eps,
    },
    blocks: j.blocks.map((b) => ({
      id: b.block,
      stage: b.stage,
      indexInStage: b.index_in_stage,
      inShape: b.in,
      outShape: b.out,
      stride: b.stride,
      downsample: b.downsample,
      deletable: b.deletable,
      swappable: b.swappable,
      swapGroup: b.swap_group,
    })),
    params: j.parameters,
    macs: j.macs_per_image,
    metrics: j.metrics ?? null,
    training: j.training ?? null,
  });
}

function deepFreeze(o) {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o))
      deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

// ---- CIFAR-10 data ----

/** CIFAR-10 images held in WASM memory. */
export class CifarData {
  #it;
  #ptr;
  #token = {};

  /** @internal use unravel.loadCifar() */
  constructor(it, ptr) {
    this.#it = it;
    this.#ptr = ptr;
    const x = it.x;
    /** Number of images. @type {number} */
    this.n = x.unr_wasm_cifar_n(ptr);
    const at = x.unr_wasm_cifar_labels(ptr);
    /** Label of each image, 0..9 (a copy, safe across memory growth). @type {Uint8Array} */
    this.labels = it.u8().slice(at, at + this.n);
    it.registry?.register(this, () => x.unr_wasm_cifar_free(ptr), this.#token);
  }

  /** @internal the unr_cifar * (throws once disposed) */
  get ptr() {
    if (!this.#ptr)
      throw argError('data: used after dispose()');
    return this.#ptr;
  }

  /**
   * Image i as 32x32 RGBA bytes, ready for new ImageData(pixels, 32, 32).
   * @param {number} i
   * @returns {Uint8ClampedArray}
   */
  image(i) {
    if (!Number.isInteger(i) || i < 0 || i >= this.n)
      throw argError(`image: ${i} is outside 0..${this.n - 1}`);
    const u8 = this.#it.u8();
    const src = this.#it.x.unr_wasm_cifar_pixels(this.ptr) + i * IMAGE_BYTES;
    const plane = IMAGE_SIDE * IMAGE_SIDE;
    const out = new Uint8ClampedArray(4 * plane);
    for (let p = 0; p < plane; p++) {
      out[4 * p] = u8[src + p];
      out[4 * p + 1] = u8[src + plane + p];
      out[4 * p + 2] = u8[src + 2 * plane + p];
      out[4 * p + 3] = 255;
    }
    return out;
  }

  /** Free the images' WASM memory. Safe to call twice. */
  dispose() {
    if (!this.#ptr)
      return;
    this.#it.registry?.unregister(this.#token);
    this.#it.x.unr_wasm_cifar_free(this.#ptr);
    this.#ptr = 0;
  }
}

/** The unr_cifar * of data, checked. */
function checkData(data) {
  if (!(data instanceof CifarData))
    throw argError('data: expected the result of unravel.loadCifar()');
  return data.ptr;
}

// ---- models ----

/**
 * A plan: which blocks run, in which order.
 * @typedef {object} PlanOptions
 * @property {ArrayLike<number>} [order] block id at each position (default: network order)
 * @property {ArrayLike<number>|ArrayLike<boolean>} [deleted] block ids, or one boolean per block
 */

/**
 * @typedef {object} EvalResult
 * @property {number} error 1 - correct / n
 * @property {number} correct
 * @property {number} n images evaluated
 * @property {{name: string, n: number, correct: number, error: number}[]} perClass by true label
 * @property {number[][]} confusion [true][predicted] counts
 * @property {number} seconds time spent in C
 */

/**
 * What experiments.mjs needs of a Model: its instance, its blocks, and its
 * plan and runner (pointers valid until the next runner or plan call).
 * @typedef {object} Core
 * @property {import('./memory.mjs').Internals} it
 * @property {ModelInfo} info
 * @property {number} numBlocks
 * @property {(data: CifarData) => number} dataPtr the unr_cifar * of data, checked
 * @property {(batch: number) => number} checkBatch batch, if a whole number in 1..4096
 * @property {(batch: number) => number} runner the unr_runner * for batches of that size
 * @property {(plan?: PlanOptions) => number} writePlan the unr_plan *, holding plan, validated
 * @property {(wanted: number, saved: boolean) => number} memoryBatch
 * @property {(saved: boolean) => number} bytesPerImage
 * @property {() => number} maxDeletions
 * @property {() => number} maxSwaps
 */

/** A validated model with its folded weights in WASM memory. */
export class Model {
  #it;
  #h;          // { model, plan, runner, batch }: pointers, shared with the finaliser
  #token = {};
  #core;

  /** @internal use unravel.loadModel() or unravel.importCheckpoint() */
  constructor(it, ptr, info, warnings = []) {
    this.#it = it;
    const x = it.x;
    const plan = x.unr_wasm_plan_create(ptr);
    if (!plan) {
      x.unr_wasm_model_free(ptr);
      throw new UnravelError('model: out of memory for a plan', 'nomem');
    }
    this.#h = { model: ptr, plan, runner: 0, batch: 0 };
    /** What the model is: arch, blocks, params, macs, metrics. @type {ModelInfo} */
    this.info = info;
    /** What importCheckpoint had to assume (e.g. CIFAR-10's mean and std), one line each; [] from loadModel. @type {readonly string[]} */
    this.warnings = Object.freeze([...warnings]);
    const h = this.#h;
    it.registry?.register(this, () => freeHandles(x, h), this.#token);
    /** @type {Core} */
    this.#core = Object.freeze({
      it, info, numBlocks: info.blocks.length,
      dataPtr: checkData, checkBatch,
      runner: (batch) => this.#runner(batch),
      writePlan: (o) => { this.#writePlan(o); return this.#h.plan; },
      memoryBatch: (wanted, saved) => this.#memoryBatch(wanted, saved),
      bytesPerImage: (saved) => this.#bytesPerImage(saved),
      maxDeletions: () => this.maxDeletions,
      maxSwaps: () => this.maxSwaps,
    });
  }

  /** Number of residual blocks. @type {number} */
  get numBlocks() { return this.info.blocks.length; }

  // Bytes of activations per image for a runner: the input, four work
  // buffers, and for lesions and paths the saved input of every block (+ 3
  // gradient buffers), each as large as the network's largest activation.
  #bytesPerImage(saved) {
    const { blocks, arch } = this.info;
    let act = IMAGE_SIDE * IMAGE_SIDE * Math.max(3, arch.stemWidth);
    for (const b of blocks)
      act = Math.max(act, b.inShape[0] * b.inShape[1] * b.inShape[2], b.outShape[0] * b.outShape[1] * b.outShape[2]);
    return 4 * act * (5 + (saved ? blocks.length + 4 : 0));
  }

  // The C batch to use for `wanted` images per call: at most what fits the budget.
  #memoryBatch(wanted, saved) {
    return Math.max(1, Math.min(wanted, Math.floor(ACTIVATION_BUDGET / this.#bytesPerImage(saved))));
  }

  /**
   * Test error under a plan: the first `limit` images of data (default all).
   * With `predictions: true` the result also holds each image's predicted
   * class (Uint8Array): two plans' predictions, paired image by image, say
   * which answers a change turned wrong or right.
   * @param {CifarData} data
   * @param {PlanOptions & {limit?: number, batch?: number, predictions?: boolean,
   *         onProgress?: (done: number, total: number) => boolean|void}} [options]
   * @returns {EvalResult}
   */
  evaluate(data, options = {}) {
    const { limit = 0, onProgress, chunk = 0, predictions = false } = options;
    if (!Number.isInteger(limit) || limit < 0)
      throw argError(`evaluate: limit: ${limit} is not a whole number >= 0`);
    const it = this.#it, x = it.x;
    const dataPtr = checkData(data);
    const batch = this.#memoryBatch(checkBatch(options.batch ?? DEFAULT_BATCH), false);
    const runner = this.#runner(batch);
    // Images per pass through the network (0: the cache-sized default).
    x.unr_wasm_runner_set_chunk(runner, Number.isInteger(chunk) && chunk > 0 ? chunk : 0);
    this.#writePlan(options);
    const n = limit > 0 && limit < data.n ? limit : data.n;
    const cells = NUM_CLASSES * NUM_CLASSES;
    return it.withAllocations([4 * cells, 8, predictions ? n : null], (conf, secs, pred) => {
      const st = it.withProgress(onProgress, (id) =>
        it.call(() => x.unr_wasm_evaluate(runner, this.#h.plan, dataPtr, limit, id, pred, conf, secs,
                                          it.err)));
      it.check(st);
      const u8 = it.u8();
      const flat = new Int32Array(u8.buffer.slice(conf, conf + 4 * cells));
      const seconds = new DataView(u8.buffer).getFloat64(secs, true);
      const r = evalResult(flat, seconds);
      if (predictions)
        r.predictions = u8.slice(pred, pred + n);
      return r;
    });
  }

  /**
   * Logits of images start..start+count-1 under a plan.
   * @param {CifarData} data
   * @param {PlanOptions & {start?: number, count?: number, batch?: number}} [options]
   * @returns {Float32Array} [count * 10], row-major
   */
  forward(data, options = {}) {
    const it = this.#it, x = it.x;
    const dataPtr = checkData(data);
    const { start = 0, count = data.n - start } = options;
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 ||
        start + count > data.n)
      throw argError(`forward: images ${start}..${start + count - 1} are outside the data ` +
                     `set's 0..${data.n - 1}`);
    const batch = this.#memoryBatch(checkBatch(options.batch ?? Math.min(DEFAULT_BATCH, count)), false);
    const runner = this.#runner(batch);
    this.#writePlan(options);
    const bytes = 4 * NUM_CLASSES * count;
    return it.withAllocations([bytes], (out) => {
      it.check(it.call(() => x.unr_wasm_forward(runner, this.#h.plan, dataPtr, start, count, out,
                                                it.err)));
      return new Float32Array(it.u8().buffer.slice(out, out + bytes));
    });
  }

  /**
   * Check a plan without running anything; throws UnravelError with the
   * reason if it is invalid.
   * @param {PlanOptions} plan
   */
  validatePlan(plan) {
    this.#writePlan(plan);
  }

  // ---- experiments (PAPER.md; experiments.mjs) ----

  /**
   * Test error with each block deleted alone (claim 2), on top of an
   * optional base plan. Activations before each deleted block are reused.
   * @param {CifarData} data
   * @param {PlanOptions & ex.ExperimentOptions & {limit?: number, batch?: number}} [options]
   * @returns {Promise<ex.LesionResult>}
   */
  lesionSingle(data, options = {}) {
    return ex.lesionSingle(this.#core, data, options);
  }

  /**
   * Error after deleting k random blocks, for each k (claim 3).
   * @param {CifarData} data
   * @param {ex.ExperimentOptions & {ks?: number[], samples?: number, seed?: number,
   *         limit?: number, batch?: number}} [options]
   * @returns {Promise<{points: ex.CurvePoint[], n: number}>} n: the images measured
   */
  deleteRandom(data, options = {}) {
    return ex.randomCurve(this.#core, 0, data, options);
  }

  /**
   * Error after k random swaps of same-stage, non-downsampling blocks, with
   * the Kendall's tau of the orders (claim 3).
   * @param {CifarData} data
   * @param {ex.ExperimentOptions & {ks?: number[], samples?: number, seed?: number,
   *         limit?: number, batch?: number}} [options]
   * @returns {Promise<{points: ex.CurvePoint[], n: number}>} n: the images measured
   */
  swapRandom(data, options = {}) {
    return ex.randomCurve(this.#core, 1, data, options);
  }

  /** The largest k deleteRandom / swapRandom accept. */
  get maxDeletions() { return this.#it.x.unr_wasm_max_deletions(this.#live().model); }
  get maxSwaps() { return this.#it.x.unr_wasm_max_swaps(this.#live().model); }

  /**
   * The plan of draw `sample` for k (deletions or swaps), as the CLI draws it.
   * @param {'delete'|'swap'} kind
   * @returns {{order: number[], deleted: number[], tau: number}}
   */
  drawPlan(kind, k, seed, sample) {
    const it = this.#it, x = it.x, h = this.#live(), nb = this.numBlocks;
    return it.withAllocations([8], (tau) => {
      it.check(it.call(() => x.unr_wasm_draw_plan(h.model, kind === 'swap' ? 1 : 0, k, seed,
                                                   sample, h.plan, tau, it.err)));
      const u8 = it.u8();
      const order = Array.from(new Int32Array(u8.buffer, x.unr_wasm_plan_order(h.plan), nb));
      const del = u8.subarray(x.unr_wasm_plan_deleted(h.plan), x.unr_wasm_plan_deleted(h.plan) + nb);
      const deleted = [];
      del.forEach((v, b) => { if (v) deleted.push(b); });
      return { order, deleted, tau: new DataView(u8.buffer).getFloat64(tau, true) };
    });
  }

  /**
   * Path lengths, gradient norm per path length and the effective window
   * (claims 4-6). Sample s draws a batch of images by (seed, s), runs the
   * network forward once, then for each k = 0..n back-propagates through
   * the residual branches of k random blocks and the shortcuts of the rest.
   * @param {CifarData} data
   * Samples firstSample .. firstSample+samples-1 are taken (so workers can
   * share the draws of one run), batches from the first `limit` images.
   * Options left out take `unravel paths`'s defaults (100 samples, batch
   * 32, q 0.9, 1000 bootstrap resamples, seed 1: the C registry's).
   * @param {ex.ExperimentOptions & {samples?: number, seed?: number, batch?: number,
   *         q?: number, limit?: number, firstSample?: number}} [options]
   * @returns {Promise<ex.PathStats>}
   */
  pathStats(data, options = {}) {
    return ex.pathStats(this.#core, data, options);
  }

  /**
   * Statistics of gradient norms per path length, norms[k][sample] (e.g.
   * pathStats results of several workers, their `norms` concatenated per k
   * in sample order): the numbers pathStats returns.
   * window.bootstrap (unless bootstrap is 0): how far the window moves
   * with the draws, from that many resamples of the samples (seeded by
   * seed, default 1), as `unravel paths` reports it.
   * @param {number[][]} norms
   * @param {{q?: number, seed?: number, batch?: number, bootstrap?: number}} [options]
   * @returns {ex.PathStats}
   */
  pathSummary(norms, options = {}) {
    return ex.pathSummary(this.#core, norms, options);
  }

  /**
   * The model as unravel's own files, NAME.json and NAME.bin, exactly as
   * `unravel import` and `unravel init` write them (unr_model_serialize):
   * the manifest's text and the weights' bytes, whose size and sha256 it
   * holds. unravel.loadModel(manifest, weights) loads them back.
   * @param {{name?: string, weightsFile?: string}} [options] name: the manifest's
   *   (default: the model's); weightsFile: the weights file it names (default:
   *   the name as a plain file name, + '.bin')
   * @returns {{manifest: string, weights: Uint8Array}}
   */
  serialize(options = {}) {
    const it = this.#it, x = it.x, h = this.#live();
    const name = String(options.name ?? this.info.name);
    const file = String(options.weightsFile ?? `${fileStem(name)}.bin`);
    return it.withAllocations([name, file, 8], (namePtr, filePtr, out) => {
      let text = 0, weights = 0;
      try {
        text = it.call(() => x.unr_wasm_model_serialize(h.model, namePtr, filePtr, out, out + 4, it.err));
        if (!text)
          it.check(1);
        const dv = new DataView(it.u8().buffer);
        weights = dv.getUint32(out, true);
        const len = dv.getUint32(out + 4, true);
        return { manifest: it.string(text), weights: it.u8().slice(weights, weights + len) };
      } finally {
        if (text)
          x.free(text);
        if (weights)
          x.free(weights);
      }
    });
  }

  /** Free the model, its plan and its runner. Safe to call twice. */
  dispose() {
    if (!this.#h.model)
      return;
    this.#it.registry?.unregister(this.#token);
    freeHandles(this.#it.x, this.#h);
  }

  // A runner for batches of up to `batch` images, kept until another size
  // is asked for.
  #runner(batch) {
    const h = this.#live();
    checkBatch(batch);
    if (h.runner && h.batch === batch)
      return h.runner;
    const it = this.#it, x = it.x;
    if (h.runner)
      x.unr_wasm_runner_free(h.runner);
    h.runner = 0;
    const r = it.call(() => x.unr_wasm_runner_create(h.model, batch, it.isa, it.err));
    if (!r)
      it.check(1);
    h.runner = r;
    h.batch = batch;
    return r;
  }

  // Write order and deleted into the C plan, then validate it in C.
  #writePlan({ order, deleted } = {}) {
    const h = this.#live();
    const it = this.#it, x = it.x, nb = this.numBlocks;
    x.unr_wasm_plan_reset(h.plan);
    const orderAt = x.unr_wasm_plan_order(h.plan) >> 2;
    const delAt = x.unr_wasm_plan_deleted(h.plan);
    if (order != null) {
      if (typeof order.length !== 'number' || order.length !== nb)
        throw new UnravelError(`plan: order has ${order.length} entries, the model has ${nb} ` +
                               'blocks', 'plan');
      const i32 = new Int32Array(it.u8().buffer);
      for (let p = 0; p < nb; p++) {
        const b = order[p];
        if (!Number.isInteger(b))
          throw new UnravelError(`plan: order[${p}] = ${b} is not a block number`, 'plan');
        if (b < 0 || b >= nb)   // (C says the same, but int32 could wrap first)
          throw new UnravelError(`plan: order[${p}] = ${b} is out of range (blocks ` +
                                 `0..${nb - 1})`, 'range');
        i32[orderAt + p] = b;
      }
    }
    if (deleted != null) {
      const u8 = it.u8();
      const list = Array.from(deleted);
      const mask = list.length > 0 && list.every((v) => typeof v === 'boolean');
      if (mask) {
        if (list.length !== nb)
          throw new UnravelError(`plan: deleted has ${list.length} flags, the model has ${nb} ` +
                                 'blocks', 'plan');
        list.forEach((v, b) => { u8[delAt + b] = v ? 1 : 0; });
      } else {
        for (const b of list) {
          if (!Number.isInteger(b))
            throw new UnravelError(`plan: deleted block ${b} is not a block number`, 'plan');
          if (b < 0 || b >= nb)
            throw new UnravelError(`plan: deleted block ${b} is out of range (the model has ` +
                                   `blocks 0..${nb - 1})`, 'range');
          u8[delAt + b] = 1;
        }
      }
    }
    it.check(x.unr_wasm_plan_validate(h.model, h.plan, it.err));
  }

  #live() {
    if (!this.#h.model)
      throw argError('model: used after dispose()');
    return this.#h;
  }
}

function freeHandles(x, h) {
  if (h.runner)
    x.unr_wasm_runner_free(h.runner);
  if (h.plan)
    x.unr_wasm_plan_free(h.plan);
  if (h.model)
    x.unr_wasm_model_free(h.model);
  h.runner = h.plan = h.model = 0;
}

function evalResult(flat, seconds) {
  const confusion = [];
  const perClass = [];
  let n = 0, correct = 0;
  for (let t = 0; t < NUM_CLASSES; t++) {
    const row = Array.from(flat.subarray(t * NUM_CLASSES, (t + 1) * NUM_CLASSES));
    const total = row.reduce((a, b) => a + b, 0);
    confusion.push(row);
    perClass.push({ name: CIFAR10_CLASSES[t], n: total, correct: row[t],
                    error: total ? 1 - row[t] / total : 0 });
    n += total;
    correct += row[t];
  }
  return { error: n ? 1 - correct / n : 0, correct, n, perClass, confusion, seconds };
}
