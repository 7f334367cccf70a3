/**
 * `Content-Type` parsing and formatting around the `content-type` package, made lenient:
 * a malformed header never throws here.
 *
 * On `content-type` 1.x on purpose: 3.x's `parse` validates nothing (it takes `text/`,
 * `garbage`, `text/html, text/plain`, a CR or LF, controls in values, and answers some type
 * for each), and {@link parseMediaTypeStrict} (a value being set) and the "well-formed
 * parameters only" of {@link parseMediaType} rest on 1.x refusing those; 3.x's `format` also
 * keeps parameters in the given order where 1.x sorts them.
 *
 * @module
 */
import contentType from 'content-type';
import { Cursor } from './syntax.ts';
import { addNameOnce } from './unique-names.ts';

/** A media type split into its type and parameters (RFC 9110 §8.3.1). */
export interface MediaType {
  /**
   * `type/subtype` (two tokens, RFC 9110 §8.3.1), lower-cased, or `''` when the header is
   * empty or what precedes its first `;` is not one (`text/`, `a, b`, `text/html/x`).
   */
  type: string;
  /** Parameters with lower-cased names and unquoted values. */
  parameters: Record<string, string>;
}

/**
 * Parses a `Content-Type` value. A value `content-type` rejects (a stray `;`, a parameter
 * without `=`, a bad quoted string, a repeated parameter…) still yields the part before the
 * first `;`, lower-cased and trimmed, when it is a `type/subtype` (`''` when it is not: `text/`,
 * `a, b`, `text/html/x`; Werkzeug's `parse_options_header` answers those as written), and every
 * parameter that is well-formed on its own, so callers never see a throw. Of a
 * repeated parameter (`boundary=a; boundary=b`, names compared case-insensitively) the first
 * one counts, as busboy reads a multipart body's boundary: the form limits, which watch for the
 * boundary read here, then watch the one that splits the body.
 */
export function parseMediaType(value: string | null | undefined): MediaType {
  if (!value) return { type: '', parameters: Object.create(null) };
  try {
    return parseMediaTypeStrict(value);
  } catch {
    return parseLeniently(value).media;
  }
}

/**
 * Parses a `Content-Type` value that is about to be sent (a value being set, not one
 * received): strictly, so a bad parameter is refused instead of silently dropped.
 *
 * @throws TypeError naming the value when `content-type` rejects it (a CR or LF, a stray `;`,
 *   a parameter without `=`, a bad quoted string), or when a parameter is repeated.
 */
export function parseMediaTypeStrict(value: string): MediaType {
  let parsed: contentType.ParsedMediaType;
  try {
    parsed = contentType.parse(value);
  } catch (error) {
    throw new TypeError(`invalid media type ${JSON.stringify(value)}: ${(error as Error).message}`, { cause: error });
  }
  // `content-type` keeps the last of a repeated parameter without a word; look for one when
  // there are two parameters or more.
  const semi = value.indexOf(';');
  if (semi !== value.lastIndexOf(';')) {
    const repeated = parseLeniently(value).repeated;
    if (repeated !== null) throw new TypeError(`invalid media type ${JSON.stringify(value)}: repeated parameter ${JSON.stringify(repeated)}`);
  }
  const parameters: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(parsed.parameters)) parameters[k] = v;
  return { type: parsed.type, parameters };
}

/**
 * Reads the type (what precedes the first `;`, trimmed and lower-cased; `''` when it is not a
 * `type/subtype`) and each parameter
 * that is well-formed on its own: `token BWS "=" BWS (token / quoted-string)`. A malformed one
 * is skipped up to the next `;` outside a quoted-string; of a repeated name the first counts,
 * and `repeated` names the first repetition found (`null` when none).
 */
function parseLeniently(value: string): { media: MediaType; repeated: string | null } {
  const semi = value.indexOf(';');
  const written = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
  const type = isMediaType(written) ? written : '';
  const parameters: Record<string, string> = Object.create(null);
  let repeated: string | null = null;
  if (semi !== -1) {
    const c = new Cursor(value);
    c.pos = semi + 1;
    while (!c.done) {
      c.ows();
      const name = c.token()?.toLowerCase();
      c.ows();
      let parameter: string | null = null;
      if (name !== undefined && c.eat('=')) {
        c.ows();
        parameter = c.tokenOrQuoted();
        c.ows();
      }
      if (name !== undefined && parameter !== null && (c.done || c.peek() === 0x3b)) {
        if (parameters[name] === undefined) parameters[name] = parameter;
        else repeated ??= name;
      } else {
        c.skipTo(0x3b);
      }
      c.eat(';');
    }
  }
  return { media: { type, parameters }, repeated };
}

/** True for a `type/subtype` of tokens (RFC 9110 §8.3.1), the part `formatMediaType` checks. */
export function isMediaType(type: string): boolean {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(type);
}

/** The message for a parameter given twice, in any case (see {@link formatMediaType}). */
const parameterTwice = (name: string) =>
  `invalid media type parameters: parameter ${JSON.stringify(name)} ` +
  'is given twice (names are case-insensitive)';

/**
 * Formats a media type and parameters into a `Content-Type` value, quoting where needed.
 *
 * @throws TypeError for an invalid type or parameter name (from `content-type`), or a
 *   parameter name given twice in any case (`charset` and `Charset`: names are
 *   case-insensitive, RFC 9110 §8.3.1, and {@link parseMediaTypeStrict} refuses the repetition).
 */
export function formatMediaType(type: string, parameters: Record<string, string> = {}): string {
  const names = new Set<string>();
  for (const name of Object.keys(parameters)) addNameOnce(names, name, parameterTwice);
  return contentType.format({ type, parameters });
}

/**
 * True for media types that carry text and so take a `charset` parameter: `text/*`, and the
 * XML, JavaScript and form types WebOb also treats as text. JSON is not among them
 * (RFC 8259 §11 defines no charset parameter).
 */
export function isTextType(type: string): boolean {
  return (
    type.startsWith('text/') ||
    type.endsWith('+xml') ||
    type === 'application/xml' ||
    type === 'application/javascript' ||
    type === 'application/ecmascript' ||
    type === 'application/x-www-form-urlencoded'
  );
}
