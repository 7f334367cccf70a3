import { describe, expect, it } from 'vitest';
import { type App, type Environ, HTTPSeeOther, HTTPServiceUnavailable, Request, Response } from 'tsgi';
import { AuthTickets, CookieSessions, lint, mount, sessionKey, sessionOf } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import { request, start } from './node-helpers.ts';

const SECRET = 'a-long-enough-secret-for-tests-0123456789';
const OLD_SECRET = 'the-previous-secret-that-is-being-retired-42';

/** A small Flask-style site: login sets the session and flashes, `/` shows both. */
const site: App = Request.application((req) => {
  const session = sessionOf(req);
  if (req.pathInfo === '/login') {
    session.set('user', req.query.get('user'));
    session.flash('Welcome back', 'info');
    return new HTTPSeeOther('/');
  }
  if (req.pathInfo === '/logout') {
    session.clear();
    return new HTTPSeeOther('/');
  }
  if (req.pathInfo === '/public') return new Response('no session here', { headers: { 'Cache-Control': 'public, max-age=60' } });
  if (req.pathInfo === '/cached-write') {
    session.set('seen', true);
    return new Response('cached?', { headers: { 'Cache-Control': 'public, s-maxage=600, max-age=60' } });
  }
  if (req.pathInfo === '/big') {
    session.set('blob', 'x'.repeat(5000));
    return new Response('too big');
  }
  return Response.json({ user: session.get('user') ?? null, flashes: session.consumeFlashes(), again: session.consumeFlashes().length });
});

function cookieOf(setCookie: string | string[] | undefined): string {
  const line = Array.isArray(setCookie) ? setCookie[0]! : setCookie!;
  return /^([^;]*)/.exec(line)![1]!;
}

async function page(url: string, cookie?: string) {
  const res = await request(url, { headers: cookie === undefined ? {} : { cookie } });
  return { res, body: JSON.parse(res.body.toString()) as { user: string | null; flashes: Array<{ message: string; category: string }>; again: number } };
}

