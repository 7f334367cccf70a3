/**
 * The `Response` wrapper: status, headers and body, usable as a gateway app.
 *
 * @module
 */
import { create as createContentDisposition, parse as parseContentDisposition } from 'content-disposition';
import statuses from 'statuses';
import vary from 'vary';
import { type Body, type Environ, type StartResponse, isAsyncIterable, isIterable, readBody } from './gateway.ts';
import { Headers, type HeadersInit } from './datastructures/headers.ts';
import { formatMediaType, isTextType, parseMediaType } from './http/media-type.ts';
import { decodeText, encodeText } from './http/charset.ts';
import { type CookieOptions, serializeSetCookie } from './http/cookies.ts';
import { CacheControl } from './http/cache-control.ts';
import {
  type RetryAfter,
  formatDeltaSeconds,
  formatHttpDate,
  formatRetryAfter,
  parseDeltaSeconds,
  parseHttpDate,
  parseRetryAfter,
} from './http/dates.ts';
import { type EntityTag, formatETag, parseETag, strongEtag } from './http/etag.ts';
import { type ByteRange, type ContentRange, formatContentRange, parseContentRange } from './http/range.ts';
import { type Challenge, formatWwwAuthenticate, parseWwwAuthenticate } from './http/www-authenticate.ts';
import { discardBody, serveConditional } from './conditional-response.ts';

/**
 * What a response body can be set to: text (encoded with the response charset), bytes (a
 * `Uint8Array`, an `ArrayBuffer`, or any other typed array / `DataView`, taken as its bytes),
 * or a sync/async iterable of `Uint8Array` chunks that is streamed as it is produced. `null`
 * and `undefined` mean an empty body.
 */
export type ResponseBody =
  | string
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | Iterable<Uint8Array>
  | AsyncIterable<Uint8Array>
  | null
  | undefined;

/** Options of `new Response(body, init)`. */
export interface ResponseInit {
  /** A status code (`404`) or line (`'404 Not Found'`); default `200`. */
  status?: number | string;
  /** Initial header fields. */
  headers?: HeadersInit;
  /**
   * Media type; default `text/plain` unless `headers` has a Content-Type. Text types get
   * `charset` (default `utf-8`). `null` sends no Content-Type at all.
   */
  contentType?: string | null;
  /** Charset for text types; default `utf-8`. */
  charset?: string;
  /** Sets {@link Response.conditionalResponse}; default `false`. */
  conditionalResponse?: boolean;
}

/**
 * An instant for a date header: a `Date`, a number of **milliseconds** since the epoch (as
 * `Date.now()` or `stat.mtimeMs` give), or an HTTP-date string.
 */
export type HttpDateInit = Date | number | string;

/** The disposition type and parameters of `Content-Disposition` (RFC 6266), names lower-cased. */
export interface ContentDispositionValue {
  /** `attachment`, `inline`, …, lower-cased. */
  type: string;
  /** Parameters such as `filename`, names lower-cased; a `filename*` (RFC 8187) is decoded into `filename`. */
  parameters: Record<string, string>;
}

/** Lists a comma-separated header (every line of it): trimmed, empty elements dropped. */
function listHeader(headers: Headers, name: string): string[] {
  const out: string[] = [];
  for (const line of headers.getAll(name)) {
    for (const item of line.split(',')) {
      const value = item.trim();
      if (value !== '') out.push(value);
    }
  }
  return out;
}

function setListHeader(headers: Headers, name: string, value: string | Iterable<string> | null): void {
  if (value === null) headers.delete(name);
  else headers.set(name, typeof value === 'string' ? value : [...value].join(', '));
}

function toDate(value: HttpDateInit): Date {
  if (typeof value !== 'string') return new Date(value);
  const date = parseHttpDate(value);
  if (date === null) throw new TypeError(`not an HTTP-date: ${JSON.stringify(value)}`);
  return date;
}

function setDateHeader(headers: Headers, name: string, value: HttpDateInit | null): void {
  if (value === null) headers.delete(name);
  else headers.set(name, formatHttpDate(toDate(value)));
}

const EXPIRED = 'Thu, 01 Jan 1970 00:00:00 GMT';

