/**
 * The test client's cookie jar: RFC 6265 storage and retrieval by tough-cookie, behind a
 * small API of our own.
 *
 * @module
 */
import { Cookie, CookieJar as ToughJar, MemoryCookieStore, canonicalDomain, defaultPath, domainMatch, getPublicSuffix, pathMatch } from 'tough-cookie';
import { COOKIE_OPTIONS, type CookieOptions, MAX_COOKIE_SIZE, serializeSetCookie } from '../http/cookies.ts';
import { checkOptions } from '../gateway/option-names.ts';
import { isTrustworthy } from './trustworthy.ts';

/** Which cookie of a name `get` and `delete` mean (`checkOptions`). */
const COOKIE_PLACE = { domain: true, path: true } as const;

/** One stored cookie, as {@link CookieJar.all} lists it. */
export interface StoredCookie {
  /** The cookie's name, as the `Set-Cookie` gave it. */
  name: string;
  /** Its value as sent in `Cookie`: the raw text of the `Set-Cookie`, not percent-decoded. */
  value: string;
  /** The domain it is sent to (the host that set it, for a host-only cookie). */
  domain: string;
  /** True when it goes to `domain` only, not its subdomains (no `Domain` attribute). */
  hostOnly: boolean;
  /** The path it is sent under: the `Path` attribute, else the directory of the request path that set it (RFC 6265 §5.1.4). */
  path: string;
  /** When it expires, 400 days from when it was set at most (RFC 6265bis §5.6.1–2, as browsers cut a longer `Max-Age` or `Expires`); `null` for a session cookie. */
  expires: Date | null;
  /** `Secure`: sent to potentially trustworthy URLs only: https, and plain http at `localhost` or a loopback address. */
  secure: boolean;
  /** `HttpOnly`: recorded only (the test client has no scripts to hide it from); it is still sent. */
  httpOnly: boolean;
  /** The `SameSite` attribute as set, lower case: enforced on a browser's navigations (see {@link CookieJar}). */
  sameSite: 'strict' | 'lax' | 'none' | null;
}

function stored(cookie: Cookie): StoredCookie {
  const expiry = cookie.expiryTime();
  const sameSite = cookie.sameSite?.toLowerCase();
  return {
    name: cookie.key,
    value: cookie.value,
    domain: cookie.domain ?? '',
    hostOnly: cookie.hostOnly ?? true,
    path: cookie.path ?? '/',
    expires: expiry === undefined || expiry === Infinity ? null : new Date(expiry),
    secure: cookie.secure,
    httpOnly: cookie.httpOnly,
    sameSite: sameSite === 'strict' || sameSite === 'lax' || sameSite === 'none' ? sameSite : null,
  };
}

/**
 * The longest a cookie is kept, in seconds: 400 days, RFC 6265bis's cookie-age-limit (§5.6.1,
 * §5.6.2, §7.2), which Chrome and Firefox apply to a longer `Max-Age` or a later `Expires`.
 */
const AGE_LIMIT = 400 * 24 * 60 * 60;

/**
 * Fixes when `cookie` expires as it is received: a positive `Max-Age` becomes the `Expires` it
 * means, now plus that many seconds (RFC 6265 §5.2.2: the expiry time is taken at receipt), so
 * sending the cookie does not move it (tough-cookie counts a `Max-Age` from the cookie's last
 * use: a `Max-Age=1800` session sent every minute never expired); and cuts that lifetime (the
 * `Max-Age`, else the `Expires`) to {@link AGE_LIMIT} from now, as browsers do: a
 * `Max-Age=63072000` (two years) lasts 400 days, and one past what a `Date` holds
 * (`Max-Age=99999999999999999999`) no longer expires at an Invalid Date, nor one past what a
 * number holds (310 digits and more: tough-cookie's `"Infinity"`), which never expired. A
 * `Max-Age` of 0 or less (`"-Infinity"` too, RFC 6265bis §5.6.2) is made 0: the cookie is
 * expired, and removes the one it replaces.
 */
function fixExpiry(cookie: Cookie): void {
  const now = Date.now();
  const maxAge = cookie.maxAge === 'Infinity' ? AGE_LIMIT : cookie.maxAge === '-Infinity' ? 0 : cookie.maxAge;
  if (typeof maxAge === 'number') {
    if (!(maxAge > 0)) {
      cookie.maxAge = 0;
      return;
    }
    cookie.expires = new Date(now + Math.min(maxAge, AGE_LIMIT) * 1000);
    cookie.maxAge = null;
  } else if (cookie.maxAge == null && cookie.expires instanceof Date) {
    const limit = now + AGE_LIMIT * 1000;
    if (!(cookie.expires.getTime() <= limit)) cookie.expires = new Date(limit);
  }
}

