import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
/**
 * cascade's streamed request body with the other readers and adapters: a raw `for await` that
 * breaks out, multipart forms, `Expect: 100-continue`, HTTP/2, `toFetchHandler`, the
 * `TestClient`, backpressure and a client that leaves.
 */
import { describe, expect, it } from 'vitest';
import { type App, type AppLike, Request, Response, serve } from 'tsgi';
import { cascade, directoryApp } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import { toFetchHandler } from 'tsgi/fetch';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
function pattern(offset: number, size: number): Buffer {
  const chunk = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4) chunk.writeUInt32BE((offset + i) >>> 0, i);
  return chunk;
}
async function withServer(app: AppLike, fn: (url: string) => Promise<void>, extra: object = {}): Promise<void> {
  const server = await serve(app, { host: '127.0.0.1', port: 0, log: { write() {} }, ...extra });
  try { await fn(server.url); } finally { await server.close(); }
}
function post(url: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; text: string; continued: boolean }> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = httpRequest(url, { method: 'POST', headers: { 'Content-Length': String(body.byteLength), ...headers } });
    req.on('continue', () => { continued = true; req.end(body); });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (p: Buffer) => parts.push(p));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(parts).toString(), continued }));
    });
    req.on('error', reject);
    if (headers.Expect) req.flushHeaders(); else req.end(body);
  });
}
const digestApp = Request.application(async (req) => {
  const a = await req.bytes();
  const b = await req.bytes();
  return new Response(`${a.byteLength} ${sha256(a)} ${a === b} ${req.environ.CONTENT_LENGTH}`);
});
const breaker = (n: number): App => async (environ, start) => {
  let i = 0;
  for await (const _ of environ['tsgi.input']) { void _; if (++i >= n) break; }
  start('404 Not Found', []);
  return [];
};

