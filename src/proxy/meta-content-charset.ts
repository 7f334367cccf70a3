/**
 * The charset label in the `content` of a `<meta http-equiv="Content-Type">`, found as browsers
 * find it ({@link metaContentCharset}), for the charset sniffing of the text filters.
 *
 * @module
 */

import { asciiLowercase, isAsciiWhitespace } from './ascii.ts';

/**
 * The charset label the `content` attribute of a `<meta>` names, as the HTML Standard's
 * "algorithm for extracting a character encoding from a meta element" reads it, which the
 * encoding sniffing prescan runs (WHATWG HTML §13.2.3.2): after the first `charset`
 * (any case) that white space and `=` follow, the value in double or single quotes, or else up
 * to white space or `;`. Not a media type parse: `text/html; charset='windows-1251'`,
 * `text/html, charset=windows-1251` and `charset=windows-1251` alone all name windows-1251 to a
 * browser. Undefined when there is none: no such `charset=`, nothing after it, or a quote
 * without its match. The label is as written (white space around it included), for "get an
 * encoding" to look up.
 */
export function metaContentCharset(content: string): string | undefined {
  const lower = asciiLowercase(content);
  let at = 0;
  for (;;) {
    const found = lower.indexOf('charset', at);
    if (found === -1) return undefined;
    at = found + 'charset'.length;
    while (isAsciiWhitespace(content[at])) at++;
    // Not `=`: the next `charset` is looked for from here (`charset` itself cannot start at it).
    if (content[at] !== '=') continue;
    at++;
    while (isAsciiWhitespace(content[at])) at++;
    const first = content[at];
    if (first === undefined) return undefined;
    if (first === '"' || first === "'") {
      const end = content.indexOf(first, at + 1);
      return end === -1 ? undefined : content.slice(at + 1, end);
    }
    let end = at;
    while (end < content.length && content[end] !== ';' && !isAsciiWhitespace(content[end])) end++;
    return content.slice(at, end);
  }
}
