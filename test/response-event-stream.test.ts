/**
 * `Response.eventStream`: server-sent events framed as the HTML standard's `text/event-stream`
 * parser reads them (undici's `EventSource` over a real socket), sent as they come, with
 * heartbeats while idle, the source closed when the client leaves; bad events refused.
 */
import http from 'node:http';
import net from 'node:net';
import { EventSource } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { Request, Response, type ServerSentEvent } from 'tsgi';
import { deferred, getFirstChunk, sleep, start, within } from './node-helpers.ts';

/** The whole body of an event stream over `events`, without heartbeats. */
const framed = (events: Array<ServerSentEvent | string>) => Response.eventStream(events, { heartbeat: 0 }).text();

describe('Response.eventStream: the framing', () => {
  it('frames each field as the standard says, after an opening comment', async () => {
    expect(await framed(['hello'])).toBe(':\n\ndata: hello\n\n');
    expect(await framed(['two\nlines', 'crlf\r\nand\rcr', ''])).toBe(
      ':\n\ndata: two\ndata: lines\n\ndata: crlf\ndata: and\ndata: cr\n\ndata:\n\n',
    );
    expect(await framed([{ event: 'tick', id: '7', data: '{"n":1}' }])).toBe(':\n\nevent: tick\nid: 7\ndata: {"n":1}\n\n');
    expect(await framed([{ retry: 3000 }, { comment: 'hi\nthere' }, { event: 'ping' }, { id: '' }])).toBe(
      ':\n\nretry: 3000\n\n: hi\n: there\n\nevent: ping\ndata:\n\nid: \ndata:\n\n',
    );
  });

  it('answers next() calls made before the last settled in order, each event once (as an async generator queues them)', async () => {
    const res = Response.eventStream(
      (async function* () {
        await sleep(20);
        yield 'a';
        yield 'b';
      })(),
      { heartbeat: 10 },
    );
    const body = res.body as AsyncIterable<Uint8Array>;
    const iterator = body[Symbol.asyncIterator]();
    const steps = await Promise.all([iterator.next(), iterator.next(), iterator.next(), iterator.next()]);
    const decoder = new TextDecoder();
    expect(steps.map((step) => (step.done ? 'done' : decoder.decode(step.value)))).toEqual([':\n\n', 'data: a\n\n', 'data: b\n\n', 'done']);
  });

  it('wakes each of two overlapping next() calls with heartbeat: 0 (no timer to fall back on)', async () => {
    const gate = deferred();
    const res = Response.eventStream(
      (async function* () {
        await gate.promise;
        yield 'a';
        yield 'b';
      })(),
      { heartbeat: 0 },
    );
    const iterator = (res.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    await iterator.next(); // the opening comment
    const first = iterator.next();
    const second = iterator.next();
    gate.resolve();
    const decoder = new TextDecoder();
    const steps = await Promise.race([Promise.all([first, second]), sleep(1000).then(() => 'stuck' as const)]);
    expect(steps === 'stuck' ? steps : steps.map((step) => (step.done ? 'done' : decoder.decode(step.value)))).toEqual(['data: a\n\n', 'data: b\n\n']);
    await iterator.return?.();
  });

  it('awaits the promises a plain iterable yields, in turn, as for await does; one that rejects fails the body', async () => {
    const later = (value: string, ms: number) => new Promise<string>((resolve) => setTimeout(resolve, ms, value));
    const events = [later('slow', 30), Promise.resolve({ event: 'fast', data: 'x' }), 'plain'];
    expect(await Response.eventStream(events, { heartbeat: 0 }).text()).toBe(':\n\ndata: slow\n\nevent: fast\ndata: x\n\ndata: plain\n\n');
    // A heartbeat still goes out while a yielded promise is pending.
    expect(await Response.eventStream([later('late', 60)], { heartbeat: 0.02 }).text()).toMatch(/^:\n\n(: ping\n\n)+data: late\n\n$/);
    await expect(Response.eventStream([Promise.reject(new Error('no data'))], { heartbeat: 0 }).text()).rejects.toThrow('no data');
  });

  it('sends the head a stream needs, and no length', () => {
    const res = Response.eventStream([]);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream\b/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('content-length')).toBeNull();
  });

  it('refuses what cannot be framed: a field that would start another, a bad retry, a bad source or heartbeat', async () => {
    await expect(framed([{ event: 'a\nid: forged' }])).rejects.toThrow(/event must not contain CR or LF/);
    await expect(framed([{ id: 'a\rb' }])).rejects.toThrow(/id must not contain CR or LF/);
    await expect(framed([{ id: 'a\0b' }])).rejects.toThrow(/id must not contain NUL/);
    await expect(framed([{ retry: -1 }])).rejects.toThrow(/retry must be a non-negative integer/);
    await expect(framed([{ retry: 1.5 }])).rejects.toThrow(/retry must be a non-negative integer/);
    await expect(framed([42 as unknown as string])).rejects.toThrow(/the 1st event must be a string or an object \{ data, event, id, retry, comment \}, not a number/);
    // A field that is not text is refused, not sent as `[object Object]`; numbers and booleans are text enough.
    await expect(framed([{ data: { n: 1 } as never }])).rejects.toThrow(/data must be a string, not an object \(JSON.stringify it\)/);
    await expect(framed([{ data: [1, 2] as never }])).rejects.toThrow(/data must be a string, not an array/);
    await expect(framed([{ data: null as never }])).rejects.toThrow(/data must be a string, not null/);
    await expect(framed([{ id: {} as never }])).rejects.toThrow(/id must be a string, not an object/);
    await expect(framed([{ event: Symbol('x') as never }])).rejects.toThrow(/event must be a string, not a symbol/);
    await expect(framed([{ comment: {} as never }])).rejects.toThrow(/comment must be a string, not an object/);
    expect(await framed([{ data: 42 as never, id: 7 as never, event: true as never, comment: 1n as never }])).toBe(':\n\n: 1\nevent: true\nid: 7\ndata: 42\n\n');
    expect(() => Response.eventStream(42 as never)).toThrow(/the source must be an iterable/);
    // A string is iterable (and typed Iterable<string>), but one event per character is never meant.
    expect(() => Response.eventStream('hello')).toThrow(/the source must be an iterable or async iterable of events, not a string/);
    await expect(framed([['a', 'b'] as never])).rejects.toThrow(/the 1st event must be a string or an object .*, not an array/);
    expect(() => Response.eventStream([], { heartbeat: -1 })).toThrow(/heartbeat must be a number of seconds/);
    expect(() => Response.eventStream([], { heartbeat: Number.NaN })).toThrow(/heartbeat must be a number of seconds/);
    // Past setTimeout's limit (2147483647 ms, about 24.8 days) Node would ping every millisecond.
    expect(() => Response.eventStream([], { heartbeat: 3e6 })).toThrow(/heartbeat must be a number of seconds ≥ 0 and at most 2147483.647/);
    expect(() => Response.eventStream([], { heartbeat: 2147483.647 })).not.toThrow();
  });
});

