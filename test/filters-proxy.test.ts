/**
 * The response filters on top of proxy(), over real sockets with the upstream in its own
 * process: a redirect mapped to the public URL, an HTML page whose tags arrive split between
 * chunks, a gzip'd page decoded, rewritten and compressed again, HEAD and 304 through the
 * whole stack.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, compose, serve } from 'tsgi';
import { compress, mount } from 'tsgi/middleware';
import { type ProxyApp, decodeContent, proxy, rewriteHtml, rewriteLocation } from 'tsgi/proxy';
import { dechunk, parseRaw, rawExchange, rawGet, request } from './node-helpers.ts';
import { type Upstream, startUpstream } from './proxy-helpers.ts';
import { PAGE } from './fixtures/upstream.ts';

let upstream: Upstream;
let legacy: ProxyApp;
let url: string;
let port: number;
let server: ServerHandle;

beforeAll(async () => {
  upstream = await startUpstream();
  legacy = proxy(upstream.url);
  const stack = compose(
    compress,
    (app) => rewriteLocation(app, { upstream: [upstream.url, 'http://old.example.com'] }),
    (app) => rewriteHtml(app, {
      upstream: [upstream.url, 'http://old.example.com'],
      elements: {
        head: (el) => el.append('<link rel="stylesheet" href="/theme.css">', { html: true }),
        body: (el) => el.prepend('<div class="banner">Old site</div>', { html: true }),
      },
    }),
    decodeContent,
  );
  server = await serve(mount({ '/legacy': stack(legacy) }), { port: 0 });
  url = server.url;
  port = server.port;
});
afterAll(async () => {
  await server.close();
  await legacy.close();
  await upstream.stop();
});

describe('filters on the proxy', () => {
  it('maps an upstream redirect to the public URL', async () => {
    const reply = await request(`${url}/legacy/redirect`, { headers: { Host: 'www.example.com' } });
    expect(reply.status).toBe(302);
    expect(reply.headers.location).toBe('http://www.example.com/legacy/target?x=1');
  });

  it('maps Set-Cookie Domain and Path', async () => {
    const reply = await request(`${url}/legacy/cookie`, { headers: { Host: 'www.example.com' } });
    expect(reply.headers['set-cookie']).toEqual(['sid=1; Domain=www.example.com; Path=/legacy/app; HttpOnly', 'theme=dark; Path=/legacy']);
  });

  it('rewrites a page whose tags arrive split between chunks, and streams it', async () => {
    // Cuts inside "<head>", inside "<body" and inside the attribute of the first link, in order.
    const cuts = [PAGE.indexOf('<head>') + 3, PAGE.indexOf('<body') + 2, PAGE.indexOf('href=') + 7];
    const reply = await request(`${url}/legacy/page?split=${cuts.join(',')}`, { headers: { Host: 'www.example.com' } });
    const html = reply.body.toString('utf8');
    expect(reply.headers['content-length']).toBeUndefined();
    expect(reply.headers.etag).toBe('W/"page1"');
    expect(html).toBe(
      PAGE.replace('</head>', '<link rel="stylesheet" href="/theme.css"></head>')
        .replace('<body class="old">', '<body class="old"><div class="banner">Old site</div>')
        .replace('http://old.example.com/about.html', 'http://www.example.com/legacy/about.html')
        .replace('"/contact.html"', '"/legacy/contact.html"')
        .replace('"/js/app.js"', '"/legacy/js/app.js"'),
    );
  });

  it('decodes a gzip page, rewrites it and compresses it again for the client', async () => {
    const reply = await request(`${url}/legacy/gzip-page`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(reply.headers.etag).toBe('W/"gz1"');
    const html = gunzipSync(reply.body).toString('utf8');
    expect(html).toContain('<div class="banner">Old site</div>');
    expect(html).toContain('<link rel="stylesheet" href="/theme.css"></head>');
    // Without Accept-Encoding it arrives decoded.
    const plain = await request(`${url}/legacy/gzip-page`);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString('utf8')).toContain('<div class="banner">Old site</div>');
  });

  it('answers HEAD to a page it rewrites with the fields GET gets (RFC 9110 §9.3.2)', async () => {
    for (const path of ['/legacy/page', '/legacy/gzip-page']) {
      const get = parseRaw((await rawExchange(port, rawGet(path))).raw);
      const head = parseRaw((await rawExchange(port, rawGet(path, '', 'HEAD'))).raw);
      expect(head.status, path).toBe(200);
      expect(head.rest, path).toBe('');
      const body = get.header('transfer-encoding') === 'chunked' ? dechunk(get.rest) : get.rest;
      expect(body, path).toContain('Old site');
      // No stale length of the upstream's bytes, the same validator, the same coding.
      expect(head.header('content-length'), path).toBeUndefined();
      expect(head.header('etag'), path).toBe(get.header('etag'));
      expect(head.header('etag'), path).toMatch(/^W\//);
      expect(head.header('content-encoding'), path).toBe(get.header('content-encoding'));
      expect(head.header('accept-ranges'), path).toBeUndefined();
    }
  });

  it('answers 502 for an upstream body that is not the gzip it says, as for any malformed answer', async () => {
    const reply = await request(`${url}/legacy/gzip-corrupt`, { headers: { Accept: 'text/plain' } });
    expect(reply.status).toBe(502);
    expect(reply.body.toString('utf8')).toContain('not valid gzip');
    expect(reply.body.toString('utf8')).not.toContain('127.0.0.1');
  });

  it('rewrites a page the upstream encoded in zstd, the coding Chrome offers and Caddy prefers, as gzip and br', async () => {
    for (const accept of ['gzip, deflate, br, zstd', 'br, gzip', 'gzip']) {
      const res = await fetch(`${url}/legacy/negotiated-page`, { headers: { 'accept-encoding': accept } });
      const text = await res.text();
      expect(text, accept).toContain('<div class="banner">Old site</div>');
    }
  });

  it('answers HEAD and 304 through the whole stack with their headers and no body', async () => {
    const head = parseRaw((await rawExchange(port, rawGet('/legacy/etag', '', 'HEAD'))).raw);
    expect(head.status).toBe(200);
    expect(head.header('content-length')).toBe('6');
    expect(head.header('etag')).toBe('"v1"');
    expect(head.rest).toBe('');
    const notModified = parseRaw((await rawExchange(port, rawGet('/legacy/etag', 'If-None-Match: "v1"\r\n'))).raw);
    expect(notModified.status).toBe(304);
    expect(notModified.header('etag')).toBe('"v1"');
    expect(notModified.rest).toBe('');
    const get = parseRaw((await rawExchange(port, rawGet('/legacy/page'))).raw);
    // The upstream's Content-Length is dropped: chunked, or the server's own for a body that came in one chunk.
    const body = get.header('transfer-encoding') === 'chunked' ? dechunk(get.rest) : get.rest;
    expect(get.header('content-length') ?? String(Buffer.byteLength(body))).toBe(String(Buffer.byteLength(body)));
    expect(body).toContain('Old site');
  });
});

describe('rewriteLocation: cookie Domain with IP hosts', () => {
  it('resolves the dot segments of an upstream URL before mapping it, so that no link climbs out of the mount', async () => {
    // The upstream's `/../x` is its own `/x` (RFC 3986 §5.2.4, as browsers resolve it), which is
    // public `/legacy/x`; written `/legacy/../x`, the browser would ask the front site for `/x`.
    const old = http.createServer((req, res) => {
      const query = decodeURIComponent(req.url!.slice(req.url!.indexOf('?') + 1));
      if (req.url!.startsWith('/site/loc')) res.writeHead(302, { location: query.replaceAll('UP', origin) }).end();
      else res.writeHead(200, { 'content-type': 'text/html' }).end(query.replaceAll('UP', origin));
    });
    await new Promise<void>((done) => old.listen(0, '127.0.0.1', done));
    const origin = `http://127.0.0.1:${(old.address() as AddressInfo).port}`;
    const rooted = proxy(origin);
    const based = proxy(`${origin}/site/`);
    const filters = (app: ProxyApp, names: string[]) =>
      rewriteLocation(rewriteHtml(app, { upstream: names }), { upstream: names });
    const front = await serve(mount({ '/legacy': filters(rooted, [origin]), '/based': filters(based, [`${origin}/site/`]) }), { port: 0, host: '127.0.0.1' });
    try {
      const location = async (prefix: string, target: string) =>
        (await request(`${front.url}${prefix}/loc?${encodeURIComponent(target)}`, { headers: { Host: 'www.example.com' } })).headers.location;
      const page = async (html: string) => (await request(`${front.url}/legacy/page?${encodeURIComponent(html)}`, { headers: { Host: 'www.example.com' } })).body.toString();
      // `/loc` of the rooted proxy is the upstream's `/loc`, not `/site/loc`: ask the based one.
      expect(await location('/based', 'UP/site/b/../x')).toBe('http://www.example.com/based/x');
      expect(await location('/based', 'UP/site/a/../../site/x?q=/../y#/../z')).toBe('http://www.example.com/based/x?q=/../y#/../z');
      expect(await location('/based', '/site/%2e%2E/site/x')).toBe('/based/x');
      expect(await location('/based', '/site/./a/./')).toBe('/based/a/');
      // A path that leaves the base path is no URL of the proxied part: left alone.
      expect(await location('/based', '/site/../x')).toBe('/site/../x');
      expect(await location('/based', 'UP/site/../../x')).toBe(`${origin}/site/../../x`);
      expect(await page('<a href="UP/../x">x</a><a href="/a/../../y">y</a><img src="/%2E%2E/v" srcset="/../w 2x">')).toBe(
        '<a href="http://www.example.com/legacy/x">x</a><a href="/legacy/y">y</a><img src="/legacy/v" srcset="/legacy/w 2x">',
      );
    } finally {
      await front.close();
      await rooted.close();
      await based.close();
      await new Promise((done) => old.close(done));
    }
  });

  it('never maps a path of the upstream to a reference to another host: /site//evil.example stays on the public host', async () => {
    // Served at the root (no prefix), the upstream's `/site//evil.example/x` (its base path, then
    // a path that starts with an empty segment) and `/.//evil.example/x` are paths of its own
    // host for a browser; written `//evil.example/x` (or `/\evil.example`, which browsers read
    // the same) they named evil.example: an open redirect the upstream never made.
    const old = http.createServer((req, res) => {
      const query = decodeURIComponent(req.url!.slice(req.url!.indexOf('?') + 1));
      if (req.url!.includes('/loc')) res.writeHead(302, { location: query }).end();
      else res.writeHead(200, { 'content-type': 'text/html' }).end(query);
    });
    await new Promise<void>((done) => old.listen(0, '127.0.0.1', done));
    const origin = `http://127.0.0.1:${(old.address() as AddressInfo).port}`;
    const based = proxy(`${origin}/site/`);
    const names = [`${origin}/site/`];
    const front = await serve(rewriteLocation(rewriteHtml(based, { upstream: names }), { upstream: names }), { port: 0, host: '127.0.0.1' });
    try {
      const get = (path: string, target: string) => request(`${front.url}${path}?${encodeURIComponent(target)}`, { headers: { Host: 'www.example.com' } });
      const location = async (target: string) => (await get('/loc', target)).headers.location!;
      const onHost = (reference: string) => new URL(reference, 'http://www.example.com/').host;
      for (const target of ['/site//evil.example/x', '/site/.//evil.example/x', '/site/\\evil.example/x', `${origin}/site//evil.example/x`]) {
        expect(onHost(await location(target))).toBe('www.example.com');
      }
      expect(await location('/site//evil.example/x')).toBe('/.//evil.example/x');
      expect(await location('/site/a/../\\evil.example/x')).toBe('/./\\evil.example/x');
      // The upstream's own reference to another host is left as it is.
      expect(await location('/\\evil.example/x')).toBe('/\\evil.example/x');
      const page = (await get('/page', '<a href="/site//evil.example/">x</a>')).body.toString();
      expect(page).toBe('<a href="/.//evil.example/">x</a>');
    } finally {
      await front.close();
      await based.close();
      await new Promise((done) => old.close(done));
    }
  });

  it('leaves the Path of a __Host- cookie at /, which browsers require of it (a Path under the prefix would have it dropped)', async () => {
    const upstreamServer = http.createServer((req, res) => {
      res.setHeader('set-cookie', decodeURIComponent(req.url!.slice(req.url!.indexOf('?') + 1)));
      res.end('ok');
    });
    await new Promise<void>((done) => upstreamServer.listen(0, '127.0.0.1', done));
    const upstreamUrl = `http://127.0.0.1:${(upstreamServer.address() as AddressInfo).port}`;
    const app = proxy(upstreamUrl);
    const front = await serve(mount({ '/svc': rewriteLocation(app, { upstream: upstreamUrl }) }), { port: 0, host: '127.0.0.1' });
    try {
      const cookie = async (setCookie: string) =>
        (await request(`${front.url}/svc/c?${encodeURIComponent(setCookie)}`, { headers: { Host: 'www.example.com' } })).headers['set-cookie'];
      // RFC 6265bis §4.1.3.2: a __Host- cookie must have Path=/ (and Secure, no Domain), or the browser ignores it.
      expect(await cookie('__Host-sid=1; Path=/; Secure; HttpOnly')).toEqual(['__Host-sid=1; Path=/; Secure; HttpOnly']);
      // The prefix is matched without regard to case, as browsers do (__Host-Http- too).
      expect(await cookie('__host-sid=1; Secure; Path=/')).toEqual(['__host-sid=1; Secure; Path=/']);
      expect(await cookie('__Host-Http-sid=1; Secure; Path=/')).toEqual(['__Host-Http-sid=1; Secure; Path=/']);
      // Other cookies still move below the prefix, __Secure- ones included (they need only Secure).
      expect(await cookie('__Secure-sid=1; Path=/; Secure')).toEqual(['__Secure-sid=1; Path=/svc; Secure']);
      expect(await cookie('sid=1; Path=/')).toEqual(['sid=1; Path=/svc']);
    } finally {
      await front.close();
      await app.close();
      await new Promise((done) => upstreamServer.close(done));
    }
  });

  /**
   * Runs `check` with an upstream whose app lives under `/site` and answers a redirect to the
   * Location its query names, behind `rewriteLocation` at the root; `followed(location)` answers
   * the URL a browser goes to from the public `/go`.
   */
  async function redirects(check: (followed: (location: string) => Promise<URL>, upstreamUrl: string) => Promise<void>): Promise<void> {
    const upstreamServer = http.createServer((req, res) => {
      res.writeHead(302, { location: decodeURIComponent(req.url!.slice(req.url!.indexOf('?') + 1)) });
      res.end();
    });
    await new Promise<void>((done) => upstreamServer.listen(0, '127.0.0.1', done));
    const upstreamUrl = `http://127.0.0.1:${(upstreamServer.address() as AddressInfo).port}/site`;
    const app = proxy(upstreamUrl);
    const front = await serve(rewriteLocation(app, { upstream: upstreamUrl }), { port: 0, host: '127.0.0.1' });
    try {
      await check(async (location) => {
        const res = await fetch(`${front.url}/go?${encodeURIComponent(location)}`, { redirect: 'manual' });
        await res.arrayBuffer();
        // Where a browser goes: the URL parser drops tabs and reads `\\` as `/` first.
        return new URL(res.headers.get('location')!, `${front.url}/go`);
      }, upstreamUrl);
    } finally {
      await front.close();
      await app.close();
      await new Promise((done) => upstreamServer.close(done));
    }
  }

  it('judges a Location as a browser reads it: a tab in the path never turns a path of this host into another host (socket)', async () => {
    await redirects(async (followed, upstreamUrl) => {
      const front = (await followed('/site/x')).host;
      // Each names a path below /site on the upstream (a browser there reads `/site//evil.example/x`).
      for (const location of ['/site/\t/evil.example/x', '/site/\t\\evil.example/x', ' /site/\t/evil.example/x', `${upstreamUrl}/\t/evil.example/x`]) {
        const url = await followed(location);
        expect([location, url.host]).toEqual([location, front]);
        expect(url.pathname).toBe('//evil.example/x');
      }
    });
  });

  it("maps the upstream's address in every spelling a browser reads as it (http:///, backslashes), and only it (socket)", async () => {
    await redirects(async (followed, upstreamUrl) => {
      const authority = new URL(upstreamUrl).host;
      const front = (await followed('/site/x')).origin;
      // Mapped as `http://127.0.0.1:…/site/x` is, never sent on for the browser to follow to the upstream.
      for (const location of [
        `http:///${authority}/site/x?q#f`,
        `http:\\\\${authority}\\site\\x?q#f`,
        `http://${authority}\\site/x?q#f`,
        `HTTP:/\\${authority}/site/./x?q#f`,
        `\\\\${authority}/site/x?q#f`,
        `/\\${authority}/site/x?q#f`,
        `http://${authority}/site/x?q#f`,
      ]) {
        expect([location, (await followed(location)).href]).toEqual([location, `${front}/x?q#f`]);
      }
      // Another host in such a form, or the upstream's URL outside its base path, is left alone.
      for (const location of ['http:///evil.example/site/x', 'http:\\\\evil.example\\site', `http://${authority}@evil.example/site/x`, `http:\\\\${authority}\\other`]) {
        expect([location, (await followed(location)).href]).toEqual([location, new URL(location).href]);
      }
    });
  });

  it('maps a Domain naming an IPv6 upstream, and never sends an IP literal or a broken name as Domain', async () => {
    // An upstream on [::1] that sets the cookie the query asks for.
    const ipv6 = http.createServer((req, res) => {
      res.setHeader('set-cookie', decodeURIComponent(req.url!.slice(req.url!.indexOf('?') + 1)));
      res.end('ok');
    });
    await new Promise<void>((done) => ipv6.listen(0, '::1', done));
    const upstreamUrl = `http://[::1]:${(ipv6.address() as AddressInfo).port}`;
    const app = proxy(upstreamUrl);
    const front = await serve(rewriteLocation(app, { upstream: upstreamUrl }), { port: 0, host: '127.0.0.1' });
    try {
      const cookie = async (setCookie: string, host: string) =>
        (await request(`${front.url}/c?${encodeURIComponent(setCookie)}`, { headers: { Host: host } })).headers['set-cookie'];
      // The upstream's name, bracketed or bare, is mapped to a public host name.
      for (const domain of ['[::1]', '::1', '.::1', '[0:0:0:0:0:0:0:1]']) {
        expect([domain, await cookie(`a=1; Domain=${domain}; Path=/`, 'www.example.com')]).toEqual([domain, ['a=1; Domain=www.example.com; Path=/']]);
      }
      // A public host that is an IP address: no Domain at all (a host-only cookie, what an IP
      // address gets anyway, RFC 6265 §5.1.3), never `Domain=[::1]`.
      for (const host of ['[::1]:8000', '[::1]', '127.0.0.1:8000', '0x7f.1']) {
        expect([host, await cookie('a=1; Domain=::1; Path=/; HttpOnly', host)]).toEqual([host, ['a=1; Path=/; HttpOnly']]);
      }
      // A Host that is no domain name (sub-delims a Host may hold) never becomes attributes.
      expect(await cookie('a=1; Domain=[::1]; Path=/', 'x;SameSite=None')).toEqual(['a=1; Path=/']);
      // Another host's Domain is left alone.
      expect(await cookie('a=1; Domain=other.example', '[::1]:8000')).toEqual(['a=1; Domain=other.example']);
    } finally {
      await front.close();
      await app.close();
      await new Promise((done) => ipv6.close(done));
    }
  });
});

