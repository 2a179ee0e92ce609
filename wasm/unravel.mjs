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
//
// This file is the entry point; the work is done in lib/ (docs/ARCHITECTURE.md):
//   lib/loader.mjs       instantiating the module, its imports, the version check
//   lib/memory.mjs       views, strings, allocations, C calls, UnravelError
//   lib/model.mjs        loading models and images; Model: plans, evaluate, forward, serialize
//   lib/experiments.mjs  lesions, random curves, path statistics
//   lib/stats.mjs        summaries, paired intervals, results from counts and their merges (in C)
import { instantiate, openInstance } from './lib/loader.mjs';
import { importCheckpoint, loadCifar, loadModel } from './lib/model.mjs';
import * as stats from './lib/stats.mjs';

export { UnravelError } from './lib/memory.mjs';
export { CifarData, CIFAR10_CLASSES, Model } from './lib/model.mjs';

/**
 * This module's version, e.g. "0.1.0": package.json's version and the C
 * library's UNR_VERSION_STRING (which unravel.wasm reports, and loadUnravel
 * checks against this). tests/version.test.mjs holds them equal.
 */
export const version = '0.1.0';

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
  // a relative wasmUrl is taken relative to this file
  const where = () => (options.wasmUrl ? new URL(options.wasmUrl, import.meta.url)
    : new URL('./unravel.wasm', import.meta.url));
  const { instance, state } = await instantiate(options, where);
  return new Unravel(instance, state, isa);
}

/** One instance of unravel.wasm: its memory, its kernels, its objects. */
export class Unravel {
  #it;         // Internals (lib/memory.mjs), shared with the Models and CifarData made here

  /** @internal use loadUnravel() */
  constructor(instance, state, isaName) {
    const { it, built, isa } = openInstance(instance, state, isaName, version);
    this.#it = it;
    /** The library version unravel.wasm reports, e.g. "0.1.0" (equal to `version`). @type {string} */
    this.version = built;
    /** Kernels runners use: "wasmsimd" or "scalar". @type {string} */
    this.isa = isa;
    /** Whether the WASM SIMD128 kernels are in use. @type {boolean} */
    this.simd = this.isa === 'wasmsimd';
    Object.freeze(this);
  }

  /** Bytes of WASM memory now reserved (it only grows). @type {number} */
  get memoryBytes() { return this.#it.x.memory.buffer.byteLength; }

  /**
   * Parse and validate a model: its manifest (JSON text or object) and
   * weights (.bin). Throws UnravelError naming the field or tensor at fault.
   * @param {string|object} manifest
   * @param {ArrayBuffer|ArrayBufferView} weights
   * @param {{name?: string}} [options] name: used in error messages
   * @returns {import('./lib/model.mjs').Model}
   */
  loadModel(manifest, weights, options = {}) {
    return loadModel(this.#it, manifest, weights, options);
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
   * @param {import('./lib/model.mjs').ImportOptions} [options]
   * @returns {import('./lib/model.mjs').Model} with `warnings`; model.serialize() gives unravel's own files
   */
  importCheckpoint(bytes, options = {}) {
    return importCheckpoint(this.#it, bytes, options);
  }

  /**
   * Parse CIFAR-10 binary records (3073 bytes each: label, then R, G, B
   * planes of 32x32). The bytes are copied into WASM memory.
   * @param {ArrayBuffer|ArrayBufferView} bytes
   * @param {{name?: string}} [options] name: used in error messages
   * @returns {import('./lib/model.mjs').CifarData}
   */
  loadCifar(bytes, options = {}) {
    return loadCifar(this.#it, bytes, options);
  }

  // ---- numbers, computed by the C core (lib/stats.mjs); no model needed ----

  /**
   * mean, sd (n-1), min and max of values, as the CLI and every result here
   * summarise draws (unr_summarize).
   * @param {ArrayLike<number>} values
   * @returns {{mean: number, sd: number, min: number, max: number}}
   */
  summarize(values) {
    return stats.summarize(this.#it, values);
  }

  /**
   * Half-width of the 95% interval of a change of error measured on the
   * same n images, from the answers it turned wrong and right
   * (unr_paired_ci95).
   * @param {number} n
   * @param {number} turnedWrong
   * @param {number} turnedRight
   * @returns {number}
   */
  pairedCi95(n, turnedWrong, turnedRight) {
    return stats.pairedCi95(this.#it, n, turnedWrong, turnedRight);
  }

  /**
   * The change of error from a base plan to another on the same images,
   * paired image by image from their predictions (evaluate's
   * `predictions`), as `unravel eval` reports it under a plan.
   * @param {ArrayLike<number>} base predicted classes under the base plan
   * @param {ArrayLike<number>} plan predicted classes under the plan, same images
   * @param {ArrayLike<number>} labels true classes (at least as many)
   * @returns {{n: number, turnedWrong: number, turnedRight: number, wrongImages: number[],
   *            rightImages: number[], change: number, ci95: number}}
   */
  pairedChange(base, plan, labels) {
    return stats.pairedChange(this.#it, base, plan, labels);
  }

  /**
   * Kendall's tau between the network order and `order` (block id at each
   * position), as drawPlan and swapRandom report it.
   * @param {ArrayLike<number>} order
   * @returns {number}
   */
  kendallTau(order) {
    return stats.kendallTau(this.#it, order);
  }

  /**
   * lesionSingle results of disjoint image ranges (e.g. from several
   * workers) merged into the result of one call on them all: their counts
   * summed, errors and paired intervals computed from the sums.
   * @param {import('./lib/experiments.mjs').LesionResult[]} parts
   * @returns {import('./lib/experiments.mjs').LesionResult}
   */
  mergeLesion(parts) {
    return stats.mergeLesion(this.#it, parts);
  }

  /**
   * deleteRandom / swapRandom results of disjoint image ranges, every draw
   * run on each, merged into the result of one call on them all.
   * @param {{points: import('./lib/experiments.mjs').CurvePoint[], n: number}[]} parts
   * @returns {{points: import('./lib/experiments.mjs').CurvePoint[], n: number}}
   */
  mergeCurves(parts) {
    return stats.mergeCurves(this.#it, parts);
  }
}
