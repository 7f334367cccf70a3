/**
 * Mapping the upstream's own URLs in response header fields to the public ones
 * ({@link rewriteLocation}): Apache's `ProxyPassReverse` and `ProxyPassReverseCookieDomain`/
 * `…CookiePath`, nginx's `proxy_redirect` and `proxy_cookie_domain`/`proxy_cookie_path`.
 *
 * @module
 */
import { type App, type AppLike, type Body, type EarlyHints, type Environ, type StartResponse, toApp } from '../gateway/types.ts';
import { isThenable } from '../gateway/body.ts';
import { sameFieldName } from '../gateway/fields.ts';
import { isAsciiWhitespace } from './ascii.ts';
import { keepRelayed } from '../gateway/relayed.ts';
import { type PublicBase, UrlMap, type UpstreamUrls, publicBase } from './url-map.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';

/** Options of {@link rewriteLocation}. */
export interface RewriteLocationOptions {
  /**
   * The upstream's URL as given to `proxy` (its path is the base that maps to the mount
   * point), followed by any other names the upstream uses for itself
   * (`['http://10.0.0.5:8080', 'http://old.example.com']`).
   */
  upstream: UpstreamUrls;
}

/** Every option of {@link RewriteLocationOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const REWRITE_LOCATION_OPTIONS = { upstream: true } as const satisfies OptionNames<RewriteLocationOptions>;

const URL_FIELDS = new Set(['location', 'content-location']);
/** A refresh's `url =` prefix (any case, white space around `=`), matched where `lastIndex` is. */
const URL_PREFIX = /url[\t\n\f\r ]*=[\t\n\f\r ]*/iy;

/**
 * Rewrites the response fields that point at the upstream so they point at the public URL:
 * `Location` and `Content-Location`, the URL in `Refresh` (`5; url=…`), each target of `Link`
 * (`<…>; rel=next`, RFC 8288), and the `Domain` and `Path` of `Set-Cookie`. The public URL is the request's: `tsgi.url_scheme`, its `Host` and
 * its mount prefix (`SCRIPT_NAME`), so `Location: http://127.0.0.1:8081/about?x` becomes
 * `https://www.example.com/legacy/about?x` when the proxy is mounted at `/legacy`; an absolute
 * path (`Location: /about`) becomes `/legacy/about`. Under a `proxy` built with
 * `stripScriptName: false`, which asks the upstream for `/legacy/about` itself, the upstream's
 * base path stands for the public root instead (its `/legacy/about` stays `/legacy/about`,
 * never `/legacy/legacy/about`): `proxy` says which on each request. A URL with another host, or a relative
 * one, is left alone. A cookie's `Domain` naming an upstream host (an IPv6 one bracketed or
 * not: `[::1]`, `::1`) becomes the public host name, or is left out when that is an IP address
 * or no domain name (a host-only cookie: never `Domain=[::1]`); its `Path` at or below the
 * upstream's base path moves below the mount prefix (`Path=/` → `Path=/legacy`). Every other attribute stays as it was sent.
 * A `__Host-` cookie keeps its `Path=/`, which browsers require of it (RFC 6265bis §4.1.3.2), so
 * it is sent for every path of the public host.
 *
 * The `Link` fields of the `103 Early Hints` the app sends before its answer (those `proxy`
 * passes on from the upstream) are mapped as well: the app is called with a `tsgi.early_hints`
 * that maps them, and the server's is put back once the app's head is out.
 *
 * Only header fields change, never the body, and the response still streams. Put it above
 * `proxy` and below anything that reads those fields (`accessLog` logs what it sends).
 *
 * @example
 * ```ts
 * import { mount } from 'tsgi/middleware';
 * import { proxy, rewriteLocation } from 'tsgi/proxy';
 *
 * const OLD = 'http://127.0.0.1:8081';
 * export const app = mount({ '/legacy': rewriteLocation(proxy(OLD), { upstream: [OLD, 'http://old.example.com'] }) });
 * ```
 * @throws TypeError (at once) when `upstream` holds something that is not an http(s) URL, or nothing,
 *   or is neither a URL nor a list of them (left out, a number).
 */
