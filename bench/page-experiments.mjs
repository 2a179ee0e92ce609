// page-experiments.mjs: the page's experiments as a new user meets them, in
// headless Chromium (Debian's, via playwright-core) against the served page
// (scripts/serve.mjs) with the shipped models: seconds from navigation to the
// first complete chart (every bar of a partial sweep drawn) and to the final
// chart of the "Delete one block" tab, and to the first live error of the
// landing. Rounds in turns, median. A benchmark, never part of `make test`.
//   node bench/page-experiments.mjs [--rounds 3]
import os from 'node:os';
import { startServer, launch, skipReason } from '../tests/e2e/harness.mjs';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 3;
const CASES = [
  { label: 'resnet110-half lesion, 500 images', query: '?model=resnet110-half&view=lesion&images=500', bars: 54 },
  { label: 'resnet110-half lesion, 1,000 images', query: '?model=resnet110-half&view=lesion&images=1000', bars: 54 },
  { label: 'resnet20 lesion, 500 images', query: '?model=resnet20&view=lesion&images=500', bars: 9 },
];

const why = await skipReason();
if (why) { console.error(`page-experiments: ${why}`); process.exit(1); }
const server = await startServer();
const browser = await launch();
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

/** Seconds from navigation to the first chart with every bar and to the run's done line. */
async function lesionRun(c) {
  const page = await browser.context.newPage();
  const t0 = performance.now();
  await page.goto(server.url + c.query);
  const bars = '#ux-panel-lesion [data-chart="lesion-single"] rect[data-error]';
  await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length >= n, [bars, c.bars], { timeout: 600000, polling: 50 });
  const first = (performance.now() - t0) / 1000;
  await page.waitForFunction(() => /^Done/.test(document.querySelector('#ux-panel-lesion .progress-label')?.textContent ?? ''),
                             null, { timeout: 600000, polling: 50 });
  const final = (performance.now() - t0) / 1000;
  const workers = (await page.locator('.engine').innerText()).match(/(\d+) workers?/)?.[1];
  await page.close();
  return { first, final, workers };
}

/** Seconds from navigation of the bare address to its first live error. */
async function landingRun() {
  const page = await browser.context.newPage();
  const t0 = performance.now();
  await page.goto(server.url);
  await page.waitForFunction(() => /%$/.test(document.querySelector('.err-big')?.textContent ?? '') &&
                                   !document.querySelector('.err-big.stale'), null, { timeout: 120000, polling: 50 });
  const live = (performance.now() - t0) / 1000;
  await page.waitForFunction(() => document.querySelectorAll('[data-chart="hero"] circle[data-model]').length > 0,
                             null, { timeout: 120000, polling: 50 });
  const hero = (performance.now() - t0) / 1000;
  await page.waitForFunction(() => /Measured here on/.test(document.querySelector('.hero-status')?.textContent ?? ''),
                             null, { timeout: 600000, polling: 100 });
  const heroDone = (performance.now() - t0) / 1000;
  await page.close();
  return { live, hero, heroDone };
}

const results = CASES.map(() => []), landing = [];
try {
  for (let r = 0; r < rounds; r++) {
    landing.push(await landingRun());
    for (const [i, c] of CASES.entries()) results[i].push(await lesionRun(c));
    console.error(`page-experiments: round ${r + 1} of ${rounds} done`);
  }
} finally {
  await browser.close();
  server.stop();
}

const f = (x) => x.toFixed(1);
const cpu = os.cpus()[0]?.model.replace(/\s+/g, ' ').trim();
console.log(`Measured ${new Date().toISOString().slice(0, 10)} by \`node bench/page-experiments.mjs --rounds ${rounds}\` on ${cpu}, ` +
            `${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(2)} at the end, headless Chromium ` +
            `(${results[0][0].workers} workers), the served page; seconds from navigation, median of ${rounds} rounds (all rounds in brackets).\n`);
console.log('| what | first complete chart (s) | final chart (s) |');
console.log('|---|---:|---:|');
for (const [i, c] of CASES.entries()) {
  const rs = results[i];
  console.log(`| ${c.label} | ${f(median(rs.map((x) => x.first)))} (${rs.map((x) => f(x.first)).join(', ')}) | ` +
              `${f(median(rs.map((x) => x.final)))} (${rs.map((x) => f(x.final)).join(', ')}) |`);
}
console.log(`| landing: first live error | ${f(median(landing.map((x) => x.live)))} (${landing.map((x) => f(x.live)).join(', ')}) | |`);
console.log(`| landing: first chart / all three networks on 500 images | ${f(median(landing.map((x) => x.hero)))} | ` +
            `${f(median(landing.map((x) => x.heroDone)))} (${landing.map((x) => f(x.heroDone)).join(', ')}) |`);
