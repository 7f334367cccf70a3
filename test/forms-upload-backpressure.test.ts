/**
 * A spooled upload holds the request to the disk's pace: while the spool's writes stall, the
 * server stops taking the body from the socket, so what it holds in memory is a bounded window
 * (a chunk or two of each stream between the socket and the file), not the rest of the upload.
 *
 * The disk is stalled by occupying every thread of libuv's pool (where `fs` writes run) with an
 * `open()` of a FIFO nobody writes to, which blocks until the test opens its other end. Vitest
 * runs each file in a process of its own, so no other file's `fs` calls wait meanwhile.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, createWriteStream, mkdirSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Request, Response, serve } from 'tsgi';

const MiB = 1024 * 1024;
/** libuv's pool: UV_THREADPOOL_SIZE threads, 4 by default. */
const POOL = Number(process.env.UV_THREADPOOL_SIZE) || 4;

let dir: string;
let spool: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The one file under a folder of `spool`, once the app has made it (synchronous: the pool may be stalled). */
function writtenFile(): string | undefined {
  for (const form of readdirSync(spool)) for (const file of readdirSync(join(spool, form))) return join(spool, form, file);
  return undefined;
}

/** What {@link stalledUpload} saw: the bytes the server had taken in beyond those on disk once it stopped reading, and the answer. */
interface Stalled {
  inFlight: number;
  read: number;
  status: number;
  json: unknown;
}

const SIZE = 16 * MiB;

/** A request body being sent: `write` answers false when the client's buffer is full (then wait for `drained`). */
interface Sending {
  write(chunk: Buffer): boolean;
  drained(): Promise<void>;
  end(chunk: Buffer): void;
  /** The status and body of the answer, once the exchange is over. */
  answer: Promise<{ status: number; body: string }>;
  destroy(): void;
}

