/**
 * Cross-site request forgery (CSRF) protection without tokens: Go's
 * `net/http.CrossOriginProtection`, from the `Sec-Fetch-Site` and `Origin` headers browsers send.
 *
 * @module
 */
import { type App, type AppLike, type Environ, toApp } from '../gateway/types.ts';
import { HTTPForbidden } from '../exceptions/client-errors.ts';
import { DEFAULT_PORTS, comparableHostName, hostOf, splitHost } from '../http/host.ts';
import { SERIALIZED_ORIGIN, parseUrl } from '../http/origin.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';

/** Options of {@link crossOriginProtection}. */
export interface CrossOriginProtectionOptions {
  /**
   * Origins whose requests are let through, though cross-origin: serialized origins as browsers
   * send them in `Origin` (`https://admin.example.com`, `http://localhost:5173`), compared
   * exactly with that header: lower case, no path, no trailing slash, no default port. Go's
   * `AddTrustedOrigin`, Django's `CSRF_TRUSTED_ORIGINS` (without wildcards). Default: none.
   */
  trustedOrigins?: readonly string[] | undefined;
  /**
   * Exempts a request from the protection (Django's `@csrf_exempt`, Go's
   * `AddInsecureBypassPattern`): answer `true` to let it through. Asked only for a request that
   * would otherwise be refused, so it costs nothing on the others. Example: a webhook that
   * other sites post to, `(environ) => environ.PATH_INFO.startsWith('/hooks/')`. What it
   * throws propagates (a 500 under the `errors` middleware).
   */
  exempt?: ((environ: Environ) => boolean) | undefined;
}

/** Every option of {@link CrossOriginProtectionOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const CROSS_ORIGIN_PROTECTION_OPTIONS = { trustedOrigins: true, exempt: true } as const satisfies OptionNames<CrossOriginProtectionOptions>;

/** The methods that never change anything (RFC 9110 §9.2.1), always let through, as Go does. */
const isSafe = (method: string) => method === 'GET' || method === 'HEAD' || method === 'OPTIONS';

/** A serialized origin's shape in any case: an upper-case one is told apart below (not as a browser sends it). */
const ORIGIN_SHAPE = new RegExp(SERIALIZED_ORIGIN.source, 'i');

/**
 * Refuses the cross-origin requests browsers make with an unsafe method (`POST`, `PUT`,
 * `PATCH`, `DELETE`…), the requests a forged form or `fetch` on another site makes with the
 * user's cookies: Go 1.25's `http.CrossOriginProtection`. No token, no session, no body read.
 *
 * - `GET`, `HEAD` and `OPTIONS` always pass (one environ read). Keep them free of side effects.
 * - `Sec-Fetch-Site` (every browser since 2023, to HTTPS and `localhost` URLs): `same-origin`
 *   and `none` (the user typed the URL, a bookmark) pass; `same-site` (a sibling subdomain), `cross-site` and any other value
 *   are refused.
 * - Without it, `Origin` (older browsers, plain HTTP): it passes when its host and port are the request's
 *   host (`Host`, or `X-Forwarded-Host` under `proxyFix`: `req.host`), compared in lower case
 *   and with the scheme's default port implied (`https://example.com` is `example.com:443`),
 *   an IPv6 address in the RFC 5952 form browsers send (`http://[::1]` is `Host: [0:0::1]`).
 *   The scheme is not compared, as in Go: behind a proxy the app may not know it. Another host,
 *   `null` (a sandboxed frame, a `file:` page, a redirect from another origin) or a malformed
 *   value are refused.
 * - With neither, the request passes: it comes from a client that is no browser (curl, a
 *   server, a mobile app: no ambient cookies of a victim to abuse), or from a browser old
 *   enough to send neither.
 *
 * A request about to be refused still passes when its `Origin` is one of `trustedOrigins`, or
 * `exempt(environ)` answers `true`.
 *
 * A refused request gets a 403 (`HTTPForbidden`, its body negotiated on `Accept` and rendered
 * by `errorPages`) saying which header refused it; `app` is not called. No `Vary` is added:
 * only unsafe requests are refused, and their answers are not stored by caches (a 403 is not
 * heuristically cacheable, RFC 9110 §15.1; a `POST` answer never without explicit freshness,
 * §9.3.3); every `GET` gets the same answer whatever these headers say.
 *
 * See docs/middleware-csrf.md for what it does not defend against, and how it goes with
 * `SameSite` cookies.
 *
 * @example
 * ```ts
 * import { CookieSessions, crossOriginProtection } from 'tsgi/middleware';
 *
 * const sessions = new CookieSessions({ secret: process.env.SESSION_SECRET!, secure: true });
 * export const app = crossOriginProtection(sessions.middleware(site), {
 *   trustedOrigins: ['https://admin.example.com'],
 *   exempt: (environ) => environ.PATH_INFO === '/hooks/payment',
 * });
 * ```
 *
 * @throws TypeError (at once) when `trustedOrigins` is not an array, or one of them is not a
 *   serialized origin (a path, a trailing slash, upper case, a default port, `null`, a `*`
 *   wildcard, a regular expression: the `exempt` to write is named), which no `Origin` could match; or when `exempt` is not a function.
 */
