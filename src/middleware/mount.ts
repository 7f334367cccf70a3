/**
 * Dispatching by URL prefix and host: Paste/WebOb's `URLMap`, Werkzeug's
 * `DispatcherMiddleware`.
 *
 * @module
 */
import { type App, type AppLike, toApp } from '../gateway/types.ts';
import { notAnAppKind } from '../gateway/not-an-app.ts';
import { HTTPNotFound } from '../exceptions/client-errors.ts';
import { asciiHostName, comparableHostName, isValidHost } from '../http/host.ts';
import { Request, splitHost } from '../request/request.ts';
import { cleanPath, redirectToCleanPath } from './clean-path.ts';
import { type OptionNames, booleanOption, checkOptions } from '../gateway/option-names.ts';
import { foreignSyntax } from '../http/router-syntax.ts';
import { queryOrFragmentIn } from '../http/query-in-path.ts';
import { escapesIn } from '../http/escapes-in-path.ts';

/** The apps to mount: `{ prefix: app }`, or `[prefix, app]` pairs (a `Map` works). */
export type MountMap = Record<string, AppLike> | Iterable<readonly [string, AppLike]>;

/** Options of {@link mount}. */
export interface MountOptions {
  /**
   * The app answering when no prefix matches; default a 404 `HTTPNotFound`, its body negotiated
   * on `Accept` and sent with `Vary: Accept`.
   */
  notFound?: AppLike | undefined;
  /**
   * Redirect paths with repeated slashes or `.`/`..` segments to their clean form (308)
   * before dispatching; default `true`. Turn it off only for an app that needs such paths
   * as they are (a proxy taking `/fetch/https://…`): matching then uses the raw path.
   */
  cleanPaths?: boolean | undefined;
}

/** Every option of {@link MountOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const MOUNT_OPTIONS = { notFound: true, cleanPaths: true } as const satisfies OptionNames<MountOptions>;

interface Entry {
  /**
   * Lower-cased host name without a trailing dot, an IPv6 literal in its RFC 5952 form
   * (`[::2]`), or `null` for any host.
   */
  host: string | null;
  /** The port the host key names, or `null` for any port. */
  port: number | null;
  /** The prefix: `''` for the root, else `/a/b` (no trailing slash). */
  path: string;
  app: App;
}

const HOST_KEY = /^(https?):\/\/([^/]*)(.*)$/i;

/**
 * Mounts apps at URL prefixes (and optionally on hosts) and sends each request to the one
 * that matches, like Paste's `URLMap`. The matched prefix moves from the end of `PATH_INFO`
 * to the end of `SCRIPT_NAME`, so the mounted app sees only its own path and still builds
 * correct URLs with `req.applicationUrl` and `req.relativeUrl()`.
 *
 * Keys are decoded paths, or URLs naming a host:
 * - `'/'` (or `''`) mounts the root; trailing and repeated slashes in keys are ignored, so
 *   `'/blog/'` is `'/blog'`.
 * - `'http://api.example.com/'` matches requests whose Host is `api.example.com`, on any
 *   port; `'http://api.example.com:8080/v1'` only port 8080, where a request without a port
 *   is on its scheme's default (80 or 443), so `'http://x:80/'` matches `Host: x`. The
 *   scheme of a key is not compared (as in URLMap). A host in Unicode (`'http://bücher.example/'`)
 *   matches the ASCII form browsers send (`xn--bcher-kva.example`). An IPv6 address matches in
 *   any form it is written in, in the key and in the Host: `'http://[0:0::2]/'` matches
 *   `Host: [::2]` and `[0000::0002]` (both are compared in their RFC 5952 form, as the WHATWG
 *   URL parser writes it); IPv4 addresses and names are compared as written, names in any case.
 *
 * Matching: host keys naming a port are tried first, then host keys for any port, then plain
 * ones, and the longest prefix wins within each group (nginx's `server`, then `location`). A
 * prefix matches only whole segments: `/blog` matches `/blog` and `/blog/x`, never
 * `/blogger`. A path with repeated slashes or `.`/`..` segments is answered with a 308
 * redirect to its clean form (RFC 3986 §5.2.4, as Go's `ServeMux` does), query kept, so
 * `/public/../admin` can never reach the app at `/public` (nor `//admin` the root app)
 * while the app at `/admin` expects its own checks; a dispatched request keeps
 * `SCRIPT_NAME + PATH_INFO` unchanged (docs/spec.md §9). `options.cleanPaths: false`
 * turns this off.
 *
 * `/blog` requested without a trailing slash reaches the app at `/blog` with `PATH_INFO`
 * `''` (as in URLMap): an app that serves relative links should then redirect to
 * `req.applicationUrl + '/'`. No match answers 404 (or `options.notFound`). Mounts nest:
 * a `mount()` inside a `mount()` sees the path below the outer prefix.
 *
 * @example
 * ```ts
 * export const app = mount({
 *   '/': home,
 *   '/blog': blog,                       // /blog, /blog/2024/hello …
 *   '/api': mount({ '/v1': v1, '/v2': v2 }),
 *   'http://admin.example.com/': admin,  // any path on that host
 * });
 * ```
 * @throws TypeError for a key that is neither a path nor an `http(s)://` URL, a host key
 *   with an invalid host (an IPv6 literal that is no address: `http://[::1::2]/`) or port or a wildcard (`http://*.example.com/`: find tenants in a
 *   middleware instead), a path with a segment `*` or `:name` (Hono's `'/api/*'`: the prefix
 *   `'/api'` takes every path below it), a path with a `?` or `#` (`'/search?q'`: `PATH_INFO`
 *   holds neither, so the key would match only an encoded `%3F` or `%23`), a path with a
 *   percent-encoded escape (`'/my%20shop'`: keys are decoded paths, write `'/my shop'`), a path with a `.` or
 *   `..` segment unless `cleanPaths` is `false` (`'/docs/./api'`: requests are redirected to
 *   their clean path before matching, so it would match none), two keys that mean
 *   the same mount, a value that is not an app, or a `cleanPaths` that is not a boolean.
 */
