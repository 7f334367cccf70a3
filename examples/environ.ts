/**
 * The environ dump: the raw gateway interface at its plainest.
 *
 * TypeScript rendering of the first WSGI listing of chapter 10 of *Foundations of Python
 * Network Programming* (Rhodes & Goerzen), which prints the WSGI environment. This app is a
 * bare {@link App}: it takes the environ and `startResponse`, calls `startResponse` with a
 * status line and header pairs, and returns the body as an array of byte chunks. No
 * `Request`, no `Response`.
 *
 * The answer is `200 OK`, `text/plain; charset=utf-8`: one `KEY: value` line per environ key,
 * sorted by key. Strings are shown as they are (JSON-quoted if they hold control characters),
 * numbers and booleans as text, arrays as `[a, b]`, functions as `[Function name]` and other
 * objects as `[object ClassName]`, so streams and signals do not flood the page. Credentials
 * are masked ({@link MASKED}): the page is meant to be shown, and a compressed page that
 * reflects a secret next to attacker-chosen text leaks it (BREACH).
 *
 * ```sh
 * node --conditions=tsgi-source src/cli/main.ts serve examples/environ.ts:app
 * curl 'http://127.0.0.1:8000/some/path?x=1'
 * ```
 *
 * Mounted by examples/demo.ts at `/env`, where `SCRIPT_NAME` shows `/env`.
 *
 * @module
 */
import type { App } from 'tsgi';

/** Environ keys whose values are credentials: shown as `[masked, N characters]`. */
export const MASKED: ReadonlySet<string> = new Set(['HTTP_AUTHORIZATION', 'HTTP_COOKIE', 'HTTP_PROXY_AUTHORIZATION']);

/** One environ value as a line of text. */
function show(value: unknown): string {
  if (typeof value === 'string') return /[\u0000-\u001f\u007f]/.test(value) ? JSON.stringify(value) : value;
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  if (typeof value === 'function') return `[Function ${value.name || '(anonymous)'}]`;
  if (value !== null && typeof value === 'object') {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return `[object ${typeof name === 'string' && name !== '' ? name : 'Object'}]`;
  }
  return String(value);
}

/** Answers `text/plain` with the sorted `KEY: value` lines of the environ. */
export const app: App = (environ, startResponse) => {
  const lines = Object.keys(environ)
    .sort()
    .map((key) => {
      const value = environ[key];
      const text = MASKED.has(key) && typeof value === 'string' ? `[masked, ${value.length} characters]` : show(value);
      return `${key}: ${text}\n`;
    });
  startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
  return [new TextEncoder().encode(lines.join(''))];
};
