/**
 * Scenario: a filtering proxy in front of a legacy JSON API (docs/proxy.md, "Editing JSON
 * answers"): it redacts `password` and `ssn`, renames `user_name`, adds a header, maps the
 * upstream's 5xx to an RFC 9457 problem document, and passes everything else (downloads,
 * images) through as it came, streamed. Over real sockets: what the client sees of lengths,
 * codings, validators, ranges, HEAD, a body past the filter's limit, an upstream reset half-way
 * and a client that hangs up while the filter reads (the upstream request aborted, nothing
 * logged: the read fails instead of handing the filter a truncated body as if it were whole).
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { brotliDecompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, Response, abort, compose, defineMiddleware, serve } from 'tsgi';
import { compress } from 'tsgi/middleware';
import { type ProxyApp, decodeContent, proxy } from 'tsgi/proxy';
import { errorLog, request, until } from './node-helpers.ts';

const USER = JSON.stringify({ id: 1, user_name: 'ada', password: 'hunter2', ssn: '078-05-1120', bio: 'x'.repeat(2000) });
const DOWNLOAD = Buffer.alloc(10_000, 7);
const MODIFIED = 'Tue, 01 Jan 2019 00:00:00 GMT';
let upstreamClosed = 0;
let hangSeen = 0;

/** The legacy API: JSON (plain and gzip), 304s on a weak match, byte ranges, a reset, a 500, a hanging answer. */
function legacyApi(): http.Server {
  return http.createServer((req, res) => {
    req.on('close', () => {
      if (!res.writableEnded) upstreamClosed++;
    });
    const inm = req.headers['if-none-match'];
    if ((req.url === '/user' || req.url === '/user-gz') && inm !== undefined && inm.replace(/W\//g, '').includes('"u1"')) {
      res.writeHead(304, { etag: '"u1"', 'last-modified': MODIFIED }).end();
      return;
    }
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    const ranged = (body: Buffer, type: string) => {
      const head = { 'content-type': type, etag: '"u1"', 'last-modified': MODIFIED, 'accept-ranges': 'bytes' };
      if (range === null) return res.writeHead(200, { ...head, 'content-length': body.length }).end(req.method === 'HEAD' ? undefined : body);
      const part = body.subarray(Number(range[1]), Number(range[2]) + 1);
      res.writeHead(206, { ...head, 'content-range': `bytes ${range[1]}-${range[2]}/${body.length}`, 'content-length': part.length });
      res.end(req.method === 'HEAD' ? undefined : part);
    };
    if (req.url === '/user') return ranged(Buffer.from(USER), 'application/json');
    if (req.url === '/download') return ranged(DOWNLOAD, 'application/octet-stream');
    if (req.url === '/user-gz') {
      const body = gzipSync(USER);
      return res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length, etag: '"u1"' }).end(body);
    }
    if (req.url === '/big') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(`[${Array.from({ length: 3000 }, () => USER).join(',')}]`);
    }
    if (req.url === '/reset') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"items":[1,2,3');
      setTimeout(() => res.socket?.resetAndDestroy(), 20);
      return;
    }
    if (req.url === '/hang') {
      hangSeen++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"a":');
      return;
    }
    if (req.url === '/boom') return res.writeHead(500, { 'content-type': 'text/html' }).end('<pre>at /srv/app.js:12</pre>');
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
}

/** Redacts `password` and `ssn`, renames `user_name` to `username`, at any depth. */
function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key !== 'password' && key !== 'ssn') out[key === 'user_name' ? 'username' : key] = redact(item);
  }
  return out;
}

const MAX_JSON = 1 << 20;
/** How the filter's read of each path's body ended (the test's probe). */
const reads = new Map<string, 'reading' | 'whole' | 'failed'>();
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;

/** The recipe of docs/proxy.md, "Editing JSON answers". */
const filterJson = defineMiddleware(async (req, app) => {
  // A part of the upstream's bytes would not fit the rewritten body: ask for the whole.
  delete req.environ.HTTP_RANGE;
  delete req.environ.HTTP_IF_RANGE;
  const res = await req.getResponse(app);
  res.headers.set('X-Filtered', '1');
  if (res.statusCode >= 500) {
    return new Response(JSON.stringify({ type: 'about:blank', title: 'Bad Gateway', status: 502 }), {
      status: 502,
      contentType: 'application/problem+json',
    });
  }
  if (res.statusCode !== 200 || !JSON_TYPE.test(res.contentType ?? '')) return res;
  const etag = res.etag;
  if (etag && !etag.weak) res.etag = { ...etag, weak: true };
  res.headers.delete('Accept-Ranges');
  res.headers.delete('Last-Modified');
  if (req.method === 'HEAD') {
    res.headers.delete('Content-Length');
    return res;
  }
  const declared = res.contentLength;
  if (declared !== null && declared > MAX_JSON) abort(502, 'The upstream answer is too large to filter.');
  const chunks: Uint8Array[] = [];
  let size = 0;
  const body = res.body;
  reads.set(req.pathInfo, 'reading');
  try {
    for await (const chunk of body instanceof Uint8Array ? [body] : body) {
      if (typeof chunk === 'string') throw new TypeError('bytes expected');
      size += chunk.byteLength;
      if (size > MAX_JSON) abort(502, 'The upstream answer is too large to filter.');
      chunks.push(chunk);
    }
  } catch (error) {
    reads.set(req.pathInfo, 'failed');
    throw error;
  }
  reads.set(req.pathInfo, 'whole');
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder(res.charset ?? 'utf-8').decode(Buffer.concat(chunks)));
  } catch {
    abort(502, 'The upstream answered JSON that does not parse.');
  }
  res.body = JSON.stringify(redact(value));
  return res;
});

