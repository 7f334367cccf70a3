/**
 * A session kept in a signed cookie: Flask's `SecureCookieSessionInterface`, Express's
 * `cookie-session`, with HMAC-SHA256 and key rotation (as `AuthTickets`).
 *
 * @module
 */
import { type AppLike, type Environ, type Middleware, type StartResponse, toApp } from '../gateway/types.ts';
import { defineEnvironKey } from '../gateway/environ-key.ts';
import { HeaderList, appendVary } from '../http/header-list.ts';
import { keepPrivate, sharedCacheMayStore } from '../http/shared-cache.ts';
import { MAX_SIGNED_LENGTH } from '../http/signed-value.ts';
import { type SignedCookieAttributes, SignedCookie } from '../http/signed-cookie.ts';
import { type RequestLike, environOf } from '../exceptions/base.ts';
import { answeringException } from '../exceptions/body-failure.ts';
import { onThrown } from './on-thrown.ts';
import { largestSessionParts } from './session-size.ts';
import {
  type Flash,
  type SessionState,
  Session,
  markSessionRead,
  sealSession,
  setSessionOwner,
} from './session.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';
import { keepRelayed } from '../gateway/relayed.ts';

/** Options of {@link CookieSessions}. */
export interface CookieSessionOptions extends SignedCookieAttributes {
  /**
   * `Secure` cookie attribute (sent over HTTPS only). Default: `Secure` on the cookie set in
   * answer to an https request (`req.scheme`, which behind a proxy that ends TLS is `https`
   * under `proxyFix` with `xProto`), none over plain http (development). `true`: always,
   * required with `sameSite: 'none'` and a `__Secure-` or `__Host-` cookie name. `false`:
   * never.
   */
  secure?: boolean | undefined;
  /** The signing key: at least 32 bytes (e.g. `crypto.randomBytes(32).toString('base64url')`). */
  secret?: string | Uint8Array | undefined;
  /**
   * Several keys, for rotation: sessions are signed with the first and accepted when signed
   * with any. To rotate on a rolling deploy, where processes with the old key alone still run
   * and would refuse what the new key signs: `[oldKey, newKey]` on every process first (accept
   * the new key, still sign with the old), then `[newKey, oldKey]`, then `[newKey]` after
   * `maxAge` (Django's `SECRET_KEY_FALLBACKS`; docs/sessions.md, "Rotating the key"). A leaked
   * key: `[newKey]` at once.
   * Give `secret` or `secrets`, not both (a `TypeError`).
   */
  secrets?: ReadonlyArray<string | Uint8Array> | undefined;
  /** The cookie's name; default `'session'` (Flask's). */
  cookieName?: string | undefined;
  /**
   * How long a saved session stays valid, in seconds; default 2678400 (31 days, Flask's
   * `PERMANENT_SESSION_LIFETIME`). The cookie's `Max-Age`, and checked on the server against
   * the issue time signed into the cookie: a session not saved again within `maxAge` is empty.
   */
  maxAge?: number | undefined;
}

/** Every option of {@link CookieSessionOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const COOKIE_SESSION_OPTIONS = { secret: true, secrets: true, cookieName: true, maxAge: true, secure: true, sameSite: true, path: true, domain: true, now: true } as const satisfies OptionNames<CookieSessionOptions>;

/**
 * The request's {@link Session}, set by a {@link CookieSessions}' middleware: environ key
 * `tsgi.session`. {@link sessionOf} reads it and says when the middleware is missing.
 */
export const sessionKey = defineEnvironKey<Session>('tsgi.session');

/**
 * The session of the request (a `Request` or an environ), below a {@link CookieSessions}
 * middleware. Outside the app, where no middleware ran (a WebSocket upgrade handler's
 * `context.environ`), read the cookie with {@link CookieSessions.load} instead.
 *
 * @throws Error when no `CookieSessions` middleware wraps the app, saying to use
 *   `sessions.load(req)` where none can.
 */
export function sessionOf(req: RequestLike): Session {
  const session = sessionKey.get(req);
  if (session === undefined) throw new Error('no session: wrap the app with a CookieSessions middleware (sessions.middleware), or, outside the app (a WebSocket upgrade handler), read the cookie with sessions.load(req)');
  return session;
}

/** How far in the future an issue time may be (clock skew between processes), in seconds. */
const ALLOWED_SKEW = 60;

