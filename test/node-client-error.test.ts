/**
 * Requests Node's HTTP/1 parser refuses, over a real socket: each is answered with Node's
 * status and a one-line reason in a `text/plain` body, the app is never called for it, a
 * response already under way on the connection goes out whole first, and the server goes on
 * serving. Over plain HTTP, TLS, and HTTP/2's HTTP/1.1 fallback.
 */
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { accessLog } from 'tsgi/middleware';
import { parseRaw, rawExchange, rawExchangeStrict, request, start, uncaughtWhile, until } from './node-helpers.ts';
import { type TestCertificate, makeCertificate } from './tls-helpers.ts';

let certificate: TestCertificate;
beforeAll(async () => {
  certificate = await makeCertificate();
});
afterAll(() => certificate.remove());

/** An app that counts its calls and answers `ok <path>`. */
function counted(): { app: App; calls: string[] } {
  const calls: string[] = [];
  const app = Request.application((req) => {
    calls.push(req.pathInfo);
    return new Response(`ok ${req.pathInfo}`);
  });
  return { app, calls };
}

/** Checks a refusal: the status line, the reason as the whole body, its length, and `Connection: close`. */
function expectRefusal(raw: string, status: string, body: string): void {
  const res = parseRaw(raw);
  expect(res.statusLine).toBe(`HTTP/1.1 ${status}`);
  expect(res.header('content-type')).toBe('text/plain; charset=utf-8');
  expect(res.header('connection')).toBe('close');
  expect(res.rest).toBe(body);
  expect(Number(res.header('content-length'))).toBe(Buffer.byteLength(body));
}

