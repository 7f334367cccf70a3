/**
 * Streaming `multipart/form-data` parsing (RFC 7578) over busboy, with every limit decided
 * while the body streams.
 *
 * @module
 */
import type busboy from 'busboy';
import type { Readable } from 'node:stream';
import { HTTPBadRequest, HTTPUnsupportedMediaType } from '../exceptions/client-errors.ts';
import { HTTPException, isHTTPException } from '../exceptions/base.ts';
import type { MultiDict } from '../datastructures/multidict.ts';
import { type FormLimits, bodyTooLarge, limitExceeded, quoteName } from './limits.ts';
import { MultipartGuard } from './multipart-guard.ts';
import { FormCharset } from './form-charset.ts';
import { type FileUpload, type SpoolDir, UploadWriter } from './upload.ts';
import { openInput } from '../gateway/input.ts';
import { ByteList } from '../gateway/byte-list.ts';
import { readFailure } from './input.ts';
import { unescapeFormDataName } from './form-data-name.ts';
import { type BusboyFactory, loadBusboy } from './busboy-loader.ts';

/** A valid RFC 2046 §5.1.1 boundary: 1–70 `bchars`, not ending in a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/** Where parsed parts go, and how files are stored. */
export interface MultipartTarget {
  fields: MultiDict<string>;
  files: MultiDict<FileUpload>;
  spool: SpoolDir;
  /** Bytes a file may reach before it is spooled to disk. */
  spoolThreshold: number;
}

/** True for an RFC 2046 §5.1.1 boundary: 1–70 `bchars` (letters, digits, `'()+_,-./:=?` and space), not ending in a space. */
export function isBoundary(boundary: string): boolean {
  return BOUNDARY.test(boundary);
}

/** A `boundary` parameter in a `Content-Type` value, whether or not its value could be read. */
const BOUNDARY_PARAMETER = /;\s*boundary\s*=/i;

/**
 * Refuses a `boundary` parameter that is missing or not an RFC 2046 boundary, before reading.
 *
 * @param boundary - the parameter as `parseMediaType` read it: `undefined` when it is missing,
 *   or written so that no parameter can be read (a value holding `=`, `:` or `?` unquoted).
 * @param contentType - the `Content-Type` value it comes from, to tell those two apart in the 400.
 * @throws HTTPBadRequest (400) saying which.
 */
export function checkBoundary(boundary: string | undefined, contentType?: string | null): asserts boundary is string {
  if (boundary === undefined && contentType != null && BOUNDARY_PARAMETER.test(contentType)) {
    throw new HTTPBadRequest(
      "multipart/form-data with a malformed boundary parameter: quote a boundary holding characters other than letters, digits and !#$%&'*+-.^_`|~ (RFC 9110 §5.6.6)",
    );
  }
  if (boundary === undefined) throw new HTTPBadRequest('multipart/form-data without a boundary parameter');
  if (!isBoundary(boundary)) throw new HTTPBadRequest('invalid multipart boundary');
}

/**
 * Parses a `multipart/form-data` body into `target`, reading `input` chunk by chunk and
 * writing each to busboy only after the previous one was taken (backpressure: a slow disk
 * slows the reading). Fields and files are keyed by their `name` (a part with none is refused with a 400 by the guard).
 * A completely empty body is an empty form.
 *
 * @param boundary - the `boundary` parameter of the `Content-Type`, as the caller parsed it
 *   (`parseMediaType`) and checked it ({@link checkBoundary}); busboy is given it alone (see
 *   {@link openParser}).
 *
 * An abort of `signal` fails the parse at once with the signal's reason.
 *
 * On any failure it stops reading `input` (without closing it: the server still has to answer)
 * and detaches from it (`openInput`), destroys busboy and any open file stream, and closes
 * the temporary files it opened; the caller removes them (`SpoolDir.cleanup`).
 *
 * @returns the number of body bytes read (0 for an empty body: nothing was taken from it).
 * @throws HTTPContentTooLarge (413) past a limit, naming it; HTTPBadRequest (400) for a
 *   malformed or truncated body, or a body that breaks off (see `readFailure`). Errors
 *   writing temporary files propagate as they are.
 */
