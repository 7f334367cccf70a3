/**
 * `toFetchHandler`: a gateway app as a `fetch(request)` handler, for Bun, Deno, Cloudflare
 * Workers and every server or framework that takes one.
 *
 * @module
 */
import { type App, type AppLike, type Body, type Environ, type StartResponse, toApp } from '../../gateway/types.ts';
import { type BodyIterator, checkChunk, closeBody, concatBytes, isThenable, openBody } from '../../gateway/body.ts';
import { logError, logRequestError, stderrLog, wasLogged } from '../../gateway/log.ts';
import { HTTPClientError } from '../../exceptions/client-errors.ts';
import { escapedAnswer } from '../../exceptions/escaped.ts';
import { isBodyFailure } from '../../exceptions/body-failure.ts';
import { awaitHead, serverStatusKey, setServerBytes, settleHead } from '../../gateway/server-status.ts';
import { checkScriptName } from '../environ-rules.ts';
import { checkEnvironOptions } from '../environ-options.ts';
import { checkTrustedHosts } from '../../http/trusted-hosts.ts';
import { checkRedactQuery, redactQuery } from '../../gateway/redact-query.ts';
import { checkMaxBodySize } from '../body-limit.ts';
import { FETCH_HANDLER_OPTIONS, type FetchExecutionContext, type FetchHandlerOptions, createFetchEnviron, expectBodyDropped } from './environ.ts';
import { booleanOption, checkOptions } from '../../gateway/option-names.ts';
import { fetchHead, fetchResponse } from './head.ts';
import { resumeBody } from './body.ts';
import { askSecondStep, secondStepInTurn } from '../../gateway/second-step.ts';
import { drainUnread } from './unread.ts';
import { isBrokenOff } from '../../gateway/readable-input.ts';
import { bodyClosedEarly, serverShuttingDown, unlessAbort } from '../../gateway/abort.ts';
import { abortRequestSignal } from '../../gateway/signal-controller.ts';
import { FetchHeadWait, LEFT, stoppedOnLeaving, untilClientLeaves } from './client-gone.ts';
import { CLIENT_CLOSED, type ParsedStatus, hasNoContent } from '../../gateway/status.ts';
import { givenStatus } from '../../gateway/head-rules.ts';
import { STOP, type ShutdownWatch, type StreamStop, shutdownWatchOf, streamStopOf } from '../../gateway/shutdown.ts';
import { startedTwice } from '../../gateway/start-errors.ts';
import { refuseNodeFramework } from '../../gateway/foreign-app.ts';
import { heldFields, keepingHeldFields } from '../../gateway/held-fields.ts';
import { inWorkers } from '../../gateway/workers.ts';
import { readableThrow } from '../../gateway/unreadable-throw.ts';

/**
 * A fetch handler: what `Bun.serve({ fetch })`, `Deno.serve(handler)`, a Worker's
 * `export default { fetch }` and `app.fetch` of Hono or h3 are. The runtime's other arguments
 * (`env`, `ctx`) are passed on to the app in the environ.
 */
export type FetchHandler = (request: globalThis.Request, env?: unknown, ctx?: unknown) => Promise<globalThis.Response>;

type Step = IteratorResult<Uint8Array>;

/**
 * The body of an empty answer that has content (a `200` with no bytes): bytes, not `null`, so
 * that it goes out with `Content-Length: 0` as under `serve()` (docs/spec.md §7.1), where
 * `@hono/node-server` sent a `null` body chunked. A fetch `Response` copies the bytes it is
 * given, so one array serves every answer.
 */
const EMPTY = new Uint8Array(0);

/** The answers whose body streams from the app's: their app may still read the request body. */
const streamed = new WeakSet<globalThis.Response>();

const encoder = new TextEncoder();

/** The text of the adapter's own `500`, and its length in bytes (for the access log). */
const INTERNAL_ERROR = 'Internal Server Error\n';
const INTERNAL_ERROR_LENGTH = encoder.encode(INTERNAL_ERROR).byteLength;

/**
 * A short plain-text answer the adapter makes itself (a 400 before the app, a 500), with the
 * `kept` fields of a head it replaces (`heldFields`, which has neither of its own). To a HEAD
 * (`method`) it carries no body, only the length the GET answer's has (RFC 9110 §9.3.2), as
 * the app's answers and `serve()`'s own.
 */
