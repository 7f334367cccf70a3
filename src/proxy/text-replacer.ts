/**
 * One replacement applied to text that arrives in pieces ({@link TextReplacer}): matches that
 * span two pieces are found, at the cost of holding back the last few characters.
 *
 * @module
 */

/** What a match is replaced with: a string with `$&`, `$1`, `$<name>`, `$$` (as `String.prototype.replace`), or a function of the match. */
export type Replacement = string | ((match: string, ...groups: string[]) => string);

/** Expands `$$`, `$&`, `$n`/`$nn` and `$<name>` in `template` for `match` (ECMAScript GetSubstitution, less `` $` `` and `$'`). */
function substitute(template: string, match: RegExpExecArray): string {
  if (!template.includes('$')) return template;
  return template.replace(/\$(\$|&|\d{1,2}|<([^>]*)>)/g, (whole, token: string, name: string | undefined) => {
    if (token === '$') return '$';
    if (token === '&') return match[0];
    if (name !== undefined) return match.groups?.[name] ?? (match.groups ? '' : whole);
    const index = Number(token);
    if (index >= 1 && index < match.length) return match[index] ?? '';
    if (token.length === 2 && Number(token[0]) >= 1 && Number(token[0]) < match.length) return (match[Number(token[0])] ?? '') + token[1];
    return whole;
  });
}

/**
 * Replaces every match of `pattern` in a text given in pieces. A string pattern matches
 * literally; a RegExp is used with the `g` flag added. Each {@link TextReplacer.push} answers
 * the text that is final so far and keeps the last `holdBack` characters (the longest a match
 * can be, less one) for the next piece, so no match is missed at a boundary; the last push
 * (`final`) answers the rest. Empty matches are skipped. Lookbehind and `^` see only the text
 * not yet answered.
 */
export class TextReplacer {
  private pending = '';
  private readonly regexp: RegExp;
  private readonly replacement: Replacement;
  private readonly holdBack: number;

  constructor(pattern: string | RegExp, replacement: Replacement, maxMatchLength: number) {
    if (typeof pattern === 'string') {
      if (pattern === '') throw new TypeError('replaceText: an empty string pattern matches everywhere');
      this.regexp = new RegExp(pattern.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'), 'g');
      this.holdBack = pattern.length - 1;
    } else if (pattern instanceof RegExp) {
      // Global, never sticky: every match in the text is looked for.
      this.regexp = new RegExp(pattern.source, `${pattern.flags.replace(/[gy]/g, '')}g`);
      this.holdBack = maxMatchLength - 1;
    } else {
      throw new TypeError('replaceText: a pattern is a string or a RegExp');
    }
    if (typeof replacement !== 'string' && typeof replacement !== 'function') throw new TypeError('replaceText: a replacement is a string or a function');
    this.replacement = replacement;
  }

  /** Adds `text` and answers what is final: everything up to the held-back tail (all of it when `final`). */
  push(text: string, final: boolean): string {
    const s = this.pending + text;
    const safe = final ? s.length : s.length - this.holdBack;
    if (safe <= 0) {
      this.pending = s;
      return '';
    }
    const regexp = this.regexp;
    regexp.lastIndex = 0;
    let out = '';
    let last = 0;
    let boundary = safe;
    for (let match = regexp.exec(s); match !== null && match.index < safe; match = regexp.exec(s)) {
      if (match[0] === '') {
        regexp.lastIndex++;
        continue;
      }
      const replacement = this.replacement;
      out += s.slice(last, match.index) + (typeof replacement === 'string' ? substitute(replacement, match) : replacement(match[0], ...match.slice(1)));
      last = match.index + match[0].length;
      if (last > boundary) boundary = last;
    }
    // Never end a piece between the two halves of a surrogate pair.
    if (!final && boundary === safe && boundary > last && isHighSurrogate(s.charCodeAt(boundary - 1))) boundary--;
    out += s.slice(last, boundary);
    this.pending = s.slice(boundary);
    return out;
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
