/**
 * The `Response` wrapper: status, headers and body, usable as a gateway app.
 *
 * The class holds the state (status, headers, body); its other attributes are declared by
 * concern in `response/*.ts` and installed on its prototype (see `descriptors.ts`).
 *
 * @module
 */
import { type Body } from '../gateway/types.ts';
import { isAsyncIterable, isIterable } from '../gateway/body.ts';
import { HeaderList, type HeaderListInit, replaceField } from '../http/header-list.ts';
import { encodeText } from '../http/charset.ts';
import { PARSED, type ParseCache, type ParsedValues, defineMembers, installParts } from '../http/descriptors.ts';
import { toStatus } from './status.ts';
import { type ResponseContentType, contentTypeMembers, initContentType } from './content-type.ts';
import { type ResponseBodyViews, bodyMembers } from './body.ts';
import { ResponseValidators } from './validators.ts';
import { type ResponseCaching, cachingMembers } from './caching.ts';
import { type ResponseRepresentation, representationMembers } from './representation.ts';
import { type ResponseCookies, cookieMembers } from './cookies.ts';
import { type ResponseServing, servingMembers } from './serve.ts';

export { reasonPhrase } from './status.ts';
export type { ContentDispositionValue, HttpDateInit } from '../http/converters.ts';

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
  headers?: HeaderListInit;
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

const EMPTY = new Uint8Array(0);

// The attributes declared in response/*.ts, merged into the class (installed below).
export interface Response
  extends ResponseContentType, ResponseBodyViews, ResponseValidators, ResponseCaching, ResponseRepresentation, ResponseCookies, ResponseServing {}

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
export class Response implements ParseCache {
  /** Header fields, in order; `Set-Cookie` and other repeated fields stay separate. */
  readonly headers: HeaderList;
  #code = 200;
  /** The status line, built when the status is set (it is read on every serve). */
  #status = '200 OK';
  #bytes: Uint8Array = EMPTY;
  #stream: Body | null = null;
  #parsed: ParsedValues | undefined;

  /**
   * @param body - see {@link ResponseBody}; strings are encoded with the charset.
   * @param init - status, headers, content type and charset. A streamed body keeps a
   *   `Content-Length` given in `headers` (what lets a conditional response serve ranges of
   *   it); a body in memory always gets its own length.
   * @throws TypeError for an invalid status, header or content type; RangeError for a string
   *   body in a charset it cannot be encoded in.
   */
  constructor(body?: ResponseBody, init?: ResponseInit) {
    if (init?.status !== undefined) this.#setStatus(init.status);
    const headers = (this.headers = new HeaderList(init?.headers));
    initContentType(this, headers, init);
    const declared = init?.headers === undefined ? null : headers.get('content-length');
    this.body = body;
    if (this.#stream !== null && declared !== null) headers.set('Content-Length', declared);
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

  /** The status code, e.g. `404`. Setting it also sets the standard reason phrase. */
  get statusCode(): number {
    return this.#code;
  }
  set statusCode(code: number) {
    this.#setStatus(code);
  }

  /**
   * The status line, e.g. `"404 Not Found"`. Accepts a line (a custom reason is kept) or a
   * code; an unregistered code gets the generic phrase of its class.
   *
   * @throws TypeError for anything else.
   */
  get status(): string {
    return this.#status;
  }
  set status(value: string | number) {
    this.#setStatus(value);
  }

  #setStatus(value: string | number): void {
    const { code, line } = toStatus(value);
    this.#code = code;
    this.#status = line;
  }

  /**
   * The body: a `Uint8Array` when held in memory, else the iterable being streamed. Setting a
   * string encodes it with the charset; setting bytes sets Content-Length; setting an iterable
   * removes Content-Length and streams it. See also {@link Response.bytes},
   * {@link Response.text}, {@link Response.json}.
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
    replaceField(this.headers.list, 'Content-Length', String(bytes.byteLength));
  }

  /** True when the body is an iterable streamed as it is produced, not bytes in memory. */
  get isStreamed(): boolean {
    return this.#stream !== null;
  }

  /** @internal The parsed headers (`cacheControl`) by raw value (see `liveField`). */
  [PARSED](): ParsedValues {
    return (this.#parsed ??= []);
  }
}

for (const members of [
  contentTypeMembers,
  bodyMembers,
  cachingMembers,
  representationMembers,
  cookieMembers,
  servingMembers,
]) {
  defineMembers(Response.prototype, members);
}
installParts(Response, [ResponseValidators]);
