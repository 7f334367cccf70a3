/**
 * `etag`: an ETag for every 200 in memory to a GET, and the 304s, 412s and ranges it allows,
 * over a real socket; a HEAD carrying the GET body tagged as GET; a HEAD without a body
 * (a `Response`'s), streamed, POST, 404 and no-store answers untouched; with
 * `compress` in both orders; under the TestClient.
 */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type App, HTTPNotFound, Request, Response } from 'tsgi';
import { accessLog, compress, etag, mount } from 'tsgi/middleware';
import { strongEtag } from 'tsgi/http';
import { TestClient } from 'tsgi/testing';
import { bytes, request, start } from './node-helpers.ts';

const PAGE = 'hello, world! '.repeat(200); // 2800 bytes: over compress's threshold
const TAG = strongEtag(bytes(PAGE));

const MODIFIED = new Date('2024-03-01T12:00:00Z');
const streamed = { pulled: 0, closed: false };
const calls: string[] = [];

const site = Request.application((req) => {
  calls.push(req.method);
  switch (req.pathInfo) {
    case '/page':
    case '/post': {
      const res = new Response(PAGE, { contentType: 'text/plain' });
      res.cacheControl.maxAge = 60;
      res.vary = ['Accept-Language'];
      return res;
    }
    case '/own': {
      const res = new Response(PAGE, { contentType: 'text/plain' });
      res.etag = 'v7';
      return res;
    }
    case '/conditional':
      // conditionalResponse without an ETag of its own: it serves Range itself, before etag tags.
      return new Response(PAGE, { contentType: 'text/plain', conditionalResponse: true });
    case '/conditional-dated': {
      // conditionalResponse without an ETag, with a Last-Modified: it judges the dates itself.
      const res = new Response(PAGE, { contentType: 'text/plain', conditionalResponse: true });
      res.lastModified = MODIFIED;
      return res;
    }
    case '/conditional-no-store': {
      // conditionalResponse without an ETag, never tagged by etag (no-store): it serves Range itself.
      const res = new Response(PAGE, { contentType: 'text/plain', conditionalResponse: true });
      res.cacheControl.noStore = true;
      return res;
    }
    case '/no-store': {
      const res = new Response(PAGE, { contentType: 'text/plain' });
      res.cacheControl.noStore = true;
      return res;
    }
    case '/stream': {
      streamed.pulled = 0;
      streamed.closed = false;
      const body = (async function* () {
        try {
          for (let i = 0; i < 3; i++) {
            streamed.pulled++;
            yield bytes(`part ${i}\n`);
          }
        } finally {
          streamed.closed = true;
        }
      })();
      return new Response(body, { contentType: 'text/plain' });
    }
    default:
      throw new HTTPNotFound();
  }
});

/** A raw app: a list of chunks is in memory, a generator is not. */
const raw: App = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  if (environ.PATH_INFO === '/generator') {
    return (function* () {
      yield bytes('hello, ');
      yield bytes('world');
    })();
  }
  return [bytes('hello, '), bytes('world')];
};

