/**
 * Whether a shared cache (a CDN) may store a response, read from its caching fields:
 * `Cache-Control` (RFC 9111 §5.2.2) and the fields a CDN obeys in its place,
 * `CDN-Cache-Control` and `<name>-CDN-Cache-Control` (RFC 9213) and `Surrogate-Control`
 * (Edge Architecture 1.0: Fastly, Akamai). Internal: used by `CookieSessions`, `AuthTickets`,
 * `basicAuth`, `bearerAuth`, `compress` and `lint`, so that each reads these fields the one way.
 *
 * @module
 */
import { CacheControl, joinCacheControlLines } from './cache-control.ts';
import type { HeaderList } from './header-list.ts';

/**
 * The directives of `headers`' `Cache-Control` lines, taken together (RFC 9110 §5.3), each
 * line parsed on its own ({@link joinCacheControlLines}).
 */
export function cacheControlOf(headers: HeaderList): CacheControl {
  return new CacheControl(joinCacheControlLines(headers.getAll('cache-control')));
}

/**
 * Whether the field `name` (any case) targets a CDN's cache and takes precedence over
 * `Cache-Control` there: `CDN-Cache-Control`, `<name>-CDN-Cache-Control`, `Surrogate-Control`.
 */
function targetsCdn(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === 'surrogate-control' || lower === 'cdn-cache-control' || lower.endsWith('-cdn-cache-control');
}

/** Whether `value` (true, or a list of field names) covers the field `lower`. */
function covers(value: true | string[] | false, lower: string): boolean {
  return value === true || (Array.isArray(value) && value.some((name) => name.toLowerCase() === lower));
}

/**
 * Whether a shared cache obeying `cc` may store the response and send its field `field`
 * (lower-case) to later requests: the response is stored (`cdn`: any directive a CDN stores
 * by, `max-age` included; else `public` or `s-maxage`), and neither `no-store`, nor `private`
 * nor `no-cache` (bare, or naming the field) keeps the field back.
 */
function keeps(cc: CacheControl, field: string, cdn: boolean): boolean {
  if (cc.noStore || covers(cc.private, field) || covers(cc.noCache, field)) return false;
  return cdn ? cc.maxAge !== null || cc.sMaxAge !== null || cc.public : cc.public || cc.sMaxAge !== null;
}

/**
 * Whether a shared cache may store the response of `headers` explicitly (RFC 9111 §3:
 * `public` or `s-maxage` in `Cache-Control`, or a lifetime in a CDN-targeted field, which the
 * CDN obeys even over `Cache-Control: private`) and hand its field `field` (e.g.
 * `'set-cookie'`) to other clients: not when `no-store`, `private` or `no-cache`, bare or
 * naming the field, keeps it back. Heuristic freshness (a 200 with no caching fields) is not
 * counted. Never throws.
 */
export function sharedCacheKeeps(headers: HeaderList, field: string): boolean {
  return cdnKeeps(headers, field) || keeps(cacheControlOf(headers), field.toLowerCase(), false);
}

/**
 * Whether a CDN-targeted field of `headers` (see {@link targetsCdn}), which a CDN obeys in
 * place of `Cache-Control` (RFC 9213 §2.1), lets it store the response (`max-age`,
 * `s-maxage` or `public`) and hand its field `field` to other clients (no `no-store`, nor
 * `private` or `no-cache` bare or naming the field), its lines taken together. Never throws.
 */
function cdnKeeps(headers: HeaderList, field: string): boolean {
  const lower = field.toLowerCase();
  return cdnFields(headers).some((cc) => keeps(cc, lower, true));
}

/**
 * The directives of each CDN-targeted field of `headers` (see {@link targetsCdn}), the lines
 * of one field taken together (RFC 9110 §5.3): each CDN obeys its own.
 */
function cdnFields(headers: HeaderList): CacheControl[] {
  const fields = new Map<string, string[]>();
  for (const [name, value] of headers.list) {
    const key = name.toLowerCase();
    if (targetsCdn(key)) fields.set(key, [...(fields.get(key) ?? []), value]);
  }
  return [...fields.values()].map((values) => new CacheControl(joinCacheControlLines(values)));
}

/**
 * Removes from `list` the CDN-targeted fields (see {@link targetsCdn}), so a CDN goes by
 * `Cache-Control` (which the caller makes `private`). A `Surrogate-Control` asking for ESI
 * (`content="ESI/1.0"`, Edge Architecture 1.0; what Varnish's `do_esi` VCL tests) keeps that
 * directive alone, without lifetime: the page is still assembled, not stored.
 */
export function dropCdnCaching(list: HeaderList): void {
  const content = new CacheControl(joinCacheControlLines(list.getAll('surrogate-control'))).get('content');
  for (const [name] of [...list.list]) if (targetsCdn(name)) list.delete(name);
  if (typeof content === 'string') list.set('Surrogate-Control', new CacheControl().set('content', content).toString());
}

