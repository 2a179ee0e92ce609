// rename-model.mjs: give a trained model a new name. models/FROM.json, .bin and
// .log.jsonl become models/TO.*, the manifest's `name` and `weights.file` follow
// (nothing else in it changes: same weights, same sha256), and the model card and
// training chart are written again for the new name.
//   node scripts/rename-model.mjs models/resnet20-e100 models/resnet20 [--replace]
// --replace first removes an existing TO model (its manifest, weights, log, card,
// chart and checkpoint); without it an existing TO is refused. A model whose
// training is unfinished (FROM.ckpt newer than FROM.json) is refused.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const files = (base) => ({
  json: `${base}.json`, bin: `${base}.bin`, log: `${base}.log.jsonl`, card: `${base}.md`,
  chart: `${base}-training.svg`, ckpt: `${base}.ckpt`,
});

/** The manifest text with one string field set; exactly one occurrence or it throws. */
function setField(text, key, from, to, where) {
  const re = new RegExp(`("${key}":\\s*)"${from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`, 'g');
  const hits = text.match(re)?.length ?? 0;
  if (hits !== 1) throw new Error(`${where}: expected one "${key}": "${from}", found ${hits}`);
  return text.replace(re, `$1${JSON.stringify(to)}`);
}

export function renameModel(fromBase, toBase, { replace = false } = {}) {
  const from = files(fromBase), to = files(toBase);
  const fromName = path.basename(fromBase), toName = path.basename(toBase);
  if (!/^[A-Za-z0-9._-]+$/.test(toName)) throw new Error(`${toBase}: a model name takes letters, digits, '.', '_' and '-'`);
  if (path.resolve(fromBase) === path.resolve(toBase)) throw new Error(`${fromBase}: the new name is the old one`);
  if (!fs.existsSync(from.json)) throw new Error(`${from.json}: no such manifest`);
  const text = fs.readFileSync(from.json, 'utf8');
  let man;
  try {
    man = JSON.parse(text);
  } catch (e) {
    throw new Error(`${from.json}: not JSON (${e.message})`);
  }
  if (man.format !== 'unravel-model') throw new Error(`${from.json}: format: not "unravel-model"`);
  const weights = path.join(path.dirname(from.json), man.weights?.file ?? '');
  if (!man.weights?.file || !fs.existsSync(weights)) throw new Error(`${from.json}: weights.file: ${weights} does not exist`);
  if (fs.existsSync(from.ckpt) && fs.statSync(from.ckpt).mtimeMs > fs.statSync(from.json).mtimeMs)
    throw new Error(`${from.ckpt}: training is not finished (the checkpoint is newer than the manifest)`);
  if (fs.existsSync(to.json) && !replace) throw new Error(`${to.json}: exists (use --replace to put ${fromName} in its place)`);

  let out = setField(text, 'name', man.name, toName, from.json);
  out = setField(out, 'file', man.weights.file, `${toName}.bin`, from.json);
  const check = JSON.parse(out);
  if (check.name !== toName || check.weights.file !== `${toName}.bin` ||
      JSON.stringify({ ...check, name: man.name, weights: { ...check.weights, file: man.weights.file } }) !== JSON.stringify(man))
    throw new Error(`${from.json}: renaming would change more than the name and the weights file`);

  if (replace) for (const f of Object.values(to)) fs.rmSync(f, { force: true });
  fs.writeFileSync(to.json, out);
  fs.renameSync(weights, to.bin);
  if (fs.existsSync(from.log)) fs.renameSync(from.log, to.log);
  for (const f of [from.json, from.card, from.chart, from.ckpt]) fs.rmSync(f, { force: true });
  execFileSync(process.execPath, [path.join(HERE, 'model-card.mjs'), toBase], { stdio: 'inherit' });
  return { from: fromName, to: toName };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const replace = args.includes('--replace');
  const names = args.filter((a) => a !== '--replace');
  if (names.length !== 2 || names.some((a) => a.startsWith('--'))) {
    console.error('usage: node scripts/rename-model.mjs models/FROM models/TO [--replace]');
    process.exit(2);
  }
  try {
    const r = renameModel(...names.map((n) => n.replace(/\.json$/, '')), { replace });
    console.error(`rename-model: ${r.from} is now ${r.to}`);
  } catch (e) {
    console.error(`rename-model: ${e.message}`);
    process.exit(1);
  }
}
