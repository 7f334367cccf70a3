/**
 * The URL of a `Request`: method, scheme, host and port, `SCRIPT_NAME`/`PATH_INFO`, the
 * query, and the URLs rebuilt from them (WebOb's URL attributes).
 *
 * @module
 */
import { MultiDict, queryPairs } from '../datastructures/multidict.ts';
import { type ParsedValues, PARSED, fromEnviron, liveField } from '../http/descriptors.ts';
import type { Environ } from '../gateway/types.ts';
import { quotePath, quoteQuery } from '../http/url.ts';
import { quotedScriptName } from '../http/raw-path.ts';
import { DEFAULT_PORTS, hostOf, splitHost, withPort } from '../http/host.ts';
import { assertFieldValue } from '../gateway/fields.ts';
import { HTTPBadRequest } from '../exceptions/client-errors.ts';

/**
 * `Request.query`: a MultiDict that reports each change, to write `QUERY_STRING` back. The
 * query string it writes keeps each pair nobody changed as it was sent (its escapes, in
 * whatever charset), and encodes the others: a value decoded as UTF-8 from escapes in another
 * charset (a GET form from a Shift_JIS page) is U+FFFD here, and encoding it would lose it.
 */
class EnvironQuery extends MultiDict<string> {
  onChange: ((queryString: string) => void) | undefined;
  /** The query string the pairs were parsed from, or last written. */
  #sent: string;
  /** True inside {@link EnvironQuery.set}, whose inner `delete` reports nothing. */
  #setting = false;

  constructor(queryString: string) {
    super(queryPairs(queryString));
    this.#sent = queryString;
  }

  override add(key: string, value: string): this {
    super.add(key, value);
    // Called by `super(…)` too, before this class's fields and methods: nothing to report then.
    if (this.onChange !== undefined) this.#changed();
    return this;
  }

  override set(key: string, value: string): this {
    // `super.set` deletes the key's pairs through `this.delete`: reported then, the pair set
    // back as it was would lose the text it was sent as (its escapes in another charset).
    this.#setting = true;
    try {
      super.set(key, value);
    } finally {
      this.#setting = false;
    }
    if (this.onChange !== undefined) this.#changed();
    return this;
  }

  override delete(key: string): number {
    const removed = super.delete(key);
    if (removed > 0 && !this.#setting && this.onChange !== undefined) this.#changed();
    return removed;
  }

  /** Reports the query string of the pairs now (see the class). */
  #changed(): void {
    // Each pair as sent, with its text: the parts of the query string between `&`s, as
    // `queryPairs` splits it (one pair each, a leading `?` kept in its key).
    const sent: Array<[key: string, value: string, text: string]> = [];
    for (const text of this.#sent.split('&')) {
      if (text !== '') for (const [key, value] of new URLSearchParams(`&${text}`)) sent.push([key, value, text]);
    }
    // Pairs keep their order through add, set and delete: each is matched with the next sent
    // pair of the same key and value, if any, and written as that one was.
    const parts: string[] = [];
    let next = 0;
    for (const [key, value] of this) {
      let found = next;
      while (found < sent.length && (sent[found]![0] !== key || sent[found]![1] !== value)) found++;
      if (found < sent.length) {
        parts.push(sent[found]![2]);
        next = found + 1;
      } else parts.push(new URLSearchParams([[key, value]]).toString());
    }
    this.#sent = parts.join('&');
    this.onChange!(this.#sent);
  }
}

/** `Request.query`: parsed `QUERY_STRING`, written back by `EnvironQuery` on each change. */
const QUERY = liveField(fromEnviron('QUERY_STRING'), (raw, commit) => {
  const query = new EnvironQuery(raw ?? '');
  query.onChange = commit;
  return query;
});

/**
 * URL parts of a `Request`, read from and written to its environ (installed on it; see
 * `descriptors.ts`).
 */
export abstract class RequestUrl {
  declare readonly environ: Environ;
  abstract [PARSED](): ParsedValues;

  // The environ keys read on every request are written out as plain accessors: each is then
  // one monomorphic load. A shared factory (`get() { return this.environ[key] }`) makes that
  // load megamorphic, measured ten times slower on `new Request(environ).pathInfo`.

  /** The request method, e.g. `GET` (`REQUEST_METHOD`). */
  get method(): string {
    return this.environ.REQUEST_METHOD;
  }
  set method(value: string) {
    this.environ.REQUEST_METHOD = value;
  }

  /** `http` or `https` (`tsgi.url_scheme`). */
  get scheme(): string {
    return this.environ['tsgi.url_scheme'];
  }
  set scheme(value: string) {
    this.environ['tsgi.url_scheme'] = value;
  }

