/**
 * The listening socket of `tsgi serve --workers 1` on a port or `--uds`: the primary binds it
 * once, before its worker, and keeps it open until the stop (SIGTERM, SIGINT: it closes it then,
 * before its worker drains, so a connection after it is refused), as gunicorn's arbiter does; the
 * worker, and each replacement, inherits it (as with `--fd`: `shareActivatedSocket`) and
 * listens and accepts on it itself. While the only worker is dead (a crash, its back-off pause,
 * its replacement's start), the socket stays open in the primary: a connection waits in its
 * queue (the listen backlog) for the replacement, and a `--uds` file stays in place, where
 * node:cluster's primary would close the port with its last worker (`ECONNREFUSED`) and remove
 * the file (`ENOENT`).
 *
 * Only for one worker: workers accepting on a shared socket get connections by who accepts
 * first (the kernel's choice), an uneven spread, where node:cluster's primary hands them out in
 * turn (round robin). With two workers or more the primary keeps node:cluster's round robin
 * (src/cli/workers.ts), and one crash leaves the port open.
 *
 * The primary binds it without listening on it: a listening socket in Node accepts, and the
 * primary would take connections its worker should serve. The first worker's `listen` puts the
 * socket in the listening state, which it keeps while any process holds it open.
 *
 * Fallback: binding without listening takes Node's undocumented `net._createServerHandle` (what
 * node:cluster's primary binds its shared handles with). Where it is not a function (a future
 * Node), or on Windows (no descriptor to hand over), {@link bindWorkerSocket} answers
 * `undefined` and the worker listens through node:cluster, as with two workers or more
 * (connections are then refused while it is dead); test/cli-worker-socket.test.ts stubs both.
 *
 * @module
 */
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { resolve } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { checkSocketPath, fitsSocketPath, setSocketMode } from '../adapters/node/listen.ts';

/** A TCP or Pipe handle of Node's, bound and not listening. */
interface BoundHandle {
  readonly fd: number;
  close(): void;
}

/**
 * `net._createServerHandle(address, port, addressType, fd, flags)`: binds a TCP address
 * (`addressType` 4 or 6), or a Unix socket's path (`port` and `addressType` -1), without
 * listening; answers the handle, or a negative errno. node:cluster's primary binds its shared
 * handles with it (SCHED_NONE); Node documents no public way to bind without listening.
 */
type CreateServerHandle = (address: string, port: number, addressType: number, fd?: number, flags?: number) => BoundHandle | number;

/** The primary's side of the socket. */
export interface WorkerSocket {
  /** The socket's descriptor in the primary, for each worker to inherit (`shareActivatedSocket`). */
  readonly fd: number;
  /** Closes the primary's descriptor (a `--uds` file is removed); a second call does nothing. */
  close(): void;
}

/** Where the primary binds: a TCP address (`port` fixed: `prepareManaged` picked one for 0), or `--uds`'s path and mode. */
export type WorkerAddress = { readonly host: string; readonly port: number } | { readonly path: string; readonly mode?: number | undefined };

/** The error `listen` gives for `errno` on `where` (`listen EADDRINUSE: address already in use …`), for the CLI's one-line report (`listenFailure`). */
function listenError(errno: number, address: string, port: number): Error {
  const code = getSystemErrorName(errno);
  const where = port < 0 ? address : `${address}:${port}`;
  return Object.assign(new Error(`listen ${code}: ${where}`), { code, errno, syscall: 'listen', address, port });
}

/**
 * The name to bind the `--uds` socket at `path` by: its absolute path, as the kernel then lists
 * it in `/proc/net/unix` (a relative one is listed as given, which another `tsgi serve` started
 * from another folder could not match: src/cli/uds.ts), unless that is longer than a socket
 * takes where `path` itself is not.
 */
function boundName(path: string): string {
  const absolute = resolve(path);
  return fitsSocketPath(absolute) ? absolute : path;
}

/**
 * Binds `where` (a host name resolved as `listen` resolves it: its first address) and answers
 * the primary's side of it; a `--uds` socket gets its mode (`--uds-mode`, default `0666`).
 * `undefined`, having bound nothing, on Windows and where `net._createServerHandle` is no
 * function, and where the handle has no descriptor to hand to a worker: the worker then
 * listens through node:cluster (connections are refused while it is dead).
 *
 * @throws (rejects) with a `listen` error (`code` `EADDRINUSE`, `EACCES`, `EINVAL` for a path
 *   longer than a Unix socket takes…; `getaddrinfo`'s for a host that does not resolve) when
 *   the address cannot be bound.
 */
export async function bindWorkerSocket(where: WorkerAddress): Promise<WorkerSocket | undefined> {
  const create = (net as unknown as { _createServerHandle?: CreateServerHandle })._createServerHandle;
  if (process.platform === 'win32' || typeof create !== 'function') return undefined;
  let handle: BoundHandle | number;
  if ('path' in where) {
    checkSocketPath(where.path);
    handle = create(boundName(where.path), -1, -1);
    if (typeof handle === 'number') throw listenError(handle, where.path, -1);
    setSocketMode(where.path, where.mode);
  } else {
    const family = net.isIP(where.host);
    const { address, family: resolved } = family === 0 ? await lookup(where.host) : { address: where.host, family };
    handle = create(address, where.port, resolved);
    if (typeof handle === 'number') throw listenError(handle, address, where.port);
  }
  const bound = handle;
  if (typeof bound.fd !== 'number' || bound.fd < 0) {
    bound.close();
    return undefined;
  }
  let open = true;
  return {
    fd: bound.fd,
    close() {
      if (open) bound.close();
      open = false;
    },
  };
}
