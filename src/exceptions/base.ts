/**
 * `HTTPException`, the base of every HTTP error and redirect.
 *
 * @module
 */
import type { Body, Environ, StartResponse } from '../gateway/types.ts';
import { isToken } from '../gateway/fields.ts';
import { HeaderList, type HeaderListInit } from '../http/header-list.ts';
import { Response, type ResponseBody, adoptForeignResponse, isForeignResponse } from '../response/response.ts';
import { reasonPhrase } from '../response/status.ts';
import { contentRange, retryAfter, wwwAuthenticate } from '../http/converters.ts';
import type { Challenge } from '../http/www-authenticate.ts';
import { customErrorPage, errorBody, negotiateBodyType } from '../response/error-body.ts';
import { type OptionNames, type OptionsArgument, checkOptions } from '../gateway/option-names.ts';

/** Options shared by every HTTP exception. */
export interface HTTPExceptionOptions {
  /** Extra response headers. */
  headers?: HeaderListInit | undefined;
  /** A body that replaces the generated one (the user's body wins). */
  body?: ResponseBody | undefined;
  /**
   * Content-Type for `body`; default the `Content-Type` of `headers`, else `text/plain`
   * (UTF-8).
   */
  contentType?: string | undefined;
  /** The underlying error, kept as `error.cause`. */
  cause?: unknown;
  /**
   * Challenges sent as `WWW-Authenticate` (RFC 9110 §11.6.1), for a 401: objects
   * (`{ scheme: 'Basic', params: { realm: 'Staff' } }`, formatted with
   * `formatWwwAuthenticate`) or a ready header value. Throws `TypeError` when a challenge
   * cannot be formatted, or when there is none (`[]`, or a blank string).
   */
  wwwAuthenticate?: Challenge | readonly Challenge[] | string | undefined;
  /**
   * Challenges sent as `Proxy-Authenticate` (RFC 9110 §11.7.1), for a 407, which must carry
   * them: as `wwwAuthenticate` (the same challenge syntax), with the same `TypeError`s. The
   * server sends this field from an app, although it drops the hop-by-hop ones.
   */
  proxyAuthenticate?: Challenge | readonly Challenge[] | string | undefined;
  /**
   * `Retry-After` (RFC 9110 §10.2.3), for a 429 or 503 (or a 3xx): a delay in whole
   * **seconds**, or the `Date` to retry at; or a string, digits for seconds or an HTTP-date
   * (as `res.retryAfter` takes it). Throws `RangeError` for a negative or fractional number,
   * `TypeError` for a string that is neither.
   */
  retryAfter?: number | Date | string | undefined;
  /**
   * The protocols sent as `Upgrade` (RFC 9110 §7.8), for a 426, which must carry them
   * (§15.5.22): a list, most preferred first, or one string (`'websocket'`,
   * `'TLS/1.2, HTTP/1.1'`). Each is a name and an optional `/version`, both tokens. Throws
   * `TypeError` for one that is not, or for none (`[]`, a blank string). The Node server sends
   * it on HTTP/1.1 only, with `Connection: upgrade`; over HTTP/2, to an HTTP/1.0 client and
   * through the fetch adapters the 426 goes without it (docs/exceptions.md).
   */
  upgrade?: string | readonly string[] | undefined;
  /**
   * The representation's complete length in **bytes**, for a 416: sends
   * `Content-Range: bytes *\/length` (RFC 9110 §15.5.17). Throws `RangeError` for a negative or
   * fractional number.
   */
  length?: number | undefined;
}

/** Every option of {@link HTTPExceptionOptions} (`checkOptions`; `abort` checks them too); `tsc` fails when it and the type differ. */
export const HTTP_EXCEPTION_OPTIONS = {
  headers: true,
  body: true,
  contentType: true,
  cause: true,
  wwwAuthenticate: true,
  proxyAuthenticate: true,
  retryAfter: true,
  upgrade: true,
  length: true,
} as const satisfies OptionNames<HTTPExceptionOptions>;

/** The options of an exception made without any, shared. */
const NO_OPTIONS: HTTPExceptionOptions = Object.freeze({});

/**
 * `options` once checked (`checkOptions`) as the `argument` of `new ctor(…)`: for a subclass
 * whose options are not its second argument (`new HTTPMethodNotAllowed(allow, detail,
 * options)`), to check them in its `super(…)` call with the right message.
 *
 * @throws TypeError for options that are not a plain object or hold an unknown key.
 */
export function checkedExceptionOptions(ctor: { readonly name: string }, options: HTTPExceptionOptions | undefined, argument: OptionsArgument): HTTPExceptionOptions | undefined {
  // Without options, not even the message's name is built: a redirect is made per request.
  if (options !== undefined) checkOptions(`new ${ctor.name}`, options, HTTP_EXCEPTION_OPTIONS, argument);
  return options;
}

