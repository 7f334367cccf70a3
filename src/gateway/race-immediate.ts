/**
 * Whether a body's next step is there at once: what the server (a stream of one chunk gets a
 * `Content-Length`) and `compress` (chunks there at once share a flush) ask.
 *
 * @module
 */
import { clearImmediate, setImmediate } from 'node:timers';

/**
 * Resolves with the step if it settles before a `setImmediate` set now runs (the check phase of
 * this turn of the event loop: by microtasks, or by I/O already due, but not by a timer or I/O
 * still to come), else `undefined`. Allocates a promise and an immediate: not for every chunk
 * of a body read 16 KiB or more at a time.
 *
 * @throws (rejects with) what the step rejects with, when it does so before that turn.
 */
export function raceImmediate<T>(promise: PromiseLike<T>): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    const timer = setImmediate(() => resolve(undefined));
    promise.then(
      (value) => {
        clearImmediate(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearImmediate(timer);
        reject(error);
      },
    );
  });
}
