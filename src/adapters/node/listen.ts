/**
 * Binding a server: a TCP address, or a Unix domain socket.
 *
 * @module
 */
import { chmodSync } from 'node:fs';
import type { Server } from 'node:net';

/**
 * Where to listen: a TCP port on an address, a Unix socket's path, or a socket already bound
 * and open in this process, by file descriptor.
 */
export type ListenAddress = { readonly port: number; readonly host: string } | { readonly path: string } | { readonly fd: number };

/**
 * Resolves once `server` listens on `where`. A Unix socket is made read-writable by every
 * local user (0o666, like a TCP port on the machine); Node removes it when the server closes.
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
    else if ('fd' in where) server.listen({ fd: where.fd }, listening);
    else server.listen(where.port, where.host, listening);
  });
  if ('path' in where) chmodSync(where.path, 0o666);
}
