/**
 * A scenario: a form-heavy contacts CRUD app, ported from Flask as its docs guide (routes,
 * cookie sessions with login and flash, the documented CSRF token recipe on every unsafe form,
 * `methodOverride`, an attachment with a size limit, 422 with the input kept, 303 after POST,
 * custom 404/500 pages, `errors` logging), tested with TestClient through the page's forms, then
 * the same flows over a real socket to check that the client and `serve()` agree.
 */
import { describe, expect, it } from 'vitest';
import { type App, type FormOptions, HTTPNotFound, type Request, Response, compose, redirect, serve } from 'tsgi';
import { escapeHtml as e } from 'tsgi/http';
import { CookieSessions, errorPages, errors, methodOverride, sessionOf } from 'tsgi/middleware';
import { RouteMap, type UrlsOf } from 'tsgi/routing';
import { TestClient } from 'tsgi/testing';
import { checkCsrf, csrfToken } from './fixtures/csrf.ts';

const limits: FormOptions = Object.freeze({ maxFileSize: 1024, maxFiles: 1 });

const routes = new RouteMap({
  contacts: { path: '/contacts/', methods: ['GET', 'POST'] },
  create: '/contacts/new',
  contact: { path: '/contacts/<int:id>', methods: ['GET', 'PUT', 'DELETE'] },
  edit: '/contacts/<int:id>/edit',
  login: { path: '/login', methods: ['GET', 'POST'] },
  logout: { path: '/logout', methods: ['POST'] },
  crash: '/crash',
});
type Urls = UrlsOf<typeof routes>;

interface Contact { id: number; name: string; email: string; tags: string[]; file?: string }

function page(req: Request, title: string, body: string, status = 200): Response {
  const session = sessionOf(req);
  const flashes = session.consumeFlashes().map((f) => `<p class="flash ${e(f.category)}">${e(f.message)}</p>`).join('');
  const res = new Response(`<!doctype html><html><head><title>${e(title)}</title></head><body>${flashes}<h1>${e(title)}</h1>${body}</body></html>`, { status, contentType: 'text/html' });
  res.cacheControl.noStore = true;
  return res;
}

function contactForm(req: Request, action: string, c: Partial<Contact>, problems: string[] = []): string {
  return (
    problems.map((p) => `<p class="error">${e(p)}</p>`).join('') +
    `<form id="contact" method="post" action="${e(action)}" enctype="multipart/form-data">` +
    `<input type="hidden" name="csrf" value="${csrfToken(req)}">` +
    `<input name="name" value="${e(c.name ?? '')}"><input name="email" value="${e(c.email ?? '')}">` +
    ['friend', 'work'].map((t) => `<input type="checkbox" name="tags" value="${t}"${c.tags?.includes(t) ? ' checked' : ''}>`).join('') +
    `<input type="file" name="file"><button>Save</button></form>`
  );
}

