import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { compress, directoryApp, lint, mount } from 'tsgi/middleware';
import { proxy } from 'tsgi/proxy';
import { request, sleep, start } from './node-helpers.ts';

// RFC 9110 §15.4.5: a 304 carries the Vary the 200 to the same request would have carried.
// Every path by which a conditional request under `compress` ends in 304. The app is never
// called a second time to find out: a 304 gets `Vary: Accept-Encoding` unless it says itself
// (no-transform, its own Vary, a type `compress` leaves alone) that its 200 had none.

const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(200); // 9000 bytes
const DATE = 'Tue, 01 Dec 2026 10:00:00 GMT';
const LATER = 'Wed, 02 Dec 2026 10:00:00 GMT';
const GZIP = { 'accept-encoding': 'gzip' };

/** A page answered by a `Response` that makes itself conditional; `calls` counts the app's calls. */
function page(headers: Record<string, string>, contentType = 'text/plain', calls = { n: 0 }): App {
  return Request.application(() => {
    calls.n++;
    return new Response(TEXT, { headers, contentType, conditionalResponse: true });
  });
}

/** A raw app answering a `304` with `headers` to a request with `If-None-Match`, else a 200 of `type`. */
function raw(headers: Array<[string, string]>, type: string, calls = { n: 0 }): App {
  return (environ, startResponse) => {
    calls.n++;
    if (environ.HTTP_IF_NONE_MATCH !== undefined) {
      startResponse('304 Not Modified', headers);
      return [];
    }
    startResponse('200 OK', [['Content-Type', type], ...headers]);
    return [new TextEncoder().encode(TEXT)];
  };
}

/** Status and `Vary` of the answer; `linted` false for a 304 with a type, which `lint` warns of (rightly). */
async function varyOf(app: App, url: string, headers: Record<string, string>, method = 'GET', linted = true): Promise<[number, string | undefined]> {
  const server = await start(linted ? lint(app) : app);
  const res = await request(`${server.url}${url}`, { method, headers });
  return [res.status, res.headers.vary];
}

