/**
 * HTML forms that `PUT`, `PATCH` or `DELETE`: a `POST` carrying the method it stands for
 * (Rails' and Laravel's `_method`, Express's `method-override`, Hono's `methodOverride`).
 *
 * @module
 */
import { type App, type AppLike, type Environ, type StartResponse, toApp } from '../gateway/types.ts';
import { defineEnvironKey } from '../gateway/environ-key.ts';
import { BufferedInput } from '../gateway/input.ts';
import { isToken } from '../gateway/fields.ts';
import { HTTPException } from '../exceptions/base.ts';
import { HTTPBadRequest, HTTPContentTooLarge } from '../exceptions/client-errors.ts';
import { headerEnvironKey } from '../gateway/header-keys.ts';
import { queryPairs } from '../datastructures/multidict.ts';
import { parseMediaType } from '../http/media-type.ts';
import { parseForm, planForm } from '../forms/parse.ts';
import { isBodyReadable } from '../request/input.ts';
import { readWhole } from '../request/body.ts';
import { Request } from '../request/request.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';

/** Options of {@link methodOverride}. Each source is a name, or `false` to turn it off. */
export interface MethodOverrideOptions {
  /**
   * The query parameter that names the method: `POST /notes/3?_method=DELETE`. Default
   * `'_method'`. The name and the value are decoded as `req.args` decodes them (`%5Fmethod`,
   * `+` for a space). Read without touching the body, so it is the one for `multipart/form-data`
   * forms (`<form method="post" enctype="multipart/form-data" action="/notes/3?_method=PUT">`).
   */
  query?: string | false | undefined;
  /**
   * The form field that names the method, in an `application/x-www-form-urlencoded` body:
   * `<input type="hidden" name="_method" value="DELETE">`. Default `'_method'`. Read only when
   * the query and the header named none; the body is then read whole (within
   * {@link MethodOverrideOptions.maxBodySize}) and left replayable for the app, whose
   * `req.form(limits)` parses it again with its own limits. A multipart body is never read
   * here: name the method in its form's query.
   */
  form?: string | false | undefined;
  /**
   * The request header that names the method, as Express's `method-override` reads it by
   * default: `'X-HTTP-Method-Override'` (or `X-HTTP-Method`, `X-Method-Override`). Default
   * `false`: an HTML form cannot send a header, and a header override is the classic way
   * past a proxy or firewall that filters on the method; turn it on for API clients stuck
   * behind a proxy that only passes `GET` and `POST`.
   */
  header?: string | false | undefined;
  /**
   * The methods a `POST` may become, in upper case. Default `['PUT', 'PATCH', 'DELETE']`.
   * Never `GET`, `HEAD`, `OPTIONS`, `TRACE` or `CONNECT`: a safe method (RFC 9110 §9.2.1) is
   * let through by checks that only guard unsafe ones (a CSRF token check), and would be
   * answered from caches. `QUERY` (IETF httpbis "The HTTP QUERY Method", safe and idempotent,
   * with a body) may be listed, and is not by default: a search form whose fields would make a
   * URL too long posts them, and the app answers it as the `QUERY` it stands for, body and all
   * (`methods: ['PUT', 'PATCH', 'DELETE', 'QUERY']`). Unlike a `GET`, no cache answers a
   * `POST` with a stored `QUERY` response (the body is in its key, the method is `POST`), and
   * a CSRF check outside `methodOverride` judges the `POST`; keep `QUERY` handlers free of
   * side effects, as RFC 9110 §9.2.1 asks of a safe method.
   */
  methods?: readonly string[] | undefined;
  /**
   * The largest urlencoded body, in bytes, read for the form field. Default 1 MiB (1 048 576).
   * A larger one is refused with `413` naming this option. No other form limit is applied
   * here (`maxFields`, `maxFieldSize`): the app's own `req.form(limits)` decides them.
   */
  maxBodySize?: number | undefined;
}

