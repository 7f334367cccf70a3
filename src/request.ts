/**
 * The `Request` wrapper: a live view over an environ, and `Request.application`.
 *
 * @module
 */
import { type App, type AppLike, type Body, type Environ, type StartResponse, toApp } from './gateway.ts';
import { EnvironHeaders } from './datastructures/environ-headers.ts';
import { MultiDict } from './datastructures/multidict.ts';
import { HTTPBadRequest, HTTPException, HTTPUnsupportedMediaType } from './exceptions.ts';
import { BufferedInput, readInput } from './input.ts';
import { parseCookieHeader } from './http/cookies.ts';
import { decodeText } from './http/charset.ts';
import { formatMediaType, parseMediaType } from './http/media-type.ts';
import { quotePath } from './http/url.ts';
import { Accept, AcceptCharset, AcceptEncoding, AcceptLanguage } from './http/accept.ts';
import { type Authorization, parseAuthorization } from './http/authorization.ts';
import { CacheControl } from './http/cache-control.ts';
import { formatHttpDate, parseHttpDate } from './http/dates.ts';
import { type EntityTag, ETagSet, parseETag } from './http/etag.ts';
import { type RangeOptions, type RangeResult, parseRange } from './http/range.ts';
import { type FileUpload, type ParseFormOptions, type ParsedForm, formFromEnviron } from './forms/index.ts';
import { type BlankOptions, blankEnviron } from './request-blank.ts';
import { afterBody, claimCleanup, cleanupEnviron, endWithBody, finishRequest, hasForm, releaseCleanup } from './request-cleanup.ts';
import { Response } from './response.ts';
import { type DefinedMiddleware, type MiddlewareHandler, defineMiddleware } from './middleware/compose.ts';
import { callApplication } from './request-call.ts';

export type { BlankOptions } from './request-blank.ts';

/** Options of the body readers. */
export interface ReadOptions {
  /** Maximum body size in **bytes**; default unlimited. Past it: 413 Content Too Large. */
  limit?: number;
}

/**
 * Options of the form readers (`form()`, `files()`, `params()`, `parseForm()`): the limits of
 * `FormLimits` (bytes and counts; see `DEFAULT_FORM_LIMITS`), `spoolThreshold`, `tmpDir`, and
 * `limit` as another name for `maxBodySize`. They apply to the first read of a request's form
 * only: the parse is done once and shared.
 */
export type FormOptions = ParseFormOptions & ReadOptions;

/**
 * What a `Request.application` handler may return: a `Response`, an `HTTPException`, a string
 * (sent as `200 text/plain; charset=utf-8`), or another gateway app (a function or an object
 * with `respond`) that then answers the same environ. Anything else (`undefined` from a
 * forgotten `return`…) is a `TypeError` at run time.
 */
export type HandlerResult = Response | HTTPException | string | AppLike;

/** A `Request.application` handler. */
export type Handler = (req: Request) => HandlerResult | Promise<HandlerResult>;

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ws: 80, wss: 443 };

/** The input of a request whose environ has none: an empty body. */
const EMPTY_INPUT = new BufferedInput(new Uint8Array(0));

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

/**
 * A request: a thin, live view over a TSGI environ (WebOb's `Request`). Every attribute reads
 * the environ when asked and every setter writes it, so middleware and apps sharing the
 * environ always agree.
 *
 * @example
 * ```ts
 * const req = Request.blank('/search?q=tsgi', { baseUrl: 'https://example.com/app' });
 * req.scriptName;     // '/app'
 * req.pathInfo;       // '/search'
 * req.query.get('q'); // 'tsgi'
 * req.url;            // 'https://example.com/app/search?q=tsgi'
 * ```
 */
export class Request {
  /** The environ this request reads and writes. */
  readonly environ: Environ;
  #headers: EnvironHeaders | undefined;
  #queryCache: [string, MultiDict<string>] | undefined;
  #cookieCache: [string, Readonly<Record<string, string>>] | undefined;
  #parsed = new Map<string, [unknown, unknown]>();

  constructor(environ: Environ) {
    this.environ = environ;
  }

