// messages.test.mjs: what the page says about a wrong file or URL, in
// headless Chromium. A refused file (picked with "Your files…" or dropped)
// is named, with why in plain words, in one message beside the file control
// that the next pick replaces; the JS API's own message is kept under
// "Details". URL parameters with empty items read well.
//   node --test tests/e2e/messages.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { skipReason, startServer, launch, tinyModel, serveModels } from './harness.mjs';

const reason = await skipReason();
const tiny = reason ? null : tinyModel('e2e-msg');
const skip = reason ?? (tiny ? false : 'build/unravel is missing (make), needed to write the test model');
if (skip) console.log(`# browser tests skipped: ${skip}`);

let server, browser;
before(async () => {
  if (skip) return;
  server = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.stop();
  tiny?.cleanup();
});

async function open(query) {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await serveModels(page, [tiny]);
  await page.goto(server.url + query);
  await page.waitForSelector('#explorer[data-ready]', { timeout: 60000 });
  return { page, errors };
}

const fmt = (n) => n.toLocaleString('en-US');
const filesMessage = (page) => page.locator('.controls-messages .msg[data-key="files"]');

/** Pick files with "Your files…" and wait for the message that answers. */
async function pick(page, files, expect) {
  const before = await filesMessage(page).count() ? await filesMessage(page).innerText() : null;
  await page.locator('.file-input').setInputFiles(files.map(([name, bytes]) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) })));
  await page.waitForFunction(([re, was]) => {
    const m = document.querySelector('.controls-messages .msg[data-key="files"]');
    return m && m.innerText !== was && new RegExp(re).test(m.innerText);
  }, [expect.source, before], { timeout: 60000 });
  return filesMessage(page);
}

test('a text file, a lone truncated .bin and a manifest whose weights are short: each named, with why, in one message beside "Your files…"', { skip, timeout: 120000 }, async () => {
  const { page, errors } = await open('?model=e2e-msg');
  const site = await (await fetch(`${server.url}models/resnet20.json`)).json();   // the site's manifest names resnet20.bin

  let m = await pick(page, [['notes.txt', 'just some words\n']], /notes\.txt is not a file this page reads/);
  assert.match(await m.innerText(), /a model \(its \.json and \.bin, together\) or CIFAR-10's test_batch\.bin/);

  m = await pick(page, [['resnet20.bin', new Uint8Array(5000)]], /resnet20\.bin is 5,000 bytes/);
  assert.match(await m.innerText(), new RegExp(`resnet20\\.bin is 5,000 bytes; its manifest resnet20\\.json expects ${fmt(site.weights.bytes)}: the file looks truncated\\.`));

  const short = tiny.bin.subarray(0, 1000);
  m = await pick(page, [['e2e-msg.json', tiny.json], ['e2e-msg.bin', short]], /e2e-msg\.bin is 1,000 bytes/);
  const want = JSON.parse(tiny.json).weights.bytes;
  assert.match(await m.innerText(), new RegExp(`e2e-msg\\.bin is 1,000 bytes; its manifest e2e-msg\\.json expects ${fmt(want)}: the file looks truncated\\.`));
  // the API's own words under Details, folded
  assert.equal(await m.locator('details').getAttribute('open'), null);
  assert.match(await m.locator('details code').textContent(), /weights\.bytes: the manifest says \d+ bytes, the weights file has 1000/);
  assert.equal(await m.getAttribute('class'), 'msg msg-error');

  // one message of the kind, never a pile; none of them at the page top
  assert.equal(await page.locator('.msg[data-key="files"]').count(), 1);
  assert.doesNotMatch(await page.locator('.messages').innerText(), /e2e-msg\.bin|resnet20\.bin|notes\.txt/);
  // the refused model is not offered, the loaded one still works
  assert.equal(await page.locator('#ux-model option', { hasText: 'your file' }).count(), 0);
  assert.equal(await page.locator('#ux-model').inputValue(), 'e2e-msg');
  // what was picked shows on the control, whole
  assert.equal(await page.locator('.file-chosen').innerText(), 'e2e-msg.json + e2e-msg.bin');

  // the right pair replaces the error by what was loaded
  m = await pick(page, [['e2e-msg.json', tiny.json], ['e2e-msg.bin', tiny.bin]], /Loaded your model "e2e-msg"/);
  assert.equal(await m.getAttribute('class'), 'msg msg-info');
  assert.equal(await page.locator('.msg[data-key="files"]').count(), 1);

  // beside the control: right under the row of settings that holds it, not at the page top
  const control = await page.locator('.file-label').boundingBox();
  const box = await m.boundingBox();
  assert.ok(box.y >= control.y + control.height - 1 && box.y - (control.y + control.height) < 40,
            `the message (top ${box.y}) is right under the file control (bottom ${control.y + control.height})`);
  assert.ok(box.x <= control.x && box.x + box.width >= control.x + control.width, 'the message spans the control');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a file dropped further down the page, on the notes or a chart: the message is beside the file control and brought into view', { skip, timeout: 120000 }, async () => {
  const { page, errors } = await open('?model=e2e-msg');
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  // 2 records' worth of text, named as CIFAR-10's file: its "labels" are letters
  const text = 'A'.repeat(2 * 3073);
  await page.evaluate((t) => {
    const dt = new DataTransfer();
    dt.items.add(new File([t], 'test_batch.bin'));
    const at = document.querySelector('.about');   // the notes under the explorer take a drop too
    at.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, text);
  const m = filesMessage(page);
  await m.waitFor({ timeout: 30000 });
  assert.match(await m.innerText(), /test_batch\.bin is not a CIFAR-10 binary: each 3,073-byte record starts with its label, 0 to 9, and record 0 starts with 65\./);
  const box = await m.boundingBox();
  const h = page.viewportSize().height;
  assert.ok(box.y >= 0 && box.y + box.height <= h, `the message is in view (top ${box.y}, bottom ${box.y + box.height})`);
  // a truncated test batch dropped next replaces it
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(3073 * 3 - 100)], 'test_batch.bin'));
    document.querySelector('.experiments').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await page.waitForFunction(() => /looks truncated/.test(document.querySelector('.controls-messages .msg[data-key="files"]')?.innerText ?? ''));
  assert.match(await m.innerText(), /test_batch\.bin is 9,119 bytes, not a whole number of 3,073-byte CIFAR-10 records \(2,973 bytes left over\): the file looks truncated\./);
  assert.equal(await page.locator('.msg[data-key="files"]').count(), 1);
  assert.deepEqual(errors, []);
  await page.close();
});

test('URL parameters with empty items say so plainly, and keep the rest', { skip }, async () => {
  const { page, errors } = await open('?model=e2e-msg&deleted=1,&order=,&samples=');
  const text = await page.locator('.messages').innerText();
  assert.match(text, /URL parameter deleted=1,: an empty item \(a stray comma\) is left out, reading 1\./);
  assert.match(text, /URL parameter order=,: it holds only commas, no block numbers: the network order\./);
  assert.match(text, /URL parameter samples= is empty; using the default \(10\)\./);
  assert.doesNotMatch(text, /""/);
  assert.equal(await page.locator('.tile.deleted').count(), 1);
  assert.match(page.url(), /deleted=1(&|$)/);
  assert.deepEqual(errors, []);
  await page.close();
});