/** Every option of {@link MethodOverrideOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const METHOD_OVERRIDE_OPTIONS = { query: true, form: true, header: true, methods: true, maxBodySize: true } as const satisfies OptionNames<MethodOverrideOptions>;

/**
 * The method a request was sent with (`'POST'`), stored under `tsgi.original_method` when
 * {@link methodOverride} changed it; absent otherwise. Rack's
 * `rack.methodoverride.original_method`, Express's `req.originalMethod`.
 */
export const originalMethodKey = defineEnvironKey<string>('tsgi.original_method');

/** The methods no `POST` may become (see {@link MethodOverrideOptions.methods}). */
const REFUSED = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT', 'POST']);

/** The default of {@link MethodOverrideOptions.maxBodySize}: 1 MiB. */
const DEFAULT_MAX_BODY_SIZE = 1024 * 1024;

/**
 * Makes a `POST` that names another method in its query, a header or its urlencoded form
 * reach `app` as that method, so that HTML forms can edit and delete: `REQUEST_METHOD` (and
 * `req.method`) is the override from there on, the original kept under
 * {@link originalMethodKey}.
 *
 * - **Only a `POST` is changed.** Any other request passes as it is, whatever it names: a
 *   link or an `<img src="/notes/3?_method=DELETE">` is a `GET` and stays one.
 * - **Sources**, the first with a value deciding: the query parameter `_method`, the header
 *   (off by default), then the urlencoded form field `_method`. An empty value names nothing.
 *   The body is read only when the query and header named nothing and it is urlencoded.
 * - **The value** is compared in any case and upper-cased (`delete` is `DELETE`). One that is
 *   not in `methods` (`DELTE`, `GET`) is answered `400` without calling `app`, rather than left
 *   a `POST` (as Express does), which on a collection URL would create something, or made
 *   whatever method it names (as Hono does: `DELTE`, `GET`).
 * - **Order**: inside `crossOriginProtection`, which must judge the request as the browser
 *   sent it (a forged `POST` is refused before it becomes a `DELETE`), and outside the routes,
 *   which then answer `405` with `Allow` for a method the path does not take.
 *
 * @example
 * ```ts
 * import { compose } from 'tsgi';
 * import { crossOriginProtection, methodOverride } from 'tsgi/middleware';
 *
 * // <form method="post" action="/notes/3"><input type="hidden" name="_method" value="DELETE">…
 * // <form method="post" enctype="multipart/form-data" action="/notes/3?_method=PUT">…
 * export const app = compose(crossOriginProtection, methodOverride)(routes.app(handlers));
 * ```
 *
 * @throws TypeError (at once) for a source name that is no string (or `false`), a header name
 *   that is no token, a method in `methods` that is no upper-case token or is refused above,
 *   or a `maxBodySize` that is no non-negative number.
 */
export function methodOverride(app: AppLike, options: MethodOverrideOptions = {}): App {
  const inner = toApp(app);
  checkOptions('methodOverride', options, METHOD_OVERRIDE_OPTIONS);
  const query = sourceName(options.query, '_method', 'query');
  // A name of characters a query never encodes is found as it is, or percent-encoded (`%5Fmethod`):
  // the query is parsed only when it holds one or the other. Any other name, whenever there is a query.
  const plainQuery = query !== false && /^[\w.*-]+$/.test(query);
  const form = sourceName(options.form, '_method', 'form');
  const headerName = sourceName(options.header, false, 'header');
  if (headerName !== false && !isToken(headerName)) throw new TypeError(`methodOverride: header ${JSON.stringify(headerName)} is no field name`);
  const header = headerName === false ? false : headerEnvironKey(headerName);
  const methods = allowedMethods(options.methods);
  const maxBodySize = options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE;
  if (typeof maxBodySize !== 'number' || !(maxBodySize >= 0)) throw new TypeError(`methodOverride: maxBodySize must be a non-negative number of bytes, got ${String(maxBodySize)}`);
  const named = [...methods].join(', ');

  /** Makes the request `wanted`, or answers 400 for a method that is not allowed. */
  const apply = (environ: Environ, startResponse: StartResponse, wanted: string, source: string) => {
    // A token first: toUpperCase() maps some non-ASCII letters to ASCII ones (ſ to S).
    const method = isToken(wanted) ? wanted.toUpperCase() : '';
    if (!methods.has(method)) {
      return new HTTPBadRequest(`${source} must name one of ${named}.`).respond(environ, startResponse);
    }
    originalMethodKey.set(environ, environ.REQUEST_METHOD);
    environ.REQUEST_METHOD = method;
    return inner(environ, startResponse);
  };

  return (environ, startResponse) => {
    if (environ.REQUEST_METHOD !== 'POST') return inner(environ, startResponse);
    const search = environ.QUERY_STRING;
    if (query !== false && (plainQuery ? search.includes(query) || search.includes('%') : search !== '')) {
      const wanted = queryPairs(search).get(query);
      if (wanted) return apply(environ, startResponse, wanted, `The query parameter ${query}`);
    }
    if (header !== false) {
      const wanted = environ[header];
      if (typeof wanted === 'string' && wanted !== '') return apply(environ, startResponse, wanted, `The ${headerName} header`);
    }
    if (form === false || !isUrlencoded(environ)) return inner(environ, startResponse);
    return fromForm(environ, form, maxBodySize).then(
      (wanted) => (wanted ? apply(environ, startResponse, wanted, `The form field ${form}`) : inner(environ, startResponse)),
      (error: unknown) => {
        if (error instanceof HTTPException) return error.respond(environ, startResponse);
        throw error;
      },
    );
  };
}

