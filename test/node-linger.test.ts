/**
 * Request bodies the app leaves unread, over real sockets: the answer reaches the client, the
 * connection then closes gracefully (bounded lingering close) instead of hanging, and close()
 * does not wait for it; connections whose bodies were read (or are small and untouched, which
 * Node drains) stay open for the next request.
 */
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type App, type Environ, Request, serve } from 'tsgi';
import { bytes, parseRaw, sleep, start, upload } from './node-helpers.ts';

const MiB = 1024 * 1024;
/** Long keep-alive timeout, so Node's idle timer cannot end a connection the test expects closed. */
const LONG_IDLE = { server: { keepAliveTimeout: 120_000 } };

/** Reads one chunk of the body, then answers 413 leaving the rest unread (as a form limit does). */
const tooLarge: App = async (environ, startResponse) => {
  const iterator = environ['tsgi.input'][Symbol.asyncIterator]();
  await iterator.next();
  startResponse('413 Content Too Large', [['Content-Type', 'text/plain']]);
  return [bytes('too large')];
};

/** Answers 413 from the declared length alone, never touching the body. */
const refusesByLength: App = (_environ, startResponse) => {
  startResponse('413 Content Too Large', [['Content-Type', 'text/plain']]);
  return [bytes('too large')];
};

/** Breaks out of tsgi.input after one chunk (which destroys a Node request stream). */
const breaksOut: App = async (environ, startResponse) => {
  for await (const _chunk of environ['tsgi.input']) break;
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [bytes('stopped')];
};

/** Resolves 'closed' if `closing` settles within `ms`, else 'still open'. */
function within(closing: Promise<unknown>, ms: number): Promise<string> {
  return Promise.race([closing.then(() => 'closed'), sleep(ms).then(() => 'still open')]);
}

