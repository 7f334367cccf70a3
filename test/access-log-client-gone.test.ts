/**
 * accessLog and a client that goes away before the app answered, while the app never settles
 * (stuck on a call that ignores `tsgi.signal`): the line (`499`, `close`) is written when the
 * client leaves, as nginx writes its 499, and only once (not again when the app is released),
 * under `serve()` over HTTP/1.1 and HTTP/2, under `toNodeHandler` on a plain `node:http`
 * server, and under `toFetchHandler` on `@hono/node-server` (the request's `signal` aborts). A request whose client stays is logged once, as before.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import express from 'express';
import { type App, type AppLike } from 'tsgi';
import { toNodeHandler } from 'tsgi/node';
import { toFetchHandler } from 'tsgi/fetch';
import { accessLog } from 'tsgi/middleware';
import { bytes, deferred, rawGet, sleep, start, within } from './node-helpers.ts';
import { makeCertificate } from './tls-helpers.ts';
import { serve as honoServe } from '@hono/node-server';
import { request as undiciRequest } from 'undici';

interface Line { status: number; bytes: number; outcome: string; url: string }

/**
 * An app that hangs until `release()`, then answers a body whose `return()` resolves `closed`
 * (the server closes it when it finds its client gone), logged as JSON into `lines`.
 */
