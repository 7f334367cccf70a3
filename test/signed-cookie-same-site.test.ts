/**
 * `CookieSessions` and `AuthTickets` take `sameSite` capitalized too, as `res.setCookie` does and as
 * their options' type says (`'Lax'`, as Flask's `SESSION_COOKIE_SAMESITE` is written): the
 * type took the lower-case words only, though the cookie was written the same.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { AuthTickets, CookieSessions, sessionOf } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';

const secret = 's'.repeat(32);

describe('sameSite of the signed-cookie middleware', () => {
  it('CookieSessions writes Lax, Strict and None given capitalized, as res.setCookie takes them', async () => {
    for (const [sameSite, written] of [['Lax', 'Lax'], ['Strict', 'Strict'], ['None', 'None']] as const) {
      const sessions = new CookieSessions({ secret, sameSite, secure: true });
      const app = sessions.middleware(Request.application((req) => (sessionOf(req).set('n', 1), new Response('ok'))));
      const res = await new TestClient(app).get('https://example.com/');
      expect(res.headers.get('set-cookie')).toContain(`; SameSite=${written}`);
    }
  });

  it('AuthTickets writes Strict given as Strict, and refuses None without secure when made', async () => {
    const tickets = new AuthTickets({ secret, sameSite: 'Strict' });
    const app = tickets.middleware(Request.application(() => {
      const res = new Response('in');
      tickets.remember(res, 'ann');
      return res;
    }));
    const res = await new TestClient(app).get('/');
    expect(res.headers.get('set-cookie')).toContain('; SameSite=Strict');
    expect(() => new AuthTickets({ secret, sameSite: 'None', secure: false })).toThrow(TypeError);
  });
});
