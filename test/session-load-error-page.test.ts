/**
 * `sessions.load(req)` in a page made below the session middleware, as docs/middleware.md
 * tells an `errorPages` layout to read the user: the router's 404 or 405 showing "Signed in as
 * bob" is heuristically cacheable (RFC 9110 §15.1), so it must vary on `Cookie` and be
 * `private` as a page made with `sessionOf(req)` is, or a CDN hands bob's page to everyone.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response, compose } from 'tsgi';
import { CookieSessions, errorPages, errors, sessionOf } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { request, start } from './node-helpers.ts';

const SECRET = 'a-long-enough-secret-for-tests-0123456789';

/** The production stack's order: `errors` and `errorPages` outside, the session layer around the routes. */
function site(sessions: CookieSessions) {
  const routes = new RouteMap({ home: '/', login: '/login' });
  const app = routes.app({
    home: () => new Response('home'),
    login: (req) => {
      sessionOf(req).set('user', 'bob');
      return new Response('welcome');
    },
  });
  const layout = (inner: Parameters<typeof errorPages>[0]) =>
    errorPages(inner, {
      render: (error, req) => {
        const user = sessions.load(req)?.data.get('user');
        return `<h1>${error.code}</h1><p>${typeof user === 'string' ? `Signed in as ${user}` : 'Sign in'}</p>`;
      },
    });
  return compose(errors, layout, sessions.middleware)(app);
}

describe('sessions.load in a page below the session middleware', () => {
  it("keeps a logged-in reader's error page out of shared caches: Vary: Cookie and private (socket)", async () => {
    const server = await start(site(new CookieSessions({ secret: SECRET })));
    const cookie = /^([^;]*)/.exec((await request(`${server.url}/login`)).headers['set-cookie']![0]!)![1]!;
    for (const [method, status] of [['GET', 404], ['DELETE', 405]] as const) {
      const res = await request(`${server.url}${status === 404 ? '/missing' : '/'}`, { method, headers: { cookie } });
      expect(res.status).toBe(status);
      expect(res.body.toString()).toContain('Signed in as bob');
      expect(res.headers['cache-control'], method).toBe('private');
      expect(res.headers.vary, method).toMatch(/\bCookie\b/);
      expect(res.headers['set-cookie']).toBeUndefined(); // only read
    }
  });

  it("varies an anonymous visitor's error page on Cookie, leaving its caching alone; read after the head (a log line's), it changes nothing (socket)", async () => {
    const sessions = new CookieSessions({ secret: SECRET });
    const server = await start(site(sessions));
    const res = await request(`${server.url}/missing`);
    expect(res.body.toString()).toContain('Sign in');
    expect(res.headers.vary).toMatch(/\bCookie\b/);
    expect(res.headers['cache-control']).toBeUndefined();

    // A read from a streamed body, after the head: no error, and nothing the head could still say.
    const late = await start(
      sessions.middleware(
        Request.application(
          (req) =>
            new Response(
              (async function* () {
                yield new TextEncoder().encode(`user: ${String(sessions.load(req)?.data.get('user'))}`);
              })(),
              { headers: { 'Cache-Control': 'public, max-age=60' } },
            ),
        ),
      ),
    );
    const cookie = /^([^;]*)/.exec((await request(`${server.url}/login`)).headers['set-cookie']![0]!)![1]!;
    const streamed = await request(late.url, { headers: { cookie } });
    expect(streamed.status).toBe(200);
    expect(streamed.body.toString()).toBe('user: bob');
    expect(streamed.headers['cache-control']).toBe('public, max-age=60');
    expect(streamed.headers.vary).toBeUndefined();
  });

  it("another CookieSessions' load below this middleware does not count as a read of its session (socket)", async () => {
    const sessions = new CookieSessions({ secret: SECRET });
    const other = new CookieSessions({ secret: SECRET });
    const server = await start(site(sessions));
    const cookie = /^([^;]*)/.exec((await request(`${server.url}/login`)).headers['set-cookie']![0]!)![1]!;
    const page = await start(
      sessions.middleware(
        Request.application(
          (req) =>
            new Response(`user: ${String(other.load(req)?.data.get('user'))}`, {
              headers: { 'Cache-Control': 'public, max-age=60' },
            }),
        ),
      ),
    );
    const res = await request(page.url, { headers: { cookie } });
    expect(res.body.toString()).toBe('user: bob');
    expect(res.headers['cache-control']).toBe('public, max-age=60');
    expect(res.headers.vary).toBeUndefined();
  });
});