describe('etag over a socket', () => {
  it('adds a strong ETag of the body to a 200, and answers 304 to a matching If-None-Match, keeping Cache-Control and Vary', async () => {
    const server = await start(etag(site));
    const first = await request(`${server.url}/page`);
    expect(first.status).toBe(200);
    expect(first.headers.etag).toBe(TAG);
    expect(first.body.toString()).toBe(PAGE);
    expect(first.headers['accept-ranges']).toBe('bytes');

    const again = await request(`${server.url}/page`, { headers: { 'If-None-Match': TAG } });
    expect(again.status).toBe(304);
    expect(again.body.byteLength).toBe(0);
    expect(again.headers.etag).toBe(TAG);
    expect(again.headers['cache-control']).toBe('max-age=60');
    expect(again.headers.vary).toBe('Accept-Language');
    expect(again.headers['content-type']).toBeUndefined();
    expect(again.headers['content-length']).toBeUndefined();
  });

  it('matches *, a weak W/ form of the tag (weak comparison), and a tag in a list; not another tag', async () => {
    const server = await start(etag(site));
    for (const inm of ['*', `W/${TAG}`, `"old", ${TAG}, "older"`, `W/"x",W/${TAG}`]) {
      const res = await request(`${server.url}/page`, { headers: { 'If-None-Match': inm } });
      expect(res.status, inm).toBe(304);
      expect(res.headers.etag, inm).toBe(TAG);
    }
    const other = await request(`${server.url}/page`, { headers: { 'If-None-Match': '"other", W/"old"' } });
    expect(other.status).toBe(200);
    expect(other.body.toString()).toBe(PAGE);
  });

  it('answers 412 to a GET whose If-Match names another tag, 200 to one naming this one', async () => {
    const server = await start(etag(site));
    expect((await request(`${server.url}/page`, { headers: { 'If-Match': '"other"' } })).status).toBe(412);
    expect((await request(`${server.url}/page`, { headers: { 'If-Match': TAG } })).status).toBe(200);
  });

  it('weak: sends W/"…", still 304 to either form', async () => {
    const server = await start(etag(site, { weak: true }));
    const first = await request(`${server.url}/page`);
    expect(first.headers.etag).toBe(`W/${TAG}`);
    for (const inm of [`W/${TAG}`, TAG]) {
      expect((await request(`${server.url}/page`, { headers: { 'If-None-Match': inm } })).status, inm).toBe(304);
    }
  });

  it("HEAD to a Response (its body dropped) passes through as HEAD: asked once, as HEAD; no tag, no 304", async () => {
    const server = await start(etag(site));
    calls.length = 0;
    const head = await request(`${server.url}/page`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.etag).toBeUndefined();
    expect(head.headers['content-length']).toBe(String(PAGE.length));
    expect(head.body.byteLength).toBe(0);
    expect(calls).toEqual(['HEAD']);
    const matched = await request(`${server.url}/page`, { method: 'HEAD', headers: { 'If-None-Match': TAG } });
    expect(matched.status).toBe(200);
    // An app's own tag on a HEAD is the app's to serve: untouched too.
    const own = await request(`${server.url}/own`, { method: 'HEAD' });
    expect(own.headers.etag).toBe('"v7"');
  });

  it('HEAD to a raw app that returns its GET body: the tag GET gets, and the 304 and 412 GET gets', async () => {
    // The smallest raw app answers HEAD as GET; the server drops the bytes (spec §7.2), etag hashes them.
    const server = await start(etag(raw));
    const tag = strongEtag(bytes('hello, world'));
    const get = await request(`${server.url}/list`);
    const head = await request(`${server.url}/list`, { method: 'HEAD' });
    expect([head.status, head.headers.etag, head.headers['content-length'], head.body.byteLength]).toEqual([200, tag, '12', 0]);
    expect(head.headers['accept-ranges']).toBe(get.headers['accept-ranges']);
    const matched = await request(`${server.url}/list`, { method: 'HEAD', headers: { 'If-None-Match': tag } });
    expect([matched.status, matched.headers.etag, matched.body.byteLength]).toEqual([304, tag, 0]);
    const other = await request(`${server.url}/list`, { method: 'HEAD', headers: { 'If-Match': '"other"' } });
    expect([other.status, other.body.byteLength]).toEqual([412, 0]);
    // A streamed body is not read: untouched, as for GET.
    expect((await request(`${server.url}/generator`, { method: 'HEAD' })).headers.etag).toBeUndefined();
  });

  it('HEAD with bytes that belie the declared Content-Length: not the GET body, untouched', async () => {
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '99']]);
      return [bytes('hello, world')];
    };
    const server = await start(etag(app));
    const head = await request(server.url, { method: 'HEAD' });
    expect([head.status, head.headers.etag, head.headers['content-length']]).toEqual([200, undefined, '99']);
  });

  it('Range: a 206 of the tagged 200; If-Range with the tag gets the part, with another tag the whole', async () => {
    const server = await start(etag(site));
    const part = await request(`${server.url}/page`, { headers: { Range: 'bytes=0-4', 'If-Range': TAG } });
    expect(part.status).toBe(206);
    expect(part.body.toString()).toBe('hello');
    expect(part.headers['content-range']).toBe(`bytes 0-4/${PAGE.length}`);
    expect(part.headers.etag).toBe(TAG);
    const stale = await request(`${server.url}/page`, { headers: { Range: 'bytes=0-4', 'If-Range': '"stale"' } });
    expect(stale.status).toBe(200);
    expect(stale.body.toString()).toBe(PAGE);
  });

  it('over a conditionalResponse without an ETag: a Range gets a 206 carrying the tag of the whole, and the conditions are judged on it', async () => {
    const server = await start(etag(site));
    const url = `${server.url}/conditional`;
    const whole = await request(url);
    expect(whole.headers.etag).toBe(TAG);
    const part = await request(url, { headers: { Range: 'bytes=0-4' } });
    expect(part.status).toBe(206);
    expect(part.body.toString()).toBe('hello');
    expect(part.headers['content-range']).toBe(`bytes 0-4/${PAGE.length}`);
    // The tag a client resumes with (If-Range, RFC 9110 §13.1.5) is the one the 200 carries.
    expect(part.headers.etag).toBe(TAG);
    const resumed = await request(url, { headers: { Range: 'bytes=5-6', 'If-Range': TAG } });
    expect([resumed.status, resumed.body.toString(), resumed.headers.etag]).toEqual([206, ', ', TAG]);
    const stale = await request(url, { headers: { Range: 'bytes=0-4', 'If-Range': '"stale"' } });
    expect([stale.status, stale.body.toString()]).toEqual([200, PAGE]);
    // If-None-Match and If-Match come before Range (RFC 9110 §13.2.2).
    expect((await request(url, { headers: { Range: 'bytes=0-4', 'If-None-Match': TAG } })).status).toBe(304);
    expect((await request(url, { headers: { Range: 'bytes=0-4', 'If-Match': '"other"' } })).status).toBe(412);
    const unsatisfiable = await request(url, { headers: { Range: 'bytes=9000-' } });
    expect([unsatisfiable.status, unsatisfiable.headers['content-range']]).toEqual([416, `bytes */${PAGE.length}`]);
  });

  it('over a conditionalResponse without an ETag: several ranges get the multipart 206 carrying the tag, and If-None-Match a 304', async () => {
    const server = await start(etag(site));
    const url = `${server.url}/conditional`;
    const parts = await request(url, { headers: { Range: 'bytes=0-4,7-11' } });
    expect([parts.status, parts.headers['content-type']?.split(';')[0], parts.headers.etag]).toEqual([206, 'multipart/byteranges', TAG]);
    expect(parts.body.toString()).toContain('Content-Range: bytes 7-11/');
    expect(parts.body.byteLength).toBe(Number(parts.headers['content-length']));
    expect((await request(url, { headers: { Range: 'bytes=0-4,7-11', 'If-None-Match': TAG } })).status).toBe(304);
    const resumed = await request(url, { headers: { Range: 'bytes=0-4,7-11', 'If-Range': TAG } });
    expect([resumed.status, resumed.headers.etag]).toEqual([206, TAG]);
  });

  it('over a conditionalResponse without an ETag: If-Match naming the tag etag sends gets the 200', async () => {
    const server = await start(etag(site));
    const url = `${server.url}/conditional`;
    const matched = await request(url, { headers: { 'If-Match': TAG } });
    expect([matched.status, matched.headers.etag]).toEqual([200, TAG]);
    expect((await request(url, { headers: { 'If-Match': TAG, Range: 'bytes=0-4' } })).status).toBe(206);
  });

  it('over a conditionalResponse with a Last-Modified but no ETag: If-Match naming the tag sets aside If-Unmodified-Since, and If-None-Match and If-Modified-Since still give the 304', async () => {
    const server = await start(etag(site));
    const url = `${server.url}/conditional-dated`;
    const before = 'Thu, 01 Feb 2024 00:00:00 GMT';
    const after = 'Fri, 01 Mar 2024 13:00:00 GMT';
    // RFC 9110 §13.2.2: If-Unmodified-Since is not evaluated when If-Match is sent, and this one holds.
    const matched = await request(url, { headers: { 'If-Match': TAG, 'If-Unmodified-Since': before } });
    expect([matched.status, matched.headers.etag]).toEqual([200, TAG]);
    expect((await request(url, { headers: { 'If-Match': TAG, 'If-Unmodified-Since': before, Range: 'bytes=0-4' } })).status).toBe(206);
    // If-Match holds, then If-None-Match or If-Modified-Since say the client's copy is current.
    expect((await request(url, { headers: { 'If-Match': TAG, 'If-Modified-Since': after } })).status).toBe(304);
    expect((await request(url, { headers: { 'If-Match': TAG, 'If-None-Match': '*' } })).status).toBe(304);
    // Judged as before where If-Match does not hold, or is not sent.
    expect((await request(url, { headers: { 'If-Match': '"other"', 'If-Modified-Since': after } })).status).toBe(412);
    expect((await request(url, { headers: { 'If-Unmodified-Since': before, Range: 'bytes=0-4' } })).status).toBe(412);
    expect((await request(url, { headers: { 'If-Modified-Since': after, Range: 'bytes=0-4' } })).status).toBe(304);
  });

  it('over a conditionalResponse without an ETag with no-store (never tagged): its own 206, 416 and 412 are kept', async () => {
    const server = await start(etag(site));
    const url = `${server.url}/conditional-no-store`;
    calls.length = 0;
    const part = await request(url, { headers: { Range: 'bytes=0-4' } });
    expect([part.status, part.body.toString(), part.headers.etag]).toEqual([206, 'hello', undefined]);
    // The 206 shows its no-store: the app is asked once.
    expect(calls).toEqual(['GET']);
    const unsatisfiable = await request(url, { headers: { Range: 'bytes=9000-' } });
    expect([unsatisfiable.status, unsatisfiable.headers['content-range']]).toEqual([416, `bytes */${PAGE.length}`]);
    // No tag is current: If-Match is false (RFC 9110 §13.1.1), whatever it names.
    expect((await request(url, { headers: { 'If-Match': '"x"' } })).status).toBe(412);
    expect((await request(url, { headers: { 'If-Match': '"x"', Range: 'bytes=0-4' } })).status).toBe(412);
  });

  it('over a conditionalResponse without an ETag under a mount: asked again at the same path', async () => {
    const server = await start(etag(mount({ '/m': site })));
    const part = await request(`${server.url}/m/conditional`, { headers: { Range: 'bytes=0-4' } });
    expect([part.status, part.body.toString(), part.headers.etag]).toEqual([206, 'hello', TAG]);
  });

  it('keeps the app’s own ETag, and makes it conditional', async () => {
    const server = await start(etag(site));
    const first = await request(`${server.url}/own`);
    expect(first.headers.etag).toBe('"v7"');
    expect((await request(`${server.url}/own`, { headers: { 'If-None-Match': '"v7"' } })).status).toBe(304);
    expect((await request(`${server.url}/own`, { headers: { 'If-None-Match': TAG } })).status).toBe(200);
  });

  it('leaves alone a POST, a 404, a no-store answer and a streamed one (never read ahead of the client)', async () => {
    const server = await start(etag(site));
    const post = await request(`${server.url}/post`, { method: 'POST', headers: { 'If-None-Match': '*' } });
    expect(post.status).toBe(200);
    expect(post.headers.etag).toBeUndefined();

    const missing = await request(`${server.url}/missing`, { headers: { 'If-None-Match': '*' } });
    expect(missing.status).toBe(404);
    expect(missing.headers.etag).toBeUndefined();

    const noStore = await request(`${server.url}/no-store`, { headers: { 'If-None-Match': '*' } });
    expect(noStore.status).toBe(200);
    expect(noStore.headers.etag).toBeUndefined();
    expect(noStore.body.toString()).toBe(PAGE);

    const stream = await request(`${server.url}/stream`, { headers: { 'If-None-Match': '*' } });
    expect(stream.status).toBe(200);
    expect(stream.headers.etag).toBeUndefined();
    expect(stream.headers['transfer-encoding']).toBe('chunked');
    expect(stream.body.toString()).toBe('part 0\npart 1\npart 2\n');
  });

  it('a streamed answer to HEAD is the app\'s own: never pulled by etag', async () => {
    const server = await start(etag(site));
    const head = await request(`${server.url}/stream`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.etag).toBeUndefined();
    expect(head.body.byteLength).toBe(0);
    expect(streamed.pulled).toBe(0);
  });

  it('a raw app: a list of chunks is tagged (of all its bytes), a generator is not', async () => {
    const server = await start(etag(raw));
    const list = await request(`${server.url}/list`);
    expect(list.headers.etag).toBe(strongEtag(bytes('hello, world')));
    expect(list.body.toString()).toBe('hello, world');
    const matched = await request(`${server.url}/list`, { headers: { 'If-None-Match': strongEtag(bytes('hello, world')) } });
    expect(matched.status).toBe(304);
    const generator = await request(`${server.url}/generator`);
    expect(generator.headers.etag).toBeUndefined();
    expect(generator.body.toString()).toBe('hello, world');
  });
});

