/**
 * gzip data (RFC 1952) decoded member by member, so that where the last member ends is known:
 * what follows it is told apart from the members (`decodeBody` refuses it, `decodeContent`
 * ignores it, as browsers do).
 *
 * Why the member headers are read here rather than node:zlib's own accounting (a `Gunzip`'s
 * `bytesWritten` at its end), measured on Node 22.23 and 24.21, which behave alike:
 * - A `Gunzip` decodes concatenated members, in one write or across writes (`bytesWritten` is
 *   then the whole body), but no option makes it stop at the end of a member: `createInflate`
 *   refuses `windowBits` 31 (gzip framing, range 8 to 15), and `createUnzip` turns into gunzip.
 * - Other bytes after a member in the same write (`'garbage'`) fail it with `incorrect header
 *   check`: the output of that write is dropped (a 6-byte member's `hello ` is lost) and
 *   `bytesWritten` stays where it was before the write (0), so neither the content nor where
 *   the members ended can be had. Only when they come in a later write does `bytesWritten`
 *   stop at the end of the members.
 * - A single byte after a member (`'\n'`, `0x1f`), or a member header cut short, fails it with
 *   `unexpected end of file`, `bytesWritten` counting those bytes: the same error and count as
 *   a member cut short, so trailing bytes and truncated data cannot be told apart.
 * - A zero byte after a member ends it without an error, whatever follows (`\0\0junk` too),
 *   `bytesWritten` short of the body: `decodeBody`, which takes zero padding only, would have
 *   to read the rest itself.
 * So the answers test/decode-gzip-trailing.test.ts expects (the whole content for `'garbage'`
 * or `'\n'` after the members; a `400` saying bytes follow, not corrupt data) are not to be had
 * from node:zlib: each member's header is read here, its deflate data by a raw inflater, whose
 * `bytesWritten` does say where the deflate data ended.
 *
 * @module
 */
import zlib from 'node:zlib';
import { concatBytes } from '../gateway/body.ts';
import { decoderOutput } from './decoder-output.ts';
import { zlibError } from './zlib-error.ts';

/** The most bytes a member's header may have (its optional name, comment and extra field included) before the data counts as corrupt. */
const MAX_HEADER = 64 * 1024 + 1024;
/**
 * The members read here one by one; the rest of a body of more goes to one node:zlib gunzip,
 * which decodes members one after another in C: a raw inflater per member costs a stream and
 * a round trip to zlib's thread pool each, and a flood of empty members (20 bytes each) would
 * cost a hundred times what gunzip spends on it. Past them, bytes after the last member are
 * corrupt data again (gunzip's rule; zero padding aside).
 */
export const FRAMED_MEMBERS = 16;
/** The header flags (RFC 1952 §2.3.1). */
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const RESERVED = 0xe0;

/** What follows the last member: nothing, zero bytes only (padding, which gzip(1) and node:zlib accept), or other bytes. */
export type GzipTrailing = 'none' | 'zeros' | 'other';

/**
 * The length of the member header at the start of `bytes`, or `null` while `bytes` may be the
 * start of a longer one.
 *
 * @throws a zlib-worded `Error` for a header that is none (`incorrect header check`,
 *   `unknown compression method`, `unknown header flags set`, `header crc mismatch`).
 */
function headerLength(bytes: Uint8Array): number | null {
  if (bytes.byteLength >= 1 && bytes[0] !== 0x1f) throw zlibError('incorrect header check');
  if (bytes.byteLength >= 2 && bytes[1] !== 0x8b) throw zlibError('incorrect header check');
  if (bytes.byteLength >= 3 && bytes[2] !== 8) throw zlibError('unknown compression method');
  if (bytes.byteLength >= 4 && (bytes[3]! & RESERVED) !== 0) throw zlibError('unknown header flags set');
  if (bytes.byteLength < 10) return null;
  const flags = bytes[3]!;
  let at = 10;
  if (flags & FEXTRA) {
    if (bytes.byteLength < at + 2) return null;
    at += 2 + (bytes[at]! | (bytes[at + 1]! << 8));
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue;
    const zero = bytes.indexOf(0, at);
    if (zero === -1) return null;
    at = zero + 1;
  }
  if (flags & FHCRC) {
    if (bytes.byteLength < at + 2) return null;
    if (typeof zlib.crc32 === 'function' && (zlib.crc32(bytes.subarray(0, at)) & 0xffff) !== (bytes[at]! | (bytes[at + 1]! << 8))) throw zlibError('header crc mismatch');
    at += 2;
  }
  return bytes.byteLength < at ? null : at;
}

