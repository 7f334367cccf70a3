/**
 * The environ rules every server adapter follows (docs/spec.md §2): what a request path, Host
 * and header field become in the environ, and which requests are refused before the app runs.
 * The Node adapter (`node/environ.ts`) and the fetch adapter (`fetch/environ.ts`) both build
 * their environ with these functions, so the two cannot drift apart.
 *
 * @module
 */
import type { Environ, LogStream } from '../gateway/types.ts';
import { headerEnvironKey, joinFieldValues } from '../gateway/header-keys.ts';
import { unquotePath } from '../http/url.ts';
import { hostRefusal } from '../http/trusted-hosts.ts';
import { repeatedFieldRefusal } from '../http/singleton-fields.ts';
import { credentialsRefusal } from '../http/second-credential.ts';
import { DEFAULT_MAX_HEADERS, fieldCountRefusal } from '../http/field-count.ts';
import { HTTPBadRequest, HTTPNotFound, HTTPRequestHeaderFieldsTooLarge } from '../exceptions/client-errors.ts';
import type { OptionNames } from '../gateway/option-names.ts';

/**
 * The environ options every adapter takes (`toNodeHandler`, `serve`, `toFetchHandler`): one
 * name per idea, whatever the server.
 */
export interface EnvironOptions {
  /**
   * `SERVER_NAME`; default what the server knows of itself (Node: the socket's local address,
   * or the bound host under `serve`; fetch: the host name of the request URL).
   *
   * @throws TypeError (from the adapter, when it is made) for a value that is no non-empty string.
   */
  serverName?: string | undefined;
  /**
   * `SERVER_PORT` (sent as its decimal string); default the socket's local port (Node) or the
   * request URL's port (fetch).
   *
   * @throws TypeError (from the adapter, when it is made) for a value that is no integer from 1
   *   to 65535 nor the decimal string of one (`'abc'`, `-1`, `'8000 '`).
   */
  serverPort?: number | string | undefined;
  /**
   * The mount point of the app on this server, decoded (`'/api'`): it becomes `SCRIPT_NAME`
   * and is taken off the front of `PATH_INFO`, as `mount()` would, for an app deployed under a
   * route (a Worker on `example.com/api/*`, a server behind a proxy that forwards `/api`). It
   * starts with `/` and does not end with one; default `''` (the root). A request whose path
   * is not under it (on a segment boundary) answers `404 Not Found` without calling the app.
   * `OPTIONS *` reaches the app with `SCRIPT_NAME` `''` and `PATH_INFO` `*`: the asterisk-form
   * names the server, not a path (RFC 9112 §3.2.4), so no mount point applies to it.
   *
   * @throws TypeError (from the adapter, when it is made) for a value of another shape.
   */
  scriptName?: string | undefined;
  /**
   * Where app errors are logged: the `tsgi.errors` of every request, and where the server
   * writes its own reports of app errors (`[tsgi] GET /path HTTP/1.1: <stack>`); under
   * `serve()`, also its connection-limit warning (`tsgi: connection limit reached …`) and the
   * line of its `close()` when it stopped waiting for work after the answers (`tsgi: the
   * graceful close stopped waiting …`). Default standard error (`stderrLog`). Pass
   * `{ write }` to capture them.
   *
   * @throws TypeError (from the adapter, when it is made) for a value without a `write` method.
   */
  log?: LogStream | undefined;
  /**
   * `tsgi.multiprocess`; default false (true under `tsgi serve --workers`, and under
   * `toFetchHandler` on Cloudflare Workers, whose isolates share no memory).
   */
  multiprocess?: boolean | undefined;
  /**
   * Most request header fields accepted; more answer `431 Request Header Fields Too Large`
   * without calling the app. Default 100 (gunicorn's `limit_request_fields`). The Node adapter
   * counts the fields as received, but for HTTP/2's Cookie lines ("crumbs", one per cookie,
   * RFC 9113 §8.2.3), which count as the one field (`HTTP_COOKIE`) they make; a fetch runtime hands over its `Headers`, where repeated
   * fields are already joined, so there each name counts once. The server's own limits apply
   * first (Node's `maxHeadersCount`, 2000 by default: past it Node 24 answers 431 itself).
   *
   * @throws TypeError (from the adapter, when it is made) for a value that is not a positive integer.
   */
  maxHeaders?: number | undefined;
  /**
   * The host names this app answers for (Werkzeug's `trusted_hosts`, Django's `ALLOWED_HOSTS`):
   * a request whose `Host` names another answers `400 Bad Request` without calling the app, so
   * the redirects and URLs it builds (`mount`'s and the static apps' 308s, `req.url`) can
   * never point at a host an attacker chose. Names are compared without the port, without
   * regard to case and without a fully qualified name's trailing dot (`example.com.` is
   * `example.com`, as routing reads it); one that starts with `.` also matches every
   * subdomain (`.example.com`: `example.com`, `www.example.com`). An internationalized name
   * may be written in Unicode (`bücher.example`): it is compared in the ASCII form browsers
   * send (`xn--bcher-kva.example`), as Werkzeug encodes its list to IDNA. A request without
   * `Host` (HTTP/1.0) builds its URLs from `SERVER_NAME` and passes. A `proxyFix` in the app
   * checks the host it puts in place of the `Host` (`X-Forwarded-Host`, `Forwarded: host=`)
   * against the same list (handed over as `tsgi.trusted_hosts`), as Werkzeug checks its list
   * after `ProxyFix`. Default: every host (set it in production).
   *
   * @throws TypeError (from the adapter, when it is made) for an entry no `Host` could match:
   *   with a port (`'localhost:8000'`: write `'localhost'`), a wildcard (`'*.example.com'`:
   *   write `'.example.com'`; `'*'`: leave the option out), a URL, a bare IPv6 address (`'::1'`:
   *   write `'[::1]'`), or no host name at all.
   */
  trustedHosts?: readonly string[] | undefined;
  /**
   * Query parameters whose values the server's error log never shows: in the request line
   * of every `tsgi.errors` line (`[tsgi] GET /reset?token=[Redacted] HTTP/1.1 500: …`), the
   * server's own and those of the layers in the app (`errors`, `timeout`, `proxy`…), each
   * non-empty value of a parameter so named is written `[Redacted]`, names matched without
   * regard to case once percent-decoded, as `accessLog`'s `redactQuery` does (see
   * `redactQuery`). Handed to the app as `tsgi.redact_query`, which the request line reads.
   * The error's own message is not changed: one that quotes a URL (a `fetch` failure's) is
   * written as it is. Give `accessLog` the same list for its lines (`tsgi serve
   * --access-log-redact` does both). Default none.
   *
   * @throws TypeError (from the adapter, when it is made) for a value that is no array of
   *   non-empty strings.
   */
  redactQuery?: readonly string[] | undefined;
  /**
   * A signal aborted when the server begins a graceful shutdown, given to the app as
   * `tsgi.shutdown_signal` (`req.shutdownSignal`, docs/spec.md §2.6). A `text/event-stream`
   * response being sent then ends at once, cleanly: a chunk in hand goes out, the response
   * ends as a complete one and its body's `return()` is called, so `EventSource` clients
   * reconnect, to a server still running, instead of holding the shutdown for its whole
   * timeout (Deno's `server.shutdown()` and Bun's `server.stop()` wait for them for ever).
   * The request's `tsgi.signal` (`req.signal`) aborts then, before the body is closed, with an
   * `AbortError` whose message is `server shutting down`, so a source waiting on it alone
   * stops and its `finally` runs (under `toFetchHandler`, whose `tsgi.signal` is then the
   * runtime's `request.signal` joined with the adapter's abort, `AbortSignal.any`).
   * `serve()` provides one that its `close()` aborts (joined with this one, when given); under
   * `toNodeHandler` and `toFetchHandler`, pass one that your own shutdown aborts. Default none
   * there.
   *
   * @throws TypeError (from the adapter, when it is made) for a value that is not an `AbortSignal`.
   */
  shutdownSignal?: AbortSignal | undefined;
}

