/**
 * Streaming partial content (RFC 9110 §14.6, §15.3.7): slicing a body to a byte range and
 * building a `multipart/byteranges` body, chunk by chunk, without buffering the body.
 *
 * ```ts
 * // one range → 206 with Content-Range
 * res.body = sliceBody(body, { start: 0, end: 99 });
 * // several → 206 multipart/byteranges with an exact Content-Length
 * const parts = new MultipartByteranges(ranges, { size, contentType: 'text/plain' });
 * headers.set('Content-Type', parts.contentType);
 * headers.set('Content-Length', String(parts.length));
 * res.body = parts.stream(body);
 * ```
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { type Body } from '../gateway/types.ts';
import { checkChunk } from '../gateway/body.ts';
import { type ByteRange, formatContentRange } from './range.ts';
import { tokenOrQuoted } from './syntax.ts';
import { encodeText } from './charset.ts';

/**
 * Streams the bytes `range.start` to `range.end` (inclusive) of `body`: chunks before the
 * range are skipped, chunks across its edges are trimmed (views, no copies), and the source
 * is closed (its `return()` called, so generator `finally` blocks run) as soon as the range
 * is complete.
 *
 * @throws Error (from the iteration) when the body ends before `range.end`: the response is
 *   then shorter than its `Content-Length` and the server must abort it, not end it cleanly.
 * @throws TypeError (from the iteration) for a chunk that is not a `Uint8Array`.
 */
export async function* sliceBody(body: Body, range: ByteRange): AsyncGenerator<Uint8Array, void, undefined> {
  let pos = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    checkChunk(chunk);
    const next = pos + chunk.byteLength;
    if (next > range.start) {
      const from = Math.max(0, range.start - pos);
      const to = Math.min(chunk.byteLength, range.end + 1 - pos);
      if (to > from) yield chunk.subarray(from, to);
    }
    pos = next;
    if (pos > range.end) return;
  }
  throw new Error(`body ended at byte ${pos}, before the end of range ${range.start}-${range.end}`);
}

/** Options of {@link MultipartByteranges}. */
export interface ByterangesOptions {
  /** The representation's complete length in bytes. */
  size: number;
  /** The representation's `Content-Type`, repeated in each part; omitted when absent. */
  contentType?: string | null | undefined;
  /** The multipart boundary; a random 32-character hex string by default. */
  boundary?: string | undefined;
}

/** The source of a multipart body: the whole body, its bytes, or a reader of one range. */
export type ByterangesSource = Body | Uint8Array | ((range: ByteRange) => Body);

const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=?]{1,70}$/;

/**
 * A `multipart/byteranges` response body (RFC 9110 §14.6) for several ranges of one
 * representation: its `contentType` (with the boundary), its exact `length` in bytes for
 * `Content-Length`, and `stream(source)` to produce it.
 *
 * Each part is `--boundary`, `Content-Type` (when given), `Content-Range`, a blank line and
 * the bytes; parts are separated by CRLF and the body ends with `CRLF--boundary--CRLF`. The
 * part heads are written one byte per character (ISO-8859-1), as the server writes header
 * fields (RFC 9110 §5.5), so a `Content-Type` holding `é` reads in each part as in a 200.
 */
export class MultipartByteranges {
  /** The boundary between parts. */
  readonly boundary: string;
  /** `multipart/byteranges; boundary=…`, for the response's `Content-Type`. */
  readonly contentType: string;
  /** The ranges, in the order given (see {@link stream} for the order they are sent in). */
  readonly ranges: readonly ByteRange[];
  /** The exact length of the whole body in bytes. */
  readonly length: number;
  readonly #size: number;
  readonly #partType: string | null;

  /**
   * @throws RangeError when a range is outside `size` or has `end < start`.
   * @throws TypeError for an invalid boundary, or a `contentType` with CR, LF, NUL or a
   *   character above U+00FF (which no header field can carry).
   */
  constructor(ranges: readonly ByteRange[], options: ByterangesOptions) {
    this.#size = options.size;
    for (const range of ranges) formatContentRange(range, options.size); // validates
    const partType = options.contentType ?? null;
    if (partType !== null && /[\r\n\0\u0100-\uffff]/.test(partType)) {
      throw new TypeError(`invalid Content-Type for a part: ${JSON.stringify(partType)}`);
    }
    this.#partType = partType;
    this.boundary = options.boundary ?? randomBytes(16).toString('hex');
    if (!BOUNDARY.test(this.boundary)) {
      throw new TypeError(`invalid multipart boundary: ${JSON.stringify(this.boundary)}`);
    }
    this.contentType = `multipart/byteranges; boundary=${tokenOrQuoted(this.boundary)}`;
    this.ranges = Object.freeze(ranges.map(({ start, end }) => ({ start, end })));
    let length = this.#closing().byteLength;
    this.ranges.forEach((range, i) => {
      length += this.#head(range, i === 0).byteLength + range.end - range.start + 1;
    });
    this.length = length;
  }

