/**
 * `statusExceptions` (status code → class), `abort(status)` and `redirect(location)`.
 *
 * @module
 */
import { type ExceptionClass, HTTPException, type HTTPExceptionOptions, HTTP_EXCEPTION_OPTIONS } from './base.ts';
import { checkOptions } from '../gateway/option-names.ts';
import * as redirects from './redirects.ts';
import * as clientErrors from './client-errors.ts';
import * as serverErrors from './server-errors.ts';
import { HTTPRedirection } from './redirects.ts';
import { HTTPClientError, HTTPMethodNotAllowed } from './client-errors.ts';
import { HTTPServerError } from './server-errors.ts';
const BASES: unknown[] = [HTTPRedirection, HTTPClientError, HTTPServerError];

function isStatusClass(value: unknown): value is ExceptionClass<HTTPException> {
  return typeof value === 'function' && value.prototype instanceof HTTPException && !BASES.includes(value);
}

/**
 * Status code → exception class, in code order: every class of `redirects.ts`,
 * `client-errors.ts` and `server-errors.ts` but the bases (`HTTPRedirection`,
 * `HTTPClientError`, `HTTPServerError`).
 */
export const statusExceptions: ReadonlyMap<number, ExceptionClass<HTTPException>> = new Map(
  [...Object.values<unknown>(redirects), ...Object.values<unknown>(clientErrors), ...Object.values<unknown>(serverErrors)]
    .filter(isStatusClass)
    .sort((a, b) => a.code - b.code)
    .map((cls) => [cls.code, cls]),
);

/**
 * Throws the HTTP exception for `status` (Werkzeug's `abort`). For a redirect (3xx but 304)
 * the second argument is the `Location`; for 405 it is the detail, and `Allow` is the one in the
 * `headers` option (empty without one).
 *
 * @throws the exception; a `TypeError` for a status with no class (use `new Response` for 2xx),
 *   or for options that are not a plain object or hold an unknown key, named as abort's third
 *   argument (`abort(404): unknown option "header": did you mean "headers"?`).
 */
export function abort(status: number, detail?: string, options?: HTTPExceptionOptions): never {
  const cls = statusExceptions.get(status);
  if (!cls) throw new TypeError(`no HTTP exception for status ${status}`);
  // Checked here, not only by the class: the message names abort and its third argument.
  if (options !== undefined) checkOptions(`abort(${status})`, options, HTTP_EXCEPTION_OPTIONS, 'third');
  if (cls.prototype instanceof HTTPRedirection) {
    if (detail === undefined) throw new TypeError(`abort(${status}) needs the redirect target as its second argument`);
    throw new (cls as unknown as typeof HTTPRedirection)(detail, undefined, options);
  }
  if (cls === (HTTPMethodNotAllowed as unknown)) throw new HTTPMethodNotAllowed(undefined, detail, options);
  throw new (cls as unknown as typeof HTTPException)(detail, options);
}

/**
 * An exception that redirects to `location` (Werkzeug's `redirect`), 303 See Other by default;
 * throw it or return it.
 *
 * @throws TypeError for a status that is not a redirect, or an invalid location.
 */
export function redirect(location: string, status: 300 | 301 | 302 | 303 | 305 | 307 | 308 = 303): HTTPRedirection {
  const cls = statusExceptions.get(status);
  if (!cls || !(cls.prototype instanceof HTTPRedirection)) throw new TypeError(`not a redirect status: ${status}`);
  return new (cls as unknown as typeof HTTPRedirection)(location);
}
