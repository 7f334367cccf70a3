/**
 * The URL of a `Request`: method, scheme, host and port, `SCRIPT_NAME`/`PATH_INFO`, the
 * query, and the URLs rebuilt from them (WebOb's URL attributes).
 *
 * @module
 */
import { MultiDict } from '../datastructures/multidict.ts';
import { type Members, legacy, fromEnviron, liveField } from '../http/descriptors.ts';
import { quotePath } from '../http/url.ts';
import type { Request } from './request.ts';
import { DEFAULT_PORTS, hostOf, splitHost } from '../http/host.ts';

/** URL parts of a {@link Request}, read from and written to its environ. */
export interface RequestUrl {
  /** The request method, e.g. `GET` (`REQUEST_METHOD`). */
  method: string;
  /** `http` or `https` (`tsgi.url_scheme`). */
  scheme: string;
  /**
   * The host and port the client asked for: the `Host` header as sent (`example.com:8080`),
   * else `SERVER_NAME` (an IPv6 address put in brackets, as Werkzeug does), with `:SERVER_PORT`
   * unless it is the scheme's default. Setting it sets the `Host` header.
   */
  host: string;
  /** The host without its port: `example.com`, or `[::1]` with IPv6 brackets kept. */
  get hostname(): string;
  /**
   * The port as a number: from the `Host` header, else the scheme's default (80/443) when
   * the header has none; from `SERVER_PORT` when there is no Host header.
   */
  get port(): number;
  /** The mount point, percent-decoded: `''` or `/app` (`SCRIPT_NAME`). */
  scriptName: string;
  /** The path below the mount point, percent-decoded: `''` or `/a/b` (`PATH_INFO`). */
  pathInfo: string;
  /** The raw query string without `?` (`QUERY_STRING`). */
  queryString: string;
  /**
   * The query string parsed into a {@link MultiDict} (first value wins in `get`); malformed
   * escapes are kept as written, never thrown. A live view like WebOb's `GET`: it is re-parsed
   * when `QUERY_STRING` changes, and `add`/`set`/`delete` on it rewrite `QUERY_STRING`
   * (re-encoded, so `%20` may come back as `+`).
   */
  get query(): MultiDict<string>;
  /** `scheme://host[:port]`, the port left out when it is the scheme's default. */
  get hostUrl(): string;
  /** The URL of the mount point: `hostUrl` + quoted `SCRIPT_NAME` (WebOb `application_url`). */
  get applicationUrl(): string;
  /** The quoted path: `SCRIPT_NAME` + `PATH_INFO`, without the query (WebOb `path`). */
  get path(): string;
  /** The quoted path and the query: `/app/search?q=1` (WebOb `path_qs`). */
  get pathQs(): string;
  /** The URL without the query: `hostUrl` + `path` (WebOb `path_url`). */
  get pathUrl(): string;
  /** The full URL the client asked for, reconstructed: `hostUrl` + `pathQs`. */
  get url(): string;

  /**
   * Resolves `other` against this request's URL (WebOb `relative_url`): against `pathUrl`, or
   * with `toApplication`, against `applicationUrl` + `/`, so links stay inside the mount point.
   * The result is normalised by the WHATWG URL parser (dot segments resolved).
   *
   * @throws TypeError when `other` cannot be resolved into a URL (`http://[`).
   */
  relativeUrl(other: string, toApplication?: boolean): string;

  /** The next segment of `PATH_INFO` without moving it (`/a/b` → `a`), or `null` when empty. */
  pathInfoPeek(): string | null;

  /**
   * Moves the next segment of `PATH_INFO` to the end of `SCRIPT_NAME` and returns it
   * (WebOb `path_info_pop`): `'' + '/a/b'` → `'/a' + '/b'`, answering `a`. Leading slashes
   * move with the segment (`'//a'` → `SCRIPT_NAME` + `'//a'`). Returns `null` when `PATH_INFO` is
   * empty, or without moving anything when `pattern.test(segment)` is false (anchor the
   * pattern, `/^\d+$/`, to match the whole segment).
   */
  pathInfoPop(pattern?: RegExp): string | null;
}

/** `Request.query`: a MultiDict that reports each change, to write `QUERY_STRING` back. */
class EnvironQuery extends MultiDict<string> {
  onChange: ((queryString: string) => void) | undefined;

