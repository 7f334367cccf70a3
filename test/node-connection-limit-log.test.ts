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

/** Opens a connection to `host` from `localAddress`, resolving once connected (or refused). */
const openFrom = (port: number, host: string, localAddress: string) =>
  new Promise<net.Socket>((resolve) => {
    const socket = net.connect({ port, host, localAddress }, () => resolve(socket));
    socket.on('error', () => resolve(socket));
  });

describe('serve() at maxConnectionsPerClient, counting an IPv6 client by its prefix', () => {
  const REACHED = 'tsgi: connection limit per client reached (maxConnectionsPerClient 2): closing'
    + ' the new connections of';
  /** The log lines of a server capped at 2 per client past which 3 connections came. */
  async function linesOf(host: string, from: string, options: { ipv6Subnet?: number } = {}) {
    const lines: string[] = [];
    const log = { write: (message: string) => void lines.push(message) };
    const server = await serve(ok, { host, port: 0, maxConnectionsPerClient: 2, log, ...options });
    const sockets: net.Socket[] = [];
    try {
      const to = host === '::' ? '127.0.0.1' : host;
      for (let i = 0; i < 3; i++) sockets.push(await openFrom(server.port, to, from));
      await until(() => sockets.some((socket) => socket.destroyed));
      return lines;
    } finally {
      for (const socket of sockets) socket.destroy();
      await server.close({ timeout: 0 });
    }
  }

  // Only ::1 can be bound on a test machine: another address of its /56 (which one client
  // holds, and may connect from each) is counted with it as `::/56`, where it was counted apart.
  it('counts ::1 by its /56 by default, and by itself with ipv6Subnet: 128', async () => {
    expect(await linesOf('::1', '::1')).toEqual([`${REACHED} ::/56\n`]);
    expect(await linesOf('::1', '::1', { ipv6Subnet: 128 })).toEqual([`${REACHED} ::1\n`]);
  });

  it('counts a dual-stack IPv4 client (::ffff:127.0.0.2) by its IPv4 address', async () => {
    expect(await linesOf('::', '127.0.0.2')).toEqual([`${REACHED} 127.0.0.2\n`]);
  });

  it('refuses an ipv6Subnet that is no whole number from 1 to 128, naming it', async () => {
    for (const ipv6Subnet of [0, 129, 56.5, Number.NaN, '56']) {
      const got = typeof ipv6Subnet === 'string' ? `"${ipv6Subnet}" (a string)` : ipv6Subnet;
      const options = { port: 0, maxConnectionsPerClient: 2, ipv6Subnet } as never;
      await expect(serve(ok, options)).rejects.toThrow(new TypeError(
        `serve: ipv6Subnet must be an integer from 1 to 128 (128: each address apart), got ${got}`,
      ));
    }
  });
});
