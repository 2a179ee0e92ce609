// results-md.mjs: the benches write their tables into bench/results.md,
// one "### machine" subsection per machine inside each bench's "## title".
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Write body as "### sub" inside "## title" of file: replace that
// subsection if present (one per machine), keep every other one and every
// other section.
export function writeSection(file, title, sub, body) {
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmark results\n';
  const head = `## ${title}\n`;
  let start = text.indexOf(head);
  if (start < 0) {
    text = `${text.trimEnd()}\n\n${head}\n`;
    start = text.indexOf(head);
  }
  let end = text.indexOf('\n## ', start + head.length);
  end = end < 0 ? text.length : end + 1;
  let section = text.slice(start, end);
  const subHead = `### ${sub}\n`;
  const block = `${subHead}\n${body}\n\n`;
  const at = section.indexOf(subHead);
  if (at < 0) {
    section = `${section.trimEnd()}\n\n${block}`;
  } else {
    const next = section.indexOf('\n### ', at + subHead.length);
    section = section.slice(0, at) + block + (next < 0 ? '' : section.slice(next + 1));
  }
  section = `${section.replace(/\n{3,}/g, '\n\n').trimEnd()}\n${end < text.length ? '\n' : ''}`;
  fs.writeFileSync(file, text.slice(0, start) + section + text.slice(end));
  console.error(`wrote ${path.relative(ROOT, file)} ("${title}" / "${sub}")`);
}
