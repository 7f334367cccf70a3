/**
 * No client can end the server's process by resetting (or destroying) its connection at any
 * moment the server holds the socket: during and right after a TLS handshake, in an HTTP/2
 * session (over TLS and h2c) at each stage, on an upgraded socket before and after the handler
 * takes it, after the answers the server writes itself (408, 413, 431) and while it lingers.
 * Each case listens for `uncaughtException` (an 'error' nobody listened to ends the process)
 * and then asks the same server for one more answer.
 */
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { sleep, start } from './node-helpers.ts';
import { type TestCertificate, makeCertificate } from './tls-helpers.ts';

let certificate: TestCertificate;
beforeAll(async () => {
  certificate = await makeCertificate();
});
afterAll(() => certificate.remove());

/** An app that answers `ok <path>`, after a pause for `/slow`, streamed for `/stream`, reading the body for POST. */
const app = Request.application(async (req) => {
  if (req.method === 'POST') return new Response(`read ${(await req.bytes()).byteLength}`);
  if (req.path === '/slow') await sleep(150);
  if (req.path === '/stream') {
    let n = 0;
    return new Response(
      new ReadableStream({
        async pull(controller) {
          await sleep(5);
          if (n++ > 200) controller.close();
          else controller.enqueue(new Uint8Array(16 * 1024));
        },
      }),
    );
  }
  return new Response(`ok ${req.path}`);
});

/** Runs `cases`, each to its end, and answers the uncaught exceptions and unhandled rejections seen meanwhile. */
async function uncaughtDuring(cases: Array<() => Promise<void>>): Promise<unknown[]> {
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => void uncaught.push(error);
  // An unhandled rejection too: under `tsgi serve` it stops the server.
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  try {
    for (const run of cases) await run();
    await sleep(150);
  } finally {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
  }
  // Every case reached its moment (a case whose event never came proves nothing).
  expect(missed.splice(0)).toEqual([]);
  return uncaught;
}

/** The cases whose moment never came (their socket closed by {@link closed}'s timer). */
const missed: string[] = [];

/** Resolves once `socket` closed, or after 2 s (destroying it, and counting the case missed). */
function closed(socket: net.Socket, where = new Error().stack?.split('\n')[2]?.trim() ?? '?'): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      missed.push(where);
      socket.destroy();
      resolve();
    }, 2_000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A TCP connection to 127.0.0.1:`port`, its errors taken. */
function tcp(port: number): net.Socket {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  return socket;
}

/** Resets `socket` (an RST) if it is still open. */
function reset(socket: net.Socket): void {
  if (!socket.destroyed) socket.resetAndDestroy();
}

/** A TLS client over `raw`, its errors taken. */
function tlsOver(raw: net.Socket, alpn: string[] = ['http/1.1']): tls.TLSSocket {
  const secure = tls.connect({ socket: raw, rejectUnauthorized: false, servername: 'localhost', ALPNProtocols: alpn });
  secure.on('error', () => undefined);
  return secure;
}

