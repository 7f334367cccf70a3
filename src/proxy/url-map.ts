/**
 * Mapping URLs that point at the upstream to the public URL the client used (Apache's
 * `ProxyPassReverse`, nginx's `proxy_redirect`), for `rewriteLocation` and the link rewriting
 * of `rewriteHtml`.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { hostOf, ipv6Form } from '../http/host.ts';
import { quotedScriptName } from '../http/raw-path.ts';
import { resolveDots } from './upstream-path.ts';
import { keptPrefixKey } from './kept-prefix.ts';
import { kindOf } from '../gateway/option-names.ts';

/** The URL(s) the upstream calls itself by: its URL as given to `proxy`, and any other names its pages use. */
export type UpstreamUrls = string | URL | ReadonlyArray<string | URL>;

interface Name {
  /** `http://host:port` as the upstream may write it, lower-cased, default port left out. */
  origin: string;
  /** The same with the default port written out (`http://host:80`). */
  originWithPort: string;
  /** The authority, for protocol-relative references: `//host:port`, default port left out. */
  relative: string;
  /** The same with the default port written out (`//host:80`). */
  relativeWithPort: string;
  /** The host name alone, for cookie domains. */
  hostname: string;
}

/** Where the public URL of a request begins: its scheme and host, and its mount prefix. */
export interface PublicBase {
  /** `https://example.com` (the scheme and Host the client used). */
  origin: string;
  /**
   * The public path the upstream's base path stands for: the quoted `SCRIPT_NAME` (`/legacy`,
   * or `''`), or `''` when `proxy` kept it in the upstream path (`stripScriptName: false`).
   */
  prefix: string;
  /** The host name the client used, without port. */
  hostname: string;
}

/** A URL's scheme (RFC 3986 §3.1), before its `:`. */
const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;

/**
 * The public base of a request: `tsgi.url_scheme` and Host, and the mount prefix (spelt as
 * the client spelt it, see `quotedScriptName`), which is left out when `proxy` sent it upstream (`stripScriptName: false`, {@link keptPrefixKey}):
 * that upstream's paths are the public ones already.
 */
export function publicBase(environ: Environ): PublicBase {
  const host = hostOf(environ);
  const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '');
  const prefix = keptPrefixKey.get(environ) === true ? '' : quotedScriptName(environ);
  return { origin: `${environ['tsgi.url_scheme']}://${host}`, prefix, hostname };
}

/**
 * The upstream's names and base path, and the mapping of its URLs to public ones.
 *
 * @throws TypeError (when built) for a name that is not an http(s) URL, an empty list, or an
 *   `upstream` that is neither a URL nor a list of them (left out: `undefined`).
 */
export class UrlMap {
  readonly names: readonly Name[];
  /** The path of the first URL, no trailing slash: what `/…` references of the upstream live below. */
  readonly basePath: string;

