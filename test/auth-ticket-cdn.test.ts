import { describe, expect, it } from 'vitest';
import { type App, type Environ, HTTPFound, HTTPMovedPermanently, Request, Response } from 'tsgi';
import { AuthTickets } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

const SECRET = 'a-long-enough-secret-for-tests-0123456789';
const T0 = Date.UTC(2030, 0, 1);

/**
 * `site` behind `AuthTickets` (a 600 s ticket reissued after 60 s) on a socket, the clock 61 s
 * on: what reads the `Set-Cookie` lines answered to bob's ticket at a path.
 */
async function reissuesAt(site: App): Promise<(path: string) => Promise<string[]>> {
  const clock = { now: T0 };
  const tickets = new AuthTickets({ secret: SECRET, maxAge: 600, reissueTime: 60, now: () => clock.now });
  const server = await start(tickets.middleware(site));
  const bob = tickets.sign('bob').value;
  clock.now = T0 + 61_000;
  return async (path) => (await request(`${server.url}${path}`, { headers: { cookie: `auth_tkt=${bob}` } })).headers['set-cookie'] ?? [];
}

describe('AuthTickets reissueTime behind a CDN', () => {
  it('never reissues on a response a CDN may store by CDN-Cache-Control or Surrogate-Control, over a private Cache-Control (socket)', async () => {
    const site = Request.application((req) => {
      const res = new Response('ok', { headers: { 'Cache-Control': 'private, max-age=60' } });
      if (req.pathInfo === '/cdn') res.headers.set('CDN-Cache-Control', 'max-age=600');
      if (req.pathInfo === '/vendor') res.headers.set('Example-CDN-Cache-Control', 'max-age=600');
      if (req.pathInfo === '/surrogate') res.headers.set('Surrogate-Control', 'max-age=600');
      if (req.pathInfo === '/cdn-no-store') res.headers.set('CDN-Cache-Control', 'no-store');
      return res;
    });
    const lines = await reissuesAt(site);
    for (const path of ['/cdn', '/vendor', '/surrogate']) expect(await lines(path), path).toEqual([]);
    for (const path of ['/', '/cdn-no-store']) expect(await lines(path), path).toHaveLength(1); // private everywhere: reissued
  });

  it('never reissues on a response a shared cache may store with private naming other fields (private="X-User", max-age=600); private="Set-Cookie" keeps the cookie out (socket)', async () => {
    const site = Request.application((req) => new Response('ok', { headers: { 'Cache-Control': `private="${req.pathInfo.slice(1)}", max-age=600` } }));
    const lines = await reissuesAt(site);
    // RFC 9111 §5.2.2.7: a shared cache stores all but the named fields, and serves it fresh.
    expect(await lines('/X-User')).toEqual([]);
    expect(await lines('/Set-Cookie')).toHaveLength(1); // the one field a shared cache drops
  });
});

describe('AuthTickets: the login and logout answers behind a CDN', () => {
  it('keeps an answer that sets or deletes the ticket cookie out of shared caches, as CookieSessions does (socket)', async () => {
    const tickets = new AuthTickets({ secret: SECRET });
    // A page whose caching the app (or a layer stamping every page) set for anonymous visitors.
    const site = Request.application((req) => {
      const res = new Response('welcome', { headers: { 'Cache-Control': 'public, max-age=60, s-maxage=600', 'CDN-Cache-Control': 'max-age=600', 'Surrogate-Control': 'max-age=600' } });
      if (req.pathInfo === '/login') tickets.remember(res, 'alice');
      if (req.pathInfo === '/logout') tickets.forget(res);
      return res;
    });
    const server = await start(tickets.middleware(site));
    const alice = tickets.sign('alice').value;
    for (const [path, cookie] of [['/login', undefined], ['/login', `auth_tkt=${alice}`], ['/logout', `auth_tkt=${alice}`]] as const) {
      const res = await request(`${server.url}${path}`, { headers: cookie === undefined ? {} : { cookie } });
      expect(res.headers['set-cookie'], path).toHaveLength(1);
      // Stored by a CDN, alice's ticket (or its deletion) would go to every visitor of the URL.
      expect(res.headers['cache-control'], `${path} ${cookie ?? ''}`).toBe('max-age=60, private');
      expect(res.headers['cdn-cache-control'], path).toBeUndefined();
      expect(res.headers['surrogate-control'], path).toBeUndefined();
    }
    // A page that sets no ticket cookie keeps the caching the app gave it.
    const page = await request(`${server.url}/`);
    expect(page.headers['cache-control']).toBe('public, max-age=60, s-maxage=600');
    expect(page.headers['cdn-cache-control']).toBe('max-age=600');
  });
});

