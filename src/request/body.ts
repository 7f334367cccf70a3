/**
 * Reading the body of a `Request`: as a stream, bytes, text, JSON, or a parsed form. Reading
 * it whole leaves a replayable copy in the environ, so the next reader sees the same bytes.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { MultiDict } from '../datastructures/multidict.ts';
import { HTTPBadRequest, HTTPUnsupportedMediaType } from '../exceptions/client-errors.ts';
import { type HTTPContentTooLargeError, type InputOwner, isBodyReadable, readInput } from './input.ts';
import { bodyTooLarge } from '../forms/limits.ts';
import { environStream } from './stream-input.ts';
import { BufferedInput, EMPTY_INPUT, claimInput, releaseInput, spoilInput } from '../gateway/input.ts';
import { decodeBody, decodeText } from '../http/charset.ts';
import { type FileUpload } from '../forms/upload.ts';
import { type ParseFormOptions, type ParsedForm, formFromEnviron } from '../forms/parse.ts';
import { declaredLength } from '../http/declared-length.ts';
import { FORM_LIMIT_OPTIONS, limitExceeded, quoteName } from '../forms/limits.ts';
import { refuseContentCoding } from '../forms/content-coding.ts';
import { type FilePart, type FormPart, type PartsOptions, partsFromEnviron } from '../forms/parts.ts';
import { cleanupEnviron } from './cleanup.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';
import { jsonDeeperThan } from '../http/json-depth.ts';

/** Options of the body readers `stream()`, `bytes()`, `text()` and `json()`. */
export interface ReadOptions {
  /**
   * Maximum body size in **bytes**. A larger declared `Content-Length` is refused before
   * reading, a longer body as soon as it passes the limit: 413 Content Too Large. Default:
   * 1 MiB for `text()` and `json()` ({@link DEFAULT_TEXT_LIMITS}), unlimited (`Infinity`) for
   * `stream()` and `bytes()`, the raw reads. `Infinity` lifts it; `undefined` keeps the
   * default. The form readers take the same option, with a default of 100 MiB
   * (`DEFAULT_FORM_LIMITS.maxBodySize`).
   */
  maxBodySize?: number | undefined;
}

/** Every option of {@link ReadOptions}, checked per call (`checkOptions`); `tsc` fails when it and the type differ. */
const READ_OPTIONS = { maxBodySize: true } as const satisfies OptionNames<ReadOptions>;

/** Options of `req.json()`: those of every body reader ({@link ReadOptions}) and `maxDepth`. */
export interface JsonOptions extends ReadOptions {
  /**
   * Maximum nesting of the JSON value, in **levels**: each array or object is one (`[[1]]` is
   * 2, `{"a":[]}` 2, a scalar 0; brackets inside strings are not counted). Default 1000
   * (Python's recursion limit; serde_json stops at 128, Go's `encoding/json` at 10 000); a
   * positive integer, or `Infinity` for no limit; anything else (`0`, `NaN`, `'10'`) is a
   * `TypeError`. A deeper body is a 400 (`HTTPBadRequest`, naming `maxDepth`), decided by one
   * pass over the text before `JSON.parse` (none for a body under `2 × maxDepth` characters):
   * `JSON.parse` takes any depth, but `JSON.stringify` (so `Response.json()`) of the value
   * overflows the stack from about 5 000 levels, a 10 KB `[[[…]]]` body, so nothing the app
   * stores or echoes fails to be written back.
   */
  maxDepth?: number | undefined;
}

/** Every option of {@link JsonOptions}, checked per call (`checkOptions`); `tsc` fails when it and the type differ. */
const JSON_OPTIONS = { ...READ_OPTIONS, maxDepth: true } as const satisfies OptionNames<JsonOptions>;

/** The `maxDepth` of `req.json()` when none is given ({@link JsonOptions.maxDepth}). */
const DEFAULT_JSON_DEPTH = 1000;