/** A `POST /upload` of `length` bytes of `contentType`, over HTTP/1.1 (a raw socket) or cleartext HTTP/2. */
async function post(port: number, transport: 'http/1.1' | 'h2c', contentType: string, length: number): Promise<Sending> {
  if (transport === 'h2c') {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const stream = session.request({ ':method': 'POST', ':path': '/upload', 'content-type': contentType, 'content-length': String(length) });
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      let status = 0;
      let body = '';
      stream.on('response', (headers) => (status = Number(headers[':status'])));
      stream.on('data', (chunk: Buffer) => (body += chunk.toString('latin1')));
      stream.on('end', () => resolve({ status, body }));
      stream.on('error', reject);
    });
    return {
      write: (chunk) => stream.write(chunk),
      drained: () => new Promise((resolve) => stream.once('drain', resolve)),
      end: (chunk) => stream.end(chunk),
      answer: answer.finally(() => session.close()),
      destroy: () => session.destroy(),
    };
  }
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`);
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  return {
    write: (chunk) => socket.write(chunk),
    drained: () => new Promise((resolve) => socket.once('drain', resolve)),
    end: (chunk) => socket.write(chunk),
    answer: new Promise((resolve) => {
      socket.once('close', () => resolve({ status: Number(text.slice(9, 12)), body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
    }),
    destroy: () => socket.destroy(),
  };
}

/**
 * Uploads a {@link SIZE} file (one part, `f`) to `app` over a connection of its own, stalls
 * the disk once 1 MiB of it is in the file `app` writes (found under `spool`), waits until the
 * server stops taking bytes from the socket, then lets the disk go on and reads the answer.
 */
async function stalledUpload(app: Parameters<typeof serve>[0], transport: 'http/1.1' | 'h2c' = 'http/1.1'): Promise<Stalled> {
  const server = await serve(app, { host: '127.0.0.1', port: 0, ...(transport === 'h2c' ? { http2: 'h2c' as const } : {}) });
  let socket: net.Socket | undefined;
  server.server.on('connection', (s: net.Socket) => (socket = s));
  const boundary = 'backpressure-boundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const blockers: Array<Promise<unknown>> = [];
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    // Opening the write end (non-blocking: the reader is there) lets each blocked open() return.
    for (let i = 0; i < blockers.length; i++) {
      try {
        closeSync(openSync(join(dir, `fifo-${i}`), constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // ENXIO: that open() had not begun (a failure before the stall settled)
      }
    }
  };
  let client: Sending | undefined;
  try {
    client = await post(server.port, transport, `multipart/form-data; boundary=${boundary}`, head.length + SIZE + tail.length);
    const sending = client;
    sending.write(head);
    const block = Buffer.alloc(64 * 1024, 0x61);
    const sent = (async () => {
      for (let bytes = 0; bytes < SIZE; bytes += block.length) if (!sending.write(block)) await sending.drained();
      sending.end(tail);
    })();

    // Once 1 MiB is on disk, stall the disk.
    let path: string | undefined;
    while ((path = writtenFile()) === undefined || statSync(path).size < MiB) await sleep(2);
    for (let i = 0; i < POOL; i++) blockers.push(open(join(dir, `fifo-${i}`), 'r').then((handle) => handle.close()));
    // Wait until the server has stopped taking bytes from the socket.
    let read = -1;
    for (;;) {
      await sleep(300);
      if (socket!.bytesRead === read) break;
      read = socket!.bytesRead;
    }
    // What the server read and did not write: the request's head and framing (a few hundred bytes) included.
    const inFlight = read - head.length - statSync(path).size;

    release();
    await Promise.all(blockers);
    await sent;
    const { status, body } = await sending.answer;
    return { inFlight, read, status, json: JSON.parse(body) };
  } finally {
    release();
    client?.destroy();
    await server.close();
  }
}

// FIFOs (mkfifo) are POSIX.
describe.skipIf(process.platform === 'win32')('a spooled upload over a real socket, the disk stalled', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsgi-backpressure-'));
    spool = join(dir, 'spool');
    mkdirSync(spool);
    for (let i = 0; i < POOL; i++) execFileSync('mkfifo', [join(dir, `fifo-${i}`)]);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['http/1.1', 'h2c'] as const)('req.files() over %s stops reading the body while the spool cannot write: at most ~1 MiB in flight, then the upload completes', async (transport) => {
    const { inFlight, read, status, json } = await stalledUpload(
      Request.application(async (req) => {
        const files = await req.files({ tmpDir: spool, spoolThreshold: 64 * 1024, maxBodySize: 32 * MiB, maxFileSize: 32 * MiB });
        return Response.json({ size: files.get('f')?.size, inMemory: files.get('f')?.inMemory });
      }),
      transport,
    );
    // Without backpressure the server takes all of the 16 MiB it is sent.
    expect(inFlight).toBeLessThan(2 * MiB);
    expect(read).toBeLessThan(SIZE / 2);
    expect([status, json]).toEqual([200, { size: SIZE, inMemory: false }]);
    expect(readdirSync(spool)).toEqual([]);
  });

  it('req.parts() piped to a file: the same bound', async () => {
    const target = join(spool, 'parts');
    mkdirSync(target);
    try {
      const { inFlight, read, status, json } = await stalledUpload(
        Request.application(async (req) => {
          let size = 0;
          for await (const part of req.parts({ maxBodySize: 32 * MiB, maxFileSize: 32 * MiB })) {
            if (part.kind !== 'file') continue;
            const path = join(target, part.safeFilename);
            await pipeline(Readable.fromWeb(part.body as NodeReadableStream<Uint8Array>), createWriteStream(path));
            size += statSync(path).size;
          }
          return Response.json({ size });
        }),
      );
      expect(inFlight).toBeLessThan(2 * MiB);
      expect(read).toBeLessThan(SIZE / 2);
      expect([status, json]).toEqual([200, { size: SIZE }]);
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  });
});