/** The little-endian 32-bit number at `at`. */
function uint32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/**
 * Decodes a gzip body fed to it chunk by chunk ({@link output}): each member's header read
 * here, its deflate data by a node:zlib raw inflater (made per member), its trailer checked
 * (the length, and the CRC-32 where node:zlib has `crc32`: Node 22.2 and later). Members follow
 * one another (RFC 1952 §2.2); once bytes that start no member (no valid member header, or
 * one cut off by the end of the body) follow one, decoding stops and {@link trailing} says
 * what they were; a later member whose data is corrupt is corrupt data. Past
 * {@link FRAMED_MEMBERS} members, the rest goes to node:zlib's gunzip. Its output comes as {@link decoderOutput}'s does, with
 * the same backpressure.
 */
export class GzipMembers {
  /** What follows the last member, once known (`'none'` until then, and for a body that ends with a member). */
  trailing: GzipTrailing = 'none';
  private z: zlib.InflateRaw | undefined;
  /** The gunzip of the members after the first {@link FRAMED_MEMBERS}. */
  private rest: zlib.Gunzip | undefined;
  private state: 'header' | 'data' | 'trailer' | 'next' | 'after' | 'gunzip' = 'header';
  /** Header or trailer bytes gathered across chunks. */
  private held: Uint8Array[] = [];
  private heldLength = 0;
  private crc = 0;
  private size = 0;
  /** The members decoded whole. */
  private members = 0;
  private readonly fail: (error: unknown) => unknown;
  /** Whether the bytes after the first member are left unread, whatever they are (Chromium's reading). */
  private readonly firstOnly: boolean;

  /**
   * @param fail What the iteration of {@link output} rejects with, made of the decoder's error.
   * @param firstOnly Decode the first member only, as Chromium does: what follows it, another
   *   member included, ends the body there ({@link trailing} `'other'`). Default false.
   */
  constructor(fail: (error: unknown) => unknown, firstOnly = false) {
    this.fail = fail;
    this.firstOnly = firstOnly;
  }

  /**
   * What `chunk` decodes to (for `null`, the end of the body), yielded as it is made.
   *
   * @throws (the iteration rejects with) what `fail` makes of a zlib-worded error: data that is
   *   no gzip, a member cut off by the end of the body (`unexpected end of file`), a trailer
   *   that does not match (`incorrect data check`, `incorrect length check`).
   */
  async *output(chunk: Uint8Array | null): AsyncGenerator<Buffer, void, undefined> {
    if (chunk === null) {
      yield* this.finish();
      return;
    }
    let rest = chunk;
    while (rest.byteLength > 0) {
      switch (this.state) {
        case 'gunzip':
          yield* decoderOutput(this.rest!, rest, this.fail);
          return;
        case 'after':
          if (this.trailing === 'zeros' && rest.some((byte) => byte !== 0)) this.trailing = 'other';
          return;
        case 'next': {
          if (this.firstOnly) {
            this.state = 'after';
            this.trailing = 'other';
            return;
          }
          const start = this.take(rest, 2);
          rest = rest.subarray(start.taken);
          if (start.bytes === null) return;
          this.held = [start.bytes];
          this.heldLength = start.bytes.byteLength;
          if (start.bytes[0] === 0x1f && start.bytes[1] === 0x8b) {
            if (this.members < FRAMED_MEMBERS) {
              this.state = 'header';
              break;
            }
            this.state = 'gunzip';
            this.rest = zlib.createGunzip();
            this.rest.on('error', ignore);
            this.held = [];
            this.heldLength = 0;
            yield* decoderOutput(this.rest, start.bytes, this.fail);
            break;
          }
          this.state = 'after';
          this.trailing = start.bytes.every((byte) => byte === 0) ? 'zeros' : 'other';
          this.held = [];
          break;
        }
        case 'header': {
          const before = this.heldLength;
          const joined = concatBytes([...this.held, rest], before + rest.byteLength);
          let length: number | null;
          try {
            length = headerLength(joined);
          } catch (error) {
            if (this.members === 0) throw this.fail(error);
            // After a member, bytes that start no valid header start no member.
            this.state = 'after';
            this.trailing = 'other';
            this.held = [];
            this.heldLength = 0;
            return;
          }
          if (length === null) {
            if (joined.byteLength > MAX_HEADER) throw this.fail(zlibError('gzip header too long'));
            this.held = [joined];
            this.heldLength = joined.byteLength;
            return;
          }
          rest = joined.subarray(length);
          this.held = [];
          this.heldLength = 0;
          this.state = 'data';
          this.z = zlib.createInflateRaw();
          // Failures are read from z.errored: an 'error' event with no listener left would be uncaught.
          this.z.on('error', ignore);
          this.crc = 0;
          this.size = 0;
          break;
        }
        case 'data': {
          const z = this.z!;
          const before = z.bytesWritten;
          yield* this.counted(decoderOutput(z, rest, this.fail));
          const used = z.bytesWritten - before;
          if (used === rest.byteLength) return;
          // The deflate data ended inside this chunk: its trailer follows.
          rest = rest.subarray(used);
          this.endData();
          break;
        }
        case 'trailer': {
          const trailer = this.take(rest, 8);
          rest = rest.subarray(trailer.taken);
          if (trailer.bytes === null) return;
          this.check(trailer.bytes);
          break;
        }
      }
    }
  }

