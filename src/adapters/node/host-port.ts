/**
 * A listening host written with its port (`'localhost:3000'`, a URL's habit), which Node would
 * look up as a host name (`getaddrinfo ENOTFOUND`): found for `serve()` and `tsgi serve --host`,
 * which each say what to write in their own terms.
 *
 * @module
 */

/**
 * The name and port of a host written `name:port` (`'localhost:3000'`, `'10.0.0.9:80'`), or
 * `null` for any other host: an IPv6 address, bare (`'::1'`) or bracketed (`'[::1]'`), has no
 * single colon and is not taken for one.
 */
export function hostWithPort(host: string): { name: string; port: string } | null {
  const match = /^([^:[\]]+):(\d+)$/.exec(host);
  return match === null ? null : { name: match[1]!, port: match[2]! };
}
