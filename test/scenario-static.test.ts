/**
 * Scenario: a single-page app and its assets, ported from Express (`express.static` and a
 * history fallback) to tsgi by following docs/middleware-static.md, then asked the same
 * requests as the Express version, both over a real socket, answer by answer: conditional
 * GETs, ranges, HEAD, hostile paths, symlinks, precompressed copies, other methods. Where the
 * answers differ, the test says which and why (RFC 9110), so a change on either side shows.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
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
  for (const name of ['index.html', 'assets/app-3f2a9c.js', 'assets/style-77aa.css', 'assets/data.bin']) utimesSync(path.join(dist, name), OLD, OLD);
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
});
