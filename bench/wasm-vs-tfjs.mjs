// wasm-vs-tfjs.mjs: single-thread CIFAR ResNet inference in Node, unravel's
// WASM (SIMD128) against TensorFlow.js's WASM backend (SIMD, 1 thread), on
// the same random weights, plus the WASM SIMD128 multiply-add peak of this
// core, measured in the same run.
//
//   make native wasm && node bench/wasm-vs-tfjs.mjs [--seconds S] [--no-write] [--wasm FILE]
//
// Models: ResNet-20, ResNet-56 and ResNet-110-half shapes (shortcut A), random He weights
// written by `unravel init`; tfjs builds the same network from the same
// manifest and weights (NHWC, batch norm folded into the convs as unravel
// does, shortcut A = strided slice + channel pad) and its logits are checked
// against unravel's before anything is timed. Writes the table to
// bench/results.md, section "WASM vs TensorFlow.js".
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadUnravel } from '../wasm/unravel.mjs';
import { writeSection } from './results-md.mjs';
import { cifar10Dir } from '../scripts/data-dir.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const SECONDS = Number(option('--seconds', '3'));    // timed per measurement
const RESULTS = path.join(ROOT, 'bench/results.md');
const CLI = path.join(ROOT, 'build/unravel');
// ResNet-110-half: the page's 54-block net (widths 8/16/32), the shape of
// its slowest experiment.
const MODELS = [{ name: 'ResNet-20', n: 3 }, { name: 'ResNet-56', n: 9 },
                { name: 'ResNet-110-half (54 blocks, 8/16/32)', n: 18, widths: '8,16,32' }];
const BATCHES = [1, 100];

// ---- timing ----

// Images per second of each of runs[], every call handling `images` images:
// warm each up (V8 tiers WASM up from its baseline compiler only between
// calls), then ROUNDS rounds that take turns, SECONDS/ROUNDS each, so that a
// busy machine slows all of them alike; the median round counts.
const ROUNDS = 5;
async function throughputs(images, runs) {
  for (const run of runs) {
    const warm = performance.now();
    while (performance.now() - warm < Math.max(300, SECONDS * 100))
      await run();
  }
  const rounds = runs.map(() => []);
  for (let r = 0; r < ROUNDS; r++)
    for (const [i, run] of runs.entries()) {
      let calls = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < (SECONDS * 1000) / ROUNDS) {
        await run();
        calls++;
      }
      rounds[i].push((calls * images) / ((performance.now() - t0) / 1000));
    }
  return rounds.map((v) => v.sort((a, b) => a - b)[ROUNDS >> 1]);
}

async function throughput(images, run) {
  return (await throughputs(images, [run]))[0];
}

// ---- the WASM SIMD128 peak ----

function simdPeakModule() {
  const src = path.join(ROOT, 'bench/simd_peak.c');
  const out = path.join(ROOT, 'build/bench/simd_peak.wasm');
  const stale = !fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs;
  if (stale) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    try {
      execFileSync('emcc', ['-O3', '-msimd128', '-sSTANDALONE_WASM', '--no-entry', src, '-o', out],
                   { env: { ...process.env, NODE_PATH: process.env.NODE_PATH || '/usr/share/nodejs' },
                     stdio: ['ignore', 'ignore', 'inherit'] });
    } catch (e) {
      if (!fs.existsSync(out))
        throw new Error(`cannot build ${path.relative(ROOT, out)} with emcc: ${e.message}`);
      console.error('simd peak: emcc failed; using the older build/bench/simd_peak.wasm');
    }
  }
  return new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(out)), {}).exports;
}

// GFLOP/s of each loop shape (see simd_peak.c), and the peak: the best
// register-only chain count.
async function simdPeak() {
  const x = simdPeakModule();
  x.init();
  const iters = 100000;
  const shapes = [
    ...[4, 8, 12, 13, 14, 16].map((n) => [`chains_${n}`, `${n} independent f32x4 mul+add chains`,
                                          8 * n * iters]),
    ['gemm_4x8', '4x8 GEMM micro-kernel loop, loads included (8 accumulators; the one unravel uses)',
     2 * 32 * 64 * Math.round(iters / 64)],
    ['gemm_6x8', '6x8 GEMM micro-kernel loop, loads included (12 accumulators; V8 spills)',
     2 * 48 * 64 * Math.round(iters / 64)],
  ];
  const out = [];
  for (const [fn, label, flops] of shapes) {
    const n = fn.startsWith('gemm_') ? Math.round(iters / 64) : iters;
    const perSecond = await throughput(1, () => x[fn](n));
    out.push({ fn, label, gflops: (perSecond * flops) / 1e9 });
  }
  const peak = Math.max(...out.filter((p) => p.fn.startsWith('chains_')).map((p) => p.gflops));
  return { shapes: out, peak };
}