  /**
   * The host and port the client asked for: the `Host` header as sent (`example.com:8080`),
   * else `SERVER_NAME` (an IPv6 address put in brackets, as Werkzeug does, without the `%zone`
   * of a server bound to `fe80::1%eth0`), with `:SERVER_PORT` unless it is the scheme's
   * default. Setting it sets the `Host` header.
   *
   * @throws TypeError when set to a value a header field cannot carry (CR, LF, NUL, another
   *   control character but HTAB, a character above U+00FF: RFC 9110 §5.5), as
   *   `req.headers.set('Host', …)` refuses it.
   */
  get host(): string {
    return hostOf(this.environ);
  }
  set host(value: string) {
    assertFieldValue('Host', value);
    this.environ.HTTP_HOST = value;
  }

  /** The host without its port: `example.com`, or `[::1]` with IPv6 brackets kept. */
  get hostname(): string {
    return splitHost(this.host)[0];
  }

  /**
   * The port of {@link RequestUrl.host} as a number: from the `Host` header, else the scheme's
   * default (80/443) when the header has none or a bad one; from `SERVER_PORT` when there is no
   * Host header. A subclass's own `host` gives it, as it gives `hostname`, `hostUrl` and `url`.
   */
  get port(): number {
    return splitHost(this.host)[1] ?? DEFAULT_PORTS[this.scheme] ?? 80;
  }

  /** The mount point, percent-decoded: `''` or `/app` (`SCRIPT_NAME`). */
  get scriptName(): string {
    return this.environ.SCRIPT_NAME;
  }
  set scriptName(value: string) {
    this.environ.SCRIPT_NAME = value;
  }

  /** The path below the mount point, percent-decoded: `''` or `/a/b` (`PATH_INFO`). */
  get pathInfo(): string {
    return this.environ.PATH_INFO;
  }
  set pathInfo(value: string) {
    this.environ.PATH_INFO = value;
  }

  /** The raw query string without `?` (`QUERY_STRING`). */
  get queryString(): string {
    return this.environ.QUERY_STRING ?? '';
  }
  set queryString(value: string) {
    this.environ.QUERY_STRING = value;
  }

  /**
   * The query string parsed into a {@link MultiDict} (first value wins in `get`); malformed
   * escapes are kept as written, never thrown. A live view like WebOb's `GET`: it is re-parsed
   * when `QUERY_STRING` changes, and `add`/`set`/`delete` on it rewrite `QUERY_STRING`: the
   * pairs added or changed encoded (a space as `+`), the others kept as sent, so escapes in
   * another charset (`MultiDict.fromQueryString(req.queryString, 'shift_jis')`) survive.
   */
  get query(): MultiDict<string> {
    return QUERY.get(this);
  }

  /** `scheme://host[:port]`, the port left out when it is the scheme's default. */
  get hostUrl(): string {
    const scheme = this.scheme;
    return `${scheme}://${withPort(this.hostname, this.port, scheme)}`;
  }

  /**
   * The URL of the mount point: `hostUrl` + quoted `SCRIPT_NAME` (WebOb `application_url`). A
   * mount point the client spelt with an escaped slash (`/repos/a%2Fb` under Express's
   * `use('/repos/:repo', …)`: `SCRIPT_NAME` `/repos/a/b`) keeps that spelling, so the URL names
   * the same mount point (as do `path`, `pathUrl`, `url` and the URLs a `RouteMap` builds).
   */
  get applicationUrl(): string {
    return this.hostUrl + quotedScriptName(this.environ);
  }

  /** The quoted path: `SCRIPT_NAME` + `PATH_INFO`, without the query (WebOb `path`); the mount point as in `applicationUrl`. */
  get path(): string {
    return quotedScriptName(this.environ) + quotePath(this.pathInfo);
  }

  /**
   * The quoted path and the query: `/app/search?q=1` (WebOb `path_qs`). The query is made a
   * URI's (`quoteQuery`: `?q="<x>"`, which Node lets through, is `?q=%22%3Cx%3E%22`, as
   * Werkzeug's `iri_to_uri` writes it); `queryString` keeps it as sent.
   */
  get pathQs(): string {
    const qs = this.queryString;
    return qs ? `${this.path}?${quoteQuery(qs)}` : this.path;
  }

