/**
 * Uploaded files: held in memory when small, spooled to a temporary file when large
 * (Werkzeug's `FileStorage` over a `SpooledTemporaryFile`).
 *
 * @module
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteList } from '../gateway/byte-list.ts';
import { decodeBody } from '../http/charset.ts';

/**
 * Files at most this many **bytes** stay in memory; a larger one is written to a temporary
 * file as it streams. 500 KiB (512 000), the size at which Werkzeug's default stream factory
 * switches from memory to a temporary file.
 */
export const DEFAULT_SPOOL_THRESHOLD = 500 * 1024;

/**
 * The last path segment of a client's filename, made safe to use as a file name: everything up
 * to the last `/` or `\` is dropped, control and format characters are removed (C0, DEL, C1,
 * and the invisible ones of Unicode's `Cf` class: bidi overrides such as U+202E, which show
 * `exe.\u202Egnp` as `exe.png`, zero-width spaces; not the joiners U+200C and U+200D, which
 * shape Persian and Indic words and emoji sequences), and leading and trailing dots and
 * whitespace are trimmed, so the name is never a dotfile (`.htaccess`, `.user.ini`: code in a
 * folder Apache or PHP serves) nor ends in a dot or space (`shell.php.` is saved as `shell.php`
 * on Windows, past an `endsWith('.php')` check), as Werkzeug's `secure_filename` strips them.
 * Colons are removed too: on Windows `shell.php::$DATA` names an NTFS alternate data stream
 * and is saved as `shell.php`, and `C:x` is relative to a drive (Werkzeug drops them as well).
 * `.`, `..` and a name of dots become `''`. Non-ASCII letters are kept. An empty answer means
 * "make up a name". A name longer than 255 UTF-8 bytes, which file systems refuse (`ENAMETOOLONG`),
 * is cut to 255 between user-perceived characters (never in an emoji sequence), its extension kept. (Werkzeug keeps the client's name on `FileStorage.filename` and offers
 * `secure_filename`; this is a lighter cousin that keeps Unicode.) It does not guard against
 * Windows device names such as `CON`; prefer names you generate when that matters.
 */
export function safeFilename(filename: string): string {
  const base = filename.slice(Math.max(filename.lastIndexOf('/'), filename.lastIndexOf('\\')) + 1);
  return fitName(trimDotsAndSpace(base.replace(/(?![\u200C\u200D])[\p{Cc}\p{Cf}:]/gu, '')));
}

/** A dot or a whitespace character (every one of them is a single UTF-16 unit). */
const DOT_OR_SPACE = /^[\s.]$/u;

/**
 * `text` without leading and trailing dots and whitespace, in linear time: a `[\s.]+$` regex
 * is tried again from each character of a run that does not end the name, quadratic in the
 * run (an 8 KiB name of spaces took 36 ms, a form of 100 such files 3.6 s of CPU).
 */
function trimDotsAndSpace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && DOT_OR_SPACE.test(text[start]!)) start++;
  while (end > start && DOT_OR_SPACE.test(text[end - 1]!)) end--;
  return text.slice(start, end);
}

/** The longest file name most file systems take, in UTF-8 bytes (Linux `NAME_MAX`, ext4, APFS, NTFS's 255 UTF-16 units). */
const NAME_MAX = 255;

const utf8 = new TextEncoder();
const byteLength = (text: string): number => utf8.encode(text).byteLength;

/** User-perceived characters (extended grapheme clusters, UAX #29): an emoji ZWJ sequence, a letter and its marks. Made on the first long name. */
let graphemes: Intl.Segmenter | undefined;

/**
 * `name` cut to {@link NAME_MAX} UTF-8 bytes, its extension (a last `.` and up to 15 more
 * characters) kept, and trailing dots and whitespace trimmed again after the cut.
 */
function fitName(name: string): string {
  if (byteLength(name) <= NAME_MAX) return name;
  const extension = /\.[^.\s]{1,15}$/u.exec(name)?.[0] ?? '';
  const stem = name.slice(0, name.length - extension.length);
  const room = NAME_MAX - byteLength(extension);
  // Between graphemes, so no emoji sequence is left half; at a code point when the first one
  // alone is too long (a letter under hundreds of combining marks), so the stem is never empty.
  const cut = fitUnits((graphemes ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })).segment(stem), room) || fitUnits(stem, room);
  return trimDotsAndSpace(cut) + extension;
}

/** The longest run of `units` (graphemes or code points) from the start within `room` UTF-8 bytes. */
function fitUnits(units: Iterable<string | { segment: string }>, room: number): string {
  let kept = '';
  for (const unit of units) {
    const text = typeof unit === 'string' ? unit : unit.segment;
    room -= byteLength(text);
    if (room < 0) break;
    kept += text;
  }
  return kept;
}

