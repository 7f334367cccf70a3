/**
 * The server's own error answer that replaces a head it held and never wrote (the body failed
 * at its first step, or its second, which the server takes before it sends the head; not an
 * app that threw: it held no head) keeps the held head's fields that do not describe the
 * failed representation or its caching, nor belong to a successful answer: `requestId`'s
 * `X-Request-Id`, `cors`' fields and security headers stay;
 * `Content-*`, `ETag`, `Cache-Control`, `Set-Cookie`, `Link`… go. Under `serve()` over a real
 * socket, `toFetchHandler` (served by `@hono/node-server`) and the `TestClient` alike.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, HTTPBadGateway, compose } from 'tsgi';
import { accessLog, compress, cors, errors, mount, requestId } from 'tsgi/middleware';
import { proxy } from 'tsgi/proxy';
import { toFetchHandler } from 'tsgi/fetch';
import { TestClient } from 'tsgi/testing';
import { type ErrorLog, encoder, errorLog, request, start } from './node-helpers.ts';
import { serveFetch } from './fetch-helpers.ts';

const ORIGIN = 'http://app.example';

/** The reviewer's stack: `inner` mounted at `/api`, under requestId, cors, accessLog and errors. */
function site(inner: App): App {
  return compose(
    requestId,
    (app) => cors(app, { origin: ORIGIN }),
    (app) => accessLog(app, { log: { write: () => undefined } }),
    errors,
  )(mount({ '/api': inner }));
}

/** What a client got: the status, the fields (names in lower case, repeats joined), the log. */
interface Got {
  status: number;
  headers: Map<string, string>;
  body: string;
  errorLog: string;
}

/** A browser's JSON request from the allowed origin. */
const BROWSER = { Origin: ORIGIN, Accept: 'application/json', 'Accept-Encoding': 'gzip' };

/** The fields of a `[name, value]` list, names in lower case, repeats joined with `, `. */
function fieldMap(pairs: Iterable<readonly [string, string]>): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    map.set(key, map.has(key) ? `${map.get(key)!}, ${value}` : value);
  }
  return map;
}

/** Node's `rawHeaders` (name, value, name, value…) as `[name, value]` pairs. */
function pairsOf(raw: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  return pairs;
}

/** A browser's request for `url` over a real socket, what it got, and `log`'s text. */
async function browserGet(url: string, log: ErrorLog): Promise<Got> {
  const res = await request(url, { headers: BROWSER });
  const headers = fieldMap(pairsOf(res.rawHeaders));
  return { status: res.status, headers, body: res.body.toString(), errorLog: log.text };
}

/** `app` asked for `path` by a browser: under `serve()`, `toFetchHandler` and the TestClient. */
const holders: Array<[string, (app: App, path: string) => Promise<Got>]> = [
  [
    'serve()',
    async (app, path) => {
      const server = await start(app);
      return browserGet(`${server.url}${path}`, server.log);
    },
  ],
  [
    'toFetchHandler',
    async (app, path) => {
      const log = errorLog();
      const server = await serveFetch(toFetchHandler(app, { log }));
      try {
        return await browserGet(`${server.url}${path}`, log);
      } finally {
        await server.close();
      }
    },
  ],
  [
    'TestClient',
    async (app, path) => {
      const log = errorLog();
      const client = new TestClient(app, { lint: false, allowErrors: true, status: '*' });
      const res = await client.get(path, { headers: BROWSER, environ: { 'tsgi.errors': log } });
      const headers = fieldMap(res.headers);
      return { status: res.statusCode, headers, body: res.textBody, errorLog: log.text };
    },
  ],
];

