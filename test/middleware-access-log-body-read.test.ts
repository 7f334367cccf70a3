/**
 * accessLog's count of the request body bytes read (`bodyBytesRead`, `body_bytes_read` in the
 * `json` format; mod_logio's `%I` and nginx's `$request_length` without the head): what the app
 * and the layers below the log read of `tsgi.input`, by whatever reader, over real sockets; a
 * body nobody read, which the server discards after the answer, counts 0.
 */
import http from 'node:http';
import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { type App, type AppLike, Request, Response, serve } from 'tsgi';
import { accessLog, type AccessLogEntry, type AccessLogOptions, decodeBody } from 'tsgi/middleware';
import { toFetchHandler } from 'tsgi/fetch';
import { TestClient } from 'tsgi/testing';

/** The parsed `json` lines and the entries a function format saw, with a wait for the next one. */
function recorder() {
  const lines: Array<Record<string, unknown>> = [];
  let waiters: Array<() => void> = [];
  return {
    lines,
    write(line: string) {
      lines.push(JSON.parse(line) as Record<string, unknown>);
      for (const wake of waiters) wake();
      waiters = [];
    },
    async waitFor(count: number) {
      while (lines.length < count) await new Promise<void>((wake) => waiters.push(wake));
    },
  };
}

async function withServer(app: AppLike, fn: (url: string) => Promise<void>): Promise<void> {
  const server = await serve(app, { port: 0, host: '127.0.0.1', log: { write: () => {} } });
  try {
    await fn(server.url);
  } finally {
    await server.close({ timeout: 2000 });
  }
}

/** One request with a body over a fresh connection (chunked when `chunked`); answers the status once the answer ended. */
function send(url: string, path: string, body: Uint8Array, options: { chunked?: boolean; expectContinue?: boolean } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = options.chunked ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': body.byteLength };
    if (options.expectContinue) headers.Expect = '100-continue';
    const req = http.request(`${url}${path}`, { method: 'POST', headers, agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 10 s')));
    // A server that answers without reading may close before the upload is done: the status still came.
    req.on('error', (error) => reject(error));
    if (options.expectContinue) req.on('continue', () => req.end(body));
    else if (options.chunked) {
      req.write(body.subarray(0, body.byteLength >> 1));
      req.end(body.subarray(body.byteLength >> 1));
    } else req.end(body);
  });
}

const body = (n: number) => new Uint8Array(n).fill(120);

/** Reads the body as `path` says, and answers how many bytes it got. */
const reader: App = Request.application(async (req) => {
  switch (req.pathInfo) {
    case '/bytes':
      return new Response(String((await req.bytes()).byteLength));
    case '/iterate': {
      let n = 0;
      for await (const chunk of req.environ['tsgi.input']) n += chunk.byteLength;
      return new Response(String(n));
    }
    case '/pipeline': {
      let n = 0;
      await pipeline(req.stream(), new Writable({ write: (chunk: Uint8Array, _encoding, done) => ((n += chunk.byteLength), done()) }));
      return new Response(String(n));
    }
    default:
      return new Response('not read');
  }
});

function logged(app: App, options: AccessLogOptions = {}) {
  const out = recorder();
  return { out, app: accessLog(app, { log: out, format: 'json', ...options }) };
}

