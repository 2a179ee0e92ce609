// url-state.mjs: the page's state in the URL, table-driven (as in
// tensorflow/playground). Parsing never throws: a bad value is reported in
// `problems` and replaced by the default; unknown keys are ignored.
import { IMAGE_COUNTS, VIEWS, PATH_STATS, THEMES } from './config.mjs';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The table: name, type, default (+ limits). Order = order in the URL. */
export const STATE_TABLE = Object.freeze([
  { name: 'model', type: 'name', default: 'resnet110-half',
    help: 'a model name: letters, digits, ".", "_" or "-"' },
  { name: 'compare', type: 'name', default: '', optional: true,
    help: 'a second model to overlay (e.g. plain20)' },
  { name: 'deleted', type: 'intList', default: [], none: 'no blocks deleted', help: 'block numbers, e.g. 3,7' },
  { name: 'order', type: 'intList', default: null, none: 'the network order', help: 'a permutation of the block numbers' },
  { name: 'images', type: 'enum', values: IMAGE_COUNTS, default: 500, help: 'test images' },
  { name: 'samples', type: 'int', min: 1, max: 200, default: 10, help: 'random draws per k' },
  { name: 'seed', type: 'int', min: 0, max: 2147483647, default: 1, help: 'random seed' },
  { name: 'pbatch', type: 'enum', values: PATH_STATS.batches, default: PATH_STATS.batch,
    help: 'images per draw in the path statistics' },
  { name: 'q', type: 'fraction', min: PATH_STATS.qMin, max: PATH_STATS.qMax, default: PATH_STATS.q,
    help: 'the share of the gradient the effective window holds' },
  { name: 'view', type: 'enum', values: VIEWS, default: 'lesion', help: 'which experiment tab' },
  { name: 'grid', type: 'enum', values: ['sample', 'wrong', 'right'], default: 'sample',
    help: "what the image grid shows: a sample, or the answers the plan turned wrong or right" },
  { name: 'theme', type: 'enum', values: THEMES, default: 'auto', help: "light or dark, or the system's (auto)" },
]);

function parseInt10(s) {
  return /^-?\d{1,10}$/.test(s) ? Number(s) : NaN;
}

function parseOne(entry, raw) {
  switch (entry.type) {
    case 'name':
      if (raw === '' && entry.optional) return { value: '' };
      return NAME_RE.test(raw) ? { value: raw } : { error: `not ${entry.help}` };
    case 'int': {
      const v = parseInt10(raw);
      if (!Number.isInteger(v)) return { error: `"${raw}" is not a whole number` };
      if (v < entry.min || v > entry.max)
        return { error: `${v} is outside ${entry.min}..${entry.max}` };
      return { value: v };
    }
    case 'fraction': {   // two decimals at most: 0.9, 0.95
      const v = /^(0|1)?\.\d{1,2}$|^(0|1)$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isFinite(v)) return { error: `"${raw}" is not a number like 0.9` };
      if (v < entry.min || v > entry.max)
        return { error: `${v} is outside ${entry.min}..${entry.max}` };
      return { value: v };
    }
    case 'enum': {
      const v = entry.values.find((x) => String(x) === raw);
      return v === undefined ? { error: `"${raw}" is not one of ${entry.values.join(', ')}` }
        : { value: v };
    }
    case 'intList': {
      if (raw === '') return { value: [] };
      // empty items (a stray comma: "1,", "1,,3") are left out, and said so
      const parts = raw.split(',').map((p) => p.trim());
      const items = parts.filter((p) => p !== '');
      const vals = items.map(parseInt10);
      const bad = items.find((p, i) => !Number.isInteger(vals[i]) || vals[i] < 0);
      if (bad !== undefined) return { error: `"${bad}" is not a block number` };
      const empty = parts.length - items.length;
      return { value: vals, note: empty && (items.length
        ? `${empty === 1 ? 'an empty item (a stray comma) is' : `${empty} empty items (stray commas) are`} left out, reading ${vals.join(',')}`
        : `it holds only commas, no block numbers: ${entry.none}`) };
    }
    default:
      return { error: 'unknown type' };
  }
}

/**
 * Parse a query string (or URLSearchParams). Returns { state, problems }:
 * problems are readable sentences, one per bad key.
 */
