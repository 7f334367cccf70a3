/**
 * `for await` over `tsgi.input` under `serve()`, the way a raw app, the form parsers and the
 * proxy's upload read a request body: the exact bytes, backpressure down to the socket, a
 * client gone mid-body, two readers at once, and `await using`. Every case runs over a real
 * socket.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type App, type Environ, Request as TsgiRequest, Response as TsgiResponse } from 'tsgi';
import { fromFetchHandler } from 'tsgi/fetch';
import { type AccessLogEntry, accessLog, errors } from 'tsgi/middleware';
import { bytes, deferred, rawExchange, request, sleep, start, until, upload } from './node-helpers.ts';

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** An app that reads `tsgi.input` with `for await` and answers its length and hash. */
const hashing: App = async (environ, startResponse) => {
  const hash = createHash('sha256');
  let length = 0;
  for await (const chunk of environ['tsgi.input']) {
    hash.update(chunk);
    length += chunk.byteLength;
  }
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [bytes(`${length} ${hash.digest('hex')}`)];
};

/**
 * A raw app that reads the whole body, as raw apps do, letting a broken one propagate, then
 * answers 200; `ended` settles once its read is over, whichever way.
 */
function readingApp(): { app: App; ended: Promise<void> } {
  const ended = deferred();
  const app: App = async (environ, startResponse) => {
    try {
      for await (const _chunk of environ['tsgi.input']) {
        // read on
      }
    } finally {
      ended.resolve();
    }
    startResponse('200 OK', []);
    return [];
  };
  return { app, ended: ended.promise };
}

/**
 * `app`, and `called`, resolved once a request reached it: a client hangs up mid-body then. A
 * fixed 50 ms wait let a loaded machine hang up before the request was read, and a reset
 * connection's unread bytes never make a request: the app never ran, the test waited for ever.
 */
function reaching(app: App): { app: App; called: Promise<void> } {
  const called = deferred();
  return { app: (environ, startResponse) => (called.resolve(), app(environ, startResponse)), called: called.promise };
}

/** Sends the head of a 100,000-byte POST and 1,000 bytes of it, then, once `called` (see {@link reaching}), hangs up (closes, or with `reset` resets the connection). */
async function hangUpMidBody(port: number, called: Promise<void>, reset = false): Promise<void> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n');
  socket.write(new Uint8Array(1000));
  await called;
  if (reset) socket.resetAndDestroy();
  else socket.destroy();
}