function plain(
  code: number,
  statusText: string,
  text: string,
  method: string,
  kept: ReadonlyArray<[string, string]> = [],
): globalThis.Response {
  const headers: Array<[string, string]> = [['Content-Type', 'text/plain; charset=utf-8'], ...kept];
  if (method !== 'HEAD') return new globalThis.Response(text, { status: code, statusText, headers });
  headers.push(['Content-Length', String(encoder.encode(text).byteLength)]);
  return new globalThis.Response(null, { status: code, statusText, headers });
}

/**
 * The end at the shutdown of an answer with `headers` (an event stream's: `streamStopOf`), whose
 * `tsgi.signal` aborts with `serverShuttingDown()` as the shutdown ends it (before its body is
 * closed) or once its coding layer (`compress`) ended it then, as `serve()`'s does: a source
 * waiting on `req.signal` alone stops at once, and its `finally` runs.
 */
function eventStreamStop(shutdown: ShutdownWatch | undefined, headers: ReadonlyArray<readonly [string, string]>, environ: Environ): StreamStop | undefined {
  if (shutdown === undefined) return undefined;
  const end = () => abortRequestSignal(environ, serverShuttingDown());
  return streamStopOf(shutdown, headers, environ, end, end);
}

/**
 * Runs `app` on `environ` and answers its response. App errors are logged to `tsgi.errors`
 * with the request line; before the head they answer a plain 500 (an `HTTPException` answers
 * itself, logged only when a 5xx: `escapedAnswer`; `answering` marks that second run); after
 * it the body stream errors, which the runtime turns into a cut connection. A failure of the
 * body before its head was built (its opening, its first step or the second one the head
 * waited for, a bad chunk in hand) is answered with that head's fields that are no
 * representation's (`heldFields`), as under `serve()`.
 */