function hanging() {
  const lines: Line[] = [];
  const entered = deferred();
  const released = deferred();
  const closed = deferred();
  const app: App = async (_environ, startResponse) => {
    entered.resolve();
    await released.promise;
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    // The server closes the body unread (`return()`) once it finds the client gone.
    const body: AsyncIterableIterator<Uint8Array> = {
      [Symbol.asyncIterator]: () => body,
      next: () => Promise.resolve({ done: false, value: bytes('late\n') }),
      return: () => {
        closed.resolve();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
    return body;
  };
  const logged = accessLog(app, { format: 'json', log: { write: (line: string) => void lines.push(JSON.parse(line) as Line) } });
  const release = () => released.resolve();
  /**
   * One `499 close` line comes at once (`meanwhile` checks more while the app still hangs);
   * releasing the app, whose late body the server closes, adds none.
   */
  const oneLine = async (meanwhile?: () => void) => {
    expect(await within(() => lines.length > 0, 2000)).toBe(true);
    expect(summary(lines)).toEqual([{ status: 499, bytes: 0, outcome: 'close' }]);
    meanwhile?.();
    release();
    await closed.promise;
    await turn();
    expect(lines).toHaveLength(1);
  };
  return { lines, logged, entered: entered.promise, release, closed: closed.promise, oneLine };
}

/** A keep-alive GET of `path`. */
const keepAliveGet = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

const turn = () => new Promise((resolve) => setImmediate(resolve));
const summary = (lines: Line[]) => lines.map(({ status, bytes, outcome }) => ({ status, bytes, outcome }));

/** A raw HTTP/1.1 connection to `port` that sends `request`. */
function connect(port: number, request: string): net.Socket {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(request);
  return socket;
}

/** Listens with `handler` on a plain `node:http` server; answers its port and a close function. */
async function plainServer(handler: http.RequestListener): Promise<{ server: http.Server; port: number; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Waits until `server` has no connection open, then a turn of the event loop (its sockets' `close` ran). */
async function noConnections(server: net.Server): Promise<void> {
  for (;;) {
    const count = await new Promise<number>((resolve, reject) => server.getConnections((error, n) => (error ? reject(error) : resolve(n))));
    if (count === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await turn();
  await turn();
}

/** The client of a hanging app leaves: one 499 line at once, none more once the app is released. */
async function leavesWhileHanging(serveIt: (app: AppLike) => Promise<{ port: number }>) {
  const { lines, logged, entered, oneLine } = hanging();
  const { port } = await serveIt(logged);
  const socket = connect(port, rawGet('/stuck'));
  await entered;
  socket.destroy();
  await oneLine(() => {
    expect(lines[0]!.url).toBe('/stuck');
  });
}

/**
 * An HTTP/2 client of `url` resets its stream once the hanging app was `entered`: `oneLine`
 * checks the one 499 line (and `meanwhile`, given the session, while the app still hangs).
 */
async function resetWhileHanging(
  url: string,
  entered: Promise<void>,
  oneLine: (meanwhile?: () => void) => Promise<void>,
  meanwhile?: (session: http2.ClientHttp2Session) => void,
): Promise<void> {
  const session = http2.connect(url);
  session.on('error', () => {});
  try {
    const stream = session.request({ ':path': '/stuck' });
    stream.on('error', () => {});
    await entered;
    stream.close(http2.constants.NGHTTP2_CANCEL);
    await oneLine(meanwhile && (() => meanwhile(session)));
  } finally {
    session.close();
  }
}

describe('accessLog: a client gone before a never-settling app answered', () => {
  it('is logged 499 close at once under serve() over HTTP/1.1, and only once', async () => {
    await leavesWhileHanging(async (app) => start(app));
  });

  it('is logged 499 close at once under toNodeHandler on a plain node:http server, and only once', async () => {
    let server: Awaited<ReturnType<typeof plainServer>> | undefined;
    try {
      await leavesWhileHanging(async (app) => (server = await plainServer(toNodeHandler(app))));
    } finally {
      await server?.close();
    }
  });

  it('is logged 499 close at once under serve() over TLS (HTTP/1.1), and only once', async () => {
    const certificate = await makeCertificate();
    try {
      const { logged, entered, oneLine } = hanging();
      const server = await start(logged, { tls: { cert: certificate.cert, key: certificate.key } });
      const socket = tls.connect({ port: server.port, host: '127.0.0.1', rejectUnauthorized: false });
      socket.on('error', () => {});
      socket.write(rawGet('/stuck'));
      await entered;
      socket.destroy();
      await oneLine();
    } finally {
      await certificate.remove();
    }
  });

  it('is logged at once under a layer that awaits before calling accessLog (the watch comes after the server called the app)', async () => {
    await leavesWhileHanging(async (app) => {
      const later: App = async (environ, startResponse) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return (app as App)(environ, startResponse);
      };
      return start(later);
    });
  });

  it('is logged 499 close at once under toNodeHandler on a node:http2 server when the client resets its stream', async () => {
    const { logged, entered, oneLine } = hanging();
    const server = http2.createServer(toNodeHandler(logged) as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await resetWhileHanging(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, entered, oneLine);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('is logged 499 close at once when the client resets its HTTP/2 stream (h2c), and only once', async () => {
    const { logged, entered, oneLine } = hanging();
    const server = await start(logged, { http2: 'h2c' });
    // The session stays open: the server saw the stream's reset, not the connection's end.
    await resetWhileHanging(server.url, entered, oneLine, (session) => expect(session.closed).toBe(false));
  });

  it('is logged once by each of two accessLog layers, at once', async () => {
    const { lines, logged, entered, release, closed } = hanging();
    const outer: Line[] = [];
    const server = await start(accessLog(logged, { format: 'json', log: { write: (line: string) => void outer.push(JSON.parse(line) as Line) } }));
    const socket = connect(server.port, rawGet('/stuck'));
    await entered;
    socket.destroy();
    expect(await within(() => lines.length > 0 && outer.length > 0, 2000)).toBe(true);
    expect([...summary(lines), ...summary(outer)]).toEqual([
      { status: 499, bytes: 0, outcome: 'close' },
      { status: 499, bytes: 0, outcome: 'close' },
    ]);
    release();
    await closed;
    await turn();
    expect([lines.length, outer.length]).toEqual([1, 1]);
  });

  it('under toFetchHandler, is still logged when the graceful shutdown cut it (its tsgi.signal aborted)', async () => {
    const { lines, logged, entered, release } = hanging();
    const stopping = new AbortController();
    const leaving = new AbortController();
    const handler = toFetchHandler(logged, { shutdownSignal: stopping.signal });
    void Promise.resolve(handler(new globalThis.Request('http://example.com/stuck', { signal: leaving.signal }))).catch(() => {});
    await entered;
    stopping.abort();
    await turn();
    expect(lines).toHaveLength(0);
    leaving.abort();
    expect(await within(() => lines.length > 0, 2000)).toBe(true);
    expect(summary(lines)).toEqual([{ status: 499, bytes: 0, outcome: 'close' }]);
    release();
  });

  it('is logged 499 close at once under toFetchHandler on Node (@hono/node-server) when an undici client aborts, and only once', async () => {
    const { lines, logged, entered, release } = hanging();
    const server = await new Promise<http.Server>((resolve) => {
      const started = honoServe({ fetch: toFetchHandler(logged), hostname: '127.0.0.1', port: 0 }, () => resolve(started as http.Server));
    });
    try {
      const leaving = new AbortController();
      const asked = undiciRequest(`http://127.0.0.1:${(server.address() as AddressInfo).port}/stuck`, { signal: leaving.signal });
      asked.catch(() => {});
      await entered;
      await sleep(20);
      expect(lines).toHaveLength(0);
      leaving.abort();
      expect(await within(() => lines.length > 0, 2000)).toBe(true);
      expect(lines.map(({ status, bytes, outcome, url }) => ({ status, bytes, outcome, url }))).toEqual([{ status: 499, bytes: 0, outcome: 'close', url: '/stuck' }]);
      release();
      await sleep(50);
      expect(lines).toHaveLength(1);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("writes the 499 line in the async context set around the server's request event (OpenTelemetry's span), not the connection's: serve(), toNodeHandler over HTTP/1.1 and HTTP/2", async () => {
    const spans = new AsyncLocalStorage<string>();
    /** As @opentelemetry/instrumentation-http does: the request event runs inside the request's span. */
    const traced = (server: { emit: (event: string | symbol, ...args: unknown[]) => boolean }) => {
      const emit = server.emit.bind(server);
      server.emit = (event, ...args) =>
        event === 'request' ? spans.run(`span of ${(args[0] as http.IncomingMessage).url}`, () => emit(event, ...args)) : emit(event, ...args);
    };
    const stuck = () => {
      const seen: Array<string | undefined> = [];
      const entered = deferred();
      const app = accessLog(
        async () => {
          entered.resolve();
          await new Promise(() => {});
          return [];
        },
        { log: { write: () => {} }, format: (entry) => (seen.push(`${entry.status} ${spans.getStore()}`), '') },
      );
      return { seen, app, entered: entered.promise };
    };
    // serve() over HTTP/1.1, and toNodeHandler on a plain node:http server.
    for (const embedded of [false, true]) {
      const { seen, app, entered } = stuck();
      const server = embedded ? await plainServer(toNodeHandler(app)) : await start(app);
      traced(server.server as never);
      const socket = connect(server.port, rawGet('/stuck'));
      await entered;
      socket.destroy();
      expect(await within(() => seen.length > 0, 2000)).toBe(true);
      expect(seen, embedded ? 'toNodeHandler' : 'serve()').toEqual(['499 span of /stuck']);
      if (embedded) await server.close();
    }
    // toNodeHandler on a node:http2 server: the client resets its stream.
    const { seen, app, entered } = stuck();
    const server = http2.createServer(toNodeHandler(app) as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    traced(server as never);
    try {
      await resetWhileHanging(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, entered, async () => {
        expect(await within(() => seen.length > 0, 2000)).toBe(true);
      });
      expect(seen, 'HTTP/2').toEqual(['499 span of /stuck']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('logs a request whose client stays once, with its status, not again when its connection closes', async () => {
    for (const embedded of [false, true]) {
      const lines: Line[] = [];
      const app: App = async (_environ, startResponse) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '3']]);
        return [bytes('ok\n')];
      };
      const logged = accessLog(app, { format: 'json', log: { write: (line: string) => void lines.push(JSON.parse(line) as Line) } });
      const plain = embedded ? await plainServer(toNodeHandler(logged)) : undefined;
      const served = embedded ? undefined : await start(logged);
      const port = plain?.port ?? served!.port;
      const netServer = plain?.server ?? served!.server;
      try {
        // Two requests on one keep-alive connection, then the client closes it.
        const socket = connect(port, keepAliveGet('/one'));
        let received = '';
        socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
        expect(await within(() => received.includes('ok\n'), 2000)).toBe(true);
        socket.write(keepAliveGet('/two'));
        expect(await within(() => received.lastIndexOf('ok\n') > received.indexOf('ok\n'), 2000)).toBe(true);
        expect(await within(() => lines.length === 2, 2000)).toBe(true);
        socket.destroy();
        await noConnections(netServer);
        expect(lines.map(({ status, outcome, url }) => ({ status, outcome, url }))).toEqual([
          { status: 200, outcome: 'end', url: '/one' },
          { status: 200, outcome: 'end', url: '/two' },
        ]);
      } finally {
        await plain?.close();
      }
    }
  });

  it('is logged at once when the client reset its HTTP/2 stream before a layer began to watch it (h2c)', async () => {
    const { logged, entered, oneLine } = hanging();
    // The layer above calls accessLog only once the stream is gone (its signal aborted).
    // The client resets its stream once that layer waits: 20 ms after the stream was ready
    // could come before the request reached the server on a loaded machine (no app, no line).
    let waiting!: () => void;
    const layerWaits = new Promise<void>((resolve) => (waiting = resolve));
    const late: App = async (environ, startResponse) => {
      const signal = environ['tsgi.signal'] as AbortSignal;
      await new Promise((resolve) => {
        signal.addEventListener('abort', resolve, { once: true });
        waiting();
      });
      await sleep(20);
      return (logged as App)(environ, startResponse);
    };
    const server = await start(late, { http2: 'h2c' });
    const session = http2.connect(server.url);
    session.on('error', () => {});
    try {
      const stream = session.request({ ':path': '/stuck' });
      stream.on('error', () => {});
      await layerWaits;
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await entered;
      await oneLine();
    } finally {
      session.close();
    }
  });

  it('is logged at once for a request whose client leaves with another pipelined behind it, which never runs', async () => {
    const { lines, logged, entered, release, closed } = hanging();
    const server = await start(logged);
    const socket = connect(server.port, keepAliveGet('/stuck') + keepAliveGet('/behind'));
    await entered;
    await sleep(20);
    socket.destroy();
    expect(await within(() => lines.length > 0, 2000)).toBe(true);
    release();
    await closed;
    await turn();
    expect(lines.map(({ status, outcome, url }) => ({ status, outcome, url }))).toEqual([{ status: 499, outcome: 'close', url: '/stuck' }]);
  });

  it('under toNodeHandler in Express, listens to a keep-alive connection once, not once per request (1,000 requests)', async () => {
    const lines: Line[] = [];
    const app: App = async (_environ, startResponse) => {
      await Promise.resolve();
      startResponse('200 OK', [['Content-Length', '3']]);
      return [bytes('ok\n')];
    };
    const logged = accessLog(app, { format: 'json', log: { write: (line: string) => void lines.push(JSON.parse(line) as Line) } });
    const sockets = new Set<net.Socket>();
    const web = express();
    web.use((req, _res, next) => {
      sockets.add(req.socket);
      next();
    });
    web.use('/tsgi', toNodeHandler(logged));
    const server = await plainServer(web);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    // The connection's `close` listeners once each answer is over (Node's, and the adapter's).
    const counts: number[] = [];
    try {
      for (let i = 0; i < 1000; i++) {
        await new Promise<void>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port: server.port, path: `/tsgi/${i}`, agent }, (res) => {
            res.resume();
            res.on('end', resolve).on('error', reject);
          }).on('error', reject);
        });
        counts.push(sockets.values().next().value!.listenerCount('close'));
      }
      expect(sockets.size).toBe(1);
      expect(lines).toHaveLength(1000);
      expect(Math.max(...counts)).toBe(counts[0]);
    } finally {
      agent.destroy();
      await server.close();
    }
  });
});
