/**
 * Building the environ of a Node request (`IncomingMessage` → {@link Environ}).
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { H2RequestLimits } from './h2-header-limits.ts';
import { isHttp2 } from './http2-compat.ts';
import { setExchange } from './exchange-key.ts';
import { SIGNAL_PROPERTY } from './request-signal.ts';
import { sendNodeEarlyHints } from './early-hints.ts';
import { setClientCertificateKeys } from './client-certificate.ts';
import { type Environ, TSGI_VERSION } from '../../gateway/types.ts';
import { stderrLog } from '../../gateway/log.ts';
import { ReadableInput } from '../../gateway/readable-input.ts';
import type { ReadTimeout } from '../../gateway/read-timeout.ts';
import type { RefusalListener, RefusedRequest } from './refused.ts';
import { HTTPBadRequest } from '../../exceptions/client-errors.ts';
import { sameHost } from '../../http/host.ts';
import { HTTPVersionNotSupported } from '../../exceptions/server-errors.ts';
import {
  DEFAULT_MAX_HEADERS,
  type EnvironOptions,
  addField,
  applyScriptName,
  checkFieldCount,
  checkHost,
  decodePath,
  environConstructor,
  fieldKey,
} from '../environ-rules.ts';
import { ENVIRON_OPTIONS } from '../environ-rules.ts';
import type { OptionNames } from '../../gateway/option-names.ts';

export { DEFAULT_MAX_HEADERS, decodePath };

/**
 * @internal The key under which `serve()` hands its `tsgi.wait_until` to the environ builder
 * in the handler's options (not a public option: only a server that waits at its shutdown
 * provides the key). Not exported from the package.
 */
export const WAIT_UNTIL_OPTION: unique symbol = Symbol('tsgi.wait_until_option');

/**
 * @internal The key under which the handler (`createHandler`) hands the environ builder its
 * `bodyTimeout`, made once per handler (`bodyTimeoutOf`), for each request's `tsgi.input`. Not
 * exported from the package: `createEnviron` called alone sets no body timeout.
 */
export const READ_TIMEOUT_OPTION: unique symbol = Symbol('tsgi.read_timeout_option');

/**
 * Under `serve()` with HTTP/2, what an HTTP/2 request's head is held to before the app sees
 * it (`H2RequestLimits`: the header list size answered `431`, the `:path` length answered
 * `414`; `h2HeaderLimits`). Not exported from the package: `toNodeHandler` leaves HTTP/2
 * requests to the server it is mounted on.
 */
export const H2_REQUEST_LIMITS_OPTION: unique symbol = Symbol('tsgi.h2_request_limits_option');

/** `NodeEnvironOptions` as `serve()` and the handler pass them: with `tsgi.wait_until`, the body timeout and the HTTP/2 header list size. */
export type ServerEnvironOptions = NodeEnvironOptions & {
  [WAIT_UNTIL_OPTION]?: ((promise: Promise<unknown>) => void) | undefined;
  [READ_TIMEOUT_OPTION]?: ReadTimeout | undefined;
  [H2_REQUEST_LIMITS_OPTION]?: H2RequestLimits | undefined;
};

/**
 * Options of {@link createEnviron} and `toNodeHandler`: the {@link EnvironOptions} every
 * adapter takes (`serverName`, `serverPort`, `scriptName`, `log`, `multiprocess`,
 * `maxHeaders`). Under `serve`, keep `maxHeaders` below Node's `maxHeadersCount` (2000 by
 * default; past it Node 24 answers 431 itself and older versions drop the extra fields
 * silently): `serve` sets `maxHeadersCount` to one above it.
 */
