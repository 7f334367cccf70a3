/**
 * The validators of rewritten responses, over real sockets: `rewriteHtml` and `replaceText`
 * drop the upstream's `Last-Modified` (nginx's `sub_filter_last_modified off`), and their
 * `version` option folds the rules' version into the weak `ETag`, so a change of the rules
 * makes caches fetch the page again while conditional requests keep being answered 304.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, serve } from 'tsgi';
import { compress, mount } from 'tsgi/middleware';
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
  // Upstream tags that happen to end as a versioned one would (`~banner-2`), on what the filter leaves alone.
  '/tilde': { etag: '"i~banner-2"', type: 'image/png', body: new Uint8Array([137, 80, 78, 71]) },
  '/tilde-weak': { etag: 'W/"j~banner-2"', type: 'image/png', body: new Uint8Array([137, 80, 78, 71]) },
  // An empty opaque tag is a valid one (RFC 9110 §8.8.3: *etagc).
  '/empty': { etag: '""', type: 'text/html; charset=utf-8', body: PAGE },
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
    const named = inm !== undefined && inm.split(',').some((tag) => tag.trim().replace(/^W\//, '') === bare);
    // If-Modified-Since only without If-None-Match (RFC 9110 §13.2.2).
    if (named || (inm === undefined && req.headers['if-modified-since'] === MODIFIED)) {
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
      '/html2': rewriteHtml(to(), { elements: banner, version: 'banner-2' }),
      '/text': replaceText(to(), { replacements: [['Hello', 'Bye']] }),
      '/text2': replaceText(to(), { replacements: [['Hello', 'Bye']], version: 'bye-2' }),
      '/decoded': decodeContent(to()),
      '/full': compress(rewriteHtml(decodeContent(to()), { elements: banner, version: 'banner-2' })),
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

  it('drops it from the 304 of a page whose tag was weak before the filter saw it (a weak upstream tag, decodeContent below)', async () => {
    // The upstream's own W/"w1": the filter had nothing to weaken, the 304 passes as it is otherwise.
    const weak = await get('/html/weak');
    expect([weak.etag, weak.lastModified]).toEqual(['W/"w1"', undefined]);
    const weak304 = await get('/html/weak', weak.etag);
    expect([weak304.status, weak304.etag, weak304.lastModified]).toEqual([304, 'W/"w1"', undefined]);
    // decodeContent below weakens the upstream's "p1" in the 304 before rewriteHtml sees it.
    const stacked = await get('/full/page', 'W/"p1"');
    expect([stacked.status, stacked.etag, stacked.lastModified]).toEqual([304, 'W/"p1"', undefined]);
  });

  it('keeps it on what the filter leaves alone, and under decodeContent (same content, no coding)', async () => {
    expect((await get('/html/img')).lastModified).toBe(MODIFIED);
    const image304 = await get('/html/img', '"i1"');
    expect([image304.status, image304.etag, image304.lastModified]).toEqual([304, '"i1"', MODIFIED]);
    const decoded = await get('/decoded/gz');
    expect([decoded.body, decoded.etag, decoded.lastModified]).toEqual(['Hello', 'W/"g1"', MODIFIED]);
  });
});

describe('a revalidation by date alone (If-Modified-Since, no If-None-Match)', () => {
  async function dated(path: string) {
    const reply = await request(`${server.url}${path}`, { headers: { 'If-Modified-Since': MODIFIED } });
    return [reply.status, reply.headers.etag, reply.headers['last-modified']];
  }

  it("decodeContent: the 304 carries the weak tag the decoded 200 had, which a cache's stored copy matches", async () => {
    const decoded = await get('/decoded/gz');
    expect([decoded.etag, decoded.lastModified]).toEqual(['W/"g1"', MODIFIED]);
    // RFC 9111 §4.3.4: the upstream's strong "g1" would name no stored response; W/"g1" names this one.
    expect(await dated('/decoded/gz')).toEqual([304, 'W/"g1"', MODIFIED]);
  });

  it('rewriteHtml: left as it is, since what it rewrites has no date to be revalidated with', async () => {
    expect((await get('/html/page')).lastModified).toBeUndefined();
    // So a date comes from what the filter left alone (an image), whose strong tag is kept.
    expect(await dated('/html/img')).toEqual([304, '"i1"', MODIFIED]);
  });
});

describe('version: the rules folded into the weak ETag', () => {
  it('rewriteHtml: a page of other rules is sent again, one of these rules is answered 304', async () => {
    const page = await get('/html2/page');
    expect(page.etag).toBe('W/"p1~banner-2"');
    expect(page.lastModified).toBeUndefined();
    // The upstream sees its own validator, and answers 304.
    const again = await get('/html2/page', page.etag);
    expect(again.upstreamSaw).toBe('W/"p1~banner-2", W/"p1"');
    expect([again.status, again.etag, again.lastModified, again.body]).toEqual([304, 'W/"p1~banner-2"', undefined, '']);
    // Pages rewritten by earlier rules are sent again, and the upstream is not asked with their tags as its own.
    for (const old of ['W/"p1~banner-1"', 'W/"p1~1"']) {
      const stale = await get('/html2/page', old);
      expect(stale.upstreamSaw, old).toBe(old);
      expect(stale.status, old).toBe(200);
      expect(stale.etag, old).toBe('W/"p1~banner-2"');
      expect(stale.body, old).toContain('Old site');
    }
  });

  it('works with an upstream whose ETag is weak, and leaves other tags in the list alone', async () => {
    const page = await get('/html2/weak');
    expect(page.etag).toBe('W/"w1~banner-2"');
    const again = await get('/html2/weak', `"other", ${page.etag}`);
    expect(again.upstreamSaw).toBe('"other", W/"w1~banner-2", W/"w1"');
    expect([again.status, again.etag]).toEqual([304, 'W/"w1~banner-2"']);
  });

  it('leaves responses the filter does not transform with their own validators', async () => {
    const image = await get('/html2/img');
    expect([image.etag, image.lastModified]).toEqual(['"i1"', MODIFIED]);
    const again = await get('/html2/img', '"i1"');
    expect([again.status, again.etag, again.upstreamSaw]).toEqual([304, '"i1"', '"i1"']);
  });

  it("keeps an upstream tag that merely ends with the version: a strong one as it is, a weak one beside the upstream's own", async () => {
    // A strong tag is never one the filter made (its tags are weak): the upstream gets it as sent.
    const strong = await get('/html2/tilde', '"i~banner-2"');
    expect([strong.status, strong.etag, strong.upstreamSaw]).toEqual([304, '"i~banner-2"', '"i~banner-2"']);
    // A weak one may be either: the upstream gets both readings.
    const weak = await get('/html2/tilde-weak', 'W/"j~banner-2"');
    expect([weak.status, weak.etag, weak.upstreamSaw]).toEqual([304, 'W/"j~banner-2"', 'W/"j~banner-2", W/"j"']);
    // And a page of these rules is still answered 304.
    const page = await get('/html2/page', '"other", W/"p1~banner-2"');
    expect([page.status, page.etag, page.upstreamSaw]).toEqual([304, 'W/"p1~banner-2"', '"other", W/"p1~banner-2", W/"p1"']);
    const empty = await get('/html2/empty');
    expect(empty.etag).toBe('W/"~banner-2"');
    expect((await get('/html2/empty', empty.etag)).status).toBe(304);
  });

  it("a 304 names the page of these rules when the client also holds one of no version", async () => {
    // A cache holding both revalidates with both; the 304 updates the response whose tag it carries.
    for (const list of ['W/"p1", W/"p1~banner-2"', 'W/"p1~banner-2", W/"p1"']) {
      const again = await get('/html2/page', list);
      expect([again.status, again.etag], list).toEqual([304, 'W/"p1~banner-2"']);
    }
  });

  it('through the whole stack (compress, decodeContent)', async () => {
    const page = await get('/full/page');
    expect([page.etag, page.lastModified]).toEqual(['W/"p1~banner-2"', undefined]);
    const again = await get('/full/page', page.etag);
    expect([again.status, again.etag, again.lastModified, again.upstreamSaw]).toEqual([304, 'W/"p1~banner-2"', undefined, 'W/"p1~banner-2", W/"p1"']);
    expect((await get('/full/page', 'W/"p1~banner-1"')).status).toBe(200);
  });

  it('replaceText: the same', async () => {
    const text = await get('/text2/text');
    expect([text.body, text.etag]).toEqual(['Bye', 'W/"t1~bye-2"']);
    const again = await get('/text2/text', text.etag);
    expect([again.status, again.etag]).toEqual([304, 'W/"t1~bye-2"']);
    expect((await get('/text2/text', 'W/"t1~bye-1"')).status).toBe(200);
  });

  it('refuses a version that cannot be part of an entity tag', () => {
    expect(() => rewriteHtml(() => [], { version: 'a b' })).toThrow(TypeError);
    expect(() => replaceText(() => [], { replacements: [], version: 'x"y' })).toThrow(TypeError);
    expect(() => replaceText(() => [], { replacements: [], version: '' })).toThrow(TypeError);
  });
});
