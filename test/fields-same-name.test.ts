/**
 * `sameFieldName` (and so every `HeaderList` look-up) is exactly ASCII-case-insensitive: A–Z
 * fold to a–z and nothing else does (RFC 9110 §5.1), checked against a reference on random
 * strings mixing ASCII letters, their neighbours, and non-ASCII characters that Unicode case
 * mapping would fold onto ASCII (Kelvin sign, long s, dotted/dotless i).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeaderList } from 'tsgi';
import { sameFieldName } from '../src/gateway/fields.ts';

/** The reference: lower-case A–Z only, then compare. */
const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
const reference = (a: string, b: string) => asciiLower(a) === asciiLower(b);

// Characters that sit next to the folded range or that Unicode folds onto ASCII letters.
const tricky = ['A', 'Z', 'a', 'z', 'K', 'k', 'S', 's', 'I', 'i', '@', '[', '`', '{', '-', '1', '\u212a', '\u017f', '\u0130', '\u0131', '\u00e9', '\u00c9', '\ud83d', '\ude00'];
const char = fc.oneof(fc.constantFrom(...tricky), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }));
const name = fc.array(char, { maxLength: 8 }).map((chars) => chars.join(''));
/** A name and a case-shuffled (or, sometimes, one-character-changed) copy of it. */
const pair = fc.tuple(name, fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), fc.option(fc.tuple(fc.nat(7), char))).map(([a, flips, change]) => {
  let b = [...a].map((c, i) => (flips[i % 8] ? (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) : c)).join('');
  if (change !== null && b.length > 0) {
    const at = change[0] % b.length;
    b = b.slice(0, at) + change[1] + b.slice(at + 1);
  }
  return [a, b] as const;
});

describe('sameFieldName: exactly ASCII-case-insensitive', () => {
  it('agrees with the reference on random pairs, both ways round', () => {
    fc.assert(
      fc.property(pair, ([a, b]) => {
        expect(sameFieldName(a, b)).toBe(reference(a, b));
        expect(sameFieldName(b, a)).toBe(reference(a, b));
      }),
      { numRuns: 20000 },
    );
    fc.assert(fc.property(name, name, (a, b) => {
        expect(sameFieldName(a, b)).toBe(reference(a, b));
      }), { numRuns: 5000 });
  });

  it('never folds non-ASCII onto ASCII, at either end of the name', () => {
    expect(sameFieldName('x-\u212aey', 'x-key')).toBe(false); // Kelvin sign, which toLowerCase folds to k
    expect(sameFieldName('x-key', 'X-\u212aEY')).toBe(false);
    expect(sameFieldName('\u017fet-cookie', 'set-cookie')).toBe(false); // long s
    expect(sameFieldName('x-\u0130', 'x-i')).toBe(false);
    expect(sameFieldName('x-\u0131', 'X-I')).toBe(false);
    expect(sameFieldName('\u00c9', '\u00e9')).toBe(false); // É/é: Unicode case, not ASCII
    expect(sameFieldName('@', '`')).toBe(false); // 0x40/0x60, just outside A–Z
    expect(sameFieldName('[', '{')).toBe(false);
    expect(sameFieldName('Content-Type', 'content-typE')).toBe(true);
    expect(sameFieldName('Content-Type', 'Content-Typ')).toBe(false);
    expect(sameFieldName('', '')).toBe(true);
  });

  it('is what HeaderList looks fields up with', () => {
    const headers = new HeaderList([['X-Mw-1', 'a'], ['x-mw-2', 'b']]);
    expect(headers.get('x-MW-2')).toBe('b');
    expect(headers.get('X-MW-1')).toBe('a');
    expect(headers.get('x-mw-3')).toBeNull();
  });
});