  // ---- method and URL ----

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
   * else `SERVER_NAME` (an IPv6 address put in brackets, as Werkzeug does), with `:SERVER_PORT`
   * unless it is the scheme's default. Setting it sets the `Host` header.
   */
  get host(): string {
    const header = this.environ.HTTP_HOST;
    if (typeof header === 'string' && header !== '') return header;
    const port = this.environ.SERVER_PORT;
    let name = this.environ.SERVER_NAME ?? '';
    if (name.includes(':') && !name.startsWith('[')) name = `[${name}]`;
    return port && Number(port) !== DEFAULT_PORTS[this.scheme] ? `${name}:${port}` : name;
  }
  set host(value: string) {
    this.environ.HTTP_HOST = value;
  }

  /** The host without its port: `example.com`, or `[::1]` with IPv6 brackets kept. */
  get hostname(): string {
    return splitHost(this.host)[0];
  }

  /**
   * The port as a number: from the `Host` header, else the scheme's default (80/443) when
   * the header has none; from `SERVER_PORT` when there is no Host header.
   */
  get port(): number {
    const header = this.environ.HTTP_HOST;
    if (typeof header !== 'string' || header === '') {
      const port = Number(this.environ.SERVER_PORT);
      return Number.isInteger(port) && port > 0 ? port : (DEFAULT_PORTS[this.scheme] ?? 80);
    }
    return splitHost(header)[1] ?? DEFAULT_PORTS[this.scheme] ?? 80;
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
   * when `QUERY_STRING` changes, and `add`/`set`/`delete` on it rewrite `QUERY_STRING`
   * (re-encoded, so `%20` may come back as `+`).
   */
  get query(): MultiDict<string> {
    const qs = this.queryString;
    if (this.#queryCache?.[0] !== qs) {
      const query = new EnvironQuery(MultiDict.fromQueryString(qs));
      query.onChange = (text) => {
        this.environ.QUERY_STRING = text;
        this.#queryCache = [text, query];
      };
      this.#queryCache = [qs, query];
    }
    return this.#queryCache[1];
  }

  /** `scheme://host[:port]`, the port left out when it is the scheme's default. */
  get hostUrl(): string {
    const scheme = this.scheme;
    const port = this.port;
    return port === DEFAULT_PORTS[scheme] ? `${scheme}://${this.hostname}` : `${scheme}://${this.hostname}:${port}`;
  }

  /** The URL of the mount point: `hostUrl` + quoted `SCRIPT_NAME` (WebOb `application_url`). */
  get applicationUrl(): string {
    return this.hostUrl + quotePath(this.scriptName);
  }

  /** The quoted path: `SCRIPT_NAME` + `PATH_INFO`, without the query (WebOb `path`). */
  get path(): string {
    return quotePath(this.scriptName + this.pathInfo);
  }

  /** The quoted path and the query: `/app/search?q=1` (WebOb `path_qs`). */
  get pathQs(): string {
    const qs = this.queryString;
    return qs ? `${this.path}?${qs}` : this.path;
  }

  /** The URL without the query: `hostUrl` + `path` (WebOb `path_url`). */
  get pathUrl(): string {
    return this.hostUrl + this.path;
  }

  /** The full URL the client asked for, reconstructed: `hostUrl` + `pathQs`. */
  get url(): string {
    return this.hostUrl + this.pathQs;
  }

  /**
   * Resolves `other` against this request's URL (WebOb `relative_url`): against `pathUrl`, or
   * with `toApplication`, against `applicationUrl` + `/`, so links stay inside the mount point.
   * The result is normalised by the WHATWG URL parser (dot segments resolved).
   *
   * @throws TypeError when `other` cannot be resolved into a URL (`http://[`).
   */
  relativeUrl(other: string, toApplication = false): string {
    let base = toApplication ? this.applicationUrl : this.pathUrl;
    if (toApplication && !base.endsWith('/')) base += '/';
    return new URL(other, base).href;
  }

  /** The next segment of `PATH_INFO` without moving it (`/a/b` → `a`), or `null` when empty. */
  pathInfoPeek(): string | null {
    const path = this.pathInfo;
    if (!path) return null;
    const rest = path.replace(/^\/+/, '');
    const slash = rest.indexOf('/');
    return slash === -1 ? rest : rest.slice(0, slash);
  }

  /**
   * Moves the next segment of `PATH_INFO` to the end of `SCRIPT_NAME` and returns it
   * (WebOb `path_info_pop`): `'' + '/a/b'` → `'/a' + '/b'`, answering `a`. Leading slashes
   * move with the segment (`'//a'` → `SCRIPT_NAME` + `'//a'`). Returns `null` when `PATH_INFO` is
   * empty, or without moving anything when `pattern.test(segment)` is false (anchor the
   * pattern, `/^\d+$/`, to match the whole segment).
   */
  pathInfoPop(pattern?: RegExp): string | null {
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
  }

  // ---- headers ----

  /** The request headers: a live, case-insensitive view over the `HTTP_*` keys. */
  get headers(): EnvironHeaders {
    return (this.#headers ??= new EnvironHeaders(this.environ));
  }

  /**
   * The media type of the body without parameters, lower-cased (`text/html`), or `''` (never
   * throws, even on a malformed header). Setting a value without parameters keeps the current
   * ones (the charset…), as WebOb does; `''` or `null` removes `CONTENT_TYPE`.
   *
   * @throws TypeError when set to something that is not a media type.
   */
  get contentType(): string {
    return parseMediaType(this.environ.CONTENT_TYPE).type;
  }
  set contentType(value: string | null) {
    if (value === null || value === '') {
      delete this.environ.CONTENT_TYPE;
      return;
    }
    const next = parseMediaType(value);
    const params = Object.keys(next.parameters).length ? next.parameters : parseMediaType(this.environ.CONTENT_TYPE).parameters;
    this.environ.CONTENT_TYPE = formatMediaType(next.type, params);
  }

  /**
   * The `charset` parameter of Content-Type, lower-cased; `utf-8` when absent (WebOb's
   * default). Setting it rewrites `CONTENT_TYPE`, keeping the type.
   */
  get charset(): string {
    return parseMediaType(this.environ.CONTENT_TYPE).parameters.charset?.toLowerCase() ?? 'utf-8';
  }
  set charset(value: string) {
    const current = parseMediaType(this.environ.CONTENT_TYPE);
    this.environ.CONTENT_TYPE = formatMediaType(current.type || 'text/plain', { ...current.parameters, charset: value });
  }

  /**
   * `Content-Length` in bytes, or `null` when absent or malformed. Setting `null` removes it.
   *
   * @throws TypeError when set to anything but a non-negative safe integer or `null`.
   */
  get contentLength(): number | null {
    const value = this.environ.CONTENT_LENGTH;
    if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) return null;
    return Number(value);
  }
  set contentLength(value: number | null) {
    if (value !== null && !(Number.isSafeInteger(value) && value >= 0)) {
      throw new TypeError(`invalid Content-Length: ${value}`);
    }
    if (value === null) delete this.environ.CONTENT_LENGTH;
    else this.environ.CONTENT_LENGTH = String(value);
  }

  /**
   * The cookies of the `Cookie` header, by name (first one wins), unquoted and percent-decoded
   * where that works (see `parseCookieHeader`). A malformed header gives what could be parsed,
   * never a throw. The record is frozen and re-parsed when the header changes: to change what
   * the app below sees, set `headers.set('Cookie', …)`.
   */
  get cookies(): Readonly<Record<string, string>> {
    const header = (this.environ.HTTP_COOKIE as string | undefined) ?? '';
    if (this.#cookieCache?.[0] !== header) this.#cookieCache = [header, Object.freeze(parseCookieHeader(header))];
    return this.#cookieCache[1];
  }

  /** `User-Agent`, or `null`. */
  get userAgent(): string | null {
    return this.headers.get('user-agent');
  }

  /** `Referer`, or `null`. */
  get referer(): string | null {
    return this.headers.get('referer');
  }

  /** The client address (`REMOTE_ADDR`), or `null`. */
  get remoteAddr(): string | null {
    return (this.environ.REMOTE_ADDR as string | undefined) ?? null;
  }
  set remoteAddr(value: string | null) {
    if (value === null) delete this.environ.REMOTE_ADDR;
    else this.environ.REMOTE_ADDR = value;
  }

  /** The authenticated user (`REMOTE_USER`, set by auth middleware), or `null`. */
  get remoteUser(): string | null {
    return (this.environ.REMOTE_USER as string | undefined) ?? null;
  }
  set remoteUser(value: string | null) {
    if (value === null) delete this.environ.REMOTE_USER;
    else this.environ.REMOTE_USER = value;
  }

  /** The abort signal of the request: aborted when the client goes away. */
  get signal(): AbortSignal | undefined {
    return this.environ['tsgi.signal'];
  }

  // ---- negotiation, conditional requests, caching, credentials (issue 3) ----

  /** Parses `environ[key]` with `parse`, re-using the last answer while the value is unchanged. */
  #cached<T>(key: string, parse: (raw: string | null) => T): T {
    const value = this.environ[key];
    const raw = typeof value === 'string' ? value : null;
    const hit = this.#parsed.get(key);
    if (hit !== undefined && hit[0] === raw) return hit[1] as T;
    const parsed = parse(raw);
    this.#parsed.set(key, [raw, parsed]);
    return parsed;
  }

  #setHeader(key: string, value: string | null): void {
    if (value === null) delete this.environ[key];
    else this.environ[key] = value;
  }

