/**
 * Field-value syntax shared by the header modules (src/http/syntax.ts): tokens,
 * quoted-strings and list elements (RFC 9110 §5.6).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isToken } from '../src/gateway/fields.ts';
import { Cursor, quoteString, tokenOrQuoted } from '../src/http/syntax.ts';

describe('syntax', () => {
  it('isToken', () => {
    expect(isToken("!#$%&'*+-.^_`|~09azAZ")).toBe(true);
    for (const bad of ['', 'a b', 'a,b', 'a"b', 'a/b', 'é', 'a\u0000']) expect(isToken(bad), bad).toBe(false);
  });

  it('quoteString escapes " and \\, refuses control characters and non-Latin-1', () => {
    expect(quoteString('a "b" \\c')).toBe('"a \\"b\\" \\\\c"');
    expect(quoteString('tab\there')).toBe('"tab\there"');
    expect(() => quoteString('a\nb')).toThrow(TypeError);
    expect(() => quoteString('\u0100')).toThrow(TypeError);
    expect(tokenOrQuoted('abc')).toBe('abc');
    expect(tokenOrQuoted('')).toBe('""');
  });

  it('Cursor.quoted reads escapes; rejects unterminated and control characters, consuming nothing', () => {
    const c = new Cursor('"a\\"b\\\\c" rest');
    expect(c.quoted()).toBe('a"b\\c');
    expect(c.text.slice(c.pos)).toBe(' rest');
    for (const bad of ['"open', '"a\\', '"a\nb"', 'plain']) {
      const cursor = new Cursor(bad);
      expect(cursor.quoted()).toBeNull();
      expect(cursor.pos).toBe(0);
    }
  });

  it('Cursor.skipElement skips to after the next comma outside quotes', () => {
    const c = new Cursor('junk "a,b" more, next');
    c.skipElement();
    expect(c.text.slice(c.pos)).toBe(' next');
  });

  it('property: quoteString → Cursor.quoted round trip', () => {
    const latin1 = fc.string({ maxLength: 30 }).filter((s) => /^[\t\x20-\x7e\x80-\xff]*$/.test(s));
    fc.assert(
      fc.property(latin1, (value) => {
        const c = new Cursor(`${tokenOrQuoted(value)},`);
        expect(c.tokenOrQuoted()).toBe(value === '' ? '' : value);
        expect(c.endOfElement()).toBe(true);
        expect(c.done).toBe(true);
      }),
    );
  });
});
