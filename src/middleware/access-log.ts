/**
 * One line per request, in Apache's access log formats (Paste's `TransLogger`, morgan) or as
 * one JSON object (nginx's `log_format … escape=json`, pino-http).
 *
 * @module
 */
import { type App, type AppLike, type Environ, type LogStream, type StartResponse, toApp } from '../gateway/types.ts';
import { logRequestError, requestLine, requestTarget, writeLog } from '../gateway/log.ts';
import { checkRedactQuery, queryRedactor } from '../gateway/redact-query.ts';
import { wrapBody } from '../gateway/body-watch.ts';
import { closeErrorLogger } from '../gateway/call-app.ts';
import { answeringException } from '../exceptions/body-failure.ts';
import { CLIENT_CLOSED, hasNoContent } from '../gateway/status.ts';
import { afterHeadSettled, afterResponseSent, headSettledKey, serverBytesKey, serverStatusKey } from '../gateway/server-status.ts';
import { shutdownEndKey } from '../gateway/shutdown.ts';
import { unwatchClientGone, watchClientGone } from '../gateway/client-gone.ts';
import { isThenable } from '../gateway/body.ts';
import { isBrokenOff } from '../gateway/readable-input.ts';
import { isBodyReadable, stoppedWithClient } from '../request/input.ts';
import { meterInput } from '../gateway/input-meter.ts';
import { requestIdKey } from './request-id.ts';
import { upstreamTimingKey } from '../gateway/upstream-timing-key.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';