export function rewriteLocation(app: AppLike, options: RewriteLocationOptions): App {
  const inner = toApp(app);
  checkOptions('rewriteLocation', options, REWRITE_LOCATION_OPTIONS);
  const map = new UrlMap(options.upstream);
  return (environ, startResponse) => {
    // The 103s the app sends while it works (`proxy` passes the upstream's on) point at the
    // upstream too; once its head goes out, the layers above send theirs unmapped.
    const restore = mapEarlyHints(environ, map);
    const answer: StartResponse = (status, headers, error) => {
      restore();
      let base: PublicBase | undefined;
      let out: Array<[string, string]> | undefined;
      for (let i = 0; i < headers.length; i++) {
        const [name, value] = headers[i]!;
        const lower = name.toLowerCase();
        let mapped: string | undefined;
        if (URL_FIELDS.has(lower)) mapped = map.toPublic(value, (base ??= publicBase(environ)));
        else if (lower === 'refresh') mapped = rewriteRefresh(value, map, (base ??= publicBase(environ)));
        else if (lower === 'set-cookie') mapped = rewriteCookie(value, map, (base ??= publicBase(environ)));
        else if (lower === 'link') mapped = rewriteLink(value, map, (base ??= publicBase(environ)));
        if (mapped === undefined || mapped === value) continue;
        out ??= headers.slice();
        out[i] = [name, mapped];
      }
      startResponse(status, out === undefined ? headers : keepRelayed(headers, out), error);
    };
    let body: Body | Promise<Body>;
    try {
      body = inner(environ, answer);
    } catch (error) {
      restore();
      throw error;
    }
    return isThenable<Body>(body) ? Promise.resolve(body).catch((error: unknown) => {
      restore();
      throw error;
    }) : body;
  };
}

/**
 * Gives the app below an environ whose `tsgi.early_hints` maps the targets of the `Link` fields
 * of each `103` it sends as {@link rewriteLocation} maps the final answer's (a `rel=preload` of
 * the upstream's `/style.css` is the public `/legacy/style.css`, and never names the upstream's
 * address); answers the function that puts the server's back. Nothing to do where the server
 * sends no early hints.
 */
function mapEarlyHints(environ: Environ, map: UrlMap): () => void {
  const send = environ['tsgi.early_hints'];
  if (typeof send !== 'function') return () => {};
  const mapped: EarlyHints = (env, fields) =>
    send(env, fields.map(([name, value]) => [name, sameFieldName(name, 'link') ? (rewriteLink(value, map, publicBase(env)) ?? value) : value]));
  environ['tsgi.early_hints'] = mapped;
  return () => {
    if (environ['tsgi.early_hints'] === mapped) environ['tsgi.early_hints'] = send;
  };
}

/** The URL of a `Refresh` value (`5; url=http://…`) mapped, or undefined. */
export function rewriteRefresh(value: string, map: UrlMap, base: PublicBase): string | undefined {
  const span = refreshUrl(value);
  if (span === undefined) return undefined;
  const [start, end] = span;
  const mapped = map.toPublic(value.slice(start, end), base);
  if (mapped === undefined) return undefined;
  return value.slice(0, start) + mapped + value.slice(end);
}

/**
 * Where the URL of a `Refresh` value (the field, or a `<meta http-equiv=refresh>`'s `content`)
 * is, as browsers find it (WHATWG HTML, "shared declarative refresh steps"): after a time (digits
 * and dots, starting with a digit or a dot), white space or a `;` or `,`, and an optional
 * `url=` (any case, white space around `=`; one cut short, `url /x` or `u/x`, is part of the
 * URL, the rest as it is); from an opening quote (`'` or `"`) to the same
 * quote, or to the end when it has none, else to the end. So `5 http://x/`, `.5; url=/y` and
 * `0; url='/z';` all name a URL. The span leaves out white space at its end (kept as written);
 * undefined when there is no time (no refresh) or no URL. Linear in the value's length.
 */
function refreshUrl(value: string): [start: number, end: number] | undefined {
  const n = value.length;
  const isDigit = (at: number) => at < n && value[at]! >= '0' && value[at]! <= '9';
  let at = 0;
  while (isAsciiWhitespace(value[at])) at++;
  if (!isDigit(at) && value[at] !== '.') return undefined;
  while (isDigit(at) || value[at] === '.') at++;
  if (at < n) {
    if (value[at] !== ';' && value[at] !== ',' && !isAsciiWhitespace(value[at])) return undefined;
    while (isAsciiWhitespace(value[at])) at++;
    if (value[at] === ';' || value[at] === ',') at++;
    while (isAsciiWhitespace(value[at])) at++;
  }
  // A `url =` prefix is skipped only whole: short of its `=` (`url /x`, `u/x`), the rest from
  // its `u` is the URL, quotes and all (the steps' "jump to parse").
  if (value[at] === 'u' || value[at] === 'U') {
    URL_PREFIX.lastIndex = at;
    if (!URL_PREFIX.test(value)) return trimmedSpan(value, at, n);
    at = URL_PREFIX.lastIndex;
  }
  let end = n;
  const quote = value[at];
  if (quote === '"' || quote === "'") {
    at++;
    const closing = value.indexOf(quote, at);
    if (closing !== -1) end = closing;
  }
  return trimmedSpan(value, at, end);
}