  /**
   * `Accept` (RFC 9110 §12.5.1) as an {@link Accept}: `bestMatch(offers, default?)`,
   * `acceptableOffers(offers)`, `quality(offer)`, `present`. A malformed header reads as
   * absent (everything acceptable); never throws. Set the raw header, or `null` to remove it.
   *
   * @example
   * ```ts
   * const type = req.accept.bestMatch(['text/html', 'application/json'], 'text/html');
   * ```
   */
  get accept(): Accept {
    return this.#cached('HTTP_ACCEPT', (raw) => new Accept(raw));
  }
  set accept(value: string | null) {
    this.#setHeader('HTTP_ACCEPT', value);
  }

  /** `Accept-Language` (RFC 9110 §12.5.4) as an {@link AcceptLanguage}; as {@link Request.accept}. */
  get acceptLanguage(): AcceptLanguage {
    return this.#cached('HTTP_ACCEPT_LANGUAGE', (raw) => new AcceptLanguage(raw));
  }
  set acceptLanguage(value: string | null) {
    this.#setHeader('HTTP_ACCEPT_LANGUAGE', value);
  }

  /**
   * `Accept-Encoding` (RFC 9110 §12.5.3) as an {@link AcceptEncoding}; as {@link Request.accept},
   * except that an absent or malformed header accepts `identity` only (no compression).
   */
  get acceptEncoding(): AcceptEncoding {
    return this.#cached('HTTP_ACCEPT_ENCODING', (raw) => new AcceptEncoding(raw));
  }
  set acceptEncoding(value: string | null) {
    this.#setHeader('HTTP_ACCEPT_ENCODING', value);
  }

