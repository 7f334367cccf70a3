/**
 * proxy() in front of an upstream that answers every way an HTTP/1.1 answer can be broken (a
 * raw TCP server): short and overlong bodies, broken chunking, bad status lines and fields,
 * interim answers, resets before and after the head, a 304 and a 204 with lengths, reason
 * phrases no status line can carry. Whatever
 * the upstream does, the client gets a complete answer it can trust, a 502/504 that says why,
 * or a cut connection once the head is out; never a 500, and the server goes on serving.
 */
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxy } from 'tsgi/proxy';
import { toFetchHandler } from 'tsgi/fetch';
import { parseRaw, rawExchange, rawGet, start } from './node-helpers.ts';

/** `hello` under gzip: what a `Transfer-Encoding: gzip` answer carries. */
const GZIPPED = gzipSync('hello');

/** What the upstream answers for `/<name>`; `socket.end(text)` unless it is a function. */
const ANSWERS: Record<string, string | ((socket: net.Socket) => void)> = {
  'long-body': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhello',
  'bad-chunk-size': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
  'bad-status': 'HTTP/1.1 2OO OK\r\n\r\n',
  'not-http': 'garbage\r\n\r\n',
  'bad-field-name': 'HTTP/1.1 200 OK\r\nBad Header\r\n\r\n',
  'nul-in-field': 'HTTP/1.1 200 OK\r\nX: a\x00b\r\nContent-Length: 0\r\n\r\n',
  'unsolicited-100': 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  'early-hints': 'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  'http-1.0-close-delimited': 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nclose-delimited body',
  'two-lengths': 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok',
  'huge-field': `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`,
  'closed-at-once': (socket) => socket.destroy(),
  'reset-at-once': (socket) => socket.resetAndDestroy(),
  // An upstream that dies in the middle of its body is met after the head has gone out only if
  // it dies a moment after its first chunk (test/proxy-stream.test.ts, `/die`, is the other case).
  'reset-mid-body': (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<html\r\n');
    setTimeout(() => socket.resetAndDestroy(), 30);
  },
  '304-with-length': 'HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n',
  '204-with-body': 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello',
  'odd-status': 'HTTP/1.1 299 Odd\r\nContent-Length: 0\r\n\r\n',
  // RFC 9110 §15: a status past 599 is invalid, which a client takes for a 5xx (llhttp reads 100–999).
  'status-600': 'HTTP/1.1 600 Odd\r\nContent-Length: 2\r\n\r\nok',
  'status-999': 'HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n',
  // undici reads the reason phrase as UTF-8: either way it holds characters past U+00FF.
  'utf8-reason': `HTTP/1.1 200 ${Buffer.from('Ça va ✓', 'utf8').toString('latin1')}\r\nContent-Length: 0\r\n\r\n`,
  'latin1-reason': 'HTTP/1.1 200 \xc7a va\r\nContent-Length: 0\r\n\r\n',
  'gzip-not-gzip': 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n\r\nnotgzip!!!',
  'bad-location': 'HTTP/1.1 301 Moved\r\nLocation: %zz:/\\\\x\r\nContent-Length: 0\r\n\r\n',
  'latin1-cookie': 'HTTP/1.1 200 OK\r\nSet-Cookie: a=b; Domain=\xff\r\nContent-Length: 0\r\n\r\n',
  // A transfer coding besides chunked (RFC 9112 §7), which undici does not decode: its bytes are no body.
  'gzip-transfer-coding': `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: gzip, chunked\r\n\r\n${GZIPPED.length.toString(16)}\r\n${GZIPPED.toString('latin1')}\r\n0\r\n\r\n`,
  'gzip-transfer-coding-alone': `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: gzip\r\n\r\n${GZIPPED.toString('latin1')}`,
};

