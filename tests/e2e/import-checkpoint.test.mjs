// import-checkpoint.test.mjs: a PyTorch checkpoint dropped on the page or picked with
// "Your files…", in headless Chromium. Written by Debian's python3-torch
// (tests/pytorch/make_checkpoint.py), it brings up a form for its mean and std
// (prefilled with CIFAR-10's) and shortcut, is imported in a worker
// (unravel.importCheckpoint) and loaded like a user's .json + .bin: the live test
// error and the lesion tab are what `unravel eval` / `unravel lesion` print for the
// model `unravel import` makes of the same file, every tab runs on it, and "Save as
// unravel model" downloads the very files `unravel import` writes. A text file named
// .pt, a pickle with a global other than a tensor's and a float16 checkpoint are
// each refused in one message beside the control, in plain words, the C message
// under Details. Skipped without torch (apt-get install python3-torch).
//   node --test tests/e2e/import-checkpoint.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { skipReason, startServer, launch, tinyModel, serveModels, cliJson, repo } from './harness.mjs';

const PY = process.env.PYTHON || (spawnSync('/usr/bin/python3', ['-c', '1']).status === 0 ? '/usr/bin/python3' : 'python3');
const hasTorch = spawnSync(PY, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status === 0;
const CLI = path.join(repo, 'build/unravel');
const reason = (await skipReason()) ?? (hasTorch ? null : `${PY} cannot import torch (apt-get install python3-torch)`);
const tiny = reason ? null : tinyModel('e2e-ck');
const skip = reason ?? (tiny ? false : 'build/unravel is missing (make), needed to write the test model');
if (skip) console.log(`# browser tests skipped: ${skip}`);

const run = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8', cwd: repo, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
let server, browser, dir;
before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unravel-e2e-ckpt-'));
  // a narrow ResNet-8 with projection shortcuts, as torch.save writes it (zip, state_dict, module.)
  let r = run(PY, ['tests/pytorch/make_checkpoint.py', dir, '--shortcut', 'B', '--widths', '8,16,32']);
  assert.equal(r.status, 0, r.stderr);
  fs.copyFileSync(path.join(dir, 'checkpoint.th'), path.join(dir, 'cifar-net.pt'));
  const py = [
    'import torch, os, numpy',
    'class Payload:',
    '    def __reduce__(self):',
    `        return (os.system, ('touch ${path.join(dir, 'ran')}',))`,
    `c = torch.load('${dir}/checkpoint.th')`,
    `torch.save(dict(c, extra=Payload()), '${dir}/evil.pth')`,
  ].join('\n');
  r = run(PY, ['-c', py]);
  assert.equal(r.status, 0, r.stderr);
  r = run(PY, ['tests/pytorch/resave_checkpoint.py', path.join(dir, 'checkpoint.th'), dir, 'safetensors:none::float16']);
  assert.equal(r.status, 0, r.stderr);
  fs.renameSync(path.join(dir, 'safetensors_none__float16.th'), path.join(dir, 'half.safetensors'));
  server = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.stop();
  tiny?.cleanup();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function open(query) {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (/\/models\/[\w.-]+\.json$/.test(m.location()?.url ?? '') && /404/.test(m.text())) return;
    errors.push(`console: ${m.text()}`);
  });
  await serveModels(page, [tiny]);
  await page.goto(server.url + query);
  await page.waitForSelector('#explorer[data-ready]', { timeout: 60000 });
  return { page, errors };
}

const filesMessage = (page) => page.locator('.controls-messages .msg[data-key="files"]');
const form = (page) => page.locator('.ckpt-form');

async function liveError(page) {
  await page.waitForFunction(() => {
    const e = document.querySelector('.err-big');
    return e && !e.classList.contains('stale') && /%$/.test(e.textContent);
  }, null, { timeout: 60000 });
  return page.locator('.err-big').innerText();
}

const idle = (page, v, timeout = 240000) => page.waitForFunction((view) =>
  !document.querySelector(`#ux-panel-${view} .progress-row.running`) &&
  /Done/.test(document.querySelector(`#ux-panel-${view} .progress-label`)?.textContent ?? ''), v, { timeout });

/** Drop files (name -> bytes) on the page, as a drag from the desktop does. */
async function drop(page, files) {
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    for (const [name, b64] of list)
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name));
    document.querySelector('.network, .controls').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files.map(([name, bytes]) => [name, Buffer.from(bytes).toString('base64')]));
}

