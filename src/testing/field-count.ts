/**
 * The header fields a `TestClient` call sends, counted as `serve()` counts a request's against
 * its `maxHeaders`.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';

/** The fields the client adds when the call's own lines lack them: the environ key, the field's name. */
const ADDED_FIELDS = [
  ['HTTP_HOST', 'host'],
  ['CONTENT_TYPE', 'content-type'],
  ['CONTENT_LENGTH', 'content-length'],
  ['HTTP_TRANSFER_ENCODING', 'transfer-encoding'],
] as const;

/**
 * The number of field lines the call sends: its `headers` (names with `_` included: the server
 * drops them only once counted), and the `Host`, `Content-Type`, `Content-Length` or
 * `Transfer-Encoding` its `environ` holds without such a line (from the base URL and the body).
 */
export function sentFieldCount(environ: Environ, headers: ReadonlyArray<readonly [string, string]>): number {
  const names = new Set(headers.map(([name]) => name.toLowerCase()));
  let count = headers.length;
  for (const [key, name] of ADDED_FIELDS) if (environ[key] !== undefined && !names.has(name)) count++;
  return count;
}