export interface NodeEnvironOptions extends EnvironOptions {
  /**
   * Largest request body accepted, in bytes (nginx's `client_max_body_size`); default none.
   * A declared `Content-Length` past it is answered `413 Content Too Large` without calling
   * the app; a body of unknown length (chunked, HTTP/2) is counted as the app reads
   * `tsgi.input`, whose read past the limit throws an `HTTPContentTooLarge` (413) instead of
   * handing the bytes over; the server answers 413 when the app lets it propagate. Either way
   * the connection closes after the answer. `req.bytes({ maxBodySize })` and the form limits
   * still apply below it.
   */
  maxBodySize?: number | undefined;
  /**
   * Milliseconds a response write may wait for a client that does not read before the
   * connection is cut (nginx's `send_timeout`); re-armed whenever the client takes data, so a
   * slow but steady streamed download or a quiet long poll is never cut. A body in memory (an
   * array, or one large chunk) is one write, taken only once all of it is out: a client that
   * needs longer than this for all of it is cut (stream large bodies, as `fileApp` does).
   * Default 60 000; 0 turns it off; at most 2147483647 (`setTimeout`'s limit, 24.8 days: a
   * `TypeError` past it, or for no number, when the server or handler is made).
   */
  sendTimeout?: number | undefined;
  /**
   * Milliseconds a read of the request body may wait for its next bytes (nginx's
   * `client_body_timeout`): the clock runs only while a read of `tsgi.input` (`req.bytes()`,
   * `req.form()`, `req.stream()`, a raw `for await`) waits for data, from when it finds
   * nothing buffered until bytes, the end or an error arrive; not before the app's first read
   * (a request whose body is never read is not timed), nor while the app works between two
   * reads. Past it the read fails with an `HTTPRequestTimeout` (408, `The request body stalled:
   * …`) carrying `Connection: close`: answered `408 Request Timeout` when it reaches the server
   * before the response head (not logged: the client's doing), a cut connection after it. The
   * connection then closes (HTTP/2: the stream ends). Applies to HTTP/1.1 and HTTP/2 alike.
   * Default 60 000 (nginx's); 0 turns it off; at most 2147483647 (`setTimeout`'s limit, about
   * 24.8 days). Node's `requestTimeout` still bounds the whole request.
   *
   * @throws TypeError (at once, when the handler is made) for a value that is not a number
   *   from 0 to 2147483647.
   */
  bodyTimeout?: number | undefined;
  /**
   * Called for each request the server answers itself without calling the app, once the
   * answer is sent: a request Node's parser refused (400, 408 for a head too slow, 431 for one
   * too large, 414 for one whose request target is too long; under `serve()` only), a bad request-target or Host (400), a path outside
   * `scriptName` (404), a declared body past `maxBodySize` (413), an `Expect` other than
   * `100-continue` (417), `CONNECT` (501), a request past `maxConcurrentRequests` (503), an
   * HTTP/1 request line of another version than 1.0 or 1.1 (505). It gets
   * a {@link RefusedRequest}: the status, the one-line reason, the request line and fields when
   * parsed, the client's address. An access log's lines for them, as nginx writes its own 400s
   * (`tsgi serve` writes them to its access log). An error it throws, or the rejection of the
   * promise it returns (an `async` listener, which `serve()`'s `close()` waits for until its
   * `timeout`, as for `onUpgradeClosed`'s; `toNodeHandler` does not), is logged to `log`. Default none.
   */
  onRefused?: RefusalListener | undefined;
  /**
   * Put the client certificate of a TLS connection in the environ, under mod_ssl's names:
   * `SSL_CLIENT_VERIFY` (`SUCCESS`, `NONE`, `FAILED:<reason>`) and, when the client sent one,
   * `SSL_CLIENT_S_DN`, `SSL_CLIENT_I_DN`, `SSL_CLIENT_M_SERIAL`, `SSL_CLIENT_V_START`,
   * `SSL_CLIENT_V_END`, `SSL_CLIENT_CERT` (docs/spec.md §2.1). The certificate is read once per
   * connection; a connection without TLS gets none of the keys. Only a server that asks for a
   * certificate (Node's `requestCert: true`) has one to give. Default: under `serve()`, whether
   * its `tls` (or `server`) options have `requestCert: true`; under `toNodeHandler`, `false`
   * (set it for an `https.Server` of your own created with `requestCert`).
   */
  clientCertificate?: boolean | undefined;
}

/** Every option of {@link NodeEnvironOptions} (`toNodeHandler`), checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
export const NODE_ENVIRON_OPTIONS = { ...ENVIRON_OPTIONS, maxBodySize: true, sendTimeout: true, bodyTimeout: true, onRefused: true, clientCertificate: true } as const satisfies OptionNames<NodeEnvironOptions>;

/** An absolute-form target's scheme and authority, which may not be empty (RFC 9110 §4.2.1). */
export const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]+)/;