  /** `Accept-Charset` (RFC 9110 §12.5.2) as an {@link AcceptCharset}; as {@link Request.accept}. */
  get acceptCharset(): AcceptCharset {
    return this.#cached('HTTP_ACCEPT_CHARSET', (raw) => new AcceptCharset(raw));
  }
  set acceptCharset(value: string | null) {
    this.#setHeader('HTTP_ACCEPT_CHARSET', value);
  }

  /**
   * `If-Match` (RFC 9110 §13.1.1) as an {@link ETagSet}: `present`, `any` (`*`), `tags`,
   * `contains(etag)` (strong comparison). Never throws; unusable members are dropped. Set the
   * raw header or `null`.
   */
  get ifMatch(): ETagSet {
    return this.#cached('HTTP_IF_MATCH', (raw) => new ETagSet(raw));
  }
  set ifMatch(value: string | null) {
    this.#setHeader('HTTP_IF_MATCH', value);
  }

  /**
   * `If-None-Match` (RFC 9110 §13.1.2) as an {@link ETagSet}; compare with
   * `contains(etag, { weak: true })`, as the RFC asks for this header.
   */
  get ifNoneMatch(): ETagSet {
    return this.#cached('HTTP_IF_NONE_MATCH', (raw) => new ETagSet(raw));
  }
  set ifNoneMatch(value: string | null) {
    this.#setHeader('HTTP_IF_NONE_MATCH', value);
  }