let upstream: net.Server;
let origin = '';
/** Requests the upstream received, by name. */
const hits: Record<string, number> = {};
beforeAll(async () => {
  upstream = net.createServer((socket) => {
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (data: Buffer) => {
      head += data.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const name = head.split(' ')[1]!.slice(1);
      head = '';
      hits[name] = (hits[name] ?? 0) + 1;
      const answer = ANSWERS[name];
      if (typeof answer === 'function') answer(socket);
      else socket.end(Buffer.from(answer ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', 'latin1'));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

describe('proxy() in front of a broken upstream', () => {
  it('answers every broken upstream answer with a complete answer, a 502 that says why, or a cut; never a 500', async () => {
    const app = proxy(origin, { bodyTimeout: 2000 });
    const server = await start(app);
    const outcomes: Record<string, string> = {};
    for (const name of Object.keys(ANSWERS)) {
      const exchange = await rawExchange(server.port, rawGet(`/${name}`));
      const { clean } = exchange;
      // An interim answer passed on (a 103 Early Hints) comes before the final one.
      let raw = exchange.raw;
      while (/^HTTP\/1\.1 1\d\d /.test(raw) && raw.includes('\r\n\r\n')) raw = raw.slice(raw.indexOf('\r\n\r\n') + 4);
      const end = raw.indexOf('\r\n\r\n');
      if (end === -1) {
        outcomes[name] = `no head${clean ? '' : ', reset'}`;
        continue;
      }
      const reply = parseRaw(raw);
      const length = reply.header('content-length');
      // A 304 carries the length of the 200 it stands for (RFC 9110 §8.6), never a body.
      const whole = reply.status === 304 || reply.status === 204 ? reply.rest === '' : length === undefined ? reply.header('transfer-encoding') !== 'chunked' || reply.rest.endsWith('0\r\n\r\n') : Buffer.byteLength(reply.rest, 'latin1') === Number(length);
      outcomes[name] = `${reply.status}${whole ? '' : ' cut'}`;
    }
    expect(outcomes).toEqual({
      'long-body': '200',
      'bad-chunk-size': '502',
      'bad-status': '502',
      'not-http': '502',
      'bad-field-name': '502',
      'nul-in-field': '502',
      'unsolicited-100': '502',
      'early-hints': '200',
      'http-1.0-close-delimited': '200',
      'two-lengths': '502',
      'huge-field': '502',
      'closed-at-once': '502',
      'reset-at-once': '502',
      'reset-mid-body': '200 cut',
      '304-with-length': '304',
      '204-with-body': '204',
      'odd-status': '299',
      'status-600': '502',
      'status-999': '502',
      'utf8-reason': '200',
      'latin1-reason': '200',
      'gzip-not-gzip': '200',
      'bad-location': '301',
      'latin1-cookie': '200',
      'gzip-transfer-coding': '502',
      'gzip-transfer-coding-alone': '502',
    });
    // A reason phrase a status line cannot carry is replaced by the standard one.
    expect(parseRaw((await rawExchange(server.port, rawGet('/utf8-reason'))).raw).statusLine).toBe('HTTP/1.1 200 OK');
    // Each 502 was logged with the upstream and the cause; every cut too.
    expect(server.log.text).not.toMatch(/ 500/);
    await app.close();
  });

  it('answers a status past 599 with a 502 that says so, where the fetch adapter (Bun, Deno) answered 500 (Response refuses it)', async () => {
    const app = proxy(origin);
    const server = await start(app);
    const reply = parseRaw((await rawExchange(server.port, rawGet('/status-999'))).raw);
    expect(reply.status).toBe(502);
    expect(reply.rest).toMatch(/malformed response/);
    expect(server.log.text).toMatch(/502: upstream .*: malformed response \(HPE_INVALID_STATUS: invalid status code 999/);
    const log: string[] = [];
    const handler = toFetchHandler(app, { log: { write: (line: string) => void log.push(line) } });
    const res = await handler(new Request('http://gateway.example/status-600'));
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/malformed response/);
    expect(log.join('')).not.toMatch(/RangeError/);
    await app.close();
  });

  it('takes an answer the HTTP client refuses (an unsolicited 100) for a malformed one: a 502 that says so, not sent twice', async () => {
    const app = proxy(origin);
    const server = await start(app);
    const before = hits['unsolicited-100'] ?? 0;
    const reply = parseRaw((await rawExchange(server.port, rawGet('/unsolicited-100'))).raw);
    expect(reply.status).toBe(502);
    expect(reply.rest).toMatch(/malformed response/);
    expect(hits['unsolicited-100']! - before).toBe(1);
    expect(server.log.text).toMatch(/malformed response/);
    await app.close();
  });

  it('answers 502 for a body under a transfer coding other than chunked, not its coded bytes as the body (nginx answers 502 too)', async () => {
    const app = proxy(origin);
    const server = await start(app);
    for (const name of ['gzip-transfer-coding', 'gzip-transfer-coding-alone']) {
      const reply = parseRaw((await rawExchange(server.port, rawGet(`/${name}`))).raw);
      expect(reply.status).toBe(502);
      expect(reply.rest).toMatch(/malformed response/);
      expect(reply.rest).not.toContain(GZIPPED.toString('latin1'));
    }
    expect(server.log.text).toMatch(/502: upstream .*: malformed response \(HPE_INVALID_TRANSFER_ENCODING: Transfer-Encoding: gzip, chunked/);
    // A HEAD's answer has no body to decode: its fields are passed on.
    const head = parseRaw((await rawExchange(server.port, rawGet('/gzip-transfer-coding', '', 'HEAD'))).raw);
    expect(head.status).toBe(200);
    await app.close();
  });

  it('sends a GET once on a fresh connection the upstream closes or resets at once: only a kept-alive one is tried again, as nginx does', async () => {
    const app = proxy(origin);
    const server = await start(app);
    for (const name of ['closed-at-once', 'reset-at-once']) {
      const before = hits[name] ?? 0;
      const reply = parseRaw((await rawExchange(server.port, rawGet(`/${name}`))).raw);
      expect(reply.status).toBe(502);
      // A request that kills the upstream's worker (a query of death) was sent to a second one.
      expect(hits[name]! - before).toBe(1);
    }
    await app.close();
  });
});
