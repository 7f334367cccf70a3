/**
 * serve() over TLS (HTTP/1.1), HTTP/2 over TLS with HTTP/1.1 on the same port, and cleartext
 * HTTP/2 (h2c) next to HTTP/1.1: the same app, the same environ rules, per-stream errors.
 */
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, HTTPServiceUnavailable, Request, Response, type ServerHandle, serve } from 'tsgi';
import { accessLog, timeout } from 'tsgi/middleware';
import { type ErrorLog, bytes, deferred, errorLog, h2Frame, parseRaw, rawExchange, sleep, start, uncaughtWhile, until } from './node-helpers.ts';
import { type TestCertificate, h2request, makeCertificate } from './tls-helpers.ts';

/** `'closed'` when `handle.close({ timeout: 200 })` resolves within 3 s, else `'still open after 3 s'`. */
function closeOutcome(handle: ServerHandle): Promise<unknown> {
  return Promise.race([
    handle.close({ timeout: 200 }).then(() => 'closed'),
    new Promise((resolve) => setTimeout(() => resolve('still open after 3 s'), 3_000)),
  ]);
}

/** Connections to `url` that each write one of `firsts` (no request yet), 100 ms after they connected. */
async function rawConnections(url: string, firsts: string[]): Promise<net.Socket[]> {
  const sockets = firsts.map((first) => {
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    socket.on('error', () => {});
    socket.on('connect', () => socket.write(first));
    return socket;
  });
  await Promise.all(sockets.map((socket) => new Promise((resolve) => socket.once('ready', resolve))));
  await new Promise((resolve) => setTimeout(resolve, 100));
  return sockets;
}

/**
 * An HTTP/2 session to `url` once the server knows its SETTINGS took effect: Node holds a stream
 * to the server's `maxHeaderListSize` only once the client acknowledged it (the ping's answer
 * comes after the acknowledgement it follows).
 */
async function settledSession(url: string): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(url);
  await new Promise((resolve) => session.once('remoteSettings', resolve));
  await new Promise((resolve) => session.ping(resolve));
  return session;
}

let certificate: TestCertificate;
beforeAll(async () => {
  certificate = await makeCertificate();
});
afterAll(() => certificate.remove());

const tls = () => ({ cert: certificate.cert, key: certificate.key });

/** Answers the environ keys a test looks at, and the request body it read. */
const describeApp: App = async (environ, startResponse) => {
  const chunks: Uint8Array[] = [];
  for await (const chunk of environ['tsgi.input']) chunks.push(chunk);
  const keys = Object.keys(environ).filter((key) => key.startsWith('HTTP_') || key.includes(':'));
  const report = {
    protocol: environ.SERVER_PROTOCOL,
    scheme: environ['tsgi.url_scheme'],
    host: environ.HTTP_HOST,
    uri: environ.REQUEST_URI,
    path: environ.PATH_INFO,
    query: environ.QUERY_STRING,
    keys,
    body: Buffer.concat(chunks).toString('utf8'),
  };
  startResponse('200 OK', [
    ['Content-Type', 'application/json'],
    ['Set-Cookie', 'a=1'],
    ['Set-Cookie', 'b=2'],
    ['Connection', 'close'],
  ]);
  return [bytes(JSON.stringify(report))];
};

/** GET over HTTPS (HTTP/1.1), trusting the test certificate. */
function httpsGet(url: string): Promise<{ status: number; body: string; version: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: certificate.cert, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (text: string) => (body += text));
        res.on('end', () => resolve({ status: res.statusCode!, body, version: res.httpVersion }));
      })
      .on('error', reject);
  });
}

function connect(url: string): http2.ClientHttp2Session {
  const session = http2.connect(url, { ca: certificate.cert });
  session.on('error', () => {});
  return session;
}

