/**
 * Cookie headers (RFC 6265bis) over the `cookie` package.
 *
 * @module
 */
import { parseCookie, stringifySetCookie } from 'cookie';
import { decodeUtf8WithoutBom } from './charset.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';

/** Attributes of a `Set-Cookie` line (RFC 6265bis §4.1). */
export interface CookieOptions {
  /** Lifetime in **seconds** (`Max-Age`); also sets `Expires` to now + maxAge unless given. */
  maxAge?: number | undefined;
  /** Absolute expiry (`Expires`). */
  expires?: Date | undefined;
  /** `Path`; default `'/'` (as WebOb and Werkzeug). Pass `null` to leave it out. */
  path?: string | null | undefined;
  /** `Domain`; default none (host-only cookie). */
  domain?: string | undefined;
  /**
   * `Secure`: only sent over HTTPS. Default false. Required with `sameSite: 'none'`,
   * `partitioned`, and a name starting with `__Secure-` or `__Host-`.
   */
  secure?: boolean | undefined;
  /** `HttpOnly`: hidden from scripts. Default false. */
  httpOnly?: boolean | undefined;
  /**
   * `SameSite`: `'strict'`, `'lax'` or `'none'`, any case (written `SameSite=Strict`…;
   * RFC 6265bis §4.1.2.7). Default: no attribute (Chromium then treats it as `Lax`). `'none'`
   * without `secure: true` throws a `TypeError`, and so does any other value (Express's
   * `true` is `'strict'` here, its `false` no `sameSite`).
   */
  sameSite?: 'strict' | 'lax' | 'none' | 'Strict' | 'Lax' | 'None' | undefined;
  /** `Partitioned` (CHIPS): keyed to the top-level site; needs `secure`. Default false. */
  partitioned?: boolean | undefined;
  /** `Priority`: `'low'`, `'medium'` or `'high'` (Chromium extension). Default: no attribute (Chromium's `medium`). */
  priority?: 'low' | 'medium' | 'high' | undefined;
  /**
   * How the value is encoded. Default: a value of RFC 6265 cookie-octets only is written as it
   * is (`user@example.com`, `a/b`, `k=v`); any other is encoded whole with
   * `encodeURIComponent` (`a b` is `a%20b`, `100%` is `100%25`), decoded again by
   * `req.cookies`. Pass `encodeURIComponent` to encode every value, as tsgi 0.2 did. Called
   * for the empty value too.
   */
  encode?: ((value: string) => string) | undefined;
}

/** Every option of {@link CookieOptions}, checked per call (`res.setCookie`, `checkOptions`); `tsc` fails when it and the type differ. */
export const COOKIE_OPTIONS = { maxAge: true, expires: true, path: true, domain: true, secure: true, httpOnly: true, sameSite: true, partitioned: true, priority: true, encode: true } as const satisfies OptionNames<CookieOptions>;


/**
 * Builds one `Set-Cookie` value.
 *
 * A line a browser would refuse to store (RFC 6265bis §4.1.3, §5.7; CHIPS) is refused here
 * instead of being sent to be dropped without a word: `SameSite=None` or `Partitioned`
 * without `Secure`, a `__Secure-` name without `Secure`, and a `__Host-` name without
 * `Secure`, with a `Domain`, or with a `Path` other than `/` (prefixes compared
 * case-insensitively, as browsers do); and a name and encoded value of more than
 * 4096 bytes together (§5.7 step 3; Werkzeug's `dump_cookie` only
 * warns).
 *
 * @throws TypeError for a name that is empty or holds a space, a control, `;`, `=` or a
 *   character past ASCII (the message names the cookie and the rule; other non-token names,
 *   `a/b`, are taken, as the `cookie` package takes them), a path or domain with characters
 *   a cookie cannot carry (`cookie`'s message, after the cookie's name), a value a custom
 *   `encode` left with such characters (the message does not show the value), a value that is
 *   not valid Unicode (a lone surrogate), a `maxAge` that is not a finite number or is past
 *   `Number.MAX_SAFE_INTEGER` seconds (`option maxAge is invalid`), a `sameSite` other than
 *   `'strict'`, `'lax'` or `'none'` in any case (`option sameSite is invalid: true (write
 *   'strict', 'lax' or 'none'; Express's sameSite: true is 'strict')`), an unknown option or options
 *   that are not a plain object (`serializeSetCookie: unknown option "httponly": did you mean
 *   "httpOnly"?`), an `expires` that is not a `Date`, or not a
 *   valid date of the years 1601 to 9999 (`option expires is invalid`: RFC 6265 §5.1.1 has no
 *   other; a `maxAge` reaching past 9999 writes `Expires` 9999-12-31 23:59:59 GMT instead, one
 *   reaching before 1970 `Expires` 1970-01-01 00:00:00 GMT), or a
 *   line a browser would refuse (above);
 *   RangeError for a cookie over 4096 bytes, the message giving its size.
 */