/**
 * Removes the directory of a {@link SpoolDir} that was collected without its cleanup: a
 * handler stuck on a promise nothing settles never ends its request, whose cleanup therefore
 * never runs. Held: the `mkdtemp` promise, never the spool itself.
 */
const unreachableSpools = new FinalizationRegistry<Promise<string>>((dir) => {
  dir.then((path) => rm(path, { recursive: true, force: true })).catch(() => undefined);
});

/**
 * One temporary directory per parsed form (`mkdtemp` under `os.tmpdir()` or a given folder),
 * created on the first spooled file and removed whole by {@link SpoolDir.cleanup}; or, failing
 * that, once nothing can reach the spool any more (the form, its `FileUpload`s, a writer) and
 * V8 collected it, as Python's `tempfile` files go when closed: a request whose handler never
 * settles (given up on by `timeout`, or its client gone) leaves no folder behind for long.
 * Nothing about the file system is asked before that first file, `os.tmpdir()` included: it
 * reads `TMPDIR`, which Deno refuses without `--allow-env`, so a form with no file to spool
 * parses under `--allow-net` alone.
 */
export class SpoolDir {
  readonly #parent: string | undefined;
  #dir: Promise<string> | null = null;
  #count = 0;
  #removed = false;

  /** @param parent - where the directory is made; default `os.tmpdir()`, read at the first spooled file. */
  constructor(parent?: string) {
    this.#parent = parent;
  }

  /** True once {@link SpoolDir.cleanup} has run. */
  get removed(): boolean {
    return this.#removed;
  }