describe('TLS', () => {
  it('serves HTTPS: the URL says https, the environ tsgi.url_scheme https', async () => {
    const server = await start(describeApp, { tls: tls() });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await httpsGet(`${server.url}/a?b=1`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ protocol: 'HTTP/1.1', scheme: 'https', path: '/a', query: 'b=1' });
  });

  it('firstByteTimeout ends a silent connection (no handshake) but not a request that takes longer', async () => {
    const app: App = async (_environ, startResponse) => {
      await new Promise((resolve) => setTimeout(resolve, 700));
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes('late but fine')];
    };
    const server = await start(app, { tls: tls(), firstByteTimeout: 250 });
    const silent = net.connect(server.port, '127.0.0.1');
    silent.on('error', () => {});
    const t0 = Date.now();
    const silentClosed = new Promise<void>((resolve) => silent.once('close', () => resolve()));
    const res = await httpsGet(`${server.url}/`);
    expect(res.body).toBe('late but fine');
    await silentClosed;
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('close({ timeout }) cuts connections still in the TLS handshake, with or without HTTP/2', async () => {
    for (const http2 of [false, true]) {
      const handle = await serve(describeApp, { port: 0, tls: tls(), http2, log: errorLog() });
      // One sends nothing, one the first bytes of a ClientHello: neither is a request yet.
      const sockets = await rawConnections(handle.url, ['', '\x16\x03\x01']);
      const outcome = await closeOutcome(handle);
      expect(outcome, `http2: ${http2}`).toBe('closed');
      for (const socket of sockets) socket.destroy();
    }
  });

  it("close({ idle: 'expire' }) keeps an idle HTTP/1.1 keep-alive connection over TLS, with or without HTTP/2, and answers a late request with Connection: close", async () => {
    const app: App = (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes(`answered ${environ.PATH_INFO}`)];
    };
    for (const http2 of [false, true]) {
      const handle = await serve(app, { port: 0, tls: tls(), http2, log: errorLog() });
      const socket = tlsConnect(handle.port, { ca: certificate.cert, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
      let received = '';
      socket.setEncoding('latin1').on('data', (text: string) => (received += text));
      const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write('GET /first HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await until(() => received.includes('answered /first'));
      const closing = handle.close({ idle: 'expire', timeout: 30_000 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.write('GET /late HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await ended;
      await closing;
      const late = received.slice(received.indexOf('answered /first') + 'answered /first'.length);
      expect(late, `http2: ${http2}`).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(late, `http2: ${http2}`).toMatch(/\r\nConnection: close\r\n/);
      expect(late.endsWith('\r\n\r\nanswered /late'), `http2: ${http2}`).toBe(true);
    }
  });

  it('refuses http2: true without tls, and h2c with it', async () => {
    await expect(serve(describeApp, { port: 0, http2: true })).rejects.toThrow(/http2: true needs tls/);
    await expect(serve(describeApp, { port: 0, http2: 'h2c', tls: tls() })).rejects.toThrow(/cleartext/);
  });
});

describe('HTTP/2 over TLS', () => {
  it('gives the app the same environ: HTTP/2.0, Host from :authority, no pseudo-fields; Set-Cookie stays two fields', async () => {
    const server = await start(describeApp, { tls: tls(), http2: true });
    const session = connect(server.url);
    try {
      const res = await h2request(session, '/echo/%C3%A9?x=1', { method: 'POST', body: 'hello h2', headers: { 'x-test': 'yes' } });
      expect(res.status).toBe(200);
      expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
      expect(res.headers.connection).toBeUndefined();
      const report = JSON.parse(res.body.toString('utf8'));
      expect(report).toMatchObject({
        protocol: 'HTTP/2.0',
        scheme: 'https',
        host: `127.0.0.1:${server.port}`,
        uri: '/echo/%C3%A9?x=1',
        path: '/echo/é',
        query: 'x=1',
        body: 'hello h2',
      });
      expect(report.keys).toContain('HTTP_X_TEST');
      expect(report.keys.filter((key: string) => key.includes(':'))).toEqual([]);
    } finally {
      session.close();
    }
  });

  it('refuses a Host field naming another host than :authority (RFC 9113 §8.3.1), and an authority with a port past 65535', async () => {
    const server = await start(describeApp, { tls: tls(), http2: true });
    const session = connect(server.url);
    try {
      const other = await h2request(session, '/x', { headers: { ':authority': `127.0.0.1:${server.port}`, host: 'evil.example' } });
      expect(other.status).toBe(400);
      expect(other.body.toString()).toBe('Bad Request: Host and :authority differ\n');
      const same = await h2request(session, '/x', { headers: { ':authority': `127.0.0.1:${server.port}`, host: `127.0.0.1:${server.port}` } });
      expect(same.status).toBe(200);
      const port = await h2request(session, '/x', { headers: { ':authority': '[::1]:99999' } });
      expect(port.status).toBe(400);
      expect(port.body.toString()).toBe('Bad Request: invalid Host header\n');
    } finally {
      session.close();
    }
  });

  // RFC 9113 §8.3.1 refuses a Host that names another entity than :authority; the scheme's
  // default port written out or left out, a case or a trailing dot, names the same one.
  it('takes a Host that names the same host as :authority in another spelling (the default port written or not, a trailing dot), and still refuses another port', async () => {
    const server = await start(describeApp, { tls: tls(), http2: true });
    const session = connect(server.url);
    const ask = async (authority: string, host: string) => {
      const res = await h2request(session, '/x', { headers: { ':authority': authority, host } });
      return [res.status, res.status === 200 ? JSON.parse(res.body.toString()).host : res.body.toString()];
    };
    try {
      expect(await ask('a.example:443', 'a.example')).toEqual([200, 'a.example']);
      expect(await ask('A.example', 'a.example.:443')).toEqual([200, 'a.example.:443']);
      expect(await ask('[::1]', '[0::1]:443')).toEqual([200, '[0::1]:443']);
      expect(await ask('a.example:80', 'a.example')).toEqual([400, 'Bad Request: Host and :authority differ\n']);
      expect(await ask('a.example', 'a.example:8443')).toEqual([400, 'Bad Request: Host and :authority differ\n']);
      expect(await ask('a.example:99999', 'a.example')).toEqual([400, 'Bad Request: Host and :authority differ\n']);
    } finally {
      session.close();
    }
  });

  it('serves HTTP/1.1 clients on the same port (ALPN)', async () => {
    const server = await start(describeApp, { tls: tls(), http2: true });
    const res = await httpsGet(`${server.url}/one`);
    expect(res.version).toBe('1.1');
    expect(JSON.parse(res.body)).toMatchObject({ protocol: 'HTTP/1.1', scheme: 'https', path: '/one' });
  });

  it('an error after the headers resets that stream only; the connection serves the next request', async () => {
    let log!: ErrorLog;
    const app: App = (environ, startResponse) => {
      if (environ.PATH_INFO === '/ok') {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        return [bytes('fine')];
      }
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield bytes('partial');
        await new Promise((resolve) => setTimeout(resolve, 10));
        throw new Error('broken stream');
      })();
    };
    const server = await start(app, { tls: tls(), http2: true });
    log = server.log;
    const session = connect(server.url);
    try {
      await expect(h2request(session, '/broken')).rejects.toThrow(/reset|stream/i);
      const ok = await h2request(session, '/ok');
      expect(ok.body.toString()).toBe('fine');
      expect(log.text).toContain('broken stream');
      expect(log.text).toContain('GET /broken HTTP/2.0');
    } finally {
      session.close();
    }
  });

  it("holds a streamed body to its declared Content-Length: a short or long one resets its stream only, and is logged", async () => {
    const app: App = (environ, startResponse) => {
      if (environ.PATH_INFO === '/ok') {
        startResponse('200 OK', [['Content-Length', '4']]);
        return (async function* () {
          yield bytes('fi');
          await new Promise((resolve) => setTimeout(resolve, 10));
          yield bytes('ne');
        })();
      }
      startResponse('200 OK', [['Content-Length', environ.PATH_INFO === '/short' ? '5' : '1']]);
      return (async function* () {
        yield bytes('a');
        await new Promise((resolve) => setTimeout(resolve, 10));
        yield bytes('b');
      })();
    };
    const server = await start(app, { tls: tls(), http2: true });
    const session = connect(server.url);
    try {
      // A slow stream in flight on the same connection, untouched by the others' resets.
      const slow = h2request(session, '/ok');
      await expect(h2request(session, '/short')).rejects.toThrow(/reset|stream|protocol/i);
      await expect(h2request(session, '/long')).rejects.toThrow(/reset|stream|protocol/i);
      expect((await slow).body.toString()).toBe('fine');
      expect((await h2request(session, '/ok')).body.toString()).toBe('fine');
      await until(() => (server.log.text.match(/ERR_HTTP_CONTENT_LENGTH_MISMATCH|does not match the Content-Length/g) ?? []).length === 2);
      expect(server.log.text).toContain('GET /short HTTP/2.0');
      expect(server.log.text).toContain('GET /long HTTP/2.0');
    } finally {
      session.close();
    }
  });

  it('answers an HTTPException raised before the headers as itself on a stream', async () => {
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        await new Promise((resolve) => setTimeout(resolve, 1));
        throw new HTTPServiceUnavailable('Down for maintenance.');
      })();
    };
    const server = await start(app, { tls: tls(), http2: true });
    const session = connect(server.url);
    try {
      const res = await h2request(session, '/busy', { headers: { accept: 'text/plain' } });
      expect(res.status).toBe(503);
      expect(res.body.toString()).toContain('Down for maintenance.');
      await until(() => server.log.messages.length > 0);
      expect(server.log.text).toContain('GET /busy HTTP/2.0 503: HTTPServiceUnavailable: Down for maintenance.');
    } finally {
      session.close();
    }
  });

  it('a client that resets its stream closes the body (its finally runs) and aborts tsgi.signal', async () => {
    const closed = deferred();
    const started = deferred();
    let signal: AbortSignal | undefined;
    const app: App = (environ, startResponse) => {
      signal = environ['tsgi.signal'];
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        try {
          for (;;) {
            started.resolve();
            yield bytes('tick\n');
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        } finally {
          closed.resolve();
        }
      })();
    };
    const server = await start(app, { tls: tls(), http2: true });
    const session = connect(server.url);
    try {
      const stream = session.request({ ':path': '/ticks' });
      stream.on('error', () => {});
      stream.resume();
      await started.promise;
      expect(signal!.aborted).toBe(false);
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await closed.promise;
      await until(() => signal!.aborted);
    } finally {
      session.close();
    }
  });

  it('a client that resets its stream mid-upload aborts tsgi.signal, over TLS and h2c', async () => {
    for (const options of [{ tls: tls(), http2: true }, { http2: 'h2c' }] as const) {
      const failed = deferred<AbortSignal>();
      // The client resets its stream once the app has read some of it (not 50 ms after writing:
      // a loaded machine could reset it before the app ran, and nothing would fail the read).
      const reading = deferred();
      const app: App = async (environ) => {
        const signal = environ['tsgi.signal'];
        try {
          for await (const _chunk of environ['tsgi.input']) reading.resolve();
        } catch {
          failed.resolve(signal!);
        }
        throw new Error('unreachable: the body never ends');
      };
      const server = await start(app, options);
      const session = options.http2 === true ? connect(server.url) : http2.connect(server.url);
      session.on('error', () => {});
      try {
        const stream = session.request({ ':method': 'POST', ':path': '/upload', 'content-length': '100' }, { endStream: false });
        stream.on('error', () => {});
        stream.write('a'.repeat(10));
        await reading.promise;
        stream.close(http2.constants.NGHTTP2_CANCEL);
        const signal = await failed.promise;
        await until(() => signal.aborted);
      } finally {
        session.close();
      }
    }
  });

  it('a client that resets a HEAD stream before its answer aborts tsgi.signal and frees its maxConcurrentRequests place (Node emits no close for it)', async () => {
    const aborted = deferred<boolean>();
    const working = deferred();
    const app: App = async (environ, startResponse) => {
      const signal = environ['tsgi.signal']!;
      if (environ.REQUEST_METHOD === 'HEAD') {
        working.resolve();
        // The answer waits for the client's leaving (at most 3 s: then it was not told).
        await new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => resolve());
          setTimeout(resolve, 3_000);
        });
        aborted.resolve(signal.aborted);
      }
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes('ok')];
    };
    const server = await start(app, { http2: 'h2c', maxConcurrentRequests: 1 });
    const session = http2.connect(server.url);
    session.on('error', () => {});
    try {
      const head = session.request({ ':method': 'HEAD', ':path': '/' });
      head.on('error', () => {});
      await working.promise;
      head.close(http2.constants.NGHTTP2_CANCEL);
      expect(await aborted.promise).toBe(true);
      const next = session.request({ ':path': '/' });
      let text = '';
      next.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      const status = await new Promise<unknown>((resolve) => next.on('response', (headers) => resolve(headers[':status'])));
      await new Promise((resolve) => next.on('end', resolve));
      expect({ status, text }).toEqual({ status: 200, text: 'ok' });
    } finally {
      session.close();
    }
  });

  it('a client that resets its stream closes an idle body at once (an event stream waiting for its next event), over TLS and h2c', async () => {
    for (const options of [{ tls: tls(), http2: true }, { http2: 'h2c' }] as const) {
      const returned = deferred();
      let sent = 0;
      // A source that yields one event, then waits for ever: only its return() can end it.
      const events: AsyncIterableIterator<string> = {
        next: () => (sent++ === 0 ? Promise.resolve({ done: false, value: 'one' }) : new Promise<IteratorResult<string>>(() => {})),
        return: () => {
          returned.resolve();
          return Promise.resolve({ done: true, value: undefined });
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
      const server = await start(Request.application(() => Response.eventStream(events, { heartbeat: 0 })), options);
      const session = connect(server.url);
      try {
        const stream = session.request({ ':path': '/events' });
        stream.on('error', () => {});
        let text = '';
        stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        await until(() => text.includes('data: one'));
        stream.close(http2.constants.NGHTTP2_CANCEL);
        const outcome = await Promise.race([returned.promise.then(() => 'closed'), new Promise((r) => setTimeout(r, 1000, 'still open after 1 s'))]);
        expect(outcome).toBe('closed');
      } finally {
        session.close();
      }
    }
  });

  it('answers an app that ignores the body, then refuses the rest with RST_STREAM(NO_ERROR); the session goes on', async () => {
    const app = Request.application(() => new Response('early answer'));
    const server = await start(app, { tls: tls(), http2: true });
    const session = connect(server.url);
    try {
      const stream = session.request({ ':path': '/upload', ':method': 'POST' });
      let body = '';
      stream.setEncoding('utf8').on('data', (text: string) => (body += text));
      stream.on('error', () => {});
      stream.write(Buffer.alloc(16 * 1024, 97)); // and never end the upload
      const rst = await new Promise<number | undefined>((resolve) => stream.on('close', () => resolve(stream.rstCode)));
      expect(body).toBe('early answer');
      expect(rst).toBe(http2.constants.NGHTTP2_NO_ERROR);
      expect((await h2request(session, '/again')).body.toString()).toBe('early answer');
    } finally {
      session.close();
    }
  });

  it("refuses the rest of a body the app was still reading when its answer went (timeout's 503): RST_STREAM(NO_ERROR), the app's read fails", async () => {
    const events: string[] = [];
    const reading: App = async (environ, startResponse) => {
      try {
        for await (const chunk of environ['tsgi.input']) events.push(`chunk ${chunk.byteLength}`);
        events.push('end');
      } catch (error) {
        events.push(`threw ${(error as Error).message}`);
      }
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes('late')];
    };
    const server = await start(timeout(reading, { ms: 100 }), { tls: tls(), http2: true });
    const session = connect(server.url);
    try {
      const stream = session.request({ ':path': '/upload', ':method': 'POST' });
      let status = 0;
      stream.on('response', (headers) => (status = Number(headers[':status'])));
      stream.resume();
      stream.on('error', () => {});
      stream.write(Buffer.alloc(16 * 1024, 97)); // and never end the upload
      const rst = await Promise.race([
        new Promise<number | undefined>((resolve) => stream.on('close', () => resolve(stream.rstCode))),
        new Promise<string>((resolve) => setTimeout(resolve, 2000, 'still open')),
      ]);
      expect([status, rst]).toEqual([503, http2.constants.NGHTTP2_NO_ERROR]);
      await until(() => events.at(-1)?.startsWith('threw') ?? false);
      expect(events).not.toContain('end'); // a body broken off never reads as whole
      expect((await h2request(session, '/again')).body.toString()).toBe('late');
    } finally {
      session.close();
    }
  });

  it('maxBodySize stops an HTTP/2 body without Content-Length: 413, the session goes on', async () => {
    const app = Request.application(async (req) => new Response(`got ${(await req.bytes()).byteLength}`));
    const server = await start(app, { tls: tls(), http2: true, maxBodySize: 1000 });
    const session = connect(server.url);
    try {
      const big = await h2request(session, '/', { method: 'POST', body: 'x'.repeat(5000) });
      expect(big.status).toBe(413);
      const small = await h2request(session, '/', { method: 'POST', body: 'x'.repeat(1000) });
      expect(small.body.toString()).toBe('got 1000');
    } finally {
      session.close();
    }
  });

  it('close() sends GOAWAY, lets the stream in flight finish, and resolves', async () => {
    const gate = deferred();
    const entered = deferred();
    const app: App = async (_environ, startResponse) => {
      entered.resolve();
      await gate.promise;
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes('finished')];
    };
    const log = errorLog();
    const handle = await serve(app, { port: 0, log, tls: tls(), http2: true });
    const session = connect(handle.url);
    const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
    const inFlight = h2request(session, '/slow');
    await entered.promise;
    const closing = handle.close({ timeout: 5_000 });
    await goaway;
    gate.resolve();
    expect((await inFlight).body.toString()).toBe('finished');
    await closing;
    expect(handle.server.listening).toBe(false);
    session.destroy();
  });

  it('closes a session without streams after keepAliveTimeout, and one that opens none after firstByteTimeout', async () => {
    const app = Request.application(() => new Response('hi'));
    const server = await start(app, { tls: tls(), http2: true, keepAliveTimeout: 200, firstByteTimeout: 300 });
    const used = connect(server.url);
    const idle = connect(server.url);
    const usedClosed = new Promise<void>((resolve) => used.once('close', () => resolve()));
    const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
    await h2request(used, '/');
    const t0 = Date.now();
    await usedClosed;
    expect(Date.now() - t0).toBeLessThan(3_000);
    await idleClosed;
  });

  // The session's timers closed it gracefully: Node then ends the socket and waits for the
  // client's end, which a client that neither reads nor closes never sends, so each such
  // connection (a TLS handshake with ALPN h2 and nothing after, or an h2c preface alone) was
  // held for ever, counting against maxConnections.
  it.each([
    ['over TLS, a client that handshakes (ALPN h2), then neither sends nor reads', 'tls'],
    ['over h2c, a client that sends the preface alone and reads nothing', 'h2c'],
  ] as const)('frees the connection of a session that opens no stream after firstByteTimeout: %s', async (_, kind) => {
    const app = Request.application(() => new Response('hi'));
    const server = await start(app, kind === 'tls' ? { tls: tls(), http2: true, firstByteTimeout: 200 } : { http2: 'h2c', firstByteTimeout: 200 });
    const port = Number(new URL(server.url).port);
    const client =
      kind === 'tls'
        ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['h2'] })
        : net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    client.on('error', () => {});
    try {
      await new Promise((resolve) => client.once(kind === 'tls' ? 'secureConnect' : 'connect', resolve));
      if (kind === 'h2c') client.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
      client.pause(); // reads nothing: the server's SETTINGS and GOAWAY stay unread
      const connections = () => new Promise<number>((resolve, reject) => server.server.getConnections((error, n) => (error ? reject(error) : resolve(n))));
      await sleep(100);
      expect(await connections()).toBe(1);
      const t0 = Date.now();
      while ((await connections()) > 0 && Date.now() - t0 < 3_000) await sleep(50);
      expect(await connections()).toBe(0);
    } finally {
      client.destroy();
    }
  });

  it('answers 408 to a stream whose body does not arrive in requestTimeout, and logs that 408, not a 499', async () => {
    const lines: string[] = [];
    const app = accessLog(
      Request.application(async (req) => new Response(await req.text())),
      { log: { write: (line: string) => void lines.push(line) }, format: 'common' },
    );
    const server = await start(app, { tls: tls(), http2: true, requestTimeout: 300 });
    const session = connect(server.url);
    try {
      const stream = session.request({ ':path': '/upload', ':method': 'POST' });
      stream.on('error', () => {});
      stream.write('part of a body');
      const status = await new Promise<number>((resolve) => stream.once('response', (h) => resolve(Number(h[':status']))));
      expect(status).toBe(408);
      await until(() => lines.length === 1);
      expect(lines[0]).toMatch(/"POST \/upload HTTP\/2\.0" 408 /);
    } finally {
      session.destroy();
    }
  });

  it("takes requestTimeout and keepAliveTimeout past setTimeout's limit as that limit, as HTTP/1.1 does: no 408 or GOAWAY after 1 ms", async () => {
    const app = Request.application(async (req) => new Response(`got ${await req.text()}`));
    const server = await start(app, { http2: 'h2c', requestTimeout: 2 ** 31, keepAliveTimeout: 2 ** 31 });
    const session = http2.connect(server.url);
    session.on('error', () => {});
    let goaway = false;
    session.on('goaway', () => (goaway = true));
    try {
      for (let i = 0; i < 2; i++) {
        const stream = session.request({ ':path': '/upload', ':method': 'POST' }, { endStream: false });
        stream.on('error', () => {});
        let text = '';
        stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        const status = new Promise<unknown>((resolve) => stream.once('response', (h) => resolve(h[':status'])));
        const closed = new Promise((resolve) => stream.on('close', resolve));
        stream.write('part of ');
        await sleep(100);
        if (!stream.closed) stream.end('a body');
        await closed;
        expect({ status: await status, text }).toEqual({ status: 200, text: 'got part of a body' });
        await sleep(100); // idle, between two streams
      }
      expect(goaway).toBe(false);
    } finally {
      session.destroy();
    }
  });

  it('a body cut by requestTimeout is not read as complete: the app reading it sees it broken off, not a shorter body', async () => {
    const outcome = deferred<string>();
    const app = Request.application(async (req) => {
      const read = await req.form().then(
        (form) => `read ${JSON.stringify([...form])}`,
        (error: unknown) => `failed ${(error as { code?: number }).code}`,
      );
      outcome.resolve(read);
      return new Response(read);
    });
    const server = await start(app, { http2: 'h2c', requestTimeout: 300 });
    const session = http2.connect(server.url);
    session.on('error', () => {});
    try {
      const stream = session.request({ ':path': '/', ':method': 'POST', 'content-type': 'application/x-www-form-urlencoded', 'content-length': '100' });
      stream.on('error', () => {});
      stream.write('amount=100'); // then nothing: "amount=1000000" never arrives whole
      const status = await new Promise<number>((resolve) => stream.once('response', (h) => resolve(Number(h[':status']))));
      expect(status).toBe(408);
      expect(await outcome.promise).toBe('failed 400');
    } finally {
      session.destroy();
    }
  });

  it('cuts a stream whose client stops reading (sendTimeout), and closes its body', async () => {
    const closed = deferred();
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      return (async function* () {
        try {
          for (;;) yield new Uint8Array(64 * 1024);
        } finally {
          closed.resolve();
        }
      })();
    };
    const server = await start(app, { tls: tls(), http2: true, sendTimeout: 300 });
    const session = connect(server.url);
    try {
      const stream = session.request({ ':path': '/flood' });
      stream.on('error', () => {});
      stream.pause(); // never read
      const rst = await new Promise<number | undefined>((resolve) => stream.on('close', () => resolve(stream.rstCode)));
      expect(rst).toBe(http2.constants.NGHTTP2_CANCEL);
      await closed.promise;
    } finally {
      session.destroy();
    }
  });

  it('cuts a stream whose client stops reading a body sent whole (an array, one large chunk) after sendTimeout', async () => {
    const big = new Uint8Array(16 * 1024 * 1024);
    const app: App = (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      if (environ.PATH_INFO === '/array') return [big];
      return (async function* () {
        yield big;
      })();
    };
    const server = await start(app, { tls: tls(), http2: true, sendTimeout: 300 });
    for (const path of ['/array', '/one']) {
      const session = connect(server.url);
      try {
        const stream = session.request({ ':path': path });
        stream.on('error', () => {});
        stream.pause(); // never read
        const closed = new Promise<number | undefined>((resolve) => stream.on('close', () => resolve(stream.rstCode)));
        const rst = await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000, 'still open'))]);
        expect(rst, path).toBe(http2.constants.NGHTTP2_CANCEL);
      } finally {
        session.destroy();
      }
    }
  });
});

