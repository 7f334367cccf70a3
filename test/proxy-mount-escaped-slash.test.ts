/**
 * `proxy` under a mount point the client spelt with an escaped slash (a parameter of an Express
 * mount path, `use('/repos/:repo', …)` asked for `/repos/a%2Fb/…`; here `mount`, whose
 * `SCRIPT_NAME` is decoded the same way): the prefix it announces upstream and the one it maps
 * the upstream's redirects back under (`rewriteLocation`) keep the client's spelling, as `req.applicationUrl` and
 * `urls.build` do, so both name the same mount point and not `/repos/a/b`. Over real sockets.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mount } from 'tsgi/middleware';
import { type ProxyApp, proxy, rewriteLocation } from 'tsgi/proxy';
import { request, start } from './node-helpers.ts';

let upstream: http.Server;
let app: ProxyApp;
let upstreamUrl: string;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    if (req.url === '/moved') {
      res.writeHead(302, { location: '/landing', 'content-length': '0' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`path=${req.url} prefix=${req.headers['x-forwarded-prefix']}`);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  app = proxy(upstreamUrl);
});

afterAll(async () => {
  await app.close();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

describe('proxy under a mount point spelt with an escaped slash', () => {
  it('announces the prefix and maps a redirect back as the client spelt the mount point', async () => {
    const gw = await start(mount({ '/repos/a/b': rewriteLocation(app, { upstream: upstreamUrl }) }));
    try {
      const res = await request(`${gw.url}/repos/a%2Fb/x`);
      expect(res.body.toString()).toBe('path=/x prefix=/repos/a%2Fb');
      const moved = await request(`${gw.url}/repos/a%2Fb/moved`);
      expect([moved.status, moved.headers.location]).toEqual([302, '/repos/a%2Fb/landing']);
      // The plain spelling is left as it was.
      const plain = await request(`${gw.url}/repos/a/b/moved`);
      expect(plain.headers.location).toBe('/repos/a/b/landing');
    } finally {
      await gw.close();
    }
  });
});
