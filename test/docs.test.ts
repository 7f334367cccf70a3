/**
 * The docs stay true to the code: every `import { … } from 'tsgi…'` in docs/*.md and the
 * README names what that entry point exports (links and `#anchors`: test/docs-links.test.ts);
 * and the examples of docs/sessions.md,
 * docs/middleware-csrf.md, docs/middleware-cors.md, docs/negotiation.md, the production stack of docs/middleware.md,
 * the single-page app of docs/middleware-static.md, the TLS and redaction recipes of docs/deployment.md,
 * the `interceptErrors` layer of docs/proxy.md, the `upperCase` and `retryOnce` recipes of docs/middleware.md, the 401 and `timeout` rows of docs/hono.md and
 * `req.rangeFor`'s options (docs/conditional.md, docs/express.md) run as written; docs/middleware-auth.md's
 * comparison of `staticUsers` with Hono's `basicAuth`, docs/middleware-method-override.md's of an unknown method with
 * Hono's `methodOverride`, docs/middleware-cors.md's of Hono's `Vary: Origin`, and docs/response.md's of `res.attachment('')` with
 * Express's, hold; the prefixes docs/middleware-proxy-fix.md says `proxyFix` ignores are ignored; docs/request.md's webhook
 * receiver checks GitHub's signature over the bytes sent, a gzip body's too (socket).
 */
import { createHash, createHmac } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import { connect } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { type CookieSessions, sessionOf } from 'tsgi/middleware';
import { request, sleep, start, until } from './node-helpers.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DOCS = path.join(ROOT, 'docs');
const pages = readdirSync(DOCS).filter((f) => f.endsWith('.md'));
const texts = new Map([...pages.map((p) => [`docs/${p}`, readFileSync(path.join(DOCS, p), 'utf8')] as const), ['README.md', readFileSync(path.join(ROOT, 'README.md'), 'utf8')]]);

