/**
 * The statuses a `cascade` above will skip: the environ marker that spares the apps before its
 * last the work of a page nobody sees.
 *
 * @module
 */
import type { Environ } from './types.ts';

/**
 * What `cascade` puts in the environ under {@link CASCADE_SKIPS_KEY} for the apps before its
 * last: asked about a status, `true` when an answer of that status from the app being called
 * now will be skipped (by this cascade, as long as the app's answer is not taken, or by one
 * further out), so its body is closed unread.
 */
export type CascadeSkips = (code: number) => boolean;

/** The environ key of the {@link CascadeSkips} marker (`tsgi.` + snake_case, as the toolkit's). */
export const CASCADE_SKIPS_KEY = 'tsgi.cascade_skips';

/**
 * True when a `cascade` above will skip an answer of status `code` from the app being called
 * (see {@link CascadeSkips}); false outside a cascade, and for its last app (unless a cascade
 * further out skips it).
 */
export function skippedByCascade(environ: Environ, code: number): boolean {
  const skips = environ[CASCADE_SKIPS_KEY] as CascadeSkips | undefined;
  return skips !== undefined && skips(code);
}
