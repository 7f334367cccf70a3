/**
 * One request/response exchange of the Node adapter: running the app, the state of
 * `startResponse`, sending an in-memory body, and answering app errors.
 *
 * @module
 */
import { AsyncResource } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type App, type Body, type Environ, type StartResponse } from '../../gateway/types.ts';
import { checkChunk, isThenable } from '../../gateway/body.ts';
import { logRequestError, wasLogged } from '../../gateway/log.ts';
import { isAbort } from '../../gateway/abort.ts';
import { sendHead } from './head.ts';
import { prepareUnreadBody } from './linger.ts';
import { pump } from './pump.ts';
import { hasBodyStarted } from './body-started.ts';
import { guardSend } from './send-timeout.ts';
import { endPlain, endWith } from './end.ts';
import type { ExchangeState, ServerState } from './state.ts';
import type { ShutdownWatch } from '../../gateway/shutdown.ts';
import { cutResponse, isHttp2, responseGone, sentWhole } from './http2-compat.ts';
import { isBodyLimitError } from '../body-limit.ts';
import { escapedAnswer } from '../../exceptions/escaped.ts';
import { bodyFailureBehind, isBodyFailure } from '../../exceptions/body-failure.ts';
import { inputFailure, isBodyReadable } from '../../request/input.ts';
import { type HeadWait, awaitHead, serverStatusKey, setServerBytes, settleHead } from '../../gateway/server-status.ts';
import { isBrokenOff } from '../../gateway/readable-input.ts';
import { isReadTimeout } from '../../gateway/read-timeout.ts';
import { unwatchClient, watchClient } from './client-watch.ts';
import { resetConnection, sendHeld } from './reset.ts';
import type { Socket } from 'node:net';
import { startedTwice } from '../../gateway/start-errors.ts';
import { heldFields, keepingHeldFields } from '../../gateway/held-fields.ts';
import { type SessionLoad, sessionLoadOf } from './h2-running.ts';
import { readableThrow } from '../../gateway/unreadable-throw.ts';

/** The fields Express/Connect leave on a request routed by `app.use(path, handler)`. */
export interface ExpressRequest {
  baseUrl?: unknown;
  originalUrl?: string | undefined;
}

const INTERNAL_ERROR = Buffer.from('Internal Server Error\n');

/** See {@link Exchange.headGone}. */
const ANSWERED_ELSEWHERE =
  'the response was sent before the app answered, by the framework around toNodeHandler or by middleware that answered after calling it; ' +
  'the app’s answer was dropped (in a Fastify route, call reply.hijack() before the handler)';
const TOO_LARGE = Buffer.from('Content Too Large\n');

/**
 * One request/response exchange: the state of `startResponse` and sending the body.
 *
 * Array bodies take a fast path (no listeners, one `writeHead` and `end`); other bodies are
 * pumped with backpressure (see `pump`), and their iterator is closed (`return()`) when the
 * client leaves.
 */
