/**
 * A client that hangs up while its request body streams into `fetch(url, { body:
 * req.stream(), duplex: 'half' })`, without `signal: req.signal`: undici rejects with
 * `TypeError: fetch failed` whose `cause` is what the body's read threw. That is the client's
 * doing, as for Werkzeug's `ClientDisconnected` (a 400, never a 500): no error logged by
 * `errors` or the server, and `accessLog` writes the client's `499`/`close`. Over real sockets.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type App, type AppLike, Request, Response } from 'tsgi';
import { accessLog, errors } from 'tsgi/middleware';
import { toNodeHandler } from 'tsgi/node';
import { bytes, errorLog, sleep, start, until } from './node-helpers.ts';

/** An upstream that reads request bodies slowly, counting what it got. */
async function slowUpstream(): Promise<{ url: string; got: () => number; close(): Promise<void> }> {
  let got = 0;
  const server = http.createServer((req, res) => {
    req.on('data', (chunk: Buffer) => {
      got += chunk.byteLength;
      req.pause();
      setTimeout(() => req.resume(), 20);
    });
    req.on('error', () => {});
    req.on('end', () => res.end(`got ${got}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/object`,
    got: () => got,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * An app that reads at most 4 bytes of the body and, when that read fails, throws an
 * `AggregateError` of the read's error and `other`, as Node's pipeline aggregates them.
 */
function aggregatingReader(other: Error): App {
  return Request.application(async (req) => {
    try {
      await req.bytes({ maxBodySize: 4 });
    } catch (error) {
      throw new AggregateError([error, other], (error as Error).message);
    }
    return new Response('stored');
  });
}

/** PUTs 10 bytes chunked: the limit is passed while reading, which leaves the input failed with the 413. */
function putTenBytesChunked(url: string): Promise<globalThis.Response> {
  const body = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(bytes('0123456789')), c.close()) });
  return fetch(url, { method: 'PUT', body, duplex: 'half' } as RequestInit);
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/**
 * A raw client that declares 10 MB, sends 256 KiB, and destroys its socket once the upstream
 * got some of it; with `expect100`, it asks `Expect: 100-continue` and waits for the `100`.
 */
async function hangUpMidBody(port: number, upstreamGot: () => number, expect100 = false): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(`POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10000000\r\n${expect100 ? 'Expect: 100-continue\r\n' : ''}\r\n`);
  if (expect100) await once(socket, 'data');
  socket.write(Buffer.alloc(256 * 1024, 97));
  await until(() => upstreamGot() > 0);
  socket.destroy();
}

/** `accessLog` lines as `status outcome`. */
function accessLines(): { lines: string[]; format: (entry: { status: number; outcome: string }) => string; log: { write(line: string): void } } {
  const lines: string[] = [];
  return { lines, format: (entry) => `${entry.status} ${entry.outcome}`, log: { write: (line: string) => lines.push(line.trim()) } };
}

describe('a client gone while its body streams into fetch (no signal)', () => {
  it.each([
    ['', false],
    [' (with Expect: 100-continue, its 100 sent at the first read)', true],
  ])('serve(): accessLog(errors(Request.application)) logs the 499 close, and no error anywhere%s', async (_, expect100) => {
    const upstream = await slowUpstream();
    cleanups.push(upstream.close);
    let caught: unknown;
    const app = Request.application(async (req) => {
      try {
        const res = await fetch(upstream.url, { method: 'PUT', body: req.stream() as unknown as ReadableStream<Uint8Array>, duplex: 'half' } as RequestInit);
        return new Response(await res.text());
      } catch (error) {
        caught = error;
        throw error;
      }
    });
    const access = accessLines();
    const errorsLog = errorLog();
    const server = await start(accessLog(errors(app, { log: errorsLog }), { log: access.log, format: access.format }));
    await hangUpMidBody(server.port, upstream.got, expect100);
    await until(() => access.lines.length > 0);
    await sleep(50);
    expect(access.lines).toEqual(['499 close']);
    expect(errorsLog.text).toBe('');
    expect(server.log.text).toBe('');
    // undici's `fetch failed` wraps the body reader's 400, which wraps Node's `aborted`.
    const cause = (caught as Error).cause as { code?: unknown; cause?: { code?: unknown } };
    expect([(caught as Error).message, cause.code, cause.cause?.code]).toEqual(['fetch failed', 400, 'ECONNRESET']);
  });

  it('serve(): a raw app reading through new Request(environ).stream(), under accessLog only', async () => {
    const upstream = await slowUpstream();
    cleanups.push(upstream.close);
    const raw: App = async (environ, startResponse) => {
      await fetch(upstream.url, { method: 'PUT', body: new Request(environ).stream() as unknown as ReadableStream<Uint8Array>, duplex: 'half' } as RequestInit);
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [new TextEncoder().encode('stored')];
    };
    const access = accessLines();
    const server = await start(accessLog(raw, { log: access.log, format: access.format }));
    await hangUpMidBody(server.port, upstream.got);
    await until(() => access.lines.length > 0);
    await sleep(50);
    expect(access.lines).toEqual(['499 close']);
    expect(server.log.text).toBe('');
  });

  it('toNodeHandler: the same', async () => {
    const upstream = await slowUpstream();
    cleanups.push(upstream.close);
    const app: AppLike = Request.application(async (req) => {
      const res = await fetch(upstream.url, { method: 'PUT', body: req.stream() as unknown as ReadableStream<Uint8Array>, duplex: 'half' } as RequestInit);
      return new Response(await res.text());
    });
    const access = accessLines();
    const errorsLog = errorLog();
    const log = errorLog();
    const server = http.createServer(toNodeHandler(accessLog(errors(app, { log: errorsLog }), { log: access.log, format: access.format }), { log }));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    await hangUpMidBody((server.address() as AddressInfo).port, upstream.got);
    await until(() => access.lines.length > 0);
    await sleep(50);
    expect(access.lines).toEqual(['499 close']);
    expect(errorsLog.text).toBe('');
    expect(log.text).toBe('');
  });
});

describe('req.stream(): a read that breaks off', () => {
  it('throws the 400 bytes() throws, the stream error its cause, and leaves the input failed with it', async () => {
    const reset = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    const input: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        yield new Uint8Array([1, 2, 3]);
        throw reset;
      },
    };
    const req = Request.blank('/', { method: 'POST' });
    req.environ['tsgi.input'] = input;
    const chunks: Uint8Array[] = [];
    const iterator = req.stream()[Symbol.asyncIterator]();
    let failure: unknown;
    try {
      for (let step = await iterator.next(); !step.done; step = await iterator.next()) chunks.push(step.value);
    } catch (error) {
      failure = error;
    }
    expect(chunks).toEqual([new Uint8Array([1, 2, 3])]);
    expect([(failure as { code?: unknown }).code, (failure as Error).cause]).toEqual([400, reset]);
    // The same error again: from this stream, and from any later read.
    await expect(iterator.next()).rejects.toBe(failure);
    await expect(req.bytes()).rejects.toBe(failure);
    // A programming error in the input is no client error: passed on as it is (a 500).
    const broken = Request.blank('/', { method: 'POST' });
    const bug = new TypeError('oops');
    broken.environ['tsgi.input'] = { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(bug) }) };
    await expect(broken.stream()[Symbol.asyncIterator]().next()).rejects.toBe(bug);
  });
});