export async function parseMultipart(
  input: AsyncIterable<Uint8Array>,
  boundary: string,
  limits: FormLimits,
  target: MultipartTarget,
  signal?: AbortSignal,
): Promise<number> {
  // busboy loads with the first multipart body (busboy-loader.ts), before any of it is read.
  const { createParser, parts } = await loadBusboy();
  const guard = new MultipartGuard(boundary, limits, parts);
  const feed = new ParserFeed(guard);
  let bb: busboy.Busboy | undefined;
  const latch = new FailureLatch(() => bb?.destroy());
  const tasks: Promise<void>[] = [];
  /** Uploads in body order (file tasks finish in any order). */
  const uploads: Array<FileUpload | undefined> = [];
  const fail = (error: unknown): void => latch.fail(error);

  /** The text fields in body order, those without a charset of their own (`raw`) decoded at the end by `charset`. */
  const fields: Array<[name: string, value: string, raw: boolean]> = [];
  const charset = new FormCharset();

  const open = (): busboy.Busboy =>
    openParser(createParser, boundary, limits, guard, charset, fail, {
      field: (name, value, raw) => {
        if (latch.failed) return;
        if (raw && !charset.noted(name, value, fail)) return;
        fields.push([name, value, raw]);
      },
      file: (name, stream, info) => {
        const slot = uploads.length;
        uploads.push(undefined);
        tasks.push(
          receiveFile(name, stream, info).then((upload) => {
            uploads[slot] = upload;
          }, fail),
        );
      },
    });

  const receiveFile = async (fieldName: string, stream: Readable, info: busboy.FileInfo): Promise<FileUpload | undefined> => {
    const writer = new UploadWriter(target.spoolThreshold, target.spool);
    const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    try {
      for (;;) {
        let step: IteratorResult<Uint8Array>;
        try {
          step = await chunks.next();
        } catch (error) {
          throw malformed(error);
        }
        if (step.done) break;
        if (latch.failed) return undefined;
        await writer.write(step.value);
      }
      if (latch.failed) return undefined;
      return await writer.finish({ fieldName, filename: info.filename ?? '', contentType: info.mimeType });
    } finally {
      await writer.abort(); // a no-op after finish(); otherwise frees memory and closes the file
    }
  };

  const { chunks: iterator, detach } = openInput(input);
  const abort = () => fail(signal!.reason);
  if (signal?.aborted) abort();
  signal?.addEventListener('abort', abort, { once: true });
  let received = 0;
  try {
    for (;;) {
      let step: IteratorResult<Uint8Array>;
      try {
        step = await latch.guard(iterator.next());
      } catch (error) {
        if (latch.failed) throw latch.failure;
        throw readFailure(input, error);
      }
      if (step.done) break;
      const chunk = step.value;
      if (chunk.byteLength === 0) continue;
      received += chunk.byteLength;
      if (received > limits.maxBodySize) {
        throw bodyTooLarge(limits.maxBodySize);
      }
      guard.push(chunk);
      const bytes = feed.take(chunk);
      if (bytes === undefined) continue;
      bb ??= open();
      await latch.guard(writeParser(bb, bytes));
    }
    const rest = feed.rest();
    if (rest !== undefined) await latch.guard(writeParser((bb ??= open()), rest));
    if (bb === undefined) return received; // an empty body: an empty form
    await latch.guard(endParser(bb));
    await latch.guard(Promise.all(tasks));
    if (latch.failed) throw latch.failure;
    // Decoded once the whole form is read: a `_charset_` field names the charset of them all.
    for (const [name, value, raw] of fields) target.fields.add(name, raw ? charset.decode(value) : value);
    for (const upload of uploads) if (upload && !isNoFileChosen(upload)) target.files.add(upload.fieldName, upload);
    return received;
  } catch (error) {
    fail(error);
    detach();
    await Promise.allSettled(tasks);
    throw latch.failure;
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}

/**
 * Whether `upload` is what a browser sends for a file input left empty: no filename and no
 * content (the HTML Standard's entry list gives a file input with no file selected an empty
 * `application/octet-stream` file named `''`). It is no upload, so it is left out of the
 * files, as multer and Rack leave it out and as WebOb does not make it a `FieldStorage`
 * (Werkzeug keeps a `FileStorage` that is falsy). A chosen file that is empty has a name and
 * is kept.
 */
function isNoFileChosen(upload: FileUpload): boolean {
  return upload.filename === '' && upload.size === 0;
}

/**
 * The first failure of a parse, and the steps waiting on it: {@link FailureLatch.fail} records
 * the first error (later ones are ignored), rejects every step waiting in
 * {@link FailureLatch.guard} with it and runs the `onFail` given to the constructor once.
 */
export class FailureLatch {
  #failure: unknown = undefined;
  #failed = false;
  readonly #waiting = new Set<(error: unknown) => void>();
  readonly #onFail: () => void;

  /** @param onFail - run once, at the first failure, after the waiting steps were rejected (destroys the parser). */
  constructor(onFail: () => void) {
    this.#onFail = onFail;
  }

  /** True once {@link FailureLatch.fail} was called. */
  get failed(): boolean {
    return this.#failed;
  }

  /** The first error given to {@link FailureLatch.fail}; `undefined` before. */
  get failure(): unknown {
    return this.#failure;
  }

  /** Records `error` (a generic `Error` for none) unless a failure came first. */
  fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#failure = error ?? new Error('form parsing failed');
    for (const reject of this.#waiting) reject(this.#failure);
    this.#waiting.clear();
    this.#onFail();
  }

  /**
   * Waits for `promise` unless the parse fails first; a late rejection of `promise` is ignored.
   * (Not `Promise.race` with one long-lived "failed" promise: every race would leave a reaction
   * on it holding the step's result, so every chunk of the body would stay in memory until the
   * parse ends.)
   */
  guard<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#failed) {
        promise.catch(() => {});
        reject(this.#failure);
        return;
      }
      const waiting = this.#waiting;
      waiting.add(reject);
      promise.then(
        (value) => {
          waiting.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          waiting.delete(reject);
          reject(error);
        },
      );
    });
  }
}