describe('cascade streams the request body: readers, adapters and clients', () => {
  const body = pattern(0, 5 * 1024 * 1024 + 7);
  const digest = sha256(body);

  it('replays to the next app what a skipped app read before it broke out of its for await, the stream not destroyed (socket)', async () => {
    await withServer(cascade([breaker(2), digestApp]), async (url) => {
      expect(await post(url, body)).toMatchObject({ status: 200, text: `${body.byteLength} ${digest} true ${body.byteLength}` });
    });
  });

  it('removes the files of a multipart form a skipped app parsed; the next app parses the form again from the replay (socket)', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'probe-'));
    try {
      const file = pattern(0, 300_000);
      const boundary = 'XyZ';
      const mp = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="a"\r\n\r\nhello\r\n--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="x.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
        file, Buffer.from(`\r\n--${boundary}--\r\n`)]);
      const seenFiles: string[][] = [];
      const first = Request.application(async (req) => {
        const files = await req.files({ spoolThreshold: 0, tmpDir: tmp });
        seenFiles.push(await readdir(tmp));
        return new Response(`no ${files.get('f')?.size}`, { status: 404 });
      });
      const last = Request.application(async (req) => {
        seenFiles.push(await readdir(tmp));
        const form = await req.form({ spoolThreshold: 0, tmpDir: tmp });
        const f = (await req.files())!.get('f')!;
        return new Response(`${form.get('a')} ${f.size} ${sha256(await f.bytes()) === sha256(file)}`);
      });
      await withServer(cascade([first, last]), async (url) => {
        expect(await post(url, mp, { 'Content-Type': `multipart/form-data; boundary=${boundary}` })).toMatchObject({ status: 200, text: `hello 300000 true` });
      });
      expect(seenFiles[0]!.length).toBe(1);
      expect(seenFiles[1]).toEqual([]);
      expect(await readdir(tmp)).toEqual([]);
    } finally { await rm(tmp, { recursive: true, force: true }); }
  });

  it('sends 100 Continue when a skipped app reads, under maxBodySize too, and 413 without it past a declared limit (socket)', async () => {
    for (const maxBodySize of [undefined, 10 * 1024 * 1024]) {
      await withServer(cascade([breaker(1), digestApp], { maxBodySize }), async (url) => {
        expect(await post(url, body, { Expect: '100-continue' })).toMatchObject({ status: 200, continued: true, text: `${body.byteLength} ${digest} true ${body.byteLength}` });
      });
    }
    await withServer(cascade([breaker(1), digestApp], { maxBodySize: 1000 }), async (url) => {
      expect(await post(url, body, { Expect: '100-continue' })).toMatchObject({ status: 413, continued: false });
    });
  });

  it('replays over HTTP/2 (h2c socket)', async () => {
    const http2 = await import('node:http2');
    const server = await serve(cascade([breaker(2), digestApp]), { host: '127.0.0.1', port: 0, http2: 'h2c', log: { write() {} } } as never);
    try {
      const session = http2.connect(server.url);
      const text = await new Promise<string>((resolve, reject) => {
        const s = session.request({ ':method': 'POST', ':path': '/' });
        const parts: Buffer[] = [];
        s.on('data', (p: Buffer) => parts.push(p));
        s.on('end', () => resolve(Buffer.concat(parts).toString()));
        s.on('error', reject);
        s.end(body);
      });
      session.close();
      expect(text).toBe(`${body.byteLength} ${digest} true undefined`);
    } finally { await server.close(); }
  });

  it('replays the ReadableStream of a fetch Request under toFetchHandler', async () => {
    const handler = toFetchHandler(cascade([breaker(2), digestApp]));
    const chunks = [body.subarray(0, 100_000), body.subarray(100_000, 2_000_000), body.subarray(2_000_000)];
    const stream = new ReadableStream<Uint8Array>({ pull(c) { const n = chunks.shift(); if (n) c.enqueue(new Uint8Array(n)); else c.close(); } });
    const res = await handler(new globalThis.Request('http://x/', { method: 'POST', body: stream, duplex: 'half' } as RequestInit));
    expect(await res.text()).toBe(`${body.byteLength} ${digest} true undefined`);
  });

  it('counts against maxBodySize a fetch body whose declared Content-Length it does not keep to, when no app read before the last', async () => {
    const notHere: App = (_environ, start) => {
      start('404 Not Found', []);
      return [];
    };
    const handler = toFetchHandler(cascade([notHere, digestApp], { maxBodySize: 1000 }));
    // A Request made in process: its Content-Length says 10, its body holds 100 000 bytes.
    const res = await handler(new globalThis.Request('http://x/', { method: 'POST', headers: { 'Content-Length': '10' }, body: new Uint8Array(100_000) }));
    expect(res.status).toBe(413);
  });

  it('replays under the live input of the TestClient', async () => {
    const res = await new TestClient(cascade([breaker(2), digestApp])).post('/', { body });
    expect(await res.text()).toBe(`${body.byteLength} ${digest} true ${body.byteLength}`);
  });

  it('reads nothing ahead of the apps: the client is held back while the last app has not read (socket)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let sentBeforeRead = 0;
    let sent = 0;
    const readOne: App = async (environ, start) => { for await (const _ of environ['tsgi.input']) { void _; break; } start('404 Not Found', []); return []; };
    const last: App = async (environ, start) => {
      await gate;
      sentBeforeRead = sent;
      let n = 0;
      for await (const c of environ['tsgi.input']) n += c.byteLength;
      start('200 OK', []);
      return [Buffer.from(String(n))];
    };
    const total = 64 * 1024 * 1024;
    await withServer(cascade([readOne, last]), async (url) => {
      const p = new Promise<string>((resolve, reject) => {
        const req = httpRequest(url, { method: 'POST', headers: { 'Content-Length': String(total) } });
        req.on('response', (res) => { const parts: Buffer[] = []; res.on('data', (d: Buffer) => parts.push(d)); res.on('end', () => resolve(Buffer.concat(parts).toString())); });
        req.on('error', reject);
        const chunk = Buffer.alloc(1024 * 1024);
        void (async () => {
          for (let i = 0; i < 64; i++) { sent += chunk.byteLength; if (!req.write(chunk)) await new Promise((r) => req.once('drain', r)); }
          req.end();
        })();
      });
      await new Promise((r) => setTimeout(r, 500));
      release();
      expect(await p).toBe(String(total));
    });
    expect(sentBeforeRead).toBeLessThan(16 * 1024 * 1024);
  });

  it('fails the read of the last app without an unhandled rejection when the client leaves while a read of a skipped app was pending (socket)', async () => {
    const unhandled: unknown[] = [];
    const on = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', on);
    let error = '';
    let lastDone!: () => void;
    const done = new Promise<void>((r) => (lastDone = r));
    // The client leaves once the skipped app's reads are under way: after a fixed 100 ms, a
    // loaded machine could leave before the request reached the server (no app ran, `done` hung).
    let reading!: () => void;
    const skippedReads = new Promise<void>((r) => (reading = r));
    const impatient: App = (environ, start) => {
      reading();
      const it = environ['tsgi.input'][Symbol.asyncIterator]();
      void it.next().then(() => it.next()).then(() => it.next()).catch(() => undefined);
      start('404 Not Found', []);
      return [];
    };
    const last: App = async (environ, start) => {
      await new Promise((r) => setTimeout(r, 300));
      try { for await (const _ of environ['tsgi.input']) void _; } catch (e) { error = (e as Error).message || String(e); }
      lastDone();
      start('200 OK', []);
      return [Buffer.from(error)];
    };
    await withServer(cascade([impatient, last]), async (url) => {
      const req = httpRequest(url, { method: 'POST', headers: { 'Content-Length': '10000000' } });
      req.on('error', () => undefined);
      req.write(Buffer.alloc(200_000));
      await skippedReads;
      req.destroy();
      await done;
    });
    await new Promise((r) => setTimeout(r, 100));
    process.off('unhandledRejection', on);
    expect(unhandled).toEqual([]);
    expect(error).not.toBe('');
  });

  it('stops the form parse a skipped app left reading, removes its files, and hands the next app the whole body (socket)', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'probe-'));
    try {
      const file = pattern(0, 3_000_000);
      const boundary = 'XyZ';
      const mp = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="a"\r\n\r\nhello\r\n--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="x.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
        file, Buffer.from(`\r\n--${boundary}--\r\n`)]);
      let pending: Promise<unknown> | undefined;
      const first = Request.application(async (req) => {
        pending = req.files({ spoolThreshold: 0, tmpDir: tmp }).then(() => 'parsed', (e: Error) => `failed ${e.message}`);
        await new Promise((r) => setTimeout(r, 50));
        return new Response('no', { status: 404 });
      });
      const last = Request.application(async (req) => {
        const form = await req.form({ spoolThreshold: 0, tmpDir: tmp });
        const f = (await req.files())!.get('f')!;
        return new Response(`${form.get('a')} ${f.size} ${sha256(await f.bytes()) === sha256(file)}`);
      });
      await withServer(cascade([first, last]), async (url) => {
        const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
          const req = httpRequest(url, { method: 'POST', headers: { 'Content-Length': String(mp.byteLength), 'Content-Type': `multipart/form-data; boundary=${boundary}` } });
          req.on('response', (r) => { const parts: Buffer[] = []; r.on('data', (d: Buffer) => parts.push(d)); r.on('end', () => resolve({ status: r.statusCode!, text: Buffer.concat(parts).toString() })); });
          req.on('error', reject);
          void (async () => {
            for (let o = 0; o < mp.byteLength; o += 100_000) { req.write(mp.subarray(o, o + 100_000)); await new Promise((r) => setTimeout(r, 5)); }
            req.end();
          })();
        });
        expect(res).toEqual({ status: 200, text: 'hello 3000000 true' });
      });
      expect(await pending).toMatch(/^failed /);
      expect(await readdir(tmp)).toEqual([]);
    } finally { await rm(tmp, { recursive: true, force: true }); }
  });
});