export function crossOriginProtection(app: AppLike, options: CrossOriginProtectionOptions = {}): App {
  const inner = toApp(app);
  checkOptions('crossOriginProtection', options, CROSS_ORIGIN_PROTECTION_OPTIONS);
  const list = options.trustedOrigins ?? [];
  // A lone string would be read as a list of characters.
  if (!Array.isArray(list)) throw new TypeError('crossOriginProtection: trustedOrigins must be an array of origins');
  const trusted = new Set<string>(list);
  for (const origin of trusted) checkOrigin(origin);
  const exempt = options.exempt;
  if (exempt !== undefined && typeof exempt !== 'function') throw new TypeError('crossOriginProtection: exempt must be a function (environ) => boolean');
  return (environ, startResponse) => {
    if (isSafe(environ.REQUEST_METHOD)) return inner(environ, startResponse);
    const reason = refusal(environ);
    if (reason === null) return inner(environ, startResponse);
    const origin = environ.HTTP_ORIGIN;
    if ((typeof origin === 'string' && trusted.has(origin)) || exempt?.(environ) === true) return inner(environ, startResponse);
    return new HTTPForbidden(reason).respond(environ, startResponse);
  };
}

/** Why the request is cross-origin, or `null` when it is not (or cannot be told). */
function refusal(environ: Environ): string | null {
  const site = environ.HTTP_SEC_FETCH_SITE;
  if (typeof site === 'string' && site !== '') {
    if (site === 'same-origin' || site === 'none') return null;
    const said = site === 'same-site' || site === 'cross-site' ? site : 'not same-origin';
    return `Cross-origin request refused: Sec-Fetch-Site is ${said}.`;
  }
  const origin = environ.HTTP_ORIGIN;
  if (typeof origin !== 'string' || origin === '') return null;
  if (sameHost(origin, hostOf(environ))) return null;
  return 'Cross-origin request refused: Origin does not match the Host.';
}

/**
 * True when the serialized origin `origin` names `host` (`name[:port]`): the same name in
 * lower case, without a trailing dot, an IPv6 literal in its RFC 5952 form, and the same port, the origin's default port standing for
 * a host without one. False for anything that is no serialized origin (`null`, a path, upper
 * case, an explicit default port). Never throws.
 */
function sameHost(origin: string, host: string): boolean {
  if (!ORIGIN_SHAPE.test(origin)) return false;
  const url = parseUrl(origin);
  if (url === null || url.origin !== origin) return false;
  const [name, port] = splitHost(host);
  if (comparableHostName(name) !== comparableHostName(url.hostname)) return false;
  const originPort = url.port === '' ? DEFAULT_PORTS[url.protocol.slice(0, -1)] : Number(url.port);
  return port === null ? url.port === '' : port === originPort;
}

/** Throws unless `origin` is a serialized origin, as an `Origin` header could carry it. */
function checkOrigin(origin: unknown): void {
  if (origin instanceof RegExp) {
    const test = `${String(origin)}.test(environ.HTTP_ORIGIN ?? "")`;
    throw new TypeError(`crossOriginProtection: trusted origin ${String(origin)} is a regular expression, which is not taken: list each origin, or write exempt: (environ) => ${test}`);
  }
  if (typeof origin !== 'string' || !ORIGIN_SHAPE.test(origin)) {
    // A name in Unicode, which the browser sends in its ASCII form: that origin is the one to write.
    const url = typeof origin === 'string' && !origin.includes('*') && !origin.endsWith('/') ? parseUrl(origin) : null;
    if (url !== null && url.origin !== 'null' && url.href === `${url.origin}/`) {
      throw new TypeError(`crossOriginProtection: trusted origin ${JSON.stringify(origin)} is not as a browser sends it: ${url.origin}`);
    }
    throw new TypeError(`crossOriginProtection: trusted origin ${JSON.stringify(origin)} is no origin: write scheme://host[:port], without a path or a trailing slash`);
  }
  if (origin.includes('*')) {
    throw new TypeError(`crossOriginProtection: trusted origin ${JSON.stringify(origin)} has a wildcard: list each origin (Django's https://*.example.com has no equivalent)`);
  }
  const url = parseUrl(origin);
  // A special scheme (http, https) has one serialization; the browser sends that one.
  if (url === null || (url.origin !== 'null' && url.origin !== origin)) {
    throw new TypeError(`crossOriginProtection: trusted origin ${JSON.stringify(origin)} is not as a browser sends it${url && url.origin !== 'null' ? `: ${url.origin}` : ''}`);
  }
}