/** What {@link openParser} hands over: each text field whole, each file as busboy's stream. */
export interface PartHandlers {
  /**
   * A text field, keyed by its part's `name` (names and filenames decoded by `openParser`). Not called for a field past
   * `maxFieldSize`. `value` is decoded when the part names its own `charset`; without one
   * (`raw` true: every field a browser sends) it is the field's bytes read as latin1 text, for
   * the caller to decode in the form's charset (`FormCharset`).
   */
  field(name: string, value: string, raw: boolean): void;
  /** A file part; its stream must be read (or resumed) for the parse to go on (busboy's backpressure). */
  file(name: string, stream: Readable, info: busboy.FileInfo): void;
}

/**
 * A busboy parser for a `multipart/form-data` body with the options tsgi parses with: names
 * and filenames decoded in the form's charset as `charset` knows it when the part arrives
 * (UTF-8, or that of a `_charset_` field before the part: browsers write them in the form's
 * encoding, HTML's "multipart/form-data encoding algorithm"; a `filename*` in its own charset,
 * RFC 8187), with `%22`, `%0D` and `%0A` read back as `"`, CR and LF,
 * as browsers escape them: `unescapeFormDataName`; a name or filename whose quoted value holds
 * a backslash is the guard's reading, as the browser wrote it, not busboy's RFC 9110
 * quoted-pair one: {@link MultipartGuard.takeFieldHead}), paths kept in filenames, and busboy's own
 * limits set just past `limits` as a backstop (busboy fires when a size is *reached*;
 * {@link MultipartGuard} enforces ours first).
 * Its errors and limit events go to `fail` (400 malformed, 413 naming the limit, 415 for a
 * text part in a `charset` busboy cannot decode).
 *
 * busboy reads nothing of the request's `Content-Type` but its boundary, so it is given a
 * `Content-Type` made of `boundary` alone (the one {@link MultipartGuard} splits the body at),
 * not the client's field: its stricter parser refused what RFC 9110 §5.6.6 allows, such as
 * empty parameters (`boundary=XX;`, a trailing `;`).
 *
 * @param createParser - busboy's factory, as {@link loadBusboy} answers it (loaded at the first part).
 * @param boundary - the `boundary` parameter, checked by {@link checkBoundary}.
 * @throws HTTPBadRequest (400) for a boundary busboy cannot read.
 */
