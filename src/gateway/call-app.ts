/**
 * Calling an app until its status is known ({@link callApp}), the first step of middleware
 * that decides on the status and headers (watching the body afterwards is `../body-watch.ts`).
 *
 * @module
 */
import { type App, type Body, type Environ, type StartResponse } from './types.ts';
import { type BodyIterator, closeBody, isAsyncIterable, isThenable, openBody } from './body.ts';
import { logRequestError } from './log.ts';
import { isAbort, unlessAbort } from './abort.ts';
import { eventStreamKind, shutdownEndKey } from './shutdown.ts';
import { neverStarted, startedTwice } from './start-errors.ts';
import { FirstStepFailure } from './first-step-failure.ts';
import { keepRelayed } from './relayed.ts';

/** An app's answer once its status is known: the first chunk has been produced, none sent. */
export interface StartedApp {
  /** The status line the app gave, as given (not validated). */
  status: string;
  /** The header pairs the app gave, as given (not validated). */
  headers: Array<[string, string]>;
  /** The whole body, the already-produced first chunk included; iterate it once. */
  body: Body;
  /**
   * Closes the body unread (calls the app's iterator `return()`); safe to call twice. A body that
   * ended (answered done, at its first step or while `body` was read) is not closed: it released
   * what it held itself (docs/spec.md §6: `return()` is for an early stop only). A body that was
   * streamed answers a promise that settles (never rejects) once the app's own `return()` has,
   * so its `finally` has run; await it before calling another app on the same environ.
   */
  close(): void | Promise<void>;
  /**
   * The step that produced the first chunk of a body that is no array, its value as produced
   * (not validated: a caller that vouches for the answer checks it, as it checks an array's
   * chunks); absent for an array and an empty body.
   */
  first?: IteratorYieldResult<Uint8Array> | undefined;
}

/**
 * Calls `app` and waits for its status: its body is opened and the first chunk pulled, so a
 * `startResponse` called lazily, during iteration, has run. Nothing is sent: the caller
 * decides what to do with the answer (forward it, replace it, drop it with `close()`).
 *
 * While the first chunk is pending, the server does not hold the body yet: when
 * `environ['tsgi.signal']` aborts then (the client left, a `timeout` above gave up), the app's
 * body is closed here at once (`return()`) and the answer's body is empty; so it is, for an
 * event stream (`text/event-stream` fields given before the body), when
 * `environ['tsgi.shutdown_signal']` aborts (the server's shutdown, docs/spec.md §2.6), or a turn
 * of the event loop after the app answered when it had aborted already (an event the body has
 * at once is answered then).
 *
 * The `startResponse` given to the app accepts a second call with `error` until `callApp`
 * returns; after that such a call re-throws `error` (PEP 3333: the headers are out).
 *
 * @param onCloseError - told what the body's `return()` throws when closed early (by `close()`,
 *   by whoever consumes `body` and calls its `return()`, or here, after a failure). Default:
 *   the error is logged to `environ['tsgi.errors']` as `[tsgi] GET /path HTTP/1.1 (closing the
 *   app's body): <stack>` (PEP 3333 has the server log what `close()` raises), never dropped.
 * @throws (rejects with) what the app throws before its first chunk, and `TypeError` when
 *   the body is not an iterable or the app never called `startResponse`; given up on before
 *   it called `startResponse` (`tsgi.signal` aborted while its first chunk was pending), the
 *   signal's reason when it is an `AbortError` or `TimeoutError` (else an `AbortError`): the
 *   app was stopped, not wrong, so `timeout`, `errors()` and the server do not log it.
 */
