/**
 * Cross-origin resource sharing: the Fetch standard's CORS protocol
 * (https://fetch.spec.whatwg.org/#http-cors-protocol) as a middleware.
 *
 * @module
 */
import { type App, type AppLike, type Body, type Environ, type StartResponse, toApp } from '../gateway/types.ts';
import { describe, isThenable } from '../gateway/body.ts';
import { isToken } from '../gateway/fields.ts';
import { appendVary, replaceField } from '../http/header-list.ts';
import { callWithHeadEdit, fieldValue } from './head-edit.ts';
import { SERIALIZED_ORIGIN, parseUrl } from '../http/origin.ts';
import { type OptionNames, booleanOption, checkOptions } from '../gateway/option-names.ts';

/**
 * What an `origin` function of {@link CorsOptions} answers (or a promise of it): `true` echoes
 * the request's origin, a non-empty string is sent as `Access-Control-Allow-Origin` as it is,
 * `false`, `null`, `undefined` or `''` refuses.
 */
export type CorsOriginResult = boolean | string | null | undefined;

/** Options of {@link cors}. */
export interface CorsOptions {
  /**
   * Which origins may read the responses. Default `'*'`: any, with
   * `Access-Control-Allow-Origin: *` on every response, `Origin` or not.
   *
   * - One origin (`'https://app.example.com'`) or a list: the request's `Origin` is echoed
   *   when it is one of them, exactly (browsers send `scheme://host[:port]`, lower case,
   *   without a default port or a path; an entry written otherwise throws at once, with the
   *   form to write). `'null'` (sandboxed frames, `file:` pages) is allowed only when listed.
   * - A function `(origin, environ)`, called with a request's `Origin` when it is a
   *   serialized origin (never for `null` or a malformed value, which are refused): `true`
   *   echoes the origin, a non-empty string is sent as `Access-Control-Allow-Origin` as it
   *   is, `false`/`null`/`undefined`/`''` refuses; any other answer (a `match()` array, a
   *   number), or `'*'` with `credentials` (browsers refuse it), throws a `TypeError` at that
   *   request. May be async; what it throws propagates
   *   (a 500 under `errors`).
   *
   * Every answer but `'*'` depends on `Origin`, so every response then gets `Vary: Origin`.
   */
  origin?: string | readonly string[] | ((origin: string, environ: Environ) => CorsOriginResult | Promise<CorsOriginResult>) | undefined;
  /**
   * The methods a preflight allows (`Access-Control-Allow-Methods`), as written (methods are
   * case-sensitive). Default `['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH']`.
   */
  allowMethods?: readonly string[] | undefined;
  /**
   * The request fields a preflight allows (`Access-Control-Allow-Headers`). Default: the ones
   * the preflight asks for (`Access-Control-Request-Headers`, echoed, with
   * `Vary: Access-Control-Request-Headers`). `'*'` allows any but `Authorization`, only
   * without credentials.
   */
  allowHeaders?: readonly string[] | undefined;
  /**
   * Response fields beyond the CORS-safelisted ones (`Cache-Control`, `Content-Language`,
   * `Content-Length`, `Content-Type`, `Expires`, `Last-Modified`, `Pragma`) that scripts may
   * read (`Access-Control-Expose-Headers`). Default none. `'*'` exposes all, only without
   * credentials. `Set-Cookie` throws: no script ever reads it (Fetch's forbidden
   * response-header names), and the browser stores the cookie without it.
   */
  exposeHeaders?: readonly string[] | undefined;
  /**
   * Let scripts send cookies and HTTP auth (`fetch(url, { credentials: 'include' })`) and read
   * the answer: `Access-Control-Allow-Credentials: true`. Default `false`. Needs a list or a
   * function as `origin`: with `'*'` it throws at once.
   */
  credentials?: boolean | undefined;
  /**
   * How long, in seconds, a browser may reuse a preflight's answer
   * (`Access-Control-Max-Age`; Chromium caps it at 7200, Firefox at 86400). Default: not sent,
   * so browsers keep it 5 seconds.
   */
  maxAge?: number | undefined;
}

/** Every option of {@link CorsOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const CORS_OPTIONS = { origin: true, allowMethods: true, allowHeaders: true, exposeHeaders: true, credentials: true, maxAge: true } as const satisfies OptionNames<CorsOptions>;

const ALLOW_ORIGIN = 'Access-Control-Allow-Origin';
const DEFAULT_METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH'];

/** The fields an actual response gets (besides the app's): decided once per request. */
interface Grant {
  /** `Access-Control-Allow-Origin`, `-Allow-Credentials` and `-Expose-Headers`, or none (refused). */
  fields: ReadonlyArray<readonly [string, string]>;
  /** Add `Vary: Origin`. */
  vary: boolean;
}

