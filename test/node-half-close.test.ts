/**
 * A client that sends its request and then shuts its write side (`socket.end()` right after
 * the request: `nc -N`, some health checkers), over a real socket, in cleartext, over TLS and
 * on the HTTP/1.1 of an HTTP/2 server. Its FIN cannot be told from a client that closed the
 * connection and left (the server learns which only when it writes), so `serve()` takes it for
 * one that left, as nginx (499) and Node do: an answer ready when the FIN is read is sent
 * whole; a request whose app is still working is abandoned (`tsgi.signal` aborted), nothing
 * more is written (a streamed body stops, its chunked framing unended), and the server closes
 * the connection at once, never leaving it hanging (docs/server.md).
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Request, Response, type ServeOptions } from 'tsgi';
import { sleep, start } from './node-helpers.ts';
import { type TestCertificate, makeCertificate } from './tls-helpers.ts';

let certificate: TestCertificate;
beforeAll(async () => {
  certificate = await makeCertificate();
});
afterAll(() => certificate.remove());

/**
 * Writes `request` on a new connection (TLS when `secure`), ends the write side at once (a
 * half-close), and collects the answer until the server closes the connection.
 */
function halfClosed(port: number, request: string, secure: boolean): Promise<{ raw: string; error: string | undefined }> {
  return new Promise((resolve) => {
    const socket = secure
      ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] })
      : net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let raw = '';
    let error: string | undefined;
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => (raw += text));
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    const timer = setTimeout(() => socket.destroy(new Error('no close within 5 s')), 5_000);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ raw, error });
    });
    const send = () => socket.end(request);
    if (secure) socket.once('secureConnect', send);
    else send();
  });
}

/** The apps' `tsgi.signal` aborts, by path. */
const aborted: string[] = [];
const app = Request.application(async (req) => {
  req.signal.addEventListener('abort', () => aborted.push(req.path));
  if (req.path === '/slow') await sleep(200);
  if (req.path === '/stream') {
    return new Response(
      (async function* () {
        yield new TextEncoder().encode('one ');
        await sleep(200);
        yield new TextEncoder().encode('two');
      })(),
    );
  }
  return new Response(`answer to ${req.path}`);
});

const kinds: Array<[string, () => ServeOptions, boolean]> = [
  ['HTTP/1.1', () => ({}), false],
  ['HTTPS', () => ({ tls: { cert: certificate.cert, key: certificate.key } }), true],
  ['HTTP/1.1 of http2: true', () => ({ tls: { cert: certificate.cert, key: certificate.key }, http2: true }), true],
];

describe.each(kinds)('serve() over %s: a client that half-closes after its request', (_kind, options, secure) => {
  it('gets an answer ready at once, whole, then the server closes', async () => {
    const server = await start(app, options());
    const { raw, error } = await halfClosed(server.port!, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', secure);
    expect(error).toBeUndefined();
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nanswer to \/$/);
    expect(server.log.text).toBe('');
  });

  it('is taken for gone while its app works: tsgi.signal aborts, nothing is written, the connection closes at once', async () => {
    const server = await start(app, options());
    aborted.length = 0;
    const started = Date.now();
    const { raw, error } = await halfClosed(server.port!, 'GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', secure);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect({ raw, error }).toEqual({ raw: '', error: undefined });
    expect(aborted).toEqual(['/slow']);
    await sleep(300); // the app's answer, once it comes, goes nowhere and logs nothing
    expect(server.log.text).toBe('');
  });

  it('is taken for gone mid-body: a streamed body stops after what was sent by then, its chunked framing unended', async () => {
    const server = await start(app, options());
    const { raw } = await halfClosed(server.port!, 'GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', secure);
    // What was sent by the FIN (over TLS, the FIN may come before the head went out), never more.
    const body = raw === '' ? '' : raw.slice(raw.indexOf('\r\n\r\n') + 4);
    expect(['', '4\r\none \r\n']).toContain(body);
  });

  it('an idle connection the client half-closes is closed by the server', async () => {
    const server = await start(app, options());
    const { raw, error } = await halfClosed(server.port!, '', secure);
    expect({ raw, error }).toEqual({ raw: '', error: undefined });
  });
});
