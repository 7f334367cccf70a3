/**
 * A Cloudflare Workers developer's site ported by docs/deployment.md
 * (test/runtimes/scripts/scenario-workers-app.ts: sessions signed with a secret binding, a login
 * form urlencoded and multipart, CORS, ETags, streams, `callOnClose` through `ctx.waitUntil`,
 * redirects, errors, `compress`), bundled by examples/worker-bundle.ts and run on workerd, answers
 * the same requests as under `serve()` on Node, over a real socket on 127.0.0.1. The client's
 * address differs on purpose (workerd: `CF-Connecting-IP`, docs/deployment.md), and is checked
 * on its own. Static files come from the ASSETS binding there, from `directoryApp` on Node.
 */
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, launch, startWorkerd } from './rows.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = 'a-binding-secret-of-at-least-32-bytes!!';
let workerd: RunningServer;
let node: RunningServer;

beforeAll(async () => {
  [workerd, node] = await Promise.all([
    startWorkerd(path.join(ROOT, 'test/runtimes/scripts/scenario-workers-worker.ts'), '/api/items', undefined, {
      bindings: { SESSION_SECRET: SECRET, GREETING: 'hello' },
      http: { cfBlobHeader: 'cf-blob', forwardedProtoHeader: 'x-edge-proto' },
      assets: path.join(ROOT, 'examples'),
    }),
    launch(process.execPath, ['--conditions=tsgi-source', 'test/runtimes/scripts/scenario-workers-server.ts'], { env: { SESSION_SECRET: SECRET, GREETING: 'hello' } }),
  ]);
});
afterAll(async () => {
  await workerd?.stop();
  await node?.stop();
});

interface Ask {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The status both must answer, where the comparison alone would not show a mistake both make. */
  status?: number;
}

