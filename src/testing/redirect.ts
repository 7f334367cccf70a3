/**
 * The request that follows a redirect answer.
 *
 * @module
 */
import type { Response } from '../response/response.ts';
import type { RequestOptions } from './options.ts';
import { hostUrl } from './host-url.ts';
import { fieldsAsRead } from './environ.ts';
import { isStreamedBody } from './streamed-input.ts';
import { TestClientError } from './error.ts';
import type { Navigation } from './navigation.ts';

/** One request of a chain: method, absolute URL, options, and the browser navigation it is part of. */
export interface Hop {
  method: string;
  url: URL;
  options: RequestOptions;
  /**
   * The navigation (a call with `from`), as of the request sent last (the client counts each
   * request it sends in, see `arrived`); absent for a call that is no browser's.
   */
  navigation?: Navigation | undefined;
  /**
   * True once a redirect of the chain went to another origin: the client's own credentials
   * (its `headers`' {@link isCredential} fields) are not sent from then on, back at its origin
   * included, as `fetch()` deletes `Authorization` from the request then. Absent: false.
   */
  leftOrigin?: boolean | undefined;
  /**
   * True for `OPTIONS *` (RFC 9112 §3.2.4, the asterisk-form): the request asks about the server,
   * not a resource; `url` is then the origin's root, which a redirect resolves against. Absent: false.
   */
  asterisk?: boolean | undefined;
}

const FOLLOWED = new Set([301, 302, 303, 307, 308]);

/**
 * `value`, the `followRedirects` option, when it is a count of redirects: a non-negative
 * integer; `undefined` as it is (the default applies).
 *
 * @param where - what the message names first (`new TestClient`, `GET /items`).
 * @throws TypeError for anything else: `true` (Werkzeug's `follow_redirects=True`), which
 *   followed one redirect and failed on the next as "more than true", `'2'`, -1, 1.5, NaN.
 */
export function redirectCount(where: string, value: unknown): number | undefined {
  if (value === undefined || (typeof value === 'number' && Number.isInteger(value) && value >= 0)) return value;
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  throw new TypeError(`${where}: followRedirects is the number of redirects to follow (a non-negative integer, 5 for Werkzeug's follow_redirects=True), got ${shown}`);
}
/**
 * The credentials not sent on after a redirect to another origin: `Authorization` (Fetch,
 * HTTP-redirect fetch: "delete `Authorization`" when the origin changes), and, as fetch
 * (undici), curl and urllib3 drop them too, `Proxy-Authorization` and a `Cookie` written by
 * hand (the jar sends the new host's own).
 */
const CREDENTIALS = new Set(['authorization', 'proxy-authorization', 'cookie']);

/** True for a field name (any case) among the credentials a redirect to another origin drops: `Authorization`, `Proxy-Authorization`, `Cookie`. */
export function isCredential(name: string): boolean {
  return CREDENTIALS.has(name.toLowerCase());
}

/** The call's fields not sent on to another origin: its credentials, and its `Host` (the new URL names the host). */
const crossOriginDropped = (name: string) => isCredential(name) || name.toLowerCase() === 'host';
/**
 * The keys of a call's `environ` that say which origin it reached (Werkzeug's
 * `environ_overrides={'wsgi.url_scheme': 'https'}`): dropped on a redirect to another origin,
 * whose URL says where it goes (see `hostUrl`).
 */
const ORIGIN_KEYS = ['HTTP_HOST', 'SERVER_NAME', 'SERVER_PORT', 'tsgi.url_scheme'] as const;

/** `environ` without its {@link ORIGIN_KEYS}; `undefined` as it is. */
function leavingOrigin(environ: RequestOptions['environ']): RequestOptions['environ'] {
  if (environ === undefined || !ORIGIN_KEYS.some((key) => key in environ)) return environ;
  const rest: Partial<Record<string, unknown>> = { ...environ };
  for (const key of ORIGIN_KEYS) delete rest[key];
  return rest as RequestOptions['environ'];
}

/** Fields that describe a request body (Fetch's request-body-header names), dropped with it. */
const BODY_FIELDS = new Set(['content-type', 'content-encoding', 'content-language', 'content-location', 'content-length']);

