/**
 * The ASCII string rules of WHATWG Infra that the HTML filters follow where browsers do: white
 * space, and case folded in ASCII only.
 *
 * @module
 */

/** ASCII white space (WHATWG Infra): tab, line feed, form feed, carriage return, space. */
const WHITE_SPACE = /[\t\n\f\r ]/;

/** True when `char` (one character; undefined past the end of a string) is ASCII white space. */
export function isAsciiWhitespace(char: string | undefined): boolean {
  return char !== undefined && WHITE_SPACE.test(char);
}

/**
 * `text` with A–Z lower-cased and nothing else (WHATWG Infra, "ASCII lowercase"): of the same
 * length, so an index into it is one into `text`, where `toLowerCase()` makes `İ` two characters.
 */
export function asciiLowercase(text: string): string {
  return text.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}
