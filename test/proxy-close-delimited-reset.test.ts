/**
 * proxy() in front of an upstream whose answer has no length (HTTP/1.0, or HTTP/1.1 without
 * Content-Length or chunking: the close of the connection ends it, RFC 9112 §6.3 ¶8) and that
 * then resets the connection instead of closing it: its app failed in the middle of the body.
 * undici takes such a reset for the answer's end (a workaround for macOS, which resets after a
 * whole answer), so the proxy has to see it on its own socket: the client's answer is cut,
 * never ended cleanly, and the server logs the upstream's failure. An upstream that closes
 * cleanly (FIN) after such a body is a whole answer, and stays one.
 */
import net from 'node:net';
import tls from 'node:tls';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppLike } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { type ProxyApp, decodeContent, proxy, replaceText, rewriteHtml } from 'tsgi/proxy';
import { makeCertificate } from './tls-helpers.ts';
import { type RawResult, dechunk, parseRaw, rawExchangeStrict, rawGet, sleep, start, within } from './node-helpers.ts';

/** The servers and proxies of a test, closed after it. */
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const { reset } of pendingResets.slice()) reset();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** One request's head, read by the upstream, and its socket, to answer on. */
type Answer = (socket: net.Socket, path: string) => void;

/**
 * A raw upstream on 127.0.0.1 that reads each request's head and hands its socket to `answer`
 * (several requests on one connection when the answers keep it); answers the proxy in front
 * of it, under `wrap`, served by `serve()`.
 */
async function proxied(answer: Answer, wrap: (app: ProxyApp) => AppLike = (app) => app): Promise<{ server: Awaited<ReturnType<typeof start>>; app: ProxyApp; connections: () => number }> {
  let connections = 0;
  const upstream = net.createServer((socket) => {
    connections++;
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      while (head.includes('\r\n\r\n')) {
        const path = head.split(' ')[1]!;
        head = head.slice(head.indexOf('\r\n\r\n') + 4);
        answer(socket, path);
      }
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => upstream.close(resolve)));
  const app = proxy(`http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`, { bodyTimeout: 5000 });
  cleanups.push(() => app.close());
  const server = await start(wrap(app));
  return { server, app, connections: () => connections };
}

/** True when the client got the whole answer: its chunked framing complete, the connection ended cleanly. */
function whole(result: RawResult): boolean {
  const reply = parseRaw(result.raw);
  if (!result.clean) return false;
  if (reply.header('transfer-encoding') !== 'chunked') return reply.header('content-length') === String(Buffer.byteLength(reply.rest, 'latin1'));
  try {
    dechunk(reply.rest);
    return true;
  } catch {
    return false;
  }
}

/** The body the client got, its chunked framing taken off (the server frames an answer it has whole by Content-Length). */
function bodyOf(result: RawResult): string {
  const reply = parseRaw(result.raw);
  return reply.header('transfer-encoding') === 'chunked' ? dechunk(reply.rest) : reply.rest;
}

/** Resets waiting for the client to receive their marker. */
const pendingResets: Array<{ marker: string; reset: () => void }> = [];

/**
 * Runs `reset` once a client of {@link exchange} has received `marker` in a body, so once the
 * proxy has read what came before it, or after a second (a filter may hold the body back).
 * The reset then comes alone, never with data the proxy has yet to read: Node 22's libuv takes
 * such a reset for an end of file (see rawExchangeStrict).
 */
function resetOnceSeen(reset: () => unknown, marker: string): void {
  const entry = {
    marker,
    reset: () => {
      clearTimeout(timer);
      const at = pendingResets.indexOf(entry);
      if (at !== -1) pendingResets.splice(at, 1);
      reset();
    },
  };
  const timer = setTimeout(entry.reset, 1000);
  pendingResets.push(entry);
}

/** Writes `text`, then resets the connection once the client has received `marker` (the upstream's app failed). */
function writeThenReset(socket: net.Socket, text: string, marker = 'part'): void {
  socket.write(text);
  resetOnceSeen(() => socket.destroyed || socket.resetAndDestroy(), marker);
}

