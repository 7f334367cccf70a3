/**
 * Scenario: a single-page app and its assets, ported from Express (`express.static` and a
 * history fallback) to tsgi by following docs/middleware-static.md, then asked the same
 * requests as the Express version, both over a real socket, answer by answer: conditional
 * GETs, ranges, HEAD, hostile paths, symlinks, precompressed copies, other methods. Where the
 * answers differ, the test says which and why (RFC 9110), so a change on either side shows.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, HTTPNotFound, Request, Response } from 'tsgi';
import { accessLog, cascade, compress, directoryApp, errors, etag, fileApp, mount, secureHeaders } from 'tsgi/middleware';
import { dechunk, parseRaw, rawExchange, rawGet, start } from './node-helpers.ts';

const INDEX = '<!doctype html><title>spa</title><script type="module" src="/app/assets/app-3f2a9c.js"></script>\n';
const JS = `export const routes = ${JSON.stringify(Array.from({ length: 200 }, (_, i) => `/page/${i}`))};\n`;
const CSS = 'body{color:red}\n'.repeat(100);
const BIN = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
const OLD = new Date('2024-01-02T03:04:05Z');
const API = { status: 'ok', items: Array.from({ length: 100 }, (_, i) => ({ id: i, name: `item ${i}` })) };

let dir: string;
let dist: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-scen-static-'));
  dist = path.join(dir, 'dist');
  mkdirSync(path.join(dist, 'assets'), { recursive: true });
  mkdirSync(path.join(dist, 'docs', 'guide'), { recursive: true });
  const files: Record<string, string | Buffer> = {
    'index.html': INDEX,
    'favicon.ico': Buffer.alloc(300, 1),
    'robots.txt': 'User-agent: *\n',
    '.env': 'SECRET=1',
    'docs/index.html': '<p>docs</p>',
    'assets/app-3f2a9c.js': JS,
    'assets/app-3f2a9c.js.br': zlib.brotliCompressSync(JS),
    'assets/app-3f2a9c.js.gz': zlib.gzipSync(JS),
    'assets/style-77aa.css': CSS,
    'assets/data.bin': BIN,
    'assets/ünï cøde.txt': 'unicode\n',
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dist, name), content);
  // Whole seconds: Node's `stat.mtime`, which Express's tags read, rounds the mtime to the
  // millisecond where tsgi's floors it (the tags are opaque, only their form is compared).
  for (const name of Object.keys(files)) if (!name.endsWith('.br') && !name.endsWith('.gz')) utimesSync(path.join(dist, name), OLD, OLD);
  writeFileSync(path.join(dist, 'assets', 'big.bin'), Buffer.alloc(2 * 1024 * 1024, 65));
  writeFileSync(path.join(dir, 'secret.txt'), 'outside the build');
  symlinkSync(path.join(dir, 'secret.txt'), path.join(dist, 'assets', 'leak.txt'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The tsgi service, as docs/middleware-static.md builds it: `/app/assets` immutable, the rest `no-cache`, the page for HTML GETs. */
function tsgiSite(log: string[]): App {
  const api = Request.application((req) => {
    if (req.pathInfo === '/health') return Response.json(API);
    throw new HTTPNotFound();
  });
  // The page for a GET that takes HTML and names no file (no dot in its last segment).
  const historyFallback = (index: App): App => (environ, startResponse) => {
    const req = new Request(environ);
    const last = req.pathInfo.slice(req.pathInfo.lastIndexOf('/') + 1);
    if (last.includes('.') || req.accept.bestMatch(['text/html']) === null) return new HTTPNotFound().respond(environ, startResponse);
    return index(environ, startResponse);
  };
  const immutable = { headers: { 'Cache-Control': 'public, max-age=31536000, immutable' } };
  const site = mount({
    '/api': compress(etag(api)),
    '/app': mount({
      '/assets': directoryApp(path.join(dist, 'assets'), { ...immutable, precompressed: true }),
      '/': cascade([directoryApp(dist, { precompressed: true }), historyFallback(fileApp(path.join(dist, 'index.html'), { headers: { Vary: 'Accept' } }))], { catch: [404] }),
    }),
  });
  return accessLog(secureHeaders(errors(site)), { log: { write: (line) => void log.push(line) } });
}

