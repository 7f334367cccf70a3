/**
 * What Chromium sends and does with what a tsgi `serve()` app answers on http://127.0.0.1: its
 * `Accept-Encoding` (zstd included) and what it makes of gzip and zstd bodies with trailing
 * bytes or several members/frames, the `Set-Cookie` lines it keeps (`Secure`, `SameSite=None`,
 * `Partitioned`: the same ones the `TestClient` jar keeps), the URLs `rewriteHtml` maps (every
 * load goes to the public server), and an `EventSource` reconnecting after the stream ends at a
 * server's shutdown. Run with
 * `npx vitest run --config vitest.browser.config.ts test/browser/browser-network.test.ts`.
 */
import zlib from 'node:zlib';
import { servedInChromium } from './chromium.ts';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response, serve, type ServerHandle } from 'tsgi';
import { rewriteHtml } from 'tsgi/proxy';
import { TestClient } from 'tsgi/testing';

const PAGE = Buffer.from('<!doctype html><title>t</title><p id=p>hello</p>');
const JUNK = Buffer.from('JUNK after the coded data');
const OLD = 'http://old.example.com';
const COOKIES = ['sec=1; Secure', 'none_plain=1; SameSite=None', 'none_sec=1; SameSite=None; Secure', 'part=1; Secure; Partitioned; SameSite=None; Path=/', 'part_plain=1; Partitioned', '__Host-h=1; Secure; Path=/', '__Secure-s=1; Secure', 'plain=1'];

/** The `Accept-Encoding` of each request, by path. */
const acceptEncoding = new Map<string, string | null>();

const coded = (body: Buffer, coding: string) => new Response(body, { contentType: 'text/plain', headers: { 'Content-Encoding': coding } });
const pages: Record<string, () => Response> = {
  '/gzip-junk': () => coded(Buffer.concat([zlib.gzipSync(PAGE), JUNK]), 'gzip'),
  '/gzip-two': () => coded(Buffer.concat([zlib.gzipSync(PAGE.subarray(0, 30)), zlib.gzipSync(PAGE.subarray(30))]), 'gzip'),
  '/zstd-two': () => coded(Buffer.concat([zlib.zstdCompressSync(PAGE.subarray(0, 30)), zlib.zstdCompressSync(PAGE.subarray(30))]), 'zstd'),
  '/zstd-junk': () => coded(Buffer.concat([zlib.zstdCompressSync(PAGE), JUNK]), 'zstd'),
  '/cookies': () => {
    const res = new Response('<!doctype html><title>c</title>', { contentType: 'text/html' });
    for (const line of COOKIES) res.headers.append('Set-Cookie', line);
    return res;
  },
  '/rw': () =>
    new Response(
      `<!doctype html><title>rw</title><body><image src="${OLD}/image-src.png"><img src="${OLD}/img-src.png" srcset="${OLD}/img-srcset.png 2x"><table background="${OLD}/table-bg.png"><tr><td background="${OLD}/td-bg.png">x</td></tr></table>` +
        `<video poster="${OLD}/poster.png"></video><svg><image href="${OLD}/svg-image.png"/><use href="${OLD}/sprite.svg#i"/></svg><input type=image src="${OLD}/input-src.png">` +
        `<object data="${OLD}/object.png" type="image/png"></object><embed src="${OLD}/embed.png" type="image/png"><link rel=stylesheet href="${OLD}/style.css"><iframe src="/frame.html"></iframe><script src="${OLD}/app.js"></script>`,
      { contentType: 'text/html' },
    ),
};
const app = rewriteHtml(
  Request.application((req) => {
    acceptEncoding.set(req.path, req.headers.get('accept-encoding'));
    return pages[req.path]?.() ?? new Response('<!doctype html><title>x</title>', { contentType: 'text/html' });
  }),
  { upstream: OLD },
);

const chromium = servedInChromium(app);

/** What a `fetch()` of `path` from a page of the server reads: the text, or `error` for a network error. */
async function fetchText(path: string): Promise<string> {
  const tab = await chromium.browser.newPage();
  try {
    await tab.goto(`${chromium.server.url}/`);
    return await tab.evaluate(`fetch(${JSON.stringify(path)}).then((r) => r.text()).catch((e) => 'error: ' + e.message)`);
  } finally {
    await tab.close();
  }
}

