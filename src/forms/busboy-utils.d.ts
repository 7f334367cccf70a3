/**
 * The part of busboy's internal `lib/utils.js` that tsgi calls (busboy 1.6, which ships no
 * types for it): the `Content-Disposition` parser busboy reads each part's header with, so the
 * multipart guard can tell a part busboy would drop without a word (`multipart-guard.ts`).
 */
declare module 'busboy/lib/utils.js' {
  /** Decodes a parameter's bytes (read as latin1 text) in a charset; `undefined` when it cannot. */
  type Decoder = (data: string, hint: number) => string | undefined;
  /** busboy's decoder for `charset` (`utf8` for its `defParamCharset: 'utf8'`). */
  export function getDecoder(charset: string): Decoder;
  /** A `Content-Disposition` value's type (lower case) and parameters, or `undefined` when busboy cannot read it. */
  export function parseDisposition(
    value: string,
    decoder: Decoder,
  ): { type: string; params: Record<string, string> } | undefined;
}