/** Every option of {@link EnvironOptions}, for the option lists of the adapters (`checkOptions`); `tsc` fails when it and the type differ. */
export const ENVIRON_OPTIONS = { serverName: true, serverPort: true, scriptName: true, log: true, multiprocess: true, maxHeaders: true, trustedHosts: true, redactQuery: true, shutdownSignal: true } as const satisfies OptionNames<EnvironOptions>;

/** The default of {@link EnvironOptions.maxHeaders}. */
export { DEFAULT_MAX_HEADERS };

/**
 * A raw URL path (or Express mount path) percent-decoded as UTF-8 ({@link unquotePath}: a
 * path without `%` is returned as it is).
 *
 * @throws HTTPBadRequest for a malformed escape or invalid UTF-8 (overlong forms, surrogates,
 *   stray continuation bytes), as RFC 3629 requires.
 */
export function decodePath(raw: string): string {
  try {
    return unquotePath(raw);
  } catch {
    throw new HTTPBadRequest('malformed percent-escape or invalid UTF-8 in the path');
  }
}

const KEY_CACHE = new Map<string, string>();
const KEY_CACHE_MAX = 512;

/**
 * The environ key of a request header field: `Accept-Language` → `HTTP_ACCEPT_LANGUAGE`,
 * `Content-Type` → `CONTENT_TYPE` ({@link headerEnvironKey}, cached); `''` for names with `_`,
 * which are dropped (as nginx and gunicorn do, spec §2.2), and for HTTP/2 pseudo-header fields
 * (`:path`, `:authority`: the environ has them as `REQUEST_URI`, `HTTP_HOST`).
 */
