// unravel.mjs: the JavaScript API of unravel, over unravel.wasm.
//
// One ES module for browsers, Web Workers and Node 20. It instantiates the
// standalone unravel.wasm itself (no Emscripten glue), supplies the three
// functions the module imports, and wraps the C surface of c/wasm_api.c in a
// small object API:
//
//   const unravel = await loadUnravel();            // finds unravel.wasm beside this file
//   const model = unravel.loadModel(manifestJson, weightsArrayBuffer, { name: 'resnet20' });
//   const data = unravel.loadCifar(testBatchArrayBuffer);
//   const res = model.evaluate(data, { deleted: [3], limit: 1000 });   // { error, correct, ... }
//   const logits = model.forward(data, { start: 0, count: 10 });      // Float32Array [10 * 10]
//   const net = unravel.importCheckpoint(ptBytes, { name: 'resnet20.th', mean, std });  // a PyTorch checkpoint
//   const { manifest, weights } = net.serialize();                    // as NAME.json + NAME.bin
//   data.dispose(); model.dispose();
//
// Calls are synchronous (run them in a Web Worker to keep a page responsive);
// long ones take an onProgress(done, total) callback that may return true to
// cancel. Every failure in C becomes an UnravelError carrying the C message,
// and the module keeps working afterwards. Objects hold WASM memory until
// their dispose() (a FinalizationRegistry frees what is forgotten, late).

// Kernel variants are numbered by unr_isa (c/kernels/kernels.h), auto 0; the
// module names them (unr_wasm_isa_name, "unknown" past the last) and says
// which it has (unr_wasm_isa_available), so the list comes from it at load.
const ISA_AUTO = 0;
const MAX_ISAS = 64;      // a bound on the names loop, far above unr_isa's count
const NUM_CLASSES = 10;
const IMAGE_SIDE = 32;
const IMAGE_BYTES = 3 * IMAGE_SIDE * IMAGE_SIDE;
const DEFAULT_BATCH = 100;
// Activation memory one instance may hold for a C batch. The heap is capped
// at 2 GB and a page runs several workers, so a big imported net (a Wide
// ResNet-28-10 keeps ~11 MB of activations per image in a lesion sweep) is
// run in smaller batches; evaluation and lesion results do not depend on
// the batch. Path statistics, whose batch is part of the experiment, refuse
// a batch over PATHS_BUDGET instead.
const ACTIVATION_BUDGET = 256 * 2 ** 20;
const PATHS_BUDGET = 1024 * 2 ** 20;
// deleteRandom / swapRandom: plans that share one unmodified forward pass
// (the C side's limit), and the plan x image passes of one step.
const RANDOM_GROUP = 256;
const STEP_PLAN_IMAGES = 1024;
const MAX_RANDOM_DRAWS = 1e6;   // UNR_MAX_RANDOM_DRAWS, as the CLI

function checkBatch(batch) {
  if (!Number.isInteger(batch) || batch < 1 || batch > 4096)
    throw argError(`batch: ${batch} is outside 1..4096`);
  return batch;
}

/**
 * This module's version, e.g. "0.1.0": package.json's version and the C
 * library's UNR_VERSION_STRING (which unravel.wasm reports, and loadUnravel
 * checks against this). tests/version.test.mjs holds them equal.
 */
export const version = '0.1.0';

/** CIFAR-10 class names, by label. */
export const CIFAR10_CLASSES = Object.freeze([
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
]);

// ---- errors ----

/**
 * An error reported by the C core (or a bad argument caught in JS first).
 * `status` is the C status name: 'parse', 'field', 'shape', 'range',
 * 'checksum', 'nonfinite', 'plan', 'nomem', 'cancelled', 'unsupported',
 * or 'argument' for a JS-side check, 'trap' for a WebAssembly trap.
 */
export class UnravelError extends Error {
  /**
   * @param {string} message
   * @param {string} status
   * @param {number} [code] the C unr_status value, or -1
   */
  constructor(message, status, code = -1) {
    super(message);
    this.name = 'UnravelError';
    /** @type {string} */
    this.status = status;
    /** @type {number} */
    this.code = code;
  }
}

function argError(message) {
  return new UnravelError(message, 'argument');
}

// ---- loading the module ----

/**
 * @typedef {object} LoadOptions
 * @property {ArrayBuffer|ArrayBufferView} [wasmBytes] the module's bytes
 * @property {WebAssembly.Module} [module] an already compiled module (e.g. sent to a worker)
 * @property {string|URL} [wasmUrl] where to fetch it (default: unravel.wasm beside this file)
 * @property {'auto'|'scalar'|'wasmsimd'} [isa] kernels for every runner (default 'auto')
 */

/**
 * Load and instantiate unravel.wasm.
 * @param {LoadOptions} [options]
 * @returns {Promise<Unravel>}
 */