export function serializeSetCookie(name: string, value: string, options: CookieOptions = {}): string {
  checkOptions('serializeSetCookie', options, COOKIE_OPTIONS, 'third');
  const { maxAge, path = '/', sameSite: givenSameSite, encode, ...rest } = options;
  const sameSite = sameSiteOf(name, givenSameSite);
  const refused = refusedByBrowsers(name, options, path, sameSite);
  if (refused !== null) throw new TypeError(`cookie ${JSON.stringify(name)}: ${refused}; browsers would not store it`);
  let expires = options.expires;
  // `cookie` would call a Date's methods on them (`cookie.expires.getUTCFullYear is not a function`).
  if (expires != null && Object.prototype.toString.call(expires) !== '[object Date]') {
    throw new TypeError(`cookie ${JSON.stringify(name)}: option expires is invalid: ${JSON.stringify(expires)} (a Date)`);
  }
  if (maxAge !== undefined) {
    if (!Number.isFinite(maxAge)) throw new TypeError(`cookie ${JSON.stringify(name)}: option maxAge is invalid: ${typeof maxAge === 'string' ? JSON.stringify(maxAge) : String(maxAge)} (a finite number of seconds)`);
    // Past year 9999 an HTTP date has no spelling: the latest one it has stands for it; before
    // 1970 (a cookie long expired) the epoch, as `deletionOptions` writes it.
    expires ??= new Date(Math.max(0, Math.min(Date.now() + Math.floor(maxAge) * 1000, LATEST_EXPIRES)));
  }
  let line: string;
  try {
    line = stringifySetCookie(
      {
        ...rest,
        name,
        value,
        ...(maxAge !== undefined ? { maxAge: Math.floor(maxAge) } : {}),
        ...(expires ? { expires } : {}),
        ...(path !== null ? { path } : {}),
        ...(sameSite ? { sameSite } : {}),
      },
      encode ? { encode } : undefined,
    );
  } catch (error) {
    // encodeURIComponent's URIError for a lone surrogate: a bad value, like the others.
    if (error instanceof URIError) throw new TypeError(`cookie ${JSON.stringify(name)}: the value is not valid Unicode (a lone surrogate)`, { cause: error });
    throw refusedByCookie(name, error);
  }
  // `cookie` lets only ASCII through in the name and the encoded value: characters are bytes.
  const end = line.indexOf(';');
  const size = (end === -1 ? line.length : end) - 1;
  if (size > MAX_COOKIE_SIZE) {
    throw new RangeError(`cookie ${JSON.stringify(name)} is ${size} bytes (name and value), over ${MAX_COOKIE_SIZE}: browsers would not store it`);
  }
  return line;
}

/**
 * `cookie`'s error for a name, value or attribute it refuses (`cookie name is invalid: user
 * id`), naming the cookie (never the value), and for the name the rule it breaks: `cookie` refuses an empty name and one
 * holding a space, a control, `;`, `=` or a character past ASCII (RFC 6265bis §5.6), and takes
 * the rest (`a/b`, `a:b`); a token (RFC 6265 §4.1.1, RFC 9110 §5.6.2) is what to write.
 */
function refusedByCookie(name: string, error: unknown): unknown {
  if (!(error instanceof TypeError)) return error;
  if (error.message.startsWith('cookie name is invalid')) {
    const why = name === ''
      ? 'the name is empty'
      : `the name may hold no spaces, controls, ";", "=" or non-ASCII characters (write letters, digits and !#$%&'*+-.^_\`|~, an RFC 6265 token)`;
    return new TypeError(`cookie ${JSON.stringify(name)}: ${why}`, { cause: error });
  }
  if (error.message.startsWith('cookie value is invalid')) {
    // Only a custom `encode` gets here. `cookie`'s message (and so a cause) holds the value,
    // which may be private (a token, an email): the error, logged, keeps it out.
    return new TypeError(`cookie ${JSON.stringify(name)}: the encoded value holds a space, a control, ";" or a non-ASCII character, which a cookie cannot carry: check the encode option`);
  }
  // `cookie path is invalid: /a;b` reads `option path is invalid: /a;b` after the cookie's name.
  const message = error.message.replace(/^cookie (\w+) is invalid/, 'option $1 is invalid');
  return new TypeError(`cookie ${JSON.stringify(name)}: ${message}`, { cause: error });
}

