// pool.mjs: a small pool of workers (worker.mjs), one WASM instance each.
// Set-up messages (module, models, test images) go to every worker and are
// replayed when a worker is replaced. A task runs on one idle worker; aborting
// its signal drops it from the queue, or, if it is running:
//   - cooperative tasks (the experiments, which yield between C steps) are sent
//     a cancel message; the worker stays, and is terminated and replaced only
//     if it has not stopped within POOL.cancelGraceMs;
//   - soft tasks (short evaluations) are left to finish, their reply dropped;
//   - other tasks terminate their worker (a synchronous C call cannot be
//     interrupted otherwise), and a fresh one is started.
// In every case the caller's promise rejects with AbortError at once.
// A worker from another origin (an embed whose module lives on unravel's
// site) starts through a same-origin blob: trampoline (startModuleWorker).
// Beside the workers the pool keeps one instance of the module on this
// thread (pool.unravel), holding no model: the numbers that merge the
// workers' results (sums of counts, then C's summaries and intervals).
import { PATHS, POOL } from './config.mjs';
import { loadUnravel } from './wasm/unravel.mjs';

// worker URL -> blob: URL of its trampoline, kept for the page's life: a
// replaced worker reuses it (a few bytes; revoking it could race a start).
const trampolines = new Map();

/**
 * A module worker running `url`. `new Worker` only takes a same-origin URL,
 * so a cross-origin one is started from a same-origin blob: module that
 * imports it (the server must send CORS headers, as scripts/serve.mjs does).
 * The worker module's own imports resolve against its real URL, not the blob.
 */
export function startModuleWorker(url) {
  const href = new URL(url, location.href).href;
  if (new URL(href).origin === location.origin) return new Worker(href, { type: 'module' });
  let blobUrl = trampolines.get(href);
  if (!blobUrl) {
    blobUrl = URL.createObjectURL(new Blob([`import ${JSON.stringify(href)};\n`], { type: 'text/javascript' }));
    trampolines.set(href, blobUrl);
  }
  return new Worker(blobUrl, { type: 'module' });
}

export class AbortError extends Error {
  constructor() { super('cancelled'); this.name = 'AbortError'; }
}

export class Pool {
  #module;
  #setup = new Map();   // key -> set-up message, replayed in insertion order
  #slots = [];          // { worker, busy: task|null, ready: Promise }
  #queue = [];
  #nextId = 1;
  #onError;
  #local;

  /**
   * @param {WebAssembly.Module} module compiled unravel.wasm
   * @param {{size?: number, onError?: (e: Error) => void}} [options]
   */
  constructor(module, { size, onError } = {}) {
    this.#module = module;
    this.#onError = onError ?? (() => {});
    const n = size ?? Math.max(1, Math.min(POOL.maxWorkers, navigator.hardwareConcurrency || 2));
    for (let i = 0; i < n; i++)
      this.#slots.push(this.#spawn());
    this.size = n;
    /** How many workers were terminated and replaced (cancellation that did not stop in time). */
    this.replaced = 0;
    /** The module on this thread, once ready() has resolved (summaries, intervals, merges). @type {import('./wasm/unravel.mjs').Unravel|null} */
    this.unravel = null;
    this.#local = loadUnravel({ module }).then((u) => { this.unravel = u; return u; });
    this.#local.catch(() => {});
  }