describe('req.stream() over a Node request: no cost per chunk', () => {
  /**
   * Posts 64 KiB in 32 pieces 5 ms apart (so the body arrives as many chunks), with
   * `Expect: 100-continue` (waiting for the `100`) when `expect`, to an app that iterates
   * `req.stream()`; answers the chunks read and the `.then()` calls made meanwhile.
   */
  async function streamedChunks(expect100: boolean): Promise<{ answer: string; chunks: number; thens: number }> {
    let chunks = 0;
    let thens = 0;
    const app = Request.application(async (req) => {
      const then = Promise.prototype.then;
      Promise.prototype.then = function (this: Promise<unknown>, ...args: Parameters<typeof then>) {
        thens++;
        return Reflect.apply(then, this, args) as Promise<unknown>;
      } as typeof then;
      try {
        for await (const chunk of req.stream()) chunks += chunk.byteLength > 0 ? 1 : 0;
      } finally {
        Promise.prototype.then = then;
      }
      return new Response(`${chunks}`);
    });
    const server = await start(app);
    const body = Buffer.alloc(64 * 1024, 97);
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'connect');
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => (answer += text));
    const expectField = expect100 ? 'Expect: 100-continue\r\n' : '';
    socket.write(`POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.byteLength}\r\n${expectField}Connection: close\r\n\r\n`);
    if (expect100) await until(() => answer.startsWith('HTTP/1.1 100 Continue\r\n\r\n'));
    for (let at = 0; at < body.byteLength; at += 2048) {
      await sleep(5);
      socket.write(body.subarray(at, at + 2048));
    }
    await once(socket, 'close');
    return { answer: answer.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, ''), chunks, thens };
  }

  it('hands the chunks over without a promise of its own per chunk (no .then() per read)', async () => {
    const { answer, chunks, thens } = await streamedChunks(false);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(chunks).toBeGreaterThan(16);
    // The stream's own reader answers each read; a wrapper's `.then()` per chunk would show
    // here (the few there are come from the server and the test around the loop).
    expect(thens).toBeLessThan(chunks / 2);
  });

  it('the same for a request with Expect: 100-continue (curl uploads past 1 MiB)', async () => {
    const { answer, chunks, thens } = await streamedChunks(true);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(chunks).toBeGreaterThan(16);
    expect(thens).toBeLessThan(chunks / 2);
  });
});