  #head(range: ByteRange, first: boolean): Uint8Array {
    const type = this.#partType === null ? '' : `Content-Type: ${this.#partType}\r\n`;
    const contentRange = formatContentRange(range, this.#size);
    // One byte per character, as the server writes the response's own fields (RFC 9110 §5.5).
    return encodeText(`${first ? '' : '\r\n'}--${this.boundary}\r\n${type}Content-Range: ${contentRange}\r\n\r\n`, 'iso-8859-1');
  }

  #closing(): Uint8Array {
    return encodeText(`\r\n--${this.boundary}--\r\n`, 'iso-8859-1');
  }

  /**
   * Produces the body. From a `Uint8Array` or a range reader (`(range) => Body`, e.g. a file
   * stream per range) the parts follow the order of `ranges`, as RFC 9110 §15.3.7.2 asks.
   * From a single-pass `Body` the parts are sent in ascending offset order so the body is read
   * once, without buffering, and closed early after the last range; the `length` is the same.
   *
   * @throws TypeError (from the iteration) when a single-pass body is asked for overlapping
   *   ranges (`parseRange` coalesces them by default).
   * @throws Error (from the iteration) when a body or a range reader yields fewer bytes than
   *   the ranges need.
   */
  async *stream(source: ByterangesSource): AsyncGenerator<Uint8Array, void, undefined> {
    if (source instanceof Uint8Array) {
      yield* this.chunks(source);
      return;
    }
    if (typeof source === 'function') {
      let first = true;
      for (const range of this.ranges) {
        yield this.#head(range, first);
        first = false;
        let count = 0;
        for await (const chunk of source(range) as AsyncIterable<Uint8Array>) {
          checkChunk(chunk);
          count += chunk.byteLength;
          if (count > range.end - range.start + 1) throw new Error('range reader yielded too many bytes');
          yield chunk;
        }
        if (count !== range.end - range.start + 1) throw new Error('range reader yielded too few bytes');
      }
      yield this.#closing();
      return;
    }
    yield* this.#singlePass(source);
  }

  /**
   * The body cut from `bytes` in memory, the parts in the order of `ranges`: a plain array of
   * chunks (views of `bytes`, no copies, and the part heads), `length` bytes in all. What
   * `stream(bytes)` yields, without a generator, so a layer above sees an answer in memory.
   * `bytes` is the whole representation, `size` bytes long.
   */
  chunks(bytes: Uint8Array): Uint8Array[] {
    const chunks: Uint8Array[] = [];
    this.ranges.forEach((range, i) => {
      chunks.push(this.#head(range, i === 0), bytes.subarray(range.start, range.end + 1));
    });
    chunks.push(this.#closing());
    return chunks;
  }

  async *#singlePass(body: Body): AsyncGenerator<Uint8Array, void, undefined> {
    const sorted = [...this.ranges].sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]!.start <= sorted[i - 1]!.end) {
        throw new TypeError('overlapping ranges cannot be streamed from a single-pass body');
      }
    }
    let index = 0;
    let started = false;
    let pos = 0;
    if (sorted.length > 0) {
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        checkChunk(chunk);
        const next = pos + chunk.byteLength;
        while (index < sorted.length && sorted[index]!.start < next) {
          const range = sorted[index]!;
          if (!started) yield this.#head(range, index === 0);
          started = true;
          const from = Math.max(0, range.start - pos);
          const to = Math.min(chunk.byteLength, range.end + 1 - pos);
          if (to > from) yield chunk.subarray(from, to);
          if (range.end >= next) break; // the range goes on in the next chunk
          index++;
          started = false;
        }
        pos = next;
        if (index >= sorted.length) break;
      }
      if (index < sorted.length) throw new Error(`body ended at byte ${pos}, before the last range`);
    }
    yield this.#closing();
  }
}
