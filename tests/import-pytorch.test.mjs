// scripts/import-pytorch.py: PyTorch CIFAR ResNet checkpoints (the common
// conv1/layerS.J/linear layout, DataParallel prefix, options A, B and plain)
// become unravel models whose logits match PyTorch's; bad checkpoints get a
// one-line error. Needs python3 with torch (Debian: python3-torch; .ci/run
// installs it); skipped, saying why, where it is missing.
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

const run = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
const floats = (f) => { const b = readFileSync(f); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };

// [shortcut, blocks per stage, widths, extra make_checkpoint flags]
const LAYOUTS = [
  ['A', [1, 1, 1], [16, 32, 64], []],
  ['B', [2, 2, 2], [16, 32, 64], []],
  ['none', [2, 2, 2], [16, 32, 64], []],
  ['B', [2, 2, 2, 2], [8, 16, 32, 64], []],                        // ResNet-18's layout, narrow
  ['A', [1, 2, 1, 3], [8, 12, 16, 24], []],
  ['B', [1, 2, 1], [8, 16, 32], ['--torchvision-names']],         // downsample.0/.1 and fc
  ['B', [2, 2, 2, 2], [8, 16, 32, 64], ['--preact']],              // PreActResNet-18, narrow
  ['B', [2, 1, 2], [16, 24, 32], ['--wrn', '--stem', '8']],       // Wide ResNet: stem 8, bn before the pool
];

for (const [shortcut, blocks, widths, extra] of LAYOUTS) {
  const nb = blocks.reduce((a, b) => a + b, 0);
  test(`a shortcut-${shortcut} checkpoint with blocks ${blocks.join('/')} imports with PyTorch's logits`, { skip }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'unravel-import-'));
    try {
      let r = run(PY, ['tests/pytorch/make_checkpoint.py', dir, '--shortcut', shortcut, '--blocks', blocks.join(','),
                       '--widths', widths.join(','), ...extra]);
      assert.equal(r.status, 0, r.stderr);
      const args = ['scripts/import-pytorch.py', path.join(dir, 'checkpoint.th'), '--out', path.join(dir, 'model')];
      if (shortcut === 'none') args.push('--shortcut', 'none');
      r = run(PY, args);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`ResNet-${2 * nb + 2} \\(${nb} blocks: ${blocks.join('/')}, widths ${widths.join('/')}, shortcut ${shortcut}`));
      const pre = extra.includes('--preact') || extra.includes('--wrn');
      assert.equal(r.stdout.includes('pre-activation'), pre);
      assert.equal(r.stdout.includes('head batch norm'), extra.includes('--wrn'));
      r = run(CLI, ['eval', '--model', path.join(dir, 'model.json'), '--data', dir, '--json',
                    '--dump-logits', path.join(dir, 'got.bin')]);
      assert.equal(r.status, 0, r.stderr);
      const got = floats(path.join(dir, 'got.bin')), want = floats(path.join(dir, 'expected_logits.bin'));
      assert.equal(got.length, want.length);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
      assert.ok(worst < 1e-4, `logits differ by ${worst}`);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
}

test('bad checkpoints and options are refused with one line naming the problem', { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'unravel-import-'));
  try {
    assert.equal(run(PY, ['tests/pytorch/make_checkpoint.py', dir, '--shortcut', 'B']).status, 0);
    const ckpt = path.join(dir, 'checkpoint.th'), out = path.join(dir, 'm');
    const cases = [
      [[ckpt, '--shortcut', 'A'], /has projection shortcuts, so it is shortcut B, not A/],
      [[path.join(dir, 'test_batch.bin')], /not a PyTorch checkpoint/],
      [[ckpt, '--mean', '0.5,0.5'], /is not three numbers/],
      [[ckpt, '--std', '0.2,0,0.2'], /--std values must be positive/],
    ];
    // A truncated checkpoint, and one missing a tensor.
    writeFileSync(path.join(dir, 'short.th'), readFileSync(ckpt).subarray(0, 2000));
    cases.push([[path.join(dir, 'short.th')], /not a PyTorch checkpoint/]);
    // Five stages, and a stage count the checkpoint contradicts.
    const five = run(PY, ['-c', `import torch; c = torch.load('${ckpt}'); sd = c['state_dict']; ` +
      `sd.update({k.replace('layer3', 'layer5'): v for k, v in sd.items() if 'layer3' in k}); torch.save(c, '${dir}/five.th')`]);
    assert.equal(five.status, 0, five.stderr);
    cases.push([[path.join(dir, 'five.th')], /expected layer1 to layer3 or layer4 .*layer5/]);
    cases.push([[ckpt, '--blocks-per-stage', '2,2,2'], /--blocks-per-stage says \[2, 2, 2\], the checkpoint has \[1, 1, 1\]/]);
    cases.push([[ckpt, '--blocks-per-stage', '2,x'], /is not 1 to 4 block counts/]);
    const drop = run(PY, ['-c', `import torch; c = torch.load('${ckpt}'); del c['state_dict']['module.layer2.0.bn2.running_var']; torch.save(c, '${dir}/drop.th')`]);
    assert.equal(drop.status, 0, drop.stderr);
    cases.push([[path.join(dir, 'drop.th')], /missing 1 tensor\(s\), first 'blocks\.1\.bn2\.running_var'/]);
    // A checkpoint whose unpickling would run code (__reduce__ -> os.system) is refused, and nothing runs.
    const marker = path.join(dir, 'ran');
    const evil = run(PY, ['-c', `import torch, os\nclass Payload:\n    def __reduce__(self):\n        return (os.system, ('touch ${marker}',))\n` +
      `c = torch.load('${ckpt}'); c['extra'] = Payload(); torch.save(c, '${dir}/evil.th')\n` +
      `torch.save(c, '${dir}/evil-legacy.th', _use_new_zipfile_serialization=False)`]);
    assert.equal(evil.status, 0, evil.stderr);
    for (const f of ['evil.th', 'evil-legacy.th'])
      cases.push([[path.join(dir, f)], /refused: the checkpoint holds Python objects other than tensors, which would run code to load \(global 'posix\.system'\)/]);
    for (const [args, want] of cases) {
      const r = run(PY, ['scripts/import-pytorch.py', ...args, '--out', out]);
      assert.notEqual(r.status, 0, `${args.join(' ')} was accepted`);
      assert.match(r.stderr, want);
    }
    assert.ok(!existsSync(marker), 'loading the checkpoint ran its payload');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
