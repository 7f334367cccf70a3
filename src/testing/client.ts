/**
 * The test client: drives an app in-process the way a browser drives a server (WebTest's
 * `TestApp`, Werkzeug's `Client`).
 *
 * @module
 */
import { type ShutdownWatch, shutdownWatchOf } from '../gateway/shutdown.ts';
import { type App, type AppLike, type Environ, toApp } from '../gateway/types.ts';
import { HeaderList } from '../http/header-list.ts';
import { Request } from '../request/request.ts';
import { assertOneBody } from '../request/one-body.ts';
import { lint } from '../middleware/lint.ts';
import { REQUEST_OPTIONS, type RequestOptions, TEST_CLIENT_OPTIONS, type TestClientOptions } from './options.ts';
import { booleanOption, checkOptions } from '../gateway/option-names.ts';
import { fieldsAsRead, requestEnviron, withQuery } from './environ.ts';
import { type Answer, CutResponse, type RunOptions, refusalAnswer, runApp, sentTo } from './exchange.ts';
import { wrapBody } from '../gateway/body-watch.ts';
import { closeBody } from '../gateway/body.ts';
import { clientDisconnected } from '../gateway/abort.ts';
import { hostRefusal } from '../http/trusted-hosts.ts';
import { DUPLICATE_CONTENT_LENGTH, repeatedFieldRefusal } from '../http/singleton-fields.ts';
import { headerEnvironKey } from '../gateway/header-keys.ts';
import { shownValue } from '../gateway/shown.ts';
import { httpUrl } from '../http/http-url.ts';
import { DEFAULT_MAX_HEADERS, fieldCountRefusal } from '../http/field-count.ts';
import { sentFieldCount } from './field-count.ts';
import { BOTH_FRAMINGS, type FramingRefusal, transferEncodingRefusal } from '../http/request-framing.ts';
import { UNKNOWN_METHOD, isKnownMethod } from '../http/methods.ts';
import { UNMET_EXPECTATION, expectationOf } from '../http/expectation.ts';
import { checkTrustedHosts, isTrustedHost, trustedHostsKey } from '../http/trusted-hosts.ts';
import { isToken } from '../gateway/fields.ts';
import { CookieJar } from './cookies.ts';
import { hostUrl } from './host-url.ts';
import { pageEncoderLoading } from './page-url.ts';
import { type MountPoint, callMountPoint, mountPointAt } from './mount-point.ts';
import { type TestResponse, testResponse } from './response.ts';
import { TestClientError, preview } from './error.ts';
import { describeExpectation, statusMatches } from './status.ts';
import { type Hop, isCredential, nextHop, redirectCount } from './redirect.ts';
import { refuseNodeFramework } from '../gateway/foreign-app.ts';
import { hintRecorder } from './early-hints.ts';
import { StreamedInput, isStreamedBody } from './streamed-input.ts';
import { extractBody } from './held-body.ts';
import { arrived, navigationHeaders, sameSiteContext, startNavigation } from './navigation.ts';

/** Client ports handed out as `REMOTE_PORT`, one per client, from the dynamic range (RFC 6335). */
let nextPort = 49152;

/**
 * Drives a gateway app in-process as a client drives a server, through the code path
 * `serve()` takes: the environ is built by the server's rules (see docs/testing.md), the app
 * is called, its head checked and its body iterated to the end (or closed with `return()`),
 * an app error logged and answered 500. Each call runs under `lint` (off with `lint: false`),
 * and output on `tsgi.errors` fails it unless `allowErrors` is set. Cookies are kept across
 * calls ({@link TestClient.cookies}), redirects followed on request (`followRedirects`), and
 * the status checked: by default a 4xx or 5xx fails the call, as in WebTest. With
 * `buffered: false` (Werkzeug's `buffered=False`) a call answers at the head and the body is
 * read as it is produced (see {@link RequestOptions.buffered}).
 *
 * @example
 * ```ts
 * const client = new TestClient(app);
 * const page = await client.get('/login');
 * const home = await page.form().set('user', 'ada').submit({ followRedirects: 1 });
 * expect(home.textBody).toContain('Hello, ada');
 * await client.get('/missing', { status: 404 });
 * ```
 */
