/**
 * The `(req, res)` handler that runs a gateway app on a Node request: builds the environ,
 * answers a request the app must not see, and hands the rest to an {@link Exchange}.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { type App, type AppLike, type Environ, toApp } from '../../gateway/types.ts';
import { logError, requestLine } from '../../gateway/log.ts';
import { HTTPException } from '../../exceptions/base.ts';
import { framingError } from './framing.ts';
import { UNMET_EXPECTATION, expectationOf } from '../../http/expectation.ts';
import { ABSOLUTE_FORM, H2_REQUEST_LIMITS_OPTION, NODE_ENVIRON_OPTIONS, type NodeEnvironOptions, READ_TIMEOUT_OPTION, type ServerEnvironOptions, buildEnviron, decodePath } from './environ.ts';
import { h2RequestRefusal } from './h2-request-refusal.ts';
import { bodyTimeoutOf } from './body-timeout.ts';
import { editedRawHeaders } from './edited-fields.ts';
import { expressPlainLocation } from './express-raw-path.ts';
import { HTTPPermanentRedirect } from '../../exceptions/redirects.ts';
import { checkScriptName } from '../environ-rules.ts';
import { checkEnvironOptions } from '../environ-options.ts';
import { checkTrustedHosts } from '../../http/trusted-hosts.ts';
import { checkRedactQuery } from '../../gateway/redact-query.ts';
import { Exchange, type ExpressRequest } from './exchange.ts';
import type { ServerState } from './state.ts';
import { prepareUnreadBody } from './linger.ts';
import { continueOnRead } from './continue.ts';
import { answerOnSocket } from './client-error.ts';
import { endPlain } from './end.ts';
import { sendTimeoutOf } from './send-timeout.ts';
import { checkMaxBodySize, limitBody } from '../body-limit.ts';
import { closeEmitter, cutResponse, http2HasBody, http2Stream, isHttp2 } from './http2-compat.ts';
import { sendHeld } from './reset.ts';
import { destroyOnPeerReset, goneBeforeServed, resetBeforeHandler } from './h2-peer-reset.ts';
import { behindClosingAnswer, closeAfterUpgradeRequest, waitsForTurn } from './pipelining.ts';
import { FailedInput } from '../../gateway/input.ts';
import { prematureClose } from '../../gateway/readable-input.ts';
import { inputFailure } from '../../request/input.ts';
import { refuseNodeFramework } from '../../gateway/foreign-app.ts';
import { type Reporter, refusalReporter } from './refused.ts';
import { shutdownWatchOf } from '../../gateway/shutdown.ts';
import { booleanOption, checkOptions } from '../../gateway/option-names.ts';

/**
 * A short plain-text answer that closes the connection (for requests the app never sees):
 * `reason: detail` (the reason alone without a detail), reported to `report`.
 */
function plainAnswer(req: IncomingMessage, res: ServerResponse, code: number, reason: string, detail: string, report: Reporter | undefined): void {
  if (!req.complete) prepareUnreadBody(req, res);
  const body = Buffer.from(detail === '' ? `${reason}\n` : `${reason}: ${detail}\n`);
  endPlain(res, code, reason, body, true);
  report?.(code, detail === '' ? reason : detail, body.byteLength, req);
}

/**
 * The `checkExpectation` listener of `serve()` (reporting to `report`): a request whose `Expect` field asks for
 * anything but `100-continue` gets `417 Expectation Failed` with a one-line reason (RFC 9110
 * §10.1.1; Node's own 417 has no body), and the connection closes. The app is not called.
 * An `Expect` that lists nothing (empty, blanks and commas), which Node passes here too, asks
 * for nothing to refuse: the request goes to `handle`, as Apache ignores such a field. One
 * that names `100-continue` in another case (`100-Continue`: the value is case-insensitive),
 * which Node's HTTP/2 server passes here (its HTTP/1 parser takes it for `checkContinue`),
 * goes to `handleContinue`, as over HTTP/1.1.
 */
export function expectationRefuser(
  report: Reporter | undefined,
  handle: (req: IncomingMessage, res: ServerResponse) => void,
  handleContinue: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const expectation = expectationOf(String(req.headers.expect));
    if (expectation === 'none') handle(req, res);
    else if (expectation === 'continue') handleContinue(req, res);
    else plainAnswer(req, res, 417, 'Expectation Failed', UNMET_EXPECTATION, report);
  };
}

/**
 * The `connect` listener of `serve()` (reporting to `report`): a CONNECT request (RFC 9110 §9.3.6: open a tunnel, as
 * asked of a forward proxy) gets `501 Not Implemented` with a one-line reason, as the server
 * tunnels nowhere and an app cannot either; the connection (HTTP/2: the stream) then closes.
 * The app is not called. Without this listener Node closes an HTTP/1 connection without a word
 * and answers an HTTP/2 one a bare `405`. On HTTP/1 Node hands over the socket instead of a
 * response (`head`, the bytes after the request head, is dropped with what follows).
 */
