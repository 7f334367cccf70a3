/**
 * Building the environ of a fetch `Request` (Bun, Deno, Cloudflare Workers, any `fetch(request)`
 * server), with the rules the Node adapter follows (`../environ-rules.ts`).
 *
 * @module
 */
import { type Environ, TSGI_VERSION } from '../../gateway/types.ts';
import { type EnvironKey, defineEnvironKey } from '../../gateway/environ-key.ts';
import { FetchInput } from './input.ts';
import { brokeOff } from '../../gateway/readable-input.ts';
import { EMPTY_INPUT, FailedInput } from '../../gateway/input.ts';
import { stderrLog } from '../../gateway/log.ts';
import {
  DEFAULT_MAX_HEADERS,
  type EnvironOptions,
  addField,
  applyScriptName,
  checkCredentials,
  checkFieldCount,
  checkHost,
  decodePath,
  environConstructor,
  fieldKey,
  lazyEnvironKey,
} from '../environ-rules.ts';
import { ENVIRON_OPTIONS } from '../environ-rules.ts';
import type { OptionNames } from '../../gateway/option-names.ts';
import { setClientAddress } from './client.ts';
import { serverOrigin } from './origin.ts';
import { fieldOctets, inWorkers } from '../../gateway/workers.ts';
import { inDeno } from '../../gateway/runtime.ts';
import { limitBody } from '../body-limit.ts';
import { requestSignalController } from '../../gateway/signal-controller.ts';
import { tellClientGone } from '../../gateway/client-gone.ts';

/**
 * Options of `toFetchHandler`: the {@link EnvironOptions} every adapter takes, under the same
 * names as the Node adapter's (`serverName`, `serverPort`, `scriptName`, `log`,
 * `multiprocess`, `maxHeaders`), and `maxBodySize` as `serve()` takes it.
 */
export interface FetchHandlerOptions extends EnvironOptions {
  /**
   * Largest request body, in bytes; default none (the runtime's own limit applies: Bun's
   * `maxRequestBodySize`, a Worker plan's). A declared `Content-Length` past it answers
   * `413 Content Too Large` without calling the app; any other body is counted as the app
   * reads `tsgi.input`, and the read that would pass the limit throws an `HTTPContentTooLarge`
   * (413) instead of handing the bytes over, which `req.bytes()`, `req.form()` and
   * `Request.application` answer, as the adapter does when the app lets it propagate before
   * its head. `req.bytes({ maxBodySize })` and the form limits still apply below it.
   *
   * @throws TypeError (from `toFetchHandler`, when the handler is made) for a value that is
   *   not a non-negative integer.
   */
  maxBodySize?: number | undefined;
}

/** Every option of {@link FetchHandlerOptions} (`toFetchHandler`), checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
export const FETCH_HANDLER_OPTIONS = { ...ENVIRON_OPTIONS, maxBodySize: true } as const satisfies OptionNames<FetchHandlerOptions>;

/**
 * `tsgi.fetch_request`: the fetch `Request` the runtime handed to `toFetchHandler`. Its body
 * is the stream `tsgi.input` reads: read one or the other, never both.
 */
export const fetchRequestKey: EnvironKey<globalThis.Request> = defineEnvironKey<globalThis.Request>('tsgi.fetch_request');

/**
 * `tsgi.fetch_env`: the second argument the runtime passed to the handler: a Worker's `env`
 * (its bindings: KV namespaces, secrets, …), Bun's `Server`, Deno's `ServeHandlerInfo`, what a
 * framework passes to `app.fetch(request, env)`; `undefined` when there was none.
 */
export const fetchEnvKey: EnvironKey<unknown> = defineEnvironKey<unknown>('tsgi.fetch_env');

/** The third argument of a Worker's `fetch`: `waitUntil` and `passThroughOnException`. */
export interface FetchExecutionContext {
  /** Keeps the Worker alive until `promise` settles, after the response has been sent. */
  waitUntil(promise: Promise<unknown>): void;
  /** Cloudflare: on an uncaught error, forward the request to the origin instead. */
  passThroughOnException?: (() => void) | undefined;
}

/** `tsgi.fetch_execution_context`: a Worker's `ctx` (the handler's third argument), if any. */
export const fetchExecutionContextKey: EnvironKey<FetchExecutionContext> =
  defineEnvironKey<FetchExecutionContext>('tsgi.fetch_execution_context');

/**
 * Why `tsgi.input` fails when code before the handler read the `Request`'s body (Hono's
 * `c.req.json()`, a validator, a logger of bodies) or holds a reader on it: its bytes are gone,
 * and the stream would fail with a bare "ReadableStream is locked".
 */
const BODY_READ_BEFORE =
  'the request body was read before toFetchHandler (by c.req.json(), c.req.parseBody(), a validator or other middleware): ' +
  'hand the handler a Request nobody read, or one rebuilt from what was read (new Request(request, { body }))';

