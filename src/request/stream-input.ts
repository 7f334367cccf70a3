/**
 * The request body as `req.stream()` hands it out: streamed as it arrives, counted against a
 * limit when one is given, and failing as the other body readers fail.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { BufferedInput, EMPTY_INPUT, FailedInput, InputClaim, consumedError, spoilInput } from '../gateway/input.ts';
import { limitInput } from '../gateway/limit-input.ts';
import { type ClaimEnd, type IterationClaim, isFailureAware, withFailure } from '../gateway/readable-input.ts';
import { type HTTPContentTooLargeError, inputFailure } from './input.ts';
import { bodyTooLarge } from '../forms/limits.ts';

/**
 * `input`, the environ's `tsgi.input`, as `req.stream({ maxBodySize })` hands it out: the
 * chunks as they arrive (nothing buffered), at most `maxBodySize` bytes of them (`Infinity`:
 * no limit).
 *
 * A read that fails throws what `req.bytes()` would have thrown (`inputFailure`): the body
 * breaking off (the client hung up, Node's `aborted` with code `ECONNRESET`, a stream reset
 * over HTTP/2) is an `HTTPBadRequest` (400) whose `cause` is the stream's error; past
 * `maxBodySize` it is `HTTPContentTooLarge` (413, made by `refuse`: default `bodyTooLarge`); any
 * other error unchanged. Like every body
 * reader's failure, it is left in `tsgi.input` (`spoilInput`), so that a sink that wraps it
 * (`fetch`'s `TypeError: fetch failed`, `stream.pipeline`) is answered as that 4xx and not
 * logged as the app's failure (`bodyFailureBehind`). Later reads of this stream throw the same
 * error again. A body already read whole (a `BufferedInput`) replays and is never left failed;
 * a failed input throws its own error.
 *
 * A live input is claimed (`claimInput`, as `req.stream()`) by an iteration from its first
 * `next()` until it ends, fails or is returned (a `break`): a `req.bytes()`, form parse or
 * `req.parts()` started meanwhile is refused, and this iteration's first `next()` is refused
 * (rejects with the `Error` `the request body is being read by …`, leaving the input as it
 * is) while one of them, or another iteration, reads the body. A stream made and never
 * iterated claims nothing; one dropped part-way without `return()` keeps its claim, since the
 * rest of its body is no whole body for another reader. One returned part-way (a `break`)
 * leaves the input consumed for the same reason (`consumeInput`): a later `req.bytes()` or
 * form read rejects with `the request body was read by req.stream(), left part-way … and not
 * kept` rather than answer the rest of the body as if it were whole. One that read the body to
 * its end leaves it consumed too (`the request body was read by req.stream() and not kept`)
 * rather than let a later reader answer an empty body; unless it took no byte (an empty body,
 * nothing lost). Neither adds a promise per chunk.
 */
export function streamInput(
  environ: Environ,
  input: AsyncIterable<Uint8Array>,
  maxBodySize: number,
  refuse: (maxBodySize: number) => HTTPContentTooLargeError = bodyTooLarge,
): AsyncIterable<Uint8Array> {
  const limited = maxBodySize === Infinity ? input : limitInput(input, maxBodySize, () => refuse(maxBodySize));
  if (input instanceof BufferedInput || input instanceof FailedInput) return limited;
  const fail = (error: unknown) => {
    const failure = inputFailure(error);
    spoilInput(environ, input, failure);
    return failure;
  };
  const claim = new InputClaim(environ, input, READER, LEFT);
  // The Node adapter's inputs, unlimited (the common case): their own reader makes the
  // failure and holds the claim, with no promise per chunk as a wrapper's `next()` adds.
  if (limited === input && isFailureAware(input)) return input[withFailure](fail, claim);
  return failingAs(limited, fail, claim);
}

/**
 * {@link streamInput} of `environ`'s `tsgi.input` as `req.stream()` reads it: a live input is
 * taken as the environ holds it at an iteration's first `next()`, not at the call, so a
 * stream made before `await req.bytes()` and iterated after it replays the body kept
 * (Werkzeug's `request.stream` after `get_data()`), and one made before a form parse fails
 * with the parse's `consumedBody` error rather than end as an empty body. An environ without
 * `tsgi.input` reads as an empty body. A stream put in `tsgi.input` itself reads the input it
 * was made over (see `laterInput`).
 */
