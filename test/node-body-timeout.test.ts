/**
 * `serve(app, { bodyTimeout })`, nginx's `client_body_timeout`, over a real socket: a body
 * that stalls while the app reads it is answered 408 (before the head) or cut (after it), and
 * the connection closes; a slow but steady body, an app busy between its reads and an app that
 * never reads the body are not affected; HTTP/2 streams alike.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { type App, Request, Response, serve } from 'tsgi';
import { errors } from 'tsgi/middleware';
import { parseRaw, sleep, start } from './node-helpers.ts';

/** What a raw client got: everything the server sent, whether it closed, and when (ms after the last write). */
interface Outcome {
  raw: string;
  closed: boolean;
  /** Milliseconds from the client's last write to the server's close (or to giving up). */
  after: number;
}

/**
 * Sends `head`, then each of `parts` `gap` ms apart, then waits for the server to close the
 * connection, at most `wait` ms after the last part.
 */
function stalling(port: number, head: string, parts: string[], gap: number, wait: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let raw = '';
    let last = Date.now();
    let settled = false;
    const done = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ raw, closed, after: Date.now() - last });
    };
    socket.setEncoding('latin1').on('data', (text: string) => (raw += text));
    socket.on('error', () => {});
    socket.on('close', () => done(true));
    let giveUp: NodeJS.Timeout | undefined;
    const armGiveUp = () => {
      last = Date.now();
      giveUp = setTimeout(() => done(false), wait);
    };
    socket.on('connect', async () => {
      socket.write(head);
      for (const part of parts) {
        await sleep(gap);
        if (settled) return;
        socket.write(part);
      }
      armGiveUp();
    });
  });
}

/** Reads the body whole and answers its length. */
const readsBody = Request.application(async (req) => new Response(`read ${(await req.bytes()).byteLength}`));

const POST = (length: number) => `POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n`;

