/**
 * 4xx: `HTTPClientError` and a class per client-error status (RFC 9110 §15.5).
 *
 * @module
 */
import { HTTPException, type HTTPExceptionOptions, defineException } from './base.ts';

/** Base of 4xx errors. */
export class HTTPClientError extends HTTPException {
  static override readonly code: number = 400;
  static override readonly description: string = 'The server could not understand the request.';
}

/** 400 Bad Request (RFC 9110 §15.5.1). */
export const HTTPBadRequest = defineException(HTTPClientError, 400, 'HTTPBadRequest', 'The browser (or proxy) sent a request that this server could not understand.');
/** 401 Unauthorized (RFC 9110 §15.5.2); give the challenges with the `wwwAuthenticate` option. */
export const HTTPUnauthorized = defineException(HTTPClientError, 401, 'HTTPUnauthorized', 'The server could not verify that you are authorized to access this resource.');
/** 402 Payment Required (RFC 9110 §15.5.3). */
export const HTTPPaymentRequired = defineException(HTTPClientError, 402, 'HTTPPaymentRequired', 'Access requires payment.');
/** 403 Forbidden (RFC 9110 §15.5.4). */
export const HTTPForbidden = defineException(HTTPClientError, 403, 'HTTPForbidden', 'You do not have permission to access this resource.');
/** 404 Not Found (RFC 9110 §15.5.5). */
export const HTTPNotFound = defineException(HTTPClientError, 404, 'HTTPNotFound', 'The requested URL was not found on the server.');
/** 406 Not Acceptable (RFC 9110 §15.5.7). */
export const HTTPNotAcceptable = defineException(HTTPClientError, 406, 'HTTPNotAcceptable', 'The resource has no representation the client accepts.');
/** 407 Proxy Authentication Required (RFC 9110 §15.5.8). */
export const HTTPProxyAuthenticationRequired = defineException(HTTPClientError, 407, 'HTTPProxyAuthenticationRequired', 'The client must authenticate with the proxy.');
/** 408 Request Timeout (RFC 9110 §15.5.9). */
export const HTTPRequestTimeout = defineException(HTTPClientError, 408, 'HTTPRequestTimeout', 'The server timed out waiting for the request.');
/** 409 Conflict (RFC 9110 §15.5.10). */
export const HTTPConflict = defineException(HTTPClientError, 409, 'HTTPConflict', 'The request conflicts with the current state of the resource.');
/** 410 Gone (RFC 9110 §15.5.11). */
export const HTTPGone = defineException(HTTPClientError, 410, 'HTTPGone', 'The resource is no longer available and will not be available again.');
/** 411 Length Required (RFC 9110 §15.5.12). */
export const HTTPLengthRequired = defineException(HTTPClientError, 411, 'HTTPLengthRequired', 'The request must carry a Content-Length.');
/** 412 Precondition Failed (RFC 9110 §15.5.13). */
export const HTTPPreconditionFailed = defineException(HTTPClientError, 412, 'HTTPPreconditionFailed', 'A precondition of the request did not hold.');
/** 413 Content Too Large (RFC 9110 §15.5.14). */
export const HTTPContentTooLarge = defineException(HTTPClientError, 413, 'HTTPContentTooLarge', 'The request body is larger than the server will process.');
/** 414 URI Too Long (RFC 9110 §15.5.15). */
export const HTTPURITooLong = defineException(HTTPClientError, 414, 'HTTPURITooLong', 'The request URL is longer than the server will process.');
/** 415 Unsupported Media Type (RFC 9110 §15.5.16). */
export const HTTPUnsupportedMediaType = defineException(HTTPClientError, 415, 'HTTPUnsupportedMediaType', 'The request body is in a format the server does not support.');
/** 416 Range Not Satisfiable (RFC 9110 §15.5.17); the `length` option sends `Content-Range: bytes *\/length`. */
export const HTTPRangeNotSatisfiable = defineException(HTTPClientError, 416, 'HTTPRangeNotSatisfiable', 'The requested range cannot be served.');
/** 417 Expectation Failed (RFC 9110 §15.5.18). */
export const HTTPExpectationFailed = defineException(HTTPClientError, 417, 'HTTPExpectationFailed', 'The server cannot meet the Expect header of the request.');
/** 418 I'm a Teapot (RFC 2324, kept by RFC 9110 §15.5.19 as reserved). */
export const HTTPImATeapot = defineException(HTTPClientError, 418, 'HTTPImATeapot', 'The server refuses to brew coffee because it is a teapot.');
/** 421 Misdirected Request (RFC 9110 §15.5.20). */
export const HTTPMisdirectedRequest = defineException(HTTPClientError, 421, 'HTTPMisdirectedRequest', 'The request was sent to a server that cannot answer for this URL.');
/** 422 Unprocessable Content (RFC 9110 §15.5.21). */
export const HTTPUnprocessableContent = defineException(HTTPClientError, 422, 'HTTPUnprocessableContent', 'The request was well-formed but its content could not be processed.');
/** 423 Locked (RFC 4918). */
export const HTTPLocked = defineException(HTTPClientError, 423, 'HTTPLocked', 'The resource is locked.');
/** 424 Failed Dependency (RFC 4918). */
export const HTTPFailedDependency = defineException(HTTPClientError, 424, 'HTTPFailedDependency', 'The request failed because a request it depends on failed.');
/** 425 Too Early (RFC 8470). */
export const HTTPTooEarly = defineException(HTTPClientError, 425, 'HTTPTooEarly', 'The server will not process a request that might be replayed.');
/** 426 Upgrade Required (RFC 9110 §15.5.22). */
export const HTTPUpgradeRequired = defineException(HTTPClientError, 426, 'HTTPUpgradeRequired', 'The client must switch to another protocol.');
/** 428 Precondition Required (RFC 6585). */
export const HTTPPreconditionRequired = defineException(HTTPClientError, 428, 'HTTPPreconditionRequired', 'This request must be conditional.');
/** 429 Too Many Requests (RFC 6585); the `retryAfter` option sends `Retry-After`. */
export const HTTPTooManyRequests = defineException(HTTPClientError, 429, 'HTTPTooManyRequests', 'Too many requests were sent in a given amount of time.');
/** 431 Request Header Fields Too Large (RFC 6585). */
export const HTTPRequestHeaderFieldsTooLarge = defineException(HTTPClientError, 431, 'HTTPRequestHeaderFieldsTooLarge', 'The request header fields are too large.');
/** 451 Unavailable For Legal Reasons (RFC 7725). */
export const HTTPUnavailableForLegalReasons = defineException(HTTPClientError, 451, 'HTTPUnavailableForLegalReasons', 'The resource is unavailable for legal reasons.');

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
