/**
 * examples/oidc.ts, "Sign in with OpenID Connect", over real sockets: the app behind a
 * TLS-terminating proxy (X-Forwarded-Proto/-Host, `proxyFix`), a mock provider on 127.0.0.1
 * (discovery, authorize, token with PKCE S256 and client_secret_basic, an RS256 JWKS), and a
 * browser played with `fetch` (its cookie jar, `Sec-Fetch-Site` as a browser sends it).
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type App, HTTPBadRequest, HTTPFound, HTTPUnauthorized, Request, Response, type ServerHandle, serve } from 'tsgi';
import { mount, proxyFix, secureHeaders } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import { createOidcLogin, safeNext } from '../examples/oidc.ts';

const CLIENT_ID = 'tsgi-app';
const CLIENT_SECRET = randomBytes(24).toString('base64url');
const b64 = (data: string | Uint8Array | ArrayBuffer) => Buffer.from(typeof data === 'string' ? data : new Uint8Array(data)).toString('base64url');

/** What the mock provider does wrong, per test. */
interface Faults {
  deny?: boolean;
  claims?: Record<string, unknown>;
  tokenStatus?: number;
  /** The token endpoint's 200 answer, instead of the tokens. */
  tokenBody?: unknown;
  alg?: string;
  /** Fields replacing the discovery document's. */
  discovery?: Record<string, unknown>;
  /** The token's header names no `kid`. */
  noKid?: boolean;
  /** The JWKS served, from the signing key. */
  keys?: (jwk: Record<string, unknown>) => unknown[];
  /** The token endpoint sends its head and the start of its body, then stalls this many ms. */
  stallBody?: number;
}

