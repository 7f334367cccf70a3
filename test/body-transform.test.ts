/**
 * transformBody, the body-changing helper of raw-interface middleware: what it sends, and that
 * the app's body is closed exactly once whenever the output stops early (before the first
 * chunk too, docs/spec.md §8) and never after it ended; over a socket with serve(), through
 * the TestClient, and on the iterator itself.
 */
import net from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type App, type Body } from 'tsgi';
import { type BodyTransformer, transformBody } from 'tsgi/middleware';
import { replaceText, rewriteHtml } from 'tsgi/proxy';
import { TestClient } from 'tsgi/testing';
import { rejection } from './helpers.ts';
import { bytes, dechunk, deferred, parseRaw, rawExchange, rawGet, request, sleep, start, until, within } from './node-helpers.ts';

const text = (chunk: Uint8Array) => new TextDecoder().decode(chunk);

/** The upper-casing middleware of transformBody's TSDoc: text/plain only, Content-Length removed. */
const upperCase = (app: App): App => async (environ, startResponse) => {
  let plain = false;
  const body = await app(environ, (status, headers, error) => {
    const type = headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '';
    plain = /^text\/plain\b/i.test(type);
    const kept = plain ? headers.filter(([name]) => name.toLowerCase() !== 'content-length') : headers;
    startResponse(status, kept, error);
  });
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  return transformBody(body, {
    transform: (chunk) => (plain ? encoder.encode(decoder.decode(chunk, { stream: true }).toUpperCase()) : chunk),
    flush: () => (plain ? encoder.encode(decoder.decode().toUpperCase()) : undefined),
  });
};

/** A middleware applying `transformer` (made per request) to the app's body. */
const transforming = (app: App, transformer: () => BodyTransformer): App => async (environ, startResponse) =>
  transformBody(await app(environ, startResponse), transformer());

