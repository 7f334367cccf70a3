/**
 * A listening host written as more than an address: with its port (`'localhost:3000'`,
 * `'[::1]:8000'`), in brackets (`'[::1]'`), as a URL (`'http://localhost:3000'`) or with white
 * space (`'localhost '`, from an environment file's line), each of
 * which Node would look up as a host name (`getaddrinfo ENOTFOUND`): found for `serve()` and
 * `tsgi serve --host`, which each say what to write in their own terms.
 *
 * @module
 */

/**
 * What a listening host holds besides its address, with the address (`name`, an IPv6 one
 * without brackets) and the port to give apart: `port` for `'localhost:3000'` or
 * `'[::1]:8000'`; `brackets` for `'[::1]'`; `url` for `'http://localhost:3000'` (`name` and
 * `port` undefined where the URL has none); `space` for `'localhost '` (`name` the host
 * trimmed, undefined when white space is left inside or nothing else).
 */
export type HostMistake =
  | { readonly kind: 'space'; readonly name: string | undefined }
  | { readonly kind: 'port'; readonly name: string; readonly port: string }
  | { readonly kind: 'brackets'; readonly name: string }
  | { readonly kind: 'url'; readonly name: string | undefined; readonly port: string | undefined };

/**
 * What `host` holds besides an address to listen on ({@link HostMistake}), or `null` for an
 * address alone: a name (`'localhost'`, `'host-2'`), an IPv4 address, or a bare IPv6 one
 * (`'::1'`, `'::'`, `'fe80::1%eth0'`), which has no single colon and is not taken for a name
 * and a port.
 */
export function hostMistake(host: string): HostMistake | null {
  if (/\s/.test(host)) {
    const name = host.trim();
    return { kind: 'space', name: name === '' || /\s/.test(name) ? undefined : name };
  }
  const withPort = /^([^:[\]]+):(\d+)$/.exec(host) ?? /^\[([^[\]]+)\]:(\d+)$/.exec(host);
  if (withPort !== null) return { kind: 'port', name: withPort[1]!, port: withPort[2]! };
  const bracketed = /^\[([^[\]]+)\]$/.exec(host);
  if (bracketed !== null) return { kind: 'brackets', name: bracketed[1]! };
  if (!/^[a-z][a-z\d+.-]*:\/\//i.test(host)) return null;
  const url = URL.canParse(host) ? new URL(host) : undefined;
  const name = url === undefined || url.hostname === '' ? undefined : url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { kind: 'url', name, port: name === undefined || url!.port === '' ? undefined : url!.port };
}
