/**
 * OAuth 2.0 Bearer tokens (RFC 6750) as a middleware: the resource server's side.
 *
 * @module
 */
import { type App, type AppLike, type Environ, toApp } from '../gateway/types.ts';
import { HTTPBadRequest, HTTPForbidden, HTTPUnauthorized } from '../exceptions/client-errors.ts';
import { MultiDict } from '../datastructures/multidict.ts';
import { parseAuthorization } from '../http/authorization.ts';
import { TOKEN68 } from '../http/auth-params.ts';
import { hasSecondCredential } from '../http/second-credential.ts';
import { formatWwwAuthenticate } from '../http/www-authenticate.ts';
import { Request } from '../request/request.ts';
import { callCredentialed, setRemoteUser } from './auth-util.ts';
import type { EnvironKey } from '../gateway/environ-key.ts';
import { type OptionNames, booleanOption, checkOptions, kindOf } from '../gateway/option-names.ts';

/** Checks a token: answers the user it belongs to, or `null`/`undefined`/`false` when invalid. */
export type BearerVerify<User> = (
  token: string,
  req: Request,
) => User | null | undefined | false | Promise<User | null | undefined | false>;

/** Options of {@link bearerAuth}. */
export interface BearerAuthOptions<User> {
  /**
   * Checks the access token (compare stored secrets with `safeCompare`, or verify a signed
   * token). May be async; what it throws propagates (a 500 under the `errors` middleware).
   */
  verify: BearerVerify<User>;
  /** The `realm` of the challenge; default `'Restricted'`. */
  realm?: string | undefined;
  /**
   * A `scope` to announce in the challenge (RFC 6750 §3): space-separated, or a list of
   * scope-tokens; default none.
   */
  scope?: string | readonly string[] | undefined;
  /**
   * The `REMOTE_USER` for a user: default the user itself when `verify` answers a string,
   * else `String(user.id ?? user.name)` when one of those is a string or number, else no
   * `REMOTE_USER` (the user is still at `authUserKey`, `environ['tsgi.auth_user']`), and
   * one an auth layer further out set for its own user is removed.
   */
  userName?: ((user: User) => string) | undefined;
  /**
   * Also accept the token as an `access_token` query parameter (RFC 6750 §2.3), its name and
   * value percent-decoded as `req.query` decodes them (`access%5Ftoken` is the same parameter;
   * a `+` is a space: a token's `+` is sent `%2B`) and held to the header's b64token syntax
   * (RFC 6750 §2.1; anything else is the header's 401 `invalid_token`). Default
   * false: the RFC advises against it, as URLs end up in logs and `Referer` headers. The
   * answer to a request let in that way is kept out of shared caches, as §2.3 asks:
   * `Cache-Control: private` (its `public` and `s-maxage` dropped, unless it says `private` or
   * `no-store`) and no `CDN-Cache-Control` or `Surrogate-Control`, so a CDN does not serve the
   * user's data to whoever has the URL, after the token is revoked too.
   */
  allowQuery?: boolean | undefined;
  /**
   * A key of your own (`defineEnvironKey<User>('myapp.user')`) to store the user under too,
   * typed: `verify` must answer that type, and `userKey.get(req)` reads it without a cast.
   * Default none: the user is at `authUserKey` alone, typed `unknown`. (The `set` member
   * restated as a property makes `tsc` check it strictly: `EnvironKey`'s methods are
   * bivariant, so a key of `{ id, login }` would otherwise take a `verify` answering `{ login }`.)
   */
  userKey?: (EnvironKey<User> & { readonly set: (on: never, value: User) => void }) | undefined;
}