/**
 * Sessions kept in a signed cookie: `base64url(JSON) "." base64url(HMAC-SHA256)`, the MAC over
 * the cookie name, the issue time and the values. Create one per app (module scope) with the
 * secret, wrap the app with its {@link CookieSessions.middleware} (bound), and use
 * `sessionOf(req)` in handlers.
 *
 * Signed, not encrypted: the client can read everything in it (keep secrets and large data
 * server-side, with an id in the session). A tampered, expired, truncated or malformed
 * cookie, or one signed with a key no longer listed, is an empty session, never an error.
 *
 * @example
 * ```ts
 * import { HTTPSeeOther, Request, Response } from 'tsgi';
 * import { CookieSessions, crossOriginProtection, sessionOf } from 'tsgi/middleware';
 *
 * const sessions = new CookieSessions({ secret: process.env.SESSION_SECRET!, secure: true });
 *
 * const site = Request.application(async (req) => {
 *   const session = sessionOf(req);
 *   if (req.path === '/login' && req.method === 'POST') {
 *     const user = (await req.form()).get('user') ?? ''; // check the password here
 *     session.clear(); // a new session for the login: nothing planted before it carries over
 *     session.set('user', user);
 *     session.flash('Logged in');
 *     return new HTTPSeeOther('/');
 *   }
 *   const notes = session.consumeFlashes().map((f) => f.message).join(' ');
 *   return new Response(`${notes} Hello ${session.get<string>('user') ?? 'stranger'}`);
 * });
 *
 * // Refuses other sites' forged POSTs (a login CSRF) before the session is read.
 * export const app = crossOriginProtection(sessions.middleware(site));
 * ```
 */
export class CookieSessions {
  /** The cookie's name. */
  readonly cookieName: string;
  /** How long a saved session stays valid, in seconds. */
  readonly maxAge: number;
  readonly #cookie: SignedCookie;

