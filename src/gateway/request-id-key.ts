/**
 * The request's id in the environ (`tsgi.request_id`, set by the `requestId` middleware), and
 * its label in `tsgi.errors` lines, so a line is found by the id a user quotes, the access
 * log's `request_id` and nginx's `$request_id`. Here, below the middleware, so that every
 * layer that logs (`Request.application` too) can name it.
 *
 * @module
 */
import { defineEnvironKey } from './environ-key.ts';

/**
 * The request's id, as `requestId` stored it (`tsgi.request_id`): read it with
 * `requestIdKey.get(req)` (or `…get(environ)`) in a handler, a log line or an error report.
 */
export const requestIdKey = defineEnvironKey<string>('tsgi.request_id');

/**
 * The field that carries the request's id, lowercased (`x-request-id`, or `requestId`'s
 * `header`), set by `requestId` with {@link requestIdKey} (`tsgi.request_id_field`, internal):
 * `proxy` drops an upstream's answer field of that name, so the client gets this gateway's id,
 * the one its log lines hold.
 */
export const requestIdFieldKey = defineEnvironKey<string>('tsgi.request_id_field');

/**
 * ` request_id=<id>` when `requestId` gave the request an id (`tsgi.request_id`), else `''`:
 * what a `tsgi.errors` line puts after its request line and status or note, before the colon
 * (`[tsgi] GET /boom HTTP/1.1 500 request_id=9b2e…: Error: …`), as `logRequestError` writes
 * every line about a request. `requestId`'s ids hold no
 * space or control character; `formatError` escapes control characters of one set otherwise.
 */
export function requestIdLabel(environ: { readonly 'tsgi.request_id'?: unknown }): string {
  const id = environ['tsgi.request_id'];
  return typeof id === 'string' ? ` request_id=${id}` : '';
}
