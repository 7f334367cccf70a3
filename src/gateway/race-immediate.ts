/**
 * Whether a body's next step is there at once, within this turn of the event loop: what every
 * server asks of a body's second step before it sends the head (`serve()`, `toFetchHandler`, the
 * test client: a first chunk followed by the end then gets a `Content-Length`), and `compress`
 * of each next chunk (chunks there at once share a flush).
 *
 * @module
 */

/**
 * Runs a callback at the end of this turn of the event loop; answers what {@link cancelTurn}
 * takes. `setImmediate` where the runtime has it (Node, Bun, workerd with `nodejs_compat`: the
 * check phase, after I/O already due, before any timer), else a zero-delay `setTimeout` (a
 * browser, Deno, workerd without it: the next macrotask). Chosen once, when this module loads,
 * so that a test's fake timers installed later do not stop a server.
 */
const endOfTurn: (callback: () => void) => unknown =
  typeof setImmediate === 'function' ? setImmediate : (callback) => setTimeout(callback, 0);

/** Cancels what {@link endOfTurn} set. */
const cancelTurn: (handle: unknown) => void =
  typeof clearImmediate === 'function'
    ? (clearImmediate as (handle: unknown) => void)
    : (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>);

/**
 * Resolves with the step if it settles before this turn of the event loop ends (a
 * `setImmediate` set now runs: by microtasks, or by I/O already due, but not by a timer or I/O
 * still to come; where the runtime has no `setImmediate`, a zero-delay timer), else
 * `undefined`. Allocates a promise and an immediate: not for every chunk of a body read 16 KiB
 * or more at a time.
 *
 * @throws (rejects with) what the step rejects with, when it does so before that turn ends.
 */
export function raceImmediate<T>(promise: PromiseLike<T>): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    const timer = endOfTurn(() => resolve(undefined));
    promise.then(
      (value) => {
        cancelTurn(timer);
        resolve(value);
      },
      (error: unknown) => {
        cancelTurn(timer);
        reject(error);
      },
    );
  });
}
