import { describe, expect, it } from 'vitest';
import { HTTPSeeOther, Request, Response } from 'tsgi';
import { CookieSessions, proxyFix, sessionOf } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

const SECRET = 'a-long-enough-secret-for-tests-0123456789';

const site = Request.application((req) => {
  const session = sessionOf(req);
  if (req.pathInfo === '/login') {
    session.clear();
    session.set('user', 'bob');
    return new HTTPSeeOther('/');
  }
  if (req.pathInfo === '/logout') {
    session.clear();
    return new HTTPSeeOther('/');
  }
  return new Response(`hello ${session.get<string>('user') ?? 'stranger'}`);
});

const setCookie = (res: { headers: Record<string, string | string[] | undefined> }) => (res.headers['set-cookie'] as string[] | undefined)?.[0] ?? '';

/** Behind a proxy that ends TLS, with proxyFix trusting its X-Forwarded-Proto. */
describe('the session cookie on https requests', () => {
  it('is Secure when the request came over https, unless secure is given', async () => {
    const server = await start(proxyFix(new CookieSessions({ secret: SECRET }).middleware(site), { xProto: 1 }));
    const https = { 'x-forwarded-proto': 'https' };
    const login = await request(`${server.url}/login`, { headers: https });
    expect(setCookie(login)).toMatch(/^session=[^;]+; Max-Age=2678400; Path=\/; Expires=[^;]+; HttpOnly; Secure; SameSite=Lax$/);
    const cookie = setCookie(login).split(';')[0]!;
    const logout = await request(`${server.url}/logout`, { headers: { ...https, cookie } });
    expect(setCookie(logout)).toMatch(/^session=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax$/);

    // Plain http (development, or a proxy that says so): no Secure, or the cookie would not stick.
    const plain = await request(`${server.url}/login`, { headers: { 'x-forwarded-proto': 'http' } });
    expect(setCookie(plain)).not.toMatch(/Secure/);
    const direct = await request(`${server.url}/login`);
    expect(setCookie(direct)).not.toMatch(/Secure/);
  });

  it('follows secure when it is given', async () => {
    const never = await start(proxyFix(new CookieSessions({ secret: SECRET, secure: false }).middleware(site), { xProto: 1 }));
    expect(setCookie(await request(`${never.url}/login`, { headers: { 'x-forwarded-proto': 'https' } }))).not.toMatch(/Secure/);
    const always = await start(new CookieSessions({ secret: SECRET, secure: true }).middleware(site));
    expect(setCookie(await request(`${always.url}/login`))).toMatch(/; HttpOnly; Secure; SameSite=Lax$/);
  });
});