/** What is known about a request when its log line is written. */
export interface AccessLogEntry {
  /** The environ (as the app left it). */
  environ: Environ;
  /** The client address (`REMOTE_ADDR`), or `null`. */
  remoteAddr: string | null;
  /**
   * The authenticated user (`REMOTE_USER`, set by auth middleware below), or `null`; `''` for
   * an empty user-id (`basicAuth` letting in `curl -u :token`, RFC 7617 allows it), written
   * `""` in the Apache formats, as Apache's `%u` writes it.
   */
  remoteUser: string | null;
  /** When the request reached this middleware. */
  time: Date;
  /** `GET`, `POST`, … */
  method: string;
  /**
   * The request-target as received: `/path?q` (`REQUEST_URI`), the values of the
   * `redactQuery` parameters written `[Redacted]`.
   */
  url: string;
  /** `HTTP/1.1`, … */
  protocol: string;
  /** `GET /path?q HTTP/1.1`, with {@link AccessLogEntry.url}'s target. */
  requestLine: string;
  /**
   * The status code sent; 500 when the app failed before the response started (the server
   * answers 500), the exception's status when that failure was an `HTTPException` (the server
   * answers it as itself). 499 (nginx's "client closed request") when the client went away
   * before any of the answer was sent: no chunk had reached the server, so no status line
   * either (a server sends the head with the first chunk). A client gone before the app
   * answered is logged at that moment under `serve()` and `toNodeHandler` (the server tells of
   * the connection's or HTTP/2 stream's `close`; the server's graceful shutdown cutting it
   * included) and `toFetchHandler` (the request's `signal` aborted: Bun, Deno,
   * `@hono/node-server`; not workerd), even when the app never settles, and not again when it
   * does; under another server (the `TestClient`), only the shutdown's cut is logged so
   * (`tsgi.shutdown_signal`, then `tsgi.signal`, aborted). When the server replaced the app's
   * answer after the app chose its status (a chunk that is no `Uint8Array`: `serve()`,
   * `toFetchHandler` and the `TestClient` answer 500; so do they for an in-memory answer whose
   * field value or `Content-Length` they cannot send, seen once the body ended, so the line of
   * a body that ends by its second step waits for the head: `tsgi.head_settled`), the server's
   * status (`tsgi.server_status`).
   */
  status: number;
  /**
   * Body bytes handed to the server (counted, not read from Content-Length); 0 for a HEAD
   * request and a 1xx, 204, 205 or 304 status, whose body the server never sends (RFC 9110 §9.3.2,
   * §6.4.1, §15.3.6), whatever the app yielded. When the server answered in place of the app's
   * response (`tsgi.server_status`: an app or body that failed before the head went out, a held
   * head included, a refused answer), none of the app's bytes reached the client: the bytes of
   * the server's own answer are counted instead (`tsgi.server_bytes`: 22 for its plain 500, an
   * `HTTPException`'s page), as nginx's `$body_bytes_sent` counts its error pages; 0 when the
   * server did not say (its answer streamed, or written on the raw socket). A client that hangs
   * up half-way does not lower the count: it is what was handed to the server, a body in memory
   * whole (nginx counts what the kernel took).
   */
  bytes: number;
  /**
   * Request body bytes read from `tsgi.input` by the app and the layers below `accessLog`
   * (`req.bytes()`, `req.form()`, `req.stream()`, a raw `for await`), whichever way they read
   * it: mod_logio's `%I` and nginx's `$request_length` without the request head, which tsgi
   * does not see as bytes. A request without a body, or whose body nobody read, counts 0: what
   * the server drains and discards after the answer (Node's drain of a small body, the lingering
   * close of a larger one) is not counted, nor is what a client sent past a limit that stopped
   * the read (the chunk that crossed it is). A body read whole by a layer above `accessLog`
   * counts whole. Counted for the `json` format and a format function only: 0 in the entries
   * of the other built-in formats, which do not show it, so they cost nothing per request.
   */
  bodyBytesRead: number;
  /** The `Referer` header (the values of the `redactQuery` parameters of its query written `[Redacted]`), or `null`. */
  referer: string | null;
  /** The `User-Agent` header, or `null`. */
  userAgent: string | null;
  /**
   * Milliseconds from the request reaching this middleware to the end of the response: under
   * `serve()` and `toNodeHandler`, its last byte handed to the connection (Node's `finish`, as
   * nginx's `$request_time`), so a large in-memory body a slow client downloads is timed whole;
   * elsewhere the body's end (the server took its last chunk).
   */
  duration: number;
  /**
   * Milliseconds from `proxy` sending the request upstream to the upstream's response head
   * coming in (nginx's `$upstream_header_time`, in ms): `null` when no `proxy` below sent the
   * request, or no head came (a `502`, a `504`, the client gone first). See `upstreamTimingKey`.
   */
  upstreamHeaderTime: number | null;
  /**
   * Milliseconds from `proxy` sending the request upstream to the end of the exchange: its
   * body's last byte read (a `204`'s or `304`'s head), or its failure, or the abort when the
   * client left (in a `499` line too) (nginx's `$upstream_response_time`, in ms); `null` when
   * no `proxy` below sent the request.
   */
  upstreamResponseTime: number | null;
  /**
   * How the response ended: `end` (the client got the whole answer: the body ended and, under
   * `serve()` and `toNodeHandler`, its last byte was handed to the connection; or the server
   * ended an event stream at its graceful shutdown, closing the body; or the head of an answer
   * sent without a body, HEAD or a 1xx, 204, 205 or 304 status, was handed to the connection,
   * though the server closed a streamed body unsent), `close` (the server
   * stopped taking the body, or could not send all of it: the client went away, or the server
   * refused the body and answered its own `status`), `error` (the app or its body threw).
   */
  outcome: 'end' | 'close' | 'error';
  /** The error when `outcome` is `error`. */
  error?: unknown;
}

/** Built-in formats; see {@link accessLog}. */
export type AccessLogFormat = 'combined' | 'common' | 'dev' | 'tiny' | 'json';

/** Options of {@link accessLog}. */
export interface AccessLogOptions {
  /**
   * Where lines go, a `{ write(line) }` stream (each line ends with `\n`); default
   * `process.stdout`. Checked at once: one without `write` throws `TypeError`. A line it fails
   * to write (`write` throws, or the promise it answers rejects) is reported on `tsgi.errors`.
   */
  log?: LogStream | undefined;
  /**
   * A built-in format or a function building the line (without `\n`); default `combined`.
   * What a function answers is written on one line whatever fields it holds: control
   * characters but tab (C0, DEL, C1: NEL, CSI) and U+2028, U+2029 are written `\uXXXX`, which
   * JSON reads back as the same character, so `JSON.stringify` of hostile fields stays one
   * parseable object a line, and a text line cannot be split into a forged one.
   */
  format?: AccessLogFormat | ((entry: AccessLogEntry) => string) | undefined;
  /**
   * Query parameters whose values never reach the log (nginx's `map` in a `log_format`, Rails'
   * `filter_parameters`, pino's `redact`): `['token', 'code']`. In the request line, the URL
   * and the `Referer` of every format (a format function gets them so in `entry.url`,
   * `entry.requestLine` and `entry.referer`; `entry.environ` holds the request as received), each
   * non-empty value of a parameter so named is written `[Redacted]`: `/cb?code=[Redacted]&state=x`.
   * Names match without regard to case, once percent-decoded (`TOKEN=`, `%74oken=`); the name
   * as sent, the other parameters, their order, a parameter without `=` and an empty value stay
   * as they are; only `&` separates parameters. A malformed escape never throws: it is kept as
   * it is, the rest of the name decoded (see `redactQuery`). Default none: nothing is done
   * per request. It covers this middleware's lines only: `serve()`'s `redactQuery` covers the
   * request line of the `tsgi.errors` lines (`tsgi serve --access-log-redact` sets both).
   *
   * @throws TypeError (at once) for a value that is no array of non-empty strings.
   */
  redactQuery?: readonly string[] | undefined;
}