export class TestClient {
  /** The app driven. */
  readonly app: App;
  /** The cookies kept across requests (RFC 6265). */
  readonly cookies: CookieJar;
  /** The base URL: scheme, host, port and mount point (`SCRIPT_NAME`) of the app. */
  readonly baseUrl: string;
  readonly #options: TestClientOptions;
  /** The watch of `options.shutdownSignal`, which ends live event streams. */
  readonly #shutdown: ShutdownWatch | undefined;
  /** The base URL as a mount point; a call's `environ` may name another (`SCRIPT_NAME`). */
  readonly #mount: MountPoint;
  /** The base URL's origin, where the client's own `Host` field applies. */
  readonly #baseOrigin: string;
  readonly #remotePort = String(nextPort === 65535 ? (nextPort = 49152) : nextPort++);

  /**
   * @param app - the app (a function, or an object with `respond`).
   * @param options - see {@link TestClientOptions}.
   * @throws TypeError for a `baseUrl` that is no absolute `http:` or `https:` URL (`'localhost'`,
   *   `'ftp://host/'`), or one with credentials (`http://ada:pw@localhost`,
   *   which `fetch()` refuses too: give `headers: { authorization }`), a `shutdownSignal` that is not an
   *   `AbortSignal`, a `lint`, `allowErrors` or `cookies` that is not a boolean, a
   *   `followRedirects` that is no non-negative integer (`true`), a `trustedHosts` that
   *   `serve()` would refuse (see {@link TestClientOptions.trustedHosts}), a `maxHeaders` that
   *   is no positive integer, or an Express, Connect or Koa app given as
   *   `app` (test those with supertest; a tsgi app mounted in one with `toNodeHandler` is
   *   tested here on its own).
   */
  constructor(app: AppLike, options: TestClientOptions = {}) {
    refuseNodeFramework(app, 'TestClient');
    this.app = toApp(app);
    checkOptions('new TestClient', options, TEST_CLIENT_OPTIONS);
    checkTrustedHosts(options.trustedHosts);
    checkMaxHeaders(options.maxHeaders);
    refuseCredentials('new TestClient: baseUrl', httpUrl(options.baseUrl ?? 'http://localhost', 'new TestClient: baseUrl'));
    this.#mount = mountPointAt(options.baseUrl ?? 'http://localhost');
    this.baseUrl = this.#mount.url;
    this.#baseOrigin = new URL(this.baseUrl).origin;
    // Checked once here: `'false'` is truthy, and would let errors pass (or `lint: 'true'` be off).
    this.#options = {
      ...options,
      lint: booleanOption('new TestClient', 'lint', options.lint, true),
      allowErrors: booleanOption('new TestClient', 'allowErrors', options.allowErrors),
      cookies: booleanOption('new TestClient', 'cookies', options.cookies, true),
      followRedirects: redirectCount('new TestClient', options.followRedirects),
    };
    this.#shutdown = shutdownWatchOf(options.shutdownSignal);
    this.cookies = new CookieJar(`${this.#baseOrigin}/`, this.#options.cookies);
  }

  /** A GET request (see {@link TestClient.request}). */
  get(url: string, options?: RequestOptions): Promise<TestResponse> {
    return this.#call('client.get', 'GET', url, options);
  }

  /** A POST request. */
  post(url: string, options?: RequestOptions): Promise<TestResponse> {
    return this.#call('client.post', 'POST', url, options);
  }

  /** A PUT request. */
  put(url: string, options?: RequestOptions): Promise<TestResponse> {
    return this.#call('client.put', 'PUT', url, options);
  }