export async function loadUnravel(options = {}) {
  const isa = options.isa ?? 'auto';     // checked against the module's own list
  const imports = makeImports();
  let instance;
  if (options.module) {
    instance = await WebAssembly.instantiate(options.module, imports.object);
  } else if (options.wasmBytes) {
    ({ instance } = await WebAssembly.instantiate(options.wasmBytes, imports.object));
  } else {
    const url = options.wasmUrl ? new URL(options.wasmUrl, import.meta.url)
      : new URL('./unravel.wasm', import.meta.url);
    instance = await instantiateUrl(url, imports.object);
  }
  return new Unravel(instance, imports, isa);
}

async function instantiateUrl(url, importObject) {
  if (url.protocol === 'file:' && typeof process !== 'undefined' && process.versions?.node) {
    const { readFile } = await import('node:fs/promises');
    const { fileURLToPath } = await import('node:url');
    const bytes = await readFile(fileURLToPath(url));
    return (await WebAssembly.instantiate(bytes, importObject)).instance;
  }
  const response = await fetch(url);
  if (!response.ok)
    throw new Error(`unravel: cannot fetch ${url}: HTTP ${response.status}`);
  if (WebAssembly.instantiateStreaming &&
      response.headers.get('Content-Type')?.startsWith('application/wasm'))
    return (await WebAssembly.instantiateStreaming(response, importObject)).instance;
  return (await WebAssembly.instantiate(await response.arrayBuffer(), importObject)).instance;
}

// The module imports three functions: a progress report (ours), a clock
// (WASI clock_time_get, for unr_now_seconds) and a memory-growth notice.
function makeImports() {
  const state = {
    memory: null,        // set once instantiated
    onGrow: () => {},
    progress: new Map(), // id -> { fn, thrown }
  };
  const now = typeof performance !== 'undefined' ? () => performance.now() : () => Date.now();
  const object = {
    env: {
      unr_js_progress(id, done, total) {
        const entry = state.progress.get(id);
        if (!entry)
          return 0;
        try {
          return entry.fn(done, total) === true ? 1 : 0;
        } catch (e) {
          entry.thrown = { error: e };   // rethrown once the C call returns
          return 1;
        }
      },
      emscripten_notify_memory_growth() {
        state.onGrow();
      },
    },
    wasi_snapshot_preview1: {
      // (clock id, precision: i64, out: *u64 nanoseconds) -> errno
      clock_time_get(clockId, precision, out) {
        const ms = clockId === 0 ? Date.now() : now();
        new DataView(state.memory.buffer).setBigUint64(out, BigInt(Math.round(ms * 1e6)), true);
        return 0;
      },
    },
  };
  return { object, state };
}

// ---- the module ----

/** One instance of unravel.wasm: its memory, its kernels, its objects. */
export class Unravel {
  #x;          // the module's exports
  #state;
  #isa;
  #err;        // unr_error *, allocated once
  #u8 = null;  // views into memory, refreshed after growth
  #nextProgressId = 1;
  #registry;
  #it = null;  // what Model and CifarData need, made once

