/**
 * A request body read only after the response was sent (`res.callOnClose`, a promise left
 * running): Node discards an untouched body once the answer is out, so such a read must fail
 * saying so, never answer an empty body as if the client had sent none (spec §3). Over a real
 * socket: a small body already arrived whole, one of 200 kB that Node drains, and a GET without
 * a body, which still reads as empty.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { cascade } from 'tsgi/middleware';
import { toNodeHandler } from 'tsgi/node';
import { TestClient } from 'tsgi/testing';
import { request, start, until } from './node-helpers.ts';

/**
 * Answers 202 at once and reads the body in the work after the answer, recording what it got;
 * with `readFirst`, reads it whole before answering too.
 */
function lateReader(seen: string[], readFirst = false) {
  return Request.application(async (req) => {
    if (readFirst) seen.push(`first ${(await req.bytes()).byteLength}`);
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

/** What a read after the answer fails with once Node has discarded the body. */
const DISCARDED = /^Error: The request body was discarded once the response was sent/;

/** POSTs a chunked body to `url`, written by `send`, and answers the status once the answer has ended. */
function postChunked(url: string, send: (req: http.ClientRequest) => void): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    send(req);
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
    expect(seen[0]).toMatch(DISCARDED);
  });

  it('fails the same for a chunked body still arriving when the answer went out', async () => {
    const seen: string[] = [];
    const server = await start(lateReader(seen));
    const status = await postChunked(server.url, (req) => {
      req.write('{"events":[');
      setTimeout(() => req.end('1]}'), 100);
    });
    expect(status).toBe(202);
    await until(() => seen.length === 1);
    expect(seen[0]).toMatch(DISCARDED);
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
    expect(seen[0]).toMatch(DISCARDED);
  });

  it('an empty chunked body (a stream that sent nothing) still reads as empty: nothing was discarded', async () => {
    const seen: string[] = [];
    const server = await start(lateReader(seen));
    const status = await postChunked(server.url, (req) => req.end()); // the last chunk only: 0\r\n\r\n
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
      expect(seen[0]).toMatch(DISCARDED);
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

describe('a body read after the answer, elsewhere', () => {
  it('reads from the cache when the handler read it whole before answering', async () => {
    const seen: string[] = [];
    const server = await start(lateReader(seen, true));
    expect((await request(server.url, { method: 'POST', body: new Uint8Array(100) })).status).toBe(202);
    await until(() => seen.length === 2);
    expect(seen).toEqual(['first 100', 'bytes 100']);
  });

  it("reads cascade's recording after the answer when an app before it read the body", async () => {
    const seen: string[] = [];
    const first = Request.application(async (req) => {
      await req.bytes();
      return new Response('not here', { status: 404 });
    });
    const server = await start(cascade([first, lateReader(seen)]));
    expect((await request(server.url, { method: 'POST', body: new Uint8Array(100) })).status).toBe(202);
    await until(() => seen.length === 1);
    expect(seen).toEqual(['bytes 100']);
  });

  it('fails as discarded under toNodeHandler in Express', async () => {
    const seen: string[] = [];
    const web = express();
    web.use('/t', toNodeHandler(lateReader(seen)));
    const server = await new Promise<http.Server>((resolve) => {
      const listening: http.Server = web.listen(0, '127.0.0.1', () => resolve(listening));
    });
    try {
      const res = await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/t/x`, { method: 'POST', body: new Uint8Array(100) });
      expect(res.status).toBe(202);
      await until(() => seen.length === 1);
      expect(seen[0]).toMatch(DISCARDED);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('fails as a 400 under a fetch handler, which drained the unread body before answering: never empty', async () => {
    const seen: string[] = [];
    const res = await toFetchHandler(lateReader(seen))(new globalThis.Request('http://localhost/', { method: 'POST', body: 'x'.repeat(100) }));
    expect(res.status).toBe(202);
    await res.text();
    await until(() => seen.length === 1);
    expect(seen[0]).toMatch(/^HTTPBadRequest: /);
  });

  it('reads the body in the TestClient, whose body is not discarded', async () => {
    const seen: string[] = [];
    const res = await new TestClient(lateReader(seen)).post('/', { body: 'x'.repeat(100) });
    expect(res.statusCode).toBe(202);
    await until(() => seen.length === 1);
    expect(seen).toEqual(['bytes 100']);
  });
});