/** The fields of the outer layers, kept; those of the held head's representation, dropped. */
function expectKeptAndDropped(got: Got): void {
  expect(got.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  expect(got.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  for (const name of ['content-encoding', 'etag', 'set-cookie', 'cache-control', 'last-modified']) {
    expect(got.headers.has(name), name).toBe(false);
  }
}

describe('a compressed proxied answer whose upstream resets after its first bytes', () => {
  let upstream: http.Server;
  let url = '';
  beforeAll(async () => {
    upstream = http.createServer((_req, res) => {
      res.writeHead(200, {
        'Content-Type': 'application/json',
        ETag: '"v1"',
        'Last-Modified': 'Sun, 06 Dec 2026 10:00:00 GMT',
        'Cache-Control': 'public, max-age=60',
        'Set-Cookie': 'seen=1; Path=/',
      });
      res.write('[1,', () => res.socket?.destroy());
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

  for (const [holder, get] of holders) {
    it(`gets a 502 that keeps the request id and CORS fields (${holder})`, async () => {
      const got = await get(site(compress(proxy(url))), '/api/items');
      expect(got.status).toBe(502);
      expectKeptAndDropped(got);
      expect(got.errorLog).toContain(`502 request_id=${got.headers.get('x-request-id')}`);
    });
  }
});

describe('a streamed body that fails at its second step, before the head is out', () => {
  /** Gives representation, caching, security and app fields, yields `[1,`, then throws at once. */
  const failsSecond: App = (_environ, startResponse) => {
    startResponse('200 OK', [
      ['Content-Type', 'application/json'],
      ['Content-Language', 'en'],
      ['ETag', '"v1"'],
      ['Last-Modified', 'Sun, 06 Dec 2026 10:00:00 GMT'],
      ['Cache-Control', 'private, max-age=60'],
      ['CDN-Cache-Control', 'max-age=600'],
      ['Set-Cookie', 'session=abc; Path=/; HttpOnly'],
      ['Link', '</app.css>; rel=preload; as=style'],
      ['Clear-Site-Data', '"cookies"'],
      ['WWW-Authenticate', 'Bearer realm="api"'],
      ['Content-Security-Policy', "default-src 'self'"],
      ['X-Frame-Options', 'DENY'],
      ['X-Tenant', 'acme'],
      ['Vary', 'Cookie'],
    ]);
    return (async function* () {
      yield encoder.encode('[1,');
      throw new Error('the cursor broke');
    })();
  };

  for (const [holder, get] of holders) {
    it(`gets the server's 500 with the fields of no representation (${holder})`, async () => {
      const got = await get(site(failsSecond), '/api/items');
      expect(got.status).toBe(500);
      expect(got.body).toBe('Internal Server Error\n');
      expect(got.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expectKeptAndDropped(got);
      for (const name of ['content-language', 'cdn-cache-control', 'link', 'clear-site-data', 'www-authenticate']) {
        expect(got.headers.has(name), name).toBe(false);
      }
      expect(got.headers.get('content-security-policy')).toBe("default-src 'self'");
      expect(got.headers.get('x-frame-options')).toBe('DENY');
      expect(got.headers.get('x-tenant')).toBe('acme');
      expect(got.headers.get('vary')).toContain('Cookie');
      const id = got.headers.get('x-request-id');
      expect(got.errorLog).toContain(`500 request_id=${id}: Error: the cursor broke`);
    });

    it(`gets the server's 500 for a bad second chunk, the fields kept (${holder})`, async () => {
      const badSecond: App = (_environ, startResponse) => {
        startResponse('200 OK', [...SERVED_HEAD]);
        return (async function* () {
          yield encoder.encode('[1,');
          yield '2]' as unknown as Uint8Array;
        })();
      };
      const got = await get(badSecond, '/');
      expect(got.status).toBe(500);
      expect(got.body).toBe('Internal Server Error\n');
      expectServedHeadKept(got);
    });
  }
});

/** A head given before the body: fields of no representation, and of the failed one. */
const SERVED_HEAD: ReadonlyArray<[string, string]> = [
  ['Content-Type', 'application/json'],
  ['ETag', '"v1"'],
  ['Set-Cookie', 'session=abc; Path=/'],
  ['X-Request-Id', 'req-7'],
  ['Access-Control-Allow-Origin', ORIGIN],
  ['X-Tenant', 'acme'],
];

/** The server's answer kept {@link SERVED_HEAD}'s fields of no representation, and no others. */
function expectServedHeadKept(got: Got): void {
  expect(got.headers.get('x-request-id')).toBe('req-7');
  expect(got.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  expect(got.headers.get('x-tenant')).toBe('acme');
  expect(got.headers.has('etag')).toBe(false);
  expect(got.headers.has('set-cookie')).toBe(false);
}

describe('a body that fails at its first step, the head given, with no errors layer', () => {
  /** `startResponse` called, then a body that throws `error` before it yields anything. */
  const failsFirst = (error: Error): App => (_environ, startResponse) => {
    startResponse('200 OK', [...SERVED_HEAD]);
    return (async function* () {
      yield* [];
      throw error;
    })();
  };

  for (const [holder, get] of holders) {
    it(`gets the server's 500 with the held head's kept fields (${holder})`, async () => {
      const got = await get(failsFirst(new Error('the cursor broke')), '/');
      expect(got.status).toBe(500);
      expect(got.body).toBe('Internal Server Error\n');
      expect(got.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expectServedHeadKept(got);
      expect(got.errorLog).toContain('GET / HTTP/1.1: Error: the cursor broke');
    });

    it(`gets the exception's answer with those fields (${holder})`, async () => {
      const got = await get(failsFirst(new HTTPBadGateway('the upstream left')), '/');
      expect(got.status).toBe(502);
      expectServedHeadKept(got);
    });

    it(`gets the server's 500 for a bad first chunk with those fields (${holder})`, async () => {
      const badFirst: App = (_environ, startResponse) => {
        startResponse('200 OK', [...SERVED_HEAD]);
        return (async function* () {
          yield '[1,' as unknown as Uint8Array;
        })();
      };
      const got = await get(badFirst, '/');
      expect(got.status).toBe(500);
      expectServedHeadKept(got);
    });

    it(`gets the server's 500 for a body that is no iterable, those kept (${holder})`, async () => {
      const noIterable: App = (_environ, startResponse) => {
        startResponse('200 OK', [...SERVED_HEAD]);
        return 42 as unknown as Uint8Array[];
      };
      const got = await get(noIterable, '/');
      expect(got.status).toBe(500);
      expectServedHeadKept(got);
    });

    it(`gets a bare 500 when the app threw before calling startResponse (${holder})`, async () => {
      const throwsFirst: App = () => {
        throw new Error('no head yet');
      };
      const got = await get(throwsFirst, '/');
      expect(got.status).toBe(500);
      expect(got.headers.has('x-tenant')).toBe(false);
    });

    it(`gets errors' own 500 through the outer layers, the held head's kept fields with it (${holder})`, async () => {
      const got = await get(site(failsFirst(new Error('the cursor broke'))), '/api/items');
      expect(got.status).toBe(500);
      // errors answered, keeping the held head's fields as the server does: the app's own
      // X-Request-Id stands (requestId keeps an app's, as on any answer), the log names requestId's.
      expectServedHeadKept(got);
      expect(got.errorLog).toMatch(/500 request_id=[0-9a-f-]{36}: Error: the cursor broke/);
    });
  }
});

// The 413 of `maxBodySize` raised at that step is the client's doing: both servers answer it
// as `serve()` does, the held head's fields kept, and log nothing.
describe('a request body past maxBodySize, read at the second step of the answer', () => {
  /** Yields `[`, then reads the whole request body (chunked, past the limit) and yields it. */
  const readsAtSecond: App = (environ, startResponse) => {
    startResponse('200 OK', [...SERVED_HEAD]);
    return (async function* () {
      yield encoder.encode('[');
      const chunks: Uint8Array[] = [];
      for await (const chunk of environ['tsgi.input']) chunks.push(chunk);
      yield encoder.encode(`${chunks.length}]`);
    })();
  };
  /** A chunked upload of 64 bytes, past the limit of 16. */
  const UPLOAD = {
    method: 'POST',
    headers: { 'Transfer-Encoding': 'chunked' },
    body: 'x'.repeat(64),
  };
  /** What `serve()` (closed after the test) or `toFetchHandler` answered to {@link UPLOAD}. */
  const holders: Array<[string, (app: App, log: ErrorLog) => Promise<Got>]> = [
    [
      'serve()',
      async (app, log) => {
        const server = await start(app, { maxBodySize: 16, log });
        return upload(server.url, log);
      },
    ],
    [
      'toFetchHandler',
      async (app, log) => {
        const server = await serveFetch(toFetchHandler(app, { maxBodySize: 16, log }));
        try {
          return await upload(server.url, log);
        } finally {
          await server.close();
        }
      },
    ],
  ];
  const upload = async (url: string, log: ErrorLog): Promise<Got> => {
    const res = await request(url, UPLOAD);
    const headers = fieldMap(pairsOf(res.rawHeaders));
    return { status: res.status, headers, body: res.body.toString(), errorLog: log.text };
  };

  for (const [holder, get] of holders) {
    it(`gets the 413 with the held head's kept fields, not logged (${holder})`, async () => {
      const got = await get(readsAtSecond, errorLog());
      expect(got.status).toBe(413);
      expectServedHeadKept(got);
      expect(got.errorLog).toBe('');
    });
  }
});
