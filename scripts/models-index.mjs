// The list of models a models/ folder holds, as the page reads it from
// models/index.json: the dev server answers it from the folder on each
// request, and make-site writes it into the bundle, so the page asks for the
// list instead of probing names that may not be there (404s in the console).
import fs from 'node:fs';
import path from 'node:path';

/** { format, models: [{ name, weights }] } for each NAME.json manifest with its weights file beside it, by name. */
export function modelIndex(dir) {
  const models = [];
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (!f.endsWith('.json') || f === 'index.json') continue;
    let man;
    try { man = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')); } catch { continue; }
    const weights = man?.weights?.file;
    if (man?.format !== 'unravel-model' || typeof weights !== 'string' || !fs.existsSync(path.join(dir, weights))) continue;
    models.push({ name: f.slice(0, -'.json'.length), weights });
  }
  return indexOf(models.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
}

/** The index.json object of a list of [{ name, weights }]. */
export function indexOf(models) {
  return { format: 'unravel-model-index', models: models.map(({ name, weights }) => ({ name, weights })) };
}
