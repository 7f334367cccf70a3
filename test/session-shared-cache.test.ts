import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { CookieSessions, sessionOf } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

const SECRET = 'a-long-enough-secret-for-tests-0123456789';

/** A news page cached by a CDN: every answer says public, with CDN-targeted fields too. */
const CDN_FIELDS = {
  'Cache-Control': 'public, max-age=60, s-maxage=600',
  'CDN-Cache-Control': 'max-age=600',
  'Surrogate-Control': 'max-age=600',
  'Example-CDN-Cache-Control': 'max-age=600',
};

const site: App = Request.application((req) => {
  const session = sessionOf(req);
  if (req.pathInfo === '/login') {
    session.set('user', 'bob');
    return new Response('welcome', { headers: CDN_FIELDS });
  }
  const user = session.get<string>('user');
  return new Response(user === undefined ? 'Hello stranger' : `Hello ${user}`, { headers: CDN_FIELDS });
});

describe('CookieSessions behind a CDN', () => {
  it('keeps a page that only read a logged-in session out of shared caches, CDN-targeted fields included', async () => {
    const server = await start(new CookieSessions({ secret: SECRET }).middleware(site));
    const login = await request(`${server.url}/login`);
    expect(login.headers['cache-control']).toBe('max-age=60, private');
    // CDN-Cache-Control (RFC 9213) and Surrogate-Control override Cache-Control at the CDN.
    expect(login.headers['cdn-cache-control']).toBeUndefined();
    expect(login.headers['surrogate-control']).toBeUndefined();
    expect(login.headers['example-cdn-cache-control']).toBeUndefined();
    const cookie = /^([^;]*)/.exec(login.headers['set-cookie']![0]!)![1]!;

    const page = await request(`${server.url}/`, { headers: { cookie } });
    expect(page.body.toString()).toBe('Hello bob');
    expect(page.headers['set-cookie']).toBeUndefined(); // only read
    expect(page.headers['cache-control']).toBe('max-age=60, private');
    expect(page.headers['cdn-cache-control']).toBeUndefined();
    expect(page.headers['surrogate-control']).toBeUndefined();
    expect(page.headers.vary).toBe('Cookie');
  });

  it('leaves the caching of a page that read an empty session as the app said', async () => {
    const server = await start(new CookieSessions({ secret: SECRET }).middleware(site));
    const page = await request(`${server.url}/`);
    expect(page.body.toString()).toBe('Hello stranger');
    expect(page.headers['cache-control']).toBe('public, max-age=60, s-maxage=600');
    expect(page.headers['cdn-cache-control']).toBe('max-age=600');
    expect(page.headers.vary).toBe('Cookie');
  });
});

describe('CookieSessions behind a CDN: review', () => {
  const login = async (url: string) => /^([^;]*)/.exec((await request(`${url}/login`)).headers['set-cookie']![0]!)![1]!;

  it('a private="Set-Cookie" (private for the cookie alone) does not keep a logged-in reader\'s page public', async () => {
    const sessions = new CookieSessions({ secret: SECRET });
    const server = await start(sessions.middleware(Request.application((req) => {
      const session = sessionOf(req);
      if (req.pathInfo === '/login') session.set('user', 'bob');
      return new Response(`Hello ${session.get<string>('user') ?? 'stranger'}`, {
        headers: { 'Cache-Control': 'public, s-maxage=600, private="Set-Cookie"' },
      });
    })));
    try {
      const cookie = await login(server.url);
      const page = await request(`${server.url}/`, { headers: { cookie } });
      expect(page.body.toString()).toBe('Hello bob');
      expect(page.headers['cache-control']).toBe('private');
    } finally {
      await server.close();
    }
  });
});

describe('CookieSessions: a session first read by a streamed body, after the head', () => {
  it('throws rather than put a logged-in reader\'s data in a body whose head said public, without Vary: Cookie', async () => {
    const sessions = new CookieSessions({ secret: SECRET });
    let late: unknown;
    const server = await start(sessions.middleware(Request.application((req) => {
      const session = sessionOf(req);
      if (req.pathInfo === '/login') {
        session.set('user', 'bob');
        return new Response('in');
      }
      const res = new Response((async function* () {
        yield new TextEncoder().encode('<h1>News</h1>');
        let user: string | undefined;
        try {
          user = session.get<string>('user');
        } catch (error) {
          late = error;
        }
        if (user !== undefined) yield new TextEncoder().encode(`<p>Hi ${user}</p>`);
      })(), { headers: CDN_FIELDS });
      return res;
    })));
    try {
      const cookie = /^([^;]*)/.exec((await request(`${server.url}/login`)).headers['set-cookie']![0]!)![1]!;
      const page = await request(`${server.url}/`, { headers: { cookie } });
      expect(page.headers['cache-control']).toBe('public, max-age=60, s-maxage=600');
      expect(page.body.toString()).toBe('<h1>News</h1>');
      expect((late as Error).message).toMatch(/first read after the response head was sent/);
    } finally {
      await server.close();
    }
  });
});

describe('CookieSessions: Surrogate-Control asking for ESI', () => {
  it('keeps content="ESI/1.0" on a logged-in reader\'s page (Varnish then still assembles it), dropping its lifetime', async () => {
    const sessions = new CookieSessions({ secret: SECRET });
    const server = await start(sessions.middleware(Request.application((req) => {
      const session = sessionOf(req);
      if (req.pathInfo === '/login') session.set('user', 'bob');
      return new Response(`<esi:include src="/header"/>Hello ${session.get<string>('user') ?? 'stranger'}`, {
        headers: { 'Cache-Control': 'public, s-maxage=600', 'Surrogate-Control': 'content="ESI/1.0", max-age=600' },
      });
    })));
    try {
      const login = await request(`${server.url}/login`);
      expect(login.headers['surrogate-control']).toBe('content="ESI/1.0"');
      const cookie = /^([^;]*)/.exec(login.headers['set-cookie']![0]!)![1]!;
      const page = await request(`${server.url}/`, { headers: { cookie } });
      expect([page.headers['cache-control'], page.headers['surrogate-control']]).toEqual(['private', 'content="ESI/1.0"']);
      const anonymous = await request(`${server.url}/`);
      expect(anonymous.headers['surrogate-control']).toBe('content="ESI/1.0", max-age=600');
    } finally {
      await server.close();
    }
  });
});

describe('CookieSessions: a late read that cannot leak', () => {
  it('is allowed on a private page, and for a visitor without a session (socket)', async () => {
    const sessions = new CookieSessions({ secret: SECRET });
    const seen: unknown[] = [];
    const server = await start(sessions.middleware(Request.application((req) => {
      const session = sessionOf(req);
      if (req.pathInfo === '/login') {
        session.set('user', 'bob');
        return new Response('in');
      }
      return new Response((async function* () {
        yield new TextEncoder().encode('page');
        try {
          seen.push(session.get('user') ?? null);
        } catch (error) {
          seen.push(error);
        }
      })(), { headers: { 'Cache-Control': req.pathInfo === '/private' ? 'private, max-age=60' : 'public, max-age=60' } });
    })));
    try {
      const cookie = /^([^;]*)/.exec((await request(`${server.url}/login`)).headers['set-cookie']![0]!)![1]!;
      expect((await request(`${server.url}/private`, { headers: { cookie } })).body.toString()).toBe('page');
      expect((await request(`${server.url}/public`)).body.toString()).toBe('page');
      expect(seen).toEqual(['bob', null]);
    } finally {
      await server.close();
    }
  });
});
