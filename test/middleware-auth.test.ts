import { describe, expect, expectTypeOf, it } from 'vitest';
import { type App, type Environ, type EnvironKey, HTTPForbidden, Request, Response, defineEnvironKey } from 'tsgi';
import { AuthTickets, accessLog, authUserKey, basicAuth, bearerAuth, insufficientScope, lint, safeCompare, staticUsers } from 'tsgi/middleware';
import { basicAuthorization, parseAuthorization } from 'tsgi/http';
import { parseRaw, rawExchange, rawGet, request, start } from './node-helpers.ts';

/** An app reporting who the auth middleware said the user is. */
function whoami(calls: Environ[] = []): App {
  return Request.application((req) => {
    calls.push(req.environ);
    return Response.json({
      user: req.environ.REMOTE_USER ?? null,
      type: req.environ.AUTH_TYPE ?? null,
      full: authUserKey.get(req) ?? null,
    });
  });
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

describe('basicAuth', () => {
  const verify = staticUsers({ admin: 's3cret', 'jürgen': 'pässword', colon: 'a:b:c' });

  it('challenges a request without credentials (401, RFC 7617 challenge) and does not call the app', async () => {
    const calls: Environ[] = [];
    const server = await start(lint(basicAuth(whoami(calls), { realm: 'Admin area', verify })));
    const res = await request(server.url);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="Admin area", charset="UTF-8"');
    expect(calls).toHaveLength(0);
    const json = await request(server.url, { headers: { accept: 'application/json' } });
    expect(JSON.parse(json.body.toString())).toMatchObject({ code: 401 });
  });

  it('lets valid credentials through with REMOTE_USER and AUTH_TYPE', async () => {
    const server = await start(lint(basicAuth(whoami(), { realm: 'Admin', verify })));
    for (const [user, password] of [['admin', 's3cret'], ['jürgen', 'pässword'], ['colon', 'a:b:c']] as const) {
      const res = await request(server.url, { headers: { authorization: basic(user, password) } });
      expect(res.status, user).toBe(200);
      expect(JSON.parse(res.body.toString())).toEqual({ user, type: 'Basic', full: null });
    }
  });

  it("an empty user-id that verify accepts (curl -u :token, RFC 7617) is REMOTE_USER '', req.remoteUser '' and accessLog's \"\" (Apache's %u), not a user-less '-' (socket)", async () => {
    const token = 'a-token-used-as-the-password';
    const lines: string[] = [];
    const seen = Request.application((req) => Response.json({ remoteUser: req.remoteUser, environ: req.environ.REMOTE_USER ?? null, type: req.environ.AUTH_TYPE ?? null }));
    const guarded = basicAuth(seen, { verify: (_user, password) => safeCompare(password, token) });
    for (const format of ['combined', 'json'] as const) {
      const server = await start(lint(accessLog(guarded, { format, log: { write: (line: string) => void lines.push(line) } })));
      const res = await request(server.url, { headers: { authorization: basic('', token) } });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body.toString())).toEqual({ remoteUser: '', environ: '', type: 'Basic' });
      await server.close();
    }
    expect(lines[0]).toMatch(/^127\.0\.0\.1 - "" \[/);
    expect(JSON.parse(lines[1]!)).toMatchObject({ remote_user: '' });
    // No credentials: no user, '-' and null, as before.
    lines.length = 0;
    const server = await start(accessLog(guarded, { format: 'combined', log: { write: (line: string) => void lines.push(line) } }));
    expect((await request(server.url)).status).toBe(401);
    await server.close();
    expect(lines[0]).toMatch(/^127\.0\.0\.1 - - \[/);
  });

  it('refuses wrong, unknown and malformed credentials with the same 401', async () => {
    const server = await start(basicAuth(whoami(), { verify }));
    const attempts = [
      basic('admin', 'wrong'),
      basic('admin', 's3cret '),
      basic('nobody', 's3cret'),
      basic('', ''),
      'Basic',
      'Basic !!!notbase64',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      `Basic ${Buffer.from('admin:s3cret\u0000').toString('base64')}`,
      'Bearer abc',
      `Digest username="admin"`,
      `${basic('admin', 's3cret')}, ${basic('admin', 's3cret')}`,
    ];
    for (const authorization of attempts) {
      const res = await request(server.url, { headers: { authorization } });
      expect(res.status, authorization).toBe(401);
      expect(res.headers['www-authenticate'], authorization).toBe('Basic realm="Restricted", charset="UTF-8"');
    }
  });

  it('hands verify the user-id as sent: a leading U+FEFF is part of it (RFC 3629 §6), not a BOM dropped to make another user (socket)', async () => {
    const seen: string[] = [];
    const server = await start(basicAuth(whoami(), { verify: (user, password) => (seen.push(user), verify(user, password)) }));
    const res = await request(server.url, { headers: { authorization: basic('\ufeffadmin', 's3cret') } });
    expect(seen).toEqual(['\ufeffadmin']);
    expect(res.status).toBe(401); // not admin
    // The builder and the parser agree: what basicAuthorization writes reads back the same.
    expect(parseAuthorization(basicAuthorization('\ufeffbob', '\ufeffpw'))).toMatchObject({ username: '\ufeffbob', password: '\ufeffpw' });
  });

  it('takes the user name verify answers, passes the request, and awaits it', async () => {
    const seen: string[] = [];
    const server = await start(
      basicAuth(whoami(), {
        realm: 'x',
        verify: async (user, password, req) => {
          seen.push(`${user}/${password}/${req.path}`);
          await new Promise((r) => setTimeout(r, 1));
          return password === 'ok' ? `user:${user.toUpperCase()}` : null;
        },
      }),
    );
    const res = await request(`${server.url}/some/path`, { headers: { authorization: basic('bob', 'ok') } });
    expect(JSON.parse(res.body.toString()).user).toBe('user:BOB');
    expect(seen).toEqual(['bob/ok//some/path']);
    expect((await request(server.url, { headers: { authorization: basic('bob', 'no') } })).status).toBe(401);
  });

  it('lets an error thrown by verify propagate (500), and checks the realm at once', async () => {
    const server = await start(basicAuth(whoami(), { verify: () => { throw new Error('db down'); } }));
    const res = await request(server.url, { headers: { authorization: basic('a', 'b') } });
    expect(res.status).toBe(500);
    expect(res.body.toString()).not.toContain('db down');
    expect(() => basicAuth(whoami(), { realm: 'bad\r\nrealm', verify })).toThrow(TypeError);
    expect(() => basicAuth(whoami(), {} as never)).toThrow(TypeError);
  });
});

describe('safeCompare and staticUsers', () => {
  it('compares by content, whatever the lengths', () => {
    expect(safeCompare('abc', 'abc')).toBe(true);
    expect(safeCompare('abc', 'abd')).toBe(false);
    expect(safeCompare('abc', 'abcd')).toBe(false);
    expect(safeCompare('', '')).toBe(true);
    expect(safeCompare('', 'a')).toBe(false);
    expect(safeCompare('é', new TextEncoder().encode('é'))).toBe(true);
    expect(safeCompare(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBe(false);
  });

  it('checks a fixed user table', () => {
    const verify = staticUsers({ admin: 'pw' });
    expect(verify('admin', 'pw')).toBe('admin');
    expect(verify('admin', 'PW')).toBe(false);
    expect(verify('root', 'pw')).toBe(false);
    expect(verify('__proto__', '')).toBe(false);
    expect(verify('constructor', '')).toBe(false);
  });

  it('refuses a table with an empty or missing password, which let anyone in with none or locked the user out (socket)', async () => {
    // `staticUsers({ admin: process.env.ADMIN_PASSWORD! })` with `ADMIN_PASSWORD=` in a .env
    // file let `admin:` (no password) in; unset, it refused every password without a word.
    // Hono's basicAuth({ username, password }) refuses both when built.
    expect(() => staticUsers({ admin: '' })).toThrow(/^staticUsers: the password of "admin" is empty$/);
    expect(() => staticUsers({ ann: 'pw', admin: undefined as unknown as string })).toThrow(/^staticUsers: the password of "admin" must be a string, got undefined$/);
    const server = await start(basicAuth(whoami(), { verify: staticUsers({ admin: 'pw' }) }));
    expect((await request(server.url, { headers: { authorization: basic('admin', '') } })).status).toBe(401);
    expect((await request(server.url, { headers: { authorization: basic('admin', 'pw') } })).status).toBe(200);
  });

  it("refuses a table with an empty user name, whose answer '' refused its every request (curl -u :token was a 401 for ever) (socket)", async () => {
    expect(() => staticUsers({ admin: 'pw', '': 'a-token' })).toThrow(/^staticUsers: a user name is empty: its answer, '', refuses \(write a verify of your own for a password with no user name, `curl -u :token`\)$/);
    // What to write instead: a verify answering `true` lets the empty user-id in, REMOTE_USER ''.
    const server = await start(basicAuth(whoami(), { verify: (user, password) => user === '' && safeCompare(password, 'a-token') }));
    const res = await request(server.url, { headers: { authorization: basic('', 'a-token') } });
    expect([res.status, JSON.parse(res.body.toString())]).toEqual([200, { user: '', type: 'Basic', full: null }]);
  });
});

describe('bearerAuth', () => {
  const users = new Map([['tok-alice', { id: 7, login: 'alice' }]]);
  const verify = (token: string) => users.get(token) ?? null;

  it('challenges without an error code when no credentials (or another scheme) are sent', async () => {
    const calls: Environ[] = [];
    const server = await start(lint(bearerAuth(whoami(calls), { realm: 'api', verify })));
    for (const headers of [{}, { authorization: basic('a', 'b') }, { authorization: 'Digest x=1' }, { authorization: '' }]) {
      const res = await request(server.url, { headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.headers['www-authenticate'], JSON.stringify(headers)).toBe('Bearer realm="api"');
    }
    expect(calls).toHaveLength(0);
  });

  it('refuses a token verify answers an empty name for, as basicAuth does (401 invalid_token)', async () => {
    const calls: Environ[] = [];
    // `db.names.get(token) ?? ''`: the empty string is no user.
    const server = await start(bearerAuth(whoami(calls), { realm: 'api', verify: (token) => (token === 'tok-alice' ? 'alice' : '') }));
    const res = await request(server.url, { headers: { authorization: 'Bearer tok-mallory' } });
    expect([res.status, res.headers['www-authenticate']]).toEqual([401, 'Bearer realm="api", error="invalid_token", error_description="The access token is invalid, expired or revoked."']);
    expect(calls).toHaveLength(0);
    expect(JSON.parse((await request(server.url, { headers: { authorization: 'Bearer tok-alice' } })).body.toString())).toMatchObject({ user: 'alice' });
    await server.close();
  });

  it('answers 400 invalid_request for a malformed Bearer value', async () => {
    const server = await start(bearerAuth(whoami(), { realm: 'api', verify }));
    for (const authorization of ['Bearer', 'Bearer ', 'Bearer tok-alice, Bearer tok-alice', 'Bearer tok-alice, Basic eA==', 'Basic x, Bearer y', 'Bearer a$b, Bearer c']) {
      const res = await request(server.url, { headers: { authorization } });
      expect(res.status, authorization).toBe(400);
      expect(res.headers['www-authenticate'], authorization).toMatch(/^Bearer realm="api", error="invalid_request", error_description="[^"]+"$/);
    }
  });

  it('answers 401 invalid_token for one Bearer credential whose token is malformed (RFC 6750 §3.1)', async () => {
    const tokens: string[] = [];
    const server = await start(bearerAuth(whoami(), { realm: 'api', verify: (token) => (tokens.push(token), verify(token)) }));
    for (const authorization of ['Bearer a$b', 'Bearer "quoted"', 'Bearer a b', 'Bearer a=b, c=d', 'Bearer tok-alice,', 'Bearer tok-alice ~']) {
      const res = await request(server.url, { headers: { authorization } });
      expect(res.status, authorization).toBe(401);
      expect(res.headers['www-authenticate'], authorization).toBe('Bearer realm="api", error="invalid_token", error_description="The access token is malformed."');
    }
    expect(tokens).toEqual([]); // verify never sees a token that cannot be one
  });

  it('checks a ?access_token= as it checks the header: not a b64token is the same 401 invalid_token (RFC 6750 §2.1, §3.1)', async () => {
    const tokens: string[] = [];
    const server = await start(lint(bearerAuth(whoami(), { realm: 'api', allowQuery: true, verify: (token) => (tokens.push(token), verify(token)) })));
    // Decoded: `a$b`, `"quoted"`, `a b` (a `+` is a space in a query), `a b`, a NUL, `été`, `a=b`, a line break.
    for (const query of ['a%24b', '%22quoted%22', 'a+b', 'a%20b', 'a%00b', '%C3%A9t%C3%A9', 'a%3Db', 'tok-alice%0D%0A']) {
      const res = await request(`${server.url}/?access_token=${query}`);
      expect(res.status, query).toBe(401);
      expect(res.headers['www-authenticate'], query).toBe('Bearer realm="api", error="invalid_token", error_description="The access token is malformed."');
    }
    expect(tokens).toEqual([]); // verify sees from the query only what the header could carry
    const padded = await request(`${server.url}/?access_token=ab%2Bc%2F-._~%3D%3D`);
    expect([padded.status, tokens]).toEqual([401, ['ab+c/-._~==']]);
    expect((await request(`${server.url}/?access_token=tok-alice`)).status).toBe(200);
  });

  it('tells a malformed token from two credentials in time linear in the header (socket)', { timeout: 10_000 }, async () => {
    // An unclosed quoted-string of escaped quotes: the check for a second credential retried
    // its quoted-string expression from each quote, quadratic (0.4 s of blocked event loop for
    // Node's default 16 KB head, half a minute for this one).
    const server = await start(bearerAuth(whoami(), { verify }), { server: { maxHeaderSize: 1 << 20 } });
    const hostile = await request(server.url, { headers: { authorization: `Bearer "${'\\"'.repeat(100_000)}` } });
    expect(hostile.status).toBe(401);
    expect(hostile.headers['www-authenticate']).toContain('error="invalid_token"');
    // A comma inside a closed quoted-string is no second credential; one after it, or after an unclosed one, is.
    for (const [authorization, status] of [['Bearer a="x, Basic y"', 401], ['Bearer a="x", Basic y', 400], ['Bearer "a\\"b, Basic y', 400]] as const) {
      expect((await request(server.url, { headers: { authorization } })).status, authorization).toBe(status);
    }
  });

  it('never sees two Authorization lines: the server answers them 400 itself (raw socket)', async () => {
    const server = await start(bearerAuth(whoami(), { verify }));
    const result = await rawExchange(server.port, rawGet('/', 'Authorization: Bearer tok-alice\r\nAuthorization: Bearer other\r\n'));
    const res = parseRaw(result.raw);
    expect([res.status, res.rest]).toEqual([400, 'Bad Request: several Authorization headers\n']); // RFC 9110 §5.3, as nginx
    expect(res.header('www-authenticate')).toBeUndefined();
  });

  it('answers 401 invalid_token for a token verify refuses', async () => {
    const server = await start(bearerAuth(whoami(), { realm: 'api', scope: 'read write', verify }));
    const res = await request(server.url, { headers: { authorization: 'Bearer tok-mallory' } });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", scope="read write", error="invalid_token", error_description="The access token is invalid, expired or revoked."',
    );
  });

  it('lets a valid token through with the user in the environ', async () => {
    const server = await start(lint(bearerAuth(whoami(), { verify })));
    const res = await request(server.url, { headers: { authorization: 'Bearer tok-alice' } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ user: '7', type: 'Bearer', full: { id: 7, login: 'alice' } });
    const named = await start(bearerAuth(whoami(), { verify, userName: (u) => u.login }));
    const again = await request(named.url, { headers: { authorization: 'bearer tok-alice' } });
    expect(JSON.parse(again.body.toString()).user).toBe('alice');
    const strings = await start(bearerAuth(whoami(), { verify: async (t) => (t === 'x' ? 'service-a' : null) }));
    expect(JSON.parse((await request(strings.url, { headers: { authorization: 'Bearer x' } })).body.toString()).user).toBe('service-a');
  });

  it('accepts access_token in the query only when allowed, and only one way at a time', async () => {
    const strict = await start(bearerAuth(whoami(), { verify }));
    expect((await request(`${strict.url}/?access_token=tok-alice`)).status).toBe(401);
    const lax = await start(bearerAuth(whoami(), { verify, allowQuery: true }));
    expect((await request(`${lax.url}/?access_token=tok-alice`)).status).toBe(200);
    expect((await request(`${lax.url}/?access_token=nope`)).status).toBe(401);
    const both = await request(`${lax.url}/?access_token=tok-alice`, { headers: { authorization: 'Bearer tok-alice' } });
    expect(both.status).toBe(400);
    expect((await request(`${lax.url}/?access_token=tok-alice&access_token=tok-alice`)).status).toBe(400);
    expect((await request(`${lax.url}/?access_token=`)).status).toBe(400);
  });

  it('refuses at once an allowQuery that is not a boolean: "false" from an environment variable let query tokens in', async () => {
    for (const allowQuery of ['false', 'true', '', 0, 1, null]) {
      expect(() => bearerAuth(whoami(), { verify, allowQuery: allowQuery as unknown as boolean }), JSON.stringify(allowQuery)).toThrow(
        `bearerAuth: allowQuery must be true or false, got ${JSON.stringify(allowQuery)}`,
      );
    }
    const off = await start(bearerAuth(whoami(), { verify, allowQuery: false }));
    expect((await request(`${off.url}/?access_token=tok-alice`)).status).toBe(401);
    const unset = await start(bearerAuth(whoami(), { verify, allowQuery: undefined }));
    expect((await request(`${unset.url}/?access_token=tok-alice`)).status).toBe(401);
  });

  it("refuses at once a userName that is not a function ('login', a field's name): every valid token was a 500 (socket)", async () => {
    for (const userName of ['login', null, { login: true }]) {
      expect(() => bearerAuth(whoami(), { verify, userName: userName as unknown as (user: { login: string }) => string }), JSON.stringify(userName)).toThrow(
        /^bearerAuth: userName must be a function \(user\) => string, not (a string|null|an Object object)$/,
      );
    }
    const named = await start(bearerAuth(whoami(), { verify, userName: undefined }));
    expect(JSON.parse((await request(named.url, { headers: { authorization: 'Bearer tok-alice' } })).body.toString()).user).toBe('7');
  });

  it('with allowQuery, finds access_token however its name is encoded, as req.query reads it', async () => {
    const lax = await start(bearerAuth(whoami(), { verify, allowQuery: true }));
    // access%5Ftoken is access_token to req.query: the same parameter, the same rules.
    const encoded = await request(`${lax.url}/?access%5Ftoken=tok-alice`);
    expect(encoded.status).toBe(200);
    expect(encoded.headers['cache-control']).toBe('private');
    const both = await request(`${lax.url}/?access%5Ftoken=other`, { headers: { authorization: 'Bearer tok-alice' } });
    expect([both.status, both.headers['www-authenticate']]).toEqual([
      400,
      'Bearer realm="Restricted", error="invalid_request", error_description="The access token was sent in more than one way."',
    ]);
    expect((await request(`${lax.url}/?access_token=tok-alice&access%5Ftoken=tok-alice`)).status).toBe(400);
    expect((await request(`${lax.url}/?access%5Ftoken=nope`)).status).toBe(401);
  });

  it('with allowQuery, takes a query token beside credentials of another scheme (a staging site behind basicAuth)', async () => {
    // The browser sends the site's Basic login with every request, an EventSource's URL
    // included: the Authorization header holds no bearer token, the query does.
    const staging = basicAuth(bearerAuth(whoami(), { verify, allowQuery: true }), { verify: staticUsers({ staging: 'pw' }) });
    const server = await start(lint(staging));
    const res = await request(`${server.url}/events?access_token=tok-alice`, { headers: { authorization: basic('staging', 'pw') } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ user: '7', type: 'Bearer', full: { id: 7, login: 'alice' } });
    const lax = await start(bearerAuth(whoami(), { verify, allowQuery: true }));
    for (const authorization of ['Digest username="a"', 'Basic !!!']) {
      expect((await request(`${lax.url}/?access_token=tok-alice`, { headers: { authorization } })).status, authorization).toBe(200);
      const none = await request(lax.url, { headers: { authorization } });
      expect([none.status, none.headers['www-authenticate']], authorization).toEqual([401, 'Bearer realm="Restricted"']);
    }
  });

  it('keeps the answer to a token sent in the query out of shared caches (RFC 6750 §2.3)', async () => {
    // The URL holds the token: a CDN would key the user's data on it and serve it on, to
    // whoever finds the URL in a log or a Referer, after the token is revoked too.
    const cached = (fields: Record<string, string>): App => (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain'], ...Object.entries(fields)]);
      return [new TextEncoder().encode(`hello ${String(environ.REMOTE_USER)}`)];
    };
    const lax = await start(bearerAuth(cached({ 'Cache-Control': 'public, max-age=60, s-maxage=600', 'CDN-Cache-Control': 'max-age=600' }), { verify, allowQuery: true }));
    const viaQuery = parseRaw((await rawExchange(lax.port, rawGet('/?access_token=tok-alice'))).raw);
    expect(viaQuery.status).toBe(200);
    expect(viaQuery.header('cache-control')).toBe('max-age=60, private');
    expect(viaQuery.header('cdn-cache-control')).toBeUndefined();
    const bare = await start(bearerAuth(cached({}), { verify, allowQuery: true }));
    expect(parseRaw((await rawExchange(bare.port, rawGet('/?access_token=tok-alice'))).raw).header('cache-control')).toBe('private');
    const stored = await start(bearerAuth(cached({ 'Cache-Control': 'no-store' }), { verify, allowQuery: true }));
    expect(parseRaw((await rawExchange(stored.port, rawGet('/?access_token=tok-alice'))).raw).header('cache-control')).toBe('no-store');
    // A token in Authorization: shared caches keep such answers only when told (RFC 9111 §3.5), as the app told.
    const viaHeader = parseRaw((await rawExchange(lax.port, rawGet('/', 'Authorization: Bearer tok-alice\r\n'))).raw);
    expect(viaHeader.header('cache-control')).toBe('public, max-age=60, s-maxage=600');
  });

  it('stores the user under a userKey of the app, typed as verify answers it (no cast)', async () => {
    interface ApiUser { id: number; login: string }
    const apiUserKey = defineEnvironKey<ApiUser>('myapp.api_user');
    const seen: Array<ApiUser | undefined> = [];
    const app = Request.application((req) => {
      const user = apiUserKey.get(req);
      expectTypeOf(user).toEqualTypeOf<ApiUser | undefined>();
      seen.push(user);
      return new Response(user?.login ?? 'nobody');
    });
    const server = await start(bearerAuth(app, { verify, userKey: apiUserKey }));
    const res = await request(server.url, { headers: { authorization: 'Bearer tok-alice' } });
    expect([res.status, res.body.toString()]).toEqual([200, 'alice']);
    expect(seen).toEqual([{ id: 7, login: 'alice' }]);
    expect(() => bearerAuth(app, { verify, userKey: 'myapp.user' as never })).toThrow(/^bearerAuth: userKey must be an environ key/);
    // @ts-expect-error: verify answers { id, login }, which the key's type must match
    bearerAuth(app, { verify, userKey: defineEnvironKey<{ name: string }>('myapp.other') });
    // @ts-expect-error: a user without `id` stored under a key whose readers count on one
    bearerAuth(app, { verify: (token: string) => (token === 'tok-alice' ? { login: 'alice' } : null), userKey: apiUserKey });
    // A verify answering the key's type, or a subtype of it, is taken.
    bearerAuth(app, { verify: async (token: string) => (token === 'tok-alice' ? { id: 7, login: 'alice', admin: true } : false), userKey: apiUserKey });
  });
});

describe('nested auth layers', () => {
  const tickets = new AuthTickets({ secret: 'k'.repeat(32) });
  const cookie = `auth_tkt=${tickets.sign('alice').value}`;
  const verify = (token: string) => (token === 'svc' ? { scopes: ['read'] } : null);

  it('a bearer user without a name does not inherit the REMOTE_USER of a ticket further out', async () => {
    const server = await start(lint(tickets.middleware(bearerAuth(whoami(), { verify }))));
    const res = await request(server.url, { headers: { cookie, authorization: 'Bearer svc' } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ user: null, type: 'Bearer', full: { scopes: ['read'] } });
  });

  it('a ticket login below bearerAuth does not keep the bearer user at tsgi.auth_user', async () => {
    const named = (token: string) => (token === 'svc' ? { name: 'service' } : null);
    const server = await start(lint(bearerAuth(tickets.middleware(whoami()), { verify: named })));
    const res = await request(server.url, { headers: { cookie, authorization: 'Bearer svc' } });
    expect(JSON.parse(res.body.toString())).toEqual({ user: 'alice', type: 'cookie', full: null });
  });
});

describe('insufficientScope (RFC 6750 §3.1)', () => {
  it('is a 403 HTTPForbidden with an insufficient_scope challenge', () => {
    const refusal = insufficientScope('read write', { realm: 'api', description: 'Writing needs the write scope.' });
    expect(refusal).toBeInstanceOf(HTTPForbidden);
    expect(refusal.code).toBe(403);
    expect(refusal.headers.get('www-authenticate')).toBe(
      'Bearer realm="api", error="insufficient_scope", scope="read write", error_description="Writing needs the write scope."',
    );
    expect(refusal.detail).toBe('Writing needs the write scope.');
    const plain = insufficientScope(['read', 'admin:users']);
    expect(plain.headers.get('www-authenticate')).toBe('Bearer realm="Restricted", error="insufficient_scope", scope="read admin:users"');
    expect(plain.detail).toContain('read admin:users');
    // every scope-token character, the edges of %x21 / %x23-5B / %x5D-7E included
    expect(insufficientScope('!#[]~ a').headers.get('www-authenticate')).toContain('scope="!#[]~ a"');
  });

  it('refuses an option it does not know, when called: a misspelled description was left out of the challenge', () => {
    expect(() => insufficientScope('write', { descripton: 'Writing needs the write scope.' } as never)).toThrow(
      /^insufficientScope: unknown option "descripton": did you mean "description"\?/,
    );
    expect(() => insufficientScope('write', { relm: 'api' } as never)).toThrow(/^insufficientScope: unknown option "relm": did you mean "realm"\?/);
    expect(() => insufficientScope('write', 'api' as never)).toThrow(TypeError);
    expect(insufficientScope('write', { realm: undefined, description: undefined }).headers.get('www-authenticate')).toBe(
      'Bearer realm="Restricted", error="insufficient_scope", scope="write"',
    );
  });

  it('refuses scopes and descriptions RFC 6750 does not allow, when called', () => {
    const badScopes: Array<string | string[]> = ['', ' ', 'a  b', ' a', 'a ', 'a"b', 'a\\b', 'a\tb', 'café', 'a\u007f', [], ['a b'], ['a', ''], ['"']];
    for (const scope of badScopes) expect(() => insufficientScope(scope), JSON.stringify(scope)).toThrow(TypeError);
    for (const description of ['say "no"', 'back\\slash', 'line\nbreak', 'naïve']) {
      expect(() => insufficientScope('read', { description }), description).toThrow(TypeError);
    }
    expect(() => insufficientScope('read', { realm: 'bad\r\nrealm' })).toThrow(TypeError);
    expect(() => bearerAuth(whoami(), { scope: 'a\\b', verify: () => null })).toThrow(TypeError);
    expect(() => bearerAuth(whoami(), { scope: [], verify: () => null })).toThrow(TypeError);
  });

  it('lets the app below bearerAuth refuse a token without the scope, over a socket', async () => {
    const tokens = new Map([
      ['tok-reader', { login: 'rita', scopes: ['read'] }],
      ['tok-writer', { login: 'walt', scopes: ['read', 'write'] }],
    ]);
    const apiUser = authUserKey as EnvironKey<{ login: string; scopes: string[] }>;
    const app = Request.application((req) => {
      expect(req.environ['tsgi.auth_user']).toBe(apiUser.get(req)); // the key's name, documented in docs/spec.md
      const user = apiUser.get(req)!;
      if (req.method === 'POST' && !user.scopes.includes('write')) throw insufficientScope('write', { realm: 'api' });
      return Response.json({ hello: user.login });
    });
    const server = await start(lint(bearerAuth(app, { realm: 'api', scope: ['read', 'write'], verify: (t) => tokens.get(t) ?? null })));
    const refused = await request(server.url, { method: 'POST', headers: { authorization: 'Bearer tok-reader', accept: 'application/json' } });
    expect(refused.status).toBe(403);
    expect(refused.headers['www-authenticate']).toBe('Bearer realm="api", error="insufficient_scope", scope="write"');
    expect(JSON.parse(refused.body.toString())).toMatchObject({ code: 403 });
    const allowed = await request(server.url, { method: 'POST', headers: { authorization: 'Bearer tok-writer' } });
    expect([allowed.status, JSON.parse(allowed.body.toString())]).toEqual([200, { hello: 'walt' }]);
    expect((await request(server.url, { headers: { authorization: 'Bearer tok-reader' } })).status).toBe(200);
    const anonymous = await request(server.url, { method: 'POST' });
    expect([anonymous.status, anonymous.headers['www-authenticate']]).toEqual([401, 'Bearer realm="api", scope="read write"']);
  });
});
