/**
 * `fromFetchHandler`: a fetch handler (`hono.fetch`, h3's `app.fetch`, any
 * `(Request) => Response`) as a gateway app.
 *
 * @module
 */
import type { App, Environ } from '../../gateway/types.ts';
import { HOP_BY_HOP } from '../../gateway/fields.ts';
import { toReadableStream } from '../../gateway/stream.ts';
import { quotePath } from '../../http/url.ts';
import { quotedScriptName, rawPathParts } from '../../http/raw-path.ts';
import { connectionOptions } from '../../proxy/forward-headers.ts';
import { Response } from '../../response/response.ts';
import { EnvironHeaders } from '../../datastructures/environ-headers.ts';
import { Request } from '../../request/request.ts';
import { isBodyReadable } from '../../request/input.ts';
import { type HTTPException, isHTTPException } from '../../exceptions/base.ts';
import { HTTPNotImplemented } from '../../exceptions/server-errors.ts';
import { inWorkers, octetsAsText } from '../../gateway/workers.ts';
import { decodedByRuntime, withoutCoding } from './decoded-body.ts';
import { shownValue } from '../../gateway/shown.ts';
import { redirectToCleanPath } from '../../middleware/clean-path.ts';
import { type OptionNames, booleanOption, checkOptions } from '../../gateway/option-names.ts';

/** Options of {@link fromFetchHandler}. */
export interface FromFetchOptions {
  /**
   * Hand the handler a URL relative to the mount point: without `SCRIPT_NAME`, as Hono's and
   * Express's `mount` do. The prefix then travels in an `X-Forwarded-Prefix` field (set, never
   * passed on from the client). Default false: the handler sees the URL as the client sent it,
   * prefix included, so its own routes must include the prefix (Hono's `basePath`).
   */
  stripPrefix?: boolean | undefined;
}

/** Every option of {@link FromFetchOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const FROM_FETCH_OPTIONS = { stripPrefix: true } as const satisfies OptionNames<FromFetchOptions>;

/**
 * A fetch-style handler: `(request, env?, ctx?) => Response`, sync or async. `env` and `ctx` are
 * typed `any` so that every framework's own types for them fit (Hono's `ExecutionContext`, …).
 */
export type FetchStyleHandler = (request: globalThis.Request, env?: any, ctx?: any) => globalThis.Response | PromiseLike<globalThis.Response>;

/**
 * The methods a fetch `Request` refuses to carry (the Fetch Standard's forbidden methods; the
 * constructor throws a `TypeError` for them, in any case).
 */
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** A raw path made of `pchar`s, `/` and escapes only: the URL parser takes it as it is. */
const PLAIN_RAW_PATH = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;

/**
 * The path of the fetch URL: `SCRIPT_NAME` (unless `strip`) and `PATH_INFO` as the client
 * encoded them, from `REQUEST_URI` (`rawPathParts`), so an escape that decoding loses (`%2F`:
 * `/files/a%2Fb` is one segment to the handler's router, not two) reaches the handler as sent;
 * quoted from their decoded form when the raw path does not decode to them (a middleware
 * rewrote `PATH_INFO`) or holds characters the URL parser would change (`\`, `#`). For
 * `OPTIONS *`, the mount point only (the handler's URL is then the host's, path `/`).
 */
function fetchPath(environ: Environ, strip: boolean): string {
  // `OPTIONS *` names the server, not a path: its target URI has an empty path (RFC 9112 §3.3),
  // as `req.pathUrl` has it; a `*` after the host would make another host of it.
  if (environ.PATH_INFO === '*') return strip ? '' : quotePath(environ.SCRIPT_NAME);
  const [script, rest] = rawPathParts(environ);
  const raw = strip ? rest : script + rest;
  return PLAIN_RAW_PATH.test(raw) ? raw : quotePath(strip ? environ.PATH_INFO : environ.SCRIPT_NAME + environ.PATH_INFO);
}

/**
 * The fetch `Request` of an environ: its URL rebuilt from the environ (spec §10; without
 * `SCRIPT_NAME` when `strip`) with the path's escapes as sent ({@link fetchPath}), its method,
 * its `HTTP_*` fields (hop-by-hop ones, those `Connection` names, and `Expect` left out: the server answers
 * `100-continue` itself when the body is first read, as for `proxy`, and undici's `fetch()`
 * refuses a request with that field), its body streamed from `tsgi.input` when it
 * has one (RFC 9112 §6.3), its `tsgi.signal`. `onInputError` is told when reading that body
 * fails (a `413` past `maxBodySize`, …).
 */
