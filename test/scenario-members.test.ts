/**
 * A scenario: a Django developer's members site built from the docs alone (signup and login
 * with scrypt hashes, sessions with flash messages, the documented CSRF token recipe rotated at
 * login, login-required pages sending to `/login?next=`, a profile form re-rendered with its
 * values, an avatar upload spooled to disk, an admin area, `trustedHosts`, `proxyFix` for
 * HTTPS cookies, custom 404/500 pages, method-restricted views), driven over a real socket
 * and through the TestClient, each answer compared with what Django gives the same request.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FormOptions, HTTPForbidden, HTTPSeeOther, type Request, Response, compose, serve } from 'tsgi';
import { escapeHtml as e } from 'tsgi/http';
import { CookieSessions, crossOriginProtection, errorPages, errors, proxyFix, sessionOf } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { TestClient } from 'tsgi/testing';
import { checkCsrf, csrfToken } from './fixtures/csrf.ts';
import { errorLog, request } from './node-helpers.ts';

const spool = mkdtempSync(join(tmpdir(), 'tsgi-members-'));
const uploadLimits: FormOptions = Object.freeze({ maxFileSize: 64 * 1024, maxFiles: 1, spoolThreshold: 1024, tmpDir: spool });
const formLimits: FormOptions = Object.freeze({ maxFields: 20 });

// docs/sessions.md "Password hashes", as written there but for a cheaper cost (the test's speed).
const COST = 2 ** 12;
function derive(password: string, salt: Buffer, cost: number): Promise<Buffer> {
  const options = { N: cost, r: 8, p: 1, maxmem: 256 * 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFKC'), salt, 32, options, (error, key) => (error ? reject(error) : resolve(key))));
}
async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt$${COST}$${salt.toString('base64url')}$${(await derive(password, salt, COST)).toString('base64url')}`;
}
async function checkPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, cost, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !/^\d+$/.test(cost ?? '') || salt === undefined || key === undefined) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await derive(password, Buffer.from(salt, 'base64url'), Number(cost));
  return actual.byteLength === expected.byteLength && timingSafeEqual(actual, expected);
}
const DUMMY_HASH = await hashPassword(randomBytes(16).toString('base64url'));

// examples/oidc.ts's safeNext, as docs/sessions.md describes it.
function safeNext(next: string | undefined): string {
  if (next === undefined || Buffer.byteLength(next) > 512) return '/';
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || /[\x00-\x1f\x7f]/.test(next)) return '/';
  return next;
}

interface User { hash: string; admin: boolean; name: string; avatar?: string }

function build() {
  const users = new Map<string, User>();
  const sessions = new CookieSessions({ secret: 'k'.repeat(32) });

  const routes = new RouteMap({
    home: '/',
    signup: { path: '/signup', methods: ['GET', 'POST'] },
    login: { path: '/login', methods: ['GET', 'POST'] },
    logout: { path: '/logout', methods: ['POST'] },
    profile: { path: '/profile', methods: ['GET', 'POST'] },
    avatar: { path: '/avatar', methods: ['POST'] },
    admin: '/admin/',
    crash: '/crash',
  });

  const page = (req: Request, title: string, body: string, status = 200): Response => {
    const flashes = sessionOf(req).consumeFlashes().map((f) => `<p class="flash ${e(f.category)}">${e(f.message)}</p>`).join('');
    return new Response(`<!doctype html><title>${e(title)}</title>${flashes}<h1>${e(title)}</h1>${body}`, { status, contentType: 'text/html' });
  };
  const hidden = (req: Request): string => `<input type="hidden" name="csrf" value="${csrfToken(req)}">`;
  const current = (req: Request): string | undefined => sessionOf(req).get<string>('user');
  // LoginRequiredMixin: to the login page, with the page asked for in `next`.
  const loginRequired = (req: Request): string => {
    const user = current(req);
    if (user === undefined) throw new HTTPSeeOther(`${routes.build('login')}?next=${encodeURIComponent(req.path + (req.queryString ? `?${req.queryString}` : ''))}`);
    return user;
  };
  const profileForm = (req: Request, values: { name: string }, error = ''): string =>
    `<form id="profile" method="post">${hidden(req)}${error ? `<p class="error">${e(error)}</p>` : ''}<input name="name" value="${e(values.name)}"><button>Save</button></form>`;

  const site = routes.app({
    home: (req) => page(req, 'Home', `Hello ${e(current(req) ?? 'stranger')}`),
    signup: async (req) => {
      if (req.method !== 'POST') return page(req, 'Sign up', `<form id="signup" method="post">${hidden(req)}<input name="user"><input name="password" type="password"><button>Go</button></form>`);
      await checkCsrf(req, formLimits);
      const form = await req.form(formLimits);
      const user = form.get('user') ?? '';
      const password = form.get('password') ?? '';
      if (!/^[a-z]{2,20}$/.test(user) || password.length < 8 || users.has(user)) return page(req, 'Sign up', `<p class="error">Invalid</p>`, 422);
      users.set(user, { hash: await hashPassword(password), admin: user === 'root', name: user });
      sessionOf(req).flash('Account created', 'success');
      return new HTTPSeeOther(routes.build('login'));
    },
    login: async (req) => {
      const next = safeNext(req.query.get('next'));
      if (req.method !== 'POST') return page(req, 'Log in', `<form id="login" method="post">${hidden(req)}<input name="user"><input name="password" type="password"><button>Go</button></form>`);
      await checkCsrf(req, formLimits);
      const form = await req.form(formLimits);
      const record = users.get(form.get('user') ?? '');
      // An unknown user costs a hash check too, so the time tells no one which names exist.
      const matches = await checkPassword(form.get('password') ?? '', record?.hash ?? DUMMY_HASH);
      if (record === undefined || !matches) {
        return page(req, 'Log in', '<p class="error">Wrong user name or password</p>', 200);
      }
      const session = sessionOf(req);
      session.clear();
      session.set('user', form.get('user'));
      session.flash('Welcome', 'info');
      return new HTTPSeeOther(next);
    },
    logout: async (req) => {
      await checkCsrf(req, formLimits);
      sessionOf(req).clear();
      return new HTTPSeeOther(routes.build('home'));
    },
    profile: async (req) => {
      const user = users.get(loginRequired(req))!;
      if (req.method !== 'POST') return page(req, 'Profile', profileForm(req, user) + `<form id="avatar" method="post" action="/avatar" enctype="multipart/form-data">${hidden(req)}<input type="file" name="avatar" accept="image/png"><button>Upload</button></form>`);
      await checkCsrf(req, formLimits);
      const name = (await req.form(formLimits)).get('name') ?? '';
      if (name.trim() === '' || name.length > 40) return page(req, 'Profile', profileForm(req, { name }, 'Name: 1 to 40 characters'), 422);
      user.name = name;
      sessionOf(req).flash('Saved', 'success');
      return new HTTPSeeOther(routes.build('profile'));
    },
    avatar: async (req) => {
      const user = users.get(loginRequired(req))!;
      await checkCsrf(req, uploadLimits);
      const file = (await req.files(uploadLimits)).get('avatar');
      if (file === undefined || !['image/png', 'image/jpeg'].includes(file.contentType)) return page(req, 'Profile', '<p class="error">A PNG or JPEG, please</p>', 422);
      user.avatar = `${file.size} ${file.inMemory ? 'memory' : 'disk'}`;
      return new HTTPSeeOther(routes.build('profile'));
    },
    admin: (req) => {
      const user = loginRequired(req);
      if (users.get(user)?.admin !== true) throw new HTTPForbidden('Admins only.');
      return page(req, 'Admin', `${users.size} users`);
    },
    crash: () => {
      throw new Error('boom');
    },
  });

  const app = compose(
    (inner) => proxyFix(inner, { xProto: 1, xHost: 1, trust: 'loopback' }),
    (inner) => errorPages(inner, { render: (error) => (error.code === 404 || error.code === 500 ? `<!doctype html><h1>Members: ${error.code}</h1>` : undefined) }),
    errors,
    crossOriginProtection,
    sessions.middleware,
  )(site);
  return { app, users, routes };
}

/** A browser's cookie jar, enough for one host: `Set-Cookie` lines stored, `Max-Age=0` deleting. */
class Jar {
  readonly values = new Map<string, string>();
  keep(setCookie: string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      if (/;\s*Max-Age=0/i.test(line)) this.values.delete(pair!.slice(0, eq));
      else this.values.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
  }
  get header(): string {
    return [...this.values].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

const tokenIn = (html: string): string => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
const urlencoded = { 'content-type': 'application/x-www-form-urlencoded' };

function multipart(token: string, size: number): { body: string; headers: Record<string, string> } {
  const body =
    `--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n${token}\r\n` +
    `--b\r\nContent-Disposition: form-data; name="avatar"; filename="me.png"\r\nContent-Type: image/png\r\n\r\n${'p'.repeat(size)}\r\n--b--\r\n`;
  return { body, headers: { 'content-type': 'multipart/form-data; boundary=b' } };
}

describe('a members site, from Django', () => {
  const site = build();
  const log = errorLog();
  let server: Awaited<ReturnType<typeof serve>>;
  let base: string;
  beforeAll(async () => {
    server = await serve(site.app, { host: '127.0.0.1', port: 0, log, trustedHosts: ['127.0.0.1', 'members.example'] });
    base = server.url.replace(/\/$/, '');
  });
  afterAll(async () => {
    await server.close();
    rmSync(spool, { recursive: true, force: true });
  });

  /** One request over the socket, the jar's cookies sent and the answer's stored. */
  async function ask(jar: Jar, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
    const res = await request(base + path, { ...options, headers: { cookie: jar.header, ...options.headers } });
    jar.keep(res.headers['set-cookie']);
    return { ...res, text: res.body.toString() };
  }
  const post = (jar: Jar, path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    ask(jar, path, { method: 'POST', body: new URLSearchParams(fields).toString(), headers: { ...urlencoded, ...headers } });

  it('keeps anonymous visitors out, HEAD as GET, and answers only the listed hosts', async () => {
    const jar = new Jar();
    const get = await ask(jar, '/profile?tab=1');
    const head = await ask(jar, '/profile?tab=1', { method: 'HEAD' });
    // LoginRequiredMixin: a redirect to the login page with the page in `next` (Django: 302).
    expect(get.status).toBe(303);
    expect(get.headers.location).toBe(`${base}/login?next=%2Fprofile%3Ftab%3D1`);
    expect([head.status, head.headers.location, head.headers['content-length'], head.text]).toEqual([303, get.headers.location, get.headers['content-length'], '']);
    // ALLOWED_HOSTS: DisallowedHost is a 400; a listed host with any port passes.
    const evil = await ask(jar, '/', { headers: { host: 'evil.example' } });
    expect([evil.status, evil.text]).toEqual([400, 'Bad Request: untrusted Host header\n']);
    expect((await ask(jar, '/', { headers: { host: 'MEMBERS.example:8000' } })).status).toBe(200);
    // A forwarded host passes the same list (SECURE_PROXY_SSL_HEADER + USE_X_FORWARDED_HOST).
    expect((await ask(jar, '/', { headers: { 'x-forwarded-host': 'evil.example' } })).status).toBe(400);
    // @require_POST: 405 with Allow; 404 and 500 through the site's own pages.
    const logout = await ask(jar, '/logout');
    expect([logout.status, logout.headers.allow]).toEqual([405, 'OPTIONS, POST']);
    expect(await ask(jar, '/nope')).toMatchObject({ status: 404, text: '<!doctype html><h1>Members: 404</h1>' });
    expect(await ask(jar, '/crash')).toMatchObject({ status: 500, text: '<!doctype html><h1>Members: 500</h1>' });
    expect(log.text).toContain('GET /crash HTTP/1.1 500: Error: boom');
  });

  it('signs up, logs in with a new session and CSRF token, and logs out', async () => {
    const jar = new Jar();
    let page = await ask(jar, '/signup');
    expect((await post(jar, '/signup', { csrf: tokenIn(page.text), user: 'ann', password: 'correct horse' })).status).toBe(303);
    expect(site.users.get('ann')?.hash).toMatch(/^scrypt\$4096\$[\w-]{22}\$[\w-]{43}$/);

    page = await ask(jar, '/login?next=/profile');
    const before = { token: tokenIn(page.text), session: jar.values.get('session') };
    const login = (fields: Record<string, string>, headers?: Record<string, string>) =>
      post(jar, '/login?next=/profile', { user: 'ann', password: 'correct horse', ...fields }, headers);
    // CSRF missing, wrong, or the post marked cross-site by the browser: 403, as Django.
    for (const [fields, headers] of [[{}], [{ csrf: 'A'.repeat(86) }], [{ csrf: before.token }, { 'sec-fetch-site': 'cross-site' }]] as const) {
      expect((await login(fields, headers)).status).toBe(403);
    }
    expect((await login({ csrf: before.token, password: 'wrong horse' })).text).toContain('Wrong user name or password');
    expect((await login({ csrf: before.token, user: 'nobody' })).text).toContain('Wrong user name or password');
    const done = await login({ csrf: before.token });
    expect([done.status, done.headers.location]).toEqual([303, `${base}/profile`]);
    // Session fixation: the cookie is another one, and the token from before the login is void (Django's rotate_token).
    const cookie = (done.headers['set-cookie'] as string[]).find((line) => line.startsWith('session='))!;
    expect(cookie).toMatch(/; HttpOnly; SameSite=Lax$/); // plain http: no Secure
    expect(jar.values.get('session')).not.toBe(before.session);
    expect((await post(jar, '/profile', { csrf: before.token, name: 'Ann' })).status).toBe(403);

    // The flash shows once; an invalid form comes back 422 with what was typed, escaped.
    page = await ask(jar, '/profile');
    expect(page.text).toContain('<p class="flash info">Welcome</p>');
    const token = tokenIn(page.text);
    const invalid = await post(jar, '/profile', { csrf: token, name: ` <b>${'x'.repeat(50)}` });
    expect(invalid.status).toBe(422);
    expect(invalid.text).toContain(`value=" &lt;b&gt;${'x'.repeat(50)}"`);
    expect(invalid.text).not.toContain('Welcome');
    // DATA_UPLOAD_MAX_NUMBER_FIELDS: a 413 here (Django: 400), before the view changes anything.
    const many = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`f${i}`, 'v']));
    const tooMany = await post(jar, '/profile', { csrf: token, name: 'Zed', ...many });
    expect([tooMany.status, site.users.get('ann')!.name]).toEqual([413, 'ann']);
    expect(tooMany.text).toContain('maxFields exceeded');
    const saved = await post(jar, '/profile', { csrf: token, name: 'Ann' });
    expect([saved.status, site.users.get('ann')!.name]).toEqual([303, 'Ann']);
    expect((await ask(jar, '/admin/')).status).toBe(403);
    expect((await ask(jar, '/profile', { method: 'HEAD' })).status).toBe(200);

    // Avatar: over maxFileSize is a 413 while it streams, spooled bytes removed; a file past
    // spoolThreshold (FILE_UPLOAD_MAX_MEMORY_SIZE) goes to disk, removed after the request.
    const big = multipart(token, 200_000);
    const refused = await ask(jar, '/avatar', { method: 'POST', ...big });
    expect(refused.status).toBe(413);
    expect(refused.text).toContain("maxFileSize exceeded: file 'me.png'");
    expect(readdirSync(spool)).toEqual([]);
    const small = multipart(token, 5000);
    expect((await ask(jar, '/avatar', { method: 'POST', ...small })).status).toBe(303);
    expect(site.users.get('ann')!.avatar).toBe('5000 disk');
    expect(readdirSync(spool)).toEqual([]);

    // `next` stays on the site, whatever the attempt (url_has_allowed_host_and_scheme).
    for (const next of ['//evil.example', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', '/\t/evil.example']) {
      page = await ask(jar, `/login?next=${encodeURIComponent(next)}`);
      const again = await post(jar, `/login?next=${encodeURIComponent(next)}`, { csrf: tokenIn(page.text), user: 'ann', password: 'correct horse' });
      expect(again.headers.location, next).toBe(`${base}/`);
    }

    // Logout deletes the cookie; a copy kept from before still logs in until it expires
    // (docs/sessions.md, as Django's signed_cookies sessions; its database sessions refuse it).
    page = await ask(jar, '/profile');
    const kept = jar.header;
    const out = await post(jar, '/logout', { csrf: tokenIn(page.text) });
    expect(out.headers['set-cookie']).toEqual(['session=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax']);
    expect(jar.values.has('session')).toBe(false);
    expect((await ask(jar, '/profile')).status).toBe(303);
    expect((await ask(new Jar(), '/profile', { headers: { cookie: kept } })).status).toBe(200);
  });

  it('sets the session cookie Secure behind a TLS-ending proxy (SESSION_COOKIE_SECURE by scheme)', async () => {
    const jar = new Jar();
    const res = await ask(jar, '/login', { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'members.example' } });
    expect(res.headers['set-cookie']).toEqual([expect.stringMatching(/^session=[^;]+; Max-Age=2678400; Path=\/; Expires=[^;]+; HttpOnly; Secure; SameSite=Lax$/)]);
  });

  it('runs the same flows through the TestClient, the Host check included', async () => {
    const { app, users } = build();
    const client = new TestClient(app, { baseUrl: 'https://members.example', trustedHosts: ['members.example'], status: '*' });
    expect((await client.get('/', { headers: { host: 'evil.example' } })).statusCode).toBe(400);
    await (await client.get('/signup')).form('#signup').set('user', 'bob').set('password', 'correct horse').submit();
    const login = await client.get('/login?next=/profile%3Fa%3D1');
    const home = await login.form('#login').set('user', 'bob').set('password', 'correct horse').submit({ followRedirects: 1 });
    expect(home.url).toBe('https://members.example/profile?a=1');
    expect(home.textBody).toContain('Welcome');
    let page = await client.get('/profile');
    const upload = await page.form('#avatar').upload('avatar', { filename: 'me.png', content: 'p'.repeat(3000), contentType: 'image/png' }).submit();
    expect([upload.statusCode, users.get('bob')!.avatar]).toEqual([303, '3000 disk']);
    page = await client.get('/profile');
    const big = await page.form('#avatar').upload('avatar', { filename: 'me.png', content: 'p'.repeat(70_000), contentType: 'image/png' }).submit();
    expect(big.statusCode).toBe(413);
    expect(readdirSync(spool)).toEqual([]);
    const forged = await client.post('/avatar', { form: {}, from: 'https://evil.example/' });
    expect(forged.statusCode).toBe(403);
    expect((await client.head('/admin/')).statusCode).toBe(403);
  });
});
