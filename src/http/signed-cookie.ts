/**
 * One signed cookie's settings, checked once: its name, lifetime, attributes, clock and
 * {@link Signer}. Shared by `AuthTickets` and `CookieSessions` (whose options take the
 * documented {@link SignedCookieAttributes}); not exported from an entry point.
 *
 * @module
 */
import { parseCookie } from 'cookie';
import { isToken } from '../gateway/fields.ts';
import {
  type CookieOptions,
  LATEST_EXPIRES,
  cookieValues,
  deletionOptions,
  serializeSetCookie,
} from './cookies.ts';
import { type SigningKeys, Signer } from './signed-value.ts';
import { booleanOption, kindOf } from '../gateway/option-names.ts';

/**
 * The cookie attributes and clock of a signed-cookie middleware's options (`AuthTicketOptions`,
 * `CookieSessionOptions`), which document the rest themselves.
 */
export interface SignedCookieAttributes {
  /**
   * `Secure` cookie attribute (HTTPS only). Default: the request's scheme, as each
   * middleware documents (`Secure` in answer to an https request). `true`: always, required
   * with `sameSite: 'none'` and with a `__Secure-` or `__Host-` cookie name. `false`: never.
   */
  secure?: boolean | undefined;
  /**
   * `SameSite` cookie attribute, `'strict'`, `'lax'` or `'none'`, or capitalized (`'Lax'`, as
   * Flask's `SESSION_COOKIE_SAMESITE` is written), as `CookieOptions.sameSite`; default `'lax'`.
   * `'none'` needs `secure: true`.
   */
  sameSite?: CookieOptions['sameSite'];
  /**
   * `Path` cookie attribute, starting with `/` (a `TypeError` otherwise: browsers ignore any
   * other, RFC 6265bis §5.6.4); default `'/'` (the only one a `__Host-` cookie may have).
   */
  path?: string | undefined;
  /** `Domain` cookie attribute; default none (this host only; a `__Host-` cookie has none). */
  domain?: string | undefined;
  /**
   * The clock, a function answering milliseconds since the epoch; default `Date.now` (tests
   * pass their own). Anything else (`Date.now()`, the time) is a `TypeError` when built.
   */
  now?: (() => number) | undefined;
}

/** The options a signed-cookie middleware takes besides its own (see `AuthTicketOptions`). */
export interface SignedCookieOptions extends SigningKeys, SignedCookieAttributes {
  cookieName?: string | undefined;
  maxAge?: number | undefined;
}

/** What differs between the middleware: the MAC's purpose, the names in errors, the defaults. */
export interface SignedCookieKind {
  /** Bound into the MAC (`tsgi.auth_ticket`), so one middleware's cookie is not another's. */
  purpose: string;
  /** The middleware's name, for errors (`AuthTickets`). */
  owner: string;
  /** Its key, for errors (`an auth ticket secret`). */
  what: string;
  cookieName: string;
  /** Default lifetime, in seconds. */
  maxAge: number;
}

/** A signed cookie: reads and verifies it from a `Cookie` header, signs values, writes `Set-Cookie` lines. */
export class SignedCookie {
  readonly name: string;
  /** Lifetime in seconds. */
  readonly maxAge: number;
  /** The clock, in milliseconds since the epoch. */
  readonly now: () => number;
  readonly #signer: Signer;
  /** The `secure` option as given: `undefined` lets {@link setCookie}'s caller decide. */
  readonly #secure: boolean | undefined;
  readonly #attributes: { path: string; domain?: string; secure: boolean; sameSite: NonNullable<CookieOptions['sameSite']>; httpOnly: true };

  /**
   * @throws TypeError when neither `secret` nor `secrets` is given or both are, a key is
   *   shorter than 32 bytes or neither a string nor a `Uint8Array` (`secrets` not an array), the name is not a token, `maxAge` is under 1 second (see {@link checkMaxAge}) or
   *   past `Number.MAX_SAFE_INTEGER` (no `Max-Age` spells it), `path` does not start with `/`, or the cookie cannot
   *   be put in a `Set-Cookie` or is one browsers refuse (see `serializeSetCookie`), or `now`
   *   is not a function.
   */
  constructor(options: SignedCookieOptions, kind: SignedCookieKind) {
    this.#signer = new Signer(options, kind.purpose, kind.owner, kind.what);
    this.name = options.cookieName ?? kind.cookieName;
    if (!isToken(this.name)) throw new TypeError(`invalid cookie name: ${JSON.stringify(this.name)}`);
    this.maxAge = options.maxAge ?? kind.maxAge;
    checkMaxAge(this.maxAge);
    // `'false'` from an environment variable would otherwise be read as `Secure` by `cookie`.
    this.#secure = options.secure === undefined ? undefined : booleanOption(`new ${kind.owner}`, 'secure', options.secure);
    // RFC 6265bis §5.6.4: browsers ignore a Path not starting with "/" and scope the cookie to
    // the directory of each URL that sets it, where a deletion from another page misses it.
    if (typeof options.path === 'string' && !options.path.startsWith('/')) {
      throw new TypeError(`new ${kind.owner}: path must start with "/", not ${JSON.stringify(options.path)} (browsers ignore any other and scope the cookie to the URL that sets it, so a logout elsewhere would leave it)`);
    }
    this.#attributes = {
      path: options.path ?? '/',
      ...(options.domain !== undefined ? { domain: options.domain } : {}),
      secure: this.#secure ?? false,
      sameSite: options.sameSite ?? 'lax',
      httpOnly: true,
    };
    // A cookie a `Set-Cookie` cannot carry, or browsers refuse (`sameSite: 'none'` without
    // `secure`…), fails here, not at every response: nothing would ever stick.
    serializeSetCookie(this.name, '', { ...this.#attributes, maxAge: this.maxAge });
    // `now: Date.now()`, the time rather than the clock, would fail every read and save.
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new TypeError(`new ${kind.owner}: now must be a function answering milliseconds since the epoch (Date.now), not ${kindOf(options.now)}`);
    }
    this.now = options.now ?? Date.now;
  }

