/**
 * The request body's declared length, as the body readers and limits check it.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';

/**
 * The environ's `CONTENT_LENGTH` in bytes (RFC 9110 §8.6: decimal digits only); null when
 * absent or not a plain number. Unlike `Request.contentLength` (null past 15 digits, no safe
 * integer), any run of digits counts, so a length Node's parser takes (up to 2^64 - 1) is
 * compared with a limit rather than read as "none declared"; past 2^53 it is approximate,
 * which is enough to tell it is over any limit.
 */
export function declaredLength(environ: Environ): number | null {
  const declared = environ.CONTENT_LENGTH;
  return declared !== undefined && DIGITS.test(declared) ? Number(declared) : null;
}

/**
 * Decimal digits only. One object for every call: a regular expression literal is a new object
 * each time its function runs (ECMA-262 §13.2.7.3), about 66 bytes a request that has a body.
 */
const DIGITS = /^\d+$/;
