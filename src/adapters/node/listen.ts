/**
 * Binding a server: a TCP address, or a Unix domain socket.
 *
 * @module
 */
import cluster from 'node:cluster';
import { chmodSync } from 'node:fs';
import type { Server } from 'node:net';

/** `net.Server`'s listen step, `_listen2` (kept by Node under that name for code that wraps it). */
interface ListenStep {
  _listen2(address: null, port: null, addressType: null, backlog: number | undefined, fd: number): void;
}

/**
 * Where to listen: a TCP port on an address, a Unix socket's path, or a socket already bound
 * and open in this process, by file descriptor.
 */
export type ListenAddress = { readonly port: number; readonly host: string } | { readonly path: string } | { readonly fd: number };

/**
 * Resolves once `server` listens on `where`. A Unix socket is made read-writable by every
 * local user (0o666, like a TCP port on the machine); Node removes it when the server closes.
 *
 * A descriptor is this process's, in a node:cluster worker too: `listen({ fd })` there would
 * ask the primary for the socket of the primary's descriptor, in a handle the primary closes
 * once its last worker is gone; the worker listens on its own instead, as any other process
 * does (`tsgi serve --workers --fd`, whose workers inherit the socket).
 *
 * @throws (rejects) when the address cannot be bound (`EADDRINUSE`, `EACCES`, a path in use
 *   or in a missing folder), or the descriptor is no socket (`ENOTSOCK`) or not open (`EBADF`).
 */
export async function listenOn(server: Server, where: ListenAddress): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const listening = () => {
      server.off('error', reject);
      resolve();
    };
    if ('path' in where) server.listen(where.path, listening);
    else if ('fd' in where && cluster.isWorker) {
      server.once('listening', listening);
      (server as unknown as ListenStep)._listen2(null, null, null, undefined, where.fd);
    } else if ('fd' in where) server.listen({ fd: where.fd }, listening);
    else server.listen(where.port, where.host, listening);
  });
  if ('path' in where) chmodSync(where.path, 0o666);
}
