/**
 * tsgi/testing's TestClient with `buffered: false` (Werkzeug's `buffered=False`), through its
 * public API: the call answers at the head, the body is read as the app produces it, closing
 * it early closes the app's body, and what goes wrong after the head still fails the test.
 */
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { TestClient, TestClientError } from 'tsgi/testing';
import { accessLog, wrapBody } from 'tsgi/middleware';
import { rejection } from './helpers.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A server-sent-events endpoint: `data: n` every 5 ms, never ending until closed. */
function events(status = '200 OK') {
  const state = { produced: 0, closed: false, signal: undefined as AbortSignal | undefined };
  const app: App = (environ, startResponse) => {
    state.signal = environ['tsgi.signal'];
    startResponse(status, [
      ['Content-Type', 'text/event-stream'],
      ['Set-Cookie', 'seen=1; Path=/'],
    ]);
    return (async function* () {
      try {
        for (let n = 0; ; n++) {
          state.produced++;
          yield encoder.encode(`data: ${n}\n\n`);
          await pause(5);
        }
      } finally {
        state.closed = true;
      }
    })();
  };
  return { app, state };
}

describe('buffered: false', () => {
  it('answers at the head of an endless stream: two events read, then closed, and the app’s finally ran', { timeout: 2000 }, async () => {
    const { app, state } = events();
    const client = new TestClient(app);
    const res = await client.get('/events', { buffered: false });
    expect(res.statusCode).toBe(200);
    expect(res.contentType).toBe('text/event-stream');
    expect(res.headers.get('content-length')).toBeNull();
    expect(client.cookies.get('seen')).toBe('1'); // stored at the head, before any reading
    expect(() => res.textBody).toThrow(/streamed \(buffered: false\): read it whole first/);
    expect(() => res.form()).toThrow(TestClientError);
    const received: string[] = [];
    for await (const chunk of res) {
      received.push(decoder.decode(chunk));
      if (received.length === 2) break;
    }
    expect(received).toEqual(['data: 0\n\n', 'data: 1\n\n']);
    expect(state.closed).toBe(true);
    expect(state.signal?.aborted).toBe(true);
    await res.close(); // closed already: nothing more to do
    expect(res.errors).toBe('');
  });

  it('closes through raw middleware: break and close() settle once the app’s finally has run', { timeout: 2000 }, async () => {
    // accessLog and a wrapBody middleware of one's own stand between the client and the app:
    // their return() must not answer before the app's own return() has (PEP 3333 close()).
    const countBytes = (app: App): App => async (environ, startResponse) => {
      let total = 0;
      return wrapBody(await app(environ, startResponse), { chunk: (chunk) => void (total += chunk.byteLength), close: () => total });
    };
    for (const wrap of [(app: App) => accessLog(app, { log: { write: () => true } }), countBytes]) {
      const broken = events();
      const res = await new TestClient(wrap(broken.app)).get('/events', { buffered: false });
      for await (const _ of res) break;
      expect(broken.state.closed).toBe(true);
      const closed = events();
      const again = await new TestClient(wrap(closed.app)).get('/events', { buffered: false });
      await again.close();
      expect(closed.state.closed).toBe(true);
    }
  });

  it('hands the first event over before the second is produced; res.text() reads the rest', { timeout: 2000 }, async () => {
    let open!: () => void;
    // Opened by the test; the timer only keeps a client that waits for the whole body from hanging.
    const gate = new Promise<void>((resolve) => {
      open = resolve;
      setTimeout(resolve, 300);
    });
    let produced = 0;
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
      return (async function* () {
        produced++;
        yield encoder.encode('first ');
        await gate;
        produced++;
        yield encoder.encode('second ');
        produced++;
        yield encoder.encode('third');
      })();
    };
    const res = await new TestClient(app).get('/', { buffered: false });
    const chunks = res[Symbol.asyncIterator]();
    expect(decoder.decode((await chunks.next()).value)).toBe('first ');
    expect(produced).toBe(1);
    open();
    expect(await res.text()).toBe('second third');
    expect(produced).toBe(3);
    expect(res.textBody).toBe('second third');
    expect(res.headers.get('content-length')).toBeNull(); // as received: the stream went out chunked
  });

  it('checks the status at the call, and closes the body it does not wait for', { timeout: 2000 }, async () => {
    const { app, state } = events();
    const error = (await rejection(new TestClient(app).get('/events', { buffered: false, status: 404 }))) as TestClientError;
    expect(error).toBeInstanceOf(TestClientError);
    expect(error.message).toBe('GET http://localhost/events answered 200 OK, expected 404\n(the body was not read: buffered: false)');
    expect(error.response?.statusCode).toBe(200);
    expect(state.closed).toBe(true);
    const failing = events('503 Service Unavailable');
    await expect(new TestClient(failing.app).get('/', { buffered: false })).rejects.toThrow(/answered 503 Service Unavailable, expected 2xx or 3xx/);
    expect(failing.state.closed).toBe(true);
  });

  it('fails the read of a body cut half-way, as the server cuts the connection', { timeout: 2000 }, async () => {
    let signal: AbortSignal | undefined;
    const app: App = (environ, startResponse) => {
      signal = environ['tsgi.signal'];
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield encoder.encode('a');
        await pause(5);
        yield encoder.encode('b');
        throw new Error('disk gone');
      })();
    };
    const res = await new TestClient(app).get('/', { buffered: false });
    expect(res.errors).toBe('');
    const error = (await rejection(res.text())) as TestClientError;
    expect(error).toBeInstanceOf(TestClientError);
    expect(error.message).toMatch(/^GET http:\/\/localhost\/: the response was cut after its head: disk gone/);
    expect(error.message).toContain('[tsgi] GET / HTTP/1.1: Error: disk gone');
    expect((error.cause as Error).message).toBe('disk gone');
    expect(error.response).toBe(res);
    expect(res.errors).toContain('Error: disk gone');
    expect(signal?.aborted).toBe(true);
  });

  it('fails the read of a body that does not match its Content-Length', { timeout: 2000 }, async () => {
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Length', '10']]);
      return (async function* () {
        yield encoder.encode('abc');
        await pause(5);
        yield encoder.encode('def');
      })();
    };
    const res = await new TestClient(app, { lint: false }).get('/', { buffered: false });
    expect(res.headers.get('content-length')).toBe('10');
    await expect(res.bytes()).rejects.toThrow(/cut after its head: the app declared Content-Length: 10 but its body has 6 bytes/);
  });

  it('fails the end of the read, or the close, on what the app logged after the head', { timeout: 2000 }, async () => {
    const app: App = (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        try {
          yield encoder.encode('a');
          await pause(5);
          environ['tsgi.errors'].write('slow disk\n');
          yield encoder.encode('b');
        } finally {
          if (environ.PATH_INFO === '/close') environ['tsgi.errors'].write('closed early\n');
        }
      })();
    };
    const client = new TestClient(app);
    const read = await client.get('/', { buffered: false });
    await expect(read.text()).rejects.toThrow(/^GET http:\/\/localhost\/ wrote to tsgi.errors \(pass allowErrors to permit it\):\n {2}slow disk/);
    const closed = await client.get('/close', { buffered: false });
    // Closed while the second chunk is on its way: the app logs, yields it, then its finally runs.
    await expect(closed.close()).rejects.toThrow(/wrote to tsgi.errors \(pass allowErrors to permit it\):\n {2}slow disk\n {2}closed early\n/);
    const allowed = await client.get('/', { buffered: false, allowErrors: true });
    expect(await allowed.text()).toBe('ab');
    expect(allowed.errors).toBe('slow disk\n');
  });

  it('reads an answer whose body is over at the head as buffered, and the redirects followed whole', { timeout: 2000 }, async () => {
    const { app: stream, state } = events();
    const app: App = (environ, startResponse) => {
      if (environ.PATH_INFO === '/events') return stream(environ, startResponse);
      if (environ.PATH_INFO === '/old') return new Response(null, { status: 302, headers: { Location: '/events' } }).respond(environ, startResponse);
      return Request.application(() => 'hello')(environ, startResponse);
    };
    const client = new TestClient(app);
    const short = await client.get('/', { buffered: false });
    expect(short.textBody).toBe('hello');
    expect(short.headers.get('content-length')).toBe('5');
    // lint: false, since lint refuses body bytes to a HEAD: here the server's discarding is tested.
    const head = await new TestClient(app, { lint: false }).head('/events', { buffered: false });
    expect(head.textBody).toBe('');
    expect(state.closed).toBe(true); // no body to a HEAD: the stream closed, as the server closes it
    state.closed = false;
    const res = await client.get('/old', { buffered: false, followRedirects: 1 });
    expect(res.history.map((r) => r.statusCode)).toEqual([302]);
    expect(res.url).toBe('http://localhost/events');
    const first = await res[Symbol.asyncIterator]().next();
    expect(decoder.decode(first.value)).toBe('data: 0\n\n');
    await res.close();
    expect(state.closed).toBe(true);
  });
});