describe('a JSON-filtering proxy over sockets', () => {
  let upstream: http.Server;
  let api: ProxyApp;
  let server: ServerHandle;
  const log = errorLog();
  let base: string;

  beforeAll(async () => {
    upstream = legacyApi().listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    api = proxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
    server = await serve(compose(compress, filterJson, decodeContent)(api), { host: '127.0.0.1', port: 0, log });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.close();
    await api.close();
    upstream.closeAllConnections();
    upstream.close();
  });

  it('redacts and renames, gzip from the upstream decoded, brotli for the client', async () => {
    for (const path of ['/user', '/user-gz']) {
      const plain = await request(base + path);
      expect(plain.status).toBe(200);
      expect(plain.headers['x-filtered']).toBe('1');
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(Number(plain.headers['content-length'])).toBe(plain.body.length);
      const value = JSON.parse(plain.body.toString()) as Record<string, unknown>;
      expect(value).toMatchObject({ id: 1, username: 'ada' });
      expect(value).not.toHaveProperty('password');
      expect(value).not.toHaveProperty('ssn');
      expect(plain.headers.etag).toBe('W/"u1"');
      expect(plain.headers['accept-ranges']).toBeUndefined();
      const br = await request(base + path, { headers: { 'accept-encoding': 'br' } });
      expect(br.headers['content-encoding']).toBe('br');
      expect(brotliDecompressSync(br.body).toString()).toBe(plain.body.toString());
      expect(br.headers.vary).toMatch(/accept-encoding/i);
    }
  });

  it('HEAD says nothing about the upstream bytes; a range gets the whole rewritten body', async () => {
    const head = await request(`${base}/user`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBeUndefined();
    expect(head.headers.etag).toBe('W/"u1"');
    const ranged = await request(`${base}/user`, { headers: { range: 'bytes=0-40', 'if-range': '"u1"' } });
    expect(ranged.status).toBe(200);
    expect(ranged.headers['content-range']).toBeUndefined();
    expect(ranged.body.toString()).not.toContain('hunter2');
    expect(JSON.parse(ranged.body.toString())).toMatchObject({ username: 'ada' });
  });

  it('a 304 carries the weak validator the client holds', async () => {
    const res = await request(`${base}/user`, { headers: { 'if-none-match': 'W/"u1"' } });
    expect(res.status).toBe(304);
    expect(res.headers.etag).toBe('W/"u1"');
    expect(res.headers['content-length']).toBeUndefined();
  });

  it('passes downloads through: bytes, length, strong ETag and 206 parts', async () => {
    const part = await request(`${base}/download`, { headers: { range: 'bytes=10-19', 'accept-encoding': 'gzip' } });
    // The filter asks for the whole (it cannot know the type before), so a download answers 200 whole.
    expect(part.status).toBe(200);
    expect(part.headers.etag).toBe('"u1"');
    expect(part.headers['content-length']).toBe(String(DOWNLOAD.length));
    expect(part.body.equals(DOWNLOAD)).toBe(true);
  });

  it('maps a 5xx to a problem document, and a body past the limit or an upstream reset to a 502', async () => {
    const boom = await request(`${base}/boom`);
    expect(boom.status).toBe(502);
    expect(boom.headers['content-type']).toBe('application/problem+json');
    expect(boom.body.toString()).not.toContain('/srv/app.js');
    const big = await request(`${base}/big`);
    expect(big.status).toBe(502);
    expect(big.body.toString()).toContain('too large');
    const reset = await request(`${base}/reset`);
    expect(reset.status).toBe(502);
    expect(reset.body.toString()).not.toContain('"items"');
  });

  it('a client that hangs up while the filter reads aborts the upstream request, and no error is logged', async () => {
    const closedBefore = upstreamClosed;
    const socket = net.connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /hang HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await until(() => hangSeen > 0 && reads.get('/hang') === 'reading');
    socket.destroy();
    await until(() => upstreamClosed > closedBefore);
    // The read of the upstream's body failed (the client left): not a truncated body parsed as if whole.
    await until(() => reads.get('/hang') !== 'reading');
    expect(reads.get('/hang')).toBe('failed');
    await request(`${base}/user`); // the server is done with the request gone before it answers this one
    expect(log.text).not.toMatch(/SyntaxError|does not parse|500/);
  });
});
