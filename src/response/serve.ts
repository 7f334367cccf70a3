/**
 * Serving a `Response` as a gateway app (WebOb's `response(environ, start_response)`).
 *
 * @module
 */
import type { App, Body, Environ, StartResponse } from '../gateway/types.ts';
import { discardBody } from '../gateway/body.ts';
import { hasNoContent } from '../gateway/status.ts';
import type { HeaderList } from '../http/header-list.ts';
import { originDates } from '../http/origin-dates.ts';
import { servePlanned } from './conditional.ts';
import { TAKE_STREAM } from './body.ts';
import { type CloseCalls, runCloseCalls, withCloseCalls } from '../gateway/close-calls.ts';

/**
 * @internal Where a response keeps the functions given to `callOnClose` (moved to the copy
 * `req.getResponse()` hands up, see `Response[COPY]`). Not exported from the package.
 */
export const CLOSE_CALLS: unique symbol = Symbol('tsgi.response_close_calls');

/** A `Response` as a gateway app (installed on it; see `descriptors.ts`). */
export abstract class ResponseServing {
  declare readonly headers: HeaderList;
  declare conditionalResponse: boolean;
  abstract get status(): string;
  abstract get statusCode(): number;
  abstract get body(): Uint8Array | Body;
  abstract isStreamed(): boolean;
  abstract [TAKE_STREAM](): Body;
  abstract get contentLength(): number | null;
  abstract set contentLength(value: number | null);
  abstract get contentType(): string | null;
  abstract set contentType(value: string | null);
  declare [CLOSE_CALLS]: CloseCalls | undefined;

  /**
   * Runs `fn` once this response has been sent (Werkzeug's `Response.call_on_close`, the work
   * PEP 3333's `close()` does after the last byte): answer a webhook `202` at once and do the
   * work after. Functions run in the order given, each awaited before the next, on a later
   * turn of the event loop than the one the server wrote the body's end in; also when the
   * body failed, the client left before the end, or nothing was sent (HEAD, 204, 304, a head
   * the layer above refused). They run
   * each time the response is served, and only when it is (through `respond()`, `toApp()`, or
   * returned from a `Request.application` handler, alone or under middleware), not when it is
   * read or converted (`text()`, `toFetch()`); a response a layer got from `req.getResponse()`
   * and read or dropped instead of sending runs them when the request ends; one it got outside
   * any `Request.application` runs them when read or converted, if not served (once). They stay on the
   * response: one kept at module level runs every function added to it at each serve (added
   * per request, they accumulate), as Werkzeug's do.
   *
   * What a function throws or rejects with is logged to `tsgi.errors` (the server's `log`),
   * as `[tsgi] POST /hook HTTP/1.1 (callOnClose): …` (with ` request_id=…` before the colon
   * under `requestId`), and the next one still runs; the server
   * keeps serving. `serve()`'s graceful `close()` (so `tsgi serve` on SIGTERM) waits for work
   * still running, until its `timeout`; the `TestClient`'s call settles once the work has, and
   * fails on what it logged; on a Worker it goes to `ctx.waitUntil`. Under `toNodeHandler`, and
   * `toFetchHandler` on Bun or Deno, the work runs but nothing waits for it at shutdown (see
   * `tsgi.wait_until`, docs/spec.md §2.7). The request's uploads (`req.files()`) stay on disk
   * until the work is done.
   *
   * @param fn - the work; may return a promise.
   * @returns `fn`, so it can be used as a decorator as in Werkzeug.
   * @throws TypeError when `fn` is not a function.
   */
  callOnClose<F extends () => unknown>(fn: F): F {
    if (typeof fn !== 'function') throw new TypeError('callOnClose: expected a function');
    const calls = (this[CLOSE_CALLS] ??= { fns: [], served: false });
    calls.fns.push(fn);
    calls.served = false;
    return fn;
  }

  /**
   * Serves this response as a gateway app (WebOb's `response(environ, start_response)`):
   * starts the response with this status and headers, and returns the body. A HEAD request
   * gets the headers and an empty body (a streamed body is closed unread). A status that
   * carries no content (1xx, 204, 304) is sent without `Content-Type`, and without a
   * `Content-Length` unless a 304 was given one that is not its empty body's (RFC 9110 §8.6),
   * its body closed unread, `conditionalResponse` or not. With `conditionalResponse`, the
   * preconditions (for GET and HEAD) and ranges (for GET) of any other status are evaluated
   * first (docs/conditional.md).
   * The response itself is not changed.
   *
   * A 205 Reset Content is sent with `Content-Length: 0`, no `Content-Type` and no body
   * whatever its body is (RFC 9110 §15.3.6: no content); `toFetch()` drops the body and
   * `Content-Type` alike, and leaves the length to the runtime (a fetch `Response` with a null
   * body).
   *
   * A body in memory, or a streamed array, can be served any number of times. A stream that
   * can be iterated once (a generator, a Node or web stream) is served once: serving it again,
   * or while it is being served, throws instead of sending it empty or in pieces.
   *
   * Functions given to {@link ResponseServing.callOnClose} run once the body returned is done.
   * When `startResponse` throws (the layer above refuses the head: a `lint` outside), a
   * streamed body is closed unread (PEP 3333's `close()`: nobody will get it) and those
   * functions run, then the error propagates.
   *
   * @throws TypeError for a one-shot stream already handed out (sent, read, or converted by
   *   `toFetch`); what `startResponse` throws.
   */
  respond(environ: Environ, startResponse: StartResponse): Body {
    const calls = this[CLOSE_CALLS];
    if (calls === undefined) return serveWithoutCalls(this, environ, startResponse);
    return serveWithCalls(this, calls, environ, startResponse);
  }

