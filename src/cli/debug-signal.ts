/**
 * SIGUSR1 in the processes of `tsgi serve`. Node's default action for it is to open its
 * debugger (the inspector) on `127.0.0.1:9229`, where any local user, not only this process's
 * own, can attach and run code as the server's user: on a shared host a signal sent by habit
 * (gunicorn and nginx reopen their logs on SIGUSR1, and logrotate recipes send it) would hand
 * the service's account to every local account. tsgi serve handles it instead: ignored, and
 * logged. Start the server under `--inspect` (`NODE_OPTIONS=--inspect`) to debug it.
 *
 * @module
 */
import type { CliLog } from './log.ts';

/**
 * Installs this process's SIGUSR1 handler, which logs a warning and does nothing else (a
 * listener of its own keeps Node from opening its inspector, as with `--disable-sigusr1`).
 * Call it once per process: the primary of `--workers`, each worker, the supervisor of
 * `--reload` and its child.
 */
export function ignoreDebugSignal(log: CliLog): void {
  process.on('SIGUSR1', () => {
    log.warning('SIGUSR1 ignored: Node would open its debugger on 127.0.0.1:9229, where any local user can run code as this one (start with --inspect to debug)');
  });
}
