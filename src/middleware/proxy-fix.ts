/**
 * Trusting the headers a reverse proxy adds: Werkzeug's `ProxyFix`, plus RFC 7239
 * `Forwarded`.
 *
 * @module
 */
import { isIP } from 'node:net';
import proxyAddr from 'proxy-addr';
import { type App, type AppLike, type Environ, toApp } from '../gateway/types.ts';
import { defineEnvironKey } from '../gateway/environ-key.ts';
import { prependScriptName } from '../gateway/script-name.ts';
import { Cursor } from '../http/syntax.ts';
import { unquotePath } from '../http/url.ts';
import { splitHost } from '../request/request.ts';
import { isValidHost } from '../http/host.ts';
import { isTrustedHost, trustedHostsKey } from '../http/trusted-hosts.ts';
import { HTTPBadRequest } from '../exceptions/client-errors.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';

/** Options of {@link proxyFix}: how many proxies to trust for each header (default 0 = none). */
export interface ProxyFixOptions {
  /** Hops of `X-Forwarded-For` to trust → `REMOTE_ADDR` (and `REMOTE_PORT`). */
  xFor?: number | undefined;
  /** Hops of `X-Forwarded-Proto` → `tsgi.url_scheme`. */
  xProto?: number | undefined;
  /** Hops of `X-Forwarded-Host` → `HTTP_HOST`, `SERVER_NAME`, `SERVER_PORT`. */
  xHost?: number | undefined;
  /** Hops of `X-Forwarded-Port` → the port of `HTTP_HOST`, `SERVER_PORT`. */
  xPort?: number | undefined;
  /** Hops of `X-Forwarded-Prefix` → prepended to `SCRIPT_NAME`. */
  xPrefix?: number | undefined;
  /** Hops of RFC 7239 `Forwarded` → `for=`, `proto=`, `host=` as above. */
  forwarded?: number | undefined;
  /**
   * Rewrite only when the direct peer (`REMOTE_ADDR`) is one of these proxies: addresses,
   * CIDR ranges or the names `loopback`, `linklocal`, `uniquelocal` (as `proxy-addr`), or a
   * function `(addr, i) => boolean`. Default: any peer (the hop counts alone decide).
   */
  trust?: string | readonly string[] | ((addr: string, i: number) => boolean) | undefined;
}

/** Every option of {@link ProxyFixOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const PROXY_FIX_OPTIONS = { xFor: true, xProto: true, xHost: true, xPort: true, xPrefix: true, forwarded: true, trust: true } as const satisfies OptionNames<ProxyFixOptions>;

/** The values {@link proxyFix} may replace, as they were (`undefined` when absent). */
export interface ProxyFixOrig {
  /** The direct peer's address (the proxy), which `X-Forwarded-For` / `Forwarded: for=` replaces. */
  REMOTE_ADDR: string | undefined;
  /** The direct peer's port, as a decimal string. */
  REMOTE_PORT: string | undefined;
  /** `http` or `https` as the proxy connected, which `X-Forwarded-Proto` / `Forwarded: proto=` replaces. */
  'tsgi.url_scheme': string;
  /** The `Host` the proxy sent, which `X-Forwarded-Host` / `Forwarded: host=` (and `X-Forwarded-Port`) replace. */
  HTTP_HOST: string | undefined;
  /** The server name before the rewrite. */
  SERVER_NAME: string;
  /** The server port before the rewrite, as a decimal string. */
  SERVER_PORT: string;
  /** The mount prefix before `X-Forwarded-Prefix` was prepended (`''` at the root). */
  SCRIPT_NAME: string;
}

/**
 * The environ as the proxy's request left it, before {@link proxyFix} rewrote it: environ key
 * `tsgi.proxy_fix_orig` (Werkzeug's `werkzeug.proxy_fix.orig`), set on every request that
 * passes `proxyFix`, rewritten or not.
 *
 * @example
 * ```ts
 * const proxyAddress = proxyFixOrigKey.get(req)?.REMOTE_ADDR; // the peer, before X-Forwarded-For
 * ```
 */
