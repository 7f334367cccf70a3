/**
 * The default `tsgi.errors` stream.
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
 * `[tsgi] GET /path: Error: boom\n    at …`.
 */
export function formatError(requestLine: string, error: unknown): string {
  const detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  return `[tsgi] ${requestLine}: ${detail}\n`;
}