/** One answer as text: status, the fields but those that vary by server or time, the body (latin1). */
function ask(origin: string, { method = 'GET', path: target, headers = {}, body }: Ask): Promise<string> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path: target, agent: false, headers: { connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const fields = Object.entries(res.headers)
          .filter(([name]) => !['date', 'connection', 'keep-alive'].includes(name))
          .map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(' | ') : value}`)
          .sort();
        const text = [`${res.statusCode} ${res.statusMessage}`, ...fields, Buffer.concat(chunks).toString('latin1')].join('\n');
        // The origin's port, and a signed session's time and MAC, differ from one server to the other.
        resolve(text.replaceAll(origin, 'ORIGIN').replace(/session=[\w-]+\.[\w-]+/g, 'session=SIGNED').replace(/Expires=[^;]+/g, 'Expires=DATE'));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const B = 'XyZ';
const multipart = [
  `--${B}`, 'Content-Disposition: form-data; name="user"', '', 'bob',
  `--${B}`, 'Content-Disposition: form-data; name="password"', '', 'pw',
  `--${B}`, 'Content-Disposition: form-data; name="avatar"; filename="a.png"', 'Content-Type: image/png', '', 'PNGDATA',
  `--${B}--`, '',
].join('\r\n');
const form = { 'content-type': 'application/x-www-form-urlencoded' };
const FRONT = { origin: 'https://front.example' };

const ASKS: Ask[] = [
  { path: '/' },
  { method: 'HEAD', path: '/' },
  { path: '/', headers: { cookie: 'session=forged.value' } },
  { method: 'POST', path: '/login', headers: form, body: 'user=ann&password=pw', status: 303 },
  { method: 'POST', path: '/login', headers: form, body: 'user=ann&password=no', status: 401 },
  { method: 'POST', path: '/login', headers: { 'content-type': `multipart/form-data; boundary=${B}` }, body: multipart, status: 303 },
  { method: 'POST', path: '/login', headers: { 'content-type': `multipart/form-data; boundary=${B}` }, body: 'garbage', status: 400 },
  { method: 'POST', path: '/login', headers: { ...form, 'content-length': '999999' }, body: 'user=a', status: 413 },
  { path: '/api/items' },
  { path: '/api/items', headers: { 'if-none-match': '"xxU20rBB8zsZMbJVqIOTy6z3P6A"' }, status: 304 },
  { path: '/api/items', headers: FRONT },
  { method: 'OPTIONS', path: '/api/items', headers: { ...FRONT, 'access-control-request-method': 'PUT' } },
  { path: '/api/items', headers: { origin: 'https://evil.example' } },
  { method: 'HEAD', path: '/api/items' },
  { method: 'DELETE', path: '/api/items' },
  { path: '/stream/readable' },
  { path: '/stream/generator' },
  { path: '/stream/generator', headers: { 'accept-encoding': 'gzip' } },
  { method: 'HEAD', path: '/stream/generator' },
  { path: '/big', headers: { 'accept-encoding': 'gzip, br' } },
  { path: '/big', headers: { 'accept-encoding': 'gzip' } },
  { path: '/big', headers: { 'accept-encoding': 'gzip', 'if-none-match': 'W/"LL6ApKRwo3ngNUa17VBGUBS76DA"' }, status: 304 },
  { method: 'HEAD', path: '/big', headers: { 'accept-encoding': 'gzip' } },
  { path: '/big', headers: { range: 'bytes=0-4' }, status: 206 },
  { path: '/after' },
  { path: '/old', status: 301 },
  { path: '/boom', status: 500 },
  { path: '/binding' },
  { path: '/nope' },
  { path: '/%zz' },
  { method: 'POST', path: '/echo', body: 'hello' },
  { method: 'POST', path: '/echo', body: Buffer.alloc(70 * 1024), status: 413 },
  { method: 'POST', path: '/echo', headers: { 'transfer-encoding': 'chunked' }, body: Buffer.alloc(70 * 1024), status: 413 },
];

it('answers every request on workerd as serve() does on Node', async () => {
  for (const request of ASKS) {
    const [onWorkerd, onNode] = [await ask(workerd.origin, request), await ask(node.origin, request)];
    expect(`${request.method ?? 'GET'} ${request.path}\n${onWorkerd}`).toBe(`${request.method ?? 'GET'} ${request.path}\n${onNode}`);
    if (request.status !== undefined) expect(onWorkerd.slice(0, 3)).toBe(String(request.status));
  }
});

it('serves static files through the ASSETS binding on workerd, as directoryApp does on Node', async () => {
  // Only the status and the bytes: the fields are each server's own (workerd's disk service
  // stands in for Workers Static Assets here).
  for (const target of ['/public/hello.txt', '/public/style.css', '/public/missing.txt']) {
    const [onWorkerd, onNode] = await Promise.all([fetch(`${workerd.origin}${target}`), fetch(`${node.origin}${target}`)]);
    expect(onWorkerd.status).toBe(onNode.status);
    if (onNode.ok) expect(await onWorkerd.text()).toBe(await onNode.text());
  }
});

it('keeps a login’s two cookies apart, signs the session with the binding, and reads it back', async () => {
  for (const origin of [workerd.origin, node.origin]) {
    const login = await fetch(`${origin}/login`, { method: 'POST', body: new URLSearchParams({ user: 'cy', password: 'pw' }), redirect: 'manual' });
    const cookies = login.headers.getSetCookie();
    expect(cookies.map((cookie) => cookie.split('=')[0])).toEqual(['theme', 'session']);
    const home = await fetch(`${origin}/`, { headers: { cookie: cookies.map((cookie) => cookie.split(';')[0]).join('; ') } });
    expect(await home.text()).toBe('hi cy|cy\n');
  }
});

it('takes the client’s address from CF-Connecting-IP on workerd, the peer on Node; the scheme and host from the URL; multiprocess on workerd', async () => {
  const headers = { 'cf-connecting-ip': '203.0.113.9', 'x-forwarded-proto': 'https' };
  const onWorkerd = JSON.parse(await (await fetch(`${workerd.origin}/whoami`, { headers })).text());
  const onNode = JSON.parse(await (await fetch(`${node.origin}/whoami`, { headers })).text());
  expect(onWorkerd).toEqual({ addr: '203.0.113.9', scheme: 'http', host: new URL(workerd.origin).host, url: `${workerd.origin}/whoami`, protocol: 'HTTP/1.1', multiprocess: true });
  expect(onNode).toEqual({ addr: '127.0.0.1', scheme: 'http', host: new URL(node.origin).host, url: `${node.origin}/whoami`, protocol: 'HTTP/1.1', multiprocess: false });
});

it('takes https from the URL the edge hands over: the scheme, a Secure session cookie, an https Location', async () => {
  // workerd's forwardedProtoHeader makes the request URL https, as Cloudflare's edge does.
  const edge = { 'x-edge-proto': 'https' };
  const who = JSON.parse(await (await fetch(`${workerd.origin}/whoami`, { headers: edge })).text());
  expect(who).toMatchObject({ scheme: 'https', url: `https://${new URL(workerd.origin).host}/whoami` });
  const login = await fetch(`${workerd.origin}/login`, { method: 'POST', headers: edge, body: new URLSearchParams({ user: 'cy', password: 'pw' }), redirect: 'manual' });
  expect(login.headers.get('location')).toBe(`https://${new URL(workerd.origin).host}/`);
  expect(login.headers.getSetCookie().find((cookie) => cookie.startsWith('session='))).toMatch(/; Secure/);
});

it('names the version of an HTTP/2 or HTTP/3 request at the edge as serve() names HTTP/2: HTTP/<major>.<minor>', async () => {
  // Cloudflare's `request.cf.httpProtocol` says `HTTP/2` and `HTTP/3`; SERVER_PROTOCOL is
  // `HTTP/2.0` under serve() (docs/spec.md), and an access log's line should not differ.
  for (const [edge, expected] of [['HTTP/2', 'HTTP/2.0'], ['HTTP/3', 'HTTP/3.0'], ['HTTP/1.0', 'HTTP/1.0'], ['HTTP/1.1', 'HTTP/1.1']]) {
    const answer = await fetch(`${workerd.origin}/whoami`, { headers: { 'cf-blob': JSON.stringify({ httpProtocol: edge }) } });
    expect(JSON.parse(await answer.text()).protocol).toBe(expected);
  }
});

it('runs the work after the answer, and a left stream’s finally, on both', async () => {
  for (const origin of [workerd.origin, node.origin]) {
    const before = Number(await (await fetch(`${origin}/after/status`)).text());
    await (await fetch(`${origin}/after`)).text();
    await expect.poll(async () => Number(await (await fetch(`${origin}/after/status`)).text()), { timeout: 3000 }).toBe(before + 1);

    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${origin}/stream/long`, { agent: false }, (res) => res.once('data', () => (req.destroy(), resolve())));
      req.on('error', (error) => (req.destroyed ? resolve() : reject(error)));
    });
    await expect.poll(async () => (await (await fetch(`${origin}/stream/long/status`)).text()).trim(), { timeout: 3000 }).toBe('1');
  }
});
