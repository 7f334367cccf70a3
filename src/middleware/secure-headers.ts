/**
 * The response security headers every site is told to send (the OWASP Secure Headers
 * Project's list), as one middleware: Hono's `secureHeaders()`, Express's `helmet`.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { type App, type AppLike, toApp } from '../gateway/types.ts';
import { assertHeader } from '../gateway/fields.ts';
import { callWithHeadEdit, hasField } from './head-edit.ts';
import { defineEnvironKey } from '../gateway/environ-key.ts';
import { type RequestLike } from '../exceptions/base.ts';
import { type CspDirectives, checkedDirectives, serializeCsp } from '../http/csp.ts';
import { type NestedOptions, type OptionNames, booleanOption, checkOptions } from '../gateway/option-names.ts';

/**
 * One header's setting: `true` (or left out, for a header on by default) sends the default
 * value, a string sends that value instead, `false` sends nothing.
 */
export type SecureHeaderSetting = boolean | string;

/** The `contentSecurityPolicy` option of {@link secureHeaders}, as an object. */
export interface ContentSecurityPolicyOptions {
  /** The policy: directive name → sources, e.g. `{ 'default-src': ["'self'"] }` (see {@link CspDirectives}). */
  directives: CspDirectives;
  /**
   * Send it as `Content-Security-Policy-Report-Only`: browsers report violations (to
   * `report-to`/`report-uri`) and the console but block nothing. Default `false`.
   */
  reportOnly?: boolean | undefined;
  /**
   * Add a fresh nonce per request to `script-src` (`'nonce-…'`, 128 random bits in base64),
   * and to `script-src-elem` when the policy has it (it replaces `script-src` for `<script>`
   * elements, CSP Level 3), read with {@link cspNonce} to mark the page's own inline scripts
   * (`<script nonce="…">`). Needs a `script-src` or `script-src-elem` directive. Not added to
   * `style-src`. The policy is then left off `304` answers, so the browser keeps the one stored
   * with the cached page (RFC 9111 §3.2). Default `false`.
   */
  nonce?: boolean | undefined;
}

/** Options of {@link secureHeaders}: one per header; see each for its default. */
export interface SecureHeadersOptions {
  /**
   * `Content-Security-Policy`. Default `false` (none): a policy must list what the site loads,
   * so no default fits every site (helmet's breaks inline scripts and third-party assets;
   * Hono sends none). A string is sent as it is; an object is checked and serialized.
   */
  contentSecurityPolicy?: false | string | ContentSecurityPolicyOptions | undefined;
  /**
   * `Strict-Transport-Security`, sent on `https` requests only (`tsgi.url_scheme`, which
   * `proxyFix` sets behind a TLS-terminating proxy): browsers ignore it over `http`. Default
   * `max-age=31536000; includeSubDomains` (a year, helmet's and the OWASP value). A string
   * must hold `max-age`.
   */
  strictTransportSecurity?: SecureHeaderSetting | undefined;
  /** `X-Content-Type-Options`. Default `nosniff`: no MIME sniffing of scripts and styles. */
  xContentTypeOptions?: SecureHeaderSetting | undefined;
  /**
   * `Referrer-Policy`. Default `strict-origin-when-cross-origin`: the origin only to other
   * sites, nothing over a downgrade to `http`. (helmet's `no-referrer` makes browsers send
   * `Origin: null` on the site's own form posts, which CSRF checks then refuse.)
   */
  referrerPolicy?: SecureHeaderSetting | undefined;
  /** `X-Frame-Options`. Default `SAMEORIGIN`: only the site's own pages may frame it (clickjacking). */
  xFrameOptions?: SecureHeaderSetting | undefined;
  /** `Cross-Origin-Opener-Policy`. Default `same-origin`: a cross-origin popup or opener gets no handle on the page. */
  crossOriginOpenerPolicy?: SecureHeaderSetting | undefined;
  /** `Cross-Origin-Resource-Policy`. Default `same-origin`: other sites may not embed the responses (Spectre). */
  crossOriginResourcePolicy?: SecureHeaderSetting | undefined;
  /**
   * `Cross-Origin-Embedder-Policy`. Default `false` (none); `true` sends `require-corp`, which
   * with COOP `same-origin` makes the page cross-origin isolated (`SharedArrayBuffer`) and
   * blocks every cross-origin resource not served with CORP or CORS.
   */
  crossOriginEmbedderPolicy?: SecureHeaderSetting | undefined;
  /** `Origin-Agent-Cluster`. Default `?1`: the page gets its own agent cluster (process) per origin. */
  originAgentCluster?: SecureHeaderSetting | undefined;
  /** `X-DNS-Prefetch-Control`. Default `off`: no DNS lookups of the page's links before a click. */
  xDnsPrefetchControl?: SecureHeaderSetting | undefined;
  /** `X-Permitted-Cross-Domain-Policies`. Default `none`: no Flash/PDF cross-domain policy files. */
  xPermittedCrossDomainPolicies?: SecureHeaderSetting | undefined;
  /** `X-XSS-Protection`. Default `0`: turns off the XSS auditor of old browsers, itself a source of leaks. */
  xXssProtection?: SecureHeaderSetting | undefined;
}

