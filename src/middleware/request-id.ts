/**
 * One id per request, to find a request's lines in every log it touched: Hono's
 * `requestId()`, Express's `express-request-id`, nginx's `$request_id`, Heroku's router.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { type App, type AppLike, type Environ, toApp } from '../gateway/types.ts';
import { requestIdFieldKey, requestIdKey } from '../gateway/request-id-key.ts';
import { HOP_BY_HOP, isToken } from '../gateway/fields.ts';
import { headerEnvironKey } from '../gateway/header-keys.ts';
import { callWithHeadEdit, hasField } from './head-edit.ts';
import { type OptionNames, booleanOption, checkOptions } from '../gateway/option-names.ts';

/** Options of {@link requestId}. */
export interface RequestIdOptions {
  /**
   * The request and response field that carries the id. Default `X-Request-Id`. Not a field
   * the request itself depends on (`Content-Type`, `Content-Length`, `Content-Encoding`,
   * `Host`, `Cookie`, `Authorization`, a hop-by-hop field): the id would replace its value.
   */
  header?: string | undefined;
  /**
   * Keep an id the request brings in `header` (a proxy's: nginx's `$request_id`, Heroku's,
   * a load balancer's, a tracer's), when it is well formed: 1 to 200 visible ASCII
   * characters (no space), none of them a quote (`"`, `'`, `` ` ``), `\`, `<` or `>` (see
   * {@link requestId}); another value is replaced by a new id. Default `true`. Set `false`
   * when clients reach the app directly and their ids must not mix with yours.
   */
  trustIncoming?: boolean | undefined;
  /**
   * Makes a new id. Default `crypto.randomUUID()` (a version 4 UUID, 122 random bits). What it
   * answers is checked as an incoming id is; a value that fails throws (a 500).
   */
  generate?: ((environ: Environ) => string) | undefined;
}

/** Every option of {@link RequestIdOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const REQUEST_ID_OPTIONS = { header: true, trustIncoming: true, generate: true } as const satisfies OptionNames<RequestIdOptions>;

export { requestIdKey };

/**
 * Fields that cannot carry the id: replacing their value in the environ would change what the
 * request is (its body's type or length, its host, its credentials) or how it was framed.
 */
const REFUSED_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'host',
  'cookie',
  'authorization',
  ...HOP_BY_HOP,
]);

/**
 * The characters (and length) an id may have: visible ASCII (RFC 9110 §5.5 VCHAR), so no
 * control character, space or tab to split a log line or a space-separated log field, and
 * none of `"`, `'`, `` ` ``, `\` (quotes and the escape of a quoted log field, Apache's and
 * `accessLog`'s) or `<`, `>` (an id quoted in an HTML error page). That still holds the
 * common trace ids whole: AWS `X-Amzn-Trace-Id` (`Root=…;Parent=…;Sampled=1`, `Lineage=…:1|…`),
 * Google's `X-Cloud-Trace-Context` (`…/1;o=1`), W3C `traceparent`, B3, Jaeger's `uber-trace-id`
 * (`%3A`), the Application Insights `Request-Id` (`|….`), Cloudflare's `cf-ray`, and UUIDs.
 */
const ID_SHAPE = /^[A-Za-z0-9!#$%&()*+,\-./:;=?@[\]^_{|}~]{1,200}$/;

/**
 * Gives every request an id, and sends it back: the id an upstream proxy put in `X-Request-Id`
 * (when `trustIncoming` and well formed) or a new UUID. The id is
 *
 * - stored under {@link requestIdKey} (`tsgi.request_id`) for the app and the layers above it
 *   (`accessLog`'s `json` format logs it as `request_id`; a `format` function reads it as
 *   `requestIdKey.get(entry.environ)`);
 * - put in the request's own `X-Request-Id` field (`HTTP_X_REQUEST_ID`), so `proxy` passes it
 *   to the services behind (as nginx's `proxy_set_header X-Request-Id $request_id`);
 * - added to the response's `X-Request-Id`, unless the app set that field itself (a `proxy`
 *   below leaves its upstream's out, so the client gets this id, as Envoy answers it), on every
 *   answer: streamed bodies untouched, `HTTPException` pages (which it answers, a 5xx logged
 *   with its status and the id, by an `errors` above, which tells its `onError`) included, so
 *   a user reporting an error can quote it; any other error the app throws or rejects with
 *   is passed on as a body failing at its first step after a head with the field, so the
 *   server's own `500` carries the id its log line names (docs/spec.md §7.4).
 *
 * An incoming id longer than 200 characters, or holding anything but visible ASCII (a
 * control character, a space or tab, non-ASCII) or one of `"`, `'`, `` ` ``, `\`, `<`, `>`,
 * is never used (it could forge log lines or split their fields): a new one replaces it. AWS's
 * `X-Amzn-Trace-Id` (`Root=…;Parent=…;Sampled=1`), `traceparent`, B3, `cf-ray` and UUIDs
 * are kept whole (`header: 'X-Amzn-Trace-Id'`).
 *
 * @example
 * ```ts
 * import { accessLog, requestId, requestIdKey } from 'tsgi/middleware';
 *
 * const logged = accessLog(site, {
 *   format: (e) => `${e.requestLine} ${e.status} ${requestIdKey.get(e.environ)}`,
 * });
 * export const app = requestId(logged);   // outside accessLog, so its line has the id
 * ```
 *
 * @throws TypeError at once when `header` is not a field name, or names a field the request
 *   depends on (`Content-Type`, `Content-Length`, `Host`, …: see `header`), or `trustIncoming`
 *   is not a boolean; from a request, when
 *   `generate` answers an id that is not well formed (a 500).
 */
export function requestId(app: AppLike, options: RequestIdOptions = {}): App {
  const inner = toApp(app);
  checkOptions('requestId', options, REQUEST_ID_OPTIONS);
  const header = options.header ?? 'X-Request-Id';
  if (typeof header !== 'string' || !isToken(header)) throw new TypeError(`requestId: header must be a field name, not ${JSON.stringify(header)}`);
  if (REFUSED_HEADERS.has(header.toLowerCase())) throw new TypeError(`requestId: header cannot be ${header}: the id would replace the request's own value`);
  const key = headerEnvironKey(header);
  const field = header.toLowerCase();
  const trustIncoming = booleanOption('requestId', 'trustIncoming', options.trustIncoming, true);
  const generate = options.generate ?? (() => randomUUID());
  return (environ, startResponse) => {
    const incoming = environ[key];
    let id: string;
    if (trustIncoming && typeof incoming === 'string' && ID_SHAPE.test(incoming)) {
      id = incoming;
    } else {
      id = generate(environ);
      if (typeof id !== 'string' || !ID_SHAPE.test(id)) throw new TypeError(`requestId: generate() answered ${JSON.stringify(id)}: 1 to 200 visible ASCII characters, none of "'\`\\<>`);
      environ[key] = id;
    }
    requestIdKey.set(environ, id);
    requestIdFieldKey.set(environ, field);
    return callWithHeadEdit(inner, environ, startResponse, (headers) => withId(headers, header, id), true);
  };
}

/** `headers` with `name: id` added, unless they hold `name` already (the app's own wins). */
function withId(headers: Array<[string, string]>, name: string, id: string): Array<[string, string]> {
  if (!Array.isArray(headers)) return headers; // the server refuses it
  return hasField(headers, name) ? headers : [...headers, [name, id]];
}