  /** @internal use loadUnravel() */
  constructor(instance, imports, isaName) {
    this.#x = instance.exports;
    this.#state = imports.state;
    this.#state.memory = this.#x.memory;
    this.#state.onGrow = () => { this.#u8 = null; };
    this.#x._initialize();
    const built = this.#string(this.#x.unr_wasm_version());
    if (built !== version)
      throw new UnravelError(`unravel: unravel.wasm is version ${built} but unravel.mjs is ${version}: ` +
                             'load the unravel.wasm of the same release', 'unsupported');
    this.#err = this.#x.unr_wasm_error_new();
    if (!this.#err)
      throw new UnravelError('unravel: out of memory at start-up', 'nomem');
    this.#registry = typeof FinalizationRegistry !== 'undefined'
      ? new FinalizationRegistry((free) => free()) : null;

    // The ISAs this build has, auto first, by name.
    const isas = new Map();
    for (let i = 0; i < MAX_ISAS; i++) {
      const name = this.#string(this.#x.unr_wasm_isa_name(i));
      if (name === 'unknown')
        break;
      if (this.#x.unr_wasm_isa_available(i))
        isas.set(name, i);
    }
    const isa = typeof isaName === 'string' ? isas.get(isaName) : undefined;
    if (isa === undefined) {
      const names = [...isas.keys()];
      throw argError(`isa: '${isaName}' is not ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`);
    }
    this.#isa = isa;
    const best = this.#x.unr_wasm_best_isa();
    const used = isa === ISA_AUTO ? best : isa;
    if (!this.#x.unr_wasm_isa_available(used))
      throw new UnravelError(`unravel: the ${this.#string(this.#x.unr_wasm_isa_name(used))} ` +
                             'kernels are not in this build', 'unsupported');
    /** The library version unravel.wasm reports, e.g. "0.1.0" (equal to `version`). @type {string} */
    this.version = built;
    /** Kernels runners use: "wasmsimd" or "scalar". @type {string} */
    this.isa = this.#string(this.#x.unr_wasm_isa_name(used));
    /** Whether the WASM SIMD128 kernels are in use. @type {boolean} */
    this.simd = this.isa === 'wasmsimd';
    Object.freeze(this);
  }

  /** Bytes of WASM memory now reserved (it only grows). @type {number} */
  get memoryBytes() { return this.#x.memory.buffer.byteLength; }

  /**
   * Parse and validate a model: its manifest (JSON text or object) and
   * weights (.bin). Throws UnravelError naming the field or tensor at fault.
   * @param {string|object} manifest
   * @param {ArrayBuffer|ArrayBufferView} weights
   * @param {{name?: string}} [options] name: used in error messages
   * @returns {Model}
   */
  loadModel(manifest, weights, options = {}) {
    const text = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
    if (typeof text !== 'string')
      throw argError('loadModel: the manifest must be JSON text or an object');
    const bytes = asBytes(weights, 'loadModel: weights');
    const name = String(options.name ?? 'model');
    const x = this.#x;
    const mText = this.#copyIn(new TextEncoder().encode(text));
    const wBytes = this.#copyIn(bytes);
    const src = this.#copyIn(new TextEncoder().encode(name + '\0'));
    let ptr;
    try {
      ptr = this.#call(() => x.unr_wasm_model_load(mText.ptr, mText.len, wBytes.ptr, wBytes.len,
                                                   src.ptr, this.#err));
    } finally {
      x.free(src.ptr);
      x.free(wBytes.ptr);
      x.free(mText.ptr);
    }
    if (!ptr)
      this.#throwLast();
    return this.#model(ptr, []);
  }

  /**
   * Read a PyTorch checkpoint into a model, in C, without PyTorch (as
   * `unravel import` does): the zip of torch.save, the legacy torch.save
   * stream (.th) or a safetensors file, float32 tensors; the state dict bare
   * or under state_dict / model / net, with or without "module.". The
   * architecture is read off the names and shapes. A state dict holds no
   * input normalisation: without mean and std, CIFAR-10's are taken and
   * model.warnings says so. Throws UnravelError with the C message, which
   * names the zip entry, pickle offset or tensor at fault.
   * @param {ArrayBuffer|ArrayBufferView} bytes the checkpoint file
   * @param {ImportOptions} [options]
   * @returns {Model} with `warnings`; model.serialize() gives unravel's own files
   */
  importCheckpoint(bytes, options = {}) {
    const b = asBytes(bytes, 'importCheckpoint');
    const o = importOptions(options);
    const x = this.#x;
    const enc = (s) => this.#copyIn(new TextEncoder().encode(s + '\0'));
    const data = this.#copyIn(b);
    const src = enc(o.source);
    const name = o.modelName == null ? null : enc(o.modelName);
    const norm = o.norm ? this.#copyIn(new Uint8Array(new Float32Array(o.norm).buffer)) : null;
    const stages = this.#copyIn(new Uint8Array(new Int32Array(o.stageBlocks).buffer));
    const warnCap = 1024;
    const warn = this.#malloc(warnCap);
    let ptr, warnings;
    try {
      this.#heap()[warn] = 0;
      ptr = this.#call(() => x.unr_wasm_model_import_checkpoint(
        data.ptr, data.len, src.ptr, norm ? norm.ptr : 0, o.shortcut, o.block, stages.ptr,
        o.stageBlocks.length, o.bnEps, name ? name.ptr : 0, warn, warnCap, this.#err));
      warnings = this.#string(warn).split('\n').filter(Boolean);
    } finally {
      for (const p of [warn, stages.ptr, norm?.ptr, name?.ptr, src.ptr, data.ptr])
        if (p)
          x.free(p);
    }
    if (!ptr)
      this.#throwLast();
    return this.#model(ptr, warnings);
  }

  // A Model around a loaded unr_model * (freed here if its info fails).
  #model(ptr, warnings) {
    const x = this.#x;
    let info;
    try {
      const infoPtr = this.#call(() => x.unr_wasm_model_info(ptr, this.#err));
      if (!infoPtr)
        this.#throwLast();
      const json = this.#string(infoPtr);
      x.free(infoPtr);
      info = modelInfo(JSON.parse(json));
    } catch (e) {
      x.unr_wasm_model_free(ptr);
      throw e;
    }
    return new Model(this.#internals(), ptr, info, warnings);
  }

  /**
   * Parse CIFAR-10 binary records (3073 bytes each: label, then R, G, B
   * planes of 32x32). The bytes are copied into WASM memory.
   * @param {ArrayBuffer|ArrayBufferView} bytes
   * @param {{name?: string}} [options] name: used in error messages
   * @returns {CifarData}
   */
  loadCifar(bytes, options = {}) {
    const b = asBytes(bytes, 'loadCifar');
    const x = this.#x;
    const data = this.#copyIn(b);
    const src = this.#copyIn(new TextEncoder().encode(String(options.name ?? 'cifar') + '\0'));
    let ptr;
    try {
      ptr = this.#call(() => x.unr_wasm_cifar_load(data.ptr, data.len, src.ptr, this.#err));
    } finally {
      x.free(src.ptr);
      x.free(data.ptr);
    }
    if (!ptr)
      this.#throwLast();
    return new CifarData(this.#internals(), ptr);
  }

  // ---- internals shared with Model and CifarData ----

  #internals() {
    if (!this.#it) {
      const self = this;
      /** @type {Internals} */
      const it = {
        x: this.#x,
        err: this.#err,
        isa: this.#isa,
        registry: this.#registry,
        u8: () => self.#heap(),
        call: (fn) => self.#call(fn),
        check: (status) => { if (status) self.#throwLast(); },
        malloc: (n) => self.#malloc(n),
        string: (ptr) => self.#string(ptr),
        withProgress: (fn, body) => self.#withProgress(fn, body),
      };
      this.#it = it;
    }
    return this.#it;
  }

  #heap() {
    if (!this.#u8 || this.#u8.buffer !== this.#x.memory.buffer)
      this.#u8 = new Uint8Array(this.#x.memory.buffer);
    return this.#u8;
  }

  #malloc(n) {
    const ptr = this.#x.malloc(Math.max(1, n));
    if (!ptr)
      throw new UnravelError(`unravel: out of WASM memory for ${n} bytes`, 'nomem');
    return ptr;
  }

  #copyIn(bytes) {
    const ptr = this.#malloc(bytes.length);
    this.#heap().set(bytes, ptr);
    return { ptr, len: bytes.length };
  }

  #string(ptr) {
    const u8 = this.#heap();
    let end = ptr;
    while (u8[end] !== 0)
      end++;
    return new TextDecoder().decode(u8.subarray(ptr, end));
  }

  // A C call; a trap becomes an UnravelError. After a trap the C heap may be
  // inconsistent, so say so: load a fresh module to go on.
  #call(fn) {
    try {
      return fn();
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError)
        throw new UnravelError(`unravel: WebAssembly trap (${e.message}); this module instance ` +
                               'may be inconsistent, load a new one', 'trap');
      throw e;
    }
  }

