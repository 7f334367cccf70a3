/**
 * HTTP Basic authentication (RFC 7617) as a middleware.
 *
 * @module
 */
import { type App, type AppLike, toApp } from '../gateway/types.ts';
import { HTTPUnauthorized } from '../exceptions/client-errors.ts';
import { parseAuthorization } from '../http/authorization.ts';
import { formatWwwAuthenticate } from '../http/www-authenticate.ts';
import { Request } from '../request/request.ts';
import { callCredentialed, setRemoteUser } from './auth-util.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';

/**
 * Checks one pair of credentials. Answer `true` (the user is `username`), a non-empty string
 * (the user name to record instead, e.g. a canonical id), or `false`/`null`/`undefined`/`''`
 * to refuse. May be async. What it throws propagates (a 500 under the `errors` middleware).
 * Compare secrets with `safeCompare`, or build it with `staticUsers`.
 */
export type BasicVerify = (
  username: string,
  password: string,
  req: Request,
) => boolean | string | null | undefined | Promise<boolean | string | null | undefined>;

/** Options of {@link basicAuth}. */
export interface BasicAuthOptions {
  /** Names the protection space in the challenge (browsers show it); default `'Restricted'`. */
  realm?: string | undefined;
  /** Checks the credentials; see {@link BasicVerify}. */
  verify: BasicVerify;
}

/** Every option of {@link BasicAuthOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const BASIC_AUTH_OPTIONS = { realm: true, verify: true } as const satisfies OptionNames<BasicAuthOptions>;

/**
 * Requires HTTP Basic credentials (RFC 7617) for every request to `app`.
 *
 * - Valid credentials: `REMOTE_USER` is set to the user name (or the string `verify`
 *   answered) and `AUTH_TYPE` to `Basic`, then `app` is called. Its answer, when it gives a
 *   shared cache a lifetime (`max-age`, `Expires`, a CDN-targeted field) without saying it may
 *   be shared (`public`, `s-maxage` or `must-revalidate`, RFC 9111 §3.5), is made `private`
 *   (and the CDN-targeted fields removed), as a conforming shared cache would treat it: one
 *   that ignores §3.5 (nginx's `proxy_cache`) would hand the user's page to clients without
 *   credentials. `private` or `no-store` already, or no caching fields: left as it is.
 * - No `Authorization`, another scheme, a malformed Basic value, or refused credentials: a
 *   401 whose body is negotiated like every `HTTPException`, with
 *   `WWW-Authenticate: Basic realm="…", charset="UTF-8"` (RFC 7617 §2.1: credentials are
 *   read as UTF-8, or ISO-8859-1 from old clients; see `parseAuthorization`). `app` is not
 *   called.
 *
 * Basic credentials travel in clear text: serve it over HTTPS only.
 *
 * @example
 * ```ts
 * import { basicAuth, safeCompare } from 'tsgi/middleware';
 *
 * // An unset or empty variable must stop the start, not let in an empty password.
 * const secret = process.env.ADMIN_PASSWORD;
 * if (!secret) throw new Error('set ADMIN_PASSWORD');
 * const admin = basicAuth(adminApp, {
 *   realm: 'Admin',
 *   verify: (user, password) => user === 'admin' && safeCompare(password, secret),
 * });
 * ```
 *
 * @throws TypeError (at once) when `realm` holds a control character or a character above
 *   U+00FF, which a challenge cannot carry.
 */
export function basicAuth(app: AppLike, options: BasicAuthOptions): App {
  const inner = toApp(app);
  checkOptions('basicAuth', options, BASIC_AUTH_OPTIONS);
  const verify = options.verify;
  if (typeof verify !== 'function') throw new TypeError('basicAuth needs a verify(username, password, req) function');
  const challenge = formatWwwAuthenticate({
    scheme: 'Basic',
    params: { realm: options.realm ?? 'Restricted', charset: 'UTF-8' },
  });
  return async (environ, startResponse) => {
    const credentials = parseAuthorization(environ.HTTP_AUTHORIZATION as string | undefined);
    if (credentials?.scheme === 'basic' && credentials.username !== undefined) {
      const req = new Request(environ);
      const answer = await verify(credentials.username, credentials.password ?? '', req);
      if (answer === true || (typeof answer === 'string' && answer !== '')) {
        setRemoteUser(environ, answer === true ? credentials.username : answer, 'Basic');
        return callCredentialed(inner, environ, startResponse, false);
      }
    }
    const denied = new HTTPUnauthorized(undefined, { wwwAuthenticate: challenge });
    return denied.respond(environ, startResponse);
  };
}
