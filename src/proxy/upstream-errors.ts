/**
 * What the proxy answers when the upstream fails: a 502 or 504 that says which failure it was,
 * and a line in `tsgi.errors` naming the upstream and the cause; before the response head
 * (`answerFailure`) or in the middle of the body (`failedMidBody`).
 *
 * @module
 */
import type { Body, Environ, StartResponse } from '../gateway/types.ts';
import { reportFailure } from '../gateway/failure-report.ts';
import { causeChain } from '../gateway/cause-chain.ts';
import { HTTPBadGateway, HTTPGatewayTimeout } from '../exceptions/server-errors.ts';
import type { HTTPException } from '../exceptions/base.ts';
import { undiciLoaded } from './undici.ts';
import { bytesReadBeforeLoss } from './upstream-socket.ts';

/** A 502 for an upstream that could not be reached or gave no answer: not an "invalid response". */
class UpstreamUnreachable extends HTTPBadGateway {
  static override readonly description: string = 'The gateway could not get an answer from the upstream server.';
}

/** One kind of upstream failure. */
interface Failure {
  /** For the log: what happened. */
  reason: string;
  /** Builds the answer, `cause` kept on it; its detail is safe to show to the client (no address, no stack). */
  answer(cause?: unknown): HTTPException;
}

const failure = (reason: string, answer: (cause?: unknown) => HTTPException): Failure => ({ reason, answer });

const REFUSED = failure('connection refused', (cause) => new UpstreamUnreachable('The upstream server refused the connection.', { cause }));
const RESET = failure('connection closed or reset before a complete answer', (cause) => new UpstreamUnreachable('The upstream server closed the connection before a complete answer.', { cause }));
const UNKNOWN_HOST = failure('host name not found', (cause) => new UpstreamUnreachable("The upstream server's name could not be resolved.", { cause }));
const TLS = failure('TLS handshake failed', (cause) => new UpstreamUnreachable("The upstream server's TLS certificate or handshake was not accepted.", { cause }));
const MALFORMED = failure('malformed response', (cause) => new HTTPBadGateway('The upstream server sent a malformed response.', { cause }));
const CONNECT_TIMEOUT = failure('connect timeout', (cause) => new HTTPGatewayTimeout('The upstream server did not accept the connection in time.', { cause }));
const HEADERS_TIMEOUT = failure('response headers timeout', (cause) => new HTTPGatewayTimeout('No response head came within the time allowed.', { cause }));
const BODY_TIMEOUT = failure('response body timeout', (cause) => new HTTPGatewayTimeout('The upstream server stopped sending its answer.', { cause }));
/**
 * An upstream's `407 Proxy Authentication Required`: its challenge is for the next client on the
 * chain, this gateway (RFC 9110 §11.7.1), so it is not passed on, and a 407 without it breaks
 * §15.5.8; the client could not answer it anyway (`Proxy-Authorization` is not forwarded).
 */
const PROXY_AUTHENTICATION = failure(
  'answered 407 Proxy Authentication Required: it asks this gateway for proxy credentials',
  (cause) => new HTTPBadGateway('The upstream server asked this gateway for proxy credentials.', { cause }),
);
const OTHER = failure('request failed', (cause) => new UpstreamUnreachable(undefined, { cause }));

/** The error's code, or its cause's (undici wraps some socket errors). */
function codeOf(error: unknown): string {
  for (const e of causeChain(error, 3)) {
    if (typeof e !== 'object' || e === null) return '';
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return '';
}

/** Error codes of a connection that went away: reset, broken pipe, closed by the other side. */
const CONNECTION_LOST: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/**
 * undici's `SocketError` messages for an answer it would not take: a `100 Continue` it did not
 * ask for (undici parses no 1xx but 103, whatever RFC 9110 §15.2 asks of clients), bytes with
 * no request running, a protocol switch it did not ask for. A malformed answer, not a lost
 * connection: not retried.
 */
const REFUSED_ANSWER: ReadonlySet<string> = new Set(['bad response', 'bad upgrade']);

function isRefusedAnswer(error: unknown): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === 'UND_ERR_SOCKET' && REFUSED_ANSWER.has(error.message);
}