/** Every option of {@link AccessLogOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const ACCESS_LOG_OPTIONS = { log: true, format: true, redactQuery: true } as const satisfies OptionNames<AccessLogOptions>;

/**
 * Writes one line per request to `options.log`, once the response is over: when the body ends
 * (under `serve()` and `toNodeHandler`, once its last byte was handed to the connection),
 * when the client goes away (the server calls the body's `return()`; before the app answered,
 * under `serve()` and `toNodeHandler`, when the server sees the client leave: `499`, also for
 * an app that never settles, see {@link AccessLogEntry.status}), or when the app fails.
 *
 * Formats (Apache's `mod_log_config` and morgan's):
 * - `common`: `%h %l %u %t "%r" %>s %b` —
 *   `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326`
 * - `combined` (default): `common` + ` "%{Referer}i" "%{User-agent}i"`
 * - `dev`: `GET /a.gif 200 3.250 ms - 2326`
 * - `tiny`: `GET /a.gif 200 2326 - 3.250 ms`
 * - `json`: one JSON object per line, for log pipelines (Loki, Elasticsearch, CloudWatch,
 *   Datadog): the entry's fields in snake_case, `time` in ISO 8601 UTC, `duration_ms`,
 *   `body_bytes_read` (the request body bytes the app read, see {@link AccessLogEntry.bodyBytesRead}),
 *   `null` for what is unknown, `request_id` (the id `requestId` gave the request, never the
 *   client's raw `X-Request-Id`) and `error` (its message; with outcome `error`) only when known,
 *   and for a request a `proxy` below sent upstream `upstream_header_ms` and
 *   `upstream_response_ms` (nginx's `$upstream_header_time` and `$upstream_response_time`, in ms):
 *   `{"time":"2000-10-10T20:55:36.123Z","remote_addr":"127.0.0.1","remote_user":null,
 *   "method":"GET","url":"/a.gif","protocol":"HTTP/1.1","status":200,"bytes":2326,
 *   "body_bytes_read":0,"duration_ms":3.25,"referer":null,"user_agent":"curl/8.5.0","outcome":"end",
 *   "request_id":"5f0c…"}`
 * - a function `(entry) => string` for anything else (`entry.duration` is in ms).
 *
 * The byte count is what the body actually yielded (`-` when 0 in the Apache formats, as
 * Apache's `%b`), 0 for HEAD, 1xx, 204, 205 and 304 answers, which the server sends without a
 * body, and for an answer the server replaced with its own (`tsgi.server_status`) the bytes of
 * that answer (`tsgi.server_bytes`: 22 for its plain 500), as nginx's `$body_bytes_sent`; the time
 * is local time when the request arrived (UTC in `json`); quoted fields escape
 * `"`, `\` and control characters (C0, DEL and C1) as Apache does, and `json` escapes its
 * strings as JSON (DEL, C1, U+2028 and U+2029 too, as `\uXXXX`), so a hostile header cannot
 * forge a log line.
 *
 * @throws TypeError at once for an unknown `format` name (the message lists the built-in
 *   ones) or a `log` without a `write` method, rather than on every request.
 *
 * @example
 * ```ts
 * export const app = accessLog(site);                          // combined, to stdout
 * const logged = accessLog(site, { log: fs.createWriteStream('access.log', { flags: 'a' }) });
 * const json = accessLog(site, { format: 'json' });            // one JSON object a line
 * const own = accessLog(site, { format: (e) => JSON.stringify({ path: e.url, ms: e.duration }) });
 * ```
 */
