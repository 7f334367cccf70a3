/**
 * The response filters on top of proxy(), over real sockets with the upstream in its own
 * process: a redirect mapped to the public URL, an HTML page whose tags arrive split between
 * chunks, a gzip'd page decoded, rewritten and compressed again, HEAD and 304 through the
 * whole stack.
 */
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