/** Pick a file with "Your files…". */
async function pick(page, name, bytes) {
  await page.locator('.file-input').setInputFiles([{ name, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) }]);
}

/** Press Import and wait for the message that answers (matching re). */
async function importAndWait(page, re) {
  const was = await filesMessage(page).count() ? await filesMessage(page).innerText() : null;
  await form(page).locator('button[type=submit]').click();
  await page.waitForFunction(([src, w]) => {
    const m = document.querySelector('.controls-messages .msg[data-key="files"]');
    return m && m.innerText !== w && new RegExp(src).test(m.innerText);
  }, [re.source, was], { timeout: 60000 });
  return filesMessage(page);
}

test('a dropped checkpoint asks for its mean and std, imports in a worker and runs as `unravel import` makes it: live error, every tab, Save', { skip, timeout: 600000 }, async () => {
  const ckpt = path.join(dir, 'cifar-net.pt');
  const out = path.join(dir, 'cli', 'cifar-net');
  fs.mkdirSync(path.dirname(out));
  const r = run(CLI, ['import', ckpt, '--out', out, '--mean', '0.5,0.45,0.4', '--std', '0.25,0.25,0.3']);
  assert.equal(r.status, 0, r.stderr);
  const { page, errors } = await open('?model=e2e-ck');
  await liveError(page);

  await drop(page, [['cifar-net.pt', fs.readFileSync(ckpt)]]);
  await form(page).waitFor({ state: 'visible', timeout: 30000 });
  assert.match(await form(page).innerText(), /Import cifar-net\.pt/);
  // CIFAR-10's, prefilled; the shortcut read off the tensors by default
  assert.equal(await form(page).locator('input[name=mean]').inputValue(), '0.4914, 0.4822, 0.4465');
  assert.equal(await form(page).locator('input[name=std]').inputValue(), '0.2470, 0.2435, 0.2616');
  assert.equal(await form(page).locator('select[name=shortcut]').inputValue(), 'auto');
  // beside the file control: right under its row
  const control = await page.locator('.file-label').boundingBox(), box = await form(page).boundingBox();
  assert.ok(box.y >= control.y && box.y - (control.y + control.height) < 60, `the form (top ${box.y}) is beside the file control (bottom ${control.y + control.height})`);

  // a mean that is not three numbers is said, and nothing is imported
  await form(page).locator('input[name=mean]').fill('0.5, 0.45');
  let m = await importAndWait(page, /mean "0\.5, 0\.45" is not three numbers/);
  assert.equal(await m.getAttribute('class'), 'msg msg-error');
  assert.equal(await page.locator('#ux-model option', { hasText: 'cifar-net' }).count(), 0);

  await form(page).locator('input[name=mean]').fill('0.5, 0.45, 0.4');
  await form(page).locator('input[name=std]').fill('0.25 0.25 0.3');
  m = await importAndWait(page, /Imported your checkpoint/);
  assert.equal(await m.getAttribute('class'), 'msg msg-info');
  assert.match(await m.innerText(), /Imported your checkpoint cifar-net\.pt as "cifar-net": ResNet-8 \(blocks 1\/1\/1, widths 8\/16\/32, shortcut B\)/);
  assert.ok(await form(page).isHidden());
  assert.equal(await page.locator('#ux-model').inputValue(), 'cifar-net');
  assert.match(await page.locator('#ux-model option:checked').innerText(), /cifar-net \(your file\)/);
  assert.equal(new URL(page.url()).searchParams.get('model'), 'cifar-net');
  assert.equal(await page.locator('.blocks .tile[data-block]').count(), 3);

  // the live error: `unravel eval` on the model `unravel import` wrote, on the same 500 images
  const native = cliJson('eval', '--model', `${out}.json`, '--limit', '500');
  assert.equal(await liveError(page), `${(100 * native.error).toFixed(1)}%`);
  // and under a plan
  await page.locator('.blocks .tile[data-block="1"]').click();
  await page.waitForFunction(() => document.querySelector('.err-big')?.classList.contains('stale') === false &&
    new URLSearchParams(location.search).get('deleted') === '1', null, { timeout: 60000 });
  const del = cliJson('eval', '--model', `${out}.json`, '--limit', '500', '--delete', '1');
  assert.equal(await liveError(page), `${(100 * del.error).toFixed(1)}%`);

  // Save as unravel model: NAME.json + NAME.bin, the bytes `unravel import` writes
  const downloads = [];
  page.on('download', (d) => downloads.push(d));
  await m.locator('button', { hasText: 'Save as unravel model' }).click();
  for (let i = 0; i < 100 && downloads.length < 2; i++) await new Promise((ok) => setTimeout(ok, 100));
  assert.deepEqual(downloads.map((d) => d.suggestedFilename()).sort(), ['cifar-net.bin', 'cifar-net.json']);
  for (const d of downloads)
    assert.ok(fs.readFileSync(await d.path()).equals(fs.readFileSync(`${out}${path.extname(d.suggestedFilename())}`)),
              `${d.suggestedFilename()} differs from what unravel import wrote`);

  // every tab runs on it; the lesion sweep is `unravel lesion` (on top of the plan: block 1 deleted)
  await page.locator('.blocks .tile[data-block="1"]').click();   // restore it
  await page.waitForFunction(() => !new URLSearchParams(location.search).get('deleted'));
  const lesion = cliJson('lesion', '--model', `${out}.json`, '--limit', '500');
  for (const view of ['lesion', 'delete', 'swap', 'paths', 'depth']) {
    await page.locator(`[role=tab][data-view="${view}"], #ux-tab-${view}`).first().click();
    await idle(page, view);
    if (view === 'lesion') {
      const [dl] = await Promise.all([page.waitForEvent('download'),
        page.locator('[data-chart="lesion-single"] .export[data-format="json"]').click()]);
      const data = JSON.parse(fs.readFileSync(await dl.path(), 'utf8')).data;
      const s = data.series.find((x) => x.name === 'cifar-net');
      assert.ok(s, `no cifar-net series in ${JSON.stringify(data).slice(0, 200)}`);
      const errs = s.result.blocks.map((b) => b.error);
      assert.deepEqual(errs.map((e) => e.toFixed(6)), lesion.blocks.map((b) => b.error.toFixed(6)));
    }
  }
  assert.ok(!fs.existsSync(path.join(dir, 'ran')));
  assert.deepEqual(errors, []);
  await page.close();
});

