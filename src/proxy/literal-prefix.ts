/**
 * How much of a text a literal pattern could still be starting in ({@link LiteralPrefix}), so a
 * streaming search holds back no more than a would-be match.
 *
 * @module
 */

/**
 * A literal pattern with its Knuth–Morris–Pratt failure table: answers, in time proportional to
 * the pattern's length, how many characters at the end of a text are the beginning of the
 * pattern.
 */
export class LiteralPrefix {
  private readonly pattern: string;
  /** `failure[i]`: the length of the longest proper prefix of `pattern.slice(0, i + 1)` that also ends it. */
  private readonly failure: Uint32Array;

  /** @param pattern - a non-empty string, matched code unit by code unit. */
  constructor(pattern: string) {
    this.pattern = pattern;
    this.failure = new Uint32Array(pattern.length);
    for (let i = 1, k = 0; i < pattern.length; i++) {
      while (k > 0 && pattern.charCodeAt(i) !== pattern.charCodeAt(k)) k = this.failure[k - 1]!;
      if (pattern.charCodeAt(i) === pattern.charCodeAt(k)) k++;
      this.failure[i] = k;
    }
  }

  /**
   * The length, in UTF-16 code units, of the longest end of `text.slice(from)` that is a proper
   * prefix of the pattern (0 when none): the characters a match may still be in progress in.
   * Reads only the last `pattern.length - 1` code units.
   */
  openLength(text: string, from: number): number {
    const pattern = this.pattern;
    let state = 0;
    for (let i = Math.max(from, text.length - pattern.length + 1); i < text.length; i++) {
      const code = text.charCodeAt(i);
      while (state > 0 && pattern.charCodeAt(state) !== code) state = this.failure[state - 1]!;
      if (pattern.charCodeAt(state) === code) state++;
    }
    return state;
  }
}
