/**
 * Host and port: the default port of each scheme, the host a request asked for, host names
 * as they are compared, and splitting `host[:port]`.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';

/** The default port of each URL scheme. */
export const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443, ws: 80, wss: 443 };

/**
 * @internal The host and port the client asked for (`Request.host`): the `Host` header as
 * sent (`HTTP_HOST`, e.g. `example.com:8080`), else `SERVER_NAME` (an IPv6 address put in
 * brackets, as Werkzeug does, without its `%zone`) with `:SERVER_PORT` unless it is the default
 * port of `tsgi.url_scheme`. Never throws.
 */
export function hostOf(environ: Environ): string {
  const header = environ.HTTP_HOST;
  if (typeof header === 'string' && header !== '') return header;
  const port = environ.SERVER_PORT;
  let name = environ.SERVER_NAME ?? '';
  if (name.includes(':') && !name.startsWith('[')) {
    // A zone (`fe80::1%eth0`, a server bound to a link-local address) names an interface of
    // this machine, means nothing to the client, and no URL can carry it: left out.
    const zone = name.indexOf('%');
    name = `[${zone === -1 ? name : name.slice(0, zone)}]`;
  }
  return port && Number(port) !== DEFAULT_PORTS[environ['tsgi.url_scheme']] ? `${name}:${port}` : name;
}

/**
 * @internal `name` with `:port`, unless `port` is the default port of `scheme` (in lower case,
 * as `tsgi.url_scheme` holds it: `http` 80, `https` 443, see {@link DEFAULT_PORTS}), which a
 * URL leaves out and Werkzeug's `get_host` drops: `example.com` for port 80 over `http`,
 * `example.com:8080`; a scheme without a default port (`''`) keeps every port. Never throws.
 */
export function withPort(name: string, port: number, scheme: string): string {
  return port === DEFAULT_PORTS[scheme] ? name : `${name}:${port}`;
}

/**
 * @internal A host name as hosts are compared: in lower case (RFC 3986 §3.2.2) and without a
 * trailing dot, so the fully qualified `Example.com.` is `example.com` (the root label names
 * the same host, RFC 1034 §3.1); an IPv6 literal in the one form of its address, brackets kept
 * (`[0:0::2]` is `[::2]`, see {@link ipv6Form}). `mount`'s host keys, `trustedHosts`, the
 * route map's `host` rules and `crossOriginProtection`'s `Origin` check compare so. Never throws.
 */
export function comparableHostName(name: string): string {
  const lower = name.toLowerCase();
  return ipv6Form(lower.endsWith('.') ? lower.slice(0, -1) : lower);
}

/**
 * @internal An IPv6 literal (`[2001:DB8:0::1]`, `[::0.0.0.2]`) in the one form of its address
 * (RFC 5952 §4: lower case, leading zeros and the longest run of zero groups compressed,
 * `[2001:db8::1]`, `[::2]`), as the WHATWG URL parser writes it and browsers send it; any other
 * name, a bracketed text that is no IPv6 address, or one followed by more (a port), as it is.
 * Host names compare so (see {@link comparableHostName}), and a route's `host` writes its
 * literals so. Never throws.
 */
export function ipv6Form(name: string): string {
  // A port after the literal (`[::1]:8000`) is no part of a name: the URL parser would drop it.
  if (!name.startsWith('[') || !name.endsWith(']')) return name;
  const url = `http://${name}/`;
  return URL.canParse(url) ? new URL(url).hostname : name;
}

/**
 * @internal A host name as a `Host` field carries it: an internationalized name written in
 * Unicode (`Bücher.example`) in its ASCII form (`xn--bcher-kva.example`, IDNA through the
 * WHATWG URL parser, as browsers write it), in lower case; an ASCII name only lower-cased. A
 * trailing dot is kept. `null` when no URL can carry the name, or when it holds what the URL
 * parser would read as no part of a host (user info `bücher@evil.example`, a port, a path, an
 * escape `%2E`, whitespace it strips), which would make it another host. For the names an
 * app is configured with (`trustedHosts`, `mount`'s host keys, a route's `host`), which would
 * otherwise never match. Never throws.
 */
export function asciiHostName(name: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(name)) return name.toLowerCase();
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f/\\?#@:%]/.test(name)) return null;
  const url = `http://${name}/`;
  return URL.canParse(url) ? new URL(url).hostname : null;
}

/**
 * @internal Labels of a host name (`Jürgen`, `shop.Bücher`: a placeholder's value in a route's
 * `host`) as a `Host` field carries them: each label in Unicode in its ASCII form
 * (`xn--jrgen-kva`, IDNA through the WHATWG URL parser, as {@link asciiHostName}), in lower
 * case. Read as labels, not as a whole host: `１` is `1`, where the host `１` is the IPv4
 * address `0.0.0.1`. `null` when no URL can carry them (see {@link asciiHostName}). Never throws.
 */
