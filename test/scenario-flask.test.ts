/**
 * A scenario: a Flask/Werkzeug user ports a small service to tsgi from docs/flask.md and the
 * pages it links: a URL map with `int`, `path` and a custom converter, URLs built under a mount
 * prefix and behind `proxyFix` (`X-Forwarded-Proto`/`Host`/`Prefix`), a blueprint-like part
 * mounted at `/admin` behind a session login with flash messages and a redirect back to
 * `next`, an upload with `safeFilename` and a size limit (413), `abort(404)`/`abort(403)`
 * rendered as an HTML page for browsers and JSON for `Accept: application/json`, `jsonify`
 * with a 201 and `Location`, cookies, a download with a non-ASCII name answering conditional
 * and range requests, `getAll` on the query, the documented `get_json(silent=True)` recipe,
 * strict-slash redirects and a 405 with `Allow`. The same service in Flask 3.1 was asked the
 * same requests; where the answers differ, the docs say so (docs/flask.md, docs/forms.md,
 * docs/middleware-static.md "Coming from Flask's send_file", docs/sessions.md), and this file
 * keeps the tsgi side, over a real socket.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { HTTPBadRequest, type Request, Response, abort, compose, defineEnvironKey, defineMiddleware, redirect } from 'tsgi';
import { escapeHtml as e } from 'tsgi/http';
import { CookieSessions, errorPages, errors, fileApp, mount, proxyFix, sessionOf } from 'tsgi/middleware';
import { type Converter, RouteMap } from 'tsgi/routing';
import { errorLog, parseRaw, rawExchange, rawGet, request, serveForSuite } from './node-helpers.ts';

const doc = (name: string): string => readFileSync(fileURLToPath(new URL(`../docs/${name}`, import.meta.url)), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'tsgi-flask-'));
const body = 'hello world, this is the report body\n';
writeFileSync(join(dir, 'résumé.txt'), body);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A custom converter (Werkzeug's BaseConverter with to_python refusing other words).
const lang: Converter<string> = { regex: '[a-z]{2}', toValue: (t) => (['en', 'fr', 'de'].includes(t) ? t : undefined), toUrl: (v) => v };
const items = new Map<number, { id: number; name: string }>([[1, { id: 1, name: 'one' }]]);
let nextId = 2;
const sessions = new CookieSessions({ secret: 'k'.repeat(32) });
// docs/flask.md, blueprints row: the site's root, kept outside `mount`.
const siteUrl = defineEnvironKey<string>('app.site_url');
const keepSiteUrl = defineMiddleware({ before(req) { siteUrl.set(req, req.applicationUrl); } });
const safeNext = (n: string | undefined): string => (n === undefined || !n.startsWith('/') || n.startsWith('//') || n.startsWith('/\\') ? '/' : n);

const routes = new RouteMap({
  index: '/',
  items: { path: '/items/', methods: ['GET', 'POST'] },
  item: '/items/<int:id>',
  files: '/files/<path:p>',
  hello: '/hello/<lang:code>',
  about: { path: '/about/', strictSlashes: false },
  download: '/download',
  upload: { path: '/upload', methods: ['POST'] },
  cookie: '/cookie',
  go: '/go',
  secret: '/secret',
  login: { path: '/login', methods: ['GET', 'POST'] },
}, { converters: { lang } });
const adminRoutes = new RouteMap({ dash: '/', user: '/users/<int:id>' });

const download = fileApp(join(dir, 'résumé.txt'), { download: 'résumé.txt' });
const site = routes.app({
  index: (req) => `index ${sessionOf(req).consumeFlashes().map((f) => `${f.category}:${f.message}`).join('|')}`,
  items: async (req, _v, urls) => {
    if (req.method === 'GET') return Response.json({ tags: req.query.getAll('tag') });
    // docs/flask.md: request.get_json(silent=True)
    const data = req.contentType === 'application/json' ? await req.json().catch((e) => { if (e instanceof HTTPBadRequest) return undefined; throw e; }) : undefined;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) abort(400, 'Send a JSON object.');
    const id = nextId++;
    items.set(id, { id, name: String((data as { name?: unknown }).name) });
    const res = Response.json(items.get(id), { status: 201 });
    res.headers.set('Location', urls.build('item', { id }));
    return res;
  },
  item: (_req, { id }) => Response.json(items.get(id) ?? abort(404)),
  files: (_req, { p }) => `file ${p}`,
  hello: (_req, { code }, urls) => `hello ${code} ${urls.build('hello', { code })}`,
  about: () => 'about',
  download: () => download,
  upload: async (req) => {
    const doc = (await req.files({ maxBodySize: 1024, maxFileSize: 512 })).get('doc');
    if (doc === undefined) abort(400, 'Choose a file.');
    return `saved ${doc.safeFilename} ${doc.size}`;
  },
  cookie: () => {
    const res = new Response('cookie');
    res.setCookie('theme', 'dark', { maxAge: 3600, httpOnly: true, sameSite: 'lax' });
    return res;
  },
  go: (_req, _v, urls) => redirect(urls.build('item', { id: 1 }), 302),
  secret: () => abort(403),
  login: async (req, _v, urls) => {
    if (req.method === 'GET') return `login form next=${req.query.get('next') ?? ''}`;
    const form = await req.form();
    const session = sessionOf(req);
    if (form.get('password') !== 'pw') {
      session.flash('Wrong password', 'error');
      return redirect(urls.build('login', { next: req.query.get('next') }), 302);
    }
    session.clear();
    session.set('user', form.get('user') ?? '?');
    session.flash('Welcome', 'info');
    return redirect(safeNext(req.query.get('next')), 302);
  },
});
const admin = adminRoutes.app({
  dash: (req) => `admin ${sessionOf(req).get<string>('user')}`,
  user: (req, { id }, urls) => `user ${id} ${urls.build('user', { id }, { external: true })} ${siteUrl.get(req)}${routes.build('item', { id })}`,
});
const loginRequired = defineMiddleware({
  before(req) {
    if (sessionOf(req).get('user') !== undefined) return undefined;
    return redirect(`${siteUrl.get(req)}${routes.build('login', { next: req.path + (req.queryString ? `?${req.queryString}` : '') })}`, 302);
  },
});
// @app.errorhandler: an HTML page for browsers, the default JSON for API clients.
const render = (error: { code: number; title: string; detail?: string | undefined }, req: Request): string | undefined =>
  req.accept.bestMatch(['text/html', 'application/json'], 'text/html') === 'text/html'
    ? `<!doctype html><title>${error.code}</title><h1>${e(error.title)}</h1><p>${e(error.detail ?? '')}</p>`
    : undefined;

const log = errorLog();
const app = proxyFix(compose(errors, keepSiteUrl, sessions.middleware)(errorPages(mount({ '/admin': loginRequired(admin), '/': site }), { render })), { xProto: 1, xHost: 1, xPrefix: 1 });
const suite = serveForSuite(app, { log });
const url = (path: string): string => `http://127.0.0.1:${suite.port}${path}`;
const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => request(url(path), { method, headers });
const proxied = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'example.com', 'x-forwarded-prefix': '/svc' };
const cookieOf = (setCookie: string[] | undefined): string => (setCookie ?? []).map((c) => c.split(';')[0]).join('; ');

describe('scenario: a Flask service ported to tsgi (socket)', () => {
  it('matches converters and answers strict slashes, 405 and OPTIONS as the docs say', async () => {
    expect(JSON.parse((await get('/items/1')).body.toString())).toEqual({ id: 1, name: 'one' });
    expect((await get('/items/abc')).status).toBe(404);
    expect((await get('/items/99999999999999999999')).status).toBe(404);
    expect((await get('/files/a/b/c.txt')).body.toString()).toBe('file a/b/c.txt');
    expect((await get('/hello/fr')).body.toString()).toBe('hello fr /hello/fr');
    expect((await get('/hello/xx')).status).toBe(404);
    const slash = await get('/items?x=1');
    expect([slash.status, slash.headers.location]).toEqual([308, url('/items/?x=1')]);
    expect((await get('/about')).body.toString()).toBe('about');
    expect((await get('/about/')).body.toString()).toBe('about');
    const merged = await get('/items//1', proxied);
    expect([merged.status, merged.headers.location]).toEqual([308, 'https://example.com/svc/items/1']);
    const post = await get('/items/1', {}, 'POST');
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD, OPTIONS']);
    expect(post.headers['content-type']).toBe('text/html; charset=utf-8'); // errorPages renders it, Allow kept
    const options = await get('/items/', {}, 'OPTIONS');
    expect([options.status, options.headers.allow]).toEqual([204, 'GET, HEAD, OPTIONS, POST']);
    expect(JSON.parse((await get('/items/?tag=a&tag=b&tag=&tag=c+d')).body.toString())).toEqual({ tags: ['a', 'b', '', 'c d'] });
  });

  it('renders abort(404)/abort(403) as HTML for browsers and JSON for API clients, Vary: Accept', async () => {
    const html = await get('/items/99', { accept: 'text/html' });
    expect([html.status, html.headers['content-type'], html.headers.vary]).toEqual([404, 'text/html; charset=utf-8', 'Accept']);
    expect(html.body.toString()).toContain('<h1>Not Found</h1>');
    const json = await get('/secret', { accept: 'application/json' });
    expect([json.status, json.headers['content-type']]).toEqual([403, 'application/json']);
    expect(JSON.parse(json.body.toString())).toMatchObject({ code: 403, title: 'Forbidden' });
    expect((await get('/secret', { accept: 'application/json;q=0.5, text/html;q=0.9' })).headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('creates with a 201 and a relative Location; get_json(silent=True) keeps the 413', async () => {
    const created = await request(url('/items/'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"né"}' });
    expect([created.status, created.headers['content-type']]).toEqual([201, 'application/json']);
    expect(created.headers.location).toMatch(/^\/items\/\d+$/);
    expect(JSON.parse(created.body.toString()).name).toBe('né');
    for (const [type, text] of [['application/json', '{bad'], ['application/json', ''], ['text/plain', '{"name":"n"}'], ['application/json', '[1]']]) {
      const bad = await request(url('/items/'), { method: 'POST', headers: { 'content-type': type!, accept: 'application/json' }, body: text });
      expect([bad.status, JSON.parse(bad.body.toString()).message]).toEqual([400, 'Send a JSON object.']);
    }
    // A body past json()'s 1 MiB stays json()'s 413, as Flask's silent keeps MAX_CONTENT_LENGTH's.
    const big = await request(url('/items/'), { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, body: ' '.repeat(1_100_000) });
    expect(big.status).toBe(413);
    expect(doc('flask.md')).toContain("`req.contentType === 'application/json' ? await req.json().catch((e) => { if (e instanceof HTTPBadRequest) return undefined; throw e; }) : undefined`");
  });

  it('saves an upload under safeFilename (kept as the docs say), 413 past the limit', async () => {
    const upload = (filename: string, content: string) => {
      const form = new FormData();
      form.append('doc', new Blob([content]), filename);
      return fetch(url('/upload'), { method: 'POST', body: form });
    };
    expect(await (await upload('../../etc/pa ss.txt', 'tiny')).text()).toBe('saved pa ss.txt 4');
    expect(await (await upload('résumé final.txt', 'tiny')).text()).toBe('saved résumé final.txt 4');
    expect(doc('forms.md')).toContain('`résumé final.txt` stays as it is and `../../etc/pa ss.txt` is `pa ss.txt`');
    const tooBig = await upload('big.txt', 'x'.repeat(2000));
    expect([tooBig.status, tooBig.headers.get('content-type')]).toEqual([413, 'text/html; charset=utf-8']);
    const none = await fetch(url('/upload'), { method: 'POST', body: new FormData() });
    expect([none.status, await none.text()]).toEqual([400, '<!doctype html><title>400</title><h1>Bad Request</h1><p>Choose a file.</p>']);
  });

  it('sets cookies and redirects to an absolute Location, through the proxy headers too', async () => {
    const cookie = await get('/cookie');
    expect(cookie.headers['set-cookie']![0]).toMatch(/^theme=dark; Max-Age=3600; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
    expect((await get('/go')).headers.location).toBe(url('/items/1'));
    expect((await get('/go', proxied)).headers.location).toBe('https://example.com/svc/items/1');
  });

  it('logs in with a flash and goes back to next; the admin part builds its URLs under /admin', async () => {
    const out = await get('/admin/users/3?x=1');
    expect([out.status, out.headers.location]).toEqual([302, url('/login?next=%2Fadmin%2Fusers%2F3%3Fx%3D1')]);
    const wrong = await request(url('/login?next=/admin/users/3'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'user=ada&password=no' });
    expect(wrong.headers.location).toBe(url('/login?next=%2Fadmin%2Fusers%2F3'));
    expect((await get('/', { cookie: cookieOf(wrong.headers['set-cookie']) })).body.toString()).toBe('index error:Wrong password');
    const login = await request(url('/login?next=/admin/users/3'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'user=ada&password=pw' });
    expect([login.status, login.headers.location]).toEqual([302, url('/admin/users/3')]);
    const session = cookieOf(login.headers['set-cookie']);
    expect(login.headers['set-cookie']![0]).toMatch(/; Path=\/; .*HttpOnly; SameSite=Lax$/);
    expect((await get('/', { cookie: session })).body.toString()).toBe('index info:Welcome');
    const page = await get('/admin/users/3', { cookie: session, ...proxied });
    expect(page.body.toString()).toBe('user 3 https://example.com/svc/admin/users/3 https://example.com/svc/items/3');
    expect([page.headers.vary, page.headers['cache-control']]).toEqual(['Cookie', 'private']);
    const bare = await get('/admin', { cookie: session, ...proxied });
    expect([bare.status, bare.headers.location]).toEqual([308, 'https://example.com/svc/admin/']);
    const evil = await request(url('/login?next=//evil.com'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'user=ada&password=pw' });
    expect(evil.headers.location).toBe(url('/'));
    // Behind the prefix, the session cookie keeps Flask's default Path=/ (docs/sessions.md, Coming from Flask).
    const prefixed = await request(url('/login'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...proxied }, body: 'user=ada&password=pw' });
    expect(prefixed.headers['set-cookie']![0]).toMatch(/; Path=\/; .*HttpOnly; Secure; SameSite=Lax$/);
    expect(doc('sessions.md')).toContain('`Path=/` as Flask\'s default `APPLICATION_ROOT`');
  });

  it('takes bad input, hang-ups and concurrent uploads with a 4xx or an answer, never a 500', async () => {
    const malformed = await request(url('/upload'), { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x', accept: 'application/json' }, body: '--x\r\nContent-Disposition: form-data; name="doc"; filename="a.txt"\r\n\r\nhi' });
    expect([malformed.status, JSON.parse(malformed.body.toString()).message]).toEqual([400, 'Malformed multipart body: unexpected end of the body (truncated, or no closing boundary)']);
    const tooBigFile = new FormData();
    tooBigFile.append('doc', new Blob(['x'.repeat(600)]), 'r.bin');
    const refused = await fetch(url('/upload'), { method: 'POST', body: tooBigFile, headers: { accept: 'application/json' } });
    expect([refused.status, ((await refused.json()) as { message: string }).message]).toEqual([413, "maxFileSize exceeded: file 'r.bin' is larger than 512 bytes"]);
    // Werkzeug hands a path value `a/../b` to the view; behind mount, the path is resolved first.
    const dots = parseRaw((await rawExchange(suite.port, rawGet('/files/a/../b'))).raw);
    expect([dots.status, dots.header('location')]).toEqual([308, 'http://127.0.0.1/files/b']); // rawGet's Host: 127.0.0.1
    // A client that leaves mid-upload: nothing logged, the server goes on.
    const socket = connect(suite.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.on('connect', resolve));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 900\r\n\r\n--x\r\nContent-Disposition: form-data; name="doc"; filename="a.txt"\r\n\r\naaaa', () => socket.destroy());
    await closed;
    const uploads = await Promise.all(Array.from({ length: 12 }, (_, i) => {
      const form = new FormData();
      form.append('doc', new Blob([String(i).repeat(i + 1)]), `f${i}.txt`);
      return fetch(url('/upload'), { method: 'POST', body: form }).then((r) => r.text());
    }));
    expect(uploads).toEqual(Array.from({ length: 12 }, (_, i) => `saved f${i}.txt ${String(i).repeat(i + 1).length}`));
  });

  it('sends the download as send_file does, and answers conditions and ranges by RFC 9110', async () => {
    const full = await get('/download');
    expect(full.status).toBe(200);
    expect(full.body.toString()).toBe(body);
    expect(full.headers['content-disposition']).toBe("attachment; filename=resume.txt; filename*=UTF-8''r%C3%A9sum%C3%A9.txt");
    expect([full.headers['content-type'], full.headers['cache-control'], full.headers['accept-ranges']]).toEqual(['text/plain; charset=utf-8', 'no-cache', 'bytes']);
    const etag = full.headers.etag!;
    const lastModified = full.headers['last-modified']!;
    const notModified = await get('/download', { 'if-none-match': etag });
    expect([notModified.status, notModified.headers.etag, notModified.headers['content-disposition']]).toEqual([304, etag, undefined]);
    expect((await get('/download', { 'if-modified-since': lastModified })).status).toBe(304);
    expect((await get('/download', { 'if-none-match': `W/${etag}`, range: 'bytes=0-2' })).status).toBe(304);
    const part = await get('/download', { range: 'bytes=0-4' });
    expect([part.status, part.headers['content-range'], part.body.toString()]).toEqual([206, 'bytes 0-4/37', 'hello']);
    expect((await get('/download', { range: 'bytes=-5' })).body.toString()).toBe('body\n');
    expect((await get('/download', { range: 'bytes=100-200' })).headers['content-range']).toBe('bytes */37');
    expect((await get('/download', { range: 'bytes=0-4', 'if-range': `W/${etag}` })).status).toBe(200);
    expect((await get('/download', { range: 'bytes=0-4', 'if-match': '"other"' })).status).toBe(412);
    expect((await get('/download', { range: 'bytes=0-4' }, 'HEAD')).status).toBe(200);
    expect((await get('/download', { range: 'bytes=0-1,3-4' })).headers['content-type']).toMatch(/^multipart\/byteranges; boundary=/);
    expect((await get('/download', { range: 'lines=1-2' })).status).toBe(200);
    expect(doc('middleware-static.md')).toContain("### Coming from Flask's `send_file`");
    expect(log.text).toBe('');
  });
});