/** The headers sent on every request, in order: option, field name, default value, whether on by default. */
const HEADERS: ReadonlyArray<readonly [keyof SecureHeadersOptions, string, string, boolean]> = [
  ['xContentTypeOptions', 'X-Content-Type-Options', 'nosniff', true],
  ['referrerPolicy', 'Referrer-Policy', 'strict-origin-when-cross-origin', true],
  ['xFrameOptions', 'X-Frame-Options', 'SAMEORIGIN', true],
  ['crossOriginOpenerPolicy', 'Cross-Origin-Opener-Policy', 'same-origin', true],
  ['crossOriginResourcePolicy', 'Cross-Origin-Resource-Policy', 'same-origin', true],
  ['crossOriginEmbedderPolicy', 'Cross-Origin-Embedder-Policy', 'require-corp', false],
  ['originAgentCluster', 'Origin-Agent-Cluster', '?1', true],
  ['xDnsPrefetchControl', 'X-DNS-Prefetch-Control', 'off', true],
  ['xPermittedCrossDomainPolicies', 'X-Permitted-Cross-Domain-Policies', 'none', true],
  ['xXssProtection', 'X-XSS-Protection', '0', true],
];

/** Every option of {@link SecureHeadersOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const SECURE_HEADERS_OPTIONS = {
  contentSecurityPolicy: true,
  strictTransportSecurity: true,
  xContentTypeOptions: true,
  referrerPolicy: true,
  xFrameOptions: true,
  crossOriginOpenerPolicy: true,
  crossOriginResourcePolicy: true,
  crossOriginEmbedderPolicy: true,
  originAgentCluster: true,
  xDnsPrefetchControl: true,
  xPermittedCrossDomainPolicies: true,
  xXssProtection: true,
} as const satisfies OptionNames<SecureHeadersOptions>;
/** Every option of {@link ContentSecurityPolicyOptions}. */
const CSP_OPTIONS = { directives: true, reportOnly: true, nonce: true } as const satisfies OptionNames<ContentSecurityPolicyOptions>;
/** Where the `contentSecurityPolicy` object is, for `checkOptions`' messages (`unknown option "contentSecurityPolicy.reportonly"`). */
const CSP_NESTED: NestedOptions = { option: 'contentSecurityPolicy' };

const HSTS = 'Strict-Transport-Security';
const HSTS_DEFAULT = 'max-age=31536000; includeSubDomains';

/** Where {@link secureHeaders} keeps the request's CSP nonce (`nonce: true`); read with {@link cspNonce}. */
const nonceKey = defineEnvironKey<string>('tsgi.csp_nonce');

/**
 * The request's CSP nonce (base64, 24 characters), for the `nonce` attribute of the page's
 * inline `<script>` elements: `<script nonce="${cspNonce(req)}">`. Set per request by
 * {@link secureHeaders} with `contentSecurityPolicy: { nonce: true, … }` (environ key
 * `tsgi.csp_nonce`). It is base64, so it needs no escaping in an attribute.
 *
 * @param req - a `Request` or an environ.
 * @throws Error when no `secureHeaders` with a nonce wraps the app.
 */
export function cspNonce(req: RequestLike): string {
  const nonce = nonceKey.get(req);
  if (nonce === undefined) throw new Error('no CSP nonce: wrap the app with secureHeaders(app, { contentSecurityPolicy: { nonce: true, directives } })');
  return nonce;
}

