// serve.mjs: a small static server for the explorer, no dependencies.
//   node scripts/serve.mjs [webRoot] [--port 8000]
// Serves web/ at /, models/ at /models/ (with models/index.json, the list of
// the models there, made on each request), and the CIFAR-10 binary files of
// $CIFAR10_DIR (default data/cifar10) at /data/, read-only, GET only.
// Every reply allows any origin (CORS), so <unravel-explorer> can be embedded
// on another site that loads the module, its worker and data from here.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cifar10Dir } from './data-dir.mjs';
import { modelIndex } from './models-index.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const portAt = args.indexOf('--port');
const port = portAt >= 0 ? Number(args[portAt + 1]) : Number(process.env.PORT || 8000);
const webRoot = path.resolve(repo, args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--port') || 'web');
const dataDir = cifar10Dir();

const mounts = [
  ['/models/', path.join(repo, 'models')],
  ['/data/', dataDir],
  ['/wasm/', path.join(repo, 'wasm')],
  ['/', webRoot],
];
const types = {
  '.html': 'text/html; charset=utf-8', '.mjs': 'text/javascript', '.js': 'text/javascript',
  '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.bin': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8', '.md': 'text/markdown; charset=utf-8', '.ts': 'text/plain; charset=utf-8',
};

// Any origin may read the files, and the headers the page needs to read a
// byte range (Content-Range); CORP lets hosts that isolate themselves
// (Cross-Origin-Embedder-Policy) load them too.
const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Range, Accept-Ranges, Content-Length',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

function resolve(urlPath) {
  for (const [prefix, dir] of mounts) {
    if (!urlPath.startsWith(prefix)) continue;
    const rel = decodeURIComponent(urlPath.slice(prefix.length)) || 'index.html';
    const file = path.resolve(dir, rel);
    // Never leave the mounted folder.
    if (file !== dir && !file.startsWith(dir + path.sep)) return null;
    return file;
  }
  return null;
}

const server = http.createServer((req, res) => {
  for (const [k, v] of Object.entries(CORS)) res.setHeader(k, v);
  if (req.method === 'OPTIONS') {   // a preflight (a Range header a browser does not count as simple)
    res.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, HEAD', 'Access-Control-Allow-Headers': 'Range',
                         'Access-Control-Max-Age': '86400' }).end();
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD, OPTIONS' }).end();
    return;
  }
  const urlPath = new URL(req.url, 'http://x').pathname;
  // The model list, from the folder as it is now (scripts/models-index.mjs).
  if (urlPath === '/models/index.json') {
    const body = JSON.stringify(modelIndex(path.join(repo, 'models')));
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache', 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  let file = resolve(urlPath);
  try {
    if (file && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    const stat = file && fs.statSync(file);
    const headers = {
      'Content-Type': types[path.extname(file)] || 'application/octet-stream',
      'Cache-Control': 'no-cache',
      'Accept-Ranges': 'bytes',
    };
    // One byte range (the page fetches test images as it needs them), as
    // static hosts serve them: 206 with Content-Range, 416 past the end.
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]), end = Math.min(range[2] ? Number(range[2]) : stat.size - 1, stat.size - 1);
      if (start > end) {
        res.writeHead(416, { 'Content-Range': `bytes */${stat.size}` }).end();
        return;
      }
      res.writeHead(206, { ...headers, 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${stat.size}` });
      if (req.method === 'HEAD') res.end();
      else fs.createReadStream(file, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': stat.size });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  }
});
server.listen(port, () => {
  console.log(`unravel explorer: http://localhost:${port}/  (web: ${webRoot}, data: ${dataDir})`);
});
