/**
 * `crossOriginProtection`: the token-free CSRF defence of Go's `http.CrossOriginProtection`,
 * checked over a real socket with the headers browsers send.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type App, type Environ, HTTPSeeOther, Request, Response } from 'tsgi';
import { CookieSessions, crossOriginProtection, errorPages, lint, proxyFix, sessionOf } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

/** An app answering `ok METHOD`, recording each call. */
function recorder(calls: Environ[] = []): App {
  return Request.application((req) => {
    calls.push(req.environ);
    return new Response(`ok ${req.method}`);
  });
}

/** The status and body of one request to `url`. */
async function send(url: string, method: string, headers: Record<string, string> = {}, body?: string) {
  const res = await request(url, { method, headers, body });
  return { status: res.status, body: res.body.toString(), headers: res.headers };
}

describe('crossOriginProtection', () => {
  it('lets GET, HEAD and OPTIONS through whatever the headers say', async () => {
    const calls: Environ[] = [];
    const server = await start(lint(crossOriginProtection(recorder(calls))));
    const hostile = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' };
    for (const method of ['GET', 'HEAD', 'OPTIONS']) {
      expect((await send(server.url, method, hostile)).status, method).toBe(200);
    }
    expect(calls.map((e) => e.REQUEST_METHOD)).toEqual(['GET', 'HEAD', 'OPTIONS']);
  });

  it('lets an unsafe request through when Sec-Fetch-Site is same-origin or none', async () => {
    const server = await start(lint(crossOriginProtection(recorder())));
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      for (const site of ['same-origin', 'none']) {
        // Sec-Fetch-Site wins over an Origin that would not match.
        const res = await send(server.url, method, { 'sec-fetch-site': site, origin: 'https://elsewhere.example' });
        expect(res.status, `${method} ${site}`).toBe(200);
        expect(res.body).toBe(`ok ${method}`);
      }
    }
  });

  it('refuses an unsafe request whose Sec-Fetch-Site is same-site, cross-site or anything else, without calling the app', async () => {
    const calls: Environ[] = [];
    const server = await start(lint(crossOriginProtection(recorder(calls))));
    const origin = server.url; // Sec-Fetch-Site wins over a matching Origin too
    for (const [site, said] of [['same-site', 'same-site'], ['cross-site', 'cross-site'], ['Same-Origin', 'not same-origin'], ['<b>x</b>', 'not same-origin']]) {
      for (const method of ['POST', 'DELETE', 'PURGE']) {
        const res = await send(server.url, method, { 'sec-fetch-site': site!, origin, 'content-type': 'application/x-www-form-urlencoded' }, 'a=1');
        expect(res.status, `${method} ${site}`).toBe(403);
        expect(res.headers['content-type']).toMatch(/^text\/plain/);
        expect(res.body).toContain(`Cross-origin request refused: Sec-Fetch-Site is ${said}.`);
        expect(res.headers.vary).toBe('Accept'); // the negotiated body's, nothing of this middleware
      }
    }
    expect(calls).toEqual([]);
  });

  it('falls back on Origin: the request host passes, another host or port is refused', async () => {
    const server = await start(lint(crossOriginProtection(recorder())));
    const port = server.port;
    expect((await send(server.url, 'POST', { origin: `http://127.0.0.1:${port}` })).status).toBe(200);
    // The scheme is not compared (Go fails open on http → https too).
    expect((await send(server.url, 'POST', { origin: `https://127.0.0.1:${port}` })).status).toBe(200);
    for (const origin of ['http://evil.example', `http://localhost:${port}`, 'http://127.0.0.1', `http://127.0.0.1:${port + 1}`, `http://127.0.0.2:${port}`]) {
      const res = await send(server.url, 'POST', { origin });
      expect(res.status, origin).toBe(403);
      expect(res.body).toContain('Cross-origin request refused: Origin does not match the Host.');
    }
  });

  it('compares the host in lower case and with the default port of the origin\'s scheme', async () => {
    const server = await start(lint(crossOriginProtection(recorder())));
    const cases: Array<[host: string, origin: string, status: number]> = [
      ['Shop.Example.com', 'https://shop.example.com', 200],
      ['shop.example.com:443', 'https://shop.example.com', 200],
      ['shop.example.com:80', 'http://shop.example.com', 200],
      ['shop.example.com.', 'https://shop.example.com', 200],
      ['shop.example.com:80', 'https://shop.example.com', 403],
      ['shop.example.com', 'https://shop.example.com:8443', 403],
      ['shop.example.com:8443', 'https://shop.example.com', 403],
      ['[::1]:8080', 'http://[::1]:8080', 200],
      ['[::1]:8080', 'http://[::2]:8080', 403],
      ['shop.example.com', 'https://example.com', 403],
      ['example.com', 'https://shop.example.com', 403],
    ];
    for (const [host, origin, status] of cases) {
      expect((await send(server.url, 'POST', { host, origin })).status, `${host} ← ${origin}`).toBe(status);
    }
  });

  it('matches an IPv6 Host in any written form with the Origin browsers send (RFC 5952)', async () => {
    const server = await start(lint(crossOriginProtection(recorder())));
    const cases: Array<[host: string, origin: string, status: number]> = [
      ['[0:0::1]:8080', 'http://[::1]:8080', 200],
      ['[0000:0000:0000:0000:0000:0000:0000:0001]:8080', 'http://[::1]:8080', 200],
      ['[::0.0.0.1]:8080', 'http://[::1]:8080', 200],
      ['[2001:DB8:0:0::AB]', 'https://[2001:db8::ab]', 200],
      ['[0:0::1]:8080', 'http://[::2]:8080', 403],
      ['[0:0::1]:8081', 'http://[::1]:8080', 403],
      // An Origin no browser sends (its address not in the form the URL serializer writes), as
      // an upper-case one: refused.
      ['[::1]:8080', 'http://[0:0::1]:8080', 403],
    ];
    for (const [host, origin, status] of cases) {
      expect((await send(server.url, 'POST', { host, origin })).status, `${host} ← ${origin}`).toBe(status);
    }
    // A trusted origin in another form is told the one browsers send.
    expect(() => crossOriginProtection(recorder(), { trustedOrigins: ['http://[0:0::1]:8080'] })).toThrow(
      'crossOriginProtection: trusted origin "http://[0:0::1]:8080" is not as a browser sends it: http://[::1]:8080',
    );
  });

  it('refuses a null or malformed Origin with a 403, never a crash', async () => {
    const server = await start(lint(crossOriginProtection(recorder())));
    const here = `http://127.0.0.1:${server.port}`;
    const origins = [
      'null',
      'garbage',
      'http://',
      '://127.0.0.1',
      `${here}/`,
      `${here}/path`,
      `${here}?q`,
      `${here}#f`,
      `user@${here}`,
      `http://user@127.0.0.1:${server.port}`,
      `HTTP://127.0.0.1:${server.port}`,
      `http://127.0.0.1:0${server.port}`,
      `${here}, ${here}`,
      'http://%zz',
      'http://[::1',
      `file://${here}`,
      'x'.repeat(8000),
    ];
    for (const origin of origins) {
      const res = await send(server.url, 'POST', { origin });
      expect(res.status, origin).toBe(403);
    }
    expect(server.log.text).toBe('');
  });

  it('lets a request without Sec-Fetch-Site and Origin through (no browser, or a very old one)', async () => {
    const calls: Environ[] = [];
    const server = await start(lint(crossOriginProtection(recorder(calls))));
    expect((await send(server.url, 'POST', {}, 'x')).status).toBe(200);
    expect((await send(server.url, 'DELETE', { origin: '', 'sec-fetch-site': '' })).status).toBe(200);
    expect(calls).toHaveLength(2);
  });

  it('compares Origin with the host proxyFix took from X-Forwarded-Host (and -Port)', async () => {
    const headers = { 'x-forwarded-host': 'shop.example.com', 'x-forwarded-proto': 'https', origin: 'https://shop.example.com' };
    const behind = await start(lint(proxyFix(crossOriginProtection(recorder()), { xHost: 1, xProto: 1, xPort: 1 })));
    expect((await send(behind.url, 'POST', headers)).status).toBe(200);
    expect((await send(behind.url, 'POST', { ...headers, 'x-forwarded-port': '443' })).status).toBe(200);
    expect((await send(behind.url, 'POST', { ...headers, origin: `http://127.0.0.1:${behind.port}` })).status).toBe(403);
    // Without proxyFix the Host is the proxy's: the browser's Origin does not match it.
    const direct = await start(lint(crossOriginProtection(recorder())));
    expect((await send(direct.url, 'POST', headers)).status).toBe(403);
  });

  it('lets a trusted origin through, compared exactly with Origin', async () => {
    const trustedOrigins = ['https://admin.example.com', 'http://localhost:5173'];
    const server = await start(lint(crossOriginProtection(recorder(), { trustedOrigins })));
    for (const origin of trustedOrigins) {
      expect((await send(server.url, 'POST', { origin })).status, origin).toBe(200);
      expect((await send(server.url, 'POST', { origin, 'sec-fetch-site': 'cross-site' })).status, origin).toBe(200);
    }
    for (const origin of ['https://admin.example.com/', 'https://Admin.example.com', 'http://admin.example.com', 'https://admin.example.com:443', 'https://evil.admin.example.com']) {
      expect((await send(server.url, 'POST', { origin, 'sec-fetch-site': 'cross-site' })).status, origin).toBe(403);
    }
  });

  it('refuses at once a trusted origin no Origin header could match, or an exempt that is no function', () => {
    for (const origin of ['https://admin.example.com/', 'https://Admin.example.com', 'https://admin.example.com:443', 'admin.example.com', 'null', '*', 'https://a.com/path', 'https://*.example.com', '']) {
      expect(() => crossOriginProtection(recorder(), { trustedOrigins: [origin] }), origin).toThrow(TypeError);
    }
    expect(() => crossOriginProtection(recorder(), { trustedOrigins: [42 as unknown as string] })).toThrow(TypeError);
    // A regular expression (a cors origin habit): told the exempt check to write, not "{} is no origin".
    expect(() => crossOriginProtection(recorder(), { trustedOrigins: [/\.example\.com$/ as unknown as string] })).toThrow(
      'crossOriginProtection: trusted origin /\\.example\\.com$/ is a regular expression, which is not taken: list each origin, or write exempt: (environ) => /\\.example\\.com$/.test(environ.HTTP_ORIGIN ?? "")',
    );
    expect(() => crossOriginProtection(recorder(), { trustedOrigins: 'https://admin.example.com' as unknown as string[] })).toThrow(/must be an array/);
    expect(() => crossOriginProtection(recorder(), { exempt: '/hooks' as unknown as () => boolean })).toThrow(TypeError);
    // A name in Unicode: told the punycode the browser sends, as cors does.
    expect(() => crossOriginProtection(recorder(), { trustedOrigins: ['https://bücher.example'] })).toThrow(
      'crossOriginProtection: trusted origin "https://bücher.example" is not as a browser sends it: https://xn--bcher-kva.example',
    );
    // Origins of other schemes (a browser extension) have no other serialization to check.
    expect(() => crossOriginProtection(recorder(), { trustedOrigins: ['chrome-extension://abcdef', 'http://[::1]:8080'] })).not.toThrow();
  });

  it('asks exempt only for a request it would refuse, and lets it through on true', async () => {
    const asked: string[] = [];
    const exempt = (environ: Environ) => {
      asked.push(`${environ.REQUEST_METHOD} ${environ.PATH_INFO}`);
      return environ.PATH_INFO.startsWith('/hooks/');
    };
    const server = await start(lint(crossOriginProtection(recorder(), { exempt })));
    const cross = { 'sec-fetch-site': 'cross-site', origin: 'https://payments.example' };
    expect((await send(`${server.url}/hooks/paid`, 'POST', cross)).status).toBe(200);
    expect((await send(`${server.url}/account`, 'POST', cross)).status).toBe(403);
    expect((await send(`${server.url}/account`, 'POST', { origin: 'https://payments.example' })).status).toBe(403);
    expect((await send(`${server.url}/account`, 'GET', cross)).status).toBe(200);
    expect((await send(`${server.url}/account`, 'POST', { 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect(asked).toEqual(['POST /hooks/paid', 'POST /account', 'POST /account']);
  });

  it('answers the refusal through HTTPException: negotiated, and rendered by errorPages', async () => {
    const cross = { 'sec-fetch-site': 'cross-site' };
    const plain = await start(crossOriginProtection(recorder()));
    const json = await send(plain.url, 'POST', { ...cross, accept: 'application/json' });
    expect(json.status).toBe(403);
    expect(JSON.parse(json.body)).toEqual({ code: 403, title: 'Forbidden', message: 'Cross-origin request refused: Sec-Fetch-Site is cross-site.' });
    const branded = await start(
      errorPages(crossOriginProtection(recorder()), { render: (error) => `<h1>${error.code}</h1><p>${error.detail}</p>` }),
    );
    const page = await send(branded.url, 'POST', cross);
    expect(page.status).toBe(403);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toBe('<h1>403</h1><p>Cross-origin request refused: Sec-Fetch-Site is cross-site.</p>');
  });

  it('answers a refused request before its body arrives (the body is never read)', async () => {
    const server = await start(crossOriginProtection(recorder()));
    const head = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, '127.0.0.1');
      let got = '';
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        got += chunk.toString('latin1');
        if (got.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(got);
        }
      });
      // A 10 MB body announced, none sent: an answer proves nothing waited for it.
      socket.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nSec-Fetch-Site: cross-site\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000000\r\n\r\n`);
    });
    expect(head).toMatch(/^HTTP\/1\.1 403 /);
  });

  it('refuses a cross-site form post carrying the session cookie; the same-origin one logs in', async () => {
    const sessions = new CookieSessions({ secret: 'a session secret for the csrf test, 32+ bytes' });
    const site = Request.application(async (req) => {
      const session = sessionOf(req);
      if (req.method === 'POST' && req.pathInfo === '/login') {
        session.clear();
        session.set('user', (await req.form()).get('user'));
        return new HTTPSeeOther('/');
      }
      if (req.method === 'POST' && req.pathInfo === '/transfer') {
        session.set('sent', (await req.form()).get('amount'));
        return new Response('sent');
      }
      return new Response(`user=${session.get<string>('user') ?? '-'} sent=${session.get<string>('sent') ?? '-'}`);
    });
    const server = await start(lint(crossOriginProtection(sessions.middleware(site))));
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const own = { ...form, 'sec-fetch-site': 'same-origin', origin: server.url };
    const login = await request(`${server.url}/login`, { method: 'POST', headers: own, body: 'user=bob' });
    expect(login.status).toBe(303);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    // Another site's form, posted by the logged-in browser: the cookie goes with it (SameSite=None, or an old browser).
    const forged = await send(`${server.url}/transfer`, 'POST', { ...form, cookie, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }, 'amount=1000');
    expect(forged.status).toBe(403);
    expect(forged.headers['set-cookie']).toBeUndefined();
    const oldBrowser = await send(`${server.url}/transfer`, 'POST', { ...form, cookie, origin: 'https://evil.example' }, 'amount=1000');
    expect(oldBrowser.status).toBe(403);
    expect((await send(server.url, 'GET', { cookie })).body).toBe('user=bob sent=-');
    // The site's own form works.
    const mine = await send(`${server.url}/transfer`, 'POST', { ...own, cookie }, 'amount=5');
    expect(mine.status).toBe(200);
    expect(mine.body).toBe('sent');
  });
});
