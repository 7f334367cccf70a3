/**
 * The errors of an app that gets `startResponse` wrong (PEP 3333): a second call without an
 * error, and a body without any call. Shared by every server and by `callApp`, so each says
 * the same and names the way out.
 *
 * @module
 */

/**
 * The TypeError for `startResponse` called again without its third argument: PEP 3333 allows a
 * second call only to replace the status and headers after an error (its `exc_info`), and only
 * before the body has started.
 */
export function startedTwice(): TypeError {
  return new TypeError(
    'startResponse was called twice without an error: call it once, or pass the error as its third argument to replace the status and headers (before the body starts)',
  );
}

/**
 * The TypeError for a body (a chunk, or its end) that came before any `startResponse` call:
 * the status and headers must come first, before the body is returned or, in a generator,
 * before its first `yield`.
 */
export function neverStarted(): TypeError {
  return new TypeError(
    'the app produced a body without calling startResponse: call startResponse(status, headers) before returning the body, or in a generator before its first yield',
  );
}