/** Every option of {@link BearerAuthOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const BEARER_AUTH_OPTIONS = { verify: true, realm: true, scope: true, userName: true, allowQuery: true, userKey: true } as const satisfies OptionNames<BearerAuthOptions<unknown>>;

/**
 * Requires an OAuth 2.0 Bearer token (RFC 6750) for every request to `app`.
 *
 * - `Authorization: Bearer <token>` and `verify` answers a user: `AUTH_TYPE` is `Bearer`,
 *   `authUserKey` (`environ['tsgi.auth_user']`) the user, `REMOTE_USER` its name (see
 *   `userName`); `app` is called. Its answer, when it gives a shared cache a lifetime without
 *   saying it may be shared (`public`, `s-maxage` or `must-revalidate`, RFC 9111 §3.5), is
 *   made `private`, as `basicAuth` does; one let in by a token in the query (`allowQuery`)
 *   always is (RFC 6750 §2.3).
 * - No credentials, or another scheme (`Basic …`): 401 with `WWW-Authenticate: Bearer
 *   realm="…"` and no error code (RFC 6750 §3.1). With `allowQuery`, an `access_token` in the
 *   query is taken beside another scheme's `Authorization` (a Basic login in front of the site).
 * - A malformed request: `Bearer` without a token, two credentials (two `Authorization`
 *   lines, which arrive joined with `, `), a token sent both in the header and the query, or
 *   two `access_token` parameters: 400 with `error="invalid_request"`.
 * - A malformed token, i.e. one `Bearer` credential that is not one b64token (`Bearer a$b`,
 *   `Bearer a b`, `Bearer "x"`), or with `allowQuery` an `access_token` that is not one once
 *   percent-decoded (`a%24b`, `a+b`, `%C3%A9`: RFC 6750 §2.3 carries the same token as
 *   §2.1): 401 with `error="invalid_token"` (RFC 6750 §3.1 lists malformed tokens there;
 *   Spring Security answers the same), so that the client gets a new token rather than
 *   giving up; `verify` is not called.
 * - A token `verify` refuses (`null`, `undefined`, `false`, or `''`, as `basicAuth` takes it):
 *   401 with `error="invalid_token"`.
 *
 * Every refusal carries the `WWW-Authenticate` challenge (with `error_description`) and a
 * body negotiated like every `HTTPException`; `app` is not called. A token that is valid but
 * lacks a scope is the app's to refuse: see {@link insufficientScope}.
 *
 * @example
 * ```ts
 * import { bearerAuth } from 'tsgi/middleware';
 *
 * const api = bearerAuth(apiApp, {
 *   realm: 'api',
 *   verify: async (token) => await db.users.byToken(token), // the user, or null
 *   userName: (user) => user.login,
 * });
 * ```
 *
 * With `userKey`, the app reads the user typed, without a cast:
 * ```ts
 * import { defineEnvironKey } from 'tsgi';
 *
 * interface ApiUser { login: string; scopes: string[] }
 * export const apiUserKey = defineEnvironKey<ApiUser>('myapp.user');
 * const api = bearerAuth(apiApp, { verify: (token) => db.users.byToken(token), userKey: apiUserKey });
 * // in apiApp: apiUserKey.get(req)?.login
 * ```
 *
 * @throws TypeError (at once) when `verify` is missing, `realm` cannot be put in a
 *   challenge (a control character or a character above U+00FF), `scope` is not a valid
 *   RFC 6750 scope (see {@link insufficientScope}), `allowQuery` is not a boolean (`'false'`
 *   from an environment variable), `userName` is not a function (`'login'`), `userKey` is not
 *   an environ key, or the options are not a plain object or hold an unknown key (`checkOptions`).
 */
export function bearerAuth<User>(app: AppLike, options: BearerAuthOptions<User>): App {
  const inner = toApp(app);
  checkOptions('bearerAuth', options, BEARER_AUTH_OPTIONS);
  const { verify, userName, userKey } = options;
  if (typeof verify !== 'function') throw new TypeError('bearerAuth needs a verify(token, req) function');
  // `'false'` from an environment variable would otherwise let tokens in by the URL, unsaid.
  const allowQuery = booleanOption('bearerAuth', 'allowQuery', options.allowQuery);
  // `userName: 'login'` (a field's name, as passport's `usernameField`) would be a 500 at every valid token.
  if (userName !== undefined && typeof userName !== 'function') {
    throw new TypeError(`bearerAuth: userName must be a function (user) => string, not ${kindOf(userName)}`);
  }
  if (userKey !== undefined && (typeof userKey !== 'object' || userKey === null || typeof userKey.set !== 'function')) {
    throw new TypeError("bearerAuth: userKey must be an environ key: defineEnvironKey<User>('myapp.user')");
  }
  const base: Record<string, string> = { realm: options.realm ?? 'Restricted' };
  if (options.scope !== undefined) base.scope = formatScope(options.scope);
  const plain = formatWwwAuthenticate({ scheme: 'Bearer', params: base });
  const challenge = (error: string, description: string) =>
    formatWwwAuthenticate({ scheme: 'Bearer', params: { ...base, error, error_description: description } });
  const invalidRequest = (description: string) =>
    new HTTPBadRequest(description, { wwwAuthenticate: challenge('invalid_request', description) });

  return async (environ, startResponse) => {
    const found = findToken(environ, allowQuery);
    let refusal;
    if (found.kind === 'none') {
      refusal = new HTTPUnauthorized(undefined, { wwwAuthenticate: plain });
    } else if (found.kind === 'malformed') {
      refusal = invalidRequest(found.reason);
    } else if (found.kind === 'invalid') {
      const description = 'The access token is malformed.';
      refusal = new HTTPUnauthorized(description, { wwwAuthenticate: challenge('invalid_token', description) });
    } else {
      const req = new Request(environ);
      const user = await verify(found.token, req);
      // An empty name is no user, as for basicAuth (`db.names.get(token) ?? ''` refuses).
      if (user !== null && user !== undefined && user !== false && (user as unknown) !== '') {
        setRemoteUser(environ, nameOf(user, userName), 'Bearer', user);
        if (userKey !== undefined) userKey.set(environ, user);
        // RFC 6750 §2.3: the URL holds the token, and a shared cache keys its copy on the URL.
        return callCredentialed(inner, environ, startResponse, found.fromQuery);
      }
      const description = 'The access token is invalid, expired or revoked.';
      refusal = new HTTPUnauthorized(description, { wwwAuthenticate: challenge('invalid_token', description) });
    }
    return refusal.respond(environ, startResponse);
  };
}

