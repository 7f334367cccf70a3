/**
 * `timeout`: an app that has not started its response in time is answered 503 (or 504) by the
 * middleware, told through `tsgi.signal`, and its late answer closed unsent; over real sockets.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type App, type Environ, Request, Response } from 'tsgi';
import { accessLog, errorPages, requestId, timeout } from 'tsgi/middleware';
import { proxy } from 'tsgi/proxy';
import { bytes, deferred, request, sleep, start, until, within } from './node-helpers.ts';

/** An app that never answers, and keeps the signal it was given. */
function hanging(signals: Array<AbortSignal | undefined>): App {
  return (environ) => {
    signals.push(environ['tsgi.signal']);
    return new Promise(() => {});
  };
}

/** An upstream server that takes requests and never answers; `closed` counts the connections it lost. */
async function silentUpstream(): Promise<{ url: string; seen: () => number; closed: () => number; close: () => void }> {
  let seen = 0;
  let closed = 0;
  const server = http.createServer((req) => {
    seen++;
    req.socket.on('close', () => closed++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen: () => seen,
    closed: () => closed,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe('timeout', () => {
  it('answers 503 with a short reason when the app has not started in time; 504 with status: 504', async () => {
    const server = await start(timeout(hanging([]), { ms: 50 }));
    const began = performance.now();
    const res = await request(`${server.url}/slow`);
    expect(performance.now() - began).toBeLessThan(2000);
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body.toString()).toContain('The application did not answer within 50 ms.');
    const gateway = await start(timeout(hanging([]), { ms: 50, status: 504 }));
    const answer = await request(`${gateway.url}/slow`);
    expect(answer.status).toBe(504);
    expect(answer.body.toString()).toContain('The application did not answer within 50 ms.');
    expect(server.log.text + gateway.log.text).toBe('');
  });

  it("aborts the app's tsgi.signal when the time is up, with a TimeoutError", async () => {
    const signals: Array<AbortSignal | undefined> = [];
    const server = await start(timeout(hanging(signals), { ms: 50 }));
    await request(`${server.url}/`);
    const [signal] = signals;
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal!.aborted).toBe(true);
    expect((signal!.reason as Error).name).toBe('TimeoutError');
  });

  it("still aborts the app's signal when the client goes away before the time is up", async () => {
    const signals: Array<AbortSignal | undefined> = [];
    const server = await start(timeout(hanging(signals), { ms: 60_000 }));
    const socket = net.connect(server.port, '127.0.0.1');
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => signals.length === 1);
    expect(signals[0]!.aborted).toBe(false);
    socket.destroy();
    expect(await within(() => signals[0]!.aborted, 2000)).toBe(true);
    expect((signals[0]!.reason as Error).name).not.toBe('TimeoutError');
  });

  it("closes a body that comes after the time is up (its finally runs) and never sends it", async () => {
    const gate = deferred();
    let finished = false;
    const app: App = (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        try {
          await gate.promise;
          yield bytes('too late');
          yield bytes(' and more');
        } finally {
          finished = true;
        }
      })();
    };
    const server = await start(timeout(app, { ms: 50 }));
    const res = await request(`${server.url}/`);
    expect(res.status).toBe(503);
    expect(res.body.toString()).not.toContain('too late');
    expect(finished).toBe(false);
    gate.resolve();
    expect(await within(() => finished, 2000)).toBe(true);
    expect(server.log.text).toBe('');
  });

  it("logs what a late app throws, but not its abort; nothing is thrown or left unhandled", async () => {
    const failing: App = async (environ) => {
      await sleep(150);
      throw new Error(`late failure of ${environ.PATH_INFO}`);
    };
    const aborted: App = async (environ) => {
      const signal = environ['tsgi.signal']!;
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      throw signal.reason;
    };
    const server = await start(timeout((environ, startResponse) => (environ.PATH_INFO === '/fail' ? failing : aborted)(environ, startResponse), { ms: 50 }));
    expect((await request(`${server.url}/abort`)).status).toBe(503);
    expect((await request(`${server.url}/fail`)).status).toBe(503);
    await until(() => server.log.text !== '');
    await sleep(50);
    expect(server.log.messages).toHaveLength(1);
    expect(server.log.text).toMatch(/^\[tsgi\] GET \/fail HTTP\/1\.1 \(timeout: after the 50 ms limit\): Error: late failure of \/fail\n\s+at /);
  });

  it("logs a late body's failure at its first step as it was thrown, its head given", async () => {
    // Answered after the limit with a sync body, whose first step fails as it is taken.
    const failsFirst: App = async (_environ, startResponse) => {
      await sleep(100);
      startResponse('200 OK', [['Content-Type', 'text/plain'], ['X-Tenant', 'acme']]);
      return (function* () {
        yield* [];
        throw new Error('late first step');
      })();
    };
    const server = await start(timeout(failsFirst, { ms: 30 }));
    const res = await request(`${server.url}/late`);
    expect(res.status).toBe(503);
    await until(() => server.log.text !== '');
    await sleep(50);
    expect(server.log.messages).toHaveLength(1);
    expect(server.log.text).toMatch(/^\[tsgi\] GET \/late HTTP\/1\.1 \(timeout: after the 30 ms limit\): Error: late first step\n\s+at /);
  });

  it('names the request id of requestId around it in the late failure\'s log line', async () => {
    const failing: App = async () => {
      await sleep(100);
      throw new Error('late failure');
    };
    const server = await start(requestId(timeout(failing, { ms: 30 })));
    const res = await request(`${server.url}/fail`, { headers: { 'X-Request-Id': 'nginx-7' } });
    expect(res.status).toBe(503);
    expect(res.headers['x-request-id']).toBe('nginx-7');
    await until(() => server.log.text !== '');
    expect(server.log.text).toMatch(/^\[tsgi\] GET \/fail HTTP\/1\.1 \(timeout: after the 30 ms limit\) request_id=nginx-7: Error: late failure\n/);
  });

  it("ends a late app's read of an upload the client stopped sending: its form read fails once the connection closes, the upload is cleaned up", async () => {
    const events: string[] = [];
    const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgi-timeout-'));
    const app = Request.application(async (req) => {
      try {
        await req.form({ spoolThreshold: 16, tmpDir });
        events.push('form');
        return new Response('ok');
      } catch (error) {
        events.push(`threw ${(error as Error).name}`);
        throw error;
      }
    });
    const server = await start(timeout(app, { ms: 100 }));
    const socket = net.connect({ port: Number(new URL(server.url).port), host: '127.0.0.1' });
    socket.on('error', () => undefined);
    let answer = '';
    socket.on('data', (data: Buffer) => (answer += data.toString('latin1')));
    const part = '--b\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n' + 'a'.repeat(5000);
    // The client declares 100000 bytes, sends a few thousand and then nothing, the connection kept open.
    socket.write(`POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n${part}`);
    try {
      expect(await within(() => answer.startsWith('HTTP/1.1 503 '), 2000)).toBe(true);
      expect(fs.readdirSync(tmpDir, { recursive: true }).length).toBeGreaterThan(0); // the part being spooled
      expect(await within(() => events.length > 0, 4000)).toBe(true);
      expect(events).toEqual(['threw HTTPBadRequest']);
      expect(await within(() => fs.readdirSync(tmpDir).length === 0, 1000)).toBe(true);
    } finally {
      socket.destroy();
      fs.rmSync(tmpDir, { recursive: true, force: true });
    }
  });

  it('leaves a fast app untouched, and clears its timer (the signal it saw never aborts)', async () => {
    const signals: Array<AbortSignal | undefined> = [];
    // It answers within the turn that set the timer, which no timer can then beat: a 5 ms sleep
    // against the 100 ms limit was a race a stalled process could lose (a 503 for a fast app).
    const app = Request.application(async (req) => {
      signals.push(req.signal);
      await Promise.resolve();
      return new Response('fast', { headers: { 'X-App': 'yes' } });
    });
    const server = await start(timeout(app, { ms: 100 }));
    const res = await request(`${server.url}/`);
    expect([res.status, res.headers['x-app'], res.headers['content-length'], res.body.toString()]).toEqual([200, 'yes', '4', 'fast']);
    await sleep(200);
    expect(signals[0]!.aborted).toBe(false);
    expect(server.log.text).toBe('');
  });

  it('does not cut a streamed body that started in time, however long it takes', async () => {
    const signals: Array<AbortSignal | undefined> = [];
    const app: App = (environ, startResponse) => {
      signals.push(environ['tsgi.signal']);
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return (async function* () {
        yield bytes('first,');
        await sleep(200);
        yield bytes('second');
      })();
    };
    const server = await start(timeout(app, { ms: 50 }));
    const res = await request(`${server.url}/`);
    expect([res.status, res.body.toString()]).toEqual([200, 'first,second']);
    expect(signals[0]!.aborted).toBe(false);
  });

  it('times out an event stream whose first event comes late, though its head was given in time; one that sends a first chunk at once is kept', async () => {
    const events = (first: string) =>
      Request.application(
        () =>
          new Response(
            (async function* () {
              if (first) yield bytes(first);
              await sleep(150);
              yield bytes('data: 1\n\n');
            })(),
            { contentType: 'text/event-stream' },
          ),
      );
    const waiting = await start(timeout(events(''), { ms: 50 }));
    const primed = await start(timeout(events(': connected\n\n'), { ms: 50 }));
    const [late, early] = await Promise.all([request(`${waiting.url}/`), request(`${primed.url}/`)]);
    expect([late.status, early.status, early.body.toString()]).toEqual([503, 200, ': connected\n\ndata: 1\n\n']);
  });

  it("works with Request.application handlers awaiting fetch with req.signal: the upstream request is aborted", async () => {
    const upstream = await silentUpstream();
    try {
      let caught: unknown;
      const handler = Request.application(async (req) => {
        try {
          return new Response(await (await fetch(upstream.url, { signal: req.signal! })).text());
        } catch (error) {
          caught = error;
          throw error;
        }
      });
      // 500 ms for the fetch to reach the upstream before the limit aborts it: with 100 ms a
      // loaded machine could abort it before it connected, with no upstream request to close
      // (seen under two CPU burners).
      const server = await start(timeout(handler, { ms: 500 }));
      const res = await request(`${server.url}/search`);
      expect(res.status).toBe(503);
      expect(upstream.seen()).toBe(1);
      expect(await within(() => upstream.closed() === 1, 5000)).toBe(true);
      await until(() => caught !== undefined);
      expect((caught as Error).name).toBe('TimeoutError');
      await sleep(20);
      expect(server.log.text).toBe('');
    } finally {
      upstream.close();
    }
  });

  it("gives proxy the joined signal: a silent upstream's request is cut at the limit, a prompt one passes", async () => {
    const silent = await silentUpstream();
    const prompt = http.createServer((req, res) => res.end('from upstream'));
    await new Promise<void>((resolve) => prompt.listen(0, '127.0.0.1', resolve));
    try {
      // undici loaded first, as a running proxy has it: the first request of a proxy just built
      // may wait for its load (longer than the 100 ms here on a busy Node 22), and one the
      // timeout ends before it was sent opens no connection to be cut.
      await import('undici/index.js');
      const server = await start(timeout(proxy(silent.url), { ms: 100 }));
      expect((await request(`${server.url}/`)).status).toBe(503);
      expect(await within(() => silent.closed() === 1, 2000)).toBe(true);
      const ok = await start(timeout(proxy(`http://127.0.0.1:${(prompt.address() as net.AddressInfo).port}`), { ms: 1000 }));
      const res = await request(`${ok.url}/`);
      expect([res.status, res.body.toString()]).toEqual([200, 'from upstream']);
    } finally {
      silent.close();
      prompt.close();
    }
  });

  it('is rendered by errorPages and logged by accessLog with the status sent', async () => {
    const lines: string[] = [];
    const rendered = errorPages(timeout(hanging([]), { ms: 50 }), { render: (error) => `<p>${error.code}: ${error.detail}</p>` });
    const server = await start(accessLog(rendered, { log: { write: (line: string) => void lines.push(line.trimEnd()) }, format: (e) => `${e.requestLine} ${e.status}` }));
    const res = await request(`${server.url}/page`);
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body.toString()).toBe('<p>503: The application did not answer within 50 ms.</p>');
    expect(lines).toEqual(['GET /page HTTP/1.1 503']);
  });

  it('refuses a limit that is not a positive number of milliseconds, and another status, at once', () => {
    const app: App = (_environ: Environ) => [];
    for (const ms of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '100', undefined]) {
      expect(() => timeout(app, { ms } as never), String(ms)).toThrow(TypeError);
    }
    expect(() => timeout(app, { ms: 10, status: 500 } as never)).toThrow(TypeError);
    expect(() => timeout(app, undefined as never)).toThrow(TypeError);
  });
});
