/**
 * The TSGI gateway interface: the calling convention between servers and applications.
 *
 * This module holds the types of docs/spec.md and the few helpers every server and middleware
 * needs (status lines, body iteration). It follows PEP 3333 (WSGI) with JavaScript's
 * iteration protocols in place of Python's.
 *
 * @module
 */

/**
 * The response body an app returns: any sync or async iterable of byte chunks.
 *
 * Arrays of `Uint8Array` (`[bytes]`) are the cheapest bodies; generators stream. The server
 * iterates to the end, or calls the iterator's `return()` when the client goes away, so a
 * generator's `finally` block always runs (PEP 3333's `close()`).
 */
export type Body = Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * Called by the app to begin the response (PEP 3333 `start_response`).
 *
 * @param status - `"<3 digits> <reason phrase>"`, e.g. `"404 Not Found"`.
 * @param headers - response header fields as `[name, value]` pairs, in order; names are
 *   tokens, values contain no CR/LF; hop-by-hop fields are the server's business.
 * @param error - set only when calling again to replace the status after an error; if the
 *   headers have already been sent, the server re-throws `error` instead.
 */
export type StartResponse = (
  status: string,
  headers: Array<[string, string]>,
  error?: unknown,
) => void;

/** The error stream of `environ['tsgi.errors']` (PEP 3333 `wsgi.errors`). */
export interface ErrorStream {
  /** Writes text to the log; a message should end with a newline. */
  write(message: string): void;
}

/**
 * The per-request environment: a plain mutable object with the CGI/WSGI keys (see
 * docs/spec.md for each). Middleware and apps add keys under their own prefix.
 */
export interface Environ {
  /** `GET`, `POST`, … as sent (RFC 9110 §9). */
  REQUEST_METHOD: string;
  /** The URL path the request was routed by, percent-decoded; `''` or starts with `/`. */
  SCRIPT_NAME: string;
  /** The rest of the URL path, percent-decoded as UTF-8; `''` or starts with `/`. */
  PATH_INFO: string;
  /** The raw query string, without `?`; `''` when absent. */
  QUERY_STRING: string;
  /** The raw request-target as it appeared on the request line (path and query, encoded). */
  REQUEST_URI?: string;
  /** The `Content-Type` header, if any. */
  CONTENT_TYPE?: string;
  /** The `Content-Length` header (decimal bytes), if any. */
  CONTENT_LENGTH?: string;
  /** The server's host name or address. */
  SERVER_NAME: string;
  /** The server's port, as a decimal string. */
  SERVER_PORT: string;
  /** `HTTP/1.1`, `HTTP/1.0`, … */
  SERVER_PROTOCOL: string;
  /** The client's address (the TCP peer), if known. */
  REMOTE_ADDR?: string;
  /** The client's port, as a decimal string, if known. */
  REMOTE_PORT?: string;
  /** The authenticated user, set by auth middleware. */
  REMOTE_USER?: string;
  /** Interface version, `[1, 0]`. */
  'tsgi.version': readonly [number, number];
  /** `http` or `https`. */
  'tsgi.url_scheme': string;
  /** The request body as a stream of byte chunks; read it once (see `Request.bytes()`). */
  'tsgi.input': AsyncIterable<Uint8Array>;
  /** Where apps and middleware log errors. */
  'tsgi.errors': ErrorStream;
  /**
   * True when the same app may be invoked at the same time from several threads that share
   * memory (PEP 3333 `wsgi.multithread`). The Node adapter runs every request on one thread:
   * false. Requests still interleave at each `await`, so per-request state belongs in the
   * environ or local variables, never in module-level variables.
   */
  'tsgi.multithread': boolean;
  /** True when the app may run in several processes. */
  'tsgi.multiprocess': boolean;
  /** True when the app will be called once only in this process (CGI). */
  'tsgi.run_once': boolean;
  /** Aborted when the client goes away before the response is complete. */
  'tsgi.signal'?: AbortSignal;
  /** One `HTTP_*` key per request header, and any key added by middleware. */
  [key: string]: unknown;
}

/**
 * A gateway application: takes the environ and `startResponse`, returns the body.
 * May return a promise of the body; may call `startResponse` lazily, during iteration.
 */
export type App = (environ: Environ, startResponse: StartResponse) => Body | Promise<Body>;

/** A middleware: wraps an app and returns an app (`(app, options) => App`). */
export type Middleware<Options = void> = Options extends void
  ? (app: App) => App
  : (app: App, options: Options) => App;