export function callApp(app: App, environ: Environ, onCloseError?: (error: unknown) => void): Promise<StartedApp>;
// The signature above is the public one. `keepHead` is {@link callAppKeepingHead}'s: the head
// is this function's own, so keeping it allocates nothing, and `callApp` gains no stack frame.
// No default value: a parameter that has one makes every call's suspended frame 40 bytes larger.
export async function callApp(app: App, environ: Environ, onCloseError?: (error: unknown) => void, keepHead?: boolean): Promise<StartedApp> {
  let status: string | undefined;
  let headers: Array<[string, string]> = [];
  let committed = false;
  const startResponse: StartResponse = (s, h, error) => {
    if (committed) {
      if (error !== undefined) throw error;
      throw new TypeError('startResponse was called again after the response started');
    }
    if (status !== undefined && error === undefined) throw startedTwice();
    status = s;
    headers = h;
  };
  const body = await app(environ, startResponse);
  if (Array.isArray(body) && status !== undefined) {
    committed = true;
    return { status, headers, body: body as Uint8Array[], close() {} };
  }
  // An event stream whose fields came first also stops waiting for its first event at the
  // server's shutdown (docs/spec.md §2.6): the server cannot end what it does not hold yet.
  const shutdown = status !== undefined && eventStreamKind(headers) !== undefined ? environ['tsgi.shutdown_signal'] : undefined;
  let pulled: PulledBody;
  try {
    pulled = await pullFirstChunk(body, environ, onCloseError, shutdown);
  } catch (error) {
    // The app answered and gave its head, which a layer passing the answer on sends with a body
    // failing as this one did; no head given (a lazy app whose first step threw), there is none.
    if (keepHead === true && status !== undefined) throw new FirstStepFailure(error, status, headers);
    throw error;
  }
  if (status === undefined) {
    void pulled.close();
    // Given up on before its head (the client left, a `timeout` above gave up): stopped, not wrong.
    if (pulled.abandoned === true) throw abortReason(environ['tsgi.signal']);
    throw neverStarted();
  }
  committed = true;
  return { status, headers, body: pulled.body, close: pulled.close, first: pulled.first };
}

/** {@link callApp} with its implementation's `keepHead`, which its public signature leaves out. */
const keepingHead = callApp as (app: App, environ: Environ, onCloseError: ((error: unknown) => void) | undefined, keepHead: true) => Promise<StartedApp>;

/**
 * @internal {@link callApp} for a layer that passes the app's answer on and must not be there
 * when its body fails at its first step (`compress`, `timeout`, `etag`, the body filters,
 * `cascade`, the `TestClient`): a body that fails at its opening or first step once the app
 * answered with it and gave its head rejects with a {@link FirstStepFailure} carrying that head
 * (the last `startResponse` call callApp accepted, unchecked) and the failure, which the layer's
 * `passingFirstStepFailure` answers as the app's answer (the head, then a body failing with the
 * same error), so the server answers as without the layer (its 500 or the exception's, the
 * held head's fields of no representation kept; docs/spec.md §7.4). Anything else rejects as
 * from `callApp`: an app that threw, or whose promise rejected, held no head. The head is the
 * one callApp keeps anyway: an answer that starts costs what it costs through `callApp`.
 */
export function callAppKeepingHead(app: App, environ: Environ, onCloseError?: (error: unknown) => void): Promise<StartedApp> {
  return keepingHead(app, environ, onCloseError, true);
}

/**
 * @internal Passes the head of `started` on through `startResponse` (the headers given, by
 * default the app's). When that throws (a layer above refuses the head: a `lint` outside the
 * middleware), the app's body, which nobody will get, is closed (`started.close()`, so its
 * `finally` blocks run and a file stream is let go) and the error is re-thrown.
 */
export function passHead(started: StartedApp, startResponse: StartResponse, headers: Array<[string, string]> = started.headers): void {
  try {
    startResponse(started.status, keepRelayed(started.headers, headers));
  } catch (error) {
    started.close();
    throw error;
  }
}

/** What {@link pullFirstChunk} answers. */
interface PulledBody {
  /** The body, its first chunk (pulled already) included; empty when it ended or was given up. */
  body: Body;
  /** Closes the app's body unread; settles once its own `return()` has. */
  close(): Promise<void>;
  /** True when the pull was given up (`tsgi.signal`, or the shutdown for an event stream). */
  abandoned?: true;
  /** The step that produced the first chunk, when there is one. */
  first?: IteratorYieldResult<Uint8Array>;
}