describe('compress: every 304 carries the Vary of its 200', () => {
  it("the app's strong tag, sent back by a client that keeps the identity 200", async () => {
    const app = compress(page({ ETag: '"abc"' }));
    const server = await start(lint(app));
    const plain = await request(server.url);
    expect([plain.status, plain.headers['content-encoding'], plain.headers.etag, plain.headers.vary]).toEqual([200, undefined, '"abc"', 'Accept-Encoding']);
    const again = await request(server.url, { headers: { 'if-none-match': '"abc"' } });
    expect([again.status, again.headers.etag, again.headers.vary]).toEqual([304, '"abc"', 'Accept-Encoding']);
    // A shared cache holding both 200s: the app's tag, and the Vary both had.
    const both = await request(server.url, { headers: { ...GZIP, 'if-none-match': 'W/"abc", "abc"' } });
    expect([both.status, both.headers.etag, both.headers.vary]).toEqual([304, '"abc"', 'Accept-Encoding']);
    // HEAD too.
    const head = await request(server.url, { method: 'HEAD', headers: { 'if-none-match': '"abc"' } });
    expect([head.status, head.headers.vary]).toEqual([304, 'Accept-Encoding']);
  });

  it("the weakened tag of the compressed 200 (as before), and an app's own weak tag", async () => {
    expect(await varyOf(compress(page({ ETag: '"abc"' })), '/', { ...GZIP, 'if-none-match': 'W/"abc"' })).toEqual([304, 'Accept-Encoding']);
    // A weak tag names the identity and the compressed 200 alike: both had the Vary.
    const weak = compress(page({ ETag: 'W/"abc"' }));
    expect(await varyOf(weak, '/', { ...GZIP, 'if-none-match': 'W/"abc"' })).toEqual([304, 'Accept-Encoding']);
    expect(await varyOf(weak, '/', { 'if-none-match': 'W/"abc"' })).toEqual([304, 'Accept-Encoding']);
  });

  it('a date only (If-Modified-Since, no ETag)', async () => {
    const app = compress(page({ 'Last-Modified': DATE }));
    expect(await varyOf(app, '/', { ...GZIP, 'if-modified-since': LATER })).toEqual([304, 'Accept-Encoding']);
    expect(await varyOf(app, '/', { 'if-modified-since': DATE })).toEqual([304, 'Accept-Encoding']);
  });

  it('a date only, where the app has a strong tag: the weak tag the coded 200 had, for a client of a coding', async () => {
    // RFC 9111 §4.3.4: a cache updates the stored responses the 304's strong tag names; the coded
    // 200 it holds has W/"abc". A weak tag selects by weak comparison: the coded and identity 200.
    const app = compress(page({ ETag: '"abc"', 'Last-Modified': DATE, 'Accept-Ranges': 'bytes' }));
    const server = await start(lint(app));
    const zipped = await request(server.url, { headers: GZIP });
    expect([zipped.headers['content-encoding'], zipped.headers.etag]).toEqual(['gzip', 'W/"abc"']);
    for (const method of ['GET', 'HEAD']) {
      const again = await request(server.url, { method, headers: { ...GZIP, 'if-modified-since': DATE } });
      expect([again.status, again.headers.etag, again.headers.vary, again.headers['accept-ranges']], method).toEqual([304, 'W/"abc"', 'Accept-Encoding', undefined]);
    }
    // A client of no coding keeps the identity 200: the app's tag.
    const plain = await request(server.url, { headers: { 'if-modified-since': DATE } });
    expect([plain.status, plain.headers.etag]).toEqual([304, '"abc"']);
    expect((await request(server.url, { headers: { 'accept-encoding': 'identity', 'if-modified-since': DATE } })).headers.etag).toBe('"abc"');
    // If-None-Match names the 200 the client holds, the identity one here (as before).
    const named = await request(server.url, { headers: { ...GZIP, 'if-none-match': '"abc"', 'if-modified-since': DATE } });
    expect([named.status, named.headers.etag]).toEqual([304, '"abc"']);
    // `If-None-Match: *` names no 200 either: the weak tag, as to a date alone.
    for (const method of ['GET', 'HEAD']) {
      const star = await request(server.url, { method, headers: { ...GZIP, 'if-none-match': '*' } });
      expect([star.status, star.headers.etag, star.headers.vary], method).toEqual([304, 'W/"abc"', 'Accept-Encoding']);
    }
    expect((await request(server.url, { headers: { 'if-none-match': '*' } })).headers.etag).toBe('"abc"');
    // A 304 telling its 200 was not coded keeps the app's tag: no-transform, its own Vary, a type left alone.
    const image: App = (_environ, startResponse) => {
      startResponse('304 Not Modified', [['ETag', '"p"'], ['Content-Type', 'image/png']]);
      return [];
    };
    const kept: Array<[App, boolean]> = [
      [compress(page({ ETag: '"nt"', 'Last-Modified': DATE, 'Cache-Control': 'no-transform' })), true],
      [compress(page({ ETag: '"ae"', 'Last-Modified': DATE, Vary: 'Accept-Encoding' })), true],
      // Not under `lint`: it warns of a 304 with a type (rightly).
      [compress(image), false],
    ];
    for (const [app304, linted] of kept) {
      const keeper = await start(linted ? lint(app304) : app304);
      const res = await request(keeper.url, { headers: { ...GZIP, 'if-modified-since': DATE } });
      expect([res.status, res.headers.etag?.startsWith('W/')], res.headers.etag).toEqual([304, false]);
    }
  });

  it('a 304 the app answered itself, on the raw interface, without a type', async () => {
    const calls = { n: 0 };
    const server = await start(lint(compress(raw([['ETag', '"v1"']], 'text/html', calls))));
    const res = await request(server.url, { headers: { 'if-none-match': '"v1"' } });
    expect([res.status, res.headers.etag, res.headers.vary, res.body.length]).toEqual([304, '"v1"', 'Accept-Encoding', 0]);
    expect(calls.n).toBe(1);
    // No GET or HEAD: left alone.
    const posted = await request(server.url, { method: 'POST', headers: { 'if-none-match': '"v1"' } });
    expect([posted.status, posted.headers.vary]).toEqual([304, undefined]);
  });

  it('the app is called once per 304, whatever the 304 says', async () => {
    const calls = { n: 0 };
    const server = await start(lint(compress(page({ ETag: '"abc"', 'Last-Modified': DATE }, 'text/plain', calls))));
    const conditions: Array<Record<string, string>> = [
      { 'if-none-match': '"abc"' },
      { ...GZIP, 'if-none-match': 'W/"abc"' },
      { ...GZIP, 'if-none-match': 'W/"abc", "abc"' },
      { 'if-modified-since': DATE },
    ];
    for (const [i, headers] of conditions.entries()) {
      for (const method of ['GET', 'HEAD']) {
        const res = await request(server.url, { method, headers });
        expect([res.status, res.headers.vary], `${method} ${JSON.stringify(headers)}`).toEqual([304, 'Accept-Encoding']);
        expect(calls.n).toBe(2 * i + (method === 'GET' ? 1 : 2));
      }
    }
    const image = { n: 0 };
    const pic = await start(lint(compress(page({ ETag: '"img"' }, 'image/png', image))));
    expect((await request(pic.url, { headers: { 'if-none-match': '"img"' } })).status).toBe(304);
    expect(image.n).toBe(1);
  });

  it('no Vary when the 304 tells its 200 had none: no-transform, a Vary of its own, a type left alone', async () => {
    expect(await varyOf(compress(page({ ETag: '"nt"', 'Cache-Control': 'no-transform' })), '/', { 'if-none-match': '"nt"' })).toEqual([304, undefined]);
    // The app's own Vary is kept as it is: Accept-Encoding added once, `*` left alone.
    expect(await varyOf(compress(page({ ETag: '"c"', Vary: 'Cookie' })), '/', { 'if-none-match': '"c"' })).toEqual([304, 'Cookie, Accept-Encoding']);
    expect(await varyOf(compress(page({ ETag: '"ae"', Vary: 'accept-encoding' })), '/', { 'if-none-match': '"ae"' })).toEqual([304, 'accept-encoding']);
    expect(await varyOf(compress(page({ ETag: '"s"', Vary: '*' })), '/', { 'if-none-match': '"s"' })).toEqual([304, '*']);
    // A 304 carrying a type `compress` leaves alone (an upstream's image), or that `filter` refuses.
    expect(await varyOf(compress(raw([['ETag', '"p"'], ['Content-Type', 'image/png']], 'image/png')), '/', { 'if-none-match': '"p"' }, 'GET', false)).toEqual([304, undefined]);
    expect(await varyOf(compress(raw([['ETag', '"h"'], ['Content-Type', 'text/html']], 'text/html')), '/', { 'if-none-match': '"h"' }, 'GET', false)).toEqual([304, 'Accept-Encoding']);
    const noHtml = compress(raw([['ETag', '"h"'], ['Content-Type', 'text/html']], 'text/html'), { filter: (type) => !type.startsWith('text/html') });
    expect(await varyOf(noHtml, '/', { 'if-none-match': '"h"' }, 'GET', false)).toEqual([304, undefined]);
  });

  it('the trade-off: a 304 without a type gets the Vary even where its 200 had none', async () => {
    // tsgi's 304s drop Content-Type and Content-Encoding: an image's and a coded page's 304 cannot tell.
    const image = compress(page({ ETag: '"img"' }, 'image/png'));
    const server = await start(lint(image));
    expect((await request(server.url)).headers.vary).toBe(undefined);
    expect(await varyOf(image, '/', { 'if-none-match': '"img"' })).toEqual([304, 'Accept-Encoding']);
    const coded = compress(page({ ETag: '"gz"', 'Content-Encoding': 'gzip' }));
    expect(await varyOf(coded, '/', { 'if-none-match': '"gz"' })).toEqual([304, 'Accept-Encoding']);
  });

  describe('static files', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-compress-304-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(path.join(dir, 'log.txt'), TEXT);
    writeFileSync(path.join(dir, 'pic.png'), Buffer.alloc(4096, 1));
    writeFileSync(path.join(dir, 'app.js'), TEXT);
    writeFileSync(path.join(dir, 'app.js.gz'), zlib.gzipSync(TEXT));
    const time = new Date('2026-12-01T10:00:00Z');
    for (const name of ['log.txt', 'pic.png', 'app.js', 'app.js.gz']) utimesSync(path.join(dir, name), time, time);

    it('the identity tag, the compressed tag, a date only, under a mount', async () => {
      const server = await start(lint(compress(mount({ '/static': directoryApp(dir) }))));
      const plain = await request(`${server.url}/static/log.txt`);
      const zipped = await request(`${server.url}/static/log.txt`, { headers: GZIP });
      expect([plain.headers.vary, zipped.headers.vary, zipped.headers['content-encoding']]).toEqual(['Accept-Encoding', 'Accept-Encoding', 'gzip']);
      const cases: Array<Record<string, string>> = [
        { 'if-none-match': plain.headers.etag! },
        { ...GZIP, 'if-none-match': zipped.headers.etag! },
        { 'if-modified-since': plain.headers['last-modified']! },
        { ...GZIP, 'if-modified-since': plain.headers['last-modified']! },
      ];
      for (const headers of cases) {
        const res = await request(`${server.url}/static/log.txt`, { headers });
        expect([res.status, res.headers.vary], JSON.stringify(headers)).toEqual([304, 'Accept-Encoding']);
      }
      // An image's 304 has no type either (the trade-off): its 200 has no Vary, its 304 one.
      const pic = await request(`${server.url}/static/pic.png`);
      const picAgain = await request(`${server.url}/static/pic.png`, { headers: { 'if-none-match': pic.headers.etag! } });
      expect([pic.headers.vary, picAgain.status, picAgain.headers.vary]).toEqual([undefined, 304, 'Accept-Encoding']);
    });

    it("a precompressed copy's own tag: the app's Vary, not doubled", async () => {
      const server = await start(lint(compress(directoryApp(dir, { precompressed: true }))));
      const copy = await request(`${server.url}/app.js`, { headers: GZIP });
      expect([copy.headers['content-encoding'], copy.headers.vary]).toEqual(['gzip', 'Accept-Encoding']);
      const again = await request(`${server.url}/app.js`, { headers: { ...GZIP, 'if-none-match': copy.headers.etag! } });
      expect([again.status, again.headers.etag, again.headers.vary]).toEqual([304, copy.headers.etag, 'Accept-Encoding']);
      const plain = await request(`${server.url}/app.js`);
      const plainAgain = await request(`${server.url}/app.js`, { headers: { 'if-none-match': plain.headers.etag! } });
      expect([plainAgain.status, plainAgain.headers.vary]).toEqual([304, 'Accept-Encoding']);
    });
  });

  it("a proxied upstream's 304: asked once; no Vary when it carries an image's type", async () => {
    const seen: Array<[string | undefined, string | undefined]> = [];
    const upstream = http.createServer((req, res) => {
      seen.push([req.url, req.headers['if-none-match']]);
      const image = req.url === '/pic.png';
      if (req.headers['if-none-match'] === '"up"') {
        // An upstream may keep the type on its 304 (nginx's static files do not; others do).
        res.writeHead(304, image ? { ETag: '"up"', 'Content-Type': 'image/png' } : { ETag: '"up"' }).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': image ? 'image/png' : 'text/html', ETag: '"up"' });
      res.end('<p>page</p>'.repeat(1000));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const app = proxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
    try {
      // Not under `lint`: it warns of the image's 304 with a type (the upstream's doing).
      const server = await start(compress(app));
      const res = await request(server.url, { headers: { 'if-none-match': '"up"' } });
      expect([res.status, res.headers.etag, res.headers.vary]).toEqual([304, '"up"', 'Accept-Encoding']);
      const pic = await request(`${server.url}/pic.png`, { headers: { 'if-none-match': '"up"' } });
      expect([pic.status, pic.headers.etag, pic.headers.vary]).toEqual([304, '"up"', undefined]);
      expect(seen).toEqual([
        ['/', '"up"'],
        ['/pic.png', '"up"'],
      ]);
      await sleep(50);
      expect(server.log.text).toBe('');
    } finally {
      await app.close();
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });
});