  /** A PATCH request. */
  patch(url: string, options?: RequestOptions): Promise<TestResponse> {
    return this.#call('client.patch', 'PATCH', url, options);
  }

  /** A DELETE request. */
  delete(url: string, options?: RequestOptions): Promise<TestResponse> {
    return this.#call('client.delete', 'DELETE', url, options);
  }

  /** A HEAD request: the answer has the GET's head and no body. */
  head(url: string, options?: RequestOptions): Promise<TestResponse> {
    return this.#call('client.head', 'HEAD', url, options);
  }

  /** An OPTIONS request. */
  options(url: string, options?: RequestOptions): Promise<TestResponse> {
    return this.#call('client.options', 'OPTIONS', url, options);
  }

  /**
   * Sends one request and answers the final response. `url` is a path relative to the base
   * URL (`/items?page=2`), or an absolute URL (sent to the same app, with its host).
   *
   * @throws TestClientError (rejects) when the status does not meet `options.status`, the app
   *   wrote to `tsgi.errors` without `allowErrors`, more redirects came than
   *   `followRedirects` allows, or the response was cut after its head (an error while
   *   streaming); TypeError (rejects; `get`, `post`… too) for a `method` that is no token
   *   (`'GE T'`, `''`: RFC 9110 §9.1), an invalid URL, one of another
   *   scheme than http(s) (`mailto:`, which `res.click()` may meet), one with credentials
   *   (`http://ada:pw@localhost/`, as `fetch()` refuses it: they would go unsent), two bodies (`json` with
   *   `form`, `files` or `body`; `form` or `files` with `body`), or an invalid header, or
   *   options that are not a plain object or hold an unknown key, before the app is called
   *   (`client.post: unknown option "jsonn": did you mean "json"?`, where a misspelled `json`
   *   would send no body). With `buffered: false`, what comes after the head (a cut, output on
   *   `tsgi.errors`) rejects the read of the body instead, or `res.close()`. A `query` or
   *   `form` that is a string (Werkzeug's `query_string='a=1'`) rejects with a TypeError too,
   *   where its characters would have gone as fields.
   */
  async request(method: string, url: string, options: RequestOptions = {}): Promise<TestResponse> {
    checkOptions('client.request', options, REQUEST_OPTIONS, 'third');
    // `fetch()` and `http.request` refuse such a method too; the app (or its lint) would take the blame.
    if (!isToken(method)) throw new TypeError(`${JSON.stringify(method)} ${url}: a method is a token (RFC 9110 §9.1), as GET or PROPFIND`);
    assertOneBody(`${method.toUpperCase()} ${url}`, options);
    // Werkzeug's `query_string='a=1'`, `data='a=1'`: a string's characters would go as fields (`a=undefined&%3D=undefined…`).
    for (const [key, instead] of [['query', "write it in the URL ('/items?page=2')"], ['form', 'send it as body, with its Content-Type in headers']] as const) {
      if (typeof options[key] === 'string') throw new TypeError(`${method.toUpperCase()} ${url}: ${key} is fields ({ name: 'value' } or [name, value] pairs), not a string: ${instead}`);
    }
    // A `SCRIPT_NAME` in the call's environ is its mount point, as the base URL's path is: `url` is relative to it.
    const mount = callMountPoint(this.#mount, options.environ);
    // `OPTIONS *` (RFC 9112 §3.2.4) asks about the server as a whole, as under serve() and Werkzeug's client: sent at the origin's root.
    const asterisk = url === '*' && method.toUpperCase() === 'OPTIONS';
    const target = asterisk ? new URL('/', mount.url) : this.#resolve(url, mount);
    // A `mailto:` link, a `javascript:` one: nothing a server is asked for (the app's lint would fail it, naming the wrong culprit).
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new TypeError(`${method.toUpperCase()} ${url}: the test client sends http(s) URLs only`);
    refuseCredentials(`${method.toUpperCase()} ${url}`, target);
    // A fragment is never sent (Fetch, as a redirect's `Location`'s): `res.url` is the URL the app saw.
    target.hash = '';
    // A page of the app may be named as `url` is (`from: '/login'`), resolved the same way.
    const navigation = options.from === undefined ? undefined : startNavigation(this.#resolve(options.from, mount).href);
    return this.#run({ method: method.toUpperCase(), url: target, options, navigation, asterisk }, `${method.toUpperCase()} ${url}`);
  }

  /** `request(method, url, options)` for the method `get`, `post`… named `where`, its options checked under that name (a rejection, as `request`'s). */
  #call(where: string, method: string, url: string, options: RequestOptions | undefined): Promise<TestResponse> {
    try {
      checkOptions(where, options, REQUEST_OPTIONS);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.request(method, url, options);
  }

  /** Runs the chain that begins with `first` (`call` names it in a failure): its redirects followed as its options say. */
  async #run(first: Hop, call: string): Promise<TestResponse> {
    const { options } = first;
    const limit = redirectCount(call, options.followRedirects) ?? this.#options.followRedirects ?? 0;
    const history: TestResponse[] = [];
    let hop = first;
    for (;;) {
      const res = await this.#exchange(hop, [...history]);
      const next = limit > 0 ? nextHop(hop, res) : null;
      if (next === null) return this.#checkStatus(res, hop.method, options);
      // A redirect followed is read whole, with its checks: only the last answer streams (`buffered: false`).
      await res.bytes();
      if (history.length >= limit) {
        const chain = [...history, res].map((r) => `${r.statusCode} ${r.url}`).join(' → ');
        throw new TestClientError(`${call}: more than ${limit} redirect(s): ${chain}`, { response: res });
      }
      history.push(res);
      hop = next;
    }
  }

  /** A path relative to the URL of `mount` (the call's mount point), or an absolute URL, as a URL. */
  #resolve(url: string, mount: MountPoint): URL {
    if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(url)) return new URL(url);
    if (url === '' || url.startsWith('?')) return new URL(`${mount.url}${url}`);
    const base = new URL(`${mount.url}/`);
    if (!url.startsWith('/')) return new URL(url, base);
    // After the origin, so a path that starts with `//` stays a path: resolved on its own,
    // `//evil.example/` would name another host.
    return new URL(`${base.origin}${base.pathname.replace(/\/$/, '')}${url}`);
  }

  async #checkStatus(res: TestResponse, method: string, options: RequestOptions): Promise<TestResponse> {
    const expected = options.status ?? this.#options.status;
    if (statusMatches(res.statusCode, expected)) return res;
    let body: string;
    if (res.isStreamed()) {
      // Not waited for (it may never end): the app's body is closed, as a client that leaves.
      await res.close().catch(() => undefined);
      body = '(the body was not read: buffered: false)';
    } else body = preview(res.textBody);
    throw new TestClientError(`${method} ${res.url} answered ${res.status}, expected ${describeExpectation(expected)}\n${body}`, { response: res });
  }

  /** One exchange: the environ built, the app run under lint, cookies stored, errors checked. */
  async #exchange(hop: Hop, history: TestResponse[]): Promise<TestResponse> {
    const { method, url, options } = hop;
    const messages: string[] = [];
    const waiting: Array<Promise<unknown>> = [];
    const controller = new AbortController();
    const hints = hintRecorder();
    // A call's field replaces the client's of the same name (supertest's agent, fetch's
    // `Headers`): `Authorization: Bearer a, Bearer b` is no credential. Repeats within one stay.
    // Values as the server reads them (padding stripped), so the app, the jar and the Host check see what they would.
    const own = new HeaderList(fieldsAsRead(options.headers));
    // The client's own `Host` says where its base URL is: a URL at another origin (a redirect
    // to an identity provider, an absolute URL) names its own host. Its credentials stay
    // behind once a redirect went to another origin, as fetch() deletes `Authorization` then.
    const elsewhere = url.origin !== this.#baseOrigin;
    // A body of fields (form, json, files, URLSearchParams, FormData) labels itself: the
    // client's Content-Type would misname it (Werkzeug's EnvironBuilder derives it from data).
    const labelled = options.json !== undefined || options.form !== undefined || options.files !== undefined || options.body instanceof URLSearchParams || options.body instanceof FormData;
    const headers: Array<[string, string]> = fieldsAsRead(this.#options.headers).filter(
      ([name]) =>
        !own.has(name) &&
        !(elsewhere && name.toLowerCase() === 'host') &&
        !(hop.leftOrigin === true && isCredential(name)) &&
        !(labelled && name.toLowerCase() === 'content-type'),
    );
    // A browser's navigation, judged at the URL the app sees (its Host, where cookies are filed):
    // the fields it adds replace the client's, the call's replace them. The hop keeps it so, for its redirect.
    const navigation = hop.navigation === undefined ? undefined : (hop.navigation = arrived(hop.navigation, hostUrl(url, [...headers, ...own], options.environ)));
    if (navigation?.current !== undefined) {
      const added = navigationHeaders(navigation, method, navigation.current).filter(([name]) => !own.has(name));
      const names = new Set(added.map(([name]) => name.toLowerCase()));
      headers.splice(0, headers.length, ...headers.filter(([name]) => !names.has(name.toLowerCase())), ...added);
    }
    headers.push(...own);
    // A body held whole goes as fetch() sends it: its bytes, and the Content-Type it implies unless one is given.
    const held = options.body === undefined || isStreamedBody(options.body) ? undefined : await extractBody(options.body);
    if (held?.type != null && !headers.some(([name]) => name.toLowerCase() === 'content-type')) headers.push(['Content-Type', held.type]);
    const useCookies = this.#options.cookies !== false;
    // Cookies are filed under the host the app sees, as Werkzeug's client and curl file them.
    const jarUrl = hostUrl(url, headers, options.environ).href;
    const cookie = useCookies ? this.cookies.header(jarUrl, navigation === undefined ? undefined : sameSiteContext(navigation, method)) : '';
    if (cookie) headers.push(['Cookie', cookie]);
    withQuery(url, options.query);
    // The URL is split at the call's mount point (its environ's `SCRIPT_NAME`, else the base URL's
    // path), which sets `SCRIPT_NAME`: `''` for a redirect outside it, as Werkzeug's client does.
    const mount = callMountPoint(this.#mount, options.environ);
    const { SCRIPT_NAME: _mountedAt, ...overrides } = options.environ ?? {};
    const extra: Partial<Environ> = {
      REMOTE_PORT: this.#remotePort,
      'tsgi.errors': { write: (message: string) => void messages.push(String(message)) },
      'tsgi.signal': controller.signal,
      'tsgi.early_hints': hints.send,
      // The work run after the answer (`res.callOnClose`): the call settles once it has.
      'tsgi.wait_until': (promise: Promise<unknown>) => void waiting.push(promise),
      // For `proxyFix`, which checks the host it forwards against them, as under serve().
      ...(this.#options.trustedHosts === undefined ? {} : { [trustedHostsKey.name]: this.#options.trustedHosts }),
      ...(this.#shutdown === undefined ? {} : { 'tsgi.shutdown_signal': this.#shutdown.signal }),
      ...(mount === this.#mount ? options.environ : overrides),
    };
    const body = { json: options.json, form: options.form, files: options.files, body: held?.bytes ?? (isStreamedBody(options.body) ? options.body : undefined) };
    const { environ, pathError } = requestEnviron({ method, url, scriptRoot: mount.root, headers, body, asterisk: hop.asterisk }, extra);
    const input = environ['tsgi.input'];
    // A streamed body the app left unread is stopped once the exchange is over, as the
    // connection the server closes (a generator's `finally` runs); not waited for mid-pull.
    const streamed = input instanceof StreamedInput ? input : undefined;
    const stopBody = async () => {
      if (streamed === undefined) return;
      if (streamed.pulling) void streamed.close();
      else await streamed.close();
    };
    const limits = { trustedHosts: this.#options.trustedHosts, maxHeaders: this.#options.maxHeaders ?? DEFAULT_MAX_HEADERS };
    const refusal = refusalOf(pathError, environ, streamed !== undefined, headers, limits);
    const linted = refusal === null && this.#options.lint !== false ? lint(this.app) : undefined;
    let answer: Answer;
    // The first error the exchange logged (an app error answered 500): the failure's `cause`.
    let failure: { error: unknown } | undefined;
    const onError = (error: unknown) => void (failure ??= { error });
    const cutError = (error: CutResponse, response?: TestResponse) =>
      new TestClientError(`${method} ${url.href}: ${error.message}${logged(messages)}`, { response, cause: error.cause });
    try {
      // `requestSignal`: the server side aborts `tsgi.signal` when it ends the answer itself.
      const run: RunOptions = {
        onError,
        buffered: options.buffered,
        onCommitted: hints.committed,
        shutdown: this.#shutdown,
        requestSignal: controller,
      };
      const app = linted ?? this.app;
      answer = refusal !== null ? sentTo(method, refusalAnswer(refusal.code, refusal.detail)) : await runApp(app, environ, run);
    } catch (error) {
      controller.abort(error);
      await stopBody();
      if (!(error instanceof CutResponse)) throw error;
      throw cutError(error);
    }
    /** Fails on what the exchange logged, unless allowed. */
    const checkErrors = () => {
      if (messages.length === 0) return;
      // Checked only here, where the app logged: a call's `allowErrors: 'false'` would let it pass.
      if (booleanOption('client', 'allowErrors', options.allowErrors, this.#options.allowErrors)) return;
      throw new TestClientError(`${method} ${url.href} wrote to tsgi.errors (pass allowErrors to permit it):${logged(messages)}`, {
        response: res,
        cause: failure?.error,
      });
    };
    /** The checks of an exchange over, once its body is. */
    const finish = async () => {
      linted?.assertClosed();
      await settled(waiting, `${method} ${url.href}`);
      await stopBody();
      checkErrors();
    };
    const live = answer.body instanceof Uint8Array ? null : answer.body;
    if (live !== null) {
      // The body read as it comes: its end or close finishes the exchange; a cut fails the read.
      const watched = wrapBody(
        live,
        {
          end: finish,
          close: (returned) => {
            controller.abort(clientDisconnected());
            return returned.then(finish);
          },
          error: (error) => {
            controller.abort(error);
            void stopBody();
            throw error instanceof CutResponse ? cutError(error, res) : error;
          },
        },
        { async: true },
      );
      answer = { ...answer, body: watched as AsyncIterableIterator<Uint8Array> };
    } else {
      linted?.assertClosed();
      await settled(waiting, `${method} ${url.href}`);
      await stopBody();
    }
    const res = testResponse(answer, {
      request: new Request(environ),
      // As the app saw it (at the host a Host field names): the page's forms and links resolve against it.
      url: hostUrl(url, headers, options.environ).href,
      history,
      earlyHints: hints.sent,
      get errors() {
        return messages.join('');
      },
      send: (m, u, o) => this.request(m, u, o),
      follow: (o) => this.#follow(hop, res, o),
    });
    if (useCookies) this.cookies.store(jarUrl, res.headers.getAll('set-cookie'));
    // A page in Shift_JIS, Big5…: its forms' `action` (a getter) is written with iconv-lite, loaded now.
    // Not loaded (never, iconv-lite being a dependency), the getter says so itself.
    const loading = live === null ? pageEncoderLoading(res.headers.get('content-type'), answer.body as Uint8Array) : null;
    if (loading !== null) await loading.catch(() => undefined);
    try {
      checkErrors();
    } catch (error) {
      if (live !== null) {
        controller.abort(clientDisconnected());
        await closeBody(live);
      }
      throw error;
    }
    return res;
  }

  /**
   * `res.follow(options)`: the request the redirect asks for, with what describes the request
   * kept from the call that got `res` (headers, body for a 307/308, `environ`, `allowErrors`),
   * but not how that call read its answer nor its expectations: `buffered`, `status` and
   * `followRedirects` are the ones `options` gives, else the client's (a
   * `post(…, { status: 303 })` is followed by a page expected to be 2xx or 3xx, as in WebTest).
   */
  async #follow(hop: Hop, res: TestResponse, options: RequestOptions): Promise<TestResponse> {
    const next = nextHop(hop, res);
    if (next === null) throw new TestClientError(`${hop.method} ${res.url} answered ${res.status}, not a redirect with a Location`, { response: res });
    const { status: _status, followRedirects: _followRedirects, buffered: _buffered, ...request } = next.options;
    // The next hop as it is (a navigation keeps its redirect chain), with these options.
    return this.#run({ ...next, options: { ...request, ...givenOptions(options) } }, `${next.method} ${next.url.href}`);
  }
}

/** `options` without the keys given as `undefined`: such a key keeps the kept value, as an absent one does. */
function givenOptions(options: RequestOptions): RequestOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as RequestOptions;
}

/** How long the work after an answer may run before the client says what it waits for, in ms. */
const SLOW_WORK_WARNING = 2000;

/**
 * Settles once every promise in `waiting` has, including those added meanwhile; there is no
 * limit, but past {@link SLOW_WORK_WARNING} it says once, with `console.warn`, which call
 * (`call`, its method and URL) waits for `res.callOnClose` work, so a test that hangs on work
 * that never settles says why before its runner's timeout.
 */
async function settled(waiting: Array<Promise<unknown>>, call: string): Promise<void> {
  if (waiting.length === 0) return;
  const timer = setTimeout(() => {
    console.warn(`TestClient: ${call} is still waiting for the work given to res.callOnClose (or tsgi.wait_until) after ${SLOW_WORK_WARNING / 1000} s; the call settles once that work has`);
  }, SLOW_WORK_WARNING);
  try {
    for (let done = 0; done < waiting.length; done = waiting.length) await Promise.allSettled(waiting.slice(done));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Throws for a URL with credentials (`http://ada:secret@localhost/`), as `fetch()` refuses one
 * (Fetch, the Request constructor), where they would go unsent: the call's `Authorization`
 * field carries them. `where` names the call or option in the message.
 *
 * @throws TypeError for a URL with a user name or password.
 */
function refuseCredentials(where: string, url: URL): void {
  if (url.username === '' && url.password === '') return;
  throw new TypeError(`${where}: a URL with credentials is refused, as fetch() refuses it; send them as a field: headers: { authorization: basicAuthorization(user, password) } (tsgi/http)`);
}

/** The log text for a failure message: indented, or nothing. */
function logged(messages: string[]): string {
  return messages.length === 0 ? '' : `\n${messages.join('').replace(/^/gm, '  ')}`;
}

/**
 * Throws for a `maxHeaders` that `serve()` refuses: one that is no positive integer.
 *
 * @throws TypeError naming the value.
 */
function checkMaxHeaders(value: unknown): void {
  if (value === undefined || (Number.isSafeInteger(value) && (value as number) >= 1)) return;
  throw new TypeError(`new TestClient: maxHeaders must be a positive integer, got ${shownValue(value)}`);
}

/** A refusal of the server before the app: its status code and the detail after the title. */
type Refusal = FramingRefusal | { code: 417 | 431 | 501; detail: string };

/**
 * Why the server would refuse a request before the app sees it (as it answers: `Bad Request:
 * <why>`, or another title for its code), or null, in the order `serve()` answers them: first
 * a method outside `http.METHODS` (`FROB`: a `501`, `isKnownMethod`), then the framing Node's
 * parser refuses ({@link parserRefusal}); then an `Expect` other than
 * `100-continue` (a `417`, `expectationOf`), which Node reads once the parser took the head;
 * then a path it cannot decode, more fields than `maxHeaders` (a `431`, counted by
 * `sentFieldCount`), several lines of a field that is no list among `headers`
 * (Host, Authorization, Content-Type…: `SINGLETON_FIELDS`, RFC 9110 §5.3; the environ keeps
 * the last Host), an invalid Host, one outside `trustedHosts` when given, and the transfer
 * codings `serve()` refuses (`transferEncodingRefusal`: a `501` for a coding other than
 * `chunked`). In the words `serve()` answers them with.
 */
function refusalOf(
  pathError: boolean,
  environ: Environ,
  streamed: boolean,
  headers: ReadonlyArray<readonly [string, string]>,
  limits: { trustedHosts: readonly string[] | undefined; maxHeaders: number },
): Refusal | null {
  const refused = (detail: string): Refusal => ({ code: 400, detail });
  if (!isKnownMethod(environ.REQUEST_METHOD as string)) return { code: 501, detail: UNKNOWN_METHOD };
  const framing = parserRefusal(environ, streamed, headers);
  if (framing !== null) return refused(framing);
  // Node reads `Expect` on an HTTP/1.1 (or HTTP/2) request only, not on a 1.0 one.
  const expectation = environ.HTTP_EXPECT;
  if (typeof expectation === 'string' && environ.SERVER_PROTOCOL !== 'HTTP/1.0' && expectationOf(expectation) === 'unmet') return { code: 417, detail: UNMET_EXPECTATION };
  if (pathError) return refused('malformed percent-escape or invalid UTF-8 in the path');
  const tooMany = fieldCountRefusal(sentFieldCount(environ, headers), limits.maxHeaders);
  if (tooMany !== null) return { code: 431, detail: tooMany };
  const repeated = repeatedSingleton(headers);
  if (repeated !== null) return refused(repeated);
  const host = hostRefusal(environ.HTTP_HOST as string | undefined, limits.trustedHosts);
  if (host !== null) return refused(host);
  const transferEncoding = environ.HTTP_TRANSFER_ENCODING;
  return transferEncoding === undefined ? null : transferEncodingRefusal(transferEncoding, environ.SERVER_PROTOCOL);
}

/**
 * The framing Node's HTTP parser refuses, which `serve()` answers before any other check (its
 * `clientError`), in its words, or null: several `Content-Length` lines among `headers`, a
 * `streamed` body's `Content-Length` that is not digits, a `Content-Length` of the call's own
 * sent with `Transfer-Encoding` (a held body's environ has the body's length in its place, or none).
 */
function parserRefusal(environ: Environ, streamed: boolean, headers: ReadonlyArray<readonly [string, string]>): string | null {
  let lengths = 0;
  for (const [name] of headers) if (name.toLowerCase() === 'content-length') lengths++;
  if (lengths > 1) return DUPLICATE_CONTENT_LENGTH;
  const length = environ.CONTENT_LENGTH;
  if (streamed && length !== undefined && !/^\d+$/.test(length)) return 'invalid Content-Length';
  if (lengths > 0 && environ.HTTP_TRANSFER_ENCODING !== undefined) return BOTH_FRAMINGS;
  return null;
}

/**
 * The server's reason for a field that is no list given twice among `headers` (`several
 * Authorization headers`, names compared without regard to case), or null.
 */
function repeatedSingleton(headers: ReadonlyArray<readonly [string, string]>): string | null {
  const seen = new Set<string>();
  for (const [name] of headers) {
    if (name.includes('_')) continue; // dropped, as the server drops it
    const key = headerEnvironKey(name);
    if (seen.has(key)) {
      const refusal = repeatedFieldRefusal(key);
      if (refusal !== null) return refusal;
    }
    seen.add(key);
  }
  return null;
}
