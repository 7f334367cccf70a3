/**
 * The `Response` wrapper: status, headers and body, usable as a gateway app.
 *
 * The class holds the state (status, headers, body); its other attributes are declared by
 * concern in `response/*.ts` as part classes installed on its prototype (see
 * `http/descriptors.ts`).
 *
 * @module
 */
import type { Body } from '../gateway/types.ts';
import { describe, isAsyncIterable, isIterable, isThenable } from '../gateway/body.ts';
import { forbidsContentLength, hasNoContent, isBodilessStatus } from '../gateway/status.ts';
import { HeaderList, adoptList, type HeaderListInit, replaceField } from '../http/header-list.ts';
import { encodeText } from '../http/charset.ts';
import { PARSED, type ParseCache, type ParsedValues, installParts } from '../http/descriptors.ts';
import { toStatus } from './status.ts';
import { type ContentTypeInit, DEFAULT_CONTENT_TYPE, ResponseContentType, initContentType } from './content-type.ts';
import { READ_BACK, ResponseBodyReaders, type ResponseBody, TAKE_STREAM, isOneShot, streamTakenError } from './body.ts';
import { bytesOnly, encodeTextChunks } from './text-chunks.ts';

export type { ResponseBody } from './body.ts';
import { ResponseValidators } from './validators.ts';
import { ResponseCaching } from './caching.ts';
import { ResponseRepresentation } from './representation.ts';
import { ResponseCookies } from './cookies.ts';
import { CLOSE_CALLS, ResponseServing } from './serve.ts';
import { ResponseFetch, fromFetchResponse } from './fetch.ts';
import { type EventStreamOptions, type ServerSentEvent, eventStreamBody, eventStreamHeartbeat } from './event-stream.ts';
import { truthyOption } from '../gateway/option-names.ts';

/** Options of `new Response(body, init)`. */
export interface ResponseInit extends ContentTypeInit {
  /** A status code (`404`) or line (`'404 Not Found'`); default `200`. */
  status?: number | string | undefined;
  /** Initial header fields. */
  headers?: HeaderListInit | undefined;
  /** Sets {@link Response.conditionalResponse}; default `false`. */
  conditionalResponse?: boolean | undefined;
}

const EMPTY = new Uint8Array(0);

/**
 * The streamed body each `Response` last handed out (see {@link Response}`[TAKE_STREAM]`): a
 * map, not a field, so a response in memory never pays for it.
 */
const handedOut = new WeakMap<Response, Body>();

/**
 * @internal The key of `Response`'s copy method (see {@link Response}`[COPY]`): used by
 * `req.getResponse()` to hand a response up from a nested `Request.application` without
 * serialising it. Not exported from the package.
 */
export const COPY: unique symbol = Symbol('tsgi.response_copy');

/**
 * @internal The key of `Response`'s method that answers the stream nobody took (see
 * {@link Response}`[UNSENT_STREAM]`): used at the end of a request to close the streamed
 * answers `req.getResponse()` handed to handlers that nobody sent. Not exported from the
 * package.
 */
export const UNSENT_STREAM: unique symbol = Symbol('tsgi.response_unsent_stream');

/**
 * @internal The key of `Response`'s method that answers the streams a new body replaced before
 * they were handed out (see {@link Response}`[DROPPED_STREAMS]`): used at the end of a request
 * to close them, as the stream nobody took. Not exported from the package.
 */
export const DROPPED_STREAMS: unique symbol = Symbol('tsgi.response_dropped_streams');

/**
 * The one-shot streams each `Response` held, never handed out, that setting `body` replaced
 * (`res.body = 'redacted'` on an answer `getResponse` gave): a map, not a field, so a response
 * whose body is never replaced pays nothing.
 */
const dropped = new WeakMap<Response, Body[]>();

/**
 * @internal The key of `Response`'s method that marks it an answer to HEAD whose bytes are
 * not the GET body (the server's or the app's own dropping left none, or a stream not read
 * yet): `req.getResponse()` marks what it builds for a HEAD request. A body set on it then
 * gets no `Content-Length` (its length is not the GET body's: a layer that rewrote `''`),
 * and reading its stream (`bytes()`) keeps the declared one when it finds nothing (RFC 9110
 * §8.6: a HEAD answer's `Content-Length` is the GET body's, or none). Not exported from the
 * package.
 */
