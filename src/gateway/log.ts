/**
 * Logging: the default {@link LogStream} (standard error), and the format and fallback that
 * servers and middleware use to log errors.
 *
 * @module
 */
import type { Environ, LogStream } from './types.ts';
import { causeChain } from './cause-chain.ts';
import { redactQuery } from './redact-query.ts';
import { isThenable } from './body.ts';
import { requestIdLabel } from './request-id-key.ts';

/** The process's standard error where there is one (Node, Bun, Deno), else `undefined`. */
const stderr = (globalThis as { process?: { stderr?: { write?: unknown } } }).process?.stderr;

/**
 * A {@link LogStream} that writes to the process's standard error: the default of
 * `environ['tsgi.errors']` (PEP 3333's `wsgi.errors` is `sys.stderr` by default too) and
 * where {@link logError} falls back when a stream throws. Where the runtime has no
 * `process.stderr` (a Cloudflare Worker without `nodejs_compat`), it writes with
 * `console.error`, the trailing newline removed.
 */
export const stderrLog: LogStream = Object.freeze({
  write(message: string): void {
    if (typeof stderr?.write === 'function') (stderr as NodeJS.WriteStream).write(message);
    else console.error(message.endsWith('\n') ? message.slice(0, -1) : message);
  },
});

/** What `encodeURI` leaves in a decoded path that would end it in a request-target. */
const PATH_DELIMITERS = /[?#]/g;
const escapeDelimiter = (delimiter: string): string => (delimiter === '?' ? '%3F' : '%23');

/** The environ keys {@link requestTarget} reads. */
type RequestLineKeys = 'REQUEST_METHOD' | 'SCRIPT_NAME' | 'PATH_INFO' | 'QUERY_STRING' | 'REQUEST_URI' | 'SERVER_PROTOCOL';

/**
 * The request-target of `environ` as the client sent it: `REQUEST_URI` when the server set
 * it (the Node adapter and `Request.blank` do), else `SCRIPT_NAME + PATH_INFO` percent-encoded
 * as UTF-8 (`encodeURI`, and `?` and `#` too, so the query starts at the first `?` as
 * `redactQuery` reads it) plus `?QUERY_STRING` when there is a query. Never throws.
 */
export function requestTarget(environ: Pick<Environ, RequestLineKeys>): string {
  const raw = environ.REQUEST_URI;
  if (typeof raw === 'string') return raw;
  const path = encodeURI(`${environ.SCRIPT_NAME ?? ''}${environ.PATH_INFO ?? ''}`.toWellFormed()).replace(PATH_DELIMITERS, escapeDelimiter);
  return environ.QUERY_STRING ? `${path}?${environ.QUERY_STRING}` : path;
}

/**
 * The request line of `environ`, as Apache's `%r` and the first line of an HTTP/1.1 request
 * (RFC 9112 §3): `GET /path?q HTTP/1.1`, the target as {@link requestTarget} gives it. The one
 * way servers and middleware name a request in log lines and error pages (the Node adapter's
 * error log, `errors`, `accessLog`, the debug page).
 *
 * The values of the query parameters the adapter's `redactQuery` names (`tsgi.redact_query`)
 * are written `[Redacted]` (`redactQuery`), so every `tsgi.errors` line hides them.
 *
 * The text is as received, control characters included: {@link formatError} escapes them
 * for `tsgi.errors`, `accessLog` escapes fields as Apache does, HTML pages escape it. Never
 * throws.
 */
export function requestLine(environ: Pick<Environ, RequestLineKeys> & { readonly 'tsgi.redact_query'?: unknown }): string {
  const names = environ['tsgi.redact_query'];
  const target = Array.isArray(names) ? redactQuery(requestTarget(environ), names as readonly string[]) : requestTarget(environ);
  return `${environ.REQUEST_METHOD} ${target} ${environ.SERVER_PROTOCOL}`;
}

/**
 * Formats an error for `tsgi.errors`: one line naming the request (its
 * {@link requestLine}, maybe followed by a status or a note), then the stack, e.g.
 * `[tsgi] GET /path HTTP/1.1: Error: boom\n    at …`, ending with a newline; then, for each
 * error of its `cause` chain (four at most), `Caused by: <its stack>`, and for each error an
 * `AggregateError` among them holds (four at most), `Aggregated 1 of 2: <its stack>`. Control
 * characters of the request line are written `\xNN` (C1, U+2028, U+2029: `\uNNNN`), so a
 * hostile URL cannot forge a line.
 * The error's text often holds the request too (`new Error('no page for ' + req.pathInfo)`:
 * a percent-decoded path, a header value), so in it the characters that could forge or hide
 * a line or drive a terminal are escaped as well (C0 but tab and line feed, DEL: `\xNN`; C1,
 * U+2028, U+2029: `\uNNNN`), and each of its lines that a message's own line break starts is
 * indented by two spaces, as the stack's frames are: only the first line of an entry starts
 * with `[tsgi]` (CWE-117). A message written on several lines (a validation library's list
 * of issues) stays readable, one indented line each.
 *
 * An error carrying an HTTP status of its own (`statusCode`, `status`: `http-errors`, Fastify's
 * errors) gets a last line saying tsgi does not read it, and what to throw instead.
 *
 * Never throws: a thrown value that cannot be turned into text (a null-prototype object, a
 * throwing `stack` getter) is described by its type instead.
 */
export function formatError(requestLine: string, error: unknown): string {
  return `[tsgi] ${escapeRequestLine(requestLine)}: ${confineText(describeError(error) + statusNote(error))}\n`;
}

/**
 * A note for an error that carries an HTTP status of its own, an integer `statusCode` or
 * `status` from 400 to 599, as `http-errors`, Fastify's `@fastify/error` and
 * `@fastify/sensible` make them (Express, Koa and Fastify answer that status): tsgi answers an
 * `HTTPException`'s status only, so such an error was a 500, and the note says what to throw
 * to answer that status (an API client's error carries its upstream's, which may not be one to
 * answer). `''` for any other value (an `HTTPException`'s `status` is its status line, a
 * string) and for 500, the status answered.
 * Never throws.
 */
function statusNote(error: unknown): string {
  try {
    if (!isError(error)) return '';
    for (const key of ['statusCode', 'status'] as const) {
      const value: unknown = (error as unknown as Record<string, unknown>)[key];
      // 500 is what was answered: nothing to say. The advice is conditional: an API client's error
      // (OpenAI's, Octokit's, axios's) carries the upstream's status, which the app may not mean to answer.
      if (typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 599 && value !== 500) {
        return `\n(the error's ${key} ${value} is not read: only an HTTPException sets the status; to answer ${value}, throw one, as abort(${value}) does)`;
      }
    }
  } catch {
    // A throwing getter: no note.
  }
  return '';
}

/**
 * What a terminal or a line-based reader could take for something else: C0 but tab and line
 * feed, DEL, C1 (NEL ends a line for Unicode-aware readers, CSI starts an escape sequence),
 * U+2028 and U+2029.
 */
const TEXT_UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]/g;

