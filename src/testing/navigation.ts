/**
 * What a browser adds to a navigation (a form submitted, a link followed, and the redirects
 * after them): `Origin`, the Fetch Metadata fields, and the `SameSite` context of its cookies.
 *
 * @module
 */
import { getPublicSuffix } from 'tough-cookie';
import { isTrustworthy } from './trustworthy.ts';

/** `Sec-Fetch-Site` (Fetch Metadata §2.4): how the page that started a request relates to where it went. */
export type FetchSite = 'same-origin' | 'same-site' | 'cross-site';

/** A browser navigation under way: the page it started from and what its redirects made of it. */
export interface Navigation {
  /** The page's origin (Fetch's request origin). */
  readonly origin: URL;
  /** `Sec-Fetch-Site` over every URL the navigation went to so far (its URL list). */
  readonly site: FetchSite;
  /**
   * Fetch's "tainted origin" flag (Fetch §4.4, HTTP-redirect fetch step 13): a redirect went to
   * another origin from a URL not of the page's origin. `Origin` is then `null`.
   */
  readonly tainted: boolean;
  /** The URL its last request went to, as the app saw it (at the host a `Host` field named); none before the first. */
  readonly current?: URL | undefined;
}

/**
 * The registrable domain of `hostname` (`www.example.com` → `example.com`), by the public
 * suffix list tough-cookie carries; the host itself for an IP address or a name the list
 * does not cover (`localhost`, `testserver`).
 */
function registrableDomain(hostname: string): string {
  return getPublicSuffix(hostname, { allowSpecialUseDomain: true, ignoreError: true }) ?? hostname;
}

/** HTML's schemeful "same site": the same scheme and the same registrable domain. */
function sameSite(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && registrableDomain(a.hostname) === registrableDomain(b.hostname);
}

/** How `url` relates to `origin`, as one step of Fetch Metadata's `Sec-Fetch-Site`. */
function relation(origin: URL, url: URL): FetchSite {
  if (origin.origin === url.origin) return 'same-origin';
  return sameSite(origin, url) ? 'same-site' : 'cross-site';
}

const ORDER: readonly FetchSite[] = ['same-origin', 'same-site', 'cross-site'];

/** The farther of two relations: a URL list is as far as its farthest URL. */
const farther = (a: FetchSite, b: FetchSite): FetchSite => (ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b);

/**
 * A navigation from the page at `page` (an absolute URL), before its first request (see
 * {@link arrived}).
 *
 * @throws TypeError for a `page` that is no absolute URL.
 */
export function startNavigation(page: string): Navigation {
  const origin = new URL(new URL(page).origin === 'null' ? 'about:blank' : page);
  return { origin, site: 'same-origin', tainted: false };
}

/**
 * The navigation once its next request goes to `url`, the URL as the app sees it (at the host
 * a `Host` field names, where cookies are filed): `url` joins its URL list (`site`), and a
 * redirect from another origin than the page's to another origin again taints it (Fetch §4.4,
 * HTTP-redirect fetch, the steps that keep the URL list and set the tainted origin flag).
 */
export function arrived(navigation: Navigation, url: URL): Navigation {
  const from = navigation.current;
  const tainted = navigation.tainted || (from !== undefined && from.origin !== url.origin && navigation.origin.origin !== from.origin);
  return { origin: navigation.origin, site: farther(navigation.site, relation(navigation.origin, url)), tainted, current: url };
}

/**
 * The fields a browser adds to a navigation request with `method` to `url` (as the app sees it):
 *
 * - `Origin` on a method other than GET and HEAD (Fetch §3.1, "append a request `Origin`
 *   header"): the page's origin; `null` once a redirect tainted it, or from an https page to
 *   an http URL (the default referrer policy, strict-origin-when-cross-origin: the page's own
 *   `Referrer-Policy` is not known here);
 * - to a potentially trustworthy URL only: `Sec-Fetch-Site` (`same-origin`, `same-site`,
 *   `cross-site`: the farthest over the URLs of the redirect chain), `Sec-Fetch-Mode:
 *   navigate`, `Sec-Fetch-User: ?1` (a user's click or Enter) and `Sec-Fetch-Dest: document`.
 */
export function navigationHeaders(navigation: Navigation, method: string, url: URL): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  if (method !== 'GET' && method !== 'HEAD') {
    const downgraded = navigation.origin.protocol === 'https:' && url.protocol !== 'https:';
    headers.push(['Origin', navigation.tainted || downgraded || navigation.origin.origin === 'null' ? 'null' : navigation.origin.origin]);
  }
  if (isTrustworthy(url)) {
    headers.push(['Sec-Fetch-Site', navigation.site], ['Sec-Fetch-Mode', 'navigate'], ['Sec-Fetch-User', '?1'], ['Sec-Fetch-Dest', 'document']);
  }
  return headers;
}

/**
 * The `SameSite` context of a navigation's cookies (RFC 6265bis §5.2, §5.8.3): every cookie
 * when it stays on the page's site (`strict`); across sites, `Lax` and `None` cookies on a
 * GET or HEAD (a top-level navigation by a safe method: `lax`), `None` cookies only on any
 * other method (`none`). A cookie set without `SameSite` counts as `None` (RFC 6265bis's
 * default enforcement, Firefox's and Safari's; Chrome's "Lax by default" is not played).
 */
export function sameSiteContext(navigation: Navigation, method: string): 'strict' | 'lax' | 'none' {
  if (navigation.site !== 'cross-site') return 'strict';
  return method === 'GET' || method === 'HEAD' ? 'lax' : 'none';
}
