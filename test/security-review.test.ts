/**
 * An attacker's view of apps built as the docs show them, over real sockets on 127.0.0.1:
 * each test is a finding of the security review, through the public API.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { encodeMultipart } from 'tsgi/forms';
import { basicAuth, directoryApp, mount, staticUsers } from 'tsgi/middleware';
import { type ProxyApp, type ProxyOptions, proxy } from 'tsgi/proxy';
import { parseRaw, rawExchange, rawGet, start } from './node-helpers.ts';

/** Upstreams started by a test, and the proxies to them, closed after it. */
const upstreams: http.Server[] = [];
const proxies: ProxyApp[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((app) => app.close()));
  await Promise.all(upstreams.splice(0).map((server) => new Promise((done) => server.close(done))));
});

/** `proxy(upstream, options)`, closed after the test. */
function proxyTo(upstream: string, options?: ProxyOptions): ProxyApp {
  const app = proxy(upstream, options);
  proxies.push(app);
  return app;
}

/** A plain upstream answering each request with the request-target it received (and its header fields, as JSON, at `/headers`). */
async function echoUpstream(): Promise<string> {
  const server = http.createServer((req, res) => res.end(req.url === '/headers' ? JSON.stringify(req.headers) : `upstream saw ${req.url}`));
  upstreams.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a proxy guarded by PATH_INFO, served without mount', () => {
  /** docs/proxy.md's guard: /admin/… goes through basicAuth, the rest straight to the upstream. */
  async function guardedProxy(): Promise<number> {
    const legacy = proxyTo(await echoUpstream());
    const admin = basicAuth(legacy, { realm: 'Admin', verify: staticUsers({ admin: 'a password long enough for the test' }) });
    const guarded: App = (environ, startResponse) => (/^\/admin(?:[/;]|$)/i.test(environ.PATH_INFO) ? admin : legacy)(environ, startResponse);
    const server = await start(guarded);
    return server.port;
  }

  it('does not reach the guarded path through dot segments the guard never saw resolved', async () => {
    const port = await guardedProxy();
    expect(parseRaw((await rawExchange(port, rawGet('/admin/secret'))).raw).status).toBe(401);
    // The guard reads PATH_INFO as sent (`/x/../admin/secret`) and lets it by; the proxy must
    // not then ask the upstream for `/admin/secret`, which it would resolve it to.
    const sneaky: Record<string, string> = {
      '/x/../admin/secret?q=1': '/admin/secret?q=1',
      '/x/%2e%2E/admin/secret': '/admin/secret',
      '/./admin/secret': '/admin/secret',
      '/x/../admin/%252f..': '/admin/%252f..',
      '/x/..': '/',
    };
    for (const [target, clean] of Object.entries(sneaky)) {
      const reply = parseRaw((await rawExchange(port, rawGet(target))).raw);
      expect(reply.rest, target).not.toMatch(/upstream saw/);
      // Sent, as mount sends it, to the clean URL, which comes through the guard again.
      expect(reply.status, target).toBe(308);
      expect(reply.header('location'), target).toBe(`http://127.0.0.1${clean}`);
    }
    // Nothing else changes: the rest is forwarded as sent, repeated slashes included.
    const plain = parseRaw((await rawExchange(port, rawGet('/a//b/.well-known/%2e%2ex'))).raw);
    expect(plain.rest).toBe('upstream saw /a//b/.well-known/%2e%2ex');
  });
});

describe('a proxy guarded by PATH_INFO in front of a Java upstream', () => {
  it('does not forward a dot segment hidden behind a path parameter (..;/), which Tomcat, Jetty and Spring resolve', async () => {
    const legacy = proxyTo(await echoUpstream());
    const admin = basicAuth(legacy, { realm: 'Admin', verify: staticUsers({ admin: 'a password long enough for the test' }) });
    const guarded: App = (environ, startResponse) => (/^\/admin(?:[/;]|$)/i.test(environ.PATH_INFO) ? admin : legacy)(environ, startResponse);
    const { port } = await start(mount({ '/legacy': guarded }));
    expect(parseRaw((await rawExchange(port, rawGet('/legacy/admin/secret'))).raw).status).toBe(401);
    // The guard reads `/x/..;/admin/secret` and lets it by; a servlet container strips the
    // path parameter (`;`) before it resolves dots, and serves `/admin/secret`.
    for (const target of ['/legacy/x/..;/admin/secret', '/legacy/x/%2e%2e;jsessionid=1/admin/secret', '/legacy/x/..%3B/admin/secret', '/legacy/x/.;/..;/admin']) {
      const reply = parseRaw((await rawExchange(port, rawGet(target))).raw);
      expect(reply.rest, target).not.toMatch(/upstream saw/);
      expect(reply.status, target).toBe(400);
      expect(reply.rest, target).toMatch(/dot segment/);
    }
    // A segment that merely starts with dots, or holds a `;` elsewhere, is forwarded as sent.
    for (const target of ['/legacy/..x;v=1/a', '/legacy/a;b/..c', '/legacy/...;/a']) {
      expect(parseRaw((await rawExchange(port, rawGet(target))).raw).rest, target).toBe(`upstream saw ${target.slice('/legacy'.length)}`);
    }
  });
});

