// The chart modules in Node (web/charts/*.mjs through web/svg.mjs's element
// tree, as scripts/results.mjs and scripts/model-card.mjs draw docs/results'
// figures): every figure kind renders to SVG text without a DOM, colours at
// their light values; log ticks stay few over many decades (a 54-block net's
// gradients span some 36 decades, which once printed 37 overlapping labels);
// the gradient band spans the middle 80% of the draws. The same marks from the
// page's DOM: tests/e2e/charts-node.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as figures from '../scripts/figures.mjs';
import { el, text, tip, choosable, toSvg, row, logTicks, niceTicks } from '../web/svg.mjs';
import { gradLengthChart } from '../web/charts/grad-length.mjs';
import { lesionChart } from '../web/charts/lesion.mjs';
import { COLORS } from '../web/config.mjs';

const json = (f) => JSON.parse(readFileSync(new URL(`../docs/results/${f}`, import.meta.url), 'utf8')).result;
/** The attributes of each element of this tag in SVG text that has attribute `has`. */
const marks = (svg, tag, has) => [...svg.matchAll(new RegExp(`<${tag} ([^>]*${has}="[^"]*"[^>]*?)/?>`, 'g'))]
  .map((m) => Object.fromEntries([...m[1].matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])));

test('no DOM in Node: every docs/results figure kind renders to SVG text, colours at their light values', () => {
  assert.equal(typeof document, 'undefined');
  const lesion = json('resnet20-lesion.json'), plain = json('plain20-lesion.json');
  const svgs = {
    lesion: figures.lesion({ series: [figures.lesionSeries('ResNet-20', COLORS.resnet, lesion),
                                      figures.lesionSeries('Plain-20', COLORS.plain, plain)] }, { id: 'l', heading: { title: 'T', subtitle: 'S' } }),
    curve: figures.curve({ series: [figures.curveSeries('ResNet-20', COLORS.resnet, json('resnet20-delete-random.json'))] }, { id: 'c' }),
    tau: figures.curve({ series: [figures.curveSeries('ResNet-20', COLORS.resnet, json('resnet20-swap-random.json'))] }, { id: 't', xMode: 'tau', draws: true }),
    lengths: figures.pathLengths(json('resnet20-paths.json'), { id: 'a', heading: { title: '(a)' } }),
    gradient: figures.pathGradient(json('resnet20-paths.json'), { id: 'b' }),
    total: figures.pathTotal(json('resnet20-paths.json'), { id: 'c' }),
    depths: figures.depths({ series: [figures.depthSeries('r20', 'ResNet-20', COLORS.series[0], lesion),
                                      figures.depthSeries('r56', 'ResNet-56', COLORS.series[2], json('resnet56-lesion.json'))] }, { id: 'd' }),
    training: figures.training([{ epoch: 1, train_error: 0.5, test_error: 0.4, test_error_exact_0_999: 0.41 },
                                { epoch: 2, train_error: 0.3, test_error: 0.3, test_error_exact_0_999: 0.31 }], { id: 'tr' }),
  };
  for (const [kind, svg] of Object.entries(svgs)) {
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 \d+ \d+" width="\d+" height="\d+"/, kind);
    assert.doesNotMatch(svg, /var\(|undefined|NaN/, kind);
    assert.match(svg, /<rect x="0" y="0" width="\d+" height="\d+" fill="#ffffff"/, `${kind}: the light background`);
  }
  // the lesion figure: a bar per deletable block with its error, the plain net's downsampling blocks marked ×
  const bars = marks(svgs.lesion, 'rect', 'data-error');
  assert.equal(bars.length, lesion.blocks.length + plain.blocks.filter((b) => b.error != null).length);
  assert.deepEqual(bars.filter((b) => b['data-model'] === 'ResNet-20').map((b) => Number(b['data-error'])), lesion.blocks.map((b) => b.error));
  assert.equal((svgs.lesion.match(/class="not-deletable"/g) ?? []).length, 2);
  assert.equal((svgs.lesion.match(/<path class="ci"|class="ci"/g) ?? []).length, bars.length);
  assert.match(svgs.lesion, /full 11\.6%/);
  // the tau figure: every draw a dot at its own tau
  const swaps = json('resnet20-swap-random.json');
  assert.equal(marks(svgs.tau, 'circle', 'data-sample').length, swaps.points.reduce((a, p) => a + p.errors.length, 0));
});

test('the tree: text escaped, a choosable mark needs its <svg>, row() sets charts side by side', () => {
  const root = el('svg', { width: 100, height: 50 });
  tip(text(root, 1, 2, 'a < b & "c"', { fill: COLORS.muted }), 'x > y');
  assert.equal(toSvg(root), '<svg width="100" height="50">\n<text x="1" y="2" fill="#5f6368" font-size="12">a &lt; b &amp; &quot;c&quot;' +
    '<title>x &gt; y</title></text>\n</svg>');
  assert.throws(() => choosable(el('rect'), 'no svg', () => {}), /not inside an <svg>/);
  const bar = el('rect', {}, el('g', {}, root));
  choosable(bar, 'Delete block 1', () => {});
  assert.equal(root.attrs.role, 'group');
  assert.deepEqual([bar.attrs.role, bar.attrs.tabindex, bar.attrs['aria-label']], ['button', '0', 'Delete block 1']);
  const both = row([el('svg', { width: 40, height: 30 }), el('svg', { width: 50, height: 20 })], 10);
  assert.match(toSvg(both), /^<svg [^>]*viewBox="0 0 100 30" width="100" height="30"[^>]*>\n<rect [^>]*\/>\n<svg x="0" y="0" width="40"[^>]*\/>\n<svg x="50" y="0" width="50"/);
});

test('log ticks: at most about 8 labels over many decades, 1-2-5 over few; nice ticks', () => {
  const wide = logTicks([1e-37, 1e-2]);
  assert.ok(wide.length >= 4 && wide.length <= 9, `${wide.length} ticks`);
  assert.deepEqual(logTicks([1e-3, 1e-1]).map((t) => +t.toPrecision(3)), [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1]);
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 0.3, 5), [0, 0.1, 0.2, 0.3]);
});

