/**
 * UTF-8 that keeps the bytes that are not UTF-8 ({@link utf8Escaping}): each such byte is read
 * as a lone low surrogate (U+DC80 to U+DCFF, Python's `surrogateescape`) and written back as
 * the byte, so text read as UTF-8 by default (a legacy page without a charset) comes back byte
 * for byte wherever no replacement changed it.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import type { StreamDecoder, TextCodec } from './text-codec.ts';

/** The first lone escape (a low surrogate U+DC80–U+DCFF not after a high surrogate). */
const ESCAPE = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/g;
/** Well-formed UTF-8 in one call, the usual case; it throws on any other byte. */
const STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * UTF-8 both ways, a byte that is not part of a well-formed sequence (Unicode §3.9, Table 3-7)
 * decoded as U+DC00 plus the byte and encoded back as that byte. Every other character, and a
 * U+FEFF byte order mark, is read and written as UTF-8.
 */
export const utf8Escaping: TextCodec = {
  encoding: 'utf-8',
  decoder: () => new EscapingDecoder(),
  encode(text) {
    ESCAPE.lastIndex = 0;
    if (!ESCAPE.test(text)) return Buffer.from(text, 'utf8');
    const pieces: Buffer[] = [];
    let last = 0;
    ESCAPE.lastIndex = 0;
    for (let match = ESCAPE.exec(text); match !== null; match = ESCAPE.exec(text)) {
      pieces.push(Buffer.from(text.slice(last, match.index), 'utf8'), Buffer.of(text.charCodeAt(match.index) - 0xdc00));
      last = match.index + 1;
    }
    pieces.push(Buffer.from(text.slice(last), 'utf8'));
    return Buffer.concat(pieces);
  },
};

/** A streaming decoder: a sequence cut by the end of a chunk waits for the next one. */
class EscapingDecoder implements StreamDecoder {
  #pending: Uint8Array = new Uint8Array(0);

  decode(input: Uint8Array = new Uint8Array(0), options: { stream?: boolean } = {}): string {
    const data = this.#pending.byteLength === 0 ? input : Buffer.concat([this.#pending, input]);
    const end = options.stream === true ? data.byteLength - cutTail(data) : data.byteLength;
    this.#pending = data.slice(end);
    return escaped(data.subarray(0, end));
  }
}

/** `bytes` read as UTF-8, each byte of no well-formed sequence as U+DC00 plus the byte. */
function escaped(bytes: Uint8Array): string {
  try {
    return STRICT.decode(bytes);
  } catch {
    // Bytes that are not UTF-8: found one by one below.
  }
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let out = '';
  let run = 0;
  for (let at = 0; at < buffer.length; ) {
    if (buffer[at]! < 0x80) {
      at++;
      continue;
    }
    const length = sequenceLength(buffer, at);
    if (length > 0) {
      at += length;
      continue;
    }
    out += buffer.toString('utf8', run, at) + String.fromCharCode(0xdc00 + buffer[at]!);
    run = ++at;
  }
  return out + buffer.toString('utf8', run);
}

/** The bytes allowed second after a lead byte (Table 3-7); later ones are 80–BF. */
function secondRange(lead: number): [number, number, number] | null {
  if (lead >= 0xc2 && lead <= 0xdf) return [2, 0x80, 0xbf];
  if (lead === 0xe0) return [3, 0xa0, 0xbf];
  if (lead === 0xed) return [3, 0x80, 0x9f];
  if (lead >= 0xe1 && lead <= 0xef) return [3, 0x80, 0xbf];
  if (lead === 0xf0) return [4, 0x90, 0xbf];
  if (lead >= 0xf1 && lead <= 0xf3) return [4, 0x80, 0xbf];
  if (lead === 0xf4) return [4, 0x80, 0x8f];
  return null;
}

/** How many of the bytes from `at` (up to `length`, not past the end) keep to a sequence led by `bytes[at]`. */
function validPrefix(bytes: Uint8Array, at: number, length: number, low: number, high: number): number {
  let count = 1;
  for (let i = at + 1; i < Math.min(at + length, bytes.byteLength); i++, count++) {
    const byte = bytes[i]!;
    const [from, to] = i === at + 1 ? [low, high] : [0x80, 0xbf];
    if (byte < from || byte > to) break;
  }
  return count;
}

/** The length of the well-formed sequence at `at`, or 0 when the byte there starts none. */
function sequenceLength(bytes: Uint8Array, at: number): number {
  const range = secondRange(bytes[at]!);
  if (range === null) return 0;
  const [length, low, high] = range;
  return validPrefix(bytes, at, length, low, high) === length ? length : 0;
}

/** How many bytes at the end of `bytes` start a sequence the next chunk may complete (0 to 3). */
function cutTail(bytes: Uint8Array): number {
  for (let at = bytes.byteLength - 1; at >= Math.max(0, bytes.byteLength - 3); at--) {
    const range = secondRange(bytes[at]!);
    if (range === null) {
      if (bytes[at]! >= 0x80 && bytes[at]! <= 0xbf) continue; // a continuation byte: look further back
      return 0;
    }
    const [length, low, high] = range;
    const present = bytes.byteLength - at;
    return present < length && validPrefix(bytes, at, length, low, high) === present ? present : 0;
  }
  return 0;
}