test('a text file named .pt, a pickle with a global besides tensors, float16 tensors: each refused beside the control, the C message under Details', { skip, timeout: 240000 }, async () => {
  const { page, errors } = await open('?model=e2e-ck');
  await liveError(page);
  const cases = [
    ['notes.pt', 'these are my notes, not a checkpoint\n', /notes\.pt is not a PyTorch checkpoint: it is neither a torch\.save file \(zip or legacy\) nor safetensors\./,
     /notes\.pt: not a PyTorch checkpoint \(neither a torch\.save zip archive/],
    ['evil.pth', fs.readFileSync(path.join(dir, 'evil.pth')), /evil\.pth was refused: besides tensors it holds a Python object \(posix\.system\), which would run code to load/,
     /evil\.pth: unknown global 'posix system' at offset \d+ of /],
    ['half.safetensors', fs.readFileSync(path.join(dir, 'half.safetensors')), /half\.safetensors holds float16 tensors; the page reads float32 only: save it after model\.float\(\)\./,
     /tensor 'conv1\.weight' is float16: only float32 tensors are read/],
  ];
  for (const [i, [name, bytes, plain, detail]] of cases.entries()) {
    if (i % 2) await pick(page, name, bytes); else await drop(page, [[name, bytes]]);
    await form(page).waitFor({ state: 'visible', timeout: 30000 });
    const m = await importAndWait(page, plain);
    assert.equal(await m.getAttribute('class'), 'msg msg-error');
    assert.equal(await m.locator('details').getAttribute('open'), null);
    assert.match(await m.locator('details code').textContent(), detail);
    // the CLI says the same of the same file
    const f = path.join(dir, name);
    fs.writeFileSync(f, bytes);
    const r = run(CLI, ['import', f, '--out', path.join(dir, 'x')]);
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr.trim().replace(/^unravel import: /, '').replace(f, name), (await m.locator('details code').textContent()).trim());
    assert.equal(await page.locator('.msg[data-key="files"]').count(), 1);
    // nothing new offered; the loaded model goes on
    assert.equal(await page.locator('#ux-model option', { hasText: 'your file' }).count(), 0);
    assert.equal(await page.locator('#ux-model').inputValue(), 'e2e-ck');
  }
  assert.ok(!fs.existsSync(path.join(dir, 'ran')), 'the pickle\'s payload ran');
  await liveError(page);
  assert.deepEqual(errors, []);
  await page.close();
});
