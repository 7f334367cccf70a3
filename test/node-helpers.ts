/**
 * Shared helpers for the end-to-end tests of the Node adapter (test/node-*.test.ts):
 * servers that are closed after each test, an error log to capture `tsgi.errors`, and raw
 * clients over `node:net` and `node:http`.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type App, type AppLike, Request, Response, type ServeOptions, type ServerHandle, serve } from 'tsgi';

const running: ServerHandle[] = [];

afterEach(async () => {
  const handles = running.splice(0);
  await Promise.all(handles.map((handle) => handle.close({ timeout: 100 })));
});

/** A captured `tsgi.errors` stream. */
export interface ErrorLog {
  write(message: string): void;
  readonly messages: string[];
  readonly text: string;
}

export function errorLog(): ErrorLog {
  const messages: string[] = [];
  return {
    messages,
    write(message: string) {
      messages.push(message);
    },
    get text() {
      return messages.join('');
    },
  };
}

/** Starts `serve(app, { port: 0 })` with a captured error log; closed after the test. */
export async function start(app: AppLike, options: ServeOptions = {}): Promise<ServerHandle & { log: ErrorLog }> {
  const log = errorLog();
  const handle = await serve(app, { port: 0, log, ...options });
  running.push(handle);
  return { ...handle, close: handle.close.bind(handle), log };
}

/**
 * Serves `app` on 127.0.0.1, port 0, for the whole suite of the calling file: started before
 * its tests, closed after them. Read `server` and `port` inside tests (not before it started).
 */
export function serveForSuite(app: AppLike, options: ServeOptions = {}): { readonly server: ServerHandle; readonly port: number } {
  let server: ServerHandle | undefined;
  beforeAll(async () => {
    server = await serve(app, { host: '127.0.0.1', port: 0, ...options });
  });
  afterAll(() => server?.close());
  return {
    get server() {
      if (server === undefined) throw new Error('serveForSuite: the server is not started yet');
      return server;
    },
    get port() {
      return Number(new URL(this.server.url).port);
    },
  };
}

/**
 * Starts a slow upstream store: it drains the request body one chunk per millisecond, then
 * answers `stored`; the sink an app streams its upload into with fetch.
 */
export function startSlowStore(): Promise<ServerHandle & { log: ErrorLog }> {
  return start(
    Request.application(async (req) => {
      for await (const _chunk of req.stream()) await new Promise((resolve) => setTimeout(resolve, 1));
      return new Response('stored');
    }),
  );
}

export const encoder = new TextEncoder();
export const bytes = (text: string): Uint8Array => encoder.encode(text);

/** What a raw exchange received. */
export interface RawResult {
  /** Everything the server sent, as latin1 text. */
  raw: string;
  /** True when the server ended the connection cleanly (FIN), false when it was reset. */
  clean: boolean;
  /** The socket error, if any (ECONNRESET…). */
  error?: Error;
}

/**
 * Writes `request` to a fresh connection and collects everything until the server closes it.
 * Requests should carry `Connection: close` (or be HTTP/1.0) so the server ends the exchange
 * (or the server cuts it). `onData` is called at each piece received.
 */
export function rawExchange(port: number, request: string | Uint8Array, onData?: () => void): Promise<RawResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1');
    let error: Error | undefined;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      onData?.();
    });
    socket.on('error', (err) => {
      error = err;
    });
    socket.on('close', () => {
      resolve({ raw: Buffer.concat(chunks).toString('latin1'), clean: error === undefined, error });
    });
    socket.write(request);
  });
}

/**
 * {@link rawExchange}, telling a reset from a clean close on Node 22 too. Node 22's libuv
 * (1.51; fixed in 1.52, Node 24) takes a hang-up that comes with data not yet read for an end
 * of file: it reads the data and reports the end without the read that would have failed with
 * `ECONNRESET` (libuv pull request 4997). So a client on Node 22 sometimes sees a reset that
 * follows the last bytes closely as a clean close, and `rawExchange` reports `clean`. Here the
 * connection is half-open, and at its end one byte is written: a reset connection refuses it
 * (`ECONNRESET`, or `EPIPE`), one the server closed cleanly (FIN) takes it. `onData` is told
 * everything received so far, at each chunk.
 */
export function rawExchangeStrict(port: number, request: string | Uint8Array, onData?: (raw: string) => void): Promise<RawResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let error: Error | undefined;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      onData?.(Buffer.concat(chunks).toString('latin1'));
    });
    socket.on('error', (err) => {
      error = err;
    });
    socket.on('end', () => {
      socket.write('\n', (err) => {
        if (!err) socket.destroy();
      });
    });
    socket.on('close', () => {
      resolve({ raw: Buffer.concat(chunks).toString('latin1'), clean: error === undefined, error });
    });
    socket.write(request);
  });
}

