/**
 * HTTP exceptions: one class per registered 3xx/4xx/5xx status. Each can be thrown (from a
 * `Request.application` handler), returned, or served as a gateway app.
 *
 * @module
 */
import type { Body, Environ, StartResponse } from './gateway.ts';
import { Headers, type HeadersInit } from './datastructures/headers.ts';
import { Response, type ResponseBody, reasonPhrase } from './response.ts';
import { Accept } from './http/accept.ts';
import { formatRetryAfter } from './http/dates.ts';
import { formatContentRange } from './http/range.ts';
import { type Challenge, formatWwwAuthenticate } from './http/www-authenticate.ts';
import { quotePath } from './http/url.ts';

/** Options shared by every HTTP exception. */
export interface HTTPExceptionOptions {
  /** Extra response headers. */
  headers?: HeadersInit;
  /** A body that replaces the generated one (the user's body wins). */
  body?: ResponseBody;
  /** Content-Type for `body`; default `text/plain`. */
  contentType?: string;
  /** The underlying error, kept as `error.cause`. */
  cause?: unknown;
  /**
   * Challenges sent as `WWW-Authenticate` (RFC 9110 §11.6.1), for a 401: objects
   * (`{ scheme: 'Basic', params: { realm: 'Staff' } }`, formatted with
   * `formatWwwAuthenticate`) or a ready header value. Throws `TypeError` when a challenge
   * cannot be formatted.
   */
  wwwAuthenticate?: Challenge | readonly Challenge[] | string;
  /**
   * `Retry-After` (RFC 9110 §10.2.3), for a 429 or 503 (or a 3xx): a delay in whole
   * **seconds**, or the `Date` to retry at. Throws `RangeError` for a negative or fractional
   * number.
   */
  retryAfter?: number | Date;
  /**
   * The representation's complete length in **bytes**, for a 416: sends
   * `Content-Range: bytes *\/length` (RFC 9110 §15.5.17). Throws `RangeError` for a negative or
   * fractional number.
   */
  length?: number;
}

/** Something an exception can read the request from: a `Request`, or an environ. */
export type RequestLike = { environ: Environ } | Environ;

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes `& < > " '` for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

const BODY_TYPES = ['text/plain', 'text/html', 'application/json'];

/**
 * Picks the error body type from `Accept` (see {@link Accept}): plain text, HTML or JSON;
 * plain text without a header, with a malformed one, or when none of the three is acceptable.
 */
function negotiateBodyType(environ: Environ | undefined): string {
  const accept = environ?.HTTP_ACCEPT;
  return new Accept(typeof accept === 'string' ? accept : null).bestMatch(BODY_TYPES, 'text/plain');
}

function environOf(req: RequestLike | undefined): Environ | undefined {
  if (!req) return undefined;
  return 'environ' in req && typeof req.environ === 'object' ? (req.environ as Environ) : (req as Environ);
}

/**
 * The base of every HTTP error and redirect. Subclasses fix `code`; `detail` is the message
 * for this occurrence, shown below the standard `description`.
 *
 * The response body is chosen from the request's `Accept` (RFC 9110 §12.5.1): HTML with every
 * user string escaped, JSON `{ code, title, message }`, or plain text (the default). A body
 * given in the options is used as is.
 *
 * @example
 * ```ts
 * throw new HTTPNotFound(`No user ${id}`);
 * // or
 * abort(404, `No user ${id}`);
 * ```
 */
export class HTTPException extends Error {
  /** The status code of this class. */
  static readonly code: number = 500;
  /** The explanation shown in every body of this class. */
  static readonly description: string = 'The server could not complete the request.';

  /** The status code. */
  readonly code: number;
  /** The reason phrase, e.g. `Not Found`. */
  readonly title: string;
  /** The class's standard explanation. */
  readonly description: string;
  /** The message for this occurrence, if any (escaped in HTML). */
  readonly detail: string | undefined;
  /** Headers sent with the error response. */
  readonly headers: Headers;
  /** The body set by the user, which replaces the generated one. */
  body: ResponseBody;
  /** Content-Type of the user's `body`. */
  contentType: string | undefined;