/** A body whose iterator records its calls; its `return()` is what closing it calls. */
function recordingBody(chunks: string[], log: string[], onReturn: () => unknown = () => undefined): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      let index = 0;
      return {
        async next() {
          log.push('next');
          return index < chunks.length ? { done: false, value: bytes(chunks[index++]!) } : { done: true, value: undefined };
        },
        async return() {
          log.push('return');
          await onReturn();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/** An endless text/plain app whose generator records when its `finally` has run. */
function endless(): { app: App; closed: () => boolean; pulled: () => number } {
  let closed = false;
  let pulled = 0;
  const app: App = (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
    return (async function* () {
      try {
        for (;;) {
          pulled++;
          yield bytes('tick ');
          await sleep(2);
        }
      } finally {
        closed = true;
      }
    })();
  };
  return { app, closed: () => closed, pulled: () => pulled };
}

describe('transformBody over a socket (serve)', () => {
  it('closes the app body when the client hangs up before the first chunk, while the app is pending', async () => {
    const stream = Readable.from([bytes('never sent')]);
    let cancelled = false;
    const web = new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(bytes('w')), cancel: () => void (cancelled = true) });
    const bodies: Body[] = [stream, web as unknown as AsyncIterable<Uint8Array>];
    const gates = [deferred(), deferred()];
    const aborted = [false, false];
    let called = 0;
    const app: App = async (environ, startResponse) => {
      const i = called++;
      environ['tsgi.signal']!.addEventListener('abort', () => (aborted[i] = true));
      await gates[i]!.promise;
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return bodies[i]!;
    };
    const server = await start(upperCase(app));
    for (const i of [0, 1]) {
      const socket = net.connect(server.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(rawGet('/'));
      await until(() => called > i);
      socket.destroy();
      await until(() => aborted[i]!);
      gates[i]!.resolve();
    }
    expect(await within(() => stream.destroyed && cancelled, 2000)).toBe(true);
    expect(server.log.text).toBe('');
  });

  it('cancels an idle ReadableStream (an event stream waiting for its next event) when the client hangs up, bare or transformed', async () => {
    let cancelled = 0;
    const idleStream = () =>
      new ReadableStream<Uint8Array>({
        start: (c) => c.enqueue(bytes('data: hi\n\n')),
        pull: () => new Promise<void>(() => undefined), // no next event, ever
        cancel: () => void cancelled++,
      }) as unknown as AsyncIterable<Uint8Array>;
    const app: App = (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return environ.PATH_INFO === '/bare' ? idleStream() : transformBody(idleStream(), {});
    };
    const server = await start(app);
    for (const [path, expected] of [['/bare', 1], ['/transformed', 2]] as const) {
      const socket = net.connect(server.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(rawGet(path));
      await new Promise((resolve) => socket.once('data', resolve));
      socket.destroy();
      expect(await within(() => cancelled === expected, 2000), path).toBe(true);
    }
    expect(server.log.text).toBe('');
  });

  it('closes the app body once when the client hangs up mid-body', async () => {
    const source = endless();
    const server = await start(upperCase(source.app));
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => undefined);
    const received = deferred<string>();
    socket.on('data', (data: Buffer) => {
      if (data.toString('latin1').includes('TICK')) received.resolve(data.toString('latin1'));
    });
    socket.write(rawGet('/'));
    expect(await received.promise).toContain('TICK ');
    socket.destroy();
    expect(await within(source.closed, 2000)).toBe(true);
    const pulled = source.pulled();
    await sleep(30);
    expect(source.pulled()).toBe(pulled); // nothing more is asked of it
  });

  it('a transform that throws on the first chunk answers 500 before the head, and closes the app body', async () => {
    const log: string[] = [];
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return recordingBody(['a', 'b'], log);
    };
    const server = await start(transforming(app, () => ({ transform: () => { throw new Error('cannot rewrite'); } })));
    const { raw } = await rawExchange(server.port, rawGet('/'));
    expect(parseRaw(raw).status).toBe(500);
    expect(log).toEqual(['next', 'return']);
    expect(server.log.text).toContain('Error: cannot rewrite');
  });

  it('a transform that throws after the head cuts the connection, and closes the app body', async () => {
    const source = endless();
    let seen = 0;
    const server = await start(transforming(source.app, () => ({
      transform(chunk) {
        if (++seen === 3) throw new Error('cannot rewrite');
        return chunk;
      },
    })));
    const { raw } = await rawExchange(server.port, rawGet('/'));
    const response = parseRaw(raw);
    expect(response.status).toBe(200);
    expect(() => dechunk(response.rest)).toThrow(/truncated/);
    expect(await within(source.closed, 2000)).toBe(true);
    expect(server.log.text).toContain('Error: cannot rewrite');
  });

  it('appends what flush answers, and the server frames an array body with the new Content-Length', async () => {
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', '5']]);
      return [bytes('ﬁne')]; // 5 bytes; upper-cased "FINE", 4
    };
    const server = await start(upperCase(app));
    const res = await request(`http://127.0.0.1:${server.port}/`);
    expect(res.body.toString()).toBe('FINE');
    expect(res.headers['content-length']).toBe('4');

    const banner = await start(transforming(endless().app, () => {
      let count = 0;
      return {
        transform(chunk, controller) {
          if (++count === 3) controller.terminate();
          return count === 1 ? [bytes('<<'), chunk] : chunk;
        },
        flush: () => bytes('never: terminated'),
      };
    }));
    const cut = await request(`http://127.0.0.1:${banner.port}/`);
    expect(cut.body.toString()).toBe('<<tick tick tick ');

    const framed = await start(transforming(upperCase((_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
      return (async function* () {
        yield bytes('a');
        yield new Uint8Array([0xc3]); // the first byte of "é", held back by the decoder
        await sleep(5);
        yield new Uint8Array([0xa9]);
      })();
    }), () => ({ flush: () => bytes('\n-- end --\n') })));
    const flushed = await request(`http://127.0.0.1:${framed.port}/`);
    expect(flushed.body.toString()).toBe('AÉ\n-- end --\n');
  });

  it('frames an array body whose first chunk is empty with Content-Length, under transformBody and the body filters', async () => {
    // An empty first chunk sends the head early for a body that may wait (an event stream); an
    // array never waits, so passing it on only cost the client the length (chunked instead).
    const page = '<p>old text</p>';
    const arrayApp = (type: string, content: Uint8Array, extra: Array<[string, string]> = []): App => (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', type], ...extra]);
      return [new Uint8Array(0), content];
    };
    const cases: Array<[string, App, string]> = [
      ['transformBody', upperCase(arrayApp('text/plain; charset=utf-8', bytes('fine'))), 'FINE'],
      ['replaceText', replaceText(arrayApp('text/html', bytes(page)), { replacements: [['old', 'new']] }), '<p>new text</p>'],
      ['rewriteHtml', rewriteHtml(arrayApp('text/html', bytes(page)), { elements: { p: (el) => el.setAttribute('class', 'x') } }), '<p class="x">old text</p>'],
    ];
    for (const [name, app, body] of cases) {
      const server = await start(app);
      const res = await request(`http://127.0.0.1:${server.port}/`);
      expect(res.body.toString(), name).toBe(body);
      expect([res.headers['content-length'], res.headers['transfer-encoding']], name).toEqual([String(Buffer.byteLength(body)), undefined]);
      expect(server.log.text, name).toBe('');
    }
  });

  it('terminate() ends an endless body after the chunks it answered, closing the app body', async () => {
    const source = endless();
    const server = await start(transforming(source.app, () => {
      let total = 0;
      return {
        transform(chunk, controller) {
          const room = 12 - total;
          total += chunk.byteLength;
          if (total >= 12) controller.terminate();
          return chunk.subarray(0, room);
        },
      };
    }));
    const res = await request(`http://127.0.0.1:${server.port}/`);
    expect(res.body.toString()).toBe('tick tick ti');
    expect(source.closed()).toBe(true);
    expect(server.log.text).toBe('');
  });
});