  /** Destroys the member's inflater (the caller's `finally`). */
  destroy(): void {
    this.z?.destroy();
    this.rest?.destroy();
  }

  /** The end of the body: the member's data ended, and its trailer complete, else `unexpected end of file`. */
  private async *finish(): AsyncGenerator<Buffer, void, undefined> {
    if (this.state === 'gunzip') {
      yield* decoderOutput(this.rest!, null, this.fail);
      return;
    }
    if (this.state === 'data') {
      yield* this.counted(decoderOutput(this.z!, null, this.fail));
      this.endData();
    }
    // A header cut off after a member is bytes that start no member.
    if (this.state === 'header' && this.members > 0) this.trailing = 'other';
    else if (this.state === 'header' || this.state === 'trailer') throw this.fail(zlibError('unexpected end of file'));
    // One byte after a member, 0x1f or not, starts none.
    if (this.state === 'next' && this.heldLength > 0) this.trailing = this.held[0]![0] === 0 ? 'zeros' : 'other';
  }

  /** `output`, its bytes counted into the member's CRC-32 and length. */
  private async *counted(output: AsyncGenerator<Buffer, void, undefined>): AsyncGenerator<Buffer, void, undefined> {
    for await (const piece of output) {
      if (typeof zlib.crc32 === 'function') this.crc = zlib.crc32(piece, this.crc);
      this.size = (this.size + piece.byteLength) >>> 0;
      yield piece;
    }
  }

  private endData(): void {
    this.z!.destroy();
    this.z = undefined;
    this.state = 'trailer';
    this.held = [];
    this.heldLength = 0;
  }

  /** Checks a member's trailer against what its data made; the next member may follow. */
  private check(trailer: Uint8Array): void {
    if (typeof zlib.crc32 === 'function' && uint32(trailer, 0) !== this.crc >>> 0) throw this.fail(zlibError('incorrect data check'));
    if (uint32(trailer, 4) !== this.size) throw this.fail(zlibError('incorrect length check'));
    this.members++;
    this.state = 'next';
    this.held = [];
    this.heldLength = 0;
  }

  /**
   * Gathers `count` bytes from what is held and `rest`: the bytes once there are enough (then
   * nothing is held), else `null` (`rest` held); `taken`, how many bytes of `rest` it used.
   */
  private take(rest: Uint8Array, count: number): { bytes: Uint8Array | null; taken: number } {
    const taken = Math.min(count - this.heldLength, rest.byteLength);
    this.held.push(rest.subarray(0, taken));
    this.heldLength += taken;
    if (this.heldLength < count) return { bytes: null, taken };
    const bytes = concatBytes(this.held, this.heldLength);
    this.held = [];
    this.heldLength = 0;
    return { bytes, taken };
  }
}

function ignore(): void {}
