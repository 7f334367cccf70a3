/**
 * The request id in `tsgi.errors` lines, so a line is found by the id a user quotes, the
 * access log's `request_id` and nginx's `$request_id`.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { requestIdKey } from './request-id.ts';

/**
 * ` request_id=<id>` when `requestId` gave the request an id (`tsgi.request_id`), else `''`:
 * what a `tsgi.errors` line puts after its request line and status, before the colon
 * (`[tsgi] GET /boom HTTP/1.1 500 request_id=9b2e…: Error: …`). `requestId`'s ids hold no
 * space or control character; `formatError` escapes control characters of one set otherwise.
 */
export function requestIdLabel(environ: Environ): string {
  const id = requestIdKey.get(environ);
  return typeof id === 'string' ? ` request_id=${id}` : '';
}
