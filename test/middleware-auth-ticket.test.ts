import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type App, compose, HeaderList, HTTPSeeOther, Request, Response } from 'tsgi';
import { accessLog, authTicketKey, AuthTickets, errors, lint } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

const SECRET = 'a-long-enough-secret-for-tests-0123456789';
const OLD_SECRET = 'the-previous-secret-that-is-being-retired-42';

/** An app reporting the ticket middleware's verdict. */
const whoami: App = Request.application((req) => {
  expect(req.environ['tsgi.auth_ticket']).toBe(authTicketKey.get(req)); // the key's documented name
  return Response.json({
    user: req.remoteUser,
    type: req.environ.AUTH_TYPE ?? null,
    ticket: authTicketKey.get(req) ?? null,
  });
});

function cookieValue(setCookie: string): string {
  return /^[^=]+=([^;]*)/.exec(setCookie)![1]!;
}

async function whoIs(url: string, cookie?: string) {
  const res = await request(url, { headers: cookie === undefined ? {} : { cookie } });
  return JSON.parse(res.body.toString()) as { user: string | null; type: string | null; ticket: Record<string, unknown> | null };
}

describe('AuthTickets', () => {
  it('remembers a user in a signed, HttpOnly cookie that the middleware then reads', async () => {
    const tickets = new AuthTickets({ secret: SECRET, maxAge: 3600 });
    const res = new Response('logged in');
    const ticket = tickets.remember(res, 'bob', { data: { roles: ['editor'] } });
    expect(ticket).toMatchObject({ user: 'bob', data: { roles: ['editor'] } });
    expect(ticket.expires - ticket.issued).toBe(3600);
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^auth_tkt=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}; Max-Age=3600; Path=\/; Expires=.+; HttpOnly; SameSite=Lax$/);
    const server = await start(lint(tickets.middleware(whoami)));
    const seen = await whoIs(server.url, `other=1; auth_tkt=${cookieValue(setCookie)}`);
    expect(seen.user).toBe('bob');
    expect(seen.type).toBe('cookie');
    expect(seen.ticket).toMatchObject({ user: 'bob', issued: ticket.issued, expires: ticket.expires, data: { roles: ['editor'] } });
    expect(await whoIs(server.url)).toEqual({ user: null, type: null, ticket: null });
  });

  it('treats tampered, truncated, foreign and malformed cookies as "not logged in", never an error', async () => {
    const tickets = new AuthTickets({ secret: SECRET });
    const { value } = tickets.sign('bob');
    const [payload, signature] = value.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ u: 'admin', i: 1, e: 9_999_999_999 })).toString('base64url');
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const bad = [
      `${forged}.${signature}`,
      `${flip(payload, 3)}.${signature}`,
      `${payload}.${flip(signature, 10)}`,
      `${payload}.${signature.slice(0, -2)}`,
      `${payload}.`,
      `.${signature}`,
      payload,
      `${payload}.${signature}.extra`,
      `${payload}=.${signature}`,
      new AuthTickets({ secret: 'x'.repeat(40) }).sign('bob').value,
      new AuthTickets({ secret: SECRET, cookieName: 'other' }).sign('bob').value,
      'x'.repeat(5000),
      '%%%',
      '""',
    ];
    const server = await start(tickets.middleware(whoami));
    for (const cookie of bad) {
      const res = await request(server.url, { headers: { cookie: `auth_tkt=${cookie}` } });
      expect(res.status, cookie).toBe(200);
      expect(JSON.parse(res.body.toString()).user, cookie).toBeNull();
      expect(tickets.verify(cookie), cookie).toBeNull();
    }
    expect(tickets.verify(value)?.user).toBe('bob');
  });

  it('accepts one spelling of a ticket only: no other base64url bits, no quotes, no percent-encoding', async () => {
    const tickets = new AuthTickets({ secret: SECRET });
    const { value } = tickets.sign('bob');
    const [payload, signature] = value.split('.') as [string, string];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // A 32-byte signature is 43 characters: the last one carries 2 unused bits, so 3 other
    // characters decode to the same bytes.
    const last = alphabet.indexOf(signature.at(-1)!);
    const twins = [1, 2, 3].map((bits) => `${payload}.${signature.slice(0, -1)}${alphabet[(last & ~3) | ((last + bits) & 3)]}`);
    for (const twin of twins) expect(Buffer.from(twin.split('.')[1]!, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
    const spellings = [...twins, `"${value}"`, value.replace('.', '%2E'), `${payload.slice(0, 2)}%${payload.charCodeAt(2).toString(16)}${payload.slice(3)}.${signature}`];
    const server = await start(tickets.middleware(whoami));
    for (const cookie of spellings) {
      expect(tickets.verify(cookie), cookie).toBeNull();
      const res = await request(server.url, { headers: { cookie: `auth_tkt=${cookie}` } });
      expect(JSON.parse(res.body.toString()).user, cookie).toBeNull();
    }
    const ok = await request(server.url, { headers: { cookie: `auth_tkt=${value}` } });
    expect(JSON.parse(ok.body.toString()).user).toBe('bob');
  });

  it('refuses a well-signed payload of the wrong shape', () => {
    const tickets = new AuthTickets({ secret: SECRET });
    const sign = (fields: unknown) => {
      const payload = Buffer.from(JSON.stringify(fields)).toString('base64url');
      const mac = createHmac('sha256', SECRET).update(`tsgi.auth_ticket\nauth_tkt\n${payload}`).digest('base64url');
      return `${payload}.${mac}`;
    };
    const now = Math.floor(Date.now() / 1000);
    expect(tickets.verify(sign({ u: 'bob', i: now, e: now + 60 }))?.user).toBe('bob'); // the construction is right
    expect(tickets.verify(sign({ u: 'bob', i: now, e: now + 60, s: 1 }))?.session).toBe(true);
    for (const fields of [null, [], 'bob', { u: '', i: now, e: now + 60 }, { u: 5, i: now, e: now + 60 }, { u: 'bob', i: '1', e: now + 60 }, { u: 'bob', i: now, e: 1.5 }, { u: 'bob', i: now }, { u: 'bob', i: now, e: now + 60, s: true }, { u: 'bob', i: now, e: now + 60, s: 0 }]) {
      expect(tickets.verify(sign(fields)), JSON.stringify(fields)).toBeNull();
    }
  });

  it('expires tickets, and refuses ones issued in the future', () => {
    let now = Date.UTC(2030, 0, 1);
    const tickets = new AuthTickets({ secret: SECRET, maxAge: 60, now: () => now });
    const { value } = tickets.sign('bob');
    now += 59_000;
    expect(tickets.verify(value)?.user).toBe('bob');
    now += 1_000;
    expect(tickets.verify(value)).toBeNull();
    const short = tickets.sign('bob', { maxAge: 5 }).value;
    now += 4_000;
    expect(tickets.verify(short)).not.toBeNull();
    now += 1_000;
    expect(tickets.verify(short)).toBeNull();
    const future = new AuthTickets({ secret: SECRET, now: () => now + 120_000 }).sign('bob').value;
    expect(tickets.verify(future)).toBeNull();
    const skewed = new AuthTickets({ secret: SECRET, now: () => now + 30_000 }).sign('bob').value;
    expect(tickets.verify(skewed)?.user).toBe('bob');
  });

  it('rotates keys: signs with the first secret, accepts any listed one', () => {
    const old = new AuthTickets({ secret: OLD_SECRET });
    const rotating = new AuthTickets({ secrets: [SECRET, OLD_SECRET] });
    const fresh = new AuthTickets({ secret: SECRET });
    const oldTicket = old.sign('bob').value;
    expect(rotating.verify(oldTicket)?.user).toBe('bob');
    expect(fresh.verify(oldTicket)).toBeNull();
    const newTicket = rotating.sign('carol').value;
    expect(fresh.verify(newTicket)?.user).toBe('carol');
    expect(old.verify(newTicket)).toBeNull();
  });

  it('forgets (deletes the cookie) and works with HeaderList, exceptions and session cookies', () => {
    const tickets = new AuthTickets({ secret: SECRET, cookieName: 'login', secure: true, sameSite: 'strict', path: '/app', domain: 'example.com' });
    const redirect = tickets.forget(new HTTPSeeOther('/'));
    expect(redirect).toBeInstanceOf(HTTPSeeOther);
    expect(redirect.headers.get('set-cookie')).toBe(
      'login=; Max-Age=0; Domain=example.com; Path=/app; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Strict',
    );
    const headers = new HeaderList();
    tickets.remember(headers, 'bob', { persistent: false });
    const line = headers.get('set-cookie')!;
    expect(line).not.toMatch(/Max-Age|Expires/);
    expect(line).toMatch(/; Secure; SameSite=Strict$/);
    expect(tickets.verify(cookieValue(line))?.user).toBe('bob');
  });

  it('refuses bad configuration and bad tickets to sign', () => {
    expect(() => new AuthTickets({})).toThrow(TypeError);
    expect(() => new AuthTickets({ secret: 'short' })).toThrow(TypeError);
    expect(() => new AuthTickets({ secrets: [SECRET, 'short'] })).toThrow(TypeError);
    expect(() => new AuthTickets({ secret: SECRET, cookieName: 'bad name' })).toThrow(TypeError);
    expect(() => new AuthTickets({ secret: SECRET, maxAge: 0 })).toThrow(TypeError);
    // Under a second, the ticket would expire as it is issued and its cookie carry Max-Age=0.
    expect(() => new AuthTickets({ secret: SECRET, maxAge: 0.5 })).toThrow(/maxAge must be at least 1 second/);
    expect(() => new AuthTickets({ secret: SECRET }).sign('bob', { maxAge: 0.9 })).toThrow(/maxAge must be at least 1 second/);
    // A cookie browsers would drop fails at construction, not on every login.
    expect(() => new AuthTickets({ secret: SECRET, sameSite: 'none' })).toThrow(/SameSite=None needs secure/);
    expect(() => new AuthTickets({ secret: SECRET, cookieName: '__Host-tkt', path: '/app', secure: true })).toThrow(/needs path '\/'/);
    expect(new AuthTickets({ secret: SECRET, sameSite: 'none', secure: true }).cookieName).toBe('auth_tkt');
    const tickets = new AuthTickets({ secret: SECRET });
    expect(() => tickets.sign('')).toThrow(TypeError);
    expect(() => tickets.sign('bob', { data: 'x'.repeat(5000) })).toThrow(RangeError);
    // Browsers keep name + value within 4096 bytes (RFC 6265bis §5.6): a value that fits alone
    // but not with the name would be dropped without a word.
    const long = new AuthTickets({ secret: SECRET, cookieName: 'a_rather_long_cookie_name' });
    let refused = 0;
    for (let n = 2980; n < 3100; n++) {
      try {
        const { value } = long.sign('bob', { data: 'x'.repeat(n) });
        expect(long.cookieName.length + 1 + value.length).toBeLessThanOrEqual(4096);
      } catch (error) {
        expect(error).toBeInstanceOf(RangeError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
    expect(() => tickets.sign('bob', { data: () => 1 })).toThrow(TypeError);
  });

  it('refuses at once cookie settings a Set-Cookie cannot carry or browsers would refuse to store', () => {
    const refused: Array<Partial<ConstructorParameters<typeof AuthTickets>[0]>> = [
      { sameSite: 'none' },
      { sameSite: 'None' as 'none' },
      { cookieName: '__Secure-tkt' },
      { cookieName: '__Host-tkt' },
      { cookieName: '__host-tkt', secure: false },
      { cookieName: '__Host-tkt', secure: true, path: '/app' },
      { cookieName: '__Host-tkt', secure: true, domain: 'example.com' },
      { path: '/a;b' },
      { path: '/a\nb' },
      { domain: 'bad domain' },
      { sameSite: 'sometimes' as 'lax' },
    ];
    for (const options of refused) expect(() => new AuthTickets({ secret: SECRET, ...options }), JSON.stringify(options)).toThrow(TypeError);
    for (const options of [
      { sameSite: 'none', secure: true },
      { cookieName: '__Secure-tkt', secure: true, path: '/app', domain: 'example.com' },
      { cookieName: '__Host-tkt', secure: true },
    ] as const) {
      const tickets = new AuthTickets({ secret: SECRET, ...options });
      expect(tickets.forget(new HeaderList()).get('set-cookie')).toContain('; Secure');
    }
  });
});

describe('AuthTickets over a socket: a login flow', () => {
  it('logs in with a redirect that sets the cookie, recognises it, and logs out: one object for all', async () => {
    const tickets = new AuthTickets({ secret: SECRET, maxAge: 600 });
    const site = Request.application(async (req) => {
      if (req.pathInfo === '/login' && req.method === 'POST') {
        const form = await req.form();
        if (form.get('password') !== 'letmein') return new Response('no', { status: 403 });
        const res = new HTTPSeeOther('/');
        tickets.remember(res, form.get('user') ?? '');
        return res;
      }
      if (req.pathInfo === '/logout') return tickets.forget(new HTTPSeeOther('/'));
      if (req.pathInfo === '/whoami') return new Response(`${tickets.read(req)?.user} ${authTicketKey.get(req)?.user}`);
      return new Response(req.remoteUser ? `Hello ${req.remoteUser}` : 'Hello stranger');
    });
    // The middleware is bound: it goes into compose() as it is, detached from the object.
    const { middleware } = tickets;
    const lines: string[] = [];
    const server = await start(lint(compose((app) => accessLog(app, { log: { write: (l) => void lines.push(l) } }), errors, middleware)(site)));
    const login = await request(`${server.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=bob&password=letmein',
    });
    expect(login.status).toBe(303);
    const cookie = `auth_tkt=${cookieValue(login.headers['set-cookie']![0]!)}`;
    expect((await request(server.url, { headers: { cookie } })).body.toString()).toBe('Hello bob');
    expect((await request(`${server.url}/whoami`, { headers: { cookie } })).body.toString()).toBe('bob bob');
    expect(lines.at(-1)).toMatch(/^127\.0\.0\.1 - bob \[/); // accessLog, outside, logs the user the middleware set
    expect((await request(server.url)).body.toString()).toBe('Hello stranger');
    const logout = await request(`${server.url}/logout`, { headers: { cookie } });
    expect(logout.headers['set-cookie']![0]).toMatch(/^auth_tkt=; Max-Age=0;/);
    const refused = await request(`${server.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'user=bob&password=guess',
    });
    expect([refused.status, refused.headers['set-cookie']]).toEqual([403, undefined]);
  });
});

describe('AuthTickets that never expire', () => {
  it('keeps a login made with the maxAge: Number.MAX_SAFE_INTEGER the constructor takes, reissued too (socket)', async () => {
    // Its expiry, issue time plus maxAge, was past the safe integers: every remember() threw
    // (`option maxAge is invalid`, a 500 at each login), and sign()'s tickets never verified.
    let now = Date.UTC(2030, 0, 1);
    const tickets = new AuthTickets({ secret: SECRET, maxAge: Number.MAX_SAFE_INTEGER, reissueTime: 60, now: () => now });
    const site = Request.application((req) => {
      if (req.pathInfo !== '/login') return new Response(req.remoteUser ?? 'stranger');
      const res = new HTTPSeeOther('/');
      tickets.remember(res, 'bob');
      return res;
    });
    const server = await start(lint(tickets.middleware(site)));
    const login = (await request(`${server.url}/login`)).headers['set-cookie']![0]!;
    expect(login).toContain('Expires=Fri, 31 Dec 9999 23:59:59 GMT');
    const cookie = `auth_tkt=${cookieValue(login)}`;
    expect(tickets.read(Request.blank('/', { headers: { cookie } }))?.expires).toBe(Number.MAX_SAFE_INTEGER);
    expect(tickets.verify(tickets.sign('ann').value)?.user).toBe('ann');
    now += 3600_000; // an hour on: the ticket is reissued, and the new one holds too
    const page = await request(server.url, { headers: { cookie } });
    expect(page.body.toString()).toBe('bob');
    const reissued = `auth_tkt=${cookieValue(page.headers['set-cookie']![0]!)}`;
    expect(reissued).not.toBe(cookie);
    expect((await request(server.url, { headers: { cookie: reissued } })).body.toString()).toBe('bob');
  });
});

describe('AuthTickets after maxAge is lowered', () => {
  it("refuses at once a ticket older than the new maxAge, issued under the old one, and bounds its reissue (socket)", async () => {
    // WebOb's AuthTktCookieHelper checks `timeout` against the issue time when it reads a
    // ticket: an operator who lowers it during an incident cuts every older ticket.
    const T0 = Date.UTC(2030, 0, 1);
    let now = T0;
    const before = new AuthTickets({ secret: SECRET, maxAge: 86400, now: () => now });
    const old = before.sign('bob').value;
    const older = before.sign('carol').value;
    const lowered = new AuthTickets({ secret: SECRET, maxAge: 3600, reissueTime: 60, now: () => now });
    const server = await start(lint(lowered.middleware(whoami)));
    now = T0 + 3_599_000;
    const kept = await request(server.url, { headers: { cookie: `auth_tkt=${old}` } });
    expect(JSON.parse(kept.body.toString()).ticket).toEqual({ user: 'bob', issued: T0 / 1000, expires: T0 / 1000 + 3600 });
    // Its reissue lives the new maxAge, not the 86400 s it was issued with.
    expect(kept.headers['set-cookie']![0]).toMatch(/; Max-Age=3600;/);
    now = T0 + 3_600_000;
    expect(await whoIs(server.url, `auth_tkt=${older}`)).toEqual({ user: null, type: null, ticket: null });
    expect(lowered.verify(older)).toBeNull();
    // A lifetime asked for past maxAge is cut to it, cookie and ticket alike.
    const long = new Response('');
    expect(lowered.remember(long, 'dave', { maxAge: 30 * 86400 }).expires).toBe(T0 / 1000 + 3600 + 3600);
    expect(long.headers.get('set-cookie')).toMatch(/; Max-Age=3600;/);
  });
});

describe('AuthTickets and shared caches', () => {
  it("adds Cookie to the Vary of every page, a logged-in user's or not, as for a reissue (socket)", async () => {
    // A CDN that stores 200s without caching fields (Fastly's default TTL of an hour) and does
    // not key on Cookie would hand bob's page to every visitor of the URL.
    const tickets = new AuthTickets({ secret: SECRET });
    const site = Request.application((req) => {
      const res = new Response(`Hello ${req.remoteUser ?? 'stranger'}`, { headers: { 'Last-Modified': new Date(Date.UTC(2030, 0, 1)).toUTCString() } });
      if (req.pathInfo === '/gzip') res.headers.set('Vary', 'Accept-Encoding');
      if (req.pathInfo === '/public') res.headers.set('Cache-Control', 'public, max-age=60');
      if (req.pathInfo === '/private') res.headers.set('Cache-Control', 'private');
      if (req.pathInfo === '/logout') tickets.forget(res);
      return res;
    });
    const server = await start(lint(tickets.middleware(site)));
    const bob = `auth_tkt=${tickets.sign('bob').value}`;
    const vary = async (path: string, cookie?: string) => {
      const res = await request(`${server.url}${path}`, { headers: cookie === undefined ? {} : { cookie } });
      return res.headers.vary;
    };
    expect(await vary('/', bob)).toBe('Cookie');
    expect(await vary('/gzip', bob)).toBe('Accept-Encoding, Cookie');
    expect(await vary('/logout', bob)).toBe('Cookie');
    // Whatever its caching: the app may have read the user (REMOTE_USER is set before it runs).
    expect(await vary('/public', bob)).toBe('Cookie');
    expect(await vary('/private', bob)).toBe('Cookie');
    // Not logged in (no ticket, or one that does not verify): the anonymous page, which a
    // cache must not serve to a logged-in user either.
    expect(await vary('/')).toBe('Cookie');
    expect(await vary('/', 'auth_tkt=forged.x')).toBe('Cookie');
  });
});

describe('AuthTickets reissueTime: sliding expiry', () => {
  const T0 = Date.UTC(2030, 0, 1);

  /** A clock the test moves, tickets with sliding expiry, and a server for them. */
  async function sliding(options: { reissueTime?: number; maxAge?: number } = {}, app: App = whoami) {
    const clock = { now: T0 };
    const tickets = new AuthTickets({ secret: SECRET, maxAge: 600, reissueTime: 60, now: () => clock.now, ...options });
    const server = await start(lint(tickets.middleware(app)));
    const get = async (cookie: string, path = '/') => {
      const res = await request(`${server.url}${path}`, { headers: { cookie: `auth_tkt=${cookie}` } });
      const lines = res.headers['set-cookie'] ?? [];
      return { res, lines, fresh: lines.length === 1 ? cookieValue(lines[0]!) : null };
    };
    return { clock, tickets, get };
  }

  it('reissues an older ticket over a socket: same user and data, new times; an idle user still times out', async () => {
    const { clock, tickets, get } = await sliding();
    const first = tickets.sign('bob', { data: { roles: ['editor'] } }).value;
    clock.now = T0 + 60_000; // exactly reissueTime old: not yet
    expect((await get(first)).lines).toEqual([]);
    clock.now = T0 + 61_000;
    const { res, lines, fresh } = await get(first);
    expect(JSON.parse(res.body.toString()).user).toBe('bob');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^auth_tkt=[^;]+; Max-Age=600; Path=\/; Expires=Tue, 01 Jan 2030 00:11:01 GMT; HttpOnly; SameSite=Lax$/);
    expect(tickets.verify(fresh)).toEqual({ user: 'bob', issued: T0 / 1000 + 61, expires: T0 / 1000 + 661, data: { roles: ['editor'] } });
    clock.now = T0 + 601_000; // the first ticket has expired, the reissued one slid on
    const late = await get(first);
    expect([JSON.parse(late.res.body.toString()).user, late.lines]).toEqual([null, []]);
    const active = await get(fresh!);
    expect(JSON.parse(active.res.body.toString()).user).toBe('bob');
    expect(tickets.verify(active.fresh)?.issued).toBe(T0 / 1000 + 601);
    clock.now = T0 + 601_000 + 600_000; // idle for the whole lifetime
    const idle = await get(active.fresh!);
    expect([JSON.parse(idle.res.body.toString()).user, idle.lines]).toEqual([null, []]);
  });

  it("keeps the ticket's own lifetime and a session cookie a session cookie", async () => {
    const { clock, tickets, get } = await sliding();
    const short = tickets.sign('bob', { maxAge: 120 }).value;
    const session = tickets.sign('carol', { persistent: false }).value;
    expect(tickets.verify(session)?.session).toBe(true);
    clock.now = T0 + 100_000;
    const a = await get(short);
    expect(a.lines[0]).toMatch(/; Max-Age=120;/);
    expect(tickets.verify(a.fresh)).toMatchObject({ user: 'bob', expires: T0 / 1000 + 220 });
    const b = await get(session);
    expect(b.lines[0]).not.toMatch(/Max-Age|Expires/);
    expect(tickets.verify(b.fresh)).toEqual({ user: 'carol', issued: T0 / 1000 + 100, expires: T0 / 1000 + 700, session: true });
  });

  it('never reissues when the response sets or deletes the ticket cookie itself, or may be stored by a shared cache', async () => {
    const site = Request.application((req) => {
      const res = new Response('ok');
      const tickets = new AuthTickets({ secret: SECRET, now: () => T0 + 61_000 });
      if (req.pathInfo === '/login') tickets.remember(res, 'alice');
      if (req.pathInfo === '/logout') tickets.forget(res);
      if (req.pathInfo === '/theme') res.setCookie('theme', 'dark');
      if (req.pathInfo === '/lookalike') res.headers.add('Set-Cookie', 'auth_tkt_2=x');
      if (req.pathInfo === '/public') res.headers.set('Cache-Control', 'public, max-age=60');
      if (req.pathInfo === '/shared') res.headers.add('Cache-Control', 'max-age=60').add('Cache-Control', 's-maxage=60');
      if (req.pathInfo === '/private') res.headers.set('Cache-Control', 'private, max-age=60');
      // max-age and Expires let a shared cache keep the response too (RFC 9111 §3, §5.2.2.1).
      if (req.pathInfo === '/max-age') res.headers.set('Cache-Control', 'max-age=60');
      if (req.pathInfo === '/expires') res.headers.set('Expires', new Date(T0 + 3_600_000).toUTCString());
      if (req.pathInfo === '/no-store') res.headers.set('Cache-Control', 'no-store, max-age=60').set('Expires', 'Thu, 01 Jan 2099 00:00:00 GMT');
      return res;
    });
    const { clock, tickets, get } = await sliding({}, site);
    const bob = tickets.sign('bob').value;
    clock.now = T0 + 61_000;
    const login = await get(bob, '/login');
    expect(login.lines).toHaveLength(1);
    expect(tickets.verify(login.fresh)?.user).toBe('alice');
    expect((await get(bob, '/logout')).lines).toEqual([expect.stringMatching(/^auth_tkt=; Max-Age=0;/)]);
    for (const path of ['/public', '/shared', '/max-age', '/expires']) expect((await get(bob, path)).lines, path).toEqual([]);
    for (const [path, count] of [['/theme', 2], ['/lookalike', 2], ['/private', 1], ['/no-store', 1]] as const) {
      const { lines } = await get(bob, path);
      expect(lines, path).toHaveLength(count);
      expect(tickets.verify(cookieValue(lines.at(-1)!))?.user, path).toBe('bob');
    }
  });

  it('adds Cookie to the Vary of a reissue, as of every answer, unless Vary: * (socket)', async () => {
    const site = Request.application((req) => {
      const res = new Response('ok', { headers: { 'Last-Modified': new Date(T0).toUTCString() } });
      if (req.pathInfo === '/gzip') res.headers.set('Vary', 'Accept-Encoding');
      if (req.pathInfo === '/any') res.headers.set('Vary', '*');
      if (req.pathInfo === '/private') res.headers.set('Cache-Control', 'private');
      if (req.pathInfo === '/no-store') res.headers.set('Cache-Control', 'no-store');
      return res;
    });
    const { clock, tickets, get } = await sliding({}, site);
    const bob = tickets.sign('bob').value;
    clock.now = T0 + 61_000;
    for (const [path, expected] of [['/', 'Cookie'], ['/gzip', 'Accept-Encoding, Cookie'], ['/any', '*'], ['/private', 'Cookie'], ['/no-store', 'Cookie']] as const) {
      const { res, fresh } = await get(bob, path);
      expect(tickets.verify(fresh)?.user, path).toBe('bob');
      expect(res.headers.vary, path).toBe(expected);
    }
  });

  it('never reissues an invalid ticket, and is off by default', async () => {
    const { clock, tickets, get } = await sliding();
    const { value } = tickets.sign('bob');
    const [payload, signature] = value.split('.') as [string, string];
    clock.now = T0 + 120_000;
    for (const cookie of [`${payload}.${signature.slice(0, -2)}AA`, new AuthTickets({ secret: OLD_SECRET, now: () => T0 }).sign('bob').value, 'garbage']) {
      expect((await get(cookie)).lines, cookie).toEqual([]);
    }
    expect((await get(value)).lines).toHaveLength(1);
    const plain = new AuthTickets({ secret: SECRET, maxAge: 600, now: () => T0 + 500_000 });
    expect(plain.reissueTime).toBeUndefined();
    const server = await start(plain.middleware(whoami));
    const res = await request(server.url, { headers: { cookie: `auth_tkt=${value}` } });
    expect([JSON.parse(res.body.toString()).user, res.headers['set-cookie']]).toEqual(['bob', undefined]);
  });

  it('reissueTime 0 reissues once the ticket is a second old; bad values are refused', async () => {
    const { clock, tickets, get } = await sliding({ reissueTime: 0 });
    const { value } = tickets.sign('bob');
    clock.now = T0 + 999;
    expect((await get(value)).lines).toEqual([]);
    clock.now = T0 + 1_000;
    expect((await get(value)).lines).toHaveLength(1);
    for (const reissueTime of [-1, 600, 601, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new AuthTickets({ secret: SECRET, maxAge: 600, reissueTime }), String(reissueTime)).toThrow(TypeError);
    }
    expect(() => new AuthTickets({ secret: SECRET, reissueTime: 3600 })).not.toThrow(); // below the default day
  });

  it("refuses at once a reissueTime that is not a number: an empty REISSUE_TIME ('') or null reissued at every request", () => {
    for (const reissueTime of ['', '120', null, true, []]) {
      expect(() => new AuthTickets({ secret: SECRET, maxAge: 600, reissueTime: reissueTime as unknown as number }), JSON.stringify(reissueTime)).toThrow(
        /^new AuthTickets: reissueTime must be a number of seconds from 0 to below maxAge, not ("|null|a boolean|an array)/,
      );
    }
  });
});
