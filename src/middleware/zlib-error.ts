/**
 * Errors worded as node:zlib words its own, for the decoding that tsgi checks itself (gzip
 * member headers, zstd frame ends), so a `400` or `502` reads the same whichever found it.
 *
 * @module
 */

/** zlib's error numbers for the codes used here (`Z_DATA_ERROR`: corrupt data; `Z_BUF_ERROR`: data cut short). */
const ERRNO = { Z_DATA_ERROR: -3, Z_BUF_ERROR: -5 } as const;

/** An `Error` of `message` (`incorrect header check`, `unexpected end of file`) carrying zlib's `code` and `errno`, as node:zlib's do. */
export function zlibError(message: string, code: keyof typeof ERRNO = 'Z_DATA_ERROR'): Error {
  return Object.assign(new Error(message), { code, errno: ERRNO[code] });
}
