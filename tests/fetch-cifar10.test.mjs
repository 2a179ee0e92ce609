// scripts/fetch-cifar10.sh: finds an existing copy, and downloads, checks and
// unpacks an archive (here a small local file:// one with its own MD5, since
// the official one is 170 MB and the tests run offline).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, readlinkSync, existsSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cifar10Dir } from '../scripts/data-dir.mjs';

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

const sharedDir = cifar10Dir();
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

test('the default data/cifar10, empty, is linked to a complete copy on the machine ($CIFAR10_LOCAL), and an incomplete one is not', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'unravel-fetch-'));
  try {
    // a repository of its own (the script finds data/ beside its scripts/), so the real data/ is untouched
    const repo = path.join(dir, 'repo');
    mkdirSync(path.join(repo, 'scripts'), { recursive: true });
    writeFileSync(path.join(repo, 'scripts/fetch-cifar10.sh'), readFileSync('scripts/fetch-cifar10.sh'));
    const copy = path.join(dir, 'copy');
    mkdirSync(copy);
    FILES.slice(1).forEach((f) => writeFileSync(path.join(copy, f), Buffer.alloc(30730000)));
    const env = { ...process.env, CIFAR10_LOCAL: copy, CIFAR10_URL: 'file:///nonexistent' };
    delete env.CIFAR10_DIR;
    const go = () => spawnSync('bash', [path.join(repo, 'scripts/fetch-cifar10.sh')], { encoding: 'utf8', env });
    let r = go();   // one file short: no link, and the download (offline here) fails with its reason, leaving data/cifar10 empty
    assert.notEqual(r.status, 0);
    assert.ok(!existsSync(path.join(repo, 'data/cifar10/test_batch.bin')));
    assert.match(r.stderr, /download failed|cannot|missing/);
    writeFileSync(path.join(copy, FILES[0]), Buffer.alloc(30730000));
    r = go();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /linked .*data\/cifar10 to it/);
    assert.equal(readlinkSync(path.join(repo, 'data/cifar10')), copy);
    assert.match(go().stderr, /CIFAR-10 is in .*data\/cifar10/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
