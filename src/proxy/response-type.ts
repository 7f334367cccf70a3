/**
 * The media type of an answer, as the response filters read it to decide whether to rewrite it.
 * Internal: not part of the public API.
 *
 * @module
 */
import { sameFieldName } from '../gateway/fields.ts';
import type { HeaderList } from '../http/header-list.ts';
import { type MediaType, parseMediaType } from '../http/media-type.ts';

/**
 * The media type `headers` give their content (`parseMediaType` of the `Content-Type`), or no
 * type (`type: ''`, as for none) when that is not one media type: two `Content-Type` fields, or
 * a value that is a list (`text/html; charset=utf-8, text/plain`: a comma outside a quoted
 * string). A browser reads such a field as the last type it lists (Fetch, "extract a MIME
 * type"), so a filter that took the first would rewrite what the browser reads as other text:
 * the answer passes unfiltered. The fields are walked once without a copy; a value is looked
 * at for a list only when it holds a comma.
 */
export function responseMediaType(headers: HeaderList): MediaType {
  let value: string | null = null;
  const list = headers.list;
  for (let i = 0; i < list.length; i++) {
    const pair = list[i]!;
    if (!sameFieldName(pair[0], 'content-type')) continue;
    if (value !== null) return parseMediaType(null);
    value = pair[1];
  }
  return parseMediaType(value === null || isList(value) ? null : value);
}

/** True when `value` holds a comma outside a quoted string (RFC 9110 §5.6.4: `\` escapes the next character there). */
function isList(value: string): boolean {
  if (!value.includes(',')) return false;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted && c === 0x5c) i++;
    else if (c === 0x22) quoted = !quoted;
    else if (c === 0x2c && !quoted) return true;
  }
  return false;
}