/**
 * Adds the response security headers of the OWASP Secure Headers Project to every response:
 * Hono's `secureHeaders()`, Express's `helmet()`. By default:
 *
 * | Field | Value |
 * | --- | --- |
 * | `X-Content-Type-Options` | `nosniff` |
 * | `Referrer-Policy` | `strict-origin-when-cross-origin` |
 * | `X-Frame-Options` | `SAMEORIGIN` |
 * | `Cross-Origin-Opener-Policy` | `same-origin` |
 * | `Cross-Origin-Resource-Policy` | `same-origin` |
 * | `Origin-Agent-Cluster` | `?1` |
 * | `X-DNS-Prefetch-Control` | `off` |
 * | `X-Permitted-Cross-Domain-Policies` | `none` |
 * | `X-XSS-Protection` | `0` |
 * | `Strict-Transport-Security` | `max-age=31536000; includeSubDomains`, on `https` requests only |
 *
 * No `Content-Security-Policy` and no `Cross-Origin-Embedder-Policy` unless asked for. Each
 * option takes `false` (not sent), a string (sent instead of the default) or `true`.
 *
 * - A field the app set itself (any case) is left as the app set it: not replaced, not doubled.
 * - The fields are added as the app starts its response: the body is not wrapped or buffered,
 *   so streams, HEAD and 304 answers pass as they are. An `HTTPException` the app throws or
 *   rejects with is answered here with the fields (a 5xx one is logged with its status, by an
 *   `errors` above, which tells its `onError`, else to `tsgi.errors`).
 * - `Strict-Transport-Security` goes on `https` requests only (`tsgi.url_scheme`): browsers
 *   ignore it over `http` (RFC 6797 §8.1), and it is useless on `http://localhost`. Behind a
 *   proxy that ends TLS, put `proxyFix` outside, so the scheme is the client's.
 * - With `contentSecurityPolicy: { nonce: true, … }`, each request gets a fresh nonce, added to
 *   `script-src` and `script-src-elem` (those present) and read with {@link cspNonce}. A `304`
 *   gets no policy then: its fields replace those the browser stored with the page (RFC 9111
 *   §3.2), and a new nonce would block the scripts of that page, which carry the old one (as
 *   Rails, which leaves CSP off 304s).
 *
 * The fields are computed once, here; a request costs a `startResponse` wrapper and a copy of
 * the header list (and 16 random bytes with a nonce). Put it outside `errors`, so the 500
 * pages carry the fields too.
 *
 * @example
 * ```ts
 * import { errors, proxyFix, secureHeaders } from 'tsgi/middleware';
 *
 * export const app = proxyFix(secureHeaders(errors(site), {
 *   contentSecurityPolicy: {
 *     directives: { 'default-src': ["'self'"], 'script-src': ["'self'"], 'object-src': ["'none'"], 'base-uri': ["'self'"] },
 *     nonce: true,
 *   },
 *   xFrameOptions: 'DENY',
 *   crossOriginResourcePolicy: 'same-site',
 * }));
 * ```
 *
 * @throws TypeError (at once) for an option it does not know (a misspelled name would leave a
 *   header out silently), or one that is not `true`, `false` or a string; a value
 *   that is empty or holds CR, LF or NUL; a `strictTransportSecurity` without `max-age`; and a
 *   `contentSecurityPolicy` whose directives are malformed (see `CspDirectives`: a `;`, `,` or
 *   whitespace in a source, an unquoted keyword), a `reportOnly` or `nonce` that is not a
 *   boolean (`'true'` from an environment variable), or with `nonce` but neither `script-src`
 *   nor `script-src-elem`.
 */
