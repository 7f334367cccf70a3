/**
 * `compress` and an app's `Content-Length` its body does not keep to: without `compress` the
 * server refuses it (a logged 500 before the head, a cut connection after it); compressing
 * drops the field, so `compress` must not turn a short (or long) body into a complete-looking
 * coded 200. Over a socket.
 */
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { compress } from 'tsgi/middleware';
import { deferred, parseRaw, rawExchange, rawGet, request, start, until } from './node-helpers.ts';

const enc = new TextEncoder();
const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(200); // 9000 bytes

describe('compress: a body that does not keep to its Content-Length', () => {
  it('cuts the connection when a streamed body ends short of it after the head went out, as the server does', async () => {
    const received = deferred();
    // A relayed file cut short: res.contentLength promises the whole, half of it comes.
    const app = Request.application(() => {
      const res = new Response(
        (async function* () {
          yield enc.encode(TEXT.slice(0, 4500));
          await received.promise;
        })(),
        { contentType: 'text/plain' },
      );
      res.contentLength = TEXT.length;
      return res;
    });
    const server = await start(compress(app));
    const res = parseRaw((await rawExchange(server.port, rawGet('/', 'Accept-Encoding: gzip\r\n'), () => received.resolve())).raw);
    expect([res.status, res.header('content-encoding')]).toEqual([200, 'gzip']);
    // The chunked body never gets its terminating zero-size chunk: the client sees a failure.
    expect(res.rest.endsWith('0\r\n\r\n')).toBe(false);
    await until(() => server.log.text.includes('Content-Length: 9000'));
  });

  it('answers 500 for a body shorter or longer than declared that ends before the head, streamed or in memory', async () => {
    const apps: Record<string, App> = {
      'short stream': (_environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', String(TEXT.length)]]);
        return (async function* () {
          yield enc.encode(TEXT.slice(0, 4500));
        })();
      },
      'long stream': (_environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '4500']]);
        return (async function* () {
          yield enc.encode(TEXT);
        })();
      },
      'short in memory': (_environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', String(TEXT.length)]]);
        return [enc.encode(TEXT.slice(0, 4500))];
      },
      'long in memory': (_environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '4500']]);
        return [enc.encode(TEXT)];
      },
    };
    for (const [name, app] of Object.entries(apps)) {
      const server = await start(compress(app));
      const res = await request(server.url, { headers: { 'accept-encoding': 'gzip' } });
      expect([res.status, res.headers['content-encoding']], name).toEqual([500, undefined]);
      expect(server.log.text, name).toMatch(/the app declared Content-Length: \d+ but its body/);
    }
  });

  it('still compresses a body that keeps to its Content-Length, and a HEAD answer of it', async () => {
    const app: App = (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', String(TEXT.length)]]);
      if (environ.REQUEST_METHOD === 'HEAD') return [];
      return (async function* () {
        yield enc.encode(TEXT.slice(0, 4500));
        yield enc.encode(TEXT.slice(4500));
      })();
    };
    const server = await start(compress(app));
    const get = await request(server.url, { headers: { 'accept-encoding': 'gzip' } });
    expect([get.status, get.headers['content-encoding']]).toEqual([200, 'gzip']);
    const head = await request(server.url, { method: 'HEAD', headers: { 'accept-encoding': 'gzip' } });
    expect([head.status, head.headers['content-encoding'], head.headers['content-length']]).toEqual([200, 'gzip', undefined]);
    expect(server.log.text).toBe('');
  });
});
