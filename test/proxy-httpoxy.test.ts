/**
 * A client's `Proxy` field is not forwarded (httpoxy, CVE-2016-5385 and its kin): a CGI or
 * FastCGI upstream (PHP-FPM, a CGI script, a Python or Go CGI handler) turns it into the
 * `HTTP_PROXY` variable, which many HTTP clients take as their outgoing proxy, so the client
 * would choose where the upstream's own outbound requests, and their credentials, go. The
 * mitigation nginx, HAProxy and Apache publish (`proxy_set_header Proxy "";`) is the default
 * here, as the client address fields are. And an upstream's `Proxy-Authentication-Info`, which
 * is for the next client on the chain, this gateway (RFC 9110 §11.7.3), as its
 * `Proxy-Authenticate` is, does not reach the client. Over real sockets on 127.0.0.1.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyApp, proxy } from 'tsgi/proxy';
import { request, start } from './node-helpers.ts';

let upstream: http.Server;
let seen: http.IncomingHttpHeaders = {};
let app: ProxyApp;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    seen = req.headers;
    res.writeHead(200, { 'content-type': 'text/plain', 'proxy-authentication-info': 'nextnonce="abc"', 'x-kept': '1' });
    res.end('ok');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  app = proxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
});

afterAll(async () => {
  await app.close();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

describe('proxy: httpoxy and the proxy-only fields', () => {
  it('does not forward a client’s Proxy field, nor pass the upstream’s Proxy-Authentication-Info back', async () => {
    const gw = await start(app);
    try {
      const res = await request(`${gw.url}/x`, { headers: { proxy: 'http://attacker.example:8080', 'x-other': 'kept' } });
      expect(res.status).toBe(200);
      expect(seen.proxy).toBeUndefined();
      expect(seen['x-other']).toBe('kept');
      expect(res.headers['proxy-authentication-info']).toBeUndefined();
      expect(res.headers['x-kept']).toBe('1');
    } finally {
      await gw.close();
    }
  });

  it('a requestHeaders edit may still set a Proxy field of its own', async () => {
    const own = proxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, { requestHeaders: { set: { proxy: 'mine' } } });
    const gw = await start(own);
    try {
      expect((await request(`${gw.url}/x`, { headers: { proxy: 'http://attacker.example:8080' } })).status).toBe(200);
      expect(seen.proxy).toBe('mine');
    } finally {
      await gw.close();
      await own.close();
    }
  });
});
