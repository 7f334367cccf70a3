/**
 * SIGUSR1 in the processes of `tsgi serve`. Node's default action for it is to open its
 * debugger (the inspector) on `127.0.0.1:9229`, where any local user, not only this process's
 * own, can attach and run code as the server's user: on a shared host a signal sent by habit
 * (gunicorn and nginx reopen their logs on SIGUSR1, and logrotate recipes send it) would hand
 * the service's account to every local account. tsgi serve handles it instead: ignored, and
 * logged. Start the server under `--inspect` (`NODE_OPTIONS=--inspect`) to debug it.
 *
 * A listener only acts once tsgi's code runs: a SIGUSR1 in the half second a process takes to
 * start still opens the inspector. The processes tsgi starts (each worker, the `--reload`
 * child) are therefore started with Node's `--disable-sigusr1` ({@link childExecArgv}), which
 * holds from their first instruction; the first process is covered only when it is started
 * with it (`NODE_OPTIONS=--disable-sigusr1`, docs/deployment.md).
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

/** Node's flag (22.14, 23.7 and later) that keeps SIGUSR1 from opening the inspector. */
const DISABLE_SIGUSR1 = '--disable-sigusr1';

/**
 * The Node flags (`execArgv`) of a process tsgi serve starts (a node:cluster worker, the child
 * of `--reload`): this process's own, and `--disable-sigusr1` when this Node has it, so that a
 * SIGUSR1 sent while the child starts, before its listener is installed, opens no inspector
 * either. With it Node holds SIGUSR1 back (blocked): the child ignores it without a log line,
 * and the primary's listener logs it. `--inspect` still opens the inspector.
 *
 * @param execArgv - the flags to start from; defaults to `process.execArgv`.
 */
export function childExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  if (execArgv.includes(DISABLE_SIGUSR1) || !process.allowedNodeEnvironmentFlags.has(DISABLE_SIGUSR1)) return [...execArgv];
  return [...execArgv, DISABLE_SIGUSR1];
}
