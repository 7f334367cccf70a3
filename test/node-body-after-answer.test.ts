/**
 * A request body read only after the response was sent (`res.callOnClose`, a promise left
 * running): Node discards an untouched body once the answer is out, so such a read must fail
 * saying so, never answer an empty body as if the client had sent none (spec §3). Over a real
 * socket: a small body already arrived whole, one of 200 kB that Node drains, and a GET without
 * a body, which still reads as empty.
 */
import http from 'node:http';
import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { request, start, until } from './node-helpers.ts';

/** Answers 202 at once and reads the body in the work after the answer, recording what it got. */
function lateReader(seen: string[]) {
  return Request.application((req) => {
    const res = new Response('accepted\n', { status: 202 });
    res.callOnClose(async () => {
      try {
        seen.push(`bytes ${(await req.bytes()).byteLength}`);
      } catch (error) {
        seen.push(`${(error as Error).name}: ${(error as Error).message}`);
      }
    });
    return res;
  });
}

describe('a body read after the answer was sent', () => {
  it.each([
    ['a small body that arrived whole', 100],
    ['a 200 kB body Node drains after the answer', 200_000],
  ])('fails saying it was discarded: %s', async (_name, size) => {
    const seen: string[] = [];
    const server = await start(lateReader(seen));
    const res = await request(server.url, { method: 'POST', body: new Uint8Array(size) });
    expect(res.status).toBe(202);
    await until(() => seen.length === 1);
    expect(seen[0]).toMatch(/^Error: The request body was discarded once the response was sent/);
  });

  it('fails the same for a chunked body still arriving when the answer went out', async () => {
    const seen: string[] = [];
    const server = await start(lateReader(seen));
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = http.request(server.url, { method: 'POST', agent: false, headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.write('{"events":[');
      setTimeout(() => req.end('1]}'), 100);
    });
    expect(status).toBe(202);
    await until(() => seen.length === 1);
    expect(seen[0]).toMatch(/^Error: The request body was discarded once the response was sent/);
  });

  it('fails the same through req.stream()', async () => {
    const seen: string[] = [];
    const app = Request.application((req) => {
      const res = new Response('accepted\n', { status: 202 });
      res.callOnClose(async () => {
        let size = 0;
        try {
          for await (const chunk of req.stream()) size += chunk.byteLength;
          seen.push(`bytes ${size}`);
        } catch (error) {
          seen.push(`${(error as Error).name}: ${(error as Error).message}`);
        }
      });
      return res;
    });
    const server = await start(app);
    expect((await request(server.url, { method: 'POST', body: '{"events":[1,2,3]}' })).status).toBe(202);
    await until(() => seen.length === 1);
    expect(seen[0]).toMatch(/^Error: The request body was discarded once the response was sent/);
  });

  it('an empty chunked body (a stream that sent nothing) still reads as empty: nothing was discarded', async () => {
    const seen: string[] = [];
    const server = await start(lateReader(seen));
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = http.request(server.url, { method: 'POST', agent: false, headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end(); // the last chunk only: 0\r\n\r\n
    });
    expect(status).toBe(202);
    await until(() => seen.length === 1);
    expect(seen).toEqual(['bytes 0']);
  });

  it.each([
    ['with its Content-Length', true],
    ['without a Content-Length', false],
  ])('fails the same over HTTP/2 (h2c), not as a 400 blaming the client: %s', async (_name, declared) => {
    const seen: string[] = [];
    const server = await start(lateReader(seen), { http2: 'h2c' });
    const session = http2.connect(server.url);
    session.on('error', () => {});
    try {
      const body = Buffer.alloc(100);
      const stream = session.request({ ':method': 'POST', ':path': '/', ...(declared ? { 'content-length': '100' } : {}) });
      stream.on('error', () => {});
      stream.end(body);
      const status = await new Promise((resolve) => stream.on('response', (headers) => resolve(headers[':status'])));
      stream.resume();
      expect(status).toBe(202);
      await until(() => seen.length === 1);
      expect(seen[0]).toMatch(/^Error: The request body was discarded once the response was sent/);
    } finally {
      session.close();
    }
  });

  it('a request without a body still reads as empty', async () => {
    const seen: string[] = [];
    const server = await start(lateReader(seen));
    const res = await request(server.url);
    expect(res.status).toBe(202);
    await until(() => seen.length === 1);
    expect(seen).toEqual(['bytes 0']);
  });
});
