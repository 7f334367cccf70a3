/**
 * 3xx: `HTTPRedirection` (a `Location` made safe and absolute when served), its status
 * classes, and `HTTPNotModified`.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { Response } from '../response/response.ts';
import { quotePath, quoteQuery } from '../http/url.ts';
import { quotedScriptName } from '../http/raw-path.ts';
import { hostOf } from '../http/host.ts';
import { HTTPException, type HTTPExceptionOptions, type RequestLike, checkDetail, checkedExceptionOptions, environOf, generatedPage } from './base.ts';
import { HTTPBadRequest } from './client-errors.ts';

/** Base of 3xx redirects: `Location` is required. */
export class HTTPRedirection extends HTTPException {
  static override readonly code: number = 302;
  static override readonly description: string = 'The resource is found elsewhere.';
  /** The target as given (made absolute against the request URL when served). */
  readonly location: string;

  /**
   * @param location - the target URL, absolute (`http:` or `https:` only) or relative to the
   *   request URL. A target with a scheme but no `//` (`http:evil.com`) is absolute, as a
   *   browser reads it from a page of another scheme, and is sent as `http://evil.com/`.
   * @throws TypeError when `location` is not a string, or `detail` is neither a string nor
   *   `undefined` (options go third: `new HTTPFound(location, undefined, { headers })`). HTTPBadRequest (400) when it is empty,
   *   contains CR, LF or NUL, names another scheme (`javascript:`, `data:`, `mailto:`…), or is
   *   absolute but no URL (`http://[`, `https://example.com:99999/`: the WHATWG URL parser
   *   refuses it):
   *   a redirect target usually comes from the request (`?next=`), so a bad one is the
   *   client's error, never a 500 or an open door.
   */
  constructor(location: string, detail?: string, options?: HTTPExceptionOptions) {
    checkDetail(new.target, detail, 'location');
    super(detail, checkedExceptionOptions(new.target, options, 'third'));
    if (typeof location !== 'string') throw new TypeError(`invalid redirect location: ${typeof location}`);
    this.location = checkTarget(location);
  }

  /**
   * The redirect response: `Location` made absolute and safe (see {@link absoluteLocation}), and
   * a generated page that names that same target (a link in HTML, `location` in JSON, a line
   * of plain text, as WebOb's and Werkzeug's redirect pages do), or the `body` option as given.
   */
  override getResponse(req?: RequestLike): Response {
    const environ = environOf(req);
    const location = absoluteLocation(this.location, environ);
    // No `errorPages` renderer is asked: it renders 4xx and 5xx only.
    const res = this.body === undefined ? generatedPage(this, environ, location) : super.getResponse(req);
    res.headers.set('Location', location);
    return res;
  }
}

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;

/** The redirect target, checked (see the `HTTPRedirection` constructor); an absolute one normalised. */
function checkTarget(location: string): string {
  if (location === '' || /[\r\n\x00]/.test(location)) {
    throw new HTTPBadRequest(`Refused redirect target ${JSON.stringify(location.slice(0, 100))}: empty or with CR, LF or NUL.`);
  }
  const scheme = SCHEME.exec(location)?.[1]?.toLowerCase();
  if (scheme === undefined) return location;
  if (scheme !== 'http' && scheme !== 'https') {
    throw new HTTPBadRequest(`Refused redirect target: the ${JSON.stringify(scheme)} scheme is not http or https.`);
  }
  // `http://[`, a port above 65535, a space in the host: a Location no client could follow.
  if (!URL.canParse(location)) throw new HTTPBadRequest(`Refused redirect target ${JSON.stringify(location.slice(0, 100))}: not a URL.`);
  return /^[a-zA-Z]+:\/\//.test(location) ? location : new URL(location).href; // `http:evil.com` → `http://evil.com/`
}

