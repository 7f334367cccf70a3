/**
 * A `Response` streaming text chunks: a Node `Readable` of strings (`Readable.from`, a stream
 * after `setEncoding('utf8')`), an (async) generator or an array of strings. Each string chunk
 * is sent as UTF-8, as Werkzeug's `Response` encodes an iterable of `str` (`iter_encoded`),
 * wherever the body is read: served, `res.bytes()`/`text()`, `toFetch()`, and by a layer that
 * reads `res.body`. A raw gateway app yielding strings is still a logged 500 (PEP 3333: bytes).
 */
import { PassThrough, Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response, defineMiddleware } from 'tsgi';
import { compress } from 'tsgi/middleware';
import { start, until } from './node-helpers.ts';

const utf8 = new TextEncoder();

/** The answers of one server over a real socket: `path` picks the body. */
async function served(app: App, path = '/', init: RequestInit = {}) {
  const server = await start(app);
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`, init);
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()), log: server.log.text };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('a Response given a stream of strings, over a real socket', () => {
  const bodies: Record<string, () => Response> = {
    readable: () => new Response(Readable.from(['a', 'é', '€'])),
    encoded: () => {
      const stream = new PassThrough();
      stream.setEncoding('utf8');
      stream.end(Buffer.from('aé€'));
      return new Response(stream);
    },
    async: () =>
      new Response(
        (async function* () {
          yield 'a';
          yield utf8.encode('é');
          yield '€';
        })(),
      ),
    sync: () =>
      new Response(
        (function* () {
          yield 'a';
          yield 'é€';
        })(),
      ),
    array: () => new Response(['a', utf8.encode('é'), '€']),
    set: () => new Response(new Set(['aé', '€'])),
  };
  const app = Request.application((req) => bodies[req.path.slice(1)]!());

  for (const name of Object.keys(bodies)) {
    it(`sends each string chunk as UTF-8 (${name})`, async () => {
      const { status, bytes, log } = await served(app, `/${name}`);
      expect(log).toBe('');
      expect(status).toBe(200);
      expect(text(bytes)).toBe('aé€');
    });
  }

  it('sends UTF-8 whatever the response charset, as Werkzeug does', async () => {
    const res = await served(Request.application(() => new Response(Readable.from(['é']), { charset: 'iso-8859-1' })));
    expect(res.status).toBe(200);
    expect([...res.bytes]).toEqual([0xc3, 0xa9]);
  });

  it('reaches a layer that compresses it, and one that reads res.body, as bytes', async () => {
    const seen: string[] = [];
    const reader = defineMiddleware(async (req, inner) => {
      const res = await req.getResponse(inner);
      if (!res.isStreamed()) return res;
      const source = res.body;
      res.body = (async function* () {
        for await (const chunk of source) {
          seen.push(chunk instanceof Uint8Array ? 'bytes' : typeof chunk);
          yield chunk;
        }
      })();
      return res;
    });
    const { status, headers, bytes, log } = await served(compress(reader(app)), '/readable', { headers: { 'accept-encoding': 'gzip' } });
    expect(log).toBe('');
    expect(status).toBe(200);
    expect(headers.get('content-encoding')).toBe('gzip');
    expect(text(bytes)).toBe('aé€'); // fetch decodes the gzip
    expect(seen).toEqual(['bytes', 'bytes', 'bytes']);
  });

  it('closes a Node stream of strings it does not send (HEAD)', async () => {
    const streams: Readable[] = [];
    const head = Request.application(() => {
      const stream = Readable.from(['a', 'b']);
      streams.push(stream);
      return new Response(stream);
    });
    const { status } = await served(head, '/', { method: 'HEAD' });
    expect(status).toBe(200);
    await until(() => streams[0]!.destroyed);
  });
});

describe('a Response given a stream of strings, read in memory', () => {
  it('reads it as UTF-8 with bytes(), text() and toFetch()', async () => {
    expect(await new Response(Readable.from(['a', 'é'])).text()).toBe('aé');
    expect([...(await new Response((async function* () { yield 'é'; })()).bytes())]).toEqual([0xc3, 0xa9]);
    expect(await new Response(['a', 'é']).text()).toBe('aé');
    expect(await new Response(Readable.from(['a', 'é'])).toFetch().text()).toBe('aé');
  });

  it('keeps a Node stream of bytes as it is, and a stream of bytes once read', async () => {
    const file = createReadStream(fileURLToPath(import.meta.url));
    const res = new Response(file);
    expect(res.body).toBe(file);
    file.destroy();
    const streamed = new Response(Readable.from(['x']));
    // the wrapper is the body: setting it back does not wrap it again
    const body = streamed.body;
    streamed.body = body;
    expect(streamed.body).toBe(body);
  });
});

describe('a raw gateway app yielding strings', () => {
  it('is still a logged 500 telling to encode them, also under a layer that getResponse()s it', async () => {
    const raw: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield 'hello' as unknown as Uint8Array;
      })();
    };
    const pass = defineMiddleware((req, app) => req.getResponse(app));
    for (const app of [raw, pass(raw)]) {
      const { status, log } = await served(app);
      expect(status).toBe(500);
      expect(log).toMatch(/body chunk is not a Uint8Array \(string\): encode text with new TextEncoder\(\)\.encode\(text\), or answer a Response/);
    }
  });
});
