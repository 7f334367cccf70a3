/**
 * 5xx: `HTTPServerError` and a class per server-error status (RFC 9110 §15.6).
 *
 * @module
 */
import { HTTPException, defineException } from './base.ts';

/** Base of 5xx errors. */
export class HTTPServerError extends HTTPException {
  static override readonly code: number = 500;
  static override readonly description: string = 'The server could not complete the request.';
}

/** 500 Internal Server Error (RFC 9110 §15.6.1). */
export const HTTPInternalServerError = defineException(HTTPServerError, 500, 'HTTPInternalServerError', 'The server encountered an internal error and was unable to complete your request.');
/** 501 Not Implemented (RFC 9110 §15.6.2). */
export const HTTPNotImplemented = defineException(HTTPServerError, 501, 'HTTPNotImplemented', 'The server does not support the action requested.');
/** 502 Bad Gateway (RFC 9110 §15.6.3). */
export const HTTPBadGateway = defineException(HTTPServerError, 502, 'HTTPBadGateway', 'The upstream server sent an invalid response.');
/** 503 Service Unavailable (RFC 9110 §15.6.4); the `retryAfter` option sends `Retry-After`. */
export const HTTPServiceUnavailable = defineException(HTTPServerError, 503, 'HTTPServiceUnavailable', 'The server is temporarily unable to handle the request.');
/** 504 Gateway Timeout (RFC 9110 §15.6.5). */
export const HTTPGatewayTimeout = defineException(HTTPServerError, 504, 'HTTPGatewayTimeout', 'The upstream server did not answer in time.');
/** 505 HTTP Version Not Supported (RFC 9110 §15.6.6). */
export const HTTPVersionNotSupported = defineException(HTTPServerError, 505, 'HTTPVersionNotSupported', 'The server does not support the HTTP version of the request.');
/** 506 Variant Also Negotiates (RFC 2295). */
export const HTTPVariantAlsoNegotiates = defineException(HTTPServerError, 506, 'HTTPVariantAlsoNegotiates', 'The server has a configuration error in content negotiation.');
/** 507 Insufficient Storage (RFC 4918). */
export const HTTPInsufficientStorage = defineException(HTTPServerError, 507, 'HTTPInsufficientStorage', 'The server cannot store what the request needs.');
/** 508 Loop Detected (RFC 5842). */
export const HTTPLoopDetected = defineException(HTTPServerError, 508, 'HTTPLoopDetected', 'The server found an infinite loop while processing the request.');
/** 510 Not Extended (RFC 2774). */
export const HTTPNotExtended = defineException(HTTPServerError, 510, 'HTTPNotExtended', 'The request needs further extensions.');
/** 511 Network Authentication Required (RFC 6585). */
export const HTTPNetworkAuthenticationRequired = defineException(HTTPServerError, 511, 'HTTPNetworkAuthenticationRequired', 'The client must authenticate to gain network access.');
