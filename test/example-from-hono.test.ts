/**
 * examples/from-hono.ts, a Hono blog ported to tsgi: every route and middleware it claims, each
 * case run twice, over a real socket (`serve()` on 127.0.0.1, port 0, asked with fetch) and
 * through `toFetchHandler` (a fetch `Request` in, a fetch `Response` out, as Bun, Deno and
 * workerd call it). Bad input answers 4xx: malformed JSON 400, unknown route 404, wrong method
 * 405, no or a bad token 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, type ServerHandle, serve } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { TestClient, TestClientError } from 'tsgi/testing';
import handler, { type Post, type PostStore, createBlog, memoryStore } from '../examples/from-hono.ts';
import { hmacKey, signJwt } from '../examples/gateway.ts';

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
const FRONT = 'http://localhost:5173';
const posts = (): Post[] => [
  { id: 1, title: 'Hello <tsgi>', body: 'Ported.', tags: ['tsgi', 'hono'] },
  { id: 2, title: 'Streams', body: 'SSE.', tags: ['tsgi'] },
];

/** A log that keeps its lines. */
function lines() {
  const kept: string[] = [];
  return { kept, write: (line: string) => void kept.push(line) };
}

type Call = (path: string, init?: RequestInit) => Promise<globalThis.Response>;

/** The app on one transport: `call(path, init)` answers the fetch Response the client gets. */
interface Transport {
  start(app: App): Promise<Call>;
  stop(): Promise<void>;
}

function socket(): Transport {
  let server: ServerHandle | undefined;
  return {
    async start(app) {
      server = await serve(app, { port: 0 });
      const base = server.url;
      return (path, init) => fetch(new URL(path, base), { redirect: 'manual', ...init });
    },
    stop: async () => void (await server?.close()),
  };
}

function fetchHandler(): Transport {
  return {
    async start(app) {
      const fetchIt = toFetchHandler(app);
      return (path, init) => fetchIt(new globalThis.Request(new URL(path, 'http://blog.test'), init));
    },
    stop: async () => undefined,
  };
}

/** The events of a text/event-stream body: `[event, id, data]` each. */
function events(text: string): Array<[string, string, string]> {
  return text
    .split('\n\n')
    .filter((block) => block.includes('data:'))
    .map((block) => {
      const field = (name: string) => block.split('\n').find((line) => line.startsWith(`${name}:`))?.slice(name.length + 1).trim() ?? '';
      return [field('event'), field('id'), field('data')];
    });
}

