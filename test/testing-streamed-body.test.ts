/**
 * tsgi/testing's TestClient with a streamed request body (`body` a ReadableStream or an async
 * iterable): pulled as the app reads, framed as serve() frames a chunked request, failing the
 * app's read as a broken-off body when the producer throws or breaks its Content-Length.
 */
import { describe, expect, it } from 'vitest';
import { type App, type Environ, Request, Response, serve } from 'tsgi';
import { TestClient, TestClientError } from 'tsgi/testing';
import { rejection } from './helpers.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Answers what it read: the framing keys of its environ and the body's text. */
const echo = Request.application(async (req) => {
  const { CONTENT_LENGTH, HTTP_TRANSFER_ENCODING } = req.environ;
  return Response.json({ length: CONTENT_LENGTH ?? null, te: HTTP_TRANSFER_ENCODING ?? null, terminated: req.environ['tsgi.input_terminated'] ?? null, body: await req.text() });
});

/** An async generator of `parts` (as UTF-8), recording each pull in `log` and its end in `state`. */
function producer(parts: string[], log: string[] = [], state = { finished: false, closed: false }) {
  async function* generate(): AsyncGenerator<Uint8Array> {
    try {
      for (const [i, part] of parts.entries()) {
        log.push(`produce ${i}`);
        yield encoder.encode(part);
      }
      state.finished = true;
    } finally {
      state.closed = true;
    }
  }
  return generate();
}

