/**
 * The small pieces of RFC 9110 §5.6 field syntax the header modules share: tokens,
 * quoted-strings, optional whitespace and comma-separated lists, read by a forward-only
 * cursor that never throws and never backtracks (so hostile values cost linear time).
 *
 * @module
 */
import { isFieldChar, isTchar, isToken } from '../gateway/fields.ts';

/**
 * Formats `value` as an RFC 9110 §5.6.4 quoted-string, escaping `"` and `\`.
 *
 * @throws TypeError when `value` holds a control character other than HTAB, or a character
 *   above U+00FF (neither can appear in a field value).
 */
export function quoteString(value: string): string {
  for (let i = 0; i < value.length; i++) {
    if (!isFieldChar(value.charCodeAt(i))) {
      throw new TypeError(`cannot quote ${JSON.stringify(value)}: invalid character`);
    }
  }
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** `value` as a token when it is one, else as a quoted-string (see {@link quoteString}). */
export function tokenOrQuoted(value: string): string {
  return isToken(value) ? value : quoteString(value);
}

/**
 * True when `value` holds nothing but optional whitespace (SP, HTAB: RFC 9110 §5.6.3), as a
 * field sent empty. Unlike `value.trim() === ''`, a no-break space (byte A0, obs-text) or
 * another Unicode space is something sent, not whitespace.
 */
export function isBlank(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code !== 0x20 && code !== 0x09) return false;
  }
  return true;
}

/**
 * A forward-only reader over a field value. Every method either consumes what it reads and
 * answers it, or consumes nothing and answers `null`/`false`.
 */
export class Cursor {
  /** The text being read. */
  readonly text: string;
  /** Index of the next unread character. */
  pos = 0;

  constructor(text: string) {
    this.text = text;
  }

  /** True when everything has been read. */
  get done(): boolean {
    return this.pos >= this.text.length;
  }

  /** The char code at the cursor, or -1 at the end. */
  peek(): number {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  /** Skips optional whitespace (SP / HTAB); answers whether any was skipped. */
  ows(): boolean {
    const start = this.pos;
    while (this.peek() === 0x20 || this.peek() === 0x09) this.pos++;
    return this.pos > start;
  }

  /** Consumes `char` (one character) if it is next. */
  eat(char: string): boolean {
    if (this.text.charCodeAt(this.pos) !== char.charCodeAt(0) || this.done) return false;
    this.pos++;
    return true;
  }

  /** Reads a token (1*tchar), or `null` when none is next. */
  token(): string | null {
    const start = this.pos;
    while (isTchar(this.peek())) this.pos++;
    return this.pos > start ? this.text.slice(start, this.pos) : null;
  }

  /**
   * Reads a quoted-string and answers its unescaped content, or `null` (consuming nothing)
   * when none is next, it is unterminated, or it holds a control character.
   */
  quoted(): string | null {
    if (this.peek() !== 0x22) return null;
    let out = '';
    let i = this.pos + 1;
    const text = this.text;
    while (i < text.length) {
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        this.pos = i + 1;
        return out;
      }
      if (code === 0x5c) {
        if (i + 1 >= text.length || !isFieldChar(text.charCodeAt(i + 1))) return null;
        out += text[i + 1];
        i += 2;
        continue;
      }
      if (!isFieldChar(code)) return null;
      out += text[i];
      i++;
    }
    return null;
  }

  /** Reads a token or a quoted-string (unescaped), or `null`. */
  tokenOrQuoted(): string | null {
    return this.peek() === 0x22 ? this.quoted() : this.token();
  }

  /**
   * Skips to just after the next comma that is outside a quoted-string (or to the end), for
   * recovering from a bad list element.
   */
  skipElement(): void {
    this.skipTo(0x2c);
    if (this.pos < this.text.length) this.pos++;
  }

  /**
   * Moves to the next `delimiter` (a char code: `,`, `;`) that is outside a quoted-string, or
   * to the end; a quoted-pair's escaped character is never taken for one.
   */
  skipTo(delimiter: number): void {
    const text = this.text;
    let quoted = false;
    for (; this.pos < text.length; this.pos++) {
      const code = text.charCodeAt(this.pos);
      if (quoted) {
        if (code === 0x5c) this.pos++;
        else if (code === 0x22) quoted = false;
      } else if (code === 0x22) {
        quoted = true;
      } else if (code === delimiter) {
        return;
      }
    }
  }

  /**
   * At the end of a list element: skips OWS and answers true when the cursor is at the end or
   * just past a comma (consumed); answers false (cursor after the OWS) otherwise.
   */
  endOfElement(): boolean {
    this.ows();
    if (this.done) return true;
    return this.eat(',');
  }

  /** Skips OWS and empty list elements (`, ,`), as RFC 9110 §5.6.1.2 asks recipients to. */
  skipEmptyElements(): void {
    for (;;) {
      this.ows();
      if (!this.eat(',')) return;
    }
  }
}
