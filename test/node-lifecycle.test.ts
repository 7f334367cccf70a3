/**
 * The Node adapter under slow and vanishing clients, over real sockets: backpressure (a paused
 * reader stops the body iterator), client hang-up (return() runs, finally blocks run,
 * tsgi.signal aborts), graceful close(), and the server outliving crashing requests.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type App, type Body, type Environ, Request, Response, type StartResponse, serve } from 'tsgi';
import { accessLog } from 'tsgi/middleware';
import { bytes, deferred, parseRaw, rawExchange, rawGet, request, sleep, start, until } from './node-helpers.ts';

/** A raw app sending `chunk` every 5 ms until it is closed, then awaiting `cleanup` in its `finally`. */
function endless(chunk: string, cleanup: () => Promise<void>): App {
  return (_environ, startResponse) => {
    startResponse('200 OK', []);
    return (async function* () {
      try {
        for (;;) {
          yield bytes(chunk);
          await sleep(5);
        }
      } finally {
        await cleanup();
      }
    })();
  };
}

const CHUNK = new Uint8Array(64 * 1024).fill(120);
const MiB = 1024 * 1024;

/** The largest value of a Linux `tcp_wmem`/`tcp_rmem` triple (the autotuning limit), in bytes. */
function kernelLimit(name: string, fallback: number): number {
  try {
    const max = Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().split(/\s+/).at(-1));
    return Number.isFinite(max) && max > 0 ? max : fallback;
  } catch {
    return fallback;
  }
}

/**
 * How many chunks a connection whose reader is paused can absorb, at most: the largest kernel
 * send and receive buffers (autotuning limits), Node's stream buffers on both ends (16 KiB
 * high-water marks, a chunk in flight) with a generous 1 MiB for them, and one chunk per step
 * the pump is ahead. A producer that ignores backpressure goes far past this.
 */
const PAUSED_CAPACITY = Math.ceil(
  (kernelLimit('tcp_wmem', 4 * MiB) + kernelLimit('tcp_rmem', 6 * MiB) + MiB) / CHUNK.byteLength,
) + 2;
/** Far more than a paused connection absorbs, so that a missing backpressure shows. */
const TOTAL_CHUNKS = Math.max(1024, 2 * PAUSED_CAPACITY);

/**
 * Waits until the producer has stalled: `read()` unchanged over at least 10 polls and 200 ms
 * (a loaded machine may delay one poll, not ten). Throws after `timeout` ms of steady change.
 */
async function settle(read: () => number, timeout = 15_000): Promise<number> {
  const deadline = Date.now() + timeout;
  let last = read();
  let stableSince = Date.now();
  let stablePolls = 0;
  while (Date.now() < deadline) {
    await sleep(10);
    const now = read();
    if (now !== last) {
      last = now;
      stableSince = Date.now();
      stablePolls = 0;
    } else if (++stablePolls >= 10 && Date.now() - stableSince >= 200) {
      return now;
    }
  }
  throw new Error(`the producer did not stall within ${timeout} ms (${last} chunks produced)`);
}

/** Connects, sends a GET, and does not read until `resume()`; then collects everything. */
function pausedClient(port: number, path = '/') {
  const socket = net.connect(port, '127.0.0.1');
  socket.pause();
  socket.write(rawGet(path));
  let received = 0;
  let head = '';
  const done = new Promise<number>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('end', () => resolve(received));
  });
  return {
    socket,
    done,
    head: () => head,
    resume() {
      socket.on('data', (chunk: Buffer) => {
        if (head === '' || !head.includes('\r\n\r\n')) head += chunk.toString('latin1', 0, Math.min(chunk.length, 512));
        received += chunk.length;
      });
      socket.resume();
    },
  };
}