/** The name of a source, its default when not given. */
function sourceName(value: string | false | undefined, fallback: string | false, option: string): string | false {
  if (value === undefined) return fallback;
  if (value === false || (typeof value === 'string' && value !== '')) return value;
  throw new TypeError(`methodOverride: ${option} must be a name or false, got ${JSON.stringify(value)}`);
}

/** The allowed methods, checked. */
function allowedMethods(list: readonly string[] | undefined): Set<string> {
  if (list === undefined) return new Set(['PUT', 'PATCH', 'DELETE']);
  if (!Array.isArray(list)) throw new TypeError('methodOverride: methods must be an array of method names');
  for (const method of list) {
    if (typeof method !== 'string' || !isToken(method) || method !== method.toUpperCase()) {
      throw new TypeError(`methodOverride: method ${JSON.stringify(method)} is no upper-case method name`);
    }
    if (REFUSED.has(method)) throw new TypeError(`methodOverride: a POST may not become ${method}`);
  }
  return new Set(list);
}

/** True for a request with a urlencoded body to read. */
function isUrlencoded(environ: Environ): boolean {
  const type = environ.CONTENT_TYPE;
  return typeof type === 'string' && parseMediaType(type).type === 'application/x-www-form-urlencoded' && isBodyReadable(environ);
}

/**
 * The first value of the urlencoded field `name`: the body read whole and left in
 * `tsgi.input` for the app (`req.bytes()`), then parsed by the form parser. Refusals before
 * reading (a `Content-Encoding`, an unknown charset, a declared length past `maxBodySize`)
 * come first, as the app's `req.form()` would make them. No limit but `maxBodySize` applies:
 * the body is bounded by it in memory, and how many fields, or how long, are the app's to
 * decide with its own `req.form(limits)`. Only the 413 of `maxBodySize` names the option: one
 * another layer raises (the server's `maxBodySize`, a decoder's) passes as it is.
 */
async function fromForm(environ: Environ, name: string, maxBodySize: number): Promise<string | undefined> {
  planForm(environ.CONTENT_TYPE, environ.HTTP_CONTENT_ENCODING, {});
  const bytes = await readWhole(new Request(environ), maxBodySize, formTooLarge);
  const limits = { maxBodySize, maxFieldSize: maxBodySize, maxParts: Infinity, maxFields: Infinity };
  const parsed = await parseForm(new BufferedInput(bytes), environ.CONTENT_TYPE, limits);
  return parsed.fields.get(name);
}

/** The 413 of a form past {@link MethodOverrideOptions.maxBodySize}, declared or counted. */
function formTooLarge(maxBodySize: number): InstanceType<typeof HTTPContentTooLarge> {
  return new HTTPContentTooLarge(`The form is larger than the ${maxBodySize} bytes methodOverride reads for its method field (its maxBodySize option).`);
}