/**
 * On the environ, set by {@link expectBodyDropped}: the answer's status carries no content, so
 * the adapter will drop a streamed body's rest. A symbol key, read only when `tsgi.signal` is.
 */
const DROPS_BODY = Symbol('tsgi.drops_body');

/** The request's signal joined with one the adapter aborts (`abortRequestSignal`): see {@link JOINED_SIGNAL_PROPERTY}. */
function joinedSignal(environ: Environ): AbortSignal {
  return AbortSignal.any([requestSignalController(environ).signal, (environ['tsgi.fetch_request'] as globalThis.Request).signal]);
}

/**
 * `tsgi.signal`: the request's signal, read on first use, then kept; writable, as a plain
 * property. Read once the app gave a status that carries no content (204, 205, 304:
 * {@link expectBodyDropped}), it is joined as {@link JOINED_SIGNAL_PROPERTY}'s, so that the
 * adapter can tell a streamed source whose rest it drops to stop; only then, as joining costs
 * some microseconds a request.
 */
const SIGNAL_PROPERTY = lazyEnvironKey('tsgi.signal', (environ) =>
  DROPS_BODY in environ ? joinedSignal(environ) : (environ['tsgi.fetch_request'] as globalThis.Request).signal,
);

/**
 * `tsgi.signal` under a `shutdownSignal`, and of a HEAD: the request's signal joined with one
 * the adapter aborts when it ends the answer's body itself (`abortRequestSignal`), as `serve()`
 * aborts its own: an event stream the shutdown ends, the rest of a streamed body a HEAD answer
 * does not send (`bodyClosedEarly`); made on first use, aborted already when the body ended
 * before. The adapter's abort comes first, so a runtime that aborts `request.signal` once the
 * answer is over (Deno's legacy abort) does not hide its reason. Any other request without a
 * `shutdownSignal` has the request's signal itself ({@link SIGNAL_PROPERTY}) unless read once
 * its status said no content would be sent.
 */
const JOINED_SIGNAL_PROPERTY = lazyEnvironKey('tsgi.signal', joinedSignal);

/**
 * The app gave a status whose answer carries no content (204, 205, 304): a `tsgi.signal` not
 * read yet is made joined when it is ({@link SIGNAL_PROPERTY}), so that the adapter's abort of
 * the streamed body it drops (`bodyClosedEarly`) reaches a source that reads it from now on (a
 * generator's body, which runs once the adapter asks for its first chunk). One read before
 * (by the app before it called `startResponse`) stays the request's signal: nothing can abort that.
 */
export function expectBodyDropped(environ: Environ): void {
  (environ as unknown as Record<symbol, boolean>)[DROPS_BODY] = true;
}

/** Header fields counted by {@link addHeader} for the request being built (synchronous). */
let fieldCount = 0;

/**
 * `Headers.prototype.forEach` callback (no `[name, value]` array per field, unlike `for…of`).
 * On workerd the value is turned back into its octets ({@link fieldOctets}).
 */
function addHeader(this: Environ, value: string, name: string): void {
  const key = fieldKey(fieldCount++, name);
  if (key !== '') addField(this, key, inWorkers ? fieldOctets(value) : value);
}

/**
 * Sets the environ's CGI and `tsgi.*` keys from the request's target (path and query), scheme
 * and authority (host and port), always in this order (see {@link FetchEnviron}).
 */
