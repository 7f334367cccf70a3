/**
 * Connection limits of `serve()`: how many sockets one process keeps, and how soon one that
 * sends nothing is let go, so idle or abusive clients cannot exhaust the file descriptors.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import type { Server as NetServer, Socket } from 'node:net';
import type { LogStream } from '../../gateway/types.ts';
import { stderrLog } from '../../gateway/log.ts';
import { NOTICE_INTERVAL, throttledNotice } from './throttled-notice.ts';
import { MAX_DELAY } from '../../gateway/max-delay.ts';
import { shownValue } from '../../gateway/shown.ts';
import { clientPrefix } from '../../http/client-prefix.ts';

/** Milliseconds a new connection may stay silent before it is closed (default of `firstByteTimeout`). */
export const DEFAULT_FIRST_BYTE_TIMEOUT = 10_000;

/**
 * The milliseconds of `serve()`'s `firstByteTimeout` option (`undefined` for the default,
 * {@link DEFAULT_FIRST_BYTE_TIMEOUT}; 0 turns it off), checked when the server is made: Node's
 * `socket.setTimeout` throws for `NaN`, `Infinity`, a negative number or a string
 * (`process.env`'s), in the `connection` listener of every connection, which ends the process.
 * One past {@link MAX_DELAY} (`Infinity` included) is taken as that limit (24.8 days), as over
 * HTTP/2 (`h2-sessions.ts`).
 *
 * @throws TypeError for a value that is not a non-negative number.
 */
export function firstByteTimeoutOf(firstByteTimeout: number | undefined): number {
  const ms = firstByteTimeout ?? DEFAULT_FIRST_BYTE_TIMEOUT;
  if (typeof ms !== 'number' || !(ms >= 0)) {
    throw new TypeError(`serve: firstByteTimeout must be a non-negative number of milliseconds (0 turns it off), got ${shownValue(ms)}`);
  }
  return ms > MAX_DELAY ? MAX_DELAY : ms;
}

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
  /**
   * Bits of an IPv6 client address that name the client `maxConnectionsPerClient` counts
   * (1 to 128; 128: each address apart), as `clientPrefix` reads it.
   */
  ipv6Subnet: number;
}

const WAITING = Symbol('tsgi.first_byte');

type WaitingSocket = Socket & { [WAITING]?: boolean };

/**
 * Caps the connections of the listening `server`: Node closes those past `maxConnections`
 * itself; a client past `maxConnectionsPerClient` (an IPv6 one counted by its `ipv6Subnet`
 * prefix, an IPv4-mapped one by its IPv4 address: `clientPrefix`, once per connection) has its
 * new connection closed at once (before a TLS handshake costs anything). Either is written to
 * `log` (standard error by default) at once, then at most every 10 s while it goes on, with the
 * count, so a flood does
 * not become a flood of log lines.
 */
export function capConnections(server: NetServer, caps: ConnectionCaps, log: LogStream = stderrLog): void {
  server.maxConnections = caps.maxConnections;
  const dropped = throttledNotice(
    log,
    () =>
      `connection limit reached (maxConnections ${caps.maxConnections}): closing new connections as they arrive` +
      ' (by default 80 % of the open-file limit: raise that, LimitNOFILE under systemd, or run more processes)',
    (count) => `connection limit (maxConnections ${caps.maxConnections}): ${connections(count)} closed in the last ${NOTICE_INTERVAL / 1000} s`,
  );
  server.on('drop', () => dropped(''));
  if (caps.maxConnectionsPerClient <= 0) return;
  const refused = throttledNotice(
    log,
    (address) => `connection limit per client reached (maxConnectionsPerClient ${caps.maxConnectionsPerClient}): closing the new connections of ${address}`,
    (count) => `connection limit per client (maxConnectionsPerClient ${caps.maxConnectionsPerClient}): ${connections(count)} closed in the last ${NOTICE_INTERVAL / 1000} s`,
  );
  const perClient = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    if (socket.remoteAddress === undefined) return;
    const address = clientPrefix(socket.remoteAddress, caps.ipv6Subnet);
    const open = (perClient.get(address) ?? 0) + 1;
    if (open > caps.maxConnectionsPerClient) {
      socket.destroy();
      refused(address);
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

/** `1 more connection`, `5 more connections`. */
function connections(count: number): string {
  return `${count} more connection${count === 1 ? '' : 's'}`;
}

/**
 * Gives each connection of `server` `timeout` milliseconds of silence before its first request
 * (Node's `headersTimeout` does not start until a byte arrives), after which Node's own
 * timeouts (headers, request, keep-alive) take over. `event` is `connection` for plain TCP,
 * `secureConnection` behind TLS (the handshake has its own `handshakeTimeout`; a socket whose
 * ALPN chose `h2` is left to the HTTP/2 session timers). `requestServers` emit the first
 * request (`request`, `checkContinue`, `checkExpectation`). A timeout of 0 does nothing.
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
    // An `Expect` that lists nothing goes to the app from here (`expectationRefuser`).
    requests.on('checkExpectation', started);
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