  #throwLast() {
    const x = this.#x;
    const code = x.unr_wasm_error_status(this.#err);
    const message = this.#string(x.unr_wasm_error_message(this.#err)) || 'unknown error';
    throw new UnravelError(message, this.#string(x.unr_wasm_status_name(code)), code);
  }

  // Run body(progressId) with fn registered as the progress callback; an
  // exception thrown by fn cancels the C call and is rethrown here.
  #withProgress(fn, body) {
    if (!fn)
      return body(0);
    if (typeof fn !== 'function')
      throw argError('onProgress: expected a function');
    const id = this.#nextProgressId++;
    const entry = { fn, thrown: null };
    this.#state.progress.set(id, entry);
    try {
      const result = body(id);
      if (entry.thrown)
        throw entry.thrown.error;
      return result;
    } catch (e) {
      if (entry.thrown)
        throw entry.thrown.error;
      throw e;
    } finally {
      this.#state.progress.delete(id);
    }
  }
}

/**
 * @typedef {object} Internals
 * @property {any} x the module's exports
 * @property {number} err unr_error *
 * @property {number} isa
 * @property {FinalizationRegistry<() => void>|null} registry
 * @property {() => Uint8Array} u8 the memory as bytes (fresh after growth)
 * @property {<T>(fn: () => T) => T} call
 * @property {(status: number) => void} check throws the last C error if status != 0
 * @property {(n: number) => number} malloc
 * @property {(ptr: number) => string} string a NUL-terminated C string
 * @property {<T>(fn: Function|undefined, body: (id: number) => T) => T} withProgress
 */

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

// A model's name as a plain file name: what the page's file pairing and
// fetchWeights accept ([A-Za-z0-9._-]).
function fileStem(name) {
  return String(name).replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'model';
}