/**
 * Anything that can serve as an app: an {@link App} function, or an object with a
 * `respond(environ, startResponse)` method such as a `Response` or an `HTTPException`
 * (WebOb's callable responses).
 */
export type AppLike = App | { respond: App };

/** Turns an {@link AppLike} into an {@link App} (binding `respond` when given an object). */
export function toApp(app: AppLike): App {
  if (typeof app === 'function') return app;
  if (app !== null && typeof app === 'object' && typeof app.respond === 'function') {
    return app.respond.bind(app);
  }
  throw new TypeError('expected a gateway app: a function or an object with respond()');
}

/** The `tsgi.version` this package implements. */
export const TSGI_VERSION: readonly [number, number] = Object.freeze([1, 0] as [number, number]);

/** A parsed status line. */
export interface ParsedStatus {
  /** The status code, 100–999. */
  code: number;
  /** The reason phrase (may be empty). */
  reason: string;
}

/**
 * Parses `"404 Not Found"` into `{ code: 404, reason: 'Not Found' }`.
 *
 * @throws TypeError when the status is not three digits optionally followed by a space and a
 *   reason phrase free of control characters (RFC 9112 §4 `status-line`).
 */
export function parseStatus(status: string): ParsedStatus {
  if (typeof status === 'string' && status.length >= 3) {
    const a = status.charCodeAt(0) - 48;
    const b = status.charCodeAt(1) - 48;
    const c = status.charCodeAt(2) - 48;
    if (a >= 1 && a <= 9 && b >= 0 && b <= 9 && c >= 0 && c <= 9) {
      if (status.length === 3) return { code: a * 100 + b * 10 + c, reason: '' };
      if (status.charCodeAt(3) === 32) {
        const reason = status.slice(4);
        if (!CONTROL_CHARS.test(reason)) return { code: a * 100 + b * 10 + c, reason };
      }
    }
  }
  throw new TypeError(`invalid status line: ${JSON.stringify(status)}`);
}

const CONTROL_CHARS = /[\x00-\x08\x0a-\x1f\x7f]/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Anything but HTAB, SP, VCHAR and obs-text (RFC 9110 §5.5 field-value); what Node refuses too. */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** True when `name` is an RFC 9110 §5.6.2 token, as a field name must be. */
export function isToken(name: string): boolean {
  return TOKEN.test(name);
}

/**
 * Checks one header field for the gateway rules: the name is a token (RFC 9110 §5.6.2) and the
 * value is made of field-value characters only (RFC 9110 §5.5): HTAB, SP, visible ASCII and
 * obs-text (U+0080–U+00FF, sent as one byte each). CR, LF, NUL, other control characters and
 * anything above U+00FF (`€`, emoji: percent- or RFC 8187-encode those) are refused, as Node's
 * `writeHead` refuses them.
 *
 * @throws TypeError naming the field when either rule is broken.
 */
export function assertHeader(name: string, value: string): void {
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    throw new TypeError(`invalid header name: ${JSON.stringify(name)}`);
  }
  if (typeof value !== 'string' || BAD_VALUE.test(value)) {
    throw new TypeError(`invalid value for header ${name}: ${JSON.stringify(value)}`);
  }
}

/**
 * Hop-by-hop header fields (RFC 9110 §7.6.1): they describe one connection, so apps must not
 * send them; the server drops them (honouring `Connection: close`).
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** True when `value` is an iterable (sync) body. */
export function isIterable(value: unknown): value is Iterable<Uint8Array> {
  return value != null && typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function';
}

/** True when `value` is an async iterable. */
export function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return (
    value != null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}

/** A sync or async iterator over body chunks. */
export type BodyIterator = Iterator<Uint8Array> | AsyncIterator<Uint8Array>;

/**
 * Opens a body for iteration: async iterables first, then sync ones. The iterator of a Node
 * stream (anything with a `destroy()` method, such as `fs.createReadStream`) destroys the
 * stream when it is closed early, even before its first chunk: Node's own stream iterator does
 * nothing on a `return()` that comes before the first `next()`, which would leave a file
 * descriptor open.
 *
 * @throws TypeError when `body` is neither (a string, `null`, a plain object…) or its
 *   iterator method does not answer an object; whatever that method throws.
 */