async function respond(app: App, environ: Environ, shutdown: ShutdownWatch | undefined, answering = false): Promise<globalThis.Response> {
  let status: string | undefined;
  /** `status` parsed once, when given, or the TypeError the head is refused with (`givenStatus`). */
  let parsed: Readonly<ParsedStatus> | TypeError | undefined;
  let headers: Array<[string, string]> | undefined;
  let committed = false;
  // Once the body's first chunk is taken the head is committed (PEP 3333), though not built yet.
  let bodyStarted = false;
  /**
   * True while the head the app gave waits, unbuilt, for the body's first two steps: a failure
   * then keeps the head's fields; false once it is being built (a refused head: a bare 500).
   */
  let held = false;
  const startResponse: StartResponse = (s, h, error) => {
    if (error !== undefined) {
      if (committed || bodyStarted) throw error;
    } else if (status !== undefined) {
      throw startedTwice();
    }
    if (!Array.isArray(h)) throw new TypeError('startResponse headers must be an array of [name, value] pairs');
    status = s;
    headers = h;
    parsed = givenStatus(s);
    // A streamed body's rest is dropped for such a status: its source, told by `tsgi.signal`.
    if (!(parsed instanceof TypeError) && hasNoContent(parsed.code)) expectBodyDropped(environ);
  };
  const method = environ.REQUEST_METHOD;
  // An error the `errors` middleware logged before throwing it on after the head (to have the
  // stream cut) is not logged a second time, as under serve(); nor, as there, the 4xx a read of
  // the request body failed with, bare or wrapped (`isBodyFailure`): the client's doing,
  // answered as that 4xx before the head, a cut after it; nor an abort once the client left
  // (the app stopping on the request's signal, as asked: `stoppedOnLeaving`), nor the request
  // body's break when its client hung up (`isBrokenOff`: Deno's and workerd's, whose request
  // signal has not aborted then), which a raw app let propagate.
  // `note` follows the request line: ` 502`, the status an escaped HTTPException answered.
  const log = (error: unknown, note = '') => {
    if (wasLogged(environ, error) || isBodyFailure(environ, error) || isBrokenOff(error)) return;
    if (!stoppedOnLeaving(environ['tsgi.fetch_request'] as globalThis.Request, error)) logRequestError(environ['tsgi.errors'], environ, note, error);
  };
  let iterator: BodyIterator | undefined;
  /** An event stream's end at the shutdown: disposed of here unless handed to the body stream. */
  let stop: StreamStop | undefined;
  // A layer above may see the body end while the app is called (`timeout` and `compress` take
  // its first step): what it leaves for the head (accessLog's line) waits for it.
  // Its `gone` slot: a client that leaves while the app works is told to the layers watching.
  const wait = new FetchHeadWait(environ);
  awaitHead(environ, wait);
  try {
    let body: Body | PromiseLike<Body>;
    try {
      body = app(environ, startResponse);
      if (isThenable<Body>(body)) body = await body;
    } finally {
      wait.appSettled();
    }
    if (Array.isArray(body) && status !== undefined) {
      const chunks = body as unknown[];
      let length = 0;
      for (let i = 0; i < chunks.length; i++) length += checkChunk(chunks[i]).byteLength;
      const head = fetchHead(parsed, headers, method, length);
      committed = true;
      // The adapter's own answer (an escaped HTTPException's page): its bytes, for the access log.
      if (answering) setServerBytes(environ, length);
      const payload = head.noBody ? null : length === 0 ? EMPTY : chunks.length === 1 ? (chunks[0] as Uint8Array) : concatBytes(chunks as Uint8Array[], length);
      return fetchResponse(payload, head);
    }
    held = true;
    iterator = openBody(body);
    // An event stream whose fields came first ends at the shutdown even before its first event
    // (one whose app answered once the shutdown began too: see `StreamStop`).
    const watched = status !== undefined;
    if (watched) stop = eventStreamStop(shutdown, headers!, environ);
    const asked = iterator.next() as Step | PromiseLike<Step>;
    // A client that leaves now has its body closed at once, not at its first chunk (spec §7.5).
    const staying = untilClientLeaves(environ['tsgi.fetch_request'] as globalThis.Request, asked) as Step | PromiseLike<Step>;
    const first = (await (stop === undefined ? staying : stop.race(staying))) as Step | typeof STOP | typeof LEFT;
    if (first === LEFT) {
      // Nobody reads the answer: an empty one, with nginx's status for a client gone.
      if (isThenable<Step>(asked)) asked.then(undefined, unlessAbort(log));
      void closeBody(iterator, log);
      serverStatusKey.set(environ, CLIENT_CLOSED);
      return new globalThis.Response(null, { status: CLIENT_CLOSED });
    }
    if (first === STOP) {
      // No event yet: an empty answer, which `EventSource` reconnects after, as after any end.
      if (isThenable<Step>(asked)) asked.then(undefined, unlessAbort(log));
      void closeBody(iterator, log);
      held = false;
      const head = fetchHead(parsed, headers, method, 0);
      committed = true;
      return fetchResponse(head.noBody ? null : EMPTY, head);
    }
    if (first.done) {
      iterator = undefined; // ended, not stopped early: nothing to close (spec §6), even when the head is refused
      held = false;
      const head = fetchHead(parsed, headers, method, 0);
      committed = true;
      return fetchResponse(head.noBody ? null : EMPTY, head);
    }
    const chunk = checkChunk(first.value);
    bodyStarted = true;
    // An event stream ends at the shutdown (docs/spec.md §2.6), also one that begins while the
    // head waits for the second step: the head goes out then, and the stream ends after the first chunk.
    if (!watched && headers !== undefined) stop = eventStreamStop(shutdown, headers, environ);
    // None after an empty first chunk: the head is built now, its body a stream, and a failure
    // from there on errors the stream.
    const pending = askSecondStep(iterator, chunk);
    let second: Step | undefined;
    if (pending !== undefined) {
      const waited = isThenable<Step>(pending) ? await secondStepInTurn(pending, stop) : pending;
      second = waited === STOP ? undefined : waited;
      if (second?.done) {
        // One chunk and the end: the length is known, as for an array.
        iterator = undefined; // ended: nothing to close, as above
        held = false;
        const head = fetchHead(parsed, headers, method, chunk.byteLength);
        committed = true;
        return fetchResponse(head.noBody ? null : chunk, head);
      }
      if (second !== undefined) checkChunk(second.value); // a bad chunk still in hand answers 500, not a cut
    }
    held = false;
    const head = fetchHead(parsed, headers, method, undefined);
    committed = true;
    if (head.noBody) {
      // The rest of the body is not wanted (a HEAD answered with the GET's fields): its source is
      // told before it is closed, as under serve(), so one waiting on `tsgi.signal` stops at once;
      // the abort it throws then is the body stopping as asked, not logged.
      abortRequestSignal(environ, bodyClosedEarly());
      if (second === undefined) (pending as Promise<Step> | undefined)?.then(undefined, unlessAbort(log));
      void closeBody(iterator, unlessAbort(log));
      return fetchResponse(null, head);
    }
    const ctx = environ['tsgi.fetch_execution_context'] as FetchExecutionContext | undefined;
    const waitUntil = typeof ctx?.waitUntil === 'function' ? ctx.waitUntil.bind(ctx) : undefined;
    const stream = resumeBody(chunk, second ?? pending, iterator, head.declared, log, waitUntil, stop);
    stop = undefined; // the stream's now
    const response = fetchResponse(stream, head);
    streamed.add(response);
    return response;
  } catch (thrown) {
    const error = readableThrow(thrown);
    // Before the head an HTTPException is the answer (see escapedAnswer); a second one is a 500.
    const exception = answering || committed ? null : escapedAnswer(error, log, environ);
    // The answer is the adapter's, not the app's: for accessLog, whose line the close writes.
    serverStatusKey.set(environ, exception?.code ?? 500);
    if (iterator !== undefined) void closeBody(iterator, log);
    // The body failed while the head waited for its first two steps: the answer keeps its fields
    // that are no representation's (`heldFields`: `X-Request-Id`, `Access-Control-*`…), as
    // `serve()`'s. An app that threw, or whose promise rejected, held no head.
    const kept = held && headers !== undefined ? heldFields(headers) : undefined;
    if (exception !== null) {
      const app = exception.toApp();
      const answer = kept === undefined ? app : keepingHeldFields(app, kept);
      return respond(answer, environ, undefined, true);
    }
    log(error);
    setServerBytes(environ, INTERNAL_ERROR_LENGTH);
    return plain(500, 'Internal Server Error', INTERNAL_ERROR, method, kept);
  } finally {
    stop?.dispose();
    // The head is settled (or the adapter's own answer replaced it): a line waiting for that goes.
    settleHead(environ);
  }
}

