/**
 * `tsgi serve --fd`: taking the socket systemd handed over (socket activation), as
 * `sd_listen_fds(1)` does: the `LISTEN_*` variables that describe it are removed, and a
 * connection handed over by an `Accept=yes` unit is refused with a line saying so. With
 * `--workers`, every worker inherits the socket and listens on it itself.
 *
 * @module
 */
import cluster from 'node:cluster';
import { fstatSync, readFileSync } from 'node:fs';

/** The variables of the socket-activation protocol (sd_listen_fds(3)). */
const LISTEN_VARIABLES = ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES'] as const;

/** `/proc/net/unix` state of a connected socket (`SS_CONNECTED`). */
const UNIX_CONNECTED = '03';
/** `/proc/net/tcp` state of a listening socket (`TCP_LISTEN`); the table holds no other unconnected one. */
const TCP_LISTEN = '0A';

/**
 * Whether the socket with this inode is a connection rather than a listening socket, from
 * Linux's `/proc/net` tables; `false` when it cannot be told (no `/proc`, another kind of
 * socket), so that `listen` then reports what it finds.
 */
function isConnection(inode: number): boolean {
  const id = String(inode);
  for (const table of ['tcp', 'tcp6']) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
    for (const fields of rows(`/proc/net/${table}`)) if (fields[9] === id) return fields[3] !== TCP_LISTEN;
  }
  // Num RefCount Protocol Flags Type St Inode Path
  for (const fields of rows('/proc/net/unix')) if (fields[6] === id) return fields[5] === UNIX_CONNECTED;
  return false;
}

/** The rows of a `/proc/net` table past its heading, split on spaces; none when unreadable. */
function rows(file: string): string[][] {
  let text: string;
  try {
    text = readFileSync(file, 'latin1');
  } catch {
    return [];
  }
  return text.split('\n').slice(1).map((line) => line.trim().split(/\s+/));
}

/**
 * The error of a descriptor `fd` that is no socket to listen on, as `listen` gives it (`code`,
 * `syscall` `listen`), which the CLI reports on one line naming `--fd` (src/cli/listen-error.ts).
 */
function noSocket(fd: number, code: 'EINVAL' | 'ENOTSOCK', why: string): Error {
  return Object.assign(new Error(`listen ${code}: descriptor ${fd} ${why}`), { code, syscall: 'listen' });
}

/**
 * Takes descriptor `fd` as the socket to listen on, in the process systemd started (one
 * process, or the primary of `--workers`, which hands it to its workers:
 * {@link shareActivatedSocket}): removes
 * `LISTEN_FDS`, `LISTEN_PID` and `LISTEN_FDNAMES` from `env`, as `sd_listen_fds(1)` does, so
 * the processes the app starts do not take themselves for socket-activated.
 *
 * @throws Error with a one-line message when `fd` is a connection (a `.socket` unit with
 *   `Accept=yes` starts one service per connection, handing it over): `tsgi serve` serves a
 *   listening socket (`Accept=no`, the default). An Error as `listen` gives one ({@link noSocket}:
 *   `code` `EINVAL` for a descriptor that is not open, `ENOTSOCK` for one that is no socket)
 *   when no socket is open as `fd`: where none was handed over, the descriptor may be one of
 *   Node's own (its event loop's, its pipes), which libuv would take over, close on failing,
 *   and even abort the process on.
 */
export function takeActivatedSocket(fd: number, env: NodeJS.ProcessEnv): void {
  for (const name of LISTEN_VARIABLES) delete env[name];
  let stats;
  try {
    stats = fstatSync(fd);
  } catch {
    throw noSocket(fd, 'EINVAL', 'is not open');
  }
  if (!stats.isSocket()) throw noSocket(fd, 'ENOTSOCK', 'is no socket');
  if (isConnection(stats.ino)) {
    throw new Error(`cannot listen on --fd ${fd}: descriptor ${fd} is a connection, not a listening socket (systemd's Accept=yes is not supported: use Accept=no)`);
  }
}

/**
 * The descriptor a `--workers` worker finds the socket its primary holds on (the `--fd` socket,
 * or the one bound for `--workers 1`): the one after its IPC channel, which node:cluster puts on 3.
 */
export const WORKER_SOCKET_FD = 4;

/**
 * Has every worker forked from now on inherit descriptor `fd` of this process (the primary of
 * `--workers`: the `--fd` socket, or the one it bound for `--workers 1`, src/cli/worker-socket.ts) as its
 * descriptor {@link WORKER_SOCKET_FD}, where it listens itself
 * (`listenOn`). Through node:cluster instead, the primary would wrap `fd` in a handle it
 * closes once its last worker is gone: the only worker crashing (or all of them at once) would
 * close the socket systemd handed over, and no replacement could listen again. The primary
 * keeps its descriptor open, so while no worker runs, connections wait in the socket's queue,
 * as under gunicorn.
 *
 * @throws Error (`code` `EINVAL`, `syscall` `listen`, as a worker's listen fails) when `fd` is
 *   not open in this process: forking with it would fail.
 */
export function shareActivatedSocket(fd: number): void {
  try {
    fstatSync(fd);
  } catch {
    throw noSocket(fd, 'EINVAL', 'is not open');
  }
  cluster.setupPrimary({ stdio: ['inherit', 'inherit', 'inherit', 'ipc', fd] });
}
