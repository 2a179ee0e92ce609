// scripts/fetch-cifar10.sh: finds an existing copy, and downloads, checks and
// unpacks an archive (here a small local file:// one with its own MD5, since
// the official one is 170 MB and the tests run offline).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin',
               'data_batch_5.bin', 'test_batch.bin'];

function run(env) {
  const r = spawnSync('bash', ['scripts/fetch-cifar10.sh'], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, err: r.stderr };
}

/** A tar.gz in the official layout with records of the right sizes. */
function fakeArchive(dir, recordBytes = 30730000) {
  const src = path.join(dir, 'src', 'cifar-10-batches-bin');
  mkdirSync(src, { recursive: true });
  FILES.forEach((f, i) => writeFileSync(path.join(src, f), Buffer.alloc(recordBytes, i)));
  writeFileSync(path.join(src, 'batches.meta.txt'), 'airplane\n');
  const archive = path.join(dir, 'cifar.tar.gz');
  const t = spawnSync('tar', ['-czf', archive, '-C', path.join(dir, 'src'), 'cifar-10-batches-bin']);
  assert.equal(t.status, 0);
  const bytes = readFileSync(archive);
  return { url: `file://${archive}`, md5: createHash('md5').update(bytes).digest('hex'), bytes: String(bytes.length) };
}

const sharedDir = process.env.CIFAR10_DIR || '../shared/cifar10';
test('an existing copy is found and left alone',
     { skip: !existsSync(path.join(sharedDir, 'test_batch.bin')) && `no CIFAR-10 in ${sharedDir}` }, () => {
  const before = statSync(path.join(sharedDir, 'test_batch.bin')).mtimeMs;
  const r = run({ CIFAR10_DIR: sharedDir, CIFAR10_URL: 'file:///nonexistent' });
  assert.equal(r.status, 0, r.err);
  assert.match(r.err, /CIFAR-10 is in/);
  assert.equal(statSync(path.join(sharedDir, 'test_batch.bin')).mtimeMs, before);
});

test('downloads, checks size and MD5, unpacks the six files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'unravel-fetch-'));
  try {
    const a = fakeArchive(dir);
    const out = path.join(dir, 'data');
    const r = run({ CIFAR10_DIR: out, CIFAR10_URL: a.url, CIFAR10_MD5: a.md5, CIFAR10_BYTES: a.bytes });
    assert.equal(r.status, 0, r.err);
    for (const f of FILES) assert.equal(statSync(path.join(out, f)).size, 30730000);
    assert.ok(existsSync(path.join(out, 'batches.meta.txt')));
    // A second run finds it.
    assert.match(run({ CIFAR10_DIR: out }).err, /CIFAR-10 is in/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a wrong MD5, a wrong size or a missing archive is refused and leaves nothing', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'unravel-fetch-'));
  try {
    const a = fakeArchive(dir);
    const out = path.join(dir, 'data');
    let r = run({ CIFAR10_DIR: out, CIFAR10_URL: a.url, CIFAR10_MD5: '0'.repeat(32), CIFAR10_BYTES: a.bytes });
    assert.notEqual(r.status, 0);
    assert.match(r.err, /MD5 [0-9a-f]{32}, expected 0{32}/);
    r = run({ CIFAR10_DIR: out, CIFAR10_URL: a.url, CIFAR10_MD5: a.md5, CIFAR10_BYTES: '5' });
    assert.match(r.err, /bytes, expected 5/);
    r = run({ CIFAR10_DIR: out, CIFAR10_URL: `file://${dir}/missing.tar.gz`, CIFAR10_MD5: a.md5, CIFAR10_BYTES: a.bytes });
    assert.match(r.err, /download failed/);
    for (const f of FILES) assert.ok(!existsSync(path.join(out, f)), `${f} left behind`);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a truncated file already there is reported, not overwritten', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'unravel-fetch-'));
  try {
    writeFileSync(path.join(dir, 'test_batch.bin'), Buffer.alloc(3073));
    const r = run({ CIFAR10_DIR: dir, CIFAR10_URL: 'file:///nonexistent' });
    assert.notEqual(r.status, 0);
    assert.match(r.err, /test_batch\.bin: 3073 bytes, expected 30730000/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
