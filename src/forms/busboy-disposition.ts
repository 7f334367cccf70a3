/**
 * busboy's own `Content-Disposition` parser (busboy 1.6's internal `lib/utils.js`; busboy has no
 * `exports` map, so the file is reachable, and ships no types for it: the shape used is typed
 * here). busboy drops a part whose header this parser cannot read, without a word; the
 * multipart guard asks it first, so the parse refuses such a part instead (`multipart-guard.ts`).
 *
 * @module
 */
// @ts-ignore -- no declaration file for busboy/lib/utils.js (TS7016); typed below.
import utils from 'busboy/lib/utils.js';

/** Decodes a parameter's bytes (read as latin1 text) in a charset; `undefined` when it cannot. */
type Decoder = (data: string, hint: number) => string | undefined;

const busboyUtils = utils as {
  /** busboy's decoder for `charset` (`utf8` for its `defParamCharset: 'utf8'`). */
  getDecoder(charset: string): Decoder;
  /** A `Content-Disposition` value's type (lower case) and parameters, or `undefined` when busboy cannot read it. */
  parseDisposition(value: string, decoder: Decoder): { type: string; params: Record<string, string> } | undefined;
};

/** busboy's decoder of parameter values, as the form parser configures it (`defParamCharset: 'utf8'`). */
const PARAMETER_DECODER = busboyUtils.getDecoder('utf8');

/** True when busboy reads `value` (a part's `Content-Disposition`), false when it would drop the part. */
export function busboyReadsDisposition(value: string): boolean {
  return busboyUtils.parseDisposition(value, PARAMETER_DECODER) !== undefined;
}