/**
 * Checks the `detail` of `new ctor(…)`: from plain JavaScript (or a port of WebOb's
 * `HTTPFound(location=…, headers=…)`), options given in its place would become the body's
 * `[object Object]`. `leading` names the argument before the detail, for a class that takes
 * one (`'location'` for a redirect, `'allow'` for a 405), so the message puts the options third.
 *
 * @throws TypeError for a `detail` that is neither a string nor `undefined`, saying where the
 *   options go: `HTTPFound: the detail must be a string; options go third (new
 *   HTTPFound(location, undefined, { … }))`.
 */
export function checkDetail(ctor: { readonly name: string }, detail: unknown, leading?: string): void {
  if (detail === undefined || typeof detail === 'string') return;
  const where = leading === undefined ? 'second' : 'third';
  const args = leading === undefined ? 'undefined, { … }' : `${leading}, undefined, { … }`;
  throw new TypeError(`${ctor.name}: the detail must be a string; options go ${where} (new ${ctor.name}(${args}))`);
}

/**
 * The value of a challenge field (`WWW-Authenticate`, `Proxy-Authenticate`).
 *
 * @throws TypeError, naming `field`, when it holds no challenge (`[]`, a blank string), or as
 *   `formatWwwAuthenticate` for a challenge that cannot be formatted.
 */
function challengeList(field: string, value: Challenge | readonly Challenge[] | string): string {
  // A blank ready value holds no challenge, as `[]` does.
  const challenges = Array.isArray(value) && value.length === 0 ? '' : wwwAuthenticate.format(value)!;
  if (!challenges.trim()) throw new TypeError(`${field} needs at least one challenge`);
  return challenges;
}

/**
 * The value of `Upgrade`: the protocols joined by `, `.
 *
 * @throws TypeError when one is not `name[/version]` (tokens), or there is none.
 */
function protocolList(value: string | readonly string[]): string {
  const protocols = typeof value === 'string' ? value.split(',').map((p) => p.trim()).filter((p) => p !== '') : [...value];
  if (protocols.length === 0) throw new TypeError('Upgrade needs at least one protocol');
  for (const protocol of protocols) {
    const [name, version, extra] = typeof protocol === 'string' ? protocol.split('/') : [];
    if (!isToken(name!) || (version !== undefined && !isToken(version)) || extra !== undefined) {
      throw new TypeError(`Upgrade: ${JSON.stringify(protocol)} is not a protocol (name or name/version)`);
    }
  }
  return protocols.join(', ');
}

/** Something an exception can read the request from: a `Request`, or an environ. */
export type RequestLike = {
  /** The request's environ (a `Request`'s `environ`). */
  environ: Environ;
} | Environ;

/** The environ of a {@link RequestLike}, or `undefined`. */
export function environOf(req: RequestLike | undefined): Environ | undefined {
  if (!req) return undefined;
  return 'environ' in req && typeof req.environ === 'object' ? (req.environ as Environ) : (req as Environ);
}

/**
 * The base of every HTTP error and redirect. Each status class fixes `code` (a literal type:
 * `HTTPNotFound`'s is `404`, on the class and on its instances) and `description`; `detail` is
 * the message for this occurrence, shown below the standard `description`. An instance's
 * `name` is the name of the class it was made with, so a subclass of a status class
 * (`class UserNotFound extends HTTPNotFound {}`) keeps the code and description and gets its
 * own name.
 *
 * The response body is chosen from the request's `Accept` (RFC 9110 §12.5.1): HTML with every
 * user string escaped, JSON `{ code, title, message }`, or plain text (the default), sent with
 * `Vary: Accept` (RFC 9110 §12.5.5). A body given in the options is used as is, without `Vary`.
 *
 * @example
 * ```ts
 * throw new HTTPNotFound(`No user ${id}`);
 * // or
 * abort(404, `No user ${id}`);
 * ```
 */
export class HTTPException extends Error {
  /** The status code of this class. */
  static readonly code: number = 500;
  /** The explanation shown in every body of this class. */
  static readonly description: string = 'The server could not complete the request.';

  /** The status code. */
  readonly code: number;
  /** The reason phrase, e.g. `Not Found`. */
  readonly title: string;
  /** The class's standard explanation. */
  readonly description: string;
  /** The message for this occurrence, if any (escaped in HTML). */
  readonly detail: string | undefined;
  /** Header fields sent with the error response. */
  readonly headers: HeaderList;
  /** The body set by the user, which replaces the generated one. */
  body: ResponseBody;
  /** Content-Type of the user's `body` (when unset: the one in `headers`, else `text/plain`). */
  contentType: string | undefined;

