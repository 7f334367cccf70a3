/**
 * The errors of the form parsers when their input fails.
 *
 * @module
 */
import { HTTPBadRequest } from '../exceptions/client-errors.ts';
import { isHTTPException } from '../exceptions/base.ts';
import { FailedInput } from '../gateway/input.ts';

/**
 * The error a reader throws when iterating its input failed: an `HTTPException` (a server's
 * body limit) and a {@link FailedInput}'s error unchanged; anything else as a 400 saying the
 * body could not be read, the error as its `cause`.
 */
export function readFailure(input: AsyncIterable<Uint8Array>, error: unknown): unknown {
  if (isHTTPException(error) || input instanceof FailedInput) return error;
  return new HTTPBadRequest('The request body could not be read completely.', { cause: error });
}
