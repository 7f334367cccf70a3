/**
 * How the Node adapter sends what the app answers, over real sockets: when headers go out,
 * Content-Length vs chunked, lazy startResponse, HEAD/204/304, hop-by-hop fields, and an
 * app-declared Content-Length that does not match the body.
 */
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type App, type Body, Request, Response } from 'tsgi';
import {
  bytes,
  dechunk,
  deferred,
  parseRaw,
  rawExchange,
  rawGet,
  request,
  sleep,
  start,
  until,
} from './node-helpers.ts';

/** A raw app answering `body` (an array or a generator factory) with `headers`. */
function rawApp(body: () => Body, status = '200 OK', headers: Array<[string, string]> = []): App {
  return (_environ, startResponse) => {
    startResponse(status, headers);
    return body();
  };
}

describe('framing: Content-Length or chunked', () => {
  it('gives a single-chunk array body a Content-Length', async () => {
    const server = await start(rawApp(() => [bytes('hello')], '200 OK', [['Content-Type', 'text/plain']]));
    const res = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
    expect(res.statusLine).toBe('HTTP/1.1 200 OK');
    expect(res.header('content-length')).toBe('5');
    expect(res.header('transfer-encoding')).toBeUndefined();
    expect(res.header('content-type')).toBe('text/plain');
    expect(res.rest).toBe('hello');
  });

  it('gives a several-chunk array body the summed Content-Length', async () => {
    const server = await start(rawApp(() => [bytes('ab'), bytes(''), bytes('cde')]));
    const res = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
    expect(res.header('content-length')).toBe('5');
    expect(res.rest).toBe('abcde');
  });

  it('gives an empty body Content-Length: 0 (headers sent at the end)', async () => {
    const server = await start(rawApp(() => []));
    const res = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
    expect(res.header('content-length')).toBe('0');
    expect(res.rest).toBe('');
  });

  it('gives a generator yielding one chunk a Content-Length', async () => {
    const server = await start(
      rawApp(function* () {
        yield bytes('only');
      }),
    );
    const res = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
    expect(res.header('content-length')).toBe('4');
    expect(res.rest).toBe('only');
  });

  it('gives an async generator yielding one chunk a Content-Length', async () => {
    const server = await start(
      rawApp(async function* () {
        await sleep(1);
        yield bytes('only');
      }),
    );
    const res = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
    expect(res.header('content-length')).toBe('4');
    expect(res.rest).toBe('only');
  });

  it('sends a generator of several chunks chunked', async () => {
    const server = await start(
      rawApp(function* () {
        yield bytes('one,');
        yield bytes('two,');
        yield bytes('three');
      }),
    );
    const res = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
    expect(res.header('transfer-encoding')).toBe('chunked');
    expect(res.header('content-length')).toBeUndefined();
    expect(dechunk(res.rest)).toBe('one,two,three');
  });

  it('sends a slow async generator chunked', async () => {
    const server = await start(
      rawApp(async function* () {
        for (let i = 0; i < 5; i++) {
          await sleep(2);
          yield bytes(`${i}`);
        }
      }),
    );
    const res = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
    expect(res.header('transfer-encoding')).toBe('chunked');
    expect(dechunk(res.rest)).toBe('01234');
  });

  it('keeps an app-declared Content-Length on a stream (no chunking)', async () => {
    const server = await start(
      rawApp(
        function* () {
          yield bytes('abc');
          yield bytes('def');
        },
        '200 OK',
        [['Content-Length', '6']],
      ),
    );
    const res = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
    expect(res.header('content-length')).toBe('6');
    expect(res.header('transfer-encoding')).toBeUndefined();
    expect(res.rest).toBe('abcdef');
  });

  it('keeps repeated headers (Set-Cookie) separate and in order', async () => {
    const app = Request.application(() => {
      const res = new Response('x');
      res.setCookie('a', '1');
      res.setCookie('b', '2');
      return res;
    });
    const server = await start(app);
    const res = await request(server.url);
    const cookies = res.headers['set-cookie'] ?? [];
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toMatch(/^a=1(;|$)/);
    expect(cookies[1]).toMatch(/^b=2(;|$)/);
  });

  it('serves a streamed Response body from Request.application', async () => {
    const app = Request.application(
      () =>
        new Response(
          (async function* () {
            yield bytes('s1 ');
            await sleep(1);
            yield bytes('s2');
          })(),
        ),
    );
    const server = await start(app);
    const res = await fetch(server.url);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(await res.text()).toBe('s1 s2');
  });
});