/** Reason phrases for codes `statuses` does not know, by class (WebOb's generic reasons). */
const GENERIC_REASONS: Record<number, string> = {
  1: 'Continue',
  2: 'Success',
  3: 'Multiple Choices',
  4: 'Unknown Client Error',
  5: 'Unknown Server Error',
};

/** RFC 9110 §15 renamed these; `statuses` still has the RFC 7231 phrases. */
const RFC9110_REASONS: Record<number, string> = {
  413: 'Content Too Large',
  422: 'Unprocessable Content',
};

/**
 * The reason phrase of `code` (RFC 9110 §15: its own names for 413 and 422, else `statuses`),
 * or the generic phrase of its class for an unregistered code (WebOb's rule).
 */
export function reasonPhrase(code: number): string {
  return RFC9110_REASONS[code] ?? statuses.message[code] ?? GENERIC_REASONS[Math.floor(code / 100)] ?? 'Unknown';
}

/**
 * Parses a status given as a number or a status line.
 *
 * @throws TypeError unless it is an integer 100–599, or a line `"<code> <reason>"` with such
 *   a code and a reason free of control characters.
 */
function toStatus(status: number | string): { code: number; reason: string } {
  if (typeof status === 'number') {
    if (Number.isInteger(status) && status >= 100 && status <= 599) {
      return { code: status, reason: reasonPhrase(status) };
    }
  } else if (typeof status === 'string') {
    const match = /^([1-5]\d\d)(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?$/.exec(status.trim());
    if (match) {
      const code = Number(match[1]);
      return { code, reason: match[2] || reasonPhrase(code) };
    }
  }
  throw new TypeError(`invalid HTTP status: ${JSON.stringify(status)}`);
}

const EMPTY = new Uint8Array(0);

/**
 * An HTTP response: a status, ordered multi-valued headers, and a body held in memory or
 * streamed. Modelled on WebOb's `Response`; a response is itself a gateway app through
 * {@link Response.respond}.
 *
 * @example
 * ```ts
 * const res = new Response('<h1>Hi</h1>', { contentType: 'text/html' });
 * res.setCookie('seen', '1', { maxAge: 3600, httpOnly: true });
 * res.statusCode = 201;
 * return res; // from Request.application, or res.respond(environ, startResponse)
 * ```
 */
export class Response {
  /** Header fields, in order; `Set-Cookie` and other repeated fields stay separate. */
  readonly headers: Headers;
  #code: number;
  #reason: string;
  #bytes: Uint8Array;
  #stream: Body | null = null;

  /**
   * @param body - see {@link ResponseBody}; strings are encoded with the charset.
   * @param init - status, headers, content type and charset. A streamed body keeps a
   *   `Content-Length` given in `headers` (what lets a conditional response serve ranges of
   *   it); a body in memory always gets its own length.
   * @throws TypeError for an invalid status, header or content type; RangeError for a string
   *   body in a charset it cannot be encoded in.
   */
  constructor(body?: ResponseBody, init?: ResponseInit) {
    if (init?.status === undefined) {
      this.#code = 200;
      this.#reason = 'OK';
    } else {
      const { code, reason } = toStatus(init.status);
      this.#code = code;
      this.#reason = reason;
    }
    this.headers = new Headers(init?.headers);
    const type = init?.contentType;
    if (type !== null && (type !== undefined || !this.headers.has('content-type'))) {
      const media = parseMediaType(type ?? 'text/plain');
      const parameters = { ...media.parameters };
      const charset = init?.charset ?? parameters.charset ?? (isTextType(media.type) ? 'utf-8' : undefined);
      if (charset !== undefined) parameters.charset = charset;
      this.headers.set('Content-Type', formatMediaType(media.type, parameters));
    } else if (init?.charset) {
      this.charset = init.charset;
    }
    this.#bytes = EMPTY;
    const declared = this.headers.get('content-length');
    this.body = body;
    if (this.#stream !== null && declared !== null) this.headers.set('Content-Length', declared);
    this.conditionalResponse = init?.conditionalResponse ?? false;
  }

  /**
   * When true, serving the response ({@link Response.respond}) evaluates the request's
   * preconditions and `Range` against this response (WebOb's `conditional_response`): 304 Not
   * Modified, 412 Precondition Failed, 206 Partial Content (one range, or
   * `multipart/byteranges`), 416 Range Not Satisfiable, in RFC 9110 §13.2.2 order; a 200 of
   * known length announces `Accept-Ranges: bytes`. Set `ETag` (see {@link Response.addEtag})
   * and/or `Last-Modified` for preconditions to apply. See docs/conditional.md. Default false.
   */
  conditionalResponse: boolean;

  /**
   * A JSON response: `JSON.stringify(value)` as a UTF-8 body, with `application/json` (no
   * charset, RFC 8259 §11) unless `init.contentType` says otherwise.
   */
  static json(value: unknown, init?: ResponseInit): Response {
    return new Response(JSON.stringify(value), { ...init, contentType: init?.contentType ?? 'application/json' });
  }

  // ---- status ----

  /** The status code, e.g. `404`. Setting it also sets the standard reason phrase. */
  get statusCode(): number {
    return this.#code;
  }
  set statusCode(code: number) {
    const parsed = toStatus(code);
    this.#code = parsed.code;
    this.#reason = parsed.reason;
  }

  /**
   * The status line, e.g. `"404 Not Found"`. Accepts a line (a custom reason is kept) or a
   * code; an unregistered code gets the generic phrase of its class.
   *
   * @throws TypeError for anything else.
   */
  get status(): string {
    return `${this.#code} ${this.#reason}`;
  }
  set status(value: string | number) {
    const parsed = toStatus(value);
    this.#code = parsed.code;
    this.#reason = parsed.reason;
  }

  // ---- content type ----

  /**
   * The media type without parameters (`"text/html"`), or `null` when there is no
   * Content-Type. Setting a text type (see `isTextType`) without a charset keeps the current
   * charset, or adds `utf-8`; other types (JSON, images…) get no charset. Parameters given in
   * the new value are kept; `null` removes the header.
   *
   * @throws TypeError for a value that is not a media type (`content-type` rejects it).
   */
  get contentType(): string | null {
    const header = this.headers.get('content-type');
    return header === null ? null : parseMediaType(header).type;
  }
  set contentType(value: string | null) {
    if (value === null) {
      this.headers.delete('content-type');
      return;
    }
    const next = parseMediaType(value);
    const current = parseMediaType(this.headers.get('content-type'));
    const parameters = { ...next.parameters };
    if (isTextType(next.type) && parameters.charset === undefined) {
      parameters.charset = current.parameters.charset ?? 'utf-8';
    }
    this.headers.set('Content-Type', formatMediaType(next.type, parameters));
  }

  /**
   * The `charset` parameter of Content-Type (lower-cased), or `null` (also for a malformed
   * header). Setting rewrites the header, keeping the type (`text/plain` when there was none);
   * `null` removes the parameter. The body bytes are not re-encoded.
   */
  get charset(): string | null {
    const header = this.headers.get('content-type');
    return header === null ? null : (parseMediaType(header).parameters.charset?.toLowerCase() ?? null);
  }
  set charset(value: string | null) {
    const header = this.headers.get('content-type');
    if (value === null && header === null) return;
    const current = parseMediaType(header);
    const parameters = { ...current.parameters };
    if (value === null) delete parameters.charset;
    else parameters.charset = value;
    this.headers.set('Content-Type', formatMediaType(current.type || 'text/plain', parameters));
  }

  // ---- body ----

  /**
   * The body: a `Uint8Array` when held in memory, else the iterable being streamed. Setting a
   * string encodes it with the charset; setting bytes sets Content-Length; setting an iterable
   * removes Content-Length and streams it.
   *
   * @throws RangeError when set to a string the charset cannot encode (`€` in ISO-8859-1);
   *   TypeError for a value that is none of {@link ResponseBody}.
   */
  get body(): Uint8Array | Body {
    return this.#stream ?? this.#bytes;
  }
  set body(value: ResponseBody) {
    this.#stream = null;
    if (value === null || value === undefined) this.#setBytes(EMPTY);
    else if (typeof value === 'string') this.#setBytes(encodeText(value, this.charset));
    else if (value instanceof Uint8Array) this.#setBytes(value);
    else if (value instanceof ArrayBuffer) this.#setBytes(new Uint8Array(value));
    else if (ArrayBuffer.isView(value)) this.#setBytes(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    else if (isAsyncIterable(value) || isIterable(value)) {
      this.#bytes = EMPTY;
      this.#stream = value;
      this.headers.delete('content-length');
    } else {
      throw new TypeError('response body must be a string, bytes or an iterable of Uint8Array');
    }
  }

  #setBytes(bytes: Uint8Array): void {
    this.#bytes = bytes;
    this.headers.set('Content-Length', String(bytes.byteLength));
  }

  /** True when the body is an iterable streamed as it is produced, not bytes in memory. */
  get isStreamed(): boolean {
    return this.#stream !== null;
  }

  /**
   * The body bytes.
   *
   * @throws TypeError when the body is streamed: `await res.readBody()` first.
   */
  get bytes(): Uint8Array {
    if (this.#stream !== null) {
      throw new TypeError('the response body is a stream: await res.readBody() to buffer it');
    }
    return this.#bytes;
  }
  set bytes(value: Uint8Array) {
    this.body = value;
  }

  /**
   * The body decoded with the charset (`utf-8` when none); malformed bytes become U+FFFD.
   * Same stream rule as `bytes`.
   *
   * @throws RangeError for a charset no decoder knows.
   */
  get text(): string {
    return decodeText(this.bytes, this.charset);
  }
  set text(value: string) {
    this.body = value;
  }

  /**
   * The body parsed as JSON (throws `SyntaxError` when it is not). Setting serialises the
   * value and sets Content-Type to `application/json` unless it is already a JSON type.
   */
  get json(): unknown {
    return JSON.parse(this.text);
  }
  set json(value: unknown) {
    const type = this.contentType;
    if (type === null || !(type === 'application/json' || type.endsWith('+json'))) {
      this.headers.set('Content-Type', 'application/json');
    }
    this.body = JSON.stringify(value);
  }

  /**
   * Reads a streamed body into memory (the body becomes those bytes, with Content-Length) and
   * returns it; returns the bytes at once when the body is already in memory.
   */
  async readBody(): Promise<Uint8Array> {
    if (this.#stream === null) return this.#bytes;
    const bytes = await readBody(this.#stream);
    this.body = bytes;
    return bytes;
  }

  /** `Content-Length` in bytes, or `null` when absent or not a number. */
  get contentLength(): number | null {
    const value = this.headers.get('content-length');
    if (value === null || !/^\d+$/.test(value)) return null;
    return Number(value);
  }
  set contentLength(value: number | null) {
    if (value !== null && !(Number.isSafeInteger(value) && value >= 0)) {
      throw new TypeError(`invalid Content-Length: ${value}`);
    }
    this.headers.set('Content-Length', value);
  }

  // ---- validators and dates ----

  /**
   * The entity tag (`ETag`, RFC 9110 §8.8.3) as `{ tag, weak }`, the tag without its quotes,
   * or `null` when absent or malformed. Set it to an opaque tag (`'abc'`, quoted for you), a
   * quoted one (`'"abc"'`, `'W/"abc"'`), `{ tag, weak }` or `{ value, weak }`, or `null` to
   * remove it.
   *
   * @throws TypeError when the tag holds a character an entity tag cannot (`"`, a space, a
   *   control character, one above U+00FF).
   */
  get etag(): EntityTag | null {
    return parseETag(this.headers.get('etag'));
  }
  set etag(value: string | EntityTag | { value: string; weak?: boolean } | null) {
    if (value === null) this.headers.delete('etag');
    else if (typeof value === 'string') this.headers.set('ETag', formatETag(value));
    else if ('tag' in value) this.headers.set('ETag', formatETag(value));
    else this.headers.set('ETag', formatETag({ tag: value.value, weak: value.weak ?? false }));
  }

  /**
   * Sets a strong `ETag` from a hash of the body in memory (`strongEtag`: SHA-1, base64url),
   * as Werkzeug's `add_etag`. Keeps an existing `ETag` unless `overwrite`; `weak` marks it weak.
   *
   * @throws TypeError when the body is streamed: `await res.readBody()` first, or set `etag`
   *   from something cheaper (a version, `statEtag`).
   */
  addEtag(options: { overwrite?: boolean; weak?: boolean } = {}): this {
    if (this.#stream !== null) throw new TypeError('cannot hash a streamed body: await res.readBody() first, or set res.etag');
    if (!options.overwrite && this.headers.has('etag')) return this;
    const tag = strongEtag(this.#bytes);
    this.headers.set('ETag', options.weak ? `W/${tag}` : tag);
    return this;
  }

  /**
   * `Last-Modified` (RFC 9110 §8.8.2) as a `Date`, or `null` when absent or not an HTTP-date.
   * Set a `Date`, milliseconds since the epoch, or an HTTP-date string (sent to the second);
   * `null` removes it.
   *
   * @throws RangeError for an invalid date; TypeError for a string that is not an HTTP-date.
   */
  get lastModified(): Date | null {
    return parseHttpDate(this.headers.get('last-modified'));
  }
  set lastModified(value: HttpDateInit | null) {
    setDateHeader(this.headers, 'Last-Modified', value);
  }

  /** `Date` (RFC 9110 §6.6.1), as {@link Response.lastModified}. The server adds one when absent. */
  get date(): Date | null {
    return parseHttpDate(this.headers.get('date'));
  }
  set date(value: HttpDateInit | null) {
    setDateHeader(this.headers, 'Date', value);
  }

  /**
   * `Expires` (RFC 9111 §5.3), as {@link Response.lastModified}. An invalid value such as `0`
   * reads as `null` (caches take it as "already expired"). See also {@link Response.cacheExpires}.
   */
  get expires(): Date | null {
    return parseHttpDate(this.headers.get('expires'));
  }
  set expires(value: HttpDateInit | null) {
    setDateHeader(this.headers, 'Expires', value);
  }

  /**
   * `Age` (RFC 9111 §5.1) in whole **seconds**, or `null` when absent or invalid.
   *
   * @throws RangeError when set to a negative or fractional number.
   */
  get age(): number | null {
    return parseDeltaSeconds(this.headers.get('age'));
  }
  set age(value: number | null) {
    this.headers.set('Age', value === null ? null : formatDeltaSeconds(value));
  }

  /**
   * `Retry-After` (RFC 9110 §10.2.3): `{ seconds }` or `{ date }`, or `null`. Set a number of
   * **seconds** or a `Date`; `null` removes it.
   *
   * @throws RangeError for a negative or fractional number, or an invalid date.
   */
  get retryAfter(): RetryAfter | null {
    return parseRetryAfter(this.headers.get('retry-after'));
  }
  set retryAfter(value: number | Date | null) {
    this.headers.set('Retry-After', value === null ? null : formatRetryAfter(value));
  }

  // ---- caching ----

  #cacheControl: [string, CacheControl] | undefined;

  /**
   * `Cache-Control` (RFC 9111 §5.2) as a live {@link CacheControl}: setting a field rewrites
   * the header (`res.cacheControl.maxAge = 60`, `res.cacheControl.noStore = true`), and the
   * object is re-parsed when the header is changed by other means. Removing every directive
   * removes the header. Never throws on a malformed header (bad directives are dropped).
   */
  get cacheControl(): CacheControl {
    const raw = this.headers.getAll('cache-control').join(', ');
    if (this.#cacheControl?.[0] !== raw) {
      const control: CacheControl = new CacheControl(raw, (value) => {
        this.headers.set('Cache-Control', value === '' ? null : value);
        this.#cacheControl = [value, control];
      });
      this.#cacheControl = [raw, control];
    }
    return this.#cacheControl[1];
  }

  /**
   * Makes the response cacheable for `seconds` (WebOb's `cache_expires`): `max-age=seconds`
   * (dropping `no-cache` and `no-store`; other directives stay) and `Expires` that many seconds
   * from now. `0` means do not cache: `Cache-Control: no-cache, no-store, must-revalidate,
   * max-age=0` (other directives stay), `Expires` in the past (1970) and `Pragma: no-cache` for
   * HTTP/1.0 caches.
   *
   * @throws RangeError unless `seconds` is a non-negative integer.
   */
  cacheExpires(seconds: number): this {
    if (!Number.isSafeInteger(seconds) || seconds < 0) {
      throw new RangeError(`cacheExpires() takes whole seconds >= 0, got ${seconds}`);
    }
    const cc = this.cacheControl;
    if (seconds === 0) {
      cc.noCache = true;
      cc.noStore = true;
      cc.mustRevalidate = true;
      cc.maxAge = 0;
      this.headers.set('Expires', EXPIRED);
      this.headers.set('Pragma', 'no-cache');
    } else {
      cc.noCache = false;
      cc.noStore = false;
      cc.maxAge = seconds;
      this.headers.set('Expires', formatHttpDate(Date.now() + seconds * 1000));
      this.headers.delete('pragma');
    }
    return this;
  }

  /** `Vary` (RFC 9110 §12.5.5) as a list of field names (`*` included as is); set a list or `null`. */
  get vary(): string[] {
    return listHeader(this.headers, 'vary');
  }
  set vary(value: Iterable<string> | null) {
    setListHeader(this.headers, 'Vary', value);
  }

  /**
   * Adds field names to `Vary` with the `vary` package: once each, case-insensitively, and
   * not at all when `Vary: *` is already there.
   *
   * @throws TypeError for a field name that is not a token.
   */
  addVary(...fields: string[]): this {
    const next = vary.append(this.headers.getAll('vary').join(', '), fields);
    if (next !== '') this.headers.set('Vary', next);
    return this;
  }

  // ---- representation and routing headers ----

  /** `Allow` (RFC 9110 §10.2.1) as a list of methods; set a list or `null`. */
  get allow(): string[] {
    return listHeader(this.headers, 'allow');
  }
  set allow(value: Iterable<string> | null) {
    setListHeader(this.headers, 'Allow', value);
  }

  /** `Content-Language` (RFC 9110 §8.5) as a list of language tags; set a tag, a list or `null`. */
  get contentLanguage(): string[] {
    return listHeader(this.headers, 'content-language');
  }
  set contentLanguage(value: string | Iterable<string> | null) {
    setListHeader(this.headers, 'Content-Language', value);
  }

  /**
   * `Content-Range` (RFC 9110 §14.4) parsed, or `null` when absent or malformed. Set a header
   * value, `{ range, size }` (`range: null` for `bytes *\/size`; `size: null` for an unknown
   * length), or `null`. Conditional responses set it for you.
   *
   * @throws RangeError for an impossible range (see `formatContentRange`).
   */
  get contentRange(): ContentRange | null {
    return parseContentRange(this.headers.get('content-range'));
  }
  set contentRange(value: string | { range: ByteRange | null; size: number | null } | null) {
    if (value === null || typeof value === 'string') this.headers.set('Content-Range', value);
    else this.headers.set('Content-Range', formatContentRange(value.range, value.size));
  }

  /**
   * `Accept-Ranges` (RFC 9110 §14.3), e.g. `bytes` or `none`, or `null`. A conditional
   * response sends `bytes` by itself when it can serve ranges; `none` turns that off.
   */
  get acceptRanges(): string | null {
    return this.headers.get('accept-ranges');
  }
  set acceptRanges(value: string | null) {
    this.headers.set('Accept-Ranges', value);
  }

  /**
   * `Content-Disposition` (RFC 6266) parsed by `content-disposition`: `{ type, parameters }`,
   * or `null` when absent or without a type. An RFC 8187 `filename*` is decoded into `filename`
   * (and also kept as sent under `filename*`). Set a header value or `null`;
   * {@link Response.attachment} builds one.
   */
  get contentDisposition(): ContentDispositionValue | null {
    const value = this.headers.get('content-disposition');
    if (value === null) return null;
    try {
      const parsed = parseContentDisposition(value);
      return parsed.type === '' ? null : { type: parsed.type, parameters: { ...parsed.parameters } };
    } catch {
      return null;
    }
  }
  set contentDisposition(value: string | null) {
    this.headers.set('Content-Disposition', value);
  }

  /**
   * Sets `Content-Disposition: attachment` (Express's `res.attachment`), with the filename
   * when given, encoded by `content-disposition`: quoted, plus `filename*` (RFC 8187) with an
   * ASCII fallback when it is not plain ASCII. `options.type` gives another disposition type
   * (`inline` shows the file in the browser, still naming it for "save as").
   *
   * @example
   * ```ts
   * res.attachment('résumé.pdf');
   * // Content-Disposition: attachment; filename="r?sum?.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf
   * ```
   */
  attachment(filename?: string, options: { type?: string } = {}): this {
    this.headers.set('Content-Disposition', createContentDisposition(filename, { type: options.type ?? 'attachment' }));
    return this;
  }

  /**
   * `Location` (RFC 9110 §10.2.2), as set, or `null`. Relative values are sent as they are;
   * to redirect, prefer `redirect()`/`HTTPFound`, which make them absolute and safe.
   *
   * @throws TypeError when set to a value with CR, LF or NUL.
   */
  get location(): string | null {
    return this.headers.get('location');
  }
  set location(value: string | null) {
    this.headers.set('Location', value);
  }

  /**
   * `WWW-Authenticate` (RFC 9110 §11.6.1) parsed into challenges, or `null` when absent or
   * malformed. Set a challenge, a list of them (formatted with `formatWwwAuthenticate`), a
   * header value, or `null`.
   *
   * @example
   * ```ts
   * res.statusCode = 401;
   * res.wwwAuthenticate = { scheme: 'Basic', params: { realm: 'Staff', charset: 'UTF-8' } };
   * ```
   * @throws TypeError for a challenge that cannot be formatted.
   */
  get wwwAuthenticate(): Challenge[] | null {
    return parseWwwAuthenticate(this.headers.getAll('www-authenticate').join(', ') || null);
  }
  set wwwAuthenticate(value: Challenge | readonly Challenge[] | string | null) {
    if (value === null || typeof value === 'string') this.headers.set('WWW-Authenticate', value);
    else this.headers.set('WWW-Authenticate', formatWwwAuthenticate(value));
  }

  // ---- cookies ----

  /**
   * Adds a `Set-Cookie` line (several calls give several lines).
   *
   * @param name - cookie name (a token).
   * @param value - cookie value, encoded with `encodeURIComponent` unless `options.encode`.
   * @param options - attributes, see {@link CookieOptions}; `path` defaults to `'/'`, and
   *   `maxAge` (seconds) also sets `Expires`.
   * @throws TypeError for an invalid name or attribute (from `cookie`).
   */
  setCookie(name: string, value: string, options?: CookieOptions): this {
    this.headers.add('Set-Cookie', serializeSetCookie(name, value, options));
    return this;
  }

  /**
   * Tells the client to drop a cookie: an empty value with `Max-Age=0` and an `Expires` in
   * the past. Pass the same `path` and `domain` the cookie was set with.
   */
  deleteCookie(name: string, options: Omit<CookieOptions, 'maxAge' | 'expires'> = {}): this {
    return this.setCookie(name, '', { ...options, maxAge: 0, expires: new Date(0) });
  }

  // ---- as an app ----

  /**
   * Serves this response as a gateway app (WebOb's `response(environ, start_response)`):
   * starts the response with this status and headers, and returns the body. A HEAD request
   * gets the headers and an empty body (a streamed body is closed unread). With
   * {@link Response.conditionalResponse}, preconditions and ranges are evaluated first (see
   * `serveConditional`). The response itself is not changed.
   */
  respond(environ: Environ, startResponse: StartResponse): Body {
    if (this.conditionalResponse) return serveConditional(this, environ, startResponse);
    startResponse(this.status, this.headers.list);
    if (environ.REQUEST_METHOD === 'HEAD') {
      if (this.#stream !== null) discardBody(this.#stream);
      return [];
    }
    if (this.#stream !== null) return this.#stream;
    return this.#bytes.byteLength === 0 ? [] : [this.#bytes];
  }

  /** This response as an {@link App} function. */
  toApp(): (environ: Environ, startResponse: StartResponse) => Body {
    return (environ, startResponse) => this.respond(environ, startResponse);
  }

  /** A short description for logs: `<Response 200 OK text/plain 5 bytes>`. */
  toString(): string {
    const size = this.isStreamed ? 'streamed' : `${this.#bytes.byteLength} bytes`;
    return `<Response ${this.status} ${this.contentType ?? '-'} ${size}>`;
  }
}