describe('backpressure: a paused reader pauses the body iterator', () => {
  const producers: Array<[string, (count: () => void) => Body]> = [
    [
      'sync generator',
      (count) =>
        (function* () {
          for (let i = 0; i < TOTAL_CHUNKS; i++) {
            count();
            yield CHUNK;
          }
        })(),
    ],
    [
      'async generator',
      (count) =>
        (async function* () {
          for (let i = 0; i < TOTAL_CHUNKS; i++) {
            count();
            yield CHUNK;
          }
        })(),
    ],
  ];
  for (const [kind, producer] of producers) {
    it(`${kind}: production stops while the client does not read, then everything arrives`, async () => {
      let produced = 0;
      const server = await start((_environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
        return producer(() => produced++);
      });
      const client = pausedClient(server.port);
      await until(() => produced > 0);
      const whilePaused = await settle(() => produced);
      // Bounded by the socket buffers, well below the whole body.
      expect(whilePaused).toBeLessThanOrEqual(PAUSED_CAPACITY);
      client.resume();
      const received = await client.done;
      expect(produced).toBe(TOTAL_CHUNKS);
      expect(client.head()).toContain('Transfer-Encoding: chunked');
      const headLength = client.head().indexOf('\r\n\r\n') + 4;
      const framing = received - headLength - TOTAL_CHUNKS * CHUNK.byteLength;
      // Chunk-size lines ("10000\r\n" + "\r\n") per chunk plus the final "0\r\n\r\n".
      expect(framing).toBe(TOTAL_CHUNKS * 9 + 5);
      expect(server.log.text).toBe('');
    }, 60_000);
  }

  it('node:http client pausing its response also pauses production', async () => {
    let produced = 0;
    const server = await start((_environ, startResponse) => {
      startResponse('200 OK', []);
      return (function* () {
        for (let i = 0; i < TOTAL_CHUNKS; i++) {
          produced++;
          yield CHUNK;
        }
      })();
    });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(server.url, { agent: false }, resolve).on('error', reject);
    });
    res.pause();
    const whilePaused = await settle(() => produced);
    expect(whilePaused).toBeLessThanOrEqual(PAUSED_CAPACITY);
    let received = 0;
    res.on('data', (c: Buffer) => (received += c.length));
    res.resume();
    await new Promise((r) => res.once('end', r));
    expect(received).toBe(TOTAL_CHUNKS * CHUNK.byteLength);
  }, 60_000);
});

