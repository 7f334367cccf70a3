/**
 * `Content-Type` parsing and formatting around the `content-type` package, made lenient:
 * a malformed header never throws here.
 *
 * @module
 */
import contentType from 'content-type';

/** A media type split into its type and parameters (RFC 9110 §8.3.1). */
export interface MediaType {
  /** `type/subtype`, lower-cased, or `''` when the header is empty. */
  type: string;
  /** Parameters with lower-cased names and unquoted values. */
  parameters: Record<string, string>;
}

/**
 * Parses a `Content-Type` value. A value `content-type` rejects (a stray `;`, a parameter
 * without `=`, a bad quoted string…) still yields the part before the first `;`, lower-cased
 * and trimmed, and every parameter that is well-formed on its own, so callers never see a
 * throw (Werkzeug's `parse_options_header` is lenient the same way).
 */
export function parseMediaType(value: string | null | undefined): MediaType {
  if (!value) return { type: '', parameters: Object.create(null) };
  try {
    return parseMediaTypeStrict(value);
  } catch {
    return parseLeniently(value);
  }
}

/**
 * Parses a `Content-Type` value that is about to be sent (a value being set, not one
 * received): strictly, so a bad parameter is refused instead of silently dropped.
 *
 * @throws TypeError naming the value when `content-type` rejects it (a CR or LF, a stray `;`,
 *   a parameter without `=`, a bad quoted string).
 */
export function parseMediaTypeStrict(value: string): MediaType {
  try {
    const parsed = contentType.parse(value);
    const parameters: Record<string, string> = Object.create(null);
    for (const [k, v] of Object.entries(parsed.parameters)) parameters[k] = v;
    return { type: parsed.type, parameters };
  } catch (error) {
    throw new TypeError(`invalid media type ${JSON.stringify(value)}: ${(error as Error).message}`, { cause: error });
  }
}

const LENIENT_PARAM = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:([!#$%&'*+.^_`|~0-9A-Za-z-]+)|"((?:[^"\\]|\\.)*)")\s*$/;

function parseLeniently(value: string): MediaType {
  const parts = value.split(';');
  const type = parts[0]!.trim().toLowerCase();
  const parameters: Record<string, string> = Object.create(null);
  for (const part of parts.slice(1)) {
    const match = LENIENT_PARAM.exec(part);
    if (!match) continue;
    const name = match[1]!.toLowerCase();
    if (parameters[name] === undefined) parameters[name] = match[2] ?? match[3]!.replace(/\\(.)/g, '$1');
  }
  return { type, parameters };
}

/**
 * Formats a media type and parameters into a `Content-Type` value, quoting where needed.
 *
 * @throws TypeError for an invalid type or parameter name (from `content-type`).
 */
export function formatMediaType(type: string, parameters: Record<string, string> = {}): string {
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