export const proxyFixOrigKey = defineEnvironKey<ProxyFixOrig>('tsgi.proxy_fix_orig');

/**
 * Makes the environ describe the client's request instead of the proxy's, from the headers
 * trusted proxies add (Werkzeug `ProxyFix`). **Nothing is trusted unless configured**: every
 * hop count defaults to 0, unlike Werkzeug's `x_for=1, x_proto=1`, so adding the middleware
 * without options changes nothing. Set each count to the number of proxies in front of the
 * app that set that header.
 *
 * Each proxy appends to the list it received, so with `n` trusted proxies the value to use is
 * the `n`-th from the right; the ones further left came from the client and are ignored. A
 * header with fewer values than trusted hops is ignored as a whole (something is off), and so
 * is a value that does not parse (an address that is not IPv4/IPv6, a scheme, host, port or
 * path prefix with invalid characters, a malformed element among the trusted ones of
 * `Forwarded`; a malformed one further left is the client's, and is not read).
 *
 * - `X-Forwarded-For` / `Forwarded: for=` → `REMOTE_ADDR` (`REMOTE_PORT` when a port is
 *   given, as in `for="[2001:db8::1]:4711"`; removed otherwise). Obfuscated or `unknown`
 *   nodes are ignored.
 * - `X-Forwarded-Proto` / `proto=` → `tsgi.url_scheme` (lower-cased; `wss` and `ws`, which
 *   Traefik sends for a WebSocket handshake, as `https` and `http`).
 * - `X-Forwarded-Host` / `host=` → `HTTP_HOST` and `SERVER_NAME`; `SERVER_PORT` becomes its
 *   port, or the scheme's default (80/443) when it has none (Werkzeug leaves `SERVER_PORT`).
 *   Under a server given `trustedHosts` (`serve()`, `toNodeHandler`, `toFetchHandler`), a
 *   forwarded host the list does not name answers `400 Bad Request` (`untrusted Host
 *   header`) without calling the app, as the server answers such a `Host` and as Werkzeug
 *   checks `trusted_hosts` on the host `ProxyFix` set; `HTTP_HOST`, `SERVER_NAME` and
 *   `SERVER_PORT` are then left as they came (the client's address and scheme are rewritten,
 *   for the access log).
 * - `X-Forwarded-Port` → replaces the port of `HTTP_HOST` and `SERVER_PORT`.
 * - `X-Forwarded-Prefix` → percent-decoded, trailing slashes dropped, prepended to
 *   `SCRIPT_NAME`, so `req.applicationUrl` and redirects include the proxy's mount path. Not
 *   for `OPTIONS *` (`PATH_INFO` `*`), which names the server, not a path (RFC 9112 §3.2.4):
 *   `SCRIPT_NAME` stays as it was, so `req.url` is `scheme://host` (§3.3) and the environ
 *   stays one `lint` accepts (see `prependScriptName`; Werkzeug's `ProxyFix` sets
 *   `SCRIPT_NAME` whatever the path).
 *
 * `Forwarded` and `X-Forwarded-*` are alternatives; when both are configured, a value from
 * `Forwarded` wins over its `X-Forwarded-*` counterpart. The original values are kept under
 * {@link proxyFixOrigKey} (`environ['tsgi.proxy_fix_orig']`, a {@link ProxyFixOrig}).
 *
 * @example
 * ```ts
 * import { proxyFix } from 'tsgi/middleware';
 *
 * // Behind one nginx that sets X-Forwarded-For, -Proto and -Host:
 * export const app = proxyFix(site, { xFor: 1, xProto: 1, xHost: 1, trust: 'loopback' });
 * ```
 *
 * @throws TypeError (at once) for a hop count that is not a non-negative integer, or an
 *   invalid `trust` address (from `proxy-addr`).
 */
export function proxyFix(app: AppLike, options: ProxyFixOptions = {}): App {
  const inner = toApp(app);
  checkOptions('proxyFix', options, PROXY_FIX_OPTIONS);
  const fix = proxyFixer(options);
  return (environ, startResponse) => {
    try {
      fix(environ);
    } catch (error) {
      // A forwarded host outside the server's `trustedHosts` (see `proxyFixer`): its 400.
      if (error instanceof HTTPBadRequest) return error.respond(environ, startResponse);
      throw error;
    }
    return inner(environ, startResponse);
  };
}

