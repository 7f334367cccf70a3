/**
 * The path the upstream is asked for: the raw, still percent-encoded remainder of the request
 * path, found in `REQUEST_URI` so that `%2F` and other escapes reach the upstream as the client
 * sent them (`PATH_INFO` is decoded and cannot be re-encoded without loss).
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { rawPathParts } from '../http/raw-path.ts';

/**
 * The request-target sent upstream: `basePath` (the upstream URL's path, no trailing slash),
 * then the raw `SCRIPT_NAME` unless `stripScriptName`, then the raw rest of the path with its
 * dot segments resolved (see {@link resolveDots}), then `?QUERY_STRING` (a `?` sent with an
 * empty query is kept). An empty path becomes `/`; `OPTIONS *` gives `*` when nothing comes
 * before it. Null for a path {@link resolveDots} refuses.
 */
export function upstreamTarget(environ: Environ, basePath: string, stripScriptName: boolean): string | null {
  const [script, raw] = rawPathParts(environ);
  const rest = raw === '*' ? raw : resolveDots(raw);
  if (rest === null) return null;
  const prefix = basePath + (stripScriptName ? '' : script);
  let path: string;
  if (rest === '*') path = prefix === '' ? '*' : prefix;
  else path = prefix + rest || '/';
  const query = environ.QUERY_STRING;
  if (query) return `${path}?${query}`;
  const uri = environ.REQUEST_URI;
  return typeof uri === 'string' && uri.endsWith('?') ? `${path}?` : path;
}

/** A segment that may be, or hide, a dot segment: it starts with `.` or `%2E`, or holds an escaped slash or a backslash. */
const SUSPECT = /(?:^|\/)(?:\.|%2e)|%2f|%5c|\\/i;

/**
 * Resolves the `.` and `..` segments of a raw path (RFC 3986 §5.2.4), spelt with dots or as
 * `%2E`, as nginx does before it proxies: `..` never climbs above the start of the path, so a
 * request cannot leave the upstream's base path (`/../admin` → `/admin`). Escapes stay as sent.
 * Null when a segment hides a dot segment behind an escaped slash or a backslash
 * (`..%2F..%2Fadmin`, `..%5Cadmin`): an upstream that decodes before it resolves would climb;
 * or behind a path parameter (`..;/admin`, `%2E%2E;jsessionid=1`, `..%3B`): Tomcat, Jetty and
 * Spring drop what follows `;` in a segment before they resolve, so `/x/..;/admin` is their
 * `/admin` (Orange Tsai's "Breaking Parser Logic"; nginx forwards it as sent).
 */
export function resolveDots(raw: string): string | null {
  if (raw.charCodeAt(0) !== 47 /* / */ || !SUSPECT.test(raw)) return raw;
  const segments = raw.split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  for (let i = 1; i <= last; i++) {
    const segment = segments[i]!;
    const dots = segment.length <= 6 ? segment.replace(/%2e/gi, '.') : '';
    if (dots === '.' || dots === '..') {
      if (dots === '..') out.pop();
      if (i === last) out.push('');
      continue;
    }
    if (hidesDots(segment)) return null;
    out.push(segment);
  }
  return `/${out.join('/')}`;
}

/**
 * True for a segment that, its escaped slashes and backslashes taken as separators, holds a
 * `.` or `..` part, or one with path parameters (`..;x`, `..%3Bx`: the part before the `;`).
 */
function hidesDots(segment: string): boolean {
  if (!/%2f|%5c|\\|;|%3b/i.test(segment)) return false;
  return segment
    .replace(/%2e/gi, '.')
    .split(/%2f|%5c|\\/i)
    .some((part) => {
      const name = part.split(/;|%3b/i, 1)[0];
      return name === '.' || name === '..';
    });
}
