// shipped-models.test.mjs: each trained model in models/ is what its manifest,
// model card, the README's models table and docs/MODELS.md's say it is.
// `unravel eval` on the CIFAR-10 test set gives the recorded errors exactly, on
// all 10,000 rebuilt images and on the pixel-exact records 0-999; the card and
// the README quote the same errors, epochs and wall time, and docs/MODELS.md's
// status row the same epochs and wall time. So a retrained model cannot ship
// with stale figures beside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, cli, cifarDir, sha256, NO_DATA, requireBuilt } from './helpers.mjs';

const modelsDir = path.join(ROOT, 'models');
const trained = fs.readdirSync(modelsDir).filter((f) => f.endsWith('.json')).sort()
  .map((f) => ({ name: f.slice(0, -5), manifest: JSON.parse(fs.readFileSync(path.join(modelsDir, f), 'utf8')) }))
  .filter((m) => m.manifest.training && m.manifest.metrics);
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const modelsDoc = fs.readFileSync(path.join(ROOT, 'docs/MODELS.md'), 'utf8');
const pct = (x) => `${(100 * x).toFixed(2)}%`;
const data = cifarDir();

test("the trained models include the explorer's ResNet-20, Plain-20, ResNet-56, ResNet-110 (half) and its two short-path twins (equal epochs, equal compute), each with its recipe and errors recorded", () => {
  const names = trained.map((m) => m.name);
  for (const want of ['resnet20', 'plain20', 'resnet56', 'resnet110-half', 'resnet110-half-k23', 'resnet110-half-k23-e160'])
    assert.ok(names.includes(want), `models/${want}.json is missing or has no training record`);
  for (const { name, manifest: { training: t, metrics: me } } of trained) {
    for (const key of ['epochs', 'batch', 'lr', 'seed', 'wall_seconds', 'machine', 'recipe', 'trainer'])
      assert.ok(t[key] !== undefined && t[key] !== '', `${name}: training.${key} is missing`);
    assert.equal(me.test_images, 10000, `${name}: metrics.test_images`);
    if (/-k23(-e\d+)?$/.test(name))   // the paper's short-path training, tested with every block on
      assert.deepEqual([t.active_blocks, typeof t.test_time_rule], [23, 'string'], `${name}: training.active_blocks / test_time_rule`);
    for (const key of ['test_error', 'test_error_exact_0_999'])
      assert.ok(me[key] > 0 && me[key] < 1, `${name}: metrics.${key} = ${me[key]}`);
  }
});

for (const { name, manifest } of trained) {
  const { training: t, metrics: me } = manifest;

  test(`${name}: the manifest and the model card state the weights' licence`, () => {
    assert.match(manifest.license ?? '', /^MIT \(the unravel project's licence: LICENSE\)/, `models/${name}.json: license`);
    const card = fs.readFileSync(path.join(modelsDir, `${name}.md`), 'utf8');
    assert.ok(card.includes(`| licence | ${manifest.license} |`), `models/${name}.md has no licence row: rerun scripts/model-card.mjs`);
  });

  test(`${name}: the weights are the ones the manifest names`, () => {
    const bin = fs.readFileSync(path.join(modelsDir, manifest.weights.file));
    assert.equal(bin.length, manifest.weights.bytes);
    assert.equal(sha256(bin), manifest.weights.sha256);
  });

  test(`${name}: unravel eval gives the recorded errors on both test sets`, { skip: data ? false : NO_DATA }, () => {
    requireBuilt();
    const json = path.join(modelsDir, `${name}.json`);
    const all = JSON.parse(cli('eval', '--model', json, '--data', data, '--json'));
    assert.equal(all.n, 10000);
    assert.equal(all.error.toFixed(4), me.test_error.toFixed(4), `${name}: all 10,000 rebuilt images`);
    const exact = JSON.parse(cli('eval', '--model', json, '--data', data, '--limit', '1000', '--json'));
    assert.equal(exact.n, 1000);
    assert.equal(exact.error.toFixed(4), me.test_error_exact_0_999.toFixed(4), `${name}: pixel-exact records 0-999`);
  });

  test(`${name}: the model card, the README and docs/MODELS.md quote the manifest`, () => {
    const card = fs.readFileSync(path.join(modelsDir, `${name}.md`), 'utf8');
    assert.match(card, new RegExp(`rebuilt test set \\(10,000 images\\)\\*\\* \\| \\*\\*${pct(me.test_error)}\\*\\*`));
    assert.match(card, new RegExp(`records 0-999 \\(pixel-exact\\)\\*\\* \\| \\*\\*${pct(me.test_error_exact_0_999)}\\*\\*`));
    assert.ok(card.includes(`${t.epochs} epochs, batch ${t.batch}, seed ${t.seed}`), `${name}.md: epochs, batch, seed`);
    const row = readme.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
    assert.ok(row, `README.md has no row for ${name} in its models table`);
    const cells = row.split('|').map((c) => c.trim());
    assert.equal(cells[cells.length - 3], pct(me.test_error), `README ${name}: rebuilt-set error`);
    assert.equal(cells[cells.length - 2], pct(me.test_error_exact_0_999), `README ${name}: exact-records error`);
    assert.ok(row.includes(`${t.epochs} epochs, ${(t.wall_seconds / 3600).toFixed(2)} h`), `README ${name}: epochs and wall time`);
    const status = modelsDoc.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
    assert.ok(status, `docs/MODELS.md has no row for ${name} in its table of the shipped models`);
    assert.ok(status.includes(`${t.epochs} epochs, ${(t.wall_seconds / 3600).toFixed(2)} h`), `docs/MODELS.md ${name}: epochs and wall time`);
  });
}
