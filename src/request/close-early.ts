/**
 * A handler's iterator handed to a layer by `getResponse`, put behind a wrapper that closes it
 * only when it stops early ({@link closeOnlyEarly}), as `callApp` hands up any other app's body.
 *
 * @module
 */
import { wrapBody } from '../gateway/body-watch.ts';
import { type Response, UNSENT_STREAM } from '../response/response.ts';
import { TAKE_STREAM } from '../response/body.ts';
import { setBodyKeepingLength } from './stream-body.ts';

/** The wrappers {@link closeOnlyEarly} made: not wrapped again as a response goes up the layers. */
const earlyOnly = new WeakSet<object>();

/**
 * Puts the streamed body of `res`, a handler's answer `getResponse` hands to a layer, behind a
 * wrapper whose `return()` does nothing once the body ended or failed, when it is an iterator
 * nobody took yet (a generator, a hand-written iterator): the request's end closes a stream a
 * layer replaced (`res.body = transform(res.body)`) even when the new body read it to its end,
 * and `return()` is for an early stop only (docs/spec.md §6: a hand-written iterator that
 * released its connection at its end would release it again), as the body `callApp` hands up
 * from any other app already is. Any other `return()` reaches the iterator, once, and what it
 * throws reaches the caller (`wrapBody`'s `closeThrows`), who logs it in its own words. A web
 * or Node stream is left as it is (cancelling or destroying one that ended does nothing), as is
 * one wrapped already; a sync body stays sync.
 */
export function closeOnlyEarly(res: Response): void {
  const stream = res[UNSENT_STREAM]();
  if (stream === null || earlyOnly.has(stream) || typeof (stream as { next?: unknown }).next !== 'function') return;
  const wrapper = wrapBody(res[TAKE_STREAM](), {}, { closeThrows: true });
  earlyOnly.add(wrapper);
  setBodyKeepingLength(res, wrapper);
}