describe('client hang-up', () => {
  it('runs a sync generator finally block and aborts tsgi.signal', async () => {
    const finalized = deferred<string>();
    let signal: AbortSignal | undefined;
    const server = await start((environ, startResponse) => {
      signal = environ['tsgi.signal'];
      startResponse('200 OK', []);
      return (function* () {
        try {
          for (;;) yield CHUNK;
        } finally {
          finalized.resolve('sync finally');
        }
      })();
    });
    await new Promise<void>((resolve) => {
      const req = http.get(server.url, { agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
    });
    expect(await finalized.promise).toBe('sync finally');
    await until(() => signal!.aborted);
    expect(server.log.text).toBe('');
  });

  it('runs an async generator finally block while it waits between chunks', async () => {
    const finalized = deferred<string>();
    const server = await start(
      endless('tick\n', async () => {
        await sleep(1);
        finalized.resolve('async finally');
      }),
    );
    const req = http.get(server.url, { agent: false }, (res) => {
      res.once('data', () => req.destroy());
    });
    req.on('error', () => {});
    expect(await finalized.promise).toBe('async finally');
  });

  it('runs finally when the generator is blocked by backpressure', async () => {
    const finalized = deferred();
    let produced = 0;
    const server = await start((_environ, startResponse) => {
      startResponse('200 OK', []);
      return (function* () {
        try {
          for (;;) {
            produced++;
            yield CHUNK;
          }
        } finally {
          finalized.resolve();
        }
      })();
    });
    const client = pausedClient(server.port);
    client.done.catch(() => {});
    await until(() => produced > 0);
    await settle(() => produced);
    client.socket.destroy();
    await finalized.promise;
  });

  it('calls return() of a custom iterator that is waiting for its next chunk', async () => {
    const returned = deferred();
    const waiting = deferred();
    const server = await start((_environ, startResponse) => {
      startResponse('200 OK', []);
      let step = 0;
      let wake: ((r: IteratorResult<Uint8Array>) => void) | undefined;
      const iterator: AsyncIterator<Uint8Array> & AsyncIterable<Uint8Array> = {
        [Symbol.asyncIterator]() {
          return this;
        },
        next() {
          step++;
          if (step <= 2) return Promise.resolve({ done: false, value: bytes(`event ${step}\n`) });
          waiting.resolve();
          // An event source with nothing to say: only return() wakes it.
          return new Promise((r) => (wake = r));
        },
        return() {
          returned.resolve();
          wake?.({ done: true, value: undefined });
          return Promise.resolve({ done: true, value: undefined });
        },
      };
      return iterator;
    });
    const req = http.get(server.url, { agent: false });
    req.on('error', () => {});
    await waiting.promise;
    req.destroy();
    await returned.promise;
  });

  it('closes the body when the client left while the app was still working', async () => {
    const entered = deferred();
    const left = deferred();
    const returned = deferred();
    let nextCalls = 0;
    const server = await start(async (environ, startResponse) => {
      const signal = environ['tsgi.signal']!;
      entered.resolve();
      await new Promise((r) => signal.addEventListener('abort', r));
      left.resolve();
      startResponse('200 OK', []);
      const body: Iterable<Uint8Array> & Iterator<Uint8Array> = {
        [Symbol.iterator]() {
          return this;
        },
        next() {
          nextCalls++;
          return { done: false, value: CHUNK };
        },
        return() {
          returned.resolve();
          return { done: true, value: undefined };
        },
      };
      return body;
    });
    const req = http.get(server.url, { agent: false });
    req.on('error', () => {});
    await entered.promise;
    req.destroy();
    await left.promise;
    await returned.promise;
    await sleep(20);
    expect(nextCalls).toBeLessThan(3);
  });

  it('aborts tsgi.signal seen through Request.signal', async () => {
    const aborted = deferred();
    const started = deferred();
    const server = await start(
      Request.application(async (req) => {
        started.resolve();
        await new Promise<void>((resolve) => req.signal!.addEventListener('abort', () => resolve()));
        aborted.resolve();
        return new Response('too late');
      }),
    );
    const req = http.get(server.url, { agent: false });
    req.on('error', () => {});
    await started.promise;
    req.destroy();
    await aborted.promise;
  });

  it('does not log a hang-up as an error', async () => {
    const finalized = deferred();
    const server = await start((_environ, startResponse) => {
      startResponse('200 OK', []);
      return (async function* () {
        try {
          for (;;) {
            yield CHUNK;
            await sleep(1);
          }
        } finally {
          finalized.resolve();
        }
      })();
    });
    const req = http.get(server.url, { agent: false }, (res) => res.once('data', () => req.destroy()));
    req.on('error', () => {});
    await finalized.promise;
    await sleep(20);
    expect(server.log.text).toBe('');
  });

  it('does not log a body that stops with the signal once the client left (an AbortError, as fetch rejects)', async () => {
    const stopped = deferred<unknown>();
    const server = await start(
      Request.application((req) =>
        Response.eventStream(
          (async function* () {
            try {
              for (let i = 0; ; i++) {
                // What fetch(url, { signal }) and a database driver do: reject with signal.reason.
                await new Promise((resolve, reject) => {
                  const timer = setTimeout(resolve, 5);
                  req.signal!.addEventListener('abort', () => {
                    clearTimeout(timer);
                    reject(req.signal!.reason);
                  });
                });
                yield { data: String(i) };
              }
            } catch (error) {
              stopped.resolve(error);
              throw error;
            }
          })(),
        ),
      ),
    );
    const req = http.get(server.url, { agent: false }, (res) => res.once('data', () => req.destroy()));
    req.on('error', () => {});
    const reason = (await stopped.promise) as Error;
    expect(reason.name).toBe('AbortError');
    expect(reason.message).toBe('client disconnected');
    await sleep(20);
    expect(server.log.text).toBe('');
  });
});

describe('the access log of an app that stops on tsgi.signal once its client left', () => {
  it('logs 499 and outcome close, not a 500 error, when the app rejects with the signal\'s reason (as fetch does)', async () => {
    const lines: string[] = [];
    // The client leaves once the app waits (not 50 ms after asking: the request may not be there yet).
    const waiting = deferred();
    const server = await start(
      accessLog(
        Request.application(async (req) => {
          await new Promise((resolve, reject) => {
            const timer = setTimeout(resolve, 5_000);
            req.signal!.addEventListener('abort', () => {
              clearTimeout(timer);
              reject(req.signal!.reason);
            });
            waiting.resolve();
          });
          return new Response('late');
        }),
        { log: { write: (line: string) => void lines.push(line) }, format: 'json' },
      ),
    );
    const req = http.get(`${server.url}/poll`, { agent: false });
    req.on('error', () => {});
    await waiting.promise;
    req.destroy();
    await until(() => lines.length === 1);
    const entry = JSON.parse(lines[0]!) as { status: number; outcome: string; error?: string };
    expect(entry).toMatchObject({ status: 499, outcome: 'close' });
    expect(entry.error).toBeUndefined();
    expect(server.log.text).toBe('');
  });
});

describe('graceful close()', () => {
  it('lets in-flight requests finish, refuses new connections, then resolves', async () => {
    const gate = deferred();
    const entered = deferred();
    const handle = await serve(
      async (_environ, startResponse) => {
        entered.resolve();
        await gate.promise;
        startResponse('200 OK', []);
        return [bytes('finished')];
      },
      { port: 0 },
    );
    // fetch keeps its connection alive: close() must not wait for its idle timeout.
    const inFlight = fetch(handle.url).then(async (r) => [r.status, await r.text(), r.headers.get('connection')] as const);
    await entered.promise;
    let closed = false;
    const closing = handle.close().then(() => (closed = true));
    await sleep(20);
    expect(closed).toBe(false);
    await expect(
      new Promise((resolve, reject) => {
        const s = net.connect(handle.port, '127.0.0.1');
        s.on('connect', () => {
          s.destroy();
          resolve('connected');
        });
        s.on('error', reject);
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
    gate.resolve();
    // Answers started after close() tell the client the connection is going away.
    expect(await inFlight).toEqual([200, 'finished', 'close']);
    await closing;
    expect(handle.server.listening).toBe(false);
  });

  it('closes idle keep-alive connections at once', async () => {
    const handle = await serve((_e, startResponse) => {
      startResponse('200 OK', []);
      return [bytes('x')];
    }, { port: 0 });
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      http.get(handle.url, { agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      }).on('error', reject);
    });
    const t0 = Date.now();
    await handle.close({ timeout: 30_000 });
    // Without closing idle connections this would wait for the keep-alive timeout.
    expect(Date.now() - t0).toBeLessThan(15_000);
    agent.destroy();
  });

  describe("idle: 'expire'", () => {
    /** A keep-alive connection to `handle` that has had one answer; its later bytes and its end, as the client sees them. */
    async function idleConnection(port: number) {
      const socket = net.connect(port, '127.0.0.1');
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (received += chunk));
      const ended = new Promise<string>((resolve) => {
        socket.on('close', () => resolve('closed'));
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      socket.write('GET /first HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await until(() => received.includes('first'));
      received = '';
      return { socket, ended, received: () => received };
    }
    const echo: App = async (environ, startResponse) => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of environ['tsgi.input'] as AsyncIterable<Uint8Array>) chunks.push(chunk);
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [bytes(`${environ.REQUEST_METHOD} ${environ.PATH_INFO} ${Buffer.concat(chunks).toString()}`)];
    };

    it('answers a request sent on an idle keep-alive connection after close(), with Connection: close', async () => {
      const handle = await serve(echo, { port: 0 });
      const conn = await idleConnection(handle.port);
      const closing = handle.close({ idle: 'expire', timeout: 30_000 });
      await sleep(100);
      // nginx reusing its upstream connection for a POST just as the server drains.
      conn.socket.write('POST /late HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
      expect(await conn.ended).toBe('closed');
      const res = parseRaw(conn.received());
      expect([res.status, res.header('connection'), res.rest]).toEqual([200, 'close', 'POST /late hello']);
      await closing;
      expect(handle.server.listening).toBe(false);
    });

    it('ends an idle connection by its keep-alive timeout, and refuses new connections meanwhile', async () => {
      const handle = await serve(echo, { port: 0, keepAliveTimeout: 300 });
      const conn = await idleConnection(handle.port);
      const t0 = Date.now();
      let closed = false;
      const closing = handle.close({ idle: 'expire', timeout: 30_000 }).then(() => (closed = true));
      await sleep(50);
      expect(closed).toBe(false);
      await expect(
        new Promise((resolve, reject) => net.connect(handle.port, '127.0.0.1').on('connect', resolve).on('error', reject)),
      ).rejects.toThrow(/ECONNREFUSED/);
      expect(await conn.ended).toBe('closed');
      await closing;
      expect(conn.received()).toBe('');
      // The keep-alive timeout (Node 24 adds a second to it), not the 30 s cut.
      expect(Date.now() - t0).toBeLessThan(5_000);
    });

    it("leaves the close at once to idle: 'close' (the default)", async () => {
      const handle = await serve(echo, { port: 0, keepAliveTimeout: 60_000 });
      const conn = await idleConnection(handle.port);
      const t0 = Date.now();
      await handle.close({ timeout: 30_000 });
      expect(await conn.ended).toBe('closed');
      expect(Date.now() - t0).toBeLessThan(5_000);
    });

    it("a later close({ idle: 'close' }) closes the idle connections it keeps, and lets the rest finish", async () => {
      const handle = await serve(echo, { port: 0, keepAliveTimeout: 60_000 });
      const conn = await idleConnection(handle.port);
      const closing = handle.close({ idle: 'expire', timeout: 60_000 });
      const state = await Promise.race([conn.ended, sleep(100).then(() => 'open')]);
      expect(state).toBe('open');
      const t0 = Date.now();
      void handle.close({ idle: 'close', timeout: 60_000 });
      expect(await conn.ended).toBe('closed');
      await closing;
      expect(Date.now() - t0).toBeLessThan(5_000);
    });

    it('a later close({ timeout: 0 }) cuts the idle connections it keeps', async () => {
      const handle = await serve(echo, { port: 0, keepAliveTimeout: 60_000 });
      const conn = await idleConnection(handle.port);
      const closing = handle.close({ idle: 'expire', timeout: 60_000 });
      const state = await Promise.race([conn.ended, sleep(100).then(() => 'open')]);
      expect(state).toBe('open');
      await handle.close({ timeout: 0 });
      await closing;
      expect(await conn.ended).toBe('closed');
    });
  });

  it('closes a keep-alive connection once its in-flight stream ends', async () => {
    const gate = deferred();
    // Long keep-alive and close timeouts: only closing the connection as it goes idle ends this test in time.
    const handle = await serve(
      (_e, startResponse) => {
        startResponse('200 OK', []);
        return (async function* () {
          yield bytes('head out;');
          await gate.promise;
          yield bytes('done');
        })();
      },
      { port: 0, server: { keepAliveTimeout: 120_000 } },
    );
    const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 120_000 });
    try {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http.get(handle.url, { agent }, resolve).on('error', reject);
      });
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      await until(() => text.length > 0);
      const closing = handle.close({ timeout: 120_000 });
      gate.resolve();
      await new Promise((r) => res.once('end', r));
      expect(text).toBe('head out;done');
      await closing;
    } finally {
      agent.destroy();
    }
  });

  it('cuts the remaining connections after the timeout', async () => {
    const finalized = deferred();
    const handle = await serve((_e, startResponse) => {
      startResponse('200 OK', []);
      return (async function* () {
        try {
          for (;;) {
            yield bytes('.');
            await sleep(5);
          }
        } finally {
          finalized.resolve();
        }
      })();
    }, { port: 0, log: { write() {} } });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(handle.url, { agent: false }, resolve).on('error', reject);
    });
    res.on('data', () => {});
    const ended = new Promise<string>((resolve) => {
      res.on('end', () => resolve('end'));
      res.on('error', () => resolve('error'));
      res.on('aborted', () => resolve('error'));
    });
    await handle.close({ timeout: 50 });
    expect(await ended).toBe('error');
    await finalized.promise;
  });

  it('resolves only once the cut bodies have closed: a process that exits then has run their finally blocks', async () => {
    const steps: string[] = [];
    const handle = await serve(
      Request.application((req) =>
        Response.eventStream(
          (async function* () {
            try {
              for (let i = 0; ; i++) {
                await sleep(20);
                yield { data: String(i) };
              }
            } finally {
              steps.push('finally');
              await sleep(10); // cleanup that awaits (a usage record, a pool release)
              steps.push('cleaned up');
            }
          })(),
        ),
      ),
      { port: 0, log: { write() {} } },
    );
    const res = await fetch(handle.url);
    const reader = res.body!.getReader();
    await reader.read();
    // The wait for the bodies' `finally` is bounded by the timeout too (2 s at most): 30 ms left
    // a loaded machine 0–10 ms for a cleanup of 10 ms behind a step of 20.
    await handle.close({ timeout: 1_000 });
    steps.push('close resolved');
    expect(steps).toEqual(['finally', 'cleaned up', 'close resolved']);
    await reader.cancel().catch(() => {});
  });

  it('resolves only once the apps it cut before they answered have settled: their access log line is written', async () => {
    const lines: string[] = [];
    const handle = await serve(
      accessLog(
        Request.application(async (req) => {
          // A slow poll that heeds the request's signal, which the cut aborts: it stops, and
          // the app answers what it has (to nobody: the client is gone).
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 5_000);
            req.signal?.addEventListener('abort', () => {
              clearTimeout(timer);
              setTimeout(resolve, 20);
            });
          });
          return new Response('late');
        }),
        { log: { write: (line: string) => void lines.push(line) }, format: 'common' },
      ),
      { port: 0, log: { write() {} } },
    );
    const answered = request(`${handle.url}/slow`).catch(() => 'cut');
    await sleep(50);
    await handle.close({ timeout: 30 });
    const logged = [...lines];
    expect(await answered).toBe('cut');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/"GET \/slow HTTP\/1\.1" 499 /);
  });

  it('still waits for the apps it cut after an app answered with a thenable that called back twice (the second call ignored)', async () => {
    let calls = 0;
    const stopped = deferred();
    const app = ((environ: Environ, startResponse: StartResponse) => {
      calls++;
      if (calls === 1) {
        // Not Promises/A+: calls its callback twice, which a promise would never do.
        return { then: (answer: (body: Body) => void) => { startResponse('200 OK', []); answer([]); answer([]); } };
      }
      // A slow poll that heeds tsgi.signal, as the cut aborts it: it ends 100 ms later.
      return new Promise<Body>((_resolve, reject) => {
        environ['tsgi.signal']!.addEventListener('abort', () => setTimeout(() => {
          stopped.resolve();
          reject(environ['tsgi.signal']!.reason);
        }, 100));
      });
    }) as unknown as App;
    const handle = await serve(app, { port: 0, log: { write() {} } });
    expect((await request(`${handle.url}/first`)).status).toBe(200);
    const cut = request(`${handle.url}/slow`).catch(() => 'cut');
    await sleep(50);
    let done = false;
    void stopped.promise.then(() => (done = true));
    await handle.close({ timeout: 300 });
    expect(done).toBe(true);
    expect(await cut).toBe('cut');
  });

  /** A raw app streaming dots until cut, whose `finally` never settles (a cleanup that hangs). */
  const hangingCleanup = endless('.', () => new Promise(() => {}));

  it('waits for a body that never finishes closing for `timeout` more at most, or until a second close({ timeout: 0 })', async () => {
    const handle = await serve(
      hangingCleanup,
      { port: 0, log: { write() {} } },
    );
    const res = await fetch(handle.url);
    const reader = res.body!.getReader();
    await reader.read();
    let started = performance.now();
    await handle.close({ timeout: 100 }); // cut at 100 ms, then 100 ms for the body's return()
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(performance.now() - started).toBeLessThan(2000);
    await reader.cancel().catch(() => {});

    const second = await serve(
      hangingCleanup,
      { port: 0, log: { write() {} } },
    );
    const again = (await fetch(second.url)).body!.getReader();
    await again.read();
    started = performance.now();
    const closing = second.close({ timeout: 60_000 });
    await sleep(50);
    await second.close({ timeout: 0 }); // a second Ctrl-C: cut now, wait no more
    await closing;
    expect(performance.now() - started).toBeLessThan(2000);
    await again.cancel().catch(() => {});
  });

  it('refuses a timeout past 2147483647 ms, or no number, closing nothing: Node would cut every connection after 1 ms', async () => {
    const gate = deferred();
    const entered = deferred();
    const handle = await start(async (_environ, startResponse) => {
      entered.resolve();
      await gate.promise;
      startResponse('200 OK', []);
      return [bytes('finished')];
    });
    const inFlight = request(handle.url);
    await entered.promise;
    for (const timeout of [2 ** 31, 1e10, Number.NaN, '5000']) {
      await expect(handle.close({ timeout } as never)).rejects.toThrow(
        /^server\.close: timeout must be a number of milliseconds from 0 to 2147483647, or Infinity/,
      );
    }
    await sleep(50);
    expect(handle.server.listening).toBe(true);
    gate.resolve();
    const res = await inFlight;
    expect([res.status, res.body.toString()]).toEqual([200, 'finished']);
  });

  it('is idempotent', async () => {
    const handle = await serve(() => [], { port: 0 });
    const a = handle.close();
    const b = handle.close();
    await Promise.all([a, b]);
    expect(handle.server.listening).toBe(false);
  });
});