/**
 * The latest `Expires` an HTTP date can carry, 9999-12-31 23:59:59 UTC, in milliseconds since
 * the epoch: `cookie` refuses years past 9999 (RFC 6265 §5.1.1).
 */
export const LATEST_EXPIRES = Date.UTC(9999, 11, 31, 23, 59, 59);

/**
 * The most bytes a cookie's name and value may hold together, 4096: browsers ignore a
 * `Set-Cookie` past it (RFC 6265bis §5.7 step 3, §6.1).
 */
export const MAX_COOKIE_SIZE = 4096;

/** Names whose prefix asks for `Secure` (`__secure-`, `__host-`), lower-cased, as `prefixOf` answers. */
type CookiePrefix = '__secure-' | '__host-' | null;

/** The prefix of a cookie name that browsers give rules to (RFC 6265bis §4.1.3), or `null`. */
function prefixOf(name: string): CookiePrefix {
  if (typeof name !== 'string' || name.charCodeAt(0) !== 95 || name.charCodeAt(1) !== 95) return null; // '__'
  const lower = name.slice(0, 9).toLowerCase();
  if (lower === '__secure-') return '__secure-';
  return lower.startsWith('__host-') ? '__host-' : null;
}

/** The `SameSite` values (RFC 6265bis §4.1.2.7), lower-cased. */
const SAME_SITE: ReadonlySet<string> = new Set(['strict', 'lax', 'none']);

/**
 * The `sameSite` option lower-cased, `undefined` when not given.
 *
 * @throws TypeError for anything but `'strict'`, `'lax'` or `'none'` in any case, naming the
 *   value as given and, for a boolean, what Express's `sameSite: true` / `false` means.
 */
function sameSiteOf(name: string, sameSite: unknown): 'strict' | 'lax' | 'none' | undefined {
  if (sameSite === undefined) return undefined;
  const lower = typeof sameSite === 'string' ? sameSite.toLowerCase() : '';
  if (SAME_SITE.has(lower)) return lower as 'strict' | 'lax' | 'none';
  const express = typeof sameSite === 'boolean' ? `; Express's sameSite: ${sameSite} is ${sameSite ? "'strict'" : 'no sameSite'}` : '';
  throw new TypeError(`cookie ${JSON.stringify(name)}: option sameSite is invalid: ${JSON.stringify(sameSite)} (write 'strict', 'lax' or 'none'${express})`);
}

/** Why a browser would refuse to store a cookie with these attributes, or `null` when it would not. */
function refusedByBrowsers(name: string, options: CookieOptions, path: string | null, sameSite: string | undefined): string | null {
  const secure = options.secure === true;
  if (!secure && sameSite === 'none') return 'SameSite=None needs secure: true';
  if (!secure && options.partitioned === true) return 'Partitioned needs secure: true';
  const prefix = prefixOf(name);
  if (prefix === null) return null;
  if (!secure) return `a name starting with ${name.slice(0, prefix.length)} needs secure: true`;
  if (prefix === '__host-' && options.domain !== undefined) return `a name starting with ${name.slice(0, 7)} allows no domain`;
  if (prefix === '__host-' && path !== '/') return `a name starting with ${name.slice(0, 7)} needs path '/'`;
  return null;
}

/**
 * The options of the `Set-Cookie` line that deletes a cookie: `options` with `Max-Age=0` and
 * an `Expires` in the past, and `Secure` unless `options.secure` says otherwise when a browser
 * would refuse the line without it (a `__Secure-` or `__Host-` name, `SameSite=None`,
 * `Partitioned`): the deletion of such a cookie must carry it, or the cookie stays.
 */
export function deletionOptions(name: string, options: Omit<CookieOptions, 'maxAge' | 'expires'>): CookieOptions {
  // A `sameSite` that is no string is left for `serializeSetCookie` to refuse by name.
  const needsSecure = prefixOf(name) !== null || options.partitioned === true || (typeof options.sameSite === 'string' && options.sameSite.toLowerCase() === 'none');
  const secure = options.secure ?? (needsSecure || undefined);
  return { ...options, ...(secure !== undefined ? { secure } : {}), maxAge: 0, expires: new Date(0) };
}