export function environStream(environ: Environ, maxBodySize: number): AsyncIterable<Uint8Array> {
  const input = environ['tsgi.input'] ?? EMPTY_INPUT;
  if (input instanceof BufferedInput || input instanceof FailedInput) return streamInput(environ, input, maxBodySize);
  const stream: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => atFirstNext(() => streamInput(environ, laterInput(environ, input, stream), maxBodySize)[Symbol.asyncIterator]()),
  };
  return stream;
}

/**
 * What `stream`, made over the live `input`, reads at its first `next()`: the replayable copy
 * or the failure a reader left in `environ` since (`BufferedInput`, `FailedInput`), else
 * `input` itself, also when `tsgi.input` now holds the stream (a layer that put
 * `req.stream({ maxBodySize })` in `tsgi.input`, which must not read itself), or the consumed
 * body's error of the stream itself (`req.parts()` over that stream, which marks its input
 * consumed before it reads it: `consumeInput`).
 */
function laterInput(environ: Environ, input: AsyncIterable<Uint8Array>, stream: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const now = environ['tsgi.input'];
  if (now instanceof BufferedInput) return now;
  return now instanceof FailedInput && now.error !== consumedError(stream) ? now : input;
}

/**
 * An iterator that opens its source (`open()`) at its first `next()`, then passes each call
 * on: a function call more per chunk, no promise. `return()` before the first `next()` opens
 * nothing and ends the iteration.
 */
function atFirstNext(open: () => AsyncIterator<Uint8Array>): AsyncIterator<Uint8Array> {
  let source: AsyncIterator<Uint8Array> | undefined;
  let over = false;
  const done = (): Promise<IteratorResult<Uint8Array>> => Promise.resolve({ done: true, value: undefined });
  return {
    next() {
      if (source === undefined) {
        if (over) return done();
        source = open();
      }
      return source.next();
    },
    return(value?: unknown) {
      if (source === undefined) {
        over = true;
        return done();
      }
      return source.return?.(value) ?? done();
    },
  };
}

/** What {@link streamInput} reads for, in the error of a reader started while it reads. */
const READER = 'req.stream()';

/** What read the body when an iteration of {@link streamInput} is left part-way, in the error of a later reader. */
const LEFT = 'req.stream(), left part-way (a break or return()),';

/**
 * `input` with each failed `next()` rejecting with what `fail` makes of its error, called
 * once: a `next()` after a failure rejects with the same error. `return()` is passed on.
 * An iteration takes `claim` at its first `next()` (a refusal is its error from then on, not
 * passed to `fail`) and releases it once it ends (`'ended'` after a chunk, else
 * `'untouched'`), fails (`'untouched'`: `fail` leaves the failure) or is returned (`'left'`).
 */
function failingAs(input: AsyncIterable<Uint8Array>, fail: (error: unknown) => unknown, claim: IterationClaim): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      const source = input[Symbol.asyncIterator]();
      let failure: { error: unknown } | undefined;
      let state: 'idle' | 'open' | 'over' = 'idle';
      /** True once a chunk was handed over: an end after it leaves the body consumed. */
      let read = false;
      const release = (end: ClaimEnd): void => {
        if (state === 'open') claim.release(end);
        state = 'over';
      };
      const step = (result: IteratorResult<Uint8Array>): IteratorResult<Uint8Array> => {
        if (result.done === true) release(read ? 'ended' : 'untouched');
        else read = true;
        return result;
      };
      const failed = (error: unknown): never => {
        release('untouched');
        failure ??= { error: fail(error) };
        throw failure.error;
      };
      return {
        next() {
          if (failure !== undefined) return Promise.reject(failure.error);
          if (state === 'idle') {
            try {
              claim.take();
            } catch (error) {
              state = 'over';
              failure = { error };
              return Promise.reject(error);
            }
            state = 'open';
          }
          try {
            return source.next().then(step, failed);
          } catch (error) {
            return Promise.reject(failed(error));
          }
        },
        async return(value?: unknown) {
          release('left');
          return (await source.return?.(value)) ?? { done: true, value: undefined };
        },
      };
    },
  };
}
