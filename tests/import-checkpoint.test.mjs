// `unravel import` (c/checkpoint.c: PyTorch checkpoints read in C, no PyTorch) against
// the reference, scripts/import-pytorch.py: checkpoints of every supported kind written
// by PyTorch itself (torch.save zip and legacy, safetensors; bare, under state_dict /
// model / net, DataParallel's module. prefix, nn.Parameters; shortcuts A, B and none,
// 3 and 4 stages, pre-activation and Wide ResNet names) import to the same tensors as
// the Python importer writes, byte for byte, with PyTorch's logits; bad files get one
// line naming the problem. Needs python3 with torch (Debian: python3-torch); skipped,
// saying why, where it is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const PY = process.env.PYTHON || (spawnSync('/usr/bin/python3', ['-c', '1']).status === 0 ? '/usr/bin/python3' : 'python3');
const hasTorch = spawnSync(PY, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status === 0;
const skip = hasTorch ? false : `${PY} cannot import torch (apt-get install python3-torch)`;
const CLI = process.env.UNRAVEL_CLI || 'build/unravel';
const torchVersion = hasTorch ? spawnSync(PY, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }).stdout.trim() : '';

const run = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
const floats = (f) => { const b = readFileSync(f); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };
const manifest = (base) => JSON.parse(readFileSync(`${base}.json`, 'utf8'));

// Every other form of the same state dict (tests/pytorch/resave_checkpoint.py):
// FORMAT:NEST:PREFIX[:FLAG]. make_checkpoint.py itself writes zip:state_dict:module.
const VARIANTS = ['legacy:none:', 'legacy:net:module.', 'zip:model:', 'zip:none:', 'safetensors:none:',
                  'legacy:state_dict::parameters'];

// [shortcut, blocks per stage, widths, make_checkpoint flags]
const LAYOUTS = [
  ['A', [1, 1, 1], [8, 16, 32], []],
  ['B', [2, 1, 2], [8, 16, 32], []],
  ['none', [1, 2, 1], [8, 16, 32], []],
  ['B', [1, 1, 1, 1], [8, 16, 32, 64], []],                      // ResNet-18's layout, narrow
  ['A', [1, 2, 1, 1], [8, 12, 16, 24], []],
  ['B', [1, 2, 1], [8, 16, 32], ['--torchvision-names']],        // downsample.0/.1 and fc
  ['B', [1, 1, 1, 1], [8, 16, 32, 64], ['--preact']],             // PreActResNet, narrow
  ['B', [2, 1, 1], [16, 24, 32], ['--wrn', '--stem', '8']],      // Wide ResNet: stem 8, bn before the pool
];

function sameTensors(got, want, what) {
  const g = manifest(got), w = manifest(want);
  for (const k of ['depth', 'blocks_per_stage', 'widths', 'stem_width', 'preactivation', 'head_bn', 'shortcut', 'num_classes'])
    assert.deepEqual(g.arch[k], w.arch[k], `${what}: arch.${k}`);
  assert.deepEqual(g.tensors, w.tensors, `${what}: the manifests' tensors differ`);
  assert.deepEqual(g.input.mean.map(Math.fround), w.input.mean.map(Math.fround), `${what}: input.mean`);
  assert.ok(readFileSync(`${got}.bin`).equals(readFileSync(`${want}.bin`)), `${what}: the weights differ`);
}