describe('a streamed request body', () => {
  it('is sent chunked, as serve() receives it: Transfer-Encoding, no CONTENT_LENGTH, tsgi.input_terminated', async () => {
    const client = new TestClient(echo);
    const fromGenerator = await client.post('/', { body: producer(['hello ', 'world']) });
    expect(await fromGenerator.json()).toEqual({ length: null, te: 'chunked', terminated: true, body: 'hello world' });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('from a '));
        controller.enqueue(encoder.encode('stream'));
        controller.close();
      },
    });
    const fromStream = await client.put('/', { body: stream });
    expect(await fromStream.json()).toEqual({ length: null, te: 'chunked', terminated: true, body: 'from a stream' });
  });

  it('gives the app the framing keys serve() gives it for a chunked request', async () => {
    const seen: Environ[] = [];
    const app = Request.application(async (req) => {
      seen.push({ ...req.environ });
      return new Response(await req.text());
    });
    const server = await serve(app, { host: '127.0.0.1', port: 0 });
    try {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode('a'));
          controller.close();
        },
      });
      const wire = await fetch(server.url, { method: 'POST', body, duplex: 'half' } as RequestInit);
      expect(await wire.text()).toBe('a');
      await new TestClient(app).post('/', { body: producer(['a']) });
    } finally {
      await server.close();
    }
    const keys = ['CONTENT_LENGTH', 'CONTENT_TYPE', 'HTTP_TRANSFER_ENCODING', 'tsgi.input_terminated'] as const;
    const [fromServer, fromClient] = seen.map((environ) => Object.fromEntries(keys.map((key) => [key, environ[key]])));
    expect(fromClient).toEqual(fromServer);
    expect(fromClient).toEqual({ CONTENT_LENGTH: undefined, CONTENT_TYPE: undefined, HTTP_TRANSFER_ENCODING: 'chunked', 'tsgi.input_terminated': true });
  });

  it('pulls the producer as the app reads, one chunk per read: nothing is drained up front', async () => {
    const log: string[] = [];
    const app = Request.application(async (req) => {
      log.push('app called');
      for await (const chunk of req.stream()) log.push(`read ${decoder.decode(chunk)}`);
      return new Response('ok');
    });
    await new TestClient(app).post('/', { body: producer(['a', 'b', 'c'], log) });
    expect(log).toEqual(['app called', 'produce 0', 'read a', 'produce 1', 'read b', 'produce 2', 'read c']);
  });

  it('streams both ways: an upload whose progress the app answers as it reads (buffered: false)', async () => {
    const app = Request.application((req) => {
      async function* progress() {
        let total = 0;
        for await (const chunk of req.stream()) {
          total += chunk.byteLength;
          yield encoder.encode(`${total}\n`);
        }
        yield encoder.encode('done\n');
      }
      return new Response(progress(), { contentType: 'text/plain' });
    });
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    async function* upload() {
      yield new Uint8Array(3);
      yield new Uint8Array(4);
      await gate; // the rest waits until the test has read the progress so far
      yield new Uint8Array(5);
    }
    const res = await new TestClient(app).post('/upload', { body: upload(), buffered: false });
    const lines: string[] = [];
    for await (const chunk of res) {
      lines.push(decoder.decode(chunk));
      if (lines.length === 2) release();
    }
    expect(lines.join('')).toBe('3\n7\n12\ndone\n');
  });

  it('reads NDJSON line by line as it arrives', async () => {
    const app = Request.application(async (req) => {
      const ids: number[] = [];
      let rest = '';
      for await (const chunk of req.stream()) {
        const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
        rest = lines.pop()!;
        for (const line of lines) if (line) ids.push((JSON.parse(line) as { id: number }).id);
      }
      return Response.json({ ids });
    });
    const res = await new TestClient(app).post('/ingest', {
      body: producer(['{"id":1}\n{"i', 'd":2}\n', '{"id":3}\n']),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(await res.json()).toEqual({ ids: [1, 2, 3] });
  });

  it('answers 413 from a body limit before the producer finished, and stops the producer', async () => {
    const state = { finished: false, closed: false };
    const log: string[] = [];
    const app = Request.application(async (req) => new Response(`${(await req.bytes({ maxBodySize: 10 })).byteLength}`));
    const res = await new TestClient(app).post('/', { body: producer(['12345678', '12345678', '12345678', '12345678'], log, state), status: 413 });
    expect(res.statusCode).toBe(413);
    expect(log).toEqual(['produce 0', 'produce 1']);
    expect(state).toEqual({ finished: false, closed: true });
  });

  it('stops a producer the app left unread once the call is over (its finally runs)', async () => {
    const state = { finished: false, closed: false };
    const log: string[] = [];
    // The app reads the first chunk only, and answers.
    const app = Request.application(async (req) => {
      for await (const chunk of req.stream()) return new Response(`first ${decoder.decode(chunk)}`);
      return new Response('empty');
    });
    const res = await new TestClient(app).post('/', { body: producer(['a', 'b', 'c'], log, state) });
    expect(res.textBody).toBe('first a');
    expect(log).toEqual(['produce 0']);
    expect(state).toEqual({ finished: false, closed: true });
    // A generator never read is closed too: it never starts.
    const unread = producer(['a'], log);
    await new TestClient(new Response('not read')).post('/', { body: unread });
    expect(await unread.next()).toEqual({ done: true, value: undefined });
    expect(log).toEqual(['produce 0']);
  });

  it('stops the producer of a request the server refuses before the app (a path it cannot decode, a bad Content-Length)', async () => {
    const refused = async (path: string, headers: Record<string, string>) => {
      let cancelled = false;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(encoder.encode('x'));
        },
        cancel() {
          cancelled = true;
        },
      });
      const res = await new TestClient(echo).post(path, { body: stream, headers, status: 400 });
      return { text: res.textBody, cancelled, locked: stream.locked };
    };
    expect(await refused('/%zz', {})).toEqual({ text: 'Bad Request: malformed percent-escape or invalid UTF-8 in the path\n', cancelled: true, locked: true });
    expect(await refused('/', { 'content-length': 'x' })).toEqual({ text: 'Bad Request: invalid Content-Length\n', cancelled: true, locked: true });
  });

  it('with a Content-Length: sends it, not Transfer-Encoding, and a body that keeps to it reads whole', async () => {
    const res = await new TestClient(echo).post('/', { body: producer(['12', '345']), headers: { 'content-length': '5' } });
    expect(await res.json()).toEqual({ length: '5', te: null, terminated: null, body: '12345' });
  });

  it('fails the read of a body shorter than its Content-Length as the server does a client gone mid-body: 400', async () => {
    let cause: unknown;
    const app = Request.application(async (req) => {
      try {
        return new Response(await req.text());
      } catch (error) {
        cause = (error as Error).cause;
        throw error;
      }
    });
    const res = await new TestClient(app).post('/', { body: producer(['123']), headers: { 'content-length': '5' }, status: 400 });
    expect(res.textBody).toContain('The request body could not be read completely.');
    expect((cause as Error).message).toBe('the request body ended after 3 of the 5 bytes its Content-Length declared');
  });

  it('fails the read of a body longer than its Content-Length: 400, the producer stopped', async () => {
    const state = { finished: false, closed: false };
    const res = await new TestClient(echo).post('/', { body: producer(['123', '456', '789'], [], state), headers: { 'content-length': '5' }, status: 400 });
    expect(res.textBody).toContain('The request body could not be read completely.');
    expect(state).toEqual({ finished: false, closed: true });
  });

  it('fails the read when the producer throws, as a body broken off: 400, nothing logged', async () => {
    async function* failing() {
      yield encoder.encode('partial');
      throw new Error('disk gone');
    }
    const res = await new TestClient(echo).post('/', { body: failing(), status: 400 });
    expect(res.textBody).toContain('The request body could not be read completely.');
    expect(res.errors).toBe('');
  });

  it('answers 400, not a logged 500, when a raw app lets the broken body error through (as serve() does)', async () => {
    const raw: App = async (environ, startResponse) => {
      for await (const chunk of environ['tsgi.input']) void chunk;
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [encoder.encode('read')];
    };
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error('upload cancelled'));
      },
    });
    const res = await new TestClient(raw).post('/', { body: stream, status: 400 });
    expect(res.statusCode).toBe(400);
    expect(res.errors).toBe('');
  });

  it('cuts the answer of a raw app that reads the body as it answers, when the body breaks after the head, nothing logged', async () => {
    const raw: App = (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield encoder.encode('start\n');
        for await (const chunk of environ['tsgi.input']) yield encoder.encode(`${chunk.byteLength}\n`);
      })();
    };
    let release = () => {};
    const headOut = new Promise<void>((resolve) => (release = resolve));
    async function* upload() {
      yield new Uint8Array(3);
      await headOut;
      throw new Error('disk gone');
    }
    const res = await new TestClient(raw).post('/', { body: upload(), buffered: false });
    release();
    const error = (await rejection(res.text())) as TestClientError;
    expect(error).toBeInstanceOf(TestClientError);
    expect(error.message).toBe('POST http://localhost/: the response was cut after its head: the request body broke off: its producer threw: disk gone');
    expect(res.errors).toBe('');
  });

  it('fails loudly on a chunk that is no Uint8Array (a 500 naming it)', async () => {
    async function* strings() {
      yield 'text' as unknown as Uint8Array;
    }
    const error = (await rejection(new TestClient(echo).post('/', { body: strings() }))) as TestClientError;
    expect(error).toBeInstanceOf(TestClientError);
    expect(error.message).toContain('a streamed request body must yield Uint8Array chunks; its producer yielded string');
    expect(error.response?.statusCode).toBe(500);
  });

  it('refuses to follow a 307 or 308 with it: it cannot be sent again', async () => {
    const app: App = (environ, startResponse) => {
      if (environ.PATH_INFO === '/old') {
        startResponse('308 Permanent Redirect', [['Location', '/new']]);
        return [];
      }
      return echo(environ, startResponse);
    };
    const error = (await rejection(new TestClient(app).post('/old', { body: producer(['x']), followRedirects: 1 }))) as TestClientError;
    expect(error).toBeInstanceOf(TestClientError);
    expect(error.message).toContain('a streamed body cannot be sent again');
    // By hand, res.follow() rejects (it does not throw where it is called).
    const redirect = await new TestClient(app).post('/old', { body: producer(['x']) });
    const followed = redirect.follow();
    expect(followed).toBeInstanceOf(Promise);
    await expect(followed).rejects.toThrow(/a streamed body cannot be sent again/);
    // A 303 drops the body: followed.
    const see: App = (environ, startResponse) => {
      if (environ.PATH_INFO === '/old') {
        startResponse('303 See Other', [['Location', '/new']]);
        return [];
      }
      return echo(environ, startResponse);
    };
    const res = await new TestClient(see).post('/old', { body: producer(['x']), followRedirects: 1 });
    expect(await res.json()).toMatchObject({ body: '' });
  });

  it('refuses to follow a 301 or 302 with it, as fetch() does (HTTP-redirect fetch: only a 303 goes on without a body it can send again)', async () => {
    const moved = (status: string): App => (environ, startResponse) => {
      if (environ.PATH_INFO === '/old') {
        startResponse(status, [['Location', '/new']]);
        return [];
      }
      return echo(environ, startResponse);
    };
    for (const status of ['301 Moved Permanently', '302 Found']) {
      for (const method of ['POST', 'PUT']) {
        const error = (await rejection(new TestClient(moved(status)).request(method, '/old', { body: producer(['x']), followRedirects: 1 }))) as TestClientError;
        expect(error).toBeInstanceOf(TestClientError);
        expect(error.message).toContain('a streamed body cannot be sent again');
      }
    }
  });

  it('answers 400 without calling the app for a Content-Length Node refuses', async () => {
    let called = false;
    const app = Request.application(() => {
      called = true;
      return new Response('ok');
    });
    const client = new TestClient(app);
    const bad = await client.post('/', { body: producer(['x']), headers: { 'content-length': 'x' }, status: 400 });
    expect(bad.textBody).toBe('Bad Request: invalid Content-Length\n');
    const both = await client.post('/', { body: producer(['x']), headers: { 'content-length': '1', 'transfer-encoding': 'chunked' }, status: 400 });
    expect(both.textBody).toBe('Bad Request: Content-Length together with Transfer-Encoding\n'); // serve()'s words
    expect(called).toBe(false);
  });
});