describe.each([
  ['over a socket', socket],
  ['through toFetchHandler', fetchHandler],
])('examples/from-hono.ts %s', (_name, transport) => {
  const access = lines();
  const errorLog = lines();
  const tp = transport();
  let call: Call;
  let token: string;

  beforeAll(async () => {
    call = await tp.start(await createBlog({ store: memoryStore(posts()), secret: SECRET, adminPassword: 'pw', origins: [FRONT], log: access, errorLog }));
    token = await signJwt({ sub: 'ann', exp: Math.floor(Date.now() / 1000) + 600 }, await hmacKey(SECRET));
  });
  afterAll(() => tp.stop());

  it('GET /: an HTML page (c.html) listing the posts, escaped, under secureHeaders, timed, logged (logger)', async () => {
    const res = await call('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain('<html class="light">');
    expect(html).toContain('<a href="/posts/1">Hello &lt;tsgi&gt;</a>');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('x-response-time')).toMatch(/^\d+\.\dms$/);
    expect(access.kept.some((line) => line.includes('"GET / HTTP/1.1" 200'))).toBe(true);
  });

  it('?tag=a&tag=b filters by every tag (c.req.queries)', async () => {
    const both = await (await call('/?tag=tsgi&tag=hono')).text();
    expect(both).toContain('/posts/1');
    expect(both).not.toContain('/posts/2');
    expect(await (await call('/?tag=none')).text()).toContain('<ul></ul>');
  });

  it('POST /theme reads the form (parseBody), sets the cookie (setCookie) and redirects (c.redirect); getCookie reads it back', async () => {
    const res = await call('/theme', { method: 'POST', body: new URLSearchParams({ theme: 'dark' }) });
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location')!).pathname).toBe('/');
    expect(res.headers.get('set-cookie')).toMatch(/^theme=dark; Max-Age=31536000; Path=\/; Expires=.*; HttpOnly; SameSite=Lax$/);
    expect(await (await call('/', { headers: { cookie: 'theme=dark' } })).text()).toContain('<html class="dark">');
    // The cookie is the client's: one naming no theme is not put in the page.
    expect(await (await call('/', { headers: { cookie: 'theme="><script>x</script>' } })).text()).toContain('<html class="light">');
    const bad = await call('/theme', { method: 'POST', body: new URLSearchParams({ theme: 'pink' }) });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('theme: one of light, dark.');
    const wrongMethod = await call('/theme');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('OPTIONS, POST');
  });

  it('refuses a cross-site form post (csrf())', async () => {
    const res = await call('/theme', { method: 'POST', body: new URLSearchParams({ theme: 'dark' }), headers: { 'sec-fetch-site': 'cross-site' } });
    expect(res.status).toBe(403);
  });

  it('/posts/:id is <int:id>: a page, or the 404 of app.notFound (an HTML page naming the post)', async () => {
    expect(await (await call('/posts/2')).text()).toContain('<h1>Streams</h1>');
    const missing = await call('/posts/9');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await missing.text()).toContain('<p>There is no post 9.</p>');
    expect(missing.headers.get('x-response-time')).toMatch(/ms$/); // the after hook sees error pages too
    expect((await call('/posts/abc')).status).toBe(404);
    expect((await call('/nowhere')).status).toBe(404);
  });

  it('GET /events streams the posts as server-sent events (streamSSE), from Last-Event-ID (c.req.header)', async () => {
    const res = await call('/events');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const all = events(await res.text());
    expect(all.map(([event, id]) => [event, id])).toEqual([['post', '1'], ['post', '2'], ['done', '']]);
    expect(JSON.parse(all[0]![2])).toMatchObject({ id: 1, title: 'Hello <tsgi>' });
    const resumed = events(await (await call('/events', { headers: { 'last-event-id': '1' } })).text());
    expect(resumed.map(([event, id]) => [event, id])).toEqual([['post', '2'], ['done', '']]);
    for (const id of ['x', '1e3', '-1']) expect((await call('/events', { headers: { 'last-event-id': id } })).status, id).toBe(400);
  });

  it('GET /api/posts (app.route): JSON (c.json), ?limit= (c.req.query) checked, errors as JSON (app.onError/notFound)', async () => {
    const res = await call('/api/posts?limit=1');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(((await res.json()) as Post[]).map((post) => post.id)).toEqual([1]);
    const bad = await call('/api/posts?limit=0');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'Bad Request', detail: 'limit: 1 to 100.' });
    const missing = await call('/api/posts/9');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'Not Found', detail: 'There is no post 9.' });
    const unknown = await call('/api/nothing');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'Not Found' });
    const wrongMethod = await call('/api/posts/1', { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('GET /api/posts/:id has an ETag and answers 304 to it (etag())', async () => {
    const res = await call('/api/posts/1');
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^"[^"]+"$/);
    const again = await call('/api/posts/1', { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    // etag() is around the whole API, as app.use('/api/*', etag()): the list is tagged too.
    const list = await call('/api/posts');
    const listTag = list.headers.get('etag');
    expect(listTag).toMatch(/^"[^"]+"$/);
    expect((await call('/api/posts', { headers: { 'if-none-match': listTag! } })).status).toBe(304);
  });

  it('POST /api/posts needs a JWT (jwt()): none or a bad one 401, then malformed JSON 400, another type 415, a bad shape 422, else 201', async () => {
    const json = (body: string, headers: Record<string, string> = {}) =>
      call('/api/posts', { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    const anonymous = await json('{"title":"x","body":""}');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="blog"');
    expect(await anonymous.json()).toMatchObject({ error: 'Unauthorized' });
    const forged = await signJwt({ sub: 'eve', exp: Math.floor(Date.now() / 1000) + 600 }, await hmacKey('another-secret-of-at-least-32-bytes!!'));
    expect((await json('{"title":"x","body":""}', { authorization: `Bearer ${forged}` })).status).toBe(401);
    expect((await json('{"title":"x","body":""}', { authorization: 'Bearer not.a.jwt' })).status).toBe(401);
    const auth = { authorization: `Bearer ${token}` };
    const malformed = await json('{"title":', auth);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: 'Bad Request', detail: expect.stringContaining('not valid JSON') });
    const text = await call('/api/posts', { method: 'POST', body: 'x', headers: { ...auth, 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    const invalid = await json('{"title":"","body":"b"}', auth);
    expect(invalid.status).toBe(422);
    expect(await invalid.json()).toEqual({ error: 'Unprocessable Content', detail: 'title: a non-empty string.' });
    const created = await json('{"title":"New","body":"b","tags":["x"]}', auth);
    expect(created.status).toBe(201);
    const location = created.headers.get('location')!;
    expect(new URL(location).pathname).toBe('/api/posts/3');
    expect(await created.json()).toEqual({ id: 3, title: 'New', body: 'b', tags: ['x'] });
    expect(await (await call(new URL(location).pathname)).json()).toMatchObject({ id: 3, title: 'New' });
  });

  it('GET /api/me answers the token\'s subject (c.get(\'jwtPayload\'))', async () => {
    expect((await call('/api/me')).status).toBe(401);
    expect(await (await call('/api/me', { headers: { authorization: `Bearer ${token}` } })).json()).toEqual({ user: 'ann' });
  });

  it('answers CORS preflights for the front end, and adds the fields to answers (cors())', async () => {
    const preflight = await call('/api/posts', { method: 'OPTIONS', headers: { origin: FRONT, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(FRONT);
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    const res = await call('/api/posts', { headers: { origin: FRONT } });
    expect(res.headers.get('access-control-allow-origin')).toBe(FRONT);
    expect(res.headers.get('access-control-expose-headers')).toBe('ETag, Location');
    const other = await call('/api/posts', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('/admin asks for a password (basicAuth)', async () => {
    const anonymous = await call('/admin');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="admin", charset="UTF-8"');
    expect((await call('/admin', { headers: { authorization: `Basic ${btoa('admin:wrong')}` } })).status).toBe(401);
    const admin = await call('/admin', { headers: { authorization: `Basic ${btoa('admin:pw')}` } });
    expect(admin.status).toBe(200);
    expect(await admin.text()).toBe('Hello, admin.');
  });

  it('/legacy is the Hono app of examples/hono-inside.ts, still answering', async () => {
    expect(await (await call('/legacy/hello?name=port')).json()).toEqual({ hello: 'port', prefix: '/legacy' });
  });
});

describe('examples/from-hono.ts: compress, onError, export default', () => {
  const many = Array.from({ length: 40 }, (_, i): Post => ({ id: i + 1, title: `Post number ${i + 1}`, body: 'Some text. '.repeat(5), tags: ['tsgi'] }));

  it('gzips a large answer (compress()), on both transports', async () => {
    const app = await createBlog({ store: memoryStore(many), secret: SECRET, adminPassword: 'pw', log: lines() });
    const server = await serve(app, { port: 0 });
    try {
      for (const res of [
        await fetch(new URL('/api/posts', server.url), { headers: { 'accept-encoding': 'gzip' } }),
        await toFetchHandler(app)(new globalThis.Request('http://blog.test/api/posts', { headers: { 'accept-encoding': 'gzip' } })),
      ]) {
        expect(res.status).toBe(200);
        expect(res.headers.get('content-encoding')).toBe('gzip');
        expect(res.headers.get('vary')).toContain('Accept-Encoding');
        await res.arrayBuffer();
      }
    } finally {
      await server.close();
    }
  });

  it('answers a failing store with a logged 500 (app.onError): an HTML page on the site, JSON with CORS on the API', async () => {
    const broken: PostStore = { list: () => { throw new Error('database down'); }, get: () => undefined, add: () => { throw new Error('database down'); } };
    const errorLog = lines();
    const app = await createBlog({ store: broken, secret: SECRET, adminPassword: 'pw', origins: [FRONT], log: lines(), errorLog });
    const server = await serve(app, { port: 0 });
    try {
      const page = await fetch(new URL('/', server.url));
      expect(page.status).toBe(500);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await page.text()).not.toContain('database down');
      const api = await toFetchHandler(app)(new globalThis.Request('http://blog.test/api/posts', { headers: { origin: FRONT } }));
      expect(api.status).toBe(500);
      expect(api.headers.get('access-control-allow-origin')).toBe(FRONT);
      expect(await api.json()).toEqual({ error: 'Internal Server Error', detail: null });
      expect(errorLog.kept.join('').match(/Error: database down/g)).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it('runs in-process under TestClient, Hono\'s app.request(): the theme form, its cookie kept by the client, a 404 expected', async () => {
    const client = new TestClient(await createBlog({ store: memoryStore(posts()), secret: SECRET, adminPassword: 'pw', log: lines() }));
    const home = await client.post('/theme', { form: { theme: 'dark' }, followRedirects: 1 });
    expect(home.statusCode).toBe(200);
    expect(home.textBody).toContain('<html class="dark">');
    expect(client.cookies.get('theme')).toBe('dark');
    expect((await client.get('/posts/9', { status: 404 })).statusCode).toBe(404);
    await expect(client.get('/posts/9')).rejects.toThrow(TestClientError);
  });

  it('its default export is the fetch handler Bun, Deno and Workers run (export default app)', async () => {
    const res = await handler.fetch(new globalThis.Request('http://blog.test/api/posts'));
    expect(res.status).toBe(200);
    expect(((await res.json()) as Post[]).map((post) => post.title)).toEqual(['Hello, tsgi', 'Event streams']);
  });
});
