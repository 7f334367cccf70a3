/**
 * Request fields that are no list (RFC 9110 §5.3: Authorization, Proxy-Authorization,
 * Content-Type, Range, If-Range, If-Modified-Since, If-Unmodified-Since, as Host): a second
 * line is answered `400 Bad Request` before the app sees it, as nginx answers it ("client sent
 * duplicate header line"), where the lines were joined with `, ` into one value. On a fetch
 * runtime the lines arrive joined already (its `Headers`): an Authorization that holds more
 * than one credential is refused there. Over raw sockets on 127.0.0.1, through `proxy` too.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { type ProxyApp, proxy } from 'tsgi/proxy';
import { TestClient } from 'tsgi/testing';
import { bytes, h2Frame, parseRaw, rawExchange, rawGet, start } from './node-helpers.ts';
import { serveFetch } from './fetch-helpers.ts';

/** An app that counts its calls and answers the environ keys it was asked about. */
function countingApp(): { app: App; calls: () => number } {
  let calls = 0;
  const app: App = (environ, startResponse) => {
    calls++;
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return [bytes(`${String(environ.HTTP_AUTHORIZATION)}|${String(environ.HTTP_IF_NONE_MATCH)}|${String(environ.HTTP_ACCEPT)}`)];
  };
  return { app, calls: () => calls };
}

const REPEATED = [
  ['Authorization', 'Authorization: Basic YTpi\r\nAuthorization: Basic Yzpk\r\n'],
  ['Authorization', 'Authorization: Bearer a\r\nauthorization: Bearer a\r\n'], // equal, any case
  ['Proxy-Authorization', 'Proxy-Authorization: Basic YTpi\r\nProxy-Authorization: Basic Yzpk\r\n'],
  ['Content-Type', 'Content-Type: text/plain\r\nContent-Type: application/json\r\n'],
  ['Range', 'Range: bytes=0-1\r\nRange: bytes=5-6\r\n'],
  ['If-Range', 'If-Range: "a"\r\nIf-Range: "b"\r\n'],
  ['If-Modified-Since', 'If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nIf-Modified-Since: Mon, 07 Nov 1994 08:49:37 GMT\r\n'],
  ['If-Unmodified-Since', 'If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nIf-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n'],
] as const;

describe('serve(): a field that is no list, sent twice', () => {
  for (const [name, fields] of REPEATED) {
    it(`answers two ${name} lines 400 without calling the app (${JSON.stringify(fields.slice(0, 40))})`, async () => {
      const { app, calls } = countingApp();
      const server = await start(app);
      const res = parseRaw((await rawExchange(server.port, rawGet('/', fields))).raw);
      expect(res.status).toBe(400);
      expect(res.rest).toBe(`Bad Request: several ${name} headers\n`);
      expect(calls()).toBe(0);
    });
  }

  it('still joins list fields (If-None-Match, Accept) and lets an auth-param list through', async () => {
    const { app, calls } = countingApp();
    const server = await start(app);
    const digest = 'Digest username="a", realm="x, Basic y", nonce ="n"';
    const res = parseRaw((await rawExchange(server.port, rawGet('/', `Authorization: ${digest}\r\nIf-None-Match: "a"\r\nIf-None-Match: "b"\r\nAccept: a/b\r\nAccept: c/d\r\n`))).raw);
    expect(res.status).toBe(200);
    expect(res.rest).toBe(`${digest}|"a", "b"|a/b, c/d`);
    expect(calls()).toBe(1);
  });

  it('leaves one line holding two credentials to the app, as nginx does (only a fetch runtime refuses it: it cannot see lines)', async () => {
    const { app, calls } = countingApp();
    const server = await start(app);
    const res = parseRaw((await rawExchange(server.port, rawGet('/', 'Authorization: Basic YTpi, Basic Yzpk\r\n'))).raw);
    expect([res.status, res.rest]).toEqual([200, 'Basic YTpi, Basic Yzpk|undefined|undefined']);
    expect(calls()).toBe(1);
  });
});


/** An HPACK literal field without indexing, new name, no Huffman (RFC 7541 §6.2.2); short strings only. */
const literal = ([name, value]: readonly [string, string]) => Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);