  constructor(upstream: UpstreamUrls) {
    if (typeof upstream !== 'string' && !(upstream instanceof URL) && typeof (upstream as Partial<Iterable<unknown>> | null | undefined)?.[Symbol.iterator] !== 'function') {
      throw new TypeError(`upstream is the upstream's URL or a list of its URLs ({ upstream: 'http://127.0.0.1:3000' }), not ${kindOf(upstream)}`);
    }
    const list = typeof upstream === 'string' || upstream instanceof URL ? [upstream] : [...upstream];
    if (list.length === 0) throw new TypeError('the upstream URL list is empty');
    const urls = list.map((value) => {
      let url: URL;
      try {
        url = new URL(String(value));
      } catch {
        throw new TypeError(`not an upstream URL: ${JSON.stringify(String(value))}`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`not an http(s) upstream URL: ${url.href}`);
      return url;
    });
    this.basePath = urls[0]!.pathname.replace(/\/+$/, '');
    this.names = urls.map((url) => {
      const withPort = `//${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`.toLowerCase();
      return {
        origin: url.origin.toLowerCase(),
        originWithPort: url.protocol + withPort,
        relative: `//${url.host}`.toLowerCase(),
        relativeWithPort: withPort,
        hostname: url.hostname.toLowerCase(),
      };
    });
  }

  /**
   * The public form of `url` when it points at the upstream, else undefined: an absolute URL
   * (`http://upstream:8080/base/x?q`), a protocol-relative one (`//upstream:8080/base/x`; an
   * upstream's default port may be written out, `//old.example.com:80/x`) or an absolute path
   * (`/base/x`), whose path is at or below the base path, becomes
   * `<public origin><prefix>/x?q` (an absolute path stays a path: `<prefix>/x?q`). The path's
   * dot segments are resolved first, as a browser resolves them (`/a/../x` and `/%2e%2e/x` are
   * the upstream's `/x`), so a mapped URL never climbs out of the prefix (`<prefix>/../x`
   * would name the public `/x`), and one that leaves the base path is not mapped. A mapped path
   * that would start with `//` (or `/\`), which a browser reads as another host's URL
   * (`/site//evil.example` below the base `/site`, at the root), is written `/.//evil.example`,
   * as the WHATWG URL serializer writes such a path: the same path of the public host. Relative
   * references (`x`, `../x`) and other hosts (`//host/x`, or `/\host/x`, which browsers read
   * the same) are left alone. `url` is judged as the URL parser reads it (see
   * {@link parserInput}): `/site/<TAB>/evil.example` is `/site//evil.example`.
   */
  toPublic(url: string, base: PublicBase): string | undefined {
    const trimmed = parserInput(url);
    if (trimmed.charCodeAt(0) === 47 && !isSlash(trimmed.charCodeAt(1))) {
      const rest = this.below(withoutDots(trimmed));
      if (rest === undefined) return undefined;
      const path = joinPath(base.prefix, rest);
      return isSlash(path.charCodeAt(1)) ? `/.${path}` : path;
    }
    const lower = trimmed.slice(0, 300).toLowerCase();
    for (const name of this.names) {
      for (const start of [name.origin, name.originWithPort, name.relative, name.relativeWithPort]) {
        if (!lower.startsWith(start) || !isBoundary(trimmed.charCodeAt(start.length))) continue;
        const rest = this.below(withoutDots(trimmed.slice(start.length)));
        if (rest !== undefined) return base.origin + joinPath(base.prefix, rest);
      }
    }
    return this.#parsedToPublic(trimmed, base);
  }

  /**
   * {@link UrlMap.toPublic} for a reference read against `codebase` rather than the page (HTML
   * 4.01 §13.3: an `<object>`'s `classid` and `archive`). Only a path (`/lib/a.jar`) takes its
   * host from what it is read against: against a codebase on another origin than the page's
   * (`http://old.example.com/applets/`, `//cdn.example.net/`), the path is mapped as the URL it
   * names there (`http://old.example.com/lib/a.jar`, public and absolute once mapped: right
   * whatever the codebase becomes), or left alone when that is another host's. Any other
   * reference, and any against a codebase of the page's origin (a path, a relative one, one
   * that does not parse), maps as {@link UrlMap.toPublic} maps it on the page.
   */
  toPublicAgainst(url: string, codebase: string, base: PublicBase): string | undefined {
    const trimmed = parserInput(url);
    const page = `${base.origin}/`;
    if (trimmed.charCodeAt(0) !== 47 || isSlash(trimmed.charCodeAt(1)) || !URL.canParse(codebase, page)) return this.toPublic(url, base);
    const from = new URL(codebase, page);
    if (URL.canParse(page) && from.origin === new URL(page).origin) return this.toPublic(url, base);
    if ((from.protocol !== 'http:' && from.protocol !== 'https:') || !URL.canParse(trimmed, from.href)) return undefined;
    const named = new URL(trimmed, from);
    // A protocol-relative codebase names a host, not a scheme: the path on that host, as written.
    const written = parserInput(codebase);
    const where = isSlash(written.charCodeAt(0)) && isSlash(written.charCodeAt(1)) ? `//${named.host}` : named.origin;
    return this.toPublic(where + named.pathname + named.search + named.hash, base);
  }

  /**
   * The public form of `ref` when a browser reads it as a URL of the upstream although it is not
   * written `scheme://host/…` or `//host/…` as {@link UrlMap.toPublic} matches the names:
   * `http:///host/x`, `http:\\host\x`, `http://host\x`, `\\host/x`, `/\host/x`, or `http:host/x`
   * on a page of another scheme. The WHATWG URL parser reads it against the public origin, as
   * the browser does (the host a reference names is the same against any page of that origin);
   * undefined when it names no upstream, or no host of its own (`http:x` on an `http:` page is
   * a relative path).
   */
  #parsedToPublic(ref: string, base: PublicBase): string | undefined {
    const scheme = SCHEME.exec(ref)?.[1]?.toLowerCase();
    let namesHost: boolean;
    if (scheme === undefined) namesHost = isSlash(ref.charCodeAt(0)) && isSlash(ref.charCodeAt(1));
    else if (scheme !== 'http' && scheme !== 'https') return undefined;
    // The page's own scheme: a host only after two slashes (either kind); another scheme: always.
    else namesHost = !base.origin.startsWith(`${scheme}:`) || (isSlash(ref.charCodeAt(scheme.length + 1)) && isSlash(ref.charCodeAt(scheme.length + 2)));
    const page = `${base.origin}/`;
    if (!namesHost || !URL.canParse(ref, page)) return undefined;
    const url = new URL(ref, page);
    const relative = `//${url.host}`;
    const upstream = this.names.some((name) => (scheme === undefined ? name.relative === relative || name.relativeWithPort === relative : name.origin === url.origin));
    if (!upstream) return undefined;
    const rest = this.below(url.pathname + url.search + url.hash);
    return rest === undefined ? undefined : base.origin + joinPath(base.prefix, rest);
  }