export function accessLog(app: AppLike, options: AccessLogOptions = {}): App {
  const inner = toApp(app);
  checkOptions('accessLog', options, ACCESS_LOG_OPTIONS);
  const out = options.log ?? process.stdout;
  const format = options.format ?? 'combined';
  const build = typeof format === 'function' ? format : Object.hasOwn(FORMATS, format) ? FORMATS[format] : undefined;
  if (typeof build !== 'function') {
    throw new TypeError(`accessLog: unknown format ${JSON.stringify(format)}: ${Object.keys(FORMATS).join(', ')} or a function`);
  }
  if (typeof (out as Partial<LogStream> | null)?.write !== 'function') throw new TypeError('accessLog: log must be a stream with a write(line) method');
  checkRedactQuery(options.redactQuery, 'accessLog');
  // `undefined` without names: nothing is done per request.
  const redact = queryRedactor(options.redactQuery);
  // Only the formats that can show the count pay for it.
  const meters = format === 'json' || typeof format === 'function';

  return async (environ, startResponse) => {
    const time = new Date();
    const started = performance.now();
    const method = String(environ.REQUEST_METHOD);
    const url = redact === undefined ? requestTarget(environ) : redact(requestTarget(environ));
    // `requestLine(environ)`, with the target redacted or not as `url` is (not as the adapter's `tsgi.redact_query` asks).
    const line = `${method} ${url} ${environ.SERVER_PROTOCOL}`;
    // A request without a body (a GET) leaves the server's request stream unwrapped.
    const bodyBytesRead = meters ? meterInput(environ, isBodyReadable(environ)) : undefined;
    let status = 0;
    let bytes = 0;
    let chunks = 0;
    // A HEAD answer carries no content (RFC 9110 §9.3.2): nothing the body yields is sent.
    const head = method === 'HEAD';
    let counted = !head;
    let logged = false;
    const record = (outcome: AccessLogEntry['outcome'], error?: unknown): void => {
      if (logged) return;
      logged = true;
      // The server answered in place of the app: none of the app's bytes reached the client, but
      // those of the server's own answer did (nginx's `$body_bytes_sent` of its error page).
      const replaced = serverStatusKey.get(environ);
      const upstream = upstreamTimingKey.get(environ);
      const entry: AccessLogEntry = {
        environ,
        remoteAddr: stringOrNull(environ.REMOTE_ADDR),
        remoteUser: remoteUserOf(environ),
        time,
        method,
        url,
        protocol: String(environ.SERVER_PROTOCOL),
        requestLine: line,
        status: replaced ?? (outcome === 'close' && chunks === 0 ? CLIENT_CLOSED : status || 500),
        bytes: replaced === undefined ? bytes : head ? 0 : (serverBytesKey.get(environ) ?? 0),
        bodyBytesRead: bodyBytesRead === undefined ? 0 : bodyBytesRead(),
        referer: redact === undefined ? stringOrNull(environ.HTTP_REFERER) : redactedOrNull(environ.HTTP_REFERER, redact),
        userAgent: stringOrNull(environ.HTTP_USER_AGENT),
        duration: performance.now() - started,
        upstreamHeaderTime: upstream?.header ?? null,
        upstreamResponseTime: upstream?.response ?? null,
        outcome,
      };
      if (outcome === 'error') entry.error = error;
      let pending: PromiseLike<unknown> | undefined;
      try {
        pending = writeLog(out, `${oneLine(String(build(entry)))}\n`);
      } catch (failure) {
        lineFailed(environ, method, url, failure);
        return;
      }
      if (pending !== undefined) {
        const failed = (failure: unknown) => lineFailed(environ, method, url, failure);
        Promise.resolve(pending).then(undefined, failed);
      }
    };
    const start: StartResponse = (s, headers, error) => {
      startResponse(s, headers, error);
      status = Number.parseInt(String(s).slice(0, 3), 10) || 0;
      // Nor do 1xx, 204, 304 (RFC 9110 §6.4.1) and 205 (§15.3.6): the server drops what the body yields.
      counted = !head && !hasNoContent(status);
    };
    let gone: (() => void) | undefined;
    // The server's wait for the head, which also tells when the response was sent: taken now,
    // as the server clears it once the head is out.
    const wait = headSettledKey.get(environ);
    try {
      const answer = inner(environ, start);
      // A client gone before the app answered (or cut by the shutdown) is logged then (499),
      // also when the app never settles (it ignores `tsgi.signal`), as nginx logs it: a
      // microtask later, once the server has aborted `tsgi.signal` as well (it tells this wait
      // first), so that a `proxy` below has ended its exchange and its time is in the line.
      if (isThenable(answer)) watchClientGone(environ, (gone = () => queueMicrotask(() => record('close'))));
      // The line of an answer that ended: once the head is settled and the last byte sent.
      const whenSent = () => afterHeadSettled(environ, () => afterResponseSent(wait, (complete) => record(complete ? 'end' : 'close')));
      const body = wrapBody(await answer, {
        chunk(chunk) {
          chunks++;
          if (counted && chunk instanceof Uint8Array) bytes += chunk.byteLength;
        },
        // A body that ended by its second step is framed, and may be refused (a field value or
        // a Content-Length the server cannot send), only now: the line waits for the head, then
        // for the last byte sent (an in-memory body is taken whole before any of it is written),
        // and says `close` when the client left before it.
        end: whenSent,
        close: () => {
          // An event stream the server ended at its shutdown: the client got a complete answer.
          if (shutdownEndKey.get(environ) === true) return record('end');
          // A body the server sends none of (HEAD, 1xx, 204, 205, 304), taken once it had a chunk
          // to frame the head with, is closed by the server as it answers: how the answer ended
          // is the response's (as for a body that ends), not the body's.
          if (!counted && chunks > 0) return whenSent();
          record('close');
        },
        error: (error) => {
          if (stoppedAsAsked(environ, error)) return record('close');
          // Failing before the first chunk, the server answers (a 500, or the exception's own).
          if (chunks === 0) status = answeredStatus(environ, error);
          // Failing at the step the server takes before it sends the head (the second, which
          // decides a Content-Length), the server answers too: its status (`tsgi.server_status`)
          // is known once the head is settled.
          afterHeadSettled(environ, () => record('error', error));
        },
        // What the body's `return()` throws (a `finally` that fails as the client leaves or the
        // shutdown cuts it) cannot reach the server through the wrapper: logged here instead, as
        // the server would, but for an abort (a body stopping on `tsgi.signal`, as asked).
        closeError: closeErrorLogger(environ),
      });
      return body;
    } catch (error) {
      // Only the app can throw here (wrapBody never does), before any hook could log.
      if (stoppedAsAsked(environ, error)) record('close');
      else {
        status = answeredStatus(environ, error);
        // Once the server answered (its status and bytes known), as for a body that fails.
        afterHeadSettled(environ, () => record('error', error));
      }
      throw error;
    } finally {
      if (gone !== undefined) unwatchClientGone(environ, gone);
    }
  };
}

