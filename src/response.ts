/**
 * The `Response` wrapper: status, headers and body, usable as a gateway app.
 *
 * @module
 */
import statuses from 'statuses';
import { type Body, type Environ, type StartResponse, isAsyncIterable, isIterable, readBody } from './gateway.ts';
import { Headers, type HeadersInit } from './datastructures/headers.ts';
import { formatMediaType, isTextType, parseMediaType } from './http/media-type.ts';
import { decodeText, encodeText } from './http/charset.ts';
import { type CookieOptions, serializeSetCookie } from './http/cookies.ts';

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
}

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
   * @param init - status, headers, content type and charset.
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
    this.body = body;
  }

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
   * gets the headers and an empty body (a streamed body is closed unread).
   */
  respond(environ: Environ, startResponse: StartResponse): Body {
    startResponse(this.status, this.headers.list);
    if (environ.REQUEST_METHOD === 'HEAD') {
      const stream = this.#stream as { return?: () => unknown } | null;
      if (stream && typeof stream.return === 'function') void stream.return();
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
