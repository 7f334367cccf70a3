/**
 * One request id end to end through `proxy`: with `requestId` above, the upstream's own field
 * of the id's name is left out of the answer, so `requestId` adds this gateway's id, the one
 * it forwarded upstream and its log lines hold (Envoy's `always_set_request_id_in_response`).
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { requestIdFieldKey, requestIdKey } from '../gateway/request-id-key.ts';

/**
 * `headers` (the upstream's answer fields, names lowercased) without the field that carries
 * the request's id (`tsgi.request_id_field`, `X-Request-Id` unless `requestId`'s `header`
 * says another) when `requestId` gave the request one (`tsgi.request_id`); `headers` itself
 * otherwise. An upstream that echoes the id it was sent loses nothing: `requestId` adds the
 * same value; one that answers an id of its own no longer hides the gateway's from the client.
 */
export function withoutUpstreamRequestId(headers: Array<[string, string]>, environ: Environ): Array<[string, string]> {
  if (typeof requestIdKey.get(environ) !== 'string') return headers;
  const field = requestIdFieldKey.get(environ);
  if (typeof field !== 'string' || !headers.some(([name]) => name === field)) return headers;
  return headers.filter(([name]) => name !== field);
}