describe('Response.eventStream over a real socket', () => {
  const sources: EventSource[] = [];
  afterEach(() => {
    for (const source of sources.splice(0)) source.close();
  });

  it('is read by an EventSource: types, ids, multi-line data, and Last-Event-ID on reconnection', async () => {
    const lastIds: Array<string | null> = [];
    const app = Request.application((req) => {
      lastIds.push(req.headers.get('last-event-id'));
      const from = Number(req.headers.get('last-event-id') ?? 0);
      return Response.eventStream([
        { retry: 50 },
        { event: 'greeting', data: 'hello\nworld', id: String(from + 1) },
        { data: `after ${from}`, id: String(from + 2) },
      ]);
    });
    const server = await start(app);
    const source = new EventSource(`${server.url}/events`);
    sources.push(source);
    const seen: string[] = [];
    const done = deferred();
    source.addEventListener('greeting', (event) => {
      const { lastEventId, data } = event as MessageEvent;
      seen.push(`greeting ${lastEventId} ${JSON.stringify(data)}`);
    });
    source.onmessage = (event) => {
      seen.push(`message ${event.lastEventId} ${event.data}`);
      if (seen.length === 4) done.resolve();
    };
    await done.promise;
    // The stream ended, the browser reconnected after `retry` with the last id it saw.
    expect(seen).toEqual(['greeting 1 "hello\\nworld"', 'message 2 after 0', 'greeting 3 "hello\\nworld"', 'message 4 after 2']);
    expect(lastIds.slice(0, 2)).toEqual([null, '2']);
  });

  it('is reconnected to at once after retry: 0, each time with the last id', async () => {
    const lastIds: Array<string | null> = [];
    const app = Request.application((req) => {
      lastIds.push(req.headers.get('last-event-id'));
      return Response.eventStream([{ retry: 0 }, { id: String(lastIds.length), data: 'x' }]);
    });
    const server = await start(app);
    const source = new EventSource(`${server.url}/`);
    sources.push(source);
    const seen: string[] = [];
    source.onmessage = (event) => seen.push(event.lastEventId);
    expect(await within(() => seen.length >= 3, 3000)).toBe(true);
    source.close();
    expect(seen.slice(0, 3)).toEqual(['1', '2', '3']);
    expect(lastIds.slice(0, 3)).toEqual([null, '1', '2']);
  });

  it('sends the head at once, each event as it comes, and pings while the source is idle', async () => {
    const gate = deferred();
    const app = Request.application(() =>
      Response.eventStream(
        (async function* () {
          await gate.promise;
          yield 'late';
        })(),
        { heartbeat: 0.05 },
      ),
    );
    const server = await start(app);
    const { head, body } = await getFirstChunk(`${server.url}/`);
    expect(head.headers['content-type']).toMatch(/^text\/event-stream/);
    let text = '';
    head.on('data', (chunk: Buffer) => (text += chunk.toString()));
    expect(await within(() => text.includes(': ping\n\n'), 2000)).toBe(true);
    gate.resolve();
    expect(await body).toMatch(/^:\n\n(: ping\n\n)+data: late\n\n$/);
  });

  it('closes the source at once when the client leaves, even while it waits', async () => {
    const closed = deferred();
    let returned = false;
    // A source that never yields a second event: only its return() can end it.
    const source: AsyncIterableIterator<string> = {
      next: (() => {
        let first = true;
        return () => (first ? ((first = false), Promise.resolve({ done: false, value: 'one' })) : new Promise<IteratorResult<string>>(() => {}));
      })(),
      return: () => {
        returned = true;
        closed.resolve();
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    const server = await start(Request.application(() => Response.eventStream(source, { heartbeat: 0 })));
    const req = http.get(`${server.url}/`, { agent: false });
    const res = await new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve));
    let text = '';
    res.on('data', (chunk: Buffer) => (text += chunk.toString()));
    expect(await within(() => text.includes('data: one'), 2000)).toBe(true);
    req.destroy();
    await closed.promise;
    expect(returned).toBe(true);
  });

  it('cuts the stream and logs when an event cannot be framed', async () => {
    const app = Request.application(() =>
      Response.eventStream(
        (async function* () {
          yield { data: 'ok' };
          await sleep(50);
          yield { event: 'bad\nname' };
        })(),
        { heartbeat: 0 },
      ),
    );
    const server = await start(app);
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${server.url}/`, { agent: false }, resolve).on('error', reject));
    expect(res.statusCode).toBe(200);
    let text = '';
    res.on('data', (chunk: Buffer) => (text += chunk.toString()));
    res.on('error', () => undefined);
    await new Promise((resolve) => res.on('close', resolve));
    expect(text).toBe(':\n\ndata: ok\n\n');
    expect(res.complete).toBe(false);
    expect(await within(() => server.log.text.includes('event must not contain CR or LF'), 2000)).toBe(true);
  });
});

describe('Response.eventStream: an event with an unknown field, or no event at all', () => {
  // What each is sent as without the check: `type` as a `message` event, the others as a blank one.
  const bad: Array<[string, unknown, RegExp]> = [
    ['type', { type: 'price', data: '1' }, /event stream: the 2nd event has no field "type": did you mean "event"\? \(fields: data, event, id, retry, comment\)/],
    ['message', { message: 'x' }, /the 2nd event has no field "message": did you mean "data"\?/],
    ['bytes', new TextEncoder().encode('data: x'), /the 2nd event must be a string or an object \{ data, event, id, retry, comment \}, not a Uint8Array object \(data is text: decode it\)/],
    ['number', 42, /the 2nd event must be a string or an object .*, not a number/],
    ['array', ['a'], /the 2nd event must be a string or an object .*, not an array/],
  ];

  it('cuts the stream at that event and logs the field it meant, the events before it sent', async () => {
    const app = Request.application((req) =>
      Response.eventStream(
        (async function* () {
          yield { data: 'ok' };
          await sleep(20);
          yield bad.find(([name]) => `/${name}` === req.path)![1] as ServerSentEvent;
          yield { data: 'never' };
        })(),
        { heartbeat: 0 },
      ),
    );
    const server = await start(app);
    for (const [name, , message] of bad) {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${server.url}/${name}`, { agent: false }, resolve).on('error', reject));
      expect(res.statusCode).toBe(200);
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('error', () => undefined);
      await new Promise((resolve) => res.on('close', resolve));
      expect(text, name).toBe(':\n\ndata: ok\n\n');
      expect(res.complete, name).toBe(false);
      expect(await within(() => message.test(server.log.text), 2000), `${name}: ${server.log.text}`).toBe(true);
    }
  });

  it('names a misspelt field, and another API\'s name for one', async () => {
    await expect(framed([{ evnet: 'tick', data: '1' } as never])).rejects.toThrow(/the 1st event has no field "evnet": did you mean "event"\?/);
    await expect(framed(['a', 'b', { data: '1', lastEventId: '7' } as never])).rejects.toThrow(/the 3rd event has no field "lastEventId": did you mean "id"\?/);
    await expect(framed([{ data: '1', extra: true } as never])).rejects.toThrow(/no field "extra" \(fields: data, event, id, retry, comment\)$/);
    await expect(framed([new Map([['data', '1']]) as never])).rejects.toThrow(/must be a string or an object .*, not a Map/);
    await expect(framed([new (class Tick { data = '1'; })() as never])).rejects.toThrow(/must be a string or an object .*, not a Tick object$/);
  });

  it('takes an object without Object\'s prototype, a field holding undefined, and an empty object (a blank line)', async () => {
    const bare = Object.assign(Object.create(null) as ServerSentEvent, { data: 'bare' });
    expect(await framed([bare, { data: 'x', event: undefined }, {}])).toBe(':\n\ndata: bare\n\ndata: x\n\n\n');
  });
});

