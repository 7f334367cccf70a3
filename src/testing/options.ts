/**
 * Options of the test client and of each of its requests.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import type { FormFieldsInit, FormFilesInit } from '../forms/encode.ts';
import type { HeaderListInit } from '../http/header-list.ts';
import type { StreamedBody } from './streamed-input.ts';
import type { HeldBody } from './held-body.ts';
import { type OptionNames } from '../gateway/option-names.ts';

/**
 * The statuses a test expects (WebTest's `status=`): a code (`404`), a class (`'2xx'`,
 * `'4xx'`), `'*'` for any status, or a list of those (`[200, 304]`). Left out, a call
 * expects `2xx` or `3xx` (WebTest's default) and fails on any 4xx or 5xx.
 */
export type StatusExpectation = number | string | ReadonlyArray<number | string>;

/** Options of one test client request (`client.get(url, options)` and the others). */
export interface RequestOptions {
  /** Query parameters appended to the URL's own (a record, an array repeating a name, or pairs). */
  query?: FormFieldsInit | undefined;
  /**
   * Header fields, after the client's own `headers`: a name given here replaces the client's
   * field of that name (case-insensitively), as a per-request `.set()` does on a supertest
   * agent; a name repeated here is sent repeated.
   */
  headers?: HeaderListInit | undefined;
  /**
   * A JSON body, with `Content-Type: application/json` unless the call's `headers` name one (the
   * client's `headers` do not: the body labels itself, as Werkzeug's `EnvironBuilder` does).
   */
  json?: unknown;
  /**
   * Form fields: `application/x-www-form-urlencoded`, or `multipart/form-data` with `files`;
   * a `Content-Type` in the call's `headers` wins, the client's does not (as `json`).
   */
  form?: FormFieldsInit | undefined;
  /** Files: a `multipart/form-data` body, `form` fields first (see `Request.blank`). */
  files?: FormFilesInit | undefined;
  /**
   * A body as `fetch()` takes one, with the `Content-Type` it gives it unless `headers` (the
   * call's, or the client's but for `URLSearchParams` and `FormData`, which label themselves as
   * `form` does) name one (Fetch's "extract a body"): text, sent as UTF-8 with
   * `text/plain;charset=UTF-8`; `URLSearchParams`, with
   * `application/x-www-form-urlencoded;charset=UTF-8`; `FormData`, as `multipart/form-data`
   * with its boundary; a `Blob` (a `File`), with its `type` if it has one; bytes (a
   * `Uint8Array`, an `ArrayBuffer`), with none. Or a body produced as the app reads it: a `ReadableStream`
   * of bytes (what `fetch()` takes with `duplex: 'half'`) or an `AsyncIterable<Uint8Array>`
   * (an async generator), Werkzeug's `input_stream`. A streamed body is pulled one chunk per
   * read of `tsgi.input` (nothing is read ahead) and sent chunked, as `serve()` receives a
   * chunked request (`HTTP_TRANSFER_ENCODING` `chunked`, no `CONTENT_LENGTH`), unless
   * `headers` give a `Content-Length`, which its bytes must then keep to. It fails the app's
   * read as a broken-off body (`400` from the body readers) when the producer throws, or ends
   * short of or goes past that length. It is read once: a redirect other than a 303 cannot be
   * followed with it (`fetch()` fails one too). A body the app left unread is stopped (`return()`, `cancel()`) once the call is over.
   */
  body?: HeldBody | StreamedBody | undefined;
  /**
   * Sends the call as a browser's navigation from the page at this URL, absolute or, as the
   * call's own `url`, relative to the base URL (`'/login'`: a page of the app; a form on it
   * submitted; `form.submit()` and `res.click()` set it to their page's URL): it gets the
   * fields a browser adds, `Origin` (the page's origin, on a method other than GET and HEAD;
   * `null` once a 307/308 went to another origin from a URL not of the page's), and, to an
   * https, `localhost` or loopback URL, `Sec-Fetch-Site` (`same-origin`, `same-site` or
   * `cross-site`, over the whole redirect chain, each URL at the host the app sees: a `Host`
   * field counts), `Sec-Fetch-Mode: navigate`,
   * `Sec-Fetch-User: ?1` and `Sec-Fetch-Dest: document`; and its cookies are those a browser
   * sends (`SameSite` applied: across sites, `Lax` cookies on a GET only, `Strict` never). A
   * field the call's `headers` name is theirs. Redirects followed stay navigations. Default
   * none: a call is no browser's (no such field, every cookie sent). A cross-site submission:
   * `client.post('/callback', { form, from: 'https://idp.example/authorize' })`.
   */
  from?: string | undefined;
  /** The statuses expected of the final answer; default the client's (`2xx` or `3xx`). */
  status?: StatusExpectation | undefined;
  /** Redirects to follow (a count); default the client's (0). More than that fails the call. */
  followRedirects?: number | undefined;
  /**
   * Lets the app write to `tsgi.errors` without failing the call (the text is on `res.errors`),
   * as WebTest's `expect_errors` does (its other half is `status`). Default: the client's
   * `allowErrors`, itself default false: output there throws a `TestClientError` quoting it.
   */
  allowErrors?: boolean | undefined;
  /**
   * Extra environ keys, set last (WebTest's `extra_environ`, Werkzeug's `environ_overrides`),
   * on the redirects followed too, but for those that name the origin the call reached
   * (`HTTP_HOST`, `SERVER_NAME`, `SERVER_PORT`, `tsgi.url_scheme`), dropped once a redirect goes
   * to another origin: that URL is asked at the scheme and host it names. A `SCRIPT_NAME` (`''` or starting with `/`) among them is the
   * call's mount point, as a base URL's path is (Werkzeug's client reads it so on a redirect):
   * `url` is relative to it (`client.get('/start', { environ: { SCRIPT_NAME: '/x' } })` asks
   * for `/x/start`: `SCRIPT_NAME` `/x`, `PATH_INFO` `/start`), and a URL followed under it is
   * split there (a `Location` of `http://localhost/x/next`: `PATH_INFO` `/next`), one outside
   * it reaching the app with an empty `SCRIPT_NAME`.
   */
  environ?: Partial<Environ> | undefined;
  /**
   * Read the body whole before the call resolves; default `true`. With `false` (Werkzeug's
   * `buffered=False`, for server-sent events, long polls, progressive downloads) the call
   * resolves once the head is known, as the server sends it: after the app's first chunk (and
   * its second step, if that comes within one turn of the event loop). The status, cookies and
   * what the app logged so far are checked then; the body is read as it is produced, with
   * `for await (const chunk of res)`, or whole with `await res.text()` (`bytes()`, `json()`);
   * leaving the loop early, or `await res.close()`, closes the app's body with `return()`, as
   * a client that hangs up (and aborts `tsgi.signal`). A cut, and output on `tsgi.errors`
   * after the head, reject that read (or `close()`). Redirects followed are read whole: only
   * the final answer streams. The page helpers (`textBody`, `forms`, `select`, `click`) throw
   * until the body is read. An answer whose body is over at the head (an array, a short
   * stream, a HEAD) is read whole as with `true`.
   */
  buffered?: boolean | undefined;
}

