/**
 * A mount point that comes from outside the request path (a proxy's `X-Forwarded-Prefix`,
 * `tsgi serve --root-path`), put in front of `SCRIPT_NAME`.
 *
 * @module
 */
import type { Environ } from './types.ts';

/**
 * Prepends `prefix` (a decoded path: `/shop`, starting with `/`, without a trailing one) to
 * `environ.SCRIPT_NAME`, so the URLs the app builds include the path the proxy mounts it at,
 * as Werkzeug's `ProxyFix` (`x_prefix`) and uvicorn's `root_path` do. Nothing happens for
 * `OPTIONS *` (`PATH_INFO` `*`): the asterisk-form names the server as a whole, not a path
 * (RFC 9112 §3.2.4), so no mount point applies to it, its URL stays `scheme://host` (§3.3), and
 * the environ keeps `SCRIPT_NAME` `''` next to `PATH_INFO` `*` as docs/spec.md §2.1 (and
 * `lint`) require. Werkzeug sets `SCRIPT_NAME` whatever the path.
 */
export function prependScriptName(environ: Environ, prefix: string): void {
  if (environ.PATH_INFO !== '*') environ.SCRIPT_NAME = prefix + environ.SCRIPT_NAME;
}
