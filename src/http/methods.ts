/**
 * The request methods a server built on Node's HTTP/1 parser (llhttp) takes, and the words of
 * its `501` to any other: shared by `serve()`'s HTTP/2 check and the `TestClient`, which answer
 * such a request the same way. Internal: not part of the public API.
 *
 * @module
 */

/**
 * The methods llhttp parses, `http.METHODS` on Node 20, 22 and 24 (RFC 9110's, WebDAV's,
 * CalDAV's, `PURGE`, `QUERY`…), written out so that code that runs without `node:http` (the
 * `TestClient` in a browser) has them; test/methods.test.ts checks them against `http.METHODS`.
 */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'ACL', 'BIND', 'CHECKOUT', 'CONNECT', 'COPY', 'DELETE', 'GET', 'HEAD', 'LINK', 'LOCK', 'M-SEARCH',
  'MERGE', 'MKACTIVITY', 'MKCALENDAR', 'MKCOL', 'MOVE', 'NOTIFY', 'OPTIONS', 'PATCH', 'POST',
  'PROPFIND', 'PROPPATCH', 'PURGE', 'PUT', 'QUERY', 'REBIND', 'REPORT', 'SEARCH', 'SOURCE',
  'SUBSCRIBE', 'TRACE', 'UNBIND', 'UNLINK', 'UNLOCK', 'UNSUBSCRIBE',
]);

/** The detail of the `501 Not Implemented` answered to a method the server does not know. */
export const UNKNOWN_METHOD = 'unknown method';

/**
 * True for a method Node's HTTP/1 parser knows (`http.METHODS`, case-sensitive): a request with
 * another (`FOO`, a lower-case `get`) is answered `501` (RFC 9110 §15.6.2). Never throws.
 */
export function isKnownMethod(method: string | undefined): boolean {
  return method !== undefined && KNOWN_METHODS.has(method);
}

/** The methods of {@link isKnownMethod}, in order (for the test that compares them with `http.METHODS`). */
export function knownMethods(): string[] {
  return [...KNOWN_METHODS];
}