/**
 * A raw byte above 0x7F, which no request-target may hold (RFC 3986 §2: such bytes travel
 * percent-encoded). Node gives HTTP/2 field values as latin1, so a `:path` with UTF-8 bytes
 * would reach the app as `/cafÃ©` and a latin1 one as `/café`: neither is the UTF-8 decoding
 * `PATH_INFO` promises (spec §2.1).
 */
const NON_ASCII = /[\x80-\uffff]/;

/**
 * Builds the environ of a Node request (see docs/spec.md for every key).
 *
 * `PATH_INFO` is the path percent-decoded as UTF-8; `QUERY_STRING` and `REQUEST_URI` are raw;
 * one `HTTP_*` key per header with repeated headers joined by `, ` (`; ` for Cookie, RFC 9110
 * §5.3, RFC 6265 §5.4), but for the fields that are no list, and header names containing `_`
 * dropped (as nginx and gunicorn do).
 * An absolute-form target (`GET http://host/path`) supplies `HTTP_HOST` (RFC 9112 §3.2.2); the
 * Host field it replaces must still be there on HTTP/1.1, and valid (§3.2).
 * A `#fragment`, which no request-target has (RFC 9112 §3.2) but Node's parsers let through, is
 * dropped before anything else (`REQUEST_URI` included), as gunicorn and Werkzeug drop it.
 * `tsgi.input` reads the request stream as the app asks (never buffered ahead; see
 * `ReadableInput`); `tsgi.signal` is created on first
 * use and aborts when the client goes away before the response is complete, or when the server
 * ends an answer still being produced (see `request-signal.ts`).
 *
 * @param res - the response, so `tsgi.signal` can tell a hang-up from a finished exchange;
 *   without it the signal aborts when the request stream closes before it was read whole.
 * @throws HTTPBadRequest (its `detail` says why) for a request-target that is not
 *   origin-form, absolute-form with a host (`http:///x` has none), or `*` with OPTIONS
 *   (RFC 9112 §3.2, RFC 9110 §4.2.1); a malformed
 *   percent-escape or invalid UTF-8 in the path; on HTTP/2, a raw byte above 0x7F in
 *   `:path` (which Node's HTTP/1 parser refuses by itself); an invalid Host (a port past 65535
 *   included); no Host, or several, on HTTP/1.1 or a higher HTTP/1 minor version (RFC 9112 §3.2,
 *   §2.3), an absolute-form target's
 *   included; on HTTP/2, a Host field that differs
 *   from `:authority` (RFC 9113 §8.3.1); two lines of a field that is no list (`several
 *   Authorization headers`: Authorization, Proxy-Authorization, Content-Type, Range, If-Range,
 *   If-Modified-Since, If-Unmodified-Since; RFC 9110 §5.3; nginx refuses all but Content-Type,
 *   Range and Proxy-Authorization; `duplicate Content-Length` for Content-Length, which Node's
 *   parsers refuse first: its HTTP/1 one with that 400, nghttp2 with a stream reset).
 *   `HTTPRequestHeaderFieldsTooLarge` (431, RFC 6585 §5) for more header
 *   fields than `options.maxHeaders`. `HTTPNotFound` for a path outside `options.scriptName`.
 *   `HTTPVersionNotSupported` (505, RFC 9110 §15.6.6) for an HTTP/1 request line of another
 *   version than 1.0 or 1.1 (`HTTP/2.0`, which is no HTTP/2 there; `GET /`, HTTP/0.9).
 *   The app must not see such a request: `toNodeHandler`
 *   and `serve` answer it with the exception's status and `detail` as plain text.
 */
export function createEnviron(req: IncomingMessage, res?: ServerResponse, options: NodeEnvironOptions = {}): Environ {
  return buildEnviron(req, res, options, req.rawHeaders);
}

/**
 * {@link createEnviron} with the request fields given as `raw` (names and values alternating,
 * as `rawHeaders`): `toNodeHandler` passes the fields as code before it left them on
 * `req.headers` (`edited-fields.ts`).
 *
 * @throws as {@link createEnviron}.
 */
