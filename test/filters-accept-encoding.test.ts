/**
 * decodeContent narrows the Accept-Encoding the upstream sees to the codings it can decode,
 * over real sockets: an upstream that answers a coding the filters cannot read whenever it is
 * offered (a dictionary coding, `dcz`), or when the client offers none (RFC 9110 §12.5.3: then
 * any coding is acceptable), and compress above still negotiating with the client's header.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, type ServerHandle, compose, serve } from 'tsgi';
import { compress } from 'tsgi/middleware';
import { type ProxyApp, decodeContent, proxy, rewriteHtml } from 'tsgi/proxy';
import { request } from './node-helpers.ts';

const PAGE = '<!doctype html><html><head><title>Old</title></head><body><p>Hello</p></body></html>';

let upstream: http.Server;
let seen: Array<string | undefined>;
let legacy: ProxyApp;
let server: ServerHandle;

beforeAll(async () => {
  seen = [];
  upstream = http.createServer((req, res) => {
    const accept = req.headers['accept-encoding'];
    seen.push(accept);
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Vary', 'Accept-Encoding');
    // Prefers the coding only a browser with the shared dictionary reads; absent means any.
    if (accept === undefined || /\bdcz\b/.test(accept)) {
      res.setHeader('Content-Encoding', 'dcz');
      res.end(Buffer.from('\x5e\x2a\x4d\x18 not html', 'latin1'));
    } else if (/\bgzip\b(?!;q=0\b)/.test(accept)) {
      res.setHeader('Content-Encoding', 'gzip');
      res.end(gzipSync(PAGE));
    } else res.end(PAGE);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  legacy = proxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
  const stack = compose(
    compress,
    (app) => rewriteHtml(app, { elements: { body: (el) => el.prepend('<div class="banner">Old site</div>', { html: true }) } }),
    decodeContent,
  );
  server = await serve(stack(legacy), { port: 0 });
});
afterAll(async () => {
  await server.close();
  await legacy.close();
  await new Promise((resolve) => upstream.close(resolve));
});

async function get(acceptEncoding?: string): Promise<{ upstreamSaw: string | undefined; encoding: string | undefined; body: string }> {
  seen.length = 0;
  const reply = await request(`${server.url}/page`, { headers: acceptEncoding === undefined ? {} : { 'Accept-Encoding': acceptEncoding } });
  expect(seen).toHaveLength(1);
  const encoding = reply.headers['content-encoding'];
  return { upstreamSaw: seen[0], encoding, body: encoding === undefined ? reply.body.toString('utf8') : '' };
}

describe('decodeContent: the upstream is offered only codings it decodes', () => {
  it('leaves out the codings it cannot decode, keeping the weights of the others', async () => {
    const reply = await get('dcz, gzip;q=0.8, br;q=0.5');
    expect(reply.upstreamSaw).toBe('gzip;q=0.8, br;q=0.5');
    // compress negotiated with the client's own header: gzip, weighed highest of its codings.
    expect(reply.encoding).toBe('gzip');
  });

  it('asks for identity when the client offers nothing it decodes (an empty list would mean the same, RFC 9110 §12.5.3)', async () => {
    const reply = await get('dcz');
    expect(reply.upstreamSaw).toBe('identity');
    expect(reply.encoding).toBeUndefined();
    expect(reply.body).toContain('<div class="banner">Old site</div>');
  });

  it('turns an absent header (any coding) and * into the codings it decodes; compress still sees the client\'s', async () => {
    const absent = await get();
    expect(absent.upstreamSaw).toMatch(/^gzip, deflate, br(, zstd)?$/);
    // The client asked for no coding: compress above must not read the narrowed header.
    expect(absent.encoding).toBeUndefined();
    expect(absent.body).toContain('<div class="banner">Old site</div>');
    const star = await get('*;q=0.5, br');
    expect(star.upstreamSaw).toMatch(/^gzip;q=0.5, deflate;q=0.5(, zstd;q=0.5)?, identity;q=0.5, br$/);
  });

  it('keeps x-gzip when the client names it (gzip\'s alias, RFC 9110 §8.4.1.3), but does not offer it for *', async () => {
    expect((await get('x-gzip, dcz')).upstreamSaw).toBe('x-gzip');
    expect((await get('*')).upstreamSaw).not.toContain('x-gzip');
  });

  it('keeps what the client refuses, and identity', async () => {
    const reply = await get('dcz, gzip;q=0, identity;q=0.1');
    expect(reply.upstreamSaw).toBe('gzip;q=0, identity;q=0.1');
    expect(reply.body).toContain('<div class="banner">Old site</div>');
  });
});

describe('decodeContent: an app below that starts its answer lazily', () => {
  it('sees the narrowed Accept-Encoding until its head is out, and the layers above the client\'s', async () => {
    const encoder = new TextEncoder();
    // Reads the request only once its body is asked for, as a generator app calling an upstream does.
    const lazy: App = (environ, startResponse) =>
      (async function* () {
        const asked = String(environ.HTTP_ACCEPT_ENCODING);
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        yield encoder.encode(asked);
      })();
    let above: unknown;
    const app: App = async (environ, startResponse) => {
      const body = await decodeContent(lazy)(environ, startResponse);
      above = environ.HTTP_ACCEPT_ENCODING;
      return body;
    };
    const lazyServer = await serve(app, { port: 0 });
    try {
      const reply = await request(`${lazyServer.url}/`, { headers: { 'Accept-Encoding': 'dcz' } });
      expect(reply.body.toString('utf8')).toBe('identity');
      expect(above).toBe('dcz');
    } finally {
      await lazyServer.close();
    }
  });
});