test('gradient chart: the band spans the middle 80% of the draws, and where sd exceeds the mean it stops at the axis', () => {
  const norms = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((v) => v * 1e-3), [1e-9, 1e-7, 1e-6, 1e-6, 2e-6, 1e-5, 1e-5, 1e-5, 1e-4, 1e-4, 1e-3]];
  const mean = (d) => d.reduce((a, b) => a + b) / d.length;
  assert.equal(figures.quantile(norms[0], 0.1), 2e-3);
  assert.ok(Math.abs(figures.quantile(norms[0], 0.9) - 10e-3) < 1e-15);
  const svg = figures.pathGradient({ grad_mean: norms.map(mean), grad_sd: [1e-3, 1e-3], norms }, { id: 'g' });
  assert.match(svg, /middle 80% of draws/);
  // the band: upper edge through the 90% draws, lower edge back through the 10% ones
  const band = /<path d="M([\d.]+),([\d.]+)L([\d.]+),([\d.]+)L[\d.]+,([\d.]+)L[\d.]+,([\d.]+)Z"[^>]*class="band"/.exec(svg);
  assert.ok(band, 'a band');
  const [hi0, hi1, lo1, lo0] = [band[2], band[4], band[5], band[6]].map(Number);
  // length 0 spans 2e-3..1e-2 (0.70 decades), length 1 1e-7..1e-4 (3 decades)
  assert.ok(Math.abs((lo1 - hi1) / (lo0 - hi0) - 3 / Math.log10(5)) < 0.02, `${(lo1 - hi1) / (lo0 - hi0)}`);
  const means = marks(svg, 'circle', 'data-mean').map((c) => Number(c.cy));
  assert.ok(hi1 > means[1], 'the 90% draw of length 1 is below its mean: a few large draws carry it');
  // without the draws: mean +- sd, the lower edge clamped at the axis where sd >= mean
  const tree = gradLengthChart({ n: 4, gradMean: [1e-2, 1e-4, 1e-6, 1e-8, 1e-10], gradSd: [1e-3, 2e-4, 1e-7, 3e-8, 1e-11] }, { id: 's' });
  const sd = toSvg(tree);
  assert.equal(marks(sd, 'circle', 'data-mean').length, 5);
  assert.match(sd, /± sd/);
});

test('a lesion chart with a selectable series makes its bars buttons; in Node without onSelect they stay marks', () => {
  const data = { series: [{ name: 'n', color: COLORS.resnet, selectable: true, result: { full: { error: 0.1 },
    blocks: [0, 1, 2].map((b) => ({ block: b, stage: 1, downsample: false, deletable: true, error: 0.2, ci95: 0.01, turnedWrong: 3, turnedRight: 1 })) } }] };
  const chosen = [];
  const tree = lesionChart(data, { id: 'x', onSelect: (m, b) => chosen.push([m, b]) });
  assert.equal(tree.attrs.role, 'group');
  assert.match(toSvg(tree), /role="button" aria-label="Delete block 0 \(stage 1\) of n: error 20\.00%, \+10\.00 points ± 1\.00"/);
  assert.doesNotMatch(toSvg(lesionChart(data, { id: 'x' })), /role="button"/);
});
