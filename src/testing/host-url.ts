/**
 * The URL a test client request is addressed to, as the app sees it.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { isValidHost } from '../http/host.ts';

/**
 * `url` at the host the request's `Host` field names, when it names one (the last, if several),
 * and at the scheme and host a call's `environ` sets last (`tsgi.url_scheme` `http` or
 * `https`, `HTTP_HOST`: Werkzeug's `environ_overrides={'wsgi.url_scheme': 'https'}`): the URL
 * the app sees (`req.scheme`, `req.host`, `req.hostUrl`), which a browser, curl and
 * Werkzeug's client file cookies under and judge a redirect's origin change by; a host
 * without a port is at the scheme's default port, whatever port `url` had. `url` itself
 * when neither names one, or the host is one the server would refuse (it answers 400 then).
 *
 * @param headers - the request's fields, in order.
 * @param environ - the call's `environ` option, if any.
 * @returns a new URL; `url` is not changed.
 */
export function hostUrl(url: URL, headers: Iterable<readonly [string, string]>, environ?: Partial<Environ>): URL {
  let host: string | undefined;
  for (const [name, value] of headers) if (name.toLowerCase() === 'host') host = value;
  if (typeof environ?.HTTP_HOST === 'string') host = environ.HTTP_HOST;
  const at = new URL(url.href);
  const scheme = environ?.['tsgi.url_scheme'];
  if (scheme === 'http' || scheme === 'https') at.protocol = `${scheme}:`;
  if (host !== undefined && isValidHost(host)) {
    // A Host without a port names the scheme's default one (RFC 9110 §7.2); the URL setter keeps the old port.
    at.port = '';
    at.host = host;
  }
  return at;
}