/**
 * @internal Opens `body` and pulls its first chunk, so that an app calling `startResponse`
 * lazily (from its generator) has called it; answers a body that yields that chunk and then
 * the rest (sync when `body` was), and a `close()` that closes the app's iterator unread. An
 * empty body answers `[]`.
 *
 * While the first chunk is pending the server does not hold the body yet and cannot close it:
 * when `environ['tsgi.signal']` aborts then (the client left, a `timeout` above gave up), the
 * app's iterator is closed here at once (`return()`), and the pull answers an empty body,
 * whatever that `next()` then settles with; should it fail with anything but an abort (the
 * body stopping as asked), the failure goes to `onCloseError`, as one of the close would.
 *
 * @param onCloseError - as {@link callApp}'s.
 * @param shutdown - a second signal that abandons the pull as `tsgi.signal` does (an event
 *   stream's `tsgi.shutdown_signal`); aborted already, it abandons a pull still pending after a
 *   turn of the event loop.
 * @returns the body and its `close()`, and the step of its first chunk (`first`) when there is
 *   one; `abandoned: true` when the pull was given up (the body is then empty).
 * @throws (rejects with) what pulling the first chunk throws, the app's iterator closed first;
 *   TypeError when `body` is not an iterable.
 */
export async function pullFirstChunk(
  body: Body,
  environ: Environ,
  onCloseError?: (error: unknown) => void,
  shutdown?: AbortSignal,
): Promise<PulledBody> {
  const iterator = openBody(body);
  let first: IteratorResult<Uint8Array>;
  let abandoned: Promise<void> | undefined;
  let signal: AbortSignal | undefined;
  /** The end of an event stream pulled once the shutdown had begun. */
  let late: ReturnType<typeof setTimeout> | undefined;
  /** Ends the wait for the first step once abandoned: a generator stuck in a wait never takes its `return()`. */
  let giveUp: (() => void) | undefined;
  const abandon = () => {
    abandoned ??= closeBody(iterator, onCloseError ?? closeLogger(environ));
    giveUp?.();
  };
  /** The shutdown's end of an event stream with no event yet: answered whole, and empty. */
  const endAtShutdown = () => {
    if (abandoned === undefined) shutdownEndKey.set(environ, true);
    abandon();
  };
  try {
    const pending = iterator.next();
    // Only a step still to come can be waited on after the client left.
    if (isThenable<IteratorResult<Uint8Array>>(pending)) {
      signal = environ['tsgi.signal'];
      if (signal?.aborted === true) {
        abandon();
        pending.then(undefined, () => undefined); // settles unseen: the close is ours
      } else if (signal !== undefined || shutdown !== undefined) {
        signal?.addEventListener('abort', abandon, { once: true });
        // Begun already (the app answered after it): as the server, a turn of the event loop
        // for an event the body has at once, then the end (an aborted signal fires no more).
        if (shutdown?.aborted === true) late = setTimeout(endAtShutdown, 0);
        else shutdown?.addEventListener('abort', endAtShutdown, { once: true });
        // One promise, not a race with a second one: no array, no second promise per request.
        first = await new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
          giveUp = () => resolve(DONE);
          pending.then(resolve, (error: unknown) => {
            // Given up already: a failure of the step is still told, but for an abort (the body
            // stopping as asked, on the client leaving or the shutdown).
            if (abandoned === undefined) reject(error);
            else unlessAbort(onCloseError ?? closeLogger(environ))(error);
          });
        });
      }
    }
    if (abandoned === undefined) first ??= await pending;
  } catch (error) {
    if (abandoned !== undefined) return { body: [], close: () => abandoned!, abandoned: true };
    closeBody(iterator, onCloseError ?? closeLogger(environ));
    throw error;
  } finally {
    signal?.removeEventListener('abort', abandon);
    shutdown?.removeEventListener('abort', endAtShutdown);
    if (late !== undefined) clearTimeout(late);
  }
  if (abandoned !== undefined) return { body: [], close: () => abandoned!, abandoned: true };
  first = first!;
  // Ended, not stopped early: its `return()` is not called (spec §6; it released what it held).
  if (first.done) return { body: [], close: () => ENDED };
  return replayFirst(first, iterator, !isAsyncIterable(body), environ, onCloseError);
}

