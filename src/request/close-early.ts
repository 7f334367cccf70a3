/**
 * A handler's iterator handed to a layer by `getResponse`, put behind a wrapper that closes it
 * only when it stops early ({@link closeOnlyEarly}), as `callApp` hands up any other app's body.
 *
 * @module
 */
import type { Body } from '../gateway/types.ts';
import { type BodyIterator, isAsyncIterable, openBody } from '../gateway/body.ts';
import { type Response, UNSENT_STREAM } from '../response/response.ts';
import { TAKE_STREAM } from '../response/body.ts';
import { setBodyKeepingLength } from './stream-body.ts';

/** The wrappers {@link closeOnlyEarly} made: not wrapped again as a response goes up the layers. */
const earlyOnly = new WeakSet<object>();

type Step = IteratorResult<Uint8Array>;
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * Puts the streamed body of `res`, a handler's answer `getResponse` hands to a layer, behind a
 * wrapper whose `return()` does nothing once the body ended or failed, when it is an iterator
 * nobody took yet (a generator, a hand-written iterator): the request's end closes a stream a
 * layer replaced (`res.body = transform(res.body)`) even when the new body read it to its end,
 * and `return()` is for an early stop only (docs/spec.md §6: a hand-written iterator that
 * released its connection at its end would release it again), as the body `callApp` hands up
 * from any other app already is. Any other `return()` reaches the iterator, once, and answers
 * what it answers (what it throws included). A web or Node stream is left as it is (cancelling
 * or destroying one that ended does nothing), as is one wrapped already; a sync body stays sync.
 */
export function closeOnlyEarly(res: Response): void {
  const stream = res[UNSENT_STREAM]();
  if (stream === null || earlyOnly.has(stream) || typeof (stream as { next?: unknown }).next !== 'function') return;
  const wrapper = untilOver(res[TAKE_STREAM]());
  earlyOnly.add(wrapper);
  setBodyKeepingLength(res, wrapper);
}

/** `body` (an iterator) whose `return()` is called only while it is neither over nor closed (see {@link closeOnlyEarly}). */
function untilOver(body: Body): Body {
  let iterator: BodyIterator | undefined;
  let over = false;
  const open = (): BodyIterator => (iterator ??= openBody(body));
  const step = (next: Step): Step => {
    if (next.done === true) over = true;
    return next;
  };
  const failed = (error: unknown): never => {
    over = true;
    throw error;
  };
  const close = (): Step | PromiseLike<Step> => {
    if (over) return DONE;
    over = true;
    const it = open();
    return typeof it.return === 'function' ? it.return() : DONE;
  };
  if (!isAsyncIterable(body)) {
    const it: IterableIterator<Uint8Array> = {
      next: () => {
        if (over) return DONE;
        try {
          return step((open() as Iterator<Uint8Array>).next());
        } catch (error) {
          return failed(error);
        }
      },
      return: close as () => Step,
      [Symbol.iterator]() {
        return this;
      },
    };
    return it;
  }
  const it: AsyncIterableIterator<Uint8Array> = {
    next: async () => {
      if (over) return DONE;
      try {
        return step(await open().next());
      } catch (error) {
        return failed(error);
      }
    },
    return: async () => close(),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return it;
}