export function headerKey(name: string): string {
  let key = KEY_CACHE.get(name);
  if (key !== undefined) return key;
  key = name.includes('_') || name.charCodeAt(0) === 58 /* : */ ? '' : headerEnvironKey(name);
  if (KEY_CACHE.size < KEY_CACHE_MAX) KEY_CACHE.set(name, key);
  return key;
}

/**
 * The previous request's field names by position, and their environ keys. A client sends its
 * fields in the same order request after request (a browser, the proxy in front), and a fetch
 * runtime's `Headers` iterate sorted by name, so most names are found by one string comparison
 * with the name in the same place last time, without hashing the fresh string the parser made
 * for a {@link headerKey} lookup. `createEnviron` for a browser's 21 fields, in-process on Node
 * 24: 2.4–2.8 µs before, 1.9–2.1 µs after; 2 fields unchanged; when every request comes in
 * another order than the one before (every position missing), 2.6–3.4 against 2.6–2.8 µs.
 * At most {@link KEY_CACHE_MAX} positions.
 */
const lastNames: string[] = [];
const lastKeys: string[] = [];

/**
 * {@link headerKey} for field number `position` (from 0) of a request: see {@link lastNames}.
 */
export function fieldKey(position: number, name: string): string {
  if (lastNames[position] === name) return lastKeys[position]!;
  const key = headerKey(name);
  if (position < KEY_CACHE_MAX) {
    lastNames[position] = name;
    lastKeys[position] = key;
  }
  return key;
}

/**
 * Stores one request header field under its environ `key` (from {@link headerKey}, not
 * `''`): a repeated field is joined onto the value already there (`, `, or `; ` for Cookie),
 * unless it is no list (`SINGLETON_FIELDS`). Only a repeated field pays for that look-up.
 *
 * @throws HTTPBadRequest `several <Name> headers` for a second line of a field that is no
 *   list (RFC 9110 §5.3): Host (RFC 9112 §3.2), Authorization, Proxy-Authorization,
 *   Content-Type, Range, If-Range, If-Modified-Since, If-Unmodified-Since; `duplicate
 *   Content-Length` for a second Content-Length (§8.6), as the server answers Node's parser.
 */
export function addField(environ: Environ, key: string, value: string): void {
  const existing = environ[key] as string | undefined;
  if (existing === undefined) environ[key] = value;
  else {
    const refusal = repeatedFieldRefusal(key);
    if (refusal !== null) throw new HTTPBadRequest(refusal);
    environ[key] = joinFieldValues(key, existing, value);
  }
}

/**
 * Checks that `Authorization` and `Proxy-Authorization` hold one credential each, as
 * `credentialsRefusal` reads them: for the fetch adapter, whose runtime hands over the lines
 * of a field joined with `, ` (its `Headers`), so that a second line is found only so. One
 * line holding two credentials cannot be told from two there, and is refused too. The Node
 * adapter sees the lines (`addField`) and leaves one line as it is, as nginx does.
 *
 * @throws HTTPBadRequest `more than one credential in Authorization` (or `Proxy-Authorization`).
 */
export function checkCredentials(environ: Environ): void {
  const refusal = credentialsRefusal(environ);
  if (refusal !== null) throw new HTTPBadRequest(refusal);
}

/**
 * Checks the number of header fields against the limit.
 *
 * @throws HTTPRequestHeaderFieldsTooLarge (431, RFC 6585 §5) when `count` is above `max`.
 */
export function checkFieldCount(count: number, max: number): void {
  const refusal = fieldCountRefusal(count, max);
  if (refusal !== null) throw new HTTPRequestHeaderFieldsTooLarge(refusal);
}