  /** This response as an {@link App} function. */
  toApp(): App {
    return (environ, startResponse) => this.respond(environ, startResponse);
  }

  /** A short description for logs: `<Response 200 OK text/plain 5 bytes>`. */
  toString(): string {
    const size = this.isStreamed() ? 'streamed' : `${(this.body as Uint8Array).byteLength} bytes`;
    return `<Response ${this.status} ${this.contentType ?? '-'} ${size}>`;
  }
}

/**
 * {@link ResponseServing.respond} for a response with `callOnClose` work: served, the work going
 * with the body returned. A function of its own: V8 allocates the context a closure captures as
 * the function starts, and a response without work (the common case) makes no closure.
 */
function serveWithCalls(res: ResponseServing, calls: CloseCalls, environ: Environ, startResponse: StartResponse): Body {
  const body = serveWithoutCalls(res, environ, startResponse, () => {
    // Refused: nothing is sent, and the work runs now, as for an answer without a body.
    calls.served = true;
    void runCloseCalls(calls.fns.slice(), environ);
  });
  calls.served = true;
  return withCloseCalls(body, calls.fns, environ);
}

/**
 * @internal What {@link ResponseServing.respond} does but for the close calls: for a layer that
 * serves a response to read it back, and hands the calls on to what it read. Not exported from
 * the package.
 *
 * When the layer above refuses the head (its `startResponse` throws: a `lint` outside), nobody
 * will get the body: a stream is closed (its `finally` runs, a file is let go), `refused` is
 * called, and the error is re-thrown.
 */
export function serveWithoutCalls(res: ResponseServing, environ: Environ, startResponse: StartResponse, refused?: () => void): Body {
  const streamed = res.isStreamed();
  const body = streamed ? res[TAKE_STREAM]() : res.body;
  try {
    return serveTaken(res, body, streamed, environ, startResponse);
  } catch (error) {
    if (streamed) discardBody(body);
    refused?.();
    throw error;
  }
}

/**
 * {@link serveWithoutCalls} once the body is taken. A streamed body is closed only once the head
 * is accepted (after `startResponse` returns), so a refusal closes it exactly once.
 */
function serveTaken(res: ResponseServing, body: Uint8Array | Body, streamed: boolean, environ: Environ, startResponse: StartResponse): Body {
  const code = res.statusCode;
  // A future Last-Modified sent as now, with a Date from this clock (RFC 9110 §8.8.2.1); the response keeps its own.
  const headers = originDates(res.headers);
  // First: a status without content has no representation for preconditions or ranges to apply to.
  if (hasNoContent(code)) {
    const fields = code === 205 ? resetContentFields(headers.list) : bodilessFields(headers.list, code, streamed ? -1 : (body as Uint8Array).byteLength);
    startResponse(res.status, fields);
    if (streamed) discardBody(body);
    return [];
  }
  if (res.conditionalResponse) {
    const length = streamed ? res.contentLength : (body as Uint8Array).byteLength;
    return servePlanned({ statusCode: code, status: res.status, headers, body, length }, environ, startResponse);
  }
  startResponse(res.status, headers.list);
  if (environ.REQUEST_METHOD === 'HEAD') {
    if (streamed) discardBody(body);
    return [];
  }
  if (streamed) return body as Body;
  return (body as Uint8Array).byteLength === 0 ? [] : [body as Uint8Array];
}

/**
 * @internal The fields of a response whose status carries no content: no `Content-Type`; no
 * `Content-Length` on 1xx and 204 (RFC 9110 §8.6: never), nor on a 304 when it is the length
 * of the empty body in memory (`bytes`; -1 for a stream).
 */
export function bodilessFields(fields: Array<[string, string]>, code: number, bytes: number): Array<[string, string]> {
  return fields.filter(([name, value]) => {
    const lower = name.toLowerCase();
    if (lower === 'content-type') return false;
    if (lower !== 'content-length') return true;
    return code === 304 && value !== String(bytes);
  });
}

/**
 * @internal The fields of a 205 Reset Content, which has no content (RFC 9110 §15.3.6): no
 * `Content-Type`, and `Content-Length: 0` in place of any other.
 */
export function resetContentFields(fields: Array<[string, string]>): Array<[string, string]> {
  const kept = fields.filter(([name]) => {
    const lower = name.toLowerCase();
    return lower !== 'content-type' && lower !== 'content-length';
  });
  kept.push(['Content-Length', '0']);
  return kept;
}
