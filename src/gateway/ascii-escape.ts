/**
 * Percent-escapes of ASCII bytes (`%00`–`%7F`, RFC 3986 §2.1), found and decoded one by one:
 * what a text that is not UTF-8 as a whole (a query name `decodeURIComponent` refuses) or a
 * raw path (Express's) is read by.
 *
 * @module
 */

/**
 * A percent-escape of an ASCII byte, its two hex digits captured (`%41` → `41`). Global: use it
 * with `replace`, `replaceAll` or `matchAll` only, which start at index 0 and leave
 * `lastIndex` at 0 (`test` or `exec` would carry a `lastIndex` from one call into the next).
 */
export const ASCII_ESCAPE = /%([0-7][0-9A-Fa-f])/g;

/** The character of the two hex digits `hex` that {@link ASCII_ESCAPE} captured: `41` → `A`. */
export function asciiOfEscape(hex: string): string {
  return String.fromCharCode(Number.parseInt(hex, 16));
}
