/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1): serve() sends `100 Continue` only when the app
 * starts reading the body, so a request refused at once is answered before any upload.
 */
import http from 'node:http';
import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { fromFetchHandler } from 'tsgi/fetch';
import { parseRaw, rawExchange, rawExchangeStrict, start } from './node-helpers.ts';

interface Outcome {
  continued: boolean;
  status: number;
  body: string;
  bodySent: boolean;
}

/** Sends a POST with `Expect: 100-continue`, writing the body only on `100 Continue`. */
function postExpecting(port: number, body: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let continued = false;
    let bodySent = false;
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/',
      headers: { Expect: '100-continue', 'Content-Length': Buffer.byteLength(body), 'Content-Type': 'text/plain' },
    });
    req.on('continue', () => {
      continued = true;
      bodySent = true;
      req.end(body);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({ continued, status: res.statusCode!, body: Buffer.concat(chunks).toString(), bodySent });
        if (!bodySent) req.destroy();
      });
    });
    req.on('error', (error) => {
      if (!continued) return; // the server may close after answering without reading
      reject(error);
    });
    req.flushHeaders();
  });
}

describe('Expect: 100-continue', () => {
  it('sends 100 Continue when the app reads the body, and the app gets the body', async () => {
    const echo = Request.application(async (req) => new Response(`got ${await req.text()}`));
    const server = await start(echo);
    const outcome = await postExpecting(server.port, 'hello');
    expect(outcome).toEqual({ continued: true, status: 200, body: 'got hello', bodySent: true });
  });

  it('answers a refusal without 100 Continue, so the client never uploads', async () => {
    let calls = 0;
    const refuse: App = (_environ, startResponse) => {
      calls++;
      startResponse('413 Content Too Large', [['Content-Type', 'text/plain']]);
      return [new TextEncoder().encode('too large')];
    };
    const server = await start(refuse);
    const outcome = await postExpecting(server.port, 'x'.repeat(100_000));
    expect(outcome).toEqual({ continued: false, status: 413, body: 'too large', bodySent: false });
    expect(calls).toBe(1);
    // The connection the client never finished does not hold up a graceful close.
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('sends no 100 Continue for a body whose iterator is made but never read (a fetch handler that refuses at once)', async () => {
    // fromFetchHandler hands the handler a fetch Request whose body stream opens tsgi.input's
    // iterator at once; the handler answers without reading it.
    let calls = 0;
    const refuse = fromFetchHandler(() => {
      calls++;
      return new globalThis.Response('sign in first', { status: 401 });
    });
    const server = await start(refuse);
    const outcome = await postExpecting(server.port, 'x'.repeat(100_000));
    expect(outcome).toEqual({ continued: false, status: 401, body: 'sign in first', bodySent: false });
    expect(calls).toBe(1);
    // A raw app that makes the iterator and reads nothing: nothing sent either.
    const unread: App = (environ, startResponse) => {
      environ['tsgi.input'][Symbol.asyncIterator]();
      startResponse('403 Forbidden', [['Content-Type', 'text/plain']]);
      return [new TextEncoder().encode('no')];
    };
    const second = await start(unread);
    expect(await postExpecting(second.port, 'hello')).toEqual({ continued: false, status: 403, body: 'no', bodySent: false });
  });

  it('sends 100 Continue once however many loops read the body', async () => {
    const twoLoops: App = async (environ, startResponse) => {
      const input = environ['tsgi.input'];
      let text = '';
      for await (const chunk of input) {
        text += new TextDecoder().decode(chunk);
        break;
      }
      for await (const chunk of input) text += new TextDecoder().decode(chunk);
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [new TextEncoder().encode(`got ${text}`)];
    };
    const server = await start(twoLoops);
    const { raw } = await rawExchange(server.port, 'POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
    expect(raw.split('HTTP/1.1 100 Continue').length - 1).toBe(1);
    expect(raw).toContain('got hello');
  });

  it('answers an expectation other than 100-continue with 417 and a reason, without calling the app', async () => {
    let calls = 0;
    const server = await start(() => {
      calls++;
      return [];
    });
    // Strict: on Node 22 a reset here would pass for the clean close this test asserts (rawExchangeStrict).
    const { raw, clean } = await rawExchangeStrict(server.port, 'POST / HTTP/1.1\r\nHost: a\r\nExpect: foo\r\nContent-Length: 3\r\n\r\nabc');
    const res = parseRaw(raw);
    expect(res.statusLine).toBe('HTTP/1.1 417 Expectation Failed');
    expect(res.header('connection')).toBe('close');
    expect(res.header('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.rest).toBe('Expectation Failed: the only expectation this server meets is 100-continue\n');
    expect(clean).toBe(true);
    expect(calls).toBe(0);
  });

  it('over HTTP/2 takes 100-continue in any case (RFC 9110 §10.1.1), as over HTTP/1.1: 100 Continue once the app reads, not a 417', async () => {
    const echo = Request.application(async (req) => new Response(`got ${await req.text()}`));
    const server = await start(echo, { http2: 'h2c' });
    const session = http2.connect(server.url);
    session.on('error', () => {});
    try {
      for (const expectation of ['100-continue', '100-Continue', '100-CONTINUE']) {
        const stream = session.request({ ':method': 'POST', ':path': '/', expect: expectation, 'content-length': '5' }, { endStream: false });
        stream.on('error', () => {});
        let continued = false;
        stream.on('continue', () => {
          continued = true;
          stream.end('hello');
        });
        let text = '';
        stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        const status = await new Promise<unknown>((resolve) => stream.on('response', (headers) => resolve(headers[':status'])));
        await new Promise((resolve) => stream.on('close', resolve));
        expect({ expectation, continued, status, text }).toEqual({ expectation, continued: true, status: 200, text: 'got hello' });
      }
    } finally {
      session.close();
    }
  });
});