  /**
   * The URL without the query: `hostUrl` + `path` (WebOb `path_url`). For the asterisk-form
   * `OPTIONS *` (`PATH_INFO` `*`), which names the server rather than a path, the target URI
   * has an empty path (RFC 9112 §3.3): `applicationUrl` (`http://example.com:8000`), never
   * `http://example.com:8000*`.
   */
  get pathUrl(): string {
    const pathInfo = this.pathInfo;
    if (pathInfo === '*') return this.applicationUrl;
    return this.hostUrl + quotedScriptName(this.environ) + quotePath(pathInfo);
  }

  /**
   * The full URL the client asked for, reconstructed: `pathUrl` + `?query`, i.e. `hostUrl` +
   * `pathQs` but for `OPTIONS *`, whose URL is `hostUrl` (see {@link RequestUrl.pathUrl}). A
   * URI: the path quoted, the query too where it holds characters no URI may (as `pathQs`).
   */
  get url(): string {
    const qs = this.queryString;
    return qs ? `${this.pathUrl}?${quoteQuery(qs)}` : this.pathUrl;
  }

  /**
   * Resolves `other` against this request's URL (WebOb `relative_url`): against `pathUrl`, or
   * with `toApplication`, against `applicationUrl` + `/`, so links stay inside the mount point.
   * The result is normalised by the WHATWG URL parser (dot segments resolved).
   *
   * @throws HTTPBadRequest (400, naming the value: `Refused URL "http://[": not a URL.`) when
   *   `other` cannot be resolved into a URL (`http://[`, `//[`, a port above 65535), as the
   *   redirect classes refuse such a target: `other` usually comes from the request (`?next=`),
   *   so it is the client's error, not a 500. WebOb's `relative_url` raises `ValueError` there
   *   (Python's `urljoin`), a 500.
   */
  relativeUrl(other: string, toApplication = false): string {
    let base = toApplication ? this.applicationUrl : this.pathUrl;
    if (toApplication && !base.endsWith('/')) base += '/';
    if (!URL.canParse(other, base)) throw new HTTPBadRequest(`Refused URL ${JSON.stringify(String(other).slice(0, 100))}: not a URL.`);
    return new URL(other, base).href;
  }

  /**
   * The next segment of `PATH_INFO` without moving it (`/a/b` → `a`): the one
   * {@link RequestUrl.pathInfoPop} would move. `null` when there is none: `PATH_INFO` empty or
   * slashes only, or
   * not starting with `/` (the `*` of `OPTIONS *` names the server, not a path segment).
   */
  pathInfoPeek(): string | null {
    const path = this.pathInfo;
    if (path.charCodeAt(0) !== 47 /* / */) return null;
    const rest = path.replace(/^\/+/, '');
    if (rest === '') return null; // slashes only: the index, no segment
    const slash = rest.indexOf('/');
    return slash === -1 ? rest : rest.slice(0, slash);
  }

  /**
   * Moves the next segment of `PATH_INFO` to the end of `SCRIPT_NAME` and returns it
   * (WebOb `path_info_pop`): `'' + '/a/b'` → `'/a' + '/b'`, answering `a`. Leading slashes
   * move with the segment (`'//a'` → `SCRIPT_NAME` + `'//a'`). Returns `null` without moving
   * anything when `PATH_INFO` is empty, is slashes only (`/`: WebOb answers `''` and moves the
   * `/`, leaving a `SCRIPT_NAME` that ends in `/`, which docs/spec.md §2.1 rules out; here the
   * app below gets `PATH_INFO` `/`, its index), or does not start with `/`, or when
   * `pattern.test(segment)` is false (anchor the pattern, `/^\d+$/`, to match the whole
   * segment). So `OPTIONS *` keeps `SCRIPT_NAME` `''` and `PATH_INFO` `*` (docs/spec.md §2.1:
   * no mount point applies to the server as a whole), where WebOb would move the `*` into
   * `SCRIPT_NAME`.
   */
  pathInfoPop(pattern?: RegExp): string | null {
    const path = this.pathInfo;
    if (path.charCodeAt(0) !== 47 /* / */) return null;
    const slashes = /^\/*/.exec(path)![0];
    const rest = path.slice(slashes.length);
    // Slashes only (`/`, the index of the mount point): no segment. Moving them would leave
    // SCRIPT_NAME ending in `/`, which docs/spec.md §2.1 rules out (and lint refuses).
    if (rest === '') return null;
    const end = rest.indexOf('/');
    const segment = end === -1 ? rest : rest.slice(0, end);
    if (pattern) {
      pattern.lastIndex = 0;
      if (!pattern.test(segment)) return null;
    }
    this.scriptName += slashes + segment;
    this.pathInfo = end === -1 ? '' : rest.slice(end);
    return segment;
  }
}
