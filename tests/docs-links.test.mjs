// docs-links.test.mjs: every relative link and image in README.md, docs/*.md and
// web/README.md points at a file that exists, and every #anchor (in the same file
// or in another Markdown file) at a heading there, with GitHub's heading ids: so a
// section moved from the README to docs/, or renamed, cannot leave a dead link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './helpers.mjs';

const FILES = ['README.md', 'web/README.md',
  ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

// The text outside fenced code blocks; and outside inline code spans too.
const unfenced = (md) => md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
const prose = (md) => unfenced(md).replace(/`[^`\n]*`/g, '');

// GitHub's ids: the heading's text, lower case, without punctuation (letters, digits,
// spaces, hyphens and underscores kept), spaces made hyphens; repeats get -1, -2, ...
export function anchors(md) {
  const seen = new Map(), ids = new Set();
  for (const [, text] of unfenced(md).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const plain = text.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const base = plain.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    ids.add(n ? `${base}-${n}` : base);
  }
  for (const [, id] of md.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) ids.add(id);
  return ids;
}

// [text](target) and ![alt](target), with an optional "title"; <...> targets too.
export function links(md) {
  const out = [];
  for (const m of prose(md).matchAll(/!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
    out.push(m[1]);
  return out;
}

test('the link checker reads headings and links as GitHub does', () => {
  const ids = anchors('# A b\n## Kernels (on this 2-core AMD EPYC)\n### Key numbers\n### Key numbers\n' +
    '## Files of the core (`c/`)\n## Paths (claims 4–6)\n```\n# not a heading\n```\n## [Linked](x.md) head\n');
  for (const id of ['a-b', 'kernels-on-this-2-core-amd-epyc', 'key-numbers', 'key-numbers-1', 'files-of-the-core-c',
    'paths-claims-46', 'linked-head'])
    assert.ok(ids.has(id), `${id} not in ${[...ids]}`);
  assert.ok(!ids.has('not-a-heading'));
  assert.deepEqual(links('see [a](b.md#c), ![i](d.png "t"), `[no](e.md)`, [x [y]](f.md)\n```\n[no](g.md)\n```\n'),
    ['b.md#c', 'd.png', 'f.md']);
});

for (const file of FILES) {
  test(`${file}: every relative link resolves, every #anchor is a heading`, () => {
    const md = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const bad = [];
    let count = 0;
    for (const target of links(md)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;   // http:, https:, mailto:
      count++;
      const [rel, hash] = target.split('#');
      const to = rel ? path.normalize(path.join(path.dirname(file), decodeURIComponent(rel))) : file;
      if (to.startsWith('..') || !fs.existsSync(path.join(ROOT, to))) { bad.push(`${target}: no file ${to}`); continue; }
      if (hash === undefined || !to.endsWith('.md')) continue;
      if (!anchors(fs.readFileSync(path.join(ROOT, to), 'utf8')).has(hash)) bad.push(`${target}: no heading #${hash} in ${to}`);
    }
    assert.deepEqual(bad, [], `${file}: ${bad.length} of ${count} relative links are dead`);
  });
}
