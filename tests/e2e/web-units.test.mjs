// web-units.test.mjs: the page's DOM-free modules under plain node:test:
// URL state, path-length math, and the experiment layer over a fake pool
// (lesion and random curves split by image ranges and merged exactly,
// pathStats split by samples, experiment tasks cooperative), and the rows of
// the tables that set ours beside the paper. The numbers (summaries,
// intervals, plan rules) are the JS API's, in C: a real module and models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { parseState, serializeState, checkPlan, planProblems, embedSnippet } from '../../web/url-state.mjs';
import { pathShare, pathLengthDistribution, median } from '../../web/math.mjs';
import * as ex from '../../web/experiments.mjs';
import { loadUnravel } from '../../wasm/unravel.mjs';

const u = await loadUnravel();
const shipped = (name) => u.loadModel(fs.readFileSync(new URL(`../../models/${name}.json`, import.meta.url), 'utf8'),
                                      fs.readFileSync(new URL(`../../models/${name}.bin`, import.meta.url)), { name });

test('URL state: defaults, bad values reported and replaced, unknown keys ignored', () => {
  const { state, problems } = parseState('?model=resnet56&deleted=1,x&images=123&samples=0&seed=7&view=swap&zzz=1');
  assert.equal(state.model, 'resnet56');
  assert.deepEqual(state.deleted, []);
  assert.equal(state.images, 500);
  assert.equal(state.samples, 10);
  assert.equal(state.seed, 7);
  assert.equal(state.view, 'swap');
  assert.equal(problems.length, 3);
  assert.ok(problems.every((p) => /using the default/.test(p)));
  assert.equal(parseState('?model=../../etc').problems.length, 1);
  assert.equal(serializeState({ ...parseState('').state, deleted: [2, 5], seed: 3 }), 'deleted=2,5&seed=3');
  assert.equal(parseState('?pbatch=32').state.pbatch, 32);
  assert.equal(parseState('?pbatch=7').state.pbatch, 16);
  assert.equal(serializeState({ ...parseState('').state, pbatch: 64 }), 'pbatch=64');
  // q, the effective window's share of the gradient: a fraction in 0.5..0.99
  assert.equal(parseState('?q=0.75').state.q, 0.75);
  assert.equal(parseState('?q=.5').state.q, 0.5);
  for (const bad of ['1', '0.3', '0.999', 'abc', '0x1', '1e-1', '-0.9', 'NaN', ''])
    assert.match(parseState(`?q=${bad}`).problems[0] ?? '', /^URL parameter q=.*using the default \(0\.9\)/, `q=${bad}`);
  assert.equal(parseState('?q=abc').state.q, 0.9);
  assert.equal(serializeState({ ...parseState('').state, q: 0.95 }), 'q=0.95');
  assert.equal(parseState('?grid=wrong').state.grid, 'wrong');
  assert.equal(serializeState(parseState('?grid=sample').state), '');
  assert.match(parseState('?grid=all').problems[0], /grid.*"all" is not one of sample, wrong, right/);
  assert.equal(serializeState(parseState('?q=0.90').state), '');
});

