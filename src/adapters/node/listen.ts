/**
 * Binding a server: a TCP address, or a Unix domain socket.
 *
 * @module
 */
import { chmodSync } from 'node:fs';
import type { Server } from 'node:net';

/** `net.Server`'s listen step, `_listen2` (kept by Node under that name for code that wraps it). */
interface ListenStep {
  _listen2(address: null, port: null, addressType: null, backlog: number | undefined, fd: number): void;
}

/** The descriptors {@link ownDescriptor} marked. */
const ownDescriptors = new Set<number>();

/**
 * Marks descriptor `fd` as this process's own, inherited when it was forked, and answers it (only
 * a node:cluster worker of `tsgi serve` marks one; this module stays free of node:cluster, which
 * workerd has not, since the root entry loads it): {@link listenOn} listens on it itself instead of asking the primary for
 * the primary's descriptor of that number (node:cluster's default). For `tsgi serve --workers
 * --fd`, whose primary would otherwise wrap the socket in a handle it closes once its last
 * worker is gone. Not public: an app's own cluster keeps node:cluster's behaviour.
 */
export function ownDescriptor(fd: number): number {
  ownDescriptors.add(fd);
  return fd;
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
 * In a node:cluster worker, a descriptor is the primary's, as node:cluster has it (Node's
 * cluster docs: the primary listens on it and shares the handle), unless
 * {@link ownDescriptor} marked it this process's own (`tsgi serve --workers --fd`, whose
 * workers inherit the socket): the worker then listens on it itself.
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
    else if ('fd' in where && ownDescriptors.has(where.fd)) {
      server.once('listening', listening);
      (server as unknown as ListenStep)._listen2(null, null, null, undefined, where.fd);
    } else if ('fd' in where) server.listen({ fd: where.fd }, listening);
    else server.listen(where.port, where.host, listening);
  });
  if ('path' in where) chmodSync(where.path, 0o666);
}