describe('a client gone while its body streams through stream.pipeline with signal: req.signal', () => {
  // Node's pipeline, with a transform between the body and the file and `signal: req.signal`,
  // rejects with an AggregateError of the body's 400 and its own AbortError (the signal aborts
  // as the read fails; on Node 22 with that AbortError alone): the client's doing still, not the
  // app's failure to log.
  it('serve(): the partial file removed, accessLog logs 499 close, no error logged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsgi-pipeline-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    let caught: unknown;
    // The client leaves once the app pipes its body: 50 ms after the bytes were written could
    // come first on a loaded machine, and a reset connection's unread bytes never make a request.
    let piping!: () => void;
    const appPipes = new Promise<void>((resolve) => (piping = resolve));
    const app = Request.application(async (req) => {
      const part = join(dir, 'object.part');
      piping();
      try {
        await pipeline(req.stream(), new PassThrough(), createWriteStream(part), { signal: req.signal });
      } catch (error) {
        caught = error;
        await rm(part, { force: true });
        throw error;
      }
      return new Response('stored', { status: 201 });
    });
    const access = accessLines();
    const server = await start(accessLog(app, { log: access.log, format: access.format }));
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write('PUT /objects/a HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n');
    socket.write(Buffer.alloc(64 * 1024, 97));
    await appPipes;
    socket.destroy();
    await until(() => access.lines.length > 0 && caught !== undefined);
    await sleep(50);
    // Node's own shape of the rejection: Node 22's pipeline rejects with its AbortError alone
    // (the signal aborts first), later lines with the AggregateError; tsgi's answer is the same.
    expect((caught as Error).name).toBe(Number(process.versions.node.split('.')[0]) <= 22 ? 'AbortError' : 'AggregateError');
    expect(access.lines).toEqual(['499 close']);
    expect(server.log.text).toBe('');
    expect(await readdir(dir)).toEqual([]);
  });

  it('Request.application answers the 413 of the read an AggregateError holds, not a 500', async () => {
    // The shape without a socket race: the app wraps the failed read as Node's pipeline does.
    const server = await start(aggregatingReader(new DOMException('The operation was aborted', 'AbortError')));
    const res = await putTenBytesChunked(`${server.url}/objects/a`);
    expect(res.status).toBe(413);
    await res.text();
    expect(server.log.text).toBe('');
  });

  it("Request.application answers a 500 and logs it when the AggregateError holds an app error next to the read's 413", async () => {
    // Node's pipeline aggregates the file's or a transform's own error with the read's: that
    // error is the app's (a full disk, a bug), not to be hidden behind the client's 413.
    const server = await start(aggregatingReader(new TypeError('transform bug')));
    const res = await putTenBytesChunked(`${server.url}/objects/a`);
    expect(res.status).toBe(500);
    await res.text();
    await until(() => server.log.text !== '');
    expect(server.log.text).toContain('AggregateError: maxBodySize exceeded: the request body is larger than 4 bytes');
    // The log names what the aggregate holds: the app's error is what an operator looks for.
    expect(server.log.text).toContain('\n  Aggregated 2 of 2: TypeError: transform bug\n');
  });
});
