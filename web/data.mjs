// data.mjs: fetching models and CIFAR-10 test images, reading the user's own
// files, and turning CIFAR records into pixels for the sample grid.
import { CIFAR, MODEL_CANDIDATES, PATHS } from './config.mjs';

/** Fetch bytes with progress; null on HTTP 404 (the file is simply absent). */
export async function fetchBytes(url, { onProgress, signal } = {}) {
  const res = await fetch(url, { signal, cache: 'no-cache' });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return await readBody(url, res, onProgress);
}

/**
 * CIFAR-10 records [from, to) of the file at url, by an HTTP range request,
 * so the page need not download all 10,000 test images (30 MB) before it
 * needs them. Resolves { bytes (ArrayBuffer of the records from `from` on),
 * total (records in the whole file) }, or null on 404. A server that
 * ignores ranges sends the whole file: then bytes holds every record from
 * `from` to the end. Throws a readable Error on a reply that is not whole
 * records or not the range asked for.
 */
export async function fetchRecords(url, from, to, { onProgress, signal } = {}) {
  const R = CIFAR.recordBytes;
  const res = await fetch(url, { signal, cache: 'no-cache', headers: { Range: `bytes=${from * R}-${to * R - 1}` } });
  if (res.status === 404) return null;
  if (res.status === 416) throw new Error(`${url}: has no records ${from}..${to - 1}`);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const bytes = await readBody(url, res, onProgress);
  if (res.status !== 206) {
    if (bytes.byteLength % R) throw new Error(`${url}: ${bytes.byteLength} bytes is not a whole number of ${R}-byte records`);
    return { bytes: bytes.slice(from * R), total: bytes.byteLength / R };
  }
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get('Content-Range') ?? '');
  if (!m || Number(m[1]) !== from * R || (Number(m[2]) + 1 - from * R) % R || Number(m[3]) % R ||
      bytes.byteLength !== Number(m[2]) + 1 - from * R)
    throw new Error(`${url}: the server sent bytes ${res.headers.get('Content-Range')}, not whole records from ${from}`);
  return { bytes, total: Number(m[3]) / R };
}

/** A response body as an ArrayBuffer, reporting progress where the size is known. */
async function readBody(url, res, onProgress) {
  const total = Number(res.headers.get('Content-Length')) || 0;
  if (!res.body || !onProgress || !total) return await res.arrayBuffer();
  const out = new Uint8Array(total);
  const reader = res.body.getReader();
  let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (got + value.length > total) throw new Error(`${url}: more bytes than Content-Length`);
    out.set(value, got);
    got += value.length;
    onProgress(got, total);
  }
  return got === total ? out.buffer : out.buffer.slice(0, got);
}

/**
 * The models present under modelsUrl: the names its index.json lists (the
 * dev server and make-site's bundle both have one), in MODEL_CANDIDATES'
 * order and with their labels, else every known candidate; plus `extra`
 * (names a link asks for). Fetches each manifest (small).
 * Returns [{name, label, dev, manifest (text) | null}].
 */
export async function probeModels(extra = [], modelsUrl = PATHS.models) {
  const listed = await modelIndex(modelsUrl);
  const list = listed
    ? [...MODEL_CANDIDATES.filter((m) => listed.includes(m.name)),
       ...listed.filter((n) => !MODEL_CANDIDATES.some((m) => m.name === n)).map((name) => ({ name, label: name, dev: /^dev-/.test(name) }))]
    : [...MODEL_CANDIDATES];
  for (const name of extra)
    if (name && !list.some((m) => m.name === name)) list.push({ name, label: name });
  return await Promise.all(list.map(async (m) => {
    try {
      const res = await fetch(new URL(`${m.name}.json`, modelsUrl), { cache: 'no-cache' });
      if (!res.ok) return { ...m, manifest: null };
      const text = await res.text();
      const j = JSON.parse(text);
      return j.format === 'unravel-model' ? { ...m, manifest: text, json: j } : { ...m, manifest: null };
    } catch {
      return { ...m, manifest: null };
    }
  }));
}

