/**
 * Calling an app with its response head edited on the way out: the step of middleware that only
 * adds fields (security headers, CORS grants) and leaves the body alone.
 *
 * @module
 */
import { type App, type Body, type Environ, type StartResponse } from '../gateway/types.ts';
import { isThenable } from '../gateway/body.ts';
import { keepRelayed } from '../gateway/relayed.ts';
import { reportFailure } from '../gateway/failure-report.ts';
import type { HTTPException } from '../exceptions/base.ts';
import { escapedAnswer } from '../exceptions/escaped.ts';
import { pullFirstChunk } from '../gateway/call-app.ts';
import { sameFieldName } from '../gateway/fields.ts';
import { failingBody } from '../gateway/first-step-failure.ts';
import { readableThrow } from '../gateway/unreadable-throw.ts';

/**
 * @internal Calls `app` with a `startResponse` that hands the app's headers through `edit`
 * before passing them on; the body is returned as it is (never wrapped, never buffered), so
 * streams, HEAD and 304 answers pass untouched. An `HTTPException` the app throws or rejects
 * with is answered here, through the same `edit`, so its page carries the fields too (a 5xx one
 * is reported as a failure answered here, `reportFailure`: to the `errors` above, its log line
 * and `onError`, else to `tsgi.errors` with its status and request id), and so is one its body raises before it
 * called `startResponse` (a generator starting lazily: its first chunk is pulled here); any
 * other error propagates. A lazy body that called `startResponse` and then failed before its
 * first chunk is answered as a body that fails at its first step, as the server would have
 * seen it without this layer. When the app had started a response before throwing, the
 * exception's replaces it (PEP 3333's `exc_info`).
 *
 * `edit` gets the app's header list as given (maybe not an array: the server refuses that),
 * and its status line (`'304 Not Modified'`), and answers the list to send; it must not change
 * the app's array in place.
 *
 * With `headOnFailure`, any other error the app throws or rejects with is passed on as a body
 * failing at its first step, after a head (the app's, or a `500` with no fields of its own)
 * that went through `edit`: the server's own `500` then keeps the edited fields that describe no
 * representation (`heldFields`: `X-Request-Id`), and logs the error once, as it does for a
 * body that fails before its first chunk (docs/spec.md §7.4).
 */
export function callWithHeadEdit(
  app: App,
  environ: Environ,
  startResponse: StartResponse,
  edit: (headers: Array<[string, string]>, status: string) => Array<[string, string]>,
  headOnFailure = false,
): Body | Promise<Body> {
  let started = false;
  const start: StartResponse = (status, headers, error) => {
    started = true;
    startResponse(status, keepRelayed(headers, edit(headers, status)), error);
  };
  const rescue = (thrown: unknown): Body => {
    const error = readableThrow(thrown);
    // A 5xx is a failure this layer answers: the nearest `errors` above logs it and tells its `onError`.
    const exception = escapedAnswer(error, (e) => reportFailure(environ, e, String((e as HTTPException).code)), environ);
    if (exception === null) {
      if (!headOnFailure) throw error;
      if (!started) {
        try {
          start('500 Internal Server Error', []);
        } catch {
          throw error; // a layer above refused the head: the failure goes on as it came
        }
      }
      return failingBody(error);
    }
    return exception.respond(environ, started ? (status, headers) => start(status, headers, error) : start);
  };
  let body: Body | Promise<Body>;
  try {
    body = app(environ, start);
  } catch (error) {
    return rescue(error);
  }
  // After a lazy start, the body's failure is passed on as the body's (the head is given).
  const failed = (error: unknown): Body => (started ? failingBody(error) : rescue(error));
  if (isThenable(body)) return body.then((value) => (started ? value : startLazily(value, environ, failed)), rescue);
  return started ? body : startLazily(body, environ, failed);
}

/**
 * An app that calls `startResponse` from its body (a generator, PEP 3333's lazy start) has not
 * started when it returns: its first chunk is pulled here, so an `HTTPException` it raises
 * before starting is answered by `rescue` (with the edited fields) rather than by the server.
 * One it raises, or any failure, once it called `startResponse` is the body's failure at its
 * first step, passed on as such (`failingBody`): the server answers it as without this layer,
 * keeping the fields of the head it holds (the edited ones among them).
 */
function startLazily(body: Body, environ: Environ, failed: (error: unknown) => Body): Promise<Body> {
  return pullFirstChunk(body, environ).then((pulled) => pulled.body, failed);
}

/**
 * @internal Whether the app's `headers` (as given to `startResponse`, pairs not checked yet:
 * the server refuses malformed ones) hold a field `name`, compared case-insensitively: a
 * middleware adding a field leaves one the app set alone.
 */
export function hasField(headers: Array<[string, string]>, name: string): boolean {
  return fieldValue(headers, name) !== undefined;
}

/**
 * @internal The value of the first field `name` of the app's `headers` (compared
 * case-insensitively, pairs not checked yet, as {@link hasField}), or `undefined` when there is
 * none; a value that is not a string is answered as `''`.
 */
export function fieldValue(headers: Array<[string, string]>, name: string): string | undefined {
  for (const pair of headers) {
    if (Array.isArray(pair) && typeof pair[0] === 'string' && sameFieldName(pair[0], name)) return typeof pair[1] === 'string' ? pair[1] : '';
  }
  return undefined;
}
