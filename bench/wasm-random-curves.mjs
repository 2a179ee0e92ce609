// wasm-random-curves.mjs: the page's claim-3 curves (error against k random
// deletions or swaps) in WASM, one thread, two ways in the same run:
//   per plan: each drawn plan evaluated from scratch (model.drawPlan +
//             model.evaluate: what the page did before);
//   shared:   model.deleteRandom / swapRandom, where every draw on a slice
//             of images runs from its first change on the unmodified
//             network's kept activations.
// Both must give the same errors (checked before timing). The workload is
// the page's default: 3 draws per k, the page's ks (defaultKs), 500 test
// images; the trained models in models/.
//
//   make wasm && node bench/wasm-random-curves.mjs [--rounds R] [--images N] [--no-write]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadUnravel } from '../wasm/unravel.mjs';
import { defaultKs } from '../web/experiments.mjs';
import { writeSection } from './results-md.mjs';
import { cifar10Dir } from '../scripts/data-dir.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ROUNDS = option('--rounds', 3);
const IMAGES = option('--images', 500);
const SAMPLES = 3;
const SEED = 1;
const MODELS = ['resnet20', 'resnet110-half'];

function loadTestImages() {
  const dir = cifar10Dir();
  const file = path.join(dir, 'test_batch.bin');
  if (!fs.existsSync(file))
    throw new Error(`${file} is missing: set CIFAR10_DIR to the CIFAR-10 binary folder`);
  return fs.readFileSync(file).subarray(0, IMAGES * 3073);
}

// The old way: every draw evaluated on all the images from the stem on.
async function perPlan(model, data, kind, ks) {
  return ks.map((k) => {
    const errors = [];
    for (let s = 0; s < SAMPLES; s++) {
      const plan = model.drawPlan(kind, k, SEED, s);
      errors.push(model.evaluate(data, { order: plan.order, deleted: plan.deleted }).error);
    }
    return { k, errors };
  });
}

async function shared(model, data, kind, ks) {
  const fn = kind === 'swap' ? 'swapRandom' : 'deleteRandom';
  return (await model[fn](data, { ks, samples: SAMPLES, seed: SEED })).points;
}

const seconds = async (f) => {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
};
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];

async function main() {
  const unravel = await loadUnravel();
  const data = unravel.loadCifar(loadTestImages());
  const rows = [];
  for (const name of MODELS) {
    const base = path.join(ROOT, 'models', name);
    const model = unravel.loadModel(fs.readFileSync(`${base}.json`, 'utf8'), fs.readFileSync(`${base}.bin`), { name });
    for (const kind of ['delete', 'swap']) {
      const most = kind === 'delete' ? model.maxDeletions : Math.min(model.maxSwaps, model.numBlocks);
      const ks = defaultKs(most);
      const a = await perPlan(model, data, kind, ks), b = await shared(model, data, kind, ks);
      a.forEach((p, i) => p.errors.forEach((e, s) => {
        if (e !== b[i].errors[s])
          throw new Error(`${name} ${kind} k=${p.k} draw ${s}: per plan ${e}, shared ${b[i].errors[s]}`);
      }));
      const times = { perPlan: [], shared: [] };
      for (let r = 0; r < ROUNDS; r++) {   // in turns, so a busy machine slows both alike
        times.perPlan.push(await seconds(() => perPlan(model, data, kind, ks)));
        times.shared.push(await seconds(() => shared(model, data, kind, ks)));
      }
      const row = { name, kind, ks, plans: ks.length * SAMPLES, perPlan: median(times.perPlan), shared: median(times.shared) };
      console.log(`${name} ${kind}: ${row.plans} plans on ${IMAGES} images: per plan ${row.perPlan.toFixed(2)} s, ` +
                  `shared ${row.shared.toFixed(2)} s (${(row.perPlan / row.shared).toFixed(2)}x)`);
      rows.push(row);
    }
    model.dispose();
  }
  data.dispose();
  return rows;
}

function table(rows) {
  const cpu = os.cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  return [
    `Measured ${new Date().toISOString().slice(0, 10)} by \`node bench/wasm-random-curves.mjs\` on ${cpu}, ` +
      `${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(2)} at the end, Node ${process.version}, ` +
      `one thread (one page worker's share). The page's workload: ${SAMPLES} draws per k at its default ks, ` +
      `the first ${IMAGES} CIFAR-10 test images (rebuilt set), seed ${SEED}; median of ${ROUNDS} rounds taken in turns. ` +
      'Both ways give the same errors, checked draw by draw before timing.',
    '',
    '| model | curve | ks | plans | per plan (s) | shared pass (s) | speed-up |',
    '|---|---|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${r.kind} | ${r.ks.join(',')} | ${r.plans} | ${r.perPlan.toFixed(2)} | ` +
                       `${r.shared.toFixed(2)} | ${(r.perPlan / r.shared).toFixed(2)}x |`),
  ].join('\n');
}

const rows = await main();
if (!args.includes('--no-write'))
  writeSection(path.join(ROOT, 'bench/results.md'), 'Random curves in WASM: shared forward pass vs per plan',
               `${os.cpus()[0]?.model.replace(/\s+/g, ' ').trim()}, ${os.cpus().length} cores`, table(rows));