function createApp(): App {
  const store = new Map<number, Contact>();
  let next = 1;
  const needUser = (req: Request, urls: Urls) => {
    if (!sessionOf(req).has('user')) throw redirect(urls.build('login'), 303);
  };
  const read = async (req: Request) => {
    await checkCsrf(req, limits);
    const form = await req.form(limits);
    const file = (await req.files(limits)).get('file');
    const c = { name: (form.get('name') ?? '').trim(), email: (form.get('email') ?? '').trim(), tags: form.getAll('tags'), file: file?.filename };
    const problems = [];
    if (c.name === '') problems.push('Name is required.');
    if (!c.email.includes('@')) problems.push('Email is invalid.');
    return { c, problems };
  };
  return routes.app({
    contacts: async (req, _v, urls) => {
      needUser(req, urls);
      if (req.method === 'POST') {
        const { c, problems } = await read(req);
        if (problems.length > 0) return page(req, 'New contact', contactForm(req, urls.build('contacts'), c, problems), 422);
        const id = next++;
        store.set(id, { id, ...c });
        sessionOf(req).flash(`Added ${c.name}.`, 'info');
        return redirect(urls.build('contact', { id }), 303);
      }
      const items = [...store.values()].map((c) => `<li><a href="${e(urls.build('contact', { id: c.id }))}">${e(c.name)}</a></li>`).join('');
      return page(req, 'Contacts', `<ul>${items}</ul><a href="${e(urls.build('create'))}">New contact</a>`);
    },
    create: (req, _v, urls) => {
      needUser(req, urls);
      return page(req, 'New contact', contactForm(req, urls.build('contacts'), {}));
    },
    contact: async (req, { id }, urls) => {
      needUser(req, urls);
      const c = store.get(id);
      if (!c) throw new HTTPNotFound(`No contact ${id}.`);
      if (req.method === 'DELETE') {
        await checkCsrf(req);
        store.delete(id);
        sessionOf(req).flash(`Deleted ${c.name}.`, 'info');
        return redirect(urls.build('contacts'), 303);
      }
      if (req.method === 'PUT') {
        const { c: edited, problems } = await read(req);
        if (problems.length > 0) return page(req, 'Edit', contactForm(req, `${urls.build('contact', { id })}?_method=PUT`, edited, problems), 422);
        Object.assign(c, edited, { file: edited.file ?? c.file });
        sessionOf(req).flash('Saved.', 'info');
        return redirect(urls.build('contact', { id }), 303);
      }
      return page(
        req,
        c.name,
        `<p class="email">${e(c.email)}</p><p class="tags">${e(c.tags.join(','))}</p><p class="file">${e(c.file ?? '')}</p>` +
          `<a href="${e(urls.build('edit', { id }))}">Edit</a>` +
          `<form id="delete" method="post" action="${e(urls.build('contact', { id }))}"><input type="hidden" name="_method" value="DELETE"><input type="hidden" name="csrf" value="${csrfToken(req)}"><button>Delete</button></form>`,
      );
    },
    edit: (req, { id }, urls) => {
      needUser(req, urls);
      const c = store.get(id);
      if (!c) throw new HTTPNotFound(`No contact ${id}.`);
      return page(req, 'Edit', contactForm(req, `${urls.build('contact', { id })}?_method=PUT`, c));
    },
    login: async (req, _v, urls) => {
      if (req.method === 'POST') {
        await checkCsrf(req);
        const user = ((await req.form()).get('user') ?? '').trim();
        if (user === '') return page(req, 'Log in', loginForm(req, urls, 'Your name, please.'), 422);
        const session = sessionOf(req);
        session.clear();
        session.set('user', user);
        session.flash(`Welcome, ${user}.`, 'info');
        return redirect(urls.build('contacts'), 303);
      }
      return page(req, 'Log in', loginForm(req, urls));
    },
    logout: async (req, _v, urls) => {
      await checkCsrf(req);
      sessionOf(req).clear();
      return redirect(urls.build('login'), 303);
    },
    crash: () => {
      throw new Error('boom');
    },
  });
}
const loginForm = (req: Request, urls: Urls, error?: string) =>
  `${error ? `<p class="error">${e(error)}</p>` : ''}<form id="login" method="post" action="${e(urls.build('login'))}"><input type="hidden" name="csrf" value="${csrfToken(req)}"><input name="user"><button>Log in</button></form>`;

const sessions = new CookieSessions({ secret: 'x'.repeat(32) });
const logged: string[] = [];
const build = () =>
  compose(
    (app: App) => errorPages(app, { render: (err) => `<h1 class="error-page">${err.code} ${e(err.title)}</h1><p>${e(err.detail ?? err.description)}</p>` }),
    (app: App) => errors(app, { log: { write: (line: string) => void logged.push(line) } }),
    methodOverride,
    sessions.middleware,
  )(createApp());

async function login(client: TestClient, user = 'ada') {
  const page = await client.get('/login');
  return page.form('#login').set('user', user).submit({ followRedirects: 1 });
}

describe('scenario: a Flask CRUD app under TestClient', () => {
  it('logs in, creates with a flash across the redirect, edits, deletes', async () => {
    const client = new TestClient(build());
    const home = await login(client);
    expect(home.select('.flash').map((p) => p.text)).toEqual(['Welcome, ada.']);
    const created = await (await home.click('New contact')).form('#contact').set('name', 'Bob').set('email', 'bob@x').set('tags', ['friend', 'work']).upload('file', { filename: 'a.txt', content: 'hi' }).submit();
    expect(created.statusCode).toBe(303);
    const shown = await created.follow();
    expect(shown.select('.flash').map((p) => p.text)).toEqual(['Added Bob.']);
    expect(shown.select('.tags')[0]?.text).toBe('friend,work');
    const edited = await (await shown.click('Edit')).form('#contact').set('email', 'bob@y').set('tags', []).submit({ followRedirects: 1 });
    expect([edited.select('.email')[0]?.text, edited.select('.tags')[0]?.text, edited.select('.file')[0]?.text]).toEqual(['bob@y', '', 'a.txt']);
    const list = await edited.form('#delete').submit({ followRedirects: 1 });
    expect(list.select('.flash').map((p) => p.text)).toEqual(['Deleted Bob.']);
    expect(list.select('li')).toEqual([]);
  });
});

