// run.mjs: run a standalone WASI module under Node's node:wasi.
// Usage: node tests/wasi/run.mjs module.wasm [args...]; exits with its status.
// (Emscripten 3.1.6's JS glue does not run on Node 20, hence this runner.)
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import process from 'node:process';

const [path, ...args] = process.argv.slice(2);
if (!path) {
  console.error('usage: node run.mjs module.wasm [args...]');
  process.exit(2);
}
const wasi = new WASI({ version: 'preview1', args: [path, ...args], env: {},
                        preopens: { '.': '.' }, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(path));
// Emscripten's standalone modules with memory growth import one notifier.
// (wasi.wasiImport, not getImportObject(): Node 18 has only the former.)
const imports = { wasi_snapshot_preview1: wasi.wasiImport,
                  env: { emscripten_notify_memory_growth() {} } };
const instance = await WebAssembly.instantiate(module, imports);
process.exitCode = wasi.start(instance);