  /**
   * `If-Modified-Since` (RFC 9110 §13.1.3) as a `Date`, or `null` when absent or not a valid
   * HTTP-date. Set a `Date`, milliseconds since the epoch, or `null`.
   *
   * @throws RangeError when set to an invalid date.
   */
  get ifModifiedSince(): Date | null {
    return this.#cached('HTTP_IF_MODIFIED_SINCE', (raw) => parseHttpDate(raw));
  }
  set ifModifiedSince(value: Date | number | null) {
    this.#setHeader('HTTP_IF_MODIFIED_SINCE', value === null ? null : formatHttpDate(value));
  }

  /** `If-Unmodified-Since` (RFC 9110 §13.1.4), as {@link Request.ifModifiedSince}. */
  get ifUnmodifiedSince(): Date | null {
    return this.#cached('HTTP_IF_UNMODIFIED_SINCE', (raw) => parseHttpDate(raw));
  }
  set ifUnmodifiedSince(value: Date | number | null) {
    this.#setHeader('HTTP_IF_UNMODIFIED_SINCE', value === null ? null : formatHttpDate(value));
  }

  /**
   * `If-Range` (RFC 9110 §13.1.5): an entity tag (`{ tag, weak }`), a `Date`, or `null` when
   * absent or neither. A present but unusable `If-Range` makes a conditional response send the
   * whole representation (see `evaluateIfRange`). Set the raw header or `null`.
   */
  get ifRange(): EntityTag | Date | null {
    return this.#cached('HTTP_IF_RANGE', (raw) => parseETag(raw) ?? parseHttpDate(raw));
  }
  set ifRange(value: string | null) {
    this.#setHeader('HTTP_IF_RANGE', value);
  }

  /**
   * The raw `Range` header (RFC 9110 §14.2), or `null`. Its meaning depends on the length of
   * what is served: see {@link Request.rangeFor}. Set the raw header or `null`.
   */
  get range(): string | null {
    const value = this.environ.HTTP_RANGE;
    return typeof value === 'string' ? value : null;
  }
  set range(value: string | null) {
    this.#setHeader('HTTP_RANGE', value);
  }

  /**
   * The `Range` header evaluated for a representation of `length` bytes (WebOb's
   * `range.range_for_length`), with `range-parser` (see `parseRange`): `satisfiable` with the
   * ranges (coalesced), `unsatisfiable` (answer 416), or `ignored` with the reason (serve the
   * whole). `If-Range` is not considered here; conditional responses do it for you.
   *
   * @throws RangeError when `length` is not a non-negative integer.
   */
  rangeFor(length: number, options?: RangeOptions): RangeResult {
    return parseRange(this.range, length, options);
  }

