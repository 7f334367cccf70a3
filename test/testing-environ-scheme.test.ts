/**
 * A call's `environ` naming the scheme or host (Werkzeug's `environ_overrides={'wsgi.url_scheme':
 * 'https'}`, to test an app that must be reached over HTTPS) puts the request at the URL the
 * app sees, as a `Host` field does: cookies are filed there, its own redirects stay same-origin.
 */
import { describe, expect, it } from 'vitest';
import { HTTPFound, Request, Response } from 'tsgi';
import { CookieSessions, sessionOf } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';

const sessions = new CookieSessions({ secret: 'k'.repeat(32) });
/** Logs in (a Secure session cookie on https), redirects `/admin` to `/admin/`, and says what it sees. */
const app = sessions.middleware(
  Request.application((req) => {
    if (req.pathInfo === '/login') {
      sessionOf(req).set('user', 'ada');
      return new HTTPFound('/admin/');
    }
    if (req.pathInfo === '/admin') return new HTTPFound('/admin/');
    return Response.json({ url: req.url, authorization: req.headers.get('authorization'), user: sessionOf(req).get('user') ?? null });
  }),
);

describe("a call's environ naming the scheme or host", () => {
  const https = { 'tsgi.url_scheme': 'https' };

  it('keeps the Secure session cookie the app set over https, as Werkzeug files it', async () => {
    const client = new TestClient(app, { baseUrl: 'http://testserver' });
    const home = await client.get('/login', { environ: https, followRedirects: 1 });
    expect(home.url).toBe('https://testserver/admin/');
    expect(await home.json()).toMatchObject({ url: 'https://testserver/admin/', user: 'ada' });
    expect(await (await client.get('/admin/', { environ: https })).json()).toMatchObject({ user: 'ada' });
  });

  it("follows the app's own absolute redirect as same-origin: the call's Authorization is sent again", async () => {
    const client = new TestClient(app, { baseUrl: 'http://testserver' });
    const res = await client.get('/admin', { environ: https, headers: { authorization: 'Bearer t' }, followRedirects: 1 });
    expect(res.history.map((r) => r.url)).toEqual(['https://testserver/admin']);
    expect(await res.json()).toMatchObject({ url: 'https://testserver/admin/', authorization: 'Bearer t' });
  });

  it('takes the host from HTTP_HOST too, set last as the app sees it', async () => {
    const client = new TestClient(app);
    const res = await client.get('/login', { environ: { HTTP_HOST: 'shop.example' }, followRedirects: 1 });
    expect(res.url).toBe('http://shop.example/admin/');
    expect(client.cookies.all().map((c) => c.domain)).toEqual(['shop.example']);
  });
});