describe('body bytes on the wire', () => {
  /** `size` bytes cycling through all 256 values, so every byte (NUL, 0x80–0xFF) is covered. */
  const binary = (size: number, offset = 0): Uint8Array => {
    const whole = new Uint8Array(size + offset + 3);
    for (let i = 0; i < whole.length; i++) whole[i] = (i * 7 + 3) % 256;
    return whole.subarray(offset, offset + size); // a view into a larger buffer
  };

  // Small single chunks take a different write path from large ones (see adapters/end.ts).
  for (const size of [1, 255, 256, 4095, 4096, 4097, 70_000]) {
    it(`sends a ${size}-byte binary chunk byte for byte, as an array and as a stream`, async () => {
      const body = binary(size, 5);
      const server = await start((environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
        if (environ.PATH_INFO === '/array') return [body];
        return (function* () {
          yield body;
        })();
      });
      for (const path of ['/array', '/stream']) {
        const res = await request(`${server.url}${path}`);
        expect(res.headers['content-length']).toBe(String(size));
        expect(Buffer.compare(res.body, Buffer.from(body))).toBe(0);
      }
      const head = await request(`${server.url}/array`, { method: 'HEAD' });
      expect(head.headers['content-length']).toBe(String(size));
      expect(head.body.byteLength).toBe(0);
    });
  }

  it('keeps a small body exact when the app declared its Content-Length', async () => {
    const body = binary(300);
    const server = await start((_environ, startResponse) => {
      startResponse('200 OK', [['Content-Length', '300']]);
      return [Buffer.from(body)];
    });
    const res = await request(server.url);
    expect(res.headers['content-length']).toBe('300');
    expect(Buffer.compare(res.body, Buffer.from(body))).toBe(0);
  });

  // The head goes out in one write with a small body: its field values must keep their bytes
  // U+0080–U+00FF (spec §5) whatever the body holds.
  for (const [label, body] of [
    ['an ASCII', 'ok'],
    ['a binary', '\xe9\x00'],
    ['an empty', ''],
    ['a 5,000-byte', 'x'.repeat(5000)],
  ] as const) {
    it(`sends field values U+0080–U+00FF as single bytes with ${label} body`, async () => {
      const server = await start((_environ, startResponse) => {
        startResponse('200 OK', [
          ['X-Latin', 'caf\xe9 \xff'],
          ['Content-Disposition', 'attachment; filename="na\xefve.txt"'],
        ]);
        return [Buffer.from(body, 'latin1')];
      });
      const res = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
      expect(res.header('x-latin')).toBe('caf\xe9 \xff');
      expect(res.header('content-disposition')).toBe('attachment; filename="na\xefve.txt"');
      expect(res.rest).toBe(body);
    });
  }
});

