/**
 * Scenario: a penetration tester against a service built as the docs show it (`serve()` with
 * `proxyFix`, a login with `CookieSessions` behind `crossOriginProtection`, `decodeBody` under
 * a JSON and form API, a rewriting `proxy` to an internal upstream), over raw sockets. What
 * test/security-review.test.ts and test/hostile-input.test.ts leave out: that no request whose
 * framing is in doubt reaches the upstream (HTTP/1.1, and an HTTP/2 body that contradicts its
 * content-length), that no host outside trustedHosts reaches the URLs the service builds by an
 * absolute-form target or X-Forwarded-Host, that the body limits hold on a body that never
 * ends, and docs/proxy.md's answer to slow uploads holding the upstream's connections.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Request, Response, type ServerHandle, serve } from 'tsgi';
import { CookieSessions, crossOriginProtection, decodeBody, errors, mount, proxyFix, sessionOf } from 'tsgi/middleware';
import { type ProxyApp, proxy, rewriteLocation } from 'tsgi/proxy';

/** What the upstream was asked, one line per request it received whole. */
const asked: string[] = [];
let upstream: http.Server;
let upstreamUrl: string;
const proxies: ProxyApp[] = [];
let server: ServerHandle;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    req.resume();
    // Counted once whole: a request the proxy started and then aborted is no request the upstream serves.
    req.on('end', () => {
      asked.push(`${req.method} ${req.url}`);
      res.end(`upstream saw ${req.url}`);
    });
  });
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const internal = proxy(`${upstreamUrl}/internal`);
  proxies.push(internal);
  const sessions = new CookieSessions({ secret: 'a session secret of more than 32 bytes', secure: false });
  const api = Request.application(async (req) => {
    if (req.pathInfo === '/text') return new Response(String((await req.text()).length));
    if (req.pathInfo === '/form') return Response.json((await req.form({ maxParts: 50 })).size);
    return new Response(`hello ${sessionOf(req).get<string>('user') ?? 'stranger'}`);
  });
  const app = proxyFix(
    errors(mount({ '/': crossOriginProtection(sessions.middleware(decodeBody(api))), '/internal': rewriteLocation(internal, { upstream: upstreamUrl }) })),
    { xFor: 1, xProto: 1, trust: 'loopback' },
  );
  server = await serve(app, { port: 0, host: '127.0.0.1', log: { write: () => undefined } });
});

afterAll(async () => {
  await server?.close({ timeout: 200 });
  await Promise.all(proxies.map((app) => app.close()));
  await new Promise((done) => upstream?.close(done));
});

/** Writes `request` on a new connection; answers everything the server sent until it closed. */
function exchange(request: string): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(request, 'latin1');
  });
}

const status = (raw: string): number => Number(/^HTTP\/1\.1 (\d{3}) /.exec(raw)?.[1]);