/**
 * Checks `HTTP_HOST` as {@link hostRefusal} does.
 *
 * @throws HTTPBadRequest `invalid Host header` for a malformed value, `untrusted Host header`
 *   for a host outside `trustedHosts`.
 */
export function checkHost(host: string | undefined, trustedHosts?: readonly string[]): void {
  const refusal = hostRefusal(host, trustedHosts);
  if (refusal !== null) throw new HTTPBadRequest(refusal);
}

/**
 * Checks an adapter's `scriptName` option when the adapter is made: `''`, or a decoded path
 * that starts with `/` and does not end with one (spec §2.1).
 *
 * @throws TypeError naming the value for anything else.
 */
export function checkScriptName(scriptName: string | undefined): string {
  if (scriptName === undefined || scriptName === '') return '';
  if (typeof scriptName !== 'string' || !scriptName.startsWith('/') || scriptName.endsWith('/')) {
    throw new TypeError(`scriptName must be '' or start with "/" and not end with one, not ${JSON.stringify(scriptName)}`);
  }
  return scriptName;
}

/**
 * Moves the mount point `scriptName` (checked by {@link checkScriptName}, not `''`) from the
 * front of `environ.PATH_INFO` to the end of `SCRIPT_NAME`, on a segment boundary, as
 * `mount()` does. `OPTIONS *` (`PATH_INFO` `*`, only the Node adapter can see it: a fetch
 * `Request` URL always has a path starting with `/`) is left as it is, `SCRIPT_NAME` `''`: the
 * asterisk-form names the server as a whole (RFC 9112 §3.2.4), to which no mount point applies
 * (docs/spec.md §2.1), as `prependScriptName` leaves it for `X-Forwarded-Prefix`.
 *
 * @throws HTTPNotFound when the path is not under `scriptName`: the app is not called.
 */
export function applyScriptName(environ: Environ, scriptName: string): void {
  const path = environ.PATH_INFO;
  if (path === '*') return;
  if (!path.startsWith(scriptName) || (path.length !== scriptName.length && path.charCodeAt(scriptName.length) !== 47 /* / */)) {
    throw new HTTPNotFound(`the app is mounted at ${scriptName}`);
  }
  environ.SCRIPT_NAME += scriptName;
  environ.PATH_INFO = path.slice(scriptName.length);
}

/**
 * `fill`, a function that sets an environ's CGI and `tsgi.*` keys on `this` in a fixed order,
 * as the constructor every adapter builds its environs with; they are plain objects
 * (`Object.prototype`, own enumerable keys), as a literal would make them.
 *
 * Why a constructor and not an object literal: a literal holds its own properties only, and
 * once the keys added after it by `environ[key] = value` (the `HTTP_*` keys) outnumber them,
 * V8 turns the object into a slow dictionary, where every key an app reads is a hash lookup:
 * at about 20 request header fields, what a browser behind a proxy sends. A constructor's
 * objects start with spare room (V8 sizes it on the first ones built), which moves that point
 * to about 30 fields.
 */
export function environConstructor<A extends unknown[]>(fill: (this: Environ, ...args: A) => void): new (...args: A) => Environ {
  const constructor = fill as unknown as new (...args: A) => Environ;
  constructor.prototype = Object.prototype;
  return constructor;
}

/**
 * A property descriptor for an environ key whose value is made on first read (spec §2: a
 * server may define a key as an accessor that behaves like a plain property). The first read
 * computes the value; every read after it, and every write, goes to a slot of that environ
 * under a symbol of this key, so the key reads and writes as a plain property would. One
 * descriptor is shared by every environ, so installing it with `Object.defineProperty`
 * allocates nothing.
 *
 * The accessor stays: replacing it with a data property on first read (`defineProperty` again)
 * costs about 0.7 µs a key in V8, which reconfigures the object's shape each time, where a
 * symbol slot is an ordinary property add.
 */
export function lazyEnvironKey(key: string, compute: (environ: Environ) => unknown): PropertyDescriptor {
  const slot = Symbol(key);
  return {
    get(this: Environ): unknown {
      const slots = this as unknown as Record<symbol, unknown>;
      if (slot in slots) return slots[slot];
      const value = compute(this);
      slots[slot] = value;
      return value;
    },
    set(this: Environ, value: unknown) {
      (this as unknown as Record<symbol, unknown>)[slot] = value;
    },
    enumerable: true,
    configurable: true,
  };
}