/**
 * True when a redirect answered `status` to `method` asks again with GET (a HEAD stays HEAD),
 * without the body: a 303 after any method (a GET or HEAD keeps its method), a 301 or 302
 * after a POST only (Fetch, HTTP-redirect fetch, the step that sets the method to GET, as
 * browsers do; a PUT, DELETE or PATCH keeps its method and body across a 301 or 302, where
 * Werkzeug's client turns them into a GET).
 */
function asksWithGet(status: number, method: string): boolean {
  return status === 303 || ((status === 301 || status === 302) && method === 'POST');
}

/**
 * The next request after `res`, or `null` when `res` is not a redirect to follow (a status
 * other than 301, 302, 303, 307 or 308, or no `Location`). As `fetch()` (HTTP-redirect fetch):
 * a 303 asks again with GET (a HEAD stays HEAD), and so does a 301 or 302 after a POST, the
 * body and its fields dropped; any other redirect repeats the method and body (a PUT, DELETE
 * or PATCH across a 301 or 302 too). The `Location` is resolved against the URL asked for (at the
 * host its `Host` field names, when it has one: the URL the app saw); the
 * query option is not sent again (the new URL has its own), and the call's `Authorization`,
 * `Proxy-Authorization`, `Cookie` and `Host` are dropped when the origin changes (as `fetch()`
 * and curl do: a session cookie given by hand never reaches an identity provider's host), and
 * the client's own credentials for the rest of the chain ({@link Hop.leftOrigin}); so are the
 * keys of its `environ` that named the origin it reached (`HTTP_HOST`, `SERVER_NAME`,
 * `SERVER_PORT`, `tsgi.url_scheme`), so the new URL is asked at the scheme and host it names,
 * as Werkzeug's client asks it. A
 * browser navigation stays one (the next request counted in when it is sent).
 *
 * @throws TestClientError for a redirect other than a 303 whose request had a streamed body
 *   (read once: `fetch()` fails such a redirect, HTTP-redirect fetch's step on a body whose
 *   source is null, even a POST's across a 301 or 302), and
 *   for a `Location` that is no URL or not an http(s) one (`ftp:`, `mailto:`): Fetch fails the
 *   request then (HTTP-redirect fetch, steps 3 and 5), and the app serves neither.
 */
export function nextHop(hop: Hop, res: Response): Hop | null {
  const location = res.headers.get('location');
  if (!FOLLOWED.has(res.statusCode) || location === null) return null;
  const { query: _query, ...kept } = hop.options;
  let headers = fieldsAsRead(kept.headers);
  // The URL the request went to, as the app saw it: at the host its Host field named.
  const from = hostUrl(hop.url, headers, kept.environ);
  // Not `URL.parse`: Node 22.1 on, and `engines` says 22.
  const url = URL.canParse(location, from.href) ? new URL(location, from.href) : null;
  // Fetch's redirect step fails such a fetch too (a network error): there is nowhere to go.
  if (url === null) {
    throw new TestClientError(`${hop.method} ${from.href} answered ${res.status} with a Location that is no URL: ${JSON.stringify(location)}`, { response: res });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TestClientError(`${hop.method} ${from.href} answered ${res.status} with a Location that is no http(s) URL: ${JSON.stringify(location)}`, { response: res });
  }
  url.hash = '';
  const elsewhere = url.origin !== from.origin;
  if (elsewhere) {
    headers = headers.filter(([name]) => !crossOriginDropped(name));
    // The scheme and host the call's environ named were those of the origin it reached, not of this URL.
    kept.environ = leavingOrigin(kept.environ);
  }
  const { navigation } = hop;
  const leftOrigin = hop.leftOrigin === true || elsewhere;
  if (res.statusCode !== 303 && isStreamedBody(kept.body)) {
    // Read once, it cannot be sent again: fetch() fails any redirect but a 303 then, before it looks at the method.
    throw new TestClientError(`${hop.method} ${from.href} answered ${res.status}, which fetch() follows only with a body it can send again, but a streamed body cannot be sent again: send it as bytes to follow`, { response: res });
  }
  if (!asksWithGet(res.statusCode, hop.method)) return { method: hop.method, url, options: { ...kept, headers }, navigation, leftOrigin };
  const { json: _json, form: _form, files: _files, body: _body, ...rest } = kept;
  headers = headers.filter(([name]) => !BODY_FIELDS.has(name.toLowerCase()));
  return { method: hop.method === 'HEAD' ? 'HEAD' : 'GET', url, options: { ...rest, headers }, navigation, leftOrigin };
}
