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
