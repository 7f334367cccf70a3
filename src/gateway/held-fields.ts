/**
 * The fields of a held head that the server's own error answer keeps: the head a server took
 * from the app with its body and held, unwritten, for the body's first chunk and second step
 * (to choose the framing), when the body fails there and the server answers in its place.
 *
 * @module
 */
import type { App, StartResponse } from './types.ts';
import { CONNECTION_FIELDS, isFieldValue, isToken, sameFieldName } from './fields.ts';

/**
 * The fields (lower case) of a held head that its replacement leaves out: they describe the
 * failed representation or its framing (RFC 9110 §8, §8.8, RFC 9530), its caching (RFC 9111
 * §5, RFC 9213, Edge Architecture's `Surrogate-Control`), or belong to the successful answer
 * it was to be (`Location`, `Refresh`, `Retry-After`, `Allow`; `Set-Cookie` and
 * `Clear-Site-Data`, as a 5xx saves no session and so ends none; `Link`: preloads and relations
 * of the page that failed; `WWW-Authenticate` and `Proxy-Authenticate`, challenges of a 401 or
 * 407, RFC 9110 §11.6.1, §11.7.1, which a 5xx is not).
 */
const DROPPED: ReadonlySet<string> = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
  'content-range',
  'content-disposition',
  'content-digest',
  'content-md5',
  'transfer-encoding',
  'trailer',
  'etag',
  'last-modified',
  'accept-ranges',
  'repr-digest',
  'digest',
  'cache-control',
  'expires',
  'age',
  'cdn-cache-control',
  'surrogate-control',
  'pragma',
  'location',
  'set-cookie',
  'refresh',
  'retry-after',
  'link',
  'allow',
  'clear-site-data',
  'www-authenticate',
  'proxy-authenticate',
]);

/** A targeted cache's own `Cache-Control` (RFC 9213 §2: `Cloudflare-CDN-Cache-Control`…). */
const TARGETED_CACHE_CONTROL = '-cdn-cache-control';

/**
 * The fields of `headers`, a head held and never written, that the server's own error answer
 * in its place keeps, as nginx keeps `add_header … always` fields on its error pages: the
 * request id, `Access-Control-*`, `Vary`, security fields (`Content-Security-Policy`,
 * `X-Frame-Options`…), `Server-Timing`, the app's own `X-*`. Left out: those of
 * {@link DROPPED}, any `*-CDN-Cache-Control`, hop-by-hop fields (`CONNECTION_FIELDS`), and
 * pairs a server would refuse to send (not `[token, field-value]`, RFC 9110 §5), so the
 * answer never fails on them. Called on the failure path only.
 *
 * @param headers - what the app gave `startResponse` (anything: it was not checked yet).
 * @returns new `[name, value]` pairs, in the held order; empty when `headers` is no array.
 */
export function heldFields(headers: unknown): Array<[string, string]> {
  const kept: Array<[string, string]> = [];
  if (!Array.isArray(headers)) return kept;
  for (const pair of headers as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2) continue;
    const [name, value] = pair as [unknown, unknown];
    if (typeof name !== 'string' || typeof value !== 'string') continue;
    if (!isToken(name) || !isFieldValue(value)) continue;
    const lower = name.toLowerCase();
    if (DROPPED.has(lower) || CONNECTION_FIELDS.has(lower)) continue;
    if (lower.endsWith(TARGETED_CACHE_CONTROL)) continue;
    kept.push([name, value]);
  }
  return kept;
}

/**
 * `own`, the fields of the server's answer, followed by those of `kept` ({@link heldFields})
 * whose name `own` does not have: the answer's own fields win, but `Vary`, a list both add
 * to (RFC 9110 §12.5.5), sent as two fields.
 */
export function withHeldFields(
  own: Array<[string, string]>,
  kept: ReadonlyArray<[string, string]>,
): Array<[string, string]> {
  const fields = own.slice();
  for (const pair of kept) {
    const named = (mine: [string, string]) => sameFieldName(mine[0], pair[0]);
    if (sameFieldName(pair[0], 'vary') || !own.some(named)) fields.push(pair);
  }
  return fields;
}

/**
 * `app` (an `HTTPException`'s, the server's answer to a failure) with `kept` added to the
 * fields it gives `startResponse` ({@link withHeldFields}).
 */
export function keepingHeldFields(app: App, kept: ReadonlyArray<[string, string]>): App {
  return (environ, startResponse) => {
    const start: StartResponse = (status, headers, error) =>
      startResponse(status, withHeldFields(headers, kept), error);
    return app(environ, start);
  };
}
