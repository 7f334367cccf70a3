/**
 * Where the frames of a zstd body end, told by following their structure as the coded bytes
 * pass, so that a frame cut short by the end of the body is told from a whole one whatever
 * node:zlib's decoder says: Node 24's fails (`unexpected end of file`), Node 22.23's ends
 * without a word, giving the text it had.
 *
 * @module
 */
import { Buffer } from 'node:buffer';

/** The magic number of a zstd frame (RFC 8878 §3.1.1), read little-endian. */
const FRAME_MAGIC = 0xfd2fb528;
/** The magic numbers of skippable frames, 0x184D2A50 to 0x184D2A5F (RFC 8878 §3.1.2), their last 4 bits masked off. */
const SKIPPABLE_MAGIC = 0x184d2a50;
/** Frame_Header_Descriptor bits (RFC 8878 §3.1.1.1.1). */
const SINGLE_SEGMENT = 0x20;
const CONTENT_CHECKSUM = 0x04;
/** Frame_Content_Size field bytes by its flag (the descriptor's top 2 bits); flag 0 is 1 byte in a single-segment frame. */
const CONTENT_SIZE_BYTES = [0, 2, 4, 8] as const;
/** Dictionary_ID field bytes by its flag (the descriptor's low 2 bits). */
const DICTIONARY_ID_BYTES = [0, 1, 2, 4] as const;
/** Block_Type values (RFC 8878 §3.1.1.2.2): an RLE block's content is 1 byte, whatever its size. */
const RLE_BLOCK = 1;
const RESERVED_BLOCK = 3;

/**
 * What the bytes gathered next are (the bytes in between are passed over, never held):
 * `magic` (4 bytes: a frame starts), `descriptor` (1), `block` (a block header, 3),
 * `skippable` (a skippable frame's 4-byte size), `lost` (bytes that follow no frame structure:
 * the decoder, which refuses them before taking them, is left to judge).
 */
type Step = 'magic' | 'descriptor' | 'block' | 'skippable' | 'lost';
const NEEDED: Record<Step, number> = { magic: 4, descriptor: 1, block: 3, skippable: 4, lost: 0 };

/**
 * Follows zstd frames (RFC 8878 §3.1) through the bytes fed to it ({@link read}), holding at
 * most the 4 bytes of a magic number or a field: each frame's header (magic number,
 * descriptor, and the window, dictionary and content-size fields it announces), then its
 * blocks (a 3-byte header each: last-block flag, type, size; then the size's bytes, or 1 for an
 * RLE block) and, after the last, the 4-byte checksum where the descriptor has one; a skippable
 * frame (magic 0x184D2A50 to 0x184D2A5F) is its 4-byte size and that many bytes.
 * {@link atFrameEnd} says whether the bytes so far end where a frame does.
 */
export class ZstdFrameEnds {
  private step: Step = 'magic';
  /** The bytes of the current step gathered so far (at most 4). */
  private readonly held = Buffer.alloc(4);
  private heldLength = 0;
  /** Bytes to pass over before the step's bytes are gathered. */
  private skip = 0;
  /** Whether the current frame ends in a checksum. */
  private checksum = false;

  /** True when the bytes read so far end where a frame (or a skippable frame) ends, or none started. */
  get atFrameEnd(): boolean {
    return this.step === 'lost' || (this.step === 'magic' && this.heldLength === 0 && this.skip === 0);
  }

  /** Follows `bytes`, the next of the body (those its decoder took). */
  read(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.byteLength && this.step !== 'lost') {
      if (this.skip > 0) {
        const passed = Math.min(this.skip, bytes.byteLength - at);
        this.skip -= passed;
        at += passed;
        continue;
      }
      const taken = Math.min(NEEDED[this.step] - this.heldLength, bytes.byteLength - at);
      this.held.set(bytes.subarray(at, at + taken), this.heldLength);
      this.heldLength += taken;
      at += taken;
      if (this.heldLength === NEEDED[this.step]) {
        this.heldLength = 0;
        this.advance();
      }
    }
  }

  /** Reads the gathered bytes of the current step: what comes next, and how many bytes lie before it. */
  private advance(): void {
    const held = this.held;
    switch (this.step) {
      case 'magic': {
        const magic = held.readUInt32LE(0);
        if (magic === FRAME_MAGIC) this.step = 'descriptor';
        else if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_MAGIC) this.step = 'skippable';
        else this.step = 'lost';
        return;
      }
      case 'descriptor': {
        const descriptor = held[0]!;
        const single = (descriptor & SINGLE_SEGMENT) !== 0;
        const contentSize = CONTENT_SIZE_BYTES[descriptor >> 6]! || (single ? 1 : 0);
        this.checksum = (descriptor & CONTENT_CHECKSUM) !== 0;
        this.skip = (single ? 0 : 1) + DICTIONARY_ID_BYTES[descriptor & 3]! + contentSize;
        this.step = 'block';
        return;
      }
      case 'block': {
        const header = held.readUIntLE(0, 3);
        const type = (header >> 1) & 3;
        if (type === RESERVED_BLOCK) {
          this.step = 'lost';
          return;
        }
        const last = (header & 1) === 1;
        this.skip = (type === RLE_BLOCK ? 1 : header >>> 3) + (last && this.checksum ? 4 : 0);
        if (last) this.step = 'magic';
        return;
      }
      case 'skippable':
        this.skip = held.readUInt32LE(0);
        this.step = 'magic';
        return;
      case 'lost':
        return;
    }
  }
}
