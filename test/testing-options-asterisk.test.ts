/**
 * `client.options('*')` sends the asterisk-form `OPTIONS *` (RFC 9112 §3.2.4: a question about
 * the server as a whole), as Werkzeug's `client.options('*')` does: the app sees `PATH_INFO`
 * and `REQUEST_URI` `*` with an empty `SCRIPT_NAME`, as under `serve()` over a socket, not `/*`.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { TestClient } from 'tsgi/testing';
import { serveForSuite } from './node-helpers.ts';

const app: App = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain'], ['Allow', 'GET, HEAD, OPTIONS']]);
  return [new TextEncoder().encode(JSON.stringify([environ.SCRIPT_NAME, environ.PATH_INFO, environ.REQUEST_URI, environ.QUERY_STRING]))];
};

const served = serveForSuite(app);

/** The body of the answer to `OPTIONS *` sent over the socket (fetch() cannot send the asterisk-form). */
function overSocket(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(served.port, '127.0.0.1', () => socket.write('OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'));
    let text = '';
    socket.setEncoding('latin1').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(text.slice(text.indexOf('\r\n\r\n') + 4))).on('error', reject);
  });
}

describe("client.options('*')", () => {
  it('sends the asterisk-form, as serve() receives it', async () => {
    const socket = await overSocket();
    expect(JSON.parse(socket)).toEqual(['', '*', '*', '']);
    expect((await new TestClient(app).options('*')).textBody).toBe(socket);
  });

  it('leaves the base URL\'s mount point out: the question is about the server', async () => {
    expect((await new TestClient(app, { baseUrl: 'http://localhost/shop' }).options('*')).textBody).toBe(await overSocket());
  });

  it('keeps /* a path for the other methods', async () => {
    expect(JSON.parse((await new TestClient(app).get('*')).textBody)).toEqual(['', '/*', '/*', '']);
  });
});