describe('an answer sent before the request body was read whole', () => {
  it('a 413 while a large upload is still arriving: the client gets it, then the connection closes', async () => {
    const server = await start(tooLarge, LONG_IDLE);
    // A client that keeps sending after the server's FIN, as curl does.
    const client = upload(server.port, 256 * MiB, { halfOpen: true });
    const result = await client.closed;
    const res = parseRaw(result.raw);
    expect(res.status).toBe(413);
    expect(res.header('connection')).toBe('close');
    expect(res.rest).toBe('too large');
    expect(result.ended).toBe(true);
    expect(result.sent).toBeLessThan(256 * MiB);
  });

  it('close() does not wait for a connection whose upload was refused', async () => {
    const handle = await serve(tooLarge, { port: 0, ...LONG_IDLE });
    const client = upload(handle.port, 256 * MiB, { halfOpen: true });
    expect(parseRaw(await client.response).status).toBe(413);
    // The lingering close ends within seconds, long before close()'s own timeout.
    expect(await within(handle.close({ timeout: 60_000 }), 10_000)).toBe('closed');
    await client.closed;
  });

  it('a node:http client uploading a large body reads the whole 413 answer', async () => {
    const handle = await serve(tooLarge, { port: 0, ...LONG_IDLE });
    // A keep-alive agent: the client does not ask for Connection: close itself.
    const agent = new http.Agent({ keepAlive: true });
    const answer = await new Promise<{ status: number; connection?: string; body: string }>((resolve, reject) => {
      const req = http.request(`${handle.url}/upload`, {
        method: 'POST',
        agent,
        headers: { 'Content-Length': String(256 * MiB) },
      });
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }));
        res.on('error', reject);
      });
      req.on('error', () => {}); // EPIPE/ECONNRESET while still writing, after the answer
      const chunk = new Uint8Array(64 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < 256 * MiB && !req.destroyed) {
          sent += chunk.byteLength;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
      };
      pump();
    });
    expect(answer).toEqual({ status: 413, connection: 'close', body: 'too large' });
    expect(await within(handle.close({ timeout: 60_000 }), 10_000)).toBe('closed');
    agent.destroy();
  });

  it('a client that sends its whole body after an early 413 sees a clean close, not a reset', async () => {
    const server = await start(refusesByLength, LONG_IDLE);
    const result = await upload(server.port, 2 * MiB, { halfOpen: true, afterAnswer: true }).closed;
    expect(parseRaw(result.raw).status).toBe(413);
    expect(result.sent).toBe(2 * MiB);
    expect(result.error).toBeUndefined();
    expect(result.ended).toBe(true);
  });

  it('an app that breaks out of tsgi.input: the client gets the answer, then the connection closes', async () => {
    const server = await start(breaksOut, LONG_IDLE);
    const result = await upload(server.port, 8 * MiB, { halfOpen: true }).closed;
    const res = parseRaw(result.raw);
    expect(res.status).toBe(200);
    expect(res.header('connection')).toBe('close');
    expect(res.rest).toBe('stopped');
    expect(result.ended).toBe(true);
  });

  it('an app that never reads a large POST answers with Connection: close and closes', async () => {
    const server = await start((_environ, startResponse) => {
      startResponse('200 OK', []);
      return [bytes('ignored')];
    }, LONG_IDLE);
    const result = await upload(server.port, 8 * MiB, { halfOpen: true }).closed;
    const res = parseRaw(result.raw);
    expect(res.header('connection')).toBe('close');
    expect(res.rest).toBe('ignored');
    expect(result.ended).toBe(true);
  });

  it('a 400 for a bad path with a body: the client reads it, then a clean close', async () => {
    const server = await start(() => {
      throw new Error('not called');
    }, LONG_IDLE);
    // The body is sent after the answer: the server must still be reading then, not reset.
    const result = await upload(server.port, 2 * MiB, {
      request: 'POST /%zz HTTP/1.1\r\nHost: 127.0.0.1',
      halfOpen: true,
      afterAnswer: true,
    }).closed;
    expect(parseRaw(result.raw).status).toBe(400);
    expect(result.error).toBeUndefined();
    expect(result.ended).toBe(true);
  });

  it('stops reading a client that keeps sending after the answer (bounded in bytes)', async () => {
    const server = await start(tooLarge, LONG_IDLE);
    const sockets: net.Socket[] = [];
    server.server.on('connection', (socket: net.Socket) => sockets.push(socket));
    const result = await upload(server.port, 4096 * MiB, { halfOpen: true }).closed;
    expect(parseRaw(result.raw).status).toBe(413);
    expect(sockets).toHaveLength(1);
    // The lingering close discards at most 4 MiB (plus what was in flight) before cutting.
    expect(sockets[0]!.bytesRead).toBeLessThan(16 * MiB);
    expect(result.sent).toBeLessThan(4096 * MiB);
  });

  it('gives up on a client that trickles its body after the answer (bounded in time)', async () => {
    const server = await start(tooLarge, LONG_IDLE);
    const socket = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => {});
    let raw = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (raw += c));
    const closed = new Promise((r) => socket.once('close', r));
    socket.write(`POST /slow HTTP/1.1\r\nHost: h\r\nContent-Length: ${MiB}\r\n\r\n${'a'.repeat(1000)}`);
    const trickle = setInterval(() => socket.writable && socket.write('a'), 50);
    try {
      expect(await within(closed, 10_000)).toBe('closed');
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
    expect(parseRaw(raw).status).toBe(413);
  });
});

