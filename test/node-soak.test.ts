/**
 * A bounded soak of the Node adapter: "the server outlives any one request".
 *
 * One `serve()` on 127.0.0.1 takes a fixed number of mixed requests from 20 concurrent
 * workers (a deadline stops issuing new ones, every request has its own timeout): normal
 * answers over keep-alive agents, streamed answers read whole, slowly, or dropped after the
 * first chunk, apps that throw before and after their headers (raw, and under `errors()`),
 * slow apps whose clients leave, uploads past a limit, uploads dropped half-way, bodies never
 * read, and malformed requests over raw sockets. Afterwards: the server still answers, every
 * streamed body that started was closed, every throw was logged (exactly as often as
 * expected), every slow request whose client left saw `tsgi.signal` abort, nothing escaped as
 * an unhandled rejection or uncaught exception, and `close()` ends with no connection open.
 * Nothing here depends on how fast the machine is: only counts are asserted.
 */
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type App, type Environ, Request, type ServerHandle, serve } from 'tsgi';
import { errors, mount } from 'tsgi/middleware';
import { bytes, deferred, errorLog, parseRaw, request, sleep, within } from './node-helpers.ts';

/** Requests issued in all (fewer if the deadline comes first). */
const TOTAL = 3000;
const WORKERS = 20;
/** No new request is issued after this many ms from the start of the run. */
const ISSUE_DEADLINE = 8000;
/** Each request gives up (and counts as a failure) after this many ms. */
const REQUEST_TIMEOUT = 3000;
/** Streamed answers: this many chunks of 4 KiB, chunk i filled with the letter i mod 26. */
const STREAM_CHUNKS = 32;
const CHUNK_SIZE = 4096;
/** `req.bytes({ maxBodySize })` of the upload route, in bytes. */
const UPLOAD_LIMIT = 16 * 1024;
/** A held stream or an aborted slow app waits this long (ms) for its signal; the client leaves long before. */
const HOLD_MS = 5000;

// ---------------------------------------------------------------------------------------
// What the apps saw

const seen = {
  streamStarted: 0,
  streamClosed: 0,
  /** Streams whose `finally` ran before the last chunk (the client left). */
  streamClosedEarly: 0,
  heldStarted: 0,
  heldClosedEarly: 0,
  /** `before#id` / `after#id` / `reject#id` → how many log entries that throw must produce. */
  expectedLogs: new Map<string, number>(),
  slowStarted: 0,
  /** Ids of slow requests whose `tsgi.signal` aborted. */
  slowAborted: new Set<string>(),
  /** Slow requests that ran to their timer and answered. */
  slowAnswered: 0,
};
/** Resolvers for the slow requests a client waits on before leaving, by id. */
const slowGates = new Map<string, () => void>();

const chunkFor = (i: number): Uint8Array => new Uint8Array(CHUNK_SIZE).fill(97 + (i % 26));
const CHUNKS = Array.from({ length: STREAM_CHUNKS }, (_, i) => chunkFor(i));
const STREAM_BODY = Buffer.concat(CHUNKS);