describe('when headers go out', () => {
  it('holds the headers until the first body chunk exists', async () => {
    const gate = deferred();
    const reached = deferred();
    const server = await start((_environ, startResponse) => {
      startResponse('200 OK', [['X-Early', 'no']]);
      return (async function* () {
        reached.resolve();
        await gate.promise;
        yield bytes('a');
        yield bytes('b');
      })();
    });
    const received: Buffer[] = [];
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('data', (c: Buffer) => received.push(c));
    const closed = new Promise((r) => socket.once('close', r));
    socket.write(rawGet('/'));
    await reached.promise;
    await sleep(50);
    expect(Buffer.concat(received).length).toBe(0);
    gate.resolve();
    await closed;
    const res = parseRaw(Buffer.concat(received).toString('latin1'));
    expect(res.header('x-early')).toBe('no');
    expect(dechunk(res.rest)).toBe('ab');
  });

  it('sends the headers with the first chunk while later ones are pending', async () => {
    const gate = deferred();
    const server = await start((_environ, startResponse) => {
      startResponse('200 OK', []);
      return (async function* () {
        yield bytes('first');
        await gate.promise;
        yield bytes('second');
      })();
    });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(server.url, { agent: false }, resolve).on('error', reject);
    });
    expect(res.statusCode).toBe(200);
    const first = await new Promise<Buffer>((r) => res.once('data', r));
    expect(first.toString()).toBe('first');
    gate.resolve();
    const rest: Buffer[] = [];
    res.on('data', (c: Buffer) => rest.push(c));
    await new Promise((r) => res.once('end', r));
    expect(Buffer.concat(rest).toString()).toBe('second');
  });
});

describe('lazy startResponse', () => {
  it('works inside a sync generator', async () => {
    const app: App = (_environ, startResponse) =>
      (function* () {
        startResponse('201 Created', [['X-Lazy', '1']]);
        yield bytes('made');
      })();
    const server = await start(app);
    const res = await request(server.url);
    expect(res.status).toBe(201);
    expect(res.headers['x-lazy']).toBe('1');
    expect(res.body.toString()).toBe('made');
  });

  it('works inside an async generator after an await, with several chunks', async () => {
    const app: App = (_environ, startResponse) =>
      (async function* () {
        await sleep(2);
        startResponse('202 Accepted', []);
        yield bytes('a');
        yield bytes('b');
      })();
    const server = await start(app);
    const res = await request(server.url);
    expect(res.status).toBe(202);
    expect(res.body.toString()).toBe('ab');
  });

  it('works for an empty generator body', async () => {
    const app: App = (_environ, startResponse) =>
      (function* () {
        startResponse('200 OK', [['X-Empty', 'yes']]);
      })();
    const server = await start(app);
    const res = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
    expect(res.status).toBe(200);
    expect(res.header('x-empty')).toBe('yes');
    expect(res.header('content-length')).toBe('0');
  });

  it('works when the app returns a promise of a body', async () => {
    const server = await start(async (_environ, startResponse) => {
      await sleep(1);
      startResponse('200 OK', []);
      return [bytes('later')];
    });
    expect((await request(server.url)).body.toString()).toBe('later');
  });

  // PEP 3333's error-page middleware: the inner body fails after its first chunk was taken.
  for (const timing of ['at once', 'after an await'] as const) {
    it(`re-raises a startResponse error once the first chunk was taken (inner body failing ${timing}): never part of the 200 in a clean answer`, async () => {
      const inner: App = (_environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'application/json']]);
        return (async function* () {
          yield bytes('{"items":[1,2,');
          if (timing === 'after an await') await sleep(5);
          throw new Error('inner failed');
        })();
      };
      const errorPage: App = (environ, startResponse) =>
        (async function* () {
          try {
            for await (const chunk of await inner(environ, startResponse)) yield chunk;
          } catch (error) {
            startResponse('500 Internal Server Error', [['Content-Type', 'text/plain']], error);
            yield bytes('error page');
          }
        })();
      const server = await start(errorPage);
      const { raw, clean } = await rawExchange(server.port, rawGet('/'));
      const res = parseRaw(raw);
      expect(res.rest).not.toContain('error page');
      if (res.status === 200) {
        // The head went out with the first chunk: the body is cut, never ended cleanly.
        expect(res.header('content-type')).toBe('application/json');
        expect(res.rest.endsWith('0\r\n\r\n') && clean).toBe(false);
      } else {
        // Nothing had gone out: the server's own 500, without the taken chunk.
        expect(res.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
        expect(res.rest).toBe('Internal Server Error\n');
      }
      await until(() => server.log.text.includes('inner failed'));
    });
  }
});

