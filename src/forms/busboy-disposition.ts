/**
 * busboy's own `Content-Disposition` and part `Content-Type` parsers (busboy 1.6's internal `lib/utils.js`; busboy has no
 * `exports` map, so the file is reachable, and ships no types for it: the shape used is typed
 * here). busboy drops a part whose header this parser cannot read, without a word; the
 * multipart guard asks it first, so the parse refuses such a part instead (`multipart-guard.ts`).
 * The module is handed over by `busboy-loader.ts`, which imports it with busboy at the first
 * multipart body.
 *
 * @module
 */

/** Decodes a parameter's bytes (read as latin1 text) in a charset; `undefined` when it cannot. */
type Decoder = (data: string, hint: number) => string | undefined;

/** The part of `busboy/lib/utils.js` used here. */
interface BusboyUtils {
  /** busboy's decoder for `charset` (`latin1` for its `defParamCharset: 'latin1'`). */
  getDecoder(charset: string): Decoder;
  /** A `Content-Disposition` value's type (lower case) and parameters, or `undefined` when busboy cannot read it. */
  parseDisposition(value: string, decoder: Decoder): { type: string; params: Record<string, string> } | undefined;
  /** busboy's `Content-Type` parser: the type, subtype (lower case) and parameters, or `undefined` when it cannot read the value. */
  parseContentType(value: string): { type: string; subtype: string; params?: Record<string, string> } | undefined;
}

/** busboy's reading of a part's `Content-Disposition` value ({@link BusboyPartReader.readDisposition}). */
export interface BusboyDisposition {
  /** The field name busboy hands the part over with: its `name` parameter, `undefined` when absent or empty. */
  name: string | undefined;
  /**
   * True when busboy reads a filename, which makes the part a file to it: a `filename*` (RFC
   * 8187) it decodes to a non-empty name, in any charset it decodes (`us-ascii''a.txt`,
   * `latin1''…` too), or else a non-empty `filename`.
   */
  namesFile: boolean;
}

/** How busboy reads a part's head, asked by the multipart guard before busboy sees the part. */
export interface BusboyPartReader {
  /** busboy's reading of `value` (a part's `Content-Disposition`), `undefined` when it cannot read it (it then drops the part). */
  readDisposition(value: string): BusboyDisposition | undefined;
  /**
   * The `charset` busboy decodes a text part in by the part's own `Content-Type` (lower case), as
   * busboy reads it: `undefined` when the part has none, or one busboy's parser cannot read (busboy
   * then decodes the part in its default charset).
   */
  partCharset(contentType: string | undefined): string | undefined;
  /**
   * The media type busboy gives a part by its own `Content-Type` (`type/subtype`, lower case),
   * as it reads it to tell a file from a text field: `text/plain` when the part has none, or
   * one busboy's parser cannot read (`application/octet-stream;`, a trailing `;`).
   */
  partType(contentType: string | undefined): string;
}

/**
 * busboy's own reading of a part's head ({@link BusboyPartReader}), made from its utilities
 * once `busboy-loader.ts` imported them: the decoder of parameter values is made once here.
 *
 * @param utils - the default export of `busboy/lib/utils.js`.
 */
export function busboyPartReader(utils: unknown): BusboyPartReader {
  const busboyUtils = utils as BusboyUtils;
  /** busboy's decoder of parameter values, as the form parser configures it (`defParamCharset: 'latin1'`: their bytes, decoded by the parser in the form's charset). */
  const parameterDecoder = busboyUtils.getDecoder('latin1');
  return {
    readDisposition(value) {
      const read = busboyUtils.parseDisposition(value, parameterDecoder);
      if (read === undefined) return undefined;
      const params = read.params;
      // busboy's own tests: the parameters' truthiness, `filename*` first.
      return { name: params.name || undefined, namesFile: Boolean(params['filename*'] || params.filename) };
    },
    partCharset(contentType) {
      if (contentType === undefined || contentType === '') return undefined;
      const charset = busboyUtils.parseContentType(contentType)?.params?.charset;
      return typeof charset === 'string' ? charset.toLowerCase() : undefined;
    },
    partType(contentType) {
      const parsed = contentType ? busboyUtils.parseContentType(contentType) : undefined;
      return parsed === undefined ? 'text/plain' : `${parsed.type}/${parsed.subtype}`;
    },
  };
}
