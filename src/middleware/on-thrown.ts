/**
 * Calling the app below with a handler for what its call throws or its promise rejects with,
 * and editing the header fields of an `HTTPException` it lets escape: shared by the middleware
 * that act on an exception the app lets escape to be answered outside (`AuthTickets`,
 * `CookieSessions`, `basicAuth`, `bearerAuth`). Internal: not part of the public API.
 *
 * @module
 */
import type { Body } from '../gateway/types.ts';
import { isHTTPException } from '../exceptions/base.ts';

/**
 * `run()`'s answer, or `handle`'s for the error `run` throws or its promise rejects with
 * (`handle` throws it on to leave it as it was).
 */
export function onThrown(run: () => Body | Promise<Body>, handle: (error: unknown) => Body | Promise<Body>): Body | Promise<Body> {
  try {
    const body = run();
    return body instanceof Promise ? body.catch(handle) : body;
  } catch (error) {
    return handle(error);
  }
}

/**
 * Throws `error` on, the header fields of an `HTTPException` first replaced with what `edit`
 * answers for them (a copy, `[name, value]` pairs in order; `edit` answers that same array to
 * leave them as they are): what a middleware does to the fields of an answer passing its
 * `startResponse`, done to an exception that escapes it to be answered outside (`serve()`,
 * `errors`), which answers with the exception's fields. Anything else is thrown on untouched.
 *
 * @throws `error`, always.
 */
export function editThrownFields(
  error: unknown,
  edit: (fields: Array<[string, string]>) => Array<[string, string]>,
): never {
  if (isHTTPException(error)) {
    const fields = error.headers.toList();
    const edited = edit(fields);
    if (edited !== fields) {
      error.headers.clear();
      for (const [name, value] of edited) error.headers.add(name, value);
    }
  }
  throw error;
}
