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

/**
 * The environ's response (or, without one, its request), not listed by `Object.keys`; a copy
 * of the environ made by spreading it (`{ ...environ }`) keeps it.
 */
export const EXCHANGE = Symbol('tsgi.node_exchange');

/** Stores the response of `environ` (its request when there is none). */
export function setExchange(environ: Environ, exchange: IncomingMessage | ServerResponse): void {
  (environ as unknown as Record<symbol, unknown>)[EXCHANGE] = exchange;
}

/** What {@link setExchange} stored: the response, the request, or `undefined` (an environ of another server). */
export function exchangeOf(environ: Environ): IncomingMessage | ServerResponse | undefined {
  return (environ as unknown as Record<symbol, unknown>)[EXCHANGE] as IncomingMessage | ServerResponse | undefined;
}

/** True for a Node response, HTTP/1 or HTTP/2 (not a request). */
export function isNodeResponse(value: unknown): value is ServerResponse {
  return value instanceof ServerResponse || value instanceof Http2ServerResponse;
}