/** The most cookies kept for one site (its registrable domain: `example.com` for `a.example.com`), as Chrome and Firefox keep 180. */
const COOKIES_PER_SITE = 180;

/** When `cookie` was last sent (else set), in ms. */
function lastUsed(cookie: Cookie): number {
  const at = cookie.lastAccessed ?? cookie.creation;
  return at instanceof Date ? at.getTime() : 0;
}

/** The least recently used first; of those used at once (sent by the same request), the oldest. */
function leastRecentlyUsed(a: Cookie, b: Cookie): number {
  return lastUsed(a) - lastUsed(b) || (a.creationIndex ?? 0) - (b.creationIndex ?? 0);
}

/**
 * The value of the cookie `line` (a `Set-Cookie` value) sets when it has no name, as RFC
 * 6265bis §5.6 reads it: all of its name-value pair when that has no `=`, what follows an `=`
 * that comes first; `null` for a cookie with a name.
 */
function namelessValue(line: string): string | null {
  const semicolon = line.indexOf(';');
  const pair = (semicolon === -1 ? line : line.slice(0, semicolon)).replace(/^[\t ]+|[\t ]+$/g, '');
  const equals = pair.indexOf('=');
  if (equals > 0) return null;
  return (equals === 0 ? pair.slice(1) : pair).replace(/^[\t ]+|[\t ]+$/g, '');
}

/** A host name the WHATWG URL parser wrote from an IPv4 address: four decimal numbers. */
const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

/**
 * The `Domain` of a cookie set by an answer to `url` as browsers take it, from `domain`, the
 * attribute as parsed (lower case, without its leading dot): `null`, a host-only cookie, when
 * it names the host itself and the host is an IP address (RFC 6265bis §5.7: `127.0.0.1`,
 * `[::1]`) or a single label (`localhost`, `testserver`: a public suffix by the Public Suffix
 * List's default rule, kept host-only by RFC 6265 §5.3 step 5, as Chrome keeps it); `domain`
 * itself for any other host, for tough-cookie to check.
 *
 * @throws Error for a cookie browsers ignore, which tough-cookie kept and never sent: at an IP
 *   address, a `Domain` that is not that address as a URL writes it (`::1` for `[::1]`); a
 *   single-label `Domain` that is not the host (`localhost` from `app.localhost`).
 */
function domainOf(domain: string, url: string): string | null {
  const host = new URL(url).hostname;
  const ip = host.startsWith('[') || IPV4.test(host);
  if (!ip && domain.includes('.')) return domain;
  if (domain === host) return null;
  throw new Error(`cookie Domain=${domain} at ${host}: ${ip ? 'an IP address matches itself only' : 'a public suffix but the host itself'}: browsers ignore it`);
}

/**
 * The cookies a {@link TestClient} keeps across requests, by the rules of RFC 6265 (§5.3
 * storage, §5.4 retrieval) as tough-cookie implements them: the `Domain` must domain-match
 * the request host and may not be a public suffix unless it is that host (a single-label host
 * such as `testserver` is one), the default `Path` is the request path's
 * directory, `Max-Age` wins over `Expires`, and an expired cookie is dropped. A `Secure`
 * cookie is stored from and sent to a potentially trustworthy URL only (Secure Contexts §3.1):
 * https, or plain http at `localhost` (and its subdomains), `127.0.0.1` (any `127.x.y.z`) or
 * `[::1]`, as Chrome and Firefox keep it there (tough-cookie's `allowSecureOnLocal`). `SameSite` is
 * enforced on the requests known to be a browser's (a form submitted, a link clicked, a call
 * with `from`, and their redirects: see {@link CookieJar.header}); the other calls send every
 * cookie, as a client that is no browser does. A `SameSite=None` cookie without `Secure` is
 * refused (RFC 6265bis §5.7, as browsers refuse it), and so is a `Partitioned` one without
 * `Secure` (CHIPS, as Chromium refuses it). A `Set-Cookie` that breaks a rule is
 * ignored, as browsers ignore it.
 *
 * Werkzeug's `client.get_cookie`/`set_cookie`/`delete_cookie`, WebTest's `app.cookies`.
 */