/** The model names modelsUrl's index.json lists, or null where it has none (a plain folder of files). */
async function modelIndex(modelsUrl) {
  try {
    const res = await fetch(new URL('index.json', modelsUrl), { cache: 'no-cache' });
    if (!res.ok) return null;
    const j = await res.json();
    if (j?.format !== 'unravel-model-index' || !Array.isArray(j.models)) return null;
    return j.models.map((m) => m?.name).filter((n) => typeof n === 'string' && /^[A-Za-z0-9._-]+$/.test(n));
  } catch {
    return null;
  }
}

/** The weights named by a manifest (found beside it under modelsUrl). */
export async function fetchWeights(manifestJson, { modelsUrl = PATHS.models, ...opts } = {}) {
  const file = manifestJson?.weights?.file;
  if (typeof file !== 'string' || !/^[A-Za-z0-9._-]+$/.test(file))
    throw new Error('model manifest: weights.file is missing or not a plain file name');
  const bytes = await fetchBytes(new URL(file, modelsUrl), opts);
  if (!bytes) throw new Error(`models/${file} is missing (HTTP 404)`);
  return bytes;
}

/** The endings of PyTorch checkpoints the page imports (torch.save zip or legacy, safetensors). */
export const CHECKPOINT_EXTENSIONS = ['.pt', '.pth', '.th', '.safetensors'];

/**
 * Sort dropped or picked files: { manifests: [File], weights: [File], cifar: File|null,
 * checkpoints: [File], ignored: [File] }.
 * A .bin whose size is a multiple of 3073 bytes and whose name mentions
 * "batch" (or is exactly 10,000 records) is CIFAR; other .bin files are weights.
 */
export function classifyFiles(files) {
  const out = { manifests: [], weights: [], cifar: null, checkpoints: [], ignored: [] };
  for (const f of files) {
    const name = f.name.toLowerCase();
    if (name.endsWith('.json')) out.manifests.push(f);
    else if (CHECKPOINT_EXTENSIONS.some((e) => name.endsWith(e))) out.checkpoints.push(f);
    else if (name.endsWith('.bin') && f.size % CIFAR.recordBytes === 0 &&
             (name.includes('batch') || f.size === 10000 * CIFAR.recordBytes)) out.cifar = f;
    else if (name.endsWith('.bin')) out.weights.push(f);
    else out.ignored.push(f);
  }
  return out;
}

/** Labels of every record. */
export function cifarLabels(bytes) {
  const u8 = new Uint8Array(bytes);
  const n = Math.floor(u8.length / CIFAR.recordBytes);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = u8[i * CIFAR.recordBytes];
  return labels;
}

/** Record i as ImageData (32x32 RGBA). */
export function cifarImage(bytes, i) {
  const u8 = new Uint8Array(bytes, i * CIFAR.recordBytes + 1, CIFAR.recordBytes - 1);
  const plane = CIFAR.side * CIFAR.side;
  const px = new Uint8ClampedArray(4 * plane);
  for (let p = 0; p < plane; p++) {
    px[4 * p] = u8[p];
    px[4 * p + 1] = u8[plane + p];
    px[4 * p + 2] = u8[2 * plane + p];
    px[4 * p + 3] = 255;
  }
  return new ImageData(px, CIFAR.side, CIFAR.side);
}

/** Check CIFAR bytes: whole records, labels 0..9. Throws a readable Error. */
export function checkCifar(bytes, name = 'test images') {
  const n = bytes.byteLength / CIFAR.recordBytes;
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name}: ${bytes.byteLength} bytes is not a whole number of 3073-byte CIFAR-10 records`);
  const labels = cifarLabels(bytes);
  const bad = labels.findIndex((l) => l > 9);
  if (bad >= 0) throw new Error(`${name}: record ${bad} has label ${labels[bad]}, not 0..9`);
  return n;
}
