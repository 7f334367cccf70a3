/**
 * `toFetchHandler(app, { shutdownSignal })`: a runtime's graceful shutdown (Deno's
 * `server.shutdown()`, Bun's `server.stop()`, `@hono/node-server`'s `close()`) waits for the
 * answers in flight, and an event stream never ends by itself; with the signal aborted first,
 * `text/event-stream` answers end at once, as complete ones, and the app sees
 * `req.shutdownSignal` (`tsgi.shutdown_signal`). Over a real socket with `@hono/node-server`,
 * and in-process.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve as honoServe } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { deferred, encoder, errorLog, getFirstChunk, sleep, tickingEvents } from './node-helpers.ts';

/** Serves `handler` with `@hono/node-server` on 127.0.0.1 and a free port. */
async function listen(handler: ReturnType<typeof toFetchHandler>): Promise<{ url: string; server: http.Server }> {
  const server = await new Promise<http.Server>((resolve) => {
    const started = honoServe({ fetch: handler, hostname: '127.0.0.1', port: 0 }, () => resolve(started as http.Server));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('toFetchHandler and a graceful shutdown', () => {
  it('ends an event stream as a complete response when the signal aborts, over a socket, and closes its source', async () => {
    const controller = new AbortController();
    const { app, cleaned } = tickingEvents();
    const { url, server } = await listen(toFetchHandler(app, { shutdownSignal: controller.signal }));
    try {
      const { head, body } = await getFirstChunk(`${url}/events`);
      await sleep(50);
      controller.abort();
      const text = await body; // 'end', not 'aborted'
      expect(head.complete).toBe(true);
      expect(text).toMatch(/^:\n\n(id: \d+\ndata: tick \d+\n\n)+$/);
      await cleaned;
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('ends a stream waiting for an event that never comes, and a stream asked for after the abort after its first chunk', async () => {
    const controller = new AbortController();
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/event-stream; charset=utf-8']]);
      return (async function* () {
        yield encoder.encode('data: one\n\n');
        await new Promise(() => {}); // never
      })();
    };
    const handler = toFetchHandler(app, { shutdownSignal: controller.signal });
    const res = await handler(new globalThis.Request('http://example.com/events'));
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: one\n\n');
    const ending = reader.read();
    await sleep(20);
    controller.abort();
    expect(await ending).toEqual({ done: true, value: undefined });

    const late = await handler(new globalThis.Request('http://example.com/events'));
    expect(await late.text()).toBe('data: one\n\n');
  });

  it('answers an event stream that has not sent its first event with an empty 200 when the signal aborts', async () => {
    const controller = new AbortController();
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
      return (async function* () {
        await new Promise(() => {}); // no event, ever
        yield encoder.encode('data: never\n\n');
      })();
    };
    const answer = toFetchHandler(app, { shutdownSignal: controller.signal })(new globalThis.Request('http://example.com/events'));
    await sleep(20);
    controller.abort();
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(await res.text()).toBe('');
  });

  it('logs nothing for an event stream whose source stops on the signal itself (an AbortError), with an event sent or none yet, over a socket', async () => {
    for (const firstEvent of [true, false]) {
      const controller = new AbortController();
      const log = errorLog();
      // The signal aborts once the source waits on it: after a fixed 50 ms a loaded machine
      // could abort before the request arrived, the source then never stopping on the signal
      // (a listener added to an aborted signal never runs) and the case not tested.
      const waiting = deferred();
      const app: App = (environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
        return (async function* () {
          if (firstEvent) yield encoder.encode('data: one\n\n');
          const shutdown = environ['tsgi.shutdown_signal'] as AbortSignal;
          await new Promise((_resolve, reject) => {
            shutdown.addEventListener('abort', () => reject(shutdown.reason), { once: true });
            waiting.resolve();
          });
          yield encoder.encode('data: never\n\n');
        })();
      };
      const { url, server } = await listen(toFetchHandler(app, { shutdownSignal: controller.signal, log }));
      try {
        const answer = fetch(`${url}/events`).then(async (res) => ({ status: res.status, body: await res.text() }));
        await waiting.promise;
        controller.abort(new DOMException('server shutting down', 'AbortError'));
        expect(await answer).toEqual({ status: 200, body: firstEvent ? 'data: one\n\n' : '' });
        await sleep(20);
        expect(log.text).toBe('');
      } finally {
        server.closeAllConnections();
        server.close();
      }
    }
  });

  it('leaves other streams alone', async () => {
    const controller = new AbortController();
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'application/x-ndjson']]);
      return (async function* () {
        for (let n = 0; n < 3; n++) {
          yield encoder.encode(`${n}\n`);
          await sleep(20);
        }
      })();
    };
    const res = await toFetchHandler(app, { shutdownSignal: controller.signal })(new globalThis.Request('http://example.com/feed'));
    controller.abort();
    expect(await res.text()).toBe('0\n1\n2\n');
  });

  it('gives the app req.shutdownSignal only when given one, and refuses a value that is no AbortSignal', async () => {
    const seen: Array<AbortSignal | undefined> = [];
    const app = Request.application((req) => {
      seen.push(req.shutdownSignal);
      return 'ok';
    });
    const controller = new AbortController();
    await toFetchHandler(app)(new globalThis.Request('http://example.com/'));
    await toFetchHandler(app, { shutdownSignal: controller.signal })(new globalThis.Request('http://example.com/'));
    expect(seen).toEqual([undefined, controller.signal]);
    expect(() => toFetchHandler(app, { shutdownSignal: {} as never })).toThrow(/shutdownSignal must be an AbortSignal/);
  });
});