export function buildEnviron(req: IncomingMessage, res: ServerResponse | undefined, options: NodeEnvironOptions, raw: string[]): Environ {
  // llhttp takes `HTTP/2.0` in an HTTP/1 request line, and `GET /` as HTTP/0.9: neither is
  // served on an HTTP/1 connection (nginx answers HTTP/2.0 505 too). Real HTTP/2 has a stream.
  if (req.httpVersionMajor !== 1 && !isHttp2(req)) {
    throw new HTTPVersionNotSupported(`unsupported version HTTP/${req.httpVersion} in the request line`);
  }
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  // RFC 9112 §3.2: a request-target has no fragment, yet Node's parsers pass one on (`/a#f`);
  // dropped here, before the target is split, as gunicorn and Werkzeug (`urlsplit`) drop it.
  const hash = url.indexOf('#');
  const target = hash === -1 ? url : url.slice(0, hash);
  let pathAndQuery = target;
  let authority: string | undefined;
  if (target.charCodeAt(0) !== 47 /* / */) {
    const match = target === '*' ? null : ABSOLUTE_FORM.exec(target);
    if (match) {
      authority = match[1];
      pathAndQuery = target.slice(match[0].length);
      if (pathAndQuery.charCodeAt(0) !== 47) pathAndQuery = `/${pathAndQuery}`;
    } else if (target !== '*' || method !== 'OPTIONS') {
      throw new HTTPBadRequest('invalid request-target');
    }
  }
  const environ = new NodeEnviron(req, method, target, pathAndQuery, options);
  // A shared accessor (an accessor written in the constructor would cost more than the rest
  // of the environ together); it finds the exchange under a symbol key, as `tsgi.early_hints` does.
  setExchange(environ, res ?? req);
  Object.defineProperty(environ, 'tsgi.signal', SIGNAL_PROPERTY);
  const maxHeaders = options.maxHeaders ?? DEFAULT_MAX_HEADERS;
  // HTTP/2 pseudo-fields (`:path`, `:authority`…) are not header fields, and Cookie crumbs are
  // one field: counted as such only when the raw count passes the limit.
  if (raw.length >> 1 > maxHeaders) checkFieldCount(fieldCount(raw, req.httpVersionMajor === 2), maxHeaders);
  for (let i = 0; i < raw.length; i += 2) {
    const key = fieldKey(i >> 1, raw[i]!);
    if (key !== '') addField(environ, key, raw[i + 1]!);
  }
  if (authority !== undefined) absoluteFormHost(environ, authority, req);
  else if (req.httpVersionMajor === 2) {
    // Node's HTTP/1 parser refuses such a byte itself ("invalid character in the request target").
    if (NON_ASCII.test(url)) throw new HTTPBadRequest('invalid character in the request target');
    http2Host(environ, req.headers[':authority'] as string | undefined);
  }
  // RFC 9112 §3.2: an HTTP/1.1 request without Host is a 400; so is an HTTP/1.2 one, taken as
  // HTTP/1.1 (§2.3), which llhttp lets through under `insecureHTTPParser` alone.
  else if (environ.HTTP_HOST === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor !== 0) throw new HTTPBadRequest('missing Host header');
  checkHost(environ.HTTP_HOST as string | undefined, options.trustedHosts);
  if (options.scriptName) applyScriptName(environ, options.scriptName);
  return environ;
}

/**
 * The Host of an absolute-form request: the target's `authority`, which wins over the Host
 * field (RFC 9112 §3.2.2). The field is still required on HTTP/1.1 and must be valid (a
 * server MUST answer 400 otherwise, §3.2, whatever the form of the target; nginx does).
 *
 * @throws HTTPBadRequest `missing Host header` on HTTP/1.1 without one, `invalid Host header`
 *   for a malformed one.
 */
function absoluteFormHost(environ: Environ, authority: string, req: IncomingMessage): void {
  const field = environ.HTTP_HOST as string | undefined;
  if (field === undefined) {
    if (req.httpVersionMajor === 1 && req.httpVersionMinor !== 0) throw new HTTPBadRequest('missing Host header');
  } else checkHost(field);
  environ.HTTP_HOST = authority;
}

/**
 * HTTP/2 carries the Host in `:authority` (RFC 9113 §8.3.1). A Host field that names another
 * host is a malformed request there (the RFC's SHOULD): a proxy in front may have routed by
 * one while the app would read the other. The same host in another spelling (the scheme's
 * default port written out or left out, a case, a trailing dot: `sameHost`) is no other one.
 *
 * @throws HTTPBadRequest `Host and :authority differ`.
 */
