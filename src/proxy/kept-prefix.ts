/**
 * Whether `proxy` kept the mount prefix in the upstream path (`stripScriptName: false`), for
 * the filters above it that map the upstream's URLs back to public ones.
 *
 * @module
 */
import { defineEnvironKey } from '../gateway/environ-key.ts';

/**
 * @internal `tsgi.proxy_kept_prefix`: `true` when `proxy` sent the request's `SCRIPT_NAME` on
 * in the upstream path (`stripScriptName: false`), `false` when it left it out; set by `proxy`
 * on each request before it is forwarded. Such an upstream already writes the public paths
 * (`/app/y` mounted at `/app`), so `rewriteLocation` and `rewriteHtml` map its base path to
 * the public root rather than below `SCRIPT_NAME` again (`publicBase`).
 */
export const keptPrefixKey = defineEnvironKey<boolean>('tsgi.proxy_kept_prefix');
