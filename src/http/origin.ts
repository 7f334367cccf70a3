/**
 * Serialized origins (RFC 6454 §6.2, Fetch §3.2.1), as browsers send them in `Origin`: the
 * shape `cors` and `crossOriginProtection` check configured and incoming origins against.
 *
 * @module
 */

/**
 * A serialized origin (the URL standard's origin serializer): a lower-case scheme, `://`, a
 * lower-case host (a domain in ASCII, an IPv4 address, `[IPv6]`, or the opaque host of a
 * scheme such as `chrome-extension:`), and a port only when not the scheme's default. No user,
 * path, query or fragment.
 */
export const SERIALIZED_ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/(?:\[[0-9a-f:.]+\]|[a-z0-9!$&'()*+,;=_~%.-]+)(?::[0-9]{1,5})?$/;

/** `new URL(text)`, or `null` when it does not parse. */
export function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}