describe('the server outlives any one request', () => {
  const crashy: App = (environ, startResponse) => {
    switch (environ.PATH_INFO) {
      case '/sync':
        throw new Error('sync crash');
      case '/async':
        return Promise.reject(new Error('async crash'));
      case '/mid':
        startResponse('200 OK', []);
        return (async function* () {
          yield bytes('a');
          await sleep(2);
          yield bytes('b');
          throw new Error('mid crash');
        })();
      case '/finally':
        startResponse('200 OK', []);
        return (function* () {
          try {
            yield bytes('a');
            yield bytes('b');
          } finally {
            throw new Error('finally crash');
          }
        })();
      case '/badreturn':
        startResponse('200 OK', []);
        return {
          [Symbol.iterator]() {
            return {
              next: () => ({ done: false, value: CHUNK }),
              return: () => {
                throw new Error('return() crash');
              },
            };
          },
        };
      default:
        startResponse('200 OK', []);
        return [bytes('alive')];
    }
  };

  it('keeps serving on this and another server after crashes', async () => {
    const a = await start(crashy);
    const b = await start(crashy);
    for (const path of ['/sync', '/async', '/mid', '/finally']) {
      const { raw } = await rawExchange(a.port, rawGet(path));
      expect(raw === '' || parseRaw(raw).status >= 200).toBe(true);
    }
    // A hang-up whose return() throws is logged, not fatal.
    await new Promise<void>((resolve) => {
      const req = http.get(`${a.url}/badreturn`, { agent: false }, (res) => res.once('data', () => {
        req.destroy();
        resolve();
      }));
      req.on('error', () => {});
    });
    await until(() => a.log.text.includes('return() crash'));
    for (const server of [a, b]) {
      const res = await request(`${server.url}/ok`);
      expect(res.body.toString()).toBe('alive');
    }
    expect(a.log.text).toContain('sync crash');
    expect(a.log.text).toContain('async crash');
    expect(a.log.text).toContain('mid crash');
    expect(a.log.text).toContain('finally crash');
  });

  it('survives hostile bodies and thrown values (500, logged, still serving)', async () => {
    const hostile: Record<string, App> = {
      // A thrown value that cannot even be turned into a string.
      '/null-proto': () => {
        throw Object.create(null);
      },
      // A thenable whose then() throws.
      '/bad-then': () =>
        ({
          then() {
            throw new Error('then() crash');
          },
        }) as never,
      // An iterable whose iterator is not an object.
      '/no-iterator': (_e, startResponse) => {
        startResponse('200 OK', []);
        return { [Symbol.iterator]: () => undefined } as never;
      },
      // An iterator whose next() answers garbage and whose return is a throwing getter.
      '/bad-next': (_e, startResponse) => {
        startResponse('200 OK', []);
        return {
          [Symbol.iterator]: () => ({
            next: () => undefined,
            get return(): never {
              throw new Error('return getter crash');
            },
          }),
        } as never;
      },
      // A Symbol.asyncIterator getter that throws.
      '/bad-getter': (_e, startResponse) => {
        startResponse('200 OK', []);
        return {
          get [Symbol.asyncIterator](): never {
            throw new Error('getter crash');
          },
        } as never;
      },
    };
    const server = await start((environ, startResponse) => {
      const app = hostile[environ.PATH_INFO];
      if (app) return app(environ, startResponse);
      startResponse('200 OK', []);
      return [bytes('alive')];
    });
    for (const path of Object.keys(hostile)) {
      const { raw } = await rawExchange(server.port, rawGet(path));
      expect(parseRaw(raw).status, path).toBe(500);
      expect(server.log.text).toContain(`GET ${path} HTTP/1.1`);
    }
    expect(server.log.text).toContain('then() crash');
    expect(server.log.text).toContain('getter crash');
    expect((await request(`${server.url}/ok`)).body.toString()).toBe('alive');
  });

  it('survives many concurrent requests that crash and hang up', async () => {
    const server = await start(crashy);
    const paths = ['/sync', '/async', '/mid', '/ok', '/finally'];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        fetch(`${server.url}${paths[i % paths.length]}`)
          .then((r) => r.text())
          .then(
            (text) => text,
            () => 'failed',
          ),
      ),
    );
    expect(results.filter((t) => t === 'alive')).toHaveLength(10);
    expect((await request(`${server.url}/ok`)).body.toString()).toBe('alive');
  });
});
