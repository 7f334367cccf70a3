/**
 * The streamed answers `req.getResponse(app)` hands to a handler, closed when the request
 * ends if nobody sent them.
 *
 * PEP 3333 has whoever receives an iterable and discards it call its `close()`. A middleware
 * that gets a streamed `Response` from `getResponse` and then throws, or answers something
 * else, discards it without a word: WebOb leaves that to the author and CPython's reference
 * counting closes the generator; in JavaScript nothing ever would, and the app's `finally`
 * (its open file, its upstream socket, its database cursor) would never run.
 *
 * So `getResponse`, called inside a `Request.application` (whose outermost layer owns the
 * request's end, see cleanup.ts), keeps each streamed `Response` it hands out under
 * `environ['tsgi.inner_responses']`: a list made at the first one, so a request that streams
 * nothing through `getResponse` pays nothing. When the request ends, each one whose stream
 * was never taken (sent, read, copied up the chain or converted: see `TAKE_STREAM`) is closed,
 * as is each stream a new body set on it replaced before it was taken (`DROPPED_STREAMS`).
 *
 * A response holding `res.callOnClose` work is kept too, streamed or not: when the request
 * ends without it being served (a layer read it to rewrite it, or answered something else),
 * its work runs then (after its stream, if any, is closed), so the work is never lost.
 *
 * @module
 */
import { type Environ } from '../gateway/types.ts';
import { discardBody } from '../gateway/body.ts';
import { logRequestError } from '../gateway/log.ts';
import { DROPPED_STREAMS, type Response, UNSENT_STREAM } from '../response/response.ts';
import { TAKE_STREAM } from '../response/body.ts';
import { CLOSE_CALLS } from '../response/serve.ts';
import { runCloseCalls } from '../gateway/close-calls.ts';
import { noteCopy } from '../gateway/cleanup-owner.ts';

/** The environ key of the list of responses {@link keepInnerResponse} keeps. */
export const INNER_KEY = 'tsgi.inner_responses';

const CLOSED: Promise<void> = Promise.resolve();

/**
 * Keeps `res`, an answer `getResponse` hands to a handler, to be closed at the request's end
 * if nobody sends it; a response whose body is in memory and that holds no `callOnClose` work
 * is not kept. Answers `res`.
 */
export function keepInnerResponse(environ: Environ, res: Response): Response {
  if (!res.isStreamed() && res[CLOSE_CALLS] === undefined) return res;
  const kept = environ[INNER_KEY] as Response[] | undefined;
  if (kept === undefined) {
    environ[INNER_KEY] = [res];
    noteCopy(environ);
  } else kept.push(res);
  return res;
}

/**
 * Carries the inner responses kept on `environ` into `saved`, an earlier copy of it that is
 * about to be put back (a `cascade` between tries), so they are still closed at the request's
 * end.
 */
export function carryInnerResponses(environ: Environ, saved: Environ): void {
  const kept = environ[INNER_KEY];
  if (kept !== undefined) saved[INNER_KEY] = kept;
}

/**
 * True when inner responses kept on `environ` (see {@link keepInnerResponse}) still hold a
 * stream nobody took, so the request's end must close them. Those taken since (handed up the
 * chain, sent, read) are forgotten here: a stack of layers passing a stream up leaves nothing
 * to close, and its body is answered unwrapped. Without any kept, one property read.
 */
export function hasInnerResponses(environ: Environ): boolean {
  const kept = environ[INNER_KEY] as Response[] | undefined;
  if (kept === undefined) return false;
  let open = 0;
  for (const res of kept) if (res[UNSENT_STREAM]() !== null || res[DROPPED_STREAMS](false) !== undefined || unservedCalls(res)) kept[open++] = res;
  kept.length = open;
  // Not `delete`: deleting a key turns the environ into a slow dictionary-mode object.
  if (open === 0) environ[INNER_KEY] = undefined;
  return open > 0;
}

/**
 * Closes the stream of each inner response kept on `environ` that nobody took (a generator's
 * `return()` runs its `finally`, a Node stream is destroyed, a web `ReadableStream` is
 * cancelled), and forgets them all. The stream then counts as taken: serving that response
 * afterwards throws instead of sending a closed body. A response handed up the chain, sent or
 * read is not touched. The `callOnClose` work of each one not served then starts (see
 * close-calls.ts), once its stream, if any, is closed. What closing throws is logged to `environ['tsgi.errors']`, never
 * thrown.
 *
 * @returns a promise that settles once every stream's `return()` has; it never rejects.
 */
export function closeInnerResponses(environ: Environ): Promise<void> {
  const kept = environ[INNER_KEY] as Response[] | undefined;
  if (kept === undefined) return CLOSED;
  environ[INNER_KEY] = undefined;
  let closing: Array<Promise<void>> | undefined;
  for (const res of kept) {
    const calls = unservedCalls(res) ? res[CLOSE_CALLS] : undefined;
    if (calls !== undefined) calls.served = true;
    // The streams a body set on it replaced before anyone took them (`res.body = 'redacted'`).
    const dropped = res[DROPPED_STREAMS](true);
    if (dropped !== undefined) for (const stream of dropped) (closing ??= []).push(discardBody(stream, (error) => logCloseError(environ, error)));
    if (res[UNSENT_STREAM]() === null) {
      if (calls !== undefined) runCloseCalls([...calls.fns], environ);
      continue;
    }
    const stream = res[TAKE_STREAM]();
    const closed = discardBody(stream, (error) => logCloseError(environ, error));
    // Its work runs once its stream is closed, as when the client leaves a served one.
    (closing ??= []).push(calls === undefined ? closed : closed.then(() => void runCloseCalls([...calls.fns], environ)));
  }
  return closing === undefined ? CLOSED : Promise.all(closing).then(() => undefined);
}

/** True when `res` holds `callOnClose` work and was not served since (read, or dropped). */
function unservedCalls(res: Response): boolean {
  const calls = res[CLOSE_CALLS];
  return calls !== undefined && !calls.served;
}

/** Logs what closing an inner response's stream threw. */
function logCloseError(environ: Environ, error: unknown): void {
  const note = ' (closing an inner response nobody sent)';
  logRequestError(environ['tsgi.errors'], environ, note, error);
}
