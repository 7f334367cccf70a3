/**
 * `req.stream({ maxBodySize })` over a real socket: a raw-body upload streamed to the app
 * within a limit, as `bytes({ maxBodySize })` reads one whole (Werkzeug's `request.stream`,
 * limited by `max_content_length`).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Request, Response, serve } from 'tsgi';

let server: Awaited<ReturnType<typeof serve>>;
let port: number;
const reads: number[] = [];

const app = Request.application(async (req) => {
  let size = 0;
  for await (const chunk of req.stream({ maxBodySize: 1000 })) size += chunk.byteLength;
  reads.push(size);
  return new Response(String(size));
});

beforeAll(async () => {
  server = await serve(app, { port: 0 });
  port = server.port!;
});
afterAll(() => server.close());

/**
 * Sends `head` (and `body`) on a fresh connection to `to` (default: this file's server) and
 * answers everything read until the server closes it, or what was read by then after 2 s (a
 * server waiting for the body).
 */
function exchange(head: string, body = '', to = port): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(to, '127.0.0.1', () => socket.write(head + body));
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(text);
    }, 2000);
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => (text += data));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.on('error', reject);
  });
}

describe('req.stream({ maxBodySize })', () => {
  it('streams a body within the limit', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'PUT', body: 'x'.repeat(1000) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('1000');
  });

  it('answers 413 for a chunked body past the limit, while it streams', async () => {
    const chunk = `${(600).toString(16)}\r\n${'x'.repeat(600)}\r\n`;
    const text = await exchange('PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n', chunk + chunk + chunk + '0\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toContain('1000 bytes');
  });

  it('answers 413 for a declared Content-Length past the limit before asking for the body (Expect: 100-continue)', async () => {
    const text = await exchange('PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).not.toContain('100 Continue');
  });

  // Node's parser takes a Content-Length up to 2^64 - 1; req.contentLength is null past 15
  // digits (no safe integer), which must not read as "no length declared".
  it.each(['9007199254740993', '18446744073709551615'])('answers 413 before asking for the body for a declared Content-Length of %s (past 2^53)', async (length) => {
    const text = await exchange(`PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).not.toContain('100 Continue');
  });
});

describe('req.stream({ maxBodySize }) after the body was read whole', () => {
  it('answers 413 for the kept body past the limit and leaves it readable, as bytes({ maxBodySize }) does', async () => {
    const kept = Request.application(async (req) => {
      await req.bytes();
      let refused = '';
      try {
        for await (const chunk of req.stream({ maxBodySize: 10 })) void chunk;
      } catch (error) {
        refused = String((error as { code?: number }).code);
      }
      return new Response(`${refused} ${(await req.bytes()).byteLength}`);
    });
    const handle = await serve(kept, { port: 0 });
    try {
      // Chunked (no Content-Length), so the limit is met while streaming the kept copy.
      const body = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('x'.repeat(100))), c.close()) });
      const res = await fetch(`http://127.0.0.1:${handle.port}/`, { method: 'PUT', body, duplex: 'half' } as RequestInit);
      expect(await res.text()).toBe('413 100');
    } finally {
      await handle.close();
    }
  });
});

describe('req.json() and req.bytes({ maxBodySize }) for a declared Content-Length past 2^53', () => {
  it('answer 413 before asking for the body (Expect: 100-continue)', async () => {
    const reader = Request.application(async (req) => {
      const value = req.pathInfo === '/json' ? await req.json() : await req.bytes({ maxBodySize: 1000 });
      return new Response(typeof value);
    });
    const other = await serve(reader, { port: 0 });
    try {
      for (const path of ['/json', '/bytes']) {
        const text = await exchange(`PUT ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551615\r\nExpect: 100-continue\r\n\r\n`, '', other.port!);
        expect(text, path).toMatch(/^HTTP\/1\.1 413 /);
      }
    } finally {
      await other.close();
    }
  });
});
