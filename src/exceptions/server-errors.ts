/**
 * 5xx: `HTTPServerError` and a class per server-error status (RFC 9110 §15.6).
 *
 * @module
 */
import { HTTPException } from './base.ts';

/** Base of 5xx errors. */
export class HTTPServerError extends HTTPException {
  static override readonly code: number = 500;
  static override readonly description: string = 'The server could not complete the request.';
}

/** 500 Internal Server Error (RFC 9110 §15.6.1). */
export class HTTPInternalServerError extends HTTPServerError {
  declare readonly code: 500; static override readonly code = 500;
  static override readonly description: string = 'The server encountered an internal error and was unable to complete your request.';
}

/** 501 Not Implemented (RFC 9110 §15.6.2). */
export class HTTPNotImplemented extends HTTPServerError {
  declare readonly code: 501; static override readonly code = 501;
  static override readonly description: string = 'The server does not support the action requested.';
}

/** 502 Bad Gateway (RFC 9110 §15.6.3). */
export class HTTPBadGateway extends HTTPServerError {
  declare readonly code: 502; static override readonly code = 502;
  static override readonly description: string = 'The upstream server sent an invalid response.';
}

/** 503 Service Unavailable (RFC 9110 §15.6.4); the `retryAfter` option sends `Retry-After`. */
export class HTTPServiceUnavailable extends HTTPServerError {
  declare readonly code: 503; static override readonly code = 503;
  static override readonly description: string = 'The server is temporarily unable to handle the request.';
}

/** 504 Gateway Timeout (RFC 9110 §15.6.5). */
export class HTTPGatewayTimeout extends HTTPServerError {
  declare readonly code: 504; static override readonly code = 504;
  static override readonly description: string = 'The upstream server did not answer in time.';
}

/** 505 HTTP Version Not Supported (RFC 9110 §15.6.6). */
export class HTTPVersionNotSupported extends HTTPServerError {
  declare readonly code: 505; static override readonly code = 505;
  static override readonly description: string = 'The server does not support the HTTP version of the request.';
}

/** 506 Variant Also Negotiates (RFC 2295). */
export class HTTPVariantAlsoNegotiates extends HTTPServerError {
  declare readonly code: 506; static override readonly code = 506;
  static override readonly description: string = 'The server has a configuration error in content negotiation.';
}

/** 507 Insufficient Storage (RFC 4918). */
export class HTTPInsufficientStorage extends HTTPServerError {
  declare readonly code: 507; static override readonly code = 507;
  static override readonly description: string = 'The server cannot store what the request needs.';
}

/** 508 Loop Detected (RFC 5842). */
export class HTTPLoopDetected extends HTTPServerError {
  declare readonly code: 508; static override readonly code = 508;
  static override readonly description: string = 'The server found an infinite loop while processing the request.';
}

/** 510 Not Extended (RFC 2774). */
export class HTTPNotExtended extends HTTPServerError {
  declare readonly code: 510; static override readonly code = 510;
  static override readonly description: string = 'The request needs further extensions.';
}

/** 511 Network Authentication Required (RFC 6585). */
export class HTTPNetworkAuthenticationRequired extends HTTPServerError {
  declare readonly code: 511; static override readonly code = 511;
  static override readonly description: string = 'The client must authenticate to gain network access.';
}