/** Options of {@link insufficientScope}. */
export interface InsufficientScopeOptions {
  /** The `realm` of the challenge; default `'Restricted'`, as `bearerAuth`'s. */
  realm?: string | undefined;
  /**
   * A human-readable `error_description` for the challenge (RFC 6750 §3: printable ASCII
   * without `"` and `\`), also used as the body's detail; default none in the challenge.
   */
  description?: string | undefined;
}

/** Every option of {@link InsufficientScopeOptions}, checked per call (`checkOptions`); `tsc` fails when it and the type differ. */
const INSUFFICIENT_SCOPE_OPTIONS = { realm: true, description: true } as const satisfies OptionNames<InsufficientScopeOptions>;

/** scope-token (RFC 6750 §3): `%x21 / %x23-5B / %x5D-7E`, i.e. printable ASCII but `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
/** error-description characters (RFC 6750 §3): `%x20-21 / %x23-5B / %x5D-7E`. */
const ERROR_DESCRIPTION = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

/**
 * The refusal of a request whose (valid) token lacks a scope, RFC 6750 §3.1
 * `insufficient_scope`: a 403 `HTTPForbidden` with
 * `WWW-Authenticate: Bearer realm="…", error="insufficient_scope", scope="a b"` (plus
 * `error_description` when given) and a body negotiated like every `HTTPException`.
 * Throw it (or return it) from the app below {@link bearerAuth}, which keeps the user
 * `verify` answered, scopes included, at `authUserKey` (`environ['tsgi.auth_user']`).
 *
 * @param scope - the scope the request needs: space-separated (`'read write'`) or a list of
 *   scope-tokens (`['read', 'write']`).
 * @example
 * ```ts
 * import { Request, Response, defineEnvironKey } from 'tsgi';
 * import { bearerAuth, insufficientScope } from 'tsgi/middleware';
 *
 * const apiUser = defineEnvironKey<{ login: string; scopes: string[] }>('myapp.api_user');
 * const app = Request.application((req) => {
 *   const user = apiUser.get(req)!; // bearerAuth let the request in
 *   if (req.method !== 'GET' && !user.scopes.includes('write')) {
 *     throw insufficientScope('write', { realm: 'api', description: 'Writing needs the write scope.' });
 *   }
 *   return Response.json({ hello: user.login });
 * });
 * export const api = bearerAuth(app, { realm: 'api', verify: (token) => db.tokens.userFor(token), userKey: apiUser });
 * ```
 *
 * @throws TypeError (when called) for options that are not a plain object or hold an unknown
 *   key (`descripton`: `checkOptions`), an empty scope, a scope-token with characters outside
 *   `%x21 / %x23-5B / %x5D-7E` (space, `"`, `\`, control or non-ASCII characters; in a string,
 *   tokens are separated by single spaces), a description outside printable ASCII or with
 *   `"` or `\`, or a realm that cannot be put in a challenge.
 */
