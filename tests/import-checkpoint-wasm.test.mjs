// unravel.importCheckpoint (the JS API over unravel.wasm: c/checkpoint.c compiled to
// WebAssembly) against `unravel import` (the same C, native): checkpoints of every
// supported kind written by PyTorch itself (tests/pytorch/make_checkpoint.py and
// resave_checkpoint.py: torch.save zip and legacy, safetensors; bare, under state_dict /
// model / net, DataParallel's module. prefix, nn.Parameters; shortcuts A, B and none,
// 3 and 4 stages, pre-activation and Wide ResNet names) import to the very files the CLI
// writes (model.serialize(), byte for byte), give PyTorch's logits within 1e-4, and load
// back through loadModel to identical logits; bad files give the CLI's one-line message
// as an UnravelError, and the module goes on working. The layouts are those of
// tests/import-checkpoint.test.mjs (which holds the CLI to scripts/import-pytorch.py).
// Needs python3 with torch (Debian: python3-torch); skipped, saying why, where it is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadUnravel, UnravelError } from '../wasm/unravel.mjs';

const PY = process.env.PYTHON || (spawnSync('/usr/bin/python3', ['-c', '1']).status === 0 ? '/usr/bin/python3' : 'python3');
const hasTorch = spawnSync(PY, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status === 0;
const skip = hasTorch ? false : `${PY} cannot import torch (apt-get install python3-torch)`;
const CLI = process.env.UNRAVEL_CLI || 'build/unravel';

const run = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
const floats = (f) => { const b = readFileSync(f); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };
const unravel = await loadUnravel();

// FORMAT:NEST:PREFIX[:FLAG] (resave_checkpoint.py); make_checkpoint.py writes zip:state_dict:module.
const VARIANTS = ['legacy:none:', 'legacy:net:module.', 'zip:model:', 'zip:none:', 'safetensors:none:',
                  'legacy:state_dict::parameters'];
// [shortcut, blocks per stage, widths, make_checkpoint flags]
const LAYOUTS = [
  ['A', [1, 1, 1], [8, 16, 32], []],
  ['B', [2, 1, 2], [8, 16, 32], []],
  ['none', [1, 2, 1], [8, 16, 32], []],
  ['B', [1, 1, 1, 1], [8, 16, 32, 64], []],
  ['A', [1, 2, 1, 1], [8, 12, 16, 24], []],
  ['B', [1, 2, 1], [8, 16, 32], ['--torchvision-names']],
  ['B', [1, 1, 1, 1], [8, 16, 32, 64], ['--preact']],
  ['B', [2, 1, 1], [16, 24, 32], ['--wrn', '--stem', '8']],
];

function worstDiff(got, want) {
  assert.equal(got.length, want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  return worst;
}

LAYOUTS.forEach(([shortcut, blocks, widths, extra], i) => {
  // every variant, each twice over the layouts
  const variants = [VARIANTS[i % VARIANTS.length], VARIANTS[(i + 3) % VARIANTS.length]];
  test(`shortcut ${shortcut}, blocks ${blocks.join('/')} ${extra.join(' ')}: importCheckpoint writes the CLI's files ` +
       `and PyTorch's logits, as zip:state_dict:module. and ${variants.join(', ')}`, { skip }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'unravel-ckpt-wasm-'));
    try {
      let r = run(PY, ['tests/pytorch/make_checkpoint.py', dir, '--shortcut', shortcut, '--blocks', blocks.join(','),
                       '--widths', widths.join(','), ...extra]);
      assert.equal(r.status, 0, r.stderr);
      r = run(PY, ['tests/pytorch/resave_checkpoint.py', path.join(dir, 'checkpoint.th'), dir, ...variants]);
      assert.equal(r.status, 0, r.stderr);
      const data = unravel.loadCifar(readFileSync(path.join(dir, 'test_batch.bin')));
      const want = floats(path.join(dir, 'expected_logits.bin'));
      const sc = shortcut === 'none' ? ['--shortcut', 'none'] : [];
      for (const f of ['checkpoint', ...variants.map((v) => v.replaceAll(':', '_'))]) {
        const ckpt = path.join(dir, `${f}.th`), out = path.join(dir, `c-${f}`);
        r = run(CLI, ['import', ckpt, '--out', out, ...sc]);
        assert.equal(r.status, 0, r.stderr);
        const model = unravel.importCheckpoint(readFileSync(ckpt), { name: ckpt, shortcut: shortcut === 'none' ? 'none' : 'auto' });
        try {
          assert.equal(model.warnings.length, 1);
          assert.ok(r.stderr.includes(`warning: ${model.warnings[0]}`), `${f}: the CLI warned\n${r.stderr}\nnot\n${model.warnings[0]}`);
          assert.deepEqual(model.info.arch.stageBlocks, blocks);
          assert.deepEqual(model.info.arch.widths, widths);
          assert.equal(model.info.arch.shortcut, shortcut);
          // named as the CLI names it (after its output file), the same two files byte for byte
          const files = model.serialize({ name: `c-${f}` });
          assert.equal(files.manifest, readFileSync(`${out}.json`, 'utf8'), `${f}: the manifests differ`);
          assert.ok(Buffer.from(files.weights).equals(readFileSync(`${out}.bin`)), `${f}: the weights differ`);
          const logits = model.forward(data);
          const worst = worstDiff(logits, want);
          assert.ok(worst < 1e-4, `${f}: logits differ from PyTorch's by ${worst}`);
          const back = unravel.loadModel(files.manifest, files.weights, { name: `c-${f}.json` });
          try {
            assert.deepEqual(back.forward(data), logits, `${f}: the saved model's logits differ`);
            assert.deepEqual(back.warnings, []);
          } finally { back.dispose(); }
        } finally { model.dispose(); }
      }
      data.dispose();
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

test('importCheckpoint options: mean/std reach the manifest, modelName names the model, bad options are refused', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'unravel-ckpt-wasm-'));
  try {
    assert.equal(run(PY, ['tests/pytorch/make_checkpoint.py', dir, '--shortcut', 'B', '--widths', '8,16,32']).status, 0);
    const ckpt = path.join(dir, 'checkpoint.th');
    const bytes = readFileSync(ckpt);
    const m = unravel.importCheckpoint(bytes, { name: 'checkpoint.th', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25],
                                                modelName: 'my net' });
    assert.deepEqual(m.warnings, []);
    assert.equal(m.info.name, 'my net');
    assert.equal(m.info.training.imported_from, 'checkpoint.th');
    const { manifest } = m.serialize();
    const j = JSON.parse(manifest);
    assert.deepEqual(j.input.mean, [0.5, 0.5, 0.5]);
    assert.deepEqual(j.input.std, [0.25, 0.25, 0.25]);
    assert.equal(j.name, 'my net');
    assert.equal(j.weights.file, 'my-net.bin');      // a plain file name, as the page pairs them
    assert.equal(JSON.parse(m.serialize({ weightsFile: 'w.bin' }).manifest).weights.file, 'w.bin');
    // the same files as `unravel import --mean --std --name`
    let r = run(CLI, ['import', ckpt, '--out', path.join(dir, 'm'), '--mean', '0.5,0.5,0.5', '--std', '0.25,0.25,0.25', '--name', 'my net']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(m.serialize({ weightsFile: 'm.bin' }).manifest, readFileSync(path.join(dir, 'm.json'), 'utf8'));
    m.dispose();
    assert.equal(unravel.importCheckpoint(bytes).info.name, 'checkpoint');
    // refused as the CLI refuses them (C's message), or in JS before C (argument)
    r = run(CLI, ['import', ckpt, '--out', path.join(dir, 'x'), '--shortcut', 'A']);
    assert.throws(() => unravel.importCheckpoint(bytes, { name: ckpt, shortcut: 'A' }),
                  (e) => e instanceof UnravelError && `unravel import: ${e.message}` === r.stderr.trim());
    r = run(CLI, ['import', ckpt, '--out', path.join(dir, 'x'), '--blocks-per-stage', '2,2,2']);
    assert.throws(() => unravel.importCheckpoint(bytes, { name: ckpt, blocksPerStage: [2, 2, 2] }),
                  (e) => `unravel import: ${e.message}` === r.stderr.trim());
    const bad = [
      [{ mean: [0.5, 0.5, 0.5] }, /mean and std go together/],
      [{ mean: [0.5, 0.5], std: [1, 1, 1] }, /mean: expected three numbers/],
      [{ mean: [0, 0, 0], std: [0.2, 0, 0.2] }, /std: .*every value must be positive/],
      [{ mean: [0, NaN, 0], std: [1, 1, 1] }, /mean: expected three numbers/],
      [{ shortcut: 'C' }, /shortcut: 'C' is not auto, A, B or none/],
      [{ shortcut: 'toString' }, /shortcut: 'toString' is not/],
      [{ block: 'sideways' }, /block: 'sideways' is not auto, post or pre/],
      [{ blocksPerStage: [1, 1, 1, 1, 1] }, /blocksPerStage: expected 1 to 4 block counts/],
      [{ bnEps: 1 }, /bnEps: 1 is outside/],
    ];
    for (const [opts, want] of bad)
      assert.throws(() => unravel.importCheckpoint(bytes, opts), (e) => e instanceof UnravelError && e.status === 'argument' && want.test(e.message),
                    JSON.stringify(opts));
    assert.throws(() => unravel.importCheckpoint('not bytes'), /expected an ArrayBuffer or a typed array/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('bad checkpoints give the CLI\'s one-line message as an UnravelError, and the module goes on', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'unravel-ckpt-wasm-'));
  try {
    assert.equal(run(PY, ['tests/pytorch/make_checkpoint.py', dir, '--shortcut', 'B', '--widths', '8,16,32']).status, 0);
    const ckpt = path.join(dir, 'checkpoint.th');
    const py = [
      'import torch, os, numpy',
      'class Payload:',
      '    def __reduce__(self):',
      `        return (os.system, ('touch ${path.join(dir, 'ran')}',))`,
      `c = torch.load('${ckpt}')`,
      `torch.save(dict(c, extra=Payload()), '${dir}/evil.th')`,
      `torch.save(dict(c, extra=Payload()), '${dir}/evil-legacy.th', _use_new_zipfile_serialization=False)`,
      `torch.save(dict(c, acc=numpy.float64(0.9)), '${dir}/numpy.th')`,
      "sd = dict(c['state_dict']); del sd['module.layer2.0.bn2.running_var']",
      `torch.save(sd, '${dir}/missing.th')`,
      "sd = dict(c['state_dict']); sd['module.layer1.0.conv1.weight'] = sd['module.layer1.0.conv1.weight'][:, :4]",
      `torch.save(sd, '${dir}/shape.th')`,
    ].join('\n');
    let r = run(PY, ['-c', py]);
    assert.equal(r.status, 0, r.stderr);
    r = run(PY, ['tests/pytorch/resave_checkpoint.py', ckpt, dir, 'zip:none::float16', 'legacy:state_dict::float64']);
    assert.equal(r.status, 0, r.stderr);
    writeFileSync(path.join(dir, 'short.th'), readFileSync(ckpt).subarray(0, 3000));
    const legacy = readFileSync(path.join(dir, 'legacy_state_dict__float64.th'));
    writeFileSync(path.join(dir, 'short-legacy.th'), legacy.subarray(0, legacy.length - 100));
    writeFileSync(path.join(dir, 'notes.pt'), 'these are my notes, not a checkpoint\n');
    writeFileSync(path.join(dir, 'empty.pth'), '');
    const cases = [
      ['evil.th', /unknown global 'posix system' at offset \d+ of /],
      ['evil-legacy.th', /unknown global 'posix system' at offset \d+ of the file/],
      ['numpy.th', /unknown global 'numpy.core.multiarray scalar'/],
      ['missing.th', /missing 1 tensor\(s\), first 'blocks\.1\.bn2\.running_var'/],
      ['shape.th', /has shape \[8, 4, 3, 3\], the architecture needs \[8, 8, 3, 3\]/],
      ['zip_none__float16.th', /tensor 'conv1.weight' is float16: only float32 tensors are read/],
      ['legacy_state_dict__float64.th', /tensor 'conv1.weight' is float64: only float32 tensors are read/],
      ['short.th', /not a complete zip archive/],
      ['short-legacy.th', /truncated/],
      ['test_batch.bin', /not a PyTorch checkpoint/],
      ['notes.pt', /not a PyTorch checkpoint/],
      ['empty.pth', /./],
    ];
    const data = unravel.loadCifar(readFileSync(path.join(dir, 'test_batch.bin')));
    for (const [file, want] of cases) {
      const f = path.join(dir, file);
      r = run(CLI, ['import', f, '--out', path.join(dir, 'out')]);
      assert.notEqual(r.status, 0, `${file} was accepted by the CLI`);
      const line = r.stderr.trim();
      assert.equal(line.split('\n').length, 1, r.stderr);
      assert.throws(() => unravel.importCheckpoint(readFileSync(f), { name: f }), (e) => {
        assert.ok(e instanceof UnravelError, `${file}: ${e}`);
        assert.notEqual(e.status, 'trap', `${file}: ${e.message}`);
        assert.equal(`unravel import: ${e.message}`, line, file);
        assert.match(e.message, want, file);
        return true;
      }, `${file} was accepted`);
      // the instance is intact: a good checkpoint still imports and runs
      const m = unravel.importCheckpoint(readFileSync(ckpt));
      assert.equal(m.forward(data, { count: 2 }).length, 20);
      m.dispose();
    }
    data.dispose();
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