describe('requests the HTTP/1 parser refuses', () => {
  it.each([
    ['a raw non-ASCII byte in the request target', 'GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n', 'Bad Request: invalid character in the request target\n'],
    ['a space in a field name', 'GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n', 'Bad Request: invalid character in a header field\n'],
    ['a method with a character no token has (RFC 9110 §9.1)', 'G@T / HTTP/1.1\r\nHost: a\r\n\r\n', 'Bad Request: invalid method\n'],
    ['a non-numeric Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n', 'Bad Request: invalid Content-Length\n'],
    ['two Content-Length headers', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 'Bad Request: duplicate Content-Length\n'],
    ['Transfer-Encoding after Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'Bad Request: Content-Length together with Transfer-Encoding\n'],
    ['Content-Length after Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n', 'Bad Request: Content-Length together with Transfer-Encoding\n'],
    ['a request line that is not HTTP', 'GET / FTP/1.0\r\n\r\n', 'Bad Request: malformed request line\n'],
    ['a request line ended by a bare LF', 'GET / HTTP/1.1\nHost: a\n\n', 'Bad Request: malformed line ending\n'],
    ['a request line ended by a bare CR', 'GET / HTTP/1.1\rHost: a\r\n\r\n', 'Bad Request: malformed line ending\n'],
  ])('answers %s with 400 and a reason, without calling the app', async (_name, head, body) => {
    const { app, calls } = counted();
    const server = await start(app);
    // Strict: on Node 22 a reset here would pass for the clean close this test asserts (rawExchangeStrict).
    const { raw, clean } = await rawExchangeStrict(server.port, Buffer.from(head, 'latin1'));
    expectRefusal(raw, '400 Bad Request', body);
    expect(clean).toBe(true);
    expect(calls).toEqual([]);
    expect(server.log.text).toBe('');
    expect((await request(`${server.url}/after`)).body.toString()).toBe('ok /after');
  });

  // RFC 9110 §9.1: a method is a case-sensitive token, and an origin server answers one it
  // does not know 501; llhttp knows `http.METHODS` alone, as HTTP/2 is held to (node-http2.test.ts).
  it.each([
    ['an unknown method', 'FROB / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a known method in lower case (methods are case-sensitive)', 'get / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['an unknown method that starts as a known one', 'GETX / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['an unknown method pipelined behind a request', 'GET /first HTTP/1.1\r\nHost: a\r\n\r\nPOSTX / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ])('answers %s with 501 Not Implemented and a reason, without calling the app', async (_name, head) => {
    const { app, calls } = counted();
    const server = await start(app);
    const { raw } = await rawExchangeStrict(server.port, Buffer.from(head, 'latin1'));
    const refusal = raw.slice(raw.lastIndexOf('HTTP/1.1 '));
    expectRefusal(refusal, '501 Not Implemented', 'Not Implemented: unknown method\n');
    expect(calls).toEqual(head.startsWith('GET /first') ? ['/first'] : []);
    expect(server.log.text).toBe('');
  });

  it('answers Content-Length next to Transfer-Encoding (a smuggling attempt) with 400', async () => {
    const { app, calls } = counted();
    const server = await start(app);
    const head = 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
    const res = parseRaw((await rawExchange(server.port, head)).raw);
    expect(res.status).toBe(400);
    expect(res.rest).toMatch(/^Bad Request: [^\n]+\n$/);
    expect(calls).toEqual([]);
  });

  it('answers a header section past maxHeaderSize with 431 and a reason', async () => {
    const { app, calls } = counted();
    const server = await start(app, { server: { maxHeaderSize: 4096 } });
    const head = `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(8000)}\r\n\r\n`;
    const { raw } = await rawExchange(server.port, head);
    expectRefusal(raw, '431 Request Header Fields Too Large', 'Request Header Fields Too Large: the header section has more fields or bytes than the server accepts\n');
    expect(calls).toEqual([]);
  });

  it('answers a request target past maxHeaderSize with 414 (the request line overflowed), reported as such', async () => {
    const { app, calls } = counted();
    const refused: Array<{ status: number; reason: string }> = [];
    const server = await start(app, { server: { maxHeaderSize: 4096 }, onRefused: (r) => refused.push(r) });
    const { raw } = await rawExchange(server.port, `GET /${'a'.repeat(8000)} HTTP/1.1\r\nHost: a\r\n\r\n`);
    expectRefusal(raw, '414 URI Too Long', 'URI Too Long: the request target is longer than the server accepts\n');
    expect(refused).toEqual([expect.objectContaining({ status: 414, reason: 'the request target is longer than the server accepts' })]);
    expect(calls).toEqual([]);
    expect(server.log.text).toBe('');
  });

  it('answers 414 for a long target pipelined behind a request, or whose end arrives in a later read; 431 for a long field in pieces', async () => {
    const { app, calls } = counted();
    const server = await start(app, { server: { maxHeaderSize: 4096 } });
    const pipelined = await rawExchange(server.port, `GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /${'a'.repeat(8000)} HTTP/1.1\r\nHost: a\r\n\r\n`);
    expect(pipelined.raw).toMatch(/^HTTP\/1\.1 200 [^]*ok \/firstHTTP\/1\.1 414 URI Too Long\r\n/);
    const inPieces = async (first: string, second: string) => {
      const socket = net.connect(server.port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('error', () => undefined);
      socket.write(first);
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.write(second);
      await new Promise((resolve) => socket.on('close', resolve));
      return parseRaw(text).status;
    };
    expect(await inPieces(`GET /${'a'.repeat(3000)}`, `${'a'.repeat(3000)} HTTP/1.1\r\nHost: a\r\n\r\n`)).toBe(414);
    expect(await inPieces(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(3000)}`, `${'b'.repeat(3000)}\r\n\r\n`)).toBe(431);
    expect(await inPieces(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(3000)}`, `${'b'.repeat(3000)}`)).toBe(431);
    expect(calls).toEqual(['/first']);
  });

  it('answers 414 for a long target in three or more reads, overflowing in a read that holds neither its start nor its end; 431 for a long field so', async () => {
    const { app, calls } = counted();
    const refused: Array<{ status: number }> = [];
    const server = await start(app, { server: { maxHeaderSize: 4096 }, onRefused: (r) => refused.push(r) });
    /** Writes `pieces` 100 ms apart (one read each) on a raw socket: the status of the answer, and the time it took. */
    const inPieces = async (...pieces: string[]) => {
      const socket = net.connect(server.port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('error', () => undefined);
      const closed = new Promise((resolve) => socket.on('close', resolve));
      const begun = Date.now();
      for (const piece of pieces) {
        if (socket.writable) socket.write(piece);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await closed;
      return { status: parseRaw(text).status, ms: Date.now() - begun };
    };
    const a = (n: number) => 'a'.repeat(n);
    const b = (n: number) => 'b'.repeat(n);
    const target = await inPieces(`GET /${a(2000)}`, a(3000), `${a(2000)} HTTP/1.1\r\nHost: a\r\n\r\n`);
    expect(target.status).toBe(414);
    expect(target.ms).toBeLessThan(1500);
    // Four reads, the end of the line two reads after the overflow.
    expect((await inPieces(`GET /${a(2000)}`, a(3000), a(3000), `${a(10)} HTTP/1.1\r\nHost: a\r\n\r\n`)).status).toBe(414);
    // A field value in pieces: 431, whether its tail has spaces, looks like nothing, or never comes.
    expect((await inPieces(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${b(2000)}`, b(3000), `${b(2000)}\r\n\r\n`)).status).toBe(431);
    expect((await inPieces(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${b(2000)}`, b(3000), `${b(20)} and more\r\n\r\n`)).status).toBe(431);
    expect((await inPieces(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${b(2000)}`, b(3000))).status).toBe(431);
    expect(refused.map((r) => r.status)).toEqual([414, 414, 431, 431, 431]);
    expect(calls).toEqual([]);
    expect(server.log.text).toBe('');
  });

  it('answers 431, not 414, for a head that overflows at the end of a field name (many fields, a long name)', async () => {
    const { app, calls } = counted();
    const server = await start(app, { server: { maxHeaderSize: 4096 } });
    // Node's parser counts a field name at its colon and stops past it, before the space of the
    // value: what it stopped on is a space there too, as after a request target.
    const manyFields = Array.from({ length: 90 }, (_, i) => `X-F${i}: ${'c'.repeat(60)}\r\n`).join('');
    for (const head of [`GET / HTTP/1.1\r\nHost: a\r\n${manyFields}\r\n`, `GET / HTTP/1.1\r\nHost: a\r\nX-${'n'.repeat(8000)}: v\r\n\r\n`]) {
      const { raw } = await rawExchange(server.port, head);
      expectRefusal(raw, '431 Request Header Fields Too Large', 'Request Header Fields Too Large: the header section has more fields or bytes than the server accepts\n');
    }
    // Its name in a read of its own, its line begun in an earlier one.
    const socket = net.connect(server.port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.write(`GET / HTTP/1.1\r\nHost: a\r\nX-${'n'.repeat(3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write(`${'n'.repeat(3000)}: v\r\n\r\n`);
    await new Promise((resolve) => socket.on('close', resolve));
    expect(parseRaw(text).status).toBe(431);
    expect(calls).toEqual([]);
  });

  it('answers a head not in by headersTimeout with 408 and a reason', async () => {
    const server = await start(counted().app, { headersTimeout: 300, firstByteTimeout: 0 });
    const { raw } = await new Promise<{ raw: string }>((resolve) => {
      const socket = net.connect(server.port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ raw: text }));
      socket.write('GET / HTTP/1.1\r\nHost: a\r\n');
    });
    expectRefusal(raw, '408 Request Timeout', 'Request Timeout: the request did not arrive in time\n');
  });

  it('sends the answer to a pipelined request first, then refuses the malformed one behind it', async () => {
    const calls: string[] = [];
    const server = await start(
      Request.application(async (req) => {
        calls.push(req.pathInfo);
        await new Promise((resolve) => setTimeout(resolve, 50)); // still answering when the bad request is parsed
        return new Response(`ok ${req.pathInfo}`);
      }),
    );
    const pipelined = 'GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\nGET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n';
    const { raw, clean } = await rawExchangeStrict(server.port, Buffer.from(pipelined, 'latin1'));
    const answers = raw.split(/(?=HTTP\/1\.1 )/);
    expect(answers).toHaveLength(3);
    expect(parseRaw(answers[0]!).rest).toBe('ok /one');
    expect(parseRaw(answers[1]!).rest).toBe('ok /two');
    expectRefusal(answers[2]!, '400 Bad Request', 'Bad Request: invalid character in the request target\n');
    expect(clean).toBe(true);
    expect(calls).toEqual(['/one', '/two']);
  });

  it('refuses a broken chunked body the app is reading, and cuts the connection', async () => {
    let readError: unknown;
    const server = await start(
      Request.application(async (req) => {
        try {
          await req.bytes();
        } catch (error) {
          readError = error;
          throw error;
        }
        return new Response('read');
      }),
    );
    const head = 'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n';
    const { raw } = await rawExchange(server.port, head);
    const res = parseRaw(raw);
    expect(res.status).toBe(400);
    expect(res.rest).toBe('Bad Request: invalid chunk size\n');
    await expect.poll(() => readError).toBeDefined();
    expect((readError as { code?: number }).code).toBe(400);
    expect(server.log.text).toBe('');
    expect((await request(`${server.url}/after`, { method: 'POST', body: 'x' })).body.toString()).toBe('read');
  });

  it('refuses over TLS, and over the HTTP/1.1 fallback of an HTTP/2 server', async () => {
    const refusals: Array<[string, string, string]> = [
      ['GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n', '400 Bad Request', 'Bad Request: invalid character in the request target\n'],
      [`GET /${'a'.repeat(8000)} HTTP/1.1\r\nHost: a\r\n\r\n`, '414 URI Too Long', 'URI Too Long: the request target is longer than the server accepts\n'],
    ];
    for (const http2 of [false, true]) {
      const { app, calls } = counted();
      const server = await start(app, { tls: { cert: certificate.cert, key: certificate.key }, http2, server: { maxHeaderSize: 4096 } });
      for (const [head, status, body] of refusals) {
        const raw = await new Promise<string>((resolve, reject) => {
          const socket = tls.connect({ port: server.port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
          let text = '';
          socket.on('secureConnect', () => socket.write(Buffer.from(head, 'latin1')));
          socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
          socket.on('error', reject);
          socket.on('close', () => resolve(text));
        });
        expectRefusal(raw, status, body);
      }
      expect(calls).toEqual([]);
    }
  });

  it("applies headersTimeout and keepAliveTimeout to HTTP/2's HTTP/1.1 fallback as to HTTPS", async () => {
    /** What the server sent on a TLS connection (ALPN `http/1.1`) given `head`, and when it closed; cut at 4 s. */
    const exchange = (port: number, head: string) =>
      new Promise<{ raw: string; ms: number }>((resolve, reject) => {
        const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
        let text = '';
        let begun = 0;
        const cut = setTimeout(() => socket.destroy(), 4_000);
        socket.on('secureConnect', () => {
          begun = Date.now();
          socket.write(head);
        });
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        socket.on('error', reject);
        socket.on('close', () => {
          clearTimeout(cut);
          resolve({ raw: text, ms: Date.now() - begun });
        });
      });
    for (const http2 of [false, true]) {
      const { app, calls } = counted();
      const server = await start(app, { tls: { cert: certificate.cert, key: certificate.key }, http2, headersTimeout: 300, keepAliveTimeout: 300, firstByteTimeout: 0 });
      // A head never finished: 408 once headersTimeout is past (checked every second).
      const slow = await exchange(server.port, 'GET /slow HTTP/1.1\r\nHost: a\r\n');
      expectRefusal(slow.raw, '408 Request Timeout', 'Request Timeout: the request did not arrive in time\n');
      expect(slow.ms).toBeLessThan(2_500);
      // An answered request on a kept-alive connection: closed once idle for keepAliveTimeout.
      const idle = await exchange(server.port, 'GET /idle HTTP/1.1\r\nHost: a\r\n\r\n');
      expect(parseRaw(idle.raw).rest).toBe('ok /idle');
      expect(idle.ms).toBeLessThan(2_500);
      expect(calls).toEqual(['/idle']);
    }
  });
});

describe('CONNECT (authority-form): the server tunnels nowhere', () => {
  const reason = 'Not Implemented: CONNECT is not supported: this server is no proxy\n';

  it('answers 501 with a reason over HTTP/1 (Node would close the connection without a word)', async () => {
    const { app, calls } = counted();
    const server = await start(app);
    for (const head of ['CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n', 'CONNECT a.example:443 HTTP/1.0\r\n\r\n\x16\x03\x01']) {
      const { raw, clean } = await rawExchangeStrict(server.port, Buffer.from(head, 'latin1'));
      expectRefusal(raw, '501 Not Implemented', reason);
      expect(clean).toBe(true);
    }
    expect(calls).toEqual([]);
    expect(server.log.text).toBe('');
    expect((await request(`${server.url}/after`)).body.toString()).toBe('ok /after');
  });

  it('takes a client that resets the connection after the 501 as gone: no uncaught ECONNRESET, and the server serves on', async () => {
    const { app, calls } = counted();
    const server = await start(app);
    // Node hands the socket of a CONNECT over without its error listener: a reset read then
    // emitted an 'error' nobody listened to, an uncaught exception that ended the process.
    const { uncaught, connections } = await uncaughtWhile(server, async () => {
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve) => {
          const socket = net.connect(server.port, '127.0.0.1');
          socket.on('error', () => undefined);
          socket.once('data', () => socket.resetAndDestroy());
          socket.on('close', () => resolve());
          socket.write('CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n');
        });
      }
    });
    expect(connections).toBe(3);
    expect(uncaught).toEqual([]);
    expect(calls).toEqual([]);
    expect(server.log.text).toBe('');
    expect((await request(`${server.url}/after`)).body.toString()).toBe('ok /after');
  });

  it('answers 501 with a reason over h2c, and the session serves on (Node would answer a bare 405)', async () => {
    const { app, calls } = counted();
    const server = await start(app, { http2: 'h2c' });
    const session = http2.connect(server.url);
    session.on('error', () => undefined);
    try {
      const answer = (headers: http2.OutgoingHttpHeaders) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const stream = session.request(headers, { endStream: false });
          let status = 0;
          let body = '';
          stream.on('response', (h) => (status = Number(h[':status'])));
          stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
          stream.on('close', () => resolve({ status, body }));
          stream.on('error', reject);
        });
      expect(await answer({ ':method': 'CONNECT', ':authority': 'a.example:443' })).toEqual({ status: 501, body: reason });
      const after = await answer({ ':method': 'GET', ':path': '/after', ':authority': 'a.example' });
      expect(after).toEqual({ status: 200, body: 'ok /after' });
    } finally {
      session.close();
    }
    expect(calls).toEqual(['/after']);
    expect(server.log.text).toBe('');
  });
});

describe('the access log of a request whose own body the parser refuses', () => {
  it.each([
    ['an app that reads the body and fails', true],
    ['an app that reads the body and catches the failure', false],
  ])('logs the 400 the client got, not 499 (%s)', async (_name, rethrow) => {
    const lines: string[] = [];
    const server = await start(
      accessLog(
        Request.application(async (req) => {
          try {
            await req.bytes();
          } catch (error) {
            if (rethrow) throw error;
            // Slower than the refusal: the answer can no longer go out.
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          return new Response('read');
        }),
        { log: { write: (line: string) => void lines.push(line) }, format: 'common' },
      ),
    );
    const { raw } = await rawExchange(server.port, 'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n');
    expect(parseRaw(raw).status).toBe(400);
    await expect.poll(() => lines.length).toBe(1);
    expect(lines[0]).toMatch(/"POST \/up HTTP\/1\.1" 400 /);
    expect(server.log.text).toBe('');
  });
});

describe('a client that ends the connection in the body of a request already answered', () => {
  it('is not refused nor reported: the request has its one line, the 200 the app answered', async () => {
    const lines: string[] = [];
    const refused: number[] = [];
    const server = await start(
      accessLog(Request.application(() => new Response('early')), {
        log: { write: (line: string) => void lines.push(line) },
        format: 'common',
      }),
      { onRefused: (r) => void refused.push(r.status) },
    );
    // A small declared body the app never reads (Node drains it, the connection stays open);
    // the client reads the answer, then gives up the upload (FIN) three bytes in.
    const raw = await new Promise<string>((resolve) => {
      const socket = net.connect(server.port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (text.endsWith('early')) socket.end();
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(text));
      socket.write('POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 500\r\n\r\nabc');
    });
    expect(parseRaw(raw).status).toBe(200);
    expect(raw).not.toContain('400 Bad Request');
    // The access log's line comes at the exchange's end: polled (a fixed 100 ms could end first),
    // then no second one for the refusal that did not happen.
    await expect.poll(() => lines.length, { timeout: 5000 }).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/"POST \/up HTTP\/1\.1" 200 /);
    expect(refused).toEqual([]);
    expect(server.log.text).toBe('');
  });
});

describe('a TLS handshake that does not end in time, or fails', () => {
  it('closes plain HTTP sent to the TLS port, and a TLS 1.1 client, at once and without a word; then serves on', async () => {
    const refused: unknown[] = [];
    const { app, calls } = counted();
    const server = await start(app, { tls: { cert: certificate.cert, key: certificate.key }, onRefused: (r) => refused.push(r) });
    const started = Date.now();
    const plain = await rawExchange(server.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(plain.raw).toBe('');
    const old = await new Promise<Error | undefined>((resolve) => {
      const socket = tls.connect({ port: server.port, host: '127.0.0.1', rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
      socket.on('secureConnect', () => resolve(undefined));
      socket.on('error', resolve);
    });
    expect(old?.message).toMatch(/protocol version|unsupported protocol/i);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(refused).toEqual([]);
    expect(calls).toEqual([]);
    expect(server.log.text).toBe('');
    const after = await new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ port: server.port, host: '127.0.0.1', rejectUnauthorized: false }, () => socket.end('GET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
    expect(after).toMatch(/^HTTP\/1\.1 200 [\s\S]*ok \/after$/);
  });

  it.each([
    ['sends nothing', Buffer.alloc(0)],
    ['stops partway through its ClientHello', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00])],
  ])('closes a connection that %s at handshakeTimeout, without an answer or a refusal reported', async (_name, bytes) => {
    for (const http2 of [false, true]) {
      const refused: unknown[] = [];
      const { app, calls } = counted();
      const server = await start(app, { tls: { cert: certificate.cert, key: certificate.key, handshakeTimeout: 300 }, http2, onRefused: (r) => refused.push(r) });
      const started = Date.now();
      const result = await new Promise<{ received: number; elapsed: number }>((resolve) => {
        const socket = net.connect(server.port, '127.0.0.1', () => socket.write(bytes));
        let received = 0;
        socket.on('data', (chunk: Buffer) => (received += chunk.length));
        socket.on('error', () => {});
        socket.on('close', () => resolve({ received, elapsed: Date.now() - started }));
      });
      expect(result.received).toBe(0);
      // Closed at the timeout, not held on for a lingering close after an answer never sent.
      expect(result.elapsed).toBeLessThan(1500);
      expect(refused).toEqual([]);
      expect(calls).toEqual([]);
      expect(server.log.text).toBe('');
    }
  });

  it('frees the place of a stalled handshake under maxConnections at handshakeTimeout, and close() waits no longer for it', async () => {
    for (const http2 of [false, true]) {
      const { app } = counted();
      const server = await start(app, { tls: { cert: certificate.cert, key: certificate.key, handshakeTimeout: 300 }, http2, maxConnections: 1 });
      // Two stalls in a row: each holds the one place, and gives it back when it is cut.
      for (let i = 0; i < 2; i++) {
        await new Promise<void>((resolve) => {
          const socket = net.connect(server.port, '127.0.0.1');
          socket.on('error', () => {});
          socket.on('close', () => resolve());
        });
      }
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ port: server.port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () =>
          socket.end('GET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'),
        );
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        socket.on('error', reject);
        socket.on('close', () => resolve(text));
      });
      expect(answer).toMatch(/^HTTP\/1\.1 200 [\s\S]*ok \/after$/);
      const stalled = net.connect(server.port, '127.0.0.1');
      stalled.on('error', () => {});
      await new Promise((resolve) => stalled.once('connect', resolve));
      const started = Date.now();
      await server.close({ timeout: 5_000 });
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(server.log.text).toBe('');
    }
  });

  it("logs a handshake that failed on the server's side (the app's SNICallback erred), once per 10 s, and reports no refusal", async () => {
    for (const http2 of [false, true]) {
      const refused: unknown[] = [];
      const { app, calls } = counted();
      const tlsOptions = { cert: certificate.cert, key: certificate.key, SNICallback: (_name: string, done: (error: Error | null) => void) => done(new Error('certificate store down')) };
      const server = await start(app, { tls: tlsOptions, http2, onRefused: (r) => refused.push(r) });
      const failed = () =>
        new Promise<Error | undefined>((resolve) => {
          const socket = tls.connect({ port: server.port, host: '127.0.0.1', servername: 'example.com', rejectUnauthorized: false }, () => resolve(undefined));
          socket.on('error', resolve);
        });
      expect(await failed()).toBeInstanceOf(Error);
      expect(await failed()).toBeInstanceOf(Error);
      expect(server.log.text).toBe("tsgi: a TLS handshake failed on the server's side (tls options' SNICallback, ALPNCallback or pskCallback): certificate store down\n");
      expect(refused).toEqual([]);
      expect(calls).toEqual([]);
    }
  });

  it("escapes the control characters of the server's handshake failure: the client's SNI name an SNICallback error quotes cannot forge or hide a line", async () => {
    // OpenSSL takes any byte but NUL in a server name; a callback's message often names it.
    const tlsOptions = {
      cert: certificate.cert,
      key: certificate.key,
      SNICallback: (name: string, done: (error: Error | null) => void) => done(new Error(`no certificate for ${name}`)),
    };
    const server = await start(counted().app, { tls: tlsOptions });
    await new Promise<void>((resolve) => {
      const socket = tls.connect({ port: server.port, host: '127.0.0.1', servername: 'a\x1b[2J\rtsgi: forged\x7f.example', rejectUnauthorized: false }, () => resolve());
      socket.on('error', () => resolve());
    });
    await until(() => server.log.text.includes('\n'));
    expect(server.log.text).toBe(
      "tsgi: a TLS handshake failed on the server's side (tls options' SNICallback, ALPNCallback or pskCallback): no certificate for a\\x1b[2J\\x0dtsgi: forged\\x7f.example\n",
    );
  });
});
