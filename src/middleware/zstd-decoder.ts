/**
 * The zstd decoder of `decodeBody` (request bodies) and `decodeContent` (response bodies), its
 * window bounded as RFC 9659 bounds the `zstd` content coding's.
 *
 * @module
 */
import zlib from 'node:zlib';

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