function toFetchRequest(environ: Environ, strip: boolean, onInputError: (error: unknown) => void): globalThis.Request {
  const req = new Request(environ);
  const url = req.hostUrl + fetchPath(environ, strip) + (req.queryString ? `?${req.queryString}` : '');
  const headers = new globalThis.Headers();
  // The fields the client's Connection names are hop-by-hop too (RFC 9110 §7.6.1).
  const named = connectionOptions(environ.HTTP_CONNECTION as string | undefined);
  for (const [name, value] of new EnvironHeaders(environ)) {
    const lower = name.toLowerCase();
    // On workerd, the octets as the text its `Headers` give a handler (see `octetsAsText`).
    if (!HOP_BY_HOP.has(lower) && lower !== 'expect' && named?.has(lower) !== true) headers.append(name, inWorkers ? octetsAsText(value) : value);
  }
  if (strip) {
    headers.delete('X-Forwarded-Prefix');
    // As the client spelt it (an escaped slash kept: `quotedScriptName`), as `req.applicationUrl` has it.
    if (environ.SCRIPT_NAME) headers.set('X-Forwarded-Prefix', quotedScriptName(environ));
  }
  const method = environ.REQUEST_METHOD;
  // Fetch refuses a body on GET and HEAD.
  const hasBody = method !== 'GET' && method !== 'HEAD' && isBodyReadable(environ);
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal: environ['tsgi.signal'] ?? null };
  if (hasBody) {
    init.body = toReadableStream(environ['tsgi.input'], undefined, onInputError);
    init.duplex = 'half';
  }
  return new globalThis.Request(url, init);
}

/**
 * True for what a fetch handler may answer: a `Response`, of this realm or another (undici's
 * own class, a polyfill's), told by its `status` and `headers`.
 */
function isFetchResponse(value: unknown): value is globalThis.Response {
  const { status, headers } = (value ?? {}) as { status?: unknown; headers?: { get?: unknown } };
  return typeof status === 'number' && typeof headers?.get === 'function';
}

/**
 * A fetch handler as a gateway app: `mount({ '/api': fromFetchHandler(hono.fetch) })`.
 *
 * The handler gets a fetch `Request` made from the environ: the URL the client asked for
 * (prefix included; with `stripPrefix`, relative to `SCRIPT_NAME`, the prefix in
 * `X-Forwarded-Prefix`; the path's escapes as the client sent them, `%2F` included), the method, the request fields (hop-by-hop ones, those the client's `Connection` names, and `Expect` left out), the body
 * streamed from `tsgi.input`, and `tsgi.signal`. Its second and third arguments are those the
 * runtime gave `toFetchHandler` (`tsgi.fetch_env`, `tsgi.fetch_execution_context`: a Worker's
 * bindings reach a Hono app as `c.env`), `undefined` on Node. Its `Response` is answered as
 * it is (`Response.fromFetch`): status, fields (several `Set-Cookie` stay several; hop-by-hop
 * ones, and those its `Connection` names, left out), the body streamed; a HEAD request gets no body, and no `Content-Length` unless the handler gave one.
 * On Cloudflare Workers an answer with `Content-Encoding: gzip` or `br` loses that field and
 * its `Content-Length`: such a body is not coded there (workerd decodes what `fetch()` and
 * service bindings receive, and codes its own answers when it sends them); other codings
 * (`deflate`) and uncoded answers keep both. On Node, Bun and Deno, so does a `Response` that
 * `fetch()` gave the handler (`return fetch(upstream)`) with a coding that runtime's `fetch()`
 * decodes (Node's undici: `gzip`, `deflate`, `br`, `zstd` from undici 7.11, bundled by recent
 * Node 24 releases, and a list of them; Bun: `gzip`, `deflate`, `br`, `zstd`; Deno: `gzip`,
 * `br`, but for a `206`, which Deno leaves coded): its body is the decoded text, where the fields still describe the upstream's coded
 * bytes (`decodedByRuntime`). A `Response` the handler made keeps them: one
 * rebuilt from a fetched one (`new Response(res.body, res)`) cannot be told from it, so drop
 * the two fields there yourself.
 *
 * A `CONNECT`, `TRACE` or `TRACK` request, which a fetch `Request` cannot carry, is answered
 * `501 Not Implemented` without calling the handler (as `proxy` answers a `TRACE`). A path with
 * dot segments (`/x/../admin`, `/x/%2E%2E/admin`), which the fetch URL would resolve out of sight
 * of the layers above (they read `PATH_INFO` with them: a guard testing for `/admin` lets
 * `/x/../admin` by), is answered `308 Permanent Redirect` to the path with them resolved, query
 * kept, without calling the handler, as `mount` and `proxy` answer it.
 *
 * @throws TypeError (at once) when `handler` is not a function, or `stripPrefix` is not a
 *   boolean; for an object with a `fetch` method (a Hono or h3 app, a Worker module) the
 *   message says to pass its `.fetch`.
 * @throws (rejects with) what the handler throws: the server or an `errors` middleware answers
 *   500; a `TypeError` when it answered no `Response` (`undefined`: a route that forgot its
 *   `return`). When reading the request body failed with an `HTTPClientError` (the `413` of a body
 *   past `maxBodySize`, a `400`) and the handler then threw or answered a 5xx, it rejects with
 *   that error instead, answered as the 4xx it is (`Request.application`, `errors`,
 *   `errorPages` and the servers all answer an `HTTPException`).
 */