describe('CookieSessions', () => {
  it('saves the session on the redirect after a login, and the next request sees it, flashes once', async () => {
    const sessions = new CookieSessions({ secret: SECRET });
    const server = await start(lint(sessions.middleware(site)));
    const login = await request(`${server.url}/login?user=bob`);
    expect(login.status).toBe(303);
    expect(login.headers['set-cookie']![0]).toMatch(/^session=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}; Max-Age=2678400; Path=\/; Expires=.+; HttpOnly; SameSite=Lax$/);
    expect(login.headers.vary).toBe('Accept, Cookie'); // the redirect's negotiated body, then the session
    expect(login.headers['cache-control']).toBe('private');
    const cookie = cookieOf(login.headers['set-cookie']);

    const first = await page(server.url, `other=1; ${cookie}`);
    expect(first.body).toEqual({ user: 'bob', flashes: [{ message: 'Welcome back', category: 'info' }], again: 1 });
    expect(first.res.headers.vary).toBe('Cookie');
    // Consuming the flash changed the session: the new cookie no longer holds it.
    const after = cookieOf(first.res.headers['set-cookie']);
    const second = await page(server.url, after);
    expect(second.body).toEqual({ user: 'bob', flashes: [], again: 0 });
    expect(second.res.headers['set-cookie']).toBeUndefined(); // unchanged: not saved
    expect(second.res.headers.vary).toBe('Cookie');

    // A page that never touches the session: no cookie, no Vary, its caching as it said.
    const untouched = await request(`${server.url}/public`, { headers: { cookie } });
    expect(untouched.headers['set-cookie']).toBeUndefined();
    expect(untouched.headers.vary).toBeUndefined();
    expect(untouched.headers['cache-control']).toBe('public, max-age=60');
    expect(server.log.text).toBe('');
  });

  it('treats tampered, expired-key, foreign and malformed cookies as an empty session, never an error', async () => {
    const sessions = new CookieSessions({ secret: SECRET });
    const server = await start(sessions.middleware(site));
    const value = cookieOf((await request(`${server.url}/login?user=bob`)).headers['set-cookie']).slice('session='.length);
    const [payload, signature] = value.split('.') as [string, string];
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const forged = Buffer.from(JSON.stringify({ i: Math.floor(Date.now() / 1000), d: { user: 'admin' } })).toString('base64url');
    const ticket = new AuthTickets({ secret: SECRET, cookieName: 'session' }).sign('admin').value; // same key, other purpose
    const other = cookieOf((await request(`${(await start(new CookieSessions({ secret: SECRET, cookieName: 'other' }).middleware(site))).url}/login?user=admin`)).headers['set-cookie']).slice('other='.length);
    const bad = [`${forged}.${signature}`, `${flip(payload, 3)}.${signature}`, `${payload}.${flip(signature, 10)}`, payload, `${payload}.`, ticket, other, 'x'.repeat(5000), '%%%', '""'];
    for (const cookie of bad) {
      const { res, body } = await page(server.url, `session=${cookie}`);
      expect(res.status, cookie).toBe(200);
      expect(body.user, cookie).toBeNull();
    }
    expect((await page(server.url, `session=${value}`)).body.user).toBe('bob');
    expect(server.log.text).toBe('');
  });

  it('rotates keys: signs with the first secret, reads sessions signed with any listed one', async () => {
    const old = await start(new CookieSessions({ secret: OLD_SECRET }).middleware(site));
    const oldCookie = cookieOf((await request(`${old.url}/login?user=bob`)).headers['set-cookie']);
    const rotating = await start(new CookieSessions({ secrets: [SECRET, OLD_SECRET] }).middleware(site));
    const seen = await page(rotating.url, oldCookie);
    expect(seen.body.user).toBe('bob');
    const resaved = cookieOf(seen.res.headers['set-cookie']); // the flash was consumed: saved with the new key
    const current = await start(new CookieSessions({ secret: SECRET }).middleware(site));
    expect((await page(current.url, resaved)).body.user).toBe('bob');
    expect((await page(current.url, oldCookie)).body.user).toBeNull();
  });

  it('deletes the cookie when the session is cleared (logout)', async () => {
    const sessions = new CookieSessions({ secret: SECRET });
    const server = await start(sessions.middleware(site));
    const cookie = cookieOf((await request(`${server.url}/login?user=bob`)).headers['set-cookie']);
    const logout = await request(`${server.url}/logout`, { headers: { cookie } });
    expect(logout.status).toBe(303);
    expect(logout.headers['set-cookie']).toEqual([expect.stringMatching(/^session=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax$/)]);
  });

  it('enforces maxAge on the server, from the issue time signed in', async () => {
    let now = Date.UTC(2030, 0, 1);
    const sessions = new CookieSessions({ secret: SECRET, maxAge: 60, now: () => now });
    const server = await start(sessions.middleware(site));
    const login = await request(`${server.url}/login?user=bob`);
    expect(login.headers['set-cookie']![0]).toContain('Max-Age=60;');
    expect(login.headers['set-cookie']![0]).toContain(`Expires=${new Date(now + 60_000).toUTCString()}`);
    const cookie = cookieOf(login.headers['set-cookie']);
    now += 59_000;
    expect((await page(server.url, cookie)).body.user).toBe('bob');
    now += 1_000;
    expect((await page(server.url, cookie)).body.user).toBeNull();
    // Issued more than a minute in the future (another process's clock): refused too.
    const future = await start(new CookieSessions({ secret: SECRET, maxAge: 60, now: () => now + 120_000 }).middleware(site));
    const ahead = cookieOf((await request(`${future.url}/login?user=eve`)).headers['set-cookie']);
    expect((await page(server.url, ahead)).body.user).toBeNull();
  });

  it('expires maxAge after the last save, however often it is read; session.modified = true slides it (Flask’s SESSION_REFRESH_EACH_REQUEST)', async () => {
    let now = Date.UTC(2030, 0, 1);
    const sessions = new CookieSessions({ secret: SECRET, maxAge: 60, now: () => now });
    const app = (slide: boolean) =>
      sessions.middleware(
        Request.application((req) => {
          const session = sessionOf(req);
          if (req.pathInfo === '/login') session.set('user', 'bob');
          else if (slide && session.has('user')) session.modified = true;
          return new Response(session.get<string>('user') ?? 'nobody');
        }),
      );
    const seen = async (slide: boolean) => {
      const client = new TestClient(app(slide));
      await client.get('/login');
      const users: string[] = [];
      for (let i = 0; i < 3; i++) {
        now += 40_000;
        users.push((await client.get('/')).textBody);
      }
      return users;
    };
    expect(await seen(false)).toEqual(['bob', 'nobody', 'nobody']);
    expect(await seen(true)).toEqual(['bob', 'bob', 'bob']);
  });

  it('keeps a response that sets the session out of shared caches', async () => {
    const server = await start(new CookieSessions({ secret: SECRET }).middleware(site));
    const res = await request(`${server.url}/cached-write`);
    expect(res.headers['set-cookie']).toHaveLength(1);
    expect(res.headers['cache-control']).toBe('max-age=60, private');
    expect(res.headers.vary).toBe('Cookie');
  });

  it('refuses a cookie over 4096 bytes with a 500 whose logged message gives the size', async () => {
    const server = await start(new CookieSessions({ secret: SECRET }).middleware(site));
    const res = await request(`${server.url}/big`);
    expect(res.status).toBe(500);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(server.log.text).toMatch(/the session cookie is \d{4} bytes, over 4096/);
  });

  it('logs which values make a session cookie too large: its size, the limit, the largest keys and a flash too large (socket)', async () => {
    const sessions = new CookieSessions({ secret: SECRET });
    const app = Request.application((req) => {
      const session = sessionOf(req);
      session.set('user', 'bob');
      if (req.pathInfo === '/values') {
        session.set('notes', 'n'.repeat(1500));
        session.set('cart', ['c'.repeat(2500)]);
        session.set('prefs', { theme: 'dark' });
      } else {
        session.flash(`Added ${'x'.repeat(5000)}`);
      }
      return new Response('saved?');
    });
    const server = await start(sessions.middleware(app));
    const values = await request(`${server.url}/values`);
    expect(values.status).toBe(500);
    // The largest first, by their JSON's bytes (the cookie holds 4/3 as many, base64url); the values themselves are not logged.
    expect(server.log.text).toMatch(/the session cookie is \d{4} bytes, over 4096 \(browsers would drop it\): largest "cart" \(2504 bytes of JSON\), "notes" \(1502\), "prefs" \(16\)/);
    expect(server.log.text).not.toContain('nnnn');
    const flash = await request(`${server.url}/flash`);
    expect(flash.status).toBe(500);
    expect(server.log.text).toMatch(/the session cookie is \d{4} bytes, over 4096 \(browsers would drop it\): largest the newest flash message \(50\d\d bytes of JSON\), "user" \(5\)/);
  });

  it('drops the oldest flashes to fit 4096 bytes: 200 failed logins not followed to the page are no 500s (socket)', async () => {
    // The server flashes on the client's behalf: a client posting a failed login again and
    // again, never following the redirect that shows the flash, piled the messages up until
    // every request of its own was a logged 500 (`the session cookie is … bytes, over 4096`).
    const sessions = new CookieSessions({ secret: SECRET });
    const login = Request.application(async (req) => {
      const session = sessionOf(req);
      if (req.pathInfo === '/login' && req.method === 'POST') {
        session.flash(`Wrong user name or password (try ${(await req.form()).get('try') ?? ''})`, 'error');
        return new HTTPSeeOther('/');
      }
      if (req.pathInfo === '/big') session.set('blob', 'x'.repeat(5000)); // too large from its own data
      if (req.pathInfo === '/huge-flash') {
        session.flash(`Added ${'x'.repeat(5000)}`); // one message too large: the app's mistake
        return new HTTPSeeOther('/');
      }
      return Response.json({ flashes: session.consumeFlashes() });
    });
    const server = await start(sessions.middleware(login));
    let cookie: string | undefined;
    for (let i = 1; i <= 200; i++) {
      const res = await request(`${server.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie === undefined ? {} : { cookie }) },
        body: `try=${i}`,
      });
      expect(res.status).toBe(303);
      cookie = cookieOf(res.headers['set-cookie']);
      expect(Buffer.byteLength(cookie)).toBeLessThanOrEqual(4096);
    }
    const next = await request(server.url, { headers: { cookie: cookie! } });
    expect(next.status).toBe(200);
    const { flashes } = JSON.parse(next.body.toString()) as { flashes: Array<{ message: string; category: string }> };
    // The newest kept, in order, the oldest gone; as many as fit.
    expect(flashes.at(-1)).toEqual({ message: 'Wrong user name or password (try 200)', category: 'error' });
    expect(flashes.length).toBeGreaterThan(10);
    expect(flashes.length).toBeLessThan(200);
    expect(flashes.map((f) => f.message)).toEqual(flashes.map((_, i) => `Wrong user name or password (try ${201 - flashes.length + i})`));
    expect(server.log.text).toBe('');

    // A session too large from its own data is still a 500, flashes or not: dropping them cannot save it.
    const big = await request(`${server.url}/big`, { headers: { cookie: cookie! } });
    expect(big.status).toBe(500);
    expect(big.headers['set-cookie']).toBeUndefined();
    expect(server.log.text).toMatch(/the session cookie is \d{4} bytes, over 4096/);

    // So is one flash too large on its own (not a pile-up to trim): dropped, it would hide the bug.
    const huge = await request(`${server.url}/huge-flash`, { headers: { cookie: cookie! } });
    expect(huge.status).toBe(500);
    expect(huge.headers['set-cookie']).toBeUndefined();
  });

  it('saves at head time for raw gateway apps and streamed bodies; a change after the head throws', async () => {
    const sessions = new CookieSessions({ secret: SECRET });
    let late: unknown;
    const raw: App = (environ, startResponse) => {
      const session = sessionKey.get(environ)!;
      session.set('step', 1);
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield new TextEncoder().encode('head sent; ');
        try {
          session.set('step', 2);
        } catch (error) {
          late = error;
        }
        yield new TextEncoder().encode(`step ${String(session.get('step'))}`);
      })();
    };
    const server = await start(lint(sessions.middleware(raw)));
    const res = await request(server.url);
    expect(res.body.toString()).toBe('head sent; step 1');
    expect((late as Error).message).toMatch(/saved when the response head was sent/);
    const check = await start(sessions.middleware(Request.application((req) => new Response(String(sessionOf(req).get('step'))))));
    expect((await request(check.url, { headers: { cookie: cookieOf(res.headers['set-cookie']) } })).body.toString()).toBe('1');
  });

  it('saves the session on an HTTPException a raw app throws (the redirect after a login), sync or async (socket)', async () => {
    // serve() answers the escaped exception itself, past the middleware's startResponse: the
    // login and its flash were lost, the redirect going out without the cookie.
    const sessions = new CookieSessions({ secret: SECRET });
    const login = (environ: Environ) => {
      if (environ.PATH_INFO === '/login') {
        sessionOf(environ).set('user', 'ann');
        sessionOf(environ).flash('Welcome back', 'info');
        throw new HTTPSeeOther('/');
      }
      if (environ.PATH_INFO === '/broken') {
        sessionOf(environ).set('user', 'eve');
        throw new HTTPServiceUnavailable(); // a 5xx still escapes, to be logged: nothing saved
      }
    };
    const raw: App = (environ, startResponse) => {
      login(environ);
      return site(environ, startResponse);
    };
    const rawAsync: App = async (environ, startResponse) => {
      await Promise.resolve();
      login(environ);
      return site(environ, startResponse);
    };
    for (const app of [raw, rawAsync]) {
      const server = await start(lint(sessions.middleware(app)));
      const redirect = await request(`${server.url}/login`);
      expect(redirect.status).toBe(303);
      expect(redirect.headers.vary).toBe('Accept, Cookie');
      const { body } = await page(server.url, cookieOf(redirect.headers['set-cookie']));
      expect(body).toEqual({ user: 'ann', flashes: [{ message: 'Welcome back', category: 'info' }], again: 1 });
      const broken = await request(`${server.url}/broken`);
      expect([broken.status, broken.headers['set-cookie']]).toEqual([503, undefined]);
    }
  });

  it('works under mount, and says when the middleware is missing', async () => {
    const sessions = new CookieSessions({ secret: SECRET });
    const server = await start(sessions.middleware(mount({ '/app': site })));
    const login = await request(`${server.url}/app/login?user=bob`);
    expect([login.status, login.headers.location]).toEqual([303, `${server.url}/`]);
    expect((await page(`${server.url}/app/`, cookieOf(login.headers['set-cookie']))).body.user).toBe('bob');
    expect(() => sessionOf({ environ: {} as Request['environ'] })).toThrow(/CookieSessions/);
  });

  it('carries the session between TestClient requests, following the redirect', async () => {
    const client = new TestClient(new CookieSessions({ secret: SECRET }).middleware(site));
    const home = await client.get('/login?user=bob', { followRedirects: 1 });
    expect(await home.json()).toEqual({ user: 'bob', flashes: [{ message: 'Welcome back', category: 'info' }], again: 1 });
    expect(await (await client.get('/')).json()).toMatchObject({ user: 'bob', flashes: [] });
    await client.get('/logout', { followRedirects: 1 });
    expect(await (await client.get('/')).json()).toMatchObject({ user: null });
  });

  it('runs the docs example: a form login, the flash shown once, logout', async () => {
    const sessions = new CookieSessions({ secret: SECRET });
    const docsSite = Request.application(async (req) => {
      const session = sessionOf(req);
      if (req.pathInfo === '/login' && req.method === 'POST') {
        const user = (await req.form()).get('user') ?? '';
        session.set('user', user);
        session.flash(`Welcome, ${user}`, 'info');
        return new HTTPSeeOther('/');
      }
      if (req.pathInfo === '/logout') {
        session.clear();
        return new HTTPSeeOther('/');
      }
      const notes = session.consumeFlashes().map((f) => `[${f.category}] ${f.message}`);
      return new Response(`${notes.join('\n')}\nHello ${session.get<string>('user') ?? 'stranger'}`);
    });
    const client = new TestClient(sessions.middleware(docsSite));
    const home = await client.post('/login', { form: { user: 'bob' }, followRedirects: 1 });
    expect(await home.text()).toBe('[info] Welcome, bob\nHello bob');
    expect(await (await client.get('/')).text()).toBe('\nHello bob');
    expect(await (await client.get('/logout', { followRedirects: 1 })).text()).toBe('\nHello stranger');
    expect(client.cookies.all()).toEqual([]);
  });

  it('checks its options as AuthTickets does', () => {
    expect(() => new CookieSessions({})).toThrow(/CookieSessions needs a secret/);
    expect(() => new CookieSessions({ secret: 'short' })).toThrow(/32 bytes/);
    expect(() => new CookieSessions({ secrets: [SECRET, 'short'] })).toThrow(/32 bytes/);
    expect(() => new CookieSessions({ secret: SECRET, cookieName: 'a b' })).toThrow(TypeError);
    expect(() => new CookieSessions({ secret: SECRET, maxAge: 0 })).toThrow(/maxAge/);
    // Under a second, the cookie would be sent with Max-Age=0: deleted on arrival, no session ever sticks.
    expect(() => new CookieSessions({ secret: SECRET, maxAge: 0.5 })).toThrow(/maxAge must be at least 1 second/);
    expect(new CookieSessions({ secret: SECRET, maxAge: 1 }).maxAge).toBe(1);
    expect(() => new CookieSessions({ secret: SECRET, sameSite: 'none' })).toThrow(TypeError);
    expect(() => new CookieSessions({ secret: SECRET, cookieName: '__Host-session', secure: true, path: '/app' })).toThrow(TypeError);
    expect(new CookieSessions({ secret: SECRET, cookieName: '__Host-session', secure: true }).cookieName).toBe('__Host-session');
  });

  it('refuses at once a clock that is not a function (now: Date.now(), the time): every save, login and cookie read was a 500', () => {
    for (const now of [Date.now(), '1', null]) {
      const clock = now as unknown as () => number;
      expect(() => new CookieSessions({ secret: SECRET, now: clock }), JSON.stringify(now)).toThrow(/^new CookieSessions: now must be a function answering milliseconds since the epoch \(Date\.now\), not (a number|a string|null)$/);
      expect(() => new AuthTickets({ secret: SECRET, now: clock }), JSON.stringify(now)).toThrow(/^new AuthTickets: now must be a function /);
    }
  });

  it('refuses a path that does not start with "/", which browsers ignore, so a logout elsewhere left the login', async () => {
    // RFC 6265bis §5.6.4: such a Path is ignored and the cookie scoped to the directory of the
    // URL that set it (/admin for /admin/login); the deletion from /logout, scoped to /, missed it.
    for (const path of ['admin', 'admin/', '']) {
      expect(() => new CookieSessions({ secret: SECRET, path })).toThrow(/path must start with "\/"/);
      expect(() => new AuthTickets({ secret: SECRET, path })).toThrow(/path must start with "\/"/);
    }
    // What was meant: the mount prefix, where the login, its pages and the logout all are.
    const client = new TestClient(mount({ '/admin': new CookieSessions({ secret: SECRET, path: '/admin' }).middleware(site) }));
    await client.get('/admin/login?user=bob');
    expect(await (await client.get('/admin/')).json()).toMatchObject({ user: 'bob' });
    await client.get('/admin/logout');
    expect(await (await client.get('/admin/')).json()).toMatchObject({ user: null });
  });

  it('two apps mounted side by side: at the default Path=/ under one name the second login replaces the first; each path scoped to its mount keeps both (docs/sessions.md)', async () => {
    const sideBySide = (shop: string | undefined, blog: string | undefined) =>
      new TestClient(
        mount({
          '/shop': new CookieSessions({ secret: SECRET, ...(shop === undefined ? {} : { path: shop }) }).middleware(site),
          '/blog': new CookieSessions({ secret: OLD_SECRET, ...(blog === undefined ? {} : { path: blog }) }).middleware(site),
        }),
      );
    const users = async (client: TestClient) => {
      await client.get('/shop/login?user=ann');
      await client.get('/blog/login?user=bob');
      const shop = (await (await client.get('/shop/')).json()) as { user: string | null };
      const blog = (await (await client.get('/blog/')).json()) as { user: string | null };
      return [shop.user, blog.user];
    };
    // One `session` cookie at `/`: the blog's, signed with its own key, replaced the shop's.
    expect(await users(sideBySide(undefined, undefined))).toEqual([null, 'bob']);
    expect(await users(sideBySide('/shop', '/blog'))).toEqual(['ann', 'bob']);
  });

  it('one CookieSessions wrapping apps at several mount points keeps one session at Path=/: a login at one is seen at the other, a save at one does not delete the other\'s cookie, a logout sticks everywhere (socket)', async () => {
    // Module-scope sessions wrapped around each mount (docs/sessions.md): a cookie path taken
    // from each mount's SCRIPT_NAME split the login in two, and a save below the root deleted the root's cookie.
    const sessions = new CookieSessions({ secret: SECRET });
    const app = mount({ '/account': sessions.middleware(site), '/shop': sessions.middleware(site), '/': sessions.middleware(site) });
    const server = await start(app);
    const login = await request(`${server.url}/account/login?user=ann`);
    expect(login.headers['set-cookie']).toEqual([expect.stringMatching(/^session=[^;]+; Max-Age=2678400; Path=\/; /)]);
    const atRoot = await request(`${server.url}/login?user=ann`);
    // The shop saves the session (the flash consumed): one cookie, at /, the root's not deleted.
    const shop = await page(`${server.url}/shop/`, cookieOf(atRoot.headers['set-cookie']));
    expect(shop.body.user).toBe('ann');
    expect(shop.res.headers['set-cookie']).toEqual([expect.stringMatching(/^session=[^;]+; Max-Age=2678400; Path=\/; /)]);
    // A browser walking through the mounts: one login, one logout.
    const client = new TestClient(app);
    await client.get('/account/login?user=bob');
    expect(await (await client.get('/shop/')).json()).toMatchObject({ user: 'bob' });
    expect(await (await client.get('/')).json()).toMatchObject({ user: 'bob' });
    await client.get('/shop/logout');
    expect(await (await client.get('/account/')).json()).toMatchObject({ user: null });
    expect(await (await client.get('/')).json()).toMatchObject({ user: null });
  });

  it('names the key that is not one: secrets given as one string, an unset environment variable in the list', () => {
    // `secrets: process.env.KEYS` and `[process.env.NEW_KEY, process.env.OLD_KEY]` with one unset:
    // the errors were Node's (`secrets.map is not a function`, `The first argument must be…`).
    expect(() => new CookieSessions({ secrets: SECRET as never })).toThrow(/^CookieSessions: secrets must be an array of keys, the one to sign with first, not a string$/);
    expect(() => new AuthTickets({ secrets: [SECRET, undefined as never] })).toThrow(/^an auth ticket secret must be a string or a Uint8Array, not undefined$/);
    expect(() => new CookieSessions({ secret: 12345 as never })).toThrow(/^a session secret must be a string or a Uint8Array, not a number$/);
    expect(new CookieSessions({ secret: new TextEncoder().encode(SECRET) }).cookieName).toBe('session');
  });

  it('refuses secret and secrets together, which signed with the old key and never took the new one (socket)', async () => {
    // Flask's SECRET_KEY + SECRET_KEY_FALLBACKS, written as secret + secrets: `secret` was
    // dropped without a word, so every session was signed with the key being retired.
    const mixed = { secret: SECRET, secrets: [OLD_SECRET] };
    expect(() => new CookieSessions(mixed)).toThrow(/takes secret or secrets, not both/);
    expect(() => new AuthTickets(mixed)).toThrow(/takes secret or secrets, not both/);
    // What the rotation meant, given as documented: signed with the new key, the old one still read.
    const rotated = new CookieSessions({ secrets: [SECRET, OLD_SECRET] });
    const server = await start(rotated.middleware(site));
    const login = await request(`${server.url}/login?user=ann`);
    const cookie = cookieOf(login.headers['set-cookie']);
    expect(new CookieSessions({ secret: SECRET }).load(Request.blank('/', { headers: { cookie } }))?.data.get('user')).toBe('ann');
    expect(new CookieSessions({ secret: OLD_SECRET }).load(Request.blank('/', { headers: { cookie } }))).toBeNull();
  });

  it('stores JSON copies and refuses what JSON cannot carry', async () => {
    const client = new TestClient(
      new CookieSessions({ secret: SECRET }).middleware(
        Request.application((req) => {
          const session = sessionOf(req);
          const list = [1];
          session.set('list', list);
          list.push(2);
          expect(() => session.set('bad', () => 1)).toThrow(TypeError);
          expect(() => session.set('bad', 1n)).toThrow(TypeError);
          expect(session.delete('missing')).toBe(false);
          session.set('gone', 1).set('gone', undefined);
          expect(session.has('gone')).toBe(false);
          expect(session.has('list')).toBe(true);
          return Response.json({ session, keys: session.keys(), modified: session.modified });
        }),
      ),
    );
    expect(await (await client.get('/')).json()).toEqual({ session: { list: [1] }, keys: ['list'], modified: true });
  });
});
