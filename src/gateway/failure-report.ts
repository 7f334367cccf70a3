/**
 * Where a layer below the `errors` middleware reports a failure it answers itself
 * ({@link failureReportKey}), so that it reaches `errors`' own log and `onError` (an error
 * tracker) rather than only the server's `tsgi.errors`.
 *
 * @module
 */
import type { Environ } from './types.ts';
import { defineEnvironKey } from './environ-key.ts';
import { logRequestError } from './log.ts';

/**
 * `tsgi.failure_report` (internal): set by `errors` for the app below while it is called;
 * `report(error, status)` writes the line to `errors`' `log` (`[tsgi] GET /x HTTP/1.1 502
 * request_id=…: <stack>`) and calls its `onError`. Read by `Request.application`, which answers
 * a thrown or returned 5xx `HTTPException` with a `cause` as its page (the exception never reaches
 * `errors`) but logs the failure behind it, and by `proxy`, which answers an upstream's failure
 * before the head itself.
 */
export const failureReportKey = defineEnvironKey<(error: unknown, status: string) => void>('tsgi.failure_report');

/**
 * Reports `error`, a failure the caller answers itself with `status`, to the nearest `errors`
 * above (its log and `onError`), else logs it to `tsgi.errors` with the request line, the
 * status and the request id. Never throws.
 */
export function reportFailure(environ: Environ, error: unknown, status: string): void {
  const report = failureReportKey.get(environ);
  if (typeof report === 'function') {
    try {
      return report(error, status);
    } catch {
      // errors' report logs its own failures; fall back to the server's stream below.
    }
  }
  logRequestError(environ['tsgi.errors'], environ, ` ${status}`, error);
}
