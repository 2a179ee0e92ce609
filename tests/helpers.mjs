// helpers.mjs: what the node:test files share: paths, the native CLI, the
// WASM module, test models and data. (Not a test file itself: node --test
// only runs *.test.mjs here.)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadUnravel } from '../wasm/unravel.mjs';
import { cifar10Dir, HOW_TO_GET_CIFAR10 } from '../scripts/data-dir.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.resolve(ROOT, process.env.UNRAVEL_CLI ?? 'build/unravel');
export const WASM = path.join(ROOT, 'wasm/unravel.wasm');
export const WASM_SCALAR = path.join(ROOT, 'build/wasm/unravel-scalar.wasm');

/** The CIFAR-10 directory ($CIFAR10_DIR or data/cifar10), or null if absent. */
export function cifarDir() {
  const dir = cifar10Dir();
  return fs.existsSync(path.join(dir, 'test_batch.bin')) ? dir : null;
}

export const NO_DATA = `no CIFAR-10 test set in ${cifar10Dir()}: ${HOW_TO_GET_CIFAR10}`;

export function requireBuilt() {
  for (const [f, how] of [[WASM, 'make wasm'], [CLI, 'make native']])
    if (!fs.existsSync(f))
      throw new Error(`${path.relative(ROOT, f)} is missing: run \`${how}\` first`);
}

/** A fresh module (SIMD build unless file says otherwise). */
export async function unravel(file = WASM, options = {}) {
  requireBuilt();
  return loadUnravel({ wasmBytes: fs.readFileSync(file), ...options });
}

export function tmpdir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unravel-test-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Run the native CLI; returns stdout. */
export function cli(...args) {
  return execFileSync(CLI, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * JSON.parse that refuses an object naming one key twice (JSON.parse keeps
 * the last silently, so a consumer reading the first, as cJSON does, would
 * see another value).
 */
export function parseStrictJson(text) {
  const seen = [];   // one Set of keys per open object, null for an array
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') seen.push(new Set());
    else if (c === '[') seen.push(null);
    else if (c === '}' || c === ']') seen.pop();
    else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const keys = seen[seen.length - 1];
      if (keys && /^\s*:/.test(text.slice(j + 1, j + 8))) {
        const key = JSON.parse(text.slice(i, j + 1));
        if (keys.has(key)) throw new Error(`JSON names "${key}" twice in one object`);
        keys.add(key);
      }
      i = j;
    }
  }
  return JSON.parse(text);
}

/** Write a random-weight model with the CLI; returns { json, bin, manifest, weights }. */
export function makeModel(dir, name, { blocksPerStage = 3, shortcut = 'A', seed = 7, widths, extra = [] } = {}) {
  const out = path.join(dir, name);
  const args = ['init', '--blocks-per-stage', String(blocksPerStage), '--shortcut', shortcut,
                '--seed', String(seed), '--out', out];
  if (widths)
    args.push('--widths', widths.join(','));
  args.push(...extra);
  cli(...args);
  return readModel(out + '.json');
}

export function readModel(json) {
  const manifest = fs.readFileSync(json, 'utf8');
  const bin = path.join(path.dirname(json), JSON.parse(manifest).weights.file);
  return { json, bin, manifest, weights: fs.readFileSync(bin) };
}

/** n synthetic CIFAR-10 records (seeded), as the official binary format. */
export function syntheticCifar(n, seed = 1) {
  const rec = 3073;
  const out = new Uint8Array(n * rec);
  let s = seed >>> 0 || 1;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24);
  for (let i = 0; i < n; i++) {
    out[i * rec] = i % 10;
    // smooth-ish images: a random colour gradient plus noise
    const base = [next(), next(), next()];
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < 1024; p++)
        out[i * rec + 1 + c * 1024 + p] = (base[c] + (p >> 5) * 3 + (p & 31) * 2 + (next() >> 3)) & 255;
  }
  return out;
}

export function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Native logits and eval JSON for a plan, through `unravel eval --dump-logits`. */
export function nativeEval(dir, modelJson, dataDir, { limit, deleted, order, isa } = {}) {
  const dump = path.join(dir, `logits-${process.pid}-${Math.random().toString(36).slice(2)}.bin`);
  const args = ['eval', '--model', modelJson, '--data', dataDir, '--json', '--dump-logits', dump];
  if (limit)
    args.push('--limit', String(limit));
  if (deleted?.length)
    args.push('--delete', deleted.join(','));
  if (order)
    args.push('--order', order.join(','));
  if (isa)
    args.push('--isa', isa);
  const res = JSON.parse(cli(...args));
  const b = fs.readFileSync(dump);
  fs.rmSync(dump);
  return { res, logits: new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4) };
}

export function maxAbsDiff(a, b) {
  if (a.length !== b.length)
    throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++)
    d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
