/**
 * A graceful shutdown and the responses that would run until their client leaves, over real
 * sockets: `serve()` ends its `text/event-stream` answers at once, cleanly (so `EventSource`
 * clients reconnect elsewhere) instead of holding `close()` for its timeout; other streams are
 * left to finish or be cut; `req.shutdownSignal` (`tsgi.shutdown_signal`) tells long polls;
 * `toNodeHandler` takes the signal from its caller.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { EventSource } from 'undici';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { serve, toNodeHandler } from 'tsgi/node';
import { accessLog } from 'tsgi/middleware';
import { proxy } from 'tsgi/proxy';
import { deferred, encoder, gatedEventStream, getFirstChunk, h2cGet, sleep, start, tickingEvents, until } from './node-helpers.ts';

/** Milliseconds `promise` took to settle. */
async function timed(promise: Promise<unknown>): Promise<number> {
  const begun = Date.now();
  await promise;
  return Date.now() - begun;
}

/** Serves `app` on a plain `http.Server` through `toNodeHandler(app, options)`, on a free port. */
async function nodeServer(app: App, options: Parameters<typeof toNodeHandler>[1]): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(toNodeHandler(app, options));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, server };
}

/**
 * What a close() that did not wait for its 5 s timeout takes at most: well under 5 s, with
 * room for a loaded CI machine (1.5 s was close to what a stalled run of 30 clients can take).
 */
const NOT_HELD = 4000;

describe('close() and event streams', () => {
  it('ends an event stream at once, as a complete response, and runs its finally: close() does not wait for its timeout', async () => {
    const { app, cleaned } = tickingEvents();
    const server = await start(app);
    const { head, body } = await getFirstChunk(`${server.url}/events`);
    await sleep(50);
    const took = await timed(server.close({ timeout: 5000 }));
    expect(took).toBeLessThan(NOT_HELD);
    const text = await body; // 'end', not 'aborted': the last chunk came
    expect(head.complete).toBe(true);
    expect(text.startsWith(':\n\nid: 0\ndata: tick 0\n\n')).toBe(true);
    expect(text.endsWith('\n\n')).toBe(true); // no event cut in half
    await cleaned;
    expect(server.log.text).toBe('');
  });

  it('ends a hand-written text/event-stream body waiting for its next event, whatever its parameters', async () => {
    const gate = deferred();
    const raw = gatedEventStream(gate.promise);
    const app: App = (environ, startResponse) => raw(environ, (status, headers) => startResponse(status, headers.map(([name, value]) => [name, `${value}; charset=UTF-8`])));
    const server = await start(app);
    const { head, body } = await getFirstChunk(`${server.url}/events`);
    expect(head.headers['content-type']).toBe('text/event-stream; charset=UTF-8');
    const took = await timed(server.close({ timeout: 5000 }));
    expect(await body).toBe('data: one\n\n');
    expect(head.complete).toBe(true);
    // The generator, suspended on the gate, runs its return() once the gate opens; close() waited 2 s at most for it.
    expect(took).toBeLessThan(3000);
    gate.resolve();
  });

  it('lets an EventSource reconnect, with its Last-Event-ID, to the server that takes over', async () => {
    const first = await start(tickingEvents(50).app);
    const ids: string[] = [];
    let resolveSecond!: (lastEventId: string | null) => void;
    const reconnected = new Promise<string | null>((resolve) => (resolveSecond = resolve));
    // The second server answers on the first one's port once it is closed (a new worker on the same socket).
    const port = first.port;
    const source = new EventSource(`${first.url}/events`);
    try {
      source.onmessage = (event) => ids.push(event.lastEventId);
      await until(() => ids.length >= 2);
      expect(await timed(first.close({ timeout: 5000 }))).toBeLessThan(NOT_HELD);
      const second = await start(
        Request.application((req) => {
          resolveSecond(req.headers.get('last-event-id'));
          return Response.eventStream([{ data: 'welcome back', retry: 60_000 }], { heartbeat: 0 });
        }),
        { port },
      );
      expect(await reconnected).toBe(ids.at(-1));
      await second.close({ timeout: 0 });
    } finally {
      source.close();
    }
  }, 15_000);

  it('ends 30 event streams together, each app listening on req.shutdownSignal told once', async () => {
    let told = 0;
    const app = Request.application((req) => {
      req.shutdownSignal!.addEventListener('abort', () => told++, { once: true });
      return Response.eventStream(
        (async function* () {
          for (;;) {
            yield 'tick';
            await sleep(20);
          }
        })(),
        { heartbeat: 0 },
      );
    });
    const server = await start(app);
    const clients = await Promise.all(Array.from({ length: 30 }, () => getFirstChunk(`${server.url}/events`)));
    const took = await timed(server.close({ timeout: 5000 }));
    expect(took).toBeLessThan(NOT_HELD);
    for (const { head, body } of clients) {
      await body;
      expect(head.complete).toBe(true);
    }
    expect(told).toBe(30);
  });

  it('ends a close-delimited stream to an HTTP/1.0 client: the connection ends after the last whole event', async () => {
    const server = await start(tickingEvents().app);
    const socket = net.connect(server.port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1').on('data', (chunk: string) => (text += chunk));
    const ended = new Promise<void>((resolve) => socket.once('end', resolve));
    socket.write('GET /events HTTP/1.0\r\nHost: x\r\n\r\n');
    await until(() => text.includes('tick 1'));
    const took = await timed(server.close({ timeout: 5000 }));
    await ended;
    socket.destroy();
    expect(took).toBeLessThan(NOT_HELD);
    const [head, body] = text.split('\r\n\r\n', 2) as [string, string];
    expect(head).not.toMatch(/transfer-encoding|content-length/i);
    expect(body).toMatch(/^:\n\n(id: \d+\ndata: tick \d+\n\n)+$/);
  });

  it("ends a proxied upstream's event stream: the client's ends whole, the upstream request is closed", async () => {
    const { app, cleaned } = tickingEvents();
    const upstream = await start(app);
    const front = await start(proxy(upstream.url));
    const { head, body } = await getFirstChunk(`${front.url}/events`);
    await sleep(50);
    expect(await timed(front.close({ timeout: 5000 }))).toBeLessThan(NOT_HELD);
    expect(await body).toMatch(/^:\n\n(id: \d+\ndata: tick \d+\n\n)+$/);
    expect(head.complete).toBe(true);
    await cleaned; // the upstream saw its client (the proxy) leave
    expect(front.log.text).toBe('');
  });

  it('writes one access log line for the stream it ended, with its status and bytes', async () => {
    const lines: string[] = [];
    const server = await start(accessLog(tickingEvents().app, { log: { write: (line: string) => void lines.push(line) } }));
    const { body } = await getFirstChunk(`${server.url}/events`);
    await sleep(50);
    await server.close({ timeout: 5000 });
    const text = await body;
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`"GET /events HTTP/1.1" 200 ${Buffer.byteLength(text)} `));
  });

  it('leaves other streams alone: an octet stream is cut at the timeout, as before', async () => {
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
      return (async function* () {
        for (;;) {
          yield encoder.encode('x');
          await sleep(20);
        }
      })();
    };
    const server = await start(app);
    const { head } = await getFirstChunk(`${server.url}/download`);
    const aborted = new Promise<void>((resolve) => head.on('aborted', () => resolve()));
    const took = await timed(server.close({ timeout: 300 }));
    expect(took).toBeGreaterThanOrEqual(250);
    await aborted;
    expect(head.complete).toBe(false);
  });

  it('ends an event stream over HTTP/2 (h2c) as a complete stream', async () => {
    const { app, cleaned } = tickingEvents();
    const server = await start(app, { http2: 'h2c' });
    const { session, stream, text, ended } = h2cGet(server.url, '/events');
    try {
      await until(() => text().includes('tick 1'));
      const took = await timed(server.close({ timeout: 5000 }));
      await ended;
      expect(stream.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
      expect(took).toBeLessThan(NOT_HELD);
      await cleaned;
    } finally {
      session.close();
    }
  });
});

