/**
 * What test/node-shutdown-signal.test.ts (under `serve()`) and
 * test/testing-shutdown-signal.test.ts (under the `TestClient`) share: a quiet streamed source
 * that waits on `req.signal` alone, and the checks of the reason the signal aborts with.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { deferred, encoder } from './node-helpers.ts';

/** Resolves with `signal`'s reason once it aborts. */
export function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });
}

/**
 * A quiet streamed source: it sends one chunk, then waits for its next one or the abort of
 * `req.signal` alone (not `req.shutdownSignal`). Records the signal's reason and its `finally`.
 */
export function quietSource(contentType: string) {
  const reason = deferred<unknown>();
  const cleaned = deferred();
  const waiting = deferred();
  const app = Request.application((req) =>
    new Response(
      (async function* () {
        try {
          yield encoder.encode(contentType === 'text/event-stream' ? 'data: one\n\n' : 'one');
          waiting.resolve();
          reason.resolve(await aborted(req.signal)); // the next event never comes
        } finally {
          cleaned.resolve();
        }
      })(),
      { contentType },
    ),
  );
  return { app, reason: reason.promise, cleaned: cleaned.promise, waiting: waiting.promise };
}

/** Expects `reason` to be the server's shutdown: an `AbortError` saying so. */
export function expectShutdown(reason: unknown): void {
  expect(reason).toBeInstanceOf(DOMException);
  expect((reason as DOMException).name).toBe('AbortError');
  expect((reason as DOMException).message).toBe('server shutting down');
}

/**
 * A raw app answering `status` (default `200 OK`) with a streamed body (a `Response` answers
 * HEAD without starting its body): one chunk, then `wait` on `tsgi.signal` (by default until it
 * aborts; a `sleep` given the signal stops by throwing its abort instead). Records what the
 * wait resolved to (the signal's reason) and its `finally`.
 */
export function rawStreamSource(wait: (signal: AbortSignal) => Promise<unknown> = aborted, status = '200 OK') {
  const reason = deferred<unknown>();
  const cleaned = deferred();
  const app: App = (environ, startResponse) => {
    startResponse(status, [['Content-Type', 'application/octet-stream']]);
    return (async function* () {
      try {
        yield encoder.encode('one');
        reason.resolve(await wait(environ['tsgi.signal']!));
      } finally {
        cleaned.resolve();
      }
    })();
  };
  return { app, reason: reason.promise, cleaned: cleaned.promise };
}

/**
 * A raw app answering an event stream of one event that reads `tsgi.signal` only once the test
 * opens `gate` (after the stream was ended): `signal` is what it read, and `expectAbortedLate`
 * opens the gate and expects that signal aborted by the shutdown.
 */
export function lateSignalReader() {
  const gate = deferred();
  const read = deferred<AbortSignal>();
  const app: App = (environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
    return (async function* () {
      yield encoder.encode('data: one\n\n');
      await gate.promise;
      read.resolve(environ['tsgi.signal']!);
    })();
  };
  const expectAbortedLate = async () => {
    gate.resolve();
    const late = await read.promise;
    expect(late.aborted).toBe(true);
    expectShutdown(late.reason);
  };
  return { app, expectAbortedLate };
}

/** Expects `reason` to be the abort of a body the server stopped reading before its end. */
export function expectClosedEarly(reason: unknown): void {
  expect(reason).toBeInstanceOf(DOMException);
  expect((reason as DOMException).name).toBe('AbortError');
  expect((reason as DOMException).message).toBe('response body closed before its end');
}

/** {@link rawStreamSource} whose source stops by throwing the abort: a `sleep` given `tsgi.signal`. */
export function rawSleepingSource() {
  return rawStreamSource((signal) => sleep(60_000, undefined, { signal }));
}
