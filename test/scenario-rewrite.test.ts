/**
 * Scenario: a legacy CMS (windows-1252 pages without a charset, absolute links to
 * http://legacy.internal:8080, cookies for legacy.internal under /cms, absolute redirects, gzip,
 * an event stream, downloads with Range) put behind https://www.example.com/site/ with proxy()
 * and the response filters, as docs/proxy.md tells it. The upstream is a node:http server in
 * this process; the gateway is driven over real sockets.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGunzip, gunzipSync, gzipSync } from 'node:zlib';
import { request as undiciRequest } from 'undici';
import { gcBuffers } from './gc.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, compose, serve } from 'tsgi';
import { compress, mount, proxyFix, requestId } from 'tsgi/middleware';
import { type ProxyApp, decodeContent, proxy, replaceText, rewriteHtml, rewriteLocation } from 'tsgi/proxy';

const OLD = 'http://legacy.internal:8080';
const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

// An undeclared windows-1252 page: "Café" as the byte E9, a curly quote as 0x93/0x94.
const HOME = latin1(
  '<!DOCTYPE html><html><head><base href="http://legacy.internal:8080/cms/"><title>Caf\xe9</title></head>' +
    '<body><a href="http://legacy.internal:8080/cms/about.html">About</a> <a href="/cms/news">News</a>' +
    '<form action="http://legacy.internal:8080/cms/search" method="post"></form>' +
    '<img srcset="http://legacy.internal:8080/cms/a.png 1x, /cms/b.png 2x">' +
    '<div style="background: url(http://legacy.internal:8080/cms/bg.png)">\x93Legacy Corp\x94 welcomes you</div>' +
    "<style>h1 { background: url('/cms/h1.png') }</style>" +
    '</body></html>',
);
const UNTOUCHED = latin1('<!DOCTYPE html><html><head><meta charset="iso-8859-1"><title>Men\xfc</title></head><body><p>Gr\xfc\xdfe \xa9 2009</p></body></html>');
const DOWNLOAD = Buffer.alloc(100_000, 7);
const TEN_MB = 10 * 1024 * 1024;

let upstream: http.Server;
let upstreamUrl: string;
let legacy: ProxyApp;
let server: ServerHandle;
let gateway: string;
let releaseEvents: () => void = () => {};
let eventsFinished = false;
let hugeSent: () => number = () => 0;
const seen: http.IncomingHttpHeaders[] = [];
const log: string[] = [];

function legacySite(req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = (req.url ?? '/').replace(/\?.*/, '');
  seen.push(req.headers);
  const gzipOk = /gzip/.test(String(req.headers['accept-encoding'] ?? ''));
  switch (path) {
    case '/cms/': {
      res.setHeader('Content-Type', 'text/html');
      res.setHeader('ETag', '"home1"');
      if (req.headers['if-none-match']?.includes('"home1"')) return void res.writeHead(304).end();
      const body = gzipOk ? gzipSync(HOME) : HOME;
      if (gzipOk) res.setHeader('Content-Encoding', 'gzip');
      res.setHeader('Vary', 'Accept-Encoding');
      res.setHeader('Content-Length', body.length);
      if (req.method === 'HEAD') return void res.end();
      // Three chunks, the middle cut through "Legacy Corp".
      const cut = HOME.indexOf('Corp') - 3;
      if (gzipOk) return void res.end(body);
      res.write(body.subarray(0, cut));
      setTimeout(() => res.end(body.subarray(cut)), 20);
      return;
    }
    case '/cms/menu.html':
      res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Length': UNTOUCHED.length });
      return void res.end(UNTOUCHED);
    case '/cms/meta.html':
      res.writeHead(200, { 'Content-Type': 'text/html' });
      return void res.end(latin1('<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"></head><body><a href="/cms/b\xfccher">B\xfccher</a> Legacy Corp, Legacy Corp</body></html>'));
    case '/cms/reset-late':
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.write('<html><body>' + '<p>filler</p>'.repeat(20_000));
      setTimeout(() => res.socket?.resetAndDestroy(), 50);
      return;
    case '/cms/login':
      res.writeHead(302, {
        Location: 'http://legacy.internal:8080/cms/welcome',
        Refresh: '0; url=http://legacy.internal:8080/cms/welcome',
        'Content-Location': 'http://legacy.internal:8080/cms/login.html',
        'Set-Cookie': ['sid=abc; Domain=legacy.internal; Path=/cms; HttpOnly', 'lang=de; Path=/cms/de'],
      });
      return void res.end();
    case '/cms/api/items':
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return void res.end(JSON.stringify({ next: 'http://legacy.internal:8080/cms/api/items?page=2', items: [1, 2] }));
    case '/cms/events':
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.write('data: first\n\n');
      releaseEvents = () => {
        res.end('data: last\n\n');
        eventsFinished = true;
      };
      return;
    case '/cms/files/report.pdf': {
      res.setHeader('Content-Type', 'application/pdf');
      res.setHeader('Accept-Ranges', 'bytes');
      res.setHeader('ETag', '"pdf1"');
      const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
      if (range) {
        const from = Number(range[1]);
        const to = range[2] ? Number(range[2]) : DOWNLOAD.length - 1;
        res.writeHead(206, { 'Content-Range': `bytes ${from}-${to}/${DOWNLOAD.length}`, 'Content-Length': to - from + 1 });
        return void res.end(DOWNLOAD.subarray(from, to + 1));
      }
      res.setHeader('Content-Length', DOWNLOAD.length);
      return void res.end(DOWNLOAD);
    }
    case '/cms/files/manual.pdf': {
      // Apache's `SetOutputFilter DEFLATE` gzips every type but images: a legacy download in gzip.
      res.setHeader('Content-Type', 'application/pdf');
      res.setHeader('ETag', gzipOk ? '"man1-gzip"' : '"man1"');
      res.setHeader('Vary', 'Accept-Encoding');
      const body = gzipOk ? gzipSync(DOWNLOAD) : DOWNLOAD;
      if (gzipOk) res.setHeader('Content-Encoding', 'gzip');
      res.setHeader('Content-Length', body.length);
      return void res.end(body);
    }
    case '/cms/ranged.html': {
      const page = latin1('<html><body><a href="/cms/x">x</a></body></html>');
      res.setHeader('Content-Type', 'text/html; charset=windows-1252');
      res.setHeader('Accept-Ranges', 'bytes');
      if (req.headers.range) {
        res.writeHead(206, { 'Content-Range': `bytes 10-19/${page.length}`, 'Content-Length': 10 });
        return void res.end(page.subarray(10, 20));
      }
      return void res.end(page);
    }
    case '/cms/huge.html': {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=windows-1252' });
      // Mostly text, a link a kilobyte: an old CMS's long article.
      const block = latin1(`<p><a href="/cms/p">Caf\xe9 Legacy Corp</a> ${'lorem ipsum dolor '.repeat(56)}</p>\n`.repeat(64));
      let sent = 0;
      hugeSent = () => sent;
      const pump = (): void => {
        while (sent < TEN_MB) {
          sent += block.length;
          if (!res.write(block)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.write('<html><body>');
      pump();
      return;
    }
    case '/cms/reset':
      res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Length': 100_000 });
      res.write('<html><body>' + 'x'.repeat(1000));
      setTimeout(() => res.socket?.resetAndDestroy(), 20);
      return;
    case '/cms/silent':
      return; // never answers
    case '/cms/headers':
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return void res.end(JSON.stringify(req.headers));
    default:
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not here');
  }
}

async function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  const res = await undiciRequest(`${gateway}${path}`, {
    method: method as 'GET',
    headers: { host: 'www.example.com', 'x-forwarded-proto': 'https', ...headers },
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

beforeAll(async () => {
  upstream = http.createServer(legacySite);
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/cms/`;
  legacy = proxy(upstreamUrl, { headersTimeout: 500 });
  const names = [upstreamUrl, `${OLD}/cms/`];
  const site = compose(
    compress,
    (app) => rewriteLocation(app, { upstream: names }),
    (app) =>
      replaceText(app, {
        replacements: [
          ['Legacy Corp', 'Example Inc'],
          [`${OLD}/cms/`, 'https://www.example.com/site/'],
          [/url\(\s*(['"]?)\/cms\//g, 'url($1/site/'], // CSS's absolute paths (docs/proxy.md)
        ],
      }),
    (app) => rewriteHtml(app, { upstream: names }),
    decodeContent,
  )(legacy);
  const app = requestId(proxyFix(mount({ '/site': site }), { xProto: 1 }));
  server = await serve(app, { port: 0, host: '127.0.0.1', log: { write: (line: string) => void log.push(line) } });
  gateway = server.url;
});

afterAll(async () => {
  releaseEvents();
  await server.close();
  await legacy.close();
  upstream.closeAllConnections();
  await new Promise((done) => upstream.close(done));
});

describe('a rewriting proxy in front of a legacy site', () => {
  it('rewrites links, form actions, srcset, <base>; replaceText takes style url() and text across chunks', async () => {
    const res = await get('/site/');
    expect(res.status).toBe(200);
    const html = res.body.toString('latin1');
    expect(html).toContain('<base href="https://www.example.com/site/">');
    expect(html).toContain('<a href="https://www.example.com/site/about.html">');
    expect(html).toContain('<a href="/site/news">');
    expect(html).toContain('action="https://www.example.com/site/search"');
    expect(html).toContain('srcset="https://www.example.com/site/a.png 1x, /site/b.png 2x"');
    expect(html).toContain('url(https://www.example.com/site/bg.png)');
    expect(html).toContain("url('/site/h1.png')");
    // windows-1252 in, windows-1252 out: the curly quotes and é are the same bytes.
    expect(html).toContain('<title>Caf\xe9</title>');
    expect(html).toContain('\x93Example Inc\x94 welcomes you');
  });

  it('passes an untouched non-UTF-8 page byte for byte, and rewrites one declared by <meta> in its charset', async () => {
    const res = await get('/site/menu.html');
    expect(Buffer.compare(res.body, UNTOUCHED)).toBe(0);
    const meta = await get('/site/meta.html');
    expect(meta.body.toString('latin1')).toBe('<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"></head><body><a href="/site/b\xfccher">B\xfccher</a> Example Inc, Example Inc</body></html>');
  });

  it('replaces the old host in the JSON API', async () => {
    const res = await get('/site/api/items');
    expect(JSON.parse(res.body.toString())).toEqual({ next: 'https://www.example.com/site/api/items?page=2', items: [1, 2] });
  });

  it('maps Location, Refresh, Content-Location and the cookies Domain and Path', async () => {
    const res = await get('/site/login');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('https://www.example.com/site/welcome');
    expect(res.headers.refresh).toBe('0; url=https://www.example.com/site/welcome');
    expect(res.headers['content-location']).toBe('https://www.example.com/site/login.html');
    expect(res.headers['set-cookie']).toEqual(['sid=abc; Domain=www.example.com; Path=/site; HttpOnly', 'lang=de; Path=/site/de']);
  });

  it('decodes gzip for the filters and compresses again for a client that accepts it', async () => {
    const zipped = await get('/site/', { 'accept-encoding': 'gzip' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toMatch(/accept-encoding/i);
    expect(zipped.headers.etag).toMatch(/^W\/"home1/);
    expect(zipped.headers['content-length'] === undefined || Number(zipped.headers['content-length']) === zipped.body.length).toBe(true);
    expect(gunzipSync(zipped.body).toString('latin1')).toContain('Example Inc');
    const plain = await get('/site/', { 'accept-encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toMatch(/accept-encoding/i);
    expect(plain.body.toString('latin1')).toContain('Example Inc');
    // A download nobody rewrites is neither decoded nor re-encoded: its length stays.
    const pdf = await get('/site/files/report.pdf', { 'accept-encoding': 'gzip' });
    expect(pdf.headers['content-length']).toBe(String(DOWNLOAD.length));
    expect(pdf.headers.etag).toBe('"pdf1"');
    // A gzip download no filter reads reaches a client that takes gzip as the upstream sent it.
    const manual = await get('/site/files/manual.pdf', { 'accept-encoding': 'gzip' });
    expect(manual.headers['content-encoding']).toBe('gzip');
    expect(manual.headers['content-length']).toBe(String(gzipSync(DOWNLOAD).length));
    expect(manual.headers.etag).toBe('"man1-gzip"');
  });

  it('answers Range on a download with 206, and on a rewritten page with the whole 200', async () => {
    const part = await get('/site/files/report.pdf', { range: 'bytes=10-19' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 10-19/${DOWNLOAD.length}`);
    expect(part.body.length).toBe(10);
    const page = await get('/site/ranged.html', { range: 'bytes=10-19' });
    expect(page.status).toBe(200);
    expect(page.headers['accept-ranges']).toBeUndefined();
    expect(page.body.toString('latin1')).toContain('href="/site/x"');
  });

  it('HEAD and 304 pass through', async () => {
    const head = await get('/site/', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-length']).toBeUndefined();
    const etag = String(head.headers.etag);
    const again = await get('/site/', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.headers.etag).toBe(etag);
  });

  it('does not buffer the event stream', async () => {
    eventsFinished = false;
    const res = await undiciRequest(`${gateway}/site/events`, { headers: { host: 'www.example.com', 'accept-encoding': 'gzip' } });
    // compress flushes each event: the first one decodes while the upstream is still open.
    expect(res.headers['content-encoding']).toBe('gzip');
    const gunzip = createGunzip();
    const decoded: string[] = [];
    gunzip.on('data', (chunk: Buffer) => decoded.push(chunk.toString()));
    const iterator = res.body[Symbol.asyncIterator]();
    while (!decoded.join('').includes('data: first')) {
      const step = await iterator.next();
      expect(step.done).toBe(false);
      await new Promise<void>((done) => gunzip.write(step.value, () => done()));
      await new Promise((r) => setImmediate(r));
    }
    expect(eventsFinished).toBe(false);
    releaseEvents();
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) gunzip.write(step.value);
    await new Promise((done) => gunzip.end(done));
    expect(decoded.join('')).toBe('data: first\n\ndata: last\n\n');
  });

  it('streams a 10 MB page to a client that stops reading, holding no more than its buffers', async () => {
    // On loopback the kernel's socket buffers (tcp_rmem up to 32 MB here) take the whole page,
    // so what is measured is what the gateway process holds: heap and buffers after a full GC.
    // The page once read whole first: the code its path compiles and caches is no growth.
    for await (const chunk of (await undiciRequest(`${gateway}/site/huge.html`, { headers: { host: 'www.example.com' } })).body) void chunk;
    gcBuffers();
    const before = process.memoryUsage();
    const res = await undiciRequest(`${gateway}/site/huge.html`, { headers: { host: 'www.example.com' } });
    const iterator = res.body[Symbol.asyncIterator]();
    let size = (await iterator.next()).value.length as number;
    for (let last = -1; hugeSent() !== last; ) {
      last = hugeSent();
      await new Promise((r) => setTimeout(r, 250));
    }
    gcBuffers();
    const held = process.memoryUsage();
    const grew = held.heapUsed + held.external - before.heapUsed - before.external;
    // About 1.3 MiB here, idle or loaded (buffers on the way, the test's own objects); the
    // rewriter keeping each string it wrote out measured 6.3. Before the warm-up read and the
    // second collection, 5 MiB: the path's first compiled code, and dead buffers V8 had not yet
    // swept on a busy machine (6.5 MiB once, against 6).
    expect(grew).toBeLessThan(4 * 1024 * 1024);
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) size += step.value.length;
    expect(size).toBeGreaterThan(TEN_MB);
  }, 30_000);

  it('answers an upstream that is silent with 504, a reset before the head with 502, and logs the request id', async () => {
    const silent = await get('/site/silent', { 'x-request-id': 'req-silent-1' });
    expect(silent.status).toBe(504);
    expect(silent.body.toString()).toMatch(/timeout|did not answer/i);
    expect(log.join('')).toMatch(/504 request_id=req-silent-1/);
    const reset = await get('/site/reset', { 'x-request-id': 'req-reset-1' });
    expect([502]).toContain(reset.status);
    expect(log.join('')).toMatch(/request_id=req-reset-1/);
  });

  it('cuts the connection when the upstream resets after the head went out, never a clean end', async () => {
    const res = await undiciRequest(`${gateway}/site/reset-late`, { headers: { host: 'www.example.com', 'x-request-id': 'req-late-1' } });
    expect(res.statusCode).toBe(200);
    await expect(res.body.arrayBuffer()).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    expect(log.join('')).toMatch(/request_id=req-late-1.*in the middle of the response body/);
  });

  it('answers a refused connection with 502', async () => {
    const gone = proxy('http://127.0.0.1:1/');
    const s = await serve(requestId(gone), { port: 0, host: '127.0.0.1', log: { write: (line: string) => void log.push(line) } });
    try {
      const res = await undiciRequest(`${s.url}/x`, { headers: { 'x-request-id': 'req-refused-1' } });
      expect(res.statusCode).toBe(502);
      expect(await res.body.text()).toMatch(/refused/);
      expect(log.join('')).toMatch(/502 request_id=req-refused-1.*refused/);
    } finally {
      await s.close();
      await gone.close();
    }
  });

  it('sends X-Forwarded-* upstream', async () => {
    const res = await get('/site/headers');
    const headers = JSON.parse(res.body.toString()) as Record<string, string>;
    expect(headers['x-forwarded-proto']).toBe('https');
    expect(headers['x-forwarded-host']).toBe('www.example.com');
    expect(headers['x-forwarded-prefix']).toBe('/site');
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
  });
});