export function insufficientScope(
  scope: string | readonly string[],
  options: InsufficientScopeOptions = {},
): InstanceType<typeof HTTPForbidden> {
  checkOptions('insufficientScope', options, INSUFFICIENT_SCOPE_OPTIONS);
  const { description } = options;
  const params: Record<string, string> = { realm: options.realm ?? 'Restricted', error: 'insufficient_scope', scope: formatScope(scope) };
  if (description !== undefined) {
    if (typeof description !== 'string' || !ERROR_DESCRIPTION.test(description)) {
      throw new TypeError(`invalid error_description ${JSON.stringify(description)}: printable ASCII without " or \\ only`);
    }
    params.error_description = description;
  }
  const detail = description ?? `The access token does not grant the scope this request needs (${params.scope}).`;
  return new HTTPForbidden(detail, { wwwAuthenticate: { scheme: 'Bearer', params } });
}

/**
 * The value of a `scope` attribute (RFC 6750 §3): scope-tokens joined by single spaces.
 *
 * @throws TypeError for no token, or a token outside `%x21 / %x23-5B / %x5D-7E`.
 */
function formatScope(scope: string | readonly string[]): string {
  const tokens = typeof scope === 'string' ? scope.split(' ') : scope;
  if (!Array.isArray(tokens) || tokens.length === 0) throw new TypeError('a scope needs at least one scope-token');
  for (const token of tokens) {
    if (typeof token !== 'string' || !SCOPE_TOKEN.test(token)) {
      throw new TypeError(`invalid scope-token ${JSON.stringify(token)} (RFC 6750 §3: %x21 / %x23-5B / %x5D-7E)`);
    }
  }
  return tokens.join(' ');
}

type Found = { kind: 'none' } | { kind: 'malformed'; reason: string } | { kind: 'invalid' } | { kind: 'token'; token: string; fromQuery: boolean };

/** Where the request carries its token (RFC 6750 §2.1, §2.3), or why it is malformed. */
function findToken(environ: Environ, allowQuery: boolean): Found {
  const header = environ.HTTP_AUTHORIZATION;
  let fromHeader: string | null = null;
  if (typeof header === 'string' && header.trim() !== '') {
    const parsed = parseAuthorization(header);
    // Any other scheme, even garbled, is "no Bearer credentials" (a Basic login in front of
    // the site: the token may still be in the query); a garbled Bearer is not.
    if (parsed === null && /(^|[\s,])bearer(\s|,|$)/i.test(header)) {
      const value = header.trim();
      // One Bearer credential whose token is not a b64token: the access token is malformed
      // (RFC 6750 §3.1 invalid_token), so that the client gets a new one. No token, or
      // credentials after a comma (two lines joined, another scheme first): the request is.
      if (/^bearer\s+\S/i.test(value) && !hasSecondCredential(value)) return { kind: 'invalid' };
      return { kind: 'malformed', reason: 'The Authorization header is not Bearer followed by one token.' };
    }
    if (parsed?.scheme === 'bearer') fromHeader = parsed.token ?? null;
  }
  let fromQuery: string | null = null;
  // The query is parsed only when it may hold the name, plain or percent-encoded (`access%5Ftoken`,
  // which `req.query` reads as `access_token`).
  const search = environ.QUERY_STRING;
  if (allowQuery && (search.includes('access_token') || search.includes('%'))) {
    const values = MultiDict.fromQueryString(search).getAll('access_token');
    if (values.length > 1) return { kind: 'malformed', reason: 'The access_token parameter is repeated.' };
    fromQuery = values[0] ?? null;
  }
  if (fromHeader !== null && fromQuery !== null) {
    return { kind: 'malformed', reason: 'The access token was sent in more than one way.' };
  }
  const token = fromHeader ?? fromQuery;
  if (token === null) return { kind: 'none' };
  if (token === '') return { kind: 'malformed', reason: 'The access token is empty.' };
  // RFC 6750 §2.1's b64token is token68: the header's parse checked it, the query's
  // (percent-decoded: spaces, controls, non-ASCII) is checked here, for the same 401.
  if (!TOKEN68.test(token)) return { kind: 'invalid' };
  return { kind: 'token', token, fromQuery: fromHeader === null };
}

function nameOf<User>(user: User, userName: ((user: User) => string) | undefined): string | null {
  if (userName) return userName(user);
  if (typeof user === 'string') return user;
  if (typeof user === 'object' && user !== null) {
    const record = user as { id?: unknown; name?: unknown };
    for (const value of [record.id, record.name]) {
      if (typeof value === 'string' || typeof value === 'number') return String(value);
    }
  }
  return null;
}