/** An answer read off the socket. */
interface Answer {
  status: number;
  header(name: string): string | undefined;
  body: string;
}

/** One request as written (no URL normalising: `..`, `%2e%2e` and `%00` reach the server). */
async function ask(port: number, target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  const { raw } = await rawExchange(port, rawGet(target, extra, method));
  const res = parseRaw(raw);
  return { status: res.status, header: (name) => res.header(name), body: res.header('transfer-encoding') === 'chunked' ? dechunk(res.rest) : res.rest };
}

/** The Express version being ported: the same directory, the same cache rules and fallback. */
function expressSite(): express.Express {
  const web = express();
  web.set('env', 'test'); // its error handler logs no stack for the 412s and 416s
  web.get('/api/health', (_req, res) => void res.json(API));
  web.use('/app/assets', express.static(path.join(dist, 'assets'), { immutable: true, maxAge: '1y' }));
  web.use('/app', express.static(dist, { setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }));
  web.get(/^\/app(\/.*)?$/, (req, res, next) => {
    const last = req.path.slice(req.path.lastIndexOf('/') + 1);
    if (last.includes('.') || !req.accepts('html')) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.vary('Accept');
    res.sendFile(path.join(dist, 'index.html'));
  });
  return web;
}

/** Both servers on 127.0.0.1, port 0; closed after `run`. */
async function withBoth(run: (ports: { tsgi: number; express: number }, log: string[]) => Promise<void>): Promise<void> {
  const log: string[] = [];
  const tsgi = await start(tsgiSite(log));
  const web = http.createServer(expressSite());
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  try {
    await run({ tsgi: tsgi.port, express: (web.address() as AddressInfo).port }, log);
  } finally {
    await new Promise((resolve) => web.close(resolve));
  }
}

/** A request of the tables: target, request headers (`'<etag>'` is each server's own tag of the file, `'<weak etag>'` its weak form), method. */
type Case = readonly [target: string, headers?: Record<string, string>, method?: string];

const COMPARED = ['content-type', 'content-length', 'last-modified', 'cache-control', 'content-range', 'accept-ranges', 'vary', 'allow', 'content-encoding'];