/**
 * The rewrite {@link proxyFix} makes to each request's environ with `options`, on its own:
 * for a request no app sees (`tsgi serve --proxy-headers` applies it to an upgrade's
 * `context.environ`). Sets {@link proxyFixOrigKey} and rewrites when the peer is trusted.
 * Not exported from the package.
 *
 * @throws TypeError (at once) as {@link proxyFix}; the edit throws `HTTPBadRequest` (400
 *   `untrusted Host header`) for a forwarded host outside the server's `trustedHosts`, with
 *   `HTTP_HOST`, `SERVER_NAME` and `SERVER_PORT` put back as they came.
 */
export function proxyFixer(options: ProxyFixOptions = {}): (environ: Environ) => void {
  const hops = {
    xFor: count(options.xFor, 'xFor'),
    xProto: count(options.xProto, 'xProto'),
    xHost: count(options.xHost, 'xHost'),
    xPort: count(options.xPort, 'xPort'),
    xPrefix: count(options.xPrefix, 'xPrefix'),
    forwarded: count(options.forwarded, 'forwarded'),
  };
  const trust = options.trust;
  const trusted =
    trust === undefined ? null : typeof trust === 'function' ? trust : proxyAddr.compile(trust as string | string[]);
  return (environ) => {
    const orig: ProxyFixOrig = {
      REMOTE_ADDR: environ.REMOTE_ADDR,
      REMOTE_PORT: environ.REMOTE_PORT,
      'tsgi.url_scheme': environ['tsgi.url_scheme'],
      HTTP_HOST: environ.HTTP_HOST as string | undefined,
      SERVER_NAME: environ.SERVER_NAME,
      SERVER_PORT: environ.SERVER_PORT,
      SCRIPT_NAME: environ.SCRIPT_NAME,
    };
    proxyFixOrigKey.set(environ, orig);
    if (trusted === null || (orig.REMOTE_ADDR !== undefined && trusted(orig.REMOTE_ADDR, 0))) {
      rewrite(environ, hops);
      // The server's `trustedHosts` checked the Host this replaced: the forwarded one passes the same check.
      const trustedHosts = trustedHostsKey.get(environ);
      if (trustedHosts !== undefined && environ.HTTP_HOST !== orig.HTTP_HOST && !isTrustedHost(environ.HTTP_HOST as string, trustedHosts)) {
        // Not left in the environ: a caller that drops the 400 (an upgrade handler running
        // `proxyFix` over `context.environ`) reads the Host the server checked, not this one.
        environ.HTTP_HOST = orig.HTTP_HOST;
        environ.SERVER_NAME = orig.SERVER_NAME;
        environ.SERVER_PORT = orig.SERVER_PORT;
        throw new HTTPBadRequest('untrusted Host header');
      }
    }
  };
}

function count(value: number | undefined, name: string): number {
  if (value === undefined) return 0;
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`proxyFix: ${name} must be a non-negative integer`);
  return value;
}

type Hops = Record<'xFor' | 'xProto' | 'xHost' | 'xPort' | 'xPrefix' | 'forwarded', number>;

