/**
 * "Sign in with <your OpenID provider>": OpenID Connect's authorization-code flow with PKCE,
 * written against the public entry points only (docs/sessions.md, "Signing in with OpenID
 * Connect", explains each step):
 *
 * - `GET /login?next=/path` keeps a new `state`, `nonce` and PKCE `code_verifier` (random, from
 *   WebCrypto) in the signed session, with the `redirect_uri` built from the request (`https://`
 *   and the public host behind a proxy, under `proxyFix`) and the page to go back to, checked to
 *   be a path on this site, beside the logins other tabs have in progress (at most 5, keyed by
 *   `state`); then redirects (303) to the provider's authorization endpoint with the S256
 *   `code_challenge`;
 * - `GET /callback?code=…&state=…` (a top-level navigation from the provider's site, so the
 *   `SameSite=Lax` session cookie comes with it) takes the pending login whose `state` it names
 *   out of the session (one use: a replayed callback finds none), exchanges the code at the token
 *   endpoint with `fetch` (the same `redirect_uri`, the `code_verifier`, the client's secret),
 *   checks the `id_token` (RS256 signature against the provider's JWKS, `iss`, `aud`, `azp`,
 *   `exp`, `iat`, `nbf`, `nonce`, a `sub` of at most 255 characters), then starts a new
 *   session (`clear()`: nothing planted before the login survives it but the other tabs' logins
 *   in progress) holding the user, and redirects to the page asked for;
 * - `POST /logout` (under `crossOriginProtection`: another site cannot log a user out) clears
 *   the session.
 *
 * What goes wrong is a short 4xx for the browser's mistakes (no sign-in pending, a `state` that
 * does not match, a code refused as used or expired: 400; the user refused at the provider:
 * 403) and a logged 502 or 503 for the provider's (its endpoints down or answering nonsense, an
 * `id_token` that does not check out).
 *
 * ```sh
 * OIDC_ISSUER=https://login.example.com OIDC_CLIENT_ID=… OIDC_CLIENT_SECRET=… \
 * SESSION_SECRET=$(node -e "console.log(crypto.randomBytes(32).toString('base64url'))") \
 * node --conditions=tsgi-source src/cli/main.ts serve --proxy-headers \
 *   --access-log-redact code,state examples/oidc.ts:app
 * ```
 *
 * (`--access-log-redact` keeps the callback's one-time `code` and its `state` out of the log;
 * `--proxy-headers` applies `proxyFix` outside the app, so do not pass `proxy` too; add
 * `--forwarded-host` when the proxy does not pass the public `Host`.)
 *
 * Register `https://<your host>/callback` as the redirect URI at the provider, exactly.
 *
 * @module
 */
import type { webcrypto } from 'node:crypto';
import { HTTPBadGateway, HTTPBadRequest, HTTPForbidden, HTTPSeeOther, HTTPServiceUnavailable, type App, Request, Response, compose } from 'tsgi';
import { CookieSessions, type ProxyFixOptions, type Session, crossOriginProtection, proxyFix, safeCompare, sessionOf } from 'tsgi/middleware';
import { escapeHtml } from 'tsgi/http';
import { RouteMap } from 'tsgi/routing';

/** Options of {@link createOidcLogin}. */
export interface OidcOptions {
  /** The provider's issuer URL, exactly as its discovery document and tokens say it (`https://login.example.com`). */
  issuer: string | undefined;
  /** The client id the provider gave this app. */
  clientId: string | undefined;
  /** Its client secret, sent to the token endpoint only (`client_secret_basic`). */
  clientSecret: string | undefined;
  /** The session key, at least 32 bytes. No default: without it (or the above) every page but `/` answers 503. */
  sessionSecret: string | undefined;
  /** Scopes asked for; `openid` first. Default `'openid profile email'`. */
  scope?: string | undefined;
  /**
   * `proxyFix` options when a proxy ends TLS in front of the app, so that `redirect_uri` is
   * `https://` at the public host: for running this app alone. `proxyFix` is then inside the
   * returned app, and middleware you wrap around it (`secureHeaders`, `errors`, `accessLog`)
   * still sees `http` (no HSTS) and the proxy's address. Under your own middleware, leave this
   * out and put `proxyFix` outermost yourself, or serve with `tsgi serve --proxy-headers`
   * (docs/sessions.md, "Signing in with OpenID Connect"). Default: none.
   */
  proxy?: ProxyFixOptions | undefined;
  /**
   * The session cookie's `Secure`: default `true` (HTTPS only), and the cookie is then named
   * `__Host-session`, which no sibling subdomain nor plain-HTTP page can set (a session of the
   * attacker's own, pending login included, planted before the callback would sign the victim
   * in as the attacker). `false` for a plain-HTTP development set-up: the cookie is `session`.
   */
  secure?: boolean | undefined;
  /** Milliseconds to wait for each call to the provider. Default 10 000. */
  timeout?: number | undefined;
}

