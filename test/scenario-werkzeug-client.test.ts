/**
 * A scenario: a Werkzeug/Flask test suite (`Client`, `app.test_client()`) ported to the
 * `TestClient` as docs/testing.md and docs/flask.md guide it, against a small app (routes, a
 * form and an upload, a cookie session, redirects of each kind, a streamed route, a route that
 * raises). Each case states what Werkzeug's client answers; the last compares the client with
 * `serve()` over a socket for the same requests.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Request, Response, redirect, serve } from 'tsgi';
import { basicAuthorization } from 'tsgi/http';
import { CookieSessions, basicAuth, sessionOf, staticUsers } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
import { TestClient, TestClientError } from 'tsgi/testing';

const sessions = new CookieSessions({ secret: 's'.repeat(32) });
const routes = new RouteMap({
  env: '/env',
  echo: { path: '/echo', methods: ['GET', 'POST', 'PUT', 'DELETE'] },
  upload: { path: '/upload', methods: ['POST'] },
  login: { path: '/login', methods: ['POST'] },
  me: '/me',
  go: { path: '/go/<int:code>', methods: ['GET', 'POST', 'PUT', 'HEAD'] },
  nested: '/nested/<path:rest>',
  stream: '/stream',
  boom: '/boom',
});
const enc = new TextEncoder();
let produced = 0;

const site = routes.app({
  env: (req) => {
    const e = req.environ;
    return Response.json({ SERVER_NAME: e.SERVER_NAME, SERVER_PORT: e.SERVER_PORT, HTTP_HOST: e.HTTP_HOST, REMOTE_ADDR: e.REMOTE_ADDR, scheme: e['tsgi.url_scheme'], SCRIPT_NAME: e.SCRIPT_NAME, PATH_INFO: e.PATH_INFO, QUERY_STRING: e.QUERY_STRING, ua: e.HTTP_USER_AGENT ?? null });
  },
  echo: async (req) => Response.json({ method: req.method, type: req.contentType, body: await req.text(), query: [...req.query], foo: req.headers.get('x-foo') }),
  upload: async (req) => {
    const form = await req.form({ maxFileSize: 1024 });
    const files = await req.files({ maxFileSize: 1024 });
    return Response.json({ title: form.get('title'), tags: form.getAll('tag'), doc: [...files].map(([name, f]) => [name, f.filename, f.contentType, f.size]) });
  },
  login: async (req) => {
    sessionOf(req).set('user', (await req.form()).get('user'));
    return redirect('/me');
  },
  me: (req) => new Response(`user=${sessionOf(req).get<string>('user') ?? '-'}`),
  go: (_req, { code }) => redirect('/echo', code as 301 | 302 | 303 | 307 | 308),
  nested: (req) => {
    const res = new Response(JSON.stringify(req.cookies));
    if (req.query.has('set')) res.headers.add('Set-Cookie', 'k=v'); // no Path: the directory of the request path
    return res;
  },
  stream: () =>
    new Response(
      (async function* () {
        for (let i = 0; i < 3; i++) {
          produced = i + 1;
          yield enc.encode(`part${i};`);
          await new Promise((r) => setTimeout(r, 5));
        }
      })(),
      { contentType: 'text/plain' },
    ),
  boom: () => {
    throw new RangeError('kaboom');
  },
});
const app = sessions.middleware(site);

describe('a Werkzeug test suite ported to the TestClient', () => {
  it("builds Werkzeug's default environ, with the socket's REMOTE_ADDR", async () => {
    const env = await (await new TestClient(app).get('/env?a=1')).json();
    // Werkzeug: SERVER_NAME localhost, SERVER_PORT 80, HTTP_HOST localhost, http; no REMOTE_ADDR (Flask's client adds 127.0.0.1).
    expect(env).toEqual({ SERVER_NAME: 'localhost', SERVER_PORT: '80', HTTP_HOST: 'localhost', REMOTE_ADDR: '127.0.0.1', scheme: 'http', SCRIPT_NAME: '', PATH_INFO: '/env', QUERY_STRING: 'a=1', ua: null });
  });

  it('takes base_url with a script root, and environ_overrides', async () => {
    const client = new TestClient(app, { baseUrl: 'https://example.org:8443/root' });
    expect(await (await client.get('/env')).json()).toMatchObject({ SERVER_NAME: 'example.org', SERVER_PORT: '8443', HTTP_HOST: 'example.org:8443', scheme: 'https', SCRIPT_NAME: '/root', PATH_INFO: '/env' });
    const overridden = (await (await client.get('/env', { environ: { REMOTE_ADDR: '203.0.113.9' } })).json()) as { REMOTE_ADDR: string };
    expect(overridden.REMOTE_ADDR).toBe('203.0.113.9');
  });

  it('sends query dicts, headers, json= and data= with files', async () => {
    const client = new TestClient(app);
    const echo = await (await client.get('/echo?x=0', { query: { a: '1', b: ['2', '3'] }, headers: { 'x-foo': 'bar' } })).json();
    expect(echo).toMatchObject({ query: [['x', '0'], ['a', '1'], ['b', '2'], ['b', '3']], foo: 'bar' });
    expect(await (await client.post('/echo', { json: { a: [1, 2] } })).json()).toMatchObject({ type: 'application/json', body: '{"a":[1,2]}' });
    const upload = await client.post('/upload', { form: { title: 'x', tag: ['a', 'b'] }, files: { doc: { filename: 'a.txt', content: 'hi' } } });
    expect(await upload.json()).toEqual({ title: 'x', tags: ['a', 'b'], doc: [['doc', 'a.txt', 'text/plain', 2]] });
    await client.post('/upload', { files: { doc: { filename: 'big.bin', content: new Uint8Array(2048) } }, status: 413 });
  });

  it('keeps cookies by path as RFC 6265 says (Werkzeug: test_cookie_default_path)', async () => {
    const client = new TestClient(app);
    await client.get('/nested/leaf?set');
    expect(client.cookies.all().map((c) => c.path)).toEqual(['/nested']);
    expect((await client.get('/nested/other')).textBody).toBe('{"k":"v"}');
    await client.get('/nested/dir/?set');
    expect(client.cookies.all().map((c) => c.path).sort()).toEqual(['/nested', '/nested/dir']);
  });

  it('follows redirects as Fetch does: 307/308 send the body again, 303 and a POST across 301/302 turn to GET', async () => {
    const client = new TestClient(app);
    const sent = { form: { foo: 'bar' }, headers: { 'x-foo': 'bar' }, followRedirects: 1 };
    for (const [code, kept] of [[301, false], [302, false], [303, false], [307, true], [308, true]] as const) {
      const res = await client.post(`/go/${code}`, sent);
      expect(await res.json(), String(code)).toMatchObject(kept ? { method: 'POST', body: 'foo=bar', foo: 'bar' } : { method: 'GET', body: '', type: '', foo: 'bar' });
      expect(res.history.map((r) => r.statusCode)).toEqual([code]);
    }
    // A PUT keeps its method and body across a 302 (Werkzeug 3.1 turns it into a GET; 3.2 and browsers do not).
    expect(await (await client.put('/go/302', { body: 'raw', followRedirects: 1 })).json()).toMatchObject({ method: 'PUT', body: 'raw' });
    // A HEAD stays a HEAD across a 303.
    expect((await client.head('/go/303', { followRedirects: 1 })).request?.method).toBe('HEAD');
  });

  it('logs in through the form and reads the session as flask.md says (session_transaction)', async () => {
    const client = new TestClient(app);
    const me = await client.post('/login', { form: { user: 'ada' }, followRedirects: 1 });
    expect(me.textBody).toBe('user=ada');
    expect(me.history.map((r) => [r.statusCode, r.location])).toEqual([[303, 'http://localhost/me']]);
    const session = sessions.load(Request.blank('/', { headers: { cookie: `session=${client.cookies.get('session')}` } }));
    expect(session?.data.get('user')).toBe('ada');
  });

  it('reads a streamed answer lazily with buffered: false', async () => {
    const res = await new TestClient(app).get('/stream', { buffered: false });
    const first = await res[Symbol.asyncIterator]().next();
    expect(new TextDecoder().decode(first.value)).toBe('part0;');
    expect(produced).toBeLessThan(3);
    expect(await res.text()).toBe('part1;part2;');
  });

  it('fails the call on an app exception, the exception as its cause (Flask raises it into the test)', async () => {
    const client = new TestClient(app);
    await expect(client.get('/boom')).rejects.toMatchObject({ cause: expect.any(RangeError) });
    await expect(client.get('/boom')).rejects.toBeInstanceOf(TestClientError);
    const res = await client.get('/boom', { status: 500, allowErrors: true });
    expect(res.textBody).toBe('Internal Server Error\n');
    expect(res.errors).toContain('RangeError: kaboom');
  });

  it('sends Basic credentials as a field, and refuses them in a URL (Werkzeug: auth=)', async () => {
    const client = new TestClient(basicAuth(app, { realm: 'admin', verify: staticUsers({ ada: 'secret' }) }));
    await client.get('/me', { status: 401 });
    await client.get('/me', { headers: { authorization: basicAuthorization('ada', 'secret') } });
    await expect(client.get('http://ada:secret@localhost/me')).rejects.toThrow(TypeError);
  });

  it('answers as serve() does over a socket: status, fields and framing', async () => {
    const server = await serve(app, { host: '127.0.0.1', port: 0, log: { write() {} } });
    try {
      const client = new TestClient(app, { baseUrl: server.url.replace(/\/$/, ''), status: '*', allowErrors: true });
      const framing = (headers: Iterable<[string, string]>) =>
        [...headers].map(([n, v]) => [n.toLowerCase(), v] as const).filter(([n]) => ['content-length', 'content-type', 'location'].includes(n)).sort();
      for (const [method, path] of [['GET', '/me'], ['HEAD', '/me'], ['GET', '/stream'], ['HEAD', '/stream'], ['GET', '/boom'], ['HEAD', '/boom'], ['GET', '/missing'], ['HEAD', '/%FF'], ['GET', '/go/307']]) {
        const socket = await new Promise<{ status: number; headers: Array<[string, string]>; body: string }>((resolve, reject) => {
          request(new URL(path!, server.url), { method }, (res) => {
            let body = '';
            const headers: Array<[string, string]> = [];
            for (let i = 0; i < res.rawHeaders.length; i += 2) headers.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
            res.setEncoding('latin1').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode!, headers, body }));
          }).on('error', reject).end();
        });
        const res = await client.request(method!, path!);
        expect([res.statusCode, framing(res.headers), await res.text()], `${method} ${path}`).toEqual([socket.status, framing(socket.headers), socket.body]);
      }
    } finally {
      await server.close();
    }
  });
});