export function openBody(body: Body): BodyIterator {
  let iterator: unknown;
  if (isAsyncIterable(body)) {
    iterator = body[Symbol.asyncIterator]();
    if (typeof (body as Partial<Destroyable>).destroy === 'function' && isObject(iterator)) {
      iterator = destroyOnReturn(iterator as AsyncIterator<Uint8Array>, body as unknown as Destroyable);
    }
  } else if (isIterable(body) && typeof body !== 'string') iterator = body[Symbol.iterator]();
  else {
    throw new TypeError(
      `app returned an invalid body (${describe(body)}): expected an iterable of Uint8Array`,
    );
  }
  if (!isObject(iterator)) {
    throw new TypeError(`the body's iterator is not an object (${describe(iterator)})`);
  }
  return iterator as BodyIterator;
}

/**
 * True for the statuses whose responses never carry content: 1xx, 204 No Content and 304 Not
 * Modified (RFC 9110 §6.4.1). Their body is empty whatever the app gives, and a
 * `Content-Length` computed from that empty body would be wrong.
 */
export function isBodilessStatus(code: number): boolean {
  return code < 200 || code === 204 || code === 304;
}

/** A Node stream, as far as closing it goes. */
interface Destroyable {
  destroy(error?: Error): unknown;
}

function isObject(value: unknown): boolean {
  return value !== null && (typeof value === 'object' || typeof value === 'function');
}

/**
 * The stream's iterator, whose `return()` destroys the stream first (so a `next()` still
 * waiting for data settles) and then closes the iterator. A `next()` that fails once the
 * stream is being destroyed (Node's "Premature close") answers done: the close was ours, not
 * an error of the app.
 */
function destroyOnReturn(iterator: AsyncIterator<Uint8Array>, stream: Destroyable): AsyncIterator<Uint8Array> {
  let closing = false;
  const ended = (error: unknown): IteratorResult<Uint8Array> => {
    if (closing) return { done: true, value: undefined };
    throw error;
  };
  return {
    next: () => iterator.next().then(undefined, ended),
    async return(value?: unknown) {
      closing = true;
      stream.destroy();
      return (await iterator.return?.(value)) ?? { done: true, value: undefined };
    },
  };
}

/** True for a promise or any other thenable (an object or function with a `then` method, Promises/A+ §1.1). */
export function isThenable<T = unknown>(value: unknown): value is PromiseLike<T> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as PromiseLike<T>).then === 'function'
  );
}

const CLOSED: Promise<void> = Promise.resolve();
const NOTHING = () => undefined;

/**
 * Closes a body iterator early (PEP 3333 `close()`): calls `return()` if it has one. Never
 * throws: what `return()` throws or rejects with is passed to `onError` (a throwing `onError`
 * is ignored).
 *
 * @returns a promise that settles once `return()` has finished (at once for a sync iterator
 *   or one without `return()`, else when its promise settles); it never rejects, so callers
 *   that need not wait may ignore it.
 */
export function closeBody(iterator: BodyIterator, onError?: (error: unknown) => void): Promise<void> {
  try {
    if (typeof iterator.return !== 'function') return CLOSED;
    const result = iterator.return() as unknown;
    if (isThenable(result)) return Promise.resolve(result).then(NOTHING, (error: unknown) => report(onError, error));
  } catch (error) {
    report(onError, error);
  }
  return CLOSED;
}

function report(onError: ((error: unknown) => void) | undefined, error: unknown): void {
  try {
    onError?.(error);
  } catch {
    // A failing error reporter must not turn cleanup into a crash.
  }
}

/**
 * Reads a whole body into one `Uint8Array` (for tests and small bodies).
 *
 * @throws TypeError when a chunk is not a `Uint8Array` (see {@link checkChunk}).
 */
export async function readBody(body: Body): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    chunks.push(checkChunk(chunk));
    total += chunk.byteLength;
  }
  return concatBytes(chunks, total);
}

/** Concatenates byte chunks; `total` is their summed length when known. */
export function concatBytes(chunks: Uint8Array[], total?: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let length = total ?? 0;
  if (total === undefined) for (const chunk of chunks) length += chunk.byteLength;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** A short description of a value's type, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

/**
 * Checks one body chunk from an app: bodies are iterables of `Uint8Array` (a `Buffer` is one),
 * never strings or other values (PEP 3333 requires bytes too).
 *
 * @returns the chunk itself.
 * @throws TypeError `body chunk is not a Uint8Array (<type>)` for anything else.
 */
export function checkChunk(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  throw new TypeError(`body chunk is not a Uint8Array (${describe(chunk)})`);
}
