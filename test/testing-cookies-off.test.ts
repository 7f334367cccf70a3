/**
 * A client made with `cookies: false` keeps no cookies: `client.cookies.set` throws (Werkzeug's
 * `set_cookie` raises `TypeError` on a `use_cookies=False` client), where it stored a cookie
 * that `client.cookies.get` then answered and no request ever sent.
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { TestClient } from 'tsgi/testing';

const app = Request.application((req) => {
  const res = new Response(req.headers.get('cookie') ?? 'none');
  res.setCookie('session', 'abc');
  return res;
});

describe('a client with cookies: false', () => {
  it('refuses client.cookies.set with a TypeError, as nothing set would be sent', () => {
    const client = new TestClient(app, { cookies: false });
    expect(() => client.cookies.set('theme', 'dark')).toThrow(TypeError);
    expect(() => client.cookies.set('theme', 'dark')).toThrow(/cookies: false/);
    expect(client.cookies.get('theme')).toBeUndefined();
  });

  it('keeps none of the cookies the app sets, and sends none', async () => {
    const client = new TestClient(app, { cookies: false });
    await client.get('/');
    expect(client.cookies.all()).toEqual([]);
    expect((await client.get('/')).textBody).toBe('none');
  });

  it('is a jar as before with cookies on', async () => {
    const client = new TestClient(app);
    client.cookies.set('theme', 'dark');
    expect((await client.get('/')).textBody).toBe('theme=dark');
  });
});