describe('AuthTickets: a login or logout redirect thrown by the app', () => {
  it('keeps it out of shared caches, as one returned, sync or async, whatever its status (socket)', async () => {
    const tickets = new AuthTickets({ secret: SECRET });
    // A plain gateway app: the HTTPException escapes the middleware, answered by serve()
    // (Flask's `raise redirect(...)` after `login_user`).
    const app = (environ: Environ) => {
      const [, how, kind, action] = environ.PATH_INFO.split('/');
      // A 301 is cacheable by default (RFC 9110 §15.1); a 302 here says public itself.
      const res = kind === '301' ? new HTTPMovedPermanently('/') : new HTTPFound('/');
      if (kind === '302') res.headers.set('Cache-Control', 'public, max-age=600').set('CDN-Cache-Control', 'max-age=600');
      if (action === 'login') tickets.remember(res, 'alice');
      else tickets.forget(res);
      if (how === 'async') return Promise.reject(res);
      throw res;
    };
    const server = await start(tickets.middleware(app));
    try {
      for (const how of ['sync', 'async']) {
        for (const [kind, expected] of [['301', 'private'], ['302', 'max-age=600, private']] as const) {
          for (const action of ['login', 'logout']) {
            const path = `/${how}/${kind}/${action}`;
            const res = await request(`${server.url}${path}`);
            expect([res.status, res.headers['set-cookie']?.length], path).toEqual([Number(kind), 1]);
            expect(res.headers['cache-control'], path).toBe(expected);
            expect(res.headers['cdn-cache-control'], path).toBeUndefined();
          }
        }
      }
    } finally {
      await server.close();
    }
  });
});

describe('AuthTickets: the anonymous page behind a cache that honours Vary', () => {
  it('adds Cookie to the Vary of every answer, signed in or not, unless Vary: * (socket)', async () => {
    const tickets = new AuthTickets({ secret: SECRET });
    // REMOTE_USER is set before the app runs: whether a page read it cannot be told.
    const site = (environ: Environ, startResponse: (status: string, headers: Array<[string, string]>) => unknown) => {
      const headers: Array<[string, string]> = [['Cache-Control', 'public, max-age=600']];
      if (environ.PATH_INFO === '/gzip') headers.push(['Vary', 'Accept-Encoding']);
      if (environ.PATH_INFO === '/any') headers.push(['Vary', '*']);
      startResponse('200 OK', headers);
      return [new TextEncoder().encode(`Hello ${environ.REMOTE_USER ?? 'stranger'}`)];
    };
    const thrown = () => {
      throw new HTTPMovedPermanently('/'); // escapes the middleware, answered by serve()
    };
    const server = await start(tickets.middleware((environ, startResponse) => (environ.PATH_INFO === '/moved' ? thrown() : site(environ, startResponse))));
    try {
      const bob = `auth_tkt=${tickets.sign('bob').value}`;
      // A CDN storing the stranger's page under the URL alone served it to bob too, and bob's to strangers.
      for (const cookie of [undefined, bob, 'auth_tkt=forged.x', 'theme=dark']) {
        for (const [path, vary] of [['/', 'Cookie'], ['/gzip', 'Accept-Encoding, Cookie'], ['/any', '*'], ['/moved', 'Cookie, Accept']]) {
          const res = await request(`${server.url}${path}`, { headers: cookie === undefined ? {} : { cookie } });
          // serve() adds Accept to a thrown HTTPException's answer (its body is negotiated).
          expect(res.headers.vary, `${path} ${cookie ?? ''}`).toBe(vary);
        }
      }
    } finally {
      await server.close();
    }
  });
});
