/**
 * The default `tsgi.errors` stream, and the format servers use to log app errors.
 *
 * @module
 */
import type { ErrorStream } from './gateway.ts';

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
    try {
      return `[unprintable ${error === null ? 'null' : typeof error}]`;
    } catch {
      return '[unprintable value]';
    }
  }
}
