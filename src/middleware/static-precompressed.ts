/**
 * The precompressed copies a build leaves next to a static file (`app.js.br`, `app.js.gz`,
 * from Vite's or webpack's compression plugins), served in its place to the clients that
 * accept their coding, as nginx's `gzip_static`, Caddy's `precompressed` and WhiteNoise do.
 *
 * @module
 */
import { compressibleLoaded, loadCompressible } from './compressible-loader.ts';
import { type Environ } from '../gateway/types.ts';
import { chooseCoding } from '../http/coding-choice.ts';
import { httpSeconds } from '../http/dates.ts';

/** A coding a precompressed copy may have. */
export type PrecompressedCoding = 'br' | 'gzip';

/** The codings looked for, most preferred first (ties go to Brotli, as in `compress`), with their file-name suffix. */
const COPIES: ReadonlyArray<{ coding: PrecompressedCoding; suffix: string }> = [
  { coding: 'br', suffix: '.br' },
  { coding: 'gzip', suffix: '.gz' },
];
const CODINGS: readonly PrecompressedCoding[] = COPIES.map((s) => s.coding);

/** A file found on disk: the path to serve and its modification time (ms since the epoch). */
export interface FoundFile {
  readonly path: string;
  readonly mtimeMs: number;
}

/** @internal What {@link choosePrecompressed} decided for a request. */
export interface PrecompressedChoice {
  /** The copy to serve in the file's place, or `null` to serve the file itself. */
  readonly copy: (FoundFile & { readonly coding: PrecompressedCoding }) | null;
  /** The file has copies, so its answers vary by `Accept-Encoding` (the identity one too). */
  readonly vary: boolean;
}

const NONE: PrecompressedChoice = { copy: null, vary: false };

/**
 * @internal Chooses between `file` and its precompressed copies `<file>.br`, `<file>.gz`.
 *
 * Copies are looked for only when `contentType` is worth compressing (the `compressible`
 * package, as `compress` decides: no look-up for video or images), through `find`, which
 * answers a regular file the app may serve (inside the root, no dotfile) or `null`. A copy
 * older than the file by a whole second is stale (the file was rebuilt, its copies were not)
 * and is ignored; the times are compared to the second, as HTTP dates are, since a compressor
 * that copies the file's mtime to its copy may keep whole seconds only (the `brotli` CLI sets
 * it with `utime()`: `app.js` at 12:00:00.7 gets an `app.js.br` of 12:00:00).
 * The coding is the one `Accept-Encoding` weighs highest among the copies found
 * (`chooseCoding`: none when the field is absent). A request with `Range` is answered from
 * the file itself, so a part never mixes coded bytes with identity offsets (and a
 * `multipart/byteranges` body is never labelled with the coding of its parts).
 */
export async function choosePrecompressed(
  environ: Environ,
  file: FoundFile,
  contentType: string,
  find: (path: string) => Promise<FoundFile | null>,
): Promise<PrecompressedChoice> {
  const compressible = compressibleLoaded() ?? (await loadCompressible());
  if (compressible(contentType) !== true) return NONE;
  const found = await Promise.all(COPIES.map(({ suffix }) => find(file.path + suffix)));
  const fresh = new Map<PrecompressedCoding, FoundFile>();
  found.forEach((copy, i) => {
    if (copy !== null && httpSeconds(copy.mtimeMs) >= httpSeconds(file.mtimeMs)) fresh.set(COPIES[i]!.coding, copy);
  });
  if (fresh.size === 0) return NONE;
  if (environ.HTTP_RANGE !== undefined) return { copy: null, vary: true };
  const coding = chooseCoding(environ.HTTP_ACCEPT_ENCODING as string | undefined, CODINGS.filter((c) => fresh.has(c)));
  return { copy: coding === null ? null : { ...fresh.get(coding)!, coding }, vary: true };
}