const queryOf = (environ: Environ): URLSearchParams => new URLSearchParams(environ.QUERY_STRING ?? '');
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Resolves `'aborted'` when `signal` aborts, `'timer'` after `ms`; leaves no listener or timer. */
function abortedOrAfter(signal: AbortSignal, ms: number): Promise<'aborted' | 'timer'> {
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve('aborted');
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve('timer');
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A streamed answer of {@link STREAM_CHUNKS} chunks (`?n=` more); with `?hold` it waits for
 * the client to leave after the first chunk.
 */
const streamApp: App = (environ, startResponse) => {
  const query = queryOf(environ);
  const hold = query.has('hold');
  const count = Number(query.get('n') ?? STREAM_CHUNKS);
  const signal = environ['tsgi.signal'] as AbortSignal;
  startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
  return (async function* () {
    seen.streamStarted++;
    if (hold) seen.heldStarted++;
    let complete = false;
    try {
      for (let i = 0; i < count; i++) {
        yield CHUNKS[i % STREAM_CHUNKS]!;
        if (hold && i === 0) await abortedOrAfter(signal, HOLD_MS);
        else if (i % 8 === 7) await nextTurn();
      }
      complete = true;
    } finally {
      seen.streamClosed++;
      if (!complete) {
        seen.streamClosedEarly++;
        if (hold) seen.heldClosedEarly++;
      }
    }
  })();
};

const throwBefore: App = (environ) => {
  const key = `before#${queryOf(environ).get('id')}`;
  seen.expectedLogs.set(key, 1); // the server (raw) or errors() (guarded) logs it once
  throw new Error(key);
};

/** An async app whose promise rejects before it called startResponse. */
const rejectBefore: App = async (environ) => {
  const key = `reject#${queryOf(environ).get('id')}`;
  await nextTurn();
  seen.expectedLogs.set(key, 1);
  throw new Error(key);
};

/** A first chunk larger than the socket takes at once: the server then waits for 'drain'. */
const BIG_CHUNK = new Uint8Array(8 * 1024 * 1024).fill(100);

/**
 * Throws after its first chunk went out (the next step waits past the server's setImmediate).
 * With `?left` the first chunk is {@link BIG_CHUNK} and the throw comes once the client left.
 */
const throwAfter: App = (environ, startResponse) => {
  const query = queryOf(environ);
  const key = `after#${query.get('id')}`;
  const left = query.has('left');
  const signal = environ['tsgi.signal'] as AbortSignal;
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return (async function* () {
    seen.streamStarted++;
    try {
      yield left ? BIG_CHUNK : bytes('first chunk\n');
      if (left) await abortedOrAfter(signal, HOLD_MS);
      else await sleep(2);
      // Raw: the server logs it. Guarded: errors() logs it and re-throws; the server cuts the
      // connection without logging it again.
      seen.expectedLogs.set(key, 1);
      throw new Error(key);
    } finally {
      seen.streamClosed++;
    }
  })();
};

const slowApp: App = async (environ, startResponse) => {
  const query = queryOf(environ);
  const id = query.get('id') ?? '';
  seen.slowStarted++;
  const signal = environ['tsgi.signal'] as AbortSignal;
  slowGates.get(id)?.();
  const outcome = await abortedOrAfter(signal, Number(query.get('ms')));
  if (outcome === 'aborted') seen.slowAborted.add(id);
  else seen.slowAnswered++;
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [bytes(outcome)];
};

const ignoreBody: App = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [bytes('ignored')];
};

const app = mount({
  '/small': Request.application(() => 'hello'),
  '/stream': streamApp,
  '/throw-before': throwBefore,
  '/throw-after': throwAfter,
  '/reject': rejectBefore,
  '/guarded': errors(mount({ '/throw-before': throwBefore, '/throw-after': throwAfter, '/stream': streamApp })),
  '/slow': slowApp,
  '/upload': Request.application(async (req) => `got ${(await req.bytes({ maxBodySize: UPLOAD_LIMIT })).byteLength}`),
  '/ignore': ignoreBody,
});

// ---------------------------------------------------------------------------------------
// Clients

/** What an HTTP client saw. `error` is set unless the response ended cleanly. */
interface Outcome {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  ended: boolean;
  error?: string;
}

interface CallOptions {
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  /** Written piece by piece, then the request is ended (unless `keepOpen`). */
  body?: Uint8Array[];
  /** Leave the request body unfinished (the caller destroys the request). */
  keepOpen?: boolean;
  agent: http.Agent | false;
  onFirstChunk?: (req: http.ClientRequest, res: http.IncomingMessage) => void;
}

