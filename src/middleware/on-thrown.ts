/**
 * Calling the app below with a handler for what its call throws or its promise rejects with:
 * shared by the middleware that act on an `HTTPException` the app lets escape to be answered
 * outside (`AuthTickets`, `CookieSessions`). Internal: not part of the public API.
 *
 * @module
 */
import type { Body } from '../gateway/types.ts';

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