/**
 * Makes a redirect target safe and absolute against the request URL (RFC 9110 §10.2.2 allows
 * relative ones; absolute ones are safest with old clients).
 *
 * - Spaces, control characters and non-ASCII are percent-encoded (UTF-8), so the header is
 *   plain ASCII (Werkzeug's `iri_to_uri`) and no URL parser can silently drop them; a
 *   non-ASCII host name of an absolute target is written in punycode instead, after user info
 *   too (`https://user@bücher.example/` → `https://user@xn--bcher-kva.example/`).
 * - In the path, the characters no URI path may hold (RFC 3986 §3.3: `"`, `<`, `>`, `^`,
 *   `` ` ``, `{`, `|`, `}`, and a `%` that starts no escape, `/100%` → `/100%25`) are
 *   percent-encoded too; in the query, those a URI's query may not
 *   hold (RFC 3986 §3.4: the same and `[`, `]`, `\`) and a `%` that starts no escape. Escapes
 *   already there are kept, so a query copied from the request (`?q="<x>"`, which Node
 *   accepts) makes a valid URI reference (RFC 9110 §10.2.2), as Werkzeug's `iri_to_uri`
 *   writes it.
 * - In a relative target, `\` becomes `%5C` and a leading `//` becomes `/%2F`, so
 *   `//evil.com`, `\\evil.com`, `/\evil.com` or `/<TAB>/evil.com` stay paths on this host
 *   instead of becoming another host (WebOb's fix for CVE-2024-42353, extended to the
 *   WHATWG URL parser's backslash and tab rules).
 * - With an environ, a relative target is resolved against `scheme://host` (the host as
 *   `Request.host` reads it; scheme `http` when unset) + the quoted `SCRIPT_NAME` +
 *   `PATH_INFO` (without the `*` of `OPTIONS *`) + `?QUERY_STRING`, so a fragment alone
 *   (`#comment-42`) keeps the request's query, as RFC 3986 §5.2.2 and the
 *   browsers resolve it (WebOb's base leaves the query out); any other relative target drops
 *   it; without one (or when that URL cannot be built) it is
 *   returned relative. An absolute target (`https:…`) is kept as given, encoded as above, but
 *   for one with a `\` in its authority, written as the WHATWG URL parser reads it
 *   (`https://example.com\@evil.com` → `https://example.com/@evil.com`, the host a browser and
 *   `new URL(target).origin` see): an RFC 3986 client (curl, Python's requests) would read
 *   `evil.com`, so a `next` checked with `new URL` would send it elsewhere; so is one with a
 *   tab in its authority (`https://exa<TAB>mple.com/` → `https://example.com/`), which,
 *   percent-encoded, no client could follow.
 */
export function absoluteLocation(location: string, environ: Environ | undefined): string {
  let target = location.toWellFormed();
  if (READ_OTHERWISE.test(target) && URL.canParse(target)) target = new URL(target).href;
  target = quoteLocationPath(quoteLocationQuery(punycodeHost(target).replace(/[\x00-\x20\x7f-\u{10ffff}]/gu, (c) => encodeURIComponent(c))));
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(target)) return target;
  target = target.replaceAll('\\', '%5C');
  if (target.startsWith('//')) target = `/%2F${target.slice(2)}`;
  if (!environ) return target;
  const scheme = environ['tsgi.url_scheme'] || 'http';
  try {
    // `OPTIONS *` names no path (RFC 9112 §3.3): resolved against the mount point, as `req.pathUrl` is.
    const pathInfo = environ.PATH_INFO === '*' ? '' : (environ.PATH_INFO ?? '');
    const query = environ.QUERY_STRING ? `?${environ.QUERY_STRING}` : '';
    const base = new URL(`${scheme}://${hostOf(environ)}${quotedScriptName(environ)}${quotePath(pathInfo)}${query}`);
    return new URL(target, base).href;
  } catch {
    return target;
  }
}

/**
 * An absolute target of a special scheme (RFC 3986: `scheme://authority`) whose authority the
 * WHATWG URL parser (browsers, `new URL`) reads otherwise: one holding a `\`, where it ends the
 * authority, as at a `/`, and RFC 3986 parsers (curl, Python's urllib and requests) read on, to
 * a host after an `@`; or a tab or line break, which it drops and which, percent-encoded, would
 * leave a host no client can follow.
 */
