/**
 * Helpers shared by the auth middleware: comparing secrets in constant time, checking
 * passwords against a fixed table, and recording the authenticated user in the environ.
 *
 * ```ts
 * import { safeCompare, staticUsers } from 'tsgi/middleware';
 *
 * safeCompare(given, expected);                   // true/false, time independent of content
 * basicAuth(app, { realm: 'Staff', verify: staticUsers({ admin: process.env.ADMIN_PASSWORD! }) });
 * ```
 *
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { App, Body, Environ, StartResponse } from '../gateway/types.ts';
import { defineEnvironKey } from '../gateway/environ-key.ts';
import { keepRelayed } from '../gateway/relayed.ts';
import { mustBeString } from '../http/auth-params.ts';
import { HeaderList } from '../http/header-list.ts';
import { isCachingField, keepAuthorizedPrivate, keepPrivate } from '../http/shared-cache.ts';
import { editThrownFields, onThrown } from './on-thrown.ts';

/**
 * Compares two secrets (passwords, tokens, API keys) in time that depends neither on where
 * they differ nor on their lengths: both are hashed with SHA-256 first and the digests are
 * compared with `crypto.timingSafeEqual` (the hash makes equal-length inputs out of any, so
 * the length of the expected secret does not leak either). Strings are compared as UTF-8.
 *
 * @returns true when `a` and `b` are equal byte for byte.
 */
export function safeCompare(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  // The digests are equal iff the inputs are (collisions aside); compare the inputs' lengths
  // too, without branching on them first.
  return timingSafeEqual(x, y) && byteLength(a) === byteLength(b);
}

function byteLength(value: string | Uint8Array): number {
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.byteLength;
}

/**
 * A `verify` function for {@link basicAuth} from a fixed table `{ user: password }`: the
 * password is compared with {@link safeCompare}, and an unknown user costs the same
 * comparison as a known one (against a dummy), so response times do not tell which user
 * names exist. Answers the user name on success, `false` otherwise.
 *
 * Meant for demos, admin back doors and tests; real user stores keep password hashes
 * (scrypt, argon2) and check them in their own `verify`.
 *
 * @throws TypeError when a password is empty (anyone would log in as that user without one)
 *   or not a string (`undefined`: an unset environment variable, which refused every
 *   password), naming the user; Hono's `basicAuth` takes both, letting the user in with an
 *   empty password, or with the text `undefined`. And when a user name is empty (`{ '': token }`):
 *   the answer would be `''`, a refusal to `basicAuth`, so no request got in; for a password
 *   sent with no user name (`curl -u :token`, RFC 7617 allows it) write `verify: (user, password)
 *   => user === '' && safeCompare(password, token)`, which records `REMOTE_USER` `''`.
 */
export function staticUsers(users: Readonly<Record<string, string>>): (username: string, password: string) => string | false {
  const table = new Map(Object.entries(users));
  for (const [name, password] of table) {
    // Its answer would be the name, `''`, which `basicAuth` reads as a refusal.
    if (name === '') throw new TypeError("staticUsers: a user name is empty: its answer, '', refuses (write a verify of your own for a password with no user name, `curl -u :token`)");
    // `{ admin: process.env.ADMIN_PASSWORD! }` with the variable empty would let `admin:` in.
    if (mustBeString(password, `staticUsers: the password of ${JSON.stringify(name)}`) === '') {
      throw new TypeError(`staticUsers: the password of ${JSON.stringify(name)} is empty`);
    }
  }
  return (username, password) => {
    const expected = table.get(username);
    const ok = safeCompare(password, expected ?? '\u0000unknown user\u0000');
    return expected !== undefined && ok ? username : false;
  };
}