describe('one Response served to several requests', () => {
  it('serves a body in memory and a streamed array each time', async () => {
    const text = new Response('hello');
    const array = new Response([bytes('ab'), bytes('cd')]);
    const server = await start((environ, startResponse) => (environ.PATH_INFO === '/text' ? text : array).respond(environ, startResponse));
    for (let i = 0; i < 2; i++) {
      expect(parseRaw((await rawExchange(server.port, rawGet('/text'))).raw).rest).toBe('hello');
      expect(parseRaw((await rawExchange(server.port, rawGet('/array'))).raw).rest).toBe('abcd');
    }
  });

  it('sends a generator once: the next request gets a 500, not an empty 200', async () => {
    const res = new Response(
      (async function* () {
        yield bytes('ab');
        yield bytes('cd');
      })(),
    );
    const server = await start(res.toApp());
    const first = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
    expect(first.status).toBe(200);
    expect(dechunk(first.rest)).toBe('abcd');
    const second = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
    expect(second.status).toBe(500);
    expect(server.log.text).toMatch(/can be read once, and it was already sent or read/);
  });

  it('a HEAD uses the stream up too (it is closed unread): the GET after it gets a 500', async () => {
    const res = new Response(
      (function* () {
        yield bytes('never');
      })(),
    );
    const server = await start(res.toApp());
    expect(parseRaw((await rawExchange(server.port, rawGet('/', '', 'HEAD'))).raw).status).toBe(200);
    expect(parseRaw((await rawExchange(server.port, rawGet('/'))).raw).status).toBe(500);
  });

  it('does not split a stream between two requests served at once', async () => {
    const gate = deferred();
    const res = new Response(
      (async function* () {
        yield bytes('one-');
        await gate.promise;
        yield bytes('two');
      })(),
    );
    const server = await start(res.toApp());
    // The first request holds the stream: its first chunk has arrived, the rest waits on the gate.
    let received = '';
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write(rawGet('/'));
    await until(() => received.includes('one-'));
    const safety = setTimeout(() => gate.resolve(), 2000); // were the second request to wait on the stream
    const second = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
    clearTimeout(safety);
    expect(second.status).toBe(500);
    gate.resolve();
    await closed;
    const whole = parseRaw(received);
    expect(whole.status).toBe(200);
    expect(dechunk(whole.rest)).toBe('one-two');
  });

  it('a handler returning the same streamed Response twice answers 500 the second time', async () => {
    const shared = new Response((function* () {
      yield bytes('once');
    })());
    const server = await start(Request.application(() => shared));
    expect(parseRaw((await rawExchange(server.port, rawGet('/'))).raw).rest).toBe('once');
    expect(parseRaw((await rawExchange(server.port, rawGet('/'))).raw).status).toBe(500);
  });
});

