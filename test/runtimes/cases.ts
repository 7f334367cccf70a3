/**
 * The cases of the conformance suite (the columns of its table): requests to
 * examples/everywhere.ts over a real socket and the answers every server must give. A case
 * throws (an assertion) when the server's answer differs.
 */
import http from 'node:http';
import { expect } from 'vitest';
import { encodeMultipart } from 'tsgi/forms';
import { type Reply, eventually, json, rawRequest, rawUpload, request } from './client.ts';
import { GRACEFUL_STOP, type Row, type RunningServer, peakMemory } from './rows.ts';

/** One case: a name (the column), what it checks, and the check (of `row`'s running `server`). */
export interface Case {
  name: string;
  run(server: RunningServer, row: Row): Promise<void>;
}

/** examples/everywhere.ts's `SPA_ORIGIN`: the one other origin its `cors` and `crossOriginProtection` let in. */
const SPA = 'http://spa.example';
/** A page on another site. */
const EVIL = 'http://evil.example';
/** A version 4 UUID, `requestId`'s new ids. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** The fields `secureHeaders` adds by default, on `http` (no `Strict-Transport-Security`). */
const SECURE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'x-frame-options': 'SAMEORIGIN',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'x-dns-prefetch-control': 'off',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};
/** everywhere.ts's policy, its nonce captured. */
const CSP = /^default-src 'self'; script-src 'self' 'nonce-([A-Za-z0-9+/]{22}==)'$/;
/** A `/session` login form. */
const LOGIN = { 'Content-Type': 'application/x-www-form-urlencoded' };

const MiB = 1024 * 1024;

/**
 * The `tsgi.errors` line of a request to `path` (`prefix` included) failing with `failure`: the
 * request line, the status when an `HTTPException` was answered as itself (`503`), then the id
 * `requestId` gave it (`request_id=…`, captured), then the failure.
 */
function errorLine(path: string, failure: string, status?: number): RegExp {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`\\[tsgi\\] GET ${escape(path)} HTTP/1\\.1${status === undefined ? '' : ` ${status}`} request_id=([0-9a-f-]{36}): ${escape(failure)}`);
}

/** How long the 50 MB upload pauses half-way, ms. */
const PAUSE_MS = 500;
/** Server pid → growth of its peak memory during the 50 MB upload, bytes (for the report). */
export const uploadGrowth = new Map<number, number>();

