/**
 * Aborts: the reason a server gives `tsgi.signal` when the client leaves, and how an error
 * that only says "stopped as asked" is told from a failure.
 *
 * @module
 */

/**
 * The reason `tsgi.signal` is aborted with when the client goes away before the response is
 * complete: a `DOMException` named `AbortError` with the message `client disconnected`, what
 * `AbortController.abort()` gives by default and what a fetch runtime's `request.signal`
 * carries, so `error.name === 'AbortError'` checks hold whatever the server.
 */
export function clientDisconnected(): DOMException {
  return new DOMException('client disconnected', 'AbortError');
}

/**
 * The reason `tsgi.shutdown_signal` is aborted with when the server begins a graceful shutdown
 * (`close()`, `tsgi serve` on SIGTERM): a `DOMException` named `AbortError` with the message
 * `server shutting down`, so work that stops on it reads as stopped as asked ({@link isAbort}).
 * The Node adapter's `tsgi.signal` aborts with it too when the shutdown ends the answer: an
 * event stream it ends, a request it cuts at its timeout; the `TestClient`'s, for an event
 * stream its `shutdownSignal` ends.
 */
export function serverShuttingDown(): DOMException {
  return new DOMException('server shutting down', 'AbortError');
}

/**
 * The reason a web `ReadableStream` body is cancelled with when it is closed before its end
 * (the client left, a HEAD answered with the GET's fields, a layer that drops the answer): a
 * `DOMException` named `AbortError` with the message `response body closed before its end`,
 * so the stream's source tells the abort from a failure ({@link isAbort}); React's
 * `renderToReadableStream` hands it to `onError` for each boundary it abandons. The Node
 * adapter's `tsgi.signal` (and the `TestClient`'s) aborts with it when the server does not
 * send the rest of a streamed body (a HEAD answered with the GET's fields).
 */
export function bodyClosedEarly(): DOMException {
  return new DOMException('response body closed before its end', 'AbortError');
}

/**
 * True for an error that says work stopped on an abort signal: an `AbortError` (`fetch`,
 * undici, `timers/promises`, a signal's default reason, {@link clientDisconnected}) or a
 * `TimeoutError` (`AbortSignal.timeout`, the `timeout` middleware).
 */
export function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/**
 * `onError` for what is not an abort ({@link isAbort}): how a server hears of a step of a body
 * it ended itself and left untaken (an event stream at the shutdown, docs/spec.md §2.6), whose
 * `AbortError` is the body stopping on `tsgi.shutdown_signal` as asked, not an app error.
 */
export function unlessAbort(onError: (error: unknown) => void): (error: unknown) => void {
  return (error) => {
    if (!isAbort(error)) onError(error);
  };
}