/** A mock OpenID provider; `faults` is read at each request. */
async function startProvider(faults: Faults) {
  const { publicKey, privateKey } = await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  );
  const jwk = { ...(await crypto.subtle.exportKey('jwk', publicKey)), kid: 'k1', use: 'sig', alg: 'RS256' };
  const codes = new Map<string, { redirectUri: string; challenge: string; nonce: string }>();
  let issuer = '';
  const sign = async (claims: Record<string, unknown>) => {
    const unsigned = `${b64(JSON.stringify({ alg: faults.alg ?? 'RS256', ...(faults.noKid ? {} : { kid: 'k1' }), typ: 'JWT' }))}.${b64(JSON.stringify(claims))}`;
    return `${unsigned}.${b64(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', privateKey, new TextEncoder().encode(unsigned)))}`;
  };
  const app = Request.application(async (req) => {
    switch (req.pathInfo) {
      case '/.well-known/openid-configuration':
        return Response.json({ issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`, ...faults.discovery });
      case '/jwks':
        return Response.json({ keys: faults.keys?.(jwk) ?? [jwk] });
      case '/authorize': {
        const q = req.query;
        if (q.get('client_id') !== CLIENT_ID || q.get('code_challenge_method') !== 'S256' || q.get('response_type') !== 'code') throw new HTTPBadRequest('bad request');
        const back = new URL(q.get('redirect_uri')!);
        back.searchParams.set('state', q.get('state')!);
        if (faults.deny) back.searchParams.set('error', 'access_denied');
        else {
          const code = randomBytes(16).toString('base64url');
          codes.set(code, { redirectUri: q.get('redirect_uri')!, challenge: q.get('code_challenge')!, nonce: q.get('nonce')! });
          back.searchParams.set('code', code);
        }
        return new HTTPFound(back.href);
      }
      case '/token': {
        if (faults.tokenStatus) return Response.json({ error: 'server_error' }, { status: faults.tokenStatus });
        if (faults.stallBody) {
          const stall = faults.stallBody;
          const body = async function* () {
            yield new TextEncoder().encode('{"id_token":');
            await new Promise((resolve) => setTimeout(resolve, stall));
            yield new TextEncoder().encode('"late"}');
          };
          return new Response(body(), { contentType: 'application/json' });
        }
        if ('tokenBody' in faults) return Response.json(faults.tokenBody);
        const basic = req.authorization;
        const [id, secret] = basic?.scheme === 'basic' ? [decodeURIComponent(basic.username!), decodeURIComponent(basic.password!)] : [];
        if (id !== CLIENT_ID || secret !== CLIENT_SECRET) throw new HTTPUnauthorized('invalid_client', { wwwAuthenticate: 'Basic realm="token"' });
        const form = await req.form();
        const entry = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        if (!entry || entry.redirectUri !== form.get('redirect_uri') || b64(createHash('sha256').update(verifier).digest()) !== entry.challenge) {
          return Response.json({ error: 'invalid_grant' }, { status: 400 });
        }
        const now = Math.floor(Date.now() / 1000);
        const idToken = await sign({ iss: issuer, aud: CLIENT_ID, sub: 'user-42', name: 'Ada', iat: now, exp: now + 300, nonce: entry.nonce, ...faults.claims });
        return Response.json({ access_token: 'at', token_type: 'Bearer', expires_in: 300, id_token: idToken });
      }
    }
    return new Response('not here', { status: 404 });
  });
  const server = await serve(app, { host: '127.0.0.1', port: 0 });
  issuer = server.url.replace(/\/$/, '');
  return { server, issuer, app };
}

/** A browser at https://app.example, through a proxy that ends TLS in front of `app`: a cookie jar, manual redirects. */
function browser(appUrl: string) {
  const jar = new Map<string, string>();
  return {
    jar,
    async go(path: string, site: 'none' | 'same-origin' | 'cross-site', init: { method?: string; body?: string } = {}) {
      const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
      const res = await fetch(new URL(path, appUrl), {
        method: init.method ?? 'GET',
        redirect: 'manual',
        body: init.body,
        headers: {
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'app.example',
          'sec-fetch-site': site,
          ...(init.body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
          ...(cookie ? { cookie } : {}),
        },
      });
      for (const line of res.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const eq = pair!.indexOf('=');
        if (/;\s*max-age=0/i.test(line)) jar.delete(pair!.slice(0, eq));
        else jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
      }
      return { res, text: await res.text() };
    },
  };
}

describe('examples/oidc.ts', () => {
  const faults: Faults = {};
  let provider: Awaited<ReturnType<typeof startProvider>>;
  let app: ServerHandle;
  const logged: string[] = [];

  beforeAll(async () => {
    provider = await startProvider(faults);
    const login = createOidcLogin({
      issuer: provider.issuer,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      sessionSecret: randomBytes(32).toString('base64url'),
      proxy: { xProto: 1, xHost: 1, trust: 'loopback' },
      timeout: 2000,
    });
    app = await serve(login, { host: '127.0.0.1', port: 0, log: { write: (line: string) => void logged.push(line) } });
  });
  afterAll(async () => {
    await app?.close();
    await provider?.server.close().catch(() => undefined);
  });

  /** Starts a login (`/login?next=…`) and answers the provider's redirect back: the callback path and query. */
  async function toProvider(b: ReturnType<typeof browser>, next?: string) {
    const { res } = await b.go(next === undefined ? '/login' : `/login?next=${encodeURIComponent(next)}`, 'same-origin');
    expect(res.status).toBe(303);
    const authorize = new URL(res.headers.get('location')!);
    const back = await fetch(authorize, { redirect: 'manual' });
    expect(back.status).toBe(302);
    const callback = new URL(back.headers.get('location')!);
    return { authorize, callback: `${callback.pathname}${callback.search}` };
  }

  it('signs in: PKCE S256, state and nonce, redirect_uri at the public https host, a new session, back to next', async () => {
    const b = browser(app.url);
    const { authorize, callback } = await toProvider(b, '/account?tab=1');
    const q = authorize.searchParams;
    expect(q.get('redirect_uri')).toBe('https://app.example/callback');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(q.get('state')).toMatch(/^[\w-]{43}$/);
    expect(q.get('nonce')).toMatch(/^[\w-]{43}$/);
    expect(q.get('scope')).toBe('openid profile email');
    // The provider's redirect back is a cross-site top-level GET: the Lax session cookie comes with it.
    const done = await b.go(callback, 'cross-site');
    expect(done.res.status).toBe(303);
    expect(done.res.headers.get('location')).toBe('https://app.example/account?tab=1');
    const cookie = done.res.headers.getSetCookie().join('\n');
    expect(cookie).toMatch(/^__Host-session=.*; HttpOnly; Secure; SameSite=Lax$/m);
    // The session after the login holds the user alone: the pending login (state, nonce, verifier) is gone.
    const payload = JSON.parse(Buffer.from(b.jar.get('__Host-session')!.split('.')[0]!, 'base64url').toString()) as { d: Record<string, unknown> };
    expect(payload.d).toEqual({ user: { sub: 'user-42', name: 'Ada' } });
    expect((await b.go('/', 'none')).text).toContain('Signed in as Ada');
    // Replayed: the pending login was used up.
    const replay = await b.go(callback, 'cross-site');
    expect(replay.res.status).toBe(400);
    expect(replay.text).toContain('No sign-in is in progress');
    expect((await b.go('/', 'none')).text).toContain('Signed in as Ada');
  });

  it('signs in from two tabs at once: each pending login is kept under its state, and the later callback still finds its own', async () => {
    const b = browser(app.url);
    const first = await toProvider(b, '/first');
    const second = await toProvider(b, '/second');
    // The first tab's answer: the second tab's login did not replace its pending login.
    const one = await b.go(first.callback, 'cross-site');
    expect([one.res.status, one.res.headers.get('location')]).toEqual([303, 'https://app.example/first']);
    // The second tab's answer, after the first tab's login started a new session: its pending login was carried over.
    const two = await b.go(second.callback, 'cross-site');
    expect([two.res.status, two.res.headers.get('location')]).toEqual([303, 'https://app.example/second']);
    const payload = JSON.parse(Buffer.from(b.jar.get('__Host-session')!.split('.')[0]!, 'base64url').toString()) as { d: Record<string, unknown> };
    expect(payload.d).toEqual({ user: { sub: 'user-42', name: 'Ada' } });
    // Each used once.
    expect((await b.go(first.callback, 'cross-site')).res.status).toBe(400);
  });

  it('keeps at most 5 pending logins, fewer when their next pages are long: the oldest go first, and the cookie never passes 4096 bytes', async () => {
    const b = browser(app.url);
    const tabs = [];
    for (let i = 0; i < 6; i++) tabs.push(await toProvider(b, `/tab${i}`));
    expect(Buffer.byteLength(b.jar.get('__Host-session')!)).toBeLessThan(4096);
    const oldest = await b.go(tabs[0]!.callback, 'cross-site');
    expect([oldest.res.status, oldest.text.trim().split('\n').pop()]).toEqual([400, 'The sign-in state does not match.']);
    for (const i of [5, 1]) expect((await b.go(tabs[i]!.callback, 'cross-site')).res.headers.get('location')).toBe(`https://app.example/tab${i}`);
    // Next pages of 512 bytes each: a few fit in the cookie, the newest always.
    const long = browser(app.url);
    const longTabs = [];
    for (let i = 0; i < 5; i++) longTabs.push(await toProvider(long, `/${String(i).repeat(511)}`));
    expect(Buffer.byteLength(long.jar.get('__Host-session')!)).toBeLessThan(4096);
    expect((await long.go(longTabs[0]!.callback, 'cross-site')).res.status).toBe(400);
    expect((await long.go(longTabs[4]!.callback, 'cross-site')).res.status).toBe(303);
  });

  it('follows the whole login in-process with the TestClient, the provider mounted at its host (docs/sessions.md)', async () => {
    const login: App = createOidcLogin({ issuer: provider.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, sessionSecret: randomBytes(32).toString('base64url') });
    const client = new TestClient(mount({ [`${provider.issuer}/`]: provider.app, '/': login }), { baseUrl: 'https://app.example' });
    const home = await client.get('/login?next=/', { followRedirects: 3 });
    expect(home.history.map((r) => new URL(r.url).host)).toEqual(['app.example', new URL(provider.issuer).host, 'app.example']);
    expect(home.url).toBe('https://app.example/');
    expect(home.textBody).toContain('Signed in as Ada');
    const out = await home.form().submit({ followRedirects: 1 });
    expect(out.textBody).toContain('Sign in');
  });

  it('logs out on a same-origin POST only', async () => {
    const b = browser(app.url);
    await b.go((await toProvider(b)).callback, 'cross-site');
    const forged = await b.go('/logout', 'cross-site', { method: 'POST', body: '' });
    expect(forged.res.status).toBe(403);
    expect((await b.go('/', 'none')).text).toContain('Signed in as Ada');
    expect((await b.go('/logout', 'none')).res.status).toBe(405);
    const out = await b.go('/logout', 'same-origin', { method: 'POST', body: '' });
    expect(out.res.status).toBe(303);
    expect(b.jar.has('__Host-session')).toBe(false);
    expect((await b.go('/', 'none')).text).toContain('Sign in');
  });

  it.each([
    ['//evil.example', '/'],
    ['/\\evil.example', '/'],
    ['https:evil.example', '/'],
    ['https://evil.example/', '/'],
    ['%2F%2Fevil.example', '/'],
    ['/\t/evil.example', '/'],
    ['javascript:alert(1)', '/'],
    ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
    ['/ok?x=1#top', '/ok?x=1#top'],
    // 400 characters, 1200 bytes of UTF-8: the session cookie could not hold it (was a 500 at /login)
    [`/${'€'.repeat(400)}`, '/'],
    [`/${'é'.repeat(200)}`, `/${'é'.repeat(200)}`],
  ])('never redirects off the site after the login: next=%s', async (next, path) => {
    expect(safeNext(next)).toBe(path);
    const b = browser(app.url);
    const done = await b.go((await toProvider(b, next)).callback, 'cross-site');
    expect(done.res.status).toBe(303);
    const location = new URL(done.res.headers.get('location')!);
    expect(location.origin).toBe('https://app.example');
  });

  it('answers a short 4xx for a missing or wrong state, no pending login, and the user saying no', async () => {
    const b = browser(app.url);
    const none = await b.go('/callback?code=x&state=y', 'cross-site');
    expect([none.res.status, none.text.trim().split('\n').pop()]).toEqual([400, 'No sign-in is in progress in this browser (expired, already used, or started elsewhere).']);
    const { callback } = await toProvider(b);
    const wrong = await b.go(callback.replace(/state=[^&]+/, 'state=forged'), 'cross-site');
    expect([wrong.res.status, wrong.text.trim().split('\n').pop()]).toEqual([400, 'The sign-in state does not match.']);
    // A forged answer cannot cancel a login in progress: the real one still signs in.
    expect((await b.go(callback, 'cross-site')).res.status).toBe(303);
    // Its pending login used, a second one is a replay: none is in progress any more.
    const replay = await b.go(callback, 'cross-site');
    expect([replay.res.status, replay.text.trim().split('\n').pop()]).toEqual([400, 'No sign-in is in progress in this browser (expired, already used, or started elsewhere).']);
    faults.deny = true;
    try {
      const denied = await b.go((await toProvider(b)).callback, 'cross-site');
      expect([denied.res.status, denied.text.trim().split('\n').pop()]).toEqual([403, 'Sign-in was cancelled.']);
    } finally {
      faults.deny = false;
    }
  });

  it('refuses an ID token that does not check out (iss, aud, azp, exp, nbf, nonce, alg, sub) and a code from another login', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const [fault, status] of [
      [{ claims: { iss: 'https://evil.example' } }, 502],
      [{ claims: { aud: 'another-client' } }, 502],
      [{ claims: { aud: [CLIENT_ID, 'another'], azp: 'another' } }, 502],
      [{ claims: { aud: CLIENT_ID, azp: 'another' } }, 502],
      [{ claims: { exp: now - 3600 } }, 502],
      [{ claims: { nbf: now + 3600 } }, 502],
      [{ claims: { nbf: 'later' } }, 502],
      [{ claims: { nonce: 'another-login' } }, 400],
      [{ alg: 'HS256' }, 502],
      // Over the 255 characters of OpenID Connect Core §2: the session cookie could not hold it (was a 500).
      [{ claims: { sub: 'x'.repeat(5000) } }, 502],
      [{ claims: { sub: 'x'.repeat(256) } }, 502],
    ] as const) {
      Object.assign(faults, fault);
      try {
        const b = browser(app.url);
        const res = await b.go((await toProvider(b)).callback, 'cross-site');
        expect(res.res.status, JSON.stringify(fault)).toBe(status);
        expect((await b.go('/', 'none')).text).not.toContain('Signed in');
      } finally {
        delete faults.claims;
        delete faults.alg;
      }
    }
    // A sub of 255 characters, the most OpenID Connect allows, signs in.
    faults.claims = { sub: 's'.repeat(255) };
    try {
      const b = browser(app.url);
      expect((await b.go((await toProvider(b)).callback, 'cross-site')).res.status).toBe(303);
      expect((await b.go('/', 'none')).text).toContain('Signed in as Ada');
    } finally {
      delete faults.claims;
    }
    // A code obtained in another browser's login (its verifier unknown here): invalid_grant, 400.
    const victim = browser(app.url);
    const attacker = browser(app.url);
    const stolen = new URL((await toProvider(attacker)).callback, 'https://app.example').searchParams.get('code')!;
    const own = new URL((await toProvider(victim)).callback, 'https://app.example');
    own.searchParams.set('code', stolen);
    const injected = await victim.go(`${own.pathname}${own.search}`, 'cross-site');
    expect([injected.res.status, injected.text.trim().split('\n').pop()]).toEqual([400, 'The sign-in code was refused (already used or expired); sign in again.']);
  });

  it('verifies with an RS256 signing key only, and drops keys the provider withdrew within 10 minutes', async () => {
    // An encryption key first in the set, the token naming no kid: the signing key is the one tried (was a 500 from importKey).
    const { publicKey } = await crypto.subtle.generateKey({ name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['encrypt', 'decrypt']);
    const encryption = await crypto.subtle.exportKey('jwk', publicKey);
    expect(encryption.alg).toBe('RSA-OAEP-256');
    const fresh = async () => {
      const login = createOidcLogin({ issuer: provider.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, sessionSecret: randomBytes(32).toString('base64url'), secure: false });
      return serve(login, { host: '127.0.0.1', port: 0, log: { write: () => undefined } });
    };
    const signIn = async (server: ServerHandle) => {
      const b = browser(server.url);
      return (await b.go((await toProvider(b)).callback, 'cross-site')).res.status;
    };
    Object.assign(faults, { noKid: true, keys: (jwk: Record<string, unknown>) => [null, encryption, jwk] });
    let server = await fresh();
    try {
      expect(await signIn(server)).toBe(303);
      // A signing key for another algorithm, named by the token: refused with a 502, not a 500.
      faults.keys = (jwk) => [{ ...jwk, alg: 'RS512' }];
      faults.noKid = false;
      await server.close();
      server = await fresh();
      expect(await signIn(server)).toBe(502);
      // The key withdrawn from the set: still used from the cache for now, no longer 10 minutes on.
      delete faults.keys;
      await server.close();
      server = await fresh();
      expect(await signIn(server)).toBe(303);
      faults.keys = () => [];
      expect(await signIn(server)).toBe(303);
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 11 * 60_000);
      expect(await signIn(server)).toBe(502);
    } finally {
      vi.useRealTimers();
      delete faults.keys;
      delete faults.noKid;
      await server.close();
    }
  });

  it('answers 502 for a discovery document whose endpoints are no URLs', async () => {
    const login = createOidcLogin({ issuer: provider.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, sessionSecret: randomBytes(32).toString('base64url'), secure: false });
    const server = await serve(login, { host: '127.0.0.1', port: 0, log: { write: () => undefined } });
    try {
      for (const discovery of [{ authorization_endpoint: 'login.example/authorize' }, { token_endpoint: 42 }, { jwks_uri: 'javascript:alert(1)' }]) {
        faults.discovery = discovery;
        const res = await fetch(new URL('/login', server.url), { redirect: 'manual' });
        expect(res.status, JSON.stringify(discovery)).toBe(502);
        expect(await res.text()).toContain("The sign-in provider's discovery document is unusable (200).");
      }
    } finally {
      delete faults.discovery;
      await server.close();
    }
  });

  it('answers 503 with Retry-After when the token endpoint stalls in its body past the timeout', async () => {
    // Its head came in time, its body did not: timing out (503), not an answer without JSON (502).
    faults.stallBody = 3000;
    try {
      const b = browser(app.url);
      const res = await b.go((await toProvider(b)).callback, 'cross-site');
      expect([res.res.status, res.res.headers.get('retry-after')]).toEqual([503, '30']);
      expect(res.text).toContain('The sign-in provider cannot be reached');
    } finally {
      delete faults.stallBody;
    }
    expect(logged.join('')).toMatch(/GET \/callback\?.* 503: HTTPServiceUnavailable[^]*TimeoutError/);
  });

  it('answers 502 when the token endpoint fails and 503 when the provider is down, each logged', async () => {
    faults.tokenStatus = 500;
    try {
      const b = browser(app.url);
      const res = await b.go((await toProvider(b)).callback, 'cross-site');
      expect(res.res.status).toBe(502);
    } finally {
      delete faults.tokenStatus;
    }
    expect(logged.join('')).toMatch(/GET \/callback\?.* 502: HTTPBadGateway/);
    // JSON, but no object: a 502 too, not a TypeError's 500.
    for (const tokenBody of [null, [], 'tokens']) {
      faults.tokenBody = tokenBody;
      try {
        const b = browser(app.url);
        expect((await b.go((await toProvider(b)).callback, 'cross-site')).res.status, JSON.stringify(tokenBody)).toBe(502);
      } finally {
        delete faults.tokenBody;
      }
    }
    const b = browser(app.url);
    const { callback } = await toProvider(b);
    await provider.server.close();
    const down = await b.go(callback, 'cross-site');
    expect(down.res.status).toBe(503);
    expect(down.res.headers.get('retry-after')).toBe('30');
    expect(logged.join('')).toMatch(/GET \/callback\?.* 503: HTTPServiceUnavailable: The sign-in provider cannot be reached/);
  });

  it('answers 503 on every page but / without its configuration: no default secret', async () => {
    const unconfigured = createOidcLogin({ issuer: undefined, clientId: 'x', clientSecret: 'y', sessionSecret: undefined });
    const server = await serve(unconfigured, { host: '127.0.0.1', port: 0 });
    try {
      expect((await fetch(new URL('/', server.url))).status).toBe(200);
      expect((await fetch(new URL('/login', server.url), { redirect: 'manual' })).status).toBe(503);
    } finally {
      await server.close();
    }
  });
});