/**
 * Answers cross-origin requests from browsers (CORS, Fetch standard §3.2): Hono's `cors()`,
 * Express's `cors` package, Flask-CORS.
 *
 * - **Preflight** (an `OPTIONS` with `Origin` and `Access-Control-Request-Method`): answered
 *   here, `app` is not called. `204 No Content` (no `Content-Length`: RFC 9110 §8.6) with
 *   `Access-Control-Allow-Origin`, `-Allow-Credentials`, `-Allow-Methods`, `-Allow-Headers`
 *   and `-Max-Age` as configured, and `Vary` as below. A refused origin's preflight gets the
 *   204 without them: the browser then refuses the request itself. An `OPTIONS` without
 *   those fields goes to `app` as usual.
 * - **Every other request**: `app` answers, and its response gets
 *   `Access-Control-Allow-Origin` (and `-Allow-Credentials`, `-Expose-Headers`) when the
 *   origin is allowed; the fields are added as the app starts its response, so streamed
 *   bodies, HEAD and 304 answers pass as they are. A response whose app set
 *   `Access-Control-Allow-Origin` itself keeps its CORS fields as they are, and gets only
 *   `Vary: Origin` (below). An
 *   `HTTPException` the app throws (or rejects with) is answered here with the fields, so
 *   scripts can read its status; a 5xx one is logged with its status (by an `errors`
 *   above, which tells its `onError`, else to `tsgi.errors`).
 * - **Caches** (Fetch §3.2.5): with `origin: '*'`, every response carries
 *   `Access-Control-Allow-Origin: *`, requests without `Origin` too, and no `Vary`; with any
 *   other `origin`, every response, requests without `Origin` and refused ones included,
 *   carries `Vary: Origin` (merged into the app's `Vary`, once), so a shared or browser cache
 *   never hands one origin's answer (or a non-CORS answer) to another; an app's own
 *   `Access-Control-Allow-Origin` included, and, with `origin: '*'`, one of those that is not
 *   `*` (an origin the app chose: most likely the request's). A preflight whose allowed
 *   headers are echoed carries `Vary: Access-Control-Request-Headers`.
 *
 * `credentials: true` with `origin: '*'` throws instead of echoing every origin (what
 * Flask-CORS does): that would let any web page read your users' data with their cookies.
 * List the origins, or write `origin: () => true` if you really mean any. Private Network
 * Access preflights (`Access-Control-Request-Private-Network`) are not answered.
 *
 * Put `cors` outside auth middleware (browsers send preflights without credentials, so they
 * must not be answered 401) and outside `errors` (so its 500 page carries the fields too).
 *
 * @example
 * ```ts
 * import { basicAuth, cors, errors } from 'tsgi/middleware';
 *
 * export const app = cors(errors(basicAuth(api, { verify })), {
 *   origin: ['https://app.example.com', 'https://admin.example.com'],
 *   credentials: true,
 *   exposeHeaders: ['ETag', 'Location'],
 *   maxAge: 600,
 * });
 * ```
 *
 * @throws TypeError (at once) for an `origin` that is not `'*'`, a serialized origin (or
 *   `'null'`), a list of them or a function (a wildcard, `'https://*.example.com'`, is
 *   refused with the function to write, and so is a regular expression, Express cors's
 *   `origin: /…/`); for a method or field name that is not a token
 *   (RFC 9110 §5.6.2); a `maxAge` that is not a whole number of seconds >= 0; a `credentials`
 *   that is not a boolean (`'true'` from an environment variable); and, with
 *   `credentials`, for `origin: '*'` or a `'*'` in `allowMethods`, `allowHeaders` or
 *   `exposeHeaders` (browsers take it literally then); for `Set-Cookie` in `exposeHeaders`
 *   (no script reads it).
 */