describe('bodyTimeout over HTTP/1.1', () => {
  it('answers 408 with Connection: close to a body that stalls while the app reads it, and closes the connection', async () => {
    const server = await start(readsBody, { bodyTimeout: 200 });
    const outcome = await stalling(server.port, POST(10), ['hello'], 0, 5_000);
    expect(outcome.closed).toBe(true);
    const res = parseRaw(outcome.raw);
    expect(res.status).toBe(408);
    expect(res.header('connection')).toBe('close');
    expect(res.rest).toContain('The request body stalled');
    // About the timeout after the last byte: well under the 5 s the client waits (×3 margins and more).
    expect(outcome.after).toBeGreaterThanOrEqual(150);
    expect(outcome.after).toBeLessThan(3_000);
    // The client's doing: nothing in the error log.
    expect(server.log.text).toBe('');
  });

  it('answers 408 to a raw app whose for-await over tsgi.input stalls, under errors() too, logging nothing', async () => {
    const raw: App = async (environ, startResponse) => {
      let read = 0;
      for await (const chunk of environ['tsgi.input']) read += chunk.byteLength;
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [new TextEncoder().encode(`read ${read}`)];
    };
    for (const app of [raw, errors(raw)]) {
      const server = await start(app, { bodyTimeout: 200 });
      const outcome = await stalling(server.port, `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`, ['3\r\nabc\r\n'], 0, 5_000);
      expect(parseRaw(outcome.raw).status).toBe(408);
      expect(outcome.closed).toBe(true);
      expect(server.log.text).toBe('');
    }
  });

  it('times the reads of a form parse and of an Expect: 100-continue body alike', async () => {
    const forms = Request.application(async (req) => new Response(`fields ${[...(await req.form()).keys()].join(',')}`));
    const server = await start(forms, { bodyTimeout: 200 });
    const form = 'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n\r\n';
    const stalledForm = await stalling(server.port, `${form}a=1&b=2`, [], 0, 5_000);
    expect(parseRaw(stalledForm.raw).status).toBe(408);
    // The clock starts once `100 Continue` is out and the read waits: the client sends half, then stalls.
    const expecting = await stalling(server.port, form.replace('Host: x', 'Host: x\r\nExpect: 100-continue'), ['a=1&b=2'], 100, 5_000);
    expect(expecting.raw).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 408 /);
    expect(expecting.closed).toBe(true);
    expect(server.log.text).toBe('');
  });

  it('gives a waiting read no timer of its own: one watch per server, whatever the reads', async () => {
    // Node calls the app as it parses the head, before the body of the same packet: every
    // small POST's read waits a moment. The server's one interval watches all the waits.
    const timeouts = vi.spyOn(globalThis, 'setTimeout');
    const intervals = vi.spyOn(globalThis, 'setInterval');
    const ours = (calls: unknown[][], ms: number) => calls.filter(([, delay]) => delay === ms).length;
    try {
      const form = Request.application(async (req) => new Response(`fields ${[...(await req.form()).keys()].join(',')}`));
      const raw: App = async (environ, startResponse) => {
        let read = 0;
        for await (const chunk of environ['tsgi.input']) read += chunk.byteLength;
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        return [new TextEncoder().encode(`read ${read}`)];
      };
      const head = POST(7).replace('Host: x', 'Host: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded');
      for (const [app, expected] of [
        [readsBody, 'read 7'],
        [form, 'fields a,b'],
        [raw, 'read 7'],
      ] as const) {
        // 40 s: the watch checks every 1 s (a quarter, at most 1 s), and stops once no read waits.
        const server = await start(app, { bodyTimeout: 40_000 });
        const results = await Promise.all([
          ...Array.from({ length: 5 }, () => stalling(server.port, `${head}a=1&b=2`, [], 0, 5_000)),
          ...Array.from({ length: 5 }, () => stalling(server.port, `${head}a=1`, ['&b=2'], 50, 5_000)),
        ]);
        for (const outcome of results) expect(parseRaw(outcome.raw).rest).toBe(expected);
        expect(ours(timeouts.mock.calls, 40_000), expected).toBe(0);
        // One, or two on a machine so loaded that the reads' waits came more than a check
        // apart (the interval stops when no read waits): never one per read.
        expect(ours(intervals.mock.calls, 1_000), expected).toBeLessThanOrEqual(2);
        expect(ours(intervals.mock.calls, 1_000), expected).toBeGreaterThanOrEqual(1); // the waits were watched
        timeouts.mockClear();
        intervals.mockClear();
      }
    } finally {
      timeouts.mockRestore();
      intervals.mockRestore();
    }
  });

  it('lets a slow but steady body through: a chunk every 100 ms under a 300 ms timeout', async () => {
    const server = await start(readsBody, { bodyTimeout: 300 });
    const parts = ['aa', 'bb', 'cc', 'dd', 'ee', 'ff'];
    const outcome = await stalling(server.port, POST(12).replace('Host: x', 'Host: x\r\nConnection: close'), parts, 100, 5_000);
    const res = parseRaw(outcome.raw);
    expect(res.status).toBe(200);
    expect(res.rest).toBe('read 12');
  });

  it('does not count the time the app works between two reads', async () => {
    // The body is all there at once; the app takes 3 × the timeout over each chunk.
    const busy = Request.application(async (req) => {
      let read = 0;
      for await (const chunk of req.stream()) {
        read += chunk.byteLength;
        await sleep(600);
      }
      return new Response(`read ${read}`);
    });
    const server = await start(busy, { bodyTimeout: 200 });
    const outcome = await stalling(server.port, `${POST(6).replace('Host: x', 'Host: x\r\nConnection: close')}abc`, ['def'], 50, 10_000);
    const res = parseRaw(outcome.raw);
    expect(res.status).toBe(200);
    expect(res.rest).toBe('read 6');
  });

  it('leaves alone an app that does not read the body, however long it takes', async () => {
    const ignores = Request.application(async () => {
      await sleep(600); // 3 × the timeout, the body stalled all along
      return new Response('not read');
    });
    const server = await start(ignores, { bodyTimeout: 200 });
    // Node drains the small unread body and keeps the connection: no close to wait for.
    const outcome = await stalling(server.port, POST(10), ['hello'], 0, 1_500);
    const res = parseRaw(outcome.raw);
    expect(res.status).toBe(200);
    expect(res.rest).toBe('not read');
  });

  it('cuts the response when the body stalls after the head went out, logging nothing', async () => {
    // An echo: the head and a first chunk go out, then the body is read as it comes.
    const echo: App = (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield new TextEncoder().encode('echo:');
        await sleep(50);
        yield new TextEncoder().encode(' ');
        for await (const chunk of environ['tsgi.input']) yield chunk;
      })();
    };
    const server = await start(echo, { bodyTimeout: 200 });
    const outcome = await stalling(server.port, `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n`, [], 0, 5_000);
    expect(outcome.closed).toBe(true);
    const res = parseRaw(outcome.raw);
    expect(res.status).toBe(200);
    expect(res.header('transfer-encoding')).toBe('chunked');
    expect(res.rest).toContain('abc');
    expect(res.rest).not.toContain('0\r\n\r\n'); // no last chunk: the client sees a cut, not an end
    expect(outcome.after).toBeLessThan(3_000);
    expect(server.log.text).toBe('');
  });

  it('refuses a bodyTimeout that is no non-negative number', async () => {
    await expect(serve(readsBody, { port: 0, bodyTimeout: -1 })).rejects.toThrow(TypeError);
    await expect(serve(readsBody, { port: 0, bodyTimeout: Number.NaN })).rejects.toThrow(/bodyTimeout must be a non-negative number/);
  });

  it("refuses a bodyTimeout past setTimeout's limit, which Node would turn into 1 ms, and takes the limit itself", async () => {
    // 2^31 ms (24.8 days) meant "practically never": Node's timer would fire after 1 ms and
    // answer 408 to every body not read whole at once.
    await expect(serve(readsBody, { port: 0, bodyTimeout: 2 ** 31 })).rejects.toThrow(/bodyTimeout must be .* at most 2147483647/);
    await expect(serve(readsBody, { port: 0, bodyTimeout: Number.POSITIVE_INFINITY })).rejects.toThrow(TypeError);
    const server = await start(readsBody, { bodyTimeout: 2 ** 31 - 1 });
    const outcome = await stalling(server.port, POST(4).replace('Host: x', 'Host: x\r\nConnection: close') + 'ab', ['cd'], 50, 5_000);
    expect(parseRaw(outcome.raw)).toMatchObject({ status: 200, rest: 'read 4' });
  });
});