export function secureHeaders(app: AppLike, options: SecureHeadersOptions = {}): App {
  const inner = toApp(app);
  checkOptions('secureHeaders', options, SECURE_HEADERS_OPTIONS);
  const fields: Array<[string, string]> = [];
  for (const [option, name, value, onByDefault] of HEADERS) {
    const chosen = setting(option, name, options[option] as unknown, value, onByDefault);
    if (chosen !== null) fields.push([name, chosen]);
  }
  const csp = policy(options.contentSecurityPolicy);
  // The CSP field's place in `fields`, when its value changes per request (nonce).
  let nonceAt = -1;
  if (csp !== null) {
    if (csp.nonce !== null) nonceAt = fields.length;
    fields.push([csp.name, csp.value]);
  }
  const hsts = setting('strictTransportSecurity', HSTS, options.strictTransportSecurity as unknown, HSTS_DEFAULT, true);
  if (hsts !== null && !/(?:^|;)\s*max-age\s*=/i.test(hsts)) {
    throw new TypeError(`secureHeaders: strictTransportSecurity must hold max-age (e.g. ${JSON.stringify(HSTS_DEFAULT)}), not ${JSON.stringify(hsts)}`);
  }
  const secureFields = hsts === null ? fields : [...fields, [HSTS, hsts] as [string, string]];
  const nonceParts = csp?.nonce ?? null;

  return (environ, startResponse) => {
    const added = environ['tsgi.url_scheme'] === 'https' ? secureFields : fields;
    let nonce: string | null = null;
    if (nonceParts !== null) {
      nonce = randomBytes(16).toString('base64');
      nonceKey.set(environ, nonce);
    }
    return callWithHeadEdit(inner, environ, startResponse, (headers, status) => {
      if (!Array.isArray(headers) || added.length === 0) return headers; // not an array: the server refuses it
      const out = headers.slice();
      // A 304's fields replace the stored response's (RFC 9111 §3.2): a fresh nonce there would
      // block the scripts of the cached page, which carry the stored one. Left off, as Rails does.
      const skip = nonceAt !== -1 && typeof status === 'string' && status.startsWith('304') ? nonceAt : -1;
      for (let i = 0; i < added.length; i++) {
        const [name, value] = added[i]!;
        if (i === skip || hasField(headers, name)) continue;
        out.push([name, i === nonceAt ? nonceParts!.join(nonce!) : value]);
      }
      return out;
    });
  };
}

/** The value to send for one header option, or `null` for none; throws for a bad setting. */
function setting(option: string, name: string, given: unknown, value: string, onByDefault: boolean): string | null {
  if (given === undefined) return onByDefault ? value : null;
  if (given === false) return null;
  if (given === true) return value;
  if (typeof given !== 'string' || given.trim() === '') {
    throw new TypeError(`secureHeaders: ${option} must be true, false or a non-empty string, not ${JSON.stringify(given)}`);
  }
  try {
    assertHeader(name, given);
  } catch {
    throw new TypeError(`secureHeaders: ${option} ${JSON.stringify(given)} is not a field value (no CR, LF or NUL)`);
  }
  return given;
}

/** The CSP field: its name, value, and (with a nonce) the value's parts around each place of the nonce. */
interface Policy {
  name: string;
  value: string;
  nonce: readonly string[] | null;
}

/** The `contentSecurityPolicy` option made into its field, or `null` for none. */
function policy(option: SecureHeadersOptions['contentSecurityPolicy'] | undefined): Policy | null {
  if (option === undefined || option === false) return null;
  const name = 'Content-Security-Policy';
  if (typeof option === 'string') return { name, value: setting('contentSecurityPolicy', name, option, '', false)!, nonce: null };
  if (typeof option !== 'object' || option === null) {
    throw new TypeError('secureHeaders: contentSecurityPolicy must be false, a string or { directives, reportOnly?, nonce? }');
  }
  checkOptions('secureHeaders', option, CSP_OPTIONS, CSP_NESTED);
  const directives = checkedDirectives(option.directives, 'secureHeaders: contentSecurityPolicy.directives');
  // `'true'` from an environment variable would otherwise enforce a policy meant to report only.
  const field = booleanOption('secureHeaders', 'contentSecurityPolicy.reportOnly', option.reportOnly) ? `${name}-Report-Only` : name;
  if (!booleanOption('secureHeaders', 'contentSecurityPolicy.nonce', option.nonce)) return { name: field, value: serializeCsp(directives), nonce: null };
  const scripts = directives.filter(([directive]) => NONCE_DIRECTIVES.has(directive));
  if (scripts.length === 0) {
    throw new TypeError("secureHeaders: contentSecurityPolicy.nonce needs a script-src (or script-src-elem) directive to add the nonce to (e.g. 'script-src': [\"'self'\"])");
  }
  // A NUL stands for the nonce: no checked source can hold one.
  for (const [, sources] of scripts) sources.push("'nonce-\0'");
  const parts = serializeCsp(directives).split('\0');
  return { name: field, value: parts.join(''), nonce: parts };
}

/**
 * The directives the nonce goes into: `script-src`, and `script-src-elem`, which replaces it
 * for `<script>` elements when present (CSP3 §6.1.1.2), so a nonce in `script-src` alone would
 * not let them run. Not `script-src-attr`: a nonce never matches an event-handler attribute.
 */
const NONCE_DIRECTIVES = new Set(['script-src', 'script-src-elem']);