describe('tsgi.input under serve(): for await', () => {
  it('reads the IncomingMessage, and yields the exact bytes of a streamed or chunked upload', async () => {
    let input: unknown;
    const server = await start(async (environ, startResponse) => {
      input = environ['tsgi.input'];
      return hashing(environ, startResponse);
    });
    const body = new Uint8Array(3 * 1024 * 1024 + 17);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7919) % 251;
    const res = await request(`${server.url}/`, { method: 'POST', body });
    expect(res.body.toString()).toBe(`${body.length} ${sha256(body)}`);
    expect((input as { stream: unknown }).stream).toBeInstanceOf(http.IncomingMessage);
    const chunked = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${server.url}/`, { method: 'POST', agent: false }, (answer) => {
        let text = '';
        answer.on('data', (c: Buffer) => (text += c));
        answer.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.write('abc');
      setTimeout(() => req.end('defg'), 20);
    });
    expect(chunked).toBe(`7 ${sha256(bytes('abcdefg'))}`);
  });

  it('takes a chunk from the socket only when asked: a reader that waits holds back the upload', async () => {
    const firstRead = deferred();
    const release = deferred();
    let buffered = -1;
    let socketRead = -1;
    const server = await start(async (environ, startResponse) => {
      const input = (environ['tsgi.input'] as unknown as { stream: http.IncomingMessage }).stream;
      let length = 0;
      for await (const chunk of environ['tsgi.input']) {
        length += chunk.byteLength;
        if (buffered === -1) {
          firstRead.resolve();
          await release.promise;
          buffered = input.readableLength;
          socketRead = input.socket.bytesRead;
        }
      }
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes(String(length))];
    });
    const size = 16 * 1024 * 1024;
    const sending = upload(server.port, size);
    await firstRead.promise;
    await sleep(300); // the client keeps writing; a flowing stream would take it all in
    release.resolve();
    const answer = await sending.response;
    expect(answer.endsWith(`\r\n\r\n${size}`)).toBe(true);
    // What waits in the request stream is about its high-water mark, not megabytes, and the
    // server stopped reading the socket meanwhile: the rest waited in the kernel and the client.
    expect(buffered).toBeGreaterThanOrEqual(0);
    expect(buffered).toBeLessThan(1024 * 1024);
    expect(socketRead).toBeGreaterThan(0);
    expect(socketRead).toBeLessThan(4 * 1024 * 1024);
  });

  it('a client gone mid-body: the loop throws an input error, and the server lives on', async () => {
    const failed = deferred<unknown>();
    const reader = reaching(async (environ, startResponse) => {
      try {
        for await (const _chunk of environ['tsgi.input']) {
          // read on
        }
      } catch (error) {
        failed.resolve(error);
        throw error;
      }
      startResponse('200 OK', []);
      return [];
    });
    const server = await start(reader.app);
    await hangUpMidBody(server.port, reader.called);
    const error = (await failed.promise) as { code?: string };
    expect(error).toBeInstanceOf(Error);
    expect(['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE']).toContain(error.code);
    const after = await request(`${server.url}/`, { method: 'POST', body: 'ok' });
    expect(after.status).toBe(200);
  });

  it.each([
    ['served as it is', (app: App) => app],
    ['under errors()', (app: App) => errors(app)],
  ])("a client gone mid-body, or a body the parser refuses, is the client's doing: the raw app's rethrown input error is not logged (%s)", async (_name, wrap) => {
    const { app, ended } = readingApp();
    const reader = reaching(wrap(app));
    const server = await start(reader.app);
    await hangUpMidBody(server.port, reader.called);
    await ended;
    await sleep(50);
    expect(server.log.text).toBe('');
    // A chunk size that is no hex number: the server answers 400 and cuts; nothing is logged.
    const refused = await rawExchange(server.port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n');
    expect(refused.raw).toMatch(/^HTTP\/1\.1 400 /);
    await sleep(50);
    expect(server.log.text).toBe('');
  });

  it.each([
    ['served as it is', (app: App) => app],
    ['under errors()', (app: App) => errors(app)],
  ])("over HTTP/2, a client that resets its stream mid-body is the client's doing too: the raw app's rethrown input error is not logged (%s)", async (_name, wrap) => {
    const failed = deferred<unknown>();
    const reader = reaching(wrap(async (environ, startResponse) => {
      try {
        for await (const _chunk of environ['tsgi.input']) {
          // read on, as a raw app does, letting a broken body propagate
        }
      } catch (error) {
        failed.resolve(error);
        throw error;
      }
      failed.resolve(undefined);
      startResponse('200 OK', []);
      return [];
    }));
    const server = await start(reader.app, { http2: 'h2c' });
    const session = http2.connect(server.url);
    session.on('error', () => {});
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/upload', 'content-length': '100000' });
      stream.on('error', () => {});
      stream.write(new Uint8Array(1000));
      await reader.called;
      stream.close(http2.constants.NGHTTP2_CANCEL);
      expect(await failed.promise).toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
      await sleep(50);
      expect(server.log.text).toBe('');
    } finally {
      session.destroy();
    }
  });

  it.each([
    ['closes its connection (FIN) over HTTP/1.1', 'fin'],
    ['resets its connection over HTTP/1.1', 'reset'],
    ['resets its stream over h2c', 'h2c'],
  ] as const)('accessLog logs a client that %s mid-upload as 499, outcome close, for a raw app and a Request.application one alike', async (_name, how) => {
    const entries: AccessLogEntry[] = [];
    const raw = readingApp();
    const reading = deferred();
    const wrapped = TsgiRequest.application(async (req) => {
      try {
        await req.bytes();
      } finally {
        reading.resolve();
      }
      return new TsgiResponse('read');
    });
    for (const [app, ended] of [[raw.app, raw.ended], [wrapped, reading.promise]] as const) {
      const before = entries.length;
      const reader = reaching(app);
      const server = await start(accessLog(reader.app, { log: { write: () => {} }, format: (e) => (entries.push(e), '') }), how === 'h2c' ? { http2: 'h2c' } : {});
      if (how === 'h2c') {
        const session = http2.connect(server.url);
        session.on('error', () => {});
        const stream = session.request({ ':method': 'POST', ':path': '/', 'content-length': '100000' });
        stream.on('error', () => {});
        stream.write(new Uint8Array(1000));
        await reader.called;
        stream.close(http2.constants.NGHTTP2_CANCEL);
        await ended;
        session.destroy();
      } else {
        await hangUpMidBody(server.port, reader.called, how === 'reset');
        await ended;
      }
      await until(() => entries.length > before);
      await server.close();
      expect(server.log.text).toBe('');
    }
    expect(entries.map((e) => [e.status, e.outcome])).toEqual([
      [499, 'close'],
      [499, 'close'],
    ]);
  });

  it('two next() calls at once both settle, each with its own chunk or the end', async () => {
    const seen = deferred<Array<IteratorResult<Uint8Array>>>();
    const server = await start(async (environ: Environ, startResponse) => {
      const iterator = environ['tsgi.input'][Symbol.asyncIterator]();
      seen.resolve(await Promise.all([iterator.next(), iterator.next(), iterator.next()]));
      startResponse('200 OK', []);
      return [];
    });
    const answered = deferred<number>();
    const req = http.request(`${server.url}/`, { method: 'POST', agent: false }, (res) => {
      res.resume();
      res.on('end', () => answered.resolve(res.statusCode!));
    });
    req.write('one');
    await sleep(30);
    req.end('two');
    const results = await seen.promise;
    expect(await answered.promise).toBe(200);
    const text = results
      .filter((r) => !r.done)
      .map((r) => Buffer.from(r.value).toString())
      .join('');
    expect(text).toBe('onetwo');
    expect(results.some((r) => r.done)).toBe(true);
  });

  it('leaving an `await using` block after one chunk ends the reading, and the answer still goes out', async () => {
    const server = await start(async (environ, startResponse) => {
      let first = '';
      {
        await using iterator = environ['tsgi.input'][Symbol.asyncIterator]() as AsyncIterator<Uint8Array> & AsyncDisposable;
        const step = await iterator.next();
        first = step.done ? '' : Buffer.from(step.value).toString().slice(0, 1);
      }
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes(`first ${first}`)];
    });
    const result = await upload(server.port, 4 * 1024 * 1024, { halfOpen: true }).closed;
    expect(result.raw).toContain('200 OK');
    expect(result.raw.toLowerCase()).toContain('connection: close');
    expect(result.raw.endsWith('first a')).toBe(true);
  });

  it('an iterator made and never read leaves the stream alone: a fetch handler that ignores a small body keeps the connection', async () => {
    // fromFetchHandler makes the fetch Request's body stream (and so the input's iterator) up front.
    const server = await start(fromFetchHandler(() => new Response('no thanks', { status: 401 })));
    const socket = net.connect({ port: server.port, host: '127.0.0.1' });
    let received = '';
    let closed = false;
    socket.on('data', (data: Buffer) => (received += data.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => (closed = true));
    await new Promise((resolve) => socket.once('connect', resolve));
    try {
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n');
      await until(() => received.endsWith('no thanks') || closed); // answered before the body is sent
      expect(received.toLowerCase()).toContain('connection: keep-alive');
      socket.write(new Uint8Array(1000).fill(97)); // Node drains the small unread body...
      socket.write('GET /second HTTP/1.1\r\nHost: x\r\n\r\n'); // ...and the connection serves the next request
      await until(() => received.split('no thanks').length === 3 || closed);
      expect(received.split('HTTP/1.1 401').length).toBe(3);
      expect(closed).toBe(false);
    } finally {
      socket.destroy();
    }
  });
});