  /**
   * `Cache-Control` (RFC 9111 §5.2) as a live {@link CacheControl} (`maxAge`, `noCache`,
   * `noStore`, `maxStale`, `onlyIfCached`, …): setting a field rewrites `HTTP_CACHE_CONTROL`,
   * so the app below sees it. Malformed directives are dropped, never thrown.
   */
  get cacheControl(): CacheControl {
    return this.#cached('HTTP_CACHE_CONTROL', (raw) => {
      const control: CacheControl = new CacheControl(raw, (value) => {
        this.#setHeader('HTTP_CACHE_CONTROL', value === '' ? null : value);
        this.#parsed.set('HTTP_CACHE_CONTROL', [value === '' ? null : value, control]);
      });
      return control;
    });
  }

  /**
   * `Authorization` (RFC 9110 §11.6.2) parsed: `scheme` (lower-cased), `token68` or `params`;
   * Basic decoded to `username` and `password`, Bearer to `token`. `null` when absent or
   * malformed, never a throw. Set the raw header (`basicAuthorization(user, password)`) or `null`.
   */
  get authorization(): Authorization | null {
    return this.#cached('HTTP_AUTHORIZATION', (raw) => parseAuthorization(raw));
  }
  set authorization(value: string | null) {
    this.#setHeader('HTTP_AUTHORIZATION', value);
  }

  // ---- body ----

  /**
   * The body as a stream of chunks (`tsgi.input`), not buffered. A live server input can be
   * read once; after `bytes()` (or `text()`, `json()`, `form()`) it is replayable. An environ
   * without `tsgi.input` reads as an empty body (Werkzeug's rule).
   */
  stream(): AsyncIterable<Uint8Array> {
    return this.environ['tsgi.input'] ?? EMPTY_INPUT;
  }

  /**
   * Reads the body whole and leaves a replayable copy in `tsgi.input`, so the next reader
   * sees the same bytes.
   *
   * @throws HTTPContentTooLarge (413) past `options.limit`, decided while streaming;
   *   HTTPBadRequest (400) when the body breaks off.
   */
  async bytes(options?: ReadOptions): Promise<Uint8Array> {
    const input = this.stream();
    if (input instanceof BufferedInput && options?.limit === undefined) return input.bytes;
    const bytes = await readInput(input, options?.limit, this.contentLength);
    if (!(input instanceof BufferedInput)) this.environ['tsgi.input'] = new BufferedInput(bytes);
    return bytes;
  }

  /**
   * The body decoded with {@link Request.charset}; malformed bytes become U+FFFD (Werkzeug).
   *
   * @throws HTTPUnsupportedMediaType (415) for a charset no decoder knows, and as `bytes()`.
   */
  async text(options?: ReadOptions): Promise<string> {
    const bytes = await this.bytes(options);
    try {
      return decodeText(bytes, this.charset);
    } catch {
      throw new HTTPUnsupportedMediaType(`Unsupported charset: ${this.charset}`);
    }
  }

  /**
   * The body parsed as JSON (UTF-8 per RFC 8259).
   *
   * @throws HTTPBadRequest (400) for an empty body, invalid UTF-8 or invalid JSON, and as `bytes()`.
   */
  async json<T = unknown>(options?: ReadOptions): Promise<T> {
    const bytes = await this.bytes(options);
    let text: string;
    try {
      text = decodeText(bytes, 'utf-8', true);
    } catch {
      throw new HTTPBadRequest('The JSON body is not valid UTF-8.');
    }
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new HTTPBadRequest(`The body is not valid JSON: ${(error as Error).message}`);
    }
  }

  /**
   * Parses the form body once, as it streams (see `formFromEnviron`): fields and uploaded
   * files of `application/x-www-form-urlencoded` or `multipart/form-data`; an empty form for
   * other content types, without reading the body (Werkzeug). Later calls, here or in an app
   * below sharing the environ, get the same form. The body cannot be read again afterwards
   * unless it was buffered first (`await req.bytes()`).
   *
   * Uploads larger than `spoolThreshold` live in temporary files, removed when the request
   * ends: when the response body of the outermost `Request.application` (or
   * `Request.getResponse`) has been sent or closed, or by {@link Request.cleanup}.
   *
   * @throws HTTPContentTooLarge (413) past a limit, the detail naming it (`"maxFileSize
   *   exceeded: …"`); HTTPBadRequest (400) for malformed multipart or a body that breaks off;
   *   HTTPUnsupportedMediaType (415) for a urlencoded body declared in a charset other than
   *   UTF-8 (urlencoded forms are UTF-8, WHATWG URL Standard).
   */
  parseForm(options: FormOptions = {}): Promise<ParsedForm> {
    const media = parseMediaType(this.environ.CONTENT_TYPE);
    const charset = media.parameters.charset?.toLowerCase();
    if (media.type === 'application/x-www-form-urlencoded' && charset !== undefined && charset !== 'utf-8' && charset !== 'us-ascii') {
      return Promise.reject(new HTTPUnsupportedMediaType(`Urlencoded forms must be UTF-8, not ${charset}.`));
    }
    const { limit, ...rest } = options;
    return formFromEnviron(this.environ, { ...rest, maxBodySize: options.maxBodySize ?? limit });
  }

  /**
   * The text fields of the form body in a {@link MultiDict} (body order; `get` answers the
   * first value, as Werkzeug's `request.form` — WebOb's `POST` answers the last). Files are in
   * {@link Request.files}. See {@link Request.parseForm} for the rules, limits and errors.
   *
   * @example
   * ```ts
   * const form = await req.form({ maxFieldSize: 10_000 });
   * form.get('title');     // first value or undefined
   * form.getOne('title');  // exactly one, else 400
   * ```
   */
  async form(options?: FormOptions): Promise<MultiDict<string>> {
    return (await this.parseForm(options)).fields;
  }

  /**
   * The uploaded files of a `multipart/form-data` body, by field name, as {@link FileUpload}s
   * (`filename`, `contentType`, `size`, `stream()`, `bytes()`, `text()`, `saveTo(path)`);
   * empty for other bodies. See {@link Request.parseForm}.
   */
  async files(options?: FormOptions): Promise<MultiDict<FileUpload>> {
    return (await this.parseForm(options)).files;
  }

  /**
   * The query and the form fields combined, in a new {@link MultiDict}: query values first,
   * then form values (WebOb's `params`, Werkzeug's `values`). A method so the body is read
   * only when asked: `await req.params()`. As in Werkzeug, GET and HEAD requests give the
   * query only, without reading a body. Files are not included.
   *
   * @throws as {@link Request.parseForm}.
   */
  async params(options?: FormOptions): Promise<MultiDict<string>> {
    const params = new MultiDict<string>(this.query);
    const method = this.method;
    if (method !== 'GET' && method !== 'HEAD') {
      for (const [key, value] of await this.form(options)) params.add(key, value);
    }
    return params;
  }

  /**
   * Removes the temporary files of this request's uploads now (they cannot be read after).
   * Idempotent. `Request.application` and `Request.getResponse` call it when the response
   * body is done; call it yourself when you parse forms outside them.
   */
  cleanup(): Promise<void> {
    return cleanupEnviron(this.environ);
  }

  // ---- running apps ----

  /**
   * Runs a gateway app on this request and returns its answer as a {@link Response}
   * (WebOb `get_response`). The body is not buffered: a streamed body stays streamed.
   * Errors thrown by the app propagate.
   *
   * Called outside any `Request.application` (in a test, a script), it takes charge of the
   * request's end: uploads the app parsed are cleaned up once the response body is read to
   * its end or closed, or at once when the body came back in memory.
   */
  async getResponse(app: AppLike): Promise<Response> {
    const environ = this.environ;
    const owner = claimCleanup(environ);
    let res: Response;
    try {
      res = await callApplication(environ, toApp(app));
    } catch (error) {
      if (owner) await finishRequest(environ);
      throw error;
    }
    if (!owner) return res;
    if (!res.isStreamed) await finishRequest(environ);
    else if (!hasForm(environ)) releaseCleanup(environ);
    else {
      const length = res.headers.get('content-length');
      res.body = afterBody(res.body as Body, () => finishRequest(environ));
      if (length !== null) res.headers.set('Content-Length', length);
    }
    return res;
  }

  /**
   * Builds a request with a complete environ, for tests and for calling apps in-process
   * (WebOb `Request.blank`).
   *
   * @param pathOrUrl - a path with an optional query (`/a?b=1`, percent-encoded as in a
   *   request line), or an absolute URL whose scheme, host and port fill the environ (a
   *   default port is left out of `Host`). A `#fragment` is dropped, as clients never send it.
   * @param options - method, headers, and a body: `body` (raw), `json`, `form` (urlencoded),
   *   or `files` with `form` (multipart); see {@link BlankOptions}.
   *
   * @example
   * ```ts
   * const req = Request.blank('/upload', {
   *   method: 'POST',
   *   form: { title: 'Report' },
   *   files: { doc: { filename: 'r.txt', content: 'hello', contentType: 'text/plain' } },
   * });
   * (await req.files()).get('doc')?.size; // 5
   * ```
   * @throws URIError for a path with a malformed percent-escape; TypeError for an invalid
   *   URL, header name or header value (CR/LF).
   */
  static blank(pathOrUrl: string, options: BlankOptions = {}): Request {
    return new Request(blankEnviron(pathOrUrl, options));
  }

  /**
   * Turns `fn(req, app, options)` into a middleware `(app, options?) => App` (WebOb's
   * `wsgify.middleware`). The handler calls `req.getResponse(app)` to go down the chain and
   * returns a Response (or an HTTPException, a string, an app), as with
   * {@link Request.application}. Same as `defineMiddleware`.
   *
   * @example
   * ```ts
   * const poweredBy = Request.middleware<{ name: string }>(async (req, app, { name }) => {
   *   const res = await req.getResponse(app);
   *   res.headers.set('X-Powered-By', name);
   *   return res;
   * });
   * const wrapped = poweredBy(site, { name: 'tsgi' });
   * ```
   */
  static middleware<Options extends object = {}>(fn: MiddlewareHandler<Options>): DefinedMiddleware<Options> {
    return defineMiddleware(fn);
  }

  /**
   * Turns a handler `(req) => Response` into a gateway app (WebOb's `wsgify`, Werkzeug's
   * `Request.application`). The handler may return a `Response`, an `HTTPException`, a string
   * (sent as `text/plain`), another app, or a promise (or thenable) of one; a thrown or
   * rejected `HTTPException` becomes its response (negotiated by the request's `Accept`), any
   * other error propagates to the server or the error middleware. A HEAD request gets the
   * headers without the body. Errors thrown by a returned app propagate, as in WebOb's `wsgify`.
   *
   * The outermost `Request.application` on an environ also ends the request: when the
   * handler parsed a form, the temporary files of its uploads are removed before a body held
   * in memory is returned, after a streamed body has been sent, has failed or was closed, and
   * before an error propagates.
   *
   * @example
   * ```ts
   * export const app = Request.application(async (req) => {
   *   if (req.method !== 'GET') throw new HTTPMethodNotAllowed(['GET']);
   *   return new Response(`Hello ${req.query.get('name') ?? 'world'}`);
   * });
   * ```
   */
  static application(handler: Handler): App {
    return (environ, startResponse) => {
      const req = new Request(environ);
      const owner = claimCleanup(environ);
      const fail = (error: unknown): Promise<never> => {
        if (owner && hasForm(environ)) return finishRequest(environ).then(() => Promise.reject(error));
        if (owner) releaseCleanup(environ);
        throw error;
      };
      const end = (body: Body | Promise<Body>): Body | Promise<Body> => {
        if (!owner) return body;
        if (isPromiseLike(body)) return Promise.resolve(body).then((value) => endWithBody(value, environ), fail);
        return endWithBody(body, environ);
      };
      const serve = (result: HandlerResult): Body | Promise<Body> => {
        try {
          return end(respondWith(result, req, startResponse));
        } catch (error) {
          return fail(error);
        }
      };
      const serveError = (error: unknown): Body | Promise<Body> => (error instanceof HTTPException ? serve(error) : fail(error));
      let result: HandlerResult | PromiseLike<HandlerResult>;
      try {
        result = handler(req);
      } catch (error) {
        return serveError(error);
      }
      if (isPromiseLike(result)) return Promise.resolve(result).then(serve, serveError);
      return serve(result);
    };
  }
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}

