/**
 * `AuthTickets` without a `secure` option sets its cookie `Secure` in answer to an https request
 * (the scheme `proxyFix` takes from `X-Forwarded-Proto` included), as `CookieSessions` does: the
 * login (`remember`), the reissue and the logout (`forget`) under its middleware.
 */
import { describe, expect, it } from 'vitest';
import { HTTPSeeOther, Request, Response } from 'tsgi';
import { AuthTickets, proxyFix } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

const SECRET = 'a-long-enough-secret-for-tests-0123456789';

/** `/login` remembers alice, `/logout` forgets her, anything else answers who is logged in. */
function site(tickets: AuthTickets) {
  return Request.application((req) => {
    if (req.path === '/login') {
      const res = new HTTPSeeOther('/');
      tickets.remember(res, 'alice');
      return res;
    }
    if (req.path === '/logout') return tickets.forget(new HTTPSeeOther('/'));
    return new Response(req.remoteUser ?? '-');
  });
}

/** The ticket cookie's `Set-Cookie` of a request over the server at `url`, behind a proxy saying `proto`. */
async function ticketCookie(url: string, path: string, proto: string | undefined, cookie?: string): Promise<string | undefined> {
  const headers: Record<string, string> = {};
  if (proto !== undefined) headers['x-forwarded-proto'] = proto;
  if (cookie !== undefined) headers.cookie = cookie;
  const res = await request(`${url}${path}`, { headers });
  return res.headers['set-cookie']?.find((line) => line.startsWith('auth_tkt='));
}

const secure = (line: string | undefined) => line !== undefined && /;\s*Secure\s*(;|$)/i.test(line);

describe('AuthTickets on https', () => {
  it('sets its cookie Secure on https, without a secure option: login, reissue and logout (proxyFix, socket)', async () => {
    let now = Date.now();
    const tickets = new AuthTickets({ secret: SECRET, maxAge: 3600, reissueTime: 60, now: () => now });
    const server = await start(proxyFix(tickets.middleware(site(tickets)), { xProto: 1 }));
    try {
      const https = await ticketCookie(server.url, '/login', 'https');
      expect(https).toBeDefined();
      expect(secure(https)).toBe(true);
      const http = await ticketCookie(server.url, '/login', undefined);
      expect(http).toBeDefined();
      expect(secure(http)).toBe(false);
      const cookie = https!.split(';')[0]!;
      now += 120_000; // past reissueTime: the middleware reissues the ticket
      const reissued = await ticketCookie(server.url, '/', 'https', cookie);
      expect(reissued).toBeDefined();
      expect(secure(reissued)).toBe(true);
      expect(secure(await ticketCookie(server.url, '/', 'http', cookie))).toBe(false);
      const logout = await ticketCookie(server.url, '/logout', 'https', cookie);
      expect(logout).toMatch(/^auth_tkt=;/);
      expect(secure(logout)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('keeps secure: false and secure: true as given, whatever the scheme (socket)', async () => {
    for (const option of [false, true]) {
      const tickets = new AuthTickets({ secret: SECRET, secure: option });
      const server = await start(proxyFix(tickets.middleware(site(tickets)), { xProto: 1 }));
      try {
        expect(secure(await ticketCookie(server.url, '/login', 'https'))).toBe(option);
        expect(secure(await ticketCookie(server.url, '/login', 'http'))).toBe(option);
      } finally {
        await server.close();
      }
    }
  });

  it('sets Secure on a redirect thrown with the ticket that the server answers, sync or async (socket)', async () => {
    const tickets = new AuthTickets({ secret: SECRET });
    // A plain gateway app: the HTTPException escapes the middleware, answered by serve().
    const app = (environ: { PATH_INFO?: string }) => {
      const res = new HTTPSeeOther('/');
      tickets.remember(res, 'alice');
      if (environ.PATH_INFO === '/async') return Promise.reject(res);
      throw res;
    };
    const server = await start(proxyFix(tickets.middleware(app), { xProto: 1 }));
    try {
      for (const path of ['/sync', '/async']) {
        const line = await ticketCookie(server.url, path, 'https');
        expect(line, path).toBeDefined();
        expect(secure(line), path).toBe(true);
        expect(secure(await ticketCookie(server.url, path, 'http')), path).toBe(false);
      }
    } finally {
      await server.close();
    }
  });
});
