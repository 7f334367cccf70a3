/**
 * What a server does with an `HTTPException` that escaped the app before the response head
 * went out: the rule `serve()`, `toFetchHandler` and the test client share.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import type { HTTPException } from './base.ts';
import { answeringException } from './body-failure.ts';

/**
 * The answer to `error`, an error that escaped the app (its call, or its body before the head
 * was sent): the exception itself when it is an `HTTPException` (its status, headers and
 * negotiated page, as `Request.application` answers one), or the 4xx of the request body's
 * read that it wraps (`bodyFailureBehind`: a sink's `TypeError: fetch failed` whose `cause` is
 * the 413), else `null` (the server's plain `500`). A server error (5xx) is also given to `log`,
 * with ` 502` (a space and its code) as the `note` that follows the request line, so the line
 * names the status answered (`[tsgi] GET /x HTTP/1.1 502: HTTPBadGateway: …`), as
 * `Request.application` and `errors` write it: something failed, and the page the client gets
 * says only what is safe to show; a client error or a redirect is an answer, not logged.
 *
 * The server holds a response's head until its body's first chunk (the second, when that one
 * comes at once), so this covers a body that throws, for example, `HTTPBadGateway` at its
 * first read. After the head, any error cuts the connection instead.
 */
export function escapedAnswer(error: unknown, log: (error: unknown, note: string) => void, environ: Environ): HTTPException | null {
  const exception = answeringException(environ, error);
  if (exception !== null && exception.code >= 500) log(exception, ` ${exception.code}`);
  return exception;
}