function respondWith(result: HandlerResult, req: Request, startResponse: StartResponse): Body | Promise<Body> {
  if (result instanceof Response) return result.respond(req.environ, startResponse);
  if (typeof result === 'string') return new Response(result).respond(req.environ, startResponse);
  if (result instanceof HTTPException) return result.getResponse(req).respond(req.environ, startResponse);
  if (typeof result === 'function') return result(req.environ, startResponse);
  if (result && typeof result === 'object' && typeof result.respond === 'function') {
    return result.respond(req.environ, startResponse);
  }
  throw new TypeError(
    `Request.application handler returned ${result === null ? 'null' : typeof result}: expected a Response, HTTPException, string or app`,
  );
}

/**
 * Splits `host[:port]` into the name and the port number (`null` when absent or not a valid
 * port). IPv6 literals keep their brackets.
 */
export function splitHost(host: string): [string, number | null] {
  let name = host;
  let portText = '';
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close !== -1) {
      name = host.slice(0, close + 1);
      if (host.charCodeAt(close + 1) === 58) portText = host.slice(close + 2);
    }
  } else {
    const colon = host.lastIndexOf(':');
    if (colon !== -1) {
      name = host.slice(0, colon);
      portText = host.slice(colon + 1);
    }
  }
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : null;
  return [name, port !== null && port <= 65535 ? port : null];
}
