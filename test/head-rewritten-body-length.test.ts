/**
 * A layer that rewrites the body (`res.body = (await res.text()).toUpperCase()`, the docs'
 * own pattern) gets nothing to HEAD: the length of what it makes is not the GET body's, so
 * the answer carries no `Content-Length` (RFC 9110 §8.6: the GET body's length, or none),
 * where it said `0`. A layer that only reads the body keeps the app's declared length.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response, defineMiddleware } from 'tsgi';
import { TestClient } from 'tsgi/testing';
import { start } from './node-helpers.ts';

const enc = new TextEncoder();

function head(port: number): Promise<http.IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', method: 'HEAD', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers));
    });
    req.on('error', reject);
    req.end();
  });
}

const upper = defineMiddleware(async (req, app) => {
  const res = await req.getResponse(app);
  res.body = (await res.text()).toUpperCase();
  return res;
});
const banner = defineMiddleware({
  async after(req, res) {
    res.body = `<!-- banner -->${await res.text()}`;
  },
});
const readOnly = defineMiddleware(async (req, app) => {
  const res = await req.getResponse(app);
  res.headers.set('X-Chars', String((await res.text()).length));
  return res;
});

const site = Request.application(() => new Response('hello'));
/** Knows HEAD: declares the length and sends nothing. */
const headAware: App = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '5']]);
  return environ.REQUEST_METHOD === 'HEAD' ? [] : [enc.encode('hello')];
};
/** Knows HEAD, streams: to HEAD, an empty first chunk (its head sent early) and nothing after. */
const headAwareStream: App = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Length', '5']]);
  return (async function* () {
    yield new Uint8Array(0);
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (environ.REQUEST_METHOD !== 'HEAD') yield enc.encode('hello');
  })();
};
/** Sends its GET body to HEAD too (the server drops it): that body's length is the GET one. */
const naive: App = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return (async function* () {
    yield enc.encode('hello');
  })();
};

describe('a HEAD answer whose body a layer rewrote', () => {
  for (const [name, inner] of [['a Request.application', site], ['a raw app', headAware], ['a raw streaming app', headAwareStream]] as const) {
    it(`has no Content-Length over ${name}, served and in the TestClient`, async () => {
      for (const app of [upper(inner), banner(inner), upper(banner(inner))]) {
        const server = await start(app);
        expect((await head(server.port))['content-length']).toBeUndefined();
        const res = await new TestClient(app).head('/');
        expect(res.headers.get('content-length')).toBeNull();
      }
    });
  }

  it('keeps the GET length where the app sent its GET body to HEAD', async () => {
    const server = await start(upper(naive));
    expect((await head(server.port))['content-length']).toBe('5');
    expect((await new TestClient(upper(naive)).head('/')).headers.get('content-length')).toBe('5');
  });

  it('keeps the declared length under a layer that only reads the body', async () => {
    for (const inner of [site, headAware, headAwareStream]) {
      const server = await start(readOnly(inner));
      const fields = await head(server.port);
      expect(fields['content-length']).toBe('5');
      expect((await new TestClient(readOnly(inner)).head('/')).headers.get('content-length')).toBe('5');
    }
  });

  it('has none under a layer that replaces the body unread, unless the layer sets its length', async () => {
    const replace = defineMiddleware(async (req, app) => {
      const res = await req.getResponse(app);
      res.body = 'replaced!';
      return res;
    });
    const sized = defineMiddleware(async (req, app) => {
      const res = await req.getResponse(app);
      res.body = 'replaced!';
      res.contentLength = 9;
      return res;
    });
    for (const inner of [site, headAware]) {
      const server = await start(replace(inner));
      expect((await head(server.port))['content-length']).toBeUndefined();
      const kept = await start(sized(inner));
      expect((await head(kept.port))['content-length']).toBe('9');
      const got = await fetch(`http://127.0.0.1:${kept.port}/`);
      expect([got.headers.get('content-length'), await got.text()]).toEqual(['9', 'replaced!']);
    }
  });

  it('leaves GET as it was', async () => {
    const server = await start(upper(banner(site)));
    const res = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(res.headers.get('content-length')).toBe('20');
    expect(await res.text()).toBe('<!-- BANNER -->HELLO');
  });
});