  /** A fresh file path inside the directory (made on first use). */
  async newPath(): Promise<string> {
    if (this.#removed) throw new Error('the upload spool directory was already cleaned up');
    if (this.#dir === null) {
      this.#dir = mkdtemp(join(this.#parent ?? tmpdir(), 'tsgi-upload-'));
      unreachableSpools.register(this, this.#dir, this);
    }
    return join(await this.#dir, `upload-${++this.#count}`);
  }

  /** Removes the directory and every file in it. Idempotent; never throws for a missing directory. */
  async cleanup(): Promise<void> {
    this.#removed = true;
    const dir = this.#dir;
    this.#dir = null;
    if (dir === null) return;
    unreachableSpools.unregister(this);
    let path: string;
    try {
      path = await dir;
    } catch {
      return;
    }
    await rm(path, { recursive: true, force: true });
  }
}

/** What an upload knows about itself. */
export interface FileUploadInit {
  fieldName: string;
  filename: string;
  contentType: string;
  size: number;
  /** The content, when held in memory. */
  data?: Uint8Array | undefined;
  /** The temporary file, when spooled. */
  path?: string | undefined;
  spool?: SpoolDir | undefined;
}

/**
 * A file from a `multipart/form-data` body (Werkzeug's `FileStorage`). Small files are held in
 * memory; larger ones live in a temporary file that {@link ParsedForm.cleanup} removes, after
 * which reading a spooled upload throws. Every reader can be called any number of times.
 */
export class FileUpload {
  /** The form field the file came in. */
  readonly fieldName: string;
  /**
   * The filename exactly as the client sent it (may hold a path, or be `''` when the part had
   * none). Never use it as a path as is: see {@link FileUpload.safeFilename}.
   */
  readonly filename: string;
  /**
   * The part's media type, `type/subtype` lower-cased without parameters; `text/plain` when
   * the part had no `Content-Type` (RFC 7578 §4.4).
   */
  readonly contentType: string;
  /** Content size in bytes. */
  readonly size: number;
  readonly #data: Uint8Array | undefined;
  readonly #path: string | undefined;
  readonly #spool: SpoolDir | undefined;

  constructor(init: FileUploadInit) {
    this.fieldName = init.fieldName;
    this.filename = init.filename;
    this.contentType = init.contentType;
    this.size = init.size;
    this.#data = init.data;
    this.#path = init.path;
    this.#spool = init.spool;
  }

  /** {@link safeFilename} of the client's filename: its last segment, without control or format characters, colons, nor leading or trailing dots and whitespace; `''` when nothing is left. */
  get safeFilename(): string {
    return safeFilename(this.filename);
  }

  /** True when the content is held in memory, false when spooled to a temporary file. */
  get inMemory(): boolean {
    return this.#data !== undefined;
  }

  /**
   * The temporary file holding a spooled upload, or `undefined` for an in-memory one. It lasts
   * until the request's cleanup (or {@link ParsedForm.cleanup}), or, for a form nothing can
   * reach any more, until V8 collects it: the string alone keeps nothing, so hold this
   * `FileUpload` (or the form) while the file is needed, or move it out (`rename`) first, as
   * Django's `temporary_file_path()` goes with its file object (Werkzeug's spooled file has
   * no path at all).
   */
  get path(): string | undefined {
    return this.#path;
  }

  /**
   * The content as a stream of chunks; each call starts from the beginning.
   *
   * @throws Error (when iterated) for a spooled upload after cleanup.
   */
  stream(): AsyncIterable<Uint8Array> {
    const data = this.#data;
    const path = this.#checkedPath.bind(this);
    return {
      async *[Symbol.asyncIterator]() {
        if (data !== undefined) {
          if (data.byteLength > 0) yield data;
          return;
        }
        for await (const chunk of createReadStream(path())) yield chunk as Uint8Array;
      },
    };
  }

  /**
   * The whole content. For an upload held in memory, its own `Uint8Array` (no copy, as
   * `stream()` yields it): `slice()` it before changing it in place, or later reads see the change.
   *
   * @throws Error for a spooled upload after cleanup.
   */
  async bytes(): Promise<Uint8Array> {
    if (this.#data !== undefined) return this.#data;
    return readFile(this.#checkedPath());
  }

  /**
   * The content decoded as `charset` (default UTF-8; malformed bytes become U+FFFD). A byte
   * order mark (UTF-8, UTF-16BE, UTF-16LE) decides the encoding instead and is removed, as
   * `Request.text()` does: a text file saved as UTF-16 with a BOM reads right.
   *
   * @throws RangeError for a charset the WHATWG Encoding Standard does not know (without a BOM).
   */
  async text(charset = 'utf-8'): Promise<string> {
    return decodeBody(await this.bytes(), charset);
  }

  /**
   * Writes the content to `path` (created or replaced), streamed from the temporary file of a
   * spooled upload. The file gets the mode any new file gets (`0o666` less the umask; a file
   * replaced keeps its own), whether the upload was in memory or spooled: not the private
   * `0o600` of the temporary file, which `fs.copyFile` would carry over (Werkzeug's
   * `FileStorage.save` and multer write a new file the same way). The temporary file, if any,
   * stays where it is until cleanup, so the upload can still be read; it is opened before
   * `path`, so when it cannot be (`ENOENT`), a file at `path` is left as it was.
   *
   * @throws Error for a spooled upload after cleanup; the `fs` error (`ENOENT`, `EISDIR`…) otherwise.
   */
  async saveTo(path: string): Promise<void> {
    if (this.#data !== undefined) return writeFile(path, this.#data);
    // The source opened first, as `fs.copyFile` does: a temporary file gone leaves `path` untouched.
    const source = await open(this.#checkedPath());
    try {
      await writeFile(path, source.createReadStream({ autoClose: false }));
    } finally {
      await source.close();
    }
  }

  #checkedPath(): string {
    if (this.#spool?.removed) throw new Error(`upload ${JSON.stringify(this.filename)} was cleaned up`);
    return this.#path!;
  }
}

/**
 * Collects one file's chunks: in memory up to `threshold` bytes, then into a new file of
 * `spool`. Call {@link UploadWriter.write} for every chunk (awaiting each, which is the
 * backpressure), then {@link UploadWriter.finish}; {@link UploadWriter.abort} on failure.
 */
export class UploadWriter {
  readonly #threshold: number;
  readonly #spool: SpoolDir;
  /** The content held in memory until the threshold (tiny chunks copied together: see `ByteList`). */
  #chunks = new ByteList();
  #size = 0;
  #handle: FileHandle | null = null;
  #path: string | undefined;

  constructor(threshold: number, spool: SpoolDir) {
    this.#threshold = threshold;
    this.#spool = spool;
  }

  /** Bytes written so far. */
  get size(): number {
    return this.#size;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.#size += chunk.byteLength;
    if (this.#handle === null && this.#size <= this.#threshold) {
      this.#chunks.push(chunk);
      return;
    }
    if (this.#handle === null) {
      this.#path = await this.#spool.newPath();
      this.#handle = await open(this.#path, 'wx', 0o600);
      const buffered = this.#chunks.bytes();
      this.#chunks = new ByteList();
      if (buffered.byteLength > 0) await this.#handle.write(buffered);
    }
    await this.#handle.write(chunk);
  }

  /** Closes the temporary file, if any, and answers the upload. */
  async finish(info: Omit<FileUploadInit, 'size' | 'data' | 'path' | 'spool'>): Promise<FileUpload> {
    if (this.#handle !== null) {
      await this.#handle.close();
      this.#handle = null;
      return new FileUpload({ ...info, size: this.#size, path: this.#path!, spool: this.#spool });
    }
    const data = this.#chunks.bytes();
    this.#chunks = new ByteList();
    return new FileUpload({ ...info, size: this.#size, data });
  }

  /** Releases the memory and closes the temporary file; the spool's cleanup removes it. */
  async abort(): Promise<void> {
    this.#chunks = new ByteList();
    const handle = this.#handle;
    this.#handle = null;
    if (handle !== null) await handle.close().catch(() => {});
  }
}