export function cors(app: AppLike, options: CorsOptions = {}): App {
  const inner = toApp(app);
  checkOptions('cors', options, CORS_OPTIONS);
  // `'true'` from an environment variable would otherwise mean no credentials, unsaid.
  const credentials = booleanOption('cors', 'credentials', options.credentials);
  const origin = options.origin ?? '*';
  const wildcard = origin === '*';
  if (wildcard && credentials) {
    throw new TypeError("cors: credentials need the allowed origins listed (or a function): browsers refuse 'Access-Control-Allow-Origin: *' with credentials");
  }
  const check = originCheck(origin, credentials);
  const methods = fieldList('allowMethods', options.allowMethods ?? DEFAULT_METHODS, credentials);
  const allowHeaders = options.allowHeaders === undefined ? null : fieldList('allowHeaders', options.allowHeaders, credentials);
  const expose = fieldList('exposeHeaders', options.exposeHeaders ?? [], credentials);
  const maxAge = options.maxAge;
  if (maxAge !== undefined && !(Number.isSafeInteger(maxAge) && maxAge >= 0)) {
    throw new TypeError('cors: maxAge must be a whole number of seconds >= 0');
  }

  const granted = (value: string): Grant => {
    const fields: Array<[string, string]> = [[ALLOW_ORIGIN, value]];
    if (credentials) fields.push(['Access-Control-Allow-Credentials', 'true']);
    if (expose !== '') fields.push(['Access-Control-Expose-Headers', expose]);
    return { fields, vary: !wildcard };
  };
  const refused: Grant = { fields: [], vary: true };
  // What every response gets whatever its `Origin`, requests without one included, as a cache
  // must see it (Fetch §3.2.5): the `*` fields, or `Vary: Origin` alone.
  const blanket = wildcard ? granted('*') : refused;
  const grantOf = (value: string | null): Grant => (wildcard ? blanket : value === null ? refused : granted(value));

  /** The preflight's answer, once the origin is decided (`null`: refused). */
  const preflight = (environ: Environ, startResponse: StartResponse, allowed: string | null): Body => {
    const headers: Array<[string, string]> = [];
    const varyOn: string[] = wildcard ? [] : ['Origin'];
    if (allowed !== null) {
      headers.push([ALLOW_ORIGIN, allowed]);
      if (credentials) headers.push(['Access-Control-Allow-Credentials', 'true']);
      headers.push(['Access-Control-Allow-Methods', methods]);
      if (allowHeaders === null) {
        const asked = requestedHeaders(environ.HTTP_ACCESS_CONTROL_REQUEST_HEADERS);
        if (asked !== '') headers.push(['Access-Control-Allow-Headers', asked]);
        varyOn.push('Access-Control-Request-Headers');
      } else if (allowHeaders !== '') {
        headers.push(['Access-Control-Allow-Headers', allowHeaders]);
      }
      if (maxAge !== undefined) headers.push(['Access-Control-Max-Age', String(maxAge)]);
    }
    if (varyOn.length > 0) headers.push(['Vary', varyOn.join(', ')]);
    startResponse('204 No Content', headers);
    return [];
  };

  return (environ, startResponse) => {
    const requestOrigin = environ.HTTP_ORIGIN as string | undefined;
    if (requestOrigin === undefined) return callWithHeadEdit(inner, environ, startResponse, (headers) => withGrant(headers, blanket));
    const allowed = check(requestOrigin, environ);
    if (environ.REQUEST_METHOD === 'OPTIONS' && environ.HTTP_ACCESS_CONTROL_REQUEST_METHOD !== undefined) {
      return allowed instanceof Promise ? allowed.then((value) => preflight(environ, startResponse, value)) : preflight(environ, startResponse, allowed);
    }
    if (allowed instanceof Promise) return allowed.then((value) => callWithHeadEdit(inner, environ, startResponse, (headers) => withGrant(headers, grantOf(value))));
    return callWithHeadEdit(inner, environ, startResponse, (headers) => withGrant(headers, grantOf(allowed)));
  };
}

/**
 * The origin check of an `origin` option: the `Access-Control-Allow-Origin` value for a
 * request's `Origin`, or `null` when refused.
 */
function originCheck(origin: CorsOptions['origin'], credentials: boolean): (value: string, environ: Environ) => string | null | Promise<string | null> {
  if (origin === '*') return () => '*';
  if (typeof origin === 'function') {
    return (value, environ) => {
      if (!SERIALIZED_ORIGIN.test(value)) return null;
      const answer = origin(value, environ);
      return isThenable(answer) ? Promise.resolve(answer).then((a) => allowOriginOf(a, value, credentials)) : allowOriginOf(answer, value, credentials);
    };
  }
  const list = typeof origin === 'string' ? [origin] : origin;
  for (const entry of Array.isArray(list) ? (list as unknown[]) : [list]) {
    if (entry instanceof RegExp) throw new TypeError(`cors: origin is a regular expression, which is not taken: write a function: (origin) => ${String(entry)}.test(origin)`);
  }
  if (!Array.isArray(list)) {
    throw new TypeError("cors: origin must be '*', an origin, a list of origins or a function (Express's origin: true is origin: () => true)");
  }
  const allowed = new Set<string>();
  for (const entry of list as unknown[]) allowed.add(checkedOrigin(entry));
  return (value) => (allowed.has(value) ? value : null);
}

/**
 * The `Access-Control-Allow-Origin` value an `origin` function's answer stands for.
 *
 * @throws TypeError for an answer outside {@link CorsOriginResult} (a `match()` array, a number),
 *   which would otherwise refuse every origin unsaid (Express's `cors` takes any truthy one for yes);
 *   and, with `credentials`, for `'*'`, which the Fetch standard's CORS check fails beside
 *   `Access-Control-Allow-Credentials: true` (every origin refused unsaid, as `origin: '*'`
 *   with credentials is refused at construction).
 */
