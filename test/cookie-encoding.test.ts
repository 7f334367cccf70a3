import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { serializeSetCookie } from 'tsgi/http';
import { AuthTickets, CookieSessions, sessionOf } from 'tsgi/middleware';
import { parseRaw, rawExchange, rawGet, request, start } from './node-helpers.ts';

/** What `res.setCookie` writes for a value and an expiry, and what `req.cookies` reads back. */
describe('cookie values and expiry on the wire', () => {
  it('writes RFC 6265 cookie-octets as they are and percent-encodes the rest, read back the same', async () => {
    const values = ['user@example.com', 'a/b:c', 'k=v', 'a+b', '[1]', 'a b', 'a;b', '"q"', 'é', '100%', '%41'];
    const site = Request.application((req) => {
      if (req.path === '/set') {
        const res = new Response('set');
        values.forEach((value, i) => res.setCookie(`c${i}`, value));
        return res;
      }
      return Response.json(values.map((_, i) => req.cookies[`c${i}`] ?? null));
    });
    const server = await start(site);
    try {
      const set = await request(`${server.url}/set`);
      const lines = set.headers['set-cookie']!;
      expect(lines.map((line) => line.slice(0, line.indexOf(';')))).toEqual([
        'c0=user@example.com', 'c1=a/b:c', 'c2=k=v', 'c3=a+b', 'c4=[1]',
        'c5=a%20b', 'c6=a%3Bb', 'c7=%22q%22', 'c8=%C3%A9', 'c9=100%25', 'c10=%2541',
      ]);
      const cookie = lines.map((line) => line.slice(0, line.indexOf(';'))).join('; ');
      const read = await request(`${server.url}/read`, { headers: { cookie } });
      expect(JSON.parse(read.body.toString())).toEqual(values);
    } finally {
      await server.close();
    }
  });

  it('reads a name or value whose UTF-8 starts with EF BB BF with its U+FEFF, as Werkzeug does, not dropped as a byte order mark (socket)', async () => {
    const server = await start(Request.application((req) => Response.json(Object.entries(req.cookies))));
    // Raw bytes (one character per byte here), as a browser sends a cookie set as `\uFEFFid`; and Werkzeug's dump_cookie's octal escapes of them.
    const cookie = '\xef\xbb\xbfid=\xef\xbb\xbf7; id=1; q="\\357\\273\\277v"';
    const res = await rawExchange(server.port, Buffer.from(rawGet('/', `Cookie: ${cookie}\r\n`), 'latin1'));
    const { rest } = parseRaw(res.raw);
    expect(JSON.parse(Buffer.from(rest, 'latin1').toString('utf8'))).toEqual([['\ufeffid', '\ufeff7'], ['id', '1'], ['q', '\ufeffv']]);
  });

  it('keeps encodeURIComponent for the whole value when asked to', () => {
    expect(serializeSetCookie('a', 'user@example.com', { encode: encodeURIComponent })).toBe('a=user%40example.com; Path=/');
  });

  it('takes a maxAge past year 9999, writing the latest Expires an HTTP date can carry', () => {
    const line = serializeSetCookie('a', '1', { maxAge: 1e12 });
    expect(line).toBe('a=1; Max-Age=1000000000000; Path=/; Expires=Fri, 31 Dec 9999 23:59:59 GMT');
  });

  it('takes a negative maxAge of any size (an expired cookie), its Expires the epoch at the earliest', async () => {
    // -2e10 seconds is 634 years back: year 1393, which cookie refuses as an Expires.
    for (const maxAge of [-2e10, -1e12, Number.MIN_SAFE_INTEGER]) {
      expect(serializeSetCookie('a', '1', { maxAge })).toBe(`a=1; Max-Age=${maxAge}; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT`);
    }
    expect(serializeSetCookie('a', '1', { maxAge: -1e9 })).toMatch(/; Expires=\w{3}, \d\d \w{3} 1995 /);
    const server = await start(Request.application(() => new Response('gone').setCookie('a', '1', { maxAge: -1e12 })));
    try {
      const res = await request(server.url);
      expect(res.status).toBe(200);
      expect(res.headers['set-cookie']).toEqual(['a=1; Max-Age=-1000000000000; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT']);
    } finally {
      await server.close();
    }
  });

  it('CookieSessions and AuthTickets with a maxAge past year 9999 set their cookie, Expires the latest HTTP date', async () => {
    const secret = 's'.repeat(40);
    // 1e14 seconds: past the last valid Date too (year 275760).
    const sessions = new CookieSessions({ secret, maxAge: 1e12 });
    const tickets = new AuthTickets({ secret, maxAge: 1e14 });
    expect(() => new CookieSessions({ secret, maxAge: 1e16 })).toThrow(/option maxAge is invalid/);
    const site = sessions.middleware(Request.application((req) => {
      sessionOf(req).set('n', 1);
      const res = new Response('ok');
      tickets.remember(res, 'ann');
      return res;
    }));
    const server = await start(site);
    try {
      const res = await request(server.url);
      expect(res.status).toBe(200);
      const lines = res.headers['set-cookie']!;
      expect(lines).toHaveLength(2);
      expect(lines.find((line) => line.startsWith('session='))).toContain('; Max-Age=1000000000000;');
      expect(lines.find((line) => line.startsWith('auth_tkt='))).toContain('; Max-Age=100000000000000;');
      for (const line of lines) expect(line).toContain('; Expires=Fri, 31 Dec 9999 23:59:59 GMT');
    } finally {
      await server.close();
    }
  });

  it('refuses an explicit Expires outside the years 1601 to 9999, naming the cookie', () => {
    for (const expires of [new Date(Date.UTC(1600, 11, 31)), new Date(Date.UTC(10000, 0, 1)), new Date(Number.NaN)]) {
      expect(() => serializeSetCookie('a', '1', { expires })).toThrow(/^cookie "a": option expires is invalid/);
    }
    expect(serializeSetCookie('a', '1', { expires: new Date(Date.UTC(1601, 0, 1)) })).toContain('Expires=Mon, 01 Jan 1601 00:00:00 GMT');
  });

  it('refuses an expires that is no Date and a maxAge that is no finite number as option … is invalid, naming the cookie', () => {
    for (const expires of [Date.UTC(2030, 0, 1), '2030-01-01', 'Tue, 01 Jan 2030 00:00:00 GMT', {}]) {
      expect(() => serializeSetCookie('a', '1', { expires } as never)).toThrow(`cookie "a": option expires is invalid: ${JSON.stringify(expires)} (a Date)`);
    }
    for (const maxAge of [Number.POSITIVE_INFINITY, Number.NaN, '60']) {
      expect(() => serializeSetCookie('a', '1', { maxAge } as never)).toThrow(`cookie "a": option maxAge is invalid: ${String(maxAge === '60' ? '"60"' : maxAge)} (a finite number of seconds)`);
    }
    expect(serializeSetCookie('a', '1', { expires: new Date(Date.UTC(2030, 0, 1)) })).toBe('a=1; Path=/; Expires=Tue, 01 Jan 2030 00:00:00 GMT');
  });
});