export class Exchange implements ExchangeState, HeadWait {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly environ: Environ;
  readonly state: ServerState | undefined;
  readonly shutdown: ShutdownWatch | undefined;
  readonly http2: boolean;
  status: string | undefined = undefined;
  headers: Array<[string, string]> | undefined = undefined;
  /** True when the response must carry no body (HEAD, 204, 304). */
  noBody = false;
  /** True when the body ends only when the connection does (an HTTP/1.0 client, no length). */
  closeDelimited = false;
  /** On HTTP/2, the length a streamed body must add up to (see `ExchangeState`); -1: none. */
  declaredStreamLength = -1;
  /** True while the request declared a body whose reading has not been checked at head time. */
  bodyPending: boolean;
  readonly sendTimeout: number;
  /** True once an escaped `HTTPException` is being answered (a second one answers 500). */
  answering = false;
  /** True once the app's promise settled (see {@link settle}). */
  settled = false;
  /** The wait for this exchange's head (`tsgi.head_settled`, see `awaitHead`): the exchange lends itself. */
  pending: Array<() => void> | null | undefined = null;
  /** The layers told when the client leaves while the app works (`watchClientGone`; see `HeadWait`). */
  gone: (() => void) | Array<() => void> | false | null = false;
  /** While the client is watched for leaving before the app answered (see {@link watchingGone}): its connection on HTTP/1, else `true`. */
  watching: Socket | true | undefined = undefined;
  /** On an HTTP/2 stream of `serve()`: the count of the apps running on its connection (see `countRunning`). */
  readonly load: SessionLoad | undefined;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    environ: Environ,
    state: ServerState | undefined,
    sendTimeout: number,
    shutdown: ShutdownWatch | undefined,
  ) {
    this.req = req;
    this.res = res;
    this.environ = environ;
    this.state = state;
    this.shutdown = shutdown;
    this.sendTimeout = sendTimeout;
    this.http2 = isHttp2(req);
    this.load = this.http2 && state !== undefined ? sessionLoadOf(res) : undefined;
    // RFC 9112 §6.3, and on HTTP/2 a stream its HEADERS frame did not end: the handler marked
    // that one `tsgi.input_terminated`, so the environ says it for both protocols.
    this.bodyPending = isBodyReadable(environ);
  }

  /**
   * The request's async context, for what the connection's events run late (see
   * {@link requestContext}); taken when first needed, so a request that needs none costs none.
   */
  private context: AsyncResource | undefined = undefined;

  /**
   * The async context of the request, as it was where this is first asked for (while the app
   * is called, or a step of its body: inside an `AsyncLocalStorage` store set around the
   * server's `request` event, OpenTelemetry's span), for work run from the connection's or the
   * stream's events, whose own context is the connection's.
   */
  requestContext(): AsyncResource {
    return (this.context ??= new AsyncResource('tsgi.exchange'));
  }

  /**
   * `HeadWait.onSent`: runs `then` once, complete when the response's last byte was handed to
   * the connection, else cut; in the request's async context ({@link requestContext}). On
   * HTTP/1, complete at its `finish` (but for one Node 22 emits as the client resets the
   * connection under the last write), cut at a `close` before it (not `writableFinished` read
   * at `close`: a response whose socket is no connection, `fastify.inject()`'s
   * light-my-request, finishes and closes with bytes still in that socket's buffer). On
   * HTTP/2, whose compatibility response emits `finish` when its stream closes, even reset
   * mid-body, by `writableFinished` at its `close` and the stream's reset code (`sentWhole`).
   */
  onSent(then: (complete: boolean) => void): void {
    const res = this.res;
    if (res.writableFinished || responseGone(res)) return then(sentWhole(res));
    const context = this.requestContext();
    if (this.http2) {
      res.once('close', () => context.runInAsyncScope(then, null, sentWhole(res)));
      return;
    }
    const over = (complete: boolean) => {
      res.off('finish', finished);
      res.off('close', closed);
      context.runInAsyncScope(then, null, complete);
    };
    // Node 22 also emits `finish` when the connection fails under the last write (the client
    // reset it mid-body: the response was detached from its socket first, so Node's own check
    // of the socket's error is skipped); Node 24 emits only `close`. The socket's error tells.
    const socket = this.req.socket as { errored?: unknown } | null | undefined;
    const finished = () => over(socket?.errored == null);
    const closed = () => over(res.writableFinished);
    res.once('finish', finished);
    res.once('close', closed);
  }

  /** `HeadWait.tellingGone`: the watches told of a client gone run in the request's async context. */
  tellingGone(tell: () => void): void {
    const context = this.context;
    if (context === undefined) tell();
    else context.runInAsyncScope(tell);
  }

  /** PEP 3333 `start_response`: records the status and headers; they are checked at sending. */
  startResponse: StartResponse = (status, headers, error) => {
    if (error !== undefined) {
      if (hasBodyStarted(this.res) || this.res.headersSent) throw error;
    } else if (this.status !== undefined) {
      throw startedTwice();
    }
    if (!Array.isArray(headers)) throw new TypeError('startResponse headers must be an array of [name, value] pairs');
    this.status = status;
    this.headers = headers;
  };

  /**
   * Before the head goes out: a request body still arriving may keep the connection from
   * being reused (see `prepareUnreadBody`). Checked once per exchange, and only when the
   * request declared a body.
   */
  checkUnreadBody(): void {
    if (!this.bodyPending) return;
    this.bodyPending = false;
    if (!this.req.complete) prepareUnreadBody(this.req, this.res);
  }

  /** Runs the app and sends its answer. */
  run(app: App): void {
    // A layer above may see the body end while the app is called (`timeout` and `compress`
    // take its first step): what it leaves for the head (accessLog's line) waits for it.
    awaitHead(this.environ, this);
    let body: Body | Promise<Body>;
    try {
      body = app(this.environ, this.startResponse);
    } catch (error) {
      // A layer may have watched for the client (an `accessLog` below it) before it threw.
      this.stopWatching();
      this.fail(error);
      return;
    }
    if (isThenable<Body>(body)) this.awaitBody(body);
    else {
      this.stopWatching();
      this.send(body);
    }
  }

  /**
   * {@link run} for an app that answered a promise: its answer is sent once it settles. A method
   * of its own, as is {@link pumpBody}: V8 allocates the context a closure captures (`this`
   * here) as a function starts, and the synchronous answer makes no closure.
   */
  private awaitBody(body: PromiseLike<Body>): void {
    // Counted while the app works on its answer: `close()` waits for the apps it cut.
    if (this.state !== undefined) this.state.answering++;
    // And on HTTP/2 by its connection, whose client may reset the stream meanwhile (see `countRunning`).
    if (this.load !== undefined) this.load.running++;
    this.settled = false; // an escaped HTTPException's answer runs again (see fail)
    try {
      body.then(
        (value) => this.settle(value, false),
        (error: unknown) => this.settle(error, true),
      );
    } catch (error) {
      this.settle(error, true);
    }
  }

  /**
   * A layer began to watch for the client leaving while the app works (`watchClientGone`,
   * through `tsgi.head_settled`): the connection's or the stream's `close` tells it (see
   * `watchClient`), until the app's promise settles, in the request's async context (taken now,
   * while the app is called: see {@link tellingGone}). `serve()` hears every HTTP/2 stream's
   * `close` anyway.
   */
  watchingGone(): void {
    this.requestContext();
    if (this.watching === undefined) this.watching = watchClient(this.req, this.res, this.environ, this.http2, this.state !== undefined) ?? true;
  }

  /**
   * The app answered (its promise settled, or it threw): a client leaving from now on is the
   * body's business (see `pump`), and the connection no longer points at this request's
   * environ (an idle keep-alive connection would keep it alive).
   */
  private stopWatching(): void {
    const watching = this.watching;
    if (watching === undefined) return;
    if (this.gone) this.gone = false;
    if (watching !== true) unwatchClient(watching, this.environ);
    this.watching = undefined;
  }

  /**
   * The app's promise settled: its answer is sent (or its error failed), and `close()` told.
   * Once: a thenable that calls back again (not Promises/A+) is ignored then, as a promise
   * ignores a second resolve, so the count of apps answering stays right.
   */
  settle(outcome: unknown, failed: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.stopWatching();
    try {
      if (failed) this.fail(outcome);
      else this.send(outcome as Body);
    } finally {
      const state = this.state;
      if (this.load !== undefined) this.load.running--;
      if (state !== undefined && --state.answering === 0) state.onAnswered?.();
    }
  }

  /** Sends the body the app answered: arrays on the fast path, anything else pumped. */
  send(body: Body): void {
    if (Array.isArray(body) && this.status !== undefined) {
      try {
        this.sendArray(body as unknown[]);
      } catch (error) {
        this.fail(error);
      }
      return;
    }
    this.pumpBody(body);
  }

  /** {@link send} for a body that is not an array: pumped, and counted by the server while it is. */
  private pumpBody(body: Body): void {
    const pumping = pump(this, body);
    const all = this.state?.pumping;
    if (all !== undefined) {
      all.add(pumping);
      const load = this.load;
      if (load !== undefined) load.running++;
      void pumping.then(() => {
        all.delete(pumping);
        if (load !== undefined) load.running--;
      });
    }
  }

  /** Fast path: an array body is already in memory, so its length is known. */
  sendArray(chunks: unknown[]): void {
    let length = 0;
    for (let i = 0; i < chunks.length; i++) length += checkChunk(chunks[i]).byteLength;
    if (this.headGone()) return;
    const res = this.res;
    // The server's own answer (an escaped HTTPException's page, see fail): its bytes, for the
    // access log, before the head is settled (sendHead), which writes the line.
    if (this.answering) setServerBytes(this.environ, length);
    sendHead(this, length);
    // Node drops the bytes of a HEAD, 204 or 304 answer itself, not those of a 205.
    if (this.noBody) res.end();
    else if (chunks.length === 1) endWith(res, chunks[0] as Uint8Array);
    else {
      for (let i = 0; i < chunks.length; i++) res.write(chunks[i] as Uint8Array);
      res.end();
    }
    guardSend(res, this.sendTimeout);
  }

  /**
   * True when the app's answer finds its response gone before its head was written: the client
   * left while the app was working, or, under `toNodeHandler`, the framework around the handler
   * answered (a response that *finished*: a Fastify route without `reply.hijack()` resolves and
   * Fastify sends an empty 200, or middleware answered after calling it). The app's answer is
   * dropped either way; the latter is logged, instead of dropped unseen (not on HTTP/2, where a
   * response reads as finished once the client reset its stream). No head will come, so what
   * waits for it (`tsgi.head_settled`) goes.
   */
  headGone(): boolean {
    const res = this.res;
    if (!res.destroyed && !(this.http2 && responseGone(res))) return false;
    if (this.state === undefined && !this.http2 && res.writableFinished) this.log(new Error(ANSWERED_ELSEWHERE));
    settleHead(this.environ);
    return true;
  }

  /**
   * Writes an error to `tsgi.errors` with the request line (standard error if that throws),
   * followed by `note` (` 502`: the status an escaped `HTTPException` answered).
   */
  log(error: unknown, note = ''): void {
    logRequestError(this.environ['tsgi.errors'], this.environ, note, error);
  }

  /**
   * An app error: logged; a 500 before the headers are out; after, the connection is cut (on
   * HTTP/2, the stream is reset). Before the headers, an `HTTPException` is the answer instead
   * of the 500, logged only when it is a 5xx (`escapedAnswer`). The body limit's error
   * (`maxBodySize`, raised while the app read `tsgi.input`) is a 413, not logged; nor is an error
   * the `errors` middleware logged already (`markLogged`), nor an
   * `AbortError` or `TimeoutError` once the client has gone (the body stopping on `tsgi.signal`,
   * as asked), nor the request stream's own error (the body broke off: answered 400 when the
   * head is not out, as `req.bytes()` answers it), nor the `408` of a read that waited past
 * `bodyTimeout` (`isReadTimeout`), nor the 4xx a body reader left in
   * `tsgi.input` or an error that wraps it (`isBodyFailure`: answered as that 4xx before the
   * head, a cut after it). The status
   * answered instead of the app's is left in `tsgi.server_status` (`serverStatusKey`), for the
   * access log. With `held` (the app answered with its body, which failed before the head
   * was written: at its opening, its first step or the second one the head waited for, see
   * `pump`), the server's answer, the exception's or the plain one, keeps the fields of the
   * head the app gave that are no representation's (`heldFields`: `X-Request-Id`,
   * `Access-Control-*`…). An app that threw, or whose promise rejected, held no head.
   */
  fail(error: unknown, held = false): void {
    error = readableThrow(error);
    // The request's own body broke off (the client left mid-upload, or the parser refused the
    // body and answered 400 itself; over HTTP/2 a stream reset mid-body), and a raw app let the stream's error propagate: the
    // client's doing, answered as the body readers answer it (400), never logged as the app's.
    // So is a read that waited past `bodyTimeout` (its 408, `isReadTimeout`): the client stalled.
    const inputBroke = error !== undefined && (error === this.req.errored || isBrokenOff(error) || isReadTimeout(error));
    if (inputBroke) error = inputFailure(error);
    // An error that wraps the failure a body reader left in `tsgi.input` (a sink's `fetch
    // failed` whose cause is the part's 413 or the 400 of a client gone): the same, answered
    // as that reader's error (see `escapedAnswer`) and not logged, before or after the head.
    const bodyFailure = inputBroke ? null : bodyFailureBehind(this.environ, error);
    if (bodyFailure !== null) error = bodyFailure;
    const tooLarge = isBodyLimitError(error);
    const res = this.res;
    // Only on this failure path: the held head's fields the server's own answer keeps.
    const given = this.headers;
    const kept = held && given !== undefined && !res.headersSent ? heldFields(given) : undefined;
    if (!tooLarge && !this.answering && !res.headersSent && !responseGone(res)) {
      // A 5xx the `errors` middleware logged already (its body failed before the head: a proxied
      // page whose upstream died under a filter) is logged there, with the status answered here.
      const exception = escapedAnswer(error, (e, note) => wasLogged(this.environ, e) || this.log(e, note), this.environ);
      if (exception !== null) {
        // The exception is the answer (see escapedAnswer): the app's status and fields are
        // dropped, but those of a held head that are no representation's.
        this.answering = true;
        serverStatusKey.set(this.environ, exception.code);
        this.status = undefined;
        this.headers = undefined;
        const app = exception.toApp();
        this.run(kept === undefined ? app : keepingHeldFields(app, kept));
        return;
      }
    }
    // A body that stops with the signal once the client left did what it was asked: no error;
    // nor is the failed read of the request body, bare or wrapped, once it cannot be answered.
    const stoppedAsAsked = inputBroke || isBodyFailure(this.environ, error) || (responseGone(res) && isAbort(error));
    if (!tooLarge && !stoppedAsAsked && !wasLogged(this.environ, error)) this.log(error);
    try {
      this.answerFailure(res, tooLarge, kept);
    } finally {
      // The server's own answer (or the cut) replaced the app's: what waited for the head goes.
      settleHead(this.environ);
    }
  }

  /**
   * {@link fail}'s answer once the error is not the answer: a cut after the head, else a 413 or
   * 500, with `kept`, the fields of a held head it replaces (`heldFields`).
   */
  private answerFailure(
    res: this['res'],
    tooLarge: boolean,
    kept: Array<[string, string]> | undefined,
  ): void {
    if (responseGone(res)) return;
    if (res.headersSent) {
      // A close-delimited body would end cleanly on FIN: reset, so the cut shows as an error.
      const socket = res.socket;
      // What the body gave before its failure goes first (over HTTP/1.1; HTTP/2 sends its frames itself).
      if (socket && !this.http2) sendHeld(socket);
      if (this.closeDelimited && socket) resetConnection(socket);
      else cutResponse(res);
      return;
    }
    try {
      res.strictContentLength = false;
      this.checkUnreadBody();
      serverStatusKey.set(this.environ, tooLarge ? 413 : 500);
      setServerBytes(this.environ, (tooLarge ? TOO_LARGE : INTERNAL_ERROR).byteLength);
      if (tooLarge) endPlain(res, 413, 'Content Too Large', TOO_LARGE, true, kept);
      else endPlain(res, 500, 'Internal Server Error', INTERNAL_ERROR, false, kept);
    } catch {
      res.destroy();
    }
  }
}
