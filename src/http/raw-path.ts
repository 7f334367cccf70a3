/**
 * The raw, still percent-encoded spelling of `SCRIPT_NAME` and `PATH_INFO`, found in
 * `REQUEST_URI`: decoding loses what the client wrote (`%2F` is `/` in `PATH_INFO`), and the
 * proxy, the fetch adapters and the URLs a request builds under its mount point need it back.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { quotePath, unquotePath } from './url.ts';

const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

/** The path of `REQUEST_URI` as sent (origin-form or absolute-form), or undefined when there is none. */
function rawRequestPath(environ: Environ): string | undefined {
  const uri = environ.REQUEST_URI;
  if (typeof uri !== 'string') return undefined;
  let path = uri;
  if (path.charCodeAt(0) !== 47 /* / */) {
    if (path === '*') return path;
    const match = ABSOLUTE_FORM.exec(path);
    if (!match) return undefined;
    path = path.slice(match[0].length);
    if (path.charCodeAt(0) !== 47) path = `/${path}`;
  }
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

function decodesTo(raw: string, expected: string): boolean {
  return decoded(raw) === expected;
}

/** `raw` percent-decoded as a path, or undefined for a malformed escape or invalid UTF-8. */
function decoded(raw: string): string | undefined {
  if (!raw.includes('%')) return raw;
  try {
    return unquotePath(raw);
  } catch {
    return undefined;
  }
}

/**
 * `SCRIPT_NAME` and `PATH_INFO` in their raw form: the split of the raw request path whose two
 * parts decode to them. `mount` moved the prefix into `SCRIPT_NAME` decoded, so the split is
 * searched at each `/` of the raw path (the common case, a prefix sent without escapes, is
 * checked first). A `SCRIPT_NAME` whose start is not in the raw path (a proxy stripped it and
 * sent it as `X-Forwarded-Prefix`, which `proxyFix` put in front) has that start quoted, the
 * rest of the path kept raw. When no split matches (a middleware rewrote the path, the server
 * gave no `REQUEST_URI`, or the prefix ended inside an escaped `%2F`), both are quoted from
 * their decoded form with `quotePath`. Never throws.
 */
export function rawPathParts(environ: Environ): [script: string, rest: string] {
  const script = environ.SCRIPT_NAME ?? '';
  const info = environ.PATH_INFO ?? '';
  const raw = rawRequestPath(environ);
  if (raw !== undefined) {
    const end = script.length;
    if (raw.startsWith(script) && (raw.length === end || raw.charCodeAt(end) === 47) && decodesTo(raw.slice(end), info)) {
      return [script, raw.slice(end)];
    }
    for (let i = 0; i <= raw.length; i++) {
      if (i < raw.length && raw.charCodeAt(i) !== 47) continue;
      const rest = raw.slice(i);
      if (!decodesTo(rest, info)) continue;
      // The raw path may hold only the end of SCRIPT_NAME: a prefix a proxy stripped and
      // announced (`proxyFix`'s `X-Forwarded-Prefix`) was never in it, and is quoted.
      const head = raw.slice(0, i);
      const shown = decoded(head);
      if (shown !== undefined && script.endsWith(shown)) return [quotePath(script.slice(0, script.length - shown.length)) + head, rest];
    }
  }
  return [quotePath(script), info === '*' ? info : quotePath(info)];
}

/** An escaped slash, which decoding makes a `/` that quoting cannot tell from a real one. */
const ESCAPED_SLASH = /%2f/i;

/** A raw path of `pchar`s, `/` and well-formed escapes only: safe to put in a URL as it is. */
const URL_PATH = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;

/**
 * `SCRIPT_NAME` as a URL path, for the URLs a request builds under its mount point
 * (`req.applicationUrl`, `urls.build`, redirects, the base a relative `Location` is resolved
 * against): `quotePath(SCRIPT_NAME)`, except when the
 * client spelt the mount point with an escaped slash (`/repos/a%2Fb` under Express's
 * `use('/repos/:repo', …)`, whose `SCRIPT_NAME` is `/repos/a/b`), which quoting cannot give
 * back: then its raw spelling from `REQUEST_URI`, so the URL names the same mount point and not
 * `/repos/a/b`. Only the mount point: an escaped slash in `PATH_INFO` is the app's to route.
 * Costs a request at the root, or under a one-segment mount point, one `includes`; another one test
 * of `REQUEST_URI`.
 */
export function quotedScriptName(environ: Environ): string {
  const script = environ.SCRIPT_NAME ?? '';
  const uri = environ.REQUEST_URI;
  // The mount point first: an app at the root (`SCRIPT_NAME` '', the common case) runs no regular expression.
  if (!script.includes('/', 1) || typeof uri !== 'string' || !ESCAPED_SLASH.test(uri)) return quotePath(script);
  const [raw] = rawPathParts(environ);
  return ESCAPED_SLASH.test(raw) && URL_PATH.test(raw) ? raw : quotePath(script);
}
