/**
 * The plain spelling of a path Express routed with escapes the app decodes: Express matches its
 * routes and `use()` paths against the raw path, the app against the decoded `PATH_INFO`.
 *
 * @module
 */
import { quotePath } from '../../http/url.ts';
import { ABSOLUTE_FORM } from './environ.ts';
import { cleanPath } from '../../middleware/clean-path.ts';
import { ASCII_ESCAPE, asciiOfEscape } from '../../gateway/ascii-escape.ts';

/** What `quotePath` writes as it is: RFC 3986 `pchar` (unreserved, sub-delims, `:`, `@`) and `/`. */
const PLAIN = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]$/;

/**
 * True when `path` (raw, as Express matched it) holds an escape of a character a path may
 * carry as it is: `%61dmin` for `admin`, `admin%2Fx` for `admin/x`. Escapes of what must stay
 * escaped (`%20`, `%25`, `%3F`, UTF-8 bytes) do not count.
 */
function hasPlainEscape(path: string): boolean {
  if (!path.includes('%')) return false;
  for (const match of path.matchAll(ASCII_ESCAPE)) {
    if (PLAIN.test(asciiOfEscape(match[1]!))) return true;
  }
  return false;
}

/**
 * Where to send a request that Express routed on a path holding escapes of plain characters
 * (see {@link hasPlainEscape}), or `null` for any other. Express matches every `use()` path and
 * route against the raw path, so a guard before `toNodeHandler` (`web.use('/t/admin', auth)`)
 * never sees `/t/%61dmin/x` or `/t/admin%2Fx`, which the app, reading the decoded `PATH_INFO`
 * (`/admin/x`), would serve behind its back; the `308` sends the client to the spelling Express
 * matches as the app does (RFC 3986 §6.2.2.2: the same URI for the unreserved characters), as
 * `mount` sends `//admin` to `/admin`. `%2F`, which the app reads as `/` too (spec §2.1), is
 * sent to `/`; the path sent to is clean too (`cleanPath`: `%2E%2E` never climbs above the
 * mount path, repeated slashes merged).
 *
 * The location is path-absolute (`/t/admin/x`, RFC 9110 §10.2.2), not made absolute from the
 * request: the answer goes out before the app, so before any `proxyFix` in it.
 *
 * @param url - `req.url` as Express left it: the raw target below its mount path.
 * @param baseUrl - Express's raw mount path (`req.baseUrl`, `''` at the root).
 * @param below - the decoded path below the mount: the handler's own `scriptName` and `PATH_INFO`.
 * @param query - `QUERY_STRING`, kept.
 */
export function expressPlainLocation(url: string, baseUrl: string, below: string, query: string): string | null {
  const end = url.search(/[?#]/);
  let path = end === -1 ? url : url.slice(0, end);
  if (path.charCodeAt(0) !== 47 /* / */) path = path.slice(ABSOLUTE_FORM.exec(path)?.[0].length ?? 0);
  if (!hasPlainEscape(path)) return null;
  return `${baseUrl}${quotePath(cleanPath(below))}${query ? `?${query}` : ''}`;
}
