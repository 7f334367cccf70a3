/**
 * `TestResponse.events()`: a server-sent event stream read as a browser's `EventSource` reads
 * it, buffered or as it comes, the app's source closed when the test stops reading.
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { compress } from 'tsgi/middleware';
import { TestClient, TestClientError } from 'tsgi/testing';

const enc = new TextEncoder();

/** A raw app sending `chunks` as a `text/event-stream`, one per step. */
const rawStream = (chunks: string[]): App => (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
  return (async function* () {
    for (const chunk of chunks) yield enc.encode(chunk);
  })();
};

const all = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
};

describe('TestResponse.events()', () => {
  it('gives the events Response.eventStream sent, as an EventSource dispatches them', async () => {
    const app = Request.application(() =>
      Response.eventStream([{ retry: 100 }, 'hello\nworld', { event: 'tick', id: '7', data: '1' }, { comment: 'note' }, { data: 'after' }], { heartbeat: 0 }),
    );
    const res = await new TestClient(app).get('/');
    expect(await all(res.events())).toEqual([
      { type: 'message', data: 'hello\nworld', lastEventId: '' },
      { type: 'tick', data: '1', lastEventId: '7' },
      { type: 'message', data: 'after', lastEventId: '7' },
    ]);
  });

  it('parses as the standard says, whatever the chunking: CR, LF, CRLF split across chunks, a BOM, odd fields', async () => {
    const text = '\uFEFFdata:no space\r\n\r\nevent: custom\r\ndata: a\rdata:  two spaces\r\rid: x\0y\nid: 3\nretry: soon\nunknown: 1\ndata\n\n: only a comment\n\nevent: lost\n\ndata: cut off';
    const expected = [
      { type: 'message', data: 'no space', lastEventId: '' },
      { type: 'custom', data: 'a\n two spaces', lastEventId: '' },
      { type: 'message', data: '', lastEventId: '3' },
    ];
    const bytes = enc.encode(text);
    // Whole, one byte per chunk (a CR LF split, a UTF-8 BOM split), and in three pieces.
    for (const chunks of [[text], Array.from(bytes, (b) => String.fromCharCode(b)), [text.slice(0, 20), text.slice(20, 41), text.slice(41)]]) {
      const app: App =
        chunks.length === bytes.length
          ? (_environ, startResponse) => {
              startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
              return (async function* () {
                for (const b of bytes) yield Uint8Array.of(b);
              })();
            }
          : rawStream(chunks);
      // Unbuffered, the parser gets the chunks as the app made them.
      const res = await new TestClient(app).get('/', { buffered: false });
      expect(await all(res.events()), `${chunks.length} chunks`).toEqual(expected);
    }
  });

  it('keeps a CR LF split by an empty chunk (a flush) one line end, as over the wire, where no empty chunk is seen', async () => {
    const res = await new TestClient(rawStream(['data: a\r', '', '\ndata: b\r\n\r\n'])).get('/', { buffered: false });
    expect(await all(res.events())).toEqual([{ type: 'message', data: 'a\nb', lastEventId: '' }]);
  });

  it('with buffered: false, gives each event as it comes, and closes the source when the test stops reading', async () => {
    const steps: string[] = [];
    const app = Request.application((req) =>
      Response.eventStream(
        (async function* () {
          try {
            for (let i = 1; ; i++) {
              steps.push(`sent ${i}`);
              yield { data: String(i) };
              await new Promise((resolve) => setTimeout(resolve, 5));
            }
          } finally {
            steps.push(`closed, signal aborted: ${String(req.signal?.aborted)}`);
          }
        })(),
        { heartbeat: 0 },
      ),
    );
    const res = await new TestClient(app).get('/', { buffered: false });
    const seen: string[] = [];
    for await (const event of res.events()) {
      seen.push(event.data);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual(['1', '2', '3']);
    expect(steps.at(-1)).toBe('closed, signal aborted: true');
    expect(steps.filter((s) => s.startsWith('sent')).length).toBeLessThanOrEqual(4);
  });

  it('decodes a compressed stream (compress, Accept-Encoding) as a browser does, each event as it comes', async () => {
    const app = compress(
      Request.application((req) =>
        Response.eventStream(
          (async function* () {
            for (let i = 1; !req.signal?.aborted; i++) {
              yield { id: String(i), data: 'x'.repeat(600) };
              await new Promise((resolve) => setTimeout(resolve, 2));
            }
          })(),
          { heartbeat: 0 },
        ),
      ),
    );
    for (const coding of ['gzip', 'br', 'deflate']) {
      const res = await new TestClient(app).get('/', { buffered: false, headers: { 'accept-encoding': coding } });
      expect(res.headers.get('content-encoding')).toBe(coding);
      const ids: string[] = [];
      for await (const event of res.events()) {
        expect(event.data).toBe('x'.repeat(600));
        if (ids.push(event.lastEventId) === 3) break;
      }
      expect(ids).toEqual(['1', '2', '3']);
    }
  }, 5000);

  it('decodes a coded stream as Chromium does: the first gzip member only, and a zstd stream with bytes after its last frame fails', async () => {
    const sent = (coding: string, body: Uint8Array): App => (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/event-stream'], ['Content-Encoding', coding]]);
      return [body];
    };
    const one = Buffer.from('id: 1\ndata: a\n\n');
    const two = Buffer.from('id: 2\ndata: b\n\n');
    const members = await new TestClient(sent('gzip', Buffer.concat([zlib.gzipSync(one), zlib.gzipSync(two)]))).get('/');
    const ids: string[] = [];
    for await (const event of members.events()) ids.push(event.lastEventId);
    expect(ids).toEqual(['1']);
    const frames = await new TestClient(sent('zstd', Buffer.concat([zlib.zstdCompressSync(one), zlib.zstdCompressSync(two)]))).get('/');
    const both: string[] = [];
    for await (const event of frames.events()) both.push(event.lastEventId);
    expect(both).toEqual(['1', '2']);
    const junk = await new TestClient(sent('zstd', Buffer.concat([zlib.zstdCompressSync(one), Buffer.from('JUNK')]))).get('/');
    await expect((async () => {
      for await (const event of junk.events()) void event;
    })()).rejects.toThrow(/zstd/);
  });

  it('gives the events sent before one with an unknown field, then fails naming the field it meant', async () => {
    const app = Request.application(() => Response.eventStream([{ data: 'ok' }, {}, { type: 'price', data: '1' } as never, 'never'], { heartbeat: 0 }));
    const cut = /the response was cut after its head: event stream: the 3rd event has no field "type": did you mean "event"\?/;
    await expect(new TestClient(app).get('/')).rejects.toThrow(cut);
    const res = await new TestClient(app).get('/', { buffered: false });
    const seen: unknown[] = [];
    await expect(
      (async () => {
        for await (const event of res.events()) seen.push(event);
      })(),
    ).rejects.toThrow(cut);
    // `{}` is a blank line, which dispatches nothing.
    expect(seen).toEqual([{ type: 'message', data: 'ok', lastEventId: '' }]);
  });

  it('refuses a stream in a coding a browser cannot decode', async () => {
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/event-stream'], ['Content-Encoding', 'compress']]);
      return [enc.encode('data: 1\n\n')];
    };
    const res = await new TestClient(app, { lint: false }).get('/');
    expect(() => res.events()).toThrow(/res.events\(\): the stream is sent with Content-Encoding "compress"/);
  });

  it('refuses a response that is not an event stream', async () => {
    const res = await new TestClient(Request.application(() => 'plain')).get('/');
    expect(() => res.events()).toThrow(TestClientError);
    expect(() => res.events()).toThrow(/not an event stream \(Content-Type: "text\/plain; charset=utf-8"\)/);
  });
});

