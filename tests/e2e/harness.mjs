// harness.mjs: shared set-up for the browser tests: a free port, the repo's
// static server (scripts/serve.mjs), and Debian's Chromium through
// playwright-core (never a downloaded browser).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cifar10Dir } from '../../scripts/data-dir.mjs';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
/** The CIFAR-10 test batch that scripts/serve.mjs serves at /data/. */
export const TEST_BATCH = path.join(cifar10Dir(), 'test_batch.bin');

/** Why the browser tests cannot run here, or null. */
export async function skipReason() {
  if (!fs.existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
  try { await import('playwright-core'); } catch { return 'playwright-core is not installed (npm install)'; }
  if (!fs.existsSync(path.join(repo, 'wasm/unravel.wasm'))) return 'wasm/unravel.wasm is not built (make wasm)';
  if (!fs.existsSync(path.join(repo, 'web/index.html'))) return 'web/index.html is missing';
  if (!fs.existsSync(TEST_BATCH)) return `no CIFAR-10 test batch at ${TEST_BATCH} (set CIFAR10_DIR)`;
  return null;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** Start scripts/serve.mjs; resolves { url, stop }. */
export async function startServer() {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(repo, 'scripts/serve.mjs'), 'web', '--port', String(port)],
                      { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('serve.mjs did not start in 10 s')), 10000);
    child.stdout.on('data', (d) => { if (String(d).includes('http://')) { clearTimeout(t); resolve(); } });
    child.on('exit', (code) => { clearTimeout(t); reject(new Error(`serve.mjs exited with ${code}`)); });
  });
  return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill() };
}

/**
 * Launch Chromium headless with a fresh profile (a persistent context on a
 * new temporary --user-data-dir); resolves { context, close }.
 */
export async function launch(options = {}) {
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'unravel-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    ...options,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return { context, close: async () => { await context.close(); fs.rmSync(profile, { recursive: true, force: true }); } };
}

/**
 * A tiny random-weight model written by the native CLI (build/unravel init)
 * into a temporary folder, served to the page by request interception at
 * /models/NAME.json + .bin, so tests never write into models/.
 */
export function tinyModel(name, args = ['--blocks-per-stage', '1', '--widths', '4,8,16', '--shortcut', 'A']) {
  const cli = path.join(repo, 'build/unravel');
  if (!fs.existsSync(cli)) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unravel-model-'));
  execFileSync(cli, ['init', ...args, '--out', path.join(dir, name)], { stdio: 'ignore' });
  return { name, path: path.join(dir, `${name}.json`),
           json: fs.readFileSync(path.join(dir, `${name}.json`)), bin: fs.readFileSync(path.join(dir, `${name}.bin`)),
           cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The native CLI's --json output: cli('lesion', '--model', m.path, '--limit', '500'). */
export function cliJson(...args) {
  return JSON.parse(execFileSync(path.join(repo, 'build/unravel'),
    [...args, '--data', path.dirname(TEST_BATCH), '--split', 'test', '--json'], { encoding: 'utf8', maxBuffer: 1 << 24 }));
}

/** Route /models/NAME.json and .bin of the given models to their bytes. */
export async function serveModels(page, models) {
  for (const m of models) {
    await page.route(`**/models/${m.name}.json`, (r) => r.fulfill({ body: m.json, contentType: 'application/json' }));
    await page.route(`**/models/${m.name}.bin`, (r) => r.fulfill({ body: m.bin, contentType: 'application/octet-stream' }));
  }
}