describe('bodyTimeout over HTTP/2', () => {
  it('answers 408 on a stream whose body stalls, and the session serves the next stream', async () => {
    const server = await start(readsBody, { http2: 'h2c', bodyTimeout: 200 });
    const session = http2.connect(server.url);
    session.on('error', () => {});
    try {
      const stalled = session.request({ ':method': 'POST', ':path': '/upload' });
      stalled.on('error', () => {});
      stalled.write('hello'); // and never ends
      const t0 = Date.now();
      const status = await new Promise<number | undefined>((resolve) => {
        stalled.on('response', (headers) => resolve(headers[':status']));
        setTimeout(() => resolve(undefined), 5_000);
      });
      expect(status).toBe(408);
      expect(Date.now() - t0).toBeLessThan(3_000);
      // The same connection still serves a body that comes whole.
      const next = session.request({ ':method': 'POST', ':path': '/upload' });
      next.end('abc');
      const body = await new Promise<string>((resolve, reject) => {
        let text = '';
        next.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        next.on('end', () => resolve(text));
        next.on('error', reject);
      });
      expect(body).toBe('read 3');
      expect(server.log.text).toBe('');
    } finally {
      session.destroy();
    }
  });

  it('answers 408 to a stream that sent every byte its content-length declared but never ends', async () => {
    // Node's HTTP/1 parser ends such a body by itself; an HTTP/2 stream waits for END_STREAM.
    // The app reads once the bytes are in: its read waits for the end alone.
    const late: App = async (environ, startResponse) => {
      await sleep(100);
      let read = 0;
      for await (const chunk of environ['tsgi.input']) read += chunk.byteLength;
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [new TextEncoder().encode(`read ${read}`)];
    };
    const server = await start(late, { http2: 'h2c', bodyTimeout: 200 });
    const session = http2.connect(server.url);
    session.on('error', () => {});
    try {
      const stalled = session.request({ ':method': 'POST', ':path': '/upload', 'content-length': '5' });
      stalled.on('error', () => {});
      stalled.write('hello'); // all of it, and no end of stream
      const status = await new Promise<number | undefined>((resolve) => {
        stalled.on('response', (headers) => resolve(headers[':status']));
        setTimeout(() => resolve(undefined), 3_000);
      });
      expect(status).toBe(408);
    } finally {
      session.destroy();
    }
  });
});
