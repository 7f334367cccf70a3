/**
 * Whether this code runs inside a Cloudflare Worker (workerd), where a few fetch behaviours
 * differ from the Fetch Standard's, and the request field values as the other servers give
 * them there ({@link fieldOctets}).
 *
 * @module
 */

/** True inside a Cloudflare Worker: `navigator.userAgent` is `Cloudflare-Workers` (the documented runtime check). */
export const inWorkers = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === 'Cloudflare-Workers';

const encoder = new TextEncoder();

/** True when every character of `value` is ASCII (below U+0080), the common field value. */
function isAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) >= 0x80) return false;
  return true;
}

/**
 * A request field value as the octets it was sent as, one character U+0000–U+00FF each
 * (docs/spec.md §2.2, as Node's parser, Bun and Deno give them), from workerd's `Headers`,
 * which decode them as UTF-8 (`café` sent in UTF-8 arrives as 4 characters, `€` as U+20AC).
 * An ASCII value is returned as it is. Octets that were no UTF-8 cannot be recovered: workerd
 * made each a U+FFFD, whose own octets (EF BF BD) are given.
 */
export function fieldOctets(value: string): string {
  if (isAscii(value)) return value;
  const bytes = encoder.encode(value);
  let octets = '';
  for (let j = 0; j < bytes.length; j++) octets += String.fromCharCode(bytes[j]!);
  return octets;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The response fields an app gave, with each value whose characters are octets above 0x7F
 * (U+0080–U+00FF, docs/spec.md §5) made the text whose UTF-8 those octets are: workerd sends
 * a value's characters as UTF-8, so the octets of `café` (`cafÃ©`) went out coded twice, and a
 * field value the app passed on from the request (the environ's octets, {@link fieldOctets})
 * came back other than it was sent. Octets that are no UTF-8 (a latin-1 `é`) cannot go out as
 * they are on workerd: such a value is left, and workerd sends its characters' UTF-8. The
 * array is returned as it is when no value changes.
 */
export function fieldsAsText(fields: Array<[string, string]>): Array<[string, string]> {
  let out = fields;
  for (let i = 0; i < fields.length; i++) {
    const value = fields[i]![1];
    const text = octetsAsText(value);
    if (text === value) continue;
    if (out === fields) out = fields.slice();
    out[i] = [fields[i]![0], text];
  }
  return out;
}

/**
 * `value`'s characters as octets (U+0000–U+00FF each), decoded as UTF-8: the text workerd's
 * `Headers` would have given for those octets. `value` itself when it is ASCII, when a
 * character is past U+00FF (no octet), or when its octets are no UTF-8.
 */
export function octetsAsText(value: string): string {
  if (isAscii(value)) return value;
  const bytes = new Uint8Array(value.length);
  for (let j = 0; j < value.length; j++) {
    const code = value.charCodeAt(j);
    if (code > 0xff) return value;
    bytes[j] = code;
  }
  try {
    return decoder.decode(bytes);
  } catch {
    return value;
  }
}
