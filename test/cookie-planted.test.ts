import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { AuthTickets, CookieSessions, sessionOf } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

const SECRET = 'a-long-enough-secret-for-tests-0123456789';
const OTHER = 'another-long-enough-secret-0123456789abcd';
const T0 = Date.UTC(2030, 0, 1);

/*
 * A sibling subdomain (evil.example.com) sets `session=…; Domain=example.com`: the browser
 * sends it beside the site's own cookie of that name, first when its path is longer
 * (RFC 6265bis §5.7.3), and the first one sent is the one a parser keeps.
 */

/** `bob`'s (or `user`'s) session cookie, `name=value`, as `sessions` sets it at a login (socket). */
async function sessionCookie(sessions: CookieSessions, user = 'bob'): Promise<string> {
  const server = await start(sessions.middleware(Request.application((req) => {
    sessionOf(req).set('user', user);
    return new Response('');
  })));
  try {
    return /^([^;]*)/.exec((await request(server.url)).headers['set-cookie']![0]!)![1]!;
  } finally {
    await server.close();
  }
}

describe('a cookie of the same name planted before the signed one', () => {
  it('CookieSessions reads the first session cookie that verifies, skipping the others (socket)', async () => {
    const sessions = new CookieSessions({ secret: SECRET });
    const site = Request.application((req) => new Response(`Hello ${sessionOf(req).get<string>('user') ?? 'stranger'}`));
    const server = await start(sessions.middleware(site));
    try {
      const own = await sessionCookie(sessions);
      const planted = [
        await sessionCookie(new CookieSessions({ secret: OTHER }), 'mallory'), // the sibling's own app
        'session=garbage',
        'session=',
        await sessionCookie(new CookieSessions({ secret: SECRET, now: () => Date.now() - 40 * 86_400_000 }), 'old'), // expired
      ];
      for (const first of planted) {
        const res = await request(`${server.url}/`, { headers: { cookie: `${first}; theme=dark; ${own}` } });
        expect(res.body.toString(), first).toBe('Hello bob');
        expect(res.headers['set-cookie'], first).toBeUndefined(); // read, not rewritten
      }
      // Alone, each is no session, as before.
      for (const only of planted) {
        expect((await request(`${server.url}/`, { headers: { cookie: only } })).body.toString(), only).toBe('Hello stranger');
      }
    } finally {
      await server.close();
    }
  });

  it('AuthTickets reads the first ticket that verifies, skipping the others (socket)', async () => {
    const tickets = new AuthTickets({ secret: SECRET, maxAge: 600, now: () => T0 });
    const who = Request.application((req) => new Response(`${req.remoteUser ?? 'stranger'} ${tickets.read(req)?.user ?? '-'}`));
    const server = await start(tickets.middleware(who));
    try {
      const bob = tickets.sign('bob').value;
      const planted = [
        `auth_tkt=${new AuthTickets({ secret: OTHER, now: () => T0 }).sign('mallory').value}`,
        'auth_tkt=forged.x',
        `auth_tkt=${new AuthTickets({ secret: SECRET, now: () => T0 - 3_600_000 }).sign('old').value}`, // expired
      ];
      for (const first of planted) {
        const res = await request(`${server.url}/`, { headers: { cookie: `${first}; auth_tkt=${bob}` } });
        expect(res.body.toString(), first).toBe('bob bob');
      }
      // The first valid one wins: the order the browser sent them in.
      const alice = tickets.sign('alice').value;
      const both = await request(`${server.url}/`, { headers: { cookie: `auth_tkt=${alice}; auth_tkt=${bob}` } });
      expect(both.body.toString()).toBe('alice alice');
    } finally {
      await server.close();
    }
  });
});