export function parseState(search) {
  const params = search instanceof URLSearchParams ? search : new URLSearchParams(search);
  const state = {};
  const problems = [];
  for (const entry of STATE_TABLE) {
    const def = Array.isArray(entry.default) ? entry.default.slice() : entry.default;
    if (!params.has(entry.name)) {
      state[entry.name] = def;
      continue;
    }
    const raw = params.get(entry.name).trim();
    if (raw === '' && entry.type === 'intList') { state[entry.name] = def; continue; }   // "deleted=": none
    if (raw === '' && !entry.optional) {   // "samples=": nothing to quote
      problems.push(`URL parameter ${entry.name}= is empty; using the default (${formatValue(entry, def) || 'none'}).`);
      state[entry.name] = def;
      continue;
    }
    const r = parseOne(entry, raw);
    if (r.note) problems.push(`URL parameter ${entry.name}=${truncate(raw)}: ${r.note}.`);
    if ('error' in r) {
      problems.push(`URL parameter ${entry.name}=${truncate(raw)}: ${r.error}; using the default` +
                    ` (${formatValue(entry, def) || 'none'}).`);
      state[entry.name] = def;
    } else {
      state[entry.name] = Array.isArray(r.value) && !r.value.length ? def : r.value;   // "order=,": the network order
    }
  }
  return { state, problems };
}

function truncate(s) {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function formatValue(entry, v) {
  if (v == null) return '';
  if (entry.type === 'intList') return v.join(',');
  return String(v);
}

/** [name, value as text] of the values that differ from their defaults, in table order. */
function changed(state) {
  const out = [];
  for (const entry of STATE_TABLE) {
    const s = formatValue(entry, state[entry.name]);
    const d = formatValue(entry, entry.default);
    if (s !== d && !(entry.type === 'intList' && s === ''))
      out.push([entry.name, s]);
  }
  return out;
}

/** Serialise: only values that differ from their defaults are written. */
export function serializeState(state) {
  return new URLSearchParams(changed(state)).toString().replace(/%2C/g, ',');
}

/**
 * The HTML that embeds this state's view on another page: the module and an
 * <unravel-explorer> whose attributes are the URL's parameters (model and
 * view always, the rest where they differ from their defaults). Every value
 * has passed the table's checks, so none needs quoting beyond "".
 * @param {object} state
 * @param {string} moduleUrl where unravel-explorer.mjs is served
 */
export function embedSnippet(state, moduleUrl) {
  const attrs = new Map([['model', String(state.model)], ...changed(state), ['view', String(state.view)]]);
  const list = [...attrs].map(([k, v]) => `${k}="${v.replace(/[&"<]/g, (c) => `&#${c.charCodeAt(0)};`)}"`);
  return `<script type="module" src="${moduleUrl}"></script>\n<unravel-explorer ${list.join(' ')}></unravel-explorer>`;
}

/**
 * Check the URL's `deleted` and `order` with the model: `validate({deleted,
 * order})` resolves to {deleted, order}, each null or the reason the model
 * refuses it (C's rules: planProblems, in a worker). Returns { deleted,
 * order, problems }, a refused part replaced by its default.
 * @param {{id: number}[]} blocks the model's (model.info.blocks)
 * @param {(plan: {deleted: number[], order: number[]|null}) => Promise<{deleted: string|null, order: string|null}>} validate
 */
export async function checkPlan(blocks, deleted, order, validate) {
  const del = [...new Set(deleted)].sort((a, b) => a - b);
  const why = await validate({ deleted: del, order: order ?? null });
  const problems = [];
  const reason = (m) => m.replace(/^plan: /, '');
  if (why.deleted)
    problems.push(`URL parameter deleted=${truncate(del.join(','))}: ${reason(why.deleted)}; no blocks deleted.`);
  if (order && why.order)
    problems.push(`URL parameter order=${truncate(order.join(','))}: ${reason(why.order)}; using the network order.`);
  return { deleted: why.deleted ? [] : del, order: order && !why.order ? order.slice() : blocks.map((b) => b.id),
           problems };
}

/**
 * What a model (the JS API's) says of a plan's deletions and of its order,
 * each on its own: null where it runs them, else the reason, C's message.
 * @param {import('./wasm/unravel.mjs').Model} model
 * @param {{deleted?: number[], order?: number[]|null}} plan
 * @returns {{deleted: string|null, order: string|null}}
 */
export function planProblems(model, { deleted, order }) {
  const why = (plan) => {
    try {
      model.validatePlan(plan);
      return null;
    } catch (e) {
      if (e?.name !== 'UnravelError') throw e;
      return e.message;
    }
  };
  return { deleted: deleted?.length ? why({ deleted }) : null, order: order ? why({ order }) : null };
}
