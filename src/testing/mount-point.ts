/**
 * Where a test client request takes the app to be mounted: the base URL's path, or the
 * `SCRIPT_NAME` a call's `environ` names.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { quotePath, unquotePath } from '../http/url.ts';

/** A mount point: the URL request paths are relative to, and the `SCRIPT_NAME` it gives. */
export interface MountPoint {
  /** Scheme, host, port and the raw path of the mount point, without a trailing slash: `http://localhost`, `http://localhost/my%20app`. */
  readonly url: string;
  /** The decoded path, `SCRIPT_NAME` of a URL under it: `''` or `/my app`. */
  readonly root: string;
}

/**
 * The mount point at `href` (Werkzeug's `base_url`): its query and fragment dropped, and the
 * slashes that end its path.
 *
 * @throws TypeError for an `href` that is no absolute URL; URIError for a path with a malformed
 *   percent-escape or invalid UTF-8.
 */
export function mountPointAt(href: string): MountPoint {
  const base = new URL(href);
  base.search = '';
  base.hash = '';
  base.pathname = base.pathname.replace(/\/+$/, '');
  return { url: base.href.replace(/\/$/, ''), root: unquotePath(base.pathname.replace(/\/+$/, '')) };
}

/**
 * The mount point of one call: at the origin of `base` (the client's), the path its `environ`
 * names as `SCRIPT_NAME` (Werkzeug's `environ_overrides={'SCRIPT_NAME': '/x'}`: a `base_url`
 * with that path), when that is a string `''` or starting with `/` (one that does not stays a
 * plain override, for `lint` to refuse); else `base` itself.
 */
export function callMountPoint(base: MountPoint, environ: Partial<Environ> | undefined): MountPoint {
  const named = environ?.SCRIPT_NAME;
  if (typeof named !== 'string' || (named !== '' && !named.startsWith('/'))) return base;
  const url = new URL(base.url);
  url.pathname = quotePath(named);
  return mountPointAt(url.href);
}
