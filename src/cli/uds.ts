/**
 * The Unix socket of `--uds`: a socket file left by a process that died (a crash, SIGKILL)
 * would make the next start fail with `EADDRINUSE`, so one that nobody listens on is removed
 * first, as gunicorn does. A socket something listens on, or a path that is not a socket,
 * is left alone.
 *
 * @module
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { UsageError } from './values.ts';

/**
 * Makes `path` free to listen on: nothing there, or a stale socket (removed).
 *
 * @throws UsageError when `path` exists and is not a socket; an `EADDRINUSE` error when a
 *   process listens on it.
 */
export async function freeSocketPath(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new UsageError(`--uds '${path}' exists and is not a socket`);
  const listening = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (listening) {
    throw Object.assign(new Error(`listen EADDRINUSE: address already in use ${path}`), { code: 'EADDRINUSE', syscall: 'listen', address: path });
  }
  unlinkSync(path);
}