  constructor(detail?: string, options: HTTPExceptionOptions = {}) {
    const ctor = new.target as typeof HTTPException;
    super(detail ?? `${ctor.code} ${reasonPhrase(ctor.code)}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = ctor.name;
    this.code = ctor.code;
    this.title = reasonPhrase(ctor.code);
    this.description = ctor.description;
    this.detail = detail;
    this.headers = new Headers(options.headers);
    if (options.wwwAuthenticate !== undefined) {
      const value = options.wwwAuthenticate;
      this.headers.set('WWW-Authenticate', typeof value === 'string' ? value : formatWwwAuthenticate(value));
    }
    if (options.retryAfter !== undefined) this.headers.set('Retry-After', formatRetryAfter(options.retryAfter));
    if (options.length !== undefined) this.headers.set('Content-Range', formatContentRange(null, options.length));
    this.body = options.body;
    this.contentType = options.contentType;
  }

  /** The status line, e.g. `"404 Not Found"`. */
  get status(): string {
    return `${this.code} ${this.title}`;
  }

  /**
   * Builds the error response for a request (for `Accept` negotiation and, for redirects, to
   * make `Location` absolute). Without a request, the body is plain text.
   */
  getResponse(req?: RequestLike): Response {
    const environ = environOf(req);
    const headers = new Headers(this.headers);
    if (this.body !== undefined) {
      return new Response(this.body, { status: this.status, headers, contentType: this.contentType ?? 'text/plain' });
    }
    const type = negotiateBodyType(environ);
    const message = this.detail ?? '';
    let text: string;
    if (type === 'application/json') {
      text = JSON.stringify({ code: this.code, title: this.title, message: message || this.description });
    } else if (type === 'text/html') {
      const title = escapeHtml(this.status);
      const detail = message ? `\n<p>${escapeHtml(message)}</p>` : '';
      text =
        `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>${title}</title></head>\n` +
        `<body>\n<h1>${escapeHtml(this.title)}</h1>\n<p>${escapeHtml(this.description)}</p>${detail}\n</body>\n</html>\n`;
    } else {
      text = `${this.status}\n\n${this.description}\n${message ? `\n${message}\n` : ''}`;
    }
    return new Response(text, { status: this.status, headers, contentType: type });
  }

  /** Serves the error as a gateway app. */
  respond(environ: Environ, startResponse: StartResponse): Body {
    return this.getResponse(environ).respond(environ, startResponse);
  }

  /** This exception as an {@link App} function. */
  toApp(): (environ: Environ, startResponse: StartResponse) => Body {
    return (environ, startResponse) => this.respond(environ, startResponse);
  }
}

/** Base of 3xx redirects: `Location` is required. */
export class HTTPRedirection extends HTTPException {
  static override readonly code: number = 302;
  static override readonly description: string = 'The resource is found elsewhere.';
  /** The target as given (made absolute against the request URL when served). */
  readonly location: string;

  /**
   * @param location - the target URL, absolute or relative to the request URL.
   * @throws TypeError when `location` is empty or contains CR, LF or NUL.
   */
  constructor(location: string, detail?: string, options?: HTTPExceptionOptions) {
    super(detail, options);
    if (typeof location !== 'string' || location === '' || /[\r\n\x00]/.test(location)) {
      throw new TypeError(`invalid redirect location: ${JSON.stringify(location)}`);
    }
    this.location = location;
  }

  override getResponse(req?: RequestLike): Response {
    const res = super.getResponse(req);
    res.headers.set('Location', absoluteLocation(this.location, environOf(req)));
    return res;
  }
}

/**
 * Makes a redirect target safe and absolute against the request URL (RFC 9110 §10.2.2 allows
 * relative ones; absolute ones are safest with old clients).
 *
 * - Spaces, control characters and non-ASCII are percent-encoded (UTF-8), so the header is
 *   plain ASCII (Werkzeug's `iri_to_uri`) and no URL parser can silently drop them.
 * - In a relative target, `\` becomes `%5C` and a leading `//` becomes `/%2F`, so
 *   `//evil.com`, `\\evil.com`, `/\evil.com` or `/<TAB>/evil.com` stay paths on this host
 *   instead of becoming another host (WebOb's fix for CVE-2024-42353, extended to the
 *   WHATWG URL parser's backslash and tab rules).
 * - With an environ, a relative target is resolved against `scheme://host` + the quoted
 *   `SCRIPT_NAME` + `PATH_INFO`; without one (or when that URL cannot be built) it is
 *   returned relative. An absolute target (`https:…`) is kept as given, encoded as above.
 */
export function absoluteLocation(location: string, environ: Environ | undefined): string {
  let target = location.toWellFormed().replace(/[\x00-\x20\x7f-\u{10ffff}]/gu, (c) => encodeURIComponent(c));
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(target)) return target;
  target = target.replaceAll('\\', '%5C');
  if (target.startsWith('//')) target = `/%2F${target.slice(2)}`;
  if (!environ) return target;
  const scheme = (environ['tsgi.url_scheme'] as string | undefined) || 'http';
  let host = environ.HTTP_HOST as string | undefined;
  if (!host) {
    const name = String(environ.SERVER_NAME ?? '');
    const port = String(environ.SERVER_PORT ?? '');
    host = name.includes(':') && !name.startsWith('[') ? `[${name}]` : name;
    if (port && port !== (scheme === 'https' ? '443' : '80')) host += `:${port}`;
  }
  try {
    const base = new URL(`${scheme}://${host}${quotePath(`${environ.SCRIPT_NAME ?? ''}${environ.PATH_INFO ?? ''}`)}`);
    return new URL(target, base).href;
  } catch {
    return target;
  }
}

/** Base of 4xx errors. */
export class HTTPClientError extends HTTPException {
  static override readonly code: number = 400;
  static override readonly description: string = 'The server could not understand the request.';
}

/** Base of 5xx errors. */
export class HTTPServerError extends HTTPException {
  static override readonly code: number = 500;
  static override readonly description: string = 'The server could not complete the request.';
}

type ExceptionClass<T extends HTTPException> = { new (...args: never[]): T; readonly code: number };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function define<B extends { new (...args: any[]): HTTPException; readonly code: number }>(base: B, code: number, name: string, description: string): B {
  const cls = class extends (base as unknown as typeof HTTPException) {
    static override readonly code = code;
    static override readonly description = description;
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls as unknown as B;
}

// ---- 3xx ----
/** 300 Multiple Choices (RFC 9110 §15.4.1). */
export const HTTPMultipleChoices = define(HTTPRedirection, 300, 'HTTPMultipleChoices', 'The resource has several representations; one is suggested.');
/** 301 Moved Permanently (RFC 9110 §15.4.2). */
export const HTTPMovedPermanently = define(HTTPRedirection, 301, 'HTTPMovedPermanently', 'The resource has moved permanently.');
/** 302 Found (RFC 9110 §15.4.3). */
export const HTTPFound = define(HTTPRedirection, 302, 'HTTPFound', 'The resource was found elsewhere.');
/** 303 See Other (RFC 9110 §15.4.4): the usual answer to a successful form POST. */
export const HTTPSeeOther = define(HTTPRedirection, 303, 'HTTPSeeOther', 'The answer is at another URL.');
/** 305 Use Proxy (deprecated, RFC 9110 §15.4.6). */
export const HTTPUseProxy = define(HTTPRedirection, 305, 'HTTPUseProxy', 'The resource must be accessed through a proxy.');
/** 307 Temporary Redirect (RFC 9110 §15.4.8): the method and body are kept. */
export const HTTPTemporaryRedirect = define(HTTPRedirection, 307, 'HTTPTemporaryRedirect', 'The resource is temporarily at another URL.');
/** 308 Permanent Redirect (RFC 9110 §15.4.9): the method and body are kept. */
export const HTTPPermanentRedirect = define(HTTPRedirection, 308, 'HTTPPermanentRedirect', 'The resource has moved permanently; repeat the request there.');

/** 304 Not Modified (RFC 9110 §15.4.5): no body, no Location. */
export class HTTPNotModified extends HTTPException {
  static override readonly code: number = 304;
  static override readonly description: string = 'The resource has not been modified.';
  /** The 304 response: the exception's headers (ETag, Cache-Control…), no body; the request is not needed. */
  override getResponse(_req?: RequestLike): Response {
    const res = new Response(null, { status: 304, headers: new Headers(this.headers), contentType: null });
    res.headers.delete('content-length');
    return res;
  }
}

// ---- 4xx ----
/** 400 Bad Request (RFC 9110 §15.5.1). */
export const HTTPBadRequest = define(HTTPClientError, 400, 'HTTPBadRequest', 'The browser (or proxy) sent a request that this server could not understand.');
/** 401 Unauthorized (RFC 9110 §15.5.2); give the challenges with the `wwwAuthenticate` option. */
export const HTTPUnauthorized = define(HTTPClientError, 401, 'HTTPUnauthorized', 'The server could not verify that you are authorized to access this resource.');
/** 402 Payment Required (RFC 9110 §15.5.3). */
export const HTTPPaymentRequired = define(HTTPClientError, 402, 'HTTPPaymentRequired', 'Access requires payment.');
/** 403 Forbidden (RFC 9110 §15.5.4). */
export const HTTPForbidden = define(HTTPClientError, 403, 'HTTPForbidden', 'You do not have permission to access this resource.');
/** 404 Not Found (RFC 9110 §15.5.5). */
export const HTTPNotFound = define(HTTPClientError, 404, 'HTTPNotFound', 'The requested URL was not found on the server.');
/** 406 Not Acceptable (RFC 9110 §15.5.7). */
export const HTTPNotAcceptable = define(HTTPClientError, 406, 'HTTPNotAcceptable', 'The resource has no representation the client accepts.');
/** 407 Proxy Authentication Required (RFC 9110 §15.5.8). */
export const HTTPProxyAuthenticationRequired = define(HTTPClientError, 407, 'HTTPProxyAuthenticationRequired', 'The client must authenticate with the proxy.');
/** 408 Request Timeout (RFC 9110 §15.5.9). */
export const HTTPRequestTimeout = define(HTTPClientError, 408, 'HTTPRequestTimeout', 'The server timed out waiting for the request.');
/** 409 Conflict (RFC 9110 §15.5.10). */
export const HTTPConflict = define(HTTPClientError, 409, 'HTTPConflict', 'The request conflicts with the current state of the resource.');
/** 410 Gone (RFC 9110 §15.5.11). */
export const HTTPGone = define(HTTPClientError, 410, 'HTTPGone', 'The resource is no longer available and will not be available again.');
/** 411 Length Required (RFC 9110 §15.5.12). */
export const HTTPLengthRequired = define(HTTPClientError, 411, 'HTTPLengthRequired', 'The request must carry a Content-Length.');
/** 412 Precondition Failed (RFC 9110 §15.5.13). */
export const HTTPPreconditionFailed = define(HTTPClientError, 412, 'HTTPPreconditionFailed', 'A precondition of the request did not hold.');
/** 413 Content Too Large (RFC 9110 §15.5.14). */
export const HTTPContentTooLarge = define(HTTPClientError, 413, 'HTTPContentTooLarge', 'The request body is larger than the server will process.');
/** 414 URI Too Long (RFC 9110 §15.5.15). */
export const HTTPURITooLong = define(HTTPClientError, 414, 'HTTPURITooLong', 'The request URL is longer than the server will process.');
/** 415 Unsupported Media Type (RFC 9110 §15.5.16). */
export const HTTPUnsupportedMediaType = define(HTTPClientError, 415, 'HTTPUnsupportedMediaType', 'The request body is in a format the server does not support.');
/** 416 Range Not Satisfiable (RFC 9110 §15.5.17); the `length` option sends `Content-Range: bytes *\/length`. */
export const HTTPRangeNotSatisfiable = define(HTTPClientError, 416, 'HTTPRangeNotSatisfiable', 'The requested range cannot be served.');
/** 417 Expectation Failed (RFC 9110 §15.5.18). */
export const HTTPExpectationFailed = define(HTTPClientError, 417, 'HTTPExpectationFailed', 'The server cannot meet the Expect header of the request.');
/** 418 I'm a Teapot (RFC 2324, kept by RFC 9110 §15.5.19 as reserved). */
export const HTTPImATeapot = define(HTTPClientError, 418, 'HTTPImATeapot', 'The server refuses to brew coffee because it is a teapot.');
/** 421 Misdirected Request (RFC 9110 §15.5.20). */
export const HTTPMisdirectedRequest = define(HTTPClientError, 421, 'HTTPMisdirectedRequest', 'The request was sent to a server that cannot answer for this URL.');
/** 422 Unprocessable Content (RFC 9110 §15.5.21). */
export const HTTPUnprocessableContent = define(HTTPClientError, 422, 'HTTPUnprocessableContent', 'The request was well-formed but its content could not be processed.');
/** 423 Locked (RFC 4918). */
export const HTTPLocked = define(HTTPClientError, 423, 'HTTPLocked', 'The resource is locked.');
/** 424 Failed Dependency (RFC 4918). */
export const HTTPFailedDependency = define(HTTPClientError, 424, 'HTTPFailedDependency', 'The request failed because a request it depends on failed.');
/** 425 Too Early (RFC 8470). */
export const HTTPTooEarly = define(HTTPClientError, 425, 'HTTPTooEarly', 'The server will not process a request that might be replayed.');
/** 426 Upgrade Required (RFC 9110 §15.5.22). */
export const HTTPUpgradeRequired = define(HTTPClientError, 426, 'HTTPUpgradeRequired', 'The client must switch to another protocol.');
/** 428 Precondition Required (RFC 6585). */
export const HTTPPreconditionRequired = define(HTTPClientError, 428, 'HTTPPreconditionRequired', 'This request must be conditional.');
/** 429 Too Many Requests (RFC 6585); the `retryAfter` option sends `Retry-After`. */
export const HTTPTooManyRequests = define(HTTPClientError, 429, 'HTTPTooManyRequests', 'Too many requests were sent in a given amount of time.');
/** 431 Request Header Fields Too Large (RFC 6585). */
export const HTTPRequestHeaderFieldsTooLarge = define(HTTPClientError, 431, 'HTTPRequestHeaderFieldsTooLarge', 'The request header fields are too large.');
/** 451 Unavailable For Legal Reasons (RFC 7725). */
export const HTTPUnavailableForLegalReasons = define(HTTPClientError, 451, 'HTTPUnavailableForLegalReasons', 'The resource is unavailable for legal reasons.');

/** 405 Method Not Allowed (RFC 9110 §15.5.6): carries `Allow`. */
export class HTTPMethodNotAllowed extends HTTPClientError {
  static override readonly code: number = 405;
  static override readonly description: string = 'The method is not allowed for the requested URL.';
  /** The methods the resource supports. */
  readonly allow: string[];

  /** @param allow - methods the resource supports, sent as `Allow` (RFC 9110 §10.2.1). */
  constructor(allow: Iterable<string> = [], detail?: string, options?: HTTPExceptionOptions) {
    super(detail, options);
    this.allow = [...allow].map((m) => m.toUpperCase());
    this.headers.set('Allow', this.allow.join(', '));
  }
}

// ---- 5xx ----
/** 500 Internal Server Error (RFC 9110 §15.6.1). */
export const HTTPInternalServerError = define(HTTPServerError, 500, 'HTTPInternalServerError', 'The server encountered an internal error and was unable to complete your request.');
/** 501 Not Implemented (RFC 9110 §15.6.2). */
export const HTTPNotImplemented = define(HTTPServerError, 501, 'HTTPNotImplemented', 'The server does not support the action requested.');
/** 502 Bad Gateway (RFC 9110 §15.6.3). */
export const HTTPBadGateway = define(HTTPServerError, 502, 'HTTPBadGateway', 'The upstream server sent an invalid response.');
/** 503 Service Unavailable (RFC 9110 §15.6.4); the `retryAfter` option sends `Retry-After`. */
export const HTTPServiceUnavailable = define(HTTPServerError, 503, 'HTTPServiceUnavailable', 'The server is temporarily unable to handle the request.');
/** 504 Gateway Timeout (RFC 9110 §15.6.5). */
export const HTTPGatewayTimeout = define(HTTPServerError, 504, 'HTTPGatewayTimeout', 'The upstream server did not answer in time.');
/** 505 HTTP Version Not Supported (RFC 9110 §15.6.6). */
export const HTTPVersionNotSupported = define(HTTPServerError, 505, 'HTTPVersionNotSupported', 'The server does not support the HTTP version of the request.');
/** 506 Variant Also Negotiates (RFC 2295). */
export const HTTPVariantAlsoNegotiates = define(HTTPServerError, 506, 'HTTPVariantAlsoNegotiates', 'The server has a configuration error in content negotiation.');
/** 507 Insufficient Storage (RFC 4918). */
export const HTTPInsufficientStorage = define(HTTPServerError, 507, 'HTTPInsufficientStorage', 'The server cannot store what the request needs.');
/** 508 Loop Detected (RFC 5842). */
export const HTTPLoopDetected = define(HTTPServerError, 508, 'HTTPLoopDetected', 'The server found an infinite loop while processing the request.');
/** 510 Not Extended (RFC 2774). */
export const HTTPNotExtended = define(HTTPServerError, 510, 'HTTPNotExtended', 'The request needs further extensions.');
/** 511 Network Authentication Required (RFC 6585). */
export const HTTPNetworkAuthenticationRequired = define(HTTPServerError, 511, 'HTTPNetworkAuthenticationRequired', 'The client must authenticate to gain network access.');

/** Status code → exception class, for every class above. */
export const statusExceptions: ReadonlyMap<number, ExceptionClass<HTTPException>> = new Map<number, ExceptionClass<HTTPException>>(
  [
    HTTPMultipleChoices, HTTPMovedPermanently, HTTPFound, HTTPSeeOther, HTTPNotModified, HTTPUseProxy,
    HTTPTemporaryRedirect, HTTPPermanentRedirect, HTTPBadRequest, HTTPUnauthorized, HTTPPaymentRequired,
    HTTPForbidden, HTTPNotFound, HTTPMethodNotAllowed, HTTPNotAcceptable, HTTPProxyAuthenticationRequired,
    HTTPRequestTimeout, HTTPConflict, HTTPGone, HTTPLengthRequired, HTTPPreconditionFailed,
    HTTPContentTooLarge, HTTPURITooLong, HTTPUnsupportedMediaType, HTTPRangeNotSatisfiable,
    HTTPExpectationFailed, HTTPImATeapot, HTTPMisdirectedRequest, HTTPUnprocessableContent, HTTPLocked,
    HTTPFailedDependency, HTTPTooEarly, HTTPUpgradeRequired, HTTPPreconditionRequired, HTTPTooManyRequests,
    HTTPRequestHeaderFieldsTooLarge, HTTPUnavailableForLegalReasons, HTTPInternalServerError,
    HTTPNotImplemented, HTTPBadGateway, HTTPServiceUnavailable, HTTPGatewayTimeout, HTTPVersionNotSupported,
    HTTPVariantAlsoNegotiates, HTTPInsufficientStorage, HTTPLoopDetected, HTTPNotExtended,
    HTTPNetworkAuthenticationRequired,
  ].map((cls) => [cls.code, cls as unknown as ExceptionClass<HTTPException>]),
);

/**
 * Throws the HTTP exception for `status` (Werkzeug's `abort`). For 3xx statuses the second
 * argument is the `Location`; for 405 it is the detail and `Allow` is empty.
 *
 * @throws the exception; a `TypeError` for a status with no class (use `new Response` for 2xx).
 */
export function abort(status: number, detail?: string, options?: HTTPExceptionOptions): never {
  const cls = statusExceptions.get(status);
  if (!cls) throw new TypeError(`no HTTP exception for status ${status}`);
  if (cls.prototype instanceof HTTPRedirection) {
    throw new (cls as unknown as typeof HTTPRedirection)(detail ?? '', undefined, options);
  }
  if (cls === (HTTPMethodNotAllowed as unknown)) throw new HTTPMethodNotAllowed([], detail, options);
  throw new (cls as unknown as typeof HTTPException)(detail, options);
}

/**
 * An exception that redirects to `location` (Werkzeug's `redirect`), 303 See Other by default;
 * throw it or return it.
 *
 * @throws TypeError for a status that is not a redirect, or an invalid location.
 */
export function redirect(location: string, status: 300 | 301 | 302 | 303 | 305 | 307 | 308 = 303): HTTPRedirection {
  const cls = statusExceptions.get(status);
  if (!cls || !(cls.prototype instanceof HTTPRedirection)) throw new TypeError(`not a redirect status: ${status}`);
  return new (cls as unknown as typeof HTTPRedirection)(location);
}