/** A login in progress, kept in the session between `/login` and `/callback`. */
interface Pending {
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
  next: string;
  /** When it started, ms: a pending login older than {@link PENDING_MS} is refused. */
  at: number;
}

/** How long a login may take at the provider. */
const PENDING_MS = 10 * 60_000;
/** The most logins in progress kept at once (tabs signing in together), newest first kept. */
const MAX_PENDING = 5;
/** The most bytes of JSON they take together in the session cookie (4096 bytes, base64url: 4/3 as many). */
const MAX_PENDING_BYTES = 2048;
/** How long the provider's keys are used before they are fetched again, ms: a key it withdrew stops verifying within this. */
const KEYS_MAX_AGE = 10 * 60_000;
/** The shortest time between two fetches of the keys for a token naming a key not in the set, ms. */
const KEYS_REFETCH_MS = 60_000;
/** The longest `next` kept, in bytes of UTF-8: with the rest of the pending login, well within a 4096-byte cookie. */
const MAX_NEXT_BYTES = 512;
/** The longest `sub` taken, in characters: OpenID Connect Core §2 allows 255 ASCII ones. */
const MAX_SUB = 255;
/** Seconds the provider's clock and ours may differ by, for `exp` and `iat`. */
const SKEW = 60;

const utf8 = new TextEncoder();
const base64url = (bytes: ArrayBuffer | Uint8Array) => Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString('base64url');
/** `bytes` random bytes, base64url: 32 give the 43 characters RFC 7636 §4.1 asks of a verifier. */
const random = (bytes = 32) => base64url(crypto.getRandomValues(new Uint8Array(bytes)));

/**
 * `next` when it is a path on this site, else `'/'`: never a way to another site (an open
 * redirect). A path starts with one `/`: `//evil.example` and `/\evil.example` (which browsers
 * read as `//`) name another host, `https:evil.example` or `javascript:…` a scheme. tsgi's
 * redirects keep `//` and `/\` on this host anyway (`/%2Fevil.example`); refusing them here
 * also keeps them out of any link the app builds. Percent-encoded forms (`%2F%2Fevil.example`)
 * were decoded once by the query parser and are checked as what they decode to; what is still
 * encoded stays a path. Values over {@link MAX_NEXT_BYTES} bytes of UTF-8 are refused: the session
 * cookie holds it, and a cookie over 4096 bytes cannot be set (`€` is 3 bytes, and 9 once
 * the redirect percent-encodes it).
 */
export function safeNext(next: string | null | undefined): string {
  if (typeof next !== 'string' || next.length > MAX_NEXT_BYTES || Buffer.byteLength(next) > MAX_NEXT_BYTES) return '/';
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  if (/[\x00-\x1f\x7f]/.test(next)) return '/'; // a tab or line break: browsers drop tabs (`/\t/evil.example` is `//evil.example`)
  return next;
}

/** The logins in progress in `session` not yet expired, oldest first (several tabs may be signing in at once). */
function pendingLogins(session: Session): Pending[] {
  const list = session.get<Pending[]>('oidc');
  return Array.isArray(list) ? list.filter((p) => Date.now() - p.at <= PENDING_MS) : [];
}

/**
 * Keeps `list` (oldest first) as the logins in progress: the newest {@link MAX_PENDING}, fewer
 * when their `next` pages are long (at most {@link MAX_PENDING_BYTES} of JSON together, so the
 * cookie stays within 4096 bytes), the newest always; none removes the key.
 */
function keepPending(session: Session, list: Pending[]): void {
  const kept: Pending[] = [];
  let bytes = 0;
  for (const pending of list.slice(-MAX_PENDING).reverse()) {
    bytes += Buffer.byteLength(JSON.stringify(pending));
    if (kept.length > 0 && bytes > MAX_PENDING_BYTES) break;
    kept.unshift(pending);
  }
  if (kept.length > 0) session.set('oidc', kept);
  else session.delete('oidc');
}

