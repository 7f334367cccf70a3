/**
 * Logging: the default {@link LogStream} (standard error), and the format and fallback that
 * servers and middleware use to log errors.
 *
 * @module
 */
import type { LogStream } from './types.ts';

/**
 * A {@link LogStream} that writes to the process's standard error: the default of
 * `environ['tsgi.errors']` (PEP 3333's `wsgi.errors` is `sys.stderr` by default too) and
 * where {@link logError} falls back when a stream throws.
 */
export const stderrLog: LogStream = Object.freeze({
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

/**
 * Logs an error as {@link formatError} formats it (`[tsgi] <requestLine>: <stack>\n`) to
 * `log`, by default standard error ({@link stderrLog}). Never throws: when `log.write` throws,
 * the line goes to standard error instead, so a broken log stream cannot turn error handling
 * into a crash.
 */
export function logError(log: LogStream | undefined, requestLine: string, error: unknown): void {
  const line = formatError(requestLine, error);
  try {
    (log ?? stderrLog).write(line);
  } catch {
    stderrLog.write(line);
  }
}

/**
 * The former name of {@link stderrLog}.
 *
 * @deprecated Use {@link stderrLog}. Kept only while `src/request/blank.ts` (under rewrite
 *   elsewhere) still imports it; removed once that lands.
 */
export const stderrErrors: LogStream = stderrLog;
