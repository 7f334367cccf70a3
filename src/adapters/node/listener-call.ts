/**
 * Calling a function the user gave `serve()` (`onRefused`, `onUpgradeClosed`, the `upgrade`
 * handler) from the server's own events, where an error it throws, or the rejection of the
 * promise an `async` one returns, must not escape: it would end the process (an uncaught
 * error, an unhandled rejection). The caller decides what the error means (logged, answered).
 *
 * @module
 */
import { isThenable } from '../../gateway/body.ts';

/**
 * Runs `call()`, handing what it throws, or what the promise it returns rejects with, to
 * `failed`. Answers, when `call()` returned a promise, one that settles once it has (and
 * `failed` has run for its rejection), never rejecting but for what `failed` throws; else
 * `undefined`. Never throws itself (but for what `failed` throws).
 */
export function callListener(call: () => unknown, failed: (error: unknown) => void): Promise<void> | undefined {
  try {
    const result = call();
    if (isThenable(result)) return Promise.resolve(result).then(() => {}, failed);
  } catch (error) {
    failed(error);
  }
  return undefined;
}