describe('HEAD and bodiless statuses', () => {
  it('answers HEAD with the GET headers and no body (Request.application)', async () => {
    const server = await start(Request.application(() => new Response('hello')));
    const { raw } = await rawExchange(server.port, rawGet('/', '', 'HEAD'));
    const res = parseRaw(raw);
    expect(res.status).toBe(200);
    expect(res.header('content-length')).toBe('5');
    expect(res.header('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.rest).toBe('');
  });

  it('sends a Response with status 205 without content: Content-Length 0, no Content-Type, no body bytes', async () => {
    const bodies: Record<string, () => Response> = {
      '/text': () => new Response('reset the form', { status: 205 }),
      '/stream': () =>
        new Response(
          (async function* () {
            yield bytes('streamed');
          })(),
          { status: 205, headers: { 'X-Kept': '1' } },
        ),
    };
    const server = await start(Request.application((req) => bodies[req.pathInfo]!()));
    for (const path of Object.keys(bodies)) {
      const { raw } = await rawExchange(server.port, rawGet(path));
      const res = parseRaw(raw);
      expect(res.statusLine).toBe('HTTP/1.1 205 Reset Content');
      expect(res.header('content-length')).toBe('0');
      expect(res.header('content-type')).toBeUndefined();
      expect(res.rest).toBe('');
    }
    expect(parseRaw((await rawExchange(server.port, rawGet('/stream'))).raw).header('x-kept')).toBe('1');
    expect(server.log.text).toBe('');
  });

  it("relays a fetch() answer to HEAD with Response.fromFetch: the upstream's Content-Length, no body", async () => {
    const upstream = await start(Request.application(() => new Response('x'.repeat(1234))));
    const relay = await start(
      Request.application(async (req) => Response.fromFetch(await fetch(`${upstream.url}/`, { method: req.method }))),
    );
    const head = parseRaw((await rawExchange(relay.port, rawGet('/', '', 'HEAD'))).raw);
    expect(head.status).toBe(200);
    expect(head.header('content-length')).toBe('1234');
    expect(head.rest).toBe('');
    const get = parseRaw((await rawExchange(relay.port, rawGet('/'))).raw);
    expect(get.header('content-length')).toBe('1234');
    expect(get.rest).toBe('x'.repeat(1234));
  });

  it('relays a fetch() answer to HEAD of a streamed upstream with Response.fromFetch: no Content-Length, not 0', async () => {
    const upstream = await start(
      Request.application(
        () =>
          new Response(
            (async function* () {
              yield bytes('x'.repeat(1234));
            })(),
          ),
      ),
    );
    const relay = await start(
      Request.application(async (req) => Response.fromFetch(await fetch(`${upstream.url}/`, { method: req.method }))),
    );
    const head = parseRaw((await rawExchange(relay.port, rawGet('/', '', 'HEAD'))).raw);
    expect(head.status).toBe(200);
    // RFC 9110 §8.6: a HEAD answer's Content-Length is the GET body's length, or absent.
    expect(head.header('content-length')).toBeUndefined();
    expect(head.rest).toBe('');
    const get = parseRaw((await rawExchange(relay.port, rawGet('/'))).raw);
    expect(get.rest).toContain('x'.repeat(1234));
    // A fetch Response without a body answering a GET is still sent with its empty body's length.
    const empty = await start(Request.application(() => Response.fromFetch(new globalThis.Response(null, { status: 200 }))));
    const none = parseRaw((await rawExchange(empty.port, rawGet('/'))).raw);
    expect(none.header('content-length')).toBe('0');
    expect(none.rest).toBe('');
  });

  it('answers HEAD to a raw app returning a body: headers, Content-Length, no body', async () => {
    const server = await start(rawApp(() => [bytes('abc'), bytes('de')]));
    const res = parseRaw((await rawExchange(server.port, rawGet('/', '', 'HEAD'))).raw);
    expect(res.header('content-length')).toBe('5');
    expect(res.rest).toBe('');
  });

  it('answers HEAD to a streaming app with headers only and closes the stream', async () => {
    let closed = false;
    const server = await start(
      rawApp(function* () {
        try {
          for (;;) yield bytes('x'.repeat(100));
        } finally {
          closed = true;
        }
      }),
    );
    const res = parseRaw((await rawExchange(server.port, rawGet('/', '', 'HEAD'))).raw);
    expect(res.status).toBe(200);
    expect(res.rest).toBe('');
    await until(() => closed);
  });

  it('keeps the connection usable after HEAD (keep-alive)', async () => {
    const server = await start(rawApp(() => [bytes('body')]));
    const socket = net.connect(server.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    const closed = new Promise((r) => socket.once('close', r));
    socket.write('HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await closed;
    const raw = Buffer.concat(received).toString('latin1');
    expect(raw.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(raw.endsWith('\r\n\r\nbody')).toBe(true);
  });

  for (const status of ['204 No Content', '304 Not Modified']) {
    it(`sends ${status} without a body or Content-Length`, async () => {
      const server = await start(rawApp(() => [], status, [['ETag', '"x"']]));
      const res = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
      expect(res.statusLine).toBe(`HTTP/1.1 ${status}`);
      expect(res.header('etag')).toBe('"x"');
      expect(res.header('content-length')).toBeUndefined();
      expect(res.header('transfer-encoding')).toBeUndefined();
      expect(res.rest).toBe('');
    });

    it(`drops a body the app gives a ${status}`, async () => {
      const server = await start(
        rawApp(
          function* () {
            yield bytes('nope');
            yield bytes('nope');
          },
          status,
        ),
      );
      const res = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
      expect(res.status).toBe(Number(status.slice(0, 3)));
      expect(res.header('transfer-encoding')).toBeUndefined();
      expect(res.rest).toBe('');
    });
  }

  it('sends a Response built as, or turned into, a 204 or 304 without Content-Type or Content-Length', async () => {
    const server = await start(
      Request.application((req) => {
        if (req.pathInfo === '/built') return new Response(null, { status: 204 });
        const res = new Response('');
        res.statusCode = 304;
        res.etag = 'v1';
        return res;
      }),
    );
    for (const [path, status] of [['/built', 204], ['/turned', 304]] as const) {
      const res = parseRaw((await rawExchange(server.port, rawGet(path))).raw);
      expect(res.status, path).toBe(status);
      expect(res.header('content-type'), path).toBeUndefined();
      expect(res.header('content-length'), path).toBeUndefined();
      expect(res.rest, path).toBe('');
    }
    expect(server.log.text).toBe('');
  });

  it('drops an app-declared Content-Length from a 204', async () => {
    const server = await start(rawApp(() => [], '204 No Content', [['Content-Length', '0']]));
    const res = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
    expect(res.status).toBe(204);
    expect(res.header('content-length')).toBeUndefined();
  });

  it('sends no content in a raw app\'s 205 (RFC 9110 §15.3.6): Content-Length 0, its body dropped and closed, the connection in sync', async () => {
    let closed = 0;
    const bodies: Record<string, () => Body> = {
      '/array': () => [bytes('reset the form')],
      '/one': function* () {
        yield bytes('one chunk');
      },
      '/stream': async function* () {
        try {
          yield bytes('streamed');
          await sleep(5);
          yield bytes(' more');
        } finally {
          closed++;
        }
      },
    };
    const server = await start((environ, startResponse) => {
      const path = environ.PATH_INFO;
      if (path === '/next') {
        startResponse('200 OK', []);
        return [bytes('next')];
      }
      startResponse('205 Reset Content', [['Content-Length', path === '/array' ? '14' : '3']]);
      return bodies[path]!();
    });
    for (const path of Object.keys(bodies)) {
      const socket = net.connect(server.port, '127.0.0.1');
      const received: Buffer[] = [];
      socket.on('data', (c: Buffer) => received.push(c));
      const ended = new Promise((r) => socket.once('close', r));
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      await ended;
      const raw = Buffer.concat(received).toString('latin1');
      const res = parseRaw(raw);
      expect(res.statusLine, path).toBe('HTTP/1.1 205 Reset Content');
      expect(res.header('content-length'), path).toBe('0');
      expect(res.rest.startsWith('HTTP/1.1 200 OK\r\n'), raw).toBe(true);
      expect(raw.endsWith('\r\n\r\nnext'), raw).toBe(true);
    }
    await until(() => closed === 1);
    expect(server.log.text).toBe('');
  });

  it('treats an informational status as an app error', async () => {
    const server = await start(rawApp(() => [], '100 Continue'));
    const res = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
    expect(res.status).toBe(500);
    expect(server.log.text).toContain('invalid final status');
  });

  it('keeps the keep-alive connection in sync after a 204 with a body attempt', async () => {
    const server = await start((environ, startResponse) => {
      if (environ.PATH_INFO === '/empty') {
        startResponse('204 No Content', []);
        return [bytes('ignored')];
      }
      startResponse('200 OK', []);
      return [bytes('second')];
    });
    const socket = net.connect(server.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    const closed = new Promise((r) => socket.once('close', r));
    socket.write('GET /empty HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await closed;
    const raw = Buffer.concat(received).toString('latin1');
    expect(raw.startsWith('HTTP/1.1 204 No Content\r\n')).toBe(true);
    expect(raw).not.toContain('ignored');
    expect(raw.endsWith('\r\n\r\nsecond')).toBe(true);
  });
});

describe('list-valued header attributes on the wire', () => {
  it('an empty contentLanguage or vary sends no field; an empty allow sends an empty Allow', async () => {
    const server = await start(
      Request.application(() => {
        const res = new Response('x', { status: 405, headers: { 'Content-Language': 'en', Vary: 'Accept' } });
        res.contentLanguage = [];
        res.vary = [];
        res.allow = [];
        return res;
      }),
    );
    const { raw } = await rawExchange(server.port, rawGet('/'));
    const res = parseRaw(raw);
    expect(res.status).toBe(405);
    expect(res.headers.map(([name]) => name.toLowerCase())).not.toContain('content-language');
    expect(res.headers.map(([name]) => name.toLowerCase())).not.toContain('vary');
    expect(raw).toMatch(/\r\nAllow: ?\r\n/);
  });
});

describe('hop-by-hop headers from the app', () => {
  it('drops them all but Proxy-Authenticate, which a 407 must carry (RFC 9110 §11.7.1)', async () => {
    const server = await start(
      rawApp(
        function* () {
          yield bytes('a');
          yield bytes('b');
        },
        '200 OK',
        [
          ['Transfer-Encoding', 'gzip'],
          ['Keep-Alive', 'timeout=99'],
          ['Upgrade', 'h2c'],
          ['TE', 'trailers'],
          ['Trailer', 'X-Sum'],
          ['Proxy-Connection', 'keep-alive'],
          ['Proxy-Authenticate', 'Basic'],
          ['Proxy-Authorization', 'Basic eA=='],
          ['X-Kept', 'yes'],
        ],
      ),
    );
    const { raw } = await rawExchange(server.port, rawGet('/'));
    const res = parseRaw(raw);
    const names = res.headers.map(([name]) => name.toLowerCase());
    for (const hop of ['keep-alive', 'upgrade', 'te', 'trailer', 'proxy-connection', 'proxy-authorization']) {
      expect(names).not.toContain(hop);
    }
    expect(res.header('proxy-authenticate')).toBe('Basic');
    expect(res.headers.filter(([name]) => name.toLowerCase() === 'transfer-encoding')).toEqual([
      ['Transfer-Encoding', 'chunked'],
    ]);
    expect(res.header('x-kept')).toBe('yes');
    expect(dechunk(res.rest)).toBe('ab');
  });

  it('honours Connection: close from the app (the server closes the connection)', async () => {
    const server = await start(rawApp(() => [bytes('bye')], '200 OK', [['Connection', 'close']]));
    const socket = net.connect(server.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    const closed = new Promise((r) => socket.once('close', r));
    // Two pipelined keep-alive requests: only the first is answered.
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await closed;
    const raw = Buffer.concat(received).toString('latin1');
    expect(raw.match(/HTTP\/1\.1/g)).toHaveLength(1);
    const res = parseRaw(raw);
    expect(res.header('connection')).toBe('close');
    expect(res.rest).toBe('bye');
  });

  it('drops Connection: keep-alive from the app (the server decides)', async () => {
    const server = await start(rawApp(() => [bytes('x')], '200 OK', [['Connection', 'keep-alive, X-Foo']]));
    const res = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
    expect(res.headers.filter(([name]) => name.toLowerCase() === 'connection')).toEqual([['Connection', 'close']]);
  });
});

describe('app-declared Content-Length that does not match the body', () => {
  it('answers 500 (never sends) when an array body is shorter than declared', async () => {
    const server = await start(rawApp(() => [bytes('short')], '200 OK', [['Content-Length', '10']]));
    const { raw } = await rawExchange(server.port, rawGet('/'));
    const res = parseRaw(raw);
    expect(res.status).toBe(500);
    expect(raw).not.toContain('short');
    expect(server.log.text).toMatch(/Content-Length/);
  });

  it('answers 500 (never sends) when an array body is longer than declared', async () => {
    const server = await start(rawApp(() => [bytes('toolong')], '200 OK', [['Content-Length', '3']]));
    const { raw } = await rawExchange(server.port, rawGet('/'));
    expect(parseRaw(raw).status).toBe(500);
    expect(raw).not.toContain('too');
  });

  for (const value of ['abc', '-1', '1.5', '5, 5', '', ' 5']) {
    it(`answers 500 for Content-Length ${JSON.stringify(value)}`, async () => {
      const server = await start(rawApp(() => [bytes('hello')], '200 OK', [['Content-Length', value]]));
      const { raw } = await rawExchange(server.port, rawGet('/'));
      expect(parseRaw(raw).status).toBe(500);
      expect(raw).not.toContain('hello');
    });
  }

  it('cuts the connection when a stream is shorter than declared', async () => {
    const server = await start(
      rawApp(
        function* () {
          yield bytes('abc');
          yield bytes('def');
        },
        '200 OK',
        [['Content-Length', '100']],
      ),
    );
    const { raw } = await rawExchange(server.port, rawGet('/'));
    // Either nothing left, or a head promising 100 bytes followed by fewer: never a full answer.
    if (raw !== '') {
      const res = parseRaw(raw);
      expect(res.header('content-length')).toBe('100');
      expect(res.rest.length).toBeLessThan(100);
    }
    await until(() => server.log.text.length > 0);
    expect(server.log.text).toMatch(/GET \/ HTTP\/1\.1: /);
    // And fetch sees an error, not a clean short body.
    await expect(fetch(server.url).then((r) => r.text())).rejects.toThrow();
  });

  it('cuts the connection when a stream is longer than declared', async () => {
    const server = await start(
      rawApp(
        function* () {
          yield bytes('abc');
          yield bytes('def');
          yield bytes('ghi');
        },
        '200 OK',
        [['Content-Length', '4']],
      ),
    );
    const socket = net.connect(server.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('error', () => {});
    const closed = new Promise((r) => socket.once('close', r));
    // Keep-alive, then a second request: extra bytes must never be taken as the next response.
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await closed;
    const raw = Buffer.concat(received).toString('latin1');
    expect(raw).not.toContain('ghi');
    expect(raw.match(/HTTP\/1\.1 200/g)?.length ?? 0).toBeLessThanOrEqual(1);
    await until(() => server.log.text.length > 0);
  });

  it('accepts a HEAD answer with the GET Content-Length and no body', async () => {
    const server = await start((environ, startResponse) => {
      startResponse('200 OK', [['Content-Length', '42']]);
      return environ.REQUEST_METHOD === 'HEAD' ? [] : [bytes('x'.repeat(42))];
    });
    const res = parseRaw((await rawExchange(server.port, rawGet('/', '', 'HEAD'))).raw);
    expect(res.status).toBe(200);
    expect(res.header('content-length')).toBe('42');
    expect(server.log.text).toBe('');
  });

  it('accepts a 304 carrying the representation Content-Length', async () => {
    const server = await start(rawApp(() => [], '304 Not Modified', [['Content-Length', '42']]));
    const res = parseRaw((await rawExchange(server.port, rawGet('/'))).raw);
    expect(res.status).toBe(304);
    expect(res.rest).toBe('');
    expect(server.log.text).toBe('');
  });
});
