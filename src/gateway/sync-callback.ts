/**
 * Callbacks that must do their work before they return: TypeScript lets a function answering
 * a promise (an `async` one) stand for one answering `void`, which the caller cannot wait for.
 *
 * @module
 */
import { isThenable } from './body.ts';

/**
 * Refuses what a callback that must be synchronous answered when it is a promise: throws a
 * `TypeError` with `message` (the caller's failure, as a callback that throws), its edits
 * made after the promise settles being too late (a tag, a request head already sent). The
 * promise's own rejection is handled: left unhandled, it would end the Node process.
 *
 * @throws TypeError with `message` when `answer` is a promise or another thenable.
 */
export function refusePromise(answer: unknown, message: string): void {
  if (!isThenable(answer)) return;
  Promise.resolve(answer).then(undefined, () => {});
  throw new TypeError(message);
}
