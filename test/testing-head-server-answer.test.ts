/**
 * A HEAD the server answers itself (a 400 before the app, a 500 for an app that threw) has the
 * fields of the GET's answer and no body (RFC 9110 §9.3.2): the test client answers it as
 * `serve()` sends it over a socket.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, type ServerHandle, serve } from 'tsgi';
import { TestClient } from 'tsgi/testing';

const app: App = (environ, startResponse) => {
  if (environ.PATH_INFO === '/boom') throw new Error('boom');
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('ok')];
};

let server: ServerHandle;
let port: number;
beforeAll(async () => {
  server = await serve(app, { host: '127.0.0.1', port: 0, log: { write() {} } });
  port = Number(new URL(server.url).port);
});
afterAll(() => server.close());

interface Seen { status: number; length: string | undefined; type: string | undefined; body: string }

/** The answer to `HEAD path` over the socket. */
function overSocket(path: string, headers: Record<string, string> = {}): Promise<Seen> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, method: 'HEAD', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => {
        resolve({ status: res.statusCode!, length: res.headers['content-length'], type: res.headers['content-type'], body });
      });
    }).on('error', reject).end();
  });
}

describe("a HEAD answered by the server's own 400 or 500", () => {
  const client = () => new TestClient(app, { status: '*', allowErrors: true });
  const seen = async (path: string, headers: Record<string, string> = {}): Promise<Seen> => {
    const res = await client().head(path, { headers });
    return { status: res.statusCode, length: res.headers.get('content-length') ?? undefined, type: res.headers.get('content-type') ?? undefined, body: await res.text() };
  };

  it('has no body for a path the server cannot decode', async () => {
    const socket = await overSocket('/%FF');
    expect(socket).toMatchObject({ status: 400, body: '' });
    expect(await seen('/%FF')).toEqual(socket);
  });

  it('has no body for an invalid Host', async () => {
    const socket = await overSocket('/', { host: 'a b' });
    expect(socket).toMatchObject({ status: 400, body: '' });
    expect(await seen('/', { host: 'a b' })).toEqual(socket);
  });

  it('has no body for an app that threw', async () => {
    const socket = await overSocket('/boom');
    expect(socket).toMatchObject({ status: 500, body: '' });
    expect(await seen('/boom')).toEqual(socket);
  });
});