/** A parsed raw HTTP/1.1 response (one, from the start of `raw`). */
export interface RawResponse {
  statusLine: string;
  status: number;
  /** Header fields in order, names as sent. */
  headers: Array<[string, string]>;
  /** The first value of a header (case-insensitive), or undefined. */
  header(name: string): string | undefined;
  /** Everything after the blank line (still chunk-encoded if chunked). */
  rest: string;
}

export function parseRaw(raw: string): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`no complete head in ${JSON.stringify(raw.slice(0, 200))}`);
  const lines = raw.slice(0, end).split('\r\n');
  const statusLine = lines[0]!;
  const headers = lines.slice(1).map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  return {
    statusLine,
    status: Number(statusLine.split(' ')[1]),
    headers,
    header: (name) => headers.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1],
    rest: raw.slice(end + 4),
  };
}

/**
 * Decodes a complete chunked body; throws when the terminating zero-size chunk is missing
 * (a truncated body).
 */
export function dechunk(rest: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const eol = rest.indexOf('\r\n', at);
    if (eol === -1) throw new Error('truncated chunked body');
    const size = parseInt(rest.slice(at, eol), 16);
    if (Number.isNaN(size)) throw new Error('bad chunk size');
    if (size === 0) return out;
    const data = rest.slice(eol + 2, eol + 2 + size);
    if (data.length < size || rest.slice(eol + 2 + size, eol + 4 + size) !== '\r\n') {
      throw new Error('truncated chunked body');
    }
    out += data;
    at = eol + 4 + size;
  }
}

/** A GET (or other) request line with `Connection: close`. */
export function rawGet(path: string, extra = '', method = 'GET'): string {
  return `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`;
}

/**
 * How an HTTP client (`http.get`, no agent) saw the answer at `url`: `complete <status>` when
 * its body ended, `cut after <status>` when the connection was cut after the head, or `cut
 * before any head`.
 */
export function clientOutcome(url: string): Promise<string> {
  return new Promise((resolve) => {
    http
      .get(url, { agent: false }, (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(`complete ${res.statusCode}`));
        res.on('error', () => resolve(`cut after ${res.statusCode}`));
      })
      .on('error', () => resolve('cut before any head'));
  });
}

/** The result of {@link request}. */
export interface ClientResponse {
  status: number;
  statusMessage: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

/** One request with `http.request` (no agent, so no pooled connections survive the test). */
export function request(
  url: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Uint8Array } = {},
): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        resolve({
          status: res.statusCode!,
          statusMessage: res.statusMessage!,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks),
        });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A promise with its resolver, for gates between the app and the test. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `predicate` every 5 ms until it holds (the test timeout bounds the wait). */
export async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await sleep(5);
}

/** What {@link upload} saw. */
export interface UploadResult {
  /** Everything the server sent, as latin1 text. */
  raw: string;
  /** Body bytes written to the socket before it closed. */
  sent: number;
  /** True when the server sent its FIN (the client saw 'end'). */
  ended: boolean;
  /** The socket error, if any (EPIPE, ECONNRESET…). */
  error?: Error;
}

/**
 * A raw client uploading `size` bytes with `Content-Length`, writing with backpressure and
 * reading whatever the server sends, until the connection closes. With `halfOpen` it keeps
 * sending after the server's FIN (as curl does) instead of closing at once; with
 * `afterAnswer` it sends the body only once the whole answer has arrived. `request` is the
 * request line and headers, without the blank line.
 */