  /**
   * @throws TypeError when neither `secret` nor `secrets` is given or both are, a key is
   *   shorter than 32 bytes or neither a string nor a `Uint8Array` (`secrets` not an array), the cookie name is not a token, `maxAge` is under 1 second, `path`
   *   does not start with `/` (browsers would ignore it: RFC 6265bis §5.6.4), `path`,
   *   `domain` or `sameSite` cannot be put in a `Set-Cookie`, or the cookie is one browsers
   *   refuse to store (RFC 6265bis §4.1.3, §5.7: `sameSite: 'none'`, or a `__Secure-` or
   *   `__Host-` name, without `secure: true`; a `__Host-` name with a `domain` or a `path`
   *   other than `/`), a `secure` that is not a boolean, or a `now` that is not a function.
   */
  constructor(options: CookieSessionOptions) {
    checkOptions('new CookieSessions', options, COOKIE_SESSION_OPTIONS, 'first');
    this.#cookie = new SignedCookie(options, {
      purpose: 'tsgi.session',
      owner: 'CookieSessions',
      what: 'a session secret',
      cookieName: 'session',
      maxAge: 2678400,
    });
    this.cookieName = this.#cookie.name;
    this.maxAge = this.#cookie.maxAge;
  }

  /**
   * The middleware, a {@link Middleware} bound to this object (`sessions.middleware(site)`,
   * `compose(errors, sessions.middleware)`). It gives each request a {@link Session} under
   * {@link sessionKey} (read with {@link sessionOf}), read from the cookie on first use, and
   * saves it when the app sends the response head (`startResponse`: a `Response`, an
   * `HTTPException` such as the redirect after a login, a raw gateway response, or the head
   * of a streamed body; a redirect or 4xx `HTTPException` that an app throws before its head,
   * having used the session, is answered by the middleware, where `serve()` or `errors` would
   * have answered it without the session's fields; a 5xx goes on, the session unsaved):
   *
   * - a session read or changed adds `Cookie` to the response's `Vary` (as Flask);
   * - a changed session adds a `Set-Cookie` with the new signed value, issued now (so the
   *   session lasts `maxAge` from its last change), or one deleting the cookie when it was
   *   emptied (`clear()`); an unchanged session sets no cookie;
   * - a response with such a `Set-Cookie`, or one whose session was read and held values or
   *   flashes (a logged-in user's page), is kept out of shared caches: unless its
   *   `Cache-Control` says `private` (bare, not `private="Set-Cookie"`) or `no-store`, `public` and `s-maxage` are dropped and
   *   `private` added (RFC 9111 §5.2.2.7), and `CDN-Cache-Control`, `<name>-CDN-Cache-Control`
   *   (RFC 9213) and `Surrogate-Control`, which a CDN obeys in place of `Cache-Control`, are
   *   removed (but for a `Surrogate-Control: content="ESI/1.0"`, kept alone, so Varnish still
   *   assembles the page); so a cache cannot hand one visitor's session or page to another (Flask relies
   *   on `Vary: Cookie`, which does not cover a first visit without a cookie, and which
   *   Cloudflare and CloudFront ignore). A page that read an empty session keeps its caching.
   *
   * A cookie over 4096 bytes, which browsers drop without a word, is not sent: the oldest flash
   * messages are dropped first, unlogged, as many as it takes (they are for the next page only,
   * as Flask's and Rails', and a client that never follows the redirects after its failed logins
   * piles them up).
   *
   * @throws RangeError, from `startResponse` (a 500 the server logs, the cookie left as it was),
   *   when the session's values alone would make the cookie over 4096 bytes, or its newest
   *   flash message alone does not fit beside them: the message gives the size, the limit and
   *   the largest keys with the bytes of their JSON (`largest "cart" (2504 bytes of JSON),
   *   "user" (5)`), never their values. Failing loudly, where Flask sends a cookie the browser
   *   drops: a session silently lost is a user silently logged out.
   */
  readonly middleware: Middleware = (app: AppLike) => {
    const inner = toApp(app);
    return (environ, startResponse) => {
      const session = new Session(() => this.#stored(environ));
      setSessionOwner(session, this);
      sessionKey.set(environ, session);
      let started = false;
      const start: StartResponse = (status, headers, error) => {
        started = true;
        // An upstream's head (`proxy`) stays relayed for `lint` once edited (`keepRelayed`).
        return startResponse(status, keepRelayed(headers, this.#save(session, headers, environ['tsgi.url_scheme'] === 'https')), error);
      };
      // An HTTPException a raw app throws before its head (`abort(303)` after a login) would be
      // answered outside (`serve()`, `errors`), past `start`, and the session's changes lost:
      // a used session's redirect or 4xx is answered here. A 5xx escapes on, to be logged.
      return onThrown(() => inner(environ, start), (error) => {
        const exception = started || !session.accessed ? null : answeringException(environ, error);
        if (exception === null || exception.code >= 500) throw error;
        return exception.respond(environ, start);
      });
    };
  };

  /**
   * The session stored in the request's cookie (a `Request` or an environ): its values and
   * pending flash messages, or `null` when there is no valid cookie (tampered, expired,
   * malformed, signed with a key no longer listed). Never throws.
   *
   * Below this object's middleware, before the response head (an `errorPages` layout showing
   * the user, docs/middleware.md), it counts as a read of the request's session, as
   * `sessionOf(req).get` does: the response gets `Vary: Cookie` and, when the session held
   * values or flashes, is kept out of shared caches, since the page may show them (a 404 is
   * cacheable by default, RFC 9110 §15.1). After the head (a log line, a streamed body) or
   * outside the middleware (a WebSocket upgrade handler) it changes nothing.
   */
  load(req: RequestLike): SessionState | null {
    const environ = environOf(req)!;
    const session = sessionKey.get(environ);
    if (session !== undefined) markSessionRead(session, this);
    return this.#stored(environ);
  }

  /** The session stored in `environ`'s cookie, or `null` (see {@link CookieSessions.load}). */
  #stored(environ: Environ): SessionState | null {
    return this.#cookie.read(environ.HTTP_COOKIE, this.#state);
  }

  /**
   * The session a verified cookie payload holds, or `null` when malformed or expired (an arrow,
   * bound once: no closure per request).
   */
  readonly #state = (signed: { json: unknown }): SessionState | null => {
    const { i: issued, d: data, f: flashes } = (signed.json ?? {}) as { i?: unknown; d?: unknown; f?: unknown };
    const now = this.#cookie.now() / 1000;
    if (!Number.isSafeInteger(issued) || now >= (issued as number) + this.maxAge || (issued as number) > now + ALLOWED_SKEW) return null;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
    const list = flashes === undefined ? [] : flashes;
    if (!Array.isArray(list) || !list.every((f) => Array.isArray(f) && f.length === 2 && typeof f[0] === 'string' && typeof f[1] === 'string')) return null;
    return {
      data: new Map(Object.entries(data)),
      flashes: (list as Array<[string, string]>).map(([category, message]): Flash => ({ message, category })),
    };
  };

  /**
   * `headers` with the session's `Vary`, `Set-Cookie` and `Cache-Control`, as the middleware
   * says; `https` for a request that came over https (`Secure` unless `secure` says otherwise).
   */
  #save(session: Session, headers: Array<[string, string]>, https: boolean): Array<[string, string]> {
    const { accessed, modified, data, flashes } = sealSession(session, () => sharedCacheMayStore(new HeaderList(headers)));
    if (!accessed) return headers;
    const list = new HeaderList(headers);
    appendVary(list.list, 'Cookie');
    if (!modified) {
      // A page made from a visitor's session (a logged-in user's) is that visitor's alone.
      if (data.size > 0 || flashes.length > 0) keepPrivate(list);
      return list.list;
    }
    if (data.size === 0 && flashes.length === 0) {
      list.add('Set-Cookie', this.#cookie.deleteCookie(https));
    } else {
      const issued = this.#cookie.seconds();
      const value = this.#signFitting(issued, data, flashes);
      const size = this.#size(value);
      if (size > MAX_SIGNED_LENGTH) {
        // Too large from its values, or from its newest flash beside them (see #signFitting): name the largest.
        const flash = flashes.length > 0 && this.#size(this.#cookie.sign({ i: issued, d: Object.fromEntries(data) })) <= MAX_SIGNED_LENGTH ? flashes.at(-1) : undefined;
        throw new RangeError(
          `the session cookie is ${size} bytes, over ${MAX_SIGNED_LENGTH} (browsers would drop it): largest ${largestSessionParts(data, flash)}; ` +
            'store less in the session (large data server-side, with an id in the session) and bound what comes from the request',
        );
      }
      const maxAge = Math.floor(this.maxAge);
      list.add('Set-Cookie', this.#cookie.setCookie(value, { maxAge, expires: new Date((issued + maxAge) * 1000) }, https));
    }
    keepPrivate(list);
    return list.list;
  }

  /** The bytes of `name=value` in a `Cookie` header (the name is a token, the value base64url: ASCII). */
  #size(value: string): number {
    return this.cookieName.length + 1 + value.length;
  }

  /**
   * The signed value of the session issued at `issued` (seconds), with as many of its newest
   * `flashes` as fit in {@link MAX_SIGNED_LENGTH}: the oldest are dropped first, without a word.
   * Flashes are for the next page only (Flask, Rails), and the server adds them on the
   * client's behalf: a client posting a failed login over and over, never following the
   * redirect, would otherwise pile them up until each of its requests failed. Over the
   * limit still (the caller's 500) when the values alone are, or the newest flash alone does
   * not fit beside them (one message too large: the app's, not a pile-up).
   */
  #signFitting(issued: number, data: ReadonlyMap<string, unknown>, flashes: readonly Flash[]): string {
    const d = Object.fromEntries(data);
    const pairs = flashes.map((f) => [f.category, f.message]);
    const sign = (kept: number): string => this.#cookie.sign({ i: issued, d, ...(kept > 0 ? { f: pairs.slice(pairs.length - kept) } : {}) });
    const all = sign(pairs.length);
    if (pairs.length === 0 || this.#size(all) <= MAX_SIGNED_LENGTH) return all;
    const none = sign(0);
    if (this.#size(none) > MAX_SIGNED_LENGTH) return none;
    // The size grows with each flash kept: a binary search for the most that fit, between none (fits) and all (does not).
    let fits = 0;
    let value = none;
    let over = pairs.length;
    while (over - fits > 1) {
      const kept = (fits + over) >>> 1;
      const signed = sign(kept);
      if (this.#size(signed) <= MAX_SIGNED_LENGTH) [fits, value] = [kept, signed];
      else over = kept;
    }
    // Not even the newest fits beside the values: a flash too large on its own (text taken whole
    // from the request), the app's mistake, answered as a session too large from its values.
    return fits === 0 ? sign(1) : value;
  }
}
