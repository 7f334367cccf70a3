/**
 * The default `maxBodySize` of `req.json()` and `req.text()`, 1 MiB (`DEFAULT_TEXT_LIMITS`,
 * Fastify's `bodyLimit`), over a real socket: a declared `Content-Length` past it is refused
 * before the body is asked for (`Expect: 100-continue`, HTTP/1.1 and HTTP/2), a chunked or HTTP/2 body while it
 * streams; a call raises it (`{ maxBodySize }`, `Infinity`); `bytes()` and `stream()` stay
 * unlimited.
 */
import http from 'node:http';
import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TEXT_LIMITS, Request, Response } from 'tsgi';
import { TestClient } from 'tsgi/testing';
import { start } from './node-helpers.ts';

const MiB = 1024 * 1024;

/** A JSON string value of exactly `size` bytes. */
const jsonOf = (size: number): string => `"${'a'.repeat(size - 2)}"`;

const app = Request.application(async (req) => {
  switch (req.pathInfo) {
    case '/json':
      return new Response(`json ${(await req.json<string>()).length}`);
    case '/text':
      return new Response(`text ${(await req.text()).length}`);
    case '/raised':
      return new Response(`json ${(await req.json<string>({ maxBodySize: 10 * MiB })).length}`);
    case '/unlimited':
      return new Response(`json ${(await req.json<string>({ maxBodySize: Infinity })).length}`);
    case '/bytes':
      return new Response(`bytes ${(await req.bytes()).byteLength}`);
    case '/stream': {
      let size = 0;
      for await (const chunk of req.stream()) size += chunk.byteLength;
      return new Response(`stream ${size}`);
    }
    case '/bytes-then-json':
      await req.bytes();
      return new Response(`json ${(await req.json<string>()).length}`);
    case '/bytes-then-json-raised':
      await req.bytes({ maxBodySize: 4 * MiB });
      return new Response(`json ${(await req.json<string>({ maxBodySize: 4 * MiB })).length}`);
    default:
      return new Response('?', { status: 404 });
  }
});

interface Outcome {
  status: number;
  body: string;
  /** Whether the server asked for the body (`100 Continue`). */
  continued: boolean;
}

/**
 * POSTs `body` to `path`: with `Expect: 100-continue` and a `Content-Length`, writing the body
 * only on `100 Continue`; or `chunked`, in 64 KiB chunks written as fast as the server takes
 * them, stopping at the answer.
 */
