/**
 * Connection limits of `serve()`: how many sockets one process keeps, and how soon one that
 * sends nothing is let go, so idle or abusive clients cannot exhaust the file descriptors.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

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

/** What {@link limitConnections} enforces. */
export interface ConnectionLimits {
  /** Most connections open at once; more are closed as they arrive. */
  maxConnections: number;
  /** Most connections open at once from one client address; 0: no per-client cap. */
  maxConnectionsPerClient: number;
  /** Milliseconds a new connection may stay silent before it is closed; 0: no limit. */
  firstByteTimeout: number;
}

const WAITING = Symbol('tsgi.first_byte');

/**
 * Applies the limits to `server`: Node closes connections past `maxConnections` itself; a
 * client address past `maxConnectionsPerClient` has its new connection closed at once; a new
 * connection gets `firstByteTimeout` of inactivity before its first request is read (Node's
 * `headersTimeout` does not start until a byte arrives), after which Node's own timeouts
 * (headers, request, keep-alive) take over.
 */
export function limitConnections(server: Server, limits: ConnectionLimits): void {
  server.maxConnections = limits.maxConnections;
  const perClient = new Map<string, number>();
  server.on('connection', (socket: Socket & { [WAITING]?: boolean }) => {
    const address = socket.remoteAddress;
    if (limits.maxConnectionsPerClient > 0 && address !== undefined) {
      const open = (perClient.get(address) ?? 0) + 1;
      if (open > limits.maxConnectionsPerClient) {
        socket.destroy();
        return;
      }
      perClient.set(address, open);
      socket.once('close', () => {
        const left = perClient.get(address)! - 1;
        if (left === 0) perClient.delete(address);
        else perClient.set(address, left);
      });
    }
    if (limits.firstByteTimeout > 0) {
      socket[WAITING] = true;
      socket.setTimeout(limits.firstByteTimeout);
      socket.once('timeout', () => {
        if (socket[WAITING]) socket.destroy();
      });
    }
  });
  if (limits.firstByteTimeout > 0) {
    const started = (req: { socket: Socket & { [WAITING]?: boolean } }) => {
      const socket = req.socket;
      if (socket[WAITING]) {
        socket[WAITING] = false;
        socket.setTimeout(server.timeout);
      }
    };
    server.on('request', started);
    server.on('checkContinue', started);
  }
}