describe('h2c: cleartext HTTP/2 next to HTTP/1.1', () => {
  it('serves HTTP/2 with prior knowledge and HTTP/1.1 on the same port', async () => {
    const server = await start(describeApp, { http2: 'h2c' });
    expect(server.url).toMatch(/^http:\/\//);
    const session = http2.connect(server.url);
    try {
      const res = await h2request(session, '/two', { method: 'POST', body: 'over h2c' });
      expect(JSON.parse(res.body.toString())).toMatchObject({ protocol: 'HTTP/2.0', scheme: 'http', path: '/two', body: 'over h2c' });
    } finally {
      session.close();
    }
    const one = await new Promise<string>((resolve, reject) => {
      http
        .get(`${server.url}/one`, { agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (text: string) => (body += text));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
    expect(JSON.parse(one)).toMatchObject({ protocol: 'HTTP/1.1', path: '/one' });
  });

  it("takes HTTP/2 settings from server: { settings }, as over TLS (128 streams at once unless told)", async () => {
    for (const [server, expected] of [[undefined, 128], [{ settings: { maxConcurrentStreams: 3 } }, 3]] as const) {
      const handle = await start(describeApp, { http2: 'h2c', ...(server ? { server } : {}) });
      const session = http2.connect(handle.url);
      try {
        await new Promise((resolve) => session.once('remoteSettings', resolve));
        expect(session.remoteSettings.maxConcurrentStreams).toBe(expected);
      } finally {
        session.close();
      }
    }
  });

  // RFC 9110 §9.1: methods are case-sensitive tokens; an origin server answers one it does not
  // know 501 (§15.6.2). Node's HTTP/1 parser knows `http.METHODS` alone: HTTP/2 is held to it too.
  it('answers a method HTTP/1.1 does not take (FOO, a lower-case get) 501 Not Implemented, as over HTTP/1.1, without calling the app; a known one reaches it', async () => {
    const seen: string[] = [];
    const server = await start(
      Request.application((req) => {
        seen.push(req.method);
        return new Response('ok');
      }),
      { http2: 'h2c' },
    );
    const session = http2.connect(server.url);
    session.on('error', () => {});
    const ask = (method: string) =>
      new Promise<{ status: unknown; body: string }>((resolve, reject) => {
        const stream = session.request({ ':method': method, ':path': '/' }, { endStream: true });
        let body = '';
        let status: unknown;
        stream.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        stream.on('response', (headers) => (status = headers[':status']));
        stream.on('end', () => resolve({ status, body }));
        stream.on('error', reject);
      });
    try {
      for (const method of ['FOO', 'get']) {
        expect(await ask(method)).toEqual({ status: 501, body: 'Not Implemented: unknown method\n' });
      }
      expect(await ask('MKCALENDAR')).toEqual({ status: 200, body: 'ok' });
      expect(seen).toEqual(['MKCALENDAR']);
      expect(server.log.text).toBe('');
    } finally {
      session.close();
    }
  });

  it('answers a raw non-ASCII byte in :path 400, as HTTP/1.1 does, without calling the app', async () => {
    let calls = 0;
    const server = await start((environ, startResponse) => {
      calls++;
      return describeApp(environ, startResponse);
    }, { http2: 'h2c' });
    const session = http2.connect(server.url);
    try {
      // Node sends (and reads) HTTP/2 field values as latin1: `é` is the single byte 0xE9.
      for (const path of ['/caf\u00e9', '/a?q=\u00e9', '/caf\u00c3\u00a9']) {
        const res = await h2request(session, path);
        expect([res.status, res.body.toString()]).toEqual([400, 'Bad Request: invalid character in the request target\n']);
      }
      expect(JSON.parse((await h2request(session, '/caf%C3%A9')).body.toString())).toMatchObject({ path: '/caf\u00e9' });
    } finally {
      session.close();
    }
    expect(calls).toBe(1);
  });

  it("counts Cookie crumbs (RFC 9113 §8.2.3: one field line per cookie, as Chromium sends them) as one field, HTTP_COOKIE joined with '; '; as many other fields still answer 431", async () => {
    const server = await start((environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes(String(environ.HTTP_COOKIE))];
    }, { http2: 'h2c', maxHeaders: 5 });
    const session = http2.connect(server.url);
    try {
      // 150 crumbs, within a browser's 180 cookies per site: Node's client sends an array as one line each.
      const cookies = Array.from({ length: 150 }, (_, i) => `c${i}=v${i}`);
      const served = await h2request(session, '/', { headers: { cookie: cookies, 'x-a': '1', 'x-b': '2' } });
      expect([served.status, served.body.toString()]).toEqual([200, cookies.join('; ')]);
      const fields = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`x-field-${i}`, String(i)]));
      const refused = await h2request(session, '/', { headers: fields });
      expect([refused.status, refused.body.toString()]).toEqual([431, 'Request Header Fields Too Large: more than 5 header fields\n']);
      const crumbsAndFields = await h2request(session, '/', { headers: { cookie: cookies.slice(0, 3), 'x-a': '1', 'x-b': '2', 'x-c': '3', 'x-d': '4', 'x-e': '5' } });
      expect(crumbsAndFields.status).toBe(431);
    } finally {
      session.close();
    }
  });

  it('holds an HTTP/2 header list to the bytes HTTP/1.1 takes (maxHeaderSize): the largest head HTTP/1.1 serves is served, one past it is 431, one past twice it is reset (ENHANCE_YOUR_CALM)', async () => {
    const server = await start((_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes('served')];
    }, { http2: 'h2c' });
    // The most fields `maxHeaders` (100) lets through: Host, Connection (HTTP/1.1 only), 97
    // others and a Cookie of 180 cookies, which HTTP/2 sends as 180 lines (RFC 9113 §8.2.3),
    // each costing its name and 32 octets more (RFC 9113 §6.5.2). `pad` fills the head up to
    // Node's 16 KiB count (the request target, and each field's name and value).
    const cookies = Array.from({ length: 180 }, (_, i) => `c${String(i).padStart(3, '0')}=v`);
    const fields = (pad: number): [string, string][] =>
      Array.from({ length: 97 }, (_, i) => [`x-field-${String(i).padStart(2, '0')}`, i === 0 ? 'v'.repeat(pad) : 'value']);
    const head = (pad: number) => [['Host', 'localhost'], ['Connection', 'close'], ...fields(pad), ['Cookie', cookies.join('; ')]];
    const largest = 16_383 - head(0).reduce((sum, [name, value]) => sum + name!.length + value!.length, '/'.length);
    const http1 = (pad: number) =>
      rawExchange(server.port, `GET / HTTP/1.1\r\n${head(pad).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`);
    expect(parseRaw((await http1(largest)).raw).status).toBe(200);
    expect(parseRaw((await http1(largest + 1)).raw).status).toBe(431);
    const session = await settledSession(server.url);
    try {
      const h2 = (pad: number) => h2request(session, '/', { headers: { ...Object.fromEntries(fields(pad)), cookie: cookies } });
      expect((await h2(largest)).status).toBe(200);
      // 16 384 + 40 octets for each of 289 lines is answered 431 past it, as HTTP/1.1 answers;
      // twice that is advertised, and Node resets a stream past it before the app.
      const refused = await h2(2 * 16_384);
      expect([refused.status, refused.body.toString()]).toEqual([431, 'Request Header Fields Too Large: the header list is larger than 27944 octets\n']);
      expect(session.remoteSettings.maxHeaderListSize).toBe(2 * 27_944);
      await expect(h2(2 * 27_944)).rejects.toThrow('NGHTTP2_ENHANCE_YOUR_CALM');
      // The session serves on.
      expect((await h2(0)).status).toBe(200);
    } finally {
      session.close();
    }
  });

  // Over HTTP/1.1 a request target past maxHeaderSize overflows the request line: 414 (as nginx
  // answers), not 431. Node's HTTP/2 server hands such a :path on; it is answered the same.
  it('answers a :path longer than maxHeaderSize 414 URI Too Long, as HTTP/1.1 answers that request target, and a header list past the limit with a short path 431', async () => {
    const server = await start(Request.application(() => new Response('served')), { http2: 'h2c' });
    const http1 = (path: string) => rawExchange(server.port, `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
    const session = await settledSession(server.url);
    try {
      for (const length of [20_000, 30_000]) {
        const path = `/${'p'.repeat(length)}`;
        expect(parseRaw((await http1(path)).raw).status).toBe(414);
        const answer = await h2request(session, path);
        expect([answer.status, answer.body.toString()]).toEqual([414, 'URI Too Long: the request target is longer than the server accepts\n']);
      }
      expect((await h2request(session, `/${'p'.repeat(16_000)}`)).status).toBe(200);
      const fields = await h2request(session, '/', { headers: { 'x-big': 'v'.repeat(30_000) } });
      expect(fields.status).toBe(431);
    } finally {
      session.close();
    }
  });

  it('answers a header list past the limit 431 in the first flight too (before the client acknowledged SETTINGS), that stream alone, over h2c and TLS', async () => {
    const release = deferred();
    const app: App = async (environ, startResponse) => {
      if (environ.PATH_INFO === '/slow') await release.promise;
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes('served')];
    };
    const big = { 'x-big': 'v'.repeat(30_000) }; // past 27 944 octets, within what nghttp2 takes
    const expected = [431, 'Request Header Fields Too Large: the header list is larger than 27944 octets\n'];
    for (const options of [{ http2: 'h2c' as const }, { http2: true, tls: tls() }]) {
      const server = await start(app, options);
      const refused: unknown[] = [];
      const session = options.http2 === 'h2c' ? http2.connect(server.url) : connect(server.url);
      try {
        // Sent at once, with the client's preface: Node's own limit does not hold yet.
        const slow = h2request(session, '/slow');
        const first = await h2request(session, '/', { headers: big });
        refused.push([first.status, first.body.toString()]);
        await new Promise((resolve) => session.ping(resolve)); // SETTINGS acknowledged by now
        const later = await h2request(session, '/', { headers: big });
        refused.push([later.status, later.body.toString()]);
        expect(refused).toEqual([expected, expected]);
        // The other stream and the session serve on.
        release.resolve();
        expect((await slow).status).toBe(200);
        expect((await h2request(session, '/')).status).toBe(200);
        expect(session.destroyed).toBe(false);
      } finally {
        session.close();
      }
    }
  });

  it('takes the HTTP/2 header list size from server: { maxHeaderSize }, and a maxHeaderListSize (or its alias maxHeaderSize) of server: { settings } over it', async () => {
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', []);
      return [];
    };
    // Below Node's client's 64 KiB header block (its `maxSendHeaderBlockLength`).
    const fields = (octets: number) => ({ 'x-large': 'v'.repeat(octets) });
    for (const [server, size] of [
      [{ maxHeaderSize: 32_768 }, 32_768 + 40 * 289],
      [{ settings: { maxHeaderListSize: 50_000, maxConcurrentStreams: 10 } }, 50_000],
      [{ settings: { maxHeaderSize: 40_000 } as http2.Settings }, 40_000],
    ] as const) {
      const handle = await start(app, { http2: 'h2c', server });
      const session = await settledSession(handle.url);
      try {
        expect((await h2request(session, '/', { headers: fields(size - 1_000) })).status).toBe(200);
        expect((await h2request(session, '/', { headers: fields(size) })).status).toBe(431);
        // Advertised twice the size answered 431 (see h2HeaderLimits).
        expect(session.remoteSettings).toMatchObject({ maxHeaderListSize: 2 * size });
      } finally {
        session.close();
      }
    }
  });

  it('drops a #fragment from :path, as from an HTTP/1.1 request-target', async () => {
    const server = await start(describeApp, { http2: 'h2c' });
    const session = http2.connect(server.url);
    try {
      const res = await h2request(session, '/a?x=1#frag');
      expect(JSON.parse(res.body.toString())).toMatchObject({ protocol: 'HTTP/2.0', uri: '/a?x=1', path: '/a', query: 'x=1' });
    } finally {
      session.close();
    }
  });

  it('a client whose connection goes away mid-upload: the app reading the body gets an error at once', async () => {
    const failed = deferred<unknown>();
    // The connection goes once the app has read some of the body (not 50 ms after writing it).
    const reading = deferred();
    const server = await start(async (environ, startResponse) => {
      try {
        for await (const _chunk of environ['tsgi.input']) reading.resolve();
        failed.resolve('the body ended as if complete');
      } catch (error) {
        failed.resolve(error);
      }
      startResponse('200 OK', []);
      return [];
    }, { http2: 'h2c' });
    // The test holds the TCP socket itself: Node 22 refuses destroy() through session.socket
    // (its proxy of the socket), and session.destroy() would not be a connection simply gone.
    let socket: net.Socket | undefined;
    const session = http2.connect(server.url, {
      createConnection: (url: URL) => (socket = net.connect(Number(url.port), url.hostname)),
    });
    session.on('error', () => {});
    const stream = session.request({ ':method': 'POST', ':path': '/', 'content-length': '100000' });
    stream.on('error', () => {});
    stream.write(new Uint8Array(1000));
    await reading.promise;
    socket!.destroy();
    const outcome = await Promise.race([failed.promise, new Promise((resolve) => setTimeout(() => resolve('still waiting after 2 s'), 2_000))]);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as { code?: string }).code).toBe('ERR_STREAM_PREMATURE_CLOSE');
  });

  // Node ends the socket of a session that close() sent GOAWAY, then waits for the client's end
  // of the connection: a client that keeps its side open (or reads nothing) held close() until
  // its timeout cut it, where an idle HTTP/1.1 connection is closed at once.
  it('close() frees an HTTP/2 connection whose client keeps its side open 2 s after its GOAWAY, not at its timeout', async () => {
    const server = await start(
      Request.application(() => new Response('ok')),
      { http2: 'h2c' },
    );
    const socket = net.connect({ port: Number(new URL(server.url).port), host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => {});
    try {
      await new Promise((resolve) => socket.once('connect', resolve));
      let got = Buffer.alloc(0);
      const answered = new Promise<void>((resolve) =>
        socket.on('data', (chunk: Buffer) => {
          got = Buffer.concat([got, chunk]);
          // The answer's DATA frame on stream 1, flagged END_STREAM.
          for (let at = 0; at + 9 <= got.length; at += 9 + got.readUIntBE(at, 3)) {
            if (got[at + 3] === 0 && (got[at + 4]! & 1) === 1 && got.readUInt32BE(at + 5) === 1) resolve();
          }
        }),
      );
      // GET http://a/: `:method GET`, `:scheme http`, `:path /` indexed; `:authority` a literal.
      socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), h2Frame(4, 0, 0, Buffer.alloc(0)), h2Frame(1, 0x5, 1, Buffer.from([0x82, 0x86, 0x84, 0x01, 1, 0x61]))]));
      await answered;
      const t0 = Date.now();
      await server.close({ timeout: 10_000 });
      expect(Date.now() - t0).toBeLessThan(5_000); // 2 s after GOAWAY, not the 10 s
    } finally {
      socket.destroy();
    }
  });

  // HEADERS then RST_STREAM in the same read (the rapid-reset attack, CVE-2023-44487): Node
  // hands each stream over already closed, and the app ran for every one of them, thousands at
  // once from one connection whatever maxConcurrentStreams said, for answers nobody could read.
  it('never runs the app for a stream its client reset before the server got to it (rapid reset), and serves the next stream', async () => {
    const seen: string[] = [];
    const server = await start(
      Request.application((req) => {
        seen.push(req.path);
        return new Response('ok');
      }),
      { http2: 'h2c' },
    );
    const socket = net.connect(Number(new URL(server.url).port), '127.0.0.1');
    socket.on('error', () => {});
    socket.resume();
    try {
      await new Promise((resolve) => socket.once('connect', resolve));
      // GET http://a<path>: `:method GET`, `:scheme http` indexed; `:authority`, `:path` literals.
      const get = (path: string) => Buffer.concat([Buffer.from([0x82, 0x86, 0x01, 1, 0x61, 0x04, path.length]), Buffer.from(path)]);
      const cancel = Buffer.from([0, 0, 0, 8]);
      const frames = [Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), h2Frame(4, 0, 0, Buffer.alloc(0))];
      for (let id = 1; id < 100; id += 2) frames.push(h2Frame(1, 0x5, id, get('/reset')), h2Frame(3, 0, id, cancel));
      frames.push(h2Frame(1, 0x5, 101, get('/served')));
      socket.write(Buffer.concat(frames));
      await until(() => seen.includes('/served'));
      await sleep(50);
      expect(seen).toEqual(['/served']);
    } finally {
      socket.destroy();
    }
  });

  // A stream reset in a later read than its HEADERS has started the app: Node closes the stream
  // but the app works on. Counted against maxConcurrentStreams, as Go's net/http counts the
  // handlers still running for reset streams: past it, new streams are refused (REFUSED_STREAM).
  it('refuses new streams (REFUSED_STREAM) while the apps still running for streams the client reset fill maxConcurrentStreams; serves again once they end', async () => {
    const seen: string[] = [];
    const release = deferred();
    const server = await start(
      Request.application(async (req) => {
        seen.push(req.path);
        if (req.path === '/slow') await release.promise; // ignores tsgi.signal
        return new Response('ok');
      }),
      { http2: 'h2c', server: { settings: { maxConcurrentStreams: 3 } } },
    );
    const session = http2.connect(server.url);
    session.on('error', () => {});
    try {
      await new Promise((resolve) => session.once('remoteSettings', resolve));
      for (let i = 1; i <= 3; i++) {
        const stream = session.request({ ':path': '/slow' });
        stream.on('error', () => {});
        await until(() => seen.length === i);
        await new Promise((resolve) => stream.close(http2.constants.NGHTTP2_CANCEL, () => resolve(undefined)));
      }
      await sleep(50);
      const refused = session.request({ ':path': '/next' });
      const code = await new Promise((resolve) => {
        refused.on('error', () => {});
        refused.on('response', (headers) => resolve(headers[':status']));
        refused.on('close', () => resolve(refused.rstCode));
      });
      expect(code).toBe(http2.constants.NGHTTP2_REFUSED_STREAM);
      expect(seen).toEqual(['/slow', '/slow', '/slow']);
      release.resolve();
      await sleep(50);
      const served = session.request({ ':path': '/after' });
      served.resume();
      const status = await new Promise((resolve) => served.on('response', (headers) => resolve(headers[':status'])));
      expect(status).toBe(200);
    } finally {
      release.resolve();
      session.close();
    }
  });

  it('counts every kind of answer out of the running apps once it is over (sync, async, streamed, failing, HTTPException, body read), so a connection at maxConcurrentStreams 3 serves on', async () => {
    const server = await start(async (environ, startResponse) => {
      const path = environ.PATH_INFO;
      if (path === '/throw') throw new Error('boom');
      if (path === '/503') throw new HTTPServiceUnavailable();
      if (path === '/read') for await (const _ of environ['tsgi.input']);
      startResponse('200 OK', []);
      if (path === '/sync' || path === '/read') return [bytes('s')];
      return (async function* () {
        yield bytes('a');
        if (path === '/late') throw new Error('late');
        yield bytes('b');
      })();
    }, { http2: 'h2c', server: { settings: { maxConcurrentStreams: 3 } } });
    const session = http2.connect(server.url);
    session.on('error', () => {});
    const ask = (path: string) =>
      new Promise<number | undefined>((resolve) => {
        const stream = session.request({ ':path': path, ':method': path === '/read' ? 'POST' : 'GET' });
        let status: number | undefined;
        stream.on('response', (headers) => (status = headers[':status']));
        stream.on('error', () => {});
        stream.resume();
        stream.on('close', () => resolve(stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM ? -1 : status));
        stream.end(path === '/read' ? 'abc' : undefined);
      });
    try {
      for (let round = 0; round < 4; round++) {
        for (const path of ['/sync', '/stream', '/late', '/throw', '/503', '/read']) expect(await ask(path)).not.toBe(-1);
      }
      expect(await Promise.all([ask('/sync'), ask('/stream'), ask('/read')])).toEqual([200, 200, 200]);
    } finally {
      session.close();
    }
  });

  it('a client that resets its connection before it said which protocol it speaks is gone, nothing more: no uncaught ECONNRESET', async () => {
    const server = await start(Request.application(() => new Response('ok')), { http2: 'h2c' });
    // While the server reads the first bytes to tell HTTP/2's preface from an HTTP/1.1 request,
    // the socket had no 'error' listener: a reset then was an uncaught error ending the process.
    const { uncaught, connections } = await uncaughtWhile(server, async () => {
      for (const first of ['', 'PRI * HTTP/2.0\r\n', 'G']) {
        await new Promise<void>((resolve) => {
          const socket = net.connect(server.port, '127.0.0.1');
          socket.on('error', () => undefined);
          socket.on('close', () => resolve());
          socket.on('connect', () => {
            if (first === '') socket.resetAndDestroy();
            else socket.write(first, () => setTimeout(() => socket.resetAndDestroy(), 20));
          });
        });
      }
    });
    expect(connections).toBe(3);
    expect(uncaught).toEqual([]);
    expect(server.log.text).toBe('');
    const res = await fetch(`${server.url}/`);
    expect(await res.text()).toBe('ok');
  });

  it('lets a client go at once that hangs up before it said which protocol it speaks (a TCP health check), as HTTP/1.1 does', async () => {
    const server = await start(Request.application(() => new Response('ok')), { http2: 'h2c' });
    // Connect and FIN (a load balancer's TCP check, a port scan), or FIN inside the preface:
    // the server's side was held half-open until firstByteTimeout (10 s), counting against
    // maxConnections and maxConnectionsPerClient all along.
    for (const first of ['', 'PRI * HTTP/2.0\r\n']) {
      const outcome = await new Promise<string>((resolve) => {
        const socket = net.connect(server.port, '127.0.0.1');
        const held = setTimeout(() => {
          socket.destroy();
          resolve('held for 2 s');
        }, 2_000);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearTimeout(held);
          resolve('let go');
        });
        socket.on('connect', () => socket.end(first));
      });
      expect(outcome, JSON.stringify(first)).toBe('let go');
    }
    expect(server.log.text).toBe('');
    expect(await (await fetch(`${server.url}/`)).text()).toBe('ok');
  });

  it('close({ timeout }) cuts an h2c connection whose client holds a stream unread, and resolves', async () => {
    const app = Request.application(() => new Response('x'.repeat(100)));
    const handle = await serve(app, { port: 0, http2: 'h2c', log: errorLog() });
    const session = http2.connect(handle.url);
    session.on('error', () => {});
    await new Promise<void>((resolve) => {
      const stream = session.request({ ':path': '/' });
      stream.on('error', () => {});
      stream.on('response', () => resolve()); // the body is never read: the stream stays open
      stream.end();
    });
    const outcome = await closeOutcome(handle);
    expect(outcome).toBe('closed');
    session.destroy();
  });

  it('close({ timeout }) cuts h2c connections that have not said which protocol they speak yet', async () => {
    const app = Request.application(() => new Response('x'));
    const handle = await serve(app, { port: 0, http2: 'h2c', log: errorLog() });
    // One sends nothing, one stops inside the HTTP/2 preface: neither is HTTP/1 or HTTP/2 yet.
    const sockets = await rawConnections(handle.url, ['', 'PRI * HTTP/2.0\r\n']);
    const outcome = await closeOutcome(handle);
    expect(outcome).toBe('closed');
    for (const socket of sockets) socket.destroy();
  });

  it('close() ends both kinds of connection', async () => {
    const app = Request.application(() => new Response('x'));
    const handle = await serve(app, { port: 0, http2: 'h2c', log: errorLog() });
    const session = http2.connect(handle.url);
    session.on('error', () => {});
    await h2request(session, '/');
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    await handle.close({ timeout: 2_000 });
    await closed;
    await until(() => session.destroyed);
  });
});


describe('HTTP/2 response heads', () => {
  /** Answers 200 with the app fields `fields`, and a Set-Cookie the server's own answers must not carry. */
  const withFields =
    (fields: Array<[string, string]>): App =>
    (_environ, startResponse) => {
      startResponse('200 OK', [['Set-Cookie', 'sid=secret'], ...fields]);
      return [bytes('ok')];
    };

  it('refuses a field value with CR, LF or NUL as HTTP/1.1 does: a logged 500, nothing of it sent', async () => {
    const server = await start(withFields([['X-Next', 'a\r\nX-Injected: 1']]), { http2: 'h2c' });
    const session = http2.connect(server.url);
    try {
      const res = await h2request(session, '/crlf');
      expect([res.status, res.body.toString()]).toEqual([500, 'Internal Server Error\n']);
      expect(res.headers['x-next']).toBeUndefined();
      expect(res.headers['x-injected']).toBeUndefined();
      await until(() => server.log.text.includes('invalid value for header X-Next'));
      expect(server.log.text).toContain('GET /crlf HTTP/2.0');
    } finally {
      session.close();
    }
  });

  it('drops connection-specific fields an app sets (HTTP2-Settings too, which Node refuses to send), streamed or not', async () => {
    const fields: Array<[string, string]> = [
      ['Connection', 'keep-alive, Upgrade'],
      ['Keep-Alive', 'timeout=5'],
      ['Transfer-Encoding', 'chunked'],
      ['Upgrade', 'h2c'],
      ['Proxy-Connection', 'keep-alive'],
      ['HTTP2-Settings', 'AAMAAABkAAQAoAAAAAIAAAAA'],
      ['Content-Type', 'text/plain'],
    ];
    const server = await start((environ, startResponse) => {
      startResponse('200 OK', fields);
      if (environ.PATH_INFO === '/array') return [bytes('whole')];
      return (async function* () {
        yield bytes('str');
        await new Promise((resolve) => setTimeout(resolve, 5));
        yield bytes('eamed');
      })();
    }, { http2: 'h2c' });
    const session = http2.connect(server.url);
    try {
      for (const [path, body] of [['/array', 'whole'], ['/stream', 'streamed']]) {
        const res = await h2request(session, path!);
        expect([res.status, res.body.toString()]).toEqual([200, body]);
        const sent = Object.keys(res.headers).filter((name) => !name.startsWith(':'));
        expect(sent.sort()).toEqual(path === '/array' ? ['content-length', 'content-type', 'date'] : ['content-type', 'date']);
      }
      expect(server.log.text).toBe('');
    } finally {
      session.close();
    }
  });

  it('a head Node refuses on HTTP/2 (two Content-Type fields) answers a logged 500 that carries none of the app fields', async () => {
    const server = await start(withFields([['Content-Type', 'text/plain'], ['Content-Type', 'text/html']]), { http2: 'h2c' });
    const session = http2.connect(server.url);
    try {
      const res = await h2request(session, '/twice');
      expect([res.status, res.body.toString()]).toEqual([500, 'Internal Server Error\n']);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      await until(() => server.log.text.includes('GET /twice HTTP/2.0'));
    } finally {
      session.close();
    }
  });

  it('sends a field value without its leading and trailing whitespace, which an HTTP/2 client drops the field for (RFC 9113 §8.2.1)', async () => {
    const server = await start(withFields([['X-Padded', ' padded value\t'], ['X-Inner', 'a \u00a0b']]), { http2: 'h2c' });
    const session = http2.connect(server.url);
    try {
      const res = await h2request(session, '/padded');
      expect([res.status, res.body.toString()]).toEqual([200, 'ok']);
      expect(res.headers['x-padded']).toBe('padded value');
      expect(res.headers['x-inner']).toBe('a \u00a0b');
      expect(server.log.text).toBe('');
    } finally {
      session.close();
    }
  });

  it('a head too large for one HTTP/2 header block (64 KiB) answers a logged 500, and the session goes on', async () => {
    const server = await start((environ, startResponse) => {
      if (environ.PATH_INFO === '/big') startResponse('200 OK', [['Set-Cookie', 'sid=secret'], ['X-Big', 'a'.repeat(70_000)]]);
      else startResponse('200 OK', [['X-Fits', 'a'.repeat(60_000)]]);
      return [bytes('ok')];
    }, { http2: 'h2c' });
    const session = http2.connect(server.url);
    try {
      const res = await h2request(session, '/big');
      expect([res.status, res.body.toString()]).toEqual([500, 'Internal Server Error\n']);
      expect(res.headers['set-cookie']).toBeUndefined();
      await until(() => server.log.text.includes('GET /big HTTP/2.0'));
      expect(server.log.text).toContain('too large');
      // Node closes the whole session on a head it fails to send; the next stream is served.
      const next = await h2request(session, '/fits');
      expect([next.status, next.body.toString(), next.headers['x-fits']?.length]).toEqual([200, 'ok', 60_000]);
    } finally {
      session.close();
    }
  });

  it('two Date fields (which Node refuses on HTTP/2 and will not remove) answer the logged 500 too, not a stream closed without a head', async () => {
    const appDate = 'Mon, 01 Jan 2024 00:00:00 GMT';
    const server = await start(withFields([['Date', appDate], ['Date', appDate]]), { http2: 'h2c' });
    const session = http2.connect(server.url);
    try {
      const res = await h2request(session, '/dates');
      expect([res.status, res.body.toString()]).toEqual([500, 'Internal Server Error\n']);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.headers.date).toMatch(/ GMT$/);
      expect(res.headers.date).not.toBe(appDate);
      await until(() => server.log.text.includes('GET /dates HTTP/2.0'));
      expect(server.log.text).toContain('"date" must only have a single value');
    } finally {
      session.close();
    }
  });
});