describe('examples/oidc.ts under outer middleware, behind a TLS-ending proxy', () => {
  let provider: Awaited<ReturnType<typeof startProvider>>;
  beforeAll(async () => {
    provider = await startProvider({});
  });
  afterAll(async () => {
    await provider?.server.close().catch(() => undefined);
  });
  const login = (proxy?: { xProto: 1; xHost: 1; trust: 'loopback' }) =>
    createOidcLogin({
      issuer: provider.issuer,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      sessionSecret: randomBytes(32).toString('base64url'),
      proxy,
    });
  const behindProxy = { xProto: 1, xHost: 1, trust: 'loopback' } as const;
  /** `GET /` then `/login` through the proxy: the HSTS field and the `redirect_uri`. */
  async function through(app: App) {
    const server = await serve(app, { host: '127.0.0.1', port: 0 });
    try {
      const headers = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example' };
      const home = await fetch(server.url, { headers });
      const to = await fetch(new URL('/login', server.url), { headers, redirect: 'manual' });
      const redirectUri = new URL(to.headers.get('location')!).searchParams.get('redirect_uri');
      return { hsts: home.headers.get('strict-transport-security'), redirectUri };
    } finally {
      await server.close();
    }
  }

  it('its proxy option fixes what it sees only: an outer secureHeaders sees http', async () => {
    // What docs/sessions.md warns of: proxyFix inside the returned app.
    expect(await through(secureHeaders(login(behindProxy)))).toEqual({
      hsts: null,
      redirectUri: 'https://app.example/callback',
    });
  });

  it('with proxyFix outermost, as docs/sessions.md says, every layer sees https', async () => {
    expect(await through(proxyFix(secureHeaders(login()), behindProxy))).toEqual({
      hsts: 'max-age=31536000; includeSubDomains',
      redirectUri: 'https://app.example/callback',
    });
  });
});
