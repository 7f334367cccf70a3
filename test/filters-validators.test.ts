/**
 * The validators of rewritten responses, over real sockets: `rewriteHtml` and `replaceText`
 * drop the upstream's `Last-Modified` (nginx's `sub_filter_last_modified off`), and keep
 * answering conditional requests with the weak `ETag`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, serve } from 'tsgi';
import { mount } from 'tsgi/middleware';
import { type ElementHandler, type ProxyApp, decodeContent, proxy, replaceText, rewriteHtml } from 'tsgi/proxy';
import { request } from './node-helpers.ts';

const PAGE = '<!doctype html><html><head><title>Old</title></head><body><p>Hello</p></body></html>';
const MODIFIED = 'Tue, 01 Jan 2019 00:00:00 GMT';
/** Path → the upstream's answer: its ETag (as sent), type and body. */
const RESOURCES: Record<string, { etag: string; type: string; body: Uint8Array | string; gzip?: boolean }> = {
  '/page': { etag: '"p1"', type: 'text/html; charset=utf-8', body: PAGE },
  '/weak': { etag: 'W/"w1"', type: 'text/html; charset=utf-8', body: PAGE },
  '/text': { etag: '"t1"', type: 'text/plain; charset=utf-8', body: 'Hello' },
  '/gz': { etag: '"g1"', type: 'text/plain; charset=utf-8', body: gzipSync('Hello'), gzip: true },
  '/img': { etag: '"i1"', type: 'image/png', body: new Uint8Array([137, 80, 78, 71]) },
};

let upstream: http.Server;
let seen: Array<string | undefined>;
const proxies: ProxyApp[] = [];
let server: ServerHandle;

beforeAll(async () => {
  seen = [];
  upstream = http.createServer((req, res) => {
    const resource = RESOURCES[req.url!]!;
    const inm = req.headers['if-none-match'];
    seen.push(inm);
    res.setHeader('ETag', resource.etag);
    res.setHeader('Last-Modified', MODIFIED);
    // Weak comparison (RFC 9110 §13.1.2), as nginx and most servers answer If-None-Match.
    const bare = resource.etag.replace(/^W\//, '');
    if (inm !== undefined && inm.split(',').some((tag) => tag.trim().replace(/^W\//, '') === bare)) {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.setHeader('Content-Type', resource.type);
    if (resource.gzip) res.setHeader('Content-Encoding', 'gzip');
    res.end(resource.body);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const to = (): ProxyApp => {
    const app = proxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
    proxies.push(app);
    return app;
  };
  const banner: Record<string, ElementHandler> = { body: (el) => el.prepend('<div class="banner">Old site</div>', { html: true }) };
  server = await serve(
    mount({
      '/html': rewriteHtml(to(), { elements: banner }),
      '/text': replaceText(to(), { replacements: [['Hello', 'Bye']] }),
      '/decoded': decodeContent(to()),
    }),
    { port: 0 },
  );
});
afterAll(async () => {
  await server.close();
  for (const app of proxies) await app.close();
  await new Promise((resolve) => upstream.close(resolve));
});

async function get(path: string, ifNoneMatch?: string) {
  seen.length = 0;
  const reply = await request(`${server.url}${path}`, { headers: ifNoneMatch === undefined ? {} : { 'If-None-Match': ifNoneMatch } });
  return { status: reply.status, etag: reply.headers.etag, lastModified: reply.headers['last-modified'], body: reply.body.toString('utf8'), upstreamSaw: seen[0] };
}

describe('rewritten responses drop Last-Modified (nginx: sub_filter_last_modified off)', () => {
  it('rewriteHtml: the 200 and the 304 carry the weak ETag and no Last-Modified', async () => {
    const page = await get('/html/page');
    expect(page.body).toContain('Old site');
    expect(page.etag).toBe('W/"p1"');
    expect(page.lastModified).toBeUndefined();
    const again = await get('/html/page', page.etag);
    expect(again.status).toBe(304);
    expect(again.etag).toBe('W/"p1"');
    // A cache merges the 304's fields into the stored page (RFC 9111 §4.3.4).
    expect(again.lastModified).toBeUndefined();
  });

  it('replaceText: the same', async () => {
    const text = await get('/text/text');
    expect(text.body).toBe('Bye');
    expect(text.lastModified).toBeUndefined();
    const again = await get('/text/text', text.etag);
    expect(again.status).toBe(304);
    expect(again.lastModified).toBeUndefined();
  });

  it('keeps it on what the filter leaves alone, and under decodeContent (same content, no coding)', async () => {
    expect((await get('/html/img')).lastModified).toBe(MODIFIED);
    const image304 = await get('/html/img', '"i1"');
    expect([image304.status, image304.etag, image304.lastModified]).toEqual([304, '"i1"', MODIFIED]);
    const decoded = await get('/decoded/gz');
    expect([decoded.body, decoded.etag, decoded.lastModified]).toEqual(['Hello', 'W/"g1"', MODIFIED]);
  });
});