/** Options of `new TestClient(app, options)`. */
export interface TestClientOptions {
  /**
   * Where the app is taken to be mounted: scheme, host, port and a path that becomes
   * `SCRIPT_NAME` (Werkzeug's `base_url`). Default `http://localhost`. A request path is
   * relative to it: with `http://localhost/app`, `client.get('/items')` asks for
   * `/app/items`, and the app sees `SCRIPT_NAME` `/app` and `PATH_INFO` `/items`.
   */
  baseUrl?: string | undefined;
  /**
   * Header fields sent with every request (`User-Agent`, `Accept-Language`, an `Origin`…),
   * unless a call's `headers` name the same field: the call's replace them. A `Host` here is
   * sent to the base URL's origin only: a URL at another origin (a redirect to an identity
   * provider, an absolute URL) is asked at the host it names. An `Authorization`,
   * `Proxy-Authorization` or `Cookie` here is not sent once a followed redirect went to another
   * origin, for the rest of that chain (Fetch, HTTP-redirect fetch, deletes `Authorization`).
   * A `Content-Type` here labels a call's text or bytes `body`, not a body of fields (`form`,
   * `json`, `files`, `URLSearchParams`, `FormData`), which goes with its own.
   */
  headers?: HeaderListInit | undefined;
  /** Run every call under the `lint` middleware; default `true`. */
  lint?: boolean | undefined;
  /** Default of {@link RequestOptions.allowErrors}: `false`. */
  allowErrors?: boolean | undefined;
  /** Default of {@link RequestOptions.followRedirects}: 0. */
  followRedirects?: number | undefined;
  /** Default of {@link RequestOptions.status}: `2xx` or `3xx`. */
  status?: StatusExpectation | undefined;
  /** Keep cookies across requests in {@link TestClient.cookies}; default `true`. */
  cookies?: boolean | undefined;
  /**
   * The server's shutdown, as `serve()`'s `close()` gives it (docs/spec.md §2.6): the app sees
   * it as `tsgi.shutdown_signal` (`req.shutdownSignal`), and a `text/event-stream` answer ends,
   * as a complete one, when it aborts: read with `buffered: false`, its events stop there; read
   * whole (the default), the call answers the events sent until then. Its `tsgi.signal`
   * (`req.signal`) aborts first, as under `serve()`, with an `AbortError` whose message is
   * `server shutting down` (`serverShuttingDown()`). Abort it in a test to see
   * what a deploy does to a long poll or an event stream. Default none, as under a fetch
   * runtime without one.
   *
   * @throws TypeError (from the constructor) for a value that is not an `AbortSignal`.
   */
  shutdownSignal?: AbortSignal | undefined;
  /**
   * The host names the app answers for, as `serve()`'s `trustedHosts` takes them (Django's
   * `ALLOWED_HOSTS`, Werkzeug's `trusted_hosts`): a call whose `Host` names another is answered
   * `400 Bad Request` (`Bad Request: untrusted Host header`, as the server answers it) without
   * calling the app, and a `proxyFix` in the app checks the host it forwards against the same
   * list, as under `serve()`. The base URL's host is one such `Host`: list it (Django's test
   * client adds `testserver` to `ALLOWED_HOSTS` for you; nothing is added here). Default: every
   * host, as `serve()` without the option.
   *
   * @throws TypeError (from the constructor) for what `serve()` refuses: a value that is no
   *   array, an entry with a port, a wildcard (`'*.example.com'`: write `'.example.com'`), a
   *   URL or a bare IPv6 address.
   */
  trustedHosts?: readonly string[] | undefined;
  /**
   * Most header fields a call may send, as `serve()`'s `maxHeaders` takes them: a call with
   * more is answered `431 Request Header Fields Too Large` (`Request Header Fields Too Large:
   * more than 100 header fields`, as the server answers it) without calling the app. Counted
   * are the call's field lines (the client's `headers`, the call's, its `Cookie`) and those the
   * client adds, as a browser sends them: `Host`, and the body's `Content-Type` and
   * `Content-Length` (or `Transfer-Encoding`). Default 100, as `serve()`'s.
   *
   * @throws TypeError (from the constructor) for a value that is no positive integer.
   */
  maxHeaders?: number | undefined;
}

/** Every option of {@link RequestOptions}, checked per call (`client.get(url, options)`…, `checkOptions`); `tsc` fails when it and the type differ. */
export const REQUEST_OPTIONS = {
  query: true,
  headers: true,
  json: true,
  form: true,
  files: true,
  body: true,
  from: true,
  status: true,
  followRedirects: true,
  allowErrors: true,
  environ: true,
  buffered: true,
} as const satisfies OptionNames<RequestOptions>;

/** Every option of {@link TestClientOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
export const TEST_CLIENT_OPTIONS = { baseUrl: true, headers: true, lint: true, allowErrors: true, followRedirects: true, status: true, cookies: true, shutdownSignal: true, trustedHosts: true, maxHeaders: true } as const satisfies OptionNames<TestClientOptions>;