describe('serializeSetCookie options', () => {
  it('refuses an option it does not know, naming the one meant (signed: true would go out unsigned)', () => {
    expect(() => serializeSetCookie('a', '1', { httponly: true } as never)).toThrow(/serializeSetCookie: unknown option "httponly": did you mean "httpOnly"\?/);
    expect(() => serializeSetCookie('a', '1', { signed: true } as never)).toThrow(/unknown option "signed"/);
    expect(serializeSetCookie('a', '1', { httpOnly: true })).toBe('a=1; Path=/; HttpOnly');
  });

  it("refuses a sameSite other than 'strict', 'lax' or 'none' with the value as given, and tells Express's true and false", () => {
    expect(() => serializeSetCookie('a', '1', { sameSite: true } as never)).toThrow(
      /^cookie "a": option sameSite is invalid: true \(write 'strict', 'lax' or 'none'; Express's sameSite: true is 'strict'\)$/,
    );
    expect(() => serializeSetCookie('a', '1', { sameSite: false } as never)).toThrow(
      /^cookie "a": option sameSite is invalid: false \(write 'strict', 'lax' or 'none'; Express's sameSite: false is no sameSite\)$/,
    );
    for (const sameSite of [5, null, 'Strict ', 'sometimes']) {
      expect(() => serializeSetCookie('a', '1', { sameSite } as never)).toThrow(`cookie "a": option sameSite is invalid: ${JSON.stringify(sameSite)} (write 'strict', 'lax' or 'none')`);
    }
    // The deletion of such a cookie is refused the same way, not with a TypeError about toLowerCase.
    expect(() => new Response().deleteCookie('a', { sameSite: true } as never)).toThrow(/^cookie "a": option sameSite is invalid: true/);
    expect(serializeSetCookie('a', '1', { sameSite: 'STRICT' as 'strict' })).toBe('a=1; Path=/; SameSite=Strict');
  });
});
