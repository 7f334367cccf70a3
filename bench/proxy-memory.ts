/**
 * Peak memory of tsgi's `proxy` while 1 GiB goes up through it and 1 GiB comes down
 * (docs/performance.md, "Proxy"): the upstream (bench/upstream.ts) and the proxy server each run
 * in their own process (the proxy from the compiled dist/, which the script builds first); this process uploads and downloads through the proxy with
 * backpressure, checks the byte counts, then prints the proxy process's peak resident set size
 * (`process.resourceUsage().maxRSS`). Bounded: it stops by itself after 5 minutes.
 *
 * ```sh
 * node bench/proxy-memory.ts            # 1 GiB each way
 * node bench/proxy-memory.ts 256        # 256 MiB each way
 * node bench/proxy-memory.ts --peer http-proxy-3   # the same through http-proxy-3, for comparison
 * ```
 *
 * @module
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { buildDist, limitTime, mb, ready, startServer } from './memory-process.ts';
import { nodeLabel } from './stats.ts';
import { writeBytes } from './upstream.ts';

const MiB = 1024 * 1024;

/**
 * The proxy process, as JavaScript importing the compiled package (dist/, built first): the
 * figure is what an installed tsgi uses, without the TypeScript loader of a source run.
 */
const SERVER = `
import { serve } from '../dist/index.js';
import { proxy } from '../dist/entries/proxy.js';
const server = await serve(proxy(process.argv.at(-1)), { host: '127.0.0.1', port: 0 });
`;

/** The same process with http-proxy-3 instead (`--peer http-proxy-3`), for comparison. */
const PEER = `
import http from 'node:http';
import { createProxyServer } from 'http-proxy-3';
const proxy = createProxyServer({ target: process.argv.at(-1), agent: new http.Agent({ keepAlive: true }) });
const listening = http.createServer((req, res) => proxy.web(req, res)).listen(0, '127.0.0.1');
await new Promise((resolve) => listening.once('listening', resolve));
const server = { url: 'http://127.0.0.1:' + listening.address().port };
`;

const args = process.argv.slice(2);
const peer = args.includes('--peer') ? args[args.indexOf('--peer') + 1] : undefined;
if (peer !== undefined && peer !== 'http-proxy-3') throw new Error('--peer takes http-proxy-3');
const size = Number(args.find((a) => /^\d+$/.test(a)) ?? 1024) * MiB;
const code = peer === undefined ? SERVER : PEER;
limitTime('proxy-memory', 300);
buildDist();
const { first: upstream } = await ready<{ port: number }>(fork(fileURLToPath(new URL('./upstream.ts', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
const { url: proxied, probe } = await startServer(code, [`http://127.0.0.1:${upstream.port}`]);
console.log(`proxy memory — ${size / MiB} MiB up and down through ${peer ?? "tsgi's proxy"} (${nodeLabel()})`);
console.log(`proxy process at rest: RSS ${mb((await probe()).rss)}`);

// Upload: written with backpressure; the upstream counts what arrives.
let started = performance.now();
const uploaded = await new Promise<number>((resolve, reject) => {
  const req = http.request(`${proxied}/upload`, { method: 'POST', headers: { 'Content-Length': size } }, (res) => {
    let text = '';
    res.on('data', (chunk: Buffer) => (text += chunk));
    res.on('end', () => resolve(Number(text)));
  });
  req.on('error', reject);
  writeBytes(req, size, Buffer.alloc(256 * 1024, 1));
});
const afterUpload = await probe();
console.log(`upload:   ${uploaded === size ? 'all bytes arrived' : `ONLY ${uploaded} bytes arrived`} in ${((performance.now() - started) / 1000).toFixed(1)} s; proxy peak RSS so far ${mb(afterUpload.maxRss)}`);

// Download: read and dropped as it arrives.
started = performance.now();
const downloaded = await new Promise<number>((resolve, reject) => {
  http.get(`${proxied}/download?size=${size}`, (res) => {
    let received = 0;
    res.on('data', (chunk: Buffer) => (received += chunk.length));
    res.on('end', () => resolve(received));
    res.on('error', reject);
  }).on('error', reject);
});
const afterDownload = await probe();
console.log(`download: ${downloaded === size ? 'all bytes arrived' : `ONLY ${downloaded} bytes arrived`} in ${((performance.now() - started) / 1000).toFixed(1)} s; proxy peak RSS ${mb(afterDownload.maxRss)}`);
const ok = uploaded === size && downloaded === size && afterDownload.maxRss < 150e6;
console.log(`peak RSS of the proxy process: ${mb(afterDownload.maxRss)} (target < 150 MB: ${afterDownload.maxRss < 150e6 ? 'met' : 'NOT met'})`);
process.exit(ok ? 0 : 1);
