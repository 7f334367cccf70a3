/**
 * A listening host written with its port (`'localhost:3000'`, a URL's habit), which Node would
 * look up as a host name (`getaddrinfo ENOTFOUND`): found for `serve()` and `tsgi serve --host`,
 * which each say what to write in their own terms.
 *
 * @module
 */

/**
 * The name and port of a host written `name:port` (`'localhost:3000'`, `'10.0.0.9:80'`), or an
 * IPv6 address in brackets with its port as a URL writes it (`'[::1]:8000'`, gunicorn's
 * `--bind` habit: the name is then `'::1'`, without its brackets); `null` for any other host:
 * an IPv6 address, bare (`'::1'`) or bracketed without a port (`'[::1]'`), has no single colon
 * and is not taken for one.
 */
export function hostWithPort(host: string): { name: string; port: string } | null {
  const match = /^([^:[\]]+):(\d+)$/.exec(host) ?? /^\[([^[\]]+)\]:(\d+)$/.exec(host);
  return match === null ? null : { name: match[1]!, port: match[2]! };
}