export function openParser(
  createParser: BusboyFactory,
  boundary: string,
  limits: FormLimits,
  guard: MultipartGuard,
  charset: FormCharset,
  fail: (error: unknown) => void,
  handlers: PartHandlers,
): busboy.Busboy {
  /** A name or filename busboy (or the guard) read as its bytes, unescaped and decoded in the form's charset. */
  const decodeName = (raw: string | undefined, unescaped = false): string | undefined =>
    raw === undefined ? undefined : charset.decode(unescaped ? raw : unescapeFormDataName(raw));
  let parser: busboy.Busboy;
  try {
    parser = createParser({
      // A checked boundary holds no quote nor backslash: quoted as it is.
      headers: { 'content-type': `multipart/form-data; boundary="${boundary}"` },
      // Names and filenames come as their bytes (one character a byte), decoded in the form's
      // charset (`decodeName`); a `filename*` busboy decodes in its own charset.
      defParamCharset: 'latin1',
      // A field without a charset of its own comes as its bytes (one character a byte), decoded
      // by the caller in the form's charset: UTF-8, or its `_charset_` field's (form-charset.ts).
      defCharset: 'latin1',
      preservePath: true,
      limits: {
        fieldSize: limits.maxFieldSize + 1,
        fieldNameSize: Infinity,
        fileSize: limits.maxFileSize + 1,
        fields: limits.maxFields,
        // the guard counts a file part without a filename only once it has content (an empty
        // file input is none); busboy counts every one, and there are at most maxParts of those
        files: limits.maxFiles + limits.maxParts,
      },
    });
  } catch (error) {
    throw new HTTPBadRequest('malformed multipart/form-data Content-Type', { cause: error });
  }
  parser.on('error', (error) => fail(malformed(error)));
  parser.on('fieldsLimit', () => fail(limitExceeded('maxFields', `the form has more than ${limits.maxFields} fields`)));
  parser.on('filesLimit', () => fail(limitExceeded('maxFiles', `the form has more than ${limits.maxFiles} files`)));
  parser.on('field', (rawName: string | undefined, value: string | undefined, info) => {
    const head = guard.takeFieldHead();
    if (head === undefined || head.busboyName !== rawName) return fail(outOfStep());
    const browser = head.browser;
    const name = browser !== undefined ? decodeName(browser.name, true) : decodeName(rawName);
    const declared = head.charset;
    if (info.valueTruncated) fail(limitExceeded('maxFieldSize', `field ${quoteName(name)} is larger than ${limits.maxFieldSize} bytes`));
    // busboy decodes a part's own `charset` only when it is UTF-8, US-ASCII, ISO-8859-1 (and
    // windows-1252, read as it) or UTF-16LE; for any other its decoder answers undefined
    // (mscdex/busboy#380), and the bytes are gone.
    else if (value === undefined) fail(undecodableField(name));
    else handlers.field(name ?? '', value, declared === undefined);
  });
  parser.on('file', (rawName: string | undefined, stream, rawInfo) => {
    const head = guard.takeFileHead();
    stream.on('error', () => {}); // surfaced to the file's reader, or moot after a failure
    if (head === undefined || head.busboyName !== rawName) {
      stream.resume();
      return fail(outOfStep());
    }
    const { browser, extendedFilename } = head;
    const name = browser !== undefined ? decodeName(browser.name, true) : decodeName(rawName);
    const info =
      browser?.filename !== undefined
        ? { ...rawInfo, filename: decodeName(browser.filename, true) }
        : rawInfo.filename === undefined
          ? rawInfo
          : { ...rawInfo, filename: extendedFilename ? unescapeFormDataName(rawInfo.filename) : decodeName(rawInfo.filename) };
    const filename = info.filename ?? '';
    stream.on('limit', () => {
      fail(limitExceeded('maxFileSize', `file ${quoteName(filename || name)} is larger than ${limits.maxFileSize} bytes`));
    });
    handlers.file(name ?? '', stream, info);
  });
  return parser;
}

/**
 * The 400 for a part busboy hands over under another name than the guard read in its head
 * (`multipart-guard.ts` reads each head before busboy, for the limits, the names as browsers
 * write them and the charsets): the two readings of the body are out of step, so no field is
 * handed on under another part's name, charset or filename. No body a browser sends does this.
 */