/** What `promise` settles with, or a rejection with `message` after `ms` milliseconds. */
function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export const CASES: Case[] = [
  {
    name: 'host and port',
    async run({ base, origin, prefix }) {
      const reply = await request(`${base}/env/`);
      const port = new URL(origin).port;
      expect(json(reply)).toMatchObject({ HTTP_HOST: `127.0.0.1:${port}`, SERVER_PORT: port, 'tsgi.url_scheme': 'http', url: `${base}/env/` });
      const other = json(await request(`${base}/env/`, { headers: { Host: 'example.com:8080' } }));
      expect(other).toMatchObject({ HTTP_HOST: 'example.com:8080', url: `http://example.com:8080${prefix}/env/` });
    },
  },
  {
    name: 'client address',
    async run({ base }) {
      expect(json(await request(`${base}/env/`)).REMOTE_ADDR).toMatch(/^(127\.0\.0\.1|::ffff:127\.0\.0\.1)$/);
    },
  },
  {
    name: 'SCRIPT_NAME, PATH_INFO, escapes',
    async run({ base, prefix }, row) {
      const target = `${prefix}/env/caf%C3%A9/a%20b/x%2Fy?q=%20x&y`;
      const reply = await request(`${new URL(base).origin}${target}`);
      if (row.name === 'express') {
        // Express matched its routes against `x%2Fy`, the app would read `x/y`: sent to the
        // spelling both read alike (docs/server.md, "Inside Express"), the other escapes kept.
        expect(reply.status).toBe(308);
        const plain = `${prefix}/env/caf%C3%A9/a%20b/x/y?q=%20x&y`;
        expect(reply.headers.location).toBe(plain);
        expect(json(await request(`${new URL(base).origin}${plain}`))).toMatchObject({ SCRIPT_NAME: prefix, PATH_INFO: '/env/café/a b/x/y', QUERY_STRING: 'q=%20x&y', REQUEST_URI: plain });
        return;
      }
      expect(json(reply)).toMatchObject({ SCRIPT_NAME: prefix, PATH_INFO: '/env/café/a b/x/y', QUERY_STRING: 'q=%20x&y', REQUEST_URI: target });
    },
  },
  {
    name: 'malformed path: 400',
    async run({ base }) {
      expect((await request(`${base}/env/%zz`)).status).toBe(400);
      expect((await request(`${base}/env/%C3`)).status).toBe(400);
    },
  },
  {
    name: 'query string',
    async run({ base }) {
      const env = json(await request(`${base}/env/?a=1&b=%26&c=%C3%A9&d`));
      expect(env.QUERY_STRING).toBe('a=1&b=%26&c=%C3%A9&d');
      expect(env.query).toEqual({ a: '1', b: '&', c: 'é', d: '' });
    },
  },
  {
    name: '50 MB upload, bounded memory',
    async run({ base, pid }) {
      const before = peakMemory(pid);
      const { hostname, port, pathname } = new URL(`${base}/upload`);
      const chunk = new Uint8Array(64 * 1024).fill(97);
      const count = 800; // 50 MiB, with a pause half-way
      const reply = await new Promise<Reply>((resolve, reject) => {
        const req = http.request({ hostname, port, path: pathname, method: 'POST', agent: false, headers: { 'Content-Type': 'application/octet-stream' } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, complete: res.complete }));
        });
        req.on('error', reject);
        let sent = 0;
        let paused = false;
        const write = () => {
          while (sent < count) {
            if (sent === count / 2 && !paused) {
              paused = true;
              return void setTimeout(write, PAUSE_MS);
            }
            sent++;
            if (!req.write(chunk)) return void req.once('drain', write);
          }
          req.end();
        };
        write();
      });
      expect(reply.status).toBe(200);
      const answer = json(reply);
      expect(answer.bytes).toBe(count * chunk.byteLength);
      expect(answer.chunks as number).toBeGreaterThan(10);
      // The app had the first half while the second was not sent yet: nothing on the way held
      // the whole body (which is what bounds the memory; the app itself keeps no chunk).
      expect(answer.spreadMs as number).toBeGreaterThanOrEqual(PAUSE_MS - 100);
      const after = peakMemory(pid);
      if (before !== undefined && after !== undefined) {
        // Peak memory also counts garbage not yet collected, so it is reported, and only
        // checked against a gross bound (several copies of the body).
        uploadGrowth.set(pid, after - before);
        expect(after - before).toBeLessThan(150 * MiB);
      }
    },
  },
  {
    name: 'streamed body: chunks before the end',
    async run({ base }) {
      const { hostname, port, pathname } = new URL(`${base}/stream`);
      const times = await new Promise<{ first: number; end: number; body: string }>((resolve, reject) => {
        const started = performance.now();
        let first = 0;
        let body = '';
        http
          .get({ hostname, port, path: pathname, agent: false }, (res) => {
            res.on('data', (c: Buffer) => {
              if (first === 0) first = performance.now() - started;
              body += c.toString();
            });
            res.on('end', () => resolve({ first, end: performance.now() - started, body }));
          })
          .on('error', reject);
      });
      expect(times.body).toBe('first\nlast\n');
      expect(times.end - times.first).toBeGreaterThan(200);
    },
  },
  {
    name: 'server-sent events',
    async run({ base }) {
      const reply = await request(`${base}/events`);
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(reply.headers['cache-control']).toBe('no-cache');
      expect(reply.body).toBe(':\n\ndata: first\n\nevent: update\nid: 2\ndata: two\ndata: lines\n\n');
    },
  },
  {
    name: 'HEAD',
    async run({ base }) {
      const get = await request(`${base}/text`);
      const head = await request(`${base}/text`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
      expect(head.headers.etag).toBe(get.headers.etag);
      expect(head.headers['content-type']).toBe('text/plain; charset=utf-8');
      if (head.headers['content-length'] !== undefined) expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.body)));
    },
  },
  {
    name: 'cookies',
    async run({ origin, prefix }) {
      const { host } = new URL(origin);
      const answer = await rawRequest(origin, `GET ${prefix}/cookies HTTP/1.1\r\nHost: ${host}\r\nCookie: a=1\r\nCookie: b=2\r\nConnection: close\r\n\r\n`);
      expect(answer.split('\r\n\r\n')[1]).toBe('a=1; b=2');
      const setCookies = answer.split('\r\n').filter((line) => /^set-cookie:/i.test(line));
      expect(setCookies.map((line) => line.replace(/^set-cookie: */i, ''))).toEqual(['first=1; Path=/', 'second=2; Path=/']);
    },
  },
  {
    name: 'session and login cookies',
    async run({ base }) {
      const signed = (name: string, attributes: string) => new RegExp(`^${name}=([A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}); ${attributes}$`);
      const SESSION = signed('session', 'Max-Age=2678400; Path=/; Expires=[^;]+ GMT; HttpOnly; SameSite=Lax');
      const TICKET = signed('auth_tkt', 'Max-Age=86400; Path=/; Expires=[^;]+ GMT; HttpOnly; SameSite=Lax');
      // The login (CookieSessions and AuthTickets): a value, a flash message and a ticket,
      // two Set-Cookie fields that every server must keep apart (fetch's getSetCookie).
      const login = await request(`${base}/session`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'user=ada' });
      expect(login.status).toBe(303);
      expect(login.headers.location).toBe(`${base}/session`);
      expect(login.headers.vary).toMatch(/\bCookie\b/);
      expect(login.headers['cache-control']).toBe('private');
      expect(login.headers['set-cookie']).toHaveLength(2);
      const [ticketLine, sessionLine] = login.headers['set-cookie']!;
      const ticket = TICKET.exec(ticketLine!)?.[1];
      const session = SESSION.exec(sessionLine!)?.[1];
      expect(ticket, ticketLine).toBeDefined();
      expect(session, sessionLine).toBeDefined();
      // The next request reads both; consuming the flash saves the session again.
      const page = await request(`${base}/session`, { headers: { Cookie: `auth_tkt=${ticket}; session=${session}` } });
      expect(page.status).toBe(200);
      expect(json(page)).toEqual({ user: 'ada', remoteUser: 'ada', flashes: [{ message: 'Welcome, ada', category: 'info' }] });
      expect(page.headers.vary).toMatch(/\bCookie\b/);
      expect(page.headers['set-cookie'], 'the session without its flash').toHaveLength(1);
      const next = SESSION.exec(page.headers['set-cookie']![0]!)?.[1];
      expect(next).toBeDefined();
      // Unchanged: read, so Vary: Cookie, but no Set-Cookie.
      const again = await request(`${base}/session`, { headers: { Cookie: `session=${next}` } });
      expect(json(again)).toEqual({ user: 'ada', remoteUser: null, flashes: [] });
      expect(again.headers['set-cookie']).toBeUndefined();
      expect(again.headers.vary).toMatch(/\bCookie\b/);
      // One character of each signature changed: no session, no login, no error, no cookie.
      const tamper = (value: string) => `${value.slice(0, -2)}${value.at(-2) === 'A' ? 'B' : 'A'}${value.at(-1)}`;
      const forged = await request(`${base}/session`, { headers: { Cookie: `auth_tkt=${tamper(ticket!)}; session=${tamper(next!)}` } });
      expect(forged.status).toBe(200);
      expect(json(forged)).toEqual({ user: null, remoteUser: null, flashes: [] });
      expect(forged.headers['set-cookie']).toBeUndefined();
      // The logout deletes both cookies.
      const logout = await request(`${base}/session`, { method: 'DELETE', headers: { Cookie: `auth_tkt=${ticket}; session=${next}` } });
      expect(logout.status).toBe(204);
      const deleted = 'Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax';
      expect(logout.headers['set-cookie']).toEqual([`auth_tkt=; ${deleted}`, `session=; ${deleted}`]);
    },
  },
  {
    name: 'redirect',
    async run({ base }) {
      const reply = await request(`${base}/redirect`);
      expect(reply.status).toBe(302);
      expect(reply.headers.location).toBe(`${base}/text`);
    },
  },
  {
    name: 'conditional GET: 304',
    async run({ base }) {
      const etag = (await request(`${base}/text`)).headers.etag!;
      const again = await request(`${base}/text`, { headers: { 'If-None-Match': etag } });
      expect(again.status).toBe(304);
      expect(again.body).toBe('');
      expect(again.headers.etag).toBe(etag);
    },
  },
  {
    name: 'range: 206',
    async run({ base }) {
      const reply = await request(`${base}/text`, { headers: { Range: 'bytes=0-4' } });
      expect(reply.status).toBe(206);
      expect(reply.body).toBe('Hello');
      expect(reply.headers['content-range']).toBe('bytes 0-4/23');
    },
  },
  {
    name: 'negotiated error',
    async run({ base }) {
      const asJson = await request(`${base}/missing`, { headers: { Accept: 'application/json' } });
      expect(asJson.status).toBe(404);
      expect(json(asJson)).toMatchObject({ code: 404 });
      const asHtml = await request(`${base}/missing`, { headers: { Accept: 'text/html' } });
      expect(asHtml.headers['content-type']).toMatch(/^text\/html/);
      expect(asHtml.headers.vary).toMatch(/Accept/);
    },
  },
  {
    name: 'app error before the headers',
    async run(server) {
      const reply = await request(`${server.base}/error/before`);
      expect(reply.status).toBe(500);
      expect(reply.body).toBe('Internal Server Error\n');
      await eventually(async () => {
        expect(server.output()).toMatch(errorLine(`${server.prefix}/error/before`, 'Error: the app failed before the headers'));
      });
    },
  },
  {
    name: 'an HTTPException raised before the headers: its own answer',
    async run(server) {
      const reply = await request(`${server.base}/unavailable`, { headers: { Accept: 'text/plain' } });
      expect(reply.status).toBe(503);
      expect(reply.headers['retry-after']).toBe('120');
      expect(reply.body).toContain('down for maintenance');
      await eventually(async () => {
        const id = errorLine(`${server.prefix}/unavailable`, 'HTTPServiceUnavailable: down for maintenance', 503).exec(server.output())?.[1];
        expect(id).toBe(reply.headers['x-request-id']);
      });
    },
  },
  {
    name: 'app error after the headers: a cut',
    async run(server) {
      const reply = await request(`${server.base}/error/after`);
      expect(reply.status).toBe(200);
      expect(reply.body).toBe('partial\n');
      expect(reply.complete).toBe(false);
      await eventually(async () => {
        const id = errorLine(`${server.prefix}/error/after`, 'Error: the body failed after the headers').exec(server.output())?.[1];
        expect(id).toBe(reply.headers['x-request-id']);
      });
    },
  },
  {
    name: 'client hang-up: return() runs',
    async run({ base }) {
      const before = json(await request(`${base}/hangup/status`)) as { started: number; closed: number };
      const { hostname, port, pathname } = new URL(`${base}/hangup`);
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ hostname, port, path: pathname, agent: false }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (error) => (req.destroyed ? resolve() : reject(error)));
      });
      await eventually(async () => {
        const after = json(await request(`${base}/hangup/status`));
        expect(after).toEqual({ started: before.started + 1, closed: before.closed + 1 });
      });
    },
  },
  {
    name: 'multipart upload',
    async run({ base }) {
      // Above the form parser's 500 KiB in-memory limit: the file is spooled to a temporary file.
      const file = new Uint8Array(600_000).fill(120);
      const { body, contentType } = encodeMultipart({ title: 'a report' }, { file: { filename: 'data.bin', content: file } });
      const reply = await request(`${base}/form`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
      expect(reply.status).toBe(200);
      expect(json(reply)).toEqual({
        fields: { title: 'a report' },
        files: [{ name: 'data.bin', type: 'application/octet-stream', size: 600_000 }],
      });
    },
  },
  {
    name: 'requestId: X-Request-Id round trip',
    async run({ base, origin, prefix }) {
      // A new id: in the answer, and in the environ (tsgi.request_id, and the request's own field).
      const fresh = await request(`${base}/env/`);
      const id = fresh.headers['x-request-id'];
      expect(id).toMatch(UUID);
      expect(json(fresh)).toMatchObject({ 'tsgi.request_id': id, HTTP_X_REQUEST_ID: id });
      expect((await request(`${base}/env/`)).headers['x-request-id']).not.toBe(id);
      // A proxy's id is kept, a malformed one replaced.
      const kept = await request(`${base}/env/`, { headers: { 'X-Request-Id': 'edge-42:a/b=' } });
      expect(kept.headers['x-request-id']).toBe('edge-42:a/b=');
      expect(json(kept)).toMatchObject({ 'tsgi.request_id': 'edge-42:a/b=', HTTP_X_REQUEST_ID: 'edge-42:a/b=' });
      const replaced = await request(`${base}/env/`, { headers: { 'X-Request-Id': 'two words' } });
      expect(replaced.headers['x-request-id']).toMatch(UUID);
      expect(json(replaced)['tsgi.request_id']).toBe(replaced.headers['x-request-id']);
      // Two ids in one request: joined with ", " (by the server or its fetch Headers), so none is
      // picked, a new one is made.
      const { host } = new URL(origin);
      const two = await rawRequest(origin, `GET ${prefix}/env/ HTTP/1.1\r\nHost: ${host}\r\nX-Request-Id: a\r\nX-Request-Id: b\r\nConnection: close\r\n\r\n`);
      const twoId = /\r\nx-request-id: *([^\r]*)\r\n/i.exec(two)?.[1];
      expect(twoId).toMatch(UUID);
      expect(JSON.parse(two.slice(two.indexOf('\r\n\r\n') + 4))).toMatchObject({ 'tsgi.request_id': twoId, HTTP_X_REQUEST_ID: twoId });
      // On error pages, the mounted Hono app's answers and the streamed ones too.
      for (const path of ['/missing', '/hono/api/hello', '/stream']) {
        expect((await request(`${base}${path}`, { headers: { 'X-Request-Id': 'r-1' } })).headers['x-request-id'], path).toBe('r-1');
      }
    },
  },
  {
    name: 'secureHeaders: fields, CSP nonce',
    async run({ base }) {
      for (const path of ['/text', '/missing', '/hono/api/hello']) {
        const reply = await request(`${base}${path}`);
        expect(reply.headers, path).toMatchObject(SECURE_HEADERS);
        // Served over http: browsers ignore HSTS there, so none is sent.
        expect(reply.headers['strict-transport-security'], path).toBeUndefined();
        expect(reply.headers['content-security-policy'], path).toMatch(CSP);
      }
      const head = await request(`${base}/text`, { method: 'HEAD' });
      expect(head.headers).toMatchObject(SECURE_HEADERS);
      const notModified = await request(`${base}/text`, { headers: { 'If-None-Match': head.headers.etag! } });
      expect(notModified.status).toBe(304);
      expect(notModified.headers).toMatchObject(SECURE_HEADERS);
      // The page's inline script carries this request's nonce, a new one each time.
      const nonces = [];
      for (let i = 0; i < 2; i++) {
        const page = await request(`${base}/page`);
        expect(page.status).toBe(200);
        const nonce = CSP.exec(String(page.headers['content-security-policy']))?.[1];
        expect(nonce).toBeDefined();
        expect(page.body).toContain(`<script nonce="${nonce}">`);
        nonces.push(nonce);
      }
      expect(nonces[0]).not.toBe(nonces[1]);
    },
  },
  {
    name: 'defineMiddleware hooks: Server-Timing',
    async run({ base }) {
      const timing = /^app;dur=\d+\.\d$/;
      const text = await request(`${base}/text`);
      expect(text.status).toBe(200);
      expect(text.headers['server-timing']).toMatch(timing);
      // An HTTPException's page, and a streamed answer, pass through `after` too.
      const missing = await request(`${base}/missing`);
      expect(missing.status).toBe(404);
      expect(missing.headers['server-timing']).toMatch(timing);
      const stream = await request(`${base}/stream`);
      expect(stream.body).toBe('first\nlast\n');
      expect(stream.headers['server-timing']).toMatch(timing);
      // Outside the layer (a raw app mounted next to it), no field.
      expect((await request(`${base}/unavailable`)).headers['server-timing']).toBeUndefined();
    },
  },
  {
    name: 'cors: preflight, request with credentials',
    async run({ base }) {
      // The preflight of a credentialed POST with a JSON body: answered by cors, the app not called.
      const preflight = await request(`${base}/session`, {
        method: 'OPTIONS',
        headers: { Origin: SPA, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.body).toBe('');
      expect(preflight.headers).toMatchObject({
        'access-control-allow-origin': SPA,
        'access-control-allow-credentials': 'true',
        'access-control-allow-headers': 'content-type',
        vary: 'Origin, Access-Control-Request-Headers',
      });
      expect(preflight.headers['access-control-allow-methods']).toMatch(/\bPOST\b/);
      expect(preflight.headers['x-request-id']).toMatch(UUID);
      expect(preflight.headers).toMatchObject(SECURE_HEADERS);
      // Another origin's preflight: no grant, so the browser refuses to send the request.
      const refused = await request(`${base}/session`, { method: 'OPTIONS', headers: { Origin: EVIL, 'Access-Control-Request-Method': 'POST' } });
      expect(refused.status).toBe(204);
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
      expect(refused.headers.vary).toBe('Origin');
      // The login from the app's page (a cross-site fetch, so Sec-Fetch-Site: cross-site): it
      // passes crossOriginProtection (a trusted origin), and the page may read the answer.
      const crossSite = { Origin: SPA, 'Sec-Fetch-Site': 'cross-site' };
      const login = await request(`${base}/session`, { method: 'POST', headers: { ...LOGIN, ...crossSite }, body: 'user=spa' });
      expect(login.status).toBe(303);
      expect(login.headers).toMatchObject({ 'access-control-allow-origin': SPA, 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'X-Request-Id' });
      expect(login.headers.vary).toMatch(/\bOrigin\b/);
      expect(login.headers['set-cookie']).toHaveLength(2);
      // The next call sends the cookies back (credentials: 'include') and reads the user.
      const cookie = login.headers['set-cookie']!.map((line) => line.split(';')[0]).join('; ');
      const me = await request(`${base}/session`, { headers: { ...crossSite, Cookie: cookie } });
      expect(json(me)).toMatchObject({ user: 'spa', remoteUser: 'spa' });
      expect(me.headers).toMatchObject({ 'access-control-allow-origin': SPA, 'access-control-allow-credentials': 'true' });
      expect(me.headers.vary).toMatch(/\bOrigin\b/);
      // Another origin (or none) gets no grant, but Vary: Origin all the same (caches).
      for (const headers of [{ Origin: EVIL }, {}] as Array<Record<string, string>>) {
        const other = await request(`${base}/text`, { headers });
        expect(other.status).toBe(200);
        expect(other.headers['access-control-allow-origin']).toBeUndefined();
        expect(other.headers.vary).toMatch(/\bOrigin\b/);
      }
    },
  },
  {
    name: 'crossOriginProtection: cross-site POST 403',
    async run({ base, origin, prefix }) {
      const post = (headers: Record<string, string>) => request(`${base}/session`, { method: 'POST', headers: { ...LOGIN, ...headers }, body: 'user=mallory' });
      for (const headers of [
        { 'Sec-Fetch-Site': 'cross-site', Origin: EVIL },
        { 'Sec-Fetch-Site': 'same-site', Origin: 'http://sub.127.0.0.1' },
        { Origin: EVIL }, // an older browser: no Sec-Fetch-Site
        { Origin: 'null' },
      ] as Array<Record<string, string>>) {
        const refused = await post(headers);
        expect(refused.status, JSON.stringify(headers)).toBe(403);
        expect(refused.body).toMatch(/Cross-origin request refused/);
        expect(refused.headers['set-cookie']).toBeUndefined();
        expect(refused.headers['x-request-id']).toMatch(UUID);
        expect(refused.headers).toMatchObject(SECURE_HEADERS);
      }
      // The site's own form (same-origin, or an Origin naming the Host), a typed URL, and
      // clients that are no browser (neither field) pass.
      for (const headers of [{ 'Sec-Fetch-Site': 'same-origin', Origin: origin }, { Origin: origin }, { 'Sec-Fetch-Site': 'none' }, {}] as Array<Record<string, string>>) {
        expect((await post(headers)).status, JSON.stringify(headers)).toBe(303);
      }
      // A forged upload is refused before its body is read; the client still gets the 403.
      const { host } = new URL(origin);
      const forged = await rawUpload(origin, `POST ${prefix}/upload HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/octet-stream\r\nSec-Fetch-Site: cross-site\r\nOrigin: ${EVIL}\r\nContent-Length: ${4 * MiB}\r\nConnection: close\r\n\r\n`, 4 * MiB);
      expect(forged.answer.split('\r\n')[0], String(forged.error)).toBe('HTTP/1.1 403 Forbidden');
      // Safe methods always pass.
      expect((await request(`${base}/session`, { headers: { 'Sec-Fetch-Site': 'cross-site', Origin: EVIL } })).status).toBe(200);
    },
  },
  {
    name: 'sendEarlyHints: 103 on Node, false on fetch',
    async run({ base }, row) {
      const { hostname, port, pathname } = new URL(`${base}/page`);
      const { hints, reply } = await new Promise<{ hints: http.InformationEvent[]; reply: Reply }>((resolve, reject) => {
        const hints: http.InformationEvent[] = [];
        const req = http.get({ hostname, port, path: pathname, agent: false }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ hints, reply: { status: res.statusCode!, headers: res.headers, body, complete: res.complete } }));
        });
        req.on('information', (info) => hints.push(info));
        req.on('error', reject);
      });
      expect(reply.status).toBe(200);
      const sent = /<p id="hints">(true|false)<\/p>/.exec(reply.body)?.[1];
      expect(sent).toBe(String(row.earlyHints));
      if (row.earlyHints) {
        expect(hints.map((info) => [info.statusCode, info.headers.link])).toEqual([[103, `<${base}/text>; rel=preload; as=fetch`]]);
      } else {
        expect(hints).toEqual([]);
      }
    },
  },
  {
    name: 'Hono inside (fromFetchHandler)',
    async run({ base, prefix }) {
      const reply = await request(`${base}/hono/api/hello?name=tsgi`);
      expect(json(reply)).toEqual({ hello: 'tsgi', prefix: `${prefix}/hono/api` });
      const echo = await request(`${base}/hono/api/echo`, { method: 'POST', body: 'up and back', headers: { 'Content-Type': 'text/plain' } });
      expect(echo.body).toBe('up and back');
      const cookies = await request(`${base}/hono/api/cookies`);
      expect(cookies.headers['set-cookie']).toEqual(['hono=1; Path=/', 'mount=2; Path=/']);
    },
  },
  // Last: it stops the server.
  {
    name: GRACEFUL_STOP,
    async run(server) {
      const { head, body } = await new Promise<{ head: http.IncomingMessage; body: Promise<string> }>((resolve, reject) => {
        http
          .get(`${server.base}/ticks`, { agent: false }, (res) => {
            let text = '';
            // 'close' comes after a cut too, where 'end' would not: `head.complete` tells them apart.
            const body = new Promise<string>((done) => res.on('close', () => done(text)));
            res.setEncoding('utf8').on('data', (chunk: string) => {
              text += chunk;
              if (text.includes('data: tick')) resolve({ head: res, body });
            });
          })
          .on('error', reject);
      });
      const begun = Date.now();
      process.kill(server.pid, 'SIGTERM');
      const text = await within(body, 3000, 'the event stream was still open 3 s after SIGTERM');
      expect(head.complete).toBe(true); // the end of the response, not a cut
      expect(text).toMatch(/^:\n\n(id: \d+\ndata: tick\n\n)+$/);
      expect(Date.now() - begun).toBeLessThan(1500);
      expect(await within(server.exited, 3000, 'the server was still running 3 s after SIGTERM')).toEqual({ code: 0, signal: null });
    },
  },
];