export class CookieJar {
  // `looseMode`: a `Set-Cookie` without `=`, or with one first, is a nameless cookie (RFC 6265bis §5.6), as browsers keep it.
  /** The jar's store, whose index {@link CookieJar.#evict} reads a site's cookies from. */
  readonly #store = new MemoryCookieStore();
  readonly #jar = new ToughJar(this.#store, { allowSecureOnLocal: true, enforceSecureOriginOnStorage: true, rejectPublicSuffixes: true, looseMode: true });
  readonly #defaultUrl: string;
  /** False for the jar of a client made with `cookies: false`, which `set` refuses. */
  readonly #enabled: boolean;

  /**
   * @param defaultUrl - the URL `set` and `delete` default to (the client's base URL).
   * @param enabled - false for a client that keeps no cookies (`cookies: false`): `set` throws.
   *   Default true.
   */
  constructor(defaultUrl = 'http://localhost/', enabled = true) {
    this.#defaultUrl = defaultUrl;
    this.#enabled = enabled;
  }

  /** Stores the `Set-Cookie` field values of an answer to `url`; invalid ones are ignored. */
  store(url: string, setCookies: readonly string[]): void {
    if (setCookies.length === 0) return;
    for (const line of setCookies) {
      try {
        this.#setCookie(line, url);
      } catch {
        // RFC 6265 §5.3: a cookie the user agent would not store is ignored entirely.
      }
    }
    this.#evict(url);
  }

