/**
 * An absolute `http:` or `https:` URL given where a request is made up (the `TestClient`'s
 * `baseUrl`, `Request.blank`'s URL and `baseUrl`): the only schemes `tsgi.url_scheme` may
 * hold (docs/spec.md §2), so another fails when given, named, rather than reaching the app.
 *
 * @module
 */
import { shownValue } from '../gateway/shown.ts';

/**
 * `href` parsed, when it is an absolute `http:` or `https:` URL (scheme in any case).
 *
 * @param where - the option or argument, for the message (`'new TestClient: baseUrl'`).
 * @throws TypeError `<where> must be an absolute http: or https: URL ('http://localhost/app'),
 *   got "…"` for anything else: no URL (`'localhost:8000'`, whose `localhost:` is a scheme), or
 *   another scheme (`'ftp://host/'`, `'ws://host'`).
 */
export function httpUrl(href: string, where: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(href);
  } catch {
    // Named below, with the value.
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new TypeError(`${where} must be an absolute http: or https: URL ('http://localhost/app'), got ${shownValue(href)}`);
  }
  return url;
}
