/**
 * `tsgi.signal` (`req.signal`) under `toFetchHandler(app, { shutdownSignal })` when the
 * shutdown ends an event stream, plain or coded (`compress`), as under `serve()`
 * (test/node-shutdown-signal.test.ts) and the `TestClient`
 * (test/testing-shutdown-signal.test.ts): the signal aborts then, with the reason `serve()`
 * gives, so a quiet source that waits on it alone stops at once and its `finally` runs; a
 * client that leaves still aborts it with the runtime's own reason. In-process, with a fetch
 * `Request` (test/runtimes/fetch-shutdown-signal.test.ts runs it on Bun, Deno and workerd).
 */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { compress } from 'tsgi/middleware';
import { toFetchHandler } from 'tsgi/fetch';
import { expectClosedEarly, expectShutdown, lateSignalReader, quietSource, rawSleepingSource, rawStreamSource } from './shutdown-signal-helpers.ts';
import { deferred, encoder, errorLog, sleep } from './node-helpers.ts';
import { serveFetch } from './fetch-helpers.ts';

/** Well under a test's timeout: what "at once" allows. */
const AT_ONCE = 1000;

/** `promise`, or `'hung'` if it has not settled after {@link AT_ONCE}. */
function atOnce<T>(promise: Promise<T>): Promise<T | 'hung'> {
  return Promise.race([promise, new Promise<'hung'>((resolve) => setTimeout(resolve, AT_ONCE, 'hung'))]);
}

const EVENTS = 'http://example.com/events';

describe("req.signal when toFetchHandler's shutdownSignal ends an event stream", () => {
  it('aborts, saying the server shuts down, so a source waiting on it alone stops at once', async () => {
    const { app, reason, cleaned, waiting } = quietSource('text/event-stream');
    const stopping = new AbortController();
    const log = errorLog();
    const res = await toFetchHandler(app, { shutdownSignal: stopping.signal, log })(new globalThis.Request(EVENTS));
    const text = res.text();
    await waiting;
    stopping.abort();
    expect(await atOnce(text)).toBe('data: one\n\n');
    expect(await atOnce(cleaned)).toBeUndefined();
    expectShutdown(await reason);
    await sleep(20);
    expect(log.text).toBe('');
  });

  it('aborts for a stream under compress too, which ends it with its coding finished, so its finally runs', async () => {
    const { app, reason, cleaned, waiting } = quietSource('text/event-stream');
    const stopping = new AbortController();
    const log = errorLog();
    const handler = toFetchHandler(compress(app), { shutdownSignal: stopping.signal, log });
    const res = await handler(new globalThis.Request(EVENTS, { headers: { 'Accept-Encoding': 'gzip' } }));
    expect(res.headers.get('content-encoding')).toBe('gzip');
    const body = res.arrayBuffer();
    await waiting;
    stopping.abort();
    const bytes = await atOnce(body);
    expect(bytes !== 'hung' && gunzipSync(new Uint8Array(bytes)).toString()).toBe('data: one\n\n');
    expect(await atOnce(cleaned)).toBeUndefined();
    expectShutdown(await reason);
    await sleep(20);
    expect(log.text).toBe('');
  });

  it('aborts for a stream ended before its first event (an empty 200), and logs nothing of a wait that rejects with its reason', async () => {
    const stopping = new AbortController();
    const log = errorLog();
    const reason = deferred<unknown>();
    const waiting = deferred();
    const app: App = (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
      return (async function* () {
        const signal = environ['tsgi.signal']!;
        await new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          waiting.resolve();
        }).catch((error: unknown) => {
          reason.resolve(error);
          throw error;
        });
        yield encoder.encode('data: never\n\n');
      })();
    };
    const answer = toFetchHandler(app, { shutdownSignal: stopping.signal, log })(new globalThis.Request(EVENTS));
    await waiting.promise;
    stopping.abort();
    const res = await atOnce(answer);
    expect(res !== 'hung' && [res.status, await res.text()]).toEqual([200, '']);
    expectShutdown(await atOnce(reason.promise));
    await sleep(20);
    expect(log.text).toBe('');
  });

  it('is aborted already when the source reads it only after the stream was ended', async () => {
    const { app, expectAbortedLate } = lateSignalReader();
    const stopping = new AbortController();
    const res = await toFetchHandler(app, { shutdownSignal: stopping.signal })(new globalThis.Request(EVENTS));
    stopping.abort();
    expect(await res.text()).toBe('data: one\n\n');
    await expectAbortedLate();
  });

  it("still has the client's reason when the client leaves, and leaves other streams' signal alone at the shutdown", async () => {
    const client = new AbortController();
    const stopping = new AbortController();
    const { app, reason, cleaned, waiting } = quietSource('application/octet-stream');
    const res = await toFetchHandler(app, { shutdownSignal: stopping.signal })(new globalThis.Request('http://example.com/download', { signal: client.signal }));
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('one');
    await waiting;
    stopping.abort(); // not an event stream: the shutdown leaves it to run
    await sleep(20);
    const left = new DOMException('client left', 'AbortError');
    client.abort(left);
    await reader.cancel(left);
    await atOnce(cleaned);
    expect(await reason).toBe(left);
  });

  it('is the request signal itself without a shutdownSignal', async () => {
    let seen: AbortSignal | undefined;
    const app: App = (environ, startResponse) => {
      seen = environ['tsgi.signal'];
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [encoder.encode('ok')];
    };
    const request = new globalThis.Request('http://example.com/');
    await toFetchHandler(app)(request);
    expect(seen).toBe(request.signal);
  });
});

describe('req.signal when toFetchHandler does not send the rest of a streamed body (a HEAD answered with the GET fields)', () => {
  it('aborts, saying the body was closed before its end, so a source waiting on it alone stops at once, as under serve()', async () => {
    const { app, reason, cleaned } = rawStreamSource();
    const log = errorLog();
    const res = await toFetchHandler(app, { log })(new globalThis.Request('http://example.com/', { method: 'HEAD' }));
    expect(res.status).toBe(200);
    expect(await atOnce(cleaned)).toBeUndefined();
    expectClosedEarly(await reason);
    await sleep(20);
    expect(log.text).toBe('');
  });

  it("aborts for a raw app's 204 or 304 with a streamed body without a shutdownSignal, so its source stops at once, over a socket", async () => {
    for (const status of ['204 No Content', '304 Not Modified']) {
      const { app, reason, cleaned } = rawStreamSource(undefined, status);
      const log = errorLog();
      const server = await serveFetch(toFetchHandler(app, { log }));
      try {
        const res = await fetch(`${server.url}/`);
        expect(res.status).toBe(Number(status.slice(0, 3)));
        expect(await res.text()).toBe('');
        expect(await atOnce(cleaned), status).toBeUndefined();
        expectClosedEarly(await reason);
        await sleep(20);
        expect(log.text).toBe('');
      } finally {
        await server.close();
      }
    }
  });

  it('logs nothing for a source that stops by throwing the abort (a sleep given the signal), over a socket', async () => {
    const { app, cleaned } = rawSleepingSource();
    const log = errorLog();
    const server = await serveFetch(toFetchHandler(app, { log }));
    try {
      const res = await fetch(`${server.url}/`, { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(await atOnce(cleaned)).toBeUndefined();
      await sleep(20);
      expect(log.text).toBe('');
    } finally {
      await server.close();
    }
  });
});
