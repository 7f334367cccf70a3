/**
 * `serve()` at its connection limit (`maxConnections`, by default 80 % of the open-file limit):
 * the connections past it are closed as they arrive, and the log says so once, not once per
 * connection (a flood must not turn into a flood of log lines), nor never (an operator whose
 * clients see resets must find why).
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type App, serve } from 'tsgi';

const ok: App = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [new TextEncoder().encode('ok')];
};

/** Opens a connection and resolves once it is connected (or refused). */
const open = (port: number) =>
  new Promise<net.Socket>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', () => resolve(socket));
  });

/** Polls `predicate` every 10 ms until it holds (the test's timeout bounds the wait). */
async function until(predicate: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await predicate())) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('serve() at maxConnections', () => {
  it('logs the connections it closes once per burst, and serves again once they go', async () => {
    const lines: string[] = [];
    const server = await serve(ok, { port: 0, maxConnections: 2, log: { write: (message: string) => void lines.push(message) } });
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 12; i++) sockets.push(await open(server.port));
      // Once the server closed the ten past the limit (not after a fixed 100 ms, which a loaded
      // machine could spend before it had them all): one line for the ten.
      await until(() => sockets.filter((socket) => socket.destroyed).length >= 10);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^tsgi: connection limit reached \(maxConnections 2\): closing new connections/);
      for (const socket of sockets) socket.destroy();
      // Served again once the server saw the two it kept go: retried until then.
      await until(async () => (await fetch(`${server.url}/`).then((res) => res.text(), () => '')) === 'ok');
    } finally {
      for (const socket of sockets) socket.destroy();
      await server.close({ timeout: 0 });
    }
  });
});

describe('serve() at maxConnectionsPerClient', () => {
  it('logs the connections it closes once per burst, naming the client', async () => {
    const lines: string[] = [];
    const server = await serve(ok, { port: 0, maxConnectionsPerClient: 2, log: { write: (message: string) => void lines.push(message) } });
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 12; i++) sockets.push(await open(server.port));
      await until(() => sockets.filter((socket) => socket.destroyed).length >= 10);
      expect(lines).toEqual(['tsgi: connection limit per client reached (maxConnectionsPerClient 2): closing the new connections of 127.0.0.1\n']);
    } finally {
      for (const socket of sockets) socket.destroy();
      await server.close({ timeout: 0 });
    }
  });
});
