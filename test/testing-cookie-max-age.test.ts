/**
 * The TestClient's cookie jar counts a `Max-Age` from when the cookie was received (RFC 6265
 * §5.2.2), not from when it was last sent: a session cookie a long-lived client sends again and
 * again still expires when the server said, as in a browser, and `client.cookies` stops
 * listing it then. The clock is vitest's (only `Date` is faked), so nothing waits.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Request, Response } from 'tsgi';
import { TestClient } from 'tsgi/testing';

const START = new Date('2026-03-01T12:00:00Z').getTime();

/** `/login` sets `sid` for 60 s; every other path answers the `Cookie` it was sent. */
const app = Request.application((req) => {
  const res = new Response(req.headers.get('Cookie') ?? '');
  if (req.pathInfo === '/login') res.setCookie('sid', 'abc', { maxAge: 60 });
  return res;
});

/** Moves the faked clock to `seconds` after {@link START}. */
const at = (seconds: number): void => void vi.setSystemTime(START + seconds * 1000);

describe('a Max-Age cookie in the TestClient', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    at(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires Max-Age seconds after it was set, however often it was sent meanwhile', async () => {
    const client = new TestClient(app);
    await client.get('/login');
    for (const second of [15, 30, 45, 59]) {
      at(second);
      expect(await (await client.get('/page')).text()).toBe('sid=abc');
    }
    at(61);
    expect(await (await client.get('/page')).text()).toBe('');
  });

  it('is listed with the expiry it was set with, and no longer once past it', async () => {
    const client = new TestClient(app);
    await client.get('/login');
    at(40);
    await client.get('/page');
    expect(client.cookies.all().map((c) => [c.name, c.expires?.getTime()])).toEqual([['sid', START + 60_000]]);
    expect(client.cookies.get('sid')).toBe('abc');
    at(61);
    expect(client.cookies.all()).toEqual([]);
    expect(client.cookies.get('sid')).toBeUndefined();
  });

  it('cuts a Max-Age past what a number holds to 400 days, and takes one below it as expired (RFC 6265bis §5.6.2)', async () => {
    const digits = '9'.repeat(400);
    const overflow = Request.application((req) => {
      const res = new Response(req.headers.get('Cookie') ?? '');
      if (req.pathInfo === '/keep') res.headers.append('Set-Cookie', `remember=1; Max-Age=${digits}`);
      if (req.pathInfo === '/forget') res.headers.append('Set-Cookie', `sid=; Max-Age=-${digits}`);
      return res;
    });
    const client = new TestClient(overflow);
    client.cookies.set('sid', 'abc');
    await client.get('/keep');
    await client.get('/forget');
    expect(client.cookies.all().map((c) => [c.name, c.expires?.getTime()])).toEqual([['remember', START + 400 * 24 * 60 * 60 * 1000]]);
    expect(client.cookies.get('sid')).toBeUndefined();
    at(400 * 24 * 60 * 60 + 1);
    expect(await (await client.get('/page')).text()).toBe('');
  });

  it('set by client.cookies.set counts from that call too', async () => {
    const client = new TestClient(app);
    client.cookies.set('theme', 'dark', { maxAge: 10 });
    at(9);
    expect(await (await client.get('/page')).text()).toBe('theme=dark');
    at(11);
    expect(await (await client.get('/page')).text()).toBe('');
    expect(client.cookies.get('theme')).toBeUndefined();
  });
});