  /**
   * @param detail - the message for this occurrence (also the error's `message`; default the
   *   status line).
   * @throws TypeError for a `detail` that is not a string (options given first, from
   *   JavaScript), or RangeError/TypeError for an option that cannot be sent (see
   *   {@link HTTPExceptionOptions}); TypeError for options that are not a plain object or
   *   hold an unknown key (`new HTTPNotFound: unknown option "header": did you mean
   *   "headers"?`, which would send the answer without them).
   */
  constructor(detail?: string, options?: HTTPExceptionOptions) {
    const ctor = new.target as typeof HTTPException;
    checkDetail(ctor, detail);
    // Checked only when given: a 404 or a redirect made without options builds no message's name.
    if (options !== undefined) checkOptions(`new ${ctor.name}`, options, HTTP_EXCEPTION_OPTIONS);
    else options = NO_OPTIONS;
    super(detail ?? `${ctor.code} ${reasonPhrase(ctor.code)}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = ctor.name;
    this.code = ctor.code;
    this.title = reasonPhrase(ctor.code);
    this.description = ctor.description;
    this.detail = detail;
    this.headers = new HeaderList(options.headers);
    if (options.wwwAuthenticate !== undefined) this.headers.set('WWW-Authenticate', challengeList('WWW-Authenticate', options.wwwAuthenticate));
    if (options.proxyAuthenticate !== undefined) this.headers.set('Proxy-Authenticate', challengeList('Proxy-Authenticate', options.proxyAuthenticate));
    if (options.retryAfter !== undefined) this.headers.set('Retry-After', retryAfter.format(options.retryAfter));
    if (options.upgrade !== undefined) this.headers.set('Upgrade', protocolList(options.upgrade));
    if (options.length !== undefined) this.headers.set('Content-Range', contentRange.format({ range: null, size: options.length }));
    this.body = options.body;
    this.contentType = options.contentType;
  }

  /** The status line, e.g. `"404 Not Found"`. */
  get status(): string {
    return `${this.code} ${this.title}`;
  }

  /**
   * Builds the error response for a request (for `Accept` negotiation and, for redirects, to
   * make `Location` absolute). Without a request, the body is plain text. A generated body
   * adds `Accept` to the exception's `Vary` (once, and not past `Vary: *`). Under the
   * `errorPages` middleware, its renderer is asked first for the page of a 4xx or 5xx
   * without a `body` of its own.
   */
  getResponse(req?: RequestLike): Response {
    // Response copies the fields: this exception's own headers stay as they are.
    if (this.body !== undefined) {
      // Without `contentType`, a Content-Type in the headers is the body's (as for `new Response`).
      return new Response(this.body, { status: this.status, headers: this.headers, contentType: this.contentType });
    }
    const environ = environOf(req);
    const page = customErrorPage(environ, this, req);
    if (page instanceof Response) return page;
    // The page of another copy of tsgi's `errorPages` (npm link, two versions): made this copy's.
    if (isForeignResponse(page)) return adoptForeignResponse(page);
    return generatedPage(this, environ);
  }

  /** Serves the error as a gateway app. */
  respond(environ: Environ, startResponse: StartResponse): Body {
    return this.getResponse(environ).respond(environ, startResponse);
  }

  /** This exception as an {@link App} function. */
  toApp(): (environ: Environ, startResponse: StartResponse) => Body {
    return (environ, startResponse) => this.respond(environ, startResponse);
  }
}

/**
 * @internal The page generated for `error`: its body in the type `Accept` chooses (see
 * `errorBody`, which names a redirect's `location`), with `Vary: Accept` added to its headers.
 */
export function generatedPage(error: HTTPException, environ: Environ | undefined, location?: string): Response {
  const type = negotiateBodyType(environ);
  return new Response(errorBody(error, type, location), { status: error.status, headers: error.headers, contentType: type }).addVary('Accept');
}

/**
 * The mark every `HTTPException` carries on its prototype, under a registered symbol
 * (`Symbol.for`), so that an instance made by another copy of tsgi in the same process (npm
 * link, two versions in a monorepo) is recognised where `instanceof` is not.
 */
const HTTP_EXCEPTION_BRAND = Symbol.for('tsgi.HTTPException');
Object.defineProperty(HTTPException.prototype, HTTP_EXCEPTION_BRAND, { value: true });

/**
 * Whether `value` is an `HTTPException` of this or of another copy of tsgi: the test of every
 * place that answers a thrown exception (one property read). Another copy's instance is used
 * through its own methods only (`code`, `getResponse`, `respond`).
 */
export function isHTTPException(value: unknown): value is HTTPException {
  return (value as { [HTTP_EXCEPTION_BRAND]?: unknown } | null | undefined)?.[HTTP_EXCEPTION_BRAND] === true;
}

/**
 * An `HTTPException` class and its status code: the values of `statusExceptions`
 * (`statusExceptions.get(404)` is `HTTPNotFound`, whose `code` is `404`), as Werkzeug's
 * `default_exceptions` maps codes to classes. Exported so that code re-exporting
 * `statusExceptions` (a library built with `declaration: true`) can name its type.
 */
export type ExceptionClass<T extends HTTPException> = {
  new (...args: never[]): T;
  /** The status code its instances answer (`404` for `HTTPNotFound`). */
  readonly code: number;
};