export function connectRefuser(report: Reporter | undefined): (req: IncomingMessage, target: ServerResponse | Socket) => void {
  return (req, target) => {
    if (target instanceof Socket) {
      const bytes = answerOnSocket(target, 501, 'Not Implemented', CONNECT_REFUSED);
      report?.(501, CONNECT_REFUSED, bytes, req);
    } else plainAnswer(req, target, 501, 'Not Implemented', CONNECT_REFUSED, report);
  };
}

const CONNECT_REFUSED = 'CONNECT is not supported: this server is no proxy';

/**
 * Counts the request in flight on `state`; `false` (and a 503 sent) when `maxInFlight` are
 * already in flight.
 */
function admit(req: IncomingMessage, res: ServerResponse, state: ServerState, report: Reporter | undefined): boolean {
  if (state.inFlight >= state.maxInFlight) {
    plainAnswer(req, res, 503, 'Service Unavailable', 'too many requests in flight', report);
    return false;
  }
  state.inFlight++;
  // On HTTP/2 the stream's: a HEAD reset before its answer closes no response (see closeEmitter).
  closeEmitter(res).once('close', () => state.inFlight--);
  return true;
}

/**
 * Why `tsgi.input` fails when a handler before this one (Express's `express.json()`,
 * `express.urlencoded()`, multer, Fastify's content-type parsers) read the body: its bytes are
 * gone, and an empty or partial body would read as the client's fault (a 400 "not valid JSON")
 * or as an empty form. The message says what to do in both frameworks.
 */
const BODY_READ_BEFORE =
  'the request body was read before toNodeHandler (by a body parser such as express.json(), express.urlencoded(), multer or Fastify’s content-type parsers): ' +
  'mount the tsgi app before body-parsing middleware (in Fastify, call removeAllContentTypeParsers() in the scope of its route and add a parser for \'*\' that leaves the body alone)';

/**
 * The request line of `req` before there is an environ, its target as the client sent it
 * (Express's `originalUrl`), the values of the `redactQuery` parameters hidden.
 */
function rawRequestLine(req: IncomingMessage, redact: readonly string[] | undefined): string {
  return requestLine({
    REQUEST_METHOD: req.method ?? 'GET',
    REQUEST_URI: (req as ExpressRequest).originalUrl ?? req.url ?? '',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    SCRIPT_NAME: '',
    PATH_INFO: '',
    QUERY_STRING: '',
    'tsgi.redact_query': redact,
  });
}

/** Why {@link alreadySent} did not call the app. */
const ALREADY_SENT = 'the response was already sent before toNodeHandler (by code that answered, then called next()): the app was not called';

/**
 * Under toNodeHandler, a response whose head code before the handler sent (Express middleware
 * that answered with `res.end()` or `res.send()`, then called `next()`): the app, which could
 * answer nothing, is not called (a POST's work would be done unseen), and the line says why. An
 * answer ended stays as it is; one whose end has not gone out is cut, as Express's
 * `finalhandler` cuts it, so its client never takes what went out for a whole answer.
 */
function alreadySent(req: IncomingMessage, res: ServerResponse, options: ServerEnvironOptions): void {
  logError(options.log, rawRequestLine(req, options.redactQuery), ALREADY_SENT);
  if (res.writableEnded) return;
  // What went out before goes first (over HTTP/1.1; HTTP/2 sends its frames itself), then the cut.
  if (res.socket && !isHttp2(req)) sendHeld(res.socket);
  cutResponse(res);
}

/**
 * Express's mount path goes in front of SCRIPT_NAME; its original URL is the raw REQUEST_URI.
 * Express turns a request for the mount path itself (`/v2`, `/v2?x`, `http://host/v2`) into `/`; it gets the
 * empty `PATH_INFO` it has under `mount()` (spec §9), so an app can tell it from `/v2/` and
 * redirect to the slash that relative links need.
 */
function mountExpress(req: IncomingMessage, environ: Environ, baseUrl: string): void {
  environ.SCRIPT_NAME = decodePath(baseUrl) + environ.SCRIPT_NAME;
  let original = (req as ExpressRequest).originalUrl;
  if (typeof original !== 'string') return;
  // A fragment is no part of a request-target (RFC 9112 §3.2): dropped, as `buildEnviron` drops it.
  const hash = original.indexOf('#');
  if (hash !== -1) original = original.slice(0, hash);
  environ.REQUEST_URI = original;
  const q = original.indexOf('?');
  let path = q === -1 ? original : original.slice(0, q);
  // An absolute-form target names the same path after its scheme and authority (RFC 9112 §3.2.2).
  if (path.charCodeAt(0) !== 47 /* / */) path = path.slice(ABSOLUTE_FORM.exec(path)?.[0].length ?? 0);
  if (environ.PATH_INFO === '/' && path === baseUrl) environ.PATH_INFO = '';
}

