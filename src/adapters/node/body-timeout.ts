/**
 * The body timeout: a request body that stops arriving while the app reads it is given up
 * (nginx's `client_body_timeout`).
 *
 * Without it only Node's `requestTimeout` (300 s under `serve()`) bounds a client that sends
 * its head and then stalls or trickles its body, holding a connection, a buffer and the app's
 * work for minutes. The clock runs only while a read of `tsgi.input` waits for data (see
 * `readableChunks`): never for a request whose body nobody reads, nor while the app works
 * between two reads.
 *
 * @module
 */
import { HTTPRequestTimeout } from '../../exceptions/client-errors.ts';
import { ReadTimeout } from '../../gateway/read-timeout.ts';
import { MAX_DELAY } from '../../gateway/max-delay.ts';

/** The default body timeout: 60 s without a byte of the body while a read waits (nginx's default). */
export const DEFAULT_BODY_TIMEOUT = 60_000;

/**
 * The longest `bodyTimeout`: `setTimeout`'s limit, 2147483647 ms (about 24.8 days). Node runs
 * a longer delay's timer after 1 ms (with a `TimeoutOverflowWarning`), which would answer 408
 * to every body not read whole at once.
 */
export const MAX_BODY_TIMEOUT = MAX_DELAY;

/**
 * The {@link ReadTimeout} of a handler's `bodyTimeout` option (milliseconds; `undefined` for
 * the default, {@link DEFAULT_BODY_TIMEOUT}), made once per handler and shared by its
 * requests' inputs: a read that waits past it fails with an `HTTPRequestTimeout` (408).
 * `undefined` for 0 (off).
 *
 * @throws TypeError for a value that is not a number of milliseconds from 0 to
 *   {@link MAX_BODY_TIMEOUT}.
 */
export function bodyTimeoutOf(bodyTimeout: number | undefined): ReadTimeout | undefined {
  const ms = bodyTimeout ?? DEFAULT_BODY_TIMEOUT;
  if (typeof ms !== 'number' || !(ms >= 0 && ms <= MAX_BODY_TIMEOUT)) {
    throw new TypeError(`bodyTimeout must be a non-negative number of milliseconds, at most ${MAX_BODY_TIMEOUT} (0 turns it off)`);
  }
  if (ms === 0) return undefined;
  const detail = `The request body stalled: nothing of it arrived for ${seconds(ms)} s.`;
  // `Connection: close`, as nginx closes after it: the rest of the body is not awaited.
  return new ReadTimeout(ms, () => new HTTPRequestTimeout(detail, { headers: [['Connection', 'close']] }));
}

/** `ms` in seconds, as short as it is exact to the millisecond (`60`, `0.2`). */
function seconds(ms: number): string {
  return String(Math.round(ms) / 1000);
}