export function upload(
  port: number,
  size: number,
  { request = 'POST /upload HTTP/1.1\r\nHost: 127.0.0.1', halfOpen = false, afterAnswer = false } = {},
): { response: Promise<string>; closed: Promise<UploadResult> } {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: halfOpen });
  const chunks: Buffer[] = [];
  let sent = 0;
  let ended = false;
  let error: Error | undefined;
  const chunk = new Uint8Array(64 * 1024).fill(97);
  const response = deferred<string>();
  socket.on('data', (data: Buffer) => {
    chunks.push(data);
    const text = Buffer.concat(chunks).toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    const length = /\r\ncontent-length: *(\d+)/i.exec(text);
    if (end !== -1 && length && text.length >= end + 4 + Number(length[1])) response.resolve(text);
  });
  // A half-open client closes its side once it has sent everything and the server has ended.
  const finish = () => {
    if (ended && sent >= size) socket.end();
  };
  socket.on('end', () => {
    ended = true;
    finish();
  });
  socket.on('error', (err) => (error = err));
  const closed = new Promise<UploadResult>((resolve) => {
    socket.on('close', () => resolve({ raw: Buffer.concat(chunks).toString('latin1'), sent, ended, error }));
  });
  socket.write(`${request}\r\nContent-Length: ${size}\r\n\r\n`);
  const pump = () => {
    while (sent < size && socket.writable) {
      const piece = chunk.subarray(0, Math.min(chunk.byteLength, size - sent));
      sent += piece.byteLength;
      if (!socket.write(piece)) return void socket.once('drain', pump);
    }
    finish();
  };
  if (afterAnswer) void response.promise.then(pump);
  else pump();
  return { response: response.promise, closed };
}

/**
 * Polls `predicate` every 5 ms for at most `timeout` ms; answers whether it came to hold, so a
 * test can assert on it instead of hanging until its own timeout.
 */
export async function within(predicate: () => boolean, timeout: number): Promise<boolean> {
  const deadline = Date.now() + timeout;
  while (!predicate()) {
    if (Date.now() >= deadline) return false;
    await sleep(5);
  }
  return true;
}

/**
 * GET `url` and answer once the first body chunk has arrived: the head, and the whole body
 * as a promise (for a streamed answer whose rest the test releases later).
 */
export function getFirstChunk(url: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ head: http.IncomingMessage; body: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      const chunks: string[] = [];
      let first: () => void;
      const firstChunk = new Promise<void>((r) => (first = r));
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk.toString());
        first();
      });
      const ended = new Promise<string>((r) => res.on('end', () => r(chunks.join(''))));
      void firstChunk.then(() => resolve({ head: res, body: ended }));
    });
    req.on('error', reject);
  });
}

/** An event stream that sends `data: one`, then `data: two` once `gate` resolves. */
export function gatedEventStream(gate: Promise<void>): App {
  return (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/event-stream']]);
    return (async function* () {
      yield encoder.encode('data: one\n\n');
      await gate;
      yield encoder.encode('data: two\n\n');
    })();
  };
}

/**
 * An event stream ticking every 20 ms for ever (the first event with `retry` when given);
 * `cleaned` resolves when its `finally` ran.
 */
export function tickingEvents(retry?: number): { app: App; cleaned: Promise<void> } {
  const cleaned = deferred();
  const app = Request.application(() =>
    Response.eventStream(
      (async function* () {
        try {
          for (let n = 0; ; n++) {
            yield { id: String(n), data: `tick ${n}`, retry: n === 0 ? retry : undefined };
            await sleep(20);
          }
        } finally {
          cleaned.resolve();
        }
      })(),
      { heartbeat: 0 },
    ),
  );
  return { app, cleaned: cleaned.promise };
}

/**
 * A GET of `path` over an h2c session to `url`: its stream, the text read so far, its status
 * once the head came, and its end. Close the session when done.
 */
export function h2cGet(url: string, path: string) {
  const session = http2.connect(url);
  session.on('error', () => {});
  const stream = session.request({ ':path': path });
  let text = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const status = new Promise<unknown>((resolve) => stream.on('response', (headers) => resolve(headers[':status'])));
  const ended = new Promise<void>((resolve) => stream.on('end', resolve));
  return { session, stream, text: () => text, status, ended };
}

/**
 * Runs `run` against `server` and answers the uncaught exceptions seen meanwhile and how many
 * connections the server took. It returns once the server's side of every connection taken has
 * closed: by then any 'error' one of them emitted (uncaught without a listener) has been seen,
 * so the check waits on that event, not on a timer a loaded machine outruns.
 */
export async function uncaughtWhile(server: { server: net.Server }, run: () => Promise<void>): Promise<{ uncaught: unknown[]; connections: number }> {
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => void uncaught.push(error);
  const closed: Array<Promise<unknown>> = [];
  const onConnection = (socket: net.Socket) => closed.push(new Promise((resolve) => socket.once('close', resolve)));
  server.server.on('connection', onConnection);
  process.on('uncaughtException', onUncaught);
  try {
    await run();
    await Promise.all(closed);
  } finally {
    process.off('uncaughtException', onUncaught);
    server.server.off('connection', onConnection);
  }
  return { uncaught, connections: closed.length };
}

/** An HTTP/2 frame (RFC 9113 §4.1): 9 octets of head (length, type, flags, stream), then `payload`. */
export function h2Frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}