describe('a proxy asked with client-address claims of the client\'s own making', () => {
  it('does not pass on X-Real-IP, True-Client-IP or X-Client-IP, which upstreams read as the address of the client', async () => {
    // chi's RealIP reads True-Client-IP, then X-Real-IP; gin and echo X-Real-IP; nginx's
    // realip module the header it is told (X-Real-IP, the usual one). An upstream that trusts
    // this proxy would take the client's word for its address (allow-lists, rate limits, logs).
    const server = await start(proxyTo(await echoUpstream()));
    const claims = 'X-Real-IP: 6.6.6.6\r\nTrue-Client-IP: 6.6.6.6\r\nX-Client-IP: 6.6.6.6\r\nX-Kept: yes\r\n';
    const reply = parseRaw((await rawExchange(server.port, rawGet('/headers', claims))).raw);
    expect(reply.status).toBe(200);
    const seen = JSON.parse(reply.rest) as Record<string, string>;
    expect(seen['x-kept']).toBe('yes');
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-real-ip']).toBeUndefined();
    expect(seen['true-client-ip']).toBeUndefined();
    expect(seen['x-client-ip']).toBeUndefined();
    // The recipe of docs/proxy.md for an upstream that reads X-Real-IP.
    const setting = await start(proxyTo(await echoUpstream(), { requestHeaders: (headers, environ) => headers.set('x-real-ip', environ.REMOTE_ADDR ?? '') }));
    const set = JSON.parse(parseRaw((await rawExchange(setting.port, rawGet('/headers', claims))).raw).rest) as Record<string, string>;
    expect(set['x-real-ip']).toBe('127.0.0.1');
  });
});

describe('an upload saved under its safeFilename', () => {
  it('never names a dotfile, nor ends in a dot or space, nor hides its extension behind bidi controls', async () => {
    // docs/forms.md: join safeFilename to a folder once it is not ''. A `.htaccess` or
    // `.user.ini` dropped in a folder Apache or PHP serves is code execution; `shell.php.`
    // and `shell.php ` pass an endsWith('.php') check and are saved as `shell.php` on Windows;
    // `exe.‮gnp` (U+202E) shows as `exe.png`. Werkzeug's secure_filename strips the dots too.
    const app = Request.application(async (req) => Response.json((await req.files()).getAll('f').map((file) => file.safeFilename)));
    const server = await start(app);
    const names = ['.htaccess', '..user.ini', 'shell.php.', 'shell.php . .', 'exe.\u202egnp', 'a\u200bb\u0085.txt', '...', 'ok.tar.gz', '日本語.txt', 'x/../.env'];
    const { body, contentType } = encodeMultipart({}, { f: names.map((filename) => ({ filename, content: 'x' })) });
    const reply = await fetch(server.url, { method: 'POST', body, headers: { 'content-type': contentType } });
    expect(await reply.json()).toEqual(['htaccess', 'user.ini', 'shell.php', 'shell.php', 'exe.gnp', 'ab.txt', '', 'ok.tar.gz', '日本語.txt', 'env']);
  });

  it('never names an NTFS alternate data stream, which Windows saves as the file before the colon', async () => {
    // `shell.php::$DATA` is written to shell.php's own bytes on Windows, past an endsWith('.php')
    // check, as `shell.php.` was; `shell.php:.jpg` creates shell.php. Werkzeug drops the colon.
    const app = Request.application(async (req) => Response.json((await req.files()).getAll('f').map((file) => file.safeFilename)));
    const server = await start(app);
    const names = ['shell.php::$DATA', 'shell.php:.jpg', 'C:evil.php', 'notes 10:30.txt', 'x.php.:'];
    const { body, contentType } = encodeMultipart({}, { f: names.map((filename) => ({ filename, content: 'x' })) });
    const reply = await fetch(server.url, { method: 'POST', body, headers: { 'content-type': contentType } });
    expect(await reply.json()).toEqual(['shell.php$DATA', 'shell.php.jpg', 'Cevil.php', 'notes 1030.txt', 'x.php']);
  });
});

describe('a directoryApp guarded by PATH_INFO, served without mount', () => {
  it('does not serve the guarded folder to //admin/… or /./admin/…, which the guard never saw as /admin/…', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'tsgi-sec-'));
    try {
      await mkdir(path.join(root, 'admin'));
      await writeFile(path.join(root, 'admin', 'report.txt'), 'top secret');
      await writeFile(path.join(root, 'public.txt'), 'hello');
      const files = directoryApp(root);
      const guarded: App = (environ, startResponse) =>
        /^\/admin(?:\/|$)/.test(environ.PATH_INFO) ? new Response('no', { status: 403 }).respond(environ, startResponse) : files(environ, startResponse);
      const server = await start(guarded);
      expect(parseRaw((await rawExchange(server.port, rawGet('/admin/report.txt'))).raw).status).toBe(403);
      const sneaky: Record<string, string> = {
        '//admin/report.txt': '/admin/report.txt',
        '/./admin/report.txt?v=1': '/admin/report.txt?v=1',
        '/.//public.txt': '/public.txt',
      };
      for (const [target, clean] of Object.entries(sneaky)) {
        const reply = parseRaw((await rawExchange(server.port, rawGet(target))).raw);
        expect(reply.rest, target).not.toMatch(/top secret/);
        expect(reply.status, target).toBe(308);
        expect(reply.header('location'), target).toBe(`http://127.0.0.1${clean}`);
      }
      // `..` stays a 404, as a missing file (docs/middleware-static.md).
      expect(parseRaw((await rawExchange(server.port, rawGet('/x/../admin/report.txt'))).raw).status).toBe(404);
      expect(parseRaw((await rawExchange(server.port, rawGet('/public.txt'))).raw).rest).toBe('hello');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