/** What is compared of an answer: the status, and for a success its headers that matter, the ETag's opaque part and the body; a Location resolved. */
function shape(res: Answer, port: number) {
  const location = res.header('location');
  const base = { status: res.status, location: location === undefined ? undefined : new URL(location, `http://127.0.0.1:${port}/`).pathname, contentRange: res.header('content-range'), allow: res.header('allow') };
  if (res.status >= 400 || (res.status >= 300 && res.status !== 304)) return base;
  const headers = Object.fromEntries(COMPARED.map((name) => [name, res.header(name)?.toLowerCase()]));
  return { ...base, headers, etag: res.header('etag')?.replace(/^W\//, ''), body: res.body };
}

/** Asks both servers `c`, each with its own validators of the file. */
async function askBoth(ports: { tsgi: number; express: number }, [target, headers = {}, method = 'GET']: Case): Promise<{ tsgi: Answer; express: Answer }> {
  const own = async (port: number) => {
    const tag = Object.values(headers).some((value) => value.includes('etag>')) ? (await ask(port, target)).header('etag')! : '';
    const strong = tag.replace(/^W\//, '');
    const values = Object.entries(headers).map(([name, value]) => [name, value.replace('<weak etag>', `W/${strong}`).replace('<etag>', tag)]);
    return ask(port, target, Object.fromEntries(values), method);
  };
  const [tsgi, exp] = await Promise.all([own(ports.tsgi), own(ports.express)]);
  return { tsgi, express: exp };
}

const LM = 'Tue, 02 Jan 2024 03:04:05 GMT';

describe('a single-page app ported from express.static, over a socket', () => {
  it('answers a method other than GET and HEAD 404 where there is nothing, 405 with Allow where a GET finds something', async () => {
    const server = await start(tsgiSite([]));
    const port = server.port;
    for (const [method, target, status] of [
      ['POST', '/app/assets/missing.js', 404],
      ['DELETE', '/app/assets/', 404], // a directory without index nor listing: nothing to GET
      ['PUT', '/app/assets/leak.txt', 404], // a link out of the root: nothing to GET either
      ['POST', '/app/assets/style-77aa.css', 405],
      ['PUT', '/app/index.html', 405], // an existing file before the page fallback: not the fallback's 404
      ['DELETE', '/app/docs', 405], // a directory, without its slash
      ['POST', '/app/settings/profile', 405], // a page URL: the page answers GET and HEAD
      ['POST', '/app/missing.txt', 404],
    ] as const) {
      const res = await ask(port, target, {}, method);
      expect([method, target, res.status, res.header('allow')]).toEqual([method, target, status, status === 405 ? 'GET, HEAD' : undefined]);
    }
  });

  it('answers as express.static does where both follow RFC 9110: validators, 304s, ranges, HEAD, paths, the fallback', async () => {
    const same: Case[] = [
      ['/app/'],
      ['/app/index.html'],
      ['/app/settings/profile', { accept: 'text/html' }],
      ['/app/assets/style-77aa.css'],
      ['/app/assets/style-77aa.css', {}, 'HEAD'],
      ['/app/assets/style-77aa.css?v=2'],
      ['/app/assets/style-77aa.css', { 'if-none-match': '<etag>' }],
      ['/app/assets/style-77aa.css', { 'if-none-match': '<weak etag>' }], // If-None-Match compares weakly
      ['/app/assets/style-77aa.css', { 'if-none-match': '*' }],
      ['/app/assets/style-77aa.css', { 'if-modified-since': LM }],
      ['/app/assets/style-77aa.css', { 'if-modified-since': 'Tuesday, 02-Jan-24 03:04:05 GMT' }], // RFC 850 form
      ['/app/assets/style-77aa.css', { 'if-none-match': '"other"', 'if-modified-since': LM }], // If-None-Match wins: 200
      ['/app/assets/style-77aa.css', { 'if-modified-since': 'garbage' }],
      ['/app/assets/style-77aa.css', { 'if-match': '*' }],
      ['/app/assets/style-77aa.css', { 'if-unmodified-since': LM }],
      ['/app/assets/data.bin', { range: 'bytes=0-9' }],
      ['/app/assets/data.bin', { range: 'bytes=-10' }],
      ['/app/assets/data.bin', { range: 'bytes=199990-' }],
      ['/app/assets/data.bin', { range: 'bytes=0-10,5-20' }], // overlapping: one part
      ['/app/assets/data.bin', { range: 'bytes=0-9999999' }],
      ['/app/assets/data.bin', { range: 'items=0-1' }],
      ['/app/assets/data.bin', { range: 'bytes=0-9', 'if-range': LM }],
      ['/app/assets/data.bin', { range: 'bytes=0-9', 'if-range': 'Mon, 01 Jan 2001 00:00:00 GMT' }],
      ['/app/assets/data.bin', { range: 'bytes=0-9', 'if-range': '"other"' }],
      ['/app/assets/data.bin', { range: 'bytes=300000-' }], // 416, Content-Range: bytes */200000
      ['/app/assets/data.bin', { range: 'bytes=-0' }],
      ['/app/assets/data.bin', { 'if-unmodified-since': 'Mon, 01 Jan 2001 00:00:00 GMT' }], // 412
      ['/app/assets/%C3%BCn%C3%AF%20c%C3%B8de.txt'],
      ['/app/assets/style-77aa.css%00.png'],
      ['/app/assets/a%2fb.txt'],
      ['/app/assets/%5c..%5cindex.html'],
      ['/app/.env'],
      ['/app/docs'], // 301 to /app/docs/ (absolute here, relative there: the same URL)
      ['/app/docs?tab=1'],
      ['/app/docs/'],
      ['/app/x.js', { accept: 'text/html' }],
      ['/app/assets/missing.js'],
      ['/app/' + 'a'.repeat(5000)],
    ];
    await withBoth(async (ports) => {
      for (const c of same) {
        const { tsgi, express: exp } = await askBoth(ports, c);
        expect([c, shape(tsgi, ports.tsgi)]).toEqual([c, shape(exp, ports.express)]);
      }
    });
  });

  it('differs from express.static where RFC 9110 and 9111 side with tsgi', async () => {
    const cases: Array<[Case, tsgi: number, express: number, why: string]> = [
      [['/app/assets/data.bin', { range: 'bytes=0-9' }, 'HEAD'], 200, 206, 'Range is defined for GET only (RFC 9110 §14.2)'],
      [['/app/assets/data.bin', { range: 'bytes=0-0,5-9' }], 206, 200, 'several ranges: multipart/byteranges, where send answers the whole file'],
      [['/app/assets/data.bin', { range: 'bytes=0-9,,' }], 206, 200, 'empty list elements are ignored (RFC 9110 §5.6.1.2)'],
      [['/app/assets/data.bin', { range: 'bytes=5-1' }], 200, 416, 'an invalid range-spec may be ignored (RFC 9110 §14.1.1, §14.2); nginx 1.22 rejects it too (416)'],
      [['/app/assets/data.bin', { 'if-match': '<weak etag>' }], 412, 200, 'If-Match compares strongly: a weak tag never matches (RFC 9110 §13.1.1)'],
      [['/app/assets/data.bin', { range: 'bytes=0-9', 'if-range': '<weak etag>' }], 200, 206, 'If-Range compares strongly (RFC 9110 §13.1.5); Express tags are weak'],
      [['/app/assets/../index.html'], 308, 200, 'a dot segment is redirected to its clean URL, never served out of sight of a layer above'],
      [['/app/assets/%2e%2e/index.html'], 308, 200, 'the same, percent-encoded'],
      [['/app//index.html'], 308, 200, 'a doubled slash, the same'],
      [['/app/assets/leak.txt'], 404, 200, 'a symlink out of the root is not followed (followSymlinks: false)'],
      [['/app/assets/style-77aa.css', {}, 'POST'], 405, 404, 'the file is there, for GET and HEAD: 405 with Allow (RFC 9110 §15.5.6)'],
      [['/app/assets/style-77aa.css', {}, 'OPTIONS'], 405, 200, 'Express’s router answers OPTIONS itself; tsgi leaves it to a layer that means it (cors)'],
      [['/app/' + 'a'.repeat(17_000)], 414, 431, 'a request-target too long is 414 URI Too Long (RFC 9110 §15.5.15)'],
    ];
    await withBoth(async (ports) => {
      for (const [c, tsgiStatus, expressStatus, why] of cases) {
        const { tsgi, express: exp } = await askBoth(ports, c);
        expect([why, tsgi.status, exp.status]).toEqual([why, tsgiStatus, expressStatus]);
      }
      // The ETag: strong here (nginx's form), weak there; the same opaque part.
      const { tsgi, express: exp } = await askBoth(ports, ['/app/assets/style-77aa.css']);
      expect(tsgi.header('etag')).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
      expect(exp.header('etag')).toBe(`W/${tsgi.header('etag')}`);
      // A multipart answer has an exact length and the parts asked for.
      const multi = (await askBoth(ports, ['/app/assets/data.bin', { range: 'bytes=0-0,5-9' }])).tsgi;
      expect(multi.header('content-type')).toMatch(/^multipart\/byteranges; boundary=/);
      expect([multi.body.length, multi.body.match(/Content-Range: bytes \S+/g)]).toEqual([Number(multi.header('content-length')), ['Content-Range: bytes 0-0/200000', 'Content-Range: bytes 5-9/200000']]);
      // The 412 and 416 of an immutable file: a year of freshness on an error answer there
      // (it makes it storable, RFC 9111 §3), none here.
      for (const c of [['/app/assets/data.bin', { range: 'bytes=300000-' }], ['/app/assets/data.bin', { 'if-match': '"other"' }]] as const) {
        const both = await askBoth(ports, c);
        expect([both.tsgi.status, both.tsgi.header('cache-control'), both.express.header('cache-control')]).toEqual([both.express.status, undefined, 'public, max-age=31536000, immutable']);
      }
    });
  });

  it('serves the precompressed copies by Accept-Encoding (express.static has none), ranges from the file itself', async () => {
    await withBoth(async (ports) => {
      const js = '/app/assets/app-3f2a9c.js';
      for (const [acceptEncoding, coding] of [
        ['gzip, deflate, br, zstd', 'br'],
        ['br;q=0, gzip', 'gzip'],
        ['gzip;q=1, br;q=0.5', 'gzip'],
        ['*', 'br'],
        ['x-gzip', 'gzip'],
        ['identity;q=0', undefined], // nothing listed is acceptable: the file itself (RFC 9110 §12.5.3 lets it disregard the field)
        ['*;q=0, identity', undefined],
        ['', undefined],
      ] as const) {
        const res = await ask(ports.tsgi, js, { 'accept-encoding': acceptEncoding });
        expect([acceptEncoding, res.status, res.header('content-encoding'), res.header('vary')]).toEqual([acceptEncoding, 200, coding, 'Accept-Encoding']);
        const body = Buffer.from(res.body, 'latin1');
        expect(coding === 'br' ? zlib.brotliDecompressSync(body).toString() : coding === 'gzip' ? zlib.gunzipSync(body).toString() : res.body).toBe(JS);
      }
      const coded = await ask(ports.tsgi, js, { 'accept-encoding': 'br' });
      expect([coded.header('etag'), coded.header('accept-ranges')]).toEqual([expect.stringMatching(/-br"$/), 'none']);
      expect((await ask(ports.tsgi, js, { 'accept-encoding': 'br', 'if-none-match': coded.header('etag')! })).status).toBe(304);
      const part = await ask(ports.tsgi, js, { 'accept-encoding': 'br', range: 'bytes=0-5' });
      expect([part.status, part.header('content-encoding'), part.body]).toEqual([206, undefined, JS.slice(0, 6)]);
      // The API: compressed on the fly, its weak tag revalidates.
      const api = await ask(ports.tsgi, '/api/health', { 'accept-encoding': 'gzip' });
      expect([api.header('content-encoding'), JSON.parse(zlib.gunzipSync(Buffer.from(api.body, 'latin1')).toString())]).toEqual(['gzip', API]);
      expect((await ask(ports.tsgi, '/api/health', { 'accept-encoding': 'gzip', 'if-none-match': api.header('etag')! })).status).toBe(304);
      expect(JSON.parse((await ask(ports.express, '/api/health')).body)).toEqual(API);
    });
  });

  it('sends a file renamed over while it is sent whole, as it was; logs each answer; secures each', async () => {
    await withBoth(async (ports, log) => {
      const file = path.join(dist, 'assets', 'big.bin');
      for (const port of [ports.tsgi, ports.express]) {
        const received = await new Promise<Buffer>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port, path: '/app/assets/big.bin', agent: false }, (res) => {
            // The head is here: the file is open. A deploy renames a new one over it.
            writeFileSync(`${file}.new`, 'the next build');
            renameSync(`${file}.new`, file);
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve(Buffer.concat(chunks)));
            res.on('error', reject);
          }).on('error', reject);
        });
        expect([received.length, received.every((byte) => byte === 65)]).toEqual([2 * 1024 * 1024, true]);
        writeFileSync(file, Buffer.alloc(2 * 1024 * 1024, 65));
      }
      const res = await ask(ports.tsgi, '/app/assets/data.bin', { range: 'bytes=0-9' });
      expect([res.header('x-content-type-options'), res.header('x-frame-options')]).toEqual(['nosniff', 'SAMEORIGIN']);
      await expect.poll(() => log.at(-1)).toMatch(/"GET \/app\/assets\/data\.bin HTTP\/1\.1" 206 10 /);
      expect(log.some((line) => / "GET \/app\/assets\/big\.bin HTTP\/1\.1" 200 2097152 /.test(line))).toBe(true);
    });
  });
});
