/**
 * The listening socket of `tsgi serve --reload`, bound once by the supervisor and kept open
 * for its whole run, as uvicorn's reloader does: each child inherits it as descriptor
 * {@link RELOAD_SOCKET_FD} and accepts on it (as `--fd 3` would), so a connection that comes
 * while a child is replaced, or while none can load the app (a syntax error), waits instead of
 * being refused. The supervisor's own handle of the socket accepts too (Node gives no way to
 * keep a listening socket open without accepting on it): a connection it takes goes to the
 * serving child over the IPC channel ({@link ConnectionMessage}), or is held until a child
 * listens, as node:cluster's primary does.
 *
 * @module
 */
import type { ChildProcess } from 'node:child_process';
import { type Server, type Socket, createServer } from 'node:net';
import { type ListenAddress, listenOn } from '../adapters/node/listen.ts';
import type { ConnectionMessage } from './messages.ts';

/** The descriptor the child of `--reload` finds the supervisor's listening socket on. */
export const RELOAD_SOCKET_FD = 3;

/**
 * How many connections the supervisor holds at most while no child serves (the app cannot
 * load, or restarts): Node's default listen backlog, which bounds the connections waiting in
 * the kernel without `--reload`. One more is closed at once. Held connections are paused, so
 * one whose client left is not noticed before a child takes it: the bound keeps a browser
 * retrying against a broken app (or a flood) from using up the supervisor's descriptors.
 */
export const MAX_HELD_CONNECTIONS = 511;

/** The supervisor's side of the socket. */
export interface ReloadSocket {
  /** The socket's descriptor in the supervisor, to hand to each child as {@link RELOAD_SOCKET_FD}. */
  readonly fd: number;
  /**
   * Sets the child that listens, which the connections the supervisor takes go to (those held
   * meanwhile first), or none (`undefined`: a child stopping, or none could load the app),
   * which holds them.
   */
  serveWith(child: ChildProcess | undefined): void;
  /** Closes the socket (a Unix socket's file is removed) and the connections held. */
  close(): void;
}

/**
 * Binds `where` (a TCP address, or `--uds`'s path: its file made read-writable by every local
 * user, as without `--reload`) and answers the supervisor's side of it.
 * `undefined` where the platform gives no descriptor of the socket to hand to a child
 * (Windows): it is closed again, and each child binds the address itself, as it did before
 * the supervisor kept the socket (connections are then refused while a child restarts).
 *
 * @throws (rejects) with the `listen` error when the address cannot be bound (`EADDRINUSE`,
 *   `EACCES`), as the serving process would.
 */
export async function bindReloadSocket(where: ListenAddress): Promise<ReloadSocket | undefined> {
  const held = new Set<Socket>();
  let serving: ChildProcess | undefined;
  // Paused: the bytes a client sent stay in the socket for the child to read.
  const server: Server = createServer({ pauseOnConnect: true });
  const handOver = (socket: Socket) => {
    const child = serving;
    if (child === undefined || !child.connected) {
      if (!held.has(socket) && held.size >= MAX_HELD_CONNECTIONS) {
        socket.destroy();
        return;
      }
      held.add(socket);
      socket.once('close', () => held.delete(socket));
      return;
    }
    held.delete(socket);
    // Sent, the supervisor's copy is closed (`keepOpen` false); unsent (the child just went), it is dropped.
    child.send({ type: 'tsgi:connection' } satisfies ConnectionMessage, socket, { keepOpen: false }, (error) => {
      if (error !== null) socket.destroy();
    });
  };
  server.on('connection', handOver);
  await listenOn(server, where);
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    // No descriptor to hand over (Windows): each child binds the address itself, as before.
    await new Promise((resolve) => server.close(resolve));
    return undefined;
  }
  return {
    fd,
    serveWith(child) {
      serving = child;
      if (child !== undefined) for (const socket of [...held]) handOver(socket);
    },
    close() {
      server.close();
      for (const socket of held) socket.destroy();
      held.clear();
    },
  };
}
