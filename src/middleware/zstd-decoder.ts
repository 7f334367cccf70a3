/**
 * The zstd decoder of `decodeBody` (request bodies) and `decodeContent` (response bodies), its
 * window bounded as RFC 9659 bounds the `zstd` content coding's.
 *
 * @module
 */
import zlib from 'node:zlib';
import { decoderOutput } from './decoder-output.ts';
import { ZstdFrameEnds } from './zstd-frame-ends.ts';
import { zlibError } from './zlib-error.ts';

/**
 * The largest zstd window a decoder takes, log2 bytes: 2^23 (8 MiB), the most RFC 9659 §3 lets
 * an encoder of the `zstd` content coding use and every decoder accept (Chrome and Firefox
 * refuse more). zstd's own bound is 2^27 (128 MiB): a frame of a few bytes declaring it had
 * the decoder hold up to 128 MiB for one request.
 */
const WINDOW_LOG_MAX = 23;

/** What a refused frame's error says, for the `400` and `502` that name it. */
export const WINDOW_TOO_LARGE = 'zstd window is larger than 8 MiB (RFC 9659 §3)';

/** A node:zlib zstd decoder refusing a frame whose window is past 8 MiB (its error: {@link isWindowTooLarge}). */
export function createZstdDecoder(): zlib.ZstdDecompress {
  return zlib.createZstdDecompress({ params: { [zlib.constants.ZSTD_d_windowLogMax]: WINDOW_LOG_MAX } });
}

/** True for the error of a zstd decoder refusing a frame's window (`ZSTD_error_frameParameter_windowTooLarge`). */
export function isWindowTooLarge(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ZSTD_error_frameParameter_windowTooLarge';
}

/**
 * The most frames {@link ZstdFrames} gives a decoder of their own in one body: each costs a
 * stream and a round trip to zlib's thread pool, and a flood of empty frames (9 bytes each)
 * would cost that per 9 bytes. A body with more frames ending inside its chunks is refused as
 * corrupt data (it was cut short at the first, silently).
 */
export const MAX_ZSTD_FRAMES = 1024;

/** A decoder's error for data that starts no frame (no zstd magic number, nor a skippable frame's). */
function isNoFrame(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ZSTD_error_prefix_unknown';
}

/** What {@link ZstdFrames}' own `fail` answers for bytes that start no frame after one: the end of the frames, not a failure. */
const AFTER_FRAMES = Symbol('bytes after the last zstd frame');

/**
 * A zstd body decoded frame after frame (RFC 8878 §3.1: zstd data is one or more frames, as
 * `cat a.zst b.zst` makes): node:zlib's decoder goes on to the next frame only across writes
 * and stops at the end of a frame inside one, the rest of that write unread, so that rest is
 * given to a new decoder ({@link createZstdDecoder}), up to {@link MAX_ZSTD_FRAMES} of them. Its
 * output comes as {@link decoderOutput}'s does, with the same backpressure.
 *
 * Bytes after a frame that start no frame (the decoder checks the magic number only where a
 * frame starts), in the frame's chunk or a later one, end the decoding there, the rest unread:
 * {@link trailing} says so, for `decodeContent` to ignore them and `decodeBody` to refuse
 * them, as `GzipMembers` does for bytes after the last gzip member. A body that starts with
 * no frame is no zstd. A body that ends inside a frame is refused (`unexpected end of file`)
 * on every Node: the bytes the decoders take are followed ({@link ZstdFrameEnds}), as Node
 * 22.23's decoder ends a frame cut short without a word, giving the text it had (Node 24's
 * fails).
 */
export class ZstdFrames {
  /** `'other'` once bytes that start no frame followed a frame (decoding stopped there); `'none'` until then. */
  trailing: 'none' | 'other' = 'none';
  private z: zlib.ZstdDecompress | undefined;
  /** Where the frames of the bytes the decoders took end. */
  private readonly frames = new ZstdFrameEnds();
  private decoders = 0;
  /** The body's bytes decoded so far, all in whole frames but those of the decoder's current one. */
  private consumed = 0;
  private readonly fail: (error: unknown) => unknown;
  /** `fail`, but {@link AFTER_FRAMES} for bytes that start no frame once a frame was read. */
  private readonly failAt = (error: unknown): unknown => (isNoFrame(error) && this.consumed > 0 ? AFTER_FRAMES : this.fail(error));

  /** @param fail What the iteration of {@link output} rejects with, made of the decoder's error. */
  constructor(fail: (error: unknown) => unknown) {
    this.fail = fail;
  }

  /**
   * What `chunk` decodes to (for `null`, the end of the body), yielded as it is made; nothing
   * once {@link trailing} is `'other'`.
   *
   * @throws (the iteration rejects with) what `fail` makes of the decoder's error: data that is
   *   no zstd frame, a frame cut off by the end of the body (told here where the decoder does
   *   not: `unexpected end of file`, zlib's `Z_BUF_ERROR`), a window past 8 MiB.
   */
  async *output(chunk: Uint8Array | null): AsyncGenerator<Buffer, void, undefined> {
    if (this.trailing !== 'none') return;
    if (chunk === null) {
      if (this.z !== undefined) yield* this.decode(this.z, null);
      // Node 22.23's decoder ends a frame cut short without a word (Node 24's fails, as here).
      if (this.trailing === 'none' && !this.frames.atFrameEnd) throw this.fail(zlibError('unexpected end of file', 'Z_BUF_ERROR'));
      return;
    }
    let rest = chunk;
    while (rest.byteLength > 0 && this.trailing === 'none') {
      const fresh = this.z === undefined;
      const z = (this.z ??= this.make());
      const before = z.bytesWritten;
      yield* this.decode(z, rest);
      const used = z.bytesWritten - before;
      this.consumed += used;
      if (this.trailing !== 'none') return;
      this.frames.read(rest.subarray(0, used));
      if (used >= rest.byteLength) return;
      // A new decoder that takes no byte would be made again and again.
      if (used === 0 && fresh) throw this.fail(new Error('the zstd decoder took no byte of the data'));
      // The frame ended inside this chunk: the next one gets its own decoder.
      rest = rest.subarray(used);
      z.destroy();
      this.z = undefined;
      if (++this.decoders >= MAX_ZSTD_FRAMES) throw this.fail(new Error(`more than ${MAX_ZSTD_FRAMES} zstd frames ending inside the body's pieces`));
    }
  }

  /** {@link decoderOutput} of `z`, ending in {@link trailing} rather than failing where bytes after a frame start none. */
  private async *decode(z: zlib.ZstdDecompress, chunk: Uint8Array | null): AsyncGenerator<Buffer, void, undefined> {
    try {
      yield* decoderOutput(z, chunk, this.failAt);
    } catch (error) {
      if (error !== AFTER_FRAMES) throw error;
      this.trailing = 'other';
      this.destroy();
      this.z = undefined;
    }
  }

  /** Destroys the decoder (the caller's `finally`). */
  destroy(): void {
    this.z?.destroy();
  }

  private make(): zlib.ZstdDecompress {
    const z = createZstdDecoder();
    // Failures are read from z.errored: an 'error' event with no listener left would be uncaught.
    z.on('error', ignore);
    return z;
  }
}

function ignore(): void {}