function logitsMatch(dir, base, what) {
  const r = run(CLI, ['eval', '--model', `${base}.json`, '--data', dir, '--json', '--dump-logits', `${base}.logits`]);
  assert.equal(r.status, 0, r.stderr);
  const got = floats(`${base}.logits`), want = floats(path.join(dir, 'expected_logits.bin'));
  assert.equal(got.length, want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  assert.ok(worst < 1e-4, `${what}: logits differ from PyTorch's by ${worst}`);
}

LAYOUTS.forEach(([shortcut, blocks, widths, extra], i) => {
  const variants = [VARIANTS[i % VARIANTS.length], VARIANTS[(i + 3) % VARIANTS.length]];
  test(`shortcut ${shortcut}, blocks ${blocks.join('/')} ${extra.join(' ')}: unravel import and import-pytorch.py agree, ` +
       `as zip:state_dict:module. and ${variants.join(', ')}`, { skip }, (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'unravel-ckpt-'));
    try {
      let r = run(PY, ['tests/pytorch/make_checkpoint.py', dir, '--shortcut', shortcut, '--blocks', blocks.join(','),
                       '--widths', widths.join(','), ...extra]);
      assert.equal(r.status, 0, r.stderr);
      r = run(PY, ['tests/pytorch/resave_checkpoint.py', path.join(dir, 'checkpoint.th'), dir, ...variants]);
      assert.equal(r.status, 0, r.stderr);
      const sc = shortcut === 'none' ? ['--shortcut', 'none'] : [];
      const ref = path.join(dir, 'ref');
      r = run(PY, ['scripts/import-pytorch.py', path.join(dir, 'checkpoint.th'), '--out', ref, ...sc]);
      assert.equal(r.status, 0, r.stderr);
      const files = ['checkpoint', ...variants.map((v) => v.replaceAll(':', '_'))];
      for (const f of files) {
        const ckpt = path.join(dir, `${f}.th`), out = path.join(dir, `c-${f}`);
        r = run(CLI, ['import', ckpt, '--out', out, ...sc]);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stderr, /warning: .*no mean and std given: using CIFAR-10's/);
        assert.match(r.stderr, new RegExp(`wrote .*ResNet-${2 * blocks.reduce((a, b) => a + b, 0) + 2} \\(blocks ${blocks.join('/')}, widths ${widths.join('/')}`));
        sameTensors(out, ref, f);
        logitsMatch(dir, out, f);
        if (!f.startsWith('safetensors')) {   // the Python importer reads what torch.load reads
          const py = path.join(dir, `p-${f}`);
          r = run(PY, ['scripts/import-pytorch.py', ckpt, '--out', py, ...sc]);
          assert.equal(r.status, 0, r.stderr);
          sameTensors(out, py, `${f} (import-pytorch.py on the same file)`);
        }
      }
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

test('options: --mean/--std reach the manifest, --name names the model, --shortcut is checked', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'unravel-ckpt-'));
  try {
    assert.equal(run(PY, ['tests/pytorch/make_checkpoint.py', dir, '--shortcut', 'B', '--widths', '8,16,32']).status, 0);
    const ckpt = path.join(dir, 'checkpoint.th'), out = path.join(dir, 'm');
    let r = run(CLI, ['import', ckpt, '--out', out, '--mean', '0.5,0.5,0.5', '--std', '0.25,0.25,0.25', '--name', 'my net']);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /warning/);
    const m = manifest(out);
    assert.deepEqual(m.input.mean, [0.5, 0.5, 0.5]);
    assert.deepEqual(m.input.std, [0.25, 0.25, 0.25]);
    assert.equal(m.name, 'my net');
    assert.equal(m.training.imported_from, 'checkpoint.th');
    assert.equal(run(CLI, ['info', `${out}.json`]).status, 0);
    const bad = [
      [['--shortcut', 'A'], /has projection shortcuts, so it is shortcut B, not A/],
      [['--mean', '0.5,0.5'], /--mean: '0.5,0.5' is not three numbers/],
      [['--mean', '0.5,0.5,0.5'], /--mean and --std go together/],
      [['--mean', '0,0,0', '--std', '0.2,0,0.2'], /--std: .* every value must be positive/],
      [['--blocks-per-stage', '2,2,2'], /the blocks per stage given are 2,2,2, the checkpoint has 1,1,1/],
      [['--block', 'sideways'], /--block: 'sideways' is not auto, post or pre/],
    ];
    for (const [args, want] of bad) {
      r = run(CLI, ['import', ckpt, '--out', out, ...args]);
      assert.notEqual(r.status, 0, `${args.join(' ')} was accepted`);
      assert.match(r.stderr, want);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    r = run(CLI, ['import', ckpt]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--out: missing/);
    r = run(CLI, ['import', '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /usage: unravel import CHECKPOINT --out PATH/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('bad checkpoints written by PyTorch are refused with one line naming the problem, and nothing runs', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'unravel-ckpt-'));
  try {
    assert.equal(run(PY, ['tests/pytorch/make_checkpoint.py', dir, '--shortcut', 'B', '--widths', '8,16,32']).status, 0);
    const ckpt = path.join(dir, 'checkpoint.th');
    const marker = path.join(dir, 'ran');
    const py = [
      'import torch, os, numpy',
      'class Payload:',
      '    def __reduce__(self):',
      `        return (os.system, ('touch ${marker}',))`,
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
    const cases = [
      ['evil.th', /unknown global 'posix system' at offset \d+ of checkpoint\/data.pkl|unknown global 'posix system' at offset \d+ of evil\/data.pkl/],
      ['evil-legacy.th', /unknown global 'posix system' at offset \d+ of the file/],
      ['numpy.th', /unknown global 'numpy.core.multiarray scalar'/],
      ['missing.th', /missing 1 tensor\(s\), first 'blocks\.1\.bn2\.running_var'/],
      ['shape.th', /tensor 'module.layer1.0.conv1.weight' \(blocks.0.conv1.weight\) has shape \[8, 4, 3, 3\], the architecture needs \[8, 8, 3, 3\]/],
      ['zip_none__float16.th', /tensor 'conv1.weight' is float16: only float32 tensors are read/],
      ['legacy_state_dict__float64.th', /tensor 'conv1.weight' is float64: only float32 tensors are read/],
      ['short.th', /not a complete zip archive/],
      ['short-legacy.th', /truncated/],
      ['test_batch.bin', /not a PyTorch checkpoint/],
    ];
    for (const [file, want] of cases) {
      r = run(CLI, ['import', path.join(dir, file), '--out', path.join(dir, 'out')]);
      assert.notEqual(r.status, 0, `${file} was accepted`);
      assert.match(r.stderr, want, file);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.ok(!existsSync(marker), 'importing the checkpoint ran its payload');
    assert.ok(!existsSync(path.join(dir, 'out.json')));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