export const HEAD_ANSWER: unique symbol = Symbol('tsgi.response_head_answer');

/**
 * The responses marked with {@link HEAD_ANSWER}: a set, not a field, so a response that never
 * answers HEAD carries nothing; each body set (the constructor's too) pays one lookup, a miss.
 */
const headAnswers = new WeakSet<Response>();

/**
 * The body `[COPY]()` builds its copy with: the constructor then does no work of its own and
 * takes its second argument as the copy's `HeaderList`.
 */
const UNINITIALISED: object = Object.freeze({});

/** The fields a layer may add to the header list `[COPY]()` hands it without the list growing. */
const COPY_ROOM = 4;

// The attributes declared in response/*.ts, merged into the class (installed below).
export interface Response
  extends ResponseContentType,
    ResponseBodyReaders,
    ResponseValidators,
    ResponseCaching,
    ResponseRepresentation,
    ResponseCookies,
    ResponseServing,
    ResponseFetch {}

/** The `Content-Type` of `Response.json`, without a charset (RFC 8259 §11 defines none). */
const JSON_TYPE = 'application/json';

/**
 * `Response.json(value)`'s init: the type alone, one object for every call. The constructor
 * knows it by identity and sets its two fields at once.
 */
const JSON_INIT: ResponseInit = Object.freeze({ contentType: JSON_TYPE });

