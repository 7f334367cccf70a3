/**
 * What a request a layer watched for its client leaving (`accessLog`, see
 * access-log-client-gone.test.ts) leaves on its keep-alive connection once answered: nothing
 * that keeps its environ alive (an idle connection may stay open for minutes), and no change of
 * the connection's shape (every connection of `serve()` keeps the one V8 hidden class, so that
 * Node's socket code sees one shape whether or not a request on it was watched).
 *
 * Runs with V8's `gc()` and `%HaveSameMap` turned on for this worker.
 */
import net from 'node:net';
import tls from 'node:tls';
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { type App, type Body, type ServeOptions } from 'tsgi';
import { accessLog } from 'tsgi/middleware';
import { bytes, sleep, start, within } from './node-helpers.ts';
import { makeCertificate } from './tls-helpers.ts';
import { gc } from './gc.ts';

v8.setFlagsFromString('--allow-natives-syntax');
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- V8's natives syntax cannot be written in TypeScript
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

const keepAliveGet = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

/** An app that answers `ok` after a millisecond, under accessLog (so watched while it works). */
const watched = accessLog(
  async (_environ, startResponse) => {
    await sleep(1);
    startResponse('200 OK', [['Content-Length', '3']]);
    return [bytes('ok\n')];
  },
  { log: { write() {} } },
);

/** True once `ref`'s object was collected (a few full collections given). */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 10; i++) {
    gc();
    await sleep(10);
    if (ref.deref() === undefined) return true;
  }
  return false;
}

/** Sends a keep-alive GET of `path` on `socket`; resolves once the answer (its `ok`) came. */
async function get(socket: net.Socket, path: string): Promise<void> {
  let received = '';
  const onData = (chunk: Buffer) => (received += chunk.toString('latin1'));
  socket.on('data', onData);
  socket.write(keepAliveGet(path));
  expect(await within(() => /\r\n\r\n.*\n$/s.test(received), 2000)).toBe(true);
  socket.off('data', onData);
}

describe('a watched request on a keep-alive connection', () => {
  for (const [name, outcome] of [
    ['answered', 'answer'],
    ['whose layer above accessLog threw after calling it', 'throw'],
    ['whose layer above accessLog answered by itself after calling it', 'own'],
  ] as const) {
    it(`leaves its environ collectable while the connection stays open idle (${name})`, async () => {
      let environRef: WeakRef<object> | undefined;
      const outer: App = (environ, startResponse) => {
        environRef = new WeakRef(environ);
        const answer = watched(environ, startResponse) as Promise<Body>;
        if (outcome === 'answer') return answer;
        answer.catch(() => {});
        if (outcome === 'throw') throw new Error('a layer above accessLog failed');
        startResponse('200 OK', [['Content-Length', '3']]);
        return [bytes('ok\n')];
      };
      const server = await start(outer);
      const socket = net.connect(server.port, '127.0.0.1');
      socket.on('error', () => {});
      try {
        await get(socket, '/one');
        await sleep(10);
        expect(await collected(environRef!)).toBe(true);
      } finally {
        socket.destroy();
      }
    });
  }
});

describe('the connections of serve()', () => {
  /**
   * Opens two keep-alive connections to `port` (through `connect`), a watched request on the
   * first, an unwatched one on the second, and answers the server's side of both, in order.
   */
  async function twoConnections(
    server: { server: net.Server },
    event: 'connection' | 'secureConnection',
    connect: () => net.Socket,
  ): Promise<net.Socket[]> {
    const sockets: net.Socket[] = [];
    server.server.on(event, (socket: net.Socket) => sockets.push(socket));
    const clients: net.Socket[] = [];
    try {
      for (const path of ['/watched', '/plain']) {
        const client = connect();
        client.on('error', () => {});
        clients.push(client);
        await get(client, path);
      }
    } finally {
      for (const client of clients) client.destroy();
    }
    expect(sockets).toHaveLength(2);
    return sockets;
  }

  const plain: App = (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Length', '3']]);
    return [bytes('ok\n')];
  };
  const app: App = (environ, startResponse) => (environ.PATH_INFO === '/watched' ? watched : plain)(environ, startResponse);

  it('keep one shape whether or not a request on them was watched (HTTP/1.1)', async () => {
    const server = await start(app);
    const [first, second] = await twoConnections(server, 'connection', () => net.connect(server.port, '127.0.0.1'));
    expect(haveSameMap(first!, second!)).toBe(true);
  });

  for (const [name, options] of [
    ['over TLS', {}],
    ['over TLS with HTTP/2 offered (an HTTP/1.1 client)', { http2: true }],
  ] as Array<[string, ServeOptions]>) {
    it(`keep one shape whether or not a request on them was watched (HTTP/1.1 ${name})`, async () => {
      const certificate = await makeCertificate();
      try {
        const server = await start(app, { ...options, tls: { cert: certificate.cert, key: certificate.key } });
        const [first, second] = await twoConnections(server, 'secureConnection', () =>
          tls.connect({ port: server.port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }),
        );
        expect(haveSameMap(first!, second!)).toBe(true);
      } finally {
        await certificate.remove();
      }
    });
  }
});
