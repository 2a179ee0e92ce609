// set-license.mjs: write the project's weights licence into model manifests
// that lack one (models trained before the trainer wrote it), keeping the
// file's layout; the licence text is the core's UNR_WEIGHTS_LICENSE.
//   node scripts/set-license.mjs models/resnet20.json [...]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const header = fs.readFileSync(path.join(repo, 'c/unravel.h'), 'utf8');
const m = /#define UNR_WEIGHTS_LICENSE ((?:"(?:[^"\\]|\\.)*"\s*\\?\s*)+)/.exec(header);
if (!m) throw new Error('c/unravel.h: UNR_WEIGHTS_LICENSE not found');
const license = [...m[1].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((p) => JSON.parse(`"${p[1]}"`)).join('');

for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, 'utf8');
  const manifest = JSON.parse(text);
  if (manifest.license === license) continue;
  if (manifest.license !== undefined) throw new Error(`${file}: license: already says ${JSON.stringify(manifest.license)}`);
  const nameLine = /^(\s*)"name":.*\n/m.exec(text);
  if (!nameLine) throw new Error(`${file}: no "name" line to put the licence after`);
  const at = nameLine.index + nameLine[0].length;
  const out = text.slice(0, at) + `${nameLine[1]}"license":\t${JSON.stringify(license)},\n` + text.slice(at);
  JSON.parse(out);   // still valid JSON
  fs.writeFileSync(file, out);
  console.log(`set-license: ${file}`);
}
