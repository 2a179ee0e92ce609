// page-claims.test.mjs: the numbers the page's "About these numbers" text
// quotes come from the shipped models' recorded results
// (docs/results/*-lesion.json, written by scripts/results.mjs), so a
// retrained model cannot leave the page saying something stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './helpers.mjs';

const html = fs.readFileSync(path.join(ROOT, 'web/index.html'), 'utf8').replace(/\s+/g, ' ');
const lesion = (name) => JSON.parse(fs.readFileSync(path.join(ROOT, `docs/results/${name}-lesion.json`), 'utf8')).result;
// points of error that deleting each deletable block adds
const costs = (r) => r.blocks.filter((b) => b.error != null).map((b) => 100 * (b.error - r.full_error));

test("ResNet-20's range of single-deletion costs is the recorded one", () => {
  const m = html.match(/each of ResNet-20's costs (\d+) to (\d+) points \(on all 10,000 test images/);
  assert.ok(m, 'the sentence on ResNet-20 deletions is missing from web/index.html');
  const r = lesion('resnet20');
  assert.equal(r.images ?? 10000, 10000);
  const c = costs(r);
  assert.deepEqual([Number(m[1]), Number(m[2])], [Math.round(Math.min(...c)), Math.round(Math.max(...c))]);
});

test('the 54-block net "typically" loses under a point: the median non-downsampling deletion does', () => {
  assert.match(html, /deleting one of its blocks typically costs under a point of error/);
  const r = lesion('resnet110-half');
  const c = r.blocks.filter((b) => b.error != null && !b.downsample).map((b) => 100 * (b.error - r.full_error)).sort((a, b) => a - b);
  assert.ok(c[c.length >> 1] < 1, `median cost ${c[c.length >> 1]} points`);
});

test("ResNet-56's median single-deletion cost and its first block's are the recorded ones", () => {
  const m = html.match(/ResNet-56<\/a>, with 27 blocks, sits between: its median non-downsampling deletion costs (\d+\.\d) points, though deleting its first block costs (\d+)\./);
  assert.ok(m, 'the sentence on ResNet-56 is missing from web/index.html');
  const r = lesion('resnet56');
  assert.equal(r.images ?? 10000, 10000);
  const nd = r.blocks.filter((b) => b.error != null && !b.downsample);
  assert.equal(nd.length, 25);
  const c = nd.map((b) => 100 * (b.error - r.full_error)).sort((a, b) => a - b);
  assert.equal(m[1], c[c.length >> 1].toFixed(1));
  assert.equal(Number(m[2]), Math.round(100 * (r.blocks[0].error - r.full_error)));
});

test('the "Try" links of the page are valid states of shipped models', async () => {
  const { parseState } = await import('../web/url-state.mjs');
  const { MODEL_CANDIDATES } = await import('../web/config.mjs');
  const links = [...html.matchAll(/<p class="try">(.*?)<\/p>/g)].flatMap((m) => [...m[1].matchAll(/href="(\?[^"]*)"/g)].map((l) => l[1]));
  assert.ok(links.length >= 4, `${links.length} links`);
  const shipped = MODEL_CANDIDATES.filter((m) => !m.dev).map((m) => m.name);
  for (const link of links) {
    const { state, problems } = parseState(link.replace(/&amp;/g, '&'));
    assert.deepEqual(problems, [], link);
    for (const name of [state.model, state.compare].filter(Boolean)) {
      assert.ok(shipped.includes(name), `${link}: ${name} is not a shipped model`);
      assert.ok(fs.existsSync(path.join(ROOT, 'models', `${name}.json`)), `${link}: models/${name}.json is missing`);
    }
  }
});

test('"Small is not nothing": the count of measurable deletions of the 54-block net is the recorded one', () => {
  const m = html.match(/Small is not nothing: set against the full network image by image, (\d+) of its (\d+) non-downsampling deletions change the error by more than their 95% interval/);
  assert.ok(m, 'the sentence on paired intervals is missing from web/index.html');
  const r = lesion('resnet110-half');
  assert.equal(r.images ?? 10000, 10000);
  const nd = r.blocks.filter((b) => b.error != null && !b.downsample);
  assert.ok(nd.every((b) => b.ci95 != null), 'docs/results/resnet110-half-lesion.json has no paired intervals: rerun scripts/results.mjs');
  const loud = nd.filter((b) => Math.abs(b.error - r.full_error) > b.ci95).length;
  assert.deepEqual([Number(m[1]), Number(m[2])], [loud, nd.length]);
});

test('claim 7: both short-path nets beside their twin, paired, and deletions beside theirs, are the recorded ones', () => {
  const manifest = (name) => JSON.parse(fs.readFileSync(path.join(ROOT, `models/${name}.json`), 'utf8'));
  const twin = html.match(/set each against the same\s+normally trained twin \((\d+\.\d\d)%\)/);
  assert.ok(twin, 'the twin\'s error is missing from the short-path paragraph of web/index.html');
  assert.equal(twin[1], (100 * manifest('resnet110-half').metrics.test_error).toFixed(2));
  // `unravel eval --model NAME.json --versus resnet110-half.json [--limit 1000]`, as scripts/results.mjs stored it
  const versus = (name, suffix = '') => JSON.parse(fs.readFileSync(path.join(ROOT, `docs/results/${name}-versus-resnet110-half${suffix}.json`), 'utf8')).result;
  const fixed1 = (x) => (100 * x).toFixed(1);
  for (const [name, what] of [['resnet110-half-k23-e160', 'At equal compute'], ['resnet110-half-k23', 'At equal epochs']]) {
    const li = html.match(new RegExp(`<a href="\\?model=${name}&amp;compare=resnet110-half">${what}</a>[^<]*?errs on (\\d+\\.\\d\\d)%[^<]*?(\\d+\\.\\d) points worse \\(± (\\d+\\.\\d), 95%\\)`));
    assert.ok(li, `the ${what.toLowerCase()} item (${name}) is missing from web/index.html`);
    assert.equal(li[1], (100 * manifest(name).metrics.test_error).toFixed(2), name);
    const v = versus(name);
    assert.equal(v.n, 10000);
    assert.deepEqual([li[2], li[3]], [fixed1(v.versus_model.change), fixed1(v.versus_model.ci95)], name);
    assert.ok(v.versus_model.change > v.versus_model.ci95, `${name}: no longer significantly worse: reword "points worse"`);
  }
  const exact = html.match(/on the 1,000 pixel-exact records \+(\d+\.\d) \(± (\d+\.\d)\), no significant difference/);
  assert.ok(exact, 'the equal-compute pair on the exact records is missing');
  const ve = versus('resnet110-half-k23-e160', '-exact-0-999');
  assert.equal(ve.n, 1000);
  assert.deepEqual([exact[1], exact[2]], [fixed1(ve.versus_model.change), fixed1(ve.versus_model.ci95)]);
  assert.ok(Math.abs(ve.versus_model.change) <= ve.versus_model.ci95, 'now significant on the exact records: reword');

  const k = html.match(/delete 10\s+random blocks<\/a> and the equal-compute net's error rises to (\d+\.\d)%, its twin's to (\d+\.\d)% \(means of 10 draws, all\s+10,000 images\)/);
  assert.ok(k, 'the sentence on deleting 10 blocks of the short-path net is missing');
  const at10 = (name) => {
    const r = JSON.parse(fs.readFileSync(path.join(ROOT, `docs/results/${name}-delete-random.json`), 'utf8')).result;
    assert.deepEqual([r.images, r.samples], [10000, 10], name);
    return (100 * r.points.find((p) => p.k === 10).mean).toFixed(1);
  };
  assert.deepEqual([k[1], k[2]], [at10('resnet110-half-k23-e160'), at10('resnet110-half')]);
});

test('README\'s claim-7 bullet quotes the stored paired comparisons and deletions', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const m = readme.match(/errs on (\d+\.\d\d)%, (\d+\.\d) ± (\d+\.\d)\s+points worse than its normally trained twin \(paired; on the 1,000 pixel-exact records\s+\+(\d+\.\d) ± (\d+\.\d), no significant difference\); at equal epochs \(80\) it was (\d+\.\d) ± (\d+\.\d) worse/);
  assert.ok(m, 'the claim-7 bullet is missing from README.md');
  const versus = (name, suffix = '') => JSON.parse(fs.readFileSync(path.join(ROOT, `docs/results/${name}-versus-resnet110-half${suffix}.json`), 'utf8')).result;
  const f1 = (x) => (100 * x).toFixed(1);
  const e = versus('resnet110-half-k23-e160'), ex = versus('resnet110-half-k23-e160', '-exact-0-999'), k = versus('resnet110-half-k23');
  assert.deepEqual(m.slice(1), [(100 * e.error).toFixed(2), f1(e.versus_model.change), f1(e.versus_model.ci95),
    f1(ex.versus_model.change), f1(ex.versus_model.ci95), f1(k.versus_model.change), f1(k.versus_model.ci95)]);
  const at10 = (name) => (100 * JSON.parse(fs.readFileSync(path.join(ROOT, `docs/results/${name}-delete-random.json`), 'utf8')).result.points.find((p) => p.k === 10).mean).toFixed(1);
  const d = readme.match(/10 random deletions take it to (\d+\.\d)%, its\s+twin to (\d+\.\d)%/);
  assert.ok(d);
  assert.deepEqual([d[1], d[2]], [at10('resnet110-half-k23-e160'), at10('resnet110-half')]);
});