/** What `signal` aborted with when it is an abort ({@link isAbort}), else an `AbortError`: what a given-up pull throws. */
function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return isAbort(reason) ? (reason as Error) : new DOMException('the app was given up on before its head', 'AbortError');
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
/** What closing a body that ended answers: there is nothing to close. */
const ENDED: Promise<void> = Promise.resolve();

/**
 * The default `onCloseError` of {@link callApp}, and accessLog's: logs what the app's body's
 * `return()` threw to `environ['tsgi.errors']` (`[tsgi] GET /x HTTP/1.1 (closing the app's
 * body): <stack>`). Made only when a body is closed, so an answer nobody closes early costs no
 * closure.
 */
export function closeLogger(environ: Environ): (error: unknown) => void {
  return (error) =>
    logRequestError(environ['tsgi.errors'], environ, " (closing the app's body)", error);
}

/**
 * The `closeError` hook (see `wrapBody`) of a layer that wraps the app's body on its way to the
 * server, whose `return()` then settles without the app's failure: {@link closeLogger}'s log,
 * but for an abort (a body stopping on `tsgi.signal` as asked, docs/spec.md §7.5), so that what
 * the body's `return()` throws is logged once, as the server logs it for a bare body (spec §6).
 * It is `unlessAbort(closeLogger(environ))` written out: made for every wrapped body, it costs
 * one closure a request, and the logger's own only when something is logged.
 */
export function closeErrorLogger(environ: Environ): (error: unknown) => void {
  return (error) => {
    if (!isAbort(error)) closeLogger(environ)(error);
  };
}

/** A body that yields the chunk of `first` (the step that pulled it), then the rest of `iterator`; sync when the app's body was. */
function replayFirst(
  first: IteratorYieldResult<Uint8Array>,
  iterator: BodyIterator,
  sync: boolean,
  environ: Environ,
  onCloseError?: (error: unknown) => void,
): { body: Body; close(): Promise<void>; first: IteratorYieldResult<Uint8Array> } {
  let pendingFirst = true;
  let closed: Promise<void> | undefined;
  /** True once the app's body answered done: it ended, and is not closed (spec §6). */
  let ended = false;
  // The promise settles when the app's own `return()` has: a server that waits for it (a
  // Worker's `waitUntil`) waits for the app's `finally`, not just for this wrapper.
  const close = (): Promise<void> => (closed ??= ended ? ENDED : closeBody(iterator, onCloseError ?? closeLogger(environ)));
  const step = (): IteratorResult<Uint8Array> | Promise<IteratorResult<Uint8Array>> => {
    if (closed !== undefined || ended) return DONE;
    if (pendingFirst) {
      pendingFirst = false;
      return first;
    }
    return iterator.next();
  };
  const syncStep = (): IteratorResult<Uint8Array> => {
    const next = step() as IteratorResult<Uint8Array>;
    if (next.done === true) ended = true;
    return next;
  };
  const asyncStep = async (): Promise<IteratorResult<Uint8Array>> => {
    const next = await step();
    if (next.done === true) ended = true;
    return next;
  };
  const it = sync
    ? { next: syncStep, return: () => (close(), DONE), [Symbol.iterator]() { return this; } }
    : { next: asyncStep, return: async () => (await close(), DONE), [Symbol.asyncIterator]() { return this; } };
  return { body: it as Body, close, first };
}