/** As {@link TEXT_UNSAFE}, tab and line feed too: what the request line, one line, must not hold. */
const LINE_UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/g;

/** `\xNN` for C0 and DEL, `\uNNNN` for the others. */
const escapeChar = (c: string): string => (c <= '\x7f' ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** `text` with {@link TEXT_UNSAFE} escaped and every line after the first indented (see {@link formatError}). */
function confineText(text: string): string {
  return escapeUnsafeText(text).replace(/\n(?=\S)/g, '\n  ');
}

/**
 * `text` with the characters that could hide a log line or drive a terminal escaped, as
 * {@link formatError} escapes an error's text: C0 but tab and line feed, and DEL, as `\xNN`;
 * C1, U+2028 and U+2029 as `\uNNNN` (CWE-117). For a one-line notice that quotes what a
 * client chose (a TLS server name an app's `SNICallback` error names); line feeds are kept,
 * so take the first line before. Never throws.
 */
export function escapeUnsafeText(text: string): string {
  return text.replace(TEXT_UNSAFE, escapeChar);
}

/**
 * The request line with {@link LINE_UNSAFE} escaped as in the error's text (C0, DEL: `\xNN`;
 * C1, U+2028, U+2029: `\uNNNN`; tab and line feed included): one line whatever it holds. Node's
 * parser refuses C1 bytes in a target, but `Request.blank(path)` keeps its path as given, and a
 * decoded `PATH_INFO` holds what `%0A` or `%1B` stood for. Never throws.
 */
export function escapeRequestLine(text: string): string {
  return text.replace(LINE_UNSAFE, escapeChar);
}

/** How many causes {@link describeError} follows after the error itself. */
const MAX_CAUSES = 4;

/** How many of an `AggregateError`'s errors {@link describeError} writes. */
const MAX_AGGREGATED = 4;

/**
 * The text of `error`: its stack, then `Caused by: <stack>` for each `cause` (ES2022) of the
 * chain, as Java prints its causes and Node's own report of an uncaught error shows its
 * `[cause]`: the database error behind `new Error('query failed', { cause })`, the socket error
 * behind `fetch failed`, the failure a handler's `HTTPServiceUnavailable` with a `cause` stands
 * for. After an `AggregateError` of the chain, `Aggregated 1 of 2: <stack>` for each of its
 * `errors` (four at most, then `(N more aggregated errors)`), as Node's report shows its
 * `[errors]`: the addresses refused behind `AggregateError [ECONNREFUSED]` (a host name with
 * an IPv6 and an IPv4 address), the rejections behind `Promise.any`. A stack the code wrote
 * itself (one that does not start as V8's, `Name: message`: the proxy's `upstream http://…:
 * connection refused (ECONNREFUSED: …)`) already says what it means to, causes included, and
 * is written alone.
 */
function describeError(error: unknown): string {
  let text = describeOne(error);
  if (!isError(error) || !isEngineStack(error)) return text;
  let first = true;
  for (const cause of causeChain(error, MAX_CAUSES)) {
    if (first) first = false;
    else text += `\nCaused by: ${describeOne(cause)}`;
    text += describeAggregated(cause);
  }
  return text;
}

/** `\nAggregated 1 of N: <stack>`… for the `errors` of an `AggregateError`, else `''`. Never throws. */
function describeAggregated(error: unknown): string {
  let errors: unknown;
  try {
    if (!(error instanceof AggregateError)) return '';
    errors = error.errors;
    if (!Array.isArray(errors)) return '';
  } catch {
    return '';
  }
  let text = '';
  const shown = Math.min(errors.length, MAX_AGGREGATED);
  for (let i = 0; i < shown; i++) text += `\nAggregated ${i + 1} of ${errors.length}: ${describeOne(errors[i])}`;
  const more = errors.length - shown;
  if (more > 0) text += `\n(${more} more aggregated error${more === 1 ? '' : 's'})`;
  return text;
}

/** True when `error.stack` starts as the engine writes it: `Name: message` (or `Name`). */
function isEngineStack(error: Error): boolean {
  try {
    const stack = error.stack;
    if (typeof stack !== 'string') return true;
    const head = error.message === '' ? String(error.name) : `${error.name}: ${error.message}`;
    return stack.startsWith(head) || stack.startsWith(String(error));
  } catch {
    return false;
  }
}

/** `error instanceof Error`, false where that throws (a revoked `Proxy`). */
function isError(error: unknown): error is Error {
  try {
    return error instanceof Error;
  } catch {
    return false;
  }
}

/**
 * The text of one error: its `stack` when that is a string, else `Name: message`; a value
 * that is no `Error`, as `String` gives it. Where that fails, `[unprintable <type>]`.
 */
function describeOne(error: unknown): string {
  return printable(error, (value) => {
    if (!isError(value)) return String(value);
    const stack: unknown = value.stack;
    return typeof stack === 'string' ? stack : `${String(value.name)}: ${String(value.message)}`;
  });
}

/**
 * `text(value)`, by default `String(value)`; where that throws (a null-prototype object, which
 * has no `toString`; a throwing getter), `[unprintable <type>]` (`[unprintable object]`): how
 * `tsgi.errors` lines and the debug page of `errors` show a thrown value. Never throws.
 */
export function printable(value: unknown, text: (value: unknown) => string = String): string {
  try {
    return text(value);
  } catch {
    return `[unprintable ${value === null ? 'null' : typeof value}]`;
  }
}

/**
 * Logs an error as {@link formatError} formats it (`[tsgi] <requestLine>: <stack>\n`) to
 * `log`, by default standard error ({@link stderrLog}). For a request the server has an environ
 * of, use {@link logRequestError}, which names its id too; this is for the lines written before
 * there is one (a refused request, an upgrade handler's failure). Never throws: when
 * `log.write` throws, or the promise it answers rejects, the line goes to standard error
 * instead, so a broken log stream cannot turn error handling into a crash.
 */
export function logError(log: LogStream | undefined, requestLine: string, error: unknown): void {
  writeLineOrStderr(log ?? stderrLog, formatError(requestLine, error));
}

/** What {@link logRequestError} reads of a request: its {@link requestLine}'s keys, its id. */
export type LoggedRequest = Pick<Environ, RequestLineKeys> & {
  readonly 'tsgi.redact_query'?: unknown;
  readonly 'tsgi.request_id'?: unknown;
};

/**
 * Logs an error about the request of `environ` as {@link logError} does, its line naming the
 * request: its {@link requestLine}, then `note` (`''`, or a space and what failed: ` 500`,
 * ` (callOnClose)`), then the id `requestId` gave it, if any (`requestIdLabel`): `[tsgi] GET /x
 * HTTP/1.1 (callOnClose) request_id=9b2e…: <stack>\n`. The one way a line about one request is
 * written, by the servers, the `TestClient` and the middleware, so each line of a request is
 * found by the id its answer carried (`X-Request-Id`). The line is made only here, on the error
 * path. Never throws.
 */
export function logRequestError(
  log: LogStream | undefined,
  environ: LoggedRequest,
  note: string,
  error: unknown,
): void {
  logError(log, `${requestLine(environ)}${note}${requestIdLabel(environ)}`, error);
}

/**
 * Writes `line` (ended by its own `\n`) to `log`; when `log.write` throws, or the promise it
 * answers rejects, the line goes to standard error ({@link stderrLog}) instead. Never throws:
 * for the server's own lines, which a broken log stream must not turn into a crash.
 */
export function writeLineOrStderr(log: LogStream, line: string): void {
  let pending: PromiseLike<unknown> | undefined;
  try {
    pending = writeLog(log, line);
  } catch {
    stderrLog.write(line);
    return;
  }
  if (pending !== undefined) Promise.resolve(pending).then(undefined, () => stderrLog.write(line));
}

/**
 * Writes `line` to `log`, and answers the promise `log.write` answered, if any (an async
 * stream's: a `FileHandle`'s `appendFile`), else `undefined` (Node's streams). `LogStream.write`
 * returns `unknown`; the caller takes that promise's rejection at once
 * (`Promise.resolve(pending).then(undefined, onFailure)`), so that it is never left an unhandled
 * rejection, which ends the Node process, and handles a throw in place: no closure for a failure
 * is made while writes succeed at once.
 *
 * @throws what `log.write` throws.
 */
export function writeLog(log: LogStream, line: string): PromiseLike<unknown> | undefined {
  const written = log.write(line);
  return isThenable(written) ? written : undefined;
}

/**
 * The errors already logged, per request (its environ): see {@link markLogged}. Objects are
 * held weakly; a thrown primitive (a string, a number) is kept by value for the request's life.
 */
const LOGGED = new WeakMap<object, { objects: WeakSet<object>; values: Set<unknown> }>();

const isObject = (value: unknown): value is object => (typeof value === 'object' && value !== null) || typeof value === 'function';

/**
 * Records that `error` was logged for the request of `environ`, by a layer that then throws it
 * on (the `errors` middleware, after the head: the server must still cut the connection). The
 * server and the `TestClient` then cut without logging it a second time. A thrown string,
 * number or other primitive is recorded by value: the same value thrown on in that request is
 * the one logged.
 */
export function markLogged(environ: object, error: unknown): void {
  let logged = LOGGED.get(environ);
  if (logged === undefined) LOGGED.set(environ, (logged = { objects: new WeakSet(), values: new Set() }));
  if (isObject(error)) logged.objects.add(error);
  else logged.values.add(error);
}

/** True when {@link markLogged} recorded `error` for the request of `environ`. */
export function wasLogged(environ: object, error: unknown): boolean {
  const logged = LOGGED.get(environ);
  if (logged === undefined) return false;
  return isObject(error) ? logged.objects.has(error) : logged.values.has(error);
}