/** The `code` of the error the proxy makes for an upstream's 407 (see {@link answerFailure}). */
export const PROXY_AUTHENTICATION_CODE = 'ERR_PROXY_AUTHENTICATION_REQUIRED';

/** Sorts an error of the HTTP client into a {@link Failure}. */
export function classify(error: unknown): Failure {
  if (isRefusedAnswer(error)) return MALFORMED;
  const code = codeOf(error);
  switch (code) {
    case 'ECONNREFUSED':
      return REFUSED;
    case 'UND_ERR_CLOSED':
      return RESET;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return UNKNOWN_HOST;
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return CONNECT_TIMEOUT;
    case 'UND_ERR_HEADERS_TIMEOUT':
      return HEADERS_TIMEOUT;
    case 'UND_ERR_BODY_TIMEOUT':
      return BODY_TIMEOUT;
    case 'UND_ERR_HEADERS_OVERFLOW':
    case 'UND_ERR_INFO':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'ERR_INVALID_HEADER':
      return MALFORMED;
    case PROXY_AUTHENTICATION_CODE:
      return PROXY_AUTHENTICATION;
  }
  if (CONNECTION_LOST.has(code)) return RESET;
  // (undici's own error classes exist once it is loaded: an error of its is none before.)
  const parserError = undiciLoaded()?.errors.HTTPParserError;
  if (code.startsWith('HPE_') || (parserError !== undefined && error instanceof parserError)) return MALFORMED;
  if (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) return TLS;
  return OTHER;
}

/**
 * True for an error that says the connection went away before any answer (reset, closed,
 * broken pipe) when that connection may have been a kept-alive one, which the upstream closed
 * at the wrong moment: not when it is known to have read nothing (a fresh connection, lost as
 * the request went out: the upstream failed on this request, and nginx does not send it again
 * either).
 */
export function isConnectionLost(error: unknown): boolean {
  return CONNECTION_LOST.has(codeOf(error)) && !isRefusedAnswer(error) && bytesReadBeforeLoss(error) !== 0;
}


/** `code: message` of an error, for the log. */
export function describeCause(error: unknown): string {
  const code = codeOf(error);
  const message = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
  return code ? `${code}: ${message}` : message;
}

/**
 * Answers an upstream failure before the response head: logs
 * `[tsgi] GET /path HTTP/1.1 502: upstream http://host:port: connection refused (ECONNREFUSED: …)`
 * (`502 request_id=…:` under `requestId`) to the nearest `errors` above (its `log`, and the
 * exception, `cause` the upstream's error, to its `onError`), else to `tsgi.errors`, and serves
 * the 502 or 504 whose detail says which failure it was.
 */
export function answerFailure(environ: Environ, startResponse: StartResponse, origin: string, error: unknown): Body {
  const kind = classify(error);
  const exception = kind.answer(error);
  // The line logged: the upstream, what happened and the cause (no frames: they would be undici's).
  exception.stack = `upstream ${origin}: ${kind.reason} (${describeCause(error)})`;
  reportFailure(environ, exception, String(exception.code));
  return exception.respond(environ, startResponse);
}

/**
 * The error the proxy's body throws when the upstream fails in the middle of it: the 502 or
 * 504 of the failure, `cause` the upstream's error. The server answers it when the response
 * head has not gone out yet (a filter or the server itself was still holding it: see
 * `escapedAnswer`), and cuts the connection after. Its `stack` is the line the server logs
 * either way: the upstream, what happened and the cause (no frames: they would be undici's).
 */
export function failedMidBody(origin: string, error: unknown): HTTPException {
  const kind = classify(error);
  const exception = kind.answer(error);
  exception.stack = `${exception.name} ${exception.code}: upstream ${origin}: ${kind.reason} in the middle of the response body (${describeCause(error)})`;
  return exception;
}