  /**
   * What `accept` makes of the verified payload of the first cookie of this name in a `Cookie`
   * header whose signature verifies and that `accept` takes (answers other than `null` for: a
   * payload well-formed and not expired), or `null`. The others of the name are skipped, not
   * errors: a sibling subdomain can plant one (`Domain=example.com`) that the browser sends
   * first (RFC 6265bis §8.6), which would otherwise log the user out. The header is scanned for
   * them only when the first fails and the name occurs again. Never throws (unless `accept`).
   */
  read<T>(header: unknown, accept: (signed: { json: unknown }) => T | null): T | null {
    if (typeof header !== 'string') return null;
    const at = header.indexOf(this.name);
    if (at === -1) return null;
    // The value as sent: a signed value is plain base64url, so a quoted or percent-encoded one
    // is another spelling of it, refused rather than decoded.
    const first = this.#accepted(parseCookie(header, { decode: (raw) => raw })[this.name], accept);
    if (first !== null || !header.includes(this.name, at + this.name.length)) return first;
    for (const value of cookieValues(header, this.name)) {
      const found = this.#accepted(value, accept);
      if (found !== null) return found;
    }
    return null;
  }

  /** What `accept` makes of `value`'s verified payload, or `null` (not signed by a key of ours). */
  #accepted<T>(value: string | undefined, accept: (signed: { json: unknown }) => T | null): T | null {
    const signed = this.verify(value);
    return signed === null ? null : accept(signed);
  }

  /** The verified payload of a cookie value, or `null`. Never throws. */
  verify(value: string | null | undefined): { json: unknown } | null {
    return this.#signer.verify(this.name, value);
  }

  /** The signed value of `json` (length unchecked). @throws TypeError when JSON cannot carry it. */
  sign(json: unknown): string {
    return this.#signer.sign(this.name, json);
  }

  /**
   * The `Set-Cookie` carrying `value`, with a lifetime (`Max-Age`, `Expires`) when given.
   *
   * @param https whether the request came over https: `Secure` then, when the `secure` option
   *   was not given (default false).
   */
  setCookie(value: string, lifetime?: { maxAge: number; expires: Date }, https = false): string {
    // A lifetime reaching past year 9999 (`maxAge: 1e12`; past 275760 the Date is invalid) has no HTTP date: the latest stands
    // for it, as `serializeSetCookie` writes for a `maxAge` alone (browsers read `Max-Age` first).
    if (lifetime !== undefined && !(lifetime.expires.getTime() <= LATEST_EXPIRES)) lifetime = { maxAge: lifetime.maxAge, expires: new Date(LATEST_EXPIRES) };
    return serializeSetCookie(this.name, value, { ...this.#attributesFor(https), ...lifetime });
  }

  /** The `Set-Cookie` deleting the cookie; `https` as for {@link setCookie}. */
  deleteCookie(https = false): string {
    return serializeSetCookie(this.name, '', deletionOptions(this.name, this.#attributesFor(https)));
  }

  /**
   * `headers` with this cookie's `Set-Cookie` fields made `Secure`, for the answer to an https
   * request when the `secure` option was not given (as {@link setCookie} with `https`): for a
   * cookie set without the request at hand (`AuthTickets`' `remember` and `forget` write into
   * a response). `headers` itself when there is nothing to change.
   */
  secureFields(headers: Array<[string, string]>): Array<[string, string]> {
    if (this.#secure !== undefined) return headers;
    let out: Array<[string, string]> | undefined;
    for (let i = 0; i < headers.length; i++) {
      const [name, value] = headers[i]!;
      if (!this.isSetBy(name, value)) continue;
      if (value.split(';').some((attribute, n) => n > 0 && attribute.trim().toLowerCase() === 'secure')) continue;
      (out ??= headers.slice())[i] = [name, `${value}; Secure`];
    }
    return out ?? headers;
  }

  /** True when the header field `name: value` is a `Set-Cookie` of this cookie (its name compared exactly). */
  isSetBy(name: string, value: string): boolean {
    return name.toLowerCase() === 'set-cookie' && value.slice(0, value.indexOf('=')).trim() === this.name;
  }

  #attributesFor(https: boolean) {
    return https && this.#secure === undefined ? { ...this.#attributes, secure: true } : this.#attributes;
  }

  /** The clock, in whole seconds since the epoch. */
  seconds(): number {
    return Math.floor(this.now() / 1000);
  }
}

/**
 * Checks a cookie lifetime in seconds: a finite number of at least 1. A cookie's `Max-Age` is
 * whole seconds (RFC 6265 §5.2.2), so anything under a second would be sent as `Max-Age=0`,
 * a cookie deleted on arrival, and a ticket would expire as it is issued.
 *
 * @throws TypeError (`maxAge must be at least 1 second`) for anything else.
 */
export function checkMaxAge(seconds: number): void {
  if (!(seconds >= 1) || !Number.isFinite(seconds)) throw new TypeError(`maxAge must be at least 1 second, not ${String(seconds)}`);
}