describe('connections that stay open', () => {
  /** Sends `first`, waits for its answer, then sends `then` on the same connection; collects all. */
  async function twoStep(port: number, first: string, then: string): Promise<{ first: string; all: string }> {
    const socket = net.connect(port, '127.0.0.1');
    let raw = '';
    socket.setEncoding('latin1');
    let firstAnswer = '';
    const answered = new Promise<void>((resolve) => {
      socket.on('data', (c: string) => {
        raw += c;
        if (firstAnswer === '' && raw.includes('\r\n\r\n')) {
          const head = parseRaw(raw);
          const length = Number(head.header('content-length'));
          if (head.rest.length >= length) {
            firstAnswer = raw;
            resolve();
          }
        }
      });
    });
    const closed = new Promise((r) => socket.once('close', r));
    socket.on('error', () => {});
    socket.write(first);
    await answered;
    socket.write(then);
    await closed;
    return { first: firstAnswer, all: raw };
  }

  const echoLength: App = async (environ: Environ, startResponse) => {
    let length = 0;
    for await (const chunk of environ['tsgi.input']) length += chunk.byteLength;
    startResponse('200 OK', []);
    return [bytes(`${environ.REQUEST_METHOD} ${environ.PATH_INFO} ${length}`)];
  };

  it('keeps the connection for requests that read their bodies', async () => {
    const server = await start(echoLength);
    const body = 'x'.repeat(MiB);
    const { first, all } = await twoStep(
      server.port,
      `POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      'GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n',
    );
    expect(parseRaw(first).header('connection')).toBe('keep-alive');
    expect(parseRaw(first).rest).toBe(`POST /a ${MiB}`);
    expect(all.endsWith('GET /b 0')).toBe(true);
  });

  it('keeps it when the app answers before a small body arrives and never reads it', async () => {
    const server = await start((environ, startResponse) => {
      startResponse('200 OK', []);
      return [bytes(`${environ.REQUEST_METHOD} ${environ.PATH_INFO}`)];
    });
    const { first, all } = await twoStep(
      server.port,
      'POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n',
      'hello' + 'GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n',
    );
    expect(parseRaw(first).header('connection')).toBe('keep-alive');
    expect(all.endsWith('GET /b')).toBe(true);
  });

  it('reuses a keep-alive agent connection across POSTs that read or ignore small bodies', async () => {
    const ports: string[] = [];
    const server = await start(async (environ, startResponse) => {
      ports.push(String(environ.REMOTE_PORT));
      if (environ.PATH_INFO === '/read') for await (const _chunk of environ['tsgi.input']);
      startResponse('200 OK', []);
      return [bytes('ok')];
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const path of ['/read', '/ignore', '/read', '/ignore']) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = http.request(`${server.url}${path}`, { method: 'POST', agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          });
          req.on('error', reject);
          req.end('y'.repeat(10_000));
        });
        expect(status).toBe(200);
      }
    } finally {
      agent.destroy();
    }
    expect(new Set(ports).size).toBe(1);
  });
});

describe('a form limit refusing a spooled upload', () => {
  it('reads and drops the rest of the body after the 413, so close() does not wait out the linger time', async () => {
    const app = Request.application(async (req) => {
      await req.files({ maxFileSize: MiB }); // past the 500 KiB spool threshold: written to disk
      return 'stored';
    });
    const handle = await serve(app, { port: 0, ...LONG_IDLE });
    const boundary = 'tsgi-linger';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
    const body = Buffer.concat([Buffer.from(head), Buffer.alloc(3 * MiB, 97), Buffer.from(`\r\n--${boundary}--\r\n`)]);
    const socket = net.connect({ port: handle.port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => {});
    let raw = '';
    socket.setEncoding('latin1');
    const answered = new Promise<void>((resolve) => socket.on('data', (c: string) => (raw += c).includes('\r\n\r\n') && resolve()));
    socket.write(`POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${body.byteLength}\r\n\r\n`);
    socket.end(body); // the whole upload, then the client's FIN
    await answered;
    expect(parseRaw(raw).status).toBe(413);
    // The server drains the rest of the upload (within the 4 MiB budget) and closes at once,
    // not when the 2 s lingering timer runs out.
    expect(await within(handle.close({ timeout: 60_000 }), 1000)).toBe('closed');
    socket.destroy();
  });
});