test('URL state: plans are checked by the model (C\'s rules), each part on its own', async () => {
  const resnet = shipped('resnet20'), plain = shipped('plain20');
  const check = (model, deleted, order) => checkPlan(model.info.blocks, deleted, order, async (p) => planProblems(model, p));
  const one = async (...a) => (await check(...a)).problems;
  assert.deepEqual(await one(resnet, [99], null),
                   ['URL parameter deleted=99: deleted block 99 is out of range (the model has blocks 0..8); no blocks deleted.']);
  assert.match((await one(resnet, [], [1, 0, 2]))[0], /^URL parameter order=1,0,2: order has 3 entries, the model has 9 blocks; using the network order\.$/);
  assert.match((await one(resnet, [], [0, 1, 2, 4, 3, 5, 6, 7, 8]))[0], /cannot move to position 3.*keep their place/);
  assert.match((await one(resnet, [], [0, 1, 3, 2, 4, 5, 6, 7, 8]))[0], /block 3 \(stage 2\) cannot move to position 2 in stage 1: blocks only trade places within a stage/);
  assert.match((await one(resnet, [], [0, 0, 2, 3, 4, 5, 6, 7, 8]))[0], /block 0 appears twice in the order/);
  const ok = await check(resnet, [4, 1, 4], [2, 1, 0, 3, 5, 4, 6, 8, 7]);
  assert.deepEqual(ok, { deleted: [1, 4], order: [2, 1, 0, 3, 5, 4, 6, 8, 7], problems: [] });
  // a bad order keeps good deletions, and the reverse
  const half = await check(resnet, [2], [0, 0, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([half.deleted, half.order, half.problems.length], [[2], [0, 1, 2, 3, 4, 5, 6, 7, 8], 1]);
  assert.match((await one(plain, [3], null))[0], /^URL parameter deleted=3: block 3 of a plain network downsamples .* so it cannot be deleted; no blocks deleted\.$/);
  assert.deepEqual(await one(plain, [2], null), []);
  assert.deepEqual(planProblems(resnet, { deleted: [], order: null }), { deleted: null, order: null });
  // which positions trade blocks: C's swap groups (the diagram's rule)
  assert.deepEqual(resnet.info.blocks.map((b) => b.swapGroup), [1, 1, 1, -1, 2, 2, -1, 3, 3]);
  resnet.dispose();
  plain.dispose();
});

test('path lengths: exact binomial in log space, the paper\'s 0.45%', () => {
  assert.ok(Math.abs(pathShare(54, 5, 17) - 0.004537) < 1e-6);
  const d = pathLengthDistribution(500);
  assert.ok(Math.abs(d.reduce((s, x) => s + x.p, 0) - 1) < 1e-9);
  assert.deepEqual(pathLengthDistribution(3).map((x) => Math.round(x.paths)), [1, 3, 3, 1]);
});

test('median: odd and even counts, unsorted input left as it was, NaN when empty', () => {
  const v = [5, -1, 3];
  assert.equal(median(v), 3);
  assert.deepEqual(v, [5, -1, 3]);
  assert.equal(median([4, 1, 3, 10]), 3.5);
  assert.ok(Number.isNaN(median([])));
});

function fakePool(handler, size = 3) {
  const calls = [];
  return { size, calls, unravel: u,
           run: async (msg, opts = {}) => { calls.push({ ...msg, pool: opts }); opts.onProgress?.(1, 1); return handler(msg); } };
}

test('splitImages: whole batches, at most one part per worker, the rest in the last', () => {
  assert.deepEqual(ex.splitImages(500, 2, 100, 100), [{ start: 0, count: 300 }, { start: 300, count: 200 }]);
  assert.deepEqual(ex.splitImages(50, 4, 100, 100), [{ start: 0, count: 50 }]);
  const r = ex.splitImages(10000, 3, 100, 100);
  assert.equal(r.reduce((s, x) => s + x.count, 0), 10000);
  assert.ok(r.every((x) => x.start % 100 === 0));
});

test('progressiveChunks: a small first chunk per worker, then equal chunks of at most a batch, a multiple of the workers, in image order', () => {
  assert.deepEqual(ex.progressiveChunks(500, 2, 100, 50), [{ start: 0, count: 50 }, { start: 50, count: 50 },
    { start: 100, count: 100 }, { start: 200, count: 100 }, { start: 300, count: 100 }, { start: 400, count: 100 }]);
  // 900 images after the first chunks: 10 chunks of 90 (not 9 of 100, which would leave one worker idle at the end)
  const c = ex.progressiveChunks(1000, 2, 100, 50);
  assert.equal(c.length, 12);
  assert.ok(c.slice(2).every((x) => x.count === 90));
  assert.deepEqual(ex.progressiveChunks(70, 2, 100, 50), [{ start: 0, count: 50 }, { start: 50, count: 20 }]);
  assert.deepEqual(ex.progressiveChunks(30, 4, 100, 50), [{ start: 0, count: 30 }]);
  for (const [n, w] of [[10000, 2], [1000, 3], [551, 4], [101, 1]]) {
    const ch = ex.progressiveChunks(n, w, 100, 50);
    assert.ok(ch.every((x, i) => x.start === (i ? ch[i - 1].start + ch[i - 1].count : 0) && x.count > 0 && x.count <= 100), `${n} on ${w}`);
    assert.equal(ch.at(-1).start + ch.at(-1).count, n);
  }
});

test('lesionSingle: image chunks on several workers merge to the one-call errors exactly, with exact partials', async () => {
  // 7 blocks; each image i is right under plan b when (i * 7 + b * 3) % 10 < 4 (b = 7: full network)
  const ok = (i, b) => (i * 7 + b * 3) % 10 < 4;
  const right = (start, count, b) => { let c = 0; for (let i = start; i < start + count; i++) c += ok(i, b); return c; };
  const flips = (start, count, b) => {
    let wrong = 0, turned = 0;
    for (let i = start; i < start + count; i++) { wrong += ok(i, 7) && !ok(i, b); turned += !ok(i, 7) && ok(i, b); }
    return { turnedWrong: wrong, turnedRight: turned, ci95: u.pairedCi95(count, wrong, turned), correct: right(start, count, b) };
  };
  // a worker's lesionSingle on images start..start+count-1, in batches of 100
  const lesion = (start, count) => ({
    n: count, full: { error: 1 - right(start, count, 7) / count, correct: right(start, count, 7) },
    blocks: Array.from({ length: 7 }, (_, b) => ({ block: b, stage: 1, downsample: false, deletable: b !== 3,
                                                    error: b === 3 ? null : 1 - right(start, count, b) / count,
                                                    ...(b === 3 ? {} : flips(start, count, b)) })),
    forwardEquivalents: 4.5, blocksRun: 4.5 * 7 * Math.ceil(count / 100), batches: Math.ceil(count / 100),
  });
  const pool = fakePool((m) => lesion(m.start, m.count), 2);
  const partials = [];
  const r = await ex.lesionSingle(pool, 'primary', 1000, { batch: 100, onPartial: (p) => partials.push(p) });
  // progressive chunks: one small chunk per worker, then whole batches
  const starts = [0, 50, ...Array.from({ length: 10 }, (_, i) => 100 + 90 * i)];
  assert.deepEqual(pool.calls.map((c) => [c.type, c.fn, c.start, c.count, c.pool.cooperative]),
                   starts.map((s) => ['expt', 'lesionSingle', s, s < 100 ? 50 : 90, true]));
  // each partial is exactly the sweep on the first n images, n growing; the last one is the result
  assert.deepEqual(partials.map((p) => p.n), starts.slice(1));
  for (const p of partials) {
    const want = lesion(0, p.n);
    assert.equal(p.full.error, want.full.error);
    assert.deepEqual(p.blocks.map((b) => [b.error, b.turnedWrong, b.ci95]), want.blocks.map((b) => [b.error, b.turnedWrong, b.ci95]));
  }
  assert.ok(partials[0].blocks[0].ci95 > r.blocks[0].ci95, 'the intervals narrow as images come in');
  const one = lesion(0, 1000);
  assert.equal(r.n, 1000);
  assert.equal(r.full.error, one.full.error);                                  // bit for bit
  assert.deepEqual(r.blocks.map((b) => b.error), one.blocks.map((b) => b.error));
  // flips add up; the interval is recomputed on all the images, not averaged
  assert.deepEqual(r.blocks.map((b) => [b.turnedWrong, b.turnedRight, b.ci95]),
                   one.blocks.map((b) => [b.turnedWrong, b.turnedRight, b.ci95]));
  assert.ok(one.blocks.some((b) => b.turnedWrong > 0 && b.turnedRight > 0));
  assert.equal(r.forwardEquivalents, 4.5);
});

test('deleteRandom / swapRandom: image ranges on several workers, every draw in each, merged exactly', async () => {
  // draw s of k gets image i right when (i * 3 + k * 5 + s) % 7 < 3
  const right = (start, count, k, s) => { let c = 0; for (let i = start; i < start + count; i++) c += (i * 3 + k * 5 + s) % 7 < 3; return c; };
  const curve = (start, count, ks, samples, swap) => ({
    points: ks.map((k) => {
      const errors = Array.from({ length: samples }, (_, s) => 1 - right(start, count, k, s) / count);
      const taus = errors.map((_, s) => 1 - (k + s) / 20);
      return { k, ...u.summarize(errors), errors, correct: errors.map((_, s) => right(start, count, k, s)),
               ...(swap ? { taus, tau: u.summarize(taus).mean } : {}) };
    }),
  });
  const pool = fakePool((m) => curve(m.start, m.count, m.opts.ks, m.opts.samples, m.fn === 'swapRandom'), 2);
  const partial = [];
  const ks = [0, 1, 2, 5, 9];
  const r = await ex.randomCurve(pool, 'primary', 'delete', 1000, { ks, samples: 4, seed: 9 },
                                 { onPartial: (p) => partial.push(p.n) });
  assert.deepEqual(pool.calls.map((c) => [c.type, c.fn, c.start, c.count, c.pool.cooperative]),
                   [0, 100, 200, 300, 400, 500, 600, 700, 800, 900].map((start) => ['expt', 'deleteRandom', start, 100, true]));
  assert.ok(pool.calls.every((c) => c.opts.seed === 9 && c.opts.samples === 4 && c.opts.ks === ks));
  assert.deepEqual(partial, [100, 200, 300, 400, 500, 600, 700, 800, 900]);   // the curve so far, after each range but the last
  const one = curve(0, 1000, ks, 4, false);
  assert.equal(r.n, 1000);
  assert.deepEqual(r.points, one.points);         // bit for bit: errors, mean, sd, min, max
  const sw = await ex.randomCurve(pool, 'compare', 'swap', 550, { ks: [0, 3], samples: 3, seed: 1 });
  assert.ok(pool.calls.slice(10).every((c) => c.fn === 'swapRandom' && c.key === 'compare'));
  assert.deepEqual(sw.points, curve(0, 550, [0, 3], 3, true).points);
  assert.deepEqual(ex.defaultKs(9), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(ex.defaultKs(54), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 37, 54]);
  assert.deepEqual(ex.defaultKs(27), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 27]);
  assert.deepEqual(ex.defaultKs(7), [0, 1, 2, 3, 4, 5, 6, 7]);
});

test('pathStats: samples split by firstSample across workers (two equal ranges each), merged in sample order, the draws so far as they come', async () => {
  // 2 blocks; the fake worker "measures" norm = 100 * sample + k
  const pool = fakePool((msg) => msg.type === 'pathSummary'
    ? { norms: msg.norms }
    : { norms: [0, 1, 2].map((k) => Array.from({ length: msg.opts.samples }, (_, i) => 100 * (msg.opts.firstSample + i) + k)) });
  const fracs = [];
  const partials = [];
  const r = await ex.pathStats(pool, 'primary', 500, { samples: 10, seed: 2, batch: 16, q: 0.9 },
                               { onProgress: (f) => fracs.push(f), onPartial: (p) => partials.push(p) });
  const runs = pool.calls.filter((c) => c.type === 'expt');
  assert.deepEqual(runs.map((c) => [c.opts.firstSample, c.opts.samples]), [[0, 2], [2, 2], [4, 2], [6, 2], [8, 1], [9, 1]]);
  assert.deepEqual(partials.map((p) => p.samples), [2, 4, 6, 8, 9]);
  assert.deepEqual(partials[1].norms[2], [2, 102, 202, 302]);
  assert.ok(runs.every((c) => c.fn === 'pathStats' && c.count === 500 && c.opts.seed === 2 &&
                             c.opts.batch === 16 && c.opts.q === 0.9 && c.pool.cooperative));
  assert.deepEqual(r.norms[1], Array.from({ length: 10 }, (_, s) => 100 * s + 1));
  assert.equal(pool.calls.at(-1).type, 'pathSummary');
  assert.equal(fracs.at(-1), 1);
  assert.equal(ex.pathStatsCost(9, 10, 16), 1760);
});

test('"Ours beside the paper": rows for residual and plain nets, the window and how firm it is', async () => {
  const pt = await import('../../web/paper-tables.mjs');
  const blocksOf = (errs) => errs.map((e, b) => ({ block: b, downsample: b === 1, deletable: e != null, error: e }));
  const rows = pt.lesionRows([{ name: 'r', result: { full: { error: 0.1 }, blocks: blocksOf([0.12, 0.3, 0.15]) } },
                              { name: 'p', result: { full: { error: 0.11 }, blocks: blocksOf([0.9, null, 0.88]) } },
                              { name: 'pending', result: null }], (name) => name === 'p');
  assert.deepEqual(rows, [
    ['r: full network', '10.0%', 'about 6.1%'],
    ['r: delete one non-downsampling block', '12.0% – 15.0%', 'no noticeable change'],
    ['r: delete one downsampling block', '30.0% – 30.0%', 'modest increase'],
    ['p: full network', '11.0%', '–'],
    ['p: delete one block', '88.0% – 90.0%', 'about 90% (one layer of VGG-15)'],
  ]);
  // with the deletions' paired intervals: how many changes are within the noise
  const measured = { n: 500, full: { error: 0.1 }, blocks: blocksOf([0.104, 0.3, 0.13, 0.098])
    .map((b, i) => ({ ...b, ci95: [0.005, 0.02, 0.01, 0.004][i] })) };
  assert.deepEqual(pt.lesionRows([{ name: 'r', result: measured }], () => false)[2],
                   ['r: of those, changes within the noise (95%, paired, 500 images)', '2 of 3', 'all (no noticeable change)']);
  assert.deepEqual(pt.kRows('swap', [{ name: 'r', points: [{ k: 0, mean: 0.1, tau: 1 }, { k: 5, mean: 0.4, tau: 0.42 }] }]),
                   [['r: error from k = 0 to k = 5 (tau 0.42)', '10.0% → 40.0%', "smooth increase as Kendall's tau falls"]]);
  const r = { samples: 3, window: { q: 0.9, a: 2, b: 7, share: 0.961, bootstrap: { resamples: 1000, same: 0.72, a: [2, 3], b: [7, 7] } } };
  const p = pt.pathsRows(r, 9, false);
  assert.deepEqual(p[0], ['blocks n, paths', '9, 2⁹', '54, 2⁵⁴']);
  assert.deepEqual(p[1], ['effective window (q = 0.9)', 'lengths 2–7', 'lengths 5–17']);
  assert.deepEqual(p[3], ['how firm the window is (1,000 resamples of the 3 draws)',
                          'the same window in 72%; 95% start at 2–3 and end at 7', 'not reported']);
  assert.deepEqual(pt.pathsRows(null, 9, true)[1], ['effective window', '–', 'lengths 5–17, 0.45% of paths']);
  assert.match(pt.pathsNote(9, false), /smaller than the paper's \(n = 9 blocks against 54\)/);
  assert.match(pt.pathsNote(54, true), /has the paper's 54 blocks.*no training record/);
  // once measured: whether the gradient falls with length, from a line through its logarithm
  const falling = Array.from({ length: 10 }, (_, k) => 0.5 * 0.25 ** k);
  assert.match(pt.pathsNote(9, false, falling), /Here the gradient norm falls by a factor 0\.25 per extra branch .*R² = 1\.00: close to exponential, as in the paper\)\./);
  assert.match(pt.pathsNote(9, false, [1, 3, 1, 3, 1, 3, 1, 3]), /Here it does not fall with length \(factor 1\.\d\d per extra branch/);
  assert.doesNotMatch(pt.pathsNote(9, false, [0, 0, 1]), /Here/);   // too few lengths to fit
  const { decayFit } = await import('../../web/math.mjs');
  const f = decayFit([8, 0, 2, 1]);   // the zero is left out: log 8, log 2, log 1 at k = 0, 2, 3
  assert.ok(Math.abs(f.factor - 0.5) < 1e-12 && Math.abs(f.r2 - 1) < 1e-12, `${f.factor} ${f.r2}`);
});

test('fetchRecords: a range of whole records, a whole file from a server without ranges, bad replies named', async () => {
  const { fetchRecords } = await import('../../web/data.mjs');
  const R = 3073, file = new Uint8Array(5 * R).map((_, i) => (i % R === 0 ? (i / R) % 10 : i & 255));
  const asked = [];
  const serve = (reply) => { globalThis.fetch = async (url, init) => { asked.push(init.headers.Range); return reply(init.headers.Range); }; };
  const saved = globalThis.fetch;
  try {
    const ranged = (range) => {
      const [, a, b] = /bytes=(\d+)-(\d+)/.exec(range).map(Number);
      const end = Math.min(b, file.length - 1);
      return new Response(file.slice(a, end + 1), { status: 206, headers: { 'Content-Range': `bytes ${a}-${end}/${file.length}` } });
    };
    serve(ranged);
    let r = await fetchRecords('/data/test_batch.bin', 1, 3);
    assert.deepEqual(asked, [`bytes=${R}-${3 * R - 1}`]);
    assert.equal(r.total, 5);
    assert.deepEqual(new Uint8Array(r.bytes), file.slice(R, 3 * R));
    r = await fetchRecords('/data/test_batch.bin', 3, 10);   // past the end: clamped by the server
    assert.deepEqual(new Uint8Array(r.bytes), file.slice(3 * R));
    serve(() => new Response(file, { status: 200 }));         // no range support: everything from `from` on
    r = await fetchRecords('/data/test_batch.bin', 2, 3);
    assert.equal(r.total, 5);
    assert.deepEqual(new Uint8Array(r.bytes), file.slice(2 * R));
    serve(() => new Response('nope', { status: 404 }));
    assert.equal(await fetchRecords('/data/test_batch.bin', 0, 1), null);
    serve(() => new Response('', { status: 416 }));
    await assert.rejects(fetchRecords('/data/test_batch.bin', 9, 10), /has no records 9\.\.9/);
    serve(() => new Response(file.slice(0, 100), { status: 206, headers: { 'Content-Range': `bytes 0-99/${file.length}` } }));
    await assert.rejects(fetchRecords('/data/test_batch.bin', 0, 1), /not whole records from 0/);
    serve(() => new Response(file.slice(0, R + 5), { status: 200 }));
    await assert.rejects(fetchRecords('/data/test_batch.bin', 0, 1), /not a whole number of 3073-byte records/);
    serve(() => new Response('', { status: 500 }));
    await assert.rejects(fetchRecords('/data/test_batch.bin', 0, 1), /HTTP 500/);
  } finally {
    globalThis.fetch = saved;
  }
});

test('embedSnippet: model and view always, other values where they differ from the defaults, in the URL\'s order', () => {
  const st = parseState('?view=paths&q=0.75&model=resnet110-half&deleted=3,7&pbatch=32').state;
  assert.equal(embedSnippet(st, 'https://example.org/unravel/unravel-explorer.mjs'),
               '<script type="module" src="https://example.org/unravel/unravel-explorer.mjs"></script>\n' +
               '<unravel-explorer model="resnet110-half" deleted="3,7" pbatch="32" q="0.75" view="paths"></unravel-explorer>');
  assert.equal(embedSnippet(parseState('').state, 'm.mjs'),
               '<script type="module" src="m.mjs"></script>\n<unravel-explorer model="resnet110-half" view="lesion"></unravel-explorer>');
  // values come checked from the URL table; a hand-made state still cannot break out of its quotes
  assert.match(embedSnippet({ ...parseState('').state, model: 'a"b<c&' }, 'm.mjs'), /model="a&#34;b&#60;c&#38;"/);
});

test('TestImages: the first records, the rest on demand as a longer copy, a failure said once, the user\'s file replaces', async () => {
  const { TestImages } = await import('../../web/test-images.mjs');
  const R = 3073, file = new Uint8Array(30 * R).map((_, i) => (i % R === 0 ? (i / R) % 10 : i & 255));
  let fail = false;
  const asked = [];
  const saved = globalThis.fetch;
  globalThis.fetch = async (url, init) => {
    asked.push(init.headers.Range);
    if (fail) return new Response('', { status: 503 });
    const [, a, b] = /bytes=(\d+)-(\d+)/.exec(init.headers.Range).map(Number);
    const end = Math.min(b, file.length - 1);
    return new Response(file.slice(a, end + 1), { status: 206, headers: { 'Content-Range': `bytes ${a}-${end}/${file.length}` } });
  };
  try {
    const published = [];
    const images = new TestImages({ url: '/data/test_batch.bin', publish: async (bytes, append) => { published.push([bytes.byteLength / R, append]); } });
    assert.equal(await images.start(10), true);
    assert.deepEqual([images.count, images.fromSite, published], [10, true, [[10, false]]]);
    assert.equal(await images.ensure(5), null);                    // already there: nothing asked
    assert.equal(asked.length, 1);
    const [p1, p2] = await Promise.all([images.ensure(20), images.ensure(20)]);   // one fetch serves both
    assert.deepEqual([p1, p2, asked.length, images.count], [null, null, 2, 20]);
    assert.deepEqual(published[1], [20, true]);
    assert.deepEqual(new Uint8Array(images.bytes), file.slice(0, 20 * R));
    assert.deepEqual([...images.labels.slice(0, 12)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    assert.equal(await images.ensure(100), null);                   // capped at the file's 30
    assert.equal(images.count, 30);
    const fresh = new TestImages({ url: '/data/test_batch.bin', publish: async () => {} });
    await fresh.start(10);
    fail = true;
    assert.match(await fresh.ensure(30), /^More test images: .*HTTP 503; using the 10 loaded\.$/);
    const n = asked.length;
    assert.equal(await fresh.ensure(30), null);                     // and it asks no more
    assert.equal(asked.length, n);
    assert.equal(await fresh.replace(file.slice(0, 3 * R).buffer, 'mine.bin'), 3);
    assert.deepEqual([fresh.count, fresh.fromSite], [3, false]);
    await assert.rejects(fresh.replace(new ArrayBuffer(5), 'bad.bin'), /bad\.bin: 5 bytes is not a whole number/);
    fail = false;
    globalThis.fetch = async () => new Response('', { status: 404 });
    assert.equal(await new TestImages({ url: '/x', publish: async () => {} }).start(10), false);
  } finally {
    globalThis.fetch = saved;
  }
});

test('pairedChange (the JS API\'s): answers turned wrong and right, the change and its paired 95% interval', () => {
  const pairedChange = (...a) => u.pairedChange(...a);
  const labels = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const base = [0, 1, 2, 3, 4, 5, 6, 7, 0, 0];      // 8 right
  const plan = [0, 1, 2, 3, 4, 5, 0, 0, 8, 0];      // 6, 7 turned wrong; 8 turned right; 9 wrong in both
  const c = pairedChange(base, plan, labels);
  assert.equal(c.n, 10);
  assert.equal(c.turnedWrong, 2);
  assert.equal(c.turnedRight, 1);
  assert.deepEqual([c.wrongImages, c.rightImages], [[6, 7], [8]]);
  assert.equal(c.change, 0.1);
  // differences: two +1, one -1, seven 0: mean 0.1, sample variance (3 - 1/10) / 9
  assert.ok(Math.abs(c.ci95 - 1.96 * Math.sqrt((3 - 0.1) / 9 / 10)) < 1e-15);
  // the same answers: no change, no spread, whatever the error
  const same = pairedChange(base, base, labels);
  assert.deepEqual([same.turnedWrong, same.turnedRight, same.change, same.ci95], [0, 0, 0, 0]);
  // far narrower than two independent errors' noise when most answers agree
  const n = 10000, lab = new Uint8Array(n), a = new Uint8Array(n), b = new Uint8Array(n);
  for (let i = 0; i < n; i++) { a[i] = b[i] = i % 10 < 9 ? 0 : 1; }
  for (let i = 0; i < 50; i++) b[i * 20] = 1;           // 50 answers turned wrong
  const big = pairedChange(a, b, lab);
  assert.equal(big.change, 0.005);
  assert.ok(big.ci95 < 0.0015 && big.ci95 > 0.001, `ci95 ${big.ci95}`);
  assert.throws(() => pairedChange([0, 1], [0], labels), /2 base, 1 plan/);
  assert.throws(() => pairedChange([0, 1], [0, 1], [0]), /1 labels/);
});