function rewrite(environ: Environ, hops: Hops): void {
  const header = (name: string) => environ[`HTTP_${name}`] as string | undefined;
  let node = parseNode(fromRight(header('X_FORWARDED_FOR'), hops.xFor));
  let proto = parseProto(fromRight(header('X_FORWARDED_PROTO'), hops.xProto));
  let host = parseHostValue(fromRight(header('X_FORWARDED_HOST'), hops.xHost));
  const port = parsePort(fromRight(header('X_FORWARDED_PORT'), hops.xPort));
  const prefix = parsePrefix(fromRight(header('X_FORWARDED_PREFIX'), hops.xPrefix));
  if (hops.forwarded > 0) {
    const element = forwardedFromRight(header('FORWARDED'), hops.forwarded);
    if (element) {
      if (element.for !== undefined) node = parseNode(element.for) ?? node;
      if (element.proto !== undefined) proto = parseProto(element.proto) ?? proto;
      if (element.host !== undefined) host = parseHostValue(element.host) ?? host;
    }
  }
  if (node) {
    environ.REMOTE_ADDR = node.address;
    // Not `delete`: a deleted key turns the environ into a slow dictionary-mode object.
    environ.REMOTE_PORT = node.port ?? undefined;
  }
  if (proto) environ['tsgi.url_scheme'] = proto;
  if (host) {
    const [name, hostPort] = splitHost(host);
    environ.HTTP_HOST = host;
    environ.SERVER_NAME = name;
    const scheme = environ['tsgi.url_scheme'];
    if (hostPort !== null) environ.SERVER_PORT = String(hostPort);
    else if (scheme === 'https' || scheme === 'http') environ.SERVER_PORT = scheme === 'https' ? '443' : '80';
  }
  if (port) {
    const current = environ.HTTP_HOST;
    if (typeof current === 'string' && current !== '') environ.HTTP_HOST = `${splitHost(current)[0]}:${port}`;
    environ.SERVER_PORT = port;
  }
  if (prefix) prependScriptName(environ, prefix);
}

/**
 * The `hops`-th value from the right of a comma-separated header, trimmed; `null` when
 * `hops` is 0, the header is absent, or it has fewer values than `hops`.
 */
function fromRight(value: string | undefined, hops: number): string | null {
  if (hops === 0 || typeof value !== 'string') return null;
  const values = value.split(',');
  if (values.length < hops) return null;
  const picked = values[values.length - hops]!.trim();
  return picked === '' ? null : picked;
}

/**
 * The `hops`-th element from the right of a `Forwarded` value, parsed; `null` when the value
 * has fewer elements, or when one of its `hops` rightmost elements is malformed. Only those
 * are read: what lies further left was written by the client, and a malformed element there
 * (an open quote, a repeated parameter) must not hide the ones the trusted proxies appended,
 * as it cannot in `X-Forwarded-For`. Elements are found from the right, pairing quotes from
 * the right too, so a well-formed suffix splits the same whatever precedes it.
 */
function forwardedFromRight(value: string | undefined, hops: number): Record<string, string> | null {
  if (typeof value !== 'string') return null;
  let start = 0;
  let found = 0;
  let quoted = false;
  let content = false; // the element being read holds more than whitespace
  for (let i = value.length - 1; i >= 0; i--) {
    const code = value.charCodeAt(i);
    if (quoted) {
      if (code !== 0x22) continue;
      let slashes = 0;
      while (i - slashes > 0 && value.charCodeAt(i - slashes - 1) === 0x5c) slashes++;
      if (slashes % 2 === 0) quoted = false; // else an escaped quote, inside the string
    } else if (code === 0x22) {
      quoted = true;
      content = true;
    } else if (code === 0x2c) {
      if (content && ++found === hops) {
        start = i + 1;
        break;
      }
      content = false;
    } else if (code !== 0x20 && code !== 0x09) {
      content = true;
    }
  }
  const elements = parseForwarded(value.slice(start));
  return elements !== null && elements.length >= hops ? elements[elements.length - hops]! : null;
}

/** An IP address with an optional port: `1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]`, `[::1]:80`. */
function parseNode(value: string | null): { address: string; port: string | null } | null {
  if (value === null) return null;
  if (isIP(value)) return { address: value, port: null };
  let m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value);
  if (m && isIP(m[1]!) === 6) return { address: m[1]!, port: validPort(m[2]) };
  m = /^([\d.]+):(\d{1,5})$/.exec(value);
  if (m && isIP(m[1]!) === 4) return { address: m[1]!, port: validPort(m[2]) };
  return null;
}

function validPort(text: string | undefined): string | null {
  if (text === undefined) return null;
  const n = Number(text);
  return n > 0 && n <= 65535 ? String(n) : null;
}