/**
 * The user value an auth middleware's `verify` answered, whole (`bearerAuth` sets it; the
 * name alone is `REMOTE_USER`): environ key `tsgi.auth_user`. Its type is the app's, so it is
 * `unknown` here (one key shared by every app cannot carry each app's type): to read the user
 * typed, give `bearerAuth` a key of your own as `userKey`, which it stores the user under too.
 *
 * @example
 * ```ts
 * import { Request, Response, defineEnvironKey } from 'tsgi';
 * import { bearerAuth } from 'tsgi/middleware';
 *
 * interface ApiUser { login: string; scopes: string[] }
 * const apiUser = defineEnvironKey<ApiUser>('myapp.api_user');
 *
 * const app = Request.application((req) => Response.json({ hello: apiUser.get(req)?.login }));
 * export const api = bearerAuth(app, { verify: (token) => db.tokens.userFor(token), userKey: apiUser });
 * ```
 */
export const authUserKey = defineEnvironKey<unknown>('tsgi.auth_user');

/**
 * Records an authenticated user: `REMOTE_USER` (CGI, RFC 3875 §4.1.11), `AUTH_TYPE` (§4.1.1:
 * `Basic`, `Bearer`, `cookie`) and, when given, the full user value under
 * {@link authUserKey} (`tsgi.auth_user`). The three describe one login: a `name` of `null`
 * removes a `REMOTE_USER`, and no `user` removes a `tsgi.auth_user`, that an auth layer
 * further out recorded for another user.
 */
export function setRemoteUser(environ: Environ, name: string | null, authType: string, user?: unknown): void {
  if (name !== null) environ.REMOTE_USER = name;
  else if (environ.REMOTE_USER !== undefined) delete environ.REMOTE_USER;
  environ.AUTH_TYPE = authType;
  if (user !== undefined) authUserKey.set(environ, user);
  else if (authUserKey.get(environ) !== undefined) authUserKey.delete(environ);
}

/** An answer's header fields, as `startResponse` takes them. */
type Fields = Array<[string, string]>;

/**
 * The fields of an answer to a request an auth layer let in by its credentials: its caching
 * fields pass `keepAuthorizedPrivate` (made `private` when cacheable but not said shareable,
 * RFC 9111 §3.5), or, with `inUrl` (a token in the query, RFC 6750 §2.3: a cache keys its
 * copy on the URL, token included), `keepPrivate` (made `private` always). `headers` itself
 * when untouched: without caching fields, unparsed, unless `inUrl`; not an array (the server
 * refuses it).
 */
function credentialedFields(headers: Fields, inUrl: boolean): Fields {
  if (!Array.isArray(headers)) return headers;
  if (!inUrl && !headers.some(([name]) => isCachingField(name))) return headers;
  const list = new HeaderList(headers);
  (inUrl ? keepPrivate : keepAuthorizedPrivate)(list);
  return list.list;
}

/** {@link credentialedFields} of credentials in a header, and of a token in the URL. */
const inHeader = (fields: Fields) => credentialedFields(fields, false);
const inQuery = (fields: Fields) => credentialedFields(fields, true);
/** What an `HTTPException` the app throws gets: its fields edited as an answer's, thrown on. */
const thrownInHeader = (error: unknown): never => editThrownFields(error, inHeader);
const thrownInQuery = (error: unknown): never => editThrownFields(error, inQuery);

/**
 * Calls `inner`, the app below an auth layer that let the request in by its credentials
 * (`basicAuth`, `bearerAuth`), on `environ`: the fields of its answer pass
 * {@link credentialedFields} (`inUrl`: the credentials came in the query), whether it starts
 * one through `startResponse` or throws (or rejects with) an `HTTPException` to be answered
 * outside the layer (`serve()`, `errors`: a redirect `abort`ed by a raw app), whose fields are
 * edited before it goes on, as `AuthTickets` edits them.
 *
 * @throws what `inner` throws, an `HTTPException`'s fields edited.
 */
export function callCredentialed(
  inner: App,
  environ: Environ,
  startResponse: StartResponse,
  inUrl: boolean,
): Body | Promise<Body> {
  const start: StartResponse = (status, headers, error) =>
    startResponse(status, keepRelayed(headers, credentialedFields(headers, inUrl)), error);
  return onThrown(() => inner(environ, start), inUrl ? thrownInQuery : thrownInHeader);
}
