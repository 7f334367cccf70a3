/**
 * The Unix socket of `--uds`: a socket file left by a process that died (a crash, SIGKILL)
 * would make the next start fail with `EADDRINUSE`, so one that nobody listens on is removed
 * first, as gunicorn does (also by a worker of another node:cluster primary, pm2's, whose
 * primary removes nothing). A socket something listens on, or a path that is not a socket,
 * is left alone.
 *
 * @module
 */
import { type Stats, lstatSync, readFileSync, realpathSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { UsageError } from './values.ts';

/** The error `listen` gives for an address in use, for the CLI's one-line report. */
function inUse(path: string): Error {
  return Object.assign(new Error(`listen EADDRINUSE: address already in use ${path}`), { code: 'EADDRINUSE', syscall: 'listen', address: path });
}

/**
 * What connecting to the socket at `path` says: `'listening'` when a process accepts (or
 * queues) the connection, otherwise the error's code (`ECONNREFUSED` for a socket nobody
 * listens on).
 */
function probe(path: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve('listening');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'EIO'));
  });
}

/**
 * A line of `/proc/net/unix` (`Num RefCount Protocol Flags Type St Inode Path`, hexadecimal but
 * for the inode) of a socket bound and neither listening nor connected: flags without
 * `__SO_ACCEPTCON` (`00010000`, a listening socket's), type `0001` (`SOCK_STREAM`), state `01`
 * (`SS_UNCONNECTED`); its path captured.
 */
const BOUND_ONLY_LINE = /^\s*\S+:\s+\S+\s+\S+\s+0000[0-9A-Fa-f]{4}\s+0001\s+01\s+\S+ (.+)$/;

/**
 * Whether a live process holds a stream socket bound to `path` and not listening yet (Linux
 * only, read from `/proc/net/unix`; `false` elsewhere, or when it cannot be read), as the
 * primary of `tsgi serve --workers 1` holds its socket while its first worker starts
 * (src/cli/worker-socket.ts). A socket file whose process died has no such line. The path is
 * compared as given and made absolute: a process bound to a relative path is listed by that
 * path, so `--workers 1`'s primary binds the absolute one (src/cli/worker-socket.ts) unless that
 * is too long for a socket. A listening socket is left out: one at this very file would have
 * taken the connection, so one listed under the same name is another folder's (`--uds app.sock`
 * run from elsewhere), which must not make this stale file look in use. An absolute path
 * listed with the same file name whose folder is this one's through a symbolic link
 * (`/var/run/app.sock` for `/run/app.sock`) is this socket too ({@link sameFolder}).
 */
function boundByLiveProcess(path: string): boolean {
  if (process.platform !== 'linux') return false;
  let table: string;
  try {
    // The kernel lists each path as the bytes it was bound by: UTF-8 for a path Node bound.
    table = readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return false;
  }
  const absolute = resolve(path);
  for (const line of table.split('\n')) {
    const listed = BOUND_ONLY_LINE.exec(line)?.[1];
    if (listed === undefined) continue;
    if (listed === path || listed === absolute) return true;
    if (isAbsolute(listed) && basename(listed) === basename(absolute) && sameFolder(listed, absolute)) return true;
  }
  return false;
}

/** Whether the folders of the absolute paths `a` and `b` are one, once symbolic links are followed; `false` when either cannot be resolved. */
function sameFolder(a: string, b: string): boolean {
  try {
    return realpathSync(dirname(a)) === realpathSync(dirname(b));
  } catch {
    return false;
  }
}

/** Whether `a` and `b` describe the same file (not one put at the same path since). */
function sameFile(a: Stats, b: Stats): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}

/**
 * Makes `path` free to listen on: nothing there, or a stale socket (removed). Only a socket
 * that refuses connections (`ECONNREFUSED`: no process listens on it) and, on Linux, that no
 * live process holds bound (`/proc/net/unix`: the primary of another `tsgi serve --workers 1`
 * binds its socket before its worker listens) is stale. A live
 * server whose accept queue is full answers `EAGAIN` instead, and one whose socket this user
 * may not open `EACCES`: both are left alone, as is a socket replaced since it was probed
 * (another server starting at the same moment), which is probed again.
 *
 * `shared`: this process is a node:cluster worker of a primary that is not `tsgi serve`'s
 * (pm2's cluster mode), whose socket a sibling worker may have bound already: a live socket is
 * left to the `listen` that follows (node:cluster shares its primary's, and reports
 * `EADDRINUSE` for another process's), and only a stale one (the primary was killed) is removed.
 *
 * @throws UsageError when `path` exists and is not a socket (a file, a folder, a symbolic
 *   link: never followed); an `EADDRINUSE` error when a process listens on it, its queue is
 *   full or (on Linux) a live process holds it bound (unless `shared`); an Error naming the connect error when it cannot be told whether one does, or
 *   naming the unlink error when the stale socket cannot be removed.
 */
export async function freeSocketPath(path: string, shared = false): Promise<void> {
  for (;;) {
    let probed: Stats;
    try {
      probed = lstatSync(path);
    } catch {
      return; // nothing there
    }
    if (!probed.isSocket()) throw new UsageError(`--uds '${path}' exists and is not a socket`);
    const answer = await probe(path);
    if (answer === 'ENOENT') return; // removed meanwhile
    if (answer === 'listening' || answer === 'EAGAIN') {
      if (shared) return;
      throw inUse(path);
    }
    if (answer !== 'ECONNREFUSED') {
      throw new Error(`cannot tell whether a process listens on --uds '${path}' (connect: ${answer}): remove the socket yourself if it is stale`);
    }
    // Bound by a live process that does not listen yet (another `tsgi serve --workers 1`
    // whose worker is starting): in use, not stale.
    if (boundByLiveProcess(path)) {
      if (shared) return;
      throw inUse(path);
    }
    let now: Stats;
    try {
      now = lstatSync(path);
    } catch {
      return; // removed meanwhile
    }
    if (!sameFile(probed, now)) continue; // replaced since the probe: probe what is there now
    try {
      unlinkSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      throw new Error(`cannot remove the stale socket --uds '${path}' (unlink: ${code ?? (error as Error).message}): remove it, or choose another --uds`);
    }
    return;
  }
}