/**
 * `http` or `https` (any case), lower-cased; `ws` and `wss`, which a proxy sends for a
 * WebSocket handshake (Traefik), as `http` and `https`, the schemes `tsgi.url_scheme` takes
 * (uvicorn maps the other way for its `ws` scope); any other scheme (`javascript`, `ftp`) is
 * ignored.
 */
function parseProto(value: string | null): string | null {
  const scheme = value?.toLowerCase();
  if (scheme === 'ws') return 'http';
  if (scheme === 'wss') return 'https';
  return scheme === 'http' || scheme === 'https' ? scheme : null;
}

/**
 * `host[:port]` as in a `Host` header: a reg-name, IPv4 or bracketed IPv6, optional port.
 * What the adapters take in a `Host` (`isValidHost`): no percent-encoding (`evil.com%2F..`
 * could become a path further on, and `a%` makes `req.url` no URL at all), nor a host no URL
 * can carry (`999.1.1.1`).
 */
function parseHostValue(value: string | null): string | null {
  if (value === null || !/^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+;=]+)(?::\d{1,5})?$/.test(value) || !isValidHost(value)) return null;
  const colon = value.lastIndexOf(':');
  if (colon > value.lastIndexOf(']') && validPort(value.slice(colon + 1)) === null) return null;
  return value;
}

function parsePort(value: string | null): string | null {
  return value !== null && /^\d{1,5}$/.test(value) ? validPort(value) : null;
}

/**
 * A path prefix: one `/` then segments of path characters (RFC 3986 `pchar`, percent-escapes
 * included); ignored when it has `//`, a `.` or `..` segment (before or after decoding), or a
 * character a path cannot have (`<`, `"`, a control character, a backslash; a space only
 * percent-encoded), so a
 * proxy's header can never turn URLs the app builds into another host's or a script.
 */
function parsePrefix(value: string | null): string | null {
  if (value === null || !/^(?:\/[A-Za-z0-9\-._~!$&'()*+,;=:@%]*)+$/.test(value)) return null;
  let decoded: string;
  try {
    decoded = unquotePath(value);
  } catch {
    return null;
  }
  // A loop, not `/\/+$/`: that regex backtracks over every run of slashes (quadratic: 0.3 s of
  // CPU for a 16 KB value of slashes).
  let end = decoded.length;
  while (end > 0 && decoded.charCodeAt(end - 1) === 47) end--;
  decoded = decoded.slice(0, end);
  if (decoded === '' || /[\x00-\x1f\x7f"<>\\^`{|}]/.test(decoded)) return null;
  const segments = decoded.split('/').slice(1);
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) return null;
  return decoded;
}

/**
 * Parses an RFC 7239 `Forwarded` value into its elements, left to right, each a record of
 * its parameters (names lower-cased, quoted-strings unquoted): `for=192.0.2.60;proto=http,
 * for="[2001:db8::1]:4711"` → `[{ for: '192.0.2.60', proto: 'http' }, { for:
 * '[2001:db8::1]:4711' }]`. Whitespace around `,` and `;` is allowed; empty elements are
 * skipped.
 *
 * @returns the elements, or `null` when the value is absent or malformed anywhere: a
 *   parameter without `=value`, an unterminated quoted-string, a parameter repeated within an
 *   element (§4), stray characters. Never throws.
 */
export function parseForwarded(value: string | null | undefined): Array<Record<string, string>> | null {
  if (typeof value !== 'string') return null;
  const c = new Cursor(value);
  const elements: Array<Record<string, string>> = [];
  let element: Record<string, string> = Object.create(null);
  c.ows();
  while (!c.done) {
    const name = c.token();
    if (name !== null) {
      if (!c.eat('=')) return null;
      const key = name.toLowerCase();
      const text = c.tokenOrQuoted();
      if (text === null || key in element) return null;
      element[key] = text;
    }
    c.ows();
    if (c.done) break;
    if (c.eat(',')) {
      if (Object.keys(element).length > 0) elements.push(element); // empty elements don't count (RFC 9110 §5.6.1.2)
      element = Object.create(null);
    } else if (!c.eat(';')) {
      return null;
    }
    c.ows();
  }
  if (Object.keys(element).length > 0) elements.push(element);
  return elements;
}