function asBytes(b, what) {
  if (b instanceof ArrayBuffer)
    return new Uint8Array(b);
  if (ArrayBuffer.isView(b))
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  throw argError(`${what}: expected an ArrayBuffer or a typed array`);
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

/** A validated model with its folded weights in WASM memory. */
export class Model {
  #it;
  #h;          // { model, plan, runner, batch }: pointers, shared with the finaliser
  #token = {};

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
    const conf = it.malloc(4 * NUM_CLASSES * NUM_CLASSES);
    const secs = it.malloc(8);
    const pred = predictions ? it.malloc(n) : 0;
    try {
      const st = it.withProgress(onProgress, (id) =>
        it.call(() => x.unr_wasm_evaluate(runner, this.#h.plan, dataPtr, limit, id, pred, conf, secs,
                                          it.err)));
      it.check(st);
      const u8 = it.u8();
      const flat = new Int32Array(u8.buffer.slice(conf, conf + 4 * NUM_CLASSES * NUM_CLASSES));
      const seconds = new DataView(u8.buffer).getFloat64(secs, true);
      const r = evalResult(flat, seconds);
      if (predictions)
        r.predictions = u8.slice(pred, pred + n);
      return r;
    } finally {
      if (pred)
        x.free(pred);
      x.free(secs);
      x.free(conf);
    }
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
    const out = it.malloc(bytes);
    try {
      it.check(it.call(() => x.unr_wasm_forward(runner, this.#h.plan, dataPtr, start, count, out,
                                                it.err)));
      return new Float32Array(it.u8().buffer.slice(out, out + bytes));
    } finally {
      x.free(out);
    }
  }

  /**
   * Check a plan without running anything; throws UnravelError with the
   * reason if it is invalid.
   * @param {PlanOptions} plan
   */
  validatePlan(plan) {
    this.#writePlan(plan);
  }

  // ---- experiments (PAPER.md) ----
  // Each runs one C step at a time (a batch, a draw, a sample) and yields to
  // the event loop in between, so progress is reported, a worker stays
  // responsive, and cancellation (options.signal, or onProgress returning
  // true) takes effect between steps. Random draws depend only on
  // (seed, k, sample), exactly as in the CLI.

  /**
   * Test error with each block deleted alone (claim 2), on top of an
   * optional base plan. Activations before each deleted block are reused.
   * @param {CifarData} data
   * @param {PlanOptions & ExperimentOptions & {limit?: number, batch?: number}} [options]
   * @returns {Promise<LesionResult>}
   */
  async lesionSingle(data, options = {}) {
    const { limit = 0 } = options;
    const batch = this.#memoryBatch(checkBatch(options.batch ?? DEFAULT_BATCH), true);
    const it = this.#it, x = it.x, nb = this.numBlocks;
    const dataPtr = checkData(data);
    const total = limit > 0 && limit < data.n ? limit : data.n;
    const sums = new Float64Array(nb + 1);
    const flipSums = new Float64Array(2 * nb);
    const correct = it.malloc(4 * (nb + 1));
    const flips = it.malloc(4 * 2 * nb);
    const run = it.malloc(8);
    const stepper = new Stepper(options);
    try {
      new DataView(it.u8().buffer).setFloat64(run, 0, true);
      for (let at = 0; at < total; at += batch) {
        const n = Math.min(batch, total - at);
        const runner = this.#runner(batch);
        this.#writePlan(options);
        it.check(it.call(() => x.unr_wasm_lesion_batch(runner, this.#h.plan, dataPtr, at, n,
                                                       correct, flips, run, it.err)));
        const c = new Int32Array(it.u8().buffer, correct, nb + 1);
        for (let b = 0; b <= nb; b++)
          sums[b] += c[b];
        const f = new Int32Array(it.u8().buffer, flips, 2 * nb);
        for (let i = 0; i < 2 * nb; i++)
          flipSums[i] += f[i];
        await stepper.step(at + n, total);
      }
      const blocksRun = new DataView(it.u8().buffer).getFloat64(run, true);
      const c = new Int32Array(it.u8().buffer.slice(correct, correct + 4 * (nb + 1)));
      return {
        n: total,
        full: { error: 1 - sums[nb] / total },
        blocks: this.info.blocks.map((bi, b) => {
          const block = { block: b, stage: bi.stage, downsample: bi.downsample, deletable: c[b] >= 0,
                          error: c[b] >= 0 ? 1 - sums[b] / total : null };
          if (c[b] < 0)
            return block;
          const wrong = flipSums[2 * b], right = flipSums[2 * b + 1];
          return { ...block, turnedWrong: wrong, turnedRight: right, ci95: pairedCi95(total, wrong, right) };
        }),
        forwardEquivalents: blocksRun / Math.ceil(total / batch) / nb,
      };
    } finally {
      x.free(run);
      x.free(flips);
      x.free(correct);
    }
  }

  /**
   * Error after deleting k random blocks, for each k (claim 3).
   * @param {CifarData} data
   * @param {ExperimentOptions & {ks?: number[], samples?: number, seed?: number,
   *         limit?: number, batch?: number}} [options]
   * @returns {Promise<{points: CurvePoint[], n: number}>} n: the images measured
   */
  deleteRandom(data, options = {}) {
    return this.#randomCurve(0, data, options);
  }

  /**
   * Error after k random swaps of same-stage, non-downsampling blocks, with
   * the Kendall's tau of the orders (claim 3).
   * @param {CifarData} data
   * @param {ExperimentOptions & {ks?: number[], samples?: number, seed?: number,
   *         limit?: number, batch?: number}} [options]
   * @returns {Promise<{points: CurvePoint[], n: number}>} n: the images measured
   */
  swapRandom(data, options = {}) {
    return this.#randomCurve(1, data, options);
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
    const tau = it.malloc(8);
    try {
      it.check(it.call(() => x.unr_wasm_draw_plan(h.model, kind === 'swap' ? 1 : 0, k, seed,
                                                   sample, h.plan, tau, it.err)));
      const u8 = it.u8();
      const order = Array.from(new Int32Array(u8.buffer, x.unr_wasm_plan_order(h.plan), nb));
      const del = u8.subarray(x.unr_wasm_plan_deleted(h.plan), x.unr_wasm_plan_deleted(h.plan) + nb);
      const deleted = [];
      del.forEach((v, b) => { if (v) deleted.push(b); });
      return { order, deleted, tau: new DataView(u8.buffer).getFloat64(tau, true) };
    } finally {
      x.free(tau);
    }
  }

  async #randomCurve(kind, data, options) {
    const name = kind ? 'swapRandom' : 'deleteRandom';
    const { samples = 10, seed = 1, limit = 0 } = options;
    const most = kind ? this.maxSwaps : this.maxDeletions;
    const ks = options.ks ?? Array.from({ length: most + 1 }, (_, k) => k);
    checkSeed(name, seed);
    if (!Number.isInteger(samples) || samples < 1 || samples > 1e6)
      throw argError(`${name}: samples: ${samples} is outside 1..1000000`);
    if (!Number.isInteger(limit) || limit < 0)
      throw argError(`${name}: limit: ${limit} is not a whole number >= 0`);
    for (const k of ks)
      if (!Number.isInteger(k) || k < 0 || k > most)
        throw argError(`${name}: k = ${k} is outside 0..${most}`);
    if (ks.length * samples > MAX_RANDOM_DRAWS)
      throw argError(`${name}: ${ks.length} ks x ${samples} samples = ${ks.length * samples} draws is over ` +
                     `the limit of ${MAX_RANDOM_DRAWS}`);
    const it = this.#it, x = it.x;
    const dataPtr = checkData(data);
    const batch = this.#memoryBatch(checkBatch(options.batch ?? DEFAULT_BATCH), true);
    const total = limit > 0 && limit < data.n ? limit : data.n;
    // Plans in groups that share each step's unmodified forward pass (as
    // the CLI's unr_random_curve does); a step is a slice of images small
    // enough that the whole group on it stays near STEP_PLAN_IMAGES image
    // passes, so progress and cancellation stay prompt.
    const nplans = ks.length * samples;
    const right = new Float64Array(nplans), taus = new Float64Array(nplans);
    const group = Math.min(nplans, RANDOM_GROUP);
    const kPtr = it.malloc(4 * group), sPtr = it.malloc(4 * group);
    const correct = it.malloc(4 * group), tauPtr = it.malloc(8 * group);
    const stepper = new Stepper(options);
    try {
      for (let p0 = 0; p0 < nplans; p0 += group) {
        const g = Math.min(group, nplans - p0);
        const kv = new Int32Array(it.u8().buffer, kPtr, g), sv = new Int32Array(it.u8().buffer, sPtr, g);
        for (let j = 0; j < g; j++) {
          kv[j] = ks[Math.floor((p0 + j) / samples)];
          sv[j] = (p0 + j) % samples;
        }
        const step = Math.max(1, Math.min(batch, Math.floor(STEP_PLAN_IMAGES / g)));
        for (let at = 0; at < total; at += step) {
          const n = Math.min(step, total - at);
          const runner = this.#runner(batch);
          it.check(it.call(() => x.unr_wasm_random_batch(runner, kind, dataPtr, at, n, kPtr, sPtr, g,
                                                         seed, correct, tauPtr, it.err)));
          const c = new Int32Array(it.u8().buffer, correct, g);
          for (let j = 0; j < g; j++)
            right[p0 + j] += c[j];
          taus.set(new Float64Array(it.u8().buffer, tauPtr, g), p0);
          await stepper.step(p0 * total + g * (at + n), nplans * total);
        }
      }
    } finally {
      for (const ptr of [kPtr, sPtr, correct, tauPtr])
        x.free(ptr);
    }
    return {
      points: ks.map((k, i) => {
        const at = i * samples;
        const errors = Array.from(right.subarray(at, at + samples), (r) => (total ? 1 - r / total : 0));
        const point = { k, ...summarize(errors), errors };
        if (kind) {
          point.taus = Array.from(taus.subarray(at, at + samples));
          point.tau = summarize(point.taus).mean;
        }
        return point;
      }),
      n: total,
    };
  }

  /**
   * Path lengths, gradient norm per path length and the effective window
   * (claims 4-6). Sample s draws a batch of images by (seed, s), runs the
   * network forward once, then for each k = 0..n back-propagates through
   * the residual branches of k random blocks and the shortcuts of the rest.
   * @param {CifarData} data
   * Samples firstSample .. firstSample+samples-1 are taken (so workers can
   * share the draws of one run), batches from the first `limit` images.
   * @param {ExperimentOptions & {samples?: number, seed?: number, batch?: number,
   *         q?: number, limit?: number, firstSample?: number}} [options]
   * @returns {Promise<PathStats>}
   */
  async pathStats(data, options = {}) {
    const { samples = 20, seed = 1, batch = 32, q = 0.9, limit = 0, firstSample = 0, bootstrap = 1000 } = options;
    const it = this.#it, x = it.x, n = this.numBlocks;
    const dataPtr = checkData(data);
    checkSeed('pathStats', seed);
    if (!Number.isInteger(samples) || samples < 1 || samples > 1e6)
      throw argError(`pathStats: samples: ${samples} is outside 1..1000000`);
    if (!(q > 0 && q <= 1))
      throw argError(`pathStats: q: ${q} is outside (0, 1]`);
    if (!Number.isInteger(limit) || limit < 0)
      throw argError(`pathStats: limit: ${limit} is not a whole number >= 0`);
    if (!Number.isInteger(firstSample) || firstSample < 0)
      throw argError(`pathStats: firstSample: ${firstSample} is not a whole number >= 0`);
    checkBatch(batch);
    const need = batch * this.#bytesPerImage(true);
    if (need > PATHS_BUDGET)
      throw argError(`pathStats: batch: ${batch} images need ${Math.round(need / 2 ** 20)} MB of activations ` +
                     `for this model, over the ${PATHS_BUDGET / 2 ** 20} MB limit; use a batch of at most ` +
                     `${Math.floor(PATHS_BUDGET / this.#bytesPerImage(true))}`);
    const norms = Array.from({ length: n + 1 }, () => []);
    const out = it.malloc(8 * (n + 1));
    const stepper = new Stepper(options);
    try {
      for (let s = firstSample; s < firstSample + samples; s++) {
        const runner = this.#runner(batch);
        it.check(it.call(() => x.unr_wasm_paths_sample(runner, dataPtr, limit, batch, seed, s, out,
                                                       it.err)));
        const v = new Float64Array(it.u8().buffer, out, n + 1);
        for (let k = 0; k <= n; k++)
          norms[k].push(v[k]);
        await stepper.step(s + 1 - firstSample, samples);
      }
    } finally {
      x.free(out);
    }
    return this.pathSummary(norms, { q, seed, batch, bootstrap });
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
   * @returns {PathStats}
   */
  pathSummary(norms, { q = 0.9, seed, batch, bootstrap = 1000 } = {}) {
    const it = this.#it, x = it.x, n = this.numBlocks;
    if (!Array.isArray(norms) || norms.length !== n + 1)
      throw argError(`pathSummary: norms must have ${n + 1} rows (path lengths 0..${n})`);
    const samples = norms[0].length;
    if (!norms.every((row) => Array.isArray(row) && row.length === samples))
      throw argError(`pathSummary: every row of norms must have ${samples} samples`);
    if (!Number.isInteger(bootstrap) || bootstrap < 0 || bootstrap > 100000)
      throw argError(`pathSummary: bootstrap: ${bootstrap} is not a whole number in 0..100000`);
    if (seed !== undefined)
      checkSeed('pathSummary', seed);
    const stats = norms.map(summarize);
    const gradMean = stats.map((t) => t.mean);
    const dist = it.malloc(8 * (n + 1)), g = it.malloc(8 * (n + 1));
    const share = it.malloc(8 * (n + 1)), win = it.malloc(8 * 5);
    try {
      new Float64Array(it.u8().buffer, g, n + 1).set(gradMean);
      x.unr_wasm_path_distribution(n, dist);
      it.check(it.call(() => x.unr_wasm_effective_window(n, g, q, win, share, it.err)));
      const f64 = (ptr, len) => Array.from(new Float64Array(it.u8().buffer, ptr, len));
      const [a, b, qq, mass, shareOfPaths] = f64(win, 5);
      const window = { a, b, q: qq, mass, share: shareOfPaths };
      if (bootstrap > 0 && samples > 0)
        window.bootstrap = this.#windowBootstrap(norms, q, bootstrap, seed ?? 1);
      return {
        n, samples, batch, seed, norms,
        distribution: f64(dist, n + 1),
        gradMean,
        gradSd: stats.map((t) => t.sd),
        total: f64(share, n + 1),
        window,
      };
    } finally {
      x.free(win);
      x.free(share);
      x.free(g);
      x.free(dist);
    }
  }

  #windowBootstrap(norms, q, resamples, seed) {
    const it = this.#it, x = it.x, n = norms.length - 1, samples = norms[0].length;
    const flat = it.malloc(8 * (n + 1) * samples), out = it.malloc(8 * 8);
    try {
      const f = new Float64Array(it.u8().buffer, flat, (n + 1) * samples);
      norms.forEach((row, k) => f.set(row, k * samples));
      it.check(it.call(() => x.unr_wasm_window_bootstrap(n, flat, samples, q, resamples, seed, out, it.err)));
      const [r, aLo, aHi, bLo, bHi, sLo, sHi, same] = new Float64Array(it.u8().buffer, out, 8);
      return { resamples: r, level: 0.95, a: [aLo, aHi], b: [bLo, bHi], share: [sLo, sHi], same };
    } finally {
      x.free(out);
      x.free(flat);
    }
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
    const enc = (s) => {
      const b = new TextEncoder().encode(s + '\0');
      const ptr = it.malloc(b.length);
      it.u8().set(b, ptr);
      return ptr;
    };
    const namePtr = enc(name), filePtr = enc(file), out = it.malloc(8);
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
      for (const p of [text, weights, out, filePtr, namePtr])
        if (p)
          x.free(p);
    }
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