/** The provider's discovery document: what this example uses of it (OpenID Connect Discovery 1.0 §3). */
interface Provider {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

/** An RSA public key of the provider's JWKS (RFC 7517). */
type Jwk = webcrypto.JsonWebKey & { kid?: string };

/** Whether `value` is an absolute `http:` or `https:` URL, as a discovery document's endpoints must be. */
const isHttpUrl = (value: unknown): boolean => typeof value === 'string' && URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);

/** A JSON object from a base64url segment of a JWT, or null. */
function jwtPart(text: string): Record<string, unknown> | null {
  if (!/^[\w-]+$/.test(text)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * The login routes and a home page, with their middleware: `proxyFix` (when `options.proxy`
 * says so: for this app alone; under middleware of your own, put `proxyFix` outermost instead),
 * `crossOriginProtection` and the session. Without the issuer, client or session secret, an app
 * saying so at `/` and answering 503 everywhere else, so nothing runs with a default secret.
 */
export function createOidcLogin(options: OidcOptions): App {
  const { issuer, clientId, clientSecret, sessionSecret } = options;
  if (!issuer || !clientId || !clientSecret || !sessionSecret) {
    const missing = 'Sign-in is not configured: set OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and SESSION_SECRET.';
    return Request.application((req) => {
      if (req.pathInfo === '/') return new Response(missing);
      throw new HTTPServiceUnavailable(missing);
    });
  }
  const timeout = options.timeout ?? 10_000;
  const secure = options.secure ?? true;
  const sessions = new CookieSessions({ secret: sessionSecret, secure, cookieName: secure ? '__Host-session' : 'session' });

  /** The 503 of a provider that cannot be reached or answer in time, the failure its cause. */
  const unreachable = (cause: unknown) =>
    new HTTPServiceUnavailable('The sign-in provider cannot be reached; try again later.', {
      cause,
      retryAfter: 30,
    });

  /**
   * A JSON answer of the provider; 503 when it cannot be reached or the timeout runs out (its
   * head or its body late), 502 when it answers nonsense (logged: both carry the cause).
   */
  async function fromProvider<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
    // One limit for the head and the body: a head then a stall is as late as no head at all.
    const signal = AbortSignal.timeout(timeout);
    let res: globalThis.Response;
    try {
      const headers = { accept: 'application/json', ...init?.headers };
      res = await fetch(url, { ...init, signal, headers });
    } catch (cause) {
      throw unreachable(cause);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch (cause) {
      if (signal.aborted) throw unreachable(cause);
      throw new HTTPBadGateway(`The sign-in provider answered ${res.status} without JSON.`, { cause });
    }
    // Every answer used here is a JSON object: `null`, a list or a string is nonsense, not a TypeError (500) further on.
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HTTPBadGateway(`The sign-in provider answered ${res.status} without a JSON object.`);
    return { status: res.status, body: body as T };
  }

  // The discovery document, fetched once (again after a failure); the keys, again after KEYS_MAX_AGE, and when a token names
  // a key not in the set (at most once a minute: the provider's rotation, not a DoS amplifier).
  let provider: Promise<Provider> | undefined;
  const discover = () =>
    (provider ??= (async () => {
      const { status, body } = await fromProvider<Provider>(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
      const endpoints = [body.authorization_endpoint, body.token_endpoint, body.jwks_uri];
      if (status !== 200 || body.issuer !== issuer || !endpoints.every(isHttpUrl)) {
        throw new HTTPBadGateway(`The sign-in provider's discovery document is unusable (${status}).`, { cause: new Error(String(JSON.stringify(body)).slice(0, 200)) });
      }
      return body;
    })().catch((error: unknown) => {
      provider = undefined;
      throw error;
    }));
  let keys: { at: number; list: Promise<Jwk[]> } | undefined;
  const keyFor = async (kid: unknown): Promise<Jwk | undefined> => {
    const fetchKeys = async () => {
      const { jwks_uri } = await discover();
      const { status, body } = await fromProvider<{ keys?: Jwk[] }>(jwks_uri);
      if (status !== 200 || !Array.isArray(body.keys)) throw new HTTPBadGateway(`The sign-in provider's keys are unusable (${status}).`, { cause: new Error(jwks_uri) });
      return body.keys;
    };
    // A key for RS256 signatures only (RFC 7517 §4.2-4.4): an encryption key, or one for another algorithm, is never tried.
    const find = (list: Jwk[]) =>
      list.find(
        (k) =>
          typeof k === 'object' &&
          k !== null &&
          k.kty === 'RSA' &&
          (k.use === undefined || k.use === 'sig') &&
          (k.alg === undefined || k.alg === 'RS256') &&
          (k.key_ops === undefined || (Array.isArray(k.key_ops) && k.key_ops.includes('verify'))) &&
          (kid === undefined || k.kid === kid),
      );
    if (keys !== undefined && Date.now() - keys.at > KEYS_MAX_AGE) keys = undefined;
    keys ??= { at: Date.now(), list: fetchKeys() };
    let found = find(await keys.list.catch((error: unknown) => ((keys = undefined), Promise.reject(error))));
    // A key rotated in at the provider: fetch the set again, at most once a minute.
    if (found === undefined && Date.now() - keys.at > KEYS_REFETCH_MS) {
      keys = { at: Date.now(), list: fetchKeys() };
      found = find(await keys.list);
    }
    return found;
  };

  /** The `id_token`'s claims once checked (OpenID Connect Core §3.1.3.7); a 502 when it does not check out. */
  async function checkIdToken(idToken: unknown, pending: Pending): Promise<Record<string, unknown>> {
    const refuse = (why: string) => new HTTPBadGateway('The sign-in provider sent an ID token that does not check out.', { cause: new Error(why) });
    const parts = typeof idToken === 'string' ? idToken.split('.') : [];
    if (parts.length !== 3) throw refuse('no id_token, or not a JWS');
    const [head, payload, signature] = parts as [string, string, string];
    const header = jwtPart(head);
    // The algorithm is ours to choose, never the token's (RFC 8725 §3.1): RS256, what every provider signs with.
    if (header?.alg !== 'RS256' || header.crit !== undefined) throw refuse(`alg ${String(header?.alg)}`);
    const jwk = await keyFor(header.kid);
    if (jwk === undefined) throw refuse(`no key ${String(header.kid)}`);
    let key: webcrypto.CryptoKey;
    try {
      key = await crypto.subtle.importKey('jwk', jwk, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
    } catch (cause) {
      throw refuse(`key ${String(header.kid)} unusable: ${String(cause)}`);
    }
    if (!/^[\w-]+$/.test(signature) || !(await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, Buffer.from(signature, 'base64url'), utf8.encode(`${head}.${payload}`)))) {
      throw refuse('bad signature');
    }
    const claims = jwtPart(payload);
    const now = Date.now() / 1000;
    if (claims === null) throw refuse('payload not JSON');
    if (claims.iss !== issuer) throw refuse(`iss ${String(claims.iss)}`);
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(clientId)) throw refuse(`aud ${String(claims.aud)}`);
    // azp: required with several audiences, and when present it must be this client (OpenID Connect Core §2).
    if ((audiences.length > 1 || claims.azp !== undefined) && claims.azp !== clientId) throw refuse(`azp ${String(claims.azp)}`);
    if (typeof claims.exp !== 'number' || now > claims.exp + SKEW) throw refuse('expired');
    if (typeof claims.iat !== 'number' || claims.iat > now + SKEW) throw refuse('issued in the future');
    // nbf is optional; when present the token is not valid before it (RFC 7519 §4.1.5).
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > now + SKEW)) throw refuse('not yet valid (nbf)');
    if (typeof claims.sub !== 'string' || claims.sub === '') throw refuse('no sub');
    // At most 255 ASCII characters (OpenID Connect Core §2): it goes into the session cookie,
    // where a longer one could pass the 4096 bytes a browser keeps (a RangeError, a 500).
    if (claims.sub.length > MAX_SUB) throw refuse(`sub of ${claims.sub.length} characters`);
    // The nonce ties the token to this browser's login: another one is a token injected from elsewhere.
    if (typeof claims.nonce !== 'string' || claims.nonce !== pending.nonce) throw new HTTPBadRequest('The sign-in does not belong to this browser (nonce).');
    return claims;
  }

  const routes = new RouteMap({
    home: '/',
    login: '/login',
    callback: '/callback',
    logout: { path: '/logout', methods: ['POST'] },
  });

  const site = routes.app({
    home: (req, _values, urls) => {
      const session = sessionOf(req);
      const user = session.get<{ sub: string; name?: string }>('user');
      const notes = session.consumeFlashes().map((f) => `<p class="${escapeHtml(f.category)}">${escapeHtml(f.message)}</p>`).join('');
      const body = user
        ? `<p>Signed in as ${escapeHtml(user.name ?? user.sub)}</p><form method="post" action="${escapeHtml(urls.build('logout'))}"><button>Sign out</button></form>`
        : `<p><a href="${escapeHtml(urls.build('login'))}">Sign in</a></p>`;
      return new Response(`<!doctype html><title>Home</title>${notes}${body}`, { contentType: 'text/html' });
    },

    login: async (req, _values, urls) => {
      const { authorization_endpoint } = await discover();
      const pending: Pending = {
        state: random(),
        nonce: random(),
        verifier: random(),
        // Built from the request: https and the public host behind a proxy, under proxyFix (and trustedHosts).
        redirectUri: urls.build('callback', {}, { external: true }),
        next: safeNext(req.query.get('next')),
        at: Date.now(),
      };
      // Kept under its state beside the logins of other tabs in progress (as Authlib keeps one per state):
      // a second tab's login does not replace this one.
      const session = sessionOf(req);
      keepPending(session, [...pendingLogins(session), pending]);
      const challenge = base64url(await crypto.subtle.digest('SHA-256', utf8.encode(pending.verifier)));
      const target = new URL(authorization_endpoint);
      for (const [name, value] of Object.entries({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: pending.redirectUri,
        scope: options.scope ?? 'openid profile email',
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      })) target.searchParams.set(name, value);
      return new HTTPSeeOther(target.href);
    },

    callback: async (req) => {
      const session = sessionOf(req);
      const list = pendingLogins(session);
      if (list.length === 0) {
        session.delete('oidc'); // expired ones
        throw new HTTPBadRequest('No sign-in is in progress in this browser (expired, already used, or started elsewhere).');
      }
      const state = req.query.get('state');
      // The pending login of this answer, by its state; each compared in constant time, as every token is (`safeCompare`).
      const pending = state === undefined ? undefined : list.find((p) => safeCompare(state, p.state));
      // A forged or stale answer: the logins in progress stay (it cannot cancel another tab's).
      if (pending === undefined) throw new HTTPBadRequest('The sign-in state does not match.');
      const others = list.filter((p) => p !== pending);
      keepPending(session, others); // one use, whatever comes next: a replayed callback finds nothing
      const error = req.query.get('error');
      if (error !== undefined) {
        // access_denied: the user said no at the provider. Its error_description is the provider's text, not shown.
        throw new HTTPForbidden(error === 'access_denied' ? 'Sign-in was cancelled.' : `The sign-in provider refused: ${error.slice(0, 100)}.`);
      }
      const code = req.query.get('code');
      if (!code) throw new HTTPBadRequest('The sign-in answer has no code.');
      const { token_endpoint } = await discover();
      const { status, body } = await fromProvider<{ id_token?: unknown; error?: unknown }>(token_endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          // client_secret_basic (RFC 6749 §2.3.1): each part form-encoded, then base64.
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: pending.redirectUri, code_verifier: pending.verifier }).toString(),
      });
      // invalid_grant: a code used, expired, or made for another verifier (an injected code): the browser's request is at fault.
      if (status === 400 && body.error === 'invalid_grant') throw new HTTPBadRequest('The sign-in code was refused (already used or expired); sign in again.');
      if (status !== 200) throw new HTTPBadGateway(`The sign-in provider's token endpoint answered ${status}.`, { cause: new Error(String(JSON.stringify(body)).slice(0, 200)) });
      const claims = await checkIdToken(body.id_token, pending);
      // A new session for the login: nothing planted before it carries over (session fixation), but for
      // the logins other tabs of this browser have in progress, so that theirs still complete.
      session.clear();
      keepPending(session, others);
      session.set('user', { sub: claims.sub, ...(typeof claims.name === 'string' ? { name: claims.name.slice(0, 200) } : {}) });
      return new HTTPSeeOther(pending.next);
    },

    logout: (req) => {
      sessionOf(req).clear();
      return new HTTPSeeOther('/');
    },
  });

  return compose(
    ...(options.proxy ? [(inner: App) => proxyFix(inner, options.proxy)] : []),
    crossOriginProtection,
    sessions.middleware,
  )(site);
}

/** The app as `tsgi serve` runs it, configured from the environment; 503 for every page but `/` without it. */
export const app = createOidcLogin({
  issuer: process.env.OIDC_ISSUER,
  clientId: process.env.OIDC_CLIENT_ID,
  clientSecret: process.env.OIDC_CLIENT_SECRET,
  sessionSecret: process.env.SESSION_SECRET,
});