function post(port: number, path: string, body: string, mode: 'expect' | 'chunked'): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let continued = false;
    let answered = false;
    const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/json' };
    if (mode === 'expect') Object.assign(headers, { Expect: '100-continue', 'Content-Length': Buffer.byteLength(body) });
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, headers, agent: false });
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), continued });
        req.destroy();
      });
    });
    req.on('error', (error) => {
      if (!answered && !(mode === 'expect' && !continued)) reject(error);
    });
    if (mode === 'expect') {
      req.flushHeaders();
      return;
    }
    let at = 0;
    const pump = () => {
      while (at < body.length && !answered) {
        const piece = body.slice(at, at + 64 * 1024);
        at += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

describe('req.json() and req.text() read at most 1 MiB unless told otherwise', () => {
  it('exports the default: 1 MiB, frozen', () => {
    expect(DEFAULT_TEXT_LIMITS).toEqual({ maxBodySize: 1_048_576 });
    expect(Object.isFrozen(DEFAULT_TEXT_LIMITS)).toBe(true);
  });

  it('answers 413 for a declared 2 MiB body before asking for it (Expect: 100-continue), naming the limit and how to raise it', async () => {
    const server = await start(app);
    const json = await post(server.port, '/json', jsonOf(2 * MiB), 'expect');
    expect(json).toMatchObject({ status: 413, continued: false });
    expect(json.body).toContain('maxBodySize exceeded: the request body is larger than 1048576 bytes');
    expect(json.body).toContain('pass req.json({ maxBodySize }) to raise it');
    const text = await post(server.port, '/text', jsonOf(2 * MiB), 'expect');
    expect(text).toMatchObject({ status: 413, continued: false });
    expect(text.body).toContain('pass req.text({ maxBodySize }) to raise it');
  });

  it('answers 413 for a chunked body once it passes 1 MiB', async () => {
    const server = await start(app);
    for (const path of ['/json', '/text']) {
      const outcome = await post(server.port, path, jsonOf(2 * MiB), 'chunked');
      expect(outcome.status).toBe(413);
      expect(outcome.body).toContain('maxBodySize exceeded');
    }
  });

  it('answers 413 for an HTTP/2 body of unannounced length once it passes 1 MiB', async () => {
    const server = await start(app, { http2: 'h2c' });
    const session = http2.connect(server.url);
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/json', 'content-type': 'application/json' });
      stream.on('error', () => {}); // the server may reset the stream after its answer
      const answer = new Promise<{ status: number; body: string }>((resolve) => {
        let status = 0;
        const chunks: Buffer[] = [];
        stream.on('response', (headers) => (status = Number(headers[':status'])));
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString() }));
      });
      stream.end(jsonOf(2 * MiB));
      const { status, body } = await answer;
      expect(status).toBe(413);
      expect(body).toContain('maxBodySize exceeded');
    } finally {
      session.close();
    }
  });

  it('answers 413 for a declared 2 MiB HTTP/2 body before asking for it (Expect: 100-continue)', async () => {
    const server = await start(app, { http2: 'h2c' });
    const session = http2.connect(server.url);
    try {
      const stream = session.request(
        { ':method': 'POST', ':path': '/json', 'content-type': 'application/json', 'content-length': String(2 * MiB), expect: '100-continue' },
        { endStream: false },
      );
      stream.on('error', () => {}); // the server may reset the stream after its answer
      let continued = false;
      stream.on('continue', () => {
        continued = true;
        stream.end(jsonOf(2 * MiB));
      });
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve) => {
        let status = 0;
        const chunks: Buffer[] = [];
        stream.on('response', (headers) => (status = Number(headers[':status'])));
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString() }));
      });
      expect({ status, continued }).toEqual({ status: 413, continued: false });
      expect(body).toContain('pass req.json({ maxBodySize }) to raise it');
    } finally {
      session.close();
    }
  });

  it('reads a body of exactly 1 MiB, declared or chunked', async () => {
    const server = await start(app);
    const body = jsonOf(MiB);
    expect(await post(server.port, '/json', body, 'expect')).toEqual({ status: 200, body: `json ${MiB - 2}`, continued: true });
    expect(await post(server.port, '/json', body, 'chunked')).toMatchObject({ status: 200, body: `json ${MiB - 2}` });
    expect(await post(server.port, '/text', body, 'chunked')).toMatchObject({ status: 200, body: `text ${MiB}` });
  });

  it('reads past it when the call raises the limit, or lifts it with Infinity', async () => {
    const server = await start(app);
    const body = jsonOf(2 * MiB);
    expect(await post(server.port, '/raised', body, 'expect')).toEqual({ status: 200, body: `json ${2 * MiB - 2}`, continued: true });
    expect(await post(server.port, '/raised', body, 'chunked')).toMatchObject({ status: 200, body: `json ${2 * MiB - 2}` });
    expect(await post(server.port, '/unlimited', body, 'chunked')).toMatchObject({ status: 200, body: `json ${2 * MiB - 2}` });
  });

  it('leaves bytes() and stream() unlimited', async () => {
    const server = await start(app);
    const body = jsonOf(2 * MiB);
    expect(await post(server.port, '/bytes', body, 'chunked')).toMatchObject({ status: 200, body: `bytes ${2 * MiB}` });
    expect(await post(server.port, '/stream', body, 'expect')).toMatchObject({ status: 200, body: `stream ${2 * MiB}` });
  });

  it('holds a body already in memory (after bytes()) to the same limit, by its length', async () => {
    const server = await start(app);
    const body = jsonOf(2 * MiB);
    const refused = await post(server.port, '/bytes-then-json', body, 'chunked');
    expect(refused.status).toBe(413);
    expect(refused.body).toContain('pass req.json({ maxBodySize }) to raise it');
    expect(await post(server.port, '/bytes-then-json-raised', body, 'chunked')).toMatchObject({ status: 200, body: `json ${2 * MiB - 2}` });
  });

  it('applies under the TestClient too, whose json option sends the body the app reads', async () => {
    const client = new TestClient(app);
    const big = await client.post('/json', { json: 'a'.repeat(2 * MiB), status: 413 });
    expect(big.statusCode).toBe(413);
    expect(await big.text()).toContain('pass req.json({ maxBodySize }) to raise it');
    const raised = await client.post('/raised', { json: 'a'.repeat(2 * MiB) });
    expect(await raised.text()).toBe(`json ${2 * MiB}`);
  });
});