/**
 * An HTTP response: a status, ordered multi-valued headers, and a body held in memory or
 * streamed. Modelled on WebOb's `Response`; a response is itself a gateway app through
 * {@link Response.respond}. Its body reads like a fetch `Response`'s and a `Request`'s:
 * `await res.text()`, `await res.json()`, `await res.bytes()`.
 *
 * A response whose status carries no content (1xx, 204 No Content, 304 Not Modified, RFC
 * 9110 §6.4.1) is built and sent without `Content-Type` and without a computed
 * `Content-Length` (a 304 keeps a length it was given, as §8.6 allows), as `lint` and the
 * server expect: a body given to it stays readable (`res.text()`) but is neither counted nor
 * sent. Setting such a status later removes `Content-Type` and the computed `Content-Length`
 * (and a given one on 1xx and 204); setting a status with content back computes the length
 * again but does not restore the type (WebOb's status setter leaves `content_type` alone, so
 * set `res.contentType` again). A 205 Reset Content has no content either (§15.3.6): it is
 * built and sent without `Content-Type` and with `Content-Length: 0`, whatever its body.
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
   * @param body - see {@link ResponseBody}; strings are encoded with `init.charset`, else the
   *   charset of the `Content-Type` (UTF-8 when none).
   * @param init - status, headers, content type and charset. A streamed body keeps a
   *   `Content-Length` given in `headers` (what lets a conditional response serve ranges of
   *   it), except under 1xx and 204, which never carry one; a body in memory gets its own
   *   length, except under a status that carries no content (a 304 keeps one given).
   * @throws TypeError for an `init` that is no object (`new Response(text, 404)`: write
   *   `{ status: 404 }`) or that names the status or type as other frameworks do (`statusCode`,
   *   `code`, `type`), an invalid status, header, content type, or a `Content-Length`
   *   kept for a stream that is not a decimal number, a `conditionalResponse` that is truthy but
   *   not `true` (`'false'`); RangeError for a string body in a
   *   charset it cannot be encoded in.
   */
  constructor(body?: ResponseBody, init?: ResponseInit) {
    if (body === UNINITIALISED) {
      this.headers = init as unknown as HeaderList;
      this.conditionalResponse = false;
      return;
    }
    if ((init === undefined || init === JSON_INIT) && typeof body === 'string' && new.target === Response) {
      // `new Response(text)` and `Response.json(value)`, the most common answers: the fields
      // `initContentType` and the body setter would set (the type, then the length), without
      // looking each one up first. Both types encode UTF-8 (`application/json` has no charset
      // parameter, RFC 8259 §11). Not for a subclass, whose `body` setter or `charset` getter
      // may be its own.
      const bytes = encodeText(body);
      this.headers = adoptList([
        ['Content-Type', init === undefined ? DEFAULT_CONTENT_TYPE : JSON_TYPE],
        ['Content-Length', String(bytes.byteLength)],
      ]);
      this.#bytes = bytes;
      this.conditionalResponse = false;
      return;
    }
    if (init !== undefined && typeof init !== 'object') throw initError(init, 'new Response(body, init)');
    // Three lookups on the init, no allocation: other frameworks' names would answer 200 OK, text/plain.
    // Own keys only: a fetch Response given as the init (`new Response(body, upstream)`) has a `type` getter.
    if (init != null && (Object.hasOwn(init, 'statusCode') || Object.hasOwn(init, 'code') || Object.hasOwn(init, 'type'))) refuseOtherNames(init);
    if (init?.status !== undefined) this.#setStatus(init.status);
    const headers = (this.headers = new HeaderList(init?.headers));
    initContentType(this, headers, init, hasNoContent(this.#code));
    const declared = init?.headers === undefined ? null : headers.get('content-length');
    // The init's charset encodes a string body also where the type takes no charset parameter
    // (`application/json`: `initContentType`), as WebOb's `Response(body, charset=…)` does.
    this.body = typeof body === 'string' && init?.charset ? encodeText(body, init.charset) : body;
    const code = this.#code;
    if (declared !== null && (this.#stream !== null ? !hasNoContent(code) || code === 304 : code === 304)) {
      // Kept as given: it must be one a server can send (RFC 9110 §8.6), checked now, not at serving.
      if (!/^\d+$/.test(declared.trim())) throw new TypeError(`invalid Content-Length: ${JSON.stringify(declared)}`);
      headers.set('Content-Length', declared.trim());
    }
    // `'false'` is truthy, and would turn it on when served: one comparison, on that branch.
    this.conditionalResponse = truthyOption('new Response', 'conditionalResponse', init?.conditionalResponse);
  }

  /**
   * When true, serving the response ({@link Response.respond}) to a GET or HEAD evaluates the
   * request's preconditions and `Range` against this response (WebOb's `conditional_response`;
   * another method's answer is made after its write, so a handler checks `req.ifMatch` before
   * writing, RFC 9110 §13.1.1): 304 Not
   * Modified, 412 Precondition Failed, 206 Partial Content (one range, or
   * `multipart/byteranges`), 416 Range Not Satisfiable, in RFC 9110 §13.2.2 order; a 200 of
   * known length announces `Accept-Ranges: bytes`. Set `ETag` (see {@link Response.addEtag})
   * and/or `Last-Modified` for preconditions to apply. See docs/conditional.md. Default false.
   */
  conditionalResponse: boolean;

  /**
   * A JSON response: `JSON.stringify(value)` as a UTF-8 body, with `application/json` (no
   * charset, RFC 8259 §11) unless `init.contentType` or a `Content-Type` in `init.headers`
   * says otherwise (`application/problem+json`), as fetch's `Response.json` does.
   *
   * @throws TypeError from `JSON.stringify` (a BigInt, a cycle), for a value with no JSON
   *   form (`undefined`, a function, a symbol), for a promise (a forgotten `await`, whose
   *   JSON would be `{}`), and for an `init` that is no object (`Response.json(data, 201)`,
   *   Hono's `c.json(data, 201)`: write `{ status: 201 }`), and for an `init.charset` other
   *   than UTF-8 (JSON exchanged between systems is UTF-8, RFC 8259 §8.1; `application/json`
   *   has no charset parameter to declare another).
   */
  static json<R extends Response>(this: new (body?: ResponseBody, init?: ResponseInit) => R, value: unknown, init?: ResponseInit): R {
    if (init !== undefined && typeof init !== 'object') throw initError(init, 'Response.json(value, init)');
    const text = jsonText(value);
    // `undefined`, a function or a symbol has no JSON form: an empty body would not be JSON (fetch's Response.json throws too).
    if (text === undefined) throw new TypeError(`Response.json: ${typeof value} has no JSON form`);
    // A forgotten `await` (`Response.json(db.find())`) would send `{}`: checked only for that text.
    if (text === '{}' && isThenable(value)) throw new TypeError(`Response.json got a ${describe(value)}, whose JSON is {}: await it first, Response.json(await value)`);
    if (init?.charset !== undefined && !/^utf-?8$/i.test(init.charset)) {
      throw new TypeError(`Response.json writes UTF-8 (RFC 8259 §8.1), not ${JSON.stringify(init.charset)}: leave charset out`);
    }
    if (init?.contentType === undefined && init?.headers !== undefined) {
      // A Content-Type among the headers is the type (the constructor keeps it); the list is built once.
      const headers = new HeaderList(init.headers);
      if (headers.has('content-type')) return new this(text, { ...init, headers });
      return new this(text, { ...init, headers, contentType: JSON_TYPE });
    }
    if (init === undefined) return new this(text, JSON_INIT);
    return new this(text, { ...init, contentType: init.contentType ?? JSON_TYPE });
  }

  /**
   * A stream of server-sent events (HTML Living Standard §9.2; Hono's `streamSSE`, Starlette's
   * `EventSourceResponse`): `200`, `text/event-stream`, `Cache-Control: no-cache` and
   * `X-Accel-Buffering: no` (so nginx passes each event on at once), and a body that sends each
   * event of `events` as it comes, framed as `data:`/`event:`/`id:`/`retry:` lines.
   *
   * A comment goes first, at once, so the head reaches the client before the first event; while
   * `events` is idle, a `: ping` comment is sent every `heartbeat` seconds. When the client goes
   * away (or the request ends otherwise), `events` is closed: its `return()` is called, so an
   * async generator's `finally` runs when it next resumes (stop its waits with `req.signal`).
   * The browser sends the last `id` it saw back as `Last-Event-ID` when it reconnects:
   * `req.headers.get('last-event-id')`.
   *
   * @param events - the events, as they happen: an async generator, most often, or any
   *   (async) iterable of {@link ServerSentEvent} objects or strings (a string is the data). A
   *   plain iterable may yield promises of them (`ids.map(async (id) => …)`): each is awaited
   *   in turn, as `for await` does; one that rejects fails the body.
   * @param options - `heartbeat`, seconds (default 15; 0 for none; at most 2147483.647).
   * @throws TypeError for `events` that is not iterable or is a string (one event per
   *   character), or a bad `heartbeat`; an event that cannot be framed (an `event` or `id`
   *   holding a line break, a bad `retry`, an object as `data`; an event that is no string or
   *   plain object, such as a number, an array or a `Uint8Array`; a key that is no field,
   *   `{ type }` for `{ event }`, named with the field it likely meant) makes the body fail
   *   when it comes, which cuts the stream and is logged.
   *
   * @example
   * ```ts
   * const clock = Request.application((req) =>
   *   Response.eventStream(
   *     (async function* () {
   *       while (!req.signal.aborted) {
   *         yield { event: 'tick', data: new Date().toISOString() };
   *         await new Promise((resolve) => setTimeout(resolve, 1000));
   *       }
   *     })(),
   *   ),
   * );
   * ```
   */
  static eventStream<R extends Response>(
    this: new (body?: ResponseBody, init?: ResponseInit) => R,
    events: AsyncIterable<ServerSentEvent | string> | Iterable<ServerSentEvent | string | PromiseLike<ServerSentEvent | string>>,
    options?: EventStreamOptions,
  ): R {
    const heartbeat = eventStreamHeartbeat(events, options);
    return new this(bytesOnly(eventStreamBody(events, heartbeat)), {
      contentType: 'text/event-stream',
      headers: [
        ['Cache-Control', 'no-cache'],
        ['X-Accel-Buffering', 'no'],
      ],
    });
  }

  /**
   * A response from a fetch `Response` (WHATWG Fetch, as `fetch()`, Hono or a worker answer):
   * its status and reason, every header field (several `Set-Cookie` lines stay several) but
   * those of the connection the server drops from any answer (`Connection`, `Keep-Alive`,
   * `Transfer-Encoding`…; a 407's `Proxy-Authenticate` and a 426's `Upgrade` stay), and
   * its body streamed, not buffered (its `Content-Length` kept). A fetch response without a
   * body (the answer to a HEAD) keeps its `Content-Length` too, the length of the body it does
   * not carry: serve it to a HEAD; without one it has none (not the empty body's `0`, RFC 9110
   * §8.6; the server sends `0` for a GET). A body already read (`bodyUsed`) throws. Note that `fetch()` decodes a compressed body while keeping the
   * `Content-Encoding` and `Content-Length` of the encoded one: delete those two fields from a
   * `fetch()` answer with `Content-Encoding` before sending it on. On workerd, whose `Headers`
   * hold field values as text decoded from UTF-8, each value is taken as its UTF-8 octets, one
   * character U+0000–U+00FF each (docs/spec.md §5), as the other runtimes give them.
   *
   * @throws TypeError when the fetch response's body was already used, or for a network-error
   *   response (`Response.error()`: type `"error"`, status 0: WHATWG Fetch's "network error"), which
   *   `fetch()` never resolves with but a service-worker-style handler may return to fail the
   *   request: there is no HTTP answer to convert (under `fromFetchHandler`, a logged 500).
   */
  static fromFetch<R extends Response>(this: new (body?: ResponseBody, init?: ResponseInit) => R, response: globalThis.Response): R {
    return fromFetchResponse(this, response);
  }

  /** The status code, e.g. `404`. Setting it also sets the standard reason phrase. */
  get statusCode(): number {
    return this.#code;
  }
  set statusCode(code: number) {
    this.#changeStatus(code);
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
    this.#changeStatus(value);
  }

  #setStatus(value: string | number): void {
    const { code, line } = toStatus(value);
    this.#code = code;
    this.#status = line;
  }

  /**
   * Sets the status of a built response, and its `Content-Type` and `Content-Length` to what
   * the new status sends: no type under 1xx, 204, 205 and 304 (not restored by a status with
   * content: the constructor would not have set one); no length under 1xx and 204 (RFC 9110
   * §8.6), `0` under 205 (§15.3.6); for a body in memory, none when it goes from carrying
   * content to a 304 (the length was the body's, which is not sent), and its length again when
   * it goes back to content. A stream's given length stays under 304, the representation's.
   */
  #changeStatus(value: string | number): void {
    const before = this.#code;
    this.#setStatus(value);
    const code = this.#code;
    if (!hasNoContent(code)) {
      if (this.#stream !== null) {
        if (before === 205) this.headers.delete('content-length');
      } else if (hasNoContent(before)) replaceField(this.headers.list, 'Content-Length', String(this.#bytes.byteLength));
      return;
    }
    this.headers.delete('content-type');
    if (code === 205) replaceField(this.headers.list, 'Content-Length', '0');
    else if (forbidsContentLength(code) || before === 205 || (this.#stream === null && !isBodilessStatus(before))) this.headers.delete('content-length');
  }

  /**
   * The body: a `Uint8Array` when held in memory, else the iterable being streamed (see
   * {@link Response.isStreamed}, which narrows it). Setting a string encodes it with the
   * charset; setting bytes sets Content-Length (none under 1xx, 204 and 304, whose body is not
   * sent: a 304 keeps a length it was given; `0` under 205; none on the answer to a HEAD
   * request `req.getResponse()` gave, whose empty body is not the GET body); setting an iterable removes
   * Content-Length (sets `0` under 205) and streams it, its string chunks as UTF-8 (see
   * {@link ResponseBody}: the getter then answers a wrapper that yields bytes, except for an
   * array of bytes and a Node stream in byte mode, answered as set). To read it whatever it is,
   * `await res.bytes()`, `text()` or `json()`. A stream that can be read once, replaced before
   * it was sent or read, is closed when the request ends if `req.getResponse()` gave this
   * response inside a `Request.application` (docs/request.md, "Running apps"); a no-op when
   * the new body read it to its end.
   *
   * @throws RangeError when set to a string the charset cannot encode (`€` in ISO-8859-1);
   *   TypeError for a value that is none of {@link ResponseBody}.
   */
  get body(): Uint8Array | Body {
    return this.#stream ?? this.#bytes;
  }
  set body(value: ResponseBody) {
    const old = this.#stream;
    if (old !== null && old !== value && handedOut.get(this) !== old && isOneShot(old)) {
      // Replaced unread (or wrapped in the new body): the end of the request closes it if it was
      // given by `getResponse` (see `DROPPED_STREAMS`); a no-op for one read to its end.
      const list = dropped.get(this);
      if (list === undefined) dropped.set(this, [old]);
      else list.push(old);
    }
    this.#stream = null;
    if (value === null || value === undefined) this.#setBytes(EMPTY);
    else if (typeof value === 'string') this.#setBytes(encodeText(value, this.charset));
    else if (value instanceof Uint8Array) this.#setBytes(value);
    else if (value instanceof ArrayBuffer) this.#setBytes(new Uint8Array(value));
    else if (ArrayBuffer.isView(value)) this.#setBytes(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    else if (isAsyncIterable(value) || isIterable(value)) {
      this.#bytes = EMPTY;
      this.#stream = encodeTextChunks(value);
      if (this.#code === 205) replaceField(this.headers.list, 'Content-Length', '0');
      else this.headers.delete('content-length');
    } else {
      throw notABody(value);
    }
    // Bytes made from a HEAD answer's nothing are not the GET body: their length is no
    // `Content-Length` (RFC 9110 §8.6); a 205's `0` and a 304's given length stay.
    if (headAnswers.has(this) && !isBodilessStatus(this.#code) && this.#code !== 205) this.headers.delete('content-length');
  }

  #setBytes(bytes: Uint8Array): void {
    this.#bytes = bytes;
    if (!isBodilessStatus(this.#code)) replaceField(this.headers.list, 'Content-Length', this.#code === 205 ? '0' : String(bytes.byteLength));
    // Not sent, so not counted (RFC 9110 §6.4.1); a 304's given length is the representation's (§8.6).
    else if (this.#code !== 304) this.headers.delete('content-length');
  }

  /**
   * @internal Marks this response an answer to HEAD whose bytes are not the GET body (see
   * {@link HEAD_ANSWER}).
   */
  [HEAD_ANSWER](): void {
    headAnswers.add(this);
  }

  /**
   * @internal Takes `bytes`, read whole from this response's stream by `bytes()`, as its body
   * (see `READ_BACK`). On a HEAD answer (see {@link HEAD_ANSWER}) a read that found nothing
   * keeps the declared `Content-Length`, and one that found bytes (an app that sent its GET
   * body to HEAD too) makes them the body, with their length, no longer marked.
   */
  [READ_BACK](bytes: Uint8Array): void {
    if (headAnswers.has(this)) {
      if (bytes.byteLength === 0 && this.#stream !== null) {
        this.#stream = null;
        this.#bytes = bytes;
        return;
      }
      headAnswers.delete(this);
    }
    this.body = bytes;
  }

  /**
   * True when the body is an iterable streamed as it is produced, not bytes in memory
   * (Werkzeug's `is_streamed`). Narrows {@link Response.body} to the stream.
   *
   * @example
   * ```ts
   * if (res.isStreamed()) res.body = gzip(res.body); // res.body: Body here
   * ```
   */
  isStreamed(): this is StreamedResponse {
    return this.#stream !== null;
  }

  /**
   * @internal Hands the streamed body out to be sent or read (see `TAKE_STREAM`): a stream
   * that can be iterated once (`isOneShot`) is handed out once.
   *
   * @throws TypeError when that stream was handed out before.
   */
  [TAKE_STREAM](): Body {
    const stream = this.#stream!;
    if (handedOut.get(this) === stream && isOneShot(stream)) throw streamTakenError();
    handedOut.set(this, stream);
    return stream;
  }

  /**
   * @internal A new `Response` with this one's status, header fields (the list copied: the
   * copy's changes never reach this one) and body (shared: bytes are not copied, a stream can
   * be read once either way: it counts as handed out of this one, see `TAKE_STREAM`), and
   * `conditionalResponse`. Nothing is re-validated: this one is valid already.
   *
   * @throws TypeError for a one-shot stream this one already handed out.
   */
  [COPY](): Response {
    // The pairs are shared (a HeaderList replaces a pair, never changes one). The list gets
    // room for `COPY_ROOM` more fields, so the layer above adds its own without growing it:
    // an array of that length, filled, then shortened by `pop()`, which keeps the slots
    // (setting `length` shortens it through a slow path). A slice has no room (the
    // layer's field grows it to half again and 16 more), and pushing into an empty array
    // reserves 17: about 70 bytes a copy more than this (bench/history.md, 2026-12-07,
    // twentieth stop).
    const src = this.headers.list;
    const list = new Array<[string, string]>(src.length + COPY_ROOM);
    for (let i = 0; i < src.length; i++) list[i] = src[i]!;
    for (let i = 0; i < COPY_ROOM; i++) list.pop();
    const headers = adoptList(list);
    const copy = new Response(UNINITIALISED as ResponseBody, headers as unknown as ResponseInit);
    copy.#code = this.#code;
    copy.#status = this.#status;
    copy.#bytes = this.#bytes;
    copy.#stream = this.#stream === null ? null : this[TAKE_STREAM]();
    copy.conditionalResponse = this.conditionalResponse;
    if (headAnswers.has(this)) headAnswers.add(copy);
    // The work to run once it is sent goes with the copy, which is what gets sent; this one
    // keeps its calls (a response a handler keeps runs them at each request, as when served
    // alone) but counts as served, so the end of the request does not run them again.
    const calls = this[CLOSE_CALLS];
    if (calls !== undefined) {
      copy[CLOSE_CALLS] = { fns: calls.fns.slice(), served: false };
      calls.served = true;
    }
    return copy;
  }

  /**
   * @internal The stream nobody took (see `TAKE_STREAM`: sent, read, copied or converted):
   * the body when it is a one-shot stream (`isOneShot`) never handed out; else null (bytes in
   * memory, a stream already taken, an iterable that holds nothing until it is iterated).
   * Changes nothing: take the stream to close it.
   */
  [UNSENT_STREAM](): Body | null {
    const stream = this.#stream;
    if (stream === null || handedOut.get(this) === stream || !isOneShot(stream)) return null;
    return stream;
  }

  /**
   * @internal The one-shot streams this response held and never handed out (not sent, read,
   * copied or converted) that a new `body` replaced, oldest first; with `take`, forgotten, for
   * the caller to close. Undefined when there are none.
   */
  [DROPPED_STREAMS](take: boolean): readonly Body[] | undefined {
    const list = dropped.get(this);
    if (take) dropped.delete(this);
    return list;
  }

  /** @internal The parsed headers (`cacheControl`) by raw value (see `liveField`). */
  [PARSED](): ParsedValues {
    return (this.#parsed ??= []);
  }
}

/** The mark of every `Response` on its prototype, shared by all copies of tsgi (see {@link isForeignResponse}). */
const RESPONSE_BRAND = Symbol.for('tsgi.Response');
Object.defineProperty(Response.prototype, RESPONSE_BRAND, { value: true });

/**
 * Whether `value` is a `Response` made by another copy of tsgi in the same process (npm link,
 * two versions in a monorepo): `instanceof Response` is false for it, and its private state
 * is out of reach, so it is served as an app (`respond`) and read back.
 */
export function isForeignResponse(value: unknown): boolean {
  return !(value instanceof Response) && (value as { [RESPONSE_BRAND]?: unknown } | null | undefined)?.[RESPONSE_BRAND] === true;
}

/**
 * @internal This copy's `Response` for `foreign`, a `Response` of another copy of tsgi
 * ({@link isForeignResponse}), read through its public members: its status, fields, body (a
 * stream is taken over: `foreign` must not be served after) and `conditionalResponse`. For a
 * place that must answer a `Response` of its own synchronously (`HTTPException.getResponse`
 * given another copy's error page).
 *
 * @throws TypeError when `foreign` holds what this copy refuses (as its constructor).
 */
export function adoptForeignResponse(foreign: unknown): Response {
  const other = foreign as Response;
  const adopted = new Response(other.body as ResponseBody, { status: other.status, headers: [...other.headers.list] });
  adopted.conditionalResponse = other.conditionalResponse === true;
  return adopted;
}

/** A {@link Response} whose body is a stream: what `res.isStreamed()` narrows to. */
export interface StreamedResponse extends Response {
  get body(): Body;
  set body(value: ResponseBody);
}

installParts(Response, [
  ResponseContentType,
  ResponseBodyReaders,
  ResponseValidators,
  ResponseCaching,
  ResponseRepresentation,
  ResponseCookies,
  ResponseServing,
  ResponseFetch,
]);

/**
 * The error for a `Response` body that is none of {@link ResponseBody}, naming what it got; data
 * (a plain object, a number, a boolean) is pointed at `Response.json`, not a `Blob` or a
 * BigInt. Built on that error path only.
 */
function notABody(value: unknown): TypeError {
  const kind = typeof value;
  const hint = isThenable(value)
    ? ': await it first'
    : kind === 'number' || kind === 'boolean' || isPlainObject(value)
      ? ': for JSON, use Response.json(value)'
      : '';
  return new TypeError(`response body must be a string, bytes or an iterable of Uint8Array (got ${describe(value)})${hint}`);
}

/**
 * True for data as JSON reads it: an object of `Object`'s prototype (a literal) or of none. A
 * `Blob`, a `Map` or a class's instance is not (its JSON is `{}` or its own `toJSON`).
 */
function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * The error for an `init` that is no object: `Response.json(data, 201)` (Hono's
 * `c.json(data, 201)` written as it was) or `new Response(text, 404)`, which would otherwise
 * answer `200 OK` without a word. `call` names the call in the message.
 */
function initError(init: unknown, call: string): TypeError {
  const statusLike = typeof init === 'number' || typeof init === 'string';
  const given = statusLike ? `the ${typeof init} ${JSON.stringify(init)}` : `a ${typeof init}`;
  return new TypeError(`${call}: init is ${given}, not an object${statusLike ? `: write { status: ${JSON.stringify(init)} }` : ''}`);
}

/**
 * Throws for an `init` holding the status or the content type under another framework's
 * name as a key of its own, given a value: `statusCode` (Fastify's `reply.statusCode`, Node's `res.statusCode`),
 * `code` (Fastify's `reply.code()`), `type` (`reply.type()`, Express's `res.type()`); an
 * inherited one is no init's key (a fetch `Response`'s `type` getter: `new Response(body,
 * upstream)` copies its status and headers, as fetch's does). The
 * response would otherwise be sent `200 OK`, `text/plain`, without a word; tsc refuses them
 * only in an object literal, not in an init built elsewhere that shares a key with
 * {@link ResponseInit}.
 *
 * @throws TypeError naming the key and what to write.
 */
function refuseOtherNames(init: object): void {
  for (const key of ['statusCode', 'code'] as const) {
    const value: unknown = Object.hasOwn(init, key) ? (init as Record<string, unknown>)[key] : undefined;
    if (value !== undefined) throw new TypeError(`Response init: unknown option "${key}": the status goes in status, { status: ${JSON.stringify(value)} }`);
  }
  const type: unknown = Object.hasOwn(init, 'type') ? (init as Record<string, unknown>).type : undefined;
  if (type !== undefined) throw new TypeError(`Response init: unknown option "type": the content type goes in contentType, { contentType: ${JSON.stringify(type)} }`);
}

/**
 * `JSON.stringify(value)`, its BigInt error told how to convert (the engine's message, `Do not
 * know how to serialize a BigInt`, says none).
 * @throws TypeError from `JSON.stringify` (a BigInt, a cycle), prefixed `Response.json: `.
 */
function jsonText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const hint = /BigInt/i.test(error.message) ? ' (JSON has no BigInt: convert it first, String(n), or Number(n) when it is safe)' : '';
    throw new TypeError(`Response.json: ${error.message}${hint}`, { cause: error });
  }
}