/** The app's answer to GET /after over HTTPS (or h2c/HTTP), to show the server still serves. */
async function answersAfter(url: string): Promise<string> {
  if (url.startsWith('https:')) {
    return new Promise((resolve, reject) => {
      const secure = tls.connect({ port: Number(new URL(url).port), host: '127.0.0.1', rejectUnauthorized: false, servername: 'localhost' }, () => {
        secure.write('GET /after HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      });
      let text = '';
      secure.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      secure.on('end', () => resolve(text.slice(text.indexOf('\r\n\r\n') + 4)));
      secure.on('error', reject);
    });
  }
  return (await fetch(`${url}/after`)).text();
}

describe('TLS: a client that resets its connection during or after the handshake is only gone', () => {
  for (const http2Option of [false, true] as const) {
    it(`HTTPS${http2Option ? ' with HTTP/2 (ALPN)' : ''}: resets before, during and right after the handshake, with a plain-HTTP request and mid-request`, async () => {
      const server = await start(app, {
        tls: { cert: certificate.cert, key: certificate.key, requestCert: true, rejectUnauthorized: false },
        http2: http2Option,
      });
      const uncaught = await uncaughtDuring([
        // Nothing sent.
        async () => {
          const raw = tcp(server.port);
          raw.once('connect', () => reset(raw));
          await closed(raw);
        },
        // A ClientHello cut short, then a reset (mid-handshake).
        async () => {
          const raw = tcp(server.port);
          const hello = Buffer.concat([Buffer.from([0x16, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3]), Buffer.alloc(32, 7)]);
          raw.once('connect', () => raw.write(hello, () => setTimeout(() => reset(raw), 10)));
          await closed(raw);
        },
        // A ClientHello, reset while the handshake goes on.
        async () => {
          const raw = tcp(server.port);
          tlsOver(raw);
          raw.once('connect', () => setTimeout(() => reset(raw), 2));
          await closed(raw);
        },
        // Reset at once after the handshake.
        async () => {
          const raw = tcp(server.port);
          tlsOver(raw).once('secureConnect', () => reset(raw));
          await closed(raw);
        },
        // A plain-HTTP request to the TLS port, then a reset.
        async () => {
          const raw = tcp(server.port);
          raw.once('connect', () => raw.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n', () => setTimeout(() => reset(raw), 20)));
          await closed(raw);
        },
        // A plain-HTTP request to the TLS port, reset as the server answers.
        async () => {
          const raw = tcp(server.port);
          raw.once('connect', () => raw.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'));
          raw.once('data', () => reset(raw));
          await closed(raw);
        },
        // A request whose app awaits (reading the client certificate), reset meanwhile.
        async () => {
          const raw = tcp(server.port);
          const secure = tlsOver(raw);
          secure.once('secureConnect', () => secure.write('GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n', () => setTimeout(() => reset(raw), 30)));
          await closed(raw);
        },
        // Mid-body.
        async () => {
          const raw = tcp(server.port);
          const secure = tlsOver(raw);
          secure.once('secureConnect', () =>
            secure.write('POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\nabc', () => setTimeout(() => reset(raw), 30)),
          );
          await closed(raw);
        },
        // Mid-answer.
        async () => {
          const raw = tcp(server.port);
          const secure = tlsOver(raw);
          secure.once('secureConnect', () => secure.write('GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n'));
          secure.once('data', () => reset(raw));
          await closed(raw);
        },
      ]);
      expect(uncaught).toEqual([]);
      expect(await answersAfter(server.url)).toBe('ok /after');
    });
  }

  it('a handshake past its timeout, and an async SNICallback still choosing a certificate when the client resets', async () => {
    let chosen = 0;
    const server = await start(app, {
      firstByteTimeout: 200,
      tls: {
        cert: certificate.cert,
        key: certificate.key,
        // As a certificate store would: the answer comes later, the client may be gone by then.
        SNICallback: (_name, callback) => void setTimeout(() => (chosen++, callback(null, tls.createSecureContext({ cert: certificate.cert, key: certificate.key }))), 80),
      },
    });
    const uncaught = await uncaughtDuring([
      // A ClientHello cut short, left there past the handshake timeout, then a reset.
      async () => {
        const raw = tcp(server.port);
        raw.once('connect', () => raw.write(Buffer.from([0x16, 3, 1, 0, 200, 1, 0]), () => setTimeout(() => reset(raw), 400)));
        await closed(raw);
      },
      // A reset while SNICallback works.
      async () => {
        const raw = tcp(server.port);
        tlsOver(raw);
        raw.once('connect', () => setTimeout(() => reset(raw), 30));
        await closed(raw);
        await sleep(100);
      },
    ]);
    expect(uncaught).toEqual([]);
    expect(chosen).toBe(1);
    expect(server.log.text).toBe('');
    expect(await answersAfter(server.url)).toBe('ok /after');
  });
});

/** An HTTP/2 session over `raw` (TLS with ALPN h2 when `secure`, else h2c), its errors taken. */
function h2Over(raw: net.Socket, secure: boolean, url: string): http2.ClientHttp2Session {
  const session = http2.connect(url, { createConnection: () => (secure ? tlsOver(raw, ['h2']) : raw) });
  session.on('error', () => undefined);
  return session;
}

describe('HTTP/2: a client that resets its connection at any stage of a session is only gone', () => {
  for (const secure of [true, false]) {
    it(`${secure ? 'over TLS (ALPN h2)' : 'h2c'}: after the preface, after SETTINGS, mid-headers, mid-body, awaiting, mid-answer, after the answer, after GOAWAY`, async () => {
      const server = await start(app, secure ? { tls: { cert: certificate.cert, key: certificate.key }, http2: true } : { http2: 'h2c' });
      const url = server.url;
      const stage = (name: string, act: (raw: net.Socket, session: http2.ClientHttp2Session) => void) => async () => {
        const raw = tcp(server.port);
        const session = h2Over(raw, secure, url);
        act(raw, session);
        await closed(raw, name);
        session.destroy();
      };
      const request = (session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, endStream = true) => {
        const stream = session.request(headers, { endStream });
        stream.on('error', () => undefined);
        return stream;
      };
      const uncaught = await uncaughtDuring([
        // h2c: while the server reads the first bytes to tell HTTP/2 from HTTP/1.1 (a prefix of the preface).
        ...(secure
          ? []
          : [
              async () => {
                const raw = tcp(server.port);
                raw.once('connect', () => raw.write('PRI * HTTP/2.0\r\n', () => setTimeout(() => reset(raw), 10)));
                await closed(raw, 'h2c-first-bytes');
              },
            ]),
        stage('preface', (raw) => raw.once('connect', () => setTimeout(() => reset(raw), 10))),
        stage('settings', (raw, session) => session.once('remoteSettings', () => reset(raw))),
        stage('mid-headers', (raw, session) =>
          session.once('remoteSettings', () => {
            // Headers cut short: the first bytes of a HEADERS frame only.
            raw.write(Buffer.from([0, 0, 40, 1, 4, 0, 0, 0, 1, 0x82]), () => reset(raw));
          }),
        ),
        stage('mid-body', (raw, session) =>
          session.once('remoteSettings', () => {
            const stream = request(session, { ':method': 'POST', ':path': '/' }, false);
            stream.write('x'.repeat(1000), () => setTimeout(() => reset(raw), 20));
          }),
        ),
        stage('awaiting', (raw, session) =>
          session.once('remoteSettings', () => {
            request(session, { ':path': '/slow' });
            setTimeout(() => reset(raw), 30);
          }),
        ),
        stage('mid-answer', (raw, session) => session.once('remoteSettings', () => void request(session, { ':path': '/stream' }).once('data', () => reset(raw)))),
        stage('after-answer', (raw, session) => session.once('remoteSettings', () => void request(session, { ':path': '/' }).resume().once('end', () => reset(raw)))),
        stage('after-goaway', (raw, session) =>
          session.once('remoteSettings', () =>
            request(session, { ':path': '/' })
              .resume()
              .once('end', () => {
                session.goaway(0);
                setTimeout(() => reset(raw), 10);
              }),
          ),
        ),
        stage('goaway-in-flight', (raw, session) =>
          session.once('remoteSettings', () => {
            request(session, { ':path': '/' }).resume();
            session.goaway(0);
            setTimeout(() => reset(raw), 10);
          }),
        ),
      ]);
      expect(uncaught).toEqual([]);
      expect(await answersAfter(url)).toBe('ok /after');
    });
  }
});

describe('upgrades: a client that resets an upgraded socket is only gone', () => {
  it('before the handler takes it (head bytes sent), while an async handler awaits, and after the 101', async () => {
    const server = await start(app, {
      upgrade: async (req, socket, head) => {
        await sleep(60);
        if (socket.destroyed) return;
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
        if (head.length > 0) socket.write(head);
        socket.pipe(socket);
      },
    });
    const upgradeRequest = 'GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n';
    const uncaught = await uncaughtDuring([
      // Head bytes after the request, then a reset while the handler awaits.
      async () => {
        const raw = tcp(server.port);
        raw.once('connect', () => raw.write(`${upgradeRequest}early bytes`, () => setTimeout(() => reset(raw), 10)));
        await closed(raw);
      },
      // Reset as soon as the request is written.
      async () => {
        const raw = tcp(server.port);
        raw.once('connect', () => raw.write(upgradeRequest, () => reset(raw)));
        await closed(raw);
      },
      // Pipelined behind a request still being answered, reset before the handler's turn.
      async () => {
        const raw = tcp(server.port);
        raw.once('connect', () => raw.write(`GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n${upgradeRequest}`, () => setTimeout(() => reset(raw), 30)));
        await closed(raw);
      },
      // After the 101, echoing.
      async () => {
        const raw = tcp(server.port);
        raw.once('connect', () => raw.write(upgradeRequest));
        raw.once('data', () => raw.write('ping', () => reset(raw)));
        await closed(raw);
      },
    ]);
    expect(uncaught).toEqual([]);
    expect(await answersAfter(server.url)).toBe('ok /after');
  });
});

describe("the answers the server writes itself: a client that resets after them (or while the server lingers) is only gone", () => {
  it('408, 413 (while the server reads the rest), 431, 400, and keep-alive connections cut by close()', async () => {
    const server = await start(app, { headersTimeout: 200, requestTimeout: 300 });
    const after = (request: string, wait = 0) => async () => {
      const raw = tcp(server.port);
      raw.once('connect', () => raw.write(request));
      raw.once('data', () => setTimeout(() => reset(raw), wait));
      await closed(raw);
    };
    const uncaught = await uncaughtDuring([
      // 408: a head never finished.
      after('GET / HTTP/1.1\r\nHost: localhost\r\n'),
      // 431.
      after(`GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
      after(`GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 20),
      // 400, then lingering.
      after('GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: x\r\n\r\n', 20),
      // Answered without reading the body: the server lingers reading the rest.
      async () => {
        const raw = tcp(server.port);
        raw.once('connect', () => raw.write('PUT /no-read HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\nabc'));
        raw.once('data', () => raw.write('x'.repeat(10_000), () => setTimeout(() => reset(raw), 20)));
        await closed(raw);
      },
    ]);
    expect(uncaught).toEqual([]);
    expect(await answersAfter(server.url)).toBe('ok /after');
  });

  it('keep-alive connections reset while close() ends them', async () => {
    const server = await start(app);
    const sockets = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<net.Socket>((resolve) => {
            const raw = tcp(server.port);
            raw.once('connect', () => raw.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'));
            raw.once('data', () => resolve(raw));
          }),
      ),
    );
    const uncaught = await uncaughtDuring([
      async () => {
        const closing = server.close({ timeout: 500 });
        for (const raw of sockets) reset(raw);
        await closing;
      },
    ]);
    expect(uncaught).toEqual([]);
  });
});

describe('proxy(): a client that resets while the upstream connects or answers, and an upstream that resets, leave the server up', () => {
  it('the client resets while the upstream accepted and has not answered, mid-answer, and with its upload in flight; the upstream resets after the head', async () => {
    // An upstream that waits 100 ms before answering /wait, streams /big, and resets /cut after its head.
    const upstream = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', (chunk: Buffer) => {
        const line = chunk.toString('latin1').split('\r\n', 1)[0]!;
        if (line.includes('/cut')) {
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf', () => setTimeout(() => reset(socket), 10));
        } else if (line.includes('/big')) {
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${4 * 1024 * 1024}\r\n\r\n`);
          const chunkOf = Buffer.alloc(64 * 1024, 'x');
          const pump = () => {
            while (!socket.destroyed && socket.write(chunkOf));
          };
          socket.on('drain', pump);
          pump();
        } else {
          setTimeout(() => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'), 100);
        }
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { proxy } = await import('tsgi/proxy');
    const origin = `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
    const server = await start(proxy(origin));
    const resetAfter = (request: string, when: (raw: net.Socket) => void) => async () => {
      const raw = tcp(server.port);
      raw.once('connect', () => raw.write(request));
      when(raw);
      await closed(raw);
    };
    try {
      const uncaught = await uncaughtDuring([
        resetAfter('GET /wait HTTP/1.1\r\nHost: localhost\r\n\r\n', (raw) => raw.once('connect', () => setTimeout(() => reset(raw), 30))),
        resetAfter('GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n', (raw) => raw.once('data', () => reset(raw))),
        resetAfter('POST /wait HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\nabc', (raw) => raw.once('connect', () => setTimeout(() => reset(raw), 30))),
        resetAfter('GET /cut HTTP/1.1\r\nHost: localhost\r\n\r\n', (raw) => raw.once('data', () => setTimeout(() => reset(raw), 50))),
      ]);
      expect(uncaught).toEqual([]);
      const res = await fetch(`${server.url}/wait`);
      expect(await res.text()).toBe('ok');
    } finally {
      upstream.close();
    }
  });
});

describe('a Unix socket: a client that leaves an upgraded or answered connection is only gone', () => {
  it('destroys mid-answer and while the upgrade handler awaits', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const folder = mkdtempSync(join(tmpdir(), 'tsgi-socket-resets-'));
    const path = join(folder, 's.sock');
    const server = await start(app, {
      port: undefined,
      path,
      upgrade: async (_req, socket) => {
        await sleep(60);
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
        socket.pipe(socket);
      },
    });
    const unix = (request: string, when: (socket: net.Socket) => void) => async () => {
      const socket = net.connect(path);
      socket.on('error', () => undefined);
      socket.once('connect', () => socket.write(request));
      when(socket);
      await closed(socket);
    };
    try {
      const uncaught = await uncaughtDuring([
        unix('GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n', (socket) => socket.once('data', () => socket.destroy())),
        unix('GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly', (socket) => socket.once('connect', () => setTimeout(() => socket.destroy(), 10))),
        unix('GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n', (socket) => socket.once('data', () => socket.write('x'.repeat(100_000), () => socket.destroy()))),
      ]);
      expect(uncaught).toEqual([]);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(path, () => socket.write('GET /after HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'));
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        socket.on('end', () => resolve(text.slice(text.indexOf('\r\n\r\n') + 4)));
        socket.on('error', reject);
      });
      expect(answer).toBe('ok /after');
    } finally {
      await server.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('a close-delimited answer (HTTP/1.0) whose body fails after its head is cut, whatever the connection', () => {
  /** An app whose body fails after two chunks, its head sent without a length (but at /after). */
  const failing = Request.application((req) => {
    if (req.path === '/after') return new Response('ok /after');
    let n = 0;
    return new Response(
      new ReadableStream({
        async pull(controller) {
          await sleep(5);
          if (n++ === 2) controller.error(new Error('the body failed'));
          else controller.enqueue(new TextEncoder().encode('chunk'));
        },
      }),
    );
  });

  /** What an HTTP/1.0 client of `connect()` read, and how its connection ended. */
  const http10 = (connect: () => net.Socket, secure: boolean) =>
    new Promise<{ text: string; error?: string }>((resolve) => {
      const socket = connect();
      let text = '';
      let error: string | undefined;
      const timer = setTimeout(() => (socket.destroy(), resolve({ text, error: 'hung' })), 2_000);
      socket.once(secure ? 'secureConnect' : 'connect', () => socket.write('GET / HTTP/1.0\r\nHost: localhost\r\n\r\n'));
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
      socket.on('close', () => (clearTimeout(timer), resolve({ text, ...(error === undefined ? {} : { error }) })));
    });

  it('over TLS it is reset under the TLS layer (the client reads ECONNRESET, not a clean end)', async () => {
    const server = await start(failing, { tls: { cert: certificate.cert, key: certificate.key } });
    let outcome: { text: string; error?: string } | undefined;
    const uncaught = await uncaughtDuring([
      async () => {
        outcome = await http10(() => tls.connect({ port: server.port, host: '127.0.0.1', rejectUnauthorized: false, servername: 'localhost' }), true);
      },
    ]);
    expect(uncaught).toEqual([]);
    expect(outcome!.text).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nchunkchunk$/);
    expect(outcome!.error).toBe('ECONNRESET');
    expect(server.log.text).toContain('the body failed');
    expect(await answersAfter(server.url)).toBe('ok /after');
  });

  it('over a Unix socket it is closed (no reset there)', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const folder = mkdtempSync(join(tmpdir(), 'tsgi-socket-resets-'));
    const path = join(folder, 's.sock');
    const server = await start(failing, { port: undefined, path });
    try {
      let outcome: { text: string; error?: string } | undefined;
      const uncaught = await uncaughtDuring([
        async () => {
          outcome = await http10(() => net.connect(path), false);
        },
      ]);
      expect(uncaught).toEqual([]);
      expect(outcome!.text).toMatch(/\r\n\r\nchunkchunk$/);
      expect(outcome!.error).toBeUndefined();
    } finally {
      await server.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