/** `[start, end]` without the white space at its end, or undefined when nothing is left. */
function trimmedSpan(value: string, start: number, end: number): [start: number, end: number] | undefined {
  while (end > start && isAsciiWhitespace(value[end - 1])) end--;
  return end > start ? [start, end] : undefined;
}

/**
 * The `Link` value (RFC 8288 §3) with the target of each link-value (`<…>` at its start) mapped
 * to the public URL; the parameters, quoted strings included, are left as written. Undefined
 * when no target changed.
 */
function rewriteLink(value: string, map: UrlMap, base: PublicBase): string | undefined {
  let out = '';
  let at = 0;
  let start = true; // only white space since the value's start or a comma between link-values
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === ',') start = true;
    else if (c === '<' && start) {
      const end = value.indexOf('>', i + 1);
      if (end === -1) break;
      const target = value.slice(i + 1, end);
      const mapped = map.toPublic(target, base);
      if (mapped !== undefined && mapped !== target) {
        out += `${value.slice(at, i + 1)}${mapped}`;
        at = end;
      }
      i = end;
      start = false;
    } else if (c !== ' ' && c !== '\t') start = false;
  }
  return at === 0 ? undefined : out + value.slice(at);
}

/**
 * A cookie name with the `__Host-` prefix (RFC 6265bis §4.1.3.2; `__Host-Http-` too), matched
 * without regard to case as browsers match it: such a cookie must have `Path=/`, or it is ignored.
 */
const HOST_PREFIX = /^\s*__host-/i;

/**
 * A `Set-Cookie` value with its `Domain` and `Path` mapped, or undefined when neither names the
 * upstream. A `Domain` naming the upstream is left out when the public host is no domain name
 * ({@link cookieDomain}): the cookie is then the public host's alone. A `__Host-` cookie is left
 * as it is: browsers drop one whose `Path` is not `/` (or that has a `Domain`).
 */
function rewriteCookie(value: string, map: UrlMap, base: PublicBase): string | undefined {
  if (HOST_PREFIX.test(value)) return undefined;
  const parts: Array<string | null> = value.split(';');
  let changed = false;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const attribute = part.slice(eq + 1).trim();
    let mapped: string | null | undefined;
    if (key === 'domain' && map.isUpstreamDomain(attribute)) mapped = cookieDomain(base.hostname);
    else if (key === 'path' && attribute.startsWith('/')) {
      const rest = map.below(attribute);
      if (rest !== undefined) mapped = base.prefix + (rest === '/' || rest === '' ? (base.prefix ? '' : '/') : rest);
    }
    if (mapped === undefined || mapped === attribute) continue;
    parts[i] = mapped === null ? null : `${part.slice(0, eq + 1)}${mapped}`;
    changed = true;
  }
  return changed ? parts.filter((part) => part !== null).join(';') : undefined;
}

/** Labels of letters, digits, `-` and `_`, joined by dots, maybe with the root's trailing dot. */
const DOMAIN_NAME = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?$/i;
/** A last label the URL parser reads as a number: the name is an IPv4 address (`127.0.0.1`, `0x7f.1`). */
const NUMERIC_LAST_LABEL = /(?:^|\.)(?:\d+|0x[0-9a-f]*)\.?$/i;

/**
 * The public host name as a cookie `Domain`, or null when it is none: an IP address (an IPv6
 * literal's brackets are no domain syntax, and an IP address domain-matches only itself, so
 * the cookie is no wider without it, RFC 6265 §5.1.3), or a name with characters a domain
 * name has not (a `Host` may hold `;` and `=`, which would add attributes to the cookie).
 */
function cookieDomain(hostname: string): string | null {
  return DOMAIN_NAME.test(hostname) && !NUMERIC_LAST_LABEL.test(hostname) ? hostname : null;
}