/**
 * Whether a shared cache may store the response of `headers` at all: unless `Cache-Control`
 * says `no-store` or a bare `private` and no CDN-targeted field gives it a lifetime (a
 * response without caching fields may be stored for a heuristic time, RFC 9111 §4.2.2, or a
 * CDN's default one). Never throws.
 */
export function sharedCacheMayStore(headers: HeaderList): boolean {
  const cc = cacheControlOf(headers);
  return !(cc.noStore || cc.private === true) || cdnKeeps(headers, '');
}

/**
 * How a shared cache may keep the response of `headers` were the field `field` (e.g.
 * `'set-cookie'`) added to it, as `AuthTickets` asks before it adds a reissued ticket:
 *
 * - `'fresh'`: stored and served fresh to other requests without asking the origin: a
 *   CDN-targeted field gives it a lifetime that keeps `field` ({@link cdnKeeps}), or
 *   `Cache-Control` has neither `private` (bare or naming `field`) nor `no-store` and gives it
 *   explicit freshness, `public`, `s-maxage` or `max-age`, or the response has an `Expires`
 *   (RFC 9111 §3, §4.2.1: `max-age` and `Expires` apply to shared caches too). A `private`
 *   naming other fields only (`private="X-User"`) keeps those fields out, not the response
 *   (RFC 9111 §5.2.2.7);
 * - `'heuristic'`: neither `private` (bare or naming `field`) nor `no-store`, and no explicit
 *   freshness: a shared cache may still keep it for a heuristic time (RFC 9111 §4.2.2; a
 *   `Last-Modified` is enough);
 * - `'private'`: `no-store`, or `private` bare or naming `field`, keeps it (or `field`) out of
 *   shared caches.
 *
 * Never throws.
 */
export function sharedFreshness(headers: HeaderList, field: string): 'fresh' | 'heuristic' | 'private' {
  if (cdnKeeps(headers, field)) return 'fresh';
  const cc = cacheControlOf(headers);
  if (cc.noStore || covers(cc.private, field.toLowerCase())) return 'private';
  return cc.has('public') || cc.has('s-maxage') || cc.has('max-age') || headers.has('expires') ? 'fresh' : 'heuristic';
}

/**
 * Makes `list`'s response unstorable by shared caches (RFC 9111 §5.2.2.7), unless it is
 * already (bare `private`, or `no-store`): `public` and `s-maxage` dropped, `private` added
 * (over a `private` naming fields), and the CDN-targeted fields that
 * would override it at a CDN removed (a `Surrogate-Control` ESI request kept). For an answer
 * that is one visitor's alone: a session's page (`CookieSessions`), one let in by a token in
 * the URL (`bearerAuth`'s `allowQuery`, RFC 6750 §2.3).
 */
export function keepPrivate(list: HeaderList): void {
  dropCdnCaching(list);
  const cache = cacheControlOf(list);
  // `private="Set-Cookie"` keeps only that field from shared caches, not the page: bare `private` only.
  if (cache.private === true || cache.noStore) return;
  cache.delete('public');
  cache.delete('s-maxage');
  cache.set('private', true);
  list.set('Cache-Control', cache.toString());
}

/**
 * Whether a header field named `name` (any case) says how caches keep a response:
 * `Cache-Control`, `Expires` or a CDN-targeted field (see {@link targetsCdn}). For a cheap look
 * at a response before its fields are parsed.
 */
export function isCachingField(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === 'cache-control' || lower === 'expires' || targetsCdn(lower);
}

/**
 * Whether `cc` lets a shared cache answer a request with `Authorization` from a stored
 * response (RFC 9111 §3.5): `public`, `s-maxage` or `must-revalidate`.
 */
function sharedDespiteCredentials(cc: CacheControl): boolean {
  return cc.public || cc.sMaxAge !== null || cc.mustRevalidate;
}

/**
 * For the answer to a request let in by its credentials (`Authorization`: `basicAuth`,
 * `bearerAuth`): makes it unstorable by shared caches ({@link keepPrivate}) when it gives one
 * a lifetime ({@link sharedFreshness} `'fresh'`: `max-age`, `Expires`, a CDN-targeted field)
 * without saying it may be shared. RFC 9111 §3.5 forbids a shared cache to answer a request
 * with `Authorization` from a stored response unless its `Cache-Control` has `public`,
 * `s-maxage` or `must-revalidate`: a conforming cache does as much already, this stops one
 * that does not (nginx's `proxy_cache`). Left as it is when one of those three is in
 * `Cache-Control` or in a CDN-targeted field (the app's word, for the caches that field
 * addresses), when `private` (bare) or `no-store` keep it out of shared caches and no
 * CDN-targeted field gives it a lifetime, and when it has no lifetime at all (a shared cache
 * does not reuse it for another request with `Authorization`).
 */
export function keepAuthorizedPrivate(list: HeaderList): void {
  if (sharedFreshness(list, '') !== 'fresh') return;
  const fields = [cacheControlOf(list), ...cdnFields(list)];
  if (!fields.some(sharedDespiteCredentials)) keepPrivate(list);
}
