/**
 * Binding a server: a TCP address, or a Unix domain socket.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { chmodSync, lstatSync } from 'node:fs';
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
 * the primary's descriptor of that number (node:cluster's default). For `tsgi serve --workers`
 * (the `--fd` socket, or with `--workers 1` the port or `--uds` socket the primary bound), whose primary would
 * otherwise wrap the socket in a handle it closes once its last worker is gone. Not public: an app's own cluster keeps node:cluster's behaviour.
 */
export function ownDescriptor(fd: number): number {
  ownDescriptors.add(fd);
  return fd;
}

/**
 * Where to listen: a TCP port on an address, a Unix socket's path, or a socket already bound
 * and open in this process, by file descriptor.
 */
export type ListenAddress =
  | { readonly port: number; readonly host: string }
  | { readonly path: string; readonly mode?: number | undefined }
  | { readonly fd: number };

/** The mode a Unix socket gets by default: read-writable by every local user, as a TCP port on the machine is. */
export const DEFAULT_SOCKET_MODE = 0o666;

/**
 * Resolves once `server` listens on `where`. A Unix socket gets `where.mode`, default
 * read-writable by every local user (0o666, like a TCP port on the machine), when what is at
 * its path is still a socket (never the target of a symbolic link put there since); Node
 * removes it when the server closes.
 *
 * In a node:cluster worker, a descriptor is the primary's, as node:cluster has it (Node's
 * cluster docs: the primary listens on it and shares the handle), unless
 * {@link ownDescriptor} marked it this process's own (`tsgi serve --workers --fd`, and
 * `--workers 1` on a port or `--uds`, whose workers inherit the socket): the worker then listens on it itself.
 *
 * @throws (rejects) when the address cannot be bound (`EADDRINUSE`, `EACCES`, a path in use
 *   or in a missing folder, `EINVAL` for a path longer than a Unix socket takes), or the
 *   descriptor is no socket (`ENOTSOCK`) or not open (`EBADF`).
 */
export async function listenOn(server: Server, where: ListenAddress): Promise<void> {
  if ('path' in where) checkSocketPath(where.path);
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
  if ('path' in where) setSocketMode(where.path, where.mode);
}

/**
 * Gives the Unix socket just bound at `path` its permission bits, `mode` (default
 * {@link DEFAULT_SOCKET_MODE}), when what is at the path is still a socket. Only a socket:
 * `chmod` follows symbolic links, and a node:cluster worker started later (a replacement)
 * listens on its primary's socket without binding the path again, so whatever is there by then
 * (a link to a secret, put by whoever can write the folder) would become writable by every user.
 */
export function setSocketMode(path: string, mode: number = DEFAULT_SOCKET_MODE): void {
  if (isSocketAt(path)) chmodSync(path, mode);
}

/** The longest path a Unix socket takes, in bytes: `sockaddr_un`'s 108 on Linux, 104 on macOS and the BSDs, less its NUL. */
const MAX_SOCKET_PATH = process.platform === 'linux' ? 107 : 103;

/** Whether a Unix socket can be bound at `path`: at most {@link MAX_SOCKET_PATH} bytes (any length on Windows, whose named pipes have no such limit). */
export function fitsSocketPath(path: string): boolean {
  return process.platform === 'win32' || Buffer.byteLength(path) <= MAX_SOCKET_PATH;
}

/**
 * Refuses a Unix socket path longer than {@link MAX_SOCKET_PATH} bytes with the error Node 24
 * gives (`listen EINVAL`): libuv before 1.52 (Node 22) cut such a path short without a word,
 * and the server listened on a socket of another name than the one asked for. Windows' named
 * pipes (`\\.\pipe\…`) have no such limit.
 *
 * @throws Error with `code` `EINVAL`, `syscall` `listen` and `address` the path.
 */
export function checkSocketPath(path: string): void {
  if (fitsSocketPath(path)) return;
  throw Object.assign(new Error(`listen EINVAL: invalid argument ${path}`), { code: 'EINVAL', errno: -22, syscall: 'listen', address: path, port: -1 });
}

/** Whether `path` is a socket itself (not a symbolic link to anything). */
function isSocketAt(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false; // removed since: nothing to open to others
  }
}
