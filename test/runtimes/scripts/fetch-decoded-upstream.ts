/**
 * Run by test/runtimes/fetch-decoded-upstream.test.ts under Bun and Deno: `fromFetchHandler`
 * of a handler that answers what `fetch()` gave it (`return fetch(upstream)`), under
 * `toFetchHandler` served by the runtime, the upstream a `node:http` server that codes its text
 * (`gzip`, `br`, `deflate`, `zstd`, `gzip, br`) with a `Content-Length`. A client over a real
 * socket on 127.0.0.1 (`node:http`, which decodes nothing) prints, for each coding, the status
 * and whether the body, decoded as its `Content-Encoding` says, is the upstream's text; then
 * the same for a HEAD (`head <Content-Encoding> <Content-Length>`), for a `Range` GET (which
 * Deno's `fetch()` asks `Accept-Encoding: identity` for and does not decode) and for the
 * handler's own gzip answer; then the error lines logged.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { fromFetchHandler, toFetchHandler } from 'tsgi/fetch';
import { listenOnRuntime } from './listen.ts';

const TEXT = 'hello, compressed world\n'.repeat(40);
const CODERS: Record<string, (bytes: Buffer) => Buffer> = {
  gzip: (bytes) => zlib.gzipSync(bytes),
  br: (bytes) => zlib.brotliCompressSync(bytes),
  deflate: (bytes) => zlib.deflateSync(bytes),
  zstd: (bytes) => zlib.zstdCompressSync(bytes),
  'gzip, br': (bytes) => zlib.brotliCompressSync(zlib.gzipSync(bytes)),
};
const DECODERS: Record<string, (bytes: Buffer) => Buffer> = {
  gzip: (bytes) => zlib.gunzipSync(bytes),
  br: (bytes) => zlib.brotliDecompressSync(bytes),
  deflate: (bytes) => zlib.inflateSync(bytes),
  zstd: (bytes) => zlib.zstdDecompressSync(bytes),
};

const upstream = http.createServer((req, res) => {
  const coding = decodeURIComponent(req.url!.slice(1));
  const body = CODERS[coding]!(Buffer.from(TEXT));
  // A range of the whole (`bytes=0-`): a 206 of the coded bytes, as a store of coded files sends it.
  const range = req.headers.range === undefined ? {} : { 'Content-Range': `bytes 0-${body.byteLength - 1}/${body.byteLength}` };
  res.writeHead(req.headers.range === undefined ? 200 : 206, { 'Content-Encoding': coding, 'Content-Length': body.byteLength, 'Content-Type': 'text/plain', ...range });
  res.end(req.method === 'HEAD' ? undefined : body);
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const upstreamPort = (upstream.address() as AddressInfo).port;

const errors: string[] = [];
const own = zlib.gzipSync(TEXT);
const handler = fromFetchHandler((request) => {
  const path = new URL(request.url).pathname;
  if (path === '/own') return new Response(own, { headers: { 'Content-Encoding': 'gzip', 'Content-Type': 'text/plain' } });
  const range = request.headers.get('range');
  return fetch(`http://127.0.0.1:${upstreamPort}${path}`, { method: request.method, headers: range === null ? {} : { range } });
});
const { port, stop } = listenOnRuntime(toFetchHandler(handler, { log: { write: (line: string) => void errors.push(line.split('\n')[0]!) } }));

/** The client's view of `path`: status, and whether the body decodes to the text. */
function ask(path: string, method = 'GET', range?: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: { 'accept-encoding': 'gzip, br, deflate, zstd', ...(range === undefined ? {} : { range }) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', () => resolve(`${res.statusCode} cut`));
      res.on('end', () => {
        const coding = res.headers['content-encoding'];
        if (method === 'HEAD') return resolve(`head ${coding ?? '-'} ${res.headers['content-length'] ?? '-'}`);
        let body: Buffer = Buffer.concat(chunks);
        try {
          for (const one of (coding ?? '').split(',').map((c) => c.trim()).filter(Boolean).reverse()) body = DECODERS[one]!(body);
          resolve(`${res.statusCode} ${body.toString() === TEXT ? 'text' : 'not the text'}`);
        } catch {
          resolve(`${res.statusCode} undecodable as ${coding}`);
        }
      });
    });
    req.on('error', (error) => resolve(`error ${error.message}`));
    req.end();
  });
}

for (const coding of Object.keys(CODERS)) console.log(`${coding}: ${await ask(`/${encodeURIComponent(coding)}`)}`);
console.log(`HEAD gzip: ${await ask('/gzip', 'HEAD')}`);
console.log(`range gzip: ${await ask('/gzip', 'GET', 'bytes=0-')}`);
console.log(`own: ${await ask('/own')}`);
console.log(errors.length === 0 ? 'nothing logged' : errors.join('\n'));
upstream.close();
void stop();
process.exit(0);