/**
 * True for work that stopped once the client went away: an `AbortError` on `tsgi.signal`, or
 * that signal's own reason (as `fetch(url, { signal })` rejects), or a raw app's read of `tsgi.input` that broke off with
 * the client (`stoppedWithClient`; over HTTP/2 the `Premature close` of a stream reset
 * mid-body, `isBrokenOff`). The client closed the request, which is no app failure (the server
 * logs no error for it either), so it is logged as `close` (499 before the answer).
 */
function stoppedAsAsked(environ: Environ, error: unknown): boolean {
  return isBrokenOff(error) || stoppedWithClient(environ['tsgi.signal'] as AbortSignal | undefined, error);
}

/**
 * The status the server answers for an error raised before the head: an `HTTPException`'s own,
 * or the 4xx of a failed body read the error wraps (`answeringException`, as `escapedAnswer`
 * answers it), else 0, which the entry records as the server's 500.
 */
function answeredStatus(environ: Environ, error: unknown): number {
  return answeringException(environ, error)?.code ?? 0;
}

/**
 * Logs to `tsgi.errors` that the line of the request (`method`, its logged target `url`) could
 * not be made or written (`failure`: the format function's or the log stream's). The request
 * line is the access line's, with the server's `redactQuery` (`tsgi.redact_query`) applied too.
 */
function lineFailed(environ: Environ, method: string, url: string, failure: unknown): void {
  const request = {
    REQUEST_METHOD: method,
    SCRIPT_NAME: '',
    PATH_INFO: '',
    QUERY_STRING: '',
    REQUEST_URI: url,
    SERVER_PROTOCOL: environ.SERVER_PROTOCOL,
    'tsgi.redact_query': environ['tsgi.redact_query'],
    'tsgi.request_id': environ['tsgi.request_id'],
  };
  const note = ' (accessLog could not write its line)';
  logRequestError(environ['tsgi.errors'], request, note, failure);
}

