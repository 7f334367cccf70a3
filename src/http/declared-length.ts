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
  return declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : null;
}
