/**
 * toFetchHandler and a request body the app left unread, wholly or after a loop left with
 * `break`: read and dropped (up to 4 MiB or 2 s) before the answer is handed to the runtime,
 * which otherwise resets the connection under it (Bun, @hono/node-server: the conformance
 * suite's crossOriginProtection case sends a 4 MiB forged upload over a raw socket). A body the
 * app read to its end, or may still read, is left alone.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type App, HTTPForbidden, Request } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { timeout } from 'tsgi/middleware';
import { serveFetch } from './fetch-helpers.ts';

const MiB = 1024 * 1024;

/** A request whose body is `chunks` pieces of 64 KiB, counting how many were pulled. */
function upload(chunks: number, headers: Record<string, string> = {}): { request: globalThis.Request; pulled: () => number } {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled === chunks) return controller.close();
      pulled++;
      controller.enqueue(new Uint8Array(64 * 1024));
    },
  });
  const request = new globalThis.Request('http://example.com/upload', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);
  return { request, pulled: () => pulled };
}

const refuse: App = (environ, start) => new HTTPForbidden('No.').respond(environ, start);

describe('toFetchHandler: a request body the app did not read', () => {
  it('is read to its end before the answer is handed over', async () => {
    const { request, pulled } = upload(32); // 2 MiB
    const res = await toFetchHandler(refuse)(request);
    expect(res.status).toBe(403);
    expect(pulled()).toBe(32);
    expect(request.bodyUsed).toBe(true);
  });

  it('is read up to 4 MiB only, then cancelled', async () => {
    const { request, pulled } = upload(1000); // 62.5 MiB
    const res = await toFetchHandler(refuse)(request);
    expect(res.status).toBe(403);
    expect(pulled() * 64 * 1024).toBeGreaterThan(4 * MiB);
    expect(pulled() * 64 * 1024).toBeLessThan(5 * MiB);
  });

  it('is not read when its declared length is past 4 MiB: it could not be drained, the answer goes at once', async () => {
    const { request, pulled } = upload(1000, { 'Content-Length': String(1000 * 64 * 1024) });
    const res = await toFetchHandler(refuse)(request);
    expect(res.status).toBe(403);
    expect(pulled()).toBeLessThanOrEqual(1); // what the stream pulls by itself
    const small = upload(16, { 'Content-Length': String(MiB) });
    expect((await toFetchHandler(refuse)(small.request)).status).toBe(403);
    expect(small.pulled()).toBe(16);
  });

  it('is left to a streamed answer, which may read it later', async () => {
    const echoLater: App = (environ, start) => {
      start('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield new TextEncoder().encode('first\n');
        yield new TextEncoder().encode('second\n');
        let bytes = 0;
        for await (const chunk of environ['tsgi.input']) bytes += chunk.byteLength;
        yield new TextEncoder().encode(`${bytes}\n`);
      })();
    };
    const { request } = upload(16);
    const res = await toFetchHandler(echoLater)(request);
    expect(await res.text()).toBe(`first\nsecond\n${MiB}\n`);
  });

  it("fails a late app's read of the body it dropped with a clear error, which timeout does not log as a crash", async () => {
    const { request } = upload(4);
    let late: unknown;
    const slow = Request.application(async (req) => {
      await new Promise((resolve) => setTimeout(resolve, 60));
      try {
        await req.bytes();
      } catch (error) {
        late = error;
        throw error;
      }
      return 'too late';
    });
    const lines: string[] = [];
    const log = { write: (line: string) => void lines.push(line) };
    const res = await toFetchHandler(timeout(slow, { ms: 20 }), { log })(request);
    expect(res.status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(String((late as Error)?.cause ?? late)).toMatch(/request body was dropped/);
    expect(lines.join('')).toBe('');
  });
});

/** An app that reads the first chunk of a POST body, leaves its loop with `break`, and answers 403. */
const readsFirstChunk: App = async (environ, start) => {
  let first = 0;
  for await (const chunk of environ['tsgi.input']) {
    first = chunk.byteLength;
    break;
  }
  start('403 Forbidden', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode(`${environ.REQUEST_METHOD} ${first}\n`)];
};

describe('toFetchHandler: a request body the app left part-way (a break out of its loop)', () => {
  it('has its rest read and dropped before the answer is handed over', async () => {
    const { request, pulled } = upload(32); // 2 MiB
    const res = await toFetchHandler(readsFirstChunk)(request);
    expect(res.status).toBe(403);
    expect(pulled()).toBe(32);
  });

  it('is read up to 4 MiB only, then cancelled', async () => {
    const { request, pulled } = upload(1000); // 62.5 MiB
    const res = await toFetchHandler(readsFirstChunk)(request);
    expect(res.status).toBe(403);
    expect(pulled() * 64 * 1024).toBeGreaterThan(4 * MiB);
    expect(pulled() * 64 * 1024).toBeLessThan(5 * MiB);
  });

  it('over @hono/node-server on 127.0.0.1: the upload completes and the next request on the connection is answered', async () => {
    const served = await serveFetch(toFetchHandler(readsFirstChunk));
    const socket = net.connect(served.port, '127.0.0.1');
    try {
      let text = '';
      let closed = false;
      socket.on('data', (data: Buffer) => void (text += data.toString('latin1')));
      socket.on('close', () => void (closed = true));
      socket.on('error', () => {});
      await new Promise((resolve) => socket.once('connect', resolve));
      const size = 2 * MiB;
      socket.write(`POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${size}\r\n\r\n`);
      await new Promise<void>((resolve) => socket.write(Buffer.alloc(size, 120), () => resolve()));
      socket.write('GET /next HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      const deadline = Date.now() + 3000;
      while (!/GET 0\n$/.test(text) && !closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const answers = text.match(/HTTP\/1\.1 \d+/g);
      expect(answers).toEqual(['HTTP/1.1 403', 'HTTP/1.1 403']);
      expect(text).toMatch(/\r\n\r\nPOST \d+\n[^]*\r\n\r\nGET 0\n$/);
      expect(closed).toBe(false);
    } finally {
      socket.destroy();
      await served.close();
    }
  });
});