/** One request with node:http; never rejects; gives up after {@link REQUEST_TIMEOUT}. */
function call(base: string, path: string, options: CallOptions): { req: http.ClientRequest; done: Promise<Outcome> } {
  const chunks: Buffer[] = [];
  const outcome: Outcome = { status: 0, headers: {}, body: Buffer.alloc(0), ended: false };
  const done = deferred<Outcome>();
  let settled = false;
  const finish = (error?: string) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    outcome.body = Buffer.concat(chunks);
    if (error !== undefined) outcome.error = error;
    done.resolve(outcome);
  };
  const req = http.request(`${base}${path}`, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent }, (res) => {
    outcome.status = res.statusCode ?? 0;
    outcome.headers = res.headers;
    res.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (chunks.length === 1) options.onFirstChunk?.(req, res);
    });
    res.on('end', () => {
      outcome.ended = true;
      finish();
    });
    res.on('error', (error) => finish(error.message));
    res.on('close', () => finish(outcome.ended ? undefined : 'closed before the end'));
  });
  req.on('error', (error) => finish(error.message));
  const timer = setTimeout(() => {
    finish('timeout');
    req.destroy();
  }, REQUEST_TIMEOUT);
  for (const piece of options.body ?? []) req.write(piece);
  if (!options.keepOpen) req.end();
  return { req, done: done.promise };
}

/** What a raw client saw: everything the server sent, as latin1, and how it ended. */
interface RawOutcome {
  raw: string;
  /** The client gave up after {@link REQUEST_TIMEOUT}. */
  timedOut: boolean;
  /** No socket error (a reset shows as one, on Node 22 too: see `rawSend`). */
  clean: boolean;
}

/**
 * Writes `data` to a fresh connection and collects what the server sends until it closes
 * (or, with `hangUpAfter`, until the client destroys the socket that many ms after writing).
 * The connection is half-open, and at its end one byte is written: Node 22's libuv takes a
 * reset that comes with data not yet read for an end of file (see `rawExchangeStrict` in
 * node-helpers.ts), and the write is what fails then.
 */
function rawSend(port: number, data: Array<string | Uint8Array>, hangUpAfter?: number): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let timedOut = false;
    let clean = true;
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, REQUEST_TIMEOUT);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {
      clean = false;
    });
    socket.on('end', () => {
      socket.write('\n', (error) => {
        if (!error) socket.destroy();
      });
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ raw: Buffer.concat(chunks).toString('latin1'), timedOut, clean });
    });
    for (const piece of data) socket.write(piece);
    if (hangUpAfter !== undefined) setTimeout(() => socket.destroy(), hangUpAfter);
  });
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

const describeOutcome = (o: Outcome): string =>
  `status ${o.status}, ${o.body.byteLength} bytes, ${o.ended ? 'ended' : `error ${o.error}`}`;