function http2Host(environ: Environ, authority: string | undefined): void {
  const host = environ.HTTP_HOST as string | undefined;
  if (host === undefined) environ.HTTP_HOST = authority;
  else if (authority !== undefined && !sameHost(host, authority, environ['tsgi.url_scheme'] as string)) throw new HTTPBadRequest('Host and :authority differ');
}

/** Sets the environ's CGI and `tsgi.*` keys, always in this order (see {@link NodeEnviron}). */
function nodeEnvironFields(
  this: Environ,
  req: IncomingMessage,
  method: string,
  target: string,
  pathAndQuery: string,
  options: ServerEnvironOptions,
): void {
  const socket = req.socket;
  const q = pathAndQuery.indexOf('?');
  this.REQUEST_METHOD = method;
  this.SCRIPT_NAME = '';
  this.PATH_INFO = decodePath(q === -1 ? pathAndQuery : pathAndQuery.slice(0, q));
  this.QUERY_STRING = q === -1 ? '' : pathAndQuery.slice(q + 1);
  this.REQUEST_URI = target;
  this.SERVER_NAME = options.serverName ?? socket.localAddress ?? 'localhost';
  // A Unix socket has no port: the scheme's, as gunicorn gives it (and `serve({ path })` sets).
  this.SERVER_PORT = String(options.serverPort ?? socket.localPort ?? ((socket as { encrypted?: boolean }).encrypted ? 443 : 80));
  this.SERVER_PROTOCOL = req.httpVersion === '1.1' ? 'HTTP/1.1' : `HTTP/${req.httpVersion}`;
  this.REMOTE_ADDR = socket.remoteAddress;
  this.REMOTE_PORT = socket.remotePort === undefined ? undefined : String(socket.remotePort);
  this['tsgi.version'] = TSGI_VERSION;
  this['tsgi.url_scheme'] = (socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  this['tsgi.input'] = new ReadableInput(req, undefined, options[READ_TIMEOUT_OPTION]);
  this['tsgi.errors'] = options.log ?? stderrLog;
  this['tsgi.multithread'] = false;
  this['tsgi.multiprocess'] = options.multiprocess ?? false;
  this['tsgi.run_once'] = false;
  // One function for every request: it finds the response through the environ it is given.
  this['tsgi.early_hints'] = sendNodeEarlyHints;
  if (options.shutdownSignal !== undefined) this['tsgi.shutdown_signal'] = options.shutdownSignal;
  const waitUntil = options[WAIT_UNTIL_OPTION];
  if (waitUntil !== undefined) this['tsgi.wait_until'] = waitUntil;
  // For `proxyFix`, which checks the host it forwards against them (trustedHostsKey).
  if (options.trustedHosts !== undefined) this['tsgi.trusted_hosts'] = options.trustedHosts;
  // For the request line of the error log (requestLine reads it).
  if (options.redactQuery !== undefined) this['tsgi.redact_query'] = options.redactQuery;
  // Servers that ask no client certificate (the common case) pay this test alone.
  if (options.clientCertificate === true) setClientCertificateKeys(this, req);
}

/** The constructor of a Node request's environ: see `environConstructor` for why not a literal. */
const NodeEnviron = environConstructor(nodeEnvironFields);

/**
 * The header fields in `rawHeaders` (names and values alternate) as the environ has them:
 * HTTP/2 pseudo-fields not counted and, on HTTP/2 (`http2`), the Cookie field lines counted
 * once: a client may send one line per cookie there ("crumbs", RFC 9113 §8.2.3; Chromium does),
 * which make the one `HTTP_COOKIE`. HTTP/2 field names are lower case (§8.2.1). On HTTP/1.1 a
 * user agent sends one Cookie line (RFC 6265 §5.4): each line counts, as every field does.
 */
function fieldCount(raw: readonly string[], http2: boolean): number {
  let count = 0;
  let cookie = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 58 /* : */) continue;
    if (http2 && name === 'cookie') {
      if (cookie) continue;
      cookie = true;
    }
    count++;
  }
  return count;
}