  override add(key: string, value: string): this {
    super.add(key, value);
    this.onChange?.(this.toString());
    return this;
  }

  override set(key: string, value: string): this {
    super.set(key, value);
    this.onChange?.(this.toString());
    return this;
  }

  override delete(key: string): number {
    const removed = super.delete(key);
    if (removed > 0) this.onChange?.(this.toString());
    return removed;
  }
}

// The environ keys read on every request are written out as plain accessors: each is then one
// monomorphic load. A shared factory (`get() { return this.environ[key] }`) makes that load
// megamorphic, measured ten times slower on `new Request(environ).pathInfo`.
export const urlMembers: Members<Request, RequestUrl> = {
  method: {
    get() {
      return this.environ.REQUEST_METHOD;
    },
    set(value: string) {
      this.environ.REQUEST_METHOD = value;
    },
  },
  scheme: {
    get() {
      return this.environ['tsgi.url_scheme'];
    },
    set(value: string) {
      this.environ['tsgi.url_scheme'] = value;
    },
  },
  host: {
    get() {
      return hostOf(this.environ);
    },
    set(value: string) {
      this.environ.HTTP_HOST = value;
    },
  },
  hostname: {
    get() {
      return splitHost(this.host)[0];
    },
  },
  port: {
    get() {
      const header = this.environ.HTTP_HOST;
      if (typeof header !== 'string' || header === '') {
        const port = Number(this.environ.SERVER_PORT);
        return Number.isInteger(port) && port > 0 ? port : (DEFAULT_PORTS[this.scheme] ?? 80);
      }
      return splitHost(header)[1] ?? DEFAULT_PORTS[this.scheme] ?? 80;
    },
  },
  scriptName: {
    get() {
      return this.environ.SCRIPT_NAME;
    },
    set(value: string) {
      this.environ.SCRIPT_NAME = value;
    },
  },
  pathInfo: {
    get() {
      return this.environ.PATH_INFO;
    },
    set(value: string) {
      this.environ.PATH_INFO = value;
    },
  },
  queryString: {
    get() {
      return this.environ.QUERY_STRING ?? '';
    },
    set(value: string) {
      this.environ.QUERY_STRING = value;
    },
  },
  query: legacy(liveField(fromEnviron('QUERY_STRING'), (raw, commit) => {
    const query = new EnvironQuery(new URLSearchParams(raw ?? ''));
    query.onChange = commit;
    return query;
  }), true),
  hostUrl: {
    get() {
      const scheme = this.scheme;
      const port = this.port;
      return port === DEFAULT_PORTS[scheme] ? `${scheme}://${this.hostname}` : `${scheme}://${this.hostname}:${port}`;
    },
  },
  applicationUrl: {
    get() {
      return this.hostUrl + quotePath(this.scriptName);
    },
  },
  path: {
    get() {
      return quotePath(this.scriptName + this.pathInfo);
    },
  },
  pathQs: {
    get() {
      const qs = this.queryString;
      return qs ? `${this.path}?${qs}` : this.path;
    },
  },
  pathUrl: {
    get() {
      return this.hostUrl + this.path;
    },
  },
  url: {
    get() {
      return this.hostUrl + this.pathQs;
    },
  },
  relativeUrl(other, toApplication = false) {
    let base = toApplication ? this.applicationUrl : this.pathUrl;
    if (toApplication && !base.endsWith('/')) base += '/';
    return new URL(other, base).href;
  },
  pathInfoPeek() {
    const path = this.pathInfo;
    if (!path) return null;
    const rest = path.replace(/^\/+/, '');
    const slash = rest.indexOf('/');
    return slash === -1 ? rest : rest.slice(0, slash);
  },
  pathInfoPop(pattern) {
    const path = this.pathInfo;
    if (!path) return null;
    const slashes = /^\/*/.exec(path)![0];
    const rest = path.slice(slashes.length);
    const end = rest.indexOf('/');
    const segment = end === -1 ? rest : rest.slice(0, end);
    if (pattern) {
      pattern.lastIndex = 0;
      if (!pattern.test(segment)) return null;
    }
    this.scriptName += slashes + segment;
    this.pathInfo = end === -1 ? '' : rest.slice(end);
    return segment;
  },
};