function outOfStep(): HTTPBadRequest {
  return new HTTPBadRequest(
    'Malformed multipart body: a part\'s headers read two ways; send each part\'s Content-Disposition: form-data; name="…" on one line, as browsers do.',
  );
}

/** The 415 for a text part whose `charset` busboy could not decode. */
function undecodableField(name: string | undefined): HTTPUnsupportedMediaType {
  return new HTTPUnsupportedMediaType(
    `field ${quoteName(name)} is in a charset the server cannot decode: send text parts in UTF-8 (or US-ASCII, ISO-8859-1, UTF-16LE).`,
  );
}

/** Bytes of a text field held back from busboy before they are written at once, at most. */
const FIELD_BATCH = 64 * 1024;

/**
 * What to write to busboy of each chunk of the body, after {@link MultipartGuard.push} took
 * it: the bytes of a text field are held back (up to 64 KiB) until the field ends. busboy keeps
 * each write's piece of a field apart until the part ends, so a field sent in tiny chunks (a
 * chunked body of 1-byte chunks, one `Buffer` each) would cost an object of some hundred bytes
 * per byte: a 490 kB field held 100 MB. Nothing else waits: a field is handed over only at its
 * end anyway, and file content and headers are written as they come.
 */
export class ParserFeed {
  readonly #guard: MultipartGuard;
  #held = new ByteList();
  /** The body offset of the next byte written to busboy. */
  #written = 0;
  /** Body offsets of bytes not written yet that busboy gets as `_` (`MultipartGuard.takePatches`). */
  #patches: number[] = [];

  constructor(guard: MultipartGuard) {
    this.#guard = guard;
  }

  /**
   * The bytes to write now (`chunk`, after any held back), or `undefined` to hold it back too:
   * a part's head is held whole, so that the backslashes busboy would misread in it
   * (`MultipartGuard.takePatches`) are changed (in a copy) before busboy sees any of it.
   */
  take(chunk: Uint8Array): Uint8Array | undefined {
    const guard = this.#guard;
    if (this.#held.size === 0 && !guard.inField && !guard.inHeader) return this.#patched(chunk);
    this.#held.push(chunk);
    if (guard.inHeader || (guard.inField && this.#held.size < FIELD_BATCH)) return undefined;
    return this.rest();
  }

  /** The bytes still held back, at the end of the body; `undefined` for none. */
  rest(): Uint8Array | undefined {
    if (this.#held.size === 0) return undefined;
    const bytes = this.#held.bytes();
    this.#held = new ByteList();
    return this.#patched(bytes);
  }

  /** `bytes`, the next to write, with the guard's patches in them applied to a copy. */
  #patched(bytes: Uint8Array): Uint8Array {
    const start = this.#written;
    this.#written += bytes.byteLength;
    const patches = this.#patches;
    patches.push(...this.#guard.takePatches());
    if (patches.length === 0 || patches[0]! >= this.#written) return bytes;
    const copy = bytes.slice();
    while (patches.length > 0 && patches[0]! < this.#written) copy[patches.shift()! - start] = UNDERSCORE;
    return copy;
  }
}

/** `_`, what busboy is given for a backslash it would read as an escape. */
const UNDERSCORE = 0x5f;

/** Writes `chunk` to the parser; settles once busboy took it (the read of a file part it fed may be awaited first). */
export function writeParser(stream: busboy.Busboy, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(chunk, (error) => (error ? reject(malformed(error)) : resolve()));
  });
}

/** Ends the parser; settles on its `close` (after every file stream has ended, or an error). */
export function endParser(stream: busboy.Busboy): Promise<void> {
  return new Promise((resolve) => {
    stream.once('close', resolve);
    stream.end();
  });
}

/** busboy's errors as 400s with a short reason; HTTP errors pass through. */
export function malformed(error: unknown): HTTPException {
  if (isHTTPException(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const reason = /end of form/i.test(message)
    ? 'unexpected end of the body (truncated, or no closing boundary)'
    : message.charAt(0).toLowerCase() + message.slice(1);
  return new HTTPBadRequest(`Malformed multipart body: ${reason}`, { cause: error });
}