describe('etag and the layers that watch the body', () => {
  it('inside accessLog it tags; outside, the body it is handed is a stream, left alone', async () => {
    const log = { write() {} };
    const inside = await new TestClient(accessLog(etag(site), { log })).get('/page');
    expect(inside.headers.get('etag')).toBe(TAG);
    const outside = await new TestClient(etag(accessLog(site, { log }))).get('/page');
    expect(outside.headers.get('etag')).toBeNull();
    expect(outside.textBody).toBe(PAGE);
  });
});

describe('etag with compress', () => {
  it('compress(etag(app)): the tag of the identity bytes, weakened on the gzip answer; its 304s', async () => {
    const server = await start(compress(etag(site)));
    const identity = await request(`${server.url}/page`);
    expect(identity.headers.etag).toBe(TAG);
    expect(identity.headers['content-encoding']).toBeUndefined();

    const gzip = await request(`${server.url}/page`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.headers.etag).toBe(`W/${TAG}`);
    expect(gunzipSync(gzip.body).toString()).toBe(PAGE);

    const revalidated = await request(`${server.url}/page`, { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': `W/${TAG}` } });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.etag).toBe(`W/${TAG}`);
    expect(revalidated.headers.vary).toMatch(/Accept-Encoding/);

    // If-Range never matches the weak tag: the whole, compressed; with the strong one, identity bytes.
    const resumedWeak = await request(`${server.url}/page`, { headers: { 'Accept-Encoding': 'gzip', Range: 'bytes=0-4', 'If-Range': `W/${TAG}` } });
    expect(resumedWeak.status).toBe(200);
    const resumed = await request(`${server.url}/page`, { headers: { 'Accept-Encoding': 'gzip', Range: 'bytes=0-4', 'If-Range': TAG } });
    expect(resumed.status).toBe(206);
    expect(resumed.body.toString()).toBe('hello');
  });

  it('etag(compress(app)): a strong tag of the coded bytes, one per coding; 304 on a match', async () => {
    const server = await start(etag(compress(site)));
    const identity = await request(`${server.url}/page`);
    expect(identity.headers.etag).toBe(TAG);
    const gzip = await request(`${server.url}/page`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.headers.etag).toBe(strongEtag(gzip.body));
    expect(gzip.headers.etag).not.toBe(TAG);
    const revalidated = await request(`${server.url}/page`, { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': gzip.headers.etag! } });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.vary).toMatch(/Accept-Encoding/);
    // The identity client's tag names other bytes.
    expect((await request(`${server.url}/page`, { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': TAG } })).status).toBe(200);
  });
});

describe('etag under the TestClient', () => {
  it('200 with the tag, then 304 to it', async () => {
    const client = new TestClient(etag(site));
    const first = await client.get('/page');
    expect(first.headers.get('etag')).toBe(TAG);
    const again = await client.get('/page', { headers: { 'If-None-Match': TAG } });
    expect(again.statusCode).toBe(304);
    expect(again.textBody).toBe('');
  });

  it('HEAD, under lint: untouched, no body', async () => {
    const client = new TestClient(etag(site));
    const head = await client.head('/page');
    expect(head.statusCode).toBe(200);
    expect(head.headers.get('etag')).toBe(null);
    expect(head.textBody).toBe('');
  });
});
