/**
 * When a server has sent the last byte of a response (`tsgi.response_sent`), for the access
 * log's duration and outcome: the body's end is only when the server took its last chunk,
 * which for an in-memory answer is before any of it was written.
 *
 * @module
 */
import { defineEnvironKey } from './environ-key.ts';
import type { Environ } from './types.ts';

/**
 * What a server leaves under `tsgi.response_sent` while it sends the response. A server may
 * lend an object it has anyway (the Node adapter's exchange), so that a request no layer waits
 * on costs nothing.
 */
export interface SentWait {
  /**
   * Runs `then` once the response is over, told whether it was complete (its last byte handed
   * to the connection), in the async context `onSent` was called in (an `AsyncLocalStorage`
   * store, `bindBody`'s, is still there); at once when it is over already.
   */
  onSent(then: (complete: boolean) => void): void;
}

/**
 * `tsgi.response_sent` (internal): a {@link SentWait} from the moment a server calls the app.
 * The response is over once its last byte was handed to the connection (Node's `finish`, where
 * nginx's `$request_time` and Express's `res.on('finish')` stop), or once it closed before
 * that (the client left, the connection was cut). Set by the Node adapter; absent elsewhere
 * (the fetch adapters, whose runtime sends the body; the test client), and then a layer goes
 * on at once.
 */
export const responseSentKey = defineEnvironKey<SentWait | undefined>('tsgi.response_sent');

/**
 * Runs `then` once the server has sent the response of `environ` (see {@link responseSentKey}),
 * told whether it was complete; at once, as complete, when no server tells.
 */
export function afterResponseSent(environ: Environ, then: (complete: boolean) => void): void {
  const wait = responseSentKey.get(environ);
  if (wait === undefined) then(true);
  else wait.onSent(then);
}
