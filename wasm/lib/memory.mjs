// memory.mjs: the binding's view of one unravel.wasm instance's memory and
// errors. Every other module of the binding reaches the C side through the
// Internals object made here (makeInternals): byte and number views that
// follow memory growth, C strings, allocations freed whatever happens
// (withAllocations), C calls whose traps and failures become UnravelErrors,
// and the progress callbacks long calls report to.

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

export function argError(message) {
  return new UnravelError(message, 'argument');
}

/** Bytes of an ArrayBuffer or a typed array, as a Uint8Array over the same memory. */
export function asBytes(b, what) {
  if (b instanceof ArrayBuffer)
    return new Uint8Array(b);
  if (ArrayBuffer.isView(b))
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  throw argError(`${what}: expected an ArrayBuffer or a typed array`);
}

// ---- one instance's memory ----

/** The NUL-terminated string at ptr in u8 (a view of a module's memory). */
export function readCString(u8, ptr) {
  let end = ptr;
  while (u8[end] !== 0)
    end++;
  return new TextDecoder().decode(u8.subarray(ptr, end));
}

/**
 * What the binding's modules need of one instance, made once per instance.
 * @typedef {object} Internals
 * @property {any} x the module's exports
 * @property {number} err unr_error *, allocated once
 * @property {number} isa the kernels runners use (an unr_isa)
 * @property {Readonly<Record<string, Readonly<Record<string, number>>>>} defaults each
 *   experiment's defaults by its JS name (lesionSingle, ..., pathStats), as the CLI's
 * @property {FinalizationRegistry<() => void>|null} registry
 * @property {() => Uint8Array} u8 the memory as bytes (fresh after growth)
 * @property {(ptr: number, len: number) => Float64Array} f64 a view (valid until memory grows)
 * @property {(ptr: number, len: number) => Int32Array} i32 a view (valid until memory grows)
 * @property {<T>(fn: () => T) => T} call a C call; a trap becomes an UnravelError
 * @property {(status: number) => void} check throws the last C error if status != 0
 * @property {() => never} throwLast
 * @property {(n: number) => number} malloc
 * @property {(ptr: number) => string} string a NUL-terminated C string
 * @property {<T>(specs: AllocSpec[], fn: (...ptrs: number[]) => T) => T} withAllocations
 * @property {<T>(fn: Function|undefined, body: (id: number) => T) => T} withProgress
 */

/**
 * One allocation of withAllocations: a size in bytes, bytes to copy in, a
 * string (copied in with its NUL), or null for none (pointer 0).
 * @typedef {number|Uint8Array|string|null|undefined} AllocSpec
 */

/**
 * @param {any} x the instance's exports
 * @param {{progress: Map<number, {fn: Function, thrown: any}>, onGrow: () => void}} state
 *   the imports' state (loader.mjs): progress callbacks by id, the growth notice
 * @param {{err: number, isa: number, registry: FinalizationRegistry|null, defaults: object, params: object}} handles
 * @returns {Internals}
 */
export function makeInternals(x, state, { err, isa, registry, defaults, params }) {
  let u8 = null;   // refreshed after growth
  let nextProgressId = 1;
  state.onGrow = () => { u8 = null; };

  const heap = () => {
    if (!u8 || u8.buffer !== x.memory.buffer)
      u8 = new Uint8Array(x.memory.buffer);
    return u8;
  };

  const malloc = (n) => {
    const ptr = x.malloc(Math.max(1, n));
    if (!ptr)
      throw new UnravelError(`unravel: out of WASM memory for ${n} bytes`, 'nomem');
    return ptr;
  };

  const string = (ptr) => readCString(heap(), ptr);

  // A C call; a trap becomes an UnravelError. After a trap the C heap may be
  // inconsistent, so say so: load a fresh module to go on.
  const call = (fn) => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError)
        throw new UnravelError(`unravel: WebAssembly trap (${e.message}); this module instance ` +
                               'may be inconsistent, load a new one', 'trap');
      throw e;
    }
  };

  const throwLast = () => {
    const code = x.unr_wasm_error_status(err);
    const message = string(x.unr_wasm_error_message(err)) || 'unknown error';
    throw new UnravelError(message, string(x.unr_wasm_status_name(code)), code);
  };

  const alloc = (spec) => {
    if (spec == null)
      return 0;
    if (typeof spec === 'number')
      return malloc(spec);
    const bytes = typeof spec === 'string' ? new TextEncoder().encode(spec + '\0') : spec;
    const ptr = malloc(bytes.length);
    heap().set(bytes, ptr);
    return ptr;
  };

  const freeAll = (ptrs) => {
    for (let i = ptrs.length - 1; i >= 0; i--)
      if (ptrs[i])
        x.free(ptrs[i]);
  };

  // Run fn(...pointers) with one allocation per spec, freed (last first)
  // once fn returns or throws, or once the promise it returns settles.
  const withAllocations = (specs, fn) => {
    const ptrs = [];
    let result;
    try {
      for (const s of specs)
        ptrs.push(alloc(s));
      result = fn(...ptrs);
    } catch (e) {
      freeAll(ptrs);
      throw e;
    }
    if (result && typeof result.then === 'function')
      return result.finally(() => freeAll(ptrs));
    freeAll(ptrs);
    return result;
  };

  // Run body(progressId) with fn registered as the progress callback; an
  // exception thrown by fn cancels the C call and is rethrown here.
  const withProgress = (fn, body) => {
    if (!fn)
      return body(0);
    if (typeof fn !== 'function')
      throw argError('onProgress: expected a function');
    const id = nextProgressId++;
    const entry = { fn, thrown: null };
    state.progress.set(id, entry);
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
      state.progress.delete(id);
    }
  };

  return Object.freeze({
    x, err, isa, registry, defaults, params,
    u8: heap,
    f64: (ptr, len) => new Float64Array(heap().buffer, ptr, len),
    i32: (ptr, len) => new Int32Array(heap().buffer, ptr, len),
    call,
    check: (status) => { if (status) throwLast(); },
    throwLast,
    malloc,
    string,
    withAllocations,
    withProgress,
  });
}