describe('transformBody through the TestClient', () => {
  it('upper-cases text/plain, leaves other types alone', async () => {
    const app: App = (environ, startResponse) => {
      const html = environ.PATH_INFO === '/html';
      startResponse('200 OK', [['Content-Type', html ? 'text/html' : 'text/plain; charset=utf-8'], ['Content-Length', '11']]);
      return [bytes('hello '), bytes('world')];
    };
    const client = new TestClient(upperCase(app));
    const plain = await client.get('/');
    expect(plain.textBody).toBe('HELLO WORLD');
    expect(plain.headers.get('content-length')).toBeNull(); // the app's is dropped; two chunks go out chunked
    expect((await client.get('/html')).textBody).toBe('hello world');
  });

  it('a transform that throws before the head is a 500, the app body closed', async () => {
    const log: string[] = [];
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return recordingBody(['a'], log);
    };
    const res = await new TestClient(transforming(app, () => ({ transform: () => Promise.reject(new Error('no')) }))).get('/', {
      status: 500,
      allowErrors: true,
    });
    expect(res.statusCode).toBe(500);
    expect(log).toEqual(['next', 'return']);
  });

  it("closing a streamed answer settles once the app body's finally has run", async () => {
    const log: string[] = [];
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        try {
          for (;;) {
            yield bytes('x');
            await sleep(5);
          }
        } finally {
          await sleep(10);
          log.push('finally');
        }
      })();
    };
    const res = await new TestClient(upperCase(app)).get('/', { buffered: false });
    for await (const chunk of res) {
      expect(text(chunk)).toBe('X');
      break;
    }
    expect(log).toEqual(['finally']);
  });
});

