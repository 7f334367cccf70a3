/**
 * Clean request paths: repeated slashes merged and `.`/`..` segments resolved (RFC 3986
 * §5.2.4), and the `308` that sends a request to its clean URL, as `mount`, `proxy` and
 * `directoryApp` answer a path that is not.
 *
 * @module
 */
import type { Body, Environ, StartResponse } from '../gateway/types.ts';
import { HTTPPermanentRedirect } from '../exceptions/redirects.ts';
import { quotePath } from '../http/url.ts';
import { quotedScriptName } from '../http/raw-path.ts';

const UNCLEAN = /\/\/|\/\.\.?(?:\/|$)/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/**
 * Collapses repeated slashes and resolves `.` and `..` segments of an absolute path
 * (RFC 3986 §5.2.4), keeping a trailing slash; `..` never climbs above the root. Paths that
 * do not start with `/` (`''`, `*`) are returned as they are. With `mergeSlashes` false, only
 * the dot segments are resolved (`//a/../b` → `//b`).
 */
export function cleanPath(path: string, mergeSlashes = true): string {
  if (path.charCodeAt(0) !== 47 || !(mergeSlashes ? UNCLEAN : DOT_SEGMENT).test(path)) return path;
  const segments = path.split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  for (let i = 1; i <= last; i++) {
    const segment = segments[i]!;
    if (segment === '..') out.pop();
    else if (segment !== '.' && (segment !== '' || !mergeSlashes)) {
      out.push(segment);
      continue;
    }
    if (i === last) out.push('');
  }
  return `/${out.join('/')}`;
}

/**
 * When `PATH_INFO` is not clean (see {@link cleanPath}), answers `308 Permanent Redirect` to the
 * request's URL with it cleaned, `SCRIPT_NAME` and the query kept, and returns that answer's
 * body; else returns `null` and answers nothing. A layer above read `PATH_INFO` as sent (a
 * guard testing for `/admin` lets `/x/../admin` or `//admin` by): the clean URL comes back
 * through it, where serving the clean path at once would go round it.
 */
export function redirectToCleanPath(environ: Environ, startResponse: StartResponse, mergeSlashes = true): Body | null {
  const path = environ.PATH_INFO ?? '';
  const cleaned = cleanPath(path, mergeSlashes);
  if (cleaned === path) return null;
  const qs = environ.QUERY_STRING;
  const location = quotedScriptName(environ) + quotePath(cleaned) + (qs ? `?${qs}` : '');
  return new HTTPPermanentRedirect(location).respond(environ, startResponse);
}