describe('content codings in Chromium', () => {
  it('offers zstd in Accept-Encoding', async () => {
    await fetchText('/ae');
    expect(acceptEncoding.get('/ae')).toBe('gzip, deflate, br, zstd');
  });

  it('ignores bytes after a gzip member, and reads the first member of several only', async () => {
    expect(await fetchText('/gzip-junk')).toBe(PAGE.toString());
    expect(await fetchText('/gzip-two')).toBe(PAGE.subarray(0, 30).toString());
  });

  it('reads every frame of a zstd body, and fails one with bytes after its last frame', async () => {
    expect(await fetchText('/zstd-two')).toBe(PAGE.toString());
    expect(await fetchText('/zstd-junk')).toMatch(/^error: /);
  });
});

describe('cookies at http://127.0.0.1', () => {
  it('keeps the Secure ones and refuses SameSite=None or Partitioned without Secure, as the TestClient jar does', async () => {
    const context = await chromium.browser.newContext();
    try {
      const tab = await context.newPage();
      await tab.goto(`${chromium.server.url}/cookies`);
      const kept = (await context.cookies()).map((cookie) => cookie.name).sort();
      expect(kept).toEqual(['__Host-h', '__Secure-s', 'none_sec', 'part', 'plain', 'sec']);
      const client = new TestClient(app, { baseUrl: chromium.server.url, lint: false });
      await client.get('/cookies');
      expect(client.cookies.all().map((cookie) => cookie.name).sort()).toEqual(kept);
    } finally {
      await context.close();
    }
  });
});

describe('rewriteHtml in Chromium', () => {
  it('maps every URL the page loads from the upstream to the public server', async () => {
    const tab = await chromium.browser.newPage();
    const requested: string[] = [];
    tab.on('request', (request) => requested.push(request.url()));
    try {
      await tab.goto(`${chromium.server.url}/rw`, { waitUntil: 'networkidle' });
    } finally {
      await tab.close();
    }
    expect(requested.filter((url) => !url.startsWith(`${chromium.server.url}/`))).toEqual([]);
    const paths = new Set(requested.map((url) => new URL(url).pathname));
    for (const path of ['/image-src.png', '/img-src.png', '/table-bg.png', '/td-bg.png', '/poster.png', '/svg-image.png', '/sprite.svg', '/input-src.png', '/object.png', '/embed.png', '/style.css', '/app.js']) {
      expect(paths, path).toContain(path);
    }
  });
});

describe('EventSource and a server shutdown', () => {
  it('reconnects after the stream ends at the shutdown, waiting retry:, with Last-Event-ID', async () => {
    const seen: string[] = [];
    let streams = 0;
    const events: App = (environ, startResponse) => {
      if (environ.PATH_INFO !== '/events') {
        startResponse('200 OK', [['Content-Type', 'text/html']]);
        return [Buffer.from('<!doctype html><title>es</title>')];
      }
      seen.push(`${environ.HTTP_LAST_EVENT_ID ?? '-'}`);
      startResponse('200 OK', [['Content-Type', 'text/event-stream'], ['Cache-Control', 'no-store']]);
      const signal = environ['tsgi.signal'] as AbortSignal;
      return (async function* () {
        yield Buffer.from(`retry: 300\nid: ${++streams}\ndata: hello\n\n`);
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      })();
    };
    const first = await serve(events, { host: '127.0.0.1', port: 0, log: { write() {} } });
    const tab = await chromium.browser.newPage();
    let second: ServerHandle | undefined;
    try {
      await tab.goto(`${first.url}/`);
      await tab.evaluate(`window.got = []; window.es = new EventSource('/events'); es.onmessage = (e) => got.push(e.lastEventId + ' ' + e.data);`);
      await tab.waitForFunction('window.got.length === 1');
      await first.close({ timeout: 1000 });
      second = await serve(events, { host: '127.0.0.1', port: first.port, log: { write() {} } });
      await tab.waitForFunction('window.got.length === 2', undefined, { timeout: 10_000 });
      expect(await tab.evaluate('window.got')).toEqual(['1 hello', '2 hello']);
      expect(seen).toEqual(['-', '1']);
    } finally {
      await tab.close();
      await second?.close({ timeout: 0 });
    }
  });
});
