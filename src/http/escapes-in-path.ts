/**
 * Percent-encoded escapes in text a router matches against a decoded path (a route pattern, a
 * `mount` key), where they stand for characters the decoded path holds as themselves.
 *
 * @module
 */

/** A run of percent-encoded escapes (`%C3%A9`). */
const ESCAPES = /(?:%[0-9A-Fa-f]{2})+/g;

/** The first escape of a text, and the text with its escapes decoded. */
export interface EscapesIn {
  /** The first run of escapes, as written (`%C3%A9`). */
  readonly escape: string;
  /** The text with each escape decoded (`/café`). */
  readonly written: string;
}

/**
 * The escapes of `text` (`'/caf%C3%A9'`), or `null` when it has none. A `%` that starts no
 * escape (`'/100%'`) is text, and so is a run that decodes to no UTF-8 (`'/10%each'`,
 * `'/caf%E9'`): a path whose escapes are no UTF-8 is answered 400 before any app, so such text
 * can only mean a literal `%` (matched by `/10%25each`). Text matched by `skip` (a route's
 * placeholders, whose arguments may hold anything) is left out of the search and kept as it is.
 */
export function escapesIn(text: string, skip?: RegExp): EscapesIn | null {
  let escape: string | undefined;
  const decoded = (part: string) =>
    part.replace(ESCAPES, (run) => {
      try {
        const character = decodeURIComponent(run);
        escape ??= run;
        return character;
      } catch {
        return run;
      }
    });
  let written = '';
  let at = 0;
  if (skip !== undefined) {
    for (const match of text.matchAll(skip)) {
      written += decoded(text.slice(at, match.index)) + match[0];
      at = match.index + match[0].length;
    }
  }
  written += decoded(text.slice(at));
  return escape === undefined ? null : { escape, written };
}