function allowOriginOf(answer: CorsOriginResult, origin: string, credentials: boolean): string | null {
  if (answer === true) return origin;
  if (answer === '*' && credentials) {
    throw new TypeError(
      `cors: the origin function answered '*' for ${JSON.stringify(origin)} with credentials, which browsers refuse: answer true to allow that origin (its value echoed)`,
    );
  }
  if (typeof answer === 'string') return answer !== '' ? answer : null;
  if (answer === false || answer === null || answer === undefined) return null;
  throw new TypeError(
    `cors: the origin function answered ${describe(answer)} for ${JSON.stringify(origin)}: answer true to allow it, false, null or undefined to refuse, or the Access-Control-Allow-Origin value`,
  );
}

/** `entry` of an `origin` list, checked: `'null'` or a serialized origin. */
function checkedOrigin(entry: unknown): string {
  if (entry === 'null') return entry;
  if (entry === '*') throw new TypeError("cors: '*' is origin: '*' on its own, not an entry of a list");
  if (typeof entry === 'string' && entry.includes('*')) {
    const suffix = /^[a-z][a-z0-9+.-]*:\/\/\*(\.[^*/:]+)/i.exec(entry)?.[1] ?? '.example.com';
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(entry)?.[0] ?? 'https://';
    throw new TypeError(
      `cors: ${JSON.stringify(entry)} has a wildcard, which no browser sends: give origin a function, as (origin) => origin.endsWith(${JSON.stringify(suffix)}) && origin.startsWith(${JSON.stringify(scheme)})`,
    );
  }
  const canonical = parseUrl(String(entry))?.origin;
  if (typeof entry === 'string' && SERIALIZED_ORIGIN.test(entry) && (canonical === undefined || canonical === 'null' || canonical === entry)) return entry;
  const hint = canonical !== undefined && canonical !== 'null' ? `; did you mean ${JSON.stringify(canonical)}?` : '';
  throw new TypeError(
    `cors: ${JSON.stringify(entry)} is not an origin as browsers send it (scheme://host[:port], lower case, no path, no default port)${hint}`,
  );
}

/** A list option joined for its field, each entry checked to be a token (or `*`). */
function fieldList(option: string, names: readonly string[], credentials: boolean): string {
  if (!Array.isArray(names)) throw new TypeError(`cors: ${option} must be a list of names`);
  for (const name of names as unknown[]) {
    if (typeof name !== 'string' || !isToken(name)) throw new TypeError(`cors: ${option} holds ${JSON.stringify(name)}, not a token`);
    if (name === '*' && credentials) {
      throw new TypeError(`cors: '*' in ${option} is taken literally by browsers with credentials: list the names`);
    }
    // Fetch's forbidden response-header names: no script reads them, whatever is exposed.
    if (option === 'exposeHeaders' && /^set-cookie2?$/i.test(name)) {
      throw new TypeError(`cors: exposeHeaders holds ${JSON.stringify(name)}, which browsers never let scripts read: with credentials the cookie is stored without it`);
    }
  }
  return names.join(', ');
}

/**
 * The field names a preflight's `Access-Control-Request-Headers` asks for, joined for
 * `Access-Control-Allow-Headers`; `''` when absent, empty or not a list of tokens.
 */
function requestedHeaders(value: unknown): string {
  if (typeof value !== 'string') return '';
  const names: string[] = [];
  for (const item of value.split(',')) {
    const name = item.trim();
    if (name === '') continue;
    if (!isToken(name)) return '';
    names.push(name);
  }
  return names.join(', ');
}

/**
 * The app's `headers` with `grant`'s fields added. When the app answered CORS itself (its own
 * `Access-Control-Allow-Origin`), nothing but `Vary: Origin` is added: with `grant.vary` (the
 * configuration answers per origin), or when the app's value is not `*` (an origin it chose,
 * most likely the request's echoed: Fetch §3.2.5; a constant one only costs cache hits).
 */
function withGrant(headers: Array<[string, string]>, grant: Grant): Array<[string, string]> {
  if (!Array.isArray(headers)) return headers; // the server refuses it
  const own = fieldValue(headers, ALLOW_ORIGIN);
  if (own !== undefined) {
    if (!grant.vary && own.trim() === '*') return headers;
    const out = headers.slice();
    appendVary(out, 'Origin');
    return out;
  }
  const out = headers.slice();
  for (const [name, value] of grant.fields) {
    // One `true`: two (`true, true`) is not `true` to a browser. Expose-Headers lists merge.
    if (name === 'Access-Control-Allow-Credentials') replaceField(out, name, value);
    else out.push([name, value]);
  }
  if (grant.vary) appendVary(out, 'Origin');
  return out;
}