describe('scenario: what a Flask user tests', () => {
  it('a missing or wrong CSRF token is a 403; a token from before the logout is worth nothing after it', async () => {
    const client = new TestClient(build());
    const home = await login(client);
    const form = (await home.click('New contact')).form('#contact').set('name', 'Bob').set('email', 'b@x');
    const missing = await form.set('csrf', '', { force: true }).submit({ status: 403 });
    expect(missing.select('.error-page').map((h) => h.text)).toEqual(['403 Forbidden']);
    expect(missing.select('p')[0]?.text).toBe('The CSRF token is missing or wrong.');
    await form.set('csrf', 'A'.repeat(86), { force: true }).submit({ status: 403 });
    await client.post('/contacts/', { form: { name: 'Bob', email: 'b@x' }, status: 403 }); // a plain call, no token

    const stale = (await client.get('/login')).form('#login'); // a page kept open in another tab
    await client.post('/logout', { form: { csrf: stale.get('csrf')! }, status: 303 });
    expect(client.cookies.get('session')).toBeUndefined();
    // Back button: the login form seen before the logout, posted again.
    const resubmitted = await stale.set('user', 'eve').submit({ status: 403 });
    expect(resubmitted.select('p')[0]?.text).toBe('The CSRF token is missing or wrong.');
  });

  it('422 keeps what was typed, 413 past the upload limit, an empty file input is no upload', async () => {
    const client = new TestClient(build());
    await login(client);
    const form = (await client.get('/contacts/new')).form('#contact');
    const bad = await form.set('name', '  ').set('email', 'nope <x>').set('tags', 'work').submit({ status: 422 });
    expect(bad.select('.error').map((p) => p.text)).toEqual(['Name is required.', 'Email is invalid.']);
    expect([bad.form('#contact').get('email'), bad.form('#contact').getAll('tags')]).toEqual(['nope <x>', ['work']]);
    const big = await bad.form('#contact').set('name', 'Big').upload('file', { filename: 'big.bin', content: 'x'.repeat(5000) }).submit({ status: 413 });
    expect(big.select('.error-page')[0]?.text).toBe('413 Content Too Large');
    expect(big.select('p')[0]?.text).toBe("maxFileSize exceeded: file 'big.bin' is larger than 1024 bytes");
    const ok = await bad.form('#contact').set('name', 'Empty').set('email', 'e@x').submit({ followRedirects: 1 });
    expect(ok.select('.file')[0]?.text).toBe('');
  });

  it('odd input: bytes that are no UTF-8, repeated names, more fields than the limit, a NUL', async () => {
    const client = new TestClient(build());
    await login(client);
    const csrf = (await client.get('/contacts/new')).form('#contact').get('csrf')!;
    const urlencoded = { 'content-type': 'application/x-www-form-urlencoded' };
    // As Werkzeug: bytes that are no UTF-8 read as U+FFFD, never a 500; `get` is the first value.
    const raw = await client.post('/contacts/', { body: `csrf=${csrf}&name=caf%E9&name=second&email=a%40b&tags=a&tags=b&%=&a%zz=1`, headers: urlencoded, followRedirects: 1 });
    expect([raw.select('h1')[0]?.text, raw.select('.tags')[0]?.text]).toEqual(['caf\uFFFD', 'a,b']);
    const nul = await client.post('/contacts/', { body: `csrf=${csrf}&name=a%00b&email=x@y`, headers: urlencoded, followRedirects: 1 });
    expect(nul.textBody).toContain('<h1>a\u0000b</h1>'); // kept, as Werkzeug keeps it (a browser's parser drops it from the text)
    const many = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`f${i}`, 'v']));
    const tooMany = await client.post('/contacts/', { form: { csrf, ...many }, status: 413 });
    expect(tooMany.select('p')[0]?.text).toBe('maxParts exceeded: the form has more than 1000 parts');
  });

  it('a double submit makes two (no token is single-use); an old session cookie still works after the logout', async () => {
    const client = new TestClient(build());
    await login(client);
    const form = (await client.get('/contacts/new')).form('#contact').set('name', 'Twice').set('email', 't@x');
    expect((await form.submit()).location).toBe('http://localhost/contacts/1');
    expect((await form.submit()).location).toBe('http://localhost/contacts/2');
    const old = client.cookies.get('session')!;
    const page = await client.get('/contacts/');
    await client.post('/logout', { form: { csrf: (await client.get('/contacts/new')).form('#contact').get('csrf')! } });
    expect((await client.get('/contacts/', { status: 303 })).location).toBe('http://localhost/login');
    // Signed cookies, no store: a copy of the cookie is a login until maxAge (docs/sessions.md), as in Flask.
    client.cookies.set('session', old, { path: '/' });
    expect((await client.get('/contacts/')).select('li').length).toBe(page.select('li').length);
  });

  it('404 and 500 pages in the site\'s look; the 500 logged by errors', async () => {
    const client = new TestClient(build());
    expect((await client.get('/nope', { status: 404 })).select('.error-page')[0]?.text).toBe('404 Not Found');
    await login(client);
    expect((await client.get('/contacts/99', { status: 404 })).select('p')[0]?.text).toBe('No contact 99.');
    logged.length = 0;
    const boom = await client.get('/crash', { status: 500 });
    expect(boom.select('.error-page')[0]?.text).toBe('500 Internal Server Error');
    expect(logged.join('')).toMatch(/^\[tsgi\] GET \/crash HTTP\/1\.1 500: Error: boom/);
  });

  it('names and filenames with a quote reach the app as from a browser', async () => {
    const client = new TestClient(build());
    await login(client);
    const form = (await client.get('/contacts/new')).form('#contact').set('name', 'Q').set('email', 'q@x');
    const shown = await form.upload('file', { filename: 'my "cv".txt', content: 'x' }).submit({ followRedirects: 1 });
    expect(shown.select('.file')[0]?.text).toBe('my "cv".txt');
  });
});