// ---- models and data ----

function makeModels(dir) {
  if (!fs.existsSync(CLI))
    throw new Error('build/unravel is missing: run `make native` first');
  return MODELS.map(({ name, n, widths }) => {
    const out = path.join(dir, `r${6 * n + 2}${widths ? '-w' + widths.replaceAll(',', '-') : ''}`);
    execFileSync(CLI, ['init', '--blocks-per-stage', String(n), '--shortcut', 'A', '--seed', '1',
                       ...(widths ? ['--widths', widths] : []), '--out', out],
                 { stdio: ['ignore', 'ignore', 'ignore'] });
    return { name, manifest: fs.readFileSync(out + '.json', 'utf8'), weights: fs.readFileSync(out + '.bin') };
  });
}

// 100 images: the first of the CIFAR-10 test set if present, else seeded noise.
function images(count) {
  const dir = cifar10Dir();
  const file = path.join(dir, 'test_batch.bin');
  if (fs.existsSync(file))
    return { bytes: fs.readFileSync(file).subarray(0, count * 3073), source: 'CIFAR-10 test images' };
  const b = new Uint8Array(count * 3073);
  let s = 12345;
  for (let i = 0; i < b.length; i++)
    b[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
  for (let i = 0; i < count; i++)
    b[i * 3073] = i % 10;
  return { bytes: b, source: 'random images' };
}

// ---- the same network in TensorFlow.js ----

async function loadTfjs() {
  let tf, wasm;
  try {
    tf = await import('@tensorflow/tfjs-core');
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch {
    throw new Error('TensorFlow.js is missing: run `npm install` (devDependencies)');
  }
  const dist = path.dirname(fileURLToPath(import.meta.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')));
  wasm.setWasmPaths(dist + '/');
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);   // one thread, like one unravel worker
  tf.env().set('WASM_HAS_SIMD_SUPPORT', true);
  if (!(await tf.setBackend('wasm')))
    throw new Error('tfjs: the wasm backend did not start');
  await tf.ready();
  return { tf, version: tf.version_core, threads: wasm.getThreadsCount?.() ?? 1,
           simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT') };
}

// Parameters from the manifest and .bin, BN folded; convs HWIO for NHWC.
function tfjsNetwork(tf, manifestText, weightsBuf) {
  const m = JSON.parse(manifestText);
  const eps = m.arch.bn_eps;
  const w = new Float32Array(weightsBuf.buffer, weightsBuf.byteOffset, weightsBuf.byteLength / 4);
  const byName = new Map(m.tensors.map((t) => [t.name, t]));
  const get = (name) => {
    const t = byName.get(name);
    if (!t)
      throw new Error(`tfjs: no tensor ${name}`);
    return { shape: t.shape, data: w.subarray(t.offset / 4, t.offset / 4 + t.length / 4) };
  };
  // conv (O, I, kh, kw) + BN -> filter (kh, kw, I, O), bias (O)
  const fused = (conv, bn) => {
    const { shape: [co, ci, kh, kw], data } = get(conv);
    const g = get(`${bn}.weight`).data, b = get(`${bn}.bias`).data;
    const mu = get(`${bn}.running_mean`).data, v = get(`${bn}.running_var`).data;
    const f = new Float32Array(kh * kw * ci * co), bias = new Float32Array(co);
    for (let o = 0; o < co; o++) {
      const s = g[o] / Math.sqrt(v[o] + eps);
      bias[o] = b[o] - mu[o] * s;
      for (let i = 0; i < ci; i++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++)
            f[((y * kw + x) * ci + i) * co + o] = data[((o * ci + i) * kh + y) * kw + x] * s;
    }
    return { filter: tf.tensor4d(f, [kh, kw, ci, co]), bias: tf.tensor1d(bias), stride: 1 };
  };
  const widths = m.arch.widths, n = m.arch.blocks_per_stage;
  const stem = fused('stem.conv.weight', 'stem.bn');
  const blocks = [];
  let cin = widths[0];
  for (let b = 0; b < 3 * n; b++) {
    const stage = Math.floor(b / n), cout = widths[stage];
    const stride = stage > 0 && b % n === 0 ? 2 : 1;
    const c1 = fused(`blocks.${b}.conv1.weight`, `blocks.${b}.bn1`);
    c1.stride = stride;
    const c2 = fused(`blocks.${b}.conv2.weight`, `blocks.${b}.bn2`);
    blocks.push({ c1, c2, stride, cin, cout });
    cin = cout;
  }
  const fc = get('fc.weight');   // (10, C)
  const [classes, width] = fc.shape;
  const fcT = new Float32Array(width * classes);    // (C, 10)
  for (let o = 0; o < classes; o++)
    for (let i = 0; i < width; i++)
      fcT[i * classes + o] = fc.data[o * width + i];
  const fcW = tf.tensor2d(fcT, [width, classes]);
  const fcB = tf.tensor1d(get('fc.bias').data);
  const { mean, std } = m.input;

  const conv = (x, c, activation) =>
    tf.fused.conv2d({ x, filter: c.filter, strides: c.stride, pad: 1, bias: c.bias, activation });
  // Shortcut A: every second pixel, zero channels padded on both sides.
  const shortcutA = (x, blk) => {
    if (blk.stride === 1 && blk.cin === blk.cout)
      return x;
    const [nb, h, wd] = x.shape;
    let s = blk.stride === 2 ? tf.stridedSlice(x, [0, 0, 0, 0], [nb, h, wd, blk.cin], [1, 2, 2, 1]) : x;
    const pad = (blk.cout - blk.cin) / 2;
    return tf.pad(s, [[0, 0], [0, 0], [0, 0], [pad, blk.cout - blk.cin - pad]]);
  };
  const forward = (x) => tf.tidy(() => {
    let y = conv(x, stem, 'relu');
    for (const blk of blocks) {
      const t = conv(y, blk.c1, 'relu');
      y = tf.relu(tf.add(conv(t, blk.c2, 'linear'), shortcutA(y, blk)));
    }
    return tf.add(tf.matMul(tf.mean(y, [1, 2]), fcW), fcB);
  });
  // Record-layout uint8 pixels -> normalised NHWC input (outside the timing,
  // like a caller that keeps its input as a tensor).
  const input = (bytes, count) => {
    const x = new Float32Array(count * 3072);
    for (let i = 0; i < count; i++)
      for (let p = 0; p < 1024; p++)
        for (let c = 0; c < 3; c++)
          x[i * 3072 + p * 3 + c] = (bytes[i * 3073 + 1 + c * 1024 + p] / 255 - mean[c]) / std[c];
    return tf.tensor4d(x, [count, 32, 32, 3]);
  };
  return { forward, input };
}

// ---- the run ----

function fmt(v, digits = 0) {
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unravel-bench-'));
  try {
    const models = makeModels(dir);
    const data = images(100);
    const wasmFile = option('--wasm', null);   // another build, for A/B runs
    const unravel = await loadUnravel(wasmFile ? { wasmBytes: fs.readFileSync(wasmFile) } : {});
    const scalarFile = path.join(ROOT, 'build/wasm/unravel-scalar.wasm');
    const scalar = fs.existsSync(scalarFile)
      ? await loadUnravel({ wasmBytes: fs.readFileSync(scalarFile) }) : null;
    const tfjs = await loadTfjs();
    const { tf } = tfjs;
    console.error(`unravel ${unravel.version} (${unravel.isa}); tfjs-core ${tfjs.version} wasm ` +
                  `(SIMD ${tfjs.simd}, ${tfjs.threads} thread); node ${process.version}; ` +
                  `${data.source}; ${SECONDS} s per measurement`);

    console.error('WASM SIMD128 peak ...');
    const { shapes: peak, peak: peakGflops } = await simdPeak();

    const rows = [];
    for (const spec of models) {
      const model = unravel.loadModel(spec.manifest, spec.weights, { name: spec.name });
      const cifar = unravel.loadCifar(data.bytes);
      const net = tfjsNetwork(tf, spec.manifest, spec.weights);
      const macs = model.info.macs;

      // The two must compute the same function before their speed means anything.
      const x100 = net.input(data.bytes, 100);
      const tfLogits = net.forward(x100);
      const want = model.forward(cifar, { count: 100 });
      const got = tfLogits.dataSync();
      tfLogits.dispose();
      let diff = 0, scale = 0;
      for (let i = 0; i < want.length; i++) {
        diff = Math.max(diff, Math.abs(got[i] - want[i]));
        scale = Math.max(scale, Math.abs(want[i]));
      }
      if (!(diff <= 1e-3 * Math.max(1, scale)))
        throw new Error(`${spec.name}: tfjs and unravel logits differ by ${diff} (max |logit| ${scale})`);
      console.error(`${spec.name}: ${fmt(macs / 1e6, 1)} M MACs/image; tfjs vs unravel max |logit diff| ` +
                    `${diff.toExponential(1)} (max |logit| ${fmt(scale, 1)})`);

      const scalarModel = scalar?.loadModel(spec.manifest, spec.weights);
      const scalarCifar = scalar?.loadCifar(data.bytes);
      for (const batch of BATCHES) {
        const x = batch === 100 ? x100 : net.input(data.bytes, 1);
        let at = 0;
        const runs = [
          () => model.forward(cifar, { start: batch === 1 ? (at = (at + 1) % 100) : 0, count: batch, batch }),
          async () => {
            const y = net.forward(x);
            await y.data();
            y.dispose();
          },
        ];
        if (scalarModel && batch === 1)   // (a batch of 100 takes it 5-20 s)
          runs.push(() => scalarModel.forward(scalarCifar, { start: at, count: 1, batch: 1 }));
        const [un, tj, sc = NaN] = await throughputs(batch, runs);
        if (batch === 1)
          x.dispose();
        const row = { model: spec.name, batch, unravel: un, tfjs: tj, scalar: sc,
                      ratio: un / tj, peakShare: (un * macs * 2) / (peakGflops * 1e9),
                      tfjsPeakShare: (tj * macs * 2) / (peakGflops * 1e9) };
        rows.push(row);
        console.error(`  batch ${batch}: unravel ${fmt(un)} img/s, tfjs ${fmt(tj)} img/s ` +
                      `(x${fmt(row.ratio, 2)})${Number.isNaN(sc) ? '' : `, unravel scalar ${fmt(sc)} img/s`}`);
      }
      x100.dispose();
      scalarModel?.dispose();
      scalarCifar?.dispose();
      model.dispose();
      cifar.dispose();
    }

    const table = report(rows, peak, peakGflops, tfjs, unravel, data.source);
    console.log(table);
    if (!flag('--no-write'))
      writeSection(RESULTS, 'WASM vs TensorFlow.js', machineName(), table);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function machineName() {
  return option('--machine', `${os.cpus()[0]?.model?.trim() || 'unknown CPU'}, ${os.cpus().length} cores`);
}

function report(rows, peak, peakGflops, tfjs, unravel, source) {
  const cpu = os.cpus()[0]?.model?.trim() || 'unknown CPU';
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} by \`node bench/wasm-vs-tfjs.mjs\` ` +
    `(${SECONDS} s per cell: unravel, tfjs and scalar take turns in ${ROUNDS} rounds, median round) on ${cpu}, ${os.cpus().length} cores, ` +
    `load average ${os.loadavg()[0].toFixed(2)} at the end, Node ${process.version}. ` +
    `One thread each: unravel ${unravel.version} \`${option('--wasm', 'wasm/unravel.wasm')}\` (${unravel.isa}) and ` +
    `TensorFlow.js ${tfjs.version} with @tensorflow/tfjs-backend-wasm (SIMD ${tfjs.simd ? 'on' : 'off'}, ` +
    `${tfjs.threads} thread). Same random weights (\`unravel init --seed 1\`, shortcut A), ` +
    `${source}; logits of the two agree to 1e-3 before timing. tfjs gets its input as a ready ` +
    'NHWC tensor; unravel converts the uint8 records itself inside the timing.',
    '',
    '| model | batch | unravel WASM (img/s) | tfjs-wasm (img/s) | unravel / tfjs | unravel % of peak | tfjs % of peak | unravel scalar WASM, reference kernels (img/s) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.model} | ${r.batch} | ${fmt(r.unravel)} | ${fmt(r.tfjs)} | ` +
                       `${fmt(r.ratio, 2)}x | ${fmt(100 * r.peakShare)}% | ${fmt(100 * r.tfjsPeakShare)}% | ` +
                       `${Number.isNaN(r.scalar) ? 'n/a' : fmt(r.scalar)} |`),
    '',
    `WASM SIMD128 multiply-add peak of this core (\`bench/simd_peak.c\`: independent f32x4 ` +
    `accumulators in registers, mul + add since SIMD128 has no FMA; and the 4x8 and 6x8 ` +
    `micro-kernel loops with their loads). "% of peak" above is 2 x MACs x images/s over the best chain count, ` +
    `counting the direct convolution's MACs (unravel's Winograd F(4x4) does 4x fewer on 3x3 stride-1 convs, ` +
    `so its share can pass 100%), ` +
    `${fmt(peakGflops, 1)} GFLOP/s:`,
    '',
    '| loop | GFLOP/s |',
    '|---|---:|',
    ...peak.map((p) => `| ${p.label} | ${fmt(p.gflops, 1)} |`),
  ];
  return lines.join('\n');
}

await main();
