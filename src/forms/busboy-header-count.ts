/**
 * busboy's cap on a part's header block, and the way busboy counts the block against it.
 *
 * busboy 1.6 (`lib/types/multipart.js`, `HeaderParser`) refuses a header block past 16 384
 * bytes with `Malformed part header`, a 400 like any syntax error. It counts some bytes twice:
 * the first byte of each line after the first (read once as the end of the line before, once
 * as the start of the next), and the first byte of each value after its optional whitespace
 * (read once while skipping it, once as the value). The multipart guard counts the same way,
 * so it refuses the block first, with the 413 naming `maxPartHeaderSize`. It also reads no more
 * than {@link BUSBOY_HEADER_FIELDS} fields of a block, which the guard refuses past that (400).
 *
 * @module
 */

/** busboy's cap on one part's header block, in bytes as it counts them (`MAX_HEADER_SIZE`). */
export const BUSBOY_HEADER_CAP = 16 * 1024;

/**
 * The most header fields of one part busboy reads: it keeps the first 1999 (`++pairCount <
 * MAX_HEADER_PAIRS`, 2000, from Node) and ignores the rest without a word, so a
 * `Content-Disposition` after them leaves the part without one, which busboy then drops.
 */
export const BUSBOY_HEADER_FIELDS = 1999;

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const COLON = 58;

/** Counts one header block's bytes as busboy does; feed it every byte after the part's opening CRLF. */
export class BusboyHeaderCount {
  /** The bytes counted so far, busboy's way. */
  count = 0;
  /** 0: in a line; 1: after CR; 2: after CRLF (a new line, or the end of the block); 3: after CRLF CR. */
  #eol = 0;
  #firstLine = true;
  #inName = true;
  #afterColon = false;

  /** Counts `byte`; returns the running count. */
  add(byte: number): number {
    this.count++;
    if (this.#eol === 2 && byte !== CR) {
      // busboy reads the byte once to see that the line ended, and again as the next line's.
      if (!this.#firstLine) this.count++;
      this.#inName = byte !== SP && byte !== HT; // a folded line goes on with the value
      this.#afterColon = false;
    }
    if (this.#afterColon && byte !== SP && byte !== HT) {
      this.count++; // the first byte of the value, read while skipping whitespace and again
      this.#afterColon = false;
    } else if (this.#inName && byte === COLON) {
      this.#inName = false;
      this.#afterColon = true;
    }
    if (byte === CR) this.#eol = this.#eol === 2 ? 3 : 1;
    else if (byte === LF && this.#eol === 1) {
      this.#eol = 2;
      this.#firstLine = false;
    } else this.#eol = 0;
    return this.count;
  }
}