/**
 * Parses a `Cookie` request header into a null-prototype record. Never throws.
 *
 * - The first of two same-named cookies wins (RFC 6265bis §5.7.3: the more specific path is
 *   sent first).
 * - A value in double quotes (`a="x y"`, RFC 6265 §4.1.1 allows them) is unquoted, and
 *   backslash escapes inside it are undone, including Python's octal ones (`\054` → `,`),
 *   as Werkzeug and `http.cookies` do; octal escapes past ASCII are bytes, read as UTF-8 when
 *   valid (`"\346\227\245"`, as Werkzeug's `dump_cookie` writes `日`, is `日`), else kept one
 *   character per byte.
 * - Values are then percent-decoded as UTF-8 where that succeeds and kept as sent where it
 *   does not (`%zz` stays `%zz`).
 * - `=` after the first one belongs to the value (`a=b=c` → `b=c`); a pair with no `=` is
 *   skipped; `a=` gives `''`.
 * - Raw bytes past ASCII (browsers send a cookie set as `José` as its UTF-8 bytes; the header
 *   arrives as one character per byte, spec §2.2) are read as UTF-8 when they are valid UTF-8,
 *   as Werkzeug's `parse_cookie` and WebOb do (leading EF BB BF included: U+FEFF is part of
 *   the name or value, not a byte order mark to drop); else kept one character per byte. Each name and
 *   each value is read on its own, so a cookie another app set in another charset leaves the
 *   UTF-8 of the others intact.
 */
export function parseCookieHeader(header: string | null | undefined): Record<string, string> {
  if (!header) return Object.create(null);
  if (!NON_ASCII.test(header)) return parseCookie(header, { decode: decodeCookieValue }) as Record<string, string>;
  const parsed = parseCookie(header, { decode: (raw) => decodeCookieValue(NON_ASCII.test(raw) ? utf8OfBytes(raw) : raw) });
  // Names with bytes past ASCII are read the same way. Two raw names may then read alike (the
  // UTF-8 bytes of `é` and the latin1 byte of `é`): the first one sent still wins.
  const cookies: Record<string, string> = Object.create(null);
  for (const name of Object.keys(parsed)) {
    const key = NON_ASCII.test(name) ? utf8OfBytes(name) : name;
    if (!Object.hasOwn(cookies, key)) cookies[key] = parsed[name]!;
  }
  return cookies;
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Every value of the cookie `name` in a `Cookie` request header, in the order sent, as sent
 * (neither unquoted nor decoded); `[]` when there is none. Pairs are split as
 * {@link parseCookieHeader} splits them (at `;`, then the first `=`; spaces and tabs around
 * names and values dropped; a pair with no `=` skipped), which keeps only the first value of a
 * name. For a signed cookie that another of the same name, planted by a sibling subdomain
 * (`Domain=example.com`) and sent first, must not hide (RFC 6265bis §8.6). Never throws.
 */
export function cookieValues(header: string, name: string): string[] {
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || trimSpaces(pair.slice(0, eq)) !== name) continue;
    values.push(trimSpaces(pair.slice(eq + 1)));
  }
  return values;
}

/** `text` without the spaces and tabs around it, as the `cookie` package trims names and values. */
function trimSpaces(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, '');
}

/**
 * `text`, one character per byte, read as UTF-8 when its bytes are valid UTF-8 (a leading
 * EF BB BF kept as U+FEFF, as Werkzeug keeps it); else `text` as it is.
 */
function utf8OfBytes(text: string): string {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) return text; // not bytes: already decoded by the runtime
    bytes[i] = code;
  }
  try {
    // A leading EF BB BF is the character U+FEFF of the name or value, not a byte order mark (RFC 3629 §6).
    return decodeUtf8WithoutBom(bytes);
  } catch {
    return text;
  }
}

function decodeCookieValue(raw: string): string {
  let value = raw;
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    let octetPastAscii = false;
    value = value.slice(1, -1).replace(/\\([0-3][0-7]{2}|[\s\S])/g, (_, escaped: string) => {
      if (escaped.length !== 3) return escaped;
      const octet = parseInt(escaped, 8);
      if (octet > 0x7f) octetPastAscii = true;
      return String.fromCharCode(octet);
    });
    // Werkzeug's dump_cookie and WebOb write a text value's UTF-8 bytes as octal escapes
    // (`日` is "\346\227\245"): read those bytes as UTF-8, as their parse_cookie does.
    if (octetPastAscii) value = utf8OfBytes(value);
  }
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
