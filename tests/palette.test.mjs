// One palette: config.mjs PALETTE (what the charts draw with, light in Node's
// docs/results) and style.css's --ux-* custom properties (what the page draws
// with, light-dark(light, dark)) hold the same colours; COLORS hands the charts
// each themed colour as var(--ux-NAME, light value).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PALETTE, COLORS, paletteVar } from '../web/config.mjs';

const css = readFileSync(new URL('../web/style.css', import.meta.url), 'utf8');
const defined = Object.fromEntries([...css.matchAll(/(--ux-[\w-]+):\s*light-dark\(\s*(#[0-9a-f]{6})\s*,\s*(#[0-9a-f]{6})\s*\)/gi)]
  .map((m) => [m[1], [m[2].toLowerCase(), m[3].toLowerCase()]]));

test('style.css defines every palette colour, light and dark, as config.mjs has it', () => {
  for (const [name, light] of Object.entries(PALETTE.light)) {
    const dark = PALETTE.dark[name];
    assert.ok(dark, `${name}: a dark value`);
    const pairs = Array.isArray(light) ? light.map((l, i) => [paletteVar(name, i), l, dark[i]]) : [[paletteVar(name), light, dark]];
    for (const [v, l, d] of pairs) {
      assert.deepEqual(defined[v], [l.toLowerCase(), d.toLowerCase()], `${v} in style.css`);
      const used = Array.isArray(light) ? COLORS[name][pairs.findIndex((p) => p[0] === v)] : COLORS[name];
      assert.equal(used, `var(${v}, ${l})`, `COLORS.${name}`);
    }
  }
  assert.deepEqual(Object.keys(PALETTE.dark).sort(), Object.keys(PALETTE.light).sort());
});

test('style.css writes no colour outside its custom properties (but black shading a stage colour, alike in both themes)', () => {
  const body = css.replace(/\/\*[\s\S]*?\*\//g, '').replace(/--[\w-]+:\s*light-dark\([^)]*\)/g, '')
    .replace(/var\(--stage-ink, #fff\)|rgba\(0,\s*0,\s*0,\s*[\d.]+\)|var\(--stage\) 70%, black/g, '');
  const stray = body.split('\n').filter((l) => /#[0-9a-f]{3,8}\b|rgba?\(|(?<![\w-])(white|black)(?![\w-])/i.test(l));
  assert.deepEqual(stray, []);
});
