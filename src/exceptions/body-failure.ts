/**
 * The rule by which an app's error that wraps the failure of its request body read answers as
 * that read would have (its 413 or 400), not as the app's own failure: shared by
 * `Request.application`, `errors` and the servers (through `escapedAnswer`).
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { FailedInput } from '../gateway/input.ts';
import { causeChain } from '../gateway/cause-chain.ts';
import { isAbort } from '../gateway/abort.ts';
import { type HTTPException, isHTTPException } from './base.ts';

/**
 * How many `cause` links {@link bodyFailureBehind} follows: the wrappers of a sink (`fetch`'s
 * `TypeError: fetch failed`, `stream.pipeline`, an SDK's upload, the app's own `new Error('…', {
 * cause })`) nest a few levels, never more; the bound also ends a chain that loops.
 */
const MAX_CAUSE_DEPTH = 8;

/**
 * The client error (4xx) of the request body's read that `error` wraps, else `null`.
 *
 * A reader whose read of the body failed (`req.bytes()`, `form()`, `stream({ maxBodySize })`,
 * a `req.parts()` file part's body: past a limit, malformed, broken off by a client that left)
 * leaves `environ['tsgi.input']` a `FailedInput` of its `HTTPException` (see `spoilInput`).
 * When the app then fails with an error that is no `HTTPException` but carries that very
 * exception in its `cause` chain (compared by identity, at most {@link MAX_CAUSE_DEPTH} links,
 * so a chain that loops ends), the client caused the failure: the exception is the answer, as
 * it would have been had the app let the reader's error through; so it is when the error, or
 * a cause, is an `AggregateError` that holds the exception among its `errors`, its other
 * `errors` aborts (Node's `stream.pipeline` with a `signal`: see {@link holds}). Any other
 * error, one whose causes hold some other `HTTPException` included, or an aggregate that holds
 * an app error next to the exception, is the app's own (a 500, logged).
 *
 * Never throws (a `cause` getter that throws ends the search).
 */
export function bodyFailureBehind(environ: Environ, error: unknown): HTTPException | null {
  if (isHTTPException(error)) return null;
  const input: unknown = environ['tsgi.input'];
  if (!(input instanceof FailedInput)) return null;
  const failure = input.error;
  if (!isHTTPException(failure) || failure.code >= 500) return null;
  return holds(error, failure, MAX_CAUSE_DEPTH, { left: MAX_LINKS }) ? failure : null;
}

/**
 * How many `errors` an `AggregateError` {@link holds} looks into may have: Node's
 * `stream.pipeline` aggregates two (the failure and its own `AbortError`), `Promise.any` over
 * reads a few; one with more is not searched.
 */
const MAX_AGGREGATED = 8;

/** How many errors {@link holds} compares in all: aggregates nested in aggregates stay cheap. */
const MAX_LINKS = 64;

/**
 * True when `failure` is `error`, one of its causes (at most `depth` links), or, for a link
 * that is an `AggregateError`, held by one of its `errors` or what they wrap (one level of
 * `depth` less) while each of its other `errors` is an abort ({@link isPipelineStop}):
 * `stream.pipeline(req.stream(), transform, file, { signal: req.signal })` rejects with
 * `AggregateError([failure, AbortError])` when the read fails as the signal aborts (Node's
 * `aggregateTwoErrors`). An aggregate that also holds another error (the file's `ENOSPC`, a
 * transform's `TypeError`, a failed `Promise.any` member) is the app's failure, and so is one
 * of more than {@link MAX_AGGREGATED} errors: the app's error is logged, not hidden behind the
 * client's 4xx. At most {@link MAX_LINKS} errors are compared in all (`budget`). Never throws.
 */
function holds(error: unknown, failure: unknown, depth: number, budget: { left: number }): boolean {
  for (const link of causeChain(error, depth)) {
    if (budget.left-- <= 0) return false;
    if (link === failure) return true;
    if (depth > 0 && aggregateHolds(link, failure, depth - 1, budget)) return true;
  }
  return false;
}

/** {@link holds} for the `errors` of `link` when it is an `AggregateError`; false for any other value. Never throws. */
function aggregateHolds(link: unknown, failure: unknown, depth: number, budget: { left: number }): boolean {
  try {
    if (!(link instanceof AggregateError)) return false;
    const inner: unknown = link.errors;
    if (!Array.isArray(inner) || inner.length > MAX_AGGREGATED) return false;
    let held = false;
    for (const each of inner) {
      if (holds(each, failure, depth, budget)) held = true;
      else if (!isPipelineStop(each)) return false;
    }
    return held;
  } catch {
    return false; // a Proxy's trap, an `errors` getter that throws
  }
}

/**
 * True for what a stream pipeline adds when it stops on its signal: an `AbortError` or
 * `TimeoutError` (`isAbort`), or Node's `ERR_STREAM_PREMATURE_CLOSE` of a stream destroyed
 * with the others.
 */
function isPipelineStop(error: unknown): boolean {
  return isAbort(error) || (error instanceof Error && (error as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE');
}

/**
 * The `HTTPException` that answers `error`: the error itself when it is one, else the body
 * failure it wraps ({@link bodyFailureBehind}), else `null` (the app's own failure).
 */
export function answeringException(environ: Environ, error: unknown): HTTPException | null {
  return isHTTPException(error) ? error : bodyFailureBehind(environ, error);
}

/**
 * True when `error` is the client error (4xx) a failed read of the request body left in
 * `tsgi.input` (the `FailedInput`'s own error, compared by identity), or wraps it
 * ({@link bodyFailureBehind}): the client's doing, not the app's. Before the head it answers
 * as itself; after it, where no answer can be sent, the servers (`serve()`, `toFetchHandler`,
 * the test client) and `errors` cut the response without logging it as an app failure, as
 * they do for a client that left mid-body. Never throws.
 */
export function isBodyFailure(environ: Environ, error: unknown): boolean {
  const input: unknown = environ['tsgi.input'];
  if (!(input instanceof FailedInput)) return false;
  if (input.error === error) return isHTTPException(error) && error.code < 500;
  return bodyFailureBehind(environ, error) !== null;
}
