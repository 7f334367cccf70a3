/**
 * A signed, expiring login cookie: Paste's `auth_tkt`, with HMAC-SHA256 and key rotation.
 *
 * @module
 */
import { type AppLike, type Middleware, type StartResponse, toApp } from '../gateway/types.ts';
import { HeaderList, appendVary } from '../http/header-list.ts';
import { type RequestLike, environOf } from '../exceptions/base.ts';
import { keepPrivate, sharedFreshness } from '../http/shared-cache.ts';
import { defineEnvironKey } from '../gateway/environ-key.ts';
import { setRemoteUser } from './auth-util.ts';
import { editThrownFields, onThrown } from './on-thrown.ts';
import { MAX_SIGNED_LENGTH } from '../http/signed-value.ts';
import { type SignedCookieAttributes, SignedCookie, checkMaxAge } from '../http/signed-cookie.ts';
import { type OptionNames, booleanOption, checkOptions, kindOf } from '../gateway/option-names.ts';
import { keepRelayed } from '../gateway/relayed.ts';

/** Options of {@link AuthTickets}. */
export interface AuthTicketOptions extends SignedCookieAttributes {
  /**
   * `Secure` cookie attribute (sent over HTTPS only). Default: `Secure` on the ticket cookie
   * in the answer to an https request (`req.scheme`, which behind a proxy that ends TLS is
   * `https` under `proxyFix` with `xProto`), none over plain http (development), as
   * `CookieSessions` does: the reissued ticket, and the cookie `remember` or `forget` put in
   * a response, made `Secure` by the middleware as the response (or an `HTTPException` thrown
   * with it) passes it (a login answered
   * by an app the middleware does not wrap gets no `Secure`: give `true` there). `true`:
   * always, required with `sameSite: 'none'` and a `__Secure-` or `__Host-` cookie name.
   * `false`: never.
   */
  secure?: boolean | undefined;
  /** The signing key: at least 32 bytes (e.g. `crypto.randomBytes(32).toString('base64url')`). */
  secret?: string | Uint8Array | undefined;
  /**
   * Several keys, for rotation: tickets are signed with the first and accepted when signed
   * with any. To rotate on a rolling deploy, where processes with the old key alone still run
   * and would refuse what the new key signs: `[oldKey, newKey]` on every process first (accept
   * the new key, still sign with the old), then `[newKey, oldKey]`, then `[newKey]` after
   * `maxAge` (Django's `SECRET_KEY_FALLBACKS`; docs/sessions.md, "Rotating the key"). A leaked
   * key: `[newKey]` at once.
   * Give `secret` or `secrets`, not both (a `TypeError`).
   */
  secrets?: ReadonlyArray<string | Uint8Array> | undefined;
  /** The cookie's name; default `'auth_tkt'`. */
  cookieName?: string | undefined;
  /**
   * How long a ticket is valid, in seconds; default 86400 (one day). Checked against the
   * issue time signed into the ticket whenever one is read, as WebOb's `AuthTktCookieHelper`
   * checks its `timeout`: lowering it refuses at once every ticket older than the new value,
   * those issued before with a longer lifetime included. It also bounds the lifetime
   * `remember`/`sign` give a ticket.
   */
  maxAge?: number | undefined;
  /**
   * Sliding expiry, in seconds; default none (off): a ticket then expires `maxAge` after the
   * login, however active the user. When set, a valid ticket presented more than
   * `reissueTime` seconds after it was issued is replaced: the middleware adds a fresh
   * ticket cookie (same user, `data`, lifetime and persistence; issued now) to the response.
   * An active user stays logged in, one idle for the ticket's lifetime is logged out.
   * `0` reissues on every request (once the ticket is a second old); a tenth of `maxAge`
   * is a good choice (Pyramid's `reissue_time` and `timeout`). Must be below `maxAge`.
   */
  reissueTime?: number | undefined;
}

