/**
 * Connection limits of `serve()`: how many sockets one process keeps, and how soon one that
 * sends nothing is let go, so idle or abusive clients cannot exhaust the file descriptors.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import type { Server as NetServer, Socket } from 'node:net';

/** Milliseconds a new connection may stay silent before it is closed (default of `firstByteTimeout`). */
export const DEFAULT_FIRST_BYTE_TIMEOUT = 10_000;

/**
 * The default cap on open connections: 80 % of the process's open-file limit (its soft
 * `RLIMIT_NOFILE`, read from `/proc/self/limits` on Linux), leaving room for files, pipes and
 * the listening socket, and at most 10 000; 4 096 where the limit cannot be read.
 */
export function defaultMaxConnections(): number {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1]);
    if (soft > 0) return Math.max(16, Math.min(10_000, Math.floor(soft * 0.8)));
  } catch {
    // not Linux: fall through
  }
  return 4096;
}

/** The caps {@link capConnections} enforces. */
export interface ConnectionCaps {
  /** Most connections open at once; more are closed as they arrive. */
  maxConnections: number;
  /** Most connections open at once from one client address; 0: no per-client cap. */
  maxConnectionsPerClient: number;
}

const WAITING = Symbol('tsgi.first_byte');

type WaitingSocket = Socket & { [WAITING]?: boolean };

/**
 * Caps the connections of the listening `server`: Node closes those past `maxConnections`
 * itself; a client address past `maxConnectionsPerClient` has its new connection closed at
 * once (before a TLS handshake costs anything).
 */
export function capConnections(server: NetServer, caps: ConnectionCaps): void {
  server.maxConnections = caps.maxConnections;
  if (caps.maxConnectionsPerClient <= 0) return;
  const perClient = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (address === undefined) return;
    const open = (perClient.get(address) ?? 0) + 1;
    if (open > caps.maxConnectionsPerClient) {
      socket.destroy();
      return;
    }
    perClient.set(address, open);
    socket.once('close', () => {
      const left = perClient.get(address)! - 1;
      if (left === 0) perClient.delete(address);
      else perClient.set(address, left);
    });
  });
}

/**
 * Gives each connection of `server` `timeout` milliseconds of silence before its first request
 * (Node's `headersTimeout` does not start until a byte arrives), after which Node's own
 * timeouts (headers, request, keep-alive) take over. `event` is `connection` for plain TCP,
 * `secureConnection` behind TLS (the handshake has its own `handshakeTimeout`; a socket whose
 * ALPN chose `h2` is left to the HTTP/2 session timers). `requestServers` emit the first
 * request (`request`, `checkContinue`). A timeout of 0 does nothing.
 */
export function limitFirstByte(
  server: NetServer,
  event: 'connection' | 'secureConnection',
  timeout: number,
  requestServers: readonly NetServer[],
): void {
  if (timeout <= 0) return;
  server.on(event, (socket: WaitingSocket & { alpnProtocol?: string | false }) => {
    if (socket.alpnProtocol === 'h2') return;
    socket[WAITING] = true;
    socket.setTimeout(timeout);
    socket.once('timeout', () => {
      if (socket[WAITING]) socket.destroy();
    });
  });
  for (const requests of requestServers) {
    const started = (req: { socket: WaitingSocket }) => {
      if (req.socket[WAITING]) releaseFirstByte(req.socket, (requests as { timeout?: number }).timeout ?? 0);
    };
    requests.on('request', started);
    requests.on('checkContinue', started);
  }
}

/**
 * Ends the first-byte wait of `socket` (its first request arrived, or it was handed to an
 * HTTP/2 session), restoring the socket timeout `timeout` (the server's `timeout`, 0 for none).
 */
export function releaseFirstByte(socket: Socket, timeout = 0): void {
  (socket as WaitingSocket)[WAITING] = false;
  socket.setTimeout(timeout);
}