/**
 * The default {@link ReadOptions} of `req.text()` and `req.json()`: `maxBodySize` 1 MiB
 * (1 048 576 bytes), Fastify's `bodyLimit` (Express's `json()` has 100 kB, Django's
 * `DATA_UPLOAD_MAX_MEMORY_SIZE` 2.5 MB; WebOb and Werkzeug have none), so a JSON endpoint
 * cannot be made to hold an unbounded body in memory. A call raises it
 * (`req.json({ maxBodySize: 10 * 1024 ** 2 })`) or lifts it (`{ maxBodySize: Infinity }`);
 * a server-wide `serve(app, { maxBodySize })` does not raise it, it only caps every read.
 * `stream()` and `bytes()` have no default limit. Frozen. The form readers' defaults are
 * `DEFAULT_FORM_LIMITS` (`tsgi/forms`).
 */
export const DEFAULT_TEXT_LIMITS: Readonly<{ maxBodySize: number }> = Object.freeze({ maxBodySize: 1024 * 1024 });

/**
 * Options of the form readers (`form()`, `files()`, `params()`, `parseForm()`): the limits of
 * `FormLimits` (bytes and counts, `maxBodySize` among them; see `DEFAULT_FORM_LIMITS`),
 * `spoolThreshold` and `tmpDir`. They apply to the first read of a request's form only: the
 * parse is done once and shared. A later read may repeat them or leave them out; one that
 * gives another value (`req.form()`, then `req.files({ maxFileSize })`) is refused with a
 * `TypeError` rather than run without its limit.
 */
export type FormOptions = Omit<ParseFormOptions, 'contentLength'>;

/** Every option of {@link FormOptions}, checked per call (`checkOptions`); `tsc` fails when it and the type differ. */
const FORM_OPTIONS = { ...FORM_LIMIT_OPTIONS, spoolThreshold: true, tmpDir: true } as const satisfies OptionNames<FormOptions>;

/** Every option of `PartsOptions` (the form limits), checked per call; `tsc` fails when it and the type differ. */
const PARTS_OPTIONS = FORM_LIMIT_OPTIONS satisfies OptionNames<PartsOptions>;

/**
 * The body readers of a `Request` (installed on it; see `descriptors.ts`). The model of body
 * reading in tsgi: asynchronous methods, `await req.text()`.
 */
export abstract class RequestBody {
  declare readonly environ: Environ;
  // from the other parts of Request
  declare readonly query: MultiDict<string>;
  declare method: string;
  declare charset: string;

  /**
   * The body as a stream of chunks (`tsgi.input`), not buffered. A live server input can be
   * read once; after `bytes()` (or `text()`, `json()`) it is replayable. An environ
   * without `tsgi.input` reads as an empty body (Werkzeug's rule). The input read is the
   * environ's at the iteration's first `next()`, not at the call: a stream made before
   * `await req.bytes()` and iterated after it replays the kept body (Werkzeug's
   * `request.stream` after `get_data()`), one made before `form()` throws its "read by the
   * form parse and not kept" error.
   *
   * With `options.maxBodySize` (bytes; Werkzeug's `request.stream` under
   * `max_content_length`) the body is counted as it streams: the read that would pass the
   * limit throws `HTTPContentTooLarge` (413) instead of handing the chunk over.
   *
   * A read that fails throws as `bytes()` does, and leaves a live input failed with that
   * error (a body kept by an earlier `bytes()` stays readable): the body breaking off (the
   * client hung up mid-upload; Werkzeug's `ClientDisconnected`) throws `HTTPBadRequest` (400)
   * whose `cause` is the stream's error (Node's `aborted`, `ECONNRESET`). So a sink that wraps
   * it (`fetch(url, { body: req.stream(), duplex: 'half' })`'s `TypeError: fetch failed`) is
   * answered as that 400 and not logged as an app failure (`bodyFailureBehind`).
   *
   * An iteration of a live body is its one reader from its first `next()` until it ends,
   * fails or is returned (a `break`): `bytes()`, `text()`, `json()`, a form read or `parts()`
   * started meanwhile throws `the request body is being read by req.stream(): …`, and an
   * iteration started while one of them (or another iteration) reads the body throws theirs
   * from its first `next()`, leaving the body to them. An iteration left part-way (a `break`)
   * leaves a live body consumed: a later `bytes()` or form read throws `the request body was
   * read by req.stream(), left part-way …` rather than answer the rest of it as the whole. One
   * read to its end leaves it consumed too (`the request body was read by req.stream() and not
   * kept: …`, another `stream()` included) rather than let a later read answer an empty body;
   * a body of no bytes still reads as empty.
   *
   * @throws HTTPContentTooLarge (413) at once for a declared `Content-Length` past
   *   `maxBodySize`, before a byte is read (so `Expect: 100-continue` gets the 413, not
   *   `100 Continue`); TypeError, thrown at the call (not while iterating), for options that
   *   are not a plain object or hold an unknown key (`req.stream: unknown option "maxsize"`),
   *   the former option name `limit`, or a `maxBodySize` that is no non-negative number
   *   (`'10mb'`, `NaN`). While iterating: the 413 past `maxBodySize`,
   *   the 400 of a body that broke off, the error of an input a reader left failed; from the
   *   first `next()`, the `Error` of a body another reader is reading now (`the request body is
   *   being read by …: await that read before reading the body again (…)`).
   */
  stream(options?: ReadOptions): AsyncIterable<Uint8Array> {
    checkReadOptions(options, 'stream');
    const maxBodySize = options?.maxBodySize ?? Infinity;
    // The declared length as digits, not `contentLength` (null past 15 digits, where Node's
    // parser takes up to 2^64 - 1): a length that large is refused before reading too.
    const declared = declaredLength(this.environ);
    if (declared !== null && declared > maxBodySize) throw bodyTooLarge(maxBodySize);
    return environStream(this.environ, maxBodySize);
  }