describe('scenario: the same flows over a socket agree with the TestClient', () => {
  it('statuses, locations and header fields match, request for request', async () => {
    const server = await serve(build(), { host: '127.0.0.1', port: 0 });
    try {
      const base = server.url.replace(/\/$/, '');
      const client = new TestClient(build(), { baseUrl: base, status: '*' });
      let cookie = '';
      let pages = { socket: '', client: '' };
      const fields = (entries: Iterable<[string, string]>) =>
        [...entries]
          .filter(([name]) => !['date', 'connection', 'keep-alive'].includes(name.toLowerCase()))
          .map(([name, value]) => `${name.toLowerCase()}: ${name.toLowerCase() === 'set-cookie' ? value.replace(/=[^;]*/, '=…').replace(/Expires=[^;]*/, '') : value}`)
          .sort();
      const token = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
      /** One request both ways: `body` gets the page each side last saw (its CSRF token is that side's). */
      const both = async (method: string, path: string, body?: (page: string) => FormData | URLSearchParams) => {
        const headers = { origin: base, 'sec-fetch-site': 'same-origin', 'accept-encoding': 'identity' };
        const viaSocket = await fetch(base + path, { method, body: body?.(pages.socket) ?? null, redirect: 'manual', headers: { ...headers, cookie } });
        for (const c of viaSocket.headers.getSetCookie()) cookie = c.split(';')[0]!.endsWith('=') ? '' : c.split(';')[0]!;
        const inProcess = await client.request(method, path, { body: body?.(pages.client), headers });
        pages = { socket: await viaSocket.text(), client: inProcess.textBody };
        expect([inProcess.statusCode, fields(inProcess.headers)], `${method} ${path}`).toEqual([viaSocket.status, fields(viaSocket.headers)]);
        return inProcess.statusCode;
      };
      const form = (entries: Record<string, string | File>) => (page: string) => {
        const data = new FormData();
        data.append('csrf', token(page));
        for (const [name, value] of Object.entries(entries)) data.append(name, value);
        return data;
      };
      const urlencoded = (entries: Record<string, string>) => (page: string) => new URLSearchParams({ csrf: token(page), ...entries });
      const statuses = [
        await both('GET', '/login'),
        await both('POST', '/login', urlencoded({ user: 'ada' })),
        await both('GET', '/contacts/new'),
        await both('POST', '/contacts/', form({ name: 'B', email: 'b@x', file: new File([new Uint8Array(5000)], 'big.bin') })),
        await both('GET', '/contacts/new'),
        await both('POST', '/contacts/', form({ name: '', email: 'b', file: new File([], '') })),
        await both('POST', '/contacts/', form({ name: 'Bob', email: 'b@x', file: new File([], '') })),
        await both('GET', '/contacts/1'),
        await both('POST', '/contacts/1', urlencoded({ _method: 'DELETE' })),
        await both('GET', '/contacts/1'),
        await both('POST', '/contacts/', urlencoded({ name: 'x' }).bind(null, '')),
        await both('GET', '/logout'),
        await both('HEAD', '/contacts/'),
        await both('GET', '/crash'),
      ];
      expect(statuses).toEqual([200, 303, 200, 413, 200, 422, 303, 200, 303, 404, 403, 405, 200, 500]);
    } finally {
      await server.close();
    }
  });
});