describe('serve() over h2c: a field that is no list, on two field lines', () => {
  it('answers 400 without calling the app (Node\'s own h2 client refuses to send it, so raw frames)', async () => {
    const { app, calls } = countingApp();
    const server = await start(app, { http2: 'h2c' });
    const fields = [[':method', 'GET'], [':path', '/'], [':scheme', 'http'], [':authority', '127.0.0.1'], ['authorization', 'Basic YTpi'], ['authorization', 'Basic Yzpk']] as const;
    const socket = net.connect(server.port, '127.0.0.1');
    let got = Buffer.alloc(0);
    const frames = new Promise<Array<{ type: number; payload: Buffer }>>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        const out: Array<{ type: number; stream: number; flags: number; payload: Buffer }> = [];
        for (let at = 0; at + 9 <= got.length; ) {
          const length = got.readUIntBE(at, 3);
          if (at + 9 + length > got.length) break;
          out.push({ type: got[at + 3]!, flags: got[at + 4]!, stream: got.readUInt32BE(at + 5), payload: got.subarray(at + 9, at + 9 + length) });
          at += 9 + length;
        }
        // The stream ends with a DATA frame flagged END_STREAM, or the server's RST_STREAM after its answer.
        if (out.some((f) => f.stream === 1 && ((f.type === 0 && (f.flags & 1) === 1) || f.type === 3))) resolve(out.filter((f) => f.stream === 1));
      });
    });
    socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), h2Frame(4, 0, 0, Buffer.alloc(0)), h2Frame(1, 0x5, 1, Buffer.concat(fields.map(literal)))]));
    try {
      const stream = await frames;
      const headers = stream.find((f) => f.type === 1)!;
      expect(headers.payload[0]).toBe(0x8c); // `:status 400`, index 12 of HPACK's static table
      expect(Buffer.concat(stream.filter((f) => f.type === 0).map((f) => f.payload)).toString()).toBe('Bad Request: several Authorization headers\n');
      expect(calls()).toBe(0);
    } finally {
      socket.destroy();
    }
  });
});

describe('proxy under serve(): nothing reaches the upstream', () => {
  let upstream: http.Server;
  let seen = 0;
  let app: ProxyApp;

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      seen++;
      res.end(String(req.headers.authorization));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    app = proxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
  });

  afterAll(async () => {
    await app.close();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  it('refuses two Authorization lines before forwarding, and forwards one', async () => {
    const gw = await start(app);
    const refused = parseRaw((await rawExchange(gw.port, rawGet('/x', 'Authorization: Basic YTpi\r\nAuthorization: Basic Yzpk\r\n'))).raw);
    expect([refused.status, refused.rest]).toEqual([400, 'Bad Request: several Authorization headers\n']);
    expect(seen).toBe(0);
    const one = parseRaw((await rawExchange(gw.port, rawGet('/x', 'Authorization: Basic YTpi\r\n'))).raw);
    expect(one.status).toBe(200);
    expect(one.rest).toContain('Basic YTpi');
    expect(seen).toBe(1);
  });
});

describe('toFetchHandler: the runtime joined the lines', () => {
  it('answers an Authorization of two credentials 400 (a socket, @hono/node-server), one credential reaches the app', async () => {
    const { app, calls } = countingApp();
    const server = await serveFetch(toFetchHandler(app));
    try {
      const refused = parseRaw((await rawExchange(server.port, rawGet('/', 'Authorization: Basic YTpi\r\nAuthorization: Basic Yzpk\r\n'))).raw);
      expect(refused.status).toBe(400);
      expect(refused.rest).toContain('more than one credential in Authorization');
      expect(calls()).toBe(0);
      const digest = 'Digest username="a", realm="x"';
      const one = parseRaw((await rawExchange(server.port, rawGet('/', `Authorization: ${digest}\r\n`))).raw);
      expect([one.status, one.rest.split('|')[0]]).toEqual([200, digest]);
    } finally {
      await server.close();
    }
  });

  it('answers a Request whose Headers hold two Proxy-Authorization lines 400', async () => {
    const { app, calls } = countingApp();
    const headers = new Headers();
    headers.append('Proxy-Authorization', 'Basic YTpi');
    headers.append('Proxy-Authorization', 'Basic Yzpk');
    const res = await toFetchHandler(app)(new globalThis.Request('http://example.com/', { headers }));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('more than one credential in Proxy-Authorization');
    expect(calls()).toBe(0);
  });
});

describe('TestClient: answers as the server does', () => {
  it('refuses two Authorization or Range lines, and joins If-None-Match', async () => {
    const { app, calls } = countingApp();
    const client = new TestClient(app);
    const two = await client.get('/', { headers: [['Authorization', 'Basic YTpi'], ['authorization', 'Basic Yzpk']], status: '*' });
    expect([two.statusCode, two.textBody]).toEqual([400, 'Bad Request: several Authorization headers\n']);
    const ranges = await client.get('/', { headers: [['Range', 'bytes=0-1'], ['Range', 'bytes=5-6']], status: '*' });
    expect([ranges.statusCode, ranges.textBody]).toEqual([400, 'Bad Request: several Range headers\n']);
    expect(calls()).toBe(0);
    const list = await client.get('/', { headers: [['If-None-Match', '"a"'], ['If-None-Match', '"b"']] });
    expect(list.textBody).toBe('undefined|"a", "b"|undefined');
  });

  it('refuses two Content-Length lines, even of one value, in the words serve() answers them with (Node\'s parser refuses them there)', async () => {
    const { app, calls } = countingApp();
    const server = await start(app);
    const fields = [['Content-Length', '2'], ['Content-Length', '2']] as const;
    const served = parseRaw((await rawExchange(server.port, `POST / HTTP/1.1\r\nHost: a\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\nab`)).raw);
    const tested = await new TestClient(app).post('/', { body: 'ab', headers: fields, status: '*' });
    expect([tested.statusCode, tested.textBody]).toEqual([served.status, served.rest]);
    expect(tested.textBody).toBe('Bad Request: duplicate Content-Length\n');
    expect(calls()).toBe(0);
  });
});