/** Every option of {@link AuthTicketOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const AUTH_TICKET_OPTIONS = { secret: true, secrets: true, cookieName: true, maxAge: true, reissueTime: true, secure: true, sameSite: true, path: true, domain: true, now: true } as const satisfies OptionNames<AuthTicketOptions>;

/** What a ticket says: who logged in, when, until when, and any data the app added. */
export interface Ticket {
  /** The user name (becomes `REMOTE_USER`). */
  readonly user: string;
  /** When the ticket was issued, in seconds since the epoch. */
  readonly issued: number;
  /**
   * When it stops being valid, in seconds since the epoch (at most `Number.MAX_SAFE_INTEGER`):
   * the expiry signed into it, or `issued` plus the current `maxAge` option when that comes
   * first (a ticket issued before `maxAge` was lowered).
   */
  readonly expires: number;
  /** The JSON value given to `remember` (roles, a session id…); absent when none. */
  readonly data?: unknown;
  /**
   * True when remembered with `persistent: false` (a browser-session cookie), so a reissued
   * cookie stays one; absent otherwise.
   */
  readonly session?: true | undefined;
}

/**
 * The verified {@link Ticket} of the request, set by an {@link AuthTickets}' middleware when
 * the request carries a valid ticket cookie: environ key `tsgi.auth_ticket`.
 *
 * @example
 * ```ts
 * const roles = (authTicketKey.get(req)?.data as { roles?: string[] } | undefined)?.roles ?? [];
 * ```
 */
export const authTicketKey = defineEnvironKey<Ticket>('tsgi.auth_ticket');

/** Options of {@link AuthTickets.remember}. */
export interface RememberOptions {
  /** A JSON-serialisable value stored (signed, not encrypted: readable by the client). */
  data?: unknown;
  /**
   * This ticket's lifetime in seconds: default, and at most, the `maxAge` option (a longer
   * one is cut to it: the ticket would be refused after `maxAge` anyway).
   */
  maxAge?: number | undefined;
  /**
   * True (the default): the cookie lives as long as the ticket (`Max-Age`). False: a
   * session cookie, dropped when the browser closes (the ticket still expires); the ticket
   * records it (`session: true`) so that a reissue keeps it a session cookie. Another type
   * (`'false'` from a form or an environment variable) is a `TypeError` naming the option, not
   * read by its truthiness (which made `'false'` a persistent cookie).
   */
  persistent?: boolean | undefined;
}

/** Every option of {@link RememberOptions}, checked per call (`checkOptions`); `tsc` fails when it and the type differ. */
const REMEMBER_OPTIONS = { data: true, maxAge: true, persistent: true } as const satisfies OptionNames<RememberOptions>;

/** Where `remember`/`forget` add their `Set-Cookie`: a `Response`, an `HTTPException`, or `HeaderList`. */
export type CookieTarget = HeaderList | { readonly headers: HeaderList };

/** How far in the future an issue time may be (clock skew between processes), in seconds. */
const ALLOWED_SKEW = 60;

/**
 * Issues and checks login tickets: a cookie `base64url(JSON payload) "." base64url(HMAC)`,
 * the HMAC-SHA256 over the cookie name and the payload. One object does it all: create one
 * per app (module scope) with the secret, wrap the app with its {@link AuthTickets.middleware}
 * (bound, so `compose(…, tickets.middleware)` works), call `remember`/`forget` from the login
 * and logout handlers, and read the ticket with `read(req)` (or `authTicketKey.get(req)`
 * below the middleware).
 *
 * A ticket is signed, not encrypted: the client can read the user name and `data`, but not
 * change them. A tampered, expired, truncated or otherwise malformed cookie, or one signed
 * with a key no longer listed, means "not logged in", never an error.
 *
 * @example
 * ```ts
 * import { HTTPSeeOther, Request, Response } from 'tsgi';
 * import { AuthTickets } from 'tsgi/middleware';
 *
 * const tickets = new AuthTickets({ secret: process.env.TICKET_SECRET!, secure: true, maxAge: 8 * 3600 });
 *
 * const site = Request.application(async (req) => {
 *   if (req.path === '/login' && req.method === 'POST') {
 *     const form = await req.form();
 *     const user = form.get('user') ?? '';
 *     if (!(await checkPassword(user, form.get('password') ?? ''))) return new Response('No', { status: 403 });
 *     const res = new HTTPSeeOther('/');
 *     tickets.remember(res, user, { data: { roles: ['editor'] } });
 *     return res;
 *   }
 *   // A POST (a form's button): a GET logout is one any link on another site can trigger.
 *   if (req.path === '/logout' && req.method === 'POST') return tickets.forget(new HTTPSeeOther('/'));
 *   return new Response(req.remoteUser ? `Hello ${req.remoteUser}` : 'Please log in');
 * });
 *
 * export const app = tickets.middleware(site);   // or compose(accessLog, errors, tickets.middleware)(site)
 * ```
 */
