/**
 * 4xx: `HTTPClientError` and a class per client-error status (RFC 9110 §15.5).
 *
 * @module
 */
import { HTTPException, type HTTPExceptionOptions, checkDetail, checkedExceptionOptions } from './base.ts';
import { assertTokens, list } from '../http/converters.ts';
import { PRECONDITION_FAILED, RANGE_NOT_SATISFIABLE } from '../response/conditional.ts';

/** Base of 4xx errors. */
export class HTTPClientError extends HTTPException {
  static override readonly code: number = 400;
  static override readonly description: string = 'The server could not understand the request.';
}

/** 400 Bad Request (RFC 9110 §15.5.1). */
export class HTTPBadRequest extends HTTPClientError {
  declare readonly code: 400; static override readonly code = 400;
  static override readonly description: string = 'The browser (or proxy) sent a request that this server could not understand.';
}

/**
 * 401 Unauthorized (RFC 9110 §15.5.2); give the challenges with the `wwwAuthenticate` option.
 * A 401 must carry at least one: without the option (or a `WWW-Authenticate` in `headers`)
 * the response breaks §15.5.2, and `lint` (so `TestClient`) refuses it. The constructor does
 * not insist, as WebOb's `HTTPUnauthorized` and Werkzeug's `Unauthorized` do not: a throw here
 * would turn a refusal into a 500. A site that signs in with a form and a cookie has no
 * challenge to give: redirect to the form (`HTTPSeeOther`) or answer 403 (`HTTPForbidden`).
 */
export class HTTPUnauthorized extends HTTPClientError {
  declare readonly code: 401; static override readonly code = 401;
  static override readonly description: string = 'The server could not verify that you are authorized to access this resource.';
}

/** 402 Payment Required (RFC 9110 §15.5.3). */
export class HTTPPaymentRequired extends HTTPClientError {
  declare readonly code: 402; static override readonly code = 402;
  static override readonly description: string = 'Access requires payment.';
}

/** 403 Forbidden (RFC 9110 §15.5.4). */
export class HTTPForbidden extends HTTPClientError {
  declare readonly code: 403; static override readonly code = 403;
  static override readonly description: string = 'You do not have permission to access this resource.';
}

/** 404 Not Found (RFC 9110 §15.5.5). */
export class HTTPNotFound extends HTTPClientError {
  declare readonly code: 404; static override readonly code = 404;
  static override readonly description: string = 'The requested URL was not found on the server.';
}

/** 405 Method Not Allowed (RFC 9110 §15.5.6): carries `Allow`. */
export class HTTPMethodNotAllowed extends HTTPClientError {
  declare readonly code: 405; static override readonly code = 405;
  static override readonly description: string = 'The method is not allowed for the requested URL.';
  /** The methods the resource supports. */
  readonly allow: string[];

  /**
   * @param allow - methods the resource supports, sent as `Allow` (RFC 9110 §10.2.1): a list,
   *   or one string (`'GET'`, `'GET, HEAD'`). When omitted, the `Allow` field of the `headers`
   *   option, if any (as `abort(405, detail, { headers: { Allow: 'GET' } })` gives it), else
   *   an empty `Allow` (the resource allows no method, RFC 9110 §10.2.1): a 405 always has one.
   * @throws TypeError for a method that is not a token (RFC 9110 §9.1; `'GE T'`), checked as
   *   `res.allow` checks it: `invalid Allow of HTTPMethodNotAllowed: "GE T" is not a token`;
   *   for a `detail` that is neither a string nor `undefined` (options go third: `new
   *   HTTPMethodNotAllowed(allow, undefined, { headers })`).
   */
  constructor(allow?: Iterable<string> | string, detail?: string, options?: HTTPExceptionOptions) {
    checkDetail(new.target, detail, 'allow');
    super(detail, checkedExceptionOptions(new.target, options, 'third'));
    const given = allow ?? this.headers.getAll('Allow').join(',');
    const methods = typeof given === 'string' ? list.parse(given) : [...given];
    assertTokens('Allow of HTTPMethodNotAllowed', methods);
    this.allow = methods.map((m) => m.toUpperCase());
    this.headers.set('Allow', this.allow.join(', '));
  }
}

/** 406 Not Acceptable (RFC 9110 §15.5.7). */
export class HTTPNotAcceptable extends HTTPClientError {
  declare readonly code: 406; static override readonly code = 406;
  static override readonly description: string = 'The resource has no representation the client accepts.';
}

/**
 * 407 Proxy Authentication Required (RFC 9110 §15.5.8); give the challenges with the
 * `proxyAuthenticate` option. A 407 must carry one: without it the response breaks §15.5.8,
 * and `lint` (so `TestClient`) refuses it, as a 401 without `wwwAuthenticate`.
 */
export class HTTPProxyAuthenticationRequired extends HTTPClientError {
  declare readonly code: 407; static override readonly code = 407;
  static override readonly description: string = 'The client must authenticate with the proxy.';
}

/** 408 Request Timeout (RFC 9110 §15.5.9). */
export class HTTPRequestTimeout extends HTTPClientError {
  declare readonly code: 408; static override readonly code = 408;
  static override readonly description: string = 'The server timed out waiting for the request.';
}

/** 409 Conflict (RFC 9110 §15.5.10). */
export class HTTPConflict extends HTTPClientError {
  declare readonly code: 409; static override readonly code = 409;
  static override readonly description: string = 'The request conflicts with the current state of the resource.';
}

