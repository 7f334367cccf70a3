/**
 * The URL a test client request is addressed to, as the app sees it.
 *
 * @module
 */
import { isValidHost } from '../http/host.ts';

/**
 * `url` at the host the request's `Host` field names, when it names one (the last, if several):
 * the URL the app sees (`req.host`, `req.hostUrl`), which a browser, curl and Werkzeug's client
 * file cookies under and judge a redirect's origin change by. `url` itself when there is no
 * `Host` field, or one the server would refuse (it answers 400 then).
 *
 * @param headers - the request's fields, in order.
 * @returns a new URL; `url` is not changed.
 */
export function hostUrl(url: URL, headers: Iterable<readonly [string, string]>): URL {
  let host: string | undefined;
  for (const [name, value] of headers) if (name.toLowerCase() === 'host') host = value;
  const at = new URL(url.href);
  if (host !== undefined && isValidHost(host)) at.host = host;
  return at;
}
