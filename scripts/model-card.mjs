// model-card.mjs: write models/NAME.md, the model card, from the manifest
// (architecture, metrics, training metadata) and the training log.
//   node scripts/model-card.mjs models/resnet20 [models/plain20 ...]
import fs from 'node:fs';
import path from 'node:path';
import { training } from './figures.mjs';

const pct = (x) => `${(100 * x).toFixed(2)}%`;

function card(base) {
  const man = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8'));
  const a = man.arch;
  const t = man.training || {};
  const m = man.metrics || {};
  const logPath = `${base}.log.jsonl`;
  const log = fs.existsSync(logPath)
    ? fs.readFileSync(logPath, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
    : [];
  const name = path.basename(base);
  // pre-activation blocks and a stem width of their own, as `unravel train` flags
  const archFlags = (x) => (x.stem_width ? ` --stem-width ${x.stem_width}` : '') +
    (x.preactivation ? ` --preactivation${x.head_bn ? ' --head-bn' : ''}` : '');
  const stageBlocks = Array.isArray(a.blocks_per_stage) ? a.blocks_per_stage : a.widths.map(() => a.blocks_per_stage);
  const blocks = stageBlocks.reduce((x, y) => x + y, 0);
  const blockKind = a.preactivation ? ', pre-activation blocks' + (a.head_bn ? ' (batch norm before the pool)' : '') : '';
  const kind = a.shortcut === 'none' ? 'plain network (no shortcuts: one path)'
    : `residual network, shortcut ${a.shortcut} (${a.shortcut === 'A' ? 'identity; subsample + zero-pad at downsampling blocks' : '1x1 projection at downsampling blocks'})`;
  const hours = t.wall_seconds ? (t.wall_seconds / 3600).toFixed(2) : '?';
  const every = Math.max(1, Math.round(log.length / 10));
  const rows = log.filter((e, i) => i % every === every - 1 || i === log.length - 1)
    .map((e) => `| ${e.epoch} | ${e.lr.toPrecision(3)} | ${e.train_loss.toFixed(3)} | ${pct(e.train_error)} | ${pct(e.test_error)} | ${pct(e.test_error_exact_0_999)} |`);
  return `# Model card: ${name}

| | |
|---|---|
| network | CIFAR ResNet of depth ${2 * blocks + 2}: ${blocks} blocks (${stageBlocks.join('/')} per stage), widths ${a.widths.join('/')}${blockKind}, ${kind} |
| parameters | ${man.weights.parameters ?? '?'} (batch-norm running statistics included) |
| files | \`${name}.json\` (manifest), \`${name}.bin\` (float32 weights, sha256 \`${man.weights.sha256.slice(0, 16)}…\`) |
| **test error, rebuilt test set (10,000 images)** | **${m.test_error !== undefined ? pct(m.test_error) : '?'}** |
| **test error, records 0-999 (pixel-exact)** | **${m.test_error_exact_0_999 !== undefined ? pct(m.test_error_exact_0_999) : '?'}** |
| trained by | \`${t.trainer ?? 'unravel train'}\`, ${t.epochs ?? '?'} epochs, batch ${t.batch ?? '?'}, seed ${t.seed ?? '?'}${t.active_blocks ? `, ${t.active_blocks} active blocks per batch` : ''} |
| recipe | ${t.recipe ?? '?'}; peak lr ${t.lr}, warm-up ${t.warmup_epochs} epoch(s), momentum ${t.momentum}, weight decay ${t.weight_decay}, label smoothing ${t.label_smoothing} |
| wall time | ${hours} h on ${t.machine ?? '?'} |
| licence | ${man.license ?? 'not stated in the manifest'} |
${t.test_time_rule ? `| test time | ${t.test_time_rule} (scale ${t.test_time_branch_scale}) |
` : ''}
**About the errors.** Both are measured by \`unravel eval\` on \`test_batch.bin\` of the
CIFAR-10 copy rebuilt offline (\`$CIFAR10_DIR\`): its labels and order are exact, test
records 0-999 are pixel-exact, and the other 9,000 images were decoded from JPEG copies
(about 5.8 grey levels of mean absolute difference). The model was trained on the
rebuilt training set, which is JPEG-decoded too (except records 0-3999 of batch 1).
Neither figure is an official CIFAR-10 result.

**Intended use.** Demonstrating and measuring the ensemble-like behaviour of residual
networks (lesions, reordering, path statistics) in the unravel explorer and CLI. Not a
production classifier.

**Reproduce.**

\`\`\`sh
build/unravel train --blocks-per-stage ${stageBlocks.join(',')} --widths ${a.widths.join(',')} --shortcut ${a.shortcut}${archFlags(a)} \\
  --epochs ${t.epochs} --batch ${t.batch} --lr ${t.lr} --seed ${t.seed}${t.active_blocks ? ` --active-blocks ${t.active_blocks}` : ''} --out models/${name}
build/unravel eval --model models/${name}.json            # full rebuilt test set
build/unravel eval --model models/${name}.json --limit 1000  # pixel-exact records 0-999
\`\`\`

## Training curve

${log.length ? `![${name}: error against epoch](${name}-training.svg)\n\n` : ''}| epoch | lr | train loss | train error | test error (10,000) | test error (0-999 exact) |
|---|---|---|---|---|---|
${rows.join('\n')}
`;
}

/** NAME-training.svg beside the card, from the training log (if there is one). */
function writeChart(base) {
  const logPath = `${base}.log.jsonl`;
  if (!fs.existsSync(logPath)) return;
  const log = fs.readFileSync(logPath, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((e) => !e.partial);
  if (!log.length) return;
  const name = path.basename(base);
  fs.writeFileSync(`${base}-training.svg`, training(log, { id: `${name}-training`, heading: {
    title: `${name}: error during training`,
    subtitle: 'rebuilt CIFAR-10 (labels exact; test records 0-999 pixel-exact, the rest from JPEG copies)',
  } }));
}

const args = process.argv.slice(2);
if (!args.length) {
  console.error('usage: node scripts/model-card.mjs models/NAME [...]');
  process.exit(2);
}
for (const a of args) {
  const base = a.replace(/\.json$/, '');
  writeChart(base);
  fs.writeFileSync(`${base}.md`, card(base));
  console.error(`model-card: wrote ${base}.md`);
}