  /**
   * True when `domain` (a cookie Domain, maybe with a leading dot) names the upstream; an IPv6
   * address may be bracketed or not, in any of its written forms (`::1`, `[0:0::1]`).
   */
  isUpstreamDomain(domain: string): boolean {
    let name = domain.trim().replace(/^\./, '').toLowerCase();
    if (name.includes(':')) name = ipv6Form(name.startsWith('[') ? name : `[${name}]`);
    return this.names.some((n) => n.hostname === name);
  }

  /** The part of `path` (with query) below the base path, or undefined when it is not below it. */
  below(path: string): string | undefined {
    const base = this.basePath;
    if (base === '') return path;
    if (!path.startsWith(base) || !isBoundary(path.charCodeAt(base.length))) return undefined;
    return path.slice(base.length);
  }
}

/**
 * `ref` (an absolute path, or nothing, then its query and fragment) with the dot segments of
 * its path resolved (RFC 3986 §5.2.4: `.`, `..`, or spelt `%2E`; `..` stops at the root), the
 * query and fragment as they were; `ref` as it is when a segment hides a dot segment behind an
 * escaped slash or a backslash (see `resolveDots`).
 */
function withoutDots(ref: string): string {
  const end = ref.search(/[?#]/);
  const path = end === -1 ? ref : ref.slice(0, end);
  const resolved = resolveDots(path);
  return resolved === null || resolved === path ? ref : resolved + (end === -1 ? '' : ref.slice(end));
}

/**
 * `url` as the WHATWG URL parser reads it before anything else (the URL Standard's basic URL
 * parser, first steps): without leading and trailing C0 controls and spaces, and without any
 * tab or line break inside. A reference is judged on that text, so `/\t/evil.example` (a tab may
 * be in a field value) is the `//evil.example` of another host that a browser follows, never a
 * path of this one. Answers `url` itself when it holds no character at or below U+0020.
 */
function parserInput(url: string): string {
  // The ends found by hand: `[\x00-\x20]+$` would backtrack over every space of a long run.
  let start = 0;
  let end = url.length;
  while (start < end && url.charCodeAt(start) <= 0x20) start++;
  while (end > start && url.charCodeAt(end - 1) <= 0x20) end--;
  const text = start === 0 && end === url.length ? url : url.slice(start, end);
  return /[\t\n\r]/.test(text) ? text.replace(/[\t\n\r]/g, '') : text;
}

/** `/`, or `\\`, which browsers read as `/` in an http(s) URL (the WHATWG URL Standard). */
function isSlash(code: number): boolean {
  return code === 47 || code === 92;
}

/** End of string, `/`, `?` or `#`: where an origin or a base path may end. */
function isBoundary(code: number): boolean {
  return Number.isNaN(code) || code === 47 || code === 63 || code === 35;
}

/** `prefix` + `rest`, where an empty rest (or one starting with `?`/`#`) keeps a `/`. */
export function joinPath(prefix: string, rest: string): string {
  if (rest === '' || rest.charCodeAt(0) !== 47) return `${prefix}/${rest}`;
  return prefix + rest;
}
