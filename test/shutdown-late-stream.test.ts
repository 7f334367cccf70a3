/**
 * An event stream whose app answers once the graceful shutdown began: `close()` (or the
 * `shutdownSignal`) came while the app's promise was pending, after it called `startResponse`.
 * The stream still ends as a complete response (empty when no event came at once), instead of
 * being cut at the shutdown's timeout. Over real sockets: `serve()` on HTTP/1.1 and h2c, under
 * a layer that pulls the first chunk itself (`errors`), `toNodeHandler` and `toFetchHandler`.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { serve as honoServe } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { type App } from 'tsgi';
import { compress, errors } from 'tsgi/middleware';
import { toNodeHandler } from 'tsgi/node';
import { toFetchHandler } from 'tsgi/fetch';
import { TestClient } from 'tsgi/testing';
import { deferred, encoder, h2cGet, start } from './node-helpers.ts';

/**
 * An async app that calls `startResponse` with an event stream's fields, tells `entered`, and
 * answers its body only once `open` is called: one event at once (`events`) or none, then a
 * wait until `release` (a generator in a wait takes its `return()` only once the wait ends).
 * `cleaned` resolves once the body's `finally` ran.
 */
function lateStream(events: boolean) {
  const entered = deferred();
  const gate = deferred();
  const held = deferred();
  const cleaned = deferred();
  const app: App = async (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
    entered.resolve();
    await gate.promise;
    return (async function* () {
      try {
        if (events) yield encoder.encode('data: one\n\n');
        await held.promise; // no (further) event
      } finally {
        cleaned.resolve();
      }
    })();
  };
  return { app, entered: entered.promise, open: gate.resolve, release: held.resolve, cleaned: cleaned.promise };
}

/** GETs `url` over a fresh HTTP/1.1 connection: the status, the body, and whether the response completed. */
function get(url: string): Promise<{ status: number; text: string; complete: boolean }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, text, complete: res.complete }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** ms taken by `promise`. */
async function timed(promise: Promise<unknown>): Promise<number> {
  const begun = Date.now();
  await promise;
  return Date.now() - begun;
}

describe('an event stream whose app answers after close() began, under serve()', () => {
  for (const events of [false, true]) {
    const sent = events ? 'data: one\n\n' : '';
    it(`ends as a complete response over HTTP/1.1 (${events ? 'one event at once' : 'no event'})`, async () => {
      const { app, entered, open, release, cleaned } = lateStream(events);
      const server = await start(app);
      const answer = get(`${server.url}/events`);
      await entered;
      const closing = server.close({ timeout: 5000 });
      open();
      expect(await timed(answer)).toBeLessThan(3000);
      expect(await answer).toEqual({ status: 200, text: sent, complete: true });
      release();
      await closing;
      await cleaned;
      expect(server.log.text).toBe('');
    });
  }

  it('ends as a complete response under a layer that pulls the first chunk (errors)', async () => {
    const { app, entered, open, release, cleaned } = lateStream(false);
    const server = await start(errors(app));
    const answer = get(`${server.url}/events`);
    await entered;
    const closing = server.close({ timeout: 5000 });
    open();
    expect(await timed(answer)).toBeLessThan(3000);
    expect(await answer).toEqual({ status: 200, text: '', complete: true });
    release();
    await closing;
    await cleaned;
  });

  for (const events of [false, true]) {
    const expected = events ? { coding: 'gzip', text: 'data: one\n\n', complete: true } : { coding: undefined, text: '', complete: true };
    it(`ends as a complete response under compress (${events ? 'one event at once: sent, gzip' : 'no event: empty, so uncoded'})`, async () => {
      const { app, entered, open, release, cleaned } = lateStream(events);
      const server = await start(compress(app));
      const answer = new Promise<{ coding: unknown; text: string; complete: boolean }>((resolve, reject) => {
        http
          .get(`${server.url}/events`, { agent: false, headers: { 'accept-encoding': 'gzip' } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => {
              const raw = Buffer.concat(chunks);
              const text = res.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw).toString() : raw.toString();
              resolve({ coding: res.headers['content-encoding'], text, complete: res.complete });
            });
            res.on('error', reject);
          })
          .on('error', reject);
      });
      await entered;
      const closing = server.close({ timeout: 5000 });
      open();
      expect(await timed(answer)).toBeLessThan(3000);
      expect(await answer).toEqual(expected);
      release();
      await closing;
      await cleaned;
      expect(server.log.text).toBe('');
    });
  }

  it('ends as a complete stream over HTTP/2 (h2c)', async () => {
    const { app, entered, open, release, cleaned } = lateStream(false);
    const server = await start(app, { http2: 'h2c' });
    const { session, stream, text, status, ended } = h2cGet(server.url, '/events');
    try {
      await entered;
      const closing = server.close({ timeout: 5000 });
      open();
      expect(await timed(ended)).toBeLessThan(3000);
      expect(await status).toBe(200);
      expect(text()).toBe('');
      expect(stream.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
      release();
      await closing;
      await cleaned;
    } finally {
      session.close();
    }
  });
});

/**
 * A late event stream under a server `listen` starts with the app and a `shutdownSignal`: once
 * the signal aborted and the app answered, the response ends at once, complete and empty.
 */
async function endsUnderShutdownSignal(listen: (app: App, signal: AbortSignal) => Promise<http.Server>): Promise<void> {
  const { app, entered, open, release, cleaned } = lateStream(false);
  const controller = new AbortController();
  const server = await listen(app, controller.signal);
  try {
    const answer = get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/events`);
    await entered;
    controller.abort();
    open();
    expect(await timed(answer)).toBeLessThan(3000);
    expect(await answer).toEqual({ status: 200, text: '', complete: true });
    release();
    await cleaned;
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

describe('an event stream whose app answers after the shutdownSignal aborted', () => {
  it('ends as a complete response under toNodeHandler', async () => {
    await endsUnderShutdownSignal(async (app, shutdownSignal) => {
      const server = http.createServer(toNodeHandler(app, { shutdownSignal }));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return server;
    });
  });

  it('ends as a complete response under toFetchHandler', async () => {
    await endsUnderShutdownSignal(
      (app, shutdownSignal) =>
        new Promise<http.Server>((resolve) => {
          const started = honoServe({ fetch: toFetchHandler(app, { shutdownSignal }), hostname: '127.0.0.1', port: 0 }, () => resolve(started as http.Server));
        }),
    );
  });
});

describe('an event stream whose app answers after the shutdownSignal aborted, under the TestClient', () => {
  it('is answered empty, as the server answers it, not waited for', async () => {
    const { app, entered, open, release, cleaned } = lateStream(false);
    const controller = new AbortController();
    const answer = new TestClient(app, { shutdownSignal: controller.signal }).get('/events');
    await entered;
    controller.abort();
    open();
    const res = await answer;
    expect([res.statusCode, res.textBody]).toEqual([200, '']);
    release();
    await cleaned;
  });
});