describe('docs', () => {
  it('import only names their entry point exports', async () => {
    const wrong: string[] = [];
    for (const [file, text] of texts) {
      for (const m of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'(tsgi(?:\/\w+)?)'/g)) {
        const module = (await import(m[2]!)) as Record<string, unknown>;
        const entry = m[2] === 'tsgi' ? 'src/index.ts' : `src/entries/${m[2]!.slice(5)}.ts`;
        const source = readFileSync(path.join(ROOT, entry), 'utf8');
        for (const raw of m[1]!.split(',')) {
          const name = raw.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!;
          if (name && !(name in module) && !new RegExp(`\\b${name}\\b`).test(source)) wrong.push(`${file}: ${name} from '${m[2]}'`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('name source files that exist', () => {
    const missing = [...texts].flatMap(([file, text]) =>
      [...text.matchAll(/\b(src|examples|bench|test)\/[\w/.-]+\.ts\b/g)].map((m) => m[0]).filter((p) => !existsSync(path.join(ROOT, p))).map((p) => `${file}: ${p}`),
    );
    expect(missing).toEqual([]);
  });

  /** The first `ts` example under the `## heading` of a page (docs/sessions.md by default). */
  const block = (heading: string, page = 'sessions.md') => {
    const text = texts.get(`docs/${page}`)!;
    const at = text.indexOf(`\n## ${heading}\n`);
    expect(at, `${page} has a "## ${heading}" section`).toBeGreaterThan(-1);
    return /```ts\n([\s\S]*?)```/.exec(text.slice(at))![1]!;
  };
  /** Runs `code` as a module in a temporary folder and answers its exports. */
  const run = async (code: string): Promise<Record<string, unknown>> => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-docs-'));
    const file = path.join(dir, 'sessions.ts');
    writeFileSync(file, code);
    try {
      return (await import(file)) as Record<string, unknown>;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  process.env.SESSION_SECRET ??= 'a session secret for the docs test, 32+ bytes';
  process.env.BOB_PASSWORD ??= 'a password for the docs test';

  it('sessions.md: the Use example, logged in through the Testing example, shows the flash once', async () => {
    const { shown } = await run(`${block('Use')}\n${block('Testing')}\nexport const shown = [home.textBody, (await client.get('/')).textBody];\n`);
    expect(shown).toEqual(['[info] Welcome, bob\nHello bob', '\nHello bob']);
  });

  it('sessions.md: the Use example checks the password, starts a new session at login and logs out on POST only', async () => {
    const { wrong, kept, logoutGet, afterGet, afterPost } = await run(`${block('Use')}
import { TestClient } from 'tsgi/testing';
const client = new TestClient(app, { baseUrl: 'https://testserver' });
export const wrong = (await client.post('/login', { form: { user: 'bob', password: 'guess' }, followRedirects: 1 })).textBody;
// A session planted before the login (a CSRF token the attacker knows).
const plant = sessions.middleware(Request.application((req) => { sessionOf(req).set('csrf', 'known'); return new Response('ok'); }));
const planter = new TestClient(plant, { baseUrl: 'https://testserver' });
await planter.get('/');
client.cookies.set('session', planter.cookies.get('session')!);
await client.post('/login', { form: { user: 'bob', password: process.env.BOB_PASSWORD! } });
export const kept = sessions.load({ HTTP_COOKIE: 'session=' + client.cookies.get('session') })!.data;
export const logoutGet = (await client.get('/logout', { followRedirects: 1 })).textBody;
export const afterGet = (await client.get('/')).textBody;
await client.post('/logout', { followRedirects: 1 });
export const afterPost = (await client.get('/')).textBody;
`);
    expect(wrong).toContain('Hello stranger');
    expect(wrong).not.toContain('Welcome');
    expect([...(kept as Map<string, unknown>).keys()]).toEqual(['user']);
    expect(logoutGet).toContain('Hello bob');
    expect(afterGet).toContain('Hello bob');
    expect(afterPost).toContain('Hello stranger');
  });

  it('sessions.md: the CSRF example refuses a post without the session\'s token', async () => {
    const { statuses } = await run(`${block('Logins and CSRF')}
import { CookieSessions, sessionOf as ofReq } from 'tsgi/middleware';
import { Request as Req, Response as Res } from 'tsgi';
import { TestClient } from 'tsgi/testing';
const sessions = new CookieSessions({ secret: process.env.SESSION_SECRET! });
const app = sessions.middleware(Req.application(async (req) => {
  if (req.method === 'POST') {
    await checkCsrf(req);
    return new Res('done');
  }
  return new Res(\`<form method="post"><input type="hidden" name="csrf" value="\${csrfToken(req)}"><button>Go</button></form>\`, { contentType: 'text/html' });
}));
const client = new TestClient(app);
const page = await client.get('/');
const none = await client.post('/', { form: {}, status: '*' });
const wrong = await client.post('/', { form: { csrf: 'guess' }, status: '*' });
const other = await new TestClient(app).post('/', { form: { csrf: 'guess' }, status: '*' });
const good = await page.form().submit();
const header = await client.post('/', { json: {}, headers: { 'x-csrf-token': page.form().get('csrf')! }, status: '*' });
void ofReq;
export const statuses = [none.statusCode, wrong.statusCode, other.statusCode, good.statusCode, good.textBody, header.statusCode];
`);
    expect(statuses).toEqual([403, 403, 403, 200, 'done', 200]);
  });

  it('sessions.md: the CSRF example renders the token masked afresh in each page (BREACH under compress), and takes every rendering back', async () => {
    const { shown, statuses } = await run(`${block('Logins and CSRF')}
import { CookieSessions } from 'tsgi/middleware';
import { Request as Req, Response as Res } from 'tsgi';
import { TestClient } from 'tsgi/testing';
const sessions = new CookieSessions({ secret: process.env.SESSION_SECRET! });
const app = sessions.middleware(Req.application(async (req) => {
  if (req.method === 'POST') {
    await checkCsrf(req);
    return new Res('done');
  }
  // Two forms on one page, as a page with a search box and a login form has.
  return new Res(\`<form method="post"><input type="hidden" name="csrf" value="\${csrfToken(req)}"></form><form method="post"><input type="hidden" name="csrf" value="\${csrfToken(req)}"></form>\`, { contentType: 'text/html' });
}));
const client = new TestClient(app, { status: '*' });
const first = await client.get('/');
const second = await client.get('/');
const tokens = [first.form(0).get('csrf')!, first.form(1).get('csrf')!, second.form(0).get('csrf')!];
export const shown = new Set(tokens).size;
const post = (csrf: string) => client.post('/', { form: { csrf } }).then((res) => res.statusCode);
const [a, b, c] = tokens as [string, string, string];
const flipped = a.slice(0, -2) + (a.at(-2) === 'A' ? 'B' : 'A') + a.at(-1);
export const statuses = [await post(a), await post(b), await post(c), await post(flipped), await post(a.slice(0, 43)), await post('x'.repeat(86))];
`);
    expect(shown).toBe(3);
    expect(statuses).toEqual([200, 200, 200, 403, 403, 403]);
  });

  it('sessions.md: the CSRF example takes the form limits of a handler that reads an upload after it', async () => {
    const { statuses } = await run(`${block('Logins and CSRF')}
import { CookieSessions } from 'tsgi/middleware';
import { Request as Req, Response as Res } from 'tsgi';
import { TestClient } from 'tsgi/testing';
const sessions = new CookieSessions({ secret: process.env.SESSION_SECRET! });
const limits = { maxFileSize: 10 };
const app = sessions.middleware(Req.application(async (req) => {
  if (req.method === 'POST') {
    await checkCsrf(req, limits);
    const file = (await req.files(limits)).get('doc');
    return new Res(\`got \${file?.size}\`);
  }
  return new Res(\`<form method="post" enctype="multipart/form-data"><input type="hidden" name="csrf" value="\${csrfToken(req)}"><input type="file" name="doc"><button>Go</button></form>\`, { contentType: 'text/html' });
}));
const client = new TestClient(app, { status: '*' });
const page = await client.get('/');
const good = await page.form().upload('doc', { filename: 'a.txt', content: 'hello' }).submit();
const big = await page.form().upload('doc', { filename: 'b.txt', content: 'x'.repeat(11) }).submit();
export const statuses = [good.statusCode, good.textBody, big.statusCode];
`);
    expect(statuses).toEqual([200, 'got 5', 413]);
  });

  it('routing.md: the method override turns a POST naming PUT or DELETE into it, and nothing else', async () => {
    const { answers } = await run(`${block('HTML forms: PUT, PATCH and DELETE', 'routing.md')}
import { TestClient } from 'tsgi/testing';
const client = new TestClient(app, { status: '*', headers: { accept: 'text/plain' } });
const line = (res: { statusCode: number; textBody: string }) => \`\${res.statusCode} \${res.textBody}\`;
export const answers = [
  line(await client.post('/notes/3', { form: { _method: 'delete' } })),
  line(await client.post('/notes/3?x=1&_method=PUT')),
  line(await client.get('/notes/3?_method=DELETE')),
  line(await client.post('/notes/3?_method=GET')),
  line(await client.post('/notes/3?_method=PATCH')),
  line(await client.post('/notes/3')),
  line(await client.post('/notes/3?_method=DELETE', { headers: { 'sec-fetch-site': 'cross-site' } })),
];
`);
    expect(answers).toEqual([
      '200 DELETE 3',
      '200 PUT 3',
      '200 GET 3',
      expect.stringMatching(/^400 [^]*_method must name one of PUT, PATCH, DELETE/),
      expect.stringMatching(/^405 /),
      expect.stringMatching(/^405 /),
      expect.stringMatching(/^403 /),
    ]);
  });

  it('middleware-method-override.md: the Use example deletes with the hidden field and saves a multipart form through ?_method=PUT', async () => {
    const { answers } = await run(`${block('Use', 'middleware-method-override.md')}
import { TestClient } from 'tsgi/testing';
const client = new TestClient(app);
const page = await client.get('/notes/3');
export const answers = [
  (await page.form(0).submit()).textBody,
  (await page.form(1).set('title', 'Renamed').submit()).textBody,
];
`);
    expect(answers).toEqual(['deleted 3', 'saved 3: Renamed']);
  });

  it('sessions.md: the Password hashes example takes the password it hashed, and nothing else', async () => {
    const { hashPassword, checkPassword } = (await run(block('Password hashes'))) as {
      hashPassword: (password: string) => Promise<string>;
      checkPassword: (password: string, stored: string) => Promise<boolean>;
    };
    const stored = await hashPassword('correct horse');
    expect(stored).toMatch(/^scrypt\$131072\$[\w-]{22}\$[\w-]{43}$/);
    // Each check at the page's cost (128 MiB, within its maxmem) takes a while: three in all.
    expect(await checkPassword('correct horse', stored)).toBe(true);
    expect(await checkPassword('correct horsE', stored)).toBe(false);
    for (const malformed of ['', 'scrypt', 'md5$1$a$b', 'scrypt$x$a$b']) expect(await checkPassword('correct horse', malformed)).toBe(false);
  });

  it('sessions.md: the Revoking example refuses a copy of the cookie kept after the logout', async () => {
    const { seen } = await run(`${block('Revoking a login')}
import { CookieSessions } from 'tsgi/middleware';
import { Request as Req, Response as Res } from 'tsgi';
import { TestClient } from 'tsgi/testing';
const sessions = new CookieSessions({ secret: process.env.SESSION_SECRET! });
const app = sessions.middleware(Req.application((req) => {
  if (req.pathInfo === '/login') logIn(req, 'bob');
  if (req.pathInfo === '/logout') logOut(req);
  return new Res(currentUser(req) ?? 'stranger');
}));
const client = new TestClient(app);
const login = (await client.post('/login')).textBody;
const kept = client.cookies.get('session')!;
const before = (await client.get('/')).textBody;
await client.post('/logout');
const thief = new TestClient(app);
thief.cookies.set('session', kept);
export const seen = [login, before, (await client.get('/')).textBody, (await thief.get('/')).textBody];
`);
    expect(seen).toEqual(['bob', 'bob', 'stranger', 'stranger']);
  });

  it('negotiation.md: the GraphQL endpoint offers JSON first, with its charset, over a socket', async () => {
    const { app } = (await run(block('Offers with parameters: a GraphQL endpoint', 'negotiation.md'))) as { app: App };
    const server = await start(app);
    const answer = async (accept?: string) => {
      const res = await request(server.url, { headers: accept === undefined ? {} : { accept } });
      return [res.status, res.headers['content-type'], res.headers.vary];
    };
    const json = [200, 'application/json; charset=utf-8', 'Accept'];
    const gql = [200, 'application/graphql-response+json; charset=utf-8', 'Accept'];
    expect(await answer()).toEqual(json);
    expect(await answer('*/*')).toEqual(json);
    expect(await answer('application/json')).toEqual(json);
    expect(await answer('application/json; charset=utf-8')).toEqual(json);
    expect(await answer('application/graphql-response+json, application/json;q=0.9')).toEqual(gql);
    expect((await answer('application/graphql-response+json; charset=iso-8859-1'))[0]).toBe(406);
    expect((await answer('text/html'))[0]).toBe(406);
    // The reason for the charset in the offers: without it, this client is refused.
    const { Accept } = await import('tsgi/http');
    expect(new Accept('application/json; charset=utf-8').bestMatch(['application/json'])).toBeNull();
  });

  it('forms.md: a form posted from a Shift_JIS page, without a charset, is read in Shift_JIS once req.charset says so, over a socket', async () => {
    const { app } = (await run(block('Forms from pages in another charset', 'forms.md'))) as { app: App };
    const server = await start(app);
    const res = await request(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'city=%93%8C%8B%9E',
    });
    expect([res.status, res.body.toString('utf8')]).toEqual([200, '{"city":"東京"}']);
    // A client that names its charset keeps it: the recipe does not relabel it.
    const declared = await request(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: 'city=%E6%9D%B1%E4%BA%AC',
    });
    expect([declared.status, declared.body.toString('utf8')]).toEqual([200, '{"city":"東京"}']);
  });

  it('forms.md: large uploads without multipart: PUT streamed to disk, Content-Digest checked, 100-continue, create-only, over a socket', async () => {
    const { objectStore } = (await run(block('Large uploads without multipart', 'forms.md'))) as { objectStore: (dir: string) => App };
    const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-objects-'));
    try {
      const server = await start(objectStore(dir));
      const port = server.port!;
      /** A PUT sending `Expect: 100-continue` and its body (in 64 KiB writes) only on `100 Continue`. */
      const put = (key: string, headers: http.OutgoingHttpHeaders, body: Buffer) =>
        new Promise<{ continued: boolean; status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
          let continued = false;
          const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: `/objects/${key}`, agent: false, headers: { expect: '100-continue', 'content-length': body.byteLength, ...headers } });
          req.on('continue', async () => {
            continued = true;
            for (let at = 0; at < body.byteLength; at += 65536) if (!req.write(body.subarray(at, at + 65536))) await once(req, 'drain');
            req.end();
          });
          req.on('response', (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => {
              resolve({ continued, status: res.statusCode!, headers: res.headers, text });
              req.destroy();
            });
          });
          req.on('error', (error) => (continued ? reject(error) : undefined));
        });
      const body = Buffer.alloc(3 * 1024 * 1024, 'tsgi'); // 3 MiB
      const sha = createHash('sha256').update(body).digest();
      const stored = await put('a.bin', { 'content-digest': `sha-256=:${sha.toString('base64')}:` }, body);
      expect([stored.continued, stored.status, stored.headers.etag, stored.headers['repr-digest']]).toEqual([true, 201, `"${sha.toString('hex')}"`, `sha-256=:${sha.toString('base64')}:`]);
      expect(readFileSync(path.join(dir, 'a.bin')).equals(body)).toBe(true);
      // Create only, on a key that exists: 412 in place of 100 Continue, nothing uploaded.
      const exists = await put('a.bin', { 'if-none-match': '*' }, body);
      expect([exists.continued, exists.status]).toEqual([false, 412]);
      // A digest in an algorithm the store does not take: 400 before the upload, saying which it wants.
      const md5 = await put('b.bin', { 'content-digest': 'md5=:HUXZLQLMuI/KZ5KDcJPcOA==:' }, body);
      expect([md5.continued, md5.status, md5.headers['want-content-digest']]).toEqual([false, 400, 'sha-256=10']);
      // A body that is not the one announced: read, refused with its own digest, not stored.
      const other = Buffer.alloc(body.byteLength, 'other');
      const wrong = await put('a.bin', { 'content-digest': `sha-256=:${sha.toString('base64')}:` }, other);
      expect([wrong.continued, wrong.status]).toEqual([true, 400]);
      expect(wrong.text).toContain(`:${createHash('sha256').update(other).digest('base64')}:, not stored`);
      expect(readFileSync(path.join(dir, 'a.bin')).equals(body)).toBe(true);
      // A chunked upload without a digest replaces the object: 200.
      const chunked = await fetch(`${server.url}/objects/a.bin`, {
        method: 'PUT',
        body: new ReadableStream({ start: (c) => (c.enqueue(new Uint8Array(other)), c.close()) }),
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(200);
      await chunked.arrayBuffer();
      expect(readFileSync(path.join(dir, 'a.bin')).equals(other)).toBe(true);
      // Keys that could leave the directory, or name an upload in progress, are no object: 404
      // before the body (a raw request line: fetch would resolve the dots itself).
      for (const key of ['..%2Fescape.bin', '%2E%2E', '.x.part', 'a%2Fb', '%2Ftmp%2Fabs', 'a%00b', 'a%5Cb', '..']) {
        const text = await new Promise<string>((resolve, reject) => {
          const raw = connect(port, '127.0.0.1', () => raw.write(`PUT /objects/${key} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`));
          let got = '';
          raw.setEncoding('latin1');
          raw.on('data', (chunk: string) => (got += chunk));
          raw.on('end', () => resolve(got));
          raw.on('error', reject);
        });
        expect(text, key).toMatch(/^HTTP\/1\.1 404 /);
      }
      expect(readdirSync(dir)).toEqual(['a.bin']);
      expect(readdirSync(path.dirname(dir)).filter((name) => name.startsWith('escape') || name === 'abs')).toEqual([]);
      // A client that hangs up mid-body: its partial file removed, nothing logged as an error.
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      await once(socket, 'connect');
      socket.write('PUT /objects/c.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n');
      socket.write(Buffer.alloc(256 * 1024));
      await until(() => readdirSync(dir).some((name) => name.endsWith('.part')));
      socket.destroy();
      await until(() => !readdirSync(dir).some((name) => name.endsWith('.part')));
      await sleep(50);
      expect(readdirSync(dir).sort()).toEqual(['a.bin']);
      expect(server.log.text).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('negotiation.md: the multilingual site sends / to the language page, which names its language, over a socket', async () => {
    const { app } = (await run(block('A multilingual site', 'negotiation.md'))) as { app: App };
    const server = await start(app);
    const home = async (headers: Record<string, string>) => {
      const res = await request(server.url, { headers });
      return [res.status, res.headers.location, res.headers.vary];
    };
    const to = (lang: string) => [302, `${server.url}/${lang}/`, 'Accept-Language, Cookie, Accept']; // Accept: the 302's own body is negotiated
    expect(await home({ 'accept-language': 'de-CH, en;q=0.5' })).toEqual(to('de'));
    expect(await home({ 'accept-language': 'ja-JP, ja;q=0.9' })).toEqual(to('ja'));
    expect(await home({ 'accept-language': 'fr, *;q=0.1' })).toEqual(to('en'));
    expect(await home({ 'accept-language': 'fr' })).toEqual(to('en'));
    expect(await home({})).toEqual(to('en'));
    expect(await home({ 'accept-language': 'de', cookie: 'lang=ar' })).toEqual(to('ar'));
    expect(await home({ 'accept-language': 'de', cookie: 'lang=xx' })).toEqual(to('de'));
    const page = await request(`${server.url}/ar/?remember`);
    expect([page.status, page.headers['content-type'], page.headers['content-language'], page.headers['set-cookie']]).toEqual([
      200,
      'text/html; charset=utf-8',
      'ar',
      [expect.stringMatching(/^lang=ar; Max-Age=31536000; Path=\/; Expires=/)],
    ]);
    expect(page.body.toString('utf8')).toBe('<!doctype html><html lang="ar" dir="rtl"><p>مرحبا</p></html>');
    expect((await request(`${server.url}/fr/`)).status).toBe(404);
  });

  it('middleware-cors.md: the single-page app example logs in from the front end, refuses a sibling origin, and answers preflights', async () => {
    process.env.SPA_ORIGINS = 'http://localhost:5173';
    const { results } = await run(`${block('A single-page app with a cookie session', 'middleware-cors.md')}
import { TestClient } from 'tsgi/testing';
const client = new TestClient(app, { baseUrl: 'https://localhost:8000', status: '*', headers: { origin: 'http://localhost:5173', 'sec-fetch-site': 'same-site', accept: 'application/json' } });
const preflight = await client.options('/api/login', { headers: { 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
const wrong = await client.post('/api/login', { json: { user: 'bob', password: 'guess' } });
const login = await client.post('/api/login', { json: { user: 'bob', password: process.env.BOB_PASSWORD } });
const jar = client.cookies.all().map((c) => [c.name, c.sameSite]);
const me = await client.get('/api/me');
const forged = await client.post('/api/logout', { body: 'x', headers: { origin: 'http://localhost:3000', 'content-type': 'text/plain' } });
const still = await client.get('/api/me');
await client.post('/api/logout');
const after = await client.get('/api/me');
export const results = [
  [preflight.statusCode, preflight.headers.get('access-control-allow-origin'), preflight.headers.get('access-control-allow-credentials')],
  [wrong.statusCode, login.statusCode, login.headers.get('access-control-allow-origin'), jar],
  [await me.json(), forged.statusCode, forged.headers.get('access-control-allow-origin'), await still.json(), await after.json()],
];
`);
    expect(results).toEqual([
      [204, 'http://localhost:5173', 'true'],
      [403, 200, 'http://localhost:5173', [['__Host-session', 'lax']]],
      [{ user: 'bob' }, 403, null, { user: 'bob' }, { user: null }],
    ]);
  });

  it('middleware.md: the production stack tags, secures, grants, limits and protects every answer', async () => {
    const stack = block('A production stack', 'middleware.md');
    expect(stack).toContain('ms: 10_000');
    const { results, log } = await run(`import { Request as Req, Response as Res } from 'tsgi';
const lines: string[] = [];
const { stdout } = process;
const write = stdout.write;
const site = Req.application(async (req) => {
  if (req.pathInfo === '/slow') return new Promise<Res>((resolve) => req.signal!.addEventListener('abort', () => resolve(new Res('late'))));
  if (req.pathInfo === '/boom') throw new Error('boom');
  if (req.method === 'POST') sessionOf(req).set('note', await req.text());
  return new Res('note: ' + (sessionOf(req).get<string>('note') ?? 'none'));
});
${stack.replace('ms: 10_000', 'ms: 50')}
import { sessionOf } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
(stdout as { write: unknown }).write = (chunk: string) => (lines.push(String(chunk)), true);
const client = new TestClient(app, { baseUrl: 'https://api.example.com', status: '*' });
const front = { origin: 'https://app.example.com', 'sec-fetch-site': 'same-site' };
const answers = [
  await client.get('/'),
  await client.options('/', { headers: { ...front, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } }),
  await client.post('/', { body: 'hi', headers: { ...front, 'content-type': 'text/plain' } }),
  await client.post('/', { body: 'forged', headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' } }),
  await client.get('/', { headers: front }),
  await client.get('/slow', { headers: front }),
  await client.get('/boom', { headers: front, allowErrors: true }),
];
(stdout as { write: unknown }).write = write;
export const log = lines.join('');
export const results = answers.map((res) => [
  res.statusCode,
  res.headers.get('access-control-allow-origin'),
  res.headers.get('x-content-type-options'),
  res.headers.has('strict-transport-security'),
  /^[0-9a-f-]{36}$/.test(res.headers.get('x-request-id') ?? ''),
  res.statusCode === 200 ? res.textBody : null,
  res.headers.has('etag'),
]);
`);
    // Only the GETs' 200s are tagged (etag): not the POST's, the preflight, nor the error pages.
    expect(results).toEqual([
      [200, null, 'nosniff', true, true, 'note: none', true],
      [204, 'https://app.example.com', 'nosniff', true, true, null, false],
      [200, 'https://app.example.com', 'nosniff', true, true, 'note: hi', false],
      [403, null, 'nosniff', true, true, null, false],
      [200, 'https://app.example.com', 'nosniff', true, true, 'note: hi', true],
      [503, 'https://app.example.com', 'nosniff', true, true, null, false],
      [500, 'https://app.example.com', 'nosniff', true, true, null, false],
    ]);
    expect(log).toMatch(/^GET \/slow HTTP\/1\.1 503 [0-9a-f-]{36}$/m);
  });

  it('middleware.md: the upperCase recipe above compress leaves the coded bytes alone, upper-cases the rest (over a socket)', async () => {
    const recipe = block('On the raw interface: `callApp`, `wrapBody`, `transformBody`', 'middleware.md');
    const text = 'the quick brown fox jumps over the lazy dog. '.repeat(100);
    const { upperCase } = await run(`${recipe}\nexport { upperCase };`);
    const { compress } = await import('tsgi/middleware');
    const { gunzipSync } = await import('node:zlib');
    const page = Request.application(() => new Response(text));
    // Outside compress, as a layer above the production stack's `compress` would be.
    const server = await start((upperCase as (app: App) => App)(compress(page)));
    const coded = await request(server.url, { headers: { 'accept-encoding': 'gzip' } });
    expect(coded.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(coded.body).toString()).toBe(text);
    const plain = await request(server.url);
    expect(plain.body.toString()).toBe(text.toUpperCase());
  });

  it('middleware.md: retryOnce asks a mount and a proxyFix below again where the first call started (over a socket)', async () => {
    const text = texts.get('docs/middleware.md')!;
    const at = text.indexOf('\n### Calling the app again\n');
    expect(at, 'middleware.md has a "### Calling the app again" section').toBeGreaterThan(-1);
    const { retryOnce } = await run(/```ts\n([\s\S]*?)```/.exec(text.slice(at))![1]!);
    const retry = retryOnce as (app: App) => App;
    const { mount, proxyFix } = await import('tsgi/middleware');
    const { defineMiddleware } = await import('tsgi');
    /** Answers 503 to every other call, else where it was routed. */
    const flaky = () => {
      let calls = 0;
      return Request.application((req) => (++calls % 2 === 1 ? new Response('busy', { status: 503 }) : new Response(`${req.scriptName}|${req.pathInfo}`)));
    };
    const mounted = await start(retry(mount({ '/api': flaky() })));
    const a = await request(new URL('/api/x', mounted.url).href);
    expect([a.status, a.body.toString()]).toEqual([200, '/api|/x']);
    const prefixed = await start(retry(proxyFix(flaky(), { xPrefix: 1 })));
    const b = await request(new URL('/x', prefixed.url).href, { headers: { 'x-forwarded-prefix': '/shop' } });
    expect([b.status, b.body.toString()]).toEqual([200, '/shop|/x']);
    // What the route's restore is for: a retry without it misses the mount on its second call.
    const naive = defineMiddleware(async (req, app) => {
      const first = await req.getResponse(app);
      return first.statusCode === 503 ? req.getResponse(app) : first;
    });
    const missed = await start(naive(mount({ '/api': flaky() })));
    expect((await request(new URL('/api/x', missed.url).href)).status).toBe(404);
    // A POST is not repeated: its body may be gone.
    const posted = await start(retry(mount({ '/api': flaky() })));
    expect((await request(new URL('/api/x', posted.url).href, { method: 'POST', body: 'x' })).status).toBe(503);
  });

  it('middleware.md: the Prometheus middleware counts, over a socket, the status the client got: the route, a refused answer\'s 500, a client gone 499', async () => {
    const recipe = block('Metrics: a Prometheus middleware', 'middleware.md');
    const { scrape } = await run(`${recipe}
import net from 'node:net';
import { Response as Res, serve } from 'tsgi';
import { mount as mountApps } from 'tsgi/middleware';
import { RouteMap } from 'tsgi/routing';
const routes = new RouteMap({ item: '/items/<int:id>' });
// An in-memory answer whose Content-Length the server cannot send: it answers 500 instead.
const lying: App = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Length', '10']]);
  return [new TextEncoder().encode('more than ten bytes')];
};
// Ignores tsgi.signal; says when it is called: its client leaves then, not after a fixed
// 50 ms a loaded machine could spend before the request arrived (no 499 to count then).
let called = () => {};
const never: App = () => (called(), new Promise(() => {}));
const server = await serve(mountApps({
  '/metrics': metricsApp,
  '/': metrics(mountApps({ '/lying': lying, '/never': never, '/': routes.app({ item: (_req, { id }) => new Res('item ' + id) }) })),
}), { port: 0, log: { write() {} } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const exchange = (path: string, leaveOnce?: Promise<void>) => new Promise<string>((resolve) => {
  const socket = net.connect(server.port, '127.0.0.1', () => socket.write('GET ' + path + ' HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'));
  let text = '';
  socket.on('data', (chunk) => { text += chunk; });
  socket.on('close', () => resolve(text));
  if (leaveOnce !== undefined) void leaveOnce.then(() => socket.destroy());
});
let scrape = '';
try {
  await exchange('/items/3');
  await exchange('/lying');
  await exchange('/never', new Promise<void>((resolve) => { called = resolve; }));
  // The 499 is counted once the server has seen the client go: scraped until it is there.
  for (let i = 0; i < 100 && !scrape.includes('status="499"'); i++) {
    if (i > 0) await sleep(20);
    const answer = await exchange('/metrics');
    scrape = answer.slice(answer.indexOf('\\r\\n\\r\\n') + 4);
  }
} finally {
  await server.close({ timeout: 100 });
}
export { scrape };
`);
    const counts = [...String(scrape).matchAll(/^http_request_duration_seconds_count\{(.*)\} (\d+)$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    expect(counts).toEqual([
      'route="/items/<int:id>",method="GET",status="200" 1',
      'route="unmatched",method="GET",status="499" 1',
      'route="unmatched",method="GET",status="500" 1',
    ]);
  });

  it('deployment.md: the Observability stack logs JSON lines with the ingress\'s id, counts by route, keeps probes out of both, and names the id in errors (socket)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-docs-'));
    try {
      writeFileSync(path.join(dir, 'probes.ts'), block('Kubernetes', 'deployment.md'));
      writeFileSync(path.join(dir, 'metrics.ts'), block('Metrics: a Prometheus middleware', 'middleware.md'));
      writeFileSync(
        path.join(dir, 'site.ts'),
        `import { Response } from 'tsgi';
import { RouteMap } from 'tsgi/routing';
export const site = new RouteMap({ item: '/items/<int:id>', boom: '/boom' }).app({
  item: (_req, { id }) => new Response('item ' + id),
  boom: () => { throw new Error('boom'); },
});
`,
      );
      writeFileSync(
        path.join(dir, 'app.ts'),
        `import { healthz, readyz } from './probes.ts';\nimport { metrics, metricsApp } from './metrics.ts';\nimport { site } from './site.ts';\n${block('Observability', 'deployment.md')}`,
      );
      const { app } = (await import(path.join(dir, 'app.ts'))) as { app: import('tsgi').App };
      const { serve } = await import('tsgi');
      const errors: string[] = [];
      const server = await serve(app, { port: 0, log: { write: (text: string) => void errors.push(text) } });
      const lines: string[] = [];
      const { stdout } = process;
      const write = stdout.write;
      (stdout as { write: unknown }).write = (chunk: string) => (lines.push(String(chunk)), true);
      const answers: Array<[number, string | null]> = [];
      let scrape = '';
      try {
        for (const [url, id] of [['/items/3', 'ingress-7'], ['/boom', 'ingress-8'], ['/healthz', 'ingress-9'], ['/readyz', undefined]] as const) {
          const res = await fetch(`${server.url}${url}`, { headers: id === undefined ? {} : { 'x-request-id': id } });
          await res.arrayBuffer();
          answers.push([res.status, res.headers.get('x-request-id')]);
        }
        scrape = await (await fetch(`${server.url}/metrics`)).text();
      } finally {
        (stdout as { write: unknown }).write = write;
        await server.close();
      }
      expect(answers).toEqual([[200, 'ingress-7'], [500, 'ingress-8'], [200, null], [200, null]]);
      const logged = lines.join('').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(logged.map((l) => [l.url, l.status, l.request_id, l.outcome, typeof l.duration_ms])).toEqual([
        ['/items/3', 200, 'ingress-7', 'end', 'number'],
        ['/boom', 500, 'ingress-8', 'end', 'number'],
      ]);
      expect(errors.join('')).toMatch(/^\[tsgi\] GET \/boom HTTP\/1\.1 500 request_id=ingress-8: Error: boom/);
      const counts = [...scrape.matchAll(/^http_request_duration_seconds_count\{(.*)\} (\d+)$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
      expect(counts).toEqual(['route="/boom",method="GET",status="500" 1', 'route="/items/<int:id>",method="GET",status="200" 1']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('deployment.md, Before going live: redactQuery and the regex recipe keep query-string secrets out of the access log and the error log (socket)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-docs-'));
    try {
      writeFileSync(
        path.join(dir, 'site.ts'),
        `import { Request, Response } from 'tsgi';
export const site = Request.application((req) => {
  if (req.pathInfo === '/boom') throw new Error('reset failed for ' + req.url);
  return new Response('ok');
});
`,
      );
      writeFileSync(path.join(dir, 'app.ts'), `import { site } from './site.ts';\n${block('Before going live: what tsgi logs and shows', 'deployment.md')}`);
      // The second block: the regular expression for the text tsgi does not build (an error's message).
      const section = texts.get('docs/deployment.md')!.split('\n## Before going live: what tsgi logs and shows\n')[1]!;
      writeFileSync(path.join(dir, 'regex.ts'), [...section.matchAll(/```ts\n([\s\S]*?)```/g)][1]![1]!);
      const { app, serveOptions } = (await import(path.join(dir, 'app.ts'))) as { app: import('tsgi').App; serveOptions: import('tsgi').ServeOptions };
      const { redacting } = (await import(path.join(dir, 'regex.ts'))) as { redacting: (out: import('tsgi').LogStream) => import('tsgi').LogStream };
      const { serve } = await import('tsgi');
      const serverLog: string[] = [];
      // Served from code, as the page says, with an upgrade handler that fails: the server's own line is redacted too.
      const upgrade = () => {
        throw new Error('no socket');
      };
      const server = await serve(app, { ...serveOptions, port: 0, upgrade, log: redacting({ write: (text: string) => void serverLog.push(text) }) });
      const out: string[] = [];
      const { stdout } = process;
      const writeOut = stdout.write;
      (stdout as { write: unknown }).write = (chunk: string) => (out.push(String(chunk)), true);
      const statuses: number[] = [];
      try {
        for (const url of ['/reset?token=s3cr3t-reset&lang=en', '/callback?CODE=auth-code-1&%73tate=st4te', '/boom?api_key=k3y-9&x=1']) {
          const res = await fetch(`${server.url}${url}`, { headers: { referer: `${server.url}/login?password=hunter2` } });
          await res.arrayBuffer();
          statuses.push(res.status);
        }
        const ws = await request(`${server.url}/ws?access_token=ws-t0ken`, { headers: { connection: 'Upgrade', upgrade: 'websocket' } });
        statuses.push(ws.status);
      } finally {
        (stdout as { write: unknown }).write = writeOut;
        await server.close();
      }
      expect(statuses).toEqual([200, 200, 500, 500]);
      // The access log: redactQuery alone (no regular expression there).
      const lines = out.join('').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines.map((l) => l.url)).toEqual(['/reset?token=[Redacted]&lang=en', '/callback?CODE=[Redacted]&%73tate=[Redacted]', '/boom?api_key=[Redacted]&x=1']);
      expect(lines[0]!.referer).toBe(`${server.url}/login?password=[Redacted]`);
      // The error log: the request line by the server's redactQuery, the error's own message by the regular expression.
      const errors = serverLog.join('');
      expect(errors).toMatch(/^\[tsgi\] GET \/boom\?api_key=\[Redacted\]&x=1 HTTP\/1\.1 500 request_id=[\w-]+: Error: reset failed for http:\/\/127\.0\.0\.1:\d+\/boom\?api_key=\[Redacted\]&x=1\n/m);
      expect(errors).toMatch(/^\[tsgi\] GET \/ws\?access_token=\[Redacted\] \(upgrade handler\): Error: no socket\n/m);
      const everything = out.join('') + errors;
      for (const secret of ['s3cr3t-reset', 'auth-code-1', 'st4te', 'k3y-9', 'hunter2', 'ws-t0ken']) expect(everything).not.toContain(secret);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('deployment.md, Kubernetes: after SIGTERM `tsgi serve` lets an idle kept-alive connection expire, and a probe sent on it meanwhile reaches readyz: 503, Connection: close (socket)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-docs-'));
    const tsgi = path.join(ROOT, 'src/index.ts');
    const { cli, servingUrl, waitFor } = await import('./cli-helpers.ts');
    const { default: net } = await import('node:net');
    try {
      writeFileSync(path.join(dir, 'probes.ts'), block('Kubernetes', 'deployment.md').replaceAll("from 'tsgi'", `from '${tsgi}'`));
      const served = cli(['serve', `${path.join(dir, 'probes.ts')}:readyz`, '--port', '0', '--timeout-keep-alive', '5']);
      const url = new URL(await servingUrl(served));
      const probe = net.connect(Number(url.port), '127.0.0.1');
      let got = '';
      probe.on('data', (chunk: Buffer) => (got += chunk.toString('latin1')));
      probe.on('error', () => {});
      const ask = async () => {
        got = '';
        probe.write('GET /readyz HTTP/1.1\r\nHost: pod\r\n\r\n');
        await waitFor(() => got.endsWith('\n\n') || /\r\n\r\n(ready|draining)\n$/.test(got), () => `no answer: ${JSON.stringify(got)}`, 5_000);
        return got;
      };
      expect(await ask()).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\n\r\nready\n$/);
      served.child.kill('SIGTERM');
      await waitFor(() => /Stopping on SIGTERM/.test(served.out.stdout), () => served.out.stdout, 5_000);
      // The connection is idle: left to expire, not closed, so the kubelet's probe on it gets an answer.
      const answer = await ask();
      expect(answer).toMatch(/^HTTP\/1\.1 503 /);
      expect(answer).toMatch(/\r\nConnection: close\r\n/i);
      expect(answer.endsWith('draining\n')).toBe(true);
      probe.destroy();
      expect((await served.exited).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('deployment.md, TLS without a proxy: HTTPS with SNI, a certificate renewed on SIGHUP (a mismatched pair keeps the old one), port 80 redirected (socket)', async () => {
    const { makeCertificate } = await import('./tls-helpers.ts');
    const { default: tls } = await import('node:tls');
    const { default: http } = await import('node:http');
    const { vi } = await import('vitest');
    const { X509Certificate } = await import('node:crypto');
    const certs = await Promise.all([makeCertificate(), makeCertificate(), makeCertificate()]);
    const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-docs-tls-'));
    const put = (folder: string, cert: string, key: string) => {
      mkdirSync(path.join(dir, folder), { recursive: true });
      writeFileSync(path.join(dir, folder, 'fullchain.pem'), cert);
      writeFileSync(path.join(dir, folder, 'privkey.pem'), key);
    };
    put('tls', certs[0]!.cert, certs[0]!.key);
    put('tls-api', certs[1]!.cert, certs[1]!.key);
    writeFileSync(path.join(dir, 'app.ts'), "import { Request, Response } from 'tsgi';\nexport const app = Request.application((req) => new Response(`${req.scheme} ${req.path}`));\n");
    const code = block('TLS without a proxy', 'deployment.md')
      .replaceAll("'/etc/tsgi/tls", `'${dir}/tls`)
      .replaceAll("'0.0.0.0'", "'127.0.0.1'")
      .replace('port: 443', 'port: 0')
      .replace('port: 80 ', 'port: 0 ');
    writeFileSync(path.join(dir, 'server.ts'), code);
    const hupBefore = process.listeners('SIGHUP');
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { httpsServer: site, httpServer: redirect } = (await import(path.join(dir, 'server.ts'))) as Record<string, { port: number; close(): Promise<void> }>;
    const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
    /** The certificate served to a handshake naming `servername` (none: no SNI), and the answer to GET /x on it. */
    const served = (servername?: string) =>
      new Promise<{ certificate: string; answer: string }>((resolve, reject) => {
        let certificate = '';
        const socket = tls.connect({ port: site!.port, host: '127.0.0.1', servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
          certificate = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
          socket.write('GET /x HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
        });
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
        socket.on('error', reject);
        socket.on('close', () => resolve({ certificate, answer }));
      });
    try {
      expect(code).not.toMatch(/port: (443|80)\b|0\.0\.0\.0|\/etc\//);
      const first = await served();
      expect(first.certificate).toBe(fingerprint(certs[0]!.cert));
      expect(first.answer).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\n\r\nhttps \/x$/);
      expect((await served('api.example.org')).certificate).toBe(fingerprint(certs[1]!.cert));
      expect((await served('other.example')).certificate).toBe(fingerprint(certs[0]!.cert));
      // Renewed in place, then SIGHUP: the next handshake gets the new certificate.
      put('tls', certs[2]!.cert, certs[2]!.key);
      put('tls-api', certs[0]!.cert, certs[0]!.key);
      process.emit('SIGHUP', 'SIGHUP');
      expect((await served()).certificate).toBe(fingerprint(certs[2]!.cert));
      expect((await served('api.example.org')).certificate).toBe(fingerprint(certs[0]!.cert));
      // A pair that does not match: said on standard error, the certificate in use stays.
      put('tls', certs[0]!.cert, certs[2]!.key);
      process.emit('SIGHUP', 'SIGHUP');
      expect(errors.mock.calls.map(([line]) => String(line))).toEqual([expect.stringMatching(/^tsgi: kept the certificate in use: .*key values mismatch/)]);
      expect((await served()).certificate).toBe(fingerprint(certs[2]!.cert));
      const moved = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
        http.get({ port: redirect!.port, host: '127.0.0.1', path: '/a%20b/c?q=1&r', headers: { host: 'evil.example' }, agent: false }, (res) => {
          res.resume();
          resolve({ status: res.statusCode!, location: res.headers.location });
        }).on('error', reject);
      });
      expect(moved).toEqual({ status: 308, location: 'https://example.com/a%20b/c?q=1&r' });
    } finally {
      errors.mockRestore();
      for (const listener of process.listeners('SIGHUP')) if (!hupBefore.includes(listener)) process.off('SIGHUP', listener);
      await Promise.all([site?.close(), redirect?.close()]);
      for (const certificate of certs) certificate.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('middleware-csrf.md: the Use example refuses a cross-site post, and lets its own, the trusted origin\'s and the hook through', async () => {
    const { statuses } = await run(`${block('Use', 'middleware-csrf.md')}
import { TestClient } from 'tsgi/testing';
const client = new TestClient(app, { status: '*' });
const post = (path: string, headers: Record<string, string>) => client.post(path, { form: { amount: '5' }, headers });
export const statuses = await Promise.all([
  post('/transfer', { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }),
  post('/transfer', { origin: 'https://evil.example' }),
  post('/transfer', { 'sec-fetch-site': 'same-origin' }),
  post('/transfer', { 'sec-fetch-site': 'same-site', origin: 'https://admin.example.com' }),
  post('/hooks/payment', { 'sec-fetch-site': 'cross-site', origin: 'https://payments.example' }),
  client.get('/', { headers: { 'sec-fetch-site': 'cross-site' } }),
].map(async (res) => (await res).statusCode));
`);
    expect(statuses).toEqual([403, 403, 200, 200, 200, 200]);
  });

  it('middleware-static.md: the single-page app serves deep links the page, immutable assets, and 404s for missing files and API routes', async () => {
    const recipe = block('A single-page app: history fallback and immutable assets', 'middleware-static.md');
    expect(recipe.match(/'dist/g)).toHaveLength(3);
    const dist = mkdtempSync(path.join(tmpdir(), 'tsgi-docs-spa-'));
    try {
      mkdirSync(path.join(dist, 'assets'));
      writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>spa</title>');
      writeFileSync(path.join(dist, 'assets', 'app-3f2a9c.js'), 'export {};');
      writeFileSync(path.join(dist, 'assets', 'app-3f2a9c.js.br'), brotliCompressSync('export {};'));
      const { answers, posted, coded } = await run(`import { HTTPNotFound as NotFound, Request as Req, Response as Res } from 'tsgi';
const api = Req.application((req) => { if (req.pathInfo === '/health') return Res.json({ ok: true }); throw new NotFound(); });
${recipe.replaceAll("'dist", `'${dist}`)}
import { TestClient } from 'tsgi/testing';
const client = new TestClient(app, { status: '*' });
export const answers = await Promise.all(['/settings/profile', '/', '/assets/app-3f2a9c.js', '/assets/missing.js', '/api/unknown', '/api/health', '/robots.txt', '/.env'].map(async (url) => {
  const res = await client.get(url);
  return [url, res.statusCode, res.headers.get('cache-control'), res.textBody.startsWith('<!doctype')];
}));
export const posted = [(await client.post('/settings', { body: '' })).statusCode, (await client.post('/settings', { body: 'x'.repeat(1024) })).statusCode];
export const coded = (await client.get('/assets/app-3f2a9c.js', { headers: { 'accept-encoding': 'br' } })).headers.get('content-encoding');
`);
      expect(answers).toEqual([
        ['/settings/profile', 200, 'no-cache', true],
        ['/', 200, 'no-cache', true],
        ['/assets/app-3f2a9c.js', 200, 'public, max-age=31536000, immutable', false],
        ['/assets/missing.js', 404, null, false],
        ['/api/unknown', 404, null, false],
        ['/api/health', 200, null, false],
        ['/robots.txt', 404, null, false],
        ['/.env', 404, null, false],
      ]);
      expect(posted).toEqual([405, 405]); // a body no app reads is never read
      // The build's Brotli copy is sent (`precompressed: true`), not compressed again.
      expect(coded).toBe('br');
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });

  it('caching.md: Behind a CDN caches anonymous articles at the edge, revalidates with 304s, keeps readers\' pages private and assets immutable (socket)', async () => {
    const recipe = block('Behind a CDN', 'caching.md');
    expect(recipe.match(/'public\/assets'/g)).toHaveLength(1);
    const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-docs-cdn-'));
    try {
      writeFileSync(path.join(dir, 'app.3f9a.css'), 'body { color: #222 }\n'.repeat(100));
      const { app, sessions } = await run(`const loadArticle = async (slug) => slug === 'hello' ? { slug, version: 3, updatedAt: new Date('2026-12-01T10:00:00Z'), html: 'x'.repeat(3000) } : undefined;
const renderArticle = (row, user) => \`<h1>\${row.slug}</h1>\${user ? \`<p>Hi \${user}</p>\` : ''}\${row.html}\`;
${recipe.replace("'public/assets'", JSON.stringify(dir))}`);
      const server = await start(app as App);
      const login = await start((sessions as CookieSessions).middleware(Request.application((req) => {
        sessionOf(req).set('user', 'bob');
        return new Response('in');
      })));
      try {
        const get = (url: string, headers: Record<string, string> = {}) => request(`${server.url}${url}`, { headers });
        const page = await get('/articles/hello');
        expect(page.status).toBe(200);
        expect(page.headers['cache-control']).toBe('public, max-age=60, s-maxage=600, stale-while-revalidate=30, stale-if-error=86400');
        // The CDN reads CDN-Cache-Control instead of Cache-Control (RFC 9213 §2.1): the stale
        // directives must be there too, or it never serves a stale copy while the origin is down.
        expect(page.headers['cdn-cache-control']).toBe('max-age=600, stale-while-revalidate=30, stale-if-error=86400');
        expect(page.headers['surrogate-key']).toBe('article-hello articles');
        expect(page.headers.vary).toBe('Accept-Encoding');
        expect(page.headers.etag).toBe('"hello-3"');
        expect(page.headers['last-modified']).toBe('Tue, 01 Dec 2026 10:00:00 GMT');
        expect(page.headers['set-cookie']).toBeUndefined();

        const gzipped = await get('/articles/hello', { 'accept-encoding': 'gzip' });
        expect([gzipped.headers['content-encoding'], gzipped.headers.etag, gzipped.headers.vary]).toEqual(['gzip', 'W/"hello-3"', 'Accept-Encoding']);

        // The browser's revalidations: 304s with the caching fields, without the body's.
        const revalidations: Array<Record<string, string>> = [
          { 'if-none-match': '"other", "hello-3"' },
          { 'if-none-match': '*' },
          { 'if-modified-since': 'Tue, 01 Dec 2026 10:00:00 GMT' },
          { 'if-modified-since': 'Tuesday, 01-Dec-26 10:00:00 GMT' },
          { 'if-modified-since': 'Tue Dec  1 10:00:00 2026' },
        ];
        for (const headers of revalidations) {
          const again = await get('/articles/hello', headers);
          expect(again.status, JSON.stringify(headers)).toBe(304);
          expect(again.headers['cache-control']).toBe(page.headers['cache-control']);
          expect([again.headers['content-type'], again.headers['content-length'], again.body.length]).toEqual([undefined, undefined, 0]);
        }
        // If-None-Match wins over If-Modified-Since (RFC 9110 §13.1.3).
        expect((await get('/articles/hello', { 'if-none-match': '"hello-2"', 'if-modified-since': 'Tue, 01 Dec 2026 10:00:00 GMT' })).status).toBe(200);
        const weak = await get('/articles/hello', { 'if-none-match': 'W/"hello-3"', 'accept-encoding': 'gzip' });
        expect([weak.status, weak.headers.etag, weak.headers.vary]).toEqual([304, 'W/"hello-3"', 'Accept-Encoding']);
        expect(weak.rawHeaders.filter((name) => name.toLowerCase() === 'date')).toHaveLength(1);

        // A logged-in reader: private, no CDN fields, not stored.
        const cookie = /^([^;]*)/.exec(String((await request(login.url)).headers['set-cookie']))![1]!;
        const mine = await get('/articles/hello', { cookie });
        expect(mine.body.toString()).toContain('<p>Hi bob</p>');
        expect(mine.headers['cache-control']).toBe('private, no-cache');
        expect([mine.headers['cdn-cache-control'], mine.headers['surrogate-key']]).toEqual([undefined, undefined]);
        // The reader's browser still holds the anonymous copy: revalidating it once logged in
        // must answer the reader's page, not a 304 that keeps the anonymous one showing.
        const stale: Array<Record<string, string>> = [{ 'if-none-match': '"hello-3"' }, { 'if-modified-since': 'Tue, 01 Dec 2026 10:00:00 GMT' }];
        for (const headers of stale) {
          const again = await get('/articles/hello', { cookie, ...headers });
          expect([again.status, again.body.toString().includes('<p>Hi bob</p>')], JSON.stringify(headers)).toEqual([200, true]);
        }

        const css = await get('/assets/app.3f9a.css', { 'accept-encoding': 'br' });
        expect([css.status, css.headers['cache-control'], css.headers['content-encoding'], css.headers.vary]).toEqual([200, 'public, max-age=31536000, immutable', 'br', 'Accept-Encoding']);
        expect(css.headers.etag).toMatch(/^W\//);
        expect((await get('/articles/nope')).status).toBe(404);
      } finally {
        await server.close();
        await login.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('proxy.md: interceptErrors answers an upstream\'s 5xx with the gateway\'s own page, its stack trace and fields left behind, and keeps the connection usable (socket)', async () => {
    const text = texts.get('docs/proxy.md')!;
    const at = text.indexOf("**The upstream's own error pages**");
    expect(at).toBeGreaterThan(-1);
    const code = /```ts\n([\s\S]*?)```/.exec(text.slice(at))![1]!;
    const page = '<pre>TypeError: x\n    at /srv/app/db.js:12 (express 4.17.1)</pre>';
    const upstream = await start((environ, startResponse) => {
      const status = environ.PATH_INFO === '/ok' ? '200 OK' : environ.PATH_INFO === '/odd' ? '599 Odd' : '500 Internal Server Error';
      startResponse(status, [['Content-Type', 'text/html'], ['X-Powered-By', 'Express']]);
      return (async function* () {
        yield new TextEncoder().encode(page);
      })();
    });
    const { legacy, upstream: gateway } = (await run(code.replace("'http://127.0.0.1:8081'", JSON.stringify(upstream.url)))) as { legacy: App; upstream: { close(): Promise<void> } };
    try {
      const server = await start(legacy);
      const answers: Array<[number, string | null, boolean]> = [];
      for (const path of ['/boom', '/ok', '/odd', '/boom']) {
        const res = await fetch(`${server.url}${path}`, { headers: { accept: 'text/html' } });
        const body = await res.text();
        answers.push([res.status, res.headers.get('x-powered-by'), body.includes('/srv/app/db.js')]);
      }
      expect(answers).toEqual([[500, null, false], [200, 'Express', true], [502, null, false], [500, null, false]]);
      expect(server.log.text).toBe('');
    } finally {
      await gateway.close();
    }
  });

  it('hono.md: the counterpart of Hono\'s HTTPException(401) answers a 401 that lint and TestClient take', async () => {
    const { HTTPUnauthorized, Request } = await import('tsgi');
    const { TestClient } = await import('tsgi/testing');
    const row = texts.get('docs/hono.md')!.split('\n').find((line) => line.startsWith('| `throw new HTTPException(401'))!;
    const written = /^\| [^|]+\| `(throw new HTTPUnauthorized\(.*?\))`/.exec(row)![1]!;
    const message = 'Sign in.';
    const handler = new Function('HTTPUnauthorized', 'message', written) as (...args: unknown[]) => never;
    const app = Request.application(() => handler(HTTPUnauthorized, message));
    const res = await new TestClient(app).get('/', { status: 401 });
    expect(res.headers.get('www-authenticate')).toMatch(/^\w+ /);
    expect(res.textBody).toContain(message);
  });

  it('hono.md: the counterpart of Hono\'s timeout() answers the status Hono answers', async () => {
    const { Hono } = await import('hono');
    const { timeout: honoTimeout } = await import('hono/timeout');
    const { Request } = await import('tsgi');
    const { timeout } = await import('tsgi/middleware');
    const { TestClient } = await import('tsgi/testing');
    const row = texts.get('docs/hono.md')!.split('\n').find((line) => /^\| [^|]*`timeout\(5000\)`/.test(line));
    expect(row, 'hono.md has a row for timeout(5000)').toBeDefined();
    const options = /`timeout\(app, (\{[^`]*\})\)`/.exec(row!)![1]!;
    const written = { ...(new Function(`return ${options}`)() as { ms: number }), ms: 20 };
    const hono = new Hono().use(honoTimeout(20)).get('/', () => new Promise<never>(() => {}));
    const expected = (await hono.request('/')).status;
    const app = timeout(Request.application(() => new Promise<never>(() => {})), written);
    expect((await new TestClient(app, { status: '*' }).get('/')).statusCode).toBe(expected);
  });

  it('conditional.md and express.md: req.rangeFor\'s options do what the pages say, and Express\'s req.range(size) answers as the row given for it', async () => {
    const express = (await import('express')).default;
    const { Request } = await import('tsgi');
    const page = texts.get('docs/conditional.md')!.replaceAll('\n', ' ');
    const call = /`req\.rangeFor\(length, (\{ combine: false \})\)` keeps overlapping and adjacent ranges apart, in the order asked \(`(bytes=[^`]+)` gives three ranges/.exec(page);
    expect(call, 'conditional.md names rangeFor\'s combine option').not.toBeNull();
    const raise = /`(\{ maxRanges: (\d+) \})` raises the (\d+) past which the header is `ignored` \(`reason: '([\w-]+)'`\)/.exec(page);
    expect(raise, 'conditional.md names rangeFor\'s maxRanges option').not.toBeNull();
    const asked = Request.blank('/', { headers: { range: call![2]! } });
    const apart = asked.rangeFor(100, new Function(`return ${call![1]}`)() as { combine: boolean });
    expect(apart.kind === 'satisfiable' && apart.ranges.length).toBe(3);
    const limit = Number(raise![3]);
    const many = Request.blank('/', { headers: { range: `bytes=${Array.from({ length: limit + 1 }, (_, i) => `${i * 2}-${i * 2}`).join(',')}` } });
    expect(many.rangeFor(1000)).toEqual({ kind: 'ignored', reason: raise![4] });
    expect(many.rangeFor(1000, new Function(`return ${raise![1]}`)() as { maxRanges: number }).kind).toBe('satisfiable');
    // express.md's row for req.range(size): the same ranges, in the same order, as Express answers.
    const row = texts.get('docs/express.md')!.split('\n').find((line) => line.startsWith('| `req.range(size)`'))!;
    const options = /`req\.rangeFor\(size(?:, (\{[^`]*\}))?\)`/.exec(row)![1];
    const web = express().get('/', (req, res) => void res.json(req.range(100)));
    const server = http.createServer(web).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as { port: number };
      const expressRanges = await (await fetch(`http://127.0.0.1:${port}/`, { headers: { range: call![2]! } })).json();
      const ours = asked.rangeFor(100, options === undefined ? undefined : (new Function(`return ${options}`)() as { combine: boolean }));
      expect(ours.kind === 'satisfiable' && ours.ranges).toEqual(expressRanges);
    } finally {
      server.close();
    }
  });

  it('middleware-auth.md: what staticUsers refuses, and what the page says Hono\'s basicAuth does with the same password', async () => {
    const { Hono } = await import('hono');
    const { basicAuth: honoBasicAuth } = await import('hono/basic-auth');
    const { staticUsers } = await import('tsgi/middleware');
    expect(() => staticUsers({ admin: '' })).toThrow(TypeError);
    expect(() => staticUsers({ admin: undefined as unknown as string })).toThrow(TypeError);
    const page = texts.get('docs/middleware-auth.md')!.replaceAll('\n', ' ');
    const said = /when the table is built,\s+(as|where)\s+Hono's\s+`basicAuth`\s+(\w+)/.exec(page);
    expect(said, 'middleware-auth.md compares staticUsers with Hono\'s basicAuth').not.toBeNull();
    const basic = (user: string, password: string) => ({ authorization: `Basic ${btoa(`${user}:${password}`)}` });
    let honoRefuses = true;
    try {
      const hono = new Hono().use(honoBasicAuth({ username: 'admin', password: '' })).get('/', (c) => c.text('in'));
      honoRefuses = (await hono.request('/', { headers: basic('admin', '') })).status === 401;
    } catch {
      // refused when built
    }
    expect(honoRefuses).toBe(false); // Hono lets `admin` in with an empty password
    expect(said![2], 'the page must not say Hono refuses an empty password').not.toMatch(/^refuse/);
  });

  it('middleware-method-override.md: what the page says Hono\'s methodOverride does with a method it does not know is what Hono does', async () => {
    const { Hono } = await import('hono');
    const { methodOverride: honoMethodOverride } = await import('hono/method-override');
    const page = texts.get('docs/middleware-method-override.md')!.replaceAll('\n', ' ');
    const said = /\*\*An unknown method is a 400, not a `POST`\.\*\*(.*?)\./.exec(page);
    expect(said, 'middleware-method-override.md compares its 400 with the others').not.toBeNull();
    const hono = new Hono();
    hono.use('/*', honoMethodOverride({ app: hono }));
    hono.all('/notes', (c) => c.text(c.req.method));
    const sent = (value: string) =>
      hono.request('/notes', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `_method=${value}` });
    // Hono takes any value as the method: a typo reaches the routes as that method, not as a POST.
    expect(await (await sent('DELTE')).text()).toBe('DELTE');
    expect(await (await sent('GET')).text()).toBe('GET');
    expect(said![1], 'the page must not say Hono leaves a POST').not.toMatch(/Hono leave/);
  });

  it('middleware-cors.md: what the page says of Hono\'s Vary: Origin beside a route\'s own Access-Control-Allow-Origin is what Hono sends', async () => {
    const { Hono } = await import('hono');
    const { cors: honoCors } = await import('hono/cors');
    const page = texts.get('docs/middleware-cors.md')!.replaceAll('\n', ' ');
    const said = /their `Vary: Origin` stays \((.*?)\)/.exec(page);
    expect(said, 'middleware-cors.md says when Express and Hono keep Vary: Origin').not.toBeNull();
    const hono = new Hono().use(honoCors({ origin: ['https://app.example.com'] })).get('/', (c) => {
      c.header('Access-Control-Allow-Origin', 'https://route.example.com');
      return c.text('route');
    });
    // A refused origin gets Hono's Vary: Origin too: Hono adds it whenever origin is not '*'.
    const refused = await hono.request('/', { headers: { origin: 'https://evil.example.net' } });
    expect(refused.headers.get('access-control-allow-origin')).toBe('https://route.example.com');
    expect(refused.headers.get('vary')).toBe('Origin');
    expect(said![1], 'the page must not say Hono adds it only for an allowed origin').not.toMatch(/Hono's when the origin is allowed/);
  });

  it('middleware-proxy-fix.md: the prefixes the page says are ignored are ignored, and a percent-encoded space is taken, as the TSDoc says (socket)', async () => {
    const { lint, proxyFix } = await import('tsgi/middleware');
    const page = texts.get('docs/middleware-proxy-fix.md')!.replaceAll('\n', ' ');
    const said = /a prefix that is not a clean absolute path \((.*?)\)/.exec(page);
    expect(said, 'middleware-proxy-fix.md lists the prefixes it ignores').not.toBeNull();
    const server = await start(lint(proxyFix(lint(Request.application((req) => new Response(req.scriptName))), { xPrefix: 1 })));
    const scriptName = async (prefix: string) => (await request(server.url, { headers: { 'x-forwarded-prefix': prefix } })).body.toString();
    for (const ignored of ['//evil.com', '/../x', '/a<script>', '/a%3Cb', '/a%09b', '/a b']) expect(await scriptName(ignored), ignored).toBe('');
    // A space is a path character once percent-encoded: the mount point is "/my shop".
    expect(await scriptName('/my%20shop')).toBe('/my shop');
    expect(said![1], 'the page must not say a percent-encoded space is ignored').not.toMatch(/spaces or control characters, also once percent-decoded/);
  });

  it('response.md: res.attachment(\'\') sends the bare attachment, and what the page says Express sends for it is what Express sends', async () => {
    const express = (await import('express')).default;
    const { Response } = await import('tsgi');
    const row = texts.get('docs/response.md')!.split('\n').find((line) => line.startsWith('| `res.attachment('))!;
    const said = /one with no segment \(`''`, `\/`\) sends the bare `attachment`([^;|]*)/.exec(row);
    expect(said, 'response.md says what res.attachment(\'\') sends').not.toBeNull();
    const ours = new Response('x');
    ours.attachment('');
    expect(ours.headers.get('content-disposition')).toBe('attachment');
    const web = express().get('/', (req, res) => void res.attachment('').send('x'));
    const server = http.createServer(web).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as { port: number };
      const theirs = (await fetch(`http://127.0.0.1:${port}/`)).headers.get('content-disposition')!;
      const claimed = /as Express does|Express sends `([^`]+)`/.exec(said![1]!);
      if (claimed?.[0] === 'as Express does') expect(theirs).toBe('attachment');
      else if (claimed) expect(claimed[1]).toBe(theirs);
    } finally {
      server.close();
    }
  });

  it('proxy.md: the replaceText example drops the JSON field wherever it stands, leaving valid JSON', async () => {
    const { Request, Response } = await import('tsgi');
    const { replaceText } = await import('tsgi/proxy');
    const literal = /\[\/("internal_id".*)\/g, ''\]/.exec(texts.get('docs/proxy.md')!)!;
    const pattern = new RegExp(literal[1]!, 'g');
    const objects = [{ a: 1, internal_id: 2 }, { internal_id: 1, a: 2 }, { a: 1, internal_id: 2, b: 3 }, { internal_id: 1 }];
    for (const value of [...objects, objects]) {
      const api = Request.application(() => Response.json(value));
      const res = await Request.blank('/').getResponse(replaceText(api, { replacements: [[pattern, '']] }));
      const text = await res.text();
      expect(() => JSON.parse(text), text).not.toThrow();
      expect(text).not.toContain('internal_id');
    }
  });

  it('request.md: the webhook receiver checks the signature over the bytes sent (gzip ones too), answers a redelivery 200 and works after the 202 (socket)', async () => {
    process.env.WEBHOOK_SECRET = 'a webhook secret for the docs test';
    const { app, handled } = (await run(block('Receiving webhooks: a signature over the raw body', 'request.md'))) as { app: App; handled: unknown[] };
    const server = await start(app, { host: '127.0.0.1' });
    const deliver = async (body: string | Uint8Array, id: string, signed: string | Uint8Array = body, extra: Record<string, string> = {}) => {
      const headers = { 'content-type': 'application/json', 'x-github-delivery': id, 'x-hub-signature-256': `sha256=${createHmac('sha256', process.env.WEBHOOK_SECRET!).update(signed).digest('hex')}`, ...extra };
      const res = await request(server.url, { method: 'POST', body, headers });
      return `${res.status} ${res.body.toString().trim().split('\n').pop()}`;
    };
    const body = JSON.stringify({ action: 'opened', number: 1 });
    const coded = gzipSync(body);
    const lines: string[] = [];
    const { stdout } = process;
    const write = stdout.write;
    (stdout as { write: unknown }).write = (chunk: string) => (lines.push(String(chunk)), true);
    const answers: string[] = [];
    try {
      answers.push(await deliver(body, 'd1'), await deliver(body, 'd1'), await deliver(coded, 'd2', coded, { 'content-encoding': 'gzip' }));
      answers.push(await deliver(coded, 'd3', body, { 'content-encoding': 'gzip' }), await deliver(body, 'd4', `${body} `));
      answers.push(await deliver(body, 'd5', body, { 'content-type': 'text/plain' }));
    } finally {
      (stdout as { write: unknown }).write = write;
    }
    expect(answers).toEqual(['202 {"received":true}', '200 {"duplicate":true}', '202 {"received":true}', '400 Bad signature.', '400 Bad signature.', '415 Send application/json.']);
    expect(lines.map((line) => line.split('"')[2]!.trim().split(' ')[0])).toEqual(['202', '200', '202', '400', '400', '415']); // accessLog, combined
    await until(() => handled.length === 2);
    expect(handled).toEqual([JSON.parse(body), JSON.parse(body)]);
    expect(server.log.text).toBe('');
  });
});
