/**
 * A body read that fails part-way under `serve()`: every later read — `bytes()`, `text()`,
 * `form()`, a raw `for await` over `tsgi.input` — fails at once with the same error, never
 * waits for bytes already taken nor answers a body whose start is gone. A refusal decided
 * before reading (a declared `Content-Length`, a form's charset) leaves the input whole.
 * Every case runs over a real socket.
 */
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { type App, HTTPException, Request, Response } from 'tsgi';
import { encodeMultipart } from 'tsgi/forms';
import { toNodeHandler } from 'tsgi/node';
import { request, start } from './node-helpers.ts';

const URLENCODED = { 'Content-Type': 'application/x-www-form-urlencoded' };

/** Runs `first` (expected to fail), then `then`; answers 200 with what `then` gave, or the second error's status and whether it is the first error. */
function afterFailure(first: (req: Request) => Promise<unknown>, then: (req: Request) => Promise<string>): App {
  return Request.application(async (req) => {
    let firstError: unknown;
    try {
      await first(req);
    } catch (error) {
      firstError = error;
    }
    expect(firstError).toBeInstanceOf(HTTPException);
    try {
      return new Response(await then(req));
    } catch (error) {
      const same = error === firstError;
      return new Response(`${(error as HTTPException).code} same=${same}`, { status: 409 });
    }
  });
}

/** Reads `tsgi.input` with `for await` and answers its length. */
async function iterate(req: Request): Promise<string> {
  let length = 0;
  for await (const chunk of req.environ['tsgi.input']) length += chunk.byteLength;
  return String(length);
}

describe('after a body read failed part-way', () => {
  it.each([
    ['text()', (req: Request) => req.text()],
    ['bytes()', async (req: Request) => String((await req.bytes()).byteLength)],
    ['form()', async (req: Request) => String((await req.form()).size)],
    ['for await over tsgi.input', iterate],
  ])('a failed form() (maxFields) makes %s fail at once with the same 413', async (_name, then) => {
    const server = await start(afterFailure((req) => req.form({ maxFields: 1 }), then));
    const res = await request(server.url, { method: 'POST', headers: URLENCODED, body: 'a=1&b=2&c=3' });
    expect(res.body.toString()).toBe('413 same=true');
    expect(res.status).toBe(409);
  });

  it('a failed bytes({ maxBodySize }) makes the next bytes() fail with the same 413, not answer the body short of its first chunk', async () => {
    const server = await start(afterFailure((req) => req.bytes({ maxBodySize: 10 }), async (req) => String((await req.bytes()).byteLength)));
    const body = new Uint8Array(64_000).fill(97);
    // Chunked, so the limit is found while reading rather than from Content-Length.
    const res = await request(server.url, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' }, body });
    expect(res.body.toString()).toBe('413 same=true');
  });

  it('a failed multipart parse (maxFieldSize) makes text() fail with the same 413', async () => {
    const { body, contentType } = encodeMultipart({ a: 'x'.repeat(100), b: 'y' });
    const server = await start(afterFailure((req) => req.form({ maxFieldSize: 10 }), (req) => req.text()));
    const res = await request(server.url, { method: 'POST', headers: { 'Content-Type': contentType }, body });
    expect(res.body.toString()).toBe('413 same=true');
  });

  it('a failed multipart parse (malformed body) makes bytes() fail with the same 400', async () => {
    const body = '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b\r\nnot a header\r\n\r\n2\r\n--b--\r\n';
    const server = await start(afterFailure((req) => req.form(), async (req) => String((await req.bytes()).byteLength)));
    const res = await request(server.url, { method: 'POST', headers: { 'Content-Type': 'multipart/form-data; boundary=b' }, body });
    expect(res.body.toString()).toBe('400 same=true');
  });
});

describe('the failed form parser lets go of the request stream', () => {
  it('leaves no readable listener and does not destroy it, so the 413 goes out', async () => {
    let listeners = -1;
    let destroyed = true;
    const server = await start(
      Request.application(async (req) => {
        const stream = (req.environ['tsgi.input'] as unknown as { stream: IncomingMessage }).stream;
        const error = await req.form({ maxFields: 1 }).then(() => new Response('parsed'), (e: unknown) => e as HTTPException);
        await new Promise(setImmediate);
        listeners = stream.listenerCount('readable');
        destroyed = stream.destroyed;
        return error;
      }),
    );
    const res = await request(server.url, { method: 'POST', headers: URLENCODED, body: 'a=1&b=2&c=3' });
    expect(res.status).toBe(413);
    expect([listeners, destroyed]).toEqual([0, false]);
  });
});

describe('a refusal before reading leaves the input whole', () => {
  it('bytes() refused by its declared Content-Length: the next unlimited bytes() answers every byte', async () => {
    const server = await start(afterFailure((req) => req.bytes({ maxBodySize: 10 }), async (req) => String((await req.bytes()).byteLength)));
    const res = await request(server.url, { method: 'POST', body: new Uint8Array(64_000) });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('64000');
  });

  it('form() refused for its charset (415): bytes() answers the body', async () => {
    const server = await start(afterFailure((req) => req.form(), async (req) => new TextDecoder().decode(await req.bytes())));
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded; charset=x-unknown' };
    const res = await request(server.url, { method: 'POST', headers, body: 'a=1&b=2' });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('a=1&b=2');
  });
});

describe('a chunked body past maxBodySize lets go of the request stream', () => {
  it.each([
    ['a raw for await', (req: Request) => iterate(req)],
    ['req.bytes()', async (req: Request) => String((await req.bytes()).byteLength)],
  ])('%s: 413, and the stream keeps only the listeners it had before the read', async (_name, read) => {
    const counts = (stream: IncomingMessage) => ['readable', 'data', 'end', 'error', 'close'].map((event) => stream.listenerCount(event));
    let stream: IncomingMessage | undefined;
    let before: number[] = [];
    let after: number[] = [];
    const handler = toNodeHandler(
      Request.application(async (req) => {
        before = counts(stream!);
        try {
          return new Response(await read(req));
        } finally {
          await new Promise(setImmediate);
          after = counts(stream!);
        }
      }),
      { maxBodySize: 10 },
    );
    const server = http.createServer((req, res) => {
      stream = req;
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await request(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' }, body: 'x'.repeat(100) });
      expect(res.status).toBe(413);
      expect(after).toEqual(before);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
