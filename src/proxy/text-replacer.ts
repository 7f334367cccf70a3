/**
 * One replacement applied to text that arrives in pieces ({@link TextReplacer}): matches that
 * span two pieces are found, at the cost of holding back the last few characters.
 *
 * @module
 */
import { LiteralPrefix } from './literal-prefix.ts';

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
 * literally; a RegExp is used with the `g` flag added (`y` dropped). Each
 * {@link TextReplacer.push} answers the text that is final so far and keeps back, for the next
 * piece, only what a match may still be in progress in: for a string pattern the longest end of
 * the text that is a beginning of the pattern; for a RegExp the last `maxMatchLength - 1`
 * characters (a partial match cannot be told apart in JavaScript). A push with `flush` answers
 * everything, as if the text ended there: the next push starts a new text, which `^` and
 * lookbehind see the start of (an event of `text/event-stream`). Empty matches are skipped.
 *
 * A RegExp is searched with the last `maxMatchLength` characters already answered in front of
 * the new text, as context no match starts in: `^` matches only at the start of the whole text,
 * and `\b` and lookbehind see up to `maxMatchLength` characters before the text still held.
 * Lookahead, `\b` and `$` at the end of the held text see its end (the end of the text only
 * after a flush).
 */
export class TextReplacer {
  /** The last characters answered (a RegExp's only), searched before `pending` but never in. */
  private context = '';
  /** The characters received and not yet answered. */
  private pending = '';
  private readonly regexp: RegExp;
  private readonly replacement: Replacement;
  /** A string pattern's: finds how much of the end of the text is held back. */
  private readonly literal: LiteralPrefix | null;
  /** A RegExp's `maxMatchLength`: the context kept, and one more than the characters held back. */
  private readonly reach: number;

  /**
   * @param maxMatchLength - the longest match of a RegExp pattern, in UTF-16 code units (unused
   *   for a string pattern, which holds back at most its own length less one).
   * @throws TypeError for an empty string pattern, a pattern neither string nor RegExp, or a
   *   replacement neither string nor function.
   */
  constructor(pattern: string | RegExp, replacement: Replacement, maxMatchLength: number) {
    if (typeof pattern === 'string') {
      if (pattern === '') throw new TypeError('replaceText: an empty string pattern matches everywhere');
      this.regexp = new RegExp(pattern.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'), 'g');
      this.literal = new LiteralPrefix(pattern);
      this.reach = 0;
    } else if (pattern instanceof RegExp) {
      // Global, never sticky: every match in the text is looked for.
      this.regexp = new RegExp(pattern.source, `${pattern.flags.replace(/[gy]/g, '')}g`);
      this.literal = null;
      this.reach = maxMatchLength;
    } else {
      throw new TypeError('replaceText: a pattern is a string or a RegExp');
    }
    if (typeof replacement !== 'string' && typeof replacement !== 'function') throw new TypeError('replaceText: a replacement is a string or a function');
    this.replacement = replacement;
  }

  /** Adds `text` and answers what is final: everything up to the held-back tail (all of it with `flush`). */
  push(text: string, flush: boolean): string {
    const s = this.context + this.pending + text;
    const start = this.context.length;
    // A literal match is final once found; a RegExp match only when it starts before the held-back tail.
    const limit = flush || this.literal !== null ? s.length : s.length - this.reach + 1;
    if (limit <= start) {
      this.pending = s.slice(start);
      return '';
    }
    const regexp = this.regexp;
    regexp.lastIndex = start;
    let out = '';
    let last = start;
    for (let match = regexp.exec(s); match !== null && match.index < limit; match = regexp.exec(s)) {
      if (match[0] === '') {
        regexp.lastIndex++;
        continue;
      }
      const replacement = this.replacement;
      out += s.slice(last, match.index) + (typeof replacement === 'string' ? substitute(replacement, match) : replacement(match[0], ...match.slice(1)));
      last = match.index + match[0].length;
    }
    let boundary = flush ? s.length : Math.max(last, this.literal === null ? limit : s.length - this.literal.openLength(s, last));
    // Never end a piece between the two halves of a surrogate pair.
    if (!flush && boundary > last && isHighSurrogate(s.charCodeAt(boundary - 1))) boundary--;
    out += s.slice(last, boundary);
    this.pending = s.slice(boundary);
    this.context = flush || this.reach === 0 ? '' : contextBefore(s, boundary, this.reach);
    return out;
  }
}

/** The last `length` characters of `s` before `end`, one more when they would begin with the second half of a surrogate pair. */
function contextBefore(s: string, end: number, length: number): string {
  let from = Math.max(0, end - length);
  if (from > 0 && isLowSurrogate(s.charCodeAt(from))) from--;
  return s.slice(from, end);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
