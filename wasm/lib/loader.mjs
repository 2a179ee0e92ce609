// loader.mjs: instantiating unravel.wasm. The standalone module (no
// Emscripten glue) imports three functions, supplied here: a progress report
// (ours), a clock (WASI clock_time_get, for unr_now_seconds) and a
// memory-growth notice. openInstance then checks the module's version
// against the binding's and lists the kernels it has.
import { UnravelError, argError, makeInternals, readCString } from './memory.mjs';

// Kernel variants are numbered by unr_isa (c/kernels/kernels.h), auto 0; the
// module names them (unr_wasm_isa_name, "unknown" past the last) and says
// which it has (unr_wasm_isa_available), so the list comes from it at load.
const ISA_AUTO = 0;
const MAX_ISAS = 64;      // a bound on the names loop, far above unr_isa's count

/**
 * The instance of a compiled module, bytes, or the file at `url`.
 * @param {{module?: WebAssembly.Module, wasmBytes?: ArrayBuffer|ArrayBufferView}} options
 * @param {() => URL} where the file's URL, asked for only when neither is given
 * @returns {Promise<{instance: WebAssembly.Instance, state: object}>}
 */
export async function instantiate(options, where) {
  const imports = makeImports();
  let instance;
  if (options.module) {
    instance = await WebAssembly.instantiate(options.module, imports.object);
  } else if (options.wasmBytes) {
    ({ instance } = await WebAssembly.instantiate(options.wasmBytes, imports.object));
  } else {
    instance = await instantiateUrl(where(), imports.object);
  }
  return { instance, state: imports.state };
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

/**
 * Start an instantiated module: its version must be `version`; isaName
 * picks the kernels of every runner ('auto' or one the build has).
 * @returns {{it: import('./memory.mjs').Internals, built: string, isa: string}}
 *   built: the version it reports; isa: the kernels runners use
 */
export function openInstance(instance, state, isaName, version) {
  const x = instance.exports;
  state.memory = x.memory;
  x._initialize();
  const cString = (ptr) => readCString(new Uint8Array(x.memory.buffer), ptr);
  const built = cString(x.unr_wasm_version());
  if (built !== version)
    throw new UnravelError(`unravel: unravel.wasm is version ${built} but unravel.mjs is ${version}: ` +
                           'load the unravel.wasm of the same release', 'unsupported');
  const err = x.unr_wasm_error_new();
  if (!err)
    throw new UnravelError('unravel: out of memory at start-up', 'nomem');

  // The ISAs this build has, auto first, by name.
  const isas = new Map();
  for (let i = 0; i < MAX_ISAS; i++) {
    const name = cString(x.unr_wasm_isa_name(i));
    if (name === 'unknown')
      break;
    if (x.unr_wasm_isa_available(i))
      isas.set(name, i);
  }
  const isa = typeof isaName === 'string' ? isas.get(isaName) : undefined;
  if (isa === undefined) {
    const names = [...isas.keys()];
    throw argError(`isa: '${isaName}' is not ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`);
  }
  const used = isa === ISA_AUTO ? x.unr_wasm_best_isa() : isa;
  if (!x.unr_wasm_isa_available(used))
    throw new UnravelError(`unravel: the ${cString(x.unr_wasm_isa_name(used))} ` +
                           'kernels are not in this build', 'unsupported');
  const registry = typeof FinalizationRegistry !== 'undefined'
    ? new FinalizationRegistry((free) => free()) : null;
  const it = makeInternals(x, state, { err, isa, registry, ...experimentTable(x, cString) });
  return { it, built, isa: cString(x.unr_wasm_isa_name(used)) };
}

// The C registry the CLI's options come from too (c/experiments.c,
// unr_wasm_experiments_json), so the two agree: each experiment's defaults by
// its JS name ({ lesionSingle: { batch: 100, ... }, pathStats: { samples: 100, ... } })
// and each parameter's range ({ samples: { min, max, real }, ... }).
function experimentTable(x, cString) {
  const text = x.unr_wasm_experiments_json();
  if (!text)
    throw new UnravelError('unravel: out of memory at start-up', 'nomem');
  const registry = JSON.parse(cString(text));
  x.free(text);
  return {
    defaults: Object.freeze(Object.fromEntries(registry.experiments.map((e) => [e.js_name, Object.freeze(e.params)]))),
    params: Object.freeze(Object.fromEntries(registry.params.map((p) => [p.name, Object.freeze(p)]))),
  };
}