/**
 * The handler behind {@link toNodeHandler} and `serve`; `state` is the server's (its
 * `closing` flag), absent for a handler mounted on someone else's server. `expectContinue`
 * marks the handler of Node's `checkContinue` event: `100 Continue` is then sent when the app
 * first reads `tsgi.input`.
 */
export function createHandler(
  app: AppLike,
  given: NodeEnvironOptions,
  state: ServerState | undefined,
  expectContinue = false,
): (req: IncomingMessage, res: ServerResponse) => void {
  // The body timeout, made once here for every request's `tsgi.input` (see `READ_TIMEOUT_OPTION`).
  const readTimeout = bodyTimeoutOf(given.bodyTimeout);
  // Only under toNodeHandler can another framework have handled the request first.
  const embedded = state === undefined;
  const where = embedded ? 'toNodeHandler' : 'serve';
  const options: ServerEnvironOptions = {
    ...given,
    // Checked once here, so each request's environ reads a boolean (`'false'` is truthy).
    multiprocess: booleanOption(where, 'multiprocess', given.multiprocess),
    clientCertificate: booleanOption(where, 'clientCertificate', given.clientCertificate),
    [READ_TIMEOUT_OPTION]: readTimeout,
  };
  refuseNodeFramework(app, where);
  const callable = toApp(app);
  const sendTimeout = sendTimeoutOf(options.sendTimeout);
  checkScriptName(options.scriptName);
  checkEnvironOptions(where, options);
  checkTrustedHosts(options.trustedHosts);
  checkRedactQuery(options.redactQuery, where);
  const maxBodySize = options.maxBodySize;
  checkMaxBodySize(maxBodySize);
  const shutdown = shutdownWatchOf(options.shutdownSignal);
  const limited = !embedded && state.maxInFlight > 0;
  const report = refusalReporter(options.onRefused, options.log, options.redactQuery);
  const h2Limits = options[H2_REQUEST_LIMITS_OPTION];
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    // On the user's own HTTP/2 server no `trackSessions` watches the stream: done here, as `serve()` does.
    // Its host may call the handler late, once its client has reset the stream (`resetBeforeHandler`).
    let resetEarly = false;
    if (isHttp2(req)) {
      const stream = http2Stream(req)!;
      if (embedded) {
        resetEarly = resetBeforeHandler(stream);
        destroyOnPeerReset(stream);
      } else if (goneBeforeServed(stream)) {
        // Under `serve()`, a stream its client reset in the read that opened it is left unrun (rapid reset).
        return;
      }
    }
    if (embedded && res.headersSent) {
      alreadySent(req, res, options);
      return;
    }
    if (waitsForTurn(req, res, handle) || behindClosingAnswer(req, res)) return;
    if (limited && !admit(req, res, state!, report)) return;
    let environ: Environ;
    // Under Express, a path it routed with escapes of plain characters: the 308 to its plain
    // spelling, relative (made without the environ): the app's `proxyFix` never sees this answer,
    // so an absolute URL would name the host and scheme behind the proxy.
    let plain: App | null = null;
    try {
      // What Node's HTTP/1 parser refuses (a method it does not know, a request target or a head
      // past `maxHeaderSize`) is refused over HTTP/2 too, that stream alone.
      if (h2Limits !== undefined && isHttp2(req)) {
        const refusal = h2RequestRefusal(req, h2Limits);
        if (refusal !== null) throw refusal;
      }
      // Under toNodeHandler, middleware before it may have edited req.headers.
      environ = buildEnviron(req, res, options, (embedded && editedRawHeaders(req)) || req.rawHeaders);
      const framing = framingError(environ);
      if (framing !== null) throw framing;
      if (environ.CONTENT_LENGTH === undefined && (environ.HTTP_TRANSFER_ENCODING !== undefined || (isHttp2(req) && http2HasBody(req)))) {
        environ['tsgi.input_terminated'] = true;
      }
      if (expectContinue) environ['tsgi.input'] = continueOnRead(req, res, readTimeout);
      if (maxBodySize !== undefined) limitBody(environ, maxBodySize, true);
      if (embedded) {
        // Node ended the body of a stream reset before this call as if whole: the read fails, as a cut upload's does (400).
        if (resetEarly) environ['tsgi.input'] = new FailedInput(inputFailure(prematureClose()));
        if (req.readableDidRead) environ['tsgi.input'] = new FailedInput(new Error(BODY_READ_BEFORE));
        const baseUrl = (req as ExpressRequest).baseUrl;
        if (typeof baseUrl === 'string') {
          const location = expressPlainLocation(req.url ?? '/', baseUrl, environ.SCRIPT_NAME + environ.PATH_INFO, environ.QUERY_STRING);
          if (location !== null) plain = toApp(new HTTPPermanentRedirect(location).getResponse());
          if (baseUrl !== '') mountExpress(req, environ, baseUrl);
        }
      }
    } catch (error) {
      if (error instanceof HTTPException) {
        // HTTPBadRequest, HTTPRequestHeaderFieldsTooLarge or HTTPNotFound from createEnviron or
        // decodePath, a framing error (400, 501), a declared body past maxBodySize (413).
        plainAnswer(req, res, error.code, error.title, error.message, report);
      } else {
        logError(options.log, rawRequestLine(req, options.redactQuery), error);
        plainAnswer(req, res, 500, 'Internal Server Error', '', report);
      }
      return;
    }
    closeAfterUpgradeRequest(environ, res);
    new Exchange(req, res, environ, state, sendTimeout, shutdown).run(plain ?? callable);
  };
  return handle;
}