function checkData(data) {
  if (!(data instanceof CifarData))
    throw argError('data: expected the result of unravel.loadCifar()');
  return data.ptr;
}

/** Half-width of the 95% interval of a paired change of error: n images,
 *  answers turned wrong and right (unr_paired_ci95; the page's math.mjs has
 *  the same formula, for results merged across workers). */
function pairedCi95(n, wrong, right) {
  const d = wrong - right;
  const variance = n > 1 ? (wrong + right - (d * d) / n) / (n - 1) : 0;
  return 1.96 * Math.sqrt(variance / Math.max(1, n));
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

// ---- experiment helpers ----

/**
 * Progress and cancellation between the steps of an experiment.
 * @typedef {object} ExperimentOptions
 * @property {(done: number, total: number) => boolean|void} [onProgress] return true to cancel
 * @property {AbortSignal} [signal]
 */
class Stepper {
  #onProgress;
  #signal;
  constructor({ onProgress, signal } = {}) {
    if (onProgress != null && typeof onProgress !== 'function')
      throw argError('onProgress: expected a function');
    this.#onProgress = onProgress;
    this.#signal = signal;
    this.#check();
  }

  #check() {
    if (this.#signal?.aborted)
      throw new UnravelError('cancelled', 'cancelled');
  }

  async step(done, total) {
    if (this.#onProgress?.(done, total) === true)
      throw new UnravelError('cancelled', 'cancelled');
    // Let messages (a cancel, say) through between steps.
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.#check();
  }
}

function checkSeed(name, seed) {
  if (!Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER)
    throw argError(`${name}: seed: ${seed} is not a whole number >= 0`);
}

/** mean, sd (n-1), min, max, in the order the C core sums them. */
function summarize(v) {
  let s = 0, lo = Infinity, hi = -Infinity;
  for (const x of v) {
    s += x;
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  const mean = v.length ? s / v.length : 0;
  let ss = 0;
  for (const x of v)
    ss += (x - mean) * (x - mean);
  return { mean, sd: v.length > 1 ? Math.sqrt(ss / (v.length - 1)) : 0,
           min: v.length ? lo : 0, max: v.length ? hi : 0 };
}

/**
 * @typedef {object} LesionResult
 * @property {number} n images
 * @property {{error: number}} full the base plan
 * @property {{block: number, stage: number, downsample: boolean, deletable: boolean,
 *             error: number|null}[]} blocks error with each block deleted alone
 * @property {number} forwardEquivalents cost in full forward passes
 *
 * @typedef {object} CurvePoint
 * @property {number} k
 * @property {number} mean
 * @property {number} sd
 * @property {number} min
 * @property {number} max
 * @property {number} [tau] mean Kendall's tau (swaps)
 * @property {number[]} [taus] Kendall's tau of each draw (swaps)
 * @property {number[]} errors one per sample
 *
 * @typedef {object} PathStats
 * @property {number} n blocks
 * @property {number[]} distribution C(n,k)/2^n
 * @property {number[]} gradMean mean gradient norm per path length
 * @property {number[]} gradSd
 * @property {number[]} total share of the total gradient per length
 * @property {{a: number, b: number, q: number, mass: number, share: number,
 *             bootstrap?: WindowSpread}} window
 * @property {number[][]} norms every measurement, [length][sample]
 */

/**
 * @typedef {Object} WindowSpread how far the window moves with the draws: over
 *   `resamples` bootstrap resamples of the samples, the central 95% of the
 *   windows' first (a) and last (b) lengths and of their share of all paths,
 *   and the fraction whose window is the one above (same)
 * @property {number} resamples
 * @property {number} level
 * @property {[number, number]} a
 * @property {[number, number]} b
 * @property {[number, number]} share
 * @property {number} same
 */