export function asciiLabels(text: string): string | null {
  // A last label of letters keeps the URL parser from reading digits as an IPv4 address.
  const ascii = asciiHostName(`${text}.x`);
  return ascii !== null && ascii.endsWith('.x') ? ascii.slice(0, -2) : null;
}

/**
 * Splits `host[:port]` into the name and the port number (`null` when absent or not a valid
 * port). IPv6 literals keep their brackets.
 */
export function splitHost(host: string): [string, number | null] {
  let name = host;
  let portText = '';
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close !== -1) {
      name = host.slice(0, close + 1);
      if (host.charCodeAt(close + 1) === 58) portText = host.slice(close + 2);
    }
  } else {
    const colon = host.lastIndexOf(':');
    if (colon !== -1) {
      name = host.slice(0, colon);
      portText = host.slice(colon + 1);
    }
  }
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : null;
  return [name, port !== null && port <= 65535 ? port : null];
}

/**
 * @internal True when `a` and `b`, two `host[:port]` values of a request to a `scheme` (`http`,
 * `https`), name the same host and port: host names as {@link comparableHostName} compares
 * them (case, a trailing dot, an IPv6 literal's spelling), a port left out (or empty) as the
 * scheme's default (RFC 3986 §6.2.3: `example.com:443` is `example.com` over https). A port
 * that is no port (`:99999`, `:x`) matches nothing but the same text. Never throws.
 */
export function sameHost(a: string, b: string, scheme: string): boolean {
  if (a === b) return true;
  const left = comparableHost(a, scheme);
  return left !== null && left === comparableHost(b, scheme);
}

/** `host[:port]` as {@link sameHost} compares it (`name:port`, the default port filled in), or `null` for a port that is none. */
function comparableHost(host: string, scheme: string): string | null {
  const [name, port] = splitHost(host);
  // `name:` with nothing after is the default port (RFC 3986 §3.2.3); any other text no port.
  if (port === null && host.length > name.length + 1) return null;
  return `${comparableHostName(name)}:${port ?? DEFAULT_PORTS[scheme] ?? ''}`;
}

/**
 * A host name whose last label (before any trailing dot) is a number, decimal or `0x` hex,
 * which the WHATWG URL parser reads as IPv4 ("ends in a number"); then an optional port.
 */
const ENDS_IN_NUMBER = /(?:^|\.)(?:\d+|0[xX][0-9A-Fa-f]*)\.?(?::\d*)?$/;

/** A `uri-host` (reg-name or IP literal), then an optional port of at most 65535. */
const VALID_HOST = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]*|\[[0-9A-Fa-f:.]+\])(?::(?:\d{0,4}|[0-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5]))?$/;

/**
 * @internal True for a `Host` value servers take: a `uri-host [ ":" port ]` (RFC 9112 §3.2,
 * RFC 3986 §3.2.2) without percent-encoding (no client puts any in a Host, and a decoder further
 * on could turn `evil.com%2F..` into a path), nor an IPv6 zone, nor a port above 65535 (no URL
 * can carry it, and `req.port` and `req.url` could not agree with `req.host`), nor a host no
 * URL can carry for another reason: a name whose last label is a number but that is no IPv4
 * address (`999.1.1.1`, `a.1`: the WHATWG URL parser reads such a name as IPv4 and fails),
 * an IPv6 literal that does not parse (`[::1::2]`) or a port without a name (`:80`), where
 * `req.url` would be no URL and `req.relativeUrl` would throw. The adapters and the test
 * client answer 400 to any other.
 */
export function isValidHost(host: string): boolean {
  // A server's requests name the same host over and over, and the answer depends on the value
  // alone: the last one found valid is answered by one comparison (50 against 8 ns a call).
  if (host === lastValidHost) return true;
  if (!VALID_HOST.test(host)) return false;
  // Only the hosts the URL parser may refuse are handed to it; a dotted quad is answered first.
  const first = host.charCodeAt(0);
  const doubtful = first === 91 || first === 58 || (!isDottedQuad(host) && ENDS_IN_NUMBER.test(host));
  if (doubtful && !URL.canParse(`http://${host}/`)) return false;
  lastValidHost = host;
  return true;
}

/** The last host {@link isValidHost} found valid (see there). */
let lastValidHost: string | undefined;

/**
 * True for four decimal numbers of at most 255 joined by dots, then an optional `:port` (already
 * checked): the IPv4 address a client behind a load balancer or a health check sends, answered
 * without the URL parser.
 */
function isDottedQuad(host: string): boolean {
  let dots = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < host.length; i++) {
    const code = host.charCodeAt(i);
    if (code >= 48 && code <= 57) {
      value = value * 10 + code - 48;
      if (++digits > 3 || value > 255) return false;
    } else if (code === 46 && digits > 0 && dots < 3) {
      dots++;
      value = 0;
      digits = 0;
    } else {
      return code === 58 && dots === 3 && digits > 0;
    }
  }
  return dots === 3 && digits > 0;
}