/**
 * A `(req, res)` handler that runs a gateway app: for `http.createServer`, `https`, or
 * Express (`app.use('/tsgi', toNodeHandler(tsgiApp))`, where Express's mount path
 * `req.baseUrl` becomes `SCRIPT_NAME` and `req.originalUrl` the `REQUEST_URI`), Connect (at
 * its root, with the prefix as `options.scriptName`: it sets no `req.baseUrl`), or a Fastify
 * route that hijacks its reply (Fastify tells the handler no prefix: under a plugin's `prefix`,
 * pass the same one as `options.scriptName`).
 *
 * Request fields that code before the handler edited on `req.headers` (added, replaced,
 * deleted) reach the environ as edited; the others come from `req.rawHeaders` as sent, and so
 * do `Content-Length` and `Transfer-Encoding` (they framed the body `tsgi.input` reads) and a
 * Host sent more than once (answered 400). HTTP/1 requests only: on HTTP/2 the environ is
 * built from the fields as the client sent them.
 *
 * A bad request-target (malformed path escape, invalid UTF-8, invalid or repeated Host) is
 * answered 400 without calling the app. Under Express, which matches its routes against the raw
 * path, a path escaping a character a path may carry as it is (`/t/%61dmin`, `/t/admin%2Fx`) is
 * answered `308` to its plain spelling (`/t/admin`, `/t/admin/x`), so the guards Express ran
 * first see the path the app would serve (RFC 3986 §6.2.2.2). A body that a handler before this one already read
 * (Express's `express.json()`, `express.urlencoded()`, multer, Fastify's content-type parsers)
 * cannot be read again: the app's read of `tsgi.input` then throws an `Error` saying so (a
 * logged 500), instead of answering an empty body. App errors are logged to `tsgi.errors` with the request line; before the headers
 * they answer 500, after them the connection is cut so the client never takes a truncated body
 * for a whole one. A response whose head code before the handler already sent (Express
 * middleware that answered, then called `next()`) does not reach the app: the handler logs it,
 * and cuts the connection unless that answer had ended. Requests pipelined on one HTTP/1.1 connection reach the app one at a time,
 * each once the answer before it is done (Node would run the app for every request of a read
 * at once); past 100 waiting, the connection is closed. See `serve` for the rest.
 *
 * On a `node:http2` server (`http2.createServer`, `createSecureServer`), a client's
 * `RST_STREAM(NO_ERROR)` before its stream ended is taken as a client gone, as `serve()` takes
 * it: the app's read of an unfinished body fails, its answer's body is closed and
 * `tsgi.signal` aborts at once (Node alone ends such a body as if whole and keeps the stream).
 * A reset with any code that came before your server called the handler (its async middleware
 * still at work) fails the app's read of the request body too, as a `400` from `req.bytes()`:
 * Node has by then ended that body as if whole, or thrown it away.
 *
 * Without `options.shutdownSignal` nothing here knows when your server stops: give one that
 * your shutdown aborts, and event streams end then (see `serve`'s `close()`) and
 * `req.shutdownSignal` tells the app.
 *
 * @throws TypeError (at once) for an Express, Connect or Koa app given as `app`: it is the
 *   other way round (`expressApp.use(toNodeHandler(tsgiApp))`); a `shutdownSignal` that is
 *   not an `AbortSignal`; a `bodyTimeout` or `sendTimeout` that is not a number from 0 to
 *   2147483647; a `multiprocess` or `clientCertificate` that is not a boolean; a `serverName`,
 *   `serverPort`, `log` or `maxHeaders` of another shape (see `EnvironOptions`).
 */
export function toNodeHandler(app: AppLike, options: NodeEnvironOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  checkOptions('toNodeHandler', options, NODE_ENVIRON_OPTIONS);
  return createHandler(app, options, undefined);
}
