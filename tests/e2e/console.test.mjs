// Loading the page logs nothing wrong: it asks the server for the list of
// models (models/index.json) instead of probing names that are not there, so
// no request fails and the console holds no error or warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, repo, skipReason, startServer } from './harness.mjs';
import { modelIndex } from '../../scripts/models-index.mjs';

const skip = (await skipReason()) ?? false;

test('the page loads with no failed request and a clean console, listing the models of models/index.json', { skip, timeout: 120000 }, async () => {
  const server = await startServer();
  const { context, close } = await launch();
  try {
    const page = await context.newPage();
    const problems = [], asked = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`failed: ${r.url()}`));
    page.on('response', (r) => { asked.push(new URL(r.url()).pathname); if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
    await page.goto(server.url);
    await page.waitForSelector('#explorer[data-ready]', { timeout: 90000 });
    await page.waitForTimeout(500);
    assert.deepEqual(problems, []);
    assert.ok(asked.includes('/models/index.json'), 'the page did not ask for models/index.json');
    // every listed model is offered, and nothing else was asked for under models/ but their files
    const listed = modelIndex(path.join(repo, 'models')).models;
    const offered = await page.$$eval('select[aria-label="model"] option', (os) => os.map((o) => o.value));
    for (const m of listed) assert.ok(offered.includes(m.name), `${m.name} is not offered`);
    const names = new Set(listed.flatMap((m) => [`${m.name}.json`, m.weights]));
    for (const p of asked.filter((x) => x.startsWith('/models/') && x !== '/models/index.json'))
      assert.ok(names.has(p.slice('/models/'.length)), `asked for ${p}, which models/index.json does not list`);
  } finally {
    await close();
    server.stop();
  }
});

