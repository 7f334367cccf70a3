/**
 * The regex escapes that need the `u` flag, which routing's regexes run without (see
 * `Converter.regex`): there they mean other text, so a converter using one would match what its
 * author never meant, a silent 404. `new RouteMap` refuses them, naming what to write.
 *
 * @module
 */

/**
 * A Unicode property escape (`\p{L}`, `\P{N}`) or a code point escape (`\u{41}`) not after an
 * escaped backslash (`\\p{` is a backslash and the text `p{`); group 1 is the letter, group 2
 * the braces' content up to `}`, group 3 that `}` (empty when there is none).
 */
const U_FLAG_ESCAPE = /(?<!\\)(?:\\\\)*\\([pPu])\{([^}]*)(\}?)/;

/** `\uXXXX`: one UTF-16 code unit, four hex digits in upper case. */
const unitEscape = (unit: number) => `\\u${unit.toString(16).toUpperCase().padStart(4, '0')}`;

/** What to write for `\u{digits}` without the `u` flag: `\uXXXX`, or the UTF-16 pair past U+FFFF. */
function codeUnitsFor(digits: string): string {
  const code = /^[0-9A-Fa-f]{1,6}$/.test(digits) ? Number.parseInt(digits, 16) : Number.NaN;
  if (!(code <= 0x10ffff)) return '\\uXXXX (four hex digits)';
  if (code <= 0xffff) return unitEscape(code);
  const pair = String.fromCodePoint(code);
  return `${unitEscape(pair.charCodeAt(0))}${unitEscape(pair.charCodeAt(1))}, its UTF-16 pair (not inside [ ])`;
}

/**
 * Why `regex` (a regular expression source run without the `u` flag) cannot be taken, or
 * `undefined` when it holds no escape that needs the flag: what it uses, what it means
 * without the flag, and what to write instead. For `\p{…}`/`\P{…}`, matching more and checking
 * the property in `toValue`; for `\u{X}`, the `\uXXXX` escape of the same character (two for a
 * code point past U+FFFF). Without `u`, `\u{41}` is `u` 41 times, `\u{E9}` the text `u{E9}`
 * (ECMA-262 Annex B.1.2).
 */
export function uFlagEscapeReason(regex: string): string | undefined {
  const found = U_FLAG_ESCAPE.exec(regex);
  if (found === null) return undefined;
  const [, letter, digits, close] = found as unknown as [string, string, string, string];
  const unflagged = (meaning: string) => `which needs the u flag converter regexes run without (there it is ${meaning})`;
  if (letter !== 'u') {
    return `uses "\\p{…}", a Unicode property escape, ${unflagged('the text "p{…}"')}: match more (as [^/]+) and check the property in toValue`;
  }
  // `{41}` and `{2,3}` are quantifiers on the `u`; anything else, `}` missing included, is text.
  const quantifier = close === '' ? null : /^(\d+)(,\d*)?$/.exec(digits);
  const meaning = quantifier === null ? `the text "u{${digits}${close}"` : quantifier[2] === undefined ? `"u" ${Number(digits)} times` : `"u" repeated {${digits}} times`;
  return `uses "\\u{${digits}${close}", a code point escape, ${unflagged(meaning)}: write ${codeUnitsFor(digits)}`;
}
