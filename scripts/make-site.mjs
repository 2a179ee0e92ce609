// make-site.mjs: the explorer as a static bundle, for any static host (`make site`).
//   node scripts/make-site.mjs [--out DIR]        (default dist/)
// Writes DIR with the layout the page expects beside index.html, all by
// relative URLs (so it works under any sub-path, e.g. https://user.github.io/unravel/):
//   index.html, embed.html, *.mjs, charts/, views/, style.css, ...   web/ (not its README, nor its
//                                                                   unused copy of unravel.wasm)
//   wasm/unravel.mjs, wasm/lib/*.mjs, wasm/unravel.wasm,             the JS API (its entry point and
//   wasm/unravel.d.ts                                               the modules it imports) and its
//                                                                   SIMD build
//   models/NAME.json + NAME.bin                                     every trained model in models/
//                                                                   (not the random dev-* ones), each
//                                                                   weights file checked against the
//                                                                   sha256 and size its manifest gives
//   data/test_batch.bin                                             the first 1,000 CIFAR-10 test
//                                                                   records (3,073,000 bytes), from
//                                                                   $CIFAR10_DIR (scripts/data-dir.mjs)
//   LICENSE, NOTICE, .nojekyll (GitHub Pages serves the files as they are), SHA256SUMS
//   models/index.json                                               the list of the bundled models
//                                                                   (scripts/models-index.mjs), which
//                                                                   the page reads instead of probing
// No range requests are needed: the data file is read whole. Anything missing is named with the reason, and
// nothing is written then; DIR is replaced only if it is empty or an earlier
// bundle (it has SHA256SUMS).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cifar10Dir, HOW_TO_GET_CIFAR10 } from './data-dir.mjs';
import { indexOf } from './models-index.mjs';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const RECORD_BYTES = 3073;
/** Test records in the bundle: the first 1,000 (the pixel-exact ones of this project's copy). */
export const SITE_RECORDS = 1000;

const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');
const rel = (p) => path.relative(repo, p) || '.';

/** Files under dir (relative paths, sorted), leaving out dotfiles, editor leftovers and skip. */
function walk(dir, skip = new Set(), prefix = '') {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const p = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.name.startsWith('.') || /(~|\.tmp|\.swp)$/.test(e.name) || skip.has(p)) continue;
    if (e.isDirectory()) out.push(...walk(dir, skip, p));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/**
 * The trained models of modelsDir: every NAME.json manifest but dev-*, its
 * weights checked. Returns { models: [{name, manifest, weights, bytes}], problems }.
 */
export function collectModels(modelsDir = path.join(repo, 'models')) {
  const models = [], problems = [];
  const names = fs.existsSync(modelsDir) ? fs.readdirSync(modelsDir).filter((f) => f.endsWith('.json')).sort() : [];
  for (const file of names) {
    const name = file.slice(0, -'.json'.length);
    if (name.startsWith('dev-')) continue;   // random-weight development models, never shipped
    const where = rel(path.join(modelsDir, file));
    let j;
    try { j = JSON.parse(fs.readFileSync(path.join(modelsDir, file), 'utf8')); } catch (e) {
      problems.push(`${where}: not JSON (${e.message})`);
      continue;
    }
    if (j?.format !== 'unravel-model') continue;   // not a model manifest
    const w = j.weights ?? {};
    if (typeof w.file !== 'string' || !/^[A-Za-z0-9._-]+$/.test(w.file)) {
      problems.push(`${where}: weights.file is missing or not a plain file name`);
      continue;
    }
    if (typeof w.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(w.sha256)) {
      problems.push(`${where}: weights.sha256 is missing, so ${w.file} cannot be checked`);
      continue;
    }
    const binPath = path.join(modelsDir, w.file);
    if (!fs.existsSync(binPath)) {
      problems.push(`${rel(binPath)}: missing (the weights ${where} names)`);
      continue;
    }
    const bin = fs.readFileSync(binPath);
    if (typeof w.bytes === 'number' && bin.length !== w.bytes) {
      problems.push(`${rel(binPath)}: ${bin.length} bytes, but ${where} says ${w.bytes} (a Git LFS pointer or a partial copy?)`);
      continue;
    }
    const got = sha256(bin);
    if (got !== w.sha256) {
      problems.push(`${rel(binPath)}: sha256 ${got}, but ${where} says ${w.sha256}`);
      continue;
    }
    models.push({ name, manifestFile: file, weightsFile: w.file, manifest: fs.readFileSync(path.join(modelsDir, file)), weights: bin });
  }
  if (!models.length && !problems.length)
    problems.push(`${rel(modelsDir)}: no trained model (NAME.json + NAME.bin, other than dev-*)`);
  return { models, problems };
}

/** The first `records` records of dataDir/test_batch.bin, checked. { bytes } or { problem }. */
export function testRecords(dataDir = cifar10Dir(), records = SITE_RECORDS) {
  const file = path.join(dataDir, 'test_batch.bin');
  if (!fs.existsSync(file)) return { problem: `${file}: missing, so the bundle would have no test images: ${HOW_TO_GET_CIFAR10}` };
  const size = fs.statSync(file).size;
  if (size % RECORD_BYTES || size < records * RECORD_BYTES)
    return { problem: `${file}: ${size} bytes, not at least ${records} whole ${RECORD_BYTES}-byte CIFAR-10 records` };
  const bytes = Buffer.alloc(records * RECORD_BYTES);
  const fd = fs.openSync(file, 'r');
  try { fs.readSync(fd, bytes, 0, bytes.length, 0); } finally { fs.closeSync(fd); }
  for (let i = 0; i < records; i++)
    if (bytes[i * RECORD_BYTES] > 9) return { problem: `${file}: record ${i} has label ${bytes[i * RECORD_BYTES]}, not 0..9` };
  return { bytes };
}