export function fromFetchHandler(handler: FetchStyleHandler, options: FromFetchOptions = {}): App {
  checkOptions('fromFetchHandler', options, FROM_FETCH_OPTIONS);
  if (typeof handler !== 'function') {
    const hasFetch = typeof (handler as { fetch?: unknown } | null)?.fetch === 'function';
    throw new TypeError(
      hasFetch
        ? 'fromFetchHandler expects a fetch handler function: pass the app’s fetch (fromFetchHandler(app.fetch)), not the app'
        : 'fromFetchHandler expects a fetch handler function: (request, env?, ctx?) => Response',
    );
  }
  const strip = booleanOption('fromFetchHandler', 'stripPrefix', options.stripPrefix);
  return async (environ, startResponse) => {
    const method = environ.REQUEST_METHOD;
    if (FORBIDDEN_METHODS.has(method.toUpperCase())) {
      return new HTTPNotImplemented(`a fetch handler cannot be sent a ${method} request`).respond(environ, startResponse);
    }
    // The fetch URL resolves dot segments (`/x/../admin`, `%2E%2E`: the WHATWG URL parser), which
    // the layers above read in PATH_INFO: redirected to the resolved path, as `mount` and `proxy`
    // do, so that it comes through them again.
    const redirect = redirectToCleanPath(environ, startResponse, false);
    if (redirect !== null) return redirect;
    // A request body refused while the handler read it (a 413 past maxBodySize, a 400) is the
    // answer, whatever the handler made of the failure: frameworks answer a read error with a
    // 500 (Hono), or fail on tsgi's exception itself (Hono's error handler calls its
    // getResponse()). A 4xx the handler answered itself stands.
    let refused: HTTPException | undefined;
    const request = toFetchRequest(environ, strip, (error) => {
      if (isHTTPException(error) && error.code >= 400 && error.code < 500) refused = error;
    });
    let response: globalThis.Response;
    try {
      response = await handler(request, environ['tsgi.fetch_env'], environ['tsgi.fetch_execution_context']);
    } catch (error) {
      throw refused ?? error;
    }
    if (!isFetchResponse(response)) throw new TypeError(`fromFetchHandler: the handler answered ${shownValue(response)}, not a Response`);
    if (refused !== undefined && response.status >= 500) {
      void response.body?.cancel().catch(() => undefined);
      throw refused;
    }
    const fetched = decodedByRuntime(response) ? withoutCoding(response) : response;
    const answer = Response.fromFetch(fetched);
    // The fields its Connection names are hop-by-hop too (RFC 9110 §7.6.1): an upstream's, when
    // the handler answers what `fetch()` gave it, as `proxy` drops them.
    const named = connectionOptions(fetched.headers.get('connection') ?? undefined);
    if (named !== undefined) for (const name of named) answer.headers.delete(name);
    return answer.respond(environ, startResponse);
  };
}