/** The malformed requests, each with the status it must get; the connection is then closed. */
const MALFORMED: Array<[string, number]> = [
  ['GET /small/%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 400],
  ['GET /small/%C0%AF HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 400],
  ['GET /small HTTP/1.1\r\nHost: bad host\r\n\r\n', 400],
  ['GET /small HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
  ['GET nopath HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 400],
  [`GET /small HTTP/1.1\r\nHost: 127.0.0.1\r\n${'X-Filler: v\r\n'.repeat(120)}\r\n`, 431],
  ['\x01\x02 garbage request line\r\n\r\n', 400],
  [`GET /small HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431],
  ['POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\nzz\r\n', 400],
  ['GET /small HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n', 400],
];

// ---------------------------------------------------------------------------------------
// The workload

interface Run {
  base: string;
  port: number;
  agent: http.Agent;
  /** Ids of slow requests whose client left after the app had started. */
  slowLeft: Set<string>;
  /** Clients that saw each throw route answer as expected. */
  throwsSeen: number;
  /** Malformed requests sent so far (they take the {@link MALFORMED} variants in turn). */
  malformedSent: number;
}

type Scenario = (run: Run, n: number) => Promise<void>;

const expectStatus = async (pending: Promise<Outcome>, status: number, body?: string): Promise<Outcome> => {
  const o = await pending;
  check(o.ended && o.status === status, `expected ${status}, got ${describeOutcome(o)}`);
  if (body !== undefined) check(o.body.toString() === body, `expected body ${JSON.stringify(body)}, got ${JSON.stringify(o.body.toString())}`);
  return o;
};

const expectCut = async (pending: Promise<Outcome>): Promise<void> => {
  const o = await pending;
  check(o.status === 200 && !o.ended, `expected a 200 cut after its head, got ${describeOutcome(o)}`);
};

/** A POST of `size` bytes with Content-Length, over the keep-alive agent. */
const post = (run: Run, path: string, size: number): Promise<Outcome> =>
  call(run.base, path, {
    method: 'POST',
    headers: { 'Content-Length': size },
    body: [new Uint8Array(size).fill(120)],
    agent: run.agent,
  }).done;

/** Drops the connection after the first chunk of the response. */
const hangUp = (req: http.ClientRequest): void => void req.destroy();

const scenarios: Record<string, Scenario> = {
  async small(run) {
    await expectStatus(call(run.base, '/small', { agent: run.agent }).done, 200, 'hello');
  },
  async stream(run) {
    const o = await expectStatus(call(run.base, '/stream', { agent: run.agent }).done, 200);
    check(o.body.equals(STREAM_BODY), `stream body differs (${o.body.byteLength} bytes)`);
  },
  async slowReader(run) {
    const o = await expectStatus(
      call(run.base, '/stream', {
        agent: run.agent,
        onFirstChunk: (_req, res) => {
          res.pause();
          setTimeout(() => res.resume(), 30);
        },
      }).done,
      200,
    );
    check(o.body.equals(STREAM_BODY), `slowly read stream body differs (${o.body.byteLength} bytes)`);
  },
  async hangUpHeld(run) {
    const o = await call(run.base, '/stream?hold', { agent: false, onFirstChunk: hangUp }).done;
    check(o.status === 200 && o.body.byteLength > 0, `held stream: ${describeOutcome(o)}`);
  },
  async guardedHangUp(run) {
    const o = await call(run.base, '/guarded/stream?hold', { agent: false, onFirstChunk: hangUp }).done;
    check(o.status === 200 && o.body.byteLength > 0, `held stream under errors(): ${describeOutcome(o)}`);
  },
  async hangUpStream(run) {
    const o = await call(run.base, '/stream', { agent: false, onFirstChunk: hangUp }).done;
    check(o.status === 200 && o.body.byteLength > 0, `dropped stream: ${describeOutcome(o)}`);
  },
  async throwBefore(run, n) {
    await expectStatus(call(run.base, `/throw-before?id=${n}`, { agent: run.agent }).done, 500, 'Internal Server Error\n');
    run.throwsSeen++;
  },
  async throwAfter(run, n) {
    await expectCut(call(run.base, `/throw-after?id=${n}`, { agent: run.agent }).done);
    run.throwsSeen++;
  },
  async rejectBefore(run, n) {
    await expectStatus(call(run.base, `/reject?id=${n}`, { agent: run.agent }).done, 500, 'Internal Server Error\n');
    run.throwsSeen++;
  },
  async throwAfterLeft(run, n) {
    // The client leaves while the server waits to send the rest of the first chunk; the app
    // fails only then, and that is still logged.
    const o = await call(run.base, `/throw-after?left&id=${n}`, { agent: false, onFirstChunk: hangUp }).done;
    check(o.status === 200 && o.body.byteLength > 0, `throw after the client left: ${describeOutcome(o)}`);
    run.throwsSeen++;
  },
  async guardedBefore(run, n) {
    await expectStatus(call(run.base, `/guarded/throw-before?id=${n}`, { agent: run.agent }).done, 500);
    run.throwsSeen++;
  },
  async guardedAfter(run, n) {
    await expectCut(call(run.base, `/guarded/throw-after?id=${n}`, { agent: run.agent }).done);
    run.throwsSeen++;
  },
  async slowOk(run, n) {
    await expectStatus(call(run.base, `/slow?ms=10&id=ok${n}`, { agent: run.agent }).done, 200, 'timer');
  },
  async slowLeft(run, n) {
    const id = `left${n}`;
    const started = deferred();
    slowGates.set(id, started.resolve);
    const { req, done } = call(run.base, `/slow?ms=${HOLD_MS}&id=${id}`, { agent: false });
    const first = await Promise.race([started.promise.then(() => 'started'), done.then(describeOutcome)]);
    slowGates.delete(id);
    check(first === 'started', `slow app never started: ${first}`);
    req.destroy();
    run.slowLeft.add(id);
    await done;
  },
  async uploadOk(run) {
    await expectStatus(post(run, '/upload', 8192), 200, 'got 8192');
  },
  async uploadTooLarge(run) {
    await expectStatus(post(run, '/upload', 100 * 1024), 413);
  },
  async uploadChunkedTooLarge(run) {
    const pieces = Array.from({ length: 10 }, () => new Uint8Array(4096).fill(121));
    await expectStatus(call(run.base, '/upload', { method: 'POST', body: pieces, agent: run.agent }).done, 413);
  },
  async uploadLeftRaw(run) {
    const head = 'POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 12000\r\n\r\n';
    const { timedOut } = await rawSend(run.port, [head, new Uint8Array(3000).fill(122)], 5);
    check(!timedOut, 'raw upload hang-up timed out');
  },
  async uploadLeftHttp(run) {
    const { req, done } = call(run.base, '/upload', {
      method: 'POST',
      headers: { 'Content-Length': 12000 },
      body: [new Uint8Array(5000).fill(122)],
      keepOpen: true,
      agent: false,
    });
    setTimeout(() => req.destroy(), 5);
    const o = await done;
    check(o.error !== 'timeout', 'http upload hang-up timed out');
  },
  async lingerLeft(run) {
    // Refused at once on its length; the client leaves as soon as it has the answer, while
    // the server is still discarding the body it sends.
    const socket = net.connect(run.port, '127.0.0.1');
    const answered = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), REQUEST_TIMEOUT);
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (text.includes('\r\n\r\n')) {
          clearTimeout(timer);
          resolve(text.slice(0, text.indexOf('\r\n')));
        }
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve(text || 'closed'));
      socket.write('POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2097152\r\n\r\n');
      const piece = new Uint8Array(64 * 1024).fill(117);
      const pump = (): void => {
        while (socket.writable) if (!socket.write(piece)) return void socket.once('drain', pump);
      };
      pump();
    });
    socket.destroy();
    check(answered === 'HTTP/1.1 413 Payload Too Large' || answered.startsWith('HTTP/1.1 413 '), `linger: ${answered}`);
  },
  async continueLeft(run) {
    const headers = { 'Content-Length': 12000, Expect: '100-continue' };
    const { req, done } = call(run.base, '/upload', { method: 'POST', headers, keepOpen: true, agent: false });
    req.once('continue', () => {
      req.write(new Uint8Array(4000).fill(116));
      setTimeout(() => req.destroy(), 5);
    });
    const o = await done;
    check(o.error !== 'timeout', 'hang-up after 100 Continue timed out');
  },
  async ignoreSmall(run) {
    await expectStatus(post(run, '/ignore', 4096), 200, 'ignored');
  },
  async ignoreLarge(run) {
    // Past what Node drains by itself: answered, then the connection lingers and closes.
    await expectStatus(post(run, '/ignore', 600 * 1024), 200, 'ignored');
  },
  async head(run) {
    await expectStatus(call(run.base, '/stream', { method: 'HEAD', agent: run.agent }).done, 200, '');
  },
  async pausedHangUp(run) {
    // 2 MiB: more than the socket buffers hold, so the server is waiting for 'drain'.
    const o = await call(run.base, '/stream?n=512', {
      agent: false,
      onFirstChunk: (req, res) => {
        res.pause();
        setTimeout(() => req.destroy(), 20);
      },
    }).done;
    check(o.status === 200 && o.body.byteLength > 0 && !o.ended, `paused, dropped stream: ${describeOutcome(o)}`);
  },
  async http10ThrowAfter(run, n) {
    // Close-delimited: the cut must be a reset, or the truncated body would look whole.
    const { raw, clean, timedOut } = await rawSend(run.port, [`GET /throw-after?id=${n} HTTP/1.0\r\n\r\n`]);
    check(!timedOut && !clean, `HTTP/1.0 cut ended ${timedOut ? 'by timeout' : 'cleanly'}: ${JSON.stringify(raw.slice(0, 60))}`);
    check(raw === '' || raw.startsWith('HTTP/1.1 200 '), `HTTP/1.0 cut: ${JSON.stringify(raw.slice(0, 60))}`);
    run.throwsSeen++;
  },
  async pipelined(run, n) {
    const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;
    const { raw, timedOut } = await rawSend(run.port, [
      get('/small') + get(`/throw-before?id=${n}`) + get('/stream') + get('/small', 'Connection: close\r\n'),
    ]);
    check(!timedOut, 'pipelined requests timed out');
    const statuses = [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]).join(',');
    check(statuses === '200,500,200,200', `pipelined statuses ${statuses}`);
    check(raw.endsWith('\r\n\r\nhello'), 'pipelined: the last answer is incomplete');
    run.throwsSeen++;
  },
  async halfClosed(run) {
    // The client sends its request and its FIN at once, then waits for the answer.
    const { raw, timedOut } = await new Promise<RawOutcome>((resolve) => {
      const socket = net.connect({ port: run.port, host: '127.0.0.1', allowHalfOpen: true });
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => socket.destroy(), REQUEST_TIMEOUT);
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => socket.end());
      socket.on('error', () => {});
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ raw: Buffer.concat(chunks).toString('latin1'), timedOut: !socket.readableEnded, clean: true });
      });
      socket.end('GET /small HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    });
    check(!timedOut && raw.startsWith('HTTP/1.1 200 ') && raw.endsWith('hello'), `half-closed: ${JSON.stringify(raw.slice(0, 60))}`);
  },
  async continueOk(run) {
    const body = new Uint8Array(8192).fill(118);
    const headers = { 'Content-Length': body.byteLength, Expect: '100-continue' };
    const { req, done } = call(run.base, '/upload', { method: 'POST', headers, keepOpen: true, agent: run.agent });
    req.once('continue', () => req.end(body));
    await expectStatus(done, 200, 'got 8192');
  },
  async continueRefused(run) {
    // Refused on its declared length: answered 413 before the client sends anything.
    const headers = { 'Content-Length': 100 * 1024, Expect: '100-continue' };
    const { req, done } = call(run.base, '/upload', { method: 'POST', headers, keepOpen: true, agent: false });
    let continued = false;
    req.once('continue', () => (continued = true));
    await expectStatus(done, 413);
    req.destroy();
    check(!continued, 'the server asked for a body it refused');
  },
  async malformed(run) {
    const [text, status] = MALFORMED[run.malformedSent++ % MALFORMED.length]!;
    const { raw, timedOut } = await rawSend(run.port, [text]);
    check(!timedOut, `malformed request ${JSON.stringify(text.slice(0, 30))} timed out`);
    check(raw.startsWith(`HTTP/1.1 ${status} `), `malformed ${JSON.stringify(text.slice(0, 30))}: ${JSON.stringify(raw.slice(0, 60))}`);
  },
};

/** The rotation of scenarios: request n runs PLAN[n % PLAN.length]. */
const PLAN: string[] = [
  'small', 'stream', 'small', 'hangUpHeld', 'throwBefore', 'small', 'slowReader', 'throwAfter',
  'uploadOk', 'small', 'slowLeft', 'malformed', 'hangUpStream', 'small', 'guardedBefore', 'slowOk',
  'uploadTooLarge', 'stream', 'ignoreSmall', 'guardedAfter', 'uploadLeftRaw', 'small',
  'uploadChunkedTooLarge', 'malformed', 'ignoreLarge', 'uploadLeftHttp', 'small', 'head',
  'pausedHangUp', 'http10ThrowAfter', 'small', 'pipelined', 'halfClosed', 'continueOk', 'continueRefused',
  'rejectBefore', 'guardedHangUp', 'lingerLeft', 'continueLeft', 'malformed',
  'throwAfterLeft',
];

/** Counts the log entries naming each throw (`before#12`, `after#40`, `reject#7`). */
function countLogged(messages: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of messages) {
    const key = /\b(?:before|after|reject)#\d+\b/.exec(message)?.[0] ?? `unexpected: ${message.split('\n')[0]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Resolves `'done'` when `promise` settles within `ms`, else `'timeout'`; leaves no timer. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise.then(() => 'done' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('soak: the server outlives any one request', () => {
  it('takes a bounded mixed workload of good, failing and hostile requests, and stays whole', async () => {
    const escaped: unknown[] = [];
    const onEscape = (error: unknown) => escaped.push(error);
    process.on('unhandledRejection', onEscape);
    process.on('uncaughtException', onEscape);
    const log = errorLog();
    let handle: ServerHandle | undefined;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    try {
      handle = await serve(app, { port: 0, log });
      const run: Run = { base: handle.url, port: handle.port, agent, slowLeft: new Set(), throwsSeen: 0, malformedSent: 0 };
      const failures: string[] = [];
      const completed = new Map<string, number>();
      const startedAt = Date.now();
      let issued = 0;
      const worker = async () => {
        while (issued < TOTAL && Date.now() - startedAt < ISSUE_DEADLINE) {
          const n = issued++;
          const name = PLAN[n % PLAN.length]!;
          try {
            await scenarios[name]!(run, n);
            completed.set(name, (completed.get(name) ?? 0) + 1);
          } catch (error) {
            failures.push(`${name} #${n}: ${(error as Error).message}`);
          }
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, worker));
      const elapsed = Date.now() - startedAt;

      // Every scenario ran, and every request got what it should have.
      expect(failures.slice(0, 10)).toEqual([]);
      for (const name of PLAN) expect(completed.get(name), name).toBeGreaterThan(0);
      expect(completed.get('malformed')).toBeGreaterThanOrEqual(MALFORMED.length);

      // (1) The server still answers.
      const after = await request(`${handle.url}/small`);
      expect(after.status).toBe(200);
      expect(after.body.toString()).toBe('hello');
      const stream = await request(`${handle.url}/stream`);
      expect(stream.body.equals(STREAM_BODY)).toBe(true);

      // (2) Every streamed body that started was closed; every held one early (by return()).
      await within(() => seen.streamClosed === seen.streamStarted, 5000);
      expect(seen.streamClosed).toBe(seen.streamStarted);
      expect(seen.heldStarted).toBe((completed.get('hangUpHeld') ?? 0) + (completed.get('guardedHangUp') ?? 0));
      expect(seen.heldClosedEarly).toBe(seen.heldStarted);

      // (3) Every throw was logged, as often as expected, and nothing else was (a hang-up, a
      // refused or broken-off upload, a malformed request is no app error). Exact, with no
      // "give or take": each app records its throw when it happens, with the entries it must
      // produce (the server's; under errors() the middleware's too). No throw can be skipped
      // by a client leaving first: throwAfterLeft's app throws only once it has seen the
      // client go, and must still be logged. So there is one throw per throw request.
      expect(seen.expectedLogs.size).toBe(run.throwsSeen);
      await within(() => log.messages.length >= [...seen.expectedLogs.values()].reduce((a, b) => a + b, 0), 5000);
      const logged = countLogged(log.messages);
      const keys = new Set([...logged.keys(), ...seen.expectedLogs.keys()]);
      const mismatched = [...keys]
        .filter((key) => logged.get(key) !== seen.expectedLogs.get(key))
        .map((key) => `${key}: logged ${logged.get(key) ?? 0}, expected ${seen.expectedLogs.get(key) ?? 0}`);
      expect(mismatched.slice(0, 10), `${mismatched.length} mismatched`).toEqual([]);

      // (4) Every slow request whose client left saw its signal abort; the others did not.
      await within(() => [...run.slowLeft].every((id) => seen.slowAborted.has(id)), 5000);
      expect([...run.slowLeft].filter((id) => !seen.slowAborted.has(id))).toEqual([]);
      expect(seen.slowAborted.size).toBe(run.slowLeft.size);
      expect(seen.slowAnswered).toBe(completed.get('slowOk'));

      // (6) close() lets the requests in flight finish (slow apps still working, a stream whose
      // keep-alive head went out before), resolves in bounded time without its forced cut
      // (10 s; a lingering upload takes at most 2 s), and leaves no connection open.
      const inFlight = [0, 1, 2, 3].map((i) => {
        const started = deferred();
        slowGates.set(`close${i}`, started.resolve);
        return { started: started.promise, done: call(handle!.url, `/slow?ms=150&id=close${i}`, { agent }).done };
      });
      await Promise.all(inFlight.map((r) => r.started));
      const streaming = deferred();
      const lastStream = call(handle.url, '/stream', {
        agent,
        onFirstChunk: (_req, res) => {
          res.pause();
          streaming.resolve();
          setTimeout(() => res.resume(), 100);
        },
      }).done;
      await streaming.promise;
      const closing = handle.close();
      expect(await settlesWithin(closing, 4000)).toBe('done');
      for (const r of inFlight) {
        const o = await r.done;
        expect(describeOutcome(o)).toBe('status 200, 5 bytes, ended');
        expect(o.headers.connection).toBe('close');
      }
      expect((await lastStream).body.equals(STREAM_BODY)).toBe(true);
      const server = handle.server;
      const open = await new Promise<number>((resolve, reject) => server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
      expect(open).toBe(0);
      expect(server.listening).toBe(false);
      await expect(request(`${handle.url}/small`)).rejects.toThrow(/ECONNREFUSED/);
      expect(seen.streamClosed).toBe(seen.streamStarted); // the stream answered during close() too

      // (5) Nothing escaped.
      expect(escaped).toEqual([]);

      const counts = PLAN.filter((name, i) => PLAN.indexOf(name) === i)
        .map((name) => `${name}=${completed.get(name) ?? 0}`)
        .join(' ');
      console.log(
        `[soak] ${issued} requests, ${WORKERS} workers, ${elapsed} ms: ${counts}; ` +
          `streams started=${seen.streamStarted} closed=${seen.streamClosed} early=${seen.streamClosedEarly} ` +
          `(held ${seen.heldStarted}/${seen.heldClosedEarly}); throws=${seen.expectedLogs.size} ` +
          `log entries=${log.messages.length}; slow started=${seen.slowStarted} aborted=${seen.slowAborted.size} ` +
          `answered=${seen.slowAnswered}; escaped=${escaped.length}; open after close=${open}`,
      );
    } finally {
      process.off('unhandledRejection', onEscape);
      process.off('uncaughtException', onEscape);
      agent.destroy();
      await handle?.close({ timeout: 100 });
    }
  }, 30_000);
});