/** {@link rawExchangeStrict}, running the resets whose marker the body received holds. */
function exchange(port: number, request: string): Promise<RawResult> {
  return rawExchangeStrict(port, request, (raw) => {
    const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
    if (!raw.includes('\r\n\r\n')) return;
    for (const entry of pendingResets.filter(({ marker }) => body.includes(marker))) entry.reset();
  });
}

const MID_BODY = /GET \/\S* HTTP\/1\.1: UpstreamUnreachable 502: upstream https?:\/\/127\.0\.0\.1:\d+: connection closed or reset before a complete answer in the middle of the response body \(ECONNRESET/;

describe('an upstream that resets the connection after a close-delimited body', () => {
  it('cuts the client connection for an HTTP/1.0 answer, and logs the upstream failure', async () => {
    const { server } = await proxied((socket) => writeThenReset(socket, 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\npartial'));
    const result = await exchange(server.port, rawGet('/'));
    const reply = parseRaw(result.raw);
    expect(reply.status).toBe(200);
    expect(reply.rest).toContain('partial');
    expect(whole(result)).toBe(false);
    expect(await within(() => MID_BODY.test(server.log.text), 2000)).toBe(true);
  });

  it('cuts the client connection for an HTTP/1.1 answer without length or chunking', async () => {
    const { server } = await proxied((socket) => writeThenReset(socket, 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\npartial'));
    const result = await exchange(server.port, rawGet('/'));
    expect(parseRaw(result.raw).status).toBe(200);
    expect(whole(result)).toBe(false);
    expect(await within(() => MID_BODY.test(server.log.text), 2000)).toBe(true);
  });

  it('cuts it after a request body the upstream had whole', async () => {
    // Answered once the upload is in (the upstream read it): an answer begun before the upload
    // was all sent would be an early one, not cut (see the RFC 9112 §9.6 cases below).
    const { server } = await proxied((socket) => setTimeout(() => writeThenReset(socket, 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\npartial'), 20));
    const result = await exchange(server.port, 'POST / HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello');
    expect(parseRaw(result.raw).status).toBe(200);
    expect(whole(result)).toBe(false);
    expect(await within(() => /POST \/ HTTP\/1\.1: UpstreamUnreachable 502: .* in the middle of the response body \(ECONNRESET/.test(server.log.text), 2000)).toBe(true);
  });

  it('cuts it when the reset follows the body at once, or the body comes in several writes', async () => {
    let n = 0;
    const { server } = await proxied((socket) => {
      if (n++ % 2 === 0) {
        socket.write('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n');
        socket.write('partial');
        // Node 22's libuv (1.51) may read a reset that comes with unread data as an end of file
        // (see rawExchangeStrict): nothing on the socket then tells it from a close. Node 24 sees it.
        setImmediate(() => socket.resetAndDestroy());
      } else {
        socket.write('HTTP/1.0 200 OK\r\n\r\none,');
        setTimeout(() => socket.write('two,'), 10);
        setTimeout(() => writeThenReset(socket, 'three', 'three'), 20);
      }
    });
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) outcomes.push(whole(await exchange(server.port, rawGet(`/${i}`))) ? 'whole' : 'cut');
    const node22 = Number(process.versions.node.split('.')[0]) < 24;
    if (node22) expect(outcomes.filter((_, i) => i % 2 === 1)).toEqual(['cut', 'cut', 'cut']);
    else expect(outcomes).toEqual(['cut', 'cut', 'cut', 'cut', 'cut', 'cut']);
  });

  it('cuts it from an https: upstream too', async () => {
    const certificate = await makeCertificate();
    cleanups.push(async () => certificate.remove());
    // TLS over a TCP connection of the test's own, which it resets under the TLS session.
    const upstream = net.createServer((raw) => {
      raw.on('error', () => undefined);
      const socket = new tls.TLSSocket(raw, { isServer: true, cert: certificate.cert, key: certificate.key });
      socket.on('error', () => undefined);
      socket.once('data', () => {
        socket.write('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\npartial');
        resetOnceSeen(() => raw.destroyed || raw.resetAndDestroy(), 'part');
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => upstream.close(resolve)));
    const app = proxy(`https://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`, { tls: { ca: certificate.cert } });
    cleanups.push(() => app.close());
    const server = await start(app);
    const result = await exchange(server.port, rawGet('/'));
    expect(parseRaw(result.raw).status).toBe(200);
    expect(whole(result)).toBe(false);
    expect(await within(() => MID_BODY.test(server.log.text), 2000)).toBe(true);
  });

  it('fails the body read through decodeContent, the response filters and toFetchHandler too', async () => {
    const gzipped = Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\n', 'latin1'), gzipSync('<p>partial</p>')]);
    const answer: Answer = (socket, path) => {
      // A whole gzip member: the decoder alone would take it for the whole answer.
      if (path === '/gzip') socket.write(gzipped);
      else socket.write('HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<p>partial</p>');
      resetOnceSeen(() => socket.destroyed || socket.resetAndDestroy(), 'part');
    };
    const filters: Record<string, (app: ProxyApp) => AppLike> = {
      decodeContent: (app) => decodeContent(app),
      replaceText: (app) => replaceText(app, { replacements: [['partial', 'part']] }),
      rewriteHtml: (app) => rewriteHtml(app, { elements: { p: (element) => element.setAttribute('class', 'x') } }),
    };
    for (const [name, wrap] of Object.entries(filters)) {
      const { server } = await proxied(answer, wrap);
      const result = await exchange(server.port, rawGet(name === 'decodeContent' ? '/gzip' : '/'));
      const reply = parseRaw(result.raw);
      // Cut after the head, or the 502 page while the filter still held it: never a whole 200.
      expect(reply.status === 200 && whole(result), name).toBe(false);
      expect(await within(() => / 502: upstream .* in the middle of the response body \(ECONNRESET/.test(server.log.text), 2000), name).toBe(true);
    }
    const { app } = await proxied(answer);
    const response = await toFetchHandler(app, { log: { write: () => undefined } })(new Request('http://gateway.test/'));
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });

  it('passes on a close-delimited answer the upstream ends cleanly (FIN): that is how it ends', async () => {
    const { server } = await proxied((socket) => {
      socket.write('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nwhole ');
      setTimeout(() => socket.end('body'), 20);
    });
    for (let i = 0; i < 3; i++) {
      const result = await exchange(server.port, rawGet('/'));
      expect(whole(result)).toBe(true);
      expect(bodyOf(result)).toBe('whole body');
    }
    expect(server.log.text).toBe('');
  });

  it('leaves length-delimited and chunked answers alone: whole when complete before the reset, kept-alive connections reused', async () => {
    const { server, connections } = await proxied((socket, path) => {
      if (path === '/length-then-reset') writeThenReset(socket, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello', 'hello');
      else if (path === '/chunked-then-reset') writeThenReset(socket, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 'hello');
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const length = await exchange(server.port, rawGet('/length-then-reset'));
    expect(whole(length)).toBe(true);
    expect(bodyOf(length)).toBe('hello');
    const chunked = await exchange(server.port, rawGet('/chunked-then-reset'));
    expect(whole(chunked)).toBe(true);
    expect(bodyOf(chunked)).toBe('hello');
    const before = connections();
    for (let i = 0; i < 3; i++) expect(bodyOf(await exchange(server.port, rawGet('/kept')))).toBe('ok');
    expect(connections() - before).toBe(1);
    expect(server.log.text).toBe('');
  });

  it('blames a reset on the answer it cut, not on a later one over the same pooled connection', async () => {
    // The upstream keeps its connection after a length-delimited answer, then resets it while it
    // is idle in the pool; the next answer, close-delimited on a new connection, ends with a FIN.
    let kept: net.Socket | undefined;
    const { server, connections } = await proxied((socket, path) => {
      if (path === '/kept') {
        kept = socket;
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      } else socket.end('HTTP/1.0 200 OK\r\n\r\nwhole');
    });
    expect(bodyOf(await exchange(server.port, rawGet('/kept')))).toBe('ok');
    kept!.resetAndDestroy();
    await sleep(30);
    const result = await exchange(server.port, rawGet('/after'));
    expect(whole(result)).toBe(true);
    expect(bodyOf(result)).toBe('whole');
    expect(connections()).toBe(2);
    expect(server.log.text).toBe('');
  });
  it('blames a reset on the answer running on a reused pooled connection, and ends one closed cleanly there', async () => {
    // Each close-delimited answer comes over the connection a length-delimited one kept.
    const { server, connections } = await proxied((socket, path) => {
      if (path === '/kept') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else if (path === '/fin') socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nwhole');
      else writeThenReset(socket, 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npartial');
    });
    expect(bodyOf(await exchange(server.port, rawGet('/kept')))).toBe('ok');
    const fin = await exchange(server.port, rawGet('/fin'));
    expect(whole(fin)).toBe(true);
    expect(bodyOf(fin)).toBe('whole');
    expect(connections()).toBe(1);
    expect(server.log.text).toBe('');
    expect(bodyOf(await exchange(server.port, rawGet('/kept')))).toBe('ok');
    expect(whole(await exchange(server.port, rawGet('/reset')))).toBe(false);
    expect(connections()).toBe(2);
    expect(await within(() => / GET \/reset HTTP\/1\.1: UpstreamUnreachable 502: .* in the middle of the response body \(ECONNRESET/.test(server.log.text), 2000)).toBe(true);
    expect(server.log.text).not.toMatch(/GET \/(?:kept|fin) /);
  });
});

describe('an answer sent before the upload is done (RFC 9112 §9.6), then the connection reset', () => {
  it('passes it on whole: the reset is the upstream refusing the rest of the upload', async () => {
    // The upstream answers on reading the head, then resets: its kernel would, with the upload
    // unread. The proxy is not writing then (the client holds the rest of its body back), so it
    // reads the reset itself, after the answer.
    const { server } = await proxied((socket) => {
      socket.write('HTTP/1.1 413 Payload Too Large\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\ntoo large');
      setTimeout(() => socket.resetAndDestroy(), 30);
    });
    const client = uploader(server.port);
    client.socket.write('POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n0123456789');
    expect(await client.whole()).toEqual({ status: 413, body: 'too large' });
    expect(server.log.text).toBe('');
  });

  it('passes it on whole when the client sends the rest of the upload after the answer began', async () => {
    // The answer comes on the request's head (undici sends it with the body's first byte); the
    // client sends the rest of its body only once it has the answer's first bytes, so the upload
    // ends after the answer began (as a small one can, into the socket buffers of an upstream
    // that never reads it). The upstream then resets, as its kernel would with that upload
    // unread: still the early answer's §9.6 reset.
    const size = 1000;
    const { server } = await proxied((socket) => {
      socket.write('HTTP/1.0 401 Unauthorized\r\nContent-Type: text/plain\r\n\r\nnot you');
      // The body's first byte may have come with the head: the rest came after the answer.
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.byteLength;
        if (received >= size - 1) setTimeout(() => socket.destroyed || socket.resetAndDestroy(), 50);
      });
    });
    const client = uploader(server.port);
    client.socket.write(`POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: ${size}\r\n\r\nx`);
    expect(await within(() => client.raw().includes('not you'), 3000)).toBe(true);
    client.socket.write('x'.repeat(size - 1));
    expect(await client.whole()).toEqual({ status: 401, body: 'not you' });
    expect(server.log.text).toBe('');
  });
});

/**
 * A raw client for an upload whose answer may come early: `whole()` waits (3 s at most) for an
 * answer complete by its framing (its last chunk, or its Content-Length), closes the
 * connection, and gives its status and body; it fails the test if none came whole.
 */
function uploader(port: number): { socket: net.Socket; raw: () => string; whole: () => Promise<{ status: number; body: string }> } {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let raw = '';
  socket.on('data', (chunk: Buffer) => (raw += chunk.toString('latin1')));
  const complete = () => {
    if (!raw.includes('\r\n\r\n')) return false;
    const reply = parseRaw(raw);
    return reply.header('transfer-encoding') === 'chunked' ? reply.rest.endsWith('0\r\n\r\n') : reply.rest.length >= Number(reply.header('content-length'));
  };
  return {
    socket,
    raw: () => raw,
    whole: async () => {
      const answered = await within(complete, 3000);
      socket.destroy();
      expect(answered).toBe(true);
      const reply = parseRaw(raw);
      return { status: reply.status, body: reply.header('transfer-encoding') === 'chunked' ? dechunk(reply.rest) : reply.rest };
    },
  };
}
