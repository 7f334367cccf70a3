/**
 * What the CLI writes to and waits on, so that its parts stay small and testable.
 *
 * @module
 */

/** Where the CLI writes: `process.stdout` and `process.stderr` by default. */
export interface CliIO {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** The process's own streams. */
export const processIO: CliIO = { stdout: process.stdout, stderr: process.stderr };

/**
 * Keeps a failing log from stopping the server: an error writing standard output or standard
 * error (`EPIPE` once the log's reader is gone: a log shipper restarted, `tsgi serve … | head`;
 * `EIO` from a closed terminal) is dropped, with the lines that follow, as Python's `logging`
 * does (gunicorn, uvicorn), instead of crashing the process as an unhandled `error` event. The
 * executable calls it once, in every process (primary, workers, `--reload` child).
 */
export function ignoreLogWriteErrors(streams: readonly NodeJS.WritableStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) stream.on('error', () => {});
}

/**
 * Resolves with the first of `signals` this process receives, then calls `onRepeat` for any
 * later one (a second Ctrl-C: stop waiting for slow requests). Handlers stay installed, so
 * the default action (exit without cleanup) never runs.
 */
export function waitForSignal(
  signals: readonly NodeJS.Signals[],
  onRepeat: (signal: NodeJS.Signals) => void = () => {},
): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const handler = (signal: NodeJS.Signals): void => {
      if (received) {
        onRepeat(signal);
        return;
      }
      received = true;
      resolve(signal);
    };
    for (const signal of signals) process.on(signal, handler);
  });
}

/** What the server logs for a SIGHUP once its graceful shutdown began, in one process and under `--workers`. */
export const SIGHUP_DURING_SHUTDOWN = 'SIGHUP during the graceful shutdown: ignored (the server takes no new connections)';
