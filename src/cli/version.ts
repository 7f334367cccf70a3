/**
 * The version of this package, as `tsgi --version` and the start banner show it.
 *
 * @module
 */
import { readFileSync } from 'node:fs';

/** The version of this package, from its package.json (two levels up in src/ and dist/). */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
