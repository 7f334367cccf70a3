/**
 * A 5xx `HTTPException` that escapes a raw app is logged by the server with the status it
 * answered (`[tsgi] GET /x HTTP/1.1 502: …`), as `Request.application` and `errors` log one:
 * `serve()` over a socket, `toFetchHandler` and the `TestClient` alike.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Body, type Environ, HTTPBadGateway, HTTPNotFound, HTTPServiceUnavailable, type ServerHandle, type StartResponse, serve } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { TestClient } from 'tsgi/testing';

const rawApp = (environ: Environ, startResponse: StartResponse): Body => {
  if (environ.PATH_INFO === '/upstream') throw new HTTPBadGateway('The upstream did not answer.', { cause: new Error('ECONNRESET') });
  if (environ.PATH_INFO === '/missing') throw new HTTPNotFound();
  if (environ.PATH_INFO === '/stream') {
    // The body fails at its first step, before the head went out.
    return (async function* () {
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      await new Promise((resolve) => setTimeout(resolve, 1));
      throw new HTTPServiceUnavailable('Down for maintenance.');
    })();
  }
  throw new Error('no such route');
};

function lines(): { write(line: string): void; text(): string } {
  const written: string[] = [];
  return { write: (line) => void written.push(line), text: () => written.join('') };
}

let server: ServerHandle | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('an HTTPException escaping a raw app', () => {
  it('serve() logs a 5xx with its status and answers it; a 4xx is not logged', async () => {
    const log = lines();
    server = await serve(rawApp, { host: '127.0.0.1', port: 0, log });
    const upstream = await fetch(`${server.url}/upstream?id=7`);
    expect(upstream.status).toBe(502);
    expect(await upstream.text()).toContain('The upstream did not answer.');
    const busy = await fetch(`${server.url}/stream`);
    expect(busy.status).toBe(503);
    await busy.text();
    const missing = await fetch(`${server.url}/missing`);
    expect(missing.status).toBe(404);
    await missing.text();
    const plain = await fetch(`${server.url}/other`);
    expect(plain.status).toBe(500);
    await plain.text();
    const text = log.text();
    expect(text).toContain('[tsgi] GET /upstream?id=7 HTTP/1.1 502: HTTPBadGateway: The upstream did not answer.');
    expect(text).toContain('Caused by: Error: ECONNRESET');
    expect(text).toContain('[tsgi] GET /stream HTTP/1.1 503: HTTPServiceUnavailable: Down for maintenance.');
    expect(text).not.toContain('/missing');
    // The server's own 500 keeps its documented line (spec §7.4).
    expect(text).toContain('[tsgi] GET /other HTTP/1.1: Error: no such route');
  });

  it('toFetchHandler logs it with its status', async () => {
    const log = lines();
    const res = await toFetchHandler(rawApp, { log })(new globalThis.Request('http://h/upstream'));
    expect(res.status).toBe(502);
    await res.text();
    expect(log.text()).toContain('[tsgi] GET /upstream HTTP/1.1 502: HTTPBadGateway: The upstream did not answer.');
  });

  it('the TestClient logs it with its status', async () => {
    const res = await new TestClient(rawApp).get('/stream', { status: 503, allowErrors: true });
    expect(res.errors).toContain('[tsgi] GET /stream HTTP/1.1 503: HTTPServiceUnavailable: Down for maintenance.');
  });
});