const READ_OTHERWISE = /^(?:https?|wss?|ftp):\/\/[^/?#]*[\\\t\n\r]/i;

/**
 * A character RFC 3986 lets no path hold and that has no other role in a URI reference, or a
 * `%` that starts no escape (RFC 3986 §2.1: `100%`, `%zz` can only be the character itself).
 */
const NOT_PATH = /["<>^`{|}]|%(?![0-9A-Fa-f]{2})/g;

/**
 * `location` with the characters of its path (after the scheme and authority, up to the first
 * `?` or `#`) that no URI path may hold (RFC 3986 §3.3: `"`, `<`, `>`, `^`, `` ` ``, `{`, `|`,
 * `}`, and a `%` that starts no escape) percent-encoded, as Werkzeug's `iri_to_uri` writes the
 * others, so a client following it asks for that path (`/100%` would be a 400 from any server
 * that decodes its path, this one included); the rest unchanged (an IPv6 host's brackets, `\`
 * and escapes already there).
 */
function quoteLocationPath(location: string): string {
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:(\/\/[^/?#]*)?/.exec(location);
  const start = scheme === null ? 0 : scheme[0].length;
  const delimiter = location.slice(start).search(/[?#]/);
  const end = delimiter === -1 ? location.length : start + delimiter;
  return `${location.slice(0, start)}${location.slice(start, end).replace(NOT_PATH, (c) => encodeURIComponent(c))}${location.slice(end)}`;
}

/**
 * `location` with the characters of its query (from the first `?` to the `#`, if any) that no
 * URI query may hold percent-encoded (`<` → `%3C`, a lone `%` → `%25`; {@link quoteQuery}); the
 * rest unchanged.
 */
function quoteLocationQuery(location: string): string {
  const start = location.indexOf('?');
  if (start === -1) return location;
  let end = location.indexOf('#');
  if (end !== -1 && end < start) return location; // The `?` is in the fragment.
  if (end === -1) end = location.length;
  const query = location.slice(start + 1, end);
  return `${location.slice(0, start + 1)}${quoteQuery(query)}${location.slice(end)}`;
}

/** An absolute URL's authority, `scheme://host[:port]`, with anything before the path. */
const AUTHORITY = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#\\]*)/;

/**
 * `location` with a non-ASCII host name written in punycode (`évil.com` → `xn--vil-bma.com`,
 * IDNA as the WHATWG URL parser does it, and Werkzeug's `iri_to_uri`): percent-encoded, a host
 * name means nothing. The host is what follows the last `@` of the authority, as the WHATWG
 * URL parser and RFC 3986 §3.2.1 read it (`https://user@bücher.example/` →
 * `https://user@xn--bcher-kva.example/`); the user info before it is left, to be
 * percent-encoded with the rest. Anything else is left as it is.
 */
function punycodeHost(location: string): string {
  const match = AUTHORITY.exec(location);
  if (match === null) return location;
  const authority = match[2]!;
  const at = authority.lastIndexOf('@') + 1;
  const host = authority.slice(at);
  if (!/[^\x00-\x7f]/.test(host)) return location;
  try {
    return `${match[1]}${authority.slice(0, at)}${new URL(`${match[1]}${host}`).host}${location.slice(match[0].length)}`;
  } catch {
    return location;
  }
}

/** 300 Multiple Choices (RFC 9110 §15.4.1). */
export class HTTPMultipleChoices extends HTTPRedirection {
  declare readonly code: 300; static override readonly code = 300;
  static override readonly description: string = 'The resource has several representations; one is suggested.';
}

/** 301 Moved Permanently (RFC 9110 §15.4.2). */
export class HTTPMovedPermanently extends HTTPRedirection {
  declare readonly code: 301; static override readonly code = 301;
  static override readonly description: string = 'The resource has moved permanently.';
}

/** 302 Found (RFC 9110 §15.4.3). */
export class HTTPFound extends HTTPRedirection {
  declare readonly code: 302; static override readonly code = 302;
  static override readonly description: string = 'The resource was found elsewhere.';
}

/** 303 See Other (RFC 9110 §15.4.4): the usual answer to a successful form POST. */
export class HTTPSeeOther extends HTTPRedirection {
  declare readonly code: 303; static override readonly code = 303;
  static override readonly description: string = 'The answer is at another URL.';
}

/** 304 Not Modified (RFC 9110 §15.4.5): no body, no Location. */
export class HTTPNotModified extends HTTPException {
  declare readonly code: 304; static override readonly code = 304;
  static override readonly description: string = 'The resource has not been modified.';
  /** The 304 response: the exception's headers (ETag, Cache-Control…), no body; the request is not needed. */
  override getResponse(_req?: RequestLike): Response {
    const res = new Response(null, { status: 304, headers: this.headers, contentType: null });
    res.headers.delete('content-length');
    return res;
  }
}

/** 305 Use Proxy (deprecated, RFC 9110 §15.4.6). */
export class HTTPUseProxy extends HTTPRedirection {
  declare readonly code: 305; static override readonly code = 305;
  static override readonly description: string = 'The resource must be accessed through a proxy.';
}

/** 307 Temporary Redirect (RFC 9110 §15.4.8): the method and body are kept. */
export class HTTPTemporaryRedirect extends HTTPRedirection {
  declare readonly code: 307; static override readonly code = 307;
  static override readonly description: string = 'The resource is temporarily at another URL.';
}

/** 308 Permanent Redirect (RFC 9110 §15.4.9): the method and body are kept. */
export class HTTPPermanentRedirect extends HTTPRedirection {
  declare readonly code: 308; static override readonly code = 308;
  static override readonly description: string = 'The resource has moved permanently; repeat the request there.';
}