/**
 * `response`, once the request body the app left unread, wholly or part-way, has been read and
 * dropped (bounded: see `drainUnread`), so that the runtime does not reset the connection under
 * the answer.
 */
function afterBody(request: globalThis.Request, response: globalThis.Response): globalThis.Response | Promise<globalThis.Response> {
  const drained = drainUnread(request);
  return drained === undefined ? response : drained.then(() => response);
}

/**
 * A gateway app as a fetch handler `(request, env?, ctx?) => Promise<Response>`: for
 * `Bun.serve({ fetch: toFetchHandler(app) })`, `Deno.serve(toFetchHandler(app))`, a Cloudflare
 * Worker (`export default { fetch: toFetchHandler(app) }`), `@hono/node-server` or srvx on
 * Node, or a framework route that forwards a `Request`.
 *
 * The environ follows the Node adapter's rules: scheme, host and port from the request URL
 * (`serverName`/`serverPort` override them), `SCRIPT_NAME` from `options.scriptName`,
 * `PATH_INFO` percent-decoded as UTF-8, `REQUEST_URI` the path and query as the runtime has
 * them, one `HTTP_*` key per header (names with `_` dropped), the client address where the
 * runtime gives one (see docs/deployment.md), `tsgi.input` streaming the request body (a body
 * that code before the handler read or locked, such as a Hono middleware's `c.req.json()`,
 * fails the app's read with an `Error` saying so: a logged 500), `tsgi.signal` the request's
 * signal (a client that leaves while the app works is told to the layers that watch for it:
 * `accessLog` logs its `499` then), joined, under a `shutdownSignal` and for a HEAD, with the
 * adapter's own abort of a body it ends: an event stream the shutdown ends, the rest of a
 * HEAD's streamed body (`response body closed before its end`, as under `serve()`). `env` and `ctx` are in the environ as `tsgi.fetch_env`
 * and `tsgi.fetch_execution_context` (`fetchEnvKey`, `fetchExecutionContextKey`).
 *
 * The answer: a body in memory (an array, or a stream that ends right after its first chunk,
 * not an empty one: that commits the head at once, docs/spec.md §6) goes out whole with its length; any other stream as a pull-based `ReadableStream`, one chunk
 * per read (backpressure), whose cancel (the client left) runs the body iterator's `return()`;
 * a client that leaves before the body's first chunk (the request's signal aborts) has it run
 * then, not at that chunk, which may never come, and the answer nobody reads is an empty
 * `499`.
 * HEAD, 204, 205 and 304 carry no body (one the app gives is dropped, its iterator closed, a
 * HEAD's `tsgi.signal` aborted first, so its source stops at once, and a 204's, 205's or
 * 304's when read after the app gave that status; a 205 goes out with
 * `Content-Length: 0`);
 * hop-by-hop fields are dropped. An answer that does not stream, given while the app never
 * touched the request body (a 413, a 401, a 403 to an upload) or left its loop over it
 * part-way (a `break`), is handed over once the rest of that body has been read and dropped,
 * up to 4 MiB or 2 s: Bun and `@hono/node-server` would otherwise reset the connection under
 * it, or close it before the next request (see docs/deployment.md).
 *
 * Errors: a malformed path escape, invalid UTF-8 or an invalid Host answers `400`, more than
 * `maxHeaders` fields `431`, a declared `Content-Length` past `maxBodySize` `413`, a path
 * outside `scriptName` `404`, all as plain text without calling the app (a body past
 * `maxBodySize` that declared no length fails the app's read of it with a 413). An app error is logged to `tsgi.errors` with the request line (not
 * an `AbortError` or `TimeoutError`, or the signal's own reason, once the client left: the app
 * stopping on `tsgi.signal` as asked, as under `serve()`); before the
 * headers it answers a plain `500`, after them the body stream errors and the runtime cuts the
 * connection, so a truncated body never looks whole.
 *
 * Shutdown: give `options.shutdownSignal`, aborted when your server begins to stop (before
 * Deno's `server.shutdown()`, Bun's `server.stop()`), and `text/event-stream` answers end then,
 * cleanly, instead of holding the shutdown for ever; the app sees it as `req.shutdownSignal`.
 * As under `serve()`, such a stream's `tsgi.signal` (`req.signal`) aborts as it ends (before
 * its body is closed; under `compress`, once the layer ended it, its coding finished), with an
 * `AbortError` whose message is `server shutting down`, so a source waiting on it alone stops
 * and its `finally` runs. Without a `shutdownSignal`, `tsgi.signal` is `request.signal` itself,
 * but for a HEAD (see above) and when first read once the app gave a 204, 205 or 304, whose
 * streamed body's rest is dropped the same way (its signal aborted first).
 *
 * @throws TypeError (at once) when `app` is not an app (an Express, Connect or Koa app is
 *   named as such: it runs under its own `listen()`, with tsgi apps inside by `toNodeHandler`),
 *   `options.scriptName` is malformed,
 *   `options.maxBodySize` is not a non-negative integer, `options.shutdownSignal` is not an
 *   `AbortSignal`, `options.multiprocess` is not a boolean, or `options.serverName`,
 *   `serverPort`, `log` or `maxHeaders` is of another shape (see `EnvironOptions`).
 */
