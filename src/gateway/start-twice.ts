/**
 * The error of a second `startResponse` call without an error (PEP 3333), shared by every
 * server and by `callApp`, so each says the same and names the way out.
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