function fetchEnvironFields(
  this: Environ,
  request: globalThis.Request,
  target: string,
  scheme: string,
  authority: string,
  env: unknown,
  ctx: unknown,
  options: FetchHandlerOptions,
): void {
  const q = target.indexOf('?');
  // The port follows the last ':' after an IPv6 literal's ']'.
  const colon = authority.lastIndexOf(':');
  const hasPort = colon !== -1 && colon > authority.lastIndexOf(']');
  const hostname = hasPort ? authority.slice(0, colon) : authority;
  const body = request.body;
  this.REQUEST_METHOD = request.method;
  this.SCRIPT_NAME = '';
  this.PATH_INFO = decodePath(q === -1 ? target : target.slice(0, q));
  this.QUERY_STRING = q === -1 ? '' : target.slice(q + 1);
  this.REQUEST_URI = target;
  this.SERVER_NAME = options.serverName ?? (hostname.charCodeAt(0) === 91 /* [ */ ? hostname.slice(1, -1) : hostname);
  this.SERVER_PORT = String(options.serverPort ?? (hasPort ? authority.slice(colon + 1) : scheme === 'https' ? '443' : '80'));
  this.SERVER_PROTOCOL = 'HTTP/1.1';
  // REMOTE_ADDR and REMOTE_PORT come last, from setClientAddress, added in the same order for
  // every request, so that every environ has one V8 shape.
  this['tsgi.version'] = TSGI_VERSION;
  this['tsgi.url_scheme'] = scheme;
  // No body (`request.body` is `null`): the readers' shared empty input, a `BufferedInput`, which
  // they neither claim nor mark as read; an input of this adapter's shared by every such request
  // carried one request's form parse (read, not kept) into the body reads of all the next ones.
  this['tsgi.input'] = body === null ? EMPTY_INPUT : request.bodyUsed || body.locked ? new FailedInput(new Error(BODY_READ_BEFORE)) : new FetchInput(body, bodyBrokeOff, this);
  this['tsgi.errors'] = options.log ?? stderrLog;
  this['tsgi.multithread'] = false;
  this['tsgi.multiprocess'] = options.multiprocess ?? false;
  this['tsgi.run_once'] = false;
  this['tsgi.fetch_request'] = request;
  this['tsgi.fetch_env'] = env;
  this['tsgi.fetch_execution_context'] = ctx;
  // A Worker waits for the work run after the answer (`res.callOnClose`) through its `waitUntil`.
  const waitUntil = (ctx as Partial<FetchExecutionContext> | undefined)?.waitUntil;
  if (typeof waitUntil === 'function') this['tsgi.wait_until'] = waitUntil.bind(ctx);
  if (options.shutdownSignal !== undefined) this['tsgi.shutdown_signal'] = options.shutdownSignal;
  // For `proxyFix`, which checks the host it forwards against them (trustedHostsKey).
  if (options.trustedHosts !== undefined) this['tsgi.trusted_hosts'] = options.trustedHosts;
  // For the request line of the error log (requestLine reads it).
  if (options.redactQuery !== undefined) this['tsgi.redact_query'] = options.redactQuery;
}

/** The constructor of a fetch request's environ: see `environConstructor` for why not a literal. */
const FetchEnviron = environConstructor(fetchEnvironFields);

/**
 * Builds the environ of a fetch `Request`: scheme, host and port from its URL (a URL of the
 * path alone, Bun's for a request without Host, from the server's: `serverOrigin`; no
 * `HTTP_HOST` made up from it then, nor from the `localhost` Deno's URL names for such a
 * request), `PATH_INFO`
 * percent-decoded as the Node adapter decodes it, the raw path and query as `REQUEST_URI`,
 * `HTTP_*` keys from its headers, the client address where the runtime gives one,
 * `tsgi.input` streaming the body, `tsgi.signal` = `request.signal` (read when first used;
 * with `options.shutdownSignal`, and for a HEAD, joined with the adapter's own abort of a body
 * it ends: an event stream at the shutdown, the rest of a HEAD's streamed body).
 * A request whose body the runtime dropped (`request.body` is `null`: Bun, Deno and
 * `@hono/node-server` drop a GET's) has no `CONTENT_LENGTH` but a declared `0`, whatever
 * length its `Content-Length` field announced: the input is empty, and `req.contentLength`
 * and `req.isBodyReadable` say so.
 *
 * @throws HTTPBadRequest for a malformed escape or invalid UTF-8 in the path or an invalid
 *   Host, or an `Authorization` or `Proxy-Authorization` holding more than one credential
 *   (`more than one credential in Authorization`: the runtime joined two lines with `, `); HTTPRequestHeaderFieldsTooLarge past `maxHeaders`; HTTPContentTooLarge for a
 *   declared `Content-Length` past `maxBodySize`; HTTPNotFound for a path outside
 *   `scriptName` (already checked by the caller).
 */