export function toFetchHandler(app: AppLike, given: FetchHandlerOptions = {}): FetchHandler {
  refuseNodeFramework(app, 'toFetchHandler');
  const callable = toApp(app);
  checkOptions('toFetchHandler', given, FETCH_HANDLER_OPTIONS);
  // Checked once here, so each request's environ reads a boolean (`'false'` is truthy). A
  // Worker runs in many isolates at once, none sharing memory with another.
  const options: FetchHandlerOptions = { ...given, multiprocess: booleanOption('toFetchHandler', 'multiprocess', given.multiprocess, inWorkers) };
  checkScriptName(options.scriptName);
  checkEnvironOptions('toFetchHandler', options);
  checkTrustedHosts(options.trustedHosts);
  checkRedactQuery(options.redactQuery, 'toFetchHandler');
  checkMaxBodySize(options.maxBodySize);
  const shutdown = shutdownWatchOf(options.shutdownSignal);
  return (request, env, ctx) => {
    let environ: Environ;
    try {
      environ = createFetchEnviron(request, env, ctx, options);
    } catch (error) {
      if (error instanceof HTTPClientError) return Promise.resolve(afterBody(request, plain(error.code, error.title, `${error.title}: ${error.message}\n`, request.method)));
      const line = `${request.method} ${redactQuery(request.url, options.redactQuery ?? [])} HTTP/1.1`;
      logError(options.log ?? stderrLog, line, error);
      return Promise.resolve(afterBody(request, plain(500, 'Internal Server Error', 'Internal Server Error\n', request.method)));
    }
    const answer = respond(callable, environ, shutdown);
    // A request without a body (GET, HEAD) has nothing to drain: no step added to its answer.
    return request.body === null ? answer : answer.then((response) => (streamed.has(response) ? response : afterBody(request, response)));
  };
}