/** `value` when it is a non-empty string, else `null`: an environ value as an entry field. */
export function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * `REMOTE_USER` as an entry field: the string as it is, `''` included (an empty user-id, RFC
 * 7617, which an auth layer let in: CGI's `REMOTE_USER` is the user-id sent, RFC 3875
 * §4.1.11), `null` when absent.
 */
export function remoteUserOf(environ: Environ): string | null {
  const user = environ.REMOTE_USER;
  return typeof user === 'string' ? user : null;
}

/** {@link stringOrNull} of `value`, its query redacted by `redact`. */
export function redactedOrNull(value: unknown, redact: (url: string) => string): string | null {
  const text = stringOrNull(value);
  return text === null ? null : redact(text);
}

/**
 * Escapes a field as Apache does: `"` and `\` with a backslash, control characters as `\xhh`:
 * C0, DEL and C1 (U+0080–U+009F, which a header's obs-text bytes 0x80–0x9F become: NEL ends a
 * line for Unicode-aware readers, CSI starts a terminal escape sequence).
 */
export function escapeLogField(value: string): string {
  return value.replace(/["\\\x00-\x1f\x7f-\x9f]/g, (c) =>
    c === '"' ? '\\"' : c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** Apache's `%t` time, in local time: `10/Oct/2000:13:55:36 -0700` (without the brackets). */
export function formatLogTime(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return (
    `${pad(date.getDate())}/${MONTHS[date.getMonth()]}/${date.getFullYear()}:` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ` +
    `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`
  );
}

const dash = (value: string | null) => (value === null ? '-' : escapeLogField(value));
/** The user field: `-` for none, `""` for an empty user-id, as Apache's `%u`. */
const userField = (value: string | null) => (value === '' ? '""' : dash(value));

function common(e: AccessLogEntry): string {
  return (
    `${dash(e.remoteAddr)} - ${userField(e.remoteUser)} [${formatLogTime(e.time)}] ` +
    `"${escapeLogField(e.requestLine)}" ${e.status} ${e.bytes === 0 ? '-' : e.bytes}`
  );
}

/** The line of `entry` in the built-in `format`, without `\n` (for the server's own lines: `tsgi serve`). */
export function formatAccessEntry(entry: AccessLogEntry, format: AccessLogFormat): string {
  return FORMATS[format]!(entry);
}

/**
 * One line of the `json` format: the keys are the {@link AccessLogEntry}'s in snake_case, as
 * nginx's variables (`$remote_addr`, `$remote_user`, `$status`, `$request_id`) and tsgi's
 * environ keys are, flat (a pipeline indexes them without unnesting), in this order. `null`
 * stands for what is unknown; `request_id` and `error` are there only when known, and so are
 * `upstream_header_ms` and `upstream_response_ms`, for a request a `proxy` sent upstream.
 */
export interface JsonAccessRecord {
  /** When the request reached `accessLog`: ISO 8601 in UTC, with milliseconds (`2000-10-10T20:55:36.123Z`). */
  time: string;
  /** `REMOTE_ADDR`. */
  remote_addr: string | null;
  /** `REMOTE_USER` (`''` for an empty user-id, as {@link AccessLogEntry.remoteUser}). */
  remote_user: string | null;
  /** `GET`, …; `null` in `tsgi serve`'s line of a request whose request line was not parsed. */
  method: string | null;
  /** The request-target as received (`/path?q`); `null` likewise. */
  url: string | null;
  /** `HTTP/1.1`, …; `null` likewise. */
  protocol: string | null;
  /** As {@link AccessLogEntry.status}: the status the client got, 499 for one gone first. */
  status: number;
  /** Body bytes handed to the server, as {@link AccessLogEntry.bytes}. */
  bytes: number;
  /** Request body bytes the app read, as {@link AccessLogEntry.bodyBytesRead}; 0 in `tsgi serve`'s lines of the requests it refused itself. */
  body_bytes_read: number;
  /**
   * Milliseconds from the request reaching `accessLog` to the end of the response (its last
   * byte sent, as {@link AccessLogEntry.duration}), rounded to the microsecond (`3.25`); `null` in `tsgi serve`'s lines of refused requests (not timed).
   */
  duration_ms: number | null;
  /** The `Referer` field. */
  referer: string | null;
  /** The `User-Agent` field. */
  user_agent: string | null;
  /** `end`, `close` or `error`, as {@link AccessLogEntry.outcome}. */
  outcome: AccessLogEntry['outcome'];
  /**
   * The id `requestId` set (`tsgi.request_id`); absent without `requestId`. The request's own
   * `X-Request-Id` is never taken for it: without `requestId` it is whatever the client sent
   * (`requestId` keeps a proxy's well-formed one, with `trustIncoming`).
   */
  request_id?: string | undefined;
  /** With outcome `error`: the error's message (no stack: that goes to the error log). */
  error?: string | null | undefined;
  /**
   * As {@link AccessLogEntry.upstreamHeaderTime} (nginx's `$upstream_header_time`, in ms),
   * rounded to the microsecond; `null` when no head came. Absent, with
   * `upstream_response_ms`, when neither is known: no `proxy` sent the request upstream.
   */
  upstream_header_ms?: number | null | undefined;
  /** As {@link AccessLogEntry.upstreamResponseTime} (nginx's `$upstream_response_time`, in ms), rounded to the microsecond. */
  upstream_response_ms?: number | null | undefined;
}

/** The {@link JsonAccessRecord} of `entry`. */
export function jsonAccessRecord(entry: AccessLogEntry): JsonAccessRecord {
  const record: JsonAccessRecord = {
    time: entry.time.toISOString(),
    remote_addr: entry.remoteAddr,
    remote_user: entry.remoteUser,
    method: entry.method,
    url: entry.url,
    protocol: entry.protocol,
    status: entry.status,
    bytes: entry.bytes,
    body_bytes_read: entry.bodyBytesRead,
    duration_ms: toMicroseconds(entry.duration),
    referer: entry.referer,
    user_agent: entry.userAgent,
    outcome: entry.outcome,
  };
  // `requestId`'s id only: a client's own `X-Request-Id` is its choice, not the request's id.
  const id = stringOrNull(requestIdKey.get(entry.environ));
  if (id !== null) record.request_id = id;
  if (entry.outcome === 'error') record.error = errorMessage(entry.error);
  // Only for a request a `proxy` sent upstream: the lines of the others keep their keys.
  if (entry.upstreamResponseTime !== null || entry.upstreamHeaderTime !== null) {
    record.upstream_header_ms = entry.upstreamHeaderTime === null ? null : toMicroseconds(entry.upstreamHeaderTime);
    record.upstream_response_ms = entry.upstreamResponseTime === null ? null : toMicroseconds(entry.upstreamResponseTime);
  }
  return record;
}

/** Milliseconds rounded to the microsecond (`3.25`), as the `json` format writes times. */
function toMicroseconds(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * What could split or hijack a log line: C0 but tab, DEL, C1 (NEL ends a line for
 * Unicode-aware readers, CSI starts a terminal escape sequence), U+2028 and U+2029.
 * `JSON.stringify` escapes C0 but leaves the others as they are.
 */
const LINE_UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * `line` with {@link LINE_UNSAFE} characters written `\uXXXX`: one line whatever it holds. In
 * JSON they can only occur inside strings, where `\uXXXX` means the same character.
 */
function oneLine(line: string): string {
  return line.replace(LINE_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `record` as one line of JSON (without `\n`): a string holds no character that could end the line. */
export function jsonAccessLine(record: JsonAccessRecord): string {
  return oneLine(JSON.stringify(record));
}

/** The message of `error` (a thrown non-`Error` as a string); `null` when there is none or it cannot be read. */
function errorMessage(error: unknown): string | null {
  if (error === undefined || error === null) return null;
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    return null;
  }
}

const FORMATS: Record<string, (entry: AccessLogEntry) => string> = {
  common,
  combined: (e) => `${common(e)} "${dash(e.referer)}" "${dash(e.userAgent)}"`,
  dev: (e) => `${escapeLogField(e.method)} ${escapeLogField(e.url)} ${e.status} ${e.duration.toFixed(3)} ms - ${e.bytes}`,
  tiny: (e) => `${escapeLogField(e.method)} ${escapeLogField(e.url)} ${e.status} ${e.bytes} - ${e.duration.toFixed(3)} ms`,
  json: (e) => jsonAccessLine(jsonAccessRecord(e)),
};
