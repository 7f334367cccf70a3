/**
 * Whether a Node response's streamed body has started: kept on the response itself, under a
 * symbol, so what finds the response through the environ (`tsgi.early_hints`, an environ
 * copied by a middleware included) reads the same answer as the exchange.
 *
 * @module
 */
import type { ServerResponse } from 'node:http';

/** Set by {@link markBodyStarted}; not listed by `Object.keys`. */
const BODY_STARTED = Symbol('tsgi.node_body_started');

/**
 * Marks `res` as having its body started: `pump` took the body's first chunk, so the head is
 * committed (PEP 3333) whether or not it was written yet (it waits for the second step): a
 * `startResponse` with an error re-raises it, and `tsgi.early_hints` sends nothing.
 */
export function markBodyStarted(res: ServerResponse): void {
  (res as unknown as Record<symbol, unknown>)[BODY_STARTED] = true;
}

/** True once {@link markBodyStarted} marked `res`. */
export function hasBodyStarted(res: ServerResponse): boolean {
  return (res as unknown as Record<symbol, unknown>)[BODY_STARTED] === true;
}