export function createFetchEnviron(request: globalThis.Request, env: unknown, ctx: unknown, options: FetchHandlerOptions): Environ {
  // A URL of the path alone (Bun's when no Host told it the host): read against the server's
  // origin, and no Host made up from it, as `serve()` has none for an HTTP/1.0 request without one.
  const pathOnly = request.url.charCodeAt(0) === 47; /* / */
  const url = pathOnly ? serverOrigin(env) + request.url : request.url;
  const schemeEnd = url.indexOf(':');
  const authorityStart = schemeEnd + 3;
  let pathStart = url.indexOf('/', authorityStart);
  if (pathStart === -1) pathStart = url.length;
  let end = url.indexOf('#', pathStart);
  if (end === -1) end = url.length;
  const target = pathStart === end ? '/' : url.slice(pathStart, end);
  const authority = url.slice(authorityStart, pathStart);
  const environ = new FetchEnviron(request, target, url.slice(0, schemeEnd), authority, env, ctx, options);
  // Runtimes make `request.signal` on first read, and that costs more than a shared accessor.
  // Joined where the adapter may end the body itself: at the shutdown, and the rest of a HEAD's.
  const joined = options.shutdownSignal !== undefined || request.method === 'HEAD';
  Object.defineProperty(environ, 'tsgi.signal', joined ? JOINED_SIGNAL_PROPERTY : SIGNAL_PROPERTY);
  fieldCount = 0;
  request.headers.forEach(addHeader, environ);
  checkFieldCount(fieldCount, options.maxHeaders ?? DEFAULT_MAX_HEADERS);
  // The runtime joined repeated lines (`Headers`): a second credential is seen only so.
  checkCredentials(environ);
  // A body whose length no Content-Length field announced (known only once the fields are in).
  if (request.body !== null && environ.CONTENT_LENGTH === undefined) environ['tsgi.input_terminated'] = true;
  // A body the runtime dropped (Bun, Deno and @hono/node-server drop a GET's): its announced
  // length is no body the input holds (RFC 3875 §4.1.2: CONTENT_LENGTH only for a body that
  // comes with the request), so the environ has none, as serve() has none for a GET without
  // a body; a declared 0 is what the input holds, and stays.
  else if (request.body === null && environ.CONTENT_LENGTH !== undefined && Number(environ.CONTENT_LENGTH) !== 0) delete environ.CONTENT_LENGTH;
  // A runtime that has no Host field (HTTP/2 sends :authority) still knows the authority, but
  // for Deno's own `localhost` of a request that named none (see madeUpByDeno).
  if (environ.HTTP_HOST === undefined && !pathOnly && !madeUpByDeno(authority)) environ.HTTP_HOST = authority;
  checkHost(environ.HTTP_HOST as string | undefined, options.trustedHosts);
  setClientAddress(environ, request, env);
  if (options.scriptName) applyScriptName(environ, options.scriptName);
  if (options.maxBodySize !== undefined && request.body !== null) limitBody(environ, options.maxBodySize, false);
  return environ;
}

/**
 * True for the authority of a request URL Deno made up: to a request that named no host (an
 * HTTP/1.0 one without `Host`, a health check's, or an HTTP/1.1 one without it, which Deno
 * hands on), Deno gives a URL of `localhost` and its port, `http://localhost:8000/health`.
 * Taken as a `Host`, it was refused `400 untrusted Host header` under `trustedHosts`, where
 * `serve()` and Bun let such a request through with no `HTTP_HOST`. An HTTP/2 request whose
 * `:authority` is `localhost:<port>` (Deno hands no `Host` over HTTP/2) cannot be told from it,
 * and goes without `HTTP_HOST` too: it names this server itself.
 */
function madeUpByDeno(authority: string): boolean {
  return inDeno && (authority === 'localhost' || authority.startsWith('localhost:'));
}

/**
 * The names of Deno's I/O errors (`Deno.errors.*`) that fail a request body's stream when its
 * client's connection goes (`BadResource` for a client that hung up mid-upload: "Cannot read
 * request body as underlying resource unavailable"; `Http` for a connection closed before the
 * message completed). No Node error code names them.
 */
const RUNTIME_BODY_ERRORS = new Set(['BadResource', 'BrokenPipe', 'ConnectionAborted', 'ConnectionReset', 'Http', 'Interrupted', 'TimedOut', 'UnexpectedEof']);

/**
 * The message of workerd's error for a request body whose client hung up mid-upload: a plain
 * `Error` (its `retryable` true), no name or code of its own; workerd writes every lost
 * connection so.
 */
const WORKERD_CONNECTION_LOST = 'Network connection lost.';

/**
 * The error a read of the request body throws when the runtime's stream fails: a runtime's own
 * error for the client's body breaking off (Deno's, {@link RUNTIME_BODY_ERRORS}; workerd's
 * {@link WORKERD_CONNECTION_LOST}), which the body
 * readers answered as an app error, a logged 500, becomes an `ERR_STREAM_PREMATURE_CLOSE` error
 * (its `cause` the runtime's), which they answer `400`, as on Node, and which, let propagate by a
 * raw app, is the client's doing (`isBrokenOff`): not logged by the handler or `errors`, and
 * `accessLog`'s `499 close`, as under `serve()`. Any other error is kept: one
 * already read as an input error (Bun's `AbortError`, a Node stream's `ECONNRESET` under
 * `@hono/node-server`), and one that is not the client's (a bug in a stream the user put in
 * front of the handler stays an app error, logged, not a 400 that hides it).
 */
function bodyBrokeOff(error: unknown, environ: Environ): unknown {
  if (!(error instanceof Error)) return error;
  if (!RUNTIME_BODY_ERRORS.has(error.name) && !(error.name === 'Error' && error.message === WORKERD_CONNECTION_LOST)) return error;
  const brokenOff = brokeOff();
  brokenOff.message = `The request body broke off: ${error.name}: ${error.message}`;
  brokenOff.cause = error;
  // The client is gone (neither runtime aborts the request's signal for it): told to the layers
  // watching, as `serve()` tells them when the connection closes (`accessLog`'s `499 close`).
  tellClientGone(environ);
  return brokenOff;
}
