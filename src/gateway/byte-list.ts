/**
 * Byte chunks gathered to be joined once, without the cost of a body sent in tiny chunks.
 *
 * @module
 */
import { concatBytes } from './body.ts';

/** Chunks shorter than this many bytes are copied together (once the list holds {@link LOOSE} chunks). */
const SMALL = 1024;

/** How many chunks the list keeps as they are before it copies small ones together: a usual body comes in a few. */
const LOOSE = 16;

/** The size of the block small chunks are copied into, in bytes. */
const BLOCK = 16 * 1024;

/**
 * Byte chunks kept in order to be joined later ({@link ByteList.bytes}). A body sent in tiny
 * chunks (a chunked body of 1-byte chunks, which Node's parser hands over one `Buffer` each)
 * would otherwise hold an object of some hundred bytes per byte until joined: a 500 kB form
 * field so sent held over 100 MB. Past its first {@link LOOSE} chunks, the list copies the
 * chunks shorter than 1 KiB together, into blocks of their exact size; larger chunks, and the
 * few of a usual body, are kept as they are, uncopied. The first chunk is held alone, and an
 * array of chunks made only at the second (with both in it, not empty: a first `push()` onto
 * `[]` gives it room for 16): the one chunk of a small body costs no array at all.
 */
export class ByteList {
  /** The first chunk, while it is the only one. */
  #first: Uint8Array | undefined = undefined;
  /** Every chunk in order, from the second one on. */
  #chunks: Uint8Array[] | undefined = undefined;
  /** Where small chunks are copied, {@link ByteList.#used} bytes of it so far. */
  #block: Uint8Array | undefined = undefined;
  #used = 0;
  #size = 0;

  /** The bytes pushed so far. */
  get size(): number {
    return this.#size;
  }

  /** Adds `chunk` after the others (kept as it is, or copied when small). */
  push(chunk: Uint8Array): void {
    const length = chunk.byteLength;
    if (length === 0) return;
    this.#size += length;
    if (length >= SMALL || (this.#used === 0 && (this.#chunks?.length ?? 1) < LOOSE)) {
      this.#seal();
      this.#add(chunk);
      return;
    }
    if (this.#used + length > BLOCK) this.#seal();
    this.#block ??= new Uint8Array(BLOCK);
    this.#block.set(chunk, this.#used);
    this.#used += length;
  }

  /** The bytes pushed, joined: the chunk itself when there is only one. */
  bytes(): Uint8Array {
    this.#seal();
    if (this.#chunks !== undefined) return concatBytes(this.#chunks, this.#size);
    return this.#first ?? new Uint8Array(0);
  }

  /** Moves the small chunks copied so far into the list, as one chunk of their size. */
  #seal(): void {
    if (this.#used === 0) return;
    this.#add(this.#block!.slice(0, this.#used));
    this.#used = 0;
  }

  /** Appends `chunk` to the list: held alone when it is the first, the list made at the second. */
  #add(chunk: Uint8Array): void {
    if (this.#chunks !== undefined) this.#chunks.push(chunk);
    else if (this.#first === undefined) this.#first = chunk;
    else {
      this.#chunks = [this.#first, chunk];
      this.#first = undefined;
    }
  }
}