describe('req.shutdownSignal (tsgi.shutdown_signal)', () => {
  it('aborts when close() begins, with an AbortError, so a long poll can answer and close() need not wait', async () => {
    let reason: unknown;
    // close() begins once the poll waits: after a fixed 50 ms a loaded machine could begin it
    // before the request reached the app, whose listener on an aborted signal never runs.
    const polling = deferred();
    const app = Request.application(async (req) => {
      const signal = req.shutdownSignal!;
      await new Promise((resolve) => {
        signal.addEventListener('abort', resolve, { once: true });
        polling.resolve();
      });
      reason = signal.reason;
      return new Response(null, { status: 204 });
    });
    const server = await start(app);
    const answer = new Promise<number>((resolve, reject) => http.get(`${server.url}/poll`, { agent: false }, (res) => resolve(res.statusCode!)).on('error', reject));
    await polling.promise;
    const took = await timed(server.close({ timeout: 5000 }));
    expect(await answer).toBe(204);
    expect(took).toBeLessThan(NOT_HELD);
    expect(reason).toBeInstanceOf(DOMException);
    expect((reason as DOMException).name).toBe('AbortError');
    expect((reason as DOMException).message).toBe('server shutting down');
  });

  it('refuses a serve() shutdownSignal that is not an AbortSignal, naming the option, before it binds', async () => {
    await expect(serve(() => [], { port: 0, shutdownSignal: 'soon' as never })).rejects.toThrow(/^serve: shutdownSignal must be an AbortSignal$/);
  });

  it("joins serve()'s own shutdownSignal option with close()", async () => {
    const controller = new AbortController();
    let aborted = false;
    const app = Request.application((req) => {
      aborted = req.shutdownSignal!.aborted;
      return 'ok';
    });
    const server = await start(app, { shutdownSignal: controller.signal });
    await fetch(`${server.url}/`);
    expect(aborted).toBe(false);
    controller.abort();
    await fetch(`${server.url}/`);
    expect(aborted).toBe(true);
  });

  it('is given by toNodeHandler only when asked for, and ends event streams when the caller aborts it', async () => {
    let seen: AbortSignal | undefined | null = null;
    const plain = await nodeServer(
      Request.application((req) => {
        seen = req.shutdownSignal;
        return 'ok';
      }),
      {},
    );
    try {
      await fetch(`${plain.url}/`);
      expect(seen).toBeUndefined();
    } finally {
      plain.server.close();
    }

    const controller = new AbortController();
    const { app, cleaned } = tickingEvents();
    const embedded = await nodeServer(app, { shutdownSignal: controller.signal });
    try {
      const { head, body } = await getFirstChunk(`${embedded.url}/events`);
      controller.abort();
      expect(await body).toMatch(/^:\n\nid: 0\ndata: tick 0\n\n/);
      expect(head.complete).toBe(true);
      await cleaned;
      // Asked for once the shutdown began, a stream ends after its opening comment.
      const late = await getFirstChunk(`${embedded.url}/events`);
      expect(await late.body).toBe(':\n\nid: 0\ndata: tick 0\n\n'); // the event already in hand goes out
    } finally {
      embedded.server.closeAllConnections();
      embedded.server.close();
    }
    expect(() => toNodeHandler(app, { shutdownSignal: 'soon' as never })).toThrow(/shutdownSignal must be an AbortSignal/);
  });
});