describe('transformBody on its own', () => {
  const read = async (body: AsyncIterable<Uint8Array>) => {
    let out = '';
    for await (const chunk of body) out += text(chunk);
    return out;
  };

  it("a return() before the first next() closes the body once, and answers after the body's return()", async () => {
    const log: string[] = [];
    const gate = deferred();
    const body = transformBody(recordingBody(['a'], log, () => gate.promise.then(() => log.push('returned'))), {});
    const closing = body.return!().then(() => log.push('consumer'));
    await sleep(5);
    expect(log).toEqual(['return']);
    gate.resolve();
    await closing;
    expect(log).toEqual(['return', 'returned', 'consumer']);
    await body.return!();
    expect(await body.next()).toEqual({ done: true, value: undefined });
    expect(log).toEqual(['return', 'returned', 'consumer']);
  });

  it('never closes a body that ended, nor one that failed; the failure reaches the consumer and flush is skipped', async () => {
    const log: string[] = [];
    const flushed: string[] = [];
    const ended = transformBody(recordingBody(['a', 'b'], log), { flush: () => void flushed.push('ended') });
    expect(await read(ended)).toBe('ab');
    await ended.return!();
    expect(log).toEqual(['next', 'next', 'next']);

    async function* failing(): AsyncGenerator<Uint8Array> {
      yield bytes('a');
      throw new Error('disk gone');
    }
    const failed = transformBody(failing(), { flush: () => void flushed.push('failed') });
    expect(((await rejection(read(failed))) as Error).message).toBe('disk gone');
    expect(flushed).toEqual(['ended']);
  });

  it('a transform that throws, or answers no chunks (a string), closes the body once; a flush that throws closes nothing', async () => {
    for (const transform of [() => { throw new Error('bad'); }, () => 'text' as unknown as Uint8Array, () => [bytes('a'), 1 as unknown as Uint8Array]]) {
      const log: string[] = [];
      const body = transformBody(recordingBody(['a', 'b'], log), { transform });
      const error = await rejection(body.next());
      expect(error).toBeInstanceOf(Error);
      expect(log).toEqual(['next', 'return']);
      expect(await body.next()).toEqual({ done: true, value: undefined });
      await body.return!();
      expect(log).toEqual(['next', 'return']);
    }
    expect(((await rejection(transformBody([bytes('a')], { transform: () => 'A' as unknown as Uint8Array }).next())) as Error).message).toBe(
      'transformBody: transform answered string: expected a Uint8Array, an array of them, or undefined',
    );
    const log: string[] = [];
    const body = transformBody(recordingBody(['a'], log), { flush: () => Promise.reject(new Error('late')) });
    expect(text((await body.next()).value as Uint8Array)).toBe('a');
    expect(((await rejection(body.next())) as Error).message).toBe('late');
    expect(log).toEqual(['next', 'next']);
  });

  it("rejects the consumer's return() with what the body's return() throws", async () => {
    const body = transformBody(recordingBody(['a'], [], () => Promise.reject(new Error('close failed'))), {});
    await body.next();
    expect(((await rejection(body.return!())) as Error).message).toBe('close failed');
    // Behind a transform's error, it waits for the return() a server calls after a failure.
    const failing = transformBody(recordingBody(['a'], [], () => Promise.reject(new Error('close failed'))), { transform: () => { throw new Error('bad'); } });
    expect(((await rejection(failing.next())) as Error).message).toBe('bad');
    expect(((await rejection(failing.return!())) as Error).message).toBe('close failed');
    await failing.return!();
  });

  it('a return() while a next() waits closes the body; the pending next() answers done', async () => {
    const stream = new Readable({ read() {} }); // never produces
    const body = transformBody(stream, { transform: (chunk) => chunk });
    const pending = body.next();
    await sleep(5);
    await body.return!();
    expect(stream.destroyed).toBe(true);
    expect(await pending).toEqual({ done: true, value: undefined });
  });

  it('a return() while a transform is pending drops its chunks and calls no flush', async () => {
    const log: string[] = [];
    const gate = deferred<Uint8Array>();
    let flushed = false;
    const body = transformBody(recordingBody(['a', 'b'], log), { transform: () => gate.promise, flush: () => void (flushed = true) });
    const pending = body.next();
    await sleep(5);
    await body.return!();
    gate.resolve(bytes('A'));
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(log).toEqual(['next', 'return']);
    expect(flushed).toBe(false);
  });

  it('pulls the next chunk only once the chunks of the last one were taken; re-chunks; keeps a class transformer its this', async () => {
    const log: string[] = [];
    class Splitter implements BodyTransformer {
      size = 2;
      transform(chunk: Uint8Array): Uint8Array[] {
        const out: Uint8Array[] = [];
        for (let at = 0; at < chunk.byteLength; at += this.size) out.push(chunk.subarray(at, at + this.size));
        return out;
      }
    }
    const body = transformBody(recordingBody(['abcde', 'fg'], log), new Splitter());
    const got: string[] = [];
    for (let i = 0; i < 3; i++) got.push(text((await body.next()).value as Uint8Array));
    expect(got).toEqual(['ab', 'cd', 'e']);
    expect(log).toEqual(['next']);
    got.push(text((await body.next()).value as Uint8Array));
    expect(log).toEqual(['next', 'next']);
    expect(await body.next()).toEqual({ done: true, value: undefined });
    expect(got).toEqual(['ab', 'cd', 'e', 'fg']);
  });

  it('takes a sync body (an array, a generator) and answers an async one; no transformer passes chunks through', async () => {
    const body = transformBody([bytes('a'), bytes('b')], { transform: async (chunk) => bytes(text(chunk).toUpperCase()) });
    expect(Symbol.asyncIterator in body).toBe(true);
    expect(await read(body)).toBe('AB');
    let closed = false;
    function* gen(): Generator<Uint8Array> {
      try {
        yield bytes('x');
        yield bytes('y');
      } finally {
        closed = true;
      }
    }
    const passed = transformBody(gen(), {});
    expect(text((await passed.next()).value as Uint8Array)).toBe('x');
    await passed.return!();
    expect(closed).toBe(true);
  });
});
