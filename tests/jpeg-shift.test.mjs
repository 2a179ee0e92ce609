// scripts/jpeg-shift.py: the exact test records through JPEG at each
// quality, every model measured on each version by `unravel eval`, with the
// answers the JPEG flipped; bad arguments get a one-line error. Needs python3
// with numpy and Pillow (Debian: python3-numpy, python3-pil; .ci/run installs
// them); skipped, saying why, where they are missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, makeModel, syntheticCifar, tmpdir, requireBuilt, unravel } from './helpers.mjs';

const PY = process.env.PYTHON || (spawnSync('/usr/bin/python3', ['-c', '1']).status === 0 ? '/usr/bin/python3' : 'python3');
const hasLibs = spawnSync(PY, ['-c', 'import numpy, PIL'], { encoding: 'utf8' }).status === 0;
const skip = hasLibs ? false : `${PY} cannot import numpy and PIL (apt-get install python3-numpy python3-pil)`;
const SCRIPT = path.join(ROOT, 'scripts/jpeg-shift.py');
const run = (...args) => spawnSync(PY, [SCRIPT, ...args], { encoding: 'utf8' });

test('exact records and their JPEG versions: errors, pixel differences and flipped answers agree', { skip }, async () => {
  requireBuilt();
  const u = await unravel();
  const dir = tmpdir();
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), syntheticCifar(1000, 5));
  const a = makeModel(dir, 'a', { seed: 3 }), b = makeModel(dir, 'b', { seed: 4, shortcut: 'none' });
  const out = path.join(dir, 'shift.json');
  const r = run('--models', `${a.json},${b.json}`, '--quality', '95,30', '--cifar', dir, '--json', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ +exact +mean \|pixel difference\| +0\.00 +a .*%/m);
  const j = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.deepEqual(j.versions.map((v) => v.quality), [null, 95, 30]);
  const [exact, q95, q30] = j.versions;
  assert.equal(exact.mad, 0);
  assert.deepEqual(exact.flips, { a: { right_to_wrong: 0, wrong_to_right: 0, ci95: 0 }, b: { right_to_wrong: 0, wrong_to_right: 0, ci95: 0 } });
  assert.ok(q95.mad > 0 && q95.mad < q30.mad, `mad ${q95.mad} then ${q30.mad}`);
  for (const v of [q95, q30])
    for (const m of ['a', 'b']) {
      // error moves by exactly the flipped answers, over 1,000 images
      const f = v.flips[m];
      assert.ok(Math.abs(v.errors[m] - exact.errors[m] - (f.right_to_wrong - f.wrong_to_right) / 1000) < 1e-12);
      // and the paired interval is the C core's (unr_paired_ci95, as the JS API and the page compute it)
      assert.ok(Math.abs(f.ci95 - u.pairedCi95(1000, f.right_to_wrong, f.wrong_to_right)) < 1e-12, `${m} ci95 ${f.ci95}`);
    }
});

test('bad arguments are refused by name', { skip }, () => {
  const dir = tmpdir();
  assert.match(run('--quality', '0', '--cifar', dir).stderr, /--quality: 0 has a value outside 1\.\.100/);
  assert.match(run('--quality', 'high', '--cifar', dir).stderr, /--quality: 'high' is not a list/);
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), syntheticCifar(10));
  assert.match(run('--cifar', dir).stderr, /test_batch\.bin: 30730 bytes, expected at least 3073000/);
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), syntheticCifar(1000));
  assert.match(run('--cifar', dir, '--models', 'no-such-model').stderr, /no-such-model\.json: no such model manifest/);
  assert.match(run('--cifar', path.join(dir, 'nowhere')).stderr, /nowhere\/test_batch\.bin: No such file/);
});

// docs/MODELS.md's table quotes docs/results/jpeg-shift.json: one row per model
// measured there, with its errors, flips and interval as the JSON has them, and the
// exact column equal to the model's manifest (so a retrained model cannot keep a stale row).
test("docs/MODELS.md's JPEG table is docs/results/jpeg-shift.json, and its exact column the manifests'", () => {
  const j = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs/results/jpeg-shift.json'), 'utf8'));
  const doc = fs.readFileSync(path.join(ROOT, 'docs/MODELS.md'), 'utf8');
  const exact = j.versions.find((v) => v.quality === null), q75 = j.versions.find((v) => v.quality === 75);
  const pct = (x) => `${(100 * x).toFixed(2)}%`, pts = (x) => (100 * Math.abs(x)).toFixed(1);
  const models = Object.keys(q75.errors);
  assert.ok(models.length >= 4, `only ${models.length} models in the JSON`);
  for (const name of models) {
    const f = q75.flips[name], change = q75.errors[name] - exact.errors[name];
    const row = `| \`${name}\` | ${pct(exact.errors[name])} | ${pct(q75.errors[name])} | ${f.right_to_wrong} / ${f.wrong_to_right} | ` +
      `${change >= 0 ? '+' : '−'}${pts(change)} ± ${pts(f.ci95)} points |`;
    assert.ok(doc.includes(row), `docs/MODELS.md lacks the row ${row}`);
    const man = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', `${name}.json`), 'utf8'));
    assert.equal(pct(man.metrics.test_error_exact_0_999), pct(exact.errors[name]), `${name}: the JSON's exact error is not the manifest's`);
  }
});