export function mount(map: MountMap, options: MountOptions = {}): App {
  checkOptions('mount', options, MOUNT_OPTIONS);
  const pairs: Iterable<readonly [string, AppLike]> =
    typeof (map as Iterable<unknown>)[Symbol.iterator] === 'function'
      ? (map as Iterable<readonly [string, AppLike]>)
      : Object.entries(map as Record<string, AppLike>);
  const entries: Entry[] = [];
  const seen = new Set<string>();
  const clean = booleanOption('mount', 'cleanPaths', options.cleanPaths, true);
  for (const [key, value] of pairs) {
    const entry = parseKey(key, clean);
    const id = `${entry.host ?? ''}:${entry.port ?? ''}${entry.path}`;
    if (seen.has(id)) throw new TypeError(`mount: two keys mean the same mount point: ${JSON.stringify(key)}`);
    seen.add(id);
    try {
      entry.app = toApp(value);
    } catch {
      throw new TypeError(`mount: the value for ${JSON.stringify(key)} is not an app (got ${notAnAppKind(value)})`);
    }
    entries.push(entry);
  }
  // The most specific key first: with a host before without, with a port before without (so
  // `http://x.com:8080/` is not shadowed by `http://x.com/`, whatever their order), then the longer path.
  entries.sort((a, b) => (a.host === null ? 1 : 0) - (b.host === null ? 1 : 0) || (a.port === null ? 1 : 0) - (b.port === null ? 1 : 0) || b.path.length - a.path.length);
  const hasHosts = entries.some((entry) => entry.host !== null);
  const notFound = options.notFound === undefined ? undefined : toApp(options.notFound);

  return (environ, startResponse) => {
    const path = environ.PATH_INFO ?? '';
    if (clean) {
      const redirect = redirectToCleanPath(environ, startResponse);
      if (redirect !== null) return redirect;
    }
    let hostname = '';
    let port = 0;
    if (hasHosts) {
      const req = new Request(environ);
      hostname = comparableHostName(req.hostname);
      port = req.port;
    }
    for (const entry of entries) {
      if (entry.host !== null && (entry.host !== hostname || (entry.port !== null && entry.port !== port))) continue;
      const prefix = entry.path;
      if (prefix === '' || path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47)) {
        environ.SCRIPT_NAME = (environ.SCRIPT_NAME ?? '') + prefix;
        environ.PATH_INFO = path.slice(prefix.length);
        return entry.app(environ, startResponse);
      }
    }
    if (notFound) return notFound(environ, startResponse);
    return new HTTPNotFound().respond(environ, startResponse);
  };
}

