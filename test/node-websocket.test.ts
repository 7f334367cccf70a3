/**
 * WebSockets next to a tsgi app on one port: `serve()`'s `upgrade` option hands HTTP/1.1
 * Upgrade requests (but `h2c`) to a handler, here the `ws` package's `WebSocketServer`
 * (`noServer`), over real sockets: refusals on the raw socket, cookie authentication through
 * `createEnviron` and `Request`, close code 1001 on `close()`, limits still applied.
 */
import { getEventListeners } from 'node:events';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { type App, HTTPForbidden, HTTPMovedPermanently, abort, HTTPNotFound, HTTPUpgradeRequired, Request, Response, type ServeOptions, type ServerHandle, serve } from 'tsgi';
import { type ClosedUpgrade, type UpgradeContext, createEnviron } from 'tsgi/node';
import { CookieSessions, proxyFix, sessionOf } from 'tsgi/middleware';
import { makeCertificate } from './tls-helpers.ts';

const app: App = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode(`app ${String(environ.PATH_INFO)}`)];
};

/** Answers `status` on the raw socket of a refused upgrade and closes it. */
function refuse(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${status.length}\r\n\r\n${status}`);
}

/** The recipe of docs/server.md: path, origin and cookie checks, then `ws` takes the socket. */
function chat(wss: WebSocketServer): NonNullable<ServeOptions['upgrade']> {
  return (req: IncomingMessage, socket: Duplex, head: Buffer, { shutdown }: UpgradeContext) => {
    const request = new Request(createEnviron(req));
    if (request.pathInfo !== '/chat') throw new HTTPNotFound();
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') throw new HTTPUpgradeRequired(undefined, { upgrade: 'websocket' });
    if (request.headers.get('Origin') !== 'http://app.test') throw new HTTPForbidden('Not from this origin.');
    const user = request.cookies.user;
    if (user === undefined) throw new HTTPForbidden('Log in first.');
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      const bye = () => ws.close(1001, 'server shutting down');
      shutdown.addEventListener('abort', bye, { once: true });
      ws.on('close', () => shutdown.removeEventListener('abort', bye));
      ws.on('message', (data) => ws.send(`${user}: ${String(data)}`));
    });
  };
}

let handle: ServerHandle | undefined;
afterEach(async () => {
  await handle?.close({ timeout: 0 });
  handle = undefined;
});

/** Opens a WebSocket to `path` of `handle`, resolving once open (rejecting with the refusal). */
function open(path: string, headers: Record<string, string> = { Origin: 'http://app.test', Cookie: 'user=ann' }): Promise<WebSocket> {
  const ws = new WebSocket(`${handle!.url.replace('http', 'ws')}${path}`, { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Waits until `done()` holds, polling every 10 ms (2 s at most). */
async function waitUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(done()).toBe(true);
}

/** Sends `request` on a raw connection and answers all that comes back until the server closes. */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(handle!.port, '127.0.0.1', () => socket.write(request));
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (got += chunk));
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
  });
}

describe('serve({ upgrade })', () => {
  it('hands a WebSocket upgrade to the handler, and plain requests to the app, on one port', async () => {
    const wss = new WebSocketServer({ noServer: true });
    handle = await serve(app, { port: 0, upgrade: chat(wss) });
    const ws = await open('/chat');
    ws.send('hello');
    const [message] = await new Promise<unknown[]>((resolve) => ws.once('message', (...args) => resolve(args)));
    expect(String(message)).toBe('ann: hello');
    const res = await fetch(`${handle.url}/page`);
    expect(await res.text()).toBe('app /page');
    ws.terminate();
  });

  it("gives the handler a context object as its fourth argument, whose shutdown is the server's shutdown signal", async () => {
    const contexts: UpgradeContext[] = [];
    handle = await serve(app, {
      port: 0,
      upgrade: (req, socket, head, context) => {
        contexts.push(context);
        refuse(socket, '404 Not Found');
      },
    });
    await expect(open('/chat')).rejects.toThrow('refused 404');
    expect(contexts).toHaveLength(1);
    const [context] = contexts;
    expect(context).not.toBeInstanceOf(AbortSignal);
    expect(context!.shutdown).toBeInstanceOf(AbortSignal);
    expect(context!.shutdown.aborted).toBe(false);
    await handle.close({ timeout: 0 });
    handle = undefined;
    expect(context!.shutdown.aborted).toBe(true);
  });

  it('leaves no listener behind over many upgrades: on the server, and on the shutdown signal with the recipe', async () => {
    let signal: AbortSignal | undefined;
    let own = 0;
    const upgrade = chat(new WebSocketServer({ noServer: true }));
    handle = await serve(app, {
      port: 0,
      upgrade: (req, socket, head, context) => {
        // The server's own listeners, before the first WebSocket adds one.
        if (signal === undefined) own = getEventListeners(context.shutdown, 'abort').length;
        signal = context.shutdown;
        return upgrade(req, socket, head, context);
      },
    });
    const counts = () => ['connection', 'upgrade', 'request', 'checkContinue'].map((name) => handle!.server.listenerCount(name));
    const before = counts();
    for (let i = 0; i < 200; i++) {
      const ws = await open('/chat');
      const closed = new Promise((resolve) => ws.once('close', resolve));
      ws.close();
      await closed;
    }
    expect(counts()).toEqual(before);
    // The recipe removes its 'abort' listener when the WebSocket closes (server side too).
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(getEventListeners(signal!, 'abort')).toHaveLength(own);
  });

  it('refuses on the raw socket with a proper HTTP answer: path, upgrade, origin, cookie', async () => {
    handle = await serve(app, { port: 0, upgrade: chat(new WebSocketServer({ noServer: true })) });
    await expect(open('/nope')).rejects.toThrow('refused 404');
    await expect(open('/chat', { Origin: 'http://evil.test', Cookie: 'user=ann' })).rejects.toThrow('refused 403');
    await expect(open('/chat', { Origin: 'http://app.test' })).rejects.toThrow('refused 403');
    const answer = await raw('GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 426 /);
  });

  it('closes the WebSockets with 1001 on close(), which resolves without waiting for its timeout', async () => {
    handle = await serve(app, { port: 0, upgrade: chat(new WebSocketServer({ noServer: true })) });
    const ws = await open('/chat');
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const started = Date.now();
    await handle.close({ timeout: 5_000 });
    expect(Date.now() - started).toBeLessThan(4_000); // not its 5 s timeout, with room for a loaded machine
    expect(await closed).toBe(1001);
    handle = undefined;
  });

  it('resolves close() only once every upgraded connection has closed and onUpgradeClosed has heard of it', async () => {
    const told: ClosedUpgrade[] = [];
    handle = await serve(app, { port: 0, upgrade: chat(new WebSocketServer({ noServer: true })), onUpgradeClosed: (closed) => void told.push(closed) });
    const sockets = await Promise.all(Array.from({ length: 20 }, () => open('/chat')));
    const codes = Promise.all(sockets.map((ws) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))));
    await handle.close({ timeout: 5_000 });
    // `await server.close(); process.exit()` loses no access log line of a WebSocket.
    expect(told.map((closed) => closed.status)).toEqual(Array(20).fill(101));
    expect(new Set(await codes)).toEqual(new Set([1001]));
    handle = undefined;
  });

  it("waits in close() for the promise of an async onUpgradeClosed (a log shipped to a store), its rejection logged", async () => {
    const shipped: number[] = [];
    const lines: string[] = [];
    let calls = 0;
    handle = await serve(app, {
      port: 0,
      log: { write: (line: string) => void lines.push(line) },
      upgrade: chat(new WebSocketServer({ noServer: true })),
      onUpgradeClosed: async (closed) => {
        const call = ++calls;
        await new Promise((resolve) => setTimeout(resolve, 300));
        if (call === 3) throw new Error('log store down');
        shipped.push(closed.status);
      },
    });
    await Promise.all([open('/chat'), open('/chat'), open('/chat')]);
    await handle.close({ timeout: 5_000 });
    handle = undefined;
    // `await server.close(); process.exit()` loses no line the listener ships, nor its error.
    expect(shipped).toEqual([101, 101]);
    expect(lines.join('')).toContain('(onUpgradeClosed threw): Error: log store down');
  });

  it('waits in close() for the promise of an async onRefused too, which hears of the upgrades tsgi refuses', async () => {
    const shipped: number[] = [];
    handle = await serve(app, {
      port: 0,
      upgrade: () => {
        throw new HTTPForbidden('Not from this origin.');
      },
      onRefused: async (refused) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        shipped.push(refused.status);
      },
    });
    expect(await raw('GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n')).toMatch(/^HTTP\/1\.1 403 /);
    await handle.close({ timeout: 5_000 });
    handle = undefined;
    // Each upgrade is told to onRefused or onUpgradeClosed: close() waits for either alike.
    expect(shipped).toEqual([403]);
  });

  it('stops waiting for an async onUpgradeClosed at the timeout of close(), and says so in its log', async () => {
    const lines: string[] = [];
    handle = await serve(app, {
      port: 0,
      log: { write: (line: string) => void lines.push(line) },
      upgrade: chat(new WebSocketServer({ noServer: true })),
      onUpgradeClosed: () => new Promise<void>(() => {}),
    });
    await open('/chat');
    const started = Date.now();
    await handle.close({ timeout: 300 });
    handle = undefined;
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(lines.join('')).toMatch(/^tsgi: the graceful close stopped waiting at its timeout for the work still running after the answers \(.*onUpgradeClosed, onRefused\)/);
  });

  it('cuts, at its timeout, the upgraded connections a handler keeps open past the shutdown signal', async () => {
    handle = await serve(app, {
      port: 0,
      upgrade: (_req, socket) => void socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n'),
    });
    const socket = net.connect(handle.port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n'));
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('data', resolve));
    const gone = new Promise((resolve) => socket.once('close', resolve));
    const started = Date.now();
    await handle.close({ timeout: 300 });
    handle = undefined;
    await gone;
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  for (const { name, request } of [
    {
      name: 'an HTTP/1.0 request with Upgrade to the app, which ignores the field (RFC 9110 §7.8)',
      request: 'GET /x HTTP/1.0\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
    },
    {
      name: 'an Upgrade: h2c request (curl --http2 over cleartext) to the app, as without a handler',
      request: 'GET /x HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n',
    },
  ]) {
    it(`gives ${name}`, async () => {
      let called = 0;
      handle = await serve(app, { port: 0, upgrade: (_req, socket) => (called++, refuse(socket, '404 Not Found')) });
      const answer = await raw(request);
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
      expect(answer).toContain('app /x');
      expect(called).toBe(0);
    });
  }

  /**
   * Serves an app answering `slow` after 200 ms, with an upgrade handler that switches, writes
   * `pipelined` on one connection, and answers what came back once `done` says so (3 s at most).
   */
  async function pipelinedAheadOfUpgrade(pipelined: string, done: (got: string) => boolean): Promise<string> {
    const slow: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        await new Promise((resolve) => setTimeout(resolve, 200));
        yield new TextEncoder().encode('slow');
      })();
    };
    handle = await serve(slow, {
      port: 0,
      upgrade: (_req, socket) => void socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n'),
    });
    const socket = net.connect(handle.port, '127.0.0.1');
    socket.on('error', () => {});
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (got += chunk));
    socket.write(pipelined);
    const until = Date.now() + 3_000;
    while (!done(got) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    socket.destroy();
    return got;
  }

  it("hands a request body over in head as it came, with what followed it, and reads tsgi.input empty (docs/server.md)", async () => {
    const seen: string[] = [];
    handle = await serve(app, {
      port: 0,
      upgrade: async (_req, socket, head, { environ }) => {
        seen.push(head.toString('latin1'), await new Request(environ).text());
        refuse(socket, '404 Not Found');
      },
    });
    const upgrade = 'Connection: keep-alive, Upgrade\r\nUpgrade: echo\r\n';
    expect(await raw(`POST /a HTTP/1.1\r\nHost: a\r\n${upgrade}Content-Length: 5\r\n\r\nhelloFRAME`)).toMatch(/^HTTP\/1\.1 404 /);
    expect(await raw(`POST /b HTTP/1.1\r\nHost: a\r\n${upgrade}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nFRAME`)).toMatch(/^HTTP\/1\.1 404 /);
    expect(seen).toEqual(['helloFRAME', '', '5\r\nhello\r\n0\r\n\r\nFRAME', '']);
  });

  it('answers the requests ahead of a pipelined upgrade first, then hands it over', async () => {
    const got = await pipelinedAheadOfUpgrade(
      'GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n',
      (text) => text.includes('101 Switching'),
    );
    expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*slow[\s\S]*HTTP\/1\.1 200 OK\r\n[\s\S]*slow[\s\S]*HTTP\/1\.1 101 Switching Protocols\r\n/);
  });

  it('answers a request with an empty Expect (which goes through checkExpectation) before a pipelined upgrade', async () => {
    const got = await pipelinedAheadOfUpgrade(
      'GET /one HTTP/1.1\r\nHost: a\r\nExpect:\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n',
      (text) => text.includes('101 Switching') && text.includes('slow'),
    );
    expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*slow[\s\S]*HTTP\/1\.1 101 Switching Protocols\r\n/);
  });

  it("refuses with 503 an upgrade that comes once close() has begun, on a connection kept by idle: 'expire'", async () => {
    let called = 0;
    const upgrade = chat(new WebSocketServer({ noServer: true }));
    handle = await serve(app, { port: 0, upgrade: (...args) => (called++, upgrade(...args)) });
    const socket = net.connect(handle.port, '127.0.0.1');
    socket.on('error', () => {});
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (got += chunk));
    socket.write('GET /one HTTP/1.1\r\nHost: a\r\n\r\n');
    while (!got.includes('app /one')) await new Promise((resolve) => setTimeout(resolve, 10));
    // `tsgi serve` on SIGTERM: idle keep-alive connections stay until their timeout.
    const closing = handle.close({ timeout: 2_000, idle: 'expire' });
    socket.write('GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://app.test\r\nCookie: user=ann\r\n\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    await closing;
    handle = undefined;
    expect(called).toBe(0);
    expect(got).toMatch(/HTTP\/1\.1 503 Service Unavailable\r\n[\s\S]*the server is shutting down\n$/);
  });

  it('does not hand over an upgrade pipelined behind an answer that closes the connection (close() begun)', async () => {
    let called = 0;
    // close() begins once the app works on the request ahead (not 100 ms after it was written,
    // which a loaded machine could spend before the request reached the app).
    let working!: () => void;
    const atWork = new Promise<void>((resolve) => (working = resolve));
    const slow: App = (_environ, startResponse) => {
      working();
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        await new Promise((resolve) => setTimeout(resolve, 300));
        yield new TextEncoder().encode('slow');
      })();
    };
    handle = await serve(slow, { port: 0, upgrade: (_req, socket) => (called++, refuse(socket, '404 Not Found')) });
    const socket = net.connect(handle.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let got = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (got += chunk));
    socket.write('GET /one HTTP/1.1\r\nHost: a\r\n\r\n');
    await atWork;
    const closing = handle.close({ timeout: 2_000 });
    socket.write('GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    await closing;
    handle = undefined;
    expect(called).toBe(0);
    // The answer to the request ahead goes out whole, and tells the client to reconnect.
    expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*[Cc]onnection: close\r\n[\s\S]*slow/);
    expect(got).not.toContain('404');
  });

  it('survives a client that resets its connection while an async handler awaits (no uncaught ECONNRESET)', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      let reached!: () => void;
      const handed = new Promise<void>((resolve) => (reached = resolve));
      let closed!: () => void;
      const gone = new Promise<void>((resolve) => (closed = resolve));
      handle = await serve(app, {
        port: 0,
        upgrade: async (req, socket) => {
          reached();
          // A session store's lookup, say, while the client goes away.
          await new Promise((resolve) => socket.once('close', resolve));
          closed();
        },
      });
      const client = net.connect(handle.port, '127.0.0.1', () => client.write('GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n'));
      client.on('error', () => {});
      await handed;
      client.resetAndDestroy();
      await gone;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(uncaught).toEqual([]);
      // The server still answers.
      expect(await (await fetch(`${handle.url}/after`)).text()).toBe('app /after');
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it("aborts context.environ's tsgi.signal when the client resets while an async handler awaits a lookup on it", async () => {
    let aborted!: (reason: unknown) => void;
    const reason = new Promise<unknown>((resolve) => (aborted = resolve));
    let reached!: () => void;
    const handed = new Promise<void>((resolve) => (reached = resolve));
    const lines: string[] = [];
    handle = await serve(app, {
      port: 0,
      log: { write: (line: string) => void lines.push(line) },
      upgrade: async (_req, socket, _head, { environ }) => {
        const { signal } = new Request(environ);
        reached();
        // A session store's lookup that stops when nobody waits for it (as an app's fetch does).
        await new Promise((resolve, reject) => {
          const lookup = setTimeout(resolve, 5_000);
          signal.addEventListener('abort', () => (clearTimeout(lookup), aborted(signal.reason), reject(signal.reason)), { once: true });
        });
        refuse(socket, '404 Not Found');
      },
    });
    const client = net.connect(handle.port, '127.0.0.1', () => client.write('GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n'));
    client.on('error', () => {});
    await handed;
    client.resetAndDestroy();
    const got = await Promise.race([reason, new Promise((resolve) => setTimeout(() => resolve('not aborted'), 2_000))]);
    expect(got).toBeInstanceOf(DOMException);
    expect([(got as DOMException).name, (got as DOMException).message]).toEqual(['AbortError', 'client disconnected']);
    // The handler's rejection with that abort is no server error: unlogged, as an app's.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines).toEqual([]);
  });

  it("aborts the tsgi.signal of an upgraded connection close() cuts at its timeout with 'server shutting down'", async () => {
    const signals: AbortSignal[] = [];
    handle = await serve(app, {
      port: 0,
      upgrade: (_req, socket, _head, { environ }) => {
        signals.push(new Request(environ).signal);
        socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n');
      },
    });
    const socket = net.connect(handle.port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n'));
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('data', resolve));
    expect(signals[0]!.aborted).toBe(false);
    await handle.close({ timeout: 100 });
    handle = undefined;
    expect(signals[0]!.aborted).toBe(true);
    expect((signals[0]!.reason as DOMException).message).toBe('server shutting down');
  });

  it('closes the connection of a refusal it answers once the answer is written, even when the client keeps its side open', async () => {
    handle = await serve(app, {
      port: 0,
      upgrade: () => {
        throw new HTTPNotFound();
      },
    });
    const client = net.connect({ port: handle.port, host: '127.0.0.1', allowHalfOpen: true }, () =>
      client.write('GET /nope HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n'),
    );
    client.on('error', () => {});
    let got = '';
    client.setEncoding('latin1');
    client.on('data', (chunk: string) => (got += chunk));
    // The answer and the server's FIN; the client does not end its side (a careless or hostile one).
    await new Promise((resolve) => client.once('end', resolve));
    expect(got).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    const started = Date.now();
    await handle.close({ timeout: 5_000 });
    handle = undefined;
    // No connection left to wait for: the refused one was closed, not held half open (which
    // would hold close() for its 5 s timeout; 4 s leaves a loaded machine room).
    expect(Date.now() - started).toBeLessThan(4_000);
    client.destroy();
  });

  it('logs nothing when an async handler refuses (HTTPException) a client that has gone meanwhile', async () => {
    const lines: string[] = [];
    let rejected!: () => void;
    const done = new Promise<void>((resolve) => (rejected = resolve));
    let reached!: () => void;
    const handed = new Promise<void>((resolve) => (reached = resolve));
    handle = await serve(app, {
      port: 0,
      log: { write: (line: string) => void lines.push(line) },
      upgrade: async (req, socket) => {
        reached();
        await new Promise((resolve) => socket.once('close', resolve));
        setTimeout(rejected, 50);
        throw new HTTPForbidden('Log in first.');
      },
    });
    const client = net.connect(handle.port, '127.0.0.1', () => client.write('GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n'));
    client.on('error', () => {});
    await handed;
    client.resetAndDestroy();
    await done;
    expect(lines).toEqual([]);
  });

  it('answers 500 and logs when the handler throws or its promise rejects before writing', async () => {
    const lines: string[] = [];
    handle = await serve(app, {
      port: 0,
      log: { write: (line: string) => void lines.push(line) },
      upgrade: (req) => {
        if (req.url === '/sync') throw new Error('sync boom');
        return Promise.reject(new Error('async boom'));
      },
    });
    const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n`;
    expect(await raw(request('/sync'))).toMatch(/^HTTP\/1\.1 500 /);
    expect(await raw(request('/async'))).toMatch(/^HTTP\/1\.1 500 /);
    expect(lines.join('')).toContain('GET /sync (upgrade handler): Error: sync boom');
    expect(lines.join('')).toContain('GET /async (upgrade handler): Error: async boom');
  });

  it("answers an HTTPException the handler throws or rejects with before writing (createEnviron's 400, a 403, a 426) with its status and reason, unlogged", async () => {
    const lines: string[] = [];
    const refused: number[] = [];
    handle = await serve(app, {
      port: 0,
      log: { write: (line: string) => void lines.push(line) },
      onRefused: (r) => void refused.push(r.status),
      upgrade: async (req) => {
        const request = new Request(createEnviron(req));
        if (request.path === '/later') {
          await new Promise((resolve) => setTimeout(resolve, 20)); // a session store's lookup
          throw new HTTPForbidden('Session expired.');
        }
        if (request.path === '/old') throw new HTTPUpgradeRequired('Speak WebSocket here.', { upgrade: 'websocket' });
        throw new HTTPForbidden('Not from that origin.');
      },
    });
    const forbidden = await raw('GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n');
    expect(forbidden).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(forbidden).toMatch(/\r\n\r\nNot from that origin\.\n$/);
    const upgrade = await raw('GET /old HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n');
    expect(upgrade).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
    expect(upgrade).toMatch(/\r\nUpgrade: websocket\r\n/i);
    // No Host on HTTP/1.1: createEnviron's HTTPBadRequest.
    const noHost = await raw('GET /chat HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n');
    expect(noHost).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(lines).toEqual([]);
    const later = await raw('GET /later HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n');
    expect(later).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*Session expired\.\n$/);
    expect(lines).toEqual([]);
    expect(refused).toEqual([403, 426, 400, 403]);
  });

  it('answers a redirect the handler throws with its status and absolute Location, unlogged, which a ws client with followRedirects follows', async () => {
    const lines: string[] = [];
    const refused: number[] = [];
    const upgrade = chat(new WebSocketServer({ noServer: true }));
    handle = await serve(app, {
      port: 0,
      scriptName: '/api',
      log: { write: (line: string) => void lines.push(line) },
      onRefused: (r) => void refused.push(r.status),
      upgrade: (req, socket, head, context) => {
        // A WebSocket endpoint that moved (relative to the request's URL, as the app's redirects).
        if (context.environ.PATH_INFO === '/old-chat') throw new HTTPMovedPermanently('chat');
        req.url = String(context.environ.PATH_INFO);
        return upgrade(req, socket, head, context);
      },
    });
    const answer = await raw('GET /api/old-chat HTTP/1.1\r\nHost: app.test\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 301 Moved Permanently\r\n/);
    expect(answer).toMatch(/\r\nLocation: http:\/\/app\.test\/api\/chat\r\n/i);
    const ws = new WebSocket(`${handle.url.replace('http', 'ws')}/api/old-chat`, { followRedirects: true, headers: { Origin: 'http://app.test', Cookie: 'user=ann' } });
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    ws.terminate();
    expect(lines).toEqual([]);
    expect(refused).toEqual([301, 301]);
  });

  it('answers a refusal on a keep-alive connection that carried requests before the upgrade', async () => {
    handle = await serve(app, { port: 0, upgrade: chat(new WebSocketServer({ noServer: true })) });
    const answer = await raw('GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\nOrigin: http://evil.test\r\nCookie: user=ann\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*app \/one[\s\S]*HTTP\/1\.1 403 Forbidden\r\n[\s\S]*Not from this origin\.\n$/);
  });

  it("applies serve()'s request rules before the handler: trustedHosts (400), scriptName (404)", async () => {
    let called = 0;
    const refused: string[] = [];
    handle = await serve(app, {
      port: 0,
      trustedHosts: ['app.test'],
      scriptName: '/api',
      onRefused: (r) => void refused.push(`${r.status} ${r.reason}`),
      upgrade: (_req, socket) => (called++, refuse(socket, '404 Not Found')),
    });
    const request = (host: string, path: string) => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n`;
    expect(await raw(request('evil.test', '/api/chat'))).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*untrusted Host header\n$/);
    expect(await raw(request('app.test', '/chat'))).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    expect(called).toBe(0);
    expect(await raw(request('app.test', '/api/chat'))).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    expect(called).toBe(1);
    expect(refused).toEqual(['400 untrusted Host header', expect.stringMatching(/^404 /)]);
  });

  it("gives the handler the request's environ in context.environ: serve()'s scriptName applied, the peer's address", async () => {
    const seen: Record<string, unknown>[] = [];
    handle = await serve(app, {
      port: 0,
      scriptName: '/api',
      upgrade: (_req, socket, _head, { environ }) => {
        seen.push({ script: environ.SCRIPT_NAME, path: environ.PATH_INFO, addr: environ.REMOTE_ADDR, scheme: environ['tsgi.url_scheme'] });
        refuse(socket, '404 Not Found');
      },
    });
    expect(await raw('GET /api/chat?room=1 HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n')).toMatch(/^HTTP\/1\.1 404 /);
    expect(seen).toEqual([{ script: '/api', path: '/chat', addr: '127.0.0.1', scheme: 'http' }]);
  });

  it("lets the handler run the app's proxyFix over context.environ (docs/server.md's recipe)", async () => {
    const seen: unknown[] = [];
    handle = await serve(app, {
      port: 0,
      upgrade: (_req, socket, _head, { environ }) => {
        proxyFix(() => [], { xFor: 1, xProto: 1, xHost: 1 })(environ, () => {});
        seen.push([environ.REMOTE_ADDR, environ['tsgi.url_scheme'], environ.HTTP_HOST]);
        refuse(socket, '404 Not Found');
      },
    });
    const forwarded = 'X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: chat.example\r\n';
    expect(await raw(`GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n${forwarded}\r\n`)).toMatch(/^HTTP\/1\.1 404 /);
    expect(seen).toEqual([['203.0.113.9', 'https', 'chat.example']]);
  });

  it('reads the X-Forwarded-Proto wss and ws a proxy sends for a WebSocket (Traefik) as https and http', async () => {
    const seen: unknown[] = [];
    handle = await serve(app, {
      port: 0,
      upgrade: (_req, socket, _head, { environ }) => {
        proxyFix(() => [], { xFor: 1, xProto: 1, forwarded: 1 })(environ, () => {});
        const request = new Request(environ);
        seen.push([environ['tsgi.url_scheme'], request.url]);
        refuse(socket, '404 Not Found');
      },
    });
    const upgrade = 'Connection: upgrade\r\nUpgrade: websocket\r\n';
    for (const proxied of ['X-Forwarded-Proto: wss', 'X-Forwarded-Proto: WS', 'Forwarded: for=203.0.113.9;proto=wss']) {
      expect(await raw(`GET /chat HTTP/1.1\r\nHost: chat.example\r\n${upgrade}${proxied}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 404 /);
    }
    expect(seen).toEqual([
      ['https', 'https://chat.example/chat'],
      ['http', 'http://chat.example/chat'],
      ['https', 'https://chat.example/chat'],
    ]);
  });

  it("answers 400 for a forwarded host outside trustedHosts with docs/server.md's recipe, and never leaves that host in context.environ", async () => {
    const seen: unknown[] = [];
    handle = await serve(app, {
      port: 0,
      trustedHosts: ['a', 'chat.example'],
      log: { write() {} },
      upgrade: (_req, socket, _head, { environ }) => {
        if (environ.PATH_INFO === '/ignored') {
          // The recipe without its answer: the refused host is not what the handler reads.
          proxyFix(() => [], { xFor: 1, xProto: 1, xHost: 1 })(environ, () => {});
        } else {
          proxyFix(() => [], { xFor: 1, xProto: 1, xHost: 1 })(environ, (status) => abort(Number.parseInt(status, 10)));
        }
        seen.push([environ.PATH_INFO, environ.REMOTE_ADDR, environ.HTTP_HOST, environ.SERVER_NAME]);
        refuse(socket, '404 Not Found');
      },
    });
    const upgrade = 'Connection: upgrade\r\nUpgrade: websocket\r\nX-Forwarded-For: 203.0.113.9\r\n';
    expect(await raw(`GET /chat HTTP/1.1\r\nHost: a\r\n${upgrade}X-Forwarded-Host: chat.example\r\n\r\n`)).toMatch(/^HTTP\/1\.1 404 /);
    expect(await raw(`GET /chat HTTP/1.1\r\nHost: a\r\n${upgrade}X-Forwarded-Host: evil.example\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(`GET /ignored HTTP/1.1\r\nHost: a\r\n${upgrade}X-Forwarded-Host: evil.example\r\n\r\n`)).toMatch(/^HTTP\/1\.1 404 /);
    expect(seen).toEqual([
      ['/chat', '203.0.113.9', 'chat.example', 'chat.example'],
      ['/ignored', '203.0.113.9', 'a', '127.0.0.1'],
    ]);
  });

  it('tells onUpgradeClosed of each upgrade the handler took, once its connection closed: status, bytes after the head, duration', async () => {
    const closed: ClosedUpgrade[] = [];
    const refused: number[] = [];
    const wss = new WebSocketServer({ noServer: true });
    handle = await serve(app, {
      port: 0,
      log: { write() {} },
      onRefused: (r) => void refused.push(r.status),
      onUpgradeClosed: (c) => void closed.push(c),
      upgrade: (req, socket, head, { environ }) => {
        if (environ.PATH_INFO === '/own') return refuse(socket, '404 Not Found');
        if (environ.PATH_INFO === '/forbidden') throw new HTTPForbidden('No.');
        if (environ.PATH_INFO === '/boom') throw new Error('boom');
        if (environ.PATH_INFO === '/drop') return void socket.destroy();
        wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data) => ws.send(`echo ${String(data)}`)));
      },
    });
    const ws = await open('/chat');
    ws.send('hi');
    await new Promise((resolve) => ws.once('message', resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Logged when the connection ends, as nginx logs a WebSocket.
    expect(closed).toEqual([]);
    const gone = new Promise((resolve) => ws.once('close', resolve));
    ws.close();
    await gone;
    await waitUntil(() => closed.length === 1);
    const [chat] = closed;
    expect(chat!.status).toBe(101);
    // The server's frames: `echo hi` (2 + 7 bytes) and its empty close frame (2); not the 101's head.
    expect(chat!.bytes).toBe(11);
    expect(chat!.duration).toBeGreaterThanOrEqual(50);
    expect(chat!.time).toBeInstanceOf(Date);
    expect(chat!.environ.REQUEST_URI).toBe('/chat');
    expect(chat!.environ.REMOTE_ADDR).toBe('127.0.0.1');
    const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n`;
    expect(await raw(request('/own'))).toMatch(/^HTTP\/1\.1 404 /);
    expect(await raw(request('/forbidden'))).toMatch(/^HTTP\/1\.1 403 /);
    expect(await raw(request('/boom'))).toMatch(/^HTTP\/1\.1 500 /);
    expect(await raw(request('/drop')).catch(() => '')).toBe('');
    await waitUntil(() => closed.length === 4);
    // The 403 tsgi answered for the handler is onRefused's alone, at once.
    expect(refused).toEqual([403]);
    expect(closed.slice(1).map((c) => [c.environ.PATH_INFO, c.status, c.bytes])).toEqual([
      ['/own', 404, '404 Not Found'.length],
      ['/boom', 500, 'Internal Server Error\n'.length],
      ['/drop', 499, 0],
    ]);
  });

  it("counts for onUpgradeClosed the bytes after the 101's head alone: not the answers to requests pipelined ahead, a head written in corked pieces", async () => {
    const closed: ClosedUpgrade[] = [];
    handle = await serve(app, {
      port: 0,
      onUpgradeClosed: (c) => void closed.push(c),
      upgrade: (_req, socket) => {
        socket.cork();
        socket.write('HTTP/1.1 101 Switching');
        socket.write(Buffer.from(' Protocols\r\nUpgrade: x\r\n'));
        socket.write('Connection: upgrade\r\n\r\nABCDE');
        process.nextTick(() => socket.uncork());
        setTimeout(() => socket.end('XYZ'), 20);
      },
    });
    const get = 'GET /page HTTP/1.1\r\nHost: a\r\n\r\n';
    const got = await raw(`${get}${get}GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n`);
    // Two answers of the app's, then the 101 and its 8 bytes.
    expect(got.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(got).toMatch(/HTTP\/1\.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\nABCDEXYZ$/);
    await waitUntil(() => closed.length === 1);
    expect([closed[0]!.status, closed[0]!.bytes, closed[0]!.environ.PATH_INFO]).toEqual([101, 8, '/chat']);
  });

  it("leaves the handler's own wrapper of socket.write and end in place once it has read the answer's head", async () => {
    const closed: ClosedUpgrade[] = [];
    let metered = 0;
    const head = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n';
    handle = await serve(app, {
      port: 0,
      onUpgradeClosed: (c) => void closed.push(c),
      upgrade: (_req, socket) => {
        // A handler metering what it sends, as a byte counter or a tracing library does.
        const { write, end } = socket;
        socket.write = function (this: Duplex, chunk: string, ...rest: unknown[]) {
          metered += Buffer.byteLength(chunk);
          return Reflect.apply(write, this, [chunk, ...rest]) as boolean;
        } as Duplex['write'];
        socket.end = function (this: Duplex, chunk: string, ...rest: unknown[]) {
          metered += Buffer.byteLength(chunk);
          return Reflect.apply(end, this, [chunk, ...rest]) as Duplex;
        } as Duplex['end'];
        socket.write(head);
        socket.write('12345');
        setTimeout(() => {
          socket.write('678');
          socket.end('90');
        }, 20);
      },
    });
    const got = await raw('GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n');
    expect(got).toBe(`${head}1234567890`);
    await waitUntil(() => closed.length === 1);
    expect(metered).toBe(got.length);
    expect([closed[0]!.status, closed[0]!.bytes]).toEqual([101, 10]);
  });

  it('logs an onUpgradeClosed that throws or rejects, and goes on serving', async () => {
    const lines: string[] = [];
    let calls = 0;
    handle = await serve(app, {
      port: 0,
      log: { write: (line: string) => void lines.push(line) },
      onUpgradeClosed: (c) => {
        if (++calls === 1) throw new Error('sync listener boom');
        return Promise.reject(new Error(`async listener boom ${c.status}`));
      },
      upgrade: (_req, socket) => refuse(socket, '404 Not Found'),
    });
    const request = 'GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n';
    expect(await raw(request)).toMatch(/^HTTP\/1\.1 404 /);
    expect(await raw(request)).toMatch(/^HTTP\/1\.1 404 /);
    await waitUntil(() => lines.length === 2);
    expect(lines.join('')).toContain('GET /chat HTTP/1.1 (onUpgradeClosed threw): Error: sync listener boom');
    expect(lines.join('')).toContain('Error: async listener boom 404');
  });

  it('refuses an onUpgradeClosed that is not a function at once', async () => {
    await expect(serve(app, { port: 0, upgrade: () => {}, onUpgradeClosed: 'log' as never })).rejects.toThrow('serve: onUpgradeClosed must be a function');
  });

  it('refuses an upgrade handler that is not a function at once', async () => {
    await expect(serve(app, { port: 0, upgrade: 'ws' as never })).rejects.toThrow('serve: upgrade must be a function');
  });

  it('keeps maxHeaderSize: an upgrade request with a head too large is answered 431 without the handler', async () => {
    let called = 0;
    handle = await serve(app, { port: 0, server: { maxHeaderSize: 2048 }, upgrade: (_req, socket) => (called++, refuse(socket, '404 Not Found')) });
    const answer = await raw(`GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(called).toBe(0);
  });

  it('does not cut an upgraded connection at firstByteTimeout, requestTimeout or keepAliveTimeout', async () => {
    // A handler that keeps the raw socket (no `ws`, which turns the socket timeout off itself).
    handle = await serve(app, {
      port: 0,
      firstByteTimeout: 200,
      headersTimeout: 300,
      requestTimeout: 600,
      keepAliveTimeout: 300,
      upgrade: (_req, socket) => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n');
        socket.on('data', (chunk: Buffer) => socket.write(chunk));
      },
    });
    const socket = net.connect(handle.port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n'));
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('data', resolve));
    // Node checks its request timeouts every second.
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    socket.write('ping');
    const [echo] = await new Promise<unknown[]>((resolve) => socket.once('data', (...args) => resolve(args)));
    expect(String(echo)).toBe('ping');
    socket.destroy();
  });
});

describe('serve({ upgrade }) with a session', () => {
  it("authenticates the upgrade from the app's signed session cookie (CookieSessions.load)", async () => {
    const sessions = new CookieSessions({ secret: 'a'.repeat(32), secure: false });
    const site = sessions.middleware(
      Request.application((req) => {
        sessionOf(req).set('user', 'cy');
        return new Response('logged in');
      }),
    );
    const wss = new WebSocketServer({ noServer: true });
    handle = await serve(site, {
      port: 0,
      upgrade: (req, socket, head) => {
        const user = sessions.load(createEnviron(req))?.data.get('user');
        if (typeof user !== 'string') return refuse(socket, '403 Forbidden');
        wss.handleUpgrade(req, socket, head, (ws) => ws.send(`hello ${user}`));
      },
    });
    await expect(open('/chat', { Cookie: 'session=forged' })).rejects.toThrow('refused 403');
    const login = await fetch(`${handle.url}/login`);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    // The greeting may come with the 101: listen before the socket opens.
    const ws = new WebSocket(`${handle.url.replace('http', 'ws')}/chat`, { headers: { Cookie: cookie } });
    const [message] = await new Promise<unknown[]>((resolve, reject) => (ws.once('message', (...args) => resolve(args)), ws.once('error', reject)));
    expect(String(message)).toBe('hello cy');
    ws.terminate();
  });
});

describe('serve({ upgrade }) over TLS', () => {
  for (const http2 of [false, true]) {
    it(`takes wss:// upgrades${http2 ? ' with http2: true (HTTP/1.1 by ALPN)' : ''}, and tells onUpgradeClosed the cleartext bytes`, async () => {
      const certificate = await makeCertificate();
      const wss = new WebSocketServer({ noServer: true });
      const told: ClosedUpgrade[] = [];
      handle = await serve(app, { port: 0, tls: { cert: certificate.cert, key: certificate.key }, http2, upgrade: chat(wss), onUpgradeClosed: (c) => void told.push(c) });
      const ws = new WebSocket(`wss://localhost:${handle.port}/chat`, { ca: certificate.cert, headers: { Origin: 'http://app.test', Cookie: 'user=bo' } });
      ws.on('error', () => {});
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send('hi');
      const [message] = await new Promise<unknown[]>((resolve) => ws.once('message', (...args) => resolve(args)));
      expect(String(message)).toBe('bo: hi');
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      await handle.close({ timeout: 5_000 });
      handle = undefined;
      expect(await closed).toBe(1001);
      // The frames as sent, not as encrypted: `bo: hi` (2 + 6) and the close frame (2 + 2 + its reason).
      await waitUntil(() => told.length === 1);
      expect([told[0]!.status, told[0]!.bytes]).toEqual([101, 8 + 4 + 'server shutting down'.length]);
    });
  }
});

describe("serve({ upgrade }) with http2: 'h2c'", () => {
  it('takes ws:// upgrades on HTTP/1.1 connections, next to prior-knowledge HTTP/2 ones', async () => {
    handle = await serve(app, { port: 0, http2: 'h2c', upgrade: chat(new WebSocketServer({ noServer: true })) });
    const ws = await open('/chat');
    ws.send('hey');
    const [message] = await new Promise<unknown[]>((resolve) => ws.once('message', (...args) => resolve(args)));
    expect(String(message)).toBe('ann: hey');
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await handle.close({ timeout: 5_000 });
    handle = undefined;
    expect(await closed).toBe(1001);
  });
});

describe('serve() without upgrade', () => {
  it("keeps today's behaviour: the app answers an Upgrade request, with Connection: close", async () => {
    handle = await serve(app, { port: 0 });
    await expect(open('/chat')).rejects.toThrow('refused 200');
    const answer = await raw('GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer.toLowerCase()).toContain('connection: close');
  });
});
