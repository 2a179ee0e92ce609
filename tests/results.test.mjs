// scripts/results.mjs: on tiny models (a ResNet and its plain twin, two
// ResNets of different depths, and a pair trained with and without
// --active-blocks) it writes RESULTS.md with
// every section and chart, reuses its cached results on a rerun, and sets
// the short-path model beside its normally trained twin (claim 7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cifar10Dir } from '../scripts/data-dir.mjs';

const CLI = process.env.UNRAVEL_CLI || 'build/unravel';
const DATA = cifar10Dir();
const skip = !existsSync(path.join(DATA, 'test_batch.bin')) && `no CIFAR-10 in ${DATA}`;
const FAST = ['--limit', '60', '--samples', '1', '--path-samples', '2', '--path-batch', '4', '--kmax', '2', '--nice', '0'];

const run = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, CIFAR10_DIR: DATA } });
const ok = (r) => assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);

test('a ResNet and its plain twin: every section, chart and cached rerun', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'unravel-results-'));
  try {
    for (const [name, sc] of [['net', 'A'], ['flat', 'none']])
      ok(run(CLI, ['init', '--blocks-per-stage', '1', '--width', '4', '--shortcut', sc, '--seed', '1', '--out', path.join(dir, name)]));
    const models = `${dir}/net.json,${dir}/flat.json`;
    let r = run('node', ['scripts/results.mjs', '--models', models, ...FAST, '--out', path.join(dir, 'out')]);
    ok(r);
    const md = readFileSync(path.join(dir, 'out', 'RESULTS.md'), 'utf8');
    for (const h of ['## Models', '### Key numbers', '### Deleting single blocks (claim 2)', '### Deleting k random blocks (claim 3)',
      '### Paths and their gradients', '## How these figures were produced'])
      assert.ok(md.includes(h), `RESULTS.md lacks "${h}"`);
    assert.ok(!md.includes('## Training only short paths'), 'no short-path pair here');
    // the single draws behind the mean gradients (the CLI's norms) are described
    assert.match(md, /The 2 draws behind each mean spread widely: their middle 80% spans [\d.]+ decades/);
    // and how far the window moves with them: the CLI's bootstrap, in words and in the command
    const boot = JSON.parse(readFileSync(path.join(dir, 'out', 'results', 'net-paths.json'), 'utf8')).result.window.bootstrap;
    assert.equal(boot.resamples, 1000);
    assert.match(md, new RegExp(`Resampling those draws \\(1,000 bootstrap resamples of the 2 samples\\) gives the same window \\d+–\\d+ ` +
                                `in ${Math.round(100 * boot.same_window)}% of resamples; 95% of the windows start at`));
    assert.match(md, /build\/unravel paths .* --q 0\.9 --bootstrap 1000/);
    const files = readdirSync(path.join(dir, 'out', 'results'));
    assert.ok(files.filter((f) => f.endsWith('.svg')).length >= 5, files.join(' '));
    for (const f of files.filter((f) => f.endsWith('.svg')))
      assert.match(readFileSync(path.join(dir, 'out', 'results', f), 'utf8'), /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    // each deletion against the full network, image by image: the whiskers and the sentence
    assert.match(md, /Set against the full network image by image \(a paired 95% interval per deletion: the chart's whiskers\), (every one of the \d+ non-downsampling deletions is a measurable change on 60 images|\d+ of the \d+ non-downsampling deletions (is|are) within the noise of 60 images)/);
    const lesionSvgs = readdirSync(path.join(dir, 'out', 'results')).filter((f) => /lesion.*\.svg$/.test(f));
    assert.ok(lesionSvgs.some((f) => /<path [^>]*class="ci"/.test(readFileSync(path.join(dir, 'out', 'results', f), 'utf8'))), lesionSvgs.join(' '));
    // A rerun with the same models and options computes nothing.
    r = run('node', ['scripts/results.mjs', '--models', models, ...FAST, '--out', path.join(dir, 'out')]);
    ok(r);
    assert.doesNotMatch(r.stderr, /running /);
    assert.match(r.stderr, /cached/);
    // a cached lesion of the older format (no turned_wrong / ci95) is rerun, the rest kept
    const lesionFile = path.join(dir, 'out', 'results', 'net-lesion.json');
    const old = JSON.parse(readFileSync(lesionFile, 'utf8'));
    delete old.format;
    writeFileSync(lesionFile, JSON.stringify(old));
    r = run('node', ['scripts/results.mjs', '--models', models, ...FAST, '--out', path.join(dir, 'out')]);
    ok(r);
    assert.match(r.stderr, /net lesion: running/);
    assert.doesNotMatch(r.stderr, /flat lesion: running|delete-random: running|paths: running/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--experiments runs only those, in that order, and shows cached others', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'unravel-results-e-'));
  try {
    ok(run(CLI, ['init', '--blocks-per-stage', '1', '--width', '4', '--shortcut', 'A', '--seed', '1', '--out', path.join(dir, 'net')]));
    const args = ['scripts/results.mjs', '--models', `${dir}/net.json`, ...FAST, '--out', path.join(dir, 'out')];
    let r = run('node', [...args, '--experiments', 'paths,lesion']);
    ok(r);
    assert.ok(r.stderr.indexOf('net paths: running') < r.stderr.indexOf('net lesion: running'), r.stderr);
    assert.doesNotMatch(r.stderr, /delete-random: running|swap-random: running/);
    let md = readFileSync(path.join(dir, 'out', 'RESULTS.md'), 'utf8');
    assert.ok(md.includes('### Deleting single blocks (claim 2)') && !md.includes('### Deleting k random blocks'));
    r = run('node', [...args, '--experiments', 'delete-random']);
    ok(r);
    assert.doesNotMatch(r.stderr, /lesion: running|paths: running/);
    md = readFileSync(path.join(dir, 'out', 'RESULTS.md'), 'utf8');
    for (const h of ['### Deleting single blocks (claim 2)', '### Deleting k random blocks (claim 3)', '### Paths and their gradients'])
      assert.ok(md.includes(h), `RESULTS.md lacks "${h}" (cached results must show)`);
    // the rerun command given is the whole run: no --experiments, --nice or --force
    const rerun = md.split('\n').find((l) => l.startsWith('node scripts/results.mjs'));
    assert.ok(rerun.includes('--limit 60') && !/--experiments|--nice|--force/.test(rerun), rerun);
    // --force with --experiments recomputes those only; the others still show
    r = run('node', [...args, '--experiments', 'lesion', '--force']);
    ok(r);
    assert.match(r.stderr, /net lesion: running/);
    assert.doesNotMatch(r.stderr, /delete-random: running|paths: running/);
    md = readFileSync(path.join(dir, 'out', 'RESULTS.md'), 'utf8');
    for (const h of ['### Deleting k random blocks (claim 3)', '### Paths and their gradients'])
      assert.ok(md.includes(h), `RESULTS.md lacks "${h}" after --force --experiments lesion`);
    assert.doesNotMatch(md, /\| false \|/);
    r = run('node', [...args, '--experiments', 'lesion,frobnicate']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--experiments: frobnicate is not one of/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two residual networks of different depths get the "Across depths" section', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'unravel-results-d-'));
  try {
    for (const [name, n] of [['shallow', '1'], ['deeper', '2']])
      ok(run(CLI, ['init', '--blocks-per-stage', n, '--width', '4', '--shortcut', 'A', '--seed', '1', '--out', path.join(dir, name)]));
    const r = run('node', ['scripts/results.mjs', '--models', `${dir}/shallow.json,${dir}/deeper.json`, ...FAST, '--out', path.join(dir, 'out')]);
    ok(r);
    const md = readFileSync(path.join(dir, 'out', 'RESULTS.md'), 'utf8');
    const sec = md.slice(md.indexOf('## Across depths'), md.indexOf('## How these figures'));
    assert.ok(md.includes('## Across depths'), md);
    for (const f of ['depths-lesion.svg', 'depths-delete-random.svg', 'depths-paths.svg']) {
      assert.ok(sec.includes(`results/${f}`), `${f} not in the section`);
      assert.match(readFileSync(path.join(dir, 'out', 'results', f), 'utf8'), /^<svg[^>]*xmlns/);
    }
    // one row per network (n = 3 and n = 6) and the paper's
    assert.match(sec, /\| 3 \|/);
    assert.match(sec, /\| 6 \|/);
    assert.match(sec, /paper: ResNet-110 \| 54/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a model trained with --active-blocks sits beside its normally trained twin', { skip }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'unravel-results-k-'));
  try {
    for (const [name, extra] of [['full', []], ['short', ['--active-blocks', '1']]])
      ok(run(CLI, ['train', '--blocks-per-stage', '1', '--width', '4', '--shortcut', 'A', '--epochs', '1', '--max-steps', '2',
        '--batch', '32', '--eval-limit', '50', '--data', DATA, '--out', path.join(dir, name), ...extra]));
    const short = JSON.parse(readFileSync(path.join(dir, 'short.json'), 'utf8'));
    assert.equal(short.training.active_blocks, 1);
    assert.equal(short.training.test_time_branch_scale, 0.333333);
    const r = run('node', ['scripts/results.mjs', '--models', `${dir}/full.json,${dir}/short.json`, ...FAST, '--out', path.join(dir, 'out')]);
    ok(r);
    const md = readFileSync(path.join(dir, 'out', 'RESULTS.md'), 'utf8');
    const sec = md.slice(md.indexOf('## Training only short paths (claim 7)'));
    assert.ok(md.includes('## Training only short paths (claim 7)'), md);
    assert.match(sec, /1 of 3, drawn per batch/);
    assert.match(sec, /scaled by 1\/3/);
    assert.match(sec, /6\.10%/);
    // the pair set against each other image by image, as `unravel eval --versus` prints it
    const v = JSON.parse(run(CLI, ['eval', '--model', `${dir}/short.json`, '--versus', `${dir}/full.json`, '--limit', '60',
                                   '--data', DATA, '--json']).stdout).versus_model;
    const verdict = Math.abs(v.change) <= v.ci95 ? 'within the noise of 60 images: no significant difference, as the paper found'
      : `${v.change > 0 ? 'a loss' : 'a gain'} beyond the noise, where the paper found a tie`;
    assert.match(sec, new RegExp(`a change of [+−]?\\d+\\.\\d pp ± \\d+\\.\\d pp \\(95%, paired; ${v.turned_wrong} answers turned wrong, ` +
                                 `${v.turned_right} right\\): ${verdict}\\.`));
    // what each cost to train, and the verdict on fairness: 1 of 3 blocks for the same epochs is far from equal compute
    assert.match(sec, /### Equal epochs: /);
    assert.match(sec, /Training compute: the twin, \d+ epochs, [\d.]+×10\^\d+ multiply-adds, [\d.]+ h; the short-path network, \d+ epochs, [\d.]+×10\^\d+ multiply-adds \(0\.\d\d of its twin's\)/);
    assert.match(sec, /Equal epochs, not equal compute: each block trained in only 1 of 3 batches/);
    // the training curves of both, against the compute spent
    assert.match(sec, /!\[training and test error against training compute\]\(results\/full-short-path-training\.svg\)/);
    const curves = readFileSync(path.join(dir, 'out', 'results', 'full-short-path-training.svg'), 'utf8');
    assert.equal((curves.match(/<polyline /g) ?? []).length, 4, 'two runs x (training, test) error');
    assert.match(sec, /eval --model \S*short\.json --versus \S*full\.json --json/);
    // and how much less it leans on any one block: its deletions beside its twin's, from the cached results
    const res = (name, exp) => JSON.parse(readFileSync(path.join(dir, 'out', 'results', `${name}-${exp}.json`), 'utf8')).result;
    const pts = (d) => `${d >= 0 ? '\\+' : '−'}${Math.abs(100 * d).toFixed(1)} pp`;
    const medNd = (L) => { const c = L.blocks.filter((b) => b.error != null && !b.downsample).map((b) => b.error - L.full_error).sort((a, b) => a - b); return c[c.length >> 1]; };
    const at2 = (name) => (100 * res(name, 'delete-random').points.find((p) => p.k === 2).mean).toFixed(1);
    assert.match(sec, new RegExp(`What short-path training buys is robustness\\. At test time, on the same 60 images, deleting one block costs the short-path ` +
      `network a median ${pts(medNd(res('short', 'lesion')))} \\(its twin ${pts(medNd(res('full', 'lesion')))}\\), and its worst downsampling block .* ` +
      `deleting k random blocks takes it to ${at2('short')}% at k = 2, where its twin reaches ${at2('full')}% \\(means of the draws\\)`));
    // and where its gradient flows, beside its twin's window
    const w = (name) => res(name, 'paths').window;
    assert.match(sec, new RegExp(`Its gradient flows through (shorter|longer) paths than its twin's|paths of the same lengths as its twin's`));
    assert.match(sec, new RegExp(`through lengths ${w('short').a}–${w('short').b}, against [\\d.]+% through lengths ${w('full').a}–${w('full').b} for its twin\\. ` +
      'The gradient is measured on the network as tested, whose branches are scaled by 1/3'));
    // with the test-time scale divided out of the fitted decay (the page's fit of the mean gradients)
    const { decayFit } = await import('../web/math.mjs');
    const fk = decayFit(res('short', 'paths').grad_mean).factor, fb = decayFit(res('full', 'paths').grad_mean).factor;
    const un = fk / short.training.test_time_branch_scale;
    assert.match(sec, new RegExp(`Its fitted decay is × ${fk.toPrecision(2)} per extra branch, its twin's × ${fb.toPrecision(2)}; ` +
      `divided by the scale, its own is × ${un.toPrecision(2)}, ${un >= fb ? 'no steeper' : 'still steeper'} than its twin's`.replace(/[+.]/g, '\\$&')));
    // cached like the experiments: a rerun reads it back, and a changed twin reruns it
    const again = run('node', ['scripts/results.mjs', '--models', `${dir}/full.json,${dir}/short.json`, ...FAST, '--out', path.join(dir, 'out')]);
    ok(again);
    assert.match(again.stderr, /\[claim 7\] short against full, paired: cached/);
    assert.equal(readFileSync(path.join(dir, 'out', 'RESULTS.md'), 'utf8'), md);
    ok(run(CLI, ['train', '--blocks-per-stage', '1', '--width', '4', '--shortcut', 'A', '--epochs', '1', '--max-steps', '2', '--seed', '2',
      '--batch', '32', '--eval-limit', '50', '--data', DATA, '--out', path.join(dir, 'full')]));
    const third = run('node', ['scripts/results.mjs', '--models', `${dir}/full.json,${dir}/short.json`, ...FAST, '--out', path.join(dir, 'out')]);
    ok(third);
    assert.match(third.stderr, /\[claim 7\] short against full, paired: running /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