/**
 * The entry of `key`; `clean` when requests are redirected to their clean path before
 * matching (`cleanPaths`), so a key with a `.` or `..` segment, which could match none, is refused.
 */
function parseKey(key: string, clean: boolean): Entry {
  if (typeof key !== 'string') throw new TypeError('mount: keys must be strings');
  let host: string | null = null;
  let port: number | null = null;
  let path = key;
  const match = HOST_KEY.exec(key);
  if (match) {
    const authority = match[2]!.toLowerCase();
    const [name, parsedPort] = splitHost(authority);
    const hasPort = name.length !== authority.length;
    if (name === '' || (hasPort && parsedPort === null) || /[\s@?#]/.test(authority)) {
      throw new TypeError(`mount: invalid host in key ${JSON.stringify(key)}`);
    }
    if (name.includes('*')) {
      throw new TypeError(
        `mount: a host key names one host, not a pattern (got ${JSON.stringify(key)}): for every subdomain, find the tenant from req.hostname in a middleware (docs/routing.md#a-tenant-per-host)`,
      );
    }
    const ascii = asciiHostName(name);
    if (ascii === null || !isValidHost(ascii)) throw new TypeError(`mount: invalid host in key ${JSON.stringify(key)}`);
    host = comparableHostName(ascii);
    port = hasPort ? parsedPort : null;
    path = match[3]!;
  }
  if (path !== '' && !path.startsWith('/')) {
    // A bare path (`'api'`, Express's habit) is told the key to write; another scheme is not.
    const fix = match === null && !/^[a-z][a-z0-9+.-]*:/i.test(key) ? `: write ${JSON.stringify(`/${key}`)}` : '';
    throw new TypeError(`mount: keys must start with "/" or "http://" / "https://" (got ${JSON.stringify(key)}${fix})`);
  }
  // `*`, `:name`, `:from-:to` or `{/:id}` is a pattern of Hono, Express or a router, which a
  // prefix is not: it would match only a path holding that text, every other request a silent 404.
  const foreign = foreignSyntax(path);
  if (foreign !== null) {
    const prefix = `${key.slice(0, key.length - path.length)}${foreign.prefix}`;
    throw new TypeError(`mount: a key is a path prefix, not a pattern (got ${JSON.stringify(key)}): write ${JSON.stringify(prefix)}, which takes ${foreign.prefix} and every path below it; route the rest with a RouteMap`);
  }
  // `/search?q` or `/docs#intro` would match only a path holding an encoded %3F or %23.
  const delimiter = queryOrFragmentIn(path);
  if (delimiter !== null) {
    const prefix = `${key.slice(0, key.length - path.length)}${path.slice(0, delimiter.at)}`;
    const query = delimiter.char === '?' ? ', and read the query in the app with req.query' : '';
    throw new TypeError(`mount: a key is matched against the path alone (got ${JSON.stringify(key)}), ${delimiter.reason}: write ${JSON.stringify(prefix)}${query}`);
  }
  // `/my%20shop` would match only a client that encoded the `%` itself: keys are decoded paths.
  const escaped = escapesIn(path);
  if (escaped !== null) {
    const write = `write ${JSON.stringify(`${key.slice(0, key.length - path.length)}${escaped.written}`)}`;
    throw new TypeError(`mount: a key is a decoded path (got ${JSON.stringify(key)}): ${JSON.stringify(escaped.escape)} is a percent-encoded escape, matched as literal text (a silent 404): ${write}`);
  }
  path = path.replace(/\/{2,}/g, '/');
  // `/docs/./api` matches no request: `/docs/./api` is redirected to `/docs/api` first.
  const cleaned = cleanPath(path);
  if (clean && cleaned !== path) {
    const hostPart = match === null ? '' : key.slice(0, key.length - match[3]!.length);
    const written = `${hostPart}${cleaned.replace(/\/+$/, '') || '/'}`;
    throw new TypeError(`mount: a key is a clean path (got ${JSON.stringify(key)}): requests with . or .. segments are redirected to their clean form before matching, so it would match none: write ${JSON.stringify(written)}`);
  }
  path = path.replace(/\/+$/, '');
  return { host, port, path, app: undefined as unknown as App };
}
