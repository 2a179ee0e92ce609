// scripts/rename-model.mjs: a renamed model loads under its new name with the
// same weights; an existing target, an unfinished run and a bad name are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const CLI = process.env.UNRAVEL_CLI || 'build/unravel';
const skip = !existsSync(CLI) && `no ${CLI}`;
const rename = (...args) => spawnSync(process.execPath, ['scripts/rename-model.mjs', ...args], { encoding: 'utf8' });
const info = (json) => JSON.parse(execFileSync(CLI, ['info', json, '--json'], { encoding: 'utf8' }));

test('a renamed model loads under its new name with the same weights', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'unravel-rename-'));
  try {
    const init = (name, seed) => execFileSync(CLI, ['init', '--blocks-per-stage', '1', '--width', '4', '--shortcut', 'A',
                                                    '--seed', String(seed), '--out', path.join(dir, name)]);
    init('run-e100', 1);
    writeFileSync(path.join(dir, 'run-e100.log.jsonl'),
                  '{"epoch":1,"lr":0.1,"train_loss":2.3,"train_error":0.9,"test_error":0.9,"test_error_exact_0_999":0.9}\n');
    const before = JSON.parse(readFileSync(path.join(dir, 'run-e100.json'), 'utf8'));
    let r = rename(path.join(dir, 'run-e100'), path.join(dir, 'run'));
    assert.equal(r.status, 0, r.stderr);
    for (const f of ['run-e100.json', 'run-e100.bin', 'run-e100.log.jsonl', 'run-e100.md'])
      assert.ok(!existsSync(path.join(dir, f)), `${f} is left behind`);
    const after = JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8'));
    assert.equal(after.name, 'run');
    assert.equal(after.weights.file, 'run.bin');
    assert.deepEqual({ ...after, name: before.name, weights: { ...after.weights, file: before.weights.file } }, before);
    info(path.join(dir, 'run.json'));   // loads: the weights file, size and sha256 are checked
    assert.match(readFileSync(path.join(dir, 'run.md'), 'utf8'), /# Model card: run\n/);
    assert.ok(existsSync(path.join(dir, 'run.log.jsonl')) && existsSync(path.join(dir, 'run-training.svg')));

    // an existing target: refused, then replaced on request
    init('other', 2);
    const otherSha = JSON.parse(readFileSync(path.join(dir, 'other.json'), 'utf8')).weights.sha256;
    r = rename(path.join(dir, 'other'), path.join(dir, 'run'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /run\.json: exists \(use --replace/);
    r = rename(path.join(dir, 'other.json'), path.join(dir, 'run'), '--replace');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')).weights.sha256, otherSha);
    info(path.join(dir, 'run.json'));
    assert.ok(!existsSync(path.join(dir, 'run.log.jsonl')), 'the replaced model\'s log is gone');

    // unfinished training, a bad name, a missing model
    init('busy', 3);
    writeFileSync(path.join(dir, 'busy.ckpt'), 'x');
    const later = new Date(Date.now() + 60000);
    utimesSync(path.join(dir, 'busy.ckpt'), later, later);
    r = rename(path.join(dir, 'busy'), path.join(dir, 'done'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /busy\.ckpt: training is not finished/);
    r = rename(path.join(dir, 'run'), path.join(dir, 'bad name'));
    assert.match(r.stderr, /a model name takes letters/);
    r = rename(path.join(dir, 'nothing'), path.join(dir, 'x'));
    assert.match(r.stderr, /nothing\.json: no such manifest/);
    assert.equal(rename('only-one').status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