  /** Wait until every worker and this thread have the module instantiated; returns init info. */
  async ready() {
    const [infos] = await Promise.all([Promise.all(this.#slots.map((s) => s.ready)), this.#local]);
    return infos[0];
  }

  #spawn() {
    const worker = startModuleWorker(PATHS.worker);
    const slot = { worker, busy: null, pending: new Map() };
    worker.onmessage = ({ data }) => this.#reply(slot, data);
    worker.onerror = (e) => {
      e.preventDefault?.();
      const err = new Error(`worker failed: ${e.message || 'could not start (module error?)'}`);
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      this.#onError(err);
    };
    slot.ready = this.#send(slot, { type: 'init', module: this.#module }).then(async (info) => {
      for (const msg of this.#setup.values())
        await this.#send(slot, msg);
      return info;
    });
    slot.ready.catch(() => {});
    return slot;
  }

  #send(slot, msg, transfer = [], onProgress, id = this.#nextId++) {
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, onProgress });
      slot.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  #reply(slot, data) {
    const p = slot.pending.get(data.id);
    if (!p) return;
    if (data.progress) {
      p.onProgress?.(...data.progress);
      return;
    }
    slot.pending.delete(data.id);
    if (data.ok) p.resolve(data.result);
    else {
      const e = new Error(data.error.message);
      e.status = data.error.status;
      p.reject(e);
    }
  }

  /**
   * Send a set-up message to every worker (and remember it under `key` for
   * replacements). Returns the first worker's reply.
   */
  async broadcast(key, msg) {
    if (msg) this.#setup.set(key, msg);
    else this.#setup.delete(key);
    const replies = await Promise.all(this.#slots.map(async (s) => {
      await s.ready;
      return msg ? this.#send(s, msg) : null;
    }));
    return replies[0];
  }

  /**
   * Run one task on a free worker.
   * @param {object} msg {type, ...}
   * @param {{onProgress?: (done: number, total: number) => void, signal?: AbortSignal,
   *          soft?: boolean, cooperative?: boolean, priority?: number}} [opts]
   *          priority: lower runs sooner (default 0; progressive sweeps give chunk i
   *          priority i, so sweeps queued together take turns chunk by chunk); soft: on abort, a running
   *          task is left to finish and its reply dropped; cooperative: on abort, the
   *          worker is asked to stop it (the message gets `id`, the task's id)
   */
  run(msg, { onProgress, signal, soft = false, cooperative = false, priority = 0 } = {}) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) { reject(new AbortError()); return; }
      const task = { msg, onProgress, signal, resolve, reject, slot: null, soft, cooperative, priority,
                     detached: false, id: 0 };
      task.onAbort = () => this.#abort(task);
      signal?.addEventListener('abort', task.onAbort, { once: true });
      // the queue is kept in priority order, first come first served within one
      const at = this.#queue.findIndex((t) => t.priority > task.priority);
      this.#queue.splice(at < 0 ? this.#queue.length : at, 0, task);
      this.#pump();
    });
  }

  #pump() {
    for (const slot of this.#slots) {
      if (slot.busy || !this.#queue.length) continue;
      const task = this.#queue.shift();
      slot.busy = task;
      task.slot = slot;
      slot.ready
        .then(() => {
          if (task.slot !== slot || task.detached) return null;
          task.id = this.#nextId++;
          return this.#send(slot, { ...task.msg, id: task.id }, [], (d, t) => task.onProgress?.(d, t), task.id);
        })
        .then((r) => this.#finish(task, slot, null, r), (e) => this.#finish(task, slot, e));
    }
  }

  #finish(task, slot, err, result) {
    if (task.slot !== slot) return;   // aborted and replaced meanwhile
    if (task.detached) {              // soft- or cooperatively aborted: its answer is not wanted
      clearTimeout(task.grace);
      slot.busy = null;
      task.slot = null;
      this.#pump();
      return;
    }
    task.signal?.removeEventListener('abort', task.onAbort);
    slot.busy = null;
    task.slot = null;
    if (err) task.reject(err);
    else task.resolve(result);
    this.#pump();
  }

  #abort(task) {
    const q = this.#queue.indexOf(task);
    if (q >= 0) {
      this.#queue.splice(q, 1);
    } else if (task.slot && task.soft) {
      task.detached = true;           // let it finish (cheap), drop the reply
      task.onProgress = null;
    } else if (task.slot && task.cooperative) {
      task.detached = true;           // ask the worker to stop; its reply frees the slot
      task.onProgress = null;
      if (task.id) task.slot.worker.postMessage({ type: 'cancel', target: task.id });
      const slot = task.slot;
      task.grace = setTimeout(() => { if (task.slot === slot) this.#replace(slot, task); }, POOL.cancelGraceMs);
    } else if (task.slot) {
      this.#replace(task.slot, task);
    }
    task.reject(new AbortError());
    this.#pump();
  }

  /** Terminate a slot's worker (rejecting what it had pending) and start a fresh one. */
  #replace(slot, task) {
    const i = this.#slots.indexOf(slot);
    slot.worker.terminate();
    for (const p of slot.pending.values()) p.reject(new AbortError());
    slot.pending.clear();
    task.slot = null;
    this.replaced++;
    if (i >= 0) this.#slots[i] = this.#spawn();
    this.#pump();
  }

  terminate() {
    for (const s of this.#slots) s.worker.terminate();
    this.#slots = [];
    for (const t of this.#queue) t.reject(new AbortError());
    this.#queue = [];
  }
}