export class AuthTickets {
  /** The cookie's name. */
  readonly cookieName: string;
  /** The default ticket lifetime, in seconds. */
  readonly maxAge: number;
  /** The `reissueTime` option, in seconds, or `undefined` when tickets are not reissued. */
  readonly reissueTime: number | undefined;
  readonly #cookie: SignedCookie;

  /**
   * @throws TypeError when neither `secret` nor `secrets` is given or both are, a key is
   *   shorter than 32 bytes or neither a string nor a `Uint8Array` (`secrets` not an array), the cookie name is not a token, `maxAge` is under 1 second,
   *   `reissueTime` is not a number from 0 to below `maxAge` (a string from an environment
   *   variable or `null` too), `path` does not start with `/`
   *   (browsers would ignore it: RFC 6265bis §5.6.4), `path`, `domain` or `sameSite`
   *   cannot be put in a `Set-Cookie`, or the cookie is one browsers refuse to store
   *   (RFC 6265bis §4.1.3, §5.7: `sameSite: 'none'`, or a `__Secure-` or `__Host-` name,
   *   without `secure: true`; a `__Host-` name with a `domain` or a `path` other than `/`),
   *   a `secure` that is not a boolean, or a `now` that is not a function.
   */
  constructor(options: AuthTicketOptions) {
    checkOptions('new AuthTickets', options, AUTH_TICKET_OPTIONS, 'first');
    this.#cookie = new SignedCookie(options, {
      purpose: 'tsgi.auth_ticket',
      owner: 'AuthTickets',
      what: 'an auth ticket secret',
      cookieName: 'auth_tkt',
      maxAge: 86400,
    });
    this.cookieName = this.#cookie.name;
    this.maxAge = this.#cookie.maxAge;
    this.reissueTime = options.reissueTime;
    // A number only: `''` (an empty environment variable), `null` or `'120'` compare as numbers,
    // and `''` and `null` as 0, a reissue at every request.
    const reissueTime: unknown = this.reissueTime;
    if (reissueTime !== undefined && !(typeof reissueTime === 'number' && reissueTime >= 0 && reissueTime < this.maxAge)) {
      const shown = typeof reissueTime === 'number' ? String(reissueTime) : typeof reissueTime === 'string' ? JSON.stringify(reissueTime) : kindOf(reissueTime);
      throw new TypeError(`new AuthTickets: reissueTime must be a number of seconds from 0 to below maxAge, not ${shown}`);
    }
  }

  /**
   * The middleware, a {@link Middleware} bound to this object (pass it around as it is:
   * `tickets.middleware(site)`, `compose(errors, tickets.middleware)`). It wraps `app`: a
   * request with a valid ticket gets `REMOTE_USER` (the user), `AUTH_TYPE` (`cookie`, as
   * Paste's auth_tkt) and the {@link Ticket} under {@link authTicketKey}
   * (`environ['tsgi.auth_ticket']`); any other request goes through untouched (anonymous).
   * It never refuses a request: guard pages in the app
   * (`if (!req.remoteUser) throw new HTTPSeeOther('/login')`).
   *
   * A response that sets or deletes the ticket cookie (the app's `remember` or `forget`),
   * returned or thrown (an `HTTPException` such as the redirect after a login, which escapes
   * to be answered outside), is kept out of shared caches, as `CookieSessions` does for its
   * cookie: unless its
   * `Cache-Control` says `private` (bare) or `no-store`, `public` and `s-maxage` are dropped and
   * `private` added (RFC 9111 §5.2.2.7), and `CDN-Cache-Control`, `<name>-CDN-Cache-Control`
   * and `Surrogate-Control` (RFC 9213), which a CDN obeys over it, are removed; a cache would
   * otherwise hand the user's ticket, or its deletion, to every visitor of the URL.
   *
   * On an https request, the ticket cookie of the response (the app's `remember` or `forget`,
   * or the reissue) is `Secure` unless the `secure` option is `false`
   * ({@link AuthTicketOptions.secure}).
   *
   * Every answer that passes the middleware (returned, or an `HTTPException` thrown) gets
   * `Cookie` in its `Vary` (RFC 9110 §12.5.5; nothing is added to `Vary: *`), a logged-in
   * user's page and an anonymous one alike: the user is set before the app runs, so whether a
   * page depends on it cannot be told, and a cache that honours `Vary` must neither hand a
   * user's page to others nor the anonymous page to a logged-in user (as `CookieSessions` adds
   * it to every answer whose session was read).
   *
   * With `reissueTime`, a valid ticket older than that gets a fresh ticket cookie added to
   * the response, as its headers pass (the body is not touched), except on a response
   * that sets or deletes the ticket cookie itself (the app logged someone in or out), and
   * on one a shared cache may store and serve fresh (RFC 9111 §3, §5.2.2: `Cache-Control:
   * public`, `s-maxage` or `max-age`, or an `Expires` header, unless `private` or `no-store`
   * says otherwise; or a lifetime in `CDN-Cache-Control`, `<name>-CDN-Cache-Control` or
   * `Surrogate-Control`, which a CDN obeys over `Cache-Control: private`, RFC 9213), where the
   * cookie could be served to others; the next request reissues
   * instead. A reissue on a response without such freshness, which a shared cache may still
   * keep for a heuristic time (RFC 9111 §4.2.2: a `Last-Modified` is enough), is served by a
   * cache only to requests with the same cookie (this user's), by the `Vary: Cookie` above.
   */
  readonly middleware: Middleware = (app: AppLike) => {
    const inner = toApp(app);
    // What the app throws (an `HTTPException` escaping to be answered outside, by `serve()`:
    // the redirect after a login) gets the ticket cookie's fields edited as an answer does.
    const editHttp = (fields: Array<[string, string]>) => this.#cookieFields(fields, false);
    const editHttps = (fields: Array<[string, string]>) => this.#cookieFields(fields, true);
    const thrownHttp = (error: unknown): never => editThrownFields(error, editHttp);
    const thrownHttps = (error: unknown): never => editThrownFields(error, editHttps);
    return (environ, startResponse) => {
      const https = environ['tsgi.url_scheme'] === 'https';
      // An upstream's head (`proxy`) stays relayed for `lint` once edited (`keepRelayed`).
      const respond: StartResponse = (status, headers, error) =>
        startResponse(status, keepRelayed(headers, this.#cookieFields(headers, https)), error);
      const ticket = this.read(environ);
      let start = respond;
      if (ticket !== null) {
        setRemoteUser(environ, ticket.user, 'cookie');
        authTicketKey.set(environ, ticket);
        if (this.#reissueDue(ticket)) {
          start = (status, headers, error) =>
            respond(status, keepRelayed(headers, this.#reissue(ticket, headers, https)), error);
        }
      }
      return onThrown(() => inner(environ, start), https ? thrownHttps : thrownHttp);
    };
  };

  /**
   * The valid ticket in the request's cookie (a `Request` or an environ), or `null`: the
   * current login, read and verified from the cookie, so it works with or without the
   * middleware (below it, `authTicketKey.get(req)` holds the same ticket, already verified).
   * A ticket `remember`ed while handling this request is in the response, not here.
   */
  read(req: RequestLike): Ticket | null {
    return this.#cookie.read(environOf(req)!.HTTP_COOKIE, this.#checkSigned);
  }

  /** {@link AuthTickets.#check}, bound once (no closure per request). */
  readonly #checkSigned = (signed: { json: unknown }): Ticket | null => this.#check(signed);

  /**
   * Checks a cookie value: signed with one of the keys, well-formed, issued no later than a
   * minute from now and not yet expired (neither past its expiry nor older than `maxAge`).
   * Never throws.
   *
   * @returns the ticket, or `null` for anything else.
   */
  verify(value: string | null | undefined): Ticket | null {
    return this.#check(this.#cookie.verify(value));
  }

  /**
   * The ticket in a verified payload, unless malformed, expired (past its own expiry, or older
   * than `maxAge`) or issued too far ahead.
   */
  #check(signed: { json: unknown } | null): Ticket | null {
    const ticket = signed === null ? null : toTicket(signed.json);
    if (ticket === null) return null;
    const now = this.#cookie.now() / 1000;
    // The current `maxAge` bounds every ticket, one issued while it was longer too.
    const expires = Math.min(ticket.expires, expiry(ticket.issued, this.maxAge));
    if (now >= expires || ticket.issued > now + ALLOWED_SKEW) return null;
    return expires === ticket.expires ? ticket : { ...ticket, expires };
  }

  /**
   * Makes a signed cookie value for `user`, valid `options.maxAge` seconds from now (at most
   * the `maxAge` option; `persistent: false` is recorded in the ticket, see {@link Ticket.session}).
   *
   * @throws TypeError for an empty user name, `data` that JSON cannot carry or a `maxAge`
   *   under 1 second; RangeError when the cookie (name, `=` and ticket) would be over 4096
   *   bytes, which browsers drop; TypeError for options that are not a plain object or hold
   *   an unknown key (`tickets.sign: unknown option "maxage": did you mean "maxAge"?`), or a
   *   `persistent` that is not a boolean (`tickets.sign: persistent must be true or false, got
   *   "false"`).
   * @returns `value`, the signed cookie value, and `ticket`, the {@link Ticket} it holds.
   */
  sign(user: string, options: RememberOptions = {}): { value: string; ticket: Ticket } {
    checkOptions('tickets.sign', options, REMEMBER_OPTIONS);
    return this.#sign('tickets.sign', user, options);
  }

  /** {@link sign}, its options checked by the caller; a bad `persistent` named as `where`'s. */
  #sign(where: string, user: string, options: RememberOptions): { value: string; ticket: Ticket } {
    if (typeof user !== 'string' || user === '') throw new TypeError('a ticket needs a non-empty user name');
    const asked = options.maxAge ?? this.maxAge;
    checkMaxAge(asked);
    const lifetime = Math.min(asked, this.maxAge);
    const issued = this.#cookie.seconds();
    const session = !booleanOption(where, 'persistent', options.persistent, true);
    const ticket: Ticket = {
      user,
      issued,
      expires: expiry(issued, lifetime),
      ...(options.data !== undefined ? { data: options.data } : {}),
      ...(session ? { session } : {}),
    };
    if (options.data !== undefined && JSON.stringify(options.data) === undefined) {
      throw new TypeError('ticket data must be JSON-serialisable');
    }
    const value = this.#cookie.sign({
      u: ticket.user,
      i: ticket.issued,
      e: ticket.expires,
      ...(options.data !== undefined ? { d: options.data } : {}),
      ...(session ? { s: 1 } : {}),
    });
    // Browsers keep a cookie's name and value within 4096 bytes (RFC 6265bis §5.6).
    const size = this.cookieName.length + 1 + value.length;
    if (size > MAX_SIGNED_LENGTH) throw new RangeError(`the ticket cookie is ${size} bytes, over ${MAX_SIGNED_LENGTH}: store less data`);
    return { value, ticket };
  }

  /**
   * Logs `user` in: adds a `Set-Cookie` with a fresh ticket to `target` (a `Response`, an
   * `HTTPException` such as the redirect after a login, or `HeaderList`). The cookie is
   * `HttpOnly`, with the `Secure`, `SameSite`, `Path` and `Domain` of the options (without a
   * `secure` option, made `Secure` by the middleware on an https request: see
   * {@link AuthTicketOptions.secure}).
   *
   * @returns the new ticket.
   * @throws as {@link sign} does (the unknown option and a bad `persistent` named
   *   `tickets.remember`); nothing is added then.
   */
  remember(target: CookieTarget, user: string, options: RememberOptions = {}): Ticket {
    checkOptions('tickets.remember', options, REMEMBER_OPTIONS, 'third');
    const { value, ticket } = this.#sign('tickets.remember', user, options);
    headersOf(target).add('Set-Cookie', this.#setCookie(value, ticket));
    return ticket;
  }

  /**
   * Logs out: adds a `Set-Cookie` that deletes the ticket cookie (empty, `Max-Age=0`).
   * The old ticket stays valid until it expires if someone kept a copy: keep `maxAge` short,
   * or keep a server-side session id in `data` and check it.
   *
   * @returns `target`, for chaining.
   */
  forget<T extends CookieTarget>(target: T): T {
    headersOf(target).add('Set-Cookie', this.#cookie.deleteCookie());
    return target;
  }

  /**
   * `headers` of an answer to a request over https (`https`) or not, with `Cookie` in their
   * `Vary` (the app may have read the user, set before it ran), with the ticket cookie the
   * app set (`remember`, `forget`) made `Secure` on https unless the `secure` option says
   * otherwise (they write into a response, with no request at hand), and kept out of shared
   * caches when they set or delete it ({@link AuthTickets.#keepCookiePrivate}): a login or a
   * logout is this visitor's alone.
   */
  #cookieFields(headers: Array<[string, string]>, https: boolean): Array<[string, string]> {
    const varied = varyOnCookie(headers);
    return this.#keepCookiePrivate(https ? this.#cookie.secureFields(varied) : varied);
  }

  /** The `Set-Cookie` value carrying `value`: `Max-Age`/`Expires` unless a session ticket. */
  #setCookie(value: string, ticket: Ticket, https = false): string {
    const lifetime = { maxAge: ticket.expires - ticket.issued, expires: new Date(ticket.expires * 1000) };
    return this.#cookie.setCookie(value, ticket.session ? undefined : lifetime, https);
  }

  /**
   * `headers`, kept out of shared caches ({@link keepPrivate}: `private`, without `public`,
   * `s-maxage` and the CDN-targeted fields) when they set or delete the ticket cookie: a cache
   * would hand the ticket (or its deletion) to every visitor of the URL.
   */
  #keepCookiePrivate(headers: Array<[string, string]>): Array<[string, string]> {
    if (!Array.isArray(headers) || !headers.some(([name, value]) => this.#cookie.isSetBy(name, value))) return headers; // not an array: the server refuses it
    const list = new HeaderList(headers);
    keepPrivate(list);
    return list.list;
  }

  /** Whether `ticket` is older than `reissueTime` (never without the option). */
  #reissueDue(ticket: Ticket): boolean {
    return this.reissueTime !== undefined && this.#cookie.seconds() - ticket.issued > this.reissueTime;
  }

  /**
   * `headers` plus a fresh ticket's `Set-Cookie`, or `headers` as they are when they set
   * the ticket cookie themselves or allow a shared cache to store the response.
   */
  #reissue(ticket: Ticket, headers: Array<[string, string]>, https: boolean): Array<[string, string]> {
    if (headers.some(([name, value]) => this.#cookie.isSetBy(name, value))) return headers;
    // Served fresh to others by a shared cache or a CDN: the cookie would go to them too.
    if (sharedFreshness(new HeaderList(headers), 'set-cookie') === 'fresh') return headers;
    const { value, ticket: fresh } = this.sign(ticket.user, {
      maxAge: ticket.expires - ticket.issued,
      persistent: !ticket.session,
      ...(ticket.data !== undefined ? { data: ticket.data } : {}),
    });
    // Without explicit freshness a shared cache may still keep it, fresh for a heuristic time
    // (RFC 9111 §4.2.2): the answer's `Vary: Cookie` keeps it for this user's cookie alone.
    return [...headers, ['Set-Cookie', this.#setCookie(value, fresh, https)]];
  }
}

/**
 * A copy of `headers` with `Cookie` added to their `Vary` (through `vary`, as `compress` adds
 * `Accept-Encoding`: once, and nothing after `*`), or `headers` when not an array (the server
 * refuses them).
 */
function varyOnCookie(headers: Array<[string, string]>): Array<[string, string]> {
  if (!Array.isArray(headers)) return headers;
  const varied = headers.slice();
  appendVary(varied, 'Cookie');
  return varied;
}

/**
 * The end of a ticket issued at `issued` (seconds since the epoch) for `lifetime` seconds.
 * A lifetime reaching past the safe integers (`maxAge: Number.MAX_SAFE_INTEGER`, "never")
 * ends at the last one: an unsafe expiry is refused as malformed, and no `Max-Age` spells it.
 */
function expiry(issued: number, lifetime: number): number {
  return Math.min(issued + Math.floor(lifetime), Number.MAX_SAFE_INTEGER);
}

function headersOf(target: CookieTarget): HeaderList {
  return 'headers' in target && typeof target.headers === 'object' && target.headers !== null
    ? (target as { headers: HeaderList }).headers
    : (target as HeaderList);
}

function toTicket(fields: unknown): Ticket | null {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return null;
  const { u, i, e, d, s } = fields as { u?: unknown; i?: unknown; e?: unknown; d?: unknown; s?: unknown };
  if (typeof u !== 'string' || u === '' || !Number.isSafeInteger(i) || !Number.isSafeInteger(e)) return null;
  if (s !== undefined && s !== 1) return null;
  return { user: u, issued: i as number, expires: e as number, ...(d !== undefined ? { data: d } : {}), ...(s === 1 ? { session: true } : {}) };
}