  /**
   * True when the request has a body to read (WebOb's `is_body_readable`, RFC 9112 §6.3): a
   * `Content-Length` other than 0, or none but a chunked body, an HTTP/2 stream or a fetch
   * body of unannounced length (`tsgi.input_terminated`). A proxy forwards a body when this is
   * true; reading one when it is false gives no bytes.
   */
  get isBodyReadable(): boolean {
    return isBodyReadable(this.environ);
  }

  /**
   * Reads the body whole and leaves a replayable copy in `tsgi.input`, so the next reader
   * sees the same bytes. A read that fails after it began leaves a `FailedInput` there
   * instead: every later read fails at once with the same error.
   *
   * @throws HTTPContentTooLarge (413) past `options.maxBodySize`, decided while streaming;
   *   HTTPBadRequest (400) when the body breaks off; TypeError, as the promise's rejection
   *   (every promise reader's option errors reject, none throws at the call), for options that
   *   are not a plain object or hold an unknown key (`req.bytes: unknown option "maxsize"`,
   *   naming the option meant when one is close), the former option name `limit`, or a
   *   `maxBodySize` that is no non-negative number (`'10mb'`, `NaN`). Such a `TypeError` is a
   *   programmer error: answered 500, as any other the app throws. An `Error` (rejects) when
   *   another reader is reading the live body now (`req.form()` or `req.parts()` not done yet,
   *   a `req.stream()` being iterated: `the request body is being read by …`), rather than a
   *   share of its chunks.
   */
  bytes(options?: ReadOptions): Promise<Uint8Array> {
    // Not an `async` function: a rejection, not a throw, for a refused option.
    try {
      checkReadOptions(options, 'bytes');
      return readWhole(this, options?.maxBodySize ?? Infinity, bodyTooLarge);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The body decoded with `charset` (the `Content-Type` parameter, default UTF-8); malformed
   * bytes become U+FFFD (Werkzeug). A byte order mark (UTF-8, UTF-16BE, UTF-16LE) decides the
   * encoding instead and is removed (the WHATWG Encoding Standard's "decode"), so a
   * `charset=utf-16` body in either byte order reads right.
   *
   * Reads at most `options.maxBodySize` bytes, default 1 MiB ({@link DEFAULT_TEXT_LIMITS}):
   * `req.text({ maxBodySize: 10 * 1024 ** 2 })` raises it, `Infinity` lifts it. A body already
   * in memory (kept by an earlier `bytes()`) is held to the same limit, by its length.
   *
   * @throws HTTPContentTooLarge (413) past `maxBodySize`: at once, before a byte is read, for a
   *   declared `Content-Length` past it (so `Expect: 100-continue` gets the 413, not
   *   `100 Continue`), else while streaming; past the default, the detail says how to raise it
   *   (`maxBodySize exceeded: the request body is larger than 1048576 bytes (the default of
   *   req.text()): pass req.text({ maxBodySize }) to raise it`).
   *   HTTPUnsupportedMediaType (415) for a charset no decoder knows (in a body without a
   *   BOM), or a body sent with a `Content-Encoding` (`gzip`…: not decoded; the answer carries
   *   `Accept-Encoding: identity`), decided before reading; and as `bytes()`.
   */
  async text(options?: ReadOptions): Promise<string> {
    refuseContentCoding(this.environ.HTTP_CONTENT_ENCODING);
    const bytes = await readText(this, options, 'text');
    try {
      return decodeBody(bytes, this.charset);
    } catch {
      throw new HTTPUnsupportedMediaType(`Unsupported charset: ${quoteName(this.charset)}`);
    }
  }

  /**
   * The body parsed as JSON (UTF-8 per RFC 8259), whatever its `Content-Type` (as WebOb's
   * `req.json`; Flask's `get_json()` answers 415 for another type). `T` is a cast, never
   * checked: the value is whatever the client sent (`null`, an array…), so validate it
   * before use rather than let a `TypeError` answer 500.
   *
   * Reads at most `options.maxBodySize` bytes, default 1 MiB ({@link DEFAULT_TEXT_LIMITS},
   * Fastify's `bodyLimit`): `req.json({ maxBodySize: 10 * 1024 ** 2 })` raises it, `Infinity`
   * lifts it. A body already in memory (kept by an earlier `bytes()`) is held to the same
   * limit, by its length, as Fastify applies its limit at the parse: a middleware that read
   * the body does not change what `json()` accepts.
   *
   * @throws HTTPContentTooLarge (413) past `maxBodySize`: at once, before a byte is read, for a
   *   declared `Content-Length` past it (so `Expect: 100-continue` gets the 413, not
   *   `100 Continue`), else while streaming; past the default, the detail says how to raise it
   *   (`maxBodySize exceeded: the request body is larger than 1048576 bytes (the default of
   *   req.json()): pass req.json({ maxBodySize }) to raise it`).
   *   HTTPBadRequest (400) for an empty body, invalid UTF-8 or invalid JSON (the detail says
   *   what the parser found and where, `The body is not valid JSON: Expected ',' or '}' after
   *   property value in JSON at position 12 (line 1 column 13)`, and never quotes the body:
   *   V8's and JavaScriptCore's messages do, a password or card number the answer would carry
   *   to every log and error tracker on its way; Werkzeug and Fastify quote none either);
   *   HTTPBadRequest (400) for a body nested deeper than `options.maxDepth` arrays and objects,
   *   default 1000, decided before the parse (`maxDepth exceeded: the JSON body is nested
   *   deeper than 1000 levels (the default of req.json()): pass req.json({ maxDepth }) to raise
   *   it`); HTTPUnsupportedMediaType (415) for a body sent with a `Content-Encoding`, as
   *   `text()`; TypeError (rejects) for a `maxDepth` that is no positive integer or `Infinity`
   *   (`0`, `NaN`, `'10'`); and as `bytes()`.
   */
  json<T = unknown>(options?: JsonOptions): Promise<T> {
    // Not an `async` function: the read's promise is handed on through one `.then`, without an
    // async frame and its await (every error still a rejection, none thrown at the call).
    try {
      refuseContentCoding(this.environ.HTTP_CONTENT_ENCODING);
      const read = readText(this, options, 'json');
      return (options?.maxDepth === undefined ? read.then(parseDefaultJson) : read.then((bytes) => parseJson(bytes, options.maxDepth!, false))) as Promise<T>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Parses the form body once, as it streams (see `formFromEnviron`): fields and uploaded
   * files of `application/x-www-form-urlencoded` or `multipart/form-data`; an empty form for
   * other content types, without reading the body (Werkzeug). Later calls, here or in an app
   * below sharing the environ, get the same form. The body is not kept (a urlencoded body's
   * pairs are split as it streams, a multipart body's files are spooled): reading it
   * afterwards (`bytes()`, `text()`, `json()`, `stream()`) throws an `Error` saying to call
   * `await req.bytes()` first, which keeps it (WebOb keeps the body; Werkzeug answers `b''`).
   * A body of no bytes (`Content-Length: 0`, an empty chunked body) stays readable and reads
   * as empty: nothing was taken from it (WebOb's body stays readable).
   *
   * Uploads larger than `spoolThreshold` live in temporary files, removed when the request
   * ends: when the response body of the outermost `Request.application` (or
   * `Request.getResponse`) has been sent or closed, or by {@link RequestBody.cleanup}. A parse
   * still reading the body when that response is answered is stopped (it fails, removing its
   * files) rather than waited for.
   *
   * @throws HTTPContentTooLarge (413) past a limit, the detail naming it (`"maxFileSize
   *   exceeded: …"`); HTTPBadRequest (400) for malformed multipart or a body that breaks off;
   *   HTTPUnsupportedMediaType (415) for a urlencoded body declared in a charset no decoder
   *   knows, or UTF-16 (another one, `shift_jis`, `iso-8859-1`…, is decoded in), a multipart text part in a
   *   charset other than UTF-8, US-ASCII, ISO-8859-1 or UTF-16LE, a `_charset_` field naming no
   *   charset it decodes (one it does decodes the text fields without a charset of their own,
   *   a urlencoded body's declaring none, as a browser sent them from a legacy page:
   *   docs/forms.md), or a form body sent with a
   *   `Content-Encoding` (`gzip`…, not decoded: `Accept-Encoding: identity`); TypeError for an invalid limit,
   *   the former option name `limit`, an unknown option (`req.form: unknown option
   *   "maxFieldsize": did you mean "maxFieldSize"?`; rejected, as `bytes()`), or an option that differs from the one the request's form
   *   was already read with (the parse is not run again, so the option could not apply).
   */
  async parseForm(options?: FormOptions): Promise<ParsedForm> {
    return checkedForm(this, options, 'parseForm');
  }

  /**
   * The text fields of the form body in a {@link MultiDict} (body order; `get` answers the
   * first value, as Werkzeug's `request.form` — WebOb's `POST` answers the last). Files are in
   * {@link RequestBody.files}. See {@link RequestBody.parseForm} for the rules, limits and errors.
   *
   * @example
   * ```ts
   * const form = await req.form({ maxFieldSize: 10_000 });
   * form.get('title');     // first value or undefined
   * form.getOne('title');  // exactly one, else 400
   * ```
   */
  async form(options?: FormOptions): Promise<MultiDict<string>> {
    return (await checkedForm(this, options, 'form')).fields;
  }

  /**
   * The uploaded files of a `multipart/form-data` body, by field name, as {@link FileUpload}s
   * (`filename`, `contentType`, `size`, `stream()`, `bytes()`, `text()`, `saveTo(path)`);
   * empty for other bodies. See {@link RequestBody.parseForm}.
   */
  async files(options?: FormOptions): Promise<MultiDict<FileUpload>> {
    return (await checkedForm(this, options, 'files')).files;
  }

  /**
   * The form body part by part, as it streams (busboy's `field` and `file` events, Werkzeug's
   * `stream_factory`): text fields whole, and files as {@link FilePart}s whose `body` (a web
   * `ReadableStream`) is read straight from the client, so an upload goes to its destination
   * (object storage, a socket, a hash) with nothing written to disk and nothing held in
   * memory past a chunk. Parts come in body order; a file's body must be read (or cancelled)
   * before the next part: asking for the next one discards the rest of it. Backpressure runs
   * end to end: nothing more is read from the client than the reader of the current body asks
   * for. A `break` (or a throw) out of the loop stops reading the body there; the server then
   * drains or closes the connection after the answer. `multipart/form-data` and
   * `application/x-www-form-urlencoded` bodies (fields only) are read; any other type gives no
   * parts, without reading the body, as `form()` gives an empty form.
   *
   * The body is claimed when the loop asks for its first part, not when `parts()` is called
   * (as Werkzeug's `request.stream` is taken only when read): a `parts()` never iterated leaves
   * the body to `await req.form()`, and the loop started after that throws the form parse's
   * `Error` (`the request body was read by the form parse (req.form(), files() or params())
   * and not kept: …`). Once the loop has started, the body is read once and not kept: `form()`,
   * `files()`, `bytes()`… afterwards throw an
   * `Error` (`the request body was read by req.parts() and not kept: …`), or, once a read of a
   * multipart body failed, its 413 or 400 (which also answers an app error wrapping it, such as
   * a sink's `TypeError: fetch failed`: see `bodyFailureBehind`), and `parts()` after them
   * throws theirs; after `await req.bytes()` both read the copy in memory.
   *
   * @example
   * ```ts
   * for await (const part of req.parts({ maxBodySize: 5 * 1024 ** 3, maxFileSize: 5 * 1024 ** 3 })) {
   *   if (part.kind === 'field') fields.add(part.fieldName, part.value);
   *   else if (part.filename) await bucket.put(`uploads/${crypto.randomUUID()}`, part.body); // '': a file input left empty
   * }
   * ```
   *
   * @param options - the limits of `form()` (`FormLimits`: `maxBodySize`, `maxFileSize`,
   *   `maxFieldSize`, `maxParts`, `maxFields`, `maxFiles`, `maxPartHeaderSize`), same names and
   *   defaults (`DEFAULT_FORM_LIMITS`), each checked while the body streams; `maxBodySize`
   *   (default 100 MiB) bounds every file too, so raise it with `maxFileSize`.
   * @throws (at once, before reading) HTTPContentTooLarge (413) for a declared `Content-Length`
   *   past `maxBodySize`; HTTPBadRequest (400) for a multipart type without a valid boundary;
   *   HTTPUnsupportedMediaType (415) for a form body with a `Content-Encoding` or a urlencoded
   *   one in a charset no decoder knows; TypeError for an invalid limit, an unknown option (`req.parts: unknown option
   *   "maxpart": did you mean "maxParts"?`) or the former option name `limit`. At the first
   *   step of the loop: the `Error` of an earlier reader that did not keep the body, or of one
   *   still reading it (`the request body is being read by …`). While iterating,
   *   from the loop or from a file body's read: HTTPContentTooLarge (413) naming the limit
   *   passed (`"maxFileSize exceeded: file 'a.iso' is larger than 1048576 bytes"`),
   *   HTTPBadRequest (400) for a malformed or truncated body or one the client broke off,
   *   HTTPUnsupportedMediaType (415) for a `_charset_` field naming no charset the server
   *   decodes (one it decodes decodes the text fields after it), or a text part in a charset other than UTF-8, US-ASCII,
   *   ISO-8859-1 or UTF-16LE.
   */
  parts(options?: PartsOptions): AsyncIterableIterator<FormPart> {
    refuseFormerLimit(options);
    checkOptions('req.parts', options, PARTS_OPTIONS, 'first');
    return partsFromEnviron(this.environ, options);
  }

  /**
   * The query and the form fields combined, in a new {@link MultiDict}: query values first,
   * then form values (WebOb's `params`, Werkzeug's `values`). A method so the body is read
   * only when asked: `await req.params()`. As in Werkzeug, GET and HEAD requests give the
   * query only, without reading a body. Files are not included.
   *
   * @throws as {@link RequestBody.parseForm}.
   */
  async params(options?: FormOptions): Promise<MultiDict<string>> {
    checkFormOptions(options, 'params');
    const params = new MultiDict<string>(this.query);
    const method = this.method;
    if (method !== 'GET' && method !== 'HEAD') {
      for (const [key, value] of (await formFromEnviron(this.environ, options)).fields) params.add(key, value);
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
}

/**
 * Reads `req`'s body whole (see `RequestBody.bytes`), keeping a replayable copy in its environ,
 * or leaving a failed input there when the read fails after it began. A live body is claimed
 * while it is read (`claimInput`, by its {@link EnvironInput}): a form parse, `req.parts()` or
 * a `req.stream()` iteration started meanwhile is refused.
 *
 * @param refuse - makes the 413 past `maxBodySize`.
 * @throws Error (synchronously) when another reader is reading the live body now (`claimInput`).
 */
export function readWhole(req: { readonly environ: Environ }, maxBodySize: number, refuse: (maxBodySize: number) => HTTPContentTooLargeError): Promise<Uint8Array> {
  const environ = req.environ;
  const input = environ['tsgi.input'] ?? EMPTY_INPUT;
  if (input instanceof BufferedInput) return readInput(input, maxBodySize, null, undefined, refuse);
  return readInput(input, maxBodySize, declaredLength(environ), new EnvironInput(environ, input), refuse);
}

/** What {@link readWhole} reads for, in the error of a reader started while it reads (`claimInput`). */
const WHOLE_READER = 'req.bytes(), text(), json() or copy()';

/**
 * {@link readWhole}'s owner of the input it reads: it claims the input while it is read
 * (`claimInput`), and the environ keeps the bytes, or the failure, for the next reader.
 * `readInput` tells it `keep()` or `spoil()` once after `begin()`, so the claim needs no
 * release of its own.
 */
class EnvironInput implements InputOwner {
  readonly #environ: Environ;
  readonly #input: AsyncIterable<Uint8Array>;

  constructor(environ: Environ, input: AsyncIterable<Uint8Array>) {
    this.#environ = environ;
    this.#input = input;
  }

  begin(): void {
    claimInput(this.#input, WHOLE_READER);
  }

  keep(bytes: Uint8Array): void {
    releaseInput(this.#input);
    this.#environ['tsgi.input'] = new BufferedInput(bytes);
  }

  spoil(error: unknown): void {
    releaseInput(this.#input);
    spoilInput(this.#environ, this.#input, error);
  }
}

/** The 413 of `req.text()` and `req.json()` past their default limit: it names the reader and how to raise it. */
const DEFAULT_LIMIT_EXCEEDED = {
  text: (maxBodySize: number) => defaultLimitExceeded(maxBodySize, 'text'),
  json: (maxBodySize: number) => defaultLimitExceeded(maxBodySize, 'json'),
};

function defaultLimitExceeded(maxBodySize: number, reader: 'text' | 'json'): HTTPContentTooLargeError {
  return limitExceeded(
    'maxBodySize',
    `the request body is larger than ${maxBodySize} bytes (the default of req.${reader}()): pass req.${reader}({ maxBodySize }) to raise it`,
  );
}

/**
 * The body bytes for `text()` or `json()`: within `options.maxBodySize`, or
 * {@link DEFAULT_TEXT_LIMITS} when none is given, whose 413 names the reader and how to raise it.
 */
function readText(req: RequestBody, options: JsonOptions | undefined, reader: 'text' | 'json'): Promise<Uint8Array> {
  checkReadOptions(options, reader);
  const given = options?.maxBodySize;
  if (given !== undefined) return readWhole(req, given, bodyTooLarge);
  return readWhole(req, DEFAULT_TEXT_LIMITS.maxBodySize, DEFAULT_LIMIT_EXCEEDED[reader]);
}

/**
 * Checks the {@link ReadOptions} of `stream()`, `bytes()`, `text()`, `json()` and `copy()` (and the
 * {@link JsonOptions} of `json()`): the former name `limit`, another unknown key (`maxsize`:
 * `checkOptions`, naming `req.${reader}`), a `maxBodySize` that is no size (`'10mb'`, `NaN`,
 * `null`, a negative number), which every comparison with a length would take for no limit at
 * all (or refuse every body) rather than fail, as the form limits are checked
 * (`resolveLimits`), and a `maxDepth` that is no positive integer or `Infinity` (`NaN` would
 * lift it, `0` refuse every array). Nothing but a comparison when no options are given.
 *
 * @throws TypeError naming what to write.
 */
export function checkReadOptions(options: JsonOptions | undefined, reader: 'stream' | 'bytes' | 'text' | 'json' | 'copy'): void {
  if (options === undefined) return;
  refuseFormerLimit(options);
  checkOptions(`req.${reader}`, options, reader === 'json' ? JSON_OPTIONS : READ_OPTIONS, 'first');
  const size = options?.maxBodySize;
  if (size !== undefined && (typeof size !== 'number' || Number.isNaN(size) || size < 0)) {
    throw new TypeError(`maxBodySize must be a non-negative number of bytes (Infinity for no limit), got ${String(size)}`);
  }
  const depth = options?.maxDepth;
  if (depth !== undefined && !(typeof depth === 'number' && depth >= 1 && (Number.isInteger(depth) || depth === Infinity))) {
    throw new TypeError(`maxDepth must be a positive integer (Infinity for no limit), got ${typeof depth === 'string' ? JSON.stringify(depth) : String(depth)}`);
  }
}

/** {@link parseJson} under the default `maxDepth`, one function for every call. */
function parseDefaultJson(bytes: Uint8Array): unknown {
  return parseJson(bytes, DEFAULT_JSON_DEPTH, true);
}

/**
 * The JSON value of a body `req.json()` read (UTF-8 per RFC 8259, a BOM dropped), nested at
 * most `maxDepth` levels.
 *
 * @param byDefault - whether `maxDepth` is the default, which the 400 then says how to raise.
 * @throws HTTPBadRequest (400) for an empty body, invalid UTF-8, a body nested deeper than
 *   `maxDepth`, or invalid JSON (the detail never quotes the body: {@link jsonFailure}).
 */
function parseJson(bytes: Uint8Array, maxDepth: number, byDefault: boolean): unknown {
  if (bytes.byteLength === 0) throw new HTTPBadRequest('The body is empty: a JSON value was expected.');
  let text: string;
  try {
    text = decodeText(bytes, 'utf-8', true);
  } catch {
    throw new HTTPBadRequest('The JSON body is not valid UTF-8.');
  }
  if (jsonDeeperThan(text, maxDepth)) throw tooDeep(maxDepth, byDefault);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HTTPBadRequest(jsonFailure(error));
  }
}

/**
 * The 400 of `req.json()` for a body nested deeper than `maxDepth`; past the default, the
 * detail says how to raise it, as the 413 past the default `maxBodySize` does.
 */
function tooDeep(maxDepth: number, byDefault: boolean): HTTPBadRequest {
  const raise = byDefault ? ' (the default of req.json()): pass req.json({ maxDepth }) to raise it' : '';
  return new HTTPBadRequest(`maxDepth exceeded: the JSON body is nested deeper than ${maxDepth} levels${raise}`);
}

/**
 * Checks the {@link FormOptions} of `form()`, `files()`, `params()` and `parseForm()`: the
 * former name `limit`, and another unknown key (`checkOptions`, naming `req.${reader}`). The
 * values are checked by the parse (`resolveLimits`).
 *
 * @throws TypeError naming what to write.
 */
function checkFormOptions(options: FormOptions | undefined, reader: 'form' | 'files' | 'params' | 'parseForm'): void {
  if (options === undefined) return;
  refuseFormerLimit(options);
  checkOptions(`req.${reader}`, options, FORM_OPTIONS, 'first');
}

/**
 * The form of `req`'s body (see `RequestBody.parseForm`), its options checked once, named
 * after the reader called (`req.form: unknown option …`).
 */
function checkedForm(req: RequestBody, options: FormOptions | undefined, reader: 'form' | 'files' | 'parseForm'): Promise<ParsedForm> {
  checkFormOptions(options, reader);
  return formFromEnviron(req.environ, options);
}

/**
 * Refuses the former name of `maxBodySize`, `limit`, with its own message rather than as an
 * unknown option: ignored, it would lift the limit in silence (a JavaScript caller gets no
 * type error).
 *
 * @throws TypeError when `options` has a `limit`.
 */
function refuseFormerLimit(options: ReadOptions | undefined): void {
  if (typeof options === 'object' && options !== null && 'limit' in options) {
    throw new TypeError('the body size option is `maxBodySize` (bytes); `limit` is no longer read');
  }
}

/**
 * The detail of the 400 for a body `JSON.parse` refused: its message up to the first `"`,
 * where V8 starts quoting the body (`Unexpected token 'p', "password=h"... is not valid JSON`,
 * `"hunter2" is not valid JSON`, or `..."1,1,x]"` for a failure further in) and JavaScriptCore
 * the token (`JSON Parse error: Unexpected identifier "hunter2"`), without the separator and
 * ellipsis left before it. What stays names the failure and, for most, its position; the
 * client's own text is never sent back.
 */
function jsonFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const reason = message.split('"', 1)[0]!.replace(/[\s,:.]+$/, '');
  return reason === '' ? 'The body is not valid JSON.' : `The body is not valid JSON: ${reason}`;
}