/**
 * Build the bundle in out. Throws an Error listing every problem (file and
 * reason) before anything is written. Returns
 * { out, files: [{path, bytes, sha256, group}], total, models, notes }.
 */
export async function makeSite({ out = path.join(repo, 'dist'), dataDir = cifar10Dir(), records = SITE_RECORDS } = {}) {
  out = path.resolve(out);
  const problems = [], notes = [];
  const web = path.join(repo, 'web');
  for (const f of ['web/index.html', 'web/config.mjs', 'wasm/unravel.mjs', 'wasm/lib/model.mjs', 'wasm/unravel.wasm'])
    if (!fs.existsSync(path.join(repo, f))) problems.push(`${f}: missing${f.endsWith('.wasm') ? ' (run `make wasm`)' : ''}`);
  const { models, problems: modelProblems } = collectModels();
  problems.push(...modelProblems);
  const data = testRecords(dataDir, records);
  if (data.problem) problems.push(data.problem);
  if (fs.existsSync(out) && fs.readdirSync(out).length && !fs.existsSync(path.join(out, 'SHA256SUMS')))
    problems.push(`${out}: exists and is not a bundle of make-site (no SHA256SUMS): remove it or pick another --out`);
  if (problems.length) throw new Error(`make-site: no bundle written:\n  ${problems.join('\n  ')}`);

  // Every file as [path in the bundle, bytes, group].
  const files = [];
  // web/unravel.wasm is a copy of wasm/unravel.wasm that the page does not load (PATHS.wasm is wasm/).
  for (const f of walk(web, new Set(['README.md', 'unravel.wasm'])))
    files.push([f, fs.readFileSync(path.join(web, f)), 'page']);
  const lib = fs.readdirSync(path.join(repo, 'wasm/lib')).filter((f) => f.endsWith('.mjs')).sort().map((f) => `lib/${f}`);
  for (const f of ['unravel.mjs', ...lib, 'unravel.wasm', 'unravel.d.ts'])
    if (fs.existsSync(path.join(repo, 'wasm', f))) files.push([`wasm/${f}`, fs.readFileSync(path.join(repo, 'wasm', f)), 'wasm']);
  for (const m of models) {
    files.push([`models/${m.manifestFile}`, m.manifest, 'models']);
    files.push([`models/${m.weightsFile}`, m.weights, 'models']);
  }
  const index = indexOf(models.map((m) => ({ name: m.name, weights: m.weightsFile })));
  files.push(['models/index.json', Buffer.from(`${JSON.stringify(index, null, 1)}\n`), 'models']);
  files.push(['data/test_batch.bin', data.bytes, 'data']);
  for (const f of ['LICENSE', 'NOTICE'])
    if (fs.existsSync(path.join(repo, f))) files.push([f, fs.readFileSync(path.join(repo, f)), 'page']);
  files.push(['.nojekyll', Buffer.alloc(0), 'page']);
  const list = files.map(([p, bytes, group]) => ({ path: p, bytes: bytes.length, sha256: sha256(bytes), group }));
  files.push(['SHA256SUMS', Buffer.from(list.map((f) => `${f.sha256}  ${f.path}\n`).join('')), 'page']);
  list.push({ path: 'SHA256SUMS', bytes: files.at(-1)[1].length, sha256: sha256(files.at(-1)[1]), group: 'page' });

  // Written beside out, then put in its place.
  const tmp = `${out}.partial-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    for (const [p, bytes] of files) {
      fs.mkdirSync(path.dirname(path.join(tmp, p)), { recursive: true });
      fs.writeFileSync(path.join(tmp, p), bytes);
    }
    fs.rmSync(out, { recursive: true, force: true });
    fs.renameSync(tmp, out);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { out, files: list, total: list.reduce((s, f) => s + f.bytes, 0), models: models.map((m) => m.name), records, notes };
}

/** The summary make-site prints. */
export function summary(r) {
  const mb = (b) => `${(b / 1e6).toFixed(2)} MB`;
  const group = (g) => r.files.filter((f) => f.group === g);
  const sum = (fs_) => fs_.reduce((s, f) => s + f.bytes, 0);
  const lines = [`make-site: wrote ${r.out}: ${r.files.length} files, ${r.total.toLocaleString('en-US')} bytes (${mb(r.total)})`];
  lines.push(`  page   ${String(group('page').length).padStart(3)} files  ${mb(sum(group('page'))).padStart(9)}  index.html, embed.html, modules, style, LICENSE, NOTICE`);
  lines.push(`  wasm   ${String(group('wasm').length).padStart(3)} files  ${mb(sum(group('wasm'))).padStart(9)}  wasm/unravel.mjs, lib/, unravel.wasm`);
  lines.push(`  models ${String(group('models').length).padStart(3)} files  ${mb(sum(group('models'))).padStart(9)}  ${r.models.join(', ')} (weights sha256-checked)`);
  lines.push(`  data   ${String(group('data').length).padStart(3)} file   ${mb(sum(group('data'))).padStart(9)}  data/test_batch.bin: the first ${r.records.toLocaleString('en-US')} CIFAR-10 test records`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--out');
  if (args.includes('--help') || args.some((a, i) => a !== '--out' && args[i - 1] !== '--out') || (at >= 0 && !args[at + 1])) {
    console.error('usage: node scripts/make-site.mjs [--out DIR]   (default dist/; test images from $CIFAR10_DIR)');
    process.exit(args.includes('--help') ? 0 : 2);
  }
  try {
    console.log(summary(await makeSite(at >= 0 ? { out: args[at + 1] } : {})));
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
