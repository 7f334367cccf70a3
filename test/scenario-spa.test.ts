/**
 * Scenario: the JSON API behind a single-page app on another origin, built from
 * docs/middleware-cors.md, middleware-csrf.md, middleware-secure-headers.md and sessions.md by
 * someone who knows Hono's `cors`/`csrf`/`secureHeaders`/signed cookies and Express's `cors`,
 * `helmet` and `express-session`. The page is `https://app.example`, the API
 * `https://api.example` (two sites: the session cookie is `SameSite=None; Secure`); both run on
 * 127.0.0.1 here and the requests carry the `Host`, `Origin` and `Sec-Fetch-*` fields a browser
 * (or an attacker's page) sends: preflights allowed and refused, the `null` origin, a preflight
 * for a path or method the API does not have, credentialed calls with and without the cookie, a
 * tampered and an expired cookie, cross-site form posts with no `Origin`, errors (401, 404,
 * 405, 500) readable by the page, `Vary: Origin` on every answer, HEAD, logout, and the
 * origin as a list of two and as a function (with the `exempt` that pairs with it). Chromium
 * runs the same flow in test/browser/spa-cross-port.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { cors, crossOriginProtection } from 'tsgi/middleware';
import { type ClientResponse, request, start } from './node-helpers.ts';
import { spaApi } from './spa-api.ts';

const SPA = 'https://app.example';
const EVIL = 'https://evil.example';
const LOGIN = JSON.stringify({ user: 'bob', password: 'hunter2' });

/** A client that sends what a browser on `origin` would (`fetch(…, { credentials: 'include' })`). */
function client(url: string) {
  return (method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<ClientResponse> =>
    request(`${url}${path}`, { method, headers: { host: 'api.example', ...headers }, ...(body === undefined ? {} : { body }) });
}
const fromPage = (origin: string, site = 'cross-site') => ({ origin, 'sec-fetch-site': site, 'sec-fetch-mode': 'cors', accept: 'application/json' });
const cookieOf = (res: ClientResponse): string => res.headers['set-cookie']![0]!.split(';')[0]!;
const cors4 = (res: ClientResponse) => [res.headers['access-control-allow-origin'], res.headers['access-control-allow-credentials'], res.headers['access-control-expose-headers'], res.headers.vary];

describe('scenario: the API of a single-page app on another origin', () => {
  it('answers preflights: the SPA’s granted, any other origin’s and null’s refused, none reaching the app', async () => {
    const seen: string[] = [];
    const server = await start(spaApi([SPA], { now: Date.now() }, seen));
    const send = client(server.url);
    const ask = { 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type,x-requested-with' };
    const ok = await send('OPTIONS', '/notes/1', { ...fromPage(SPA), ...ask });
    expect([ok.status, ok.headers['content-length'], ok.body.length]).toEqual([204, undefined, 0]);
    expect(ok.headers).toMatchObject({
      'access-control-allow-origin': SPA,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, HEAD, PUT, POST, DELETE, PATCH',
      'access-control-allow-headers': 'content-type, x-requested-with',
      'access-control-max-age': '600',
      vary: 'Origin, Access-Control-Request-Headers',
      'x-content-type-options': 'nosniff',
    });
    // Expose-Headers belongs to the actual answers, not to the preflight.
    expect(ok.headers['access-control-expose-headers']).toBeUndefined();
    for (const origin of [EVIL, 'null', 'https://app.example.evil', 'http://app.example']) {
      const refused = await send('OPTIONS', '/notes/1', { ...fromPage(origin), ...ask });
      expect([origin, refused.status, refused.headers.vary, Object.keys(refused.headers).filter((k) => k.startsWith('access-control-'))]).toEqual([origin, 204, 'Origin', []]);
    }
    // A path or a method the API does not have: the preflight is granted (as Hono's and
    // Express's), the real request then gets the router's answer, readable by the page.
    const nowhere = await send('OPTIONS', '/nope', { ...fromPage(SPA), 'access-control-request-method': 'PUT' });
    expect([nowhere.status, nowhere.headers['access-control-allow-origin']]).toEqual([204, SPA]);
    const wrong = await send('OPTIONS', '/me', { ...fromPage(SPA), 'access-control-request-method': 'DELETE' });
    expect([wrong.status, wrong.headers['access-control-allow-methods']]).toEqual([204, 'GET, HEAD, PUT, POST, DELETE, PATCH']);
    // An OPTIONS that is no preflight goes to the router: its Allow, with the CORS fields.
    const plain = await send('OPTIONS', '/me', { origin: SPA });
    expect([plain.status, plain.headers.allow, plain.headers['access-control-allow-origin']]).toEqual([204, 'GET, HEAD, OPTIONS', SPA]);
    expect(seen).toEqual([]);
  });

  it('logs in with a signed __Host- cookie (HttpOnly, Secure, SameSite=None), reads and writes with it, and logs out', async () => {
    const clock = { now: Date.parse('2026-12-07T09:00:00Z') };
    const seen: string[] = [];
    const server = await start(spaApi([SPA], clock, seen));
    const send = client(server.url);
    const json = { ...fromPage(SPA), 'content-type': 'application/json' };

    const anonymous = await send('GET', '/me', fromPage(SPA));
    expect([anonymous.status, anonymous.headers['www-authenticate'], JSON.parse(anonymous.body.toString())]).toEqual([401, 'Cookie realm="api"', { code: 401, message: 'Log in first.' }]);
    expect(cors4(anonymous)).toEqual([SPA, 'true', 'ETag, X-Request-Cost', 'Accept, Cookie, Origin']);

    const wrong = await send('POST', '/login', json, JSON.stringify({ user: 'bob', password: 'nope' }));
    expect([wrong.status, wrong.headers['set-cookie'], wrong.headers['access-control-allow-origin']]).toEqual([403, undefined, SPA]);
    const bad = await send('POST', '/login', json, '{"user":');
    expect([bad.status, bad.headers['access-control-allow-origin']]).toEqual([400, SPA]);

    const login = await send('POST', '/login', json, LOGIN);
    expect(login.status).toBe(200);
    const line = login.headers['set-cookie']!;
    expect(line).toHaveLength(1);
    expect(line[0]).toMatch(/^__Host-session=[\w-]+\.[\w-]+; Max-Age=3600; Path=\/; Expires=[^;]+; HttpOnly; Secure; SameSite=None$/);
    expect(cors4(login)).toEqual([SPA, 'true', 'ETag, X-Request-Cost', 'Cookie, Origin']);
    const cookie = cookieOf(login);

    const me = await send('GET', '/me', { ...fromPage(SPA), cookie });
    expect([me.status, me.body.toString(), me.headers['x-request-cost'], me.headers['cache-control']]).toEqual([200, '{"user":"bob"}', '1', 'private']);
    const head = await send('HEAD', '/me', { ...fromPage(SPA), cookie });
    expect([head.status, head.body.length, head.headers['content-length'], head.headers['access-control-allow-origin']]).toEqual([200, 0, '14', SPA]);

    const put = await send('PUT', '/notes/1', { ...json, cookie }, JSON.stringify({ text: 'hi' }));
    expect([put.status, put.headers.etag, put.headers['access-control-expose-headers']]).toEqual([200, '"n1"', 'ETag, X-Request-Cost']);
    const invalid = await send('PUT', '/notes/1', { ...json, cookie }, '[1]');
    expect([invalid.status, invalid.headers['access-control-allow-origin']]).toEqual([422, SPA]);
    const del = await send('DELETE', '/notes/1', { ...fromPage(SPA), cookie });
    expect([del.status, del.headers['access-control-allow-origin']]).toEqual([204, SPA]);

    // A tampered cookie and one past maxAge read as logged out, not as an error.
    const tampered = cookie.slice(0, -1) + (cookie.endsWith('A') ? 'B' : 'A');
    expect((await send('GET', '/me', { ...fromPage(SPA), cookie: tampered })).status).toBe(401);
    clock.now += 3601_000;
    expect((await send('GET', '/me', { ...fromPage(SPA), cookie })).status).toBe(401);
    clock.now -= 3601_000;

    const logout = await send('POST', '/logout', { ...fromPage(SPA), cookie });
    expect([logout.status, logout.headers['access-control-allow-origin']]).toEqual([204, SPA]);
    expect(logout.headers['set-cookie']).toEqual(['__Host-session=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=None']);
    expect(seen).toEqual(['PUT 1', 'PUT 1', 'DELETE 1']);
  });

  it('refuses the writes of other pages (cross-site forms without Origin, other origins, a sibling), readable by none of them', async () => {
    const seen: string[] = [];
    const server = await start(spaApi([SPA], { now: Date.now() }, seen));
    const send = client(server.url);
    const cookie = cookieOf(await send('POST', '/login', { ...fromPage(SPA), 'content-type': 'application/json' }, LOGIN));
    const forged: Array<[string, string, Record<string, string>, string?]> = [
      ['PUT', '/notes/1', { 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' }, '{"text":"x"}'],
      ['POST', '/notes/1', { 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' }, 'text=x'],
      ['DELETE', '/notes/1', fromPage(EVIL)],
      ['POST', '/logout', { ...fromPage(EVIL), 'content-type': 'text/plain' }, 'x'],
      ['POST', '/login', { ...fromPage(EVIL), 'content-type': 'text/plain' }, LOGIN],
      ['POST', '/logout', { ...fromPage('https://static.api.example', 'same-site'), 'content-type': 'text/plain' }, 'x'],
      ['DELETE', '/notes/1', { origin: 'null', cookie }],
      // An older browser: no Sec-Fetch-Site, judged by Origin against Host.
      ['DELETE', '/notes/1', { origin: EVIL }],
    ];
    for (const [method, path, headers, body] of forged) {
      const res = await send(method, path, { cookie, ...headers }, body);
      expect([method, path, res.status, res.headers['access-control-allow-origin'], res.headers['set-cookie'], res.headers.vary]).toEqual([method, path, 403, undefined, undefined, 'Accept, Origin']);
      expect(JSON.parse(res.body.toString()).message).toMatch(/^Cross-origin request refused: /);
    }
    // Reads are not refused, but only the SPA may read them: no CORS fields for others.
    const read = await send('GET', '/me', { ...fromPage(EVIL), cookie });
    expect([read.status, read.headers['access-control-allow-origin'], read.headers['access-control-allow-credentials'], read.headers.vary]).toEqual([200, undefined, undefined, 'Cookie, Origin']);
    const curl = await send('GET', '/me', { cookie });
    expect([curl.status, curl.headers['access-control-allow-origin'], curl.headers.vary]).toEqual([200, undefined, 'Cookie, Origin']);
    expect(seen).toEqual([]);
  });

  it('keeps the CORS fields on errors (401, 404, 405, 500) and Vary: Origin on every answer', async () => {
    const server = await start(spaApi([SPA], { now: Date.now() }, []));
    const send = client(server.url);
    const answers = [
      await send('GET', '/me', fromPage(SPA)),
      await send('GET', '/nope', fromPage(SPA)),
      await send('PATCH', '/notes/1', { ...fromPage(SPA), 'content-type': 'application/json' }, '{}'),
      await send('GET', '/boom', fromPage(SPA)),
    ];
    expect(answers.map((res) => [res.status, res.headers['access-control-allow-origin'], res.headers['access-control-allow-credentials'], res.headers['content-type']])).toEqual([
      [401, SPA, 'true', 'application/json'],
      [404, SPA, 'true', 'application/json'],
      [405, SPA, 'true', 'application/json'],
      [500, SPA, 'true', 'application/json'],
    ]);
    expect(answers[2]!.headers.allow).toBe('DELETE, GET, HEAD, OPTIONS, PUT');
    for (const headers of [fromPage(SPA), fromPage(EVIL), {}] as Array<Record<string, string>>) {
      for (const path of ['/me', '/nope', '/boom']) {
        const res = await send('GET', path, headers);
        expect([path, headers.origin, res.headers.vary?.split(', ').includes('Origin')]).toEqual([path, headers.origin, true]);
      }
    }
  });

  it('takes a list of two origins and a function (with the same check as exempt); a regular expression throws naming the function, as does Set-Cookie in exposeHeaders', async () => {
    const list = await start(spaApi([SPA, 'http://localhost:5173'], { now: Date.now() }, []));
    for (const [origin, status, allowed] of [[SPA, 200, SPA], ['http://localhost:5173', 200, 'http://localhost:5173'], ['http://localhost:5174', 403, undefined]] as const) {
      const res = await client(list.url)('POST', '/login', { ...fromPage(origin), 'content-type': 'application/json' }, LOGIN);
      expect([origin, res.status, res.headers['access-control-allow-origin']]).toEqual([origin, status, allowed]);
    }
    const tenant = (origin: string) => /^https:\/\/[a-z0-9-]+\.app\.example$/.test(origin);
    const fn = await start(spaApi(tenant, { now: Date.now() }, []));
    for (const [origin, status, allowed] of [['https://t1.app.example', 200, 'https://t1.app.example'], ['https://app.example.evil', 403, undefined], ['null', 403, undefined]] as const) {
      const res = await client(fn.url)('POST', '/login', { ...fromPage(origin), 'content-type': 'application/json' }, LOGIN);
      expect([origin, res.status, res.headers['access-control-allow-origin']]).toEqual([origin, status, allowed]);
    }
    const regex = /^https:\/\/[a-z0-9-]+\.app\.example$/;
    expect(() => cors(() => [], { origin: regex as unknown as string, credentials: true })).toThrow(`write a function: (origin) => ${String(regex)}.test(origin)`);
    expect(() => crossOriginProtection(() => [], { trustedOrigins: [regex as unknown as string] })).toThrow(`exempt: (environ) => ${String(regex)}.test(environ.HTTP_ORIGIN ?? "")`);
    // The cookie is stored without exposing Set-Cookie, which no script may read: listing it throws.
    expect(() => cors(() => [], { origin: [SPA], credentials: true, exposeHeaders: ['ETag', 'Set-Cookie'] })).toThrow(/never let scripts read/);
  });
});
