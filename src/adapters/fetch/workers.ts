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

/**
 * A request field value as the octets it was sent as, one character U+0000–U+00FF each
 * (docs/spec.md §2.2, as Node's parser, Bun and Deno give them), from workerd's `Headers`,
 * which decode them as UTF-8 (`café` sent in UTF-8 arrives as 4 characters, `€` as U+20AC).
 * An ASCII value is returned as it is. Octets that were no UTF-8 cannot be recovered: workerd
 * made each a U+FFFD, whose own octets (EF BF BD) are given.
 */
export function fieldOctets(value: string): string {
  let i = 0;
  while (i < value.length && value.charCodeAt(i) < 0x80) i++;
  if (i === value.length) return value;
  const bytes = encoder.encode(value);
  let octets = '';
  for (let j = 0; j < bytes.length; j++) octets += String.fromCharCode(bytes[j]!);
  return octets;
}
