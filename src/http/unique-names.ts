/**
 * Names that may be given once each, in any case: the parameters of a media type (RFC 9110
 * §8.3.1) and the auth-params of a challenge or credentials (§11.2), checked as they are
 * formatted, so that a recipient never reads a repeated name as malformed.
 *
 * @module
 */

/**
 * Records `name` in `seen`, in lower case (ASCII and beyond, `toLowerCase`), and answers that
 * lower case.
 *
 * @param seen the lower-case names recorded so far for one value.
 * @param twice makes the message for a name already recorded in any case.
 * @throws TypeError `twice(name)` when `seen` already holds `name` in any case (`charset`
 *   after `Charset`).
 */
export function addNameOnce(
  seen: Set<string>,
  name: string,
  twice: (name: string) => string,
): string {
  const lower = name.toLowerCase();
  if (seen.has(lower)) throw new TypeError(twice(name));
  seen.add(lower);
  return lower;
}
