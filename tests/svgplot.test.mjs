// Axis ticks of the log-scale gradient charts (docs/results and the page): a
// 54-block net's gradients span some 36 decades, which once printed 37
// overlapping labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as plot from '../scripts/svgplot.mjs';
import { logTicks as pageLogTicks } from '../web/charts/grad-length.mjs';

test('log ticks: at most about 8 labels over many decades, 1-2-5 over few', () => {
  const wide = plot.logTicks(3e-37, 2e-2);
  assert.ok(wide.ticks.length >= 4 && wide.ticks.length <= 9, `${wide.ticks.length} ticks`);
  assert.equal(wide.hi, 1e-1);
  assert.ok(wide.ticks.includes(1e-1));
  assert.deepEqual(plot.logTicks(0.02, 0.3).ticks.map((t) => +t.toPrecision(3)), [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]);
  const page = pageLogTicks([1e-37, 1e-2]);
  assert.ok(page.length >= 4 && page.length <= 9, `${page.length} page ticks`);
  assert.deepEqual(pageLogTicks([1e-3, 1e-1]).map((t) => +t.toPrecision(3)), [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1]);
});

test('gradient chart: bars never run down to the axis where sd exceeds the mean', () => {
  const n = 4;
  const data = { grad_mean: [1e-2, 1e-4, 1e-6, 1e-8, 1e-10], grad_sd: [1e-3, 2e-4, 1e-7, 3e-8, 1e-11] };
  const svg = plot.gradNormChart(data, { subtitle: 't', width: 700 });
  assert.match(svg, /upper bar only where sd ≥ mean \(2 of 5 lengths\)/);
  const bars = [...svg.matchAll(/<line x1="([\d.]+)" x2="\1" y1="([\d.]+)" y2="([\d.]+)" stroke="[^"]+" stroke-opacity/g)];
  assert.equal(bars.length, n + 1);
  const circles = [...svg.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)" r="[\d.]+" fill="[^"]+"><title>length/g)].map((m) => Number(m[1]));
  // k = 1 and 3: sd > mean, so the bar starts at the mean (y1 = the point's y)
  for (const k of [1, 3]) assert.equal(Number(bars[k][2]), circles[k], `k = ${k}`);
});

test('gradient chart: with the draws, bars span their middle 80%', () => {
  const norms = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((v) => v * 1e-3), [1e-9, 1e-7, 1e-6, 1e-6, 2e-6, 1e-5, 1e-5, 1e-5, 1e-4, 1e-4, 1e-3]];
  const mean = (d) => d.reduce((a, b) => a + b) / d.length;
  assert.equal(plot.quantile(norms[0], 0.1), 2e-3);
  assert.ok(Math.abs(plot.quantile(norms[0], 0.9) - 10e-3) < 1e-15);
  const svg = plot.gradNormChart({ grad_mean: norms.map(mean), grad_sd: [1e-3, 1e-3], norms }, { width: 700 });
  assert.match(svg, /bars: middle 80% of draws/);
  assert.doesNotMatch(svg, /upper bar only/);
  const bars = [...svg.matchAll(/<line x1="([\d.]+)" x2="\1" y1="([\d.]+)" y2="([\d.]+)" stroke="[^"]+" stroke-opacity/g)];
  assert.equal(bars.length, 2);
  // length 0 spans 2e-3..1e-2 (0.70 decades), length 1 1e-7..1e-4 (3 decades),
  // which lies wholly below its mean: a few large draws carry the mean
  const len = (b) => Number(b[2]) - Number(b[3]);
  assert.ok(Math.abs(len(bars[1]) / len(bars[0]) - 3 / Math.log10(5)) < 0.02, `${len(bars[1]) / len(bars[0])}`);
  const circles = [...svg.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)" r="[\d.]+" fill="[^"]+"><title>length/g)].map((m) => Number(m[1]));
  assert.ok(Number(bars[1][3]) > circles[1], 'the 90% draw is below the mean');
});