describe('accessLog: the request body bytes read', () => {
  it('counts a POST of N bytes read by req.bytes(), a raw for await and a stream pipeline, chunked or not; a GET reads 0 (socket)', async () => {
    const { out, app } = logged(reader);
    await withServer(app, async (url) => {
      expect(await send(url, '/bytes', body(100_000))).toBe(200);
      expect(await send(url, '/iterate', body(70_001), { chunked: true })).toBe(200);
      expect(await send(url, '/pipeline', body(300_000), { chunked: true })).toBe(200);
      expect(await send(url, '/bytes', body(5_000), { expectContinue: true })).toBe(200);
      await (await fetch(`${url}/bytes`)).text();
      await out.waitFor(5);
    });
    expect(out.lines.map((line) => [line.url, line.body_bytes_read, line.bytes])).toEqual([
      ['/bytes', 100_000, 6],
      ['/iterate', 70_001, 5],
      ['/pipeline', 300_000, 6],
      ['/bytes', 5_000, 4],
      ['/bytes', 0, 1],
    ]);
    // Right after `bytes`, before `duration_ms`.
    expect(Object.keys(out.lines[0]!).slice(7, 10)).toEqual(['bytes', 'body_bytes_read', 'duration_ms']);
  });

  it('leaves the request stream of a request without a body (a GET, Content-Length: 0) as it is: no wrapper, 0 (socket)', async () => {
    // What the meter would add to the stream: an own `emit`, called for its every event.
    const probe: App = async (environ, startResponse) => {
      const stream = (environ['tsgi.input'] as unknown as { stream: object }).stream;
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [new TextEncoder().encode(Object.hasOwn(stream, 'emit') ? 'wrapped' : 'plain')];
    };
    const { out, app } = logged(probe);
    await withServer(app, async (url) => {
      expect(await (await fetch(`${url}/get`)).text()).toBe('plain');
      expect(await (await fetch(`${url}/empty`, { method: 'POST', body: '' })).text()).toBe('plain');
      expect(await (await fetch(`${url}/body`, { method: 'POST', body: 'abc' })).text()).toBe('wrapped');
      await out.waitFor(3);
    });
    expect(out.lines.map((line) => [line.url, line.body_bytes_read])).toEqual([
      ['/get', 0],
      ['/empty', 0],
      ['/body', 0],
    ]);
  });

  it('counts 0 for a body the app did not read, small (Node drains it, the connection kept) or large (discarded, the connection closed) (socket)', async () => {
    const { out, app } = logged(reader);
    await withServer(app, async (url) => {
      expect(await send(url, '/ignored', body(1_000))).toBe(200);
      expect(await send(url, '/ignored', body(2_000_000)).catch(() => 200)).toBe(200);
      expect(await send(url, '/ignored', body(3_000), { chunked: true }).catch(() => 200)).toBe(200);
      await out.waitFor(3);
    });
    expect(out.lines.map((line) => [line.status, line.body_bytes_read])).toEqual([
      [200, 0],
      [200, 0],
      [200, 0],
    ]);
  });

  it('gives a format function entry.bodyBytesRead; a body read whole by a layer above counts whole (socket)', async () => {
    const entries: AccessLogEntry[] = [];
    const logged = accessLog(reader, { log: { write() {} }, format: (entry) => (entries.push(entry), '') });
    // A layer above the log that reads the body first (a signature check): the app replays it.
    const above: App = async (environ, start) => {
      await new Request(environ).bytes();
      return logged(environ, start);
    };
    await withServer(above, async (url) => {
      expect(await send(url, '/bytes', body(12_345))).toBe(200);
    });
    await withServer(logged, async (url) => {
      expect(await send(url, '/iterate', body(777))).toBe(200);
    });
    expect(entries.map((entry) => entry.bodyBytesRead)).toEqual([12_345, 777]);
  });

  it('counts the bytes, not the characters, of a body read as text after setEncoding (hex, latin1, base64, utf8) (socket)', async () => {
    // A raw app that decodes the request stream itself: its chunks are strings of that encoding.
    const decoding: App = async (environ, startResponse) => {
      const encoding = environ.PATH_INFO.slice(1) as BufferEncoding;
      (environ['tsgi.input'] as unknown as { stream: { setEncoding(encoding: BufferEncoding): void } }).stream.setEncoding(encoding);
      let text = '';
      for await (const chunk of environ['tsgi.input'] as AsyncIterable<unknown>) text += String(chunk);
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [new TextEncoder().encode(String(Buffer.from(text, encoding).byteLength))];
    };
    const { out, app } = logged(decoding);
    // Every byte value, so latin1 has characters UTF-8 writes in two bytes; ASCII only for utf8.
    const bytes = Uint8Array.from({ length: 50_000 }, (_, i) => i % 256);
    const ascii = Uint8Array.from({ length: 50_000 }, (_, i) => 97 + (i % 26));
    await withServer(app, async (url) => {
      expect(await send(url, '/hex', bytes)).toBe(200);
      expect(await send(url, '/latin1', bytes, { chunked: true })).toBe(200);
      expect(await send(url, '/base64', bytes.subarray(0, 49_999))).toBe(200);
      expect(await send(url, '/utf8', ascii)).toBe(200);
      await out.waitFor(4);
    });
    expect(out.lines.map((line) => [line.url, line.body_bytes_read])).toEqual([
      ['/hex', 50_000],
      ['/latin1', 50_000],
      ['/base64', 49_999],
      ['/utf8', 50_000],
    ]);
  });

  it('counts the coded bytes of a body decodeBody decodes below it, as they came (socket)', async () => {
    const { out, app } = logged(decodeBody(reader));
    const coded = gzipSync(body(200_000));
    await withServer(app, async (url) => {
      const res = await fetch(`${url}/bytes`, { method: 'POST', body: coded, headers: { 'Content-Encoding': 'gzip' } });
      expect(await res.text()).toBe('200000');
      await out.waitFor(1);
    });
    expect(out.lines.map((line) => line.body_bytes_read)).toEqual([coded.byteLength]);
  });

  it('counts an HTTP/2 request body read, and 0 for one left unread (h2c socket)', async () => {
    const { out, app } = logged(reader);
    const server = await serve(app, { port: 0, host: '127.0.0.1', http2: 'h2c', log: { write: () => {} } });
    const session = http2.connect(server.url);
    try {
      for (const path of ['/bytes', '/ignored']) {
        const stream = session.request({ ':method': 'POST', ':path': path });
        stream.end(body(40_000));
        stream.resume();
        await new Promise((resolve, reject) => stream.on('close', resolve).on('error', reject));
      }
      await out.waitFor(2);
    } finally {
      session.close();
      await server.close({ timeout: 2000 });
    }
    expect(out.lines.map((line) => [line.url, line.protocol, line.body_bytes_read])).toEqual([
      ['/bytes', 'HTTP/2.0', 40_000],
      ['/ignored', 'HTTP/2.0', 0],
    ]);
  });

  it('counts the bytes read under the TestClient and toFetchHandler too', async () => {
    const { out, app } = logged(reader);
    const client = new TestClient(app);
    await client.post('/bytes', { body: body(4_096) });
    await client.post('/iterate', { body: body(10) });
    await client.post('/ignored', { body: body(99) });
    const handler = toFetchHandler(app);
    const res = await handler(new globalThis.Request('http://localhost/bytes', { method: 'POST', body: body(2_048) }));
    await res.text();
    await out.waitFor(4);
    expect(out.lines.map((line) => [line.url, line.body_bytes_read])).toEqual([
      ['/bytes', 4_096],
      ['/iterate', 10],
      ['/ignored', 0],
      ['/bytes', 2_048],
    ]);
  });
});