describe('TestClient shutdownSignal', () => {
  it('ends a live event stream as a complete one when it aborts, and is the app\'s req.shutdownSignal', async () => {
    const stopping = new AbortController();
    let closed = false;
    const app = Request.application((req) => {
      if (req.path === '/poll') return req.shutdownSignal === stopping.signal ? 'shared' : 'other';
      return Response.eventStream(
        (async function* () {
          try {
            for (let n = 0; ; n++) {
              yield String(n);
              await new Promise((resolve) => setTimeout(resolve, 10));
            }
          } finally {
            closed = true;
          }
        })(),
        { heartbeat: 0 },
      );
    });
    const client = new TestClient(app, { shutdownSignal: stopping.signal });
    expect((await client.get('/poll')).textBody).toBe('shared');
    const res = await client.get('/events', { buffered: false });
    const seen: string[] = [];
    for await (const event of res.events()) {
      seen.push(event.data);
      if (seen.length === 3) stopping.abort();
    }
    expect(seen.slice(0, 3)).toEqual(['0', '1', '2']);
    expect(seen.length).toBeLessThanOrEqual(4); // an event in hand at the abort may still come
    // The source is closed at once; its finally runs when its current wait (10 ms) ends.
    for (let i = 0; i < 50 && !closed; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(closed).toBe(true);
    expect(() => new TestClient(app, { shutdownSignal: 'soon' as never })).toThrow(/shutdownSignal must be an AbortSignal/);
  });

  it('reports nothing for a live event stream whose source stops on the signal itself (an AbortError)', async () => {
    const stopping = new AbortController();
    const app: App = (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
      return (async function* () {
        yield new TextEncoder().encode('data: one\n\n');
        const shutdown = environ['tsgi.shutdown_signal'] as AbortSignal;
        await new Promise((_resolve, reject) => shutdown.addEventListener('abort', () => reject(shutdown.reason), { once: true }));
      })();
    };
    const client = new TestClient(app, { shutdownSignal: stopping.signal });
    const res = await client.get('/events', { buffered: false });
    const seen: string[] = [];
    for await (const event of res.events()) {
      seen.push(event.data);
      stopping.abort();
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toEqual(['one']);
    expect(res.errors).toBe('');
  });

  it('ends an event stream read whole (buffered, the default) when it aborts, answering the events sent until then', async () => {
    const stopping = new AbortController();
    let closed = false;
    const app = Request.application(() =>
      Response.eventStream(
        (async function* () {
          try {
            for (let n = 0; ; n++) {
              if (n === 3) stopping.abort(); // the deploy begins while the test reads the stream whole: no event 3
              yield String(n);
              await new Promise((resolve) => setTimeout(resolve, 5));
            }
          } finally {
            closed = true;
          }
        })(),
        { heartbeat: 0 },
      ),
    );
    const client = new TestClient(app, { shutdownSignal: stopping.signal });
    const answer = client.get('/events');
    const res = await Promise.race([answer, new Promise<null>((resolve) => setTimeout(resolve, 2000, null))]);
    expect(res).not.toBeNull();
    expect(res!.statusCode).toBe(200);
    expect((await all(res!.events())).map((event) => event.data)).toEqual(['0', '1', '2']);
    for (let i = 0; i < 50 && !closed; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(closed).toBe(true);
    // Asked for once the shutdown began, read whole: its first event, then the end, as a server sends it.
    const late = await client.get('/events');
    expect((await all(late.events())).map((event) => event.data)).toEqual(['0']);
  });
});
