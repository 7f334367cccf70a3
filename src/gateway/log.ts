/**
 * The default `tsgi.errors` stream, and the format and fallback servers and middleware use to
 * log errors.
 *
 * @module
 */
import type { ErrorStream } from './types.ts';

/** A `tsgi.errors` stream that writes to the process's standard error. */
export const stderrErrors: ErrorStream = Object.freeze({
  write(message: string): void {
    process.stderr.write(message);
  },
});

/**
 * Formats an error for `tsgi.errors`: one line naming the request, then the stack, e.g.
 * `[tsgi] GET /path HTTP/1.1: Error: boom\n    at …`, ending with a newline.
 *
 * Never throws: a thrown value that cannot be turned into text (a null-prototype object, a
 * throwing `stack` getter) is described by its type instead.
 */
export function formatError(requestLine: string, error: unknown): string {
  return `[tsgi] ${requestLine}: ${describeError(error)}\n`;
}

function describeError(error: unknown): string {
  try {
    if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
    return String(error);
  } catch {
    return `[unprintable ${error === null ? 'null' : typeof error}]`;
  }
}

/** Where log lines go: a `{ write(line) }` stream, or a function called with each line. */
export type LogTarget = ErrorStream | ((line: string) => void);

/**
 * Logs an error as {@link formatError} formats it (`[tsgi] <requestLine>: <stack>\n`) to
 * `target`, by default standard error. Never throws: when the target throws, the line goes to
 * standard error instead, so a broken log stream cannot turn error handling into a crash.
 */
export function logError(target: LogTarget | undefined, requestLine: string, error: unknown): void {
  const line = formatError(requestLine, error);
  try {
    if (typeof target === 'function') target(line);
    else (target ?? stderrErrors).write(line);
  } catch {
    stderrErrors.write(line);
  }
}
