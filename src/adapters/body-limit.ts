/**
 * The request body limit of the Node and fetch adapters (`maxBodySize`): a declared `Content-Length` past it is
 * answered `413` before the app runs; a body of unknown length (chunked, or HTTP/2 without
 * `Content-Length`) is counted while the app reads `tsgi.input`, and the read that would go
 * past the limit throws instead of handing over the bytes.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import type { HTTPContentTooLarge } from '../exceptions/client-errors.ts';
import { bodyTooLarge } from '../forms/limits.ts';
import { limitInput } from '../gateway/limit-input.ts';
import { spoilInput } from '../gateway/input.ts';

/**
 * Checks the `maxBodySize` option of `serve()` and `toFetchHandler` when the handler is made.
 *
 * @throws TypeError for a value that is not a non-negative safe integer (bytes).
 */
export function checkMaxBodySize(maxBodySize: number | undefined): void {
  if (maxBodySize !== undefined && !(Number.isSafeInteger(maxBodySize) && maxBodySize >= 0)) {
    throw new TypeError('maxBodySize must be a non-negative integer (bytes)');
  }
}

/** The errors {@link limitInput} raised: the server answers them 413 when the app lets one through. */
const RAISED = new WeakSet<object>();

/** True for the error {@link limitInput} throws (the app let it propagate). */
export function isBodyLimitError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && RAISED.has(error);
}

/**
 * The body readers' 413 for a body past `maxBodySize` bytes (`bodyTooLarge`: `maxBodySize
 * exceeded: …`, the option has their name), marked as the server's (`isBodyLimitError`).
 */
function serverTooLarge(maxBodySize: number): HTTPContentTooLarge {
  const error = bodyTooLarge(maxBodySize);
  RAISED.add(error);
  return error;
}

/**
 * Applies `maxBodySize` to a request's body: a declared `Content-Length` past it throws (413
 * before the app runs); otherwise `tsgi.input` is counted as the app reads it
 * ({@link limitInput}) when its length is not known, or, unless `framed`, always; the read
 * past the limit leaves `tsgi.input` failed with its 413 (`spoilInput`), so later reads get
 * it at once and an app error that wraps it answers it (`bodyFailureBehind`). `framed` is
 * for a server that holds a body to its declared length itself (Node's HTTP parser); a fetch
 * `Request` made in process may carry a `Content-Length` its body does not keep to.
 *
 * @throws HTTPContentTooLarge for a declared length past the limit.
 */
export function limitBody(environ: Environ, maxBodySize: number, framed: boolean): void {
  const declared = environ.CONTENT_LENGTH;
  if (declared !== undefined && Number(declared) > maxBodySize) throw serverTooLarge(maxBodySize);
  const unknownLength = declared === undefined && environ['tsgi.input_terminated'] === true;
  if (!unknownLength && framed) return;
  // The server's input is live: the limit holds for all the app's reads of it together.
  const limited = limitInput(
    environ['tsgi.input'],
    maxBodySize,
    () => {
      const error = serverTooLarge(maxBodySize);
      spoilInput(environ, limited, error);
      return error;
    },
    { live: true },
  );
  environ['tsgi.input'] = limited;
}
