/**
 * Who ends a request, and the copies of its environ that owner must finish too.
 *
 * The first `Request.application` or `getResponse` to see an environ takes charge of the
 * request's end (request/cleanup.ts): it marks the environ by storing the environ itself under
 * {@link OWNER_KEY}. A raw layer that passes its app a spread copy (`inner({ ...environ, PATH_INFO },
 * startResponse)`, which docs/spec.md §8 advises against but JavaScript habit makes common)
 * copies the mark, so the apps below know an owner is above them and leave the end to it;
 * what they leave for the end on the copy (a form parsed under `tsgi.form`, the streams
 * `getResponse` kept under `tsgi.inner_responses`) is noted on the owner's environ by
 * {@link noteCopy}, and the owner finishes it with its own. Without the note those temporary
 * files and open streams waited for garbage collection.
 *
 * @module
 */
import type { Environ } from './types.ts';

/**
 * The environ key marking that someone takes charge of the cleanup: the environ of the layer
 * that did (a copy of that environ holds the original's), or false once it is done.
 */
export const OWNER_KEY = 'tsgi.cleanup_owner';

/** The environ key of the copies {@link noteCopy} notes on the owner's environ. */
export const COPIES_KEY = 'tsgi.cleanup_copies';

/**
 * Notes `environ` on its owner's environ when it is a copy of it (see the module), so the
 * owner finishes what is left on it; nothing when `environ` is the owner's own, or has none.
 * Called where something is left for the request's end: a form parse starting, a streamed
 * inner response kept.
 */
export function noteCopy(environ: Environ): void {
  const owner = environ[OWNER_KEY];
  if (owner === environ || typeof owner !== 'object' || owner === null) return;
  const copies = (owner as Environ)[COPIES_KEY] as Environ[] | undefined;
  if (copies === undefined) (owner as Environ)[COPIES_KEY] = [environ];
  else if (!copies.includes(environ)) copies.push(environ);
}

/** True when copies of `environ` were noted on it (see {@link noteCopy}): one property read. */
export function hasCopies(environ: Environ): boolean {
  return environ[COPIES_KEY] !== undefined;
}

/** The copies noted on `environ` (see {@link noteCopy}), forgotten there; `[]` when none. */
export function takeCopies(environ: Environ): Environ[] {
  const copies = environ[COPIES_KEY] as Environ[] | undefined;
  if (copies === undefined) return [];
  // Not `delete`: deleting a key turns the environ into a slow dictionary-mode object.
  environ[COPIES_KEY] = undefined;
  return copies;
}