/** 410 Gone (RFC 9110 §15.5.11). */
export class HTTPGone extends HTTPClientError {
  declare readonly code: 410; static override readonly code = 410;
  static override readonly description: string = 'The resource is no longer available and will not be available again.';
}

/** 411 Length Required (RFC 9110 §15.5.12). */
export class HTTPLengthRequired extends HTTPClientError {
  declare readonly code: 411; static override readonly code = 411;
  static override readonly description: string = 'The request must carry a Content-Length.';
}

/** 412 Precondition Failed (RFC 9110 §15.5.13); a conditional `Response` answers with the same body. */
export class HTTPPreconditionFailed extends HTTPClientError {
  declare readonly code: 412; static override readonly code = 412;
  static override readonly description: string = PRECONDITION_FAILED;
}

/** 413 Content Too Large (RFC 9110 §15.5.14). */
export class HTTPContentTooLarge extends HTTPClientError {
  declare readonly code: 413; static override readonly code = 413;
  static override readonly description: string = 'The request body is larger than the server will process.';
}

/** 414 URI Too Long (RFC 9110 §15.5.15). */
export class HTTPURITooLong extends HTTPClientError {
  declare readonly code: 414; static override readonly code = 414;
  static override readonly description: string = 'The request URL is longer than the server will process.';
}

/** 415 Unsupported Media Type (RFC 9110 §15.5.16). */
export class HTTPUnsupportedMediaType extends HTTPClientError {
  declare readonly code: 415; static override readonly code = 415;
  static override readonly description: string = 'The request body is in a format the server does not support.';
}

/**
 * 416 Range Not Satisfiable (RFC 9110 §15.5.17); the `length` option sends
 * `Content-Range: bytes *\/length`. A conditional `Response` answers with the same body.
 */
export class HTTPRangeNotSatisfiable extends HTTPClientError {
  declare readonly code: 416; static override readonly code = 416;
  static override readonly description: string = RANGE_NOT_SATISFIABLE;
}

/** 417 Expectation Failed (RFC 9110 §15.5.18). */
export class HTTPExpectationFailed extends HTTPClientError {
  declare readonly code: 417; static override readonly code = 417;
  static override readonly description: string = 'The server cannot meet the Expect header of the request.';
}

/** 418 I'm a Teapot (RFC 2324, kept by RFC 9110 §15.5.19 as reserved). */
export class HTTPImATeapot extends HTTPClientError {
  declare readonly code: 418; static override readonly code = 418;
  static override readonly description: string = 'The server refuses to brew coffee because it is a teapot.';
}

/** 421 Misdirected Request (RFC 9110 §15.5.20). */
export class HTTPMisdirectedRequest extends HTTPClientError {
  declare readonly code: 421; static override readonly code = 421;
  static override readonly description: string = 'The request was sent to a server that cannot answer for this URL.';
}

/** 422 Unprocessable Content (RFC 9110 §15.5.21). */
export class HTTPUnprocessableContent extends HTTPClientError {
  declare readonly code: 422; static override readonly code = 422;
  static override readonly description: string = 'The request was well-formed but its content could not be processed.';
}

/** 423 Locked (RFC 4918). */
export class HTTPLocked extends HTTPClientError {
  declare readonly code: 423; static override readonly code = 423;
  static override readonly description: string = 'The resource is locked.';
}

/** 424 Failed Dependency (RFC 4918). */
export class HTTPFailedDependency extends HTTPClientError {
  declare readonly code: 424; static override readonly code = 424;
  static override readonly description: string = 'The request failed because a request it depends on failed.';
}

/** 425 Too Early (RFC 8470). */
export class HTTPTooEarly extends HTTPClientError {
  declare readonly code: 425; static override readonly code = 425;
  static override readonly description: string = 'The server will not process a request that might be replayed.';
}

/**
 * 426 Upgrade Required (RFC 9110 §15.5.22); the `upgrade` option sends the protocols to switch
 * to as `Upgrade` (`{ upgrade: 'websocket' }`), which the Node server sends on HTTP/1.1 with
 * `Connection: upgrade`. Without it the 426 is sent without `Upgrade`, which the RFC requires,
 * and `lint` (so `TestClient`) refuses it.
 */
export class HTTPUpgradeRequired extends HTTPClientError {
  declare readonly code: 426; static override readonly code = 426;
  static override readonly description: string = 'The client must switch to another protocol.';
}

/** 428 Precondition Required (RFC 6585). */
export class HTTPPreconditionRequired extends HTTPClientError {
  declare readonly code: 428; static override readonly code = 428;
  static override readonly description: string = 'This request must be conditional.';
}

/** 429 Too Many Requests (RFC 6585); the `retryAfter` option sends `Retry-After`. */
export class HTTPTooManyRequests extends HTTPClientError {
  declare readonly code: 429; static override readonly code = 429;
  static override readonly description: string = 'Too many requests were sent in a given amount of time.';
}

/** 431 Request Header Fields Too Large (RFC 6585). */
export class HTTPRequestHeaderFieldsTooLarge extends HTTPClientError {
  declare readonly code: 431; static override readonly code = 431;
  static override readonly description: string = 'The request header fields are too large.';
}

/** 451 Unavailable For Legal Reasons (RFC 7725). */
export class HTTPUnavailableForLegalReasons extends HTTPClientError {
  declare readonly code: 451; static override readonly code = 451;
  static override readonly description: string = 'The resource is unavailable for legal reasons.';
}
