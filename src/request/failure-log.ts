/**
 * The one `HTTPException` that `Request.application` logs although it answers it: a server
 * error that carries the failure behind it.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { wasLogged } from '../gateway/log.ts';
import { reportFailure } from '../gateway/failure-report.ts';
import type { HTTPException } from '../exceptions/base.ts';

/**
 * Logs `error`, an `HTTPException` thrown or returned by a `Request.application` handler or a
 * `defineMiddleware` hook (which then answers it as its page), when it is a 5xx with a `cause`: something failed
 * below, as when a handler reads a proxied body whose upstream broke off (`await res.text()`
 * rejects with the proxy's `502`, the upstream and its error in the exception), or wraps an
 * error of its own (`throw new HTTPBadGateway('…', { cause })`). The line is the server's for
 * an escaped 5xx: `[tsgi] GET /x HTTP/1.1 502 request_id=…: <stack>`, written by the nearest
 * `errors` above (to its `log`, then its `onError`), else to `tsgi.errors`. A 5xx without a cause
 * (`throw new HTTPServiceUnavailable('Down for maintenance.')`), a 4xx and a redirect are
 * answers chosen by the handler, not logged; nor is an error a layer below logged already
 * (`errors`, once the head was out: `markLogged`). Never throws.
 */
export function logFailureAnswered(environ: Environ, error: HTTPException): void {
  if (error.code < 500 || error.cause === undefined || wasLogged(environ, error)) return;
  reportFailure(environ, error, String(error.code));
}
