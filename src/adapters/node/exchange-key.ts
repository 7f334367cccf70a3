/**
 * Where a Node request's environ keeps its response: under a symbol, so the features that
 * need the connection (`tsgi.signal`, `tsgi.early_hints`) find it through the environ without
 * a closure per request.
 *
 * @module
 */
import { type IncomingMessage, ServerResponse } from 'node:http';
import { Http2ServerResponse } from 'node:http2';
import type { Environ } from '../../gateway/types.ts';
import { http2Stream } from './http2-compat.ts';

/**
 * The environ's response (or, without one, its request), not listed by `Object.keys`; a copy
 * of the environ made by spreading it (`{ ...environ }`) keeps it.
 */
export const EXCHANGE = Symbol('tsgi.node_exchange');

/**
 * The environ of a response or request, the other way round: a refusal of a request's own body
 * (`client-error.ts`) records the status the client got there, for the access log.
 */
const ENVIRON = Symbol('tsgi.node_environ');

/**
 * Stores the response of `environ` (its request when there is none), and the environ on it;
 * on HTTP/2 on its stream as well: `serve()` answers a body that does not arrive in
 * `requestTimeout` with a `408` on the stream itself (`h2-sessions.ts`), and records that
 * status on the environ, for the access log.
 */
export function setExchange(environ: Environ, exchange: IncomingMessage | ServerResponse): void {
  (environ as unknown as Record<symbol, unknown>)[EXCHANGE] = exchange;
  (exchange as unknown as Record<symbol, unknown>)[ENVIRON] = environ;
  const stream = http2Stream(exchange);
  if (stream !== undefined) (stream as unknown as Record<symbol, unknown>)[ENVIRON] = environ;
}

/**
 * The environ {@link setExchange} stored on `exchange` (on an HTTP/2 stream too), or `undefined` (a response `serve()` did not make one for).
 */
export function environOfExchange(exchange: IncomingMessage | ServerResponse | object): Environ | undefined {
  return (exchange as unknown as Record<symbol, unknown>)[ENVIRON] as Environ | undefined;
}

/** What {@link setExchange} stored: the response, the request, or `undefined` (an environ of another server). */
export function exchangeOf(environ: Environ): IncomingMessage | ServerResponse | undefined {
  return (environ as unknown as Record<symbol, unknown>)[EXCHANGE] as IncomingMessage | ServerResponse | undefined;
}

/** True for a Node response, HTTP/1 or HTTP/2 (not a request). */
export function isNodeResponse(value: unknown): value is ServerResponse {
  return value instanceof ServerResponse || value instanceof Http2ServerResponse;
}