  /**
   * Bounds the cookies of the site of `url` (the host a cookie was just stored from) as browsers
   * bound theirs (RFC 6265 §5.3 step 12 lets a user agent evict): its expired cookies go, then,
   * past {@link COOKIES_PER_SITE}, its least recently used. Without it a client that went on
   * through an app setting a cookie of a new name or path per request (a per-form token, a
   * per-page preference) kept every one, and sent them all. Reads that site's domains alone. A
   * host that has no registrable domain (`localhost`, `testserver`, an IP address: a public
   * suffix itself, or no domain) is a site of its own, without its subdomains: `app.localhost`
   * keeps its own 180, as in Chrome and Firefox.
   */
  #evict(url: string): void {
    const host = canonicalDomain(new URL(url).hostname) ?? '';
    const registrable = getPublicSuffix(host, { ignoreError: true });
    const site = registrable ?? host;
    const index = this.#store.idx;
    const now = Date.now();
    const live: Cookie[] = [];
    for (const domain in index) {
      if (domain !== site && (registrable === undefined || !domain.endsWith(`.${site}`))) continue;
      for (const path in index[domain]) {
        for (const cookie of Object.values(index[domain]![path]!)) {
          if (cookie.TTL(now) <= 0) this.#remove(cookie);
          else live.push(cookie);
        }
      }
    }
    if (live.length <= COOKIES_PER_SITE) return;
    live.sort(leastRecentlyUsed);
    for (let i = 0; i < live.length - COOKIES_PER_SITE; i++) this.#remove(live[i]!);
  }

  /** Removes `cookie` from the store (the memory store removes it at once). */
  #remove(cookie: Cookie): void {
    this.#store.removeCookie(cookie.domain ?? '', cookie.path ?? '', cookie.key, () => undefined);
  }

  /**
   * Stores one cookie set by an answer to `url`. A `Domain` that is a public suffix is refused,
   * except (RFC 6265 §5.3 step 5) when it names the request host itself: the cookie is then
   * kept host-only. tough-cookie refuses that case too, and a single-label host (`testserver`,
   * a container's `web`) is a public suffix to it, so `Domain=testserver` set by
   * `http://testserver` is retried without its `Domain`; `localhost` (which tough-cookie takes as
   * a domain, and never sends to `app.localhost`) and an IP address are read first, as browsers
   * read them (see {@link domainOf}). A cookie whose name and value come
   * to more than {@link MAX_COOKIE_SIZE} bytes is refused, as browsers ignore it (RFC 6265bis
   * §5.7 step 3; tough-cookie keeps it), and so is a `SameSite=None` one without `Secure`
   * (§5.7), a `Partitioned` one without `Secure` (CHIPS, as Chromium refuses it, also at
   * `http://127.0.0.1`; tough-cookie keeps it), and one whose name starts with `__Host-` or `__Secure-` in any case (`__host-`)
   * without the attributes the prefix asks for (§5.7; tough-cookie matches the exact case only),
   * and one without `Secure` from a URL that is not potentially trustworthy (plain http but at
   * `localhost` or a loopback address, where browsers treat it as secure) that would replace or
   * shadow a `Secure` one kept (§5.7 step 16, "leave Secure cookies alone"; tough-cookie lets it).
   * A cookie without a name (`Set-Cookie: legacy`, or `=legacy`: no `=`, or one first) is kept
   * and sent back as its value alone (§5.6, as browsers do; tough-cookie's strict mode dropped
   * it), unless its value is empty too or starts with `__Secure-` or `__Host-` in any case (§5.7).
   * A `Max-Age` or `Expires` past {@link AGE_LIMIT} (400 days) is cut to it (§5.6.1–2).
   *
   * @throws Error (tough-cookie's, or ours for the size) for a cookie not to store.
   */
  #setCookie(line: string, url: string): void {
    const parsed = Cookie.parse(line, { loose: true });
    const nameless = namelessValue(line);
    if (nameless !== null && (nameless === '' || /^__(?:secure|host)-/i.test(nameless))) {
      throw new Error(`nameless cookie ${JSON.stringify(nameless)} is empty or reads as a prefixed one: browsers ignore it`);
    }
    if (parsed?.domain != null) parsed.domain = domainOf(parsed.domain, url);
    // Header text is Latin-1: one character per byte, as the browser counts them.
    if (parsed !== undefined && parsed.key.length + parsed.value.length > MAX_COOKIE_SIZE) {
      throw new Error(`cookie ${JSON.stringify(parsed.key)} is over ${MAX_COOKIE_SIZE} bytes (name and value): browsers ignore it`);
    }
    if (parsed?.sameSite?.toLowerCase() === 'none' && !parsed.secure) {
      throw new Error(`cookie ${JSON.stringify(parsed.key)} is SameSite=None without Secure: browsers ignore it`);
    }
    // tough-cookie keeps `Partitioned` (CHIPS) as an unknown attribute, in any case.
    if (parsed !== undefined && !parsed.secure && parsed.extensions?.some((attribute) => attribute.trim().toLowerCase() === 'partitioned')) {
      throw new Error(`cookie ${JSON.stringify(parsed.key)} is Partitioned without Secure: browsers ignore it`);
    }
    // The name prefixes, matched in any case (RFC 6265bis §5.7; tough-cookie matches `__Host-` and `__Secure-` only).
    const name = parsed?.key.toLowerCase() ?? '';
    const host = name.startsWith('__host-');
    if ((host || name.startsWith('__secure-')) && (!parsed!.secure || (host && (parsed!.domain != null || parsed!.path !== '/')))) {
      throw new Error(`cookie ${JSON.stringify(parsed!.key)} breaks the rules of its name prefix: browsers ignore it`);
    }
    if (parsed !== undefined && !parsed.secure && !isTrustworthy(new URL(url)) && this.#shadowsSecure(parsed, url)) {
      throw new Error(`cookie ${JSON.stringify(parsed.key)} set over http would replace or shadow a Secure one: browsers ignore it`);
    }
    if (parsed !== undefined) fixExpiry(parsed);
    try {
      this.#jar.setCookieSync(parsed ?? line, url, { ignoreError: false });
    } catch (error) {
      const cookie = parsed;
      if (cookie?.domain == null || cookie.domain.toLowerCase() !== new URL(url).hostname.toLowerCase()) throw error;
      cookie.domain = null;
      this.#jar.setCookieSync(cookie, url, { ignoreError: false });
    }
  }

  /**
   * True when `cookie`, set by an answer to `url`, would replace or shadow a `Secure` cookie
   * kept: one of its name whose domain domain-matches its domain (or the other way) and whose
   * path its path path-matches (RFC 6265bis §5.7, "leave Secure cookies alone", step 16).
   */
  #shadowsSecure(cookie: Cookie, url: string): boolean {
    const request = new URL(url);
    const domain = canonicalDomain(cookie.domain ?? request.hostname) ?? '';
    const path = cookie.path?.startsWith('/') ? cookie.path : defaultPath(request.pathname);
    return (this.#jar.serializeSync()?.cookies ?? []).some(
      (kept) =>
        kept.key === cookie.key &&
        kept.secure === true &&
        typeof kept.domain === 'string' &&
        typeof kept.path === 'string' &&
        (domainMatch(kept.domain, domain) === true || domainMatch(domain, kept.domain) === true) &&
        pathMatch(path, kept.path),
    );
  }

  /**
   * The `Cookie` field value for a request to `url` (RFC 6265 §5.4 order), or `''`.
   *
   * @param sameSite - the request's `SameSite` context (RFC 6265bis §5.8.3), for a request
   *   known to be a browser's: `'strict'` sends every cookie (same-site), `'lax'` leaves out
   *   `SameSite=Strict` ones (a cross-site top-level GET), `'none'` sends only `SameSite=None`
   *   ones and those set without `SameSite` (any other cross-site request). Default: every
   *   cookie, `SameSite` not enforced (a client that is no browser).
   */
  header(url: string, sameSite?: 'strict' | 'lax' | 'none'): string {
    return this.#jar.getCookieStringSync(url, sameSite === undefined ? undefined : { sameSiteContext: sameSite });
  }

  /** Every unexpired cookie. */
  all(): StoredCookie[] {
    const now = Date.now();
    const cookies = this.#jar.serializeSync()?.cookies ?? [];
    return cookies
      .map((json) => Cookie.fromJSON(json))
      .filter((cookie): cookie is Cookie => cookie !== undefined && cookie.TTL(now) > 0)
      .map(stored);
  }

  /**
   * The value of the cookie `name`, or `undefined`; `domain` and `path` pick one when several
   * share the name. `domain` is read as the `Domain` attribute is (RFC 6265 §5.2.3) and as
   * {@link CookieJar.delete} reads it: a leading dot ignored, any case (`.Example.com` finds
   * the cookie of `example.com`), an IPv6 address with or without its brackets.
   *
   * @throws TypeError for a `where` that is not a plain object or holds another key than
   *   `domain` and `path` (`client.cookies.get: unknown option "paths"`).
   */
  get(name: string, where: { domain?: string; path?: string } = {}): string | undefined {
    checkOptions('client.cookies.get', where, COOKIE_PLACE);
    const domain = where.domain === undefined ? undefined : canonicalDomain(where.domain);
    return this.all().find((c) => c.name === name && (domain === undefined || c.domain === domain) && (where.path === undefined || c.path === where.path))?.value;
  }

  /**
   * Stores a cookie as if the app had set it in an answer to the client's base URL (or to
   * `https://`/`http://` + `options.domain`): the same attributes as `res.setCookie`.
   *
   * @throws TypeError as `res.setCookie`, an unknown option included (`client.cookies.set:
   *   unknown option "secur": did you mean "secure"?`); and on the jar of a client made with
   *   `cookies: false`, which sends none (Werkzeug's `set_cookie` on a `use_cookies=False` client).
   */
  set(name: string, value: string, options: CookieOptions = {}): this {
    if (!this.#enabled) throw new TypeError('client.cookies.set: this client keeps no cookies (cookies: false), so none would be sent: send a Cookie field in the call\'s headers, or make the client without cookies: false');
    checkOptions('client.cookies.set', options, COOKIE_OPTIONS, 'third');
    const base = new URL(this.#defaultUrl);
    const url = options.domain ? `${options.secure ? 'https' : base.protocol.slice(0, -1)}://${options.domain.replace(/^\./, '')}/` : base.href;
    const secureUrl = options.secure ? url.replace(/^http:/, 'https:') : url;
    this.#setCookie(serializeSetCookie(name, value, options), secureUrl);
    this.#evict(secureUrl);
    return this;
  }

  /**
   * Removes the cookie `name` set with these `path` and `domain` (Werkzeug's `delete_cookie`):
   * `domain` read as {@link CookieJar.get} reads it, default the base URL's host.
   *
   * @throws TypeError for options that are not a plain object or hold another key than `path`
   *   and `domain`.
   */
  delete(name: string, options: { path?: string; domain?: string } = {}): this {
    checkOptions('client.cookies.delete', options, COOKIE_PLACE);
    const base = new URL(this.#defaultUrl);
    const domain = canonicalDomain(options.domain ?? base.hostname);
    for (const cookie of this.#jar.serializeSync()?.cookies ?? []) {
      const c = Cookie.fromJSON(cookie);
      if (c && c.key === name && c.domain === domain && (options.path === undefined || c.path === options.path)) {
        void this.#jar.store.removeCookie(c.domain, c.path, c.key);
      }
    }
    return this;
  }

  /** Forgets every cookie. */
  clear(): void {
    this.#jar.removeAllCookiesSync();
  }
}
