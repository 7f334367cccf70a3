/**
 * The response filters of tsgi/proxy (`replaceText`, `rewriteHtml`, `decodeContent`) and an
 * app's `Content-Length` its body does not keep to: without a filter the server refuses it (a
 * logged 500 before the head, a cut connection after it); a filter drops the field, so it must
 * not turn a short (or long) body into a complete-looking 200. Over a socket.
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type App, type AppLike } from 'tsgi';
import { decodeContent, replaceText, rewriteHtml } from 'tsgi/proxy';
import { deferred, parseRaw, rawExchange, rawGet, request, start, until } from './node-helpers.ts';

const enc = new TextEncoder();
const TEXT = '<p>The quick brown fox jumps over the lazy dog.</p>\n'.repeat(200); // 10400 bytes
const FILTERS: Record<string, (app: AppLike) => App> = {
  replaceText: (app) => replaceText(app, { replacements: [['fox', 'cat']] }),
  rewriteHtml: (app) => rewriteHtml(app, { elements: { p: (element) => element.setAttribute('class', 'x') } }),
};

/** An app answering `chunks` as `text/html` with `Content-Length: declared`, streamed or in memory. */
function declaring(declared: number, chunks: Uint8Array[], streamed: boolean, extra: Array<[string, string]> = []): App {
  return (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/html; charset=utf-8'], ['Content-Length', String(declared)], ...extra]);
    if (!streamed) return chunks;
    return (async function* () {
      yield* chunks;
    })();
  };
}

describe('response filters: a body that does not keep to its Content-Length', () => {
  it('cuts the connection when a streamed body ends short of it after the head went out, as the server does', async () => {
    for (const [name, filter] of Object.entries(FILTERS)) {
      const received = deferred();
      const app: App = (_environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/html; charset=utf-8'], ['Content-Length', String(TEXT.length)]]);
        return (async function* () {
          yield enc.encode(TEXT.slice(0, 4400));
          await received.promise;
        })();
      };
      const server = await start(filter(app));
      const res = parseRaw((await rawExchange(server.port, rawGet('/'), () => received.resolve())).raw);
      expect(res.status, name).toBe(200);
      // The chunked body never gets its terminating zero-size chunk: the client sees a failure.
      expect(res.rest.endsWith('0\r\n\r\n'), name).toBe(false);
      await until(() => server.log.text.includes(`Content-Length: ${TEXT.length}`));
    }
  });

  it('answers 500 for a body shorter or longer than declared that ends before the head, streamed or in memory', async () => {
    const whole = enc.encode(TEXT);
    for (const [name, filter] of Object.entries(FILTERS)) {
      for (const streamed of [true, false]) {
        for (const [declared, chunks] of [[whole.length, [whole.subarray(0, 4400)]], [4400, [whole]]] as const) {
          const label = `${name}, ${streamed ? 'streamed' : 'in memory'}, ${declared} declared`;
          const server = await start(filter(declaring(declared, [...chunks], streamed)));
          const res = await request(server.url);
          expect(res.status, label).toBe(500);
          expect(server.log.text, label).toMatch(/the app declared Content-Length: \d+ but its body/);
        }
      }
    }
  });

  it('decodeContent: a coded body short of its Content-Length is no complete-looking decoded 200', async () => {
    const coded = zlib.gzipSync(TEXT);
    for (const streamed of [true, false]) {
      // The coded bytes arrive whole (a valid gzip stream), but the app promised more of them.
      const server = await start(decodeContent(declaring(coded.length + 100, [coded], streamed, [['Content-Encoding', 'gzip']])));
      const res = await request(server.url);
      expect(res.status, streamed ? 'streamed' : 'in memory').toBe(500);
      expect(server.log.text).toContain(`Content-Length: ${coded.length + 100}`);
    }
  });

  it('still filters a body that keeps to its Content-Length, and a HEAD answer of it', async () => {
    for (const [name, filter] of Object.entries(FILTERS)) {
      const app: App = (environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/html; charset=utf-8'], ['Content-Length', String(TEXT.length)]]);
        if (environ.REQUEST_METHOD === 'HEAD') return [];
        return (async function* () {
          yield enc.encode(TEXT.slice(0, 4400));
          yield enc.encode(TEXT.slice(4400));
        })();
      };
      const server = await start(filter(app));
      const get = await request(server.url);
      expect(get.status, name).toBe(200);
      expect(get.body.toString(), name).not.toBe(TEXT);
      expect(get.body.length, name).toBeGreaterThan(0);
      const head = await request(server.url, { method: 'HEAD' });
      expect([head.status, head.headers['content-length']], name).toEqual([200, undefined]);
      expect(server.log.text, name).toBe('');
    }
    const coded = zlib.gzipSync(TEXT);
    const server = await start(decodeContent(declaring(coded.length, [coded.subarray(0, 100), coded.subarray(100)], true, [['Content-Encoding', 'gzip']])));
    const res = await request(server.url);
    expect([res.status, res.body.toString()]).toEqual([200, TEXT]);
    expect(server.log.text).toBe('');
  });

  it('answers HEAD to a raw app that returns its GET body anyway with no Content-Length of the untransformed bytes (RFC 9110 §8.6)', async () => {
    // The smallest raw app answers HEAD as GET (spec §7.2: the server drops the bytes, but frames
    // the head with their length); the filtered GET sends other bytes, so that length is wrong.
    const coded = zlib.gzipSync(TEXT);
    /** A raw app answering every method with `body` and `fields`, no `Content-Length`. */
    const raw = (body: Uint8Array, fields: Array<[string, string]> = []): App => (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/html; charset=utf-8'], ...fields]);
      return [body];
    };
    const apps: Record<string, App> = {
      replaceText: replaceText(raw(enc.encode(TEXT)), { replacements: [['fox', 'wolf']] }),
      rewriteHtml: FILTERS.rewriteHtml!(raw(enc.encode(TEXT))),
      decodeContent: decodeContent(raw(coded, [['Content-Encoding', 'gzip']])),
    };
    for (const [name, app] of Object.entries(apps)) {
      const server = await start(app);
      const get = await request(server.url);
      const head = await request(server.url, { method: 'HEAD' });
      expect([get.status, head.status], name).toEqual([200, 200]);
      // The length of the GET content, or none (RFC 9110 §8.6: never another).
      expect([undefined, String(get.body.length)], name).toContain(head.headers['content-length']);
      expect(head.body.length, name).toBe(0);
      expect(server.log.text, name).toBe('');
    }
  });
});