describe('rewriteLocation and rewriteHtml over proxy(…, { stripScriptName: false })', () => {
  it('leaves the public paths such an upstream writes as they are, never adding the mount prefix again', async () => {
    // The upstream is asked for `/app/x` (the prefix kept), so it already speaks the public
    // paths: its `/app/y` is the public `/app/y`, not `/app/app/y`.
    const old = http.createServer((req, res) => {
      const path = req.url!.slice(0, req.url!.indexOf('?') === -1 ? undefined : req.url!.indexOf('?'));
      const query = decodeURIComponent(req.url!.slice(path.length + 1));
      if (path.endsWith('/loc')) res.writeHead(302, { location: query.replaceAll('UP', origin), 'set-cookie': 'sid=1; Path=/app' }).end();
      else res.writeHead(200, { 'content-type': 'text/html', 'x-path': path }).end(query.replaceAll('UP', origin));
    });
    await new Promise<void>((done) => old.listen(0, '127.0.0.1', done));
    const origin = `http://127.0.0.1:${(old.address() as AddressInfo).port}`;
    const kept = proxy(origin, { stripScriptName: false });
    const based = proxy(`${origin}/site/`, { stripScriptName: false });
    const filters = (app: ProxyApp, names: string[]) => rewriteLocation(rewriteHtml(app, { upstream: names }), { upstream: names });
    const front = await serve(mount({ '/app': filters(kept, [origin]), '/based': filters(based, [`${origin}/site/`]) }), { port: 0, host: '127.0.0.1' });
    try {
      const get = (path: string, target: string) => request(`${front.url}${path}?${encodeURIComponent(target)}`, { headers: { Host: 'www.example.com' } });
      const redirect = await get('/app/loc', '/app/y');
      expect(redirect.headers.location).toBe('/app/y');
      expect(redirect.headers['set-cookie']).toEqual(['sid=1; Path=/app']);
      expect((await get('/app/loc', 'UP/app/y?q=1')).headers.location).toBe('http://www.example.com/app/y?q=1');
      const page = await get('/app/page', '<a href="/app/y">y</a><img src="UP/app/i.png" srcset="/app/w 2x">');
      expect(page.headers['x-path']).toBe('/app/page');
      expect(page.body.toString()).toBe('<a href="/app/y">y</a><img src="http://www.example.com/app/i.png" srcset="/app/w 2x">');
      // Below an upstream base path, that path is taken off and nothing put in its place.
      expect((await get('/based/loc', '/site/based/y')).headers.location).toBe('/based/y');
      expect((await get('/based/page', '<a href="UP/site/based/y">y</a>')).body.toString()).toBe('<a href="http://www.example.com/based/y">y</a>');
    } finally {
      await front.close();
      await kept.close();
      await based.close();
      await new Promise((done) => old.close(done));
    }
  });
});
