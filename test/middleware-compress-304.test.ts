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
// Every path by which a conditional request under `compress` ends in 304.

const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(200); // 9000 bytes
const DATE = 'Tue, 01 Dec 2026 10:00:00 GMT';
const LATER = 'Wed, 02 Dec 2026 10:00:00 GMT';
const GZIP = { 'accept-encoding': 'gzip' };

/** A page answered by a `Response` that makes itself conditional. */
function page(headers: Record<string, string>, contentType = 'text/plain'): App {
  return Request.application(() => new Response(TEXT, { headers, contentType, conditionalResponse: true }));
}

async function varyOf(app: App, url: string, headers: Record<string, string>, method = 'GET'): Promise<[number, string | undefined]> {
  const server = await start(lint(app));
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

  it('a 304 the app answered itself, on the raw interface', async () => {
    let closed = 0;
    const raw: App = (environ, startResponse) => {
      if (environ.HTTP_IF_NONE_MATCH === '"v1"') {
        startResponse('304 Not Modified', [['ETag', '"v1"']]);
        return [];
      }
      startResponse('200 OK', [['Content-Type', 'text/html'], ['ETag', '"v1"']]);
      return (async function* () {
        try {
          yield new TextEncoder().encode(TEXT);
        } finally {
          closed++;
        }
      })();
    };
    const server = await start(lint(compress(raw)));
    const res = await request(server.url, { headers: { 'if-none-match': '"v1"' } });
    expect([res.status, res.headers.etag, res.headers.vary]).toEqual([304, '"v1"', 'Accept-Encoding']);
    // The answer asked for to see the 200's fields is closed, never sent.
    expect([res.body.length, closed]).toEqual([0, 1]);
  });

  it('no Vary where the 200 had none: a type left alone, no-transform, a coding of its own', async () => {
    expect(await varyOf(compress(page({ ETag: '"img"' }, 'image/png')), '/', { 'if-none-match': '"img"' })).toEqual([304, undefined]);
    expect(await varyOf(compress(page({ ETag: '"nt"', 'Cache-Control': 'no-transform' })), '/', { 'if-none-match': '"nt"' })).toEqual([304, undefined]);
    const coded = compress(page({ ETag: '"gz"', 'Content-Encoding': 'gzip' }));
    expect(await varyOf(coded, '/', { 'if-none-match': '"gz"' })).toEqual([304, undefined]);
    // The app's own Vary is kept as it is, Accept-Encoding added once.
    expect(await varyOf(compress(page({ ETag: '"c"', Vary: 'Cookie' })), '/', { 'if-none-match': '"c"' })).toEqual([304, 'Cookie, Accept-Encoding']);
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
      const pic = await request(`${server.url}/static/pic.png`);
      const picAgain = await request(`${server.url}/static/pic.png`, { headers: { 'if-none-match': pic.headers.etag! } });
      expect([pic.headers.vary, picAgain.status, picAgain.headers.vary]).toEqual([undefined, 304, undefined]);
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

  it("a proxied upstream's 304: the upstream is asked for the 200's fields, and its body left unread, unlogged", async () => {
    const seen: Array<string | undefined> = [];
    const upstream = http.createServer((req, res) => {
      seen.push(req.headers['if-none-match']);
      if (req.headers['if-none-match'] === '"up"') {
        res.writeHead(304, { ETag: '"up"' }).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html', ETag: '"up"' });
      res.end('<p>page</p>'.repeat(100_000)); // 1.1 MB: not all read before the answer is closed
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const app = proxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
    try {
      const server = await start(lint(compress(app)));
      const res = await request(server.url, { headers: { 'if-none-match': '"up"' } });
      expect([res.status, res.headers.etag, res.headers.vary]).toEqual([304, '"up"', 'Accept-Encoding']);
      expect(seen).toEqual(['"up"', undefined]);
      await sleep(50);
      expect(server.log.text).toBe('');
    } finally {
      await app.close();
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });
});
