/**
 * `trustedHosts` and the Host header's shape, in both adapters: a request naming another host
 * answers 400 without calling the app, so no redirect the app builds points elsewhere; `%` is
 * never part of a Host.
 */
import { describe, expect, it } from 'vitest';
import { type App, Request } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { mount, proxyFix } from 'tsgi/middleware';
import { serve, toNodeHandler } from 'tsgi/node';
import { parseRaw, rawExchange, start } from './node-helpers.ts';

let calls = 0;
const site: App = mount({
  '/docs': Request.application((req) => {
    calls++;
    return `docs at ${req.applicationUrl}`;
  }),
});
const trustedHosts = ['example.com', '.example.org'];

/** The status and Location a raw request with this Host line gets (no Host line when `host` is null). */
async function ask(port: number, host: string | null, target = '/docs'): Promise<{ status: number; location?: string }> {
  const head = host === null ? `GET ${target} HTTP/1.0\r\n\r\n` : `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
  const res = parseRaw((await rawExchange(port, head)).raw);
  return { status: res.status, location: res.header('location') };
}

describe('trustedHosts (Node adapter)', () => {
  it('answers a trusted host, with or without a port, any case, and subdomains of a dotted entry', async () => {
    const server = await start(site, { trustedHosts });
    // A fully qualified name's trailing dot names the same host (as routing and mount read it, and Django's ALLOWED_HOSTS).
    for (const host of ['example.com', 'EXAMPLE.com:8080', 'example.org', 'www.example.org', 'a.b.example.org:443', 'example.com.', 'www.example.org.:8080']) {
      expect(await ask(server.port, host, '/docs/'), host).toEqual({ status: 200, location: undefined });
    }
    expect(await ask(server.port, null, '/docs/')).toMatchObject({ status: 200 });
    await server.close();
  });

  it('compares an IPv6 literal as the address it is, whichever way the entry or the Host writes it (RFC 5952)', async () => {
    // The hint for '2001:DB8:0::1' is '[2001:db8::1]': a Host writing the address in full matches it still, and the other way round.
    const server = await start(site, { trustedHosts: ['[2001:db8::1]', '[2001:db8:0:0::2]', '[::ffff:127.0.0.1]'] });
    for (const host of ['[2001:db8::1]', '[2001:DB8:0:0:0:0:0:1]:8080', '[2001:db8::2]', '[2001:db8:0:0:0:0:0:2]', '[::ffff:7f00:1]', '[::ffff:127.0.0.1]']) {
      expect(await ask(server.port, host, '/docs/'), host).toEqual({ status: 200, location: undefined });
    }
    expect((await ask(server.port, '[2001:db8::3]', '/docs/')).status).toBe(400);
    await server.close();
  });

  it('refuses any other host with 400 before the app, so mount never redirects to it', async () => {
    const server = await start(site, { trustedHosts });
    calls = 0;
    for (const host of ['evil.com', 'www.example.com', 'example.com.evil.com', 'notexample.org', 'evil.com:80', 'example.com..', 'evil.com.']) {
      expect(await ask(server.port, host), host).toEqual({ status: 400, location: undefined });
    }
    expect(calls).toBe(0);
    const open = await start(site);
    // Without the option, mount's redirect of an unclean path names whatever host was asked.
    expect(await ask(open.port, 'evil.com', '/docs//x')).toEqual({ status: 308, location: 'http://evil.com/docs/x' });
    expect(await ask(server.port, 'evil.com', '/docs//x')).toEqual({ status: 400, location: undefined });
    await server.close();
    await open.close();
  });

  it('refuses percent-encoding in Host, trusted hosts or not', async () => {
    const server = await start(site);
    for (const host of ['evil.com%2F..', 'example.com%00', '[::1%25eth0]']) {
      expect((await ask(server.port, host)).status, host).toBe(400);
    }
    await server.close();
  });
});

describe('trustedHosts entries', () => {
  it('takes an internationalized name in Unicode, as browsers send it in punycode (Werkzeug encodes the list to IDNA)', async () => {
    const server = await start(site, { trustedHosts: ['Bücher.example', '.café.example'] });
    for (const host of ['xn--bcher-kva.example', 'XN--BCHER-KVA.example:8080', 'xn--caf-dma.example', 'shop.xn--caf-dma.example.']) {
      expect(await ask(server.port, host, '/docs/'), host).toEqual({ status: 200, location: undefined });
    }
    expect((await ask(server.port, 'xn--bcher-kva.example.evil.com', '/docs/')).status).toBe(400);
    await server.close();
    const handler = toFetchHandler(site, { trustedHosts: ['bücher.example'] });
    expect((await handler(new globalThis.Request('http://bücher.example/docs/'))).status).toBe(200);
  });

  it('refuses, when the server is made, an entry that could never match: a port, a wildcard, a URL', async () => {
    const cases: [string, RegExp][] = [
      ['localhost:8000', /without the port: write "localhost"/],
      ['[::1]:8000', /without the port: write "\[::1\]"/],
      // A bare IPv6 address: a Host names it in brackets (RFC 3986's IP-literal).
      ['::1', /is an IPv6 address: write "\[::1\]"/],
      ['2001:DB8:0::1', /is an IPv6 address: write "\[2001:db8::1\]"/],
      ['*.example.com', /write "\.example\.com" for example\.com and its subdomains/],
      ['*', /leave trustedHosts out/],
      ['api.*.example.com', /a wildcard matches no Host, list each host/],
      ['https://example.com/', /a host name, not a URL: write "example\.com"/],
      ['', /not a host name/],
      ['exa mple.com', /not a host name/],
      // A name in Unicode goes through the URL parser for its ASCII form: what it would read
      // as user info, a path or an escape is no part of a host name, not another host.
      ['bücher@evil.example', /not a host name/],
      ['bücher.example%2Eevil.example', /not a host name/],
      ['bücher\t.example', /not a host name/],
      ['bücher.example\\evil', /not a host name/],
    ];
    for (const [entry, message] of cases) {
      expect(() => toFetchHandler(site, { trustedHosts: [entry] }), entry).toThrow(message);
      expect(() => toNodeHandler(site, { trustedHosts: ['example.com', entry] }), entry).toThrow(message);
      await expect(serve(site, { port: 0, trustedHosts: [entry] }), entry).rejects.toThrow(message);
    }
    expect(() => toFetchHandler(site, { trustedHosts: 'example.com' as never })).toThrow(/trustedHosts must be an array of host names/);
  });
});

describe('trustedHosts and the host proxyFix forwards', () => {
  /** The status and body of a raw request through a proxy that forwards `forwarded`. */
  async function askForwarded(port: number, header: string): Promise<{ status: number; body: string }> {
    const head = `GET /docs/ HTTP/1.1\r\nHost: example.com\r\n${header}\r\nConnection: close\r\n\r\n`;
    const res = parseRaw((await rawExchange(port, head)).raw);
    return { status: res.status, body: res.rest };
  }

  it('checks the host X-Forwarded-Host or Forwarded puts in place of the Host, as Werkzeug checks the host after ProxyFix', async () => {
    const server = await start(proxyFix(site, { xHost: 1, forwarded: 1 }), { trustedHosts });
    calls = 0;
    for (const header of ['X-Forwarded-Host: evil.com', 'X-Forwarded-Host: www.example.org, evil.com:443', 'Forwarded: host=evil.com']) {
      expect(await askForwarded(server.port, header), header).toEqual({ status: 400, body: expect.stringContaining('untrusted Host header') });
    }
    expect(calls).toBe(0);
    expect(await askForwarded(server.port, 'X-Forwarded-Host: Shop.Example.org.:8443')).toEqual({ status: 200, body: 'docs at http://Shop.Example.org.:8443/docs' });
    // A value proxyFix does not take leaves the Host the server checked.
    expect(await askForwarded(server.port, 'X-Forwarded-Host: evil.com/x')).toEqual({ status: 200, body: 'docs at http://example.com/docs' });
    await server.close();
    // Without trustedHosts, any forwarded host, as before.
    const open = await start(proxyFix(site, { xHost: 1 }));
    expect(await askForwarded(open.port, 'X-Forwarded-Host: evil.com')).toEqual({ status: 200, body: 'docs at http://evil.com/docs' });
    await open.close();
  });

  it('does so under toFetchHandler too', async () => {
    const handler = toFetchHandler(proxyFix(site, { xHost: 1 }), { trustedHosts });
    const refused = await handler(new globalThis.Request('http://example.com/docs/', { headers: { 'x-forwarded-host': 'evil.com' } }));
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('untrusted Host');
    const passed = await handler(new globalThis.Request('http://example.com/docs/', { headers: { 'x-forwarded-host': 'www.example.org' } }));
    expect(await passed.text()).toBe('docs at http://www.example.org/docs');
  });
});

describe('trustedHosts (fetch adapter)', () => {
  it('answers a trusted host and refuses another with 400', async () => {
    const handler = toFetchHandler(site, { trustedHosts });
    expect((await handler(new globalThis.Request('http://www.example.org/docs/'))).status).toBe(200);
    calls = 0;
    const refused = await handler(new globalThis.Request('http://evil.com/docs'));
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('untrusted Host');
    expect(calls).toBe(0);
  });
});
