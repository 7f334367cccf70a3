/**
 * The state of one exchange that sending a response reads and sets, as an interface of its own:
 * `head.ts` and `pump.ts` work on it without importing `exchange.ts`, which imports them.
 *
 * @module
 */
import type { AsyncResource } from 'node:async_hooks';
import type { ServerResponse } from 'node:http';
import type { Environ } from '../../gateway/types.ts';
import type { ShutdownWatch } from '../../gateway/shutdown.ts';

/** State shared by the handlers of one server and its `close()`. */
export interface ServerState {
  /** Set by `close()`: responses then carry `Connection: close`. */
  closing: boolean;
  /** Requests in flight: from their head until their answer is sent or their client gone. */
  inFlight: number;
  /** Most requests in flight (`maxConcurrentRequests`); past it `503`. 0: no limit. */
  readonly maxInFlight: number;
  /**
   * The streamed bodies being sent, each until it ended or, when its client left or was cut,
   * until its `return()` settled: `close()` waits for them, so the `finally` blocks of the
   * bodies it cut have run when it resolves.
   */
  readonly pumping: Set<Promise<void>>;
  /**
   * The apps called whose promise has not settled yet (a request the app still works on):
   * `close()` waits for them too, once it has cut their connections, so an app that heeds
   * `tsgi.signal` has ended, and its access log line is written, when it resolves.
   */
  answering: number;
  /**
   * The work handed over by `tsgi.wait_until` (`res.callOnClose`) not yet settled: `close()`
   * waits for it once the connections are closed, until its timeout.
   */
  readonly waiting: Set<Promise<unknown>>;
  /**
   * The connections handed to `serve()`'s `upgrade` handler (WebSockets), each until its
   * socket's `'close'` event, `onUpgradeClosed` told: `close()` waits for them, so their log
   * lines are written when it resolves (Node's server closes when the last socket is
   * destroyed, a turn of the event loop before the socket's `'close'`).
   */
  readonly upgraded: Set<Promise<void>>;
  /** Set by `close()` while it waits for `answering` to reach 0; called then. */
  onAnswered: (() => void) | undefined;
  /** Aborted by the first `close()`: `tsgi.shutdown_signal`, and the end of event streams (see `pump`). */
  readonly shutdown: AbortController;
}

/** What `sendHead` and `pump` use of an exchange; implemented by `Exchange`. */
export interface ExchangeState {
  /** The Node response being written. */
  readonly res: ServerResponse;
  /** The request's environ (`REQUEST_METHOD` decides HEAD; `tsgi.errors` gets log lines). */
  readonly environ: Environ;
  /** The server's state (its `closing` flag), absent for a handler on someone else's server. */
  readonly state: ServerState | undefined;
  /**
   * The server's graceful shutdown (the `shutdownSignal` option): a `text/event-stream` body
   * being sent ends when it begins (see `pump`).
   */
  readonly shutdown: ShutdownWatch | undefined;
  /** True on an HTTP/2 stream: no reason phrase, no connection fields, errors reset the stream. */
  readonly http2: boolean;
  /** The status line given to `startResponse`, `undefined` before it is called. */
  readonly status: string | undefined;
  /** The header fields given to `startResponse`, `undefined` before it is called. */
  readonly headers: Array<[string, string]> | undefined;
  /** Set by `sendHead`: the response must carry no body (HEAD, 204, 304). */
  noBody: boolean;
  /** Set by `sendHead`: the body ends only when the connection does (HTTP/1.0, no length). */
  closeDelimited: boolean;
  /**
   * Set by `sendHead` on HTTP/2 for a streamed body whose length the app declared: the bytes
   * it must add up to (Node checks a declared length on HTTP/1.1 only); -1 otherwise.
   */
  declaredStreamLength: number;
  /** Milliseconds a write may wait for the client before the connection is cut (0: never). */
  readonly sendTimeout: number;
  /** Deals with a request body still arriving, once, before the head goes out. */
  checkUnreadBody(): void;
  /** True when the response is gone before the head was written, which then never comes (see `Exchange`). */
  headGone(): boolean;
  /** Writes an error to `tsgi.errors` with the request line. */
  log(error: unknown): void;
  /**
   * The request's async context (an `AsyncLocalStorage` store set around the server's
   * `request` event: OpenTelemetry's span), taken at the first call, for work the connection's
   * events run (`pump` closes the body at the response's `close`).
   */
  requestContext(): AsyncResource;
  /**
   * An app error: logged; a 500 before the headers are out; after, the connection is cut.
   * `held`: the error is the body's, before the head the app gave was written (its opening, its
   * first step or the second one the head waited for, see `pump`): the server's answer keeps
   * that head's fields that are no representation's (`heldFields`).
   */
  fail(error: unknown, held?: boolean): void;
}

/**
 * The `tsgi.wait_until` of a server: the promise is kept in `state.waiting` until it settles,
 * for `close()` to wait for (its rejection is the caller's to report: it is only observed here).
 */
export function waitUntilOf(state: ServerState): (promise: Promise<unknown>) => void {
  return (promise) => {
    state.waiting.add(promise);
    const forget = () => void state.waiting.delete(promise);
    promise.then(forget, forget);
  };
}