describe('requests whose framing is in doubt', () => {
  const head = 'POST /internal/x HTTP/1.1\r\nHost: 127.0.0.1\r\n';
  const smuggled = 'GET /internal/smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
  const SHAPES: Array<[string, string]> = [
    ['Content-Length with Transfer-Encoding', `${head}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`],
    ['Transfer-Encoding with Content-Length after it', `${head}Transfer-Encoding: chunked\r\nContent-Length: 48\r\n\r\n0\r\n\r\n${smuggled}`],
    ['chunked, then identity', `${head}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled}`],
    ['two Transfer-Encoding lines', `${head}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${smuggled}`],
    ['a coding that merely contains chunked', `${head}Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`],
    ['a space before the colon', `${head}Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`],
    ['a vertical tab before chunked', `${head}Transfer-Encoding: \x0bchunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`],
    ['chunked in an obs-fold', `${head}Transfer-Encoding:\r\n chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`],
    ['two Content-Length lines of one value', `${head}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`],
    ['two Content-Length lines of two values', `${head}Content-Length: 5\r\nContent-Length: 43\r\n\r\nhello${smuggled}`],
    ['a Content-Length list', `${head}Content-Length: 5, 5\r\n\r\nhello`],
    ['a signed Content-Length', `${head}Content-Length: +5\r\n\r\nhello`],
    ['a chunk size past 64 bits', `${head}Transfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n`],
    ['a chunk size with a bare LF', `${head}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`],
    ['a chunk longer than its size', `${head}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n`],
    ['a head of bare LFs', 'POST /internal/x HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 5\n\nhello'],
    ['a bare CR in a field', `${head}X-A: a\rTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello`],
    ['a NUL in a field', `${head}X-A: a\x00b\r\nContent-Length: 5\r\n\r\nhello`],
    ['Transfer-Encoding on HTTP/1.0', 'POST /internal/x HTTP/1.0\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ];

  it('are refused (400, or 501 for a coding not understood), and none of them, nor what they carry, reaches the upstream', async () => {
    asked.length = 0;
    for (const [name, request] of SHAPES) {
      const raw = await exchange(request);
      expect([400, 501], `${name}: ${raw.slice(0, 80)}`).toContain(status(raw));
      expect(raw.match(/HTTP\/1\.1 \d{3}/g), name).toHaveLength(1);
    }
    expect(asked).toEqual([]);
    // The same framing done right goes through.
    expect(await exchange(`${head}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`)).toMatch(/upstream saw \/internal\/x$/);
    expect(asked).toEqual(['POST /internal/x']);
  });
});

describe('host header attacks on the URLs the service builds', () => {
  it('refuses a host not listed in trustedHosts from Host, an absolute-form target (which wins over Host) or a trusted X-Forwarded-Host', async () => {
    const where = Request.application((req) => new Response(req.url));
    const app = proxyFix(where, { xHost: 1, trust: 'loopback' });
    const site = await serve(app, { port: 0, host: '127.0.0.1', trustedHosts: ['app.example'], log: { write: () => undefined } });
    try {
      const ask = (request: string) =>
        new Promise<string>((resolve) => {
          const chunks: Buffer[] = [];
          const socket = net.connect(site.port, '127.0.0.1');
          socket.on('data', (chunk: Buffer) => chunks.push(chunk));
          socket.on('error', () => undefined);
          socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
          socket.write(`${request}Connection: close\r\n\r\n`);
        });
      const refused = [
        'GET /x HTTP/1.1\r\nHost: evil.example\r\n',
        'GET http://evil.example/x HTTP/1.1\r\nHost: app.example\r\n',
        'GET http://evil.example:443/x HTTP/1.1\r\nHost: app.example\r\n',
        'GET /x HTTP/1.1\r\nHost: app.example\r\nX-Forwarded-Host: evil.example\r\n',
        'GET /x HTTP/1.1\r\nHost: app.example\r\nX-Forwarded-Host: app.example, evil.example\r\n',
      ];
      for (const request of refused) {
        const raw = await ask(request);
        expect(status(raw), request).toBe(400);
        expect(raw, request).toMatch(/untrusted Host header/);
        expect(raw, request).not.toMatch(/evil/);
      }
      expect(await ask('GET http://APP.example./x HTTP/1.1\r\nHost: evil.example\r\n')).toMatch(/\r\n\r\nhttp:\/\/APP\.example\.\/x$/);
      // The connection's own Host is checked before proxyFix runs: the proxy's must be listed too.
      expect(status(await ask('GET /x HTTP/1.1\r\nHost: evil.example\r\nX-Forwarded-Host: app.example\r\n'))).toBe(400);
      expect(await ask('GET /x HTTP/1.1\r\nHost: app.example\r\nX-Forwarded-Host: evil.example, app.example:8443\r\n')).toMatch(/\r\n\r\nhttp:\/\/app\.example:8443\/x$/);
    } finally {
      await site.close({ timeout: 200 });
    }
  });
});

describe('an HTTP/2 body that contradicts its content-length', () => {
  it('never reaches the upstream: longer or shorter than declared, the stream (or on Node 24 the connection) is refused first', async () => {
    const h2 = await serve(proxies[0]!, { port: 0, host: '127.0.0.1', http2: 'h2c', log: { write: () => undefined } });
    try {
      asked.length = 0;
      for (const [length, body] of [['5', 'hello world'], ['0', 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n'], ['50', 'hello']] as const) {
        const outcome = await new Promise<string>((resolve) => {
          const session = http2.connect(h2.url);
          session.on('error', () => undefined);
          const stream = session.request({ ':method': 'POST', ':path': '/x', 'content-length': length }, { endStream: false });
          let answer = 'no answer';
          stream.on('response', (head) => (answer = String(head[':status'])));
          stream.on('error', (error: Error) => (answer = error.message));
          stream.on('close', () => {
            session.destroy();
            resolve(answer);
          });
          stream.resume();
          stream.end(body);
        });
        expect(outcome, `content-length ${length}`).toMatch(/PROTOCOL_ERROR|error code 2|^4\d\d$/);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(asked).toEqual([]);
    } finally {
      await h2.close({ timeout: 200 });
    }
  });
});

describe('body limits on a body that never ends', () => {
  /**
   * Sends the head, then `chunk` as chunk after chunk, never the last one, until the server
   * answers (its status) or 32 MiB went out (0): a limit that waited for the end never answers.
   */
  function endless(head: string, chunk: Buffer): Promise<number> {
    return new Promise((resolve) => {
      const socket = net.connect(server.port, '127.0.0.1');
      let answer = '';
      let sent = 0;
      let over = false;
      const end = (result: number) => {
        if (over) return;
        over = true;
        socket.destroy();
        resolve(result);
      };
      socket.on('data', (data: Buffer) => {
        answer += data.toString('latin1');
        if (answer.includes('\r\n')) end(status(answer));
      });
      socket.on('error', () => end(status(answer) || -1));
      socket.on('close', () => end(status(answer) || -1));
      const framed = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
      const pump = (): void => {
        while (!over && sent < 32 * 1024 * 1024) {
          sent += chunk.length;
          if (!socket.write(framed)) return void socket.once('drain', pump);
        }
        if (!over) setTimeout(() => end(0), 1000);
      };
      socket.write(head, 'latin1', pump);
    });
  }
  const post = (path: string, fields: string) =>
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nSec-Fetch-Site: same-origin\r\n${fields}Transfer-Encoding: chunked\r\n\r\n`;

  it('answers 413 to gzip members that decode past the text limit, while they still come', async () => {
    // Each member is 10 KiB on the wire and 10 MiB decoded; req.text() reads at most 1 MiB.
    expect(await endless(post('/text', 'Content-Type: text/plain\r\nContent-Encoding: gzip\r\n'), gzipSync(Buffer.alloc(10 * 1024 * 1024)))).toBe(413);
  });

  it('answers 413 to multipart parts past maxParts, and to a field past maxFieldSize, while they still come', async () => {
    const parts = Buffer.from('--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n'.repeat(20));
    expect(await endless(post('/form', 'Content-Type: multipart/form-data; boundary=B\r\n'), parts)).toBe(413);
    expect(await endless(post('/form', 'Content-Type: application/x-www-form-urlencoded\r\n'), Buffer.alloc(64 * 1024, 'a'))).toBe(413);
  });
});

describe('slow uploads through the proxy (docs/proxy.md, "Slow uploads")', () => {
  it('hold the upstream connections as they stream; read whole above the proxy, they hold none', async () => {
    const streamed = proxy(upstreamUrl, { connections: 2 });
    const buffered = proxy(upstreamUrl, { connections: 2 });
    proxies.push(streamed, buffered);
    // The recipe of docs/proxy.md.
    const readWhole = Request.middleware({
      before: async (req) => {
        if (req.isBodyReadable) await req.bytes({ maxBodySize: 10 * 1024 * 1024 });
      },
    });
    const gateway = await serve(mount({ '/streamed': streamed, '/buffered': readWhole(buffered) }), { port: 0, host: '127.0.0.1' });
    const slow: net.Socket[] = [];
    try {
      /** Two uploads that send one byte of their 100, then nothing; a GET after them, answered within `ms` or not. */
      const blocked = async (prefix: string, ms: number): Promise<string> => {
        for (let i = 0; i < 2; i++) {
          const socket = net.connect(gateway.port, '127.0.0.1');
          socket.on('error', () => undefined);
          socket.write(`POST ${prefix}/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nx`);
          slow.push(socket);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
        const page = fetch(`${gateway.url}${prefix}/page`).then((res) => res.text());
        return Promise.race([page, new Promise<string>((resolve) => setTimeout(() => resolve('no answer'), ms))]);
      };
      expect(await blocked('/streamed', 800)).toBe('no answer');
      expect(await blocked('/buffered', 3000)).toBe('upstream saw /page');
      // The slow uploads, once whole, go through either way.
      const done = slow.map((socket) => new Promise<string>((resolve) => {
        let raw = '';
        socket.on('data', (data: Buffer) => {
          raw += data.toString('latin1');
          if (raw.includes('upstream saw')) resolve(raw);
        });
      }));
      for (const socket of slow) socket.write('y'.repeat(99));
      for (const raw of await Promise.all(done)) expect(raw).toMatch(/^HTTP\/1\.1 200 [^]*upstream saw \/upload$/);
    } finally {
      for (const socket of slow) socket.destroy();
      await gateway.close({ timeout: 200 });
    }
  });
});