describe('Response.eventStream: resources over a real socket', () => {
  it('pulls no event faster than a paused client takes them (backpressure), pings included', async () => {
    let pulled = 0;
    const big = 'x'.repeat(1 << 20);
    const events = function* () {
      for (;;) {
        pulled++;
        yield big;
      }
    };
    const server = await start(Request.application(() => Response.eventStream(events(), { heartbeat: 0.01 })));
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.pause();
    // Until the source stalls (the socket buffers are full), not a fixed 300 ms: a loaded
    // machine could still be filling them then, and pull more in the window below.
    let soFar = -1;
    for (let quiet = 0, i = 0; quiet < 2 && i < 100; i++) {
      quiet = pulled === soFar ? quiet + 1 : 0;
      soFar = pulled;
      await sleep(100);
    }
    soFar = pulled;
    await sleep(200);
    socket.destroy();
    // What the socket buffers took (a few MiB on loopback), then nothing more while paused.
    expect(soFar).toBeLessThan(32);
    expect(pulled).toBe(soFar);
  });

  it('never starts the source for HEAD', async () => {
    let started = false;
    const server = await start(
      Request.application(() =>
        Response.eventStream(
          (async function* () {
            started = true;
            yield 'one';
          })(),
        ),
      ),
    );
    const head = await fetch(`${server.url}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect(started).toBe(false);
  });

  it('clears its heartbeat timer when the client leaves while the source is idle', async () => {
    // The heartbeat timers (60 s, a delay nothing else here uses) that are set and not yet cleared.
    const live = new Set<unknown>();
    const { setTimeout: realSet, clearTimeout: realClear } = globalThis;
    globalThis.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const handle = realSet(() => callback(...args), ms);
      if (ms === 60_000) live.add(handle);
      return handle;
    }) as typeof setTimeout;
    globalThis.clearTimeout = ((handle: Parameters<typeof clearTimeout>[0]) => {
      live.delete(handle);
      realClear(handle);
    }) as typeof clearTimeout;
    try {
      const idle: AsyncIterableIterator<string> = {
        next: () => new Promise<IteratorResult<string>>(() => {}),
        return: () => Promise.resolve({ done: true, value: undefined }),
        [Symbol.asyncIterator]() {
          return this;
        },
      };
      const server = await start(Request.application(() => Response.eventStream(idle, { heartbeat: 60 })));
      const req = http.get(`${server.url}/`, { agent: false });
      req.on('error', () => {});
      const res = await new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve));
      res.resume();
      expect(await within(() => live.size === 1, 2000)).toBe(true);
      req.destroy();
      expect(await within(() => live.size === 0, 1000)).toBe(true);
    } finally {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    }
  });
});
