/**
 * A byte-level watcher over a `multipart/form-data` body that enforces the per-part limits
 * while the body streams, before busboy sees the bytes.
 *
 * Why it exists: busboy's own limits truncate silently (a field past `fieldSize` is cut and
 * reported only when the part ends, with the rest of the part read and thrown away), it has no
 * option for the size of a part's headers (a fixed 16 KiB), and its `partsLimit` event also
 * fires on a form with exactly that many parts. This watcher finds the part delimiters the
 * way busboy does (`CRLF--boundary`, with a CRLF assumed before the first one), counts each
 * part's header and content bytes, and classifies parts the way busboy does (a file has a
 * non-empty `filename`/`filename*` parameter or type `application/octet-stream`), so the first
 * byte past a limit raises 413 at once. busboy does the parsing; its limits, set just past ours, remain
 * as a backstop (see `multipart.ts`).
 *
 * It also reads each part's names as the browser wrote them: busboy reads RFC 9110
 * quoted-pairs in a quoted `name`/`filename` (`\\` as one backslash, and a trailing backslash
 * escaping the closing quote, so it drops the part), where browsers escape nothing but `"`, CR
 * and LF (as `%22`, `%0D`, `%0A`). For a `Content-Disposition` that reads the browsers' way and
 * holds backslashes in its quoted values, the guard hands over its own reading of the names
 * ({@link MultipartGuard.takeFieldHead}) and the offsets of those backslashes
 * ({@link MultipartGuard.takePatches}), which busboy is given as `_`.
 *
 * What it read of each head goes to busboy's field and file events in body order
 * ({@link MultipartGuard.takeFieldHead}, {@link MultipartGuard.takeFileHead}), with the name
 * busboy will report: the parse refuses the form (400) when the two differ, so a head the two
 * readers took apart differently never hands a value on under another part's name or charset.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { parse as parseContentDisposition } from 'content-disposition';
import { HTTPBadRequest, HTTPUnsupportedMediaType } from '../exceptions/client-errors.ts';
import { isToken } from '../gateway/fields.ts';
import type { BusboyPartReader } from './busboy-disposition.ts';
import { BUSBOY_HEADER_CAP, BUSBOY_HEADER_FIELDS, BusboyHeaderCount } from './busboy-header-count.ts';
import { type FormLimits, limitExceeded, quoteName } from './limits.ts';
import { type BrowserDisposition, readBrowserDisposition, unescapeFormDataName } from './form-data-name.ts';

const PREAMBLE = 0;
const AFTER_DELIMITER = 1;
const HEADER = 2;
const BODY = 3;
const END = 4;

/** No bytes held back. */
const EMPTY = Buffer.alloc(0);

/** True in the states that scan for the next delimiter: before the first part, in a part's content. */
function inContent(state: number): boolean {
  return state === PREAMBLE || state === BODY;
}

const CR = 13;
const LF = 10;
const DASH = 45;

/**
 * How busboy will treat a part. `other` parts (a Content-Disposition other than `form-data`,
 * or none) are skipped by busboy, so the guard refuses them first (400, RFC 7578 §4.2).
 */
export type PartKind = 'field' | 'file' | 'other';

/** What the watcher learnt from a part's headers. */
export interface PartHeadInfo {
  kind: PartKind;
  /** The `name` parameter, if any. */
  name: string | undefined;
  /**
   * The name busboy hands the part over with (its own reading of `name`, as its bytes; `undefined`
   * when absent or empty): the parse checks busboy's event against it, so no part is ever handed
   * over under another part's head (its name, charset or filename).
   */
  busboyName?: string | undefined;
  /** The `filename` (or decoded `filename*`) parameter, if any. */
  filename: string | undefined;
  /**
   * The `charset` of the part's own `Content-Type`, lower case, as busboy reads it: a text field
   * that has one is decoded in it by busboy; one without is decoded by the form's charset
   * (`_charset_`, else UTF-8: see `form-charset.ts`).
   */
  charset?: string | undefined;
  /**
   * An extended parameter (`filename*=shift_jis''…`, RFC 8187) in a charset busboy cannot
   * decode, if any: busboy then drops the whole part, so the parse refuses it instead.
   */
  undecodable?: { parameter: string; charset: string } | undefined;
  /**
   * True for a part without a `Content-Disposition` field, which RFC 7578 §4.2 requires:
   * busboy drops the part, Werkzeug's decoder refuses it, so the parse refuses it (400).
   */
  undisposed?: boolean | undefined;
  /**
   * The disposition type (lower case) of a part whose `Content-Disposition` is not
   * `form-data` (`attachment`, `inline`), which RFC 7578 §4.2 forbids: busboy skips the part,
   * so the parse refuses it (400).
   */
  otherType?: string | undefined;
  /**
   * True for a `Content-Disposition` whose type is no token (`form-data name="a"`), or a
   * `form-data` one that busboy's parser cannot read (a trailing
   * `;`, an unquoted value with a space, spaces around `=`, a bad or empty `filename*`): busboy
   * then drops the whole part, so the parse refuses it instead (400).
   */
  unreadable?: boolean | undefined;
  /**
   * True for a header block of more fields than busboy reads ({@link BUSBOY_HEADER_FIELDS}):
   * busboy ignores the fields past them (a `Content-Disposition` among them, and the part is
   * dropped), so the parse refuses the part instead (400).
   */
  tooManyFields?: boolean | undefined;
  /**
   * True for a `form-data` disposition naming its field in `name*` (RFC 8187) with no `name`:
   * busboy reads no `name*` (only `filename*`), so the field would come out nameless (`''`);
   * the parse refuses the part instead (400).
   */
  extendedNameOnly?: boolean | undefined;
  /**
   * True for a `form-data` disposition with neither `name` nor `name*`, which RFC 7578 §4.2
   * requires: busboy hands the part over without a name, so it would come out as the field or
   * file named `''` (as `name=""` does); the Fetch Standard's parser refuses it, and so does
   * the parse (400).
   */
  nameless?: boolean | undefined;
  /**
   * True for a `form-data` disposition that splits its filename over RFC 2231 continuations
   * (`filename*0="a"; filename*1="b.txt"`), which RFC 7578 has no place for and busboy does
   * not read: the part would be a text field holding the file's content, so the parse refuses
   * it (400).
   */
  continuedFilename?: boolean | undefined;
  /**
   * The offsets in the header block of the backslashes inside the quoted values of a
   * `Content-Disposition` read as a browser wrote it ({@link readBrowserDisposition}): busboy,
   * which reads RFC 9110 quoted-pairs (`\\` as one backslash, a trailing `\` escaping the
   * closing quote, so the part is dropped), is given `_` there instead, and the names and
   * filenames the app sees are {@link PartHeadInfo.name} and {@link PartHeadInfo.filename}
   * (handed over by {@link MultipartGuard.takeFieldHead} and {@link MultipartGuard.takeFileHead}).
   * Absent when busboy reads the value as the browser wrote it.
   */
  backslashes?: number[] | undefined;
  /** With {@link PartHeadInfo.backslashes}: the `name` and `filename` read as the browser wrote them, as their bytes. */
  browserNames?: BrowserNames | undefined;
  /** True when the part has a `filename*` (RFC 8187), which busboy reads in its own charset rather than `filename`. */
  extendedFilename?: boolean | undefined;
}

/**
 * A part's `name`, and `filename` when busboy would read its own (no `filename*`), read as a
 * browser wrote them: their bytes read as latin1 text (one character a byte), `%22`, `%0D` and
 * `%0A` unescaped, for the parser to decode in the form's charset (`FormCharset`).
 */
export interface BrowserNames {
  name: string | undefined;
  /** `undefined`: busboy's filename stands (none, or a `filename*`). */
  filename: string | undefined;
}

/** What the guard read of a text field's head, taken by the parse when busboy hands the field over. */
export interface FieldHead {
  /** The name busboy will hand the field over with ({@link PartHeadInfo.busboyName}). */
  busboyName: string | undefined;
  /** `undefined`: busboy's name stands (see {@link BrowserNames}). */
  browser: BrowserNames | undefined;
  /** The `charset` of the part's own `Content-Type` (`undefined` when it declares none): see {@link PartHeadInfo.charset}. */
  charset: string | undefined;
}

/** What the guard read of a file part's head: the browser's reading of its names when busboy's differs, and whether busboy's filename is a `filename*`. */
export interface FileHead {
  /** The name busboy will hand the file over with ({@link PartHeadInfo.busboyName}). */
  busboyName: string | undefined;
  /** `undefined`: busboy's name and filename stand (see {@link BrowserNames}). */
  browser: BrowserNames | undefined;
  /** True when busboy's filename is the part's `filename*`, decoded in its own charset: not to be decoded again. */
  extendedFilename: boolean;
}

/**
 * The charsets busboy decodes a parameter or a text part in (its `getDecoder`, lower case).
 * Its decoder for any other is broken (mscdex/busboy#380): a text part comes out `undefined`,
 * a part with such a parameter is dropped.
 */
const BUSBOY_CHARSETS = new Set([
  'utf-8', 'utf8', 'latin1', 'ascii', 'us-ascii', 'iso-8859-1', 'iso8859-1', 'iso88591', 'iso_8859-1', 'iso_8859-1:1987',
  'windows-1252', 'cp1252', 'x-cp1252', 'utf16le', 'utf-16le', 'ucs2', 'ucs-2', 'base64',
]);

/** An extended parameter (`name*=charset'lang'value`) of a `Content-Disposition`, name and charset. */
const EXTENDED_PARAMETER = /;\s*([^\s;=*]+)\*\s*=\s*([^';]*)'/g;

/** A plain parameter's quoted value (`filename="a; b*=x'y"`): text, where no parameter starts. */
const QUOTED_VALUE = /(;\s*[^\s;=*"]+\s*=\s*)"(?:[^"\\]|\\.)*"/g;

/** A `name*` parameter, and a plain `name` one, in a disposition whose quoted values were blanked (`QUOTED_VALUE`). */
const EXTENDED_NAME = /;\s*name\*\s*=/i;
const PLAIN_NAME = /;\s*name\s*=/i;

/** True when `disposition` names its field in `name*` alone, which busboy does not read. */
function namedOnlyExtended(disposition: string): boolean {
  const bare = disposition.replace(QUOTED_VALUE, '$1""');
  return EXTENDED_NAME.test(bare) && !PLAIN_NAME.test(bare);
}

/** A filename continuation parameter (`filename*0=`, `filename*1*=`, RFC 2231 §3) in a disposition whose quoted values were blanked (`QUOTED_VALUE`). */
const CONTINUED_FILENAME = /;\s*filename\*\d+\*?\s*=/i;

/** True when `disposition` has neither a `name` nor a `name*` parameter (RFC 7578 §4.2 requires one). */
function nameless(disposition: string): boolean {
  const bare = disposition.replace(QUOTED_VALUE, '$1""');
  return !EXTENDED_NAME.test(bare) && !PLAIN_NAME.test(bare);
}

/** The first extended parameter of `disposition` in a charset busboy cannot decode, if any. */
function undecodableParameter(disposition: string): { parameter: string; charset: string } | undefined {
  for (const [, parameter, charset] of disposition.replace(QUOTED_VALUE, '$1""').matchAll(EXTENDED_PARAMETER)) {
    if (!BUSBOY_CHARSETS.has(charset!.trim().toLowerCase())) return { parameter: parameter!.toLowerCase(), charset: charset!.trim() };
  }
  return undefined;
}

/** Tracks the structure of one multipart body; {@link MultipartGuard.push} throws 413 past a limit. */
export class MultipartGuard {
  readonly #needle: Buffer;
  readonly #limits: FormLimits;
  /** busboy's reading of a part's head, asked before busboy sees the part. */
  readonly #busboyParts: BusboyPartReader;
  #state = PREAMBLE;
  /** Bytes held back from the previous chunk (a possible partial delimiter, or too few bytes to decide). */
  #carry: Buffer = Buffer.from('\r\n');
  #parts = 0;
  #fields = 0;
  #files = 0;
  #headerBytes = 0;
  #headerChunks: Buffer[] = [];
  /** The header block counted as busboy counts it against its own cap. */
  #busboyCount = new BusboyHeaderCount();
  /** Progress through CRLF CRLF; starts at 2 as the delimiter's own CRLF ends the "previous line". */
  #crlf = 2;
  #part: PartHeadInfo = { kind: 'other', name: undefined, filename: undefined };
  #bodyBytes = 0;
  /** A file part without a filename not counted yet: a file input left empty sends one with no bytes, which is no file. */
  #uncounted = false;
  /** The head of each text field, and of each file, read and not handed over by busboy yet, in body order. */
  readonly #fieldHeads: FieldHead[] = [];
  readonly #fileHeads: FileHead[] = [];
  /** Bytes pushed before the current chunk; the body offset of the current scan's first byte; that of the current part's head. */
  #pushed = 0;
  #base = 0;
  #headerStart = 0;
  /** Body offsets of the bytes busboy is given as `_` (the backslashes of {@link PartHeadInfo.backslashes}), in order. */
  #patches: number[] = [];

  /**
   * @param boundary - the `boundary` parameter of the Content-Type.
   * @param busboyParts - busboy's reading of a part's head (`loadBusboy()`'s `parts`).
   */
  constructor(boundary: string, limits: FormLimits, busboyParts: BusboyPartReader) {
    this.#needle = Buffer.from(`\r\n--${boundary}`, 'latin1');
    this.#limits = limits;
    this.#busboyParts = busboyParts;
  }

  /** True once the closing delimiter has been seen. */
  get complete(): boolean {
    return this.#state === END;
  }

  /**
   * The head of the next text field busboy hands over, taken in body order (the guard reads each
   * head before busboy does); `undefined` when the guard read no more: the caller checks its
   * {@link FieldHead.busboyName} against busboy's.
   */
  takeFieldHead(): FieldHead | undefined {
    return this.#fieldHeads.shift();
  }

  /** {@link takeFieldHead} for the next file part busboy hands over. */
  takeFileHead(): FileHead | undefined {
    return this.#fileHeads.shift();
  }

  /** True while the bytes pushed last end inside a part's head (its end not seen yet): they may hold bytes to change for busboy. */
  get inHeader(): boolean {
    return this.#state === HEADER;
  }

  /**
   * The body offsets of the bytes to give busboy as `_` (ascending), taken: the backslashes in
   * the quoted `Content-Disposition` values of the heads read so far, which busboy would read as
   * RFC 9110 escapes. Each lies in a head whose bytes the caller has held back (see {@link inHeader}).
   */
  takePatches(): number[] {
    const patches = this.#patches;
    this.#patches = [];
    return patches;
  }

  /** True while the bytes pushed last end inside a text field's content (its end not seen yet). */
  get inField(): boolean {
    return this.#state === BODY && this.#part.kind === 'field';
  }

  /**
   * Accounts for the next chunk of the body.
   *
   * @throws HTTPContentTooLarge (413) naming `maxParts`, `maxFields`, `maxFiles`,
   *   `maxPartHeaderSize`, `maxFieldSize` or `maxFileSize` as soon as the chunk goes past it.
   */
  push(chunk: Uint8Array): void {
    const pushed = this.#pushed;
    this.#pushed += chunk.byteLength;
    if (this.#state === END) return;
    let view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const carry = this.#carry;
    const needle = this.#needle;
    if (carry.length === 0) {
      this.#base = pushed;
      this.#scan(view);
      return;
    }
    if (!inContent(this.#state) || view.length < needle.length) {
      this.#carry = EMPTY;
      this.#base = pushed - carry.length;
      this.#scan(Buffer.concat([carry, view]));
      return;
    }
    // Between parts' content the bytes held back are a possible start of a delimiter: look
    // for one that begins in them, joined with just enough of the chunk, rather than copy the
    // whole chunk behind them (each chunk of a large upload would be copied once more).
    this.#carry = EMPTY;
    const found = Buffer.concat([carry, view.subarray(0, needle.length - 1)]).indexOf(needle);
    this.#base = pushed;
    if (found !== -1 && found < carry.length) {
      this.#content(found);
      this.#state = AFTER_DELIMITER;
      view = view.subarray(found + needle.length - carry.length);
      this.#base = pushed + found + needle.length - carry.length;
    } else {
      this.#content(carry.length);
    }
    this.#scan(view);
  }

  /** Runs the state machine over `buf`, holding back in {@link MultipartGuard.#carry} what it cannot decide yet. */
  #scan(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length) {
      switch (this.#state) {
        case AFTER_DELIMITER:
          if (buf.length - pos < 2) {
            this.#carry = Buffer.from(buf.subarray(pos));
            return;
          }
          pos = this.#afterDelimiter(buf[pos]!, buf[pos + 1]!, pos);
          break;
        case HEADER:
          pos = this.#header(buf, pos);
          break;
        case END:
          return;
        default: {
          const found = buf.indexOf(this.#needle, pos);
          if (found !== -1) {
            this.#content(found - pos);
            pos = found + this.#needle.length;
            this.#state = AFTER_DELIMITER;
            break;
          }
          const safe = Math.max(pos, buf.length - (this.#needle.length - 1));
          this.#content(safe - pos);
          this.#carry = Buffer.from(buf.subarray(safe));
          return;
        }
      }
    }
  }

  /**
   * After `CRLF--boundary`: `--` closes the body, CRLF opens a part. Anything else (transport
   * padding, RFC 2046 §5.1.1, or the boundary starting a line of the content) is a 400: busboy
   * would ignore the bytes up to the next delimiter, dropping the parts in them without a word.
   */
  #afterDelimiter(b0: number, b1: number, pos: number): number {
    if (b0 === DASH && b1 === DASH) {
      this.#state = END;
      return pos + 2;
    }
    if (b0 === CR && b1 === LF) {
      this.#parts++;
      if (this.#parts > this.#limits.maxParts) {
        throw limitExceeded('maxParts', `the form has more than ${this.#limits.maxParts} parts`);
      }
      this.#state = HEADER;
      this.#headerStart = this.#base + pos + 2;
      this.#headerBytes = 0;
      this.#busboyCount = new BusboyHeaderCount();
      this.#headerChunks = [];
      this.#crlf = 2;
      return pos + 2;
    }
    throw new HTTPBadRequest(
      'Malformed multipart body: a boundary delimiter is followed by neither CRLF nor "--" (transport padding, or the boundary inside a part\'s content)',
    );
  }

  #header(buf: Buffer, start: number): number {
    const max = this.#limits.maxPartHeaderSize;
    for (let pos = start; pos < buf.length; pos++) {
      if (++this.#headerBytes > max) {
        throw limitExceeded('maxPartHeaderSize', `the headers of part ${this.#parts} are larger than ${max} bytes`);
      }
      const byte = buf[pos]!;
      if (this.#busboyCount.add(byte) > BUSBOY_HEADER_CAP) {
        throw limitExceeded(
          'maxPartHeaderSize',
          `the headers of part ${this.#parts} are past the parser's cap of ${BUSBOY_HEADER_CAP} bytes (it counts the first byte of each line and value twice)`,
        );
      }
      if (byte === CR) this.#crlf = this.#crlf === 2 ? 3 : 1;
      else if (byte === LF && (this.#crlf === 1 || this.#crlf === 3)) this.#crlf++;
      else this.#crlf = 0;
      if (this.#crlf === 4) {
        this.#headerChunks.push(buf.subarray(start, pos + 1));
        this.#startBody(Buffer.concat(this.#headerChunks).toString('latin1'));
        this.#headerChunks = [];
        return pos + 1;
      }
    }
    this.#headerChunks.push(Buffer.from(buf.subarray(start)));
    return buf.length;
  }

  #startBody(headerText: string): void {
    const part = classifyPart(headerText, this.#busboyParts);
    if (part.tooManyFields) {
      throw new HTTPBadRequest(
        `Malformed multipart body: part ${this.#parts} has more than ${BUSBOY_HEADER_FIELDS} header fields, past which the parser reads none; send Content-Disposition and Content-Type alone.`,
      );
    }
    if (part.undisposed) throw this.#notFormData('has no Content-Disposition');
    if (part.otherType !== undefined) throw this.#notFormData(`has Content-Disposition type ${quoteName(part.otherType)}`);
    if (part.undecodable !== undefined) {
      const { parameter, charset } = part.undecodable;
      throw new HTTPUnsupportedMediaType(
        `part ${quoteName(part.name)}: its ${parameter}* parameter is in charset ${quoteName(charset)}, which the server cannot decode: send it in UTF-8.`,
      );
    }
    if (part.unreadable) {
      throw new HTTPBadRequest(
        `Malformed multipart body: part ${this.#parts} (${quoteName(part.name)}) has a Content-Disposition the parser cannot read; send form-data; name="…" with quoted values and no trailing ";".`,
      );
    }
    if (part.extendedNameOnly) {
      throw new HTTPBadRequest(
        `Malformed multipart body: part ${this.#parts} (${quoteName(part.name)}) names its field in name* (RFC 8187) alone, which the parser does not read; send name="…" in UTF-8, as browsers do.`,
      );
    }
    if (part.nameless) throw this.#notFormData('has no name');
    if (part.continuedFilename) {
      throw new HTTPBadRequest(
        `Malformed multipart body: part ${this.#parts} (${quoteName(part.name)}) splits its filename over filename*0, filename*1… (RFC 2231 continuations), which the parser does not read; send filename="…" whole, as browsers do.`,
      );
    }
    const limits = this.#limits;
    // A file part without a filename counts against maxFiles at its first byte: with none, it is
    // the part a browser sends for a file input left empty, which the form readers leave out.
    this.#uncounted = part.kind === 'file' && !part.filename;
    if (part.kind === 'file' && !this.#uncounted) this.#countFile();
    if (part.kind === 'field' && ++this.#fields > limits.maxFields) {
      throw limitExceeded('maxFields', `the form has more than ${limits.maxFields} fields`);
    }
    if (part.kind === 'field') this.#fieldHeads.push({ busboyName: part.busboyName, browser: part.browserNames, charset: part.charset });
    else this.#fileHeads.push({ busboyName: part.busboyName, browser: part.browserNames, extendedFilename: part.extendedFilename === true });
    for (const offset of part.backslashes ?? []) this.#patches.push(this.#headerStart + offset);
    this.#part = part;
    this.#bodyBytes = 0;
    this.#state = BODY;
  }

  /** The 400 for the current part, whose disposition (`what`, after "part N") is not RFC 7578 §4.2's `form-data`. */
  #notFormData(what: string): HTTPBadRequest {
    return new HTTPBadRequest(
      `Malformed multipart body: part ${this.#parts} ${what}; send Content-Disposition: form-data; name="…" with each part (RFC 7578 §4.2).`,
    );
  }

  #countFile(): void {
    const max = this.#limits.maxFiles;
    if (++this.#files > max) throw limitExceeded('maxFiles', `the form has more than ${max} files`);
  }

  #content(n: number): void {
    if (this.#state !== BODY || n === 0) return;
    this.#bodyBytes += n;
    const part = this.#part;
    if (this.#uncounted) {
      this.#uncounted = false;
      this.#countFile();
    }
    if (part.kind === 'file') {
      const max = this.#limits.maxFileSize;
      if (this.#bodyBytes > max) {
        throw limitExceeded('maxFileSize', `file ${quoteName(part.filename ?? part.name)} is larger than ${max} bytes`);
      }
    } else {
      const max = this.#limits.maxFieldSize;
      if (this.#bodyBytes > max) {
        const what = part.kind === 'field' ? `field ${quoteName(part.name)}` : `part ${this.#parts}`;
        throw limitExceeded('maxFieldSize', `${what} is larger than ${max} bytes`);
      }
    }
  }
}

/**
 * Reads a part's header block (latin1 text, CRLF-separated, ending in a blank line) the way
 * busboy will: a part is a file when its `Content-Disposition: form-data` has a non-empty
 * `filename` or `filename*` parameter or its type is `application/octet-stream` (a part with
 * `filename=""` and another type is a text field to busboy, so it is one here too); `other`
 * when the disposition is missing (`undisposed`) or not `form-data` (`otherType`), or when the
 * block has more fields than busboy reads (`tooManyFields`). Parameter values are decoded as
 * UTF-8; a `name*` is read into `name`, and `extendedNameOnly` says it is the only one.
 *
 * @param busboyParts - busboy's own reading of the disposition and `charset` (`unreadable`, `charset`).
 */
export function classifyPart(headerText: string, busboyParts: BusboyPartReader): PartHeadInfo {
  const headers = new Map<string, string>();
  let last = '';
  /** False while the line above is a repeated field: busboy reads a field's first line, so a continuation of a repeat is none of it. */
  let lastKept = false;
  /** A line that is no field (no `:`): busboy refuses the block itself, as `Malformed part header`. */
  let malformed = false;
  let fields = 0;
  /** Where the `Content-Disposition` value starts in `headerText`; `-1` when it is folded over lines (left to busboy's reading). */
  let dispositionAt = -1;
  let lineAt = 0;
  for (const line of headerText.split('\r\n')) {
    const at = lineAt;
    lineAt += line.length + 2;
    if (line === '') continue;
    if ((line[0] === ' ' || line[0] === '\t') && last) {
      if (!lastKept) continue;
      // Joined as busboy joins it: the line as it is, its leading whitespace kept, so a name
      // folded inside its quotes reads the same to both.
      headers.set(last, headers.get(last)! + line);
      if (last === 'content-disposition') dispositionAt = -1;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      malformed = true;
      continue;
    }
    if (++fields > BUSBOY_HEADER_FIELDS) return { kind: 'other', name: undefined, filename: undefined, tooManyFields: true };
    last = line.slice(0, colon).trim().toLowerCase();
    lastKept = !headers.has(last);
    if (!lastKept) continue;
    const value = line.slice(colon + 1);
    headers.set(last, value.trimStart());
    if (last === 'content-disposition') dispositionAt = at + colon + 1 + (value.length - value.trimStart().length);
  }
  for (const [field, value] of headers) headers.set(field, value.trimEnd());
  const disposition = headers.get('content-disposition');
  if (disposition === undefined) return { kind: 'other', name: undefined, filename: undefined, undisposed: !malformed };
  const browser = dispositionAt === -1 ? undefined : readBrowserDisposition(disposition);
  // Backslashes in quoted values: read as the browser wrote them, busboy given `_` for each.
  if (browser !== undefined && browser.backslashes.length > 0) return classifyBrowserPart(disposition, browser, dispositionAt, headers, busboyParts);
  const { type, params } = parseDisposition(disposition);
  if (type !== 'form-data') {
    // No token (`form-data name="a"`, an empty value): no type to name, a value no parser reads.
    return isToken(type) ? { kind: 'other', name: undefined, filename: undefined, otherType: type } : { kind: 'other', name: undefined, filename: undefined, unreadable: true };
  }
  const name = params.name;
  const filename = params.filename;
  // busboy's own reading of the type: one it cannot read (`application/octet-stream;`) is
  // `text/plain` to it, so such a part without a filename is a text field, as busboy hands it over.
  const mediaType = busboyParts.partType(headers.get('content-type'));
  // busboy's own reading of the filename: `filename=""` alone does not make a file, a
  // `filename*` in any charset busboy decodes (`us-ascii''a.txt`) does.
  const busboyReading = busboyParts.readDisposition(disposition);
  const isFile = busboyReading?.namesFile === true || mediaType === 'application/octet-stream';
  const undecodable = undecodableParameter(disposition);
  // busboy reads the disposition with its own parser and skips the part when it fails.
  const unreadable = undecodable === undefined && busboyReading === undefined;
  const charset = isFile ? undefined : busboyParts.partCharset(headers.get('content-type'));
  const extendedFilename = EXTENDED_FILENAME.test(disposition.replace(QUOTED_VALUE, '$1""'));
  return { kind: isFile ? 'file' : 'field', name, busboyName: busboyReading?.name, filename, charset, undecodable, unreadable, extendedNameOnly: namedOnlyExtended(disposition), nameless: nameless(disposition), continuedFilename: CONTINUED_FILENAME.test(disposition.replace(QUOTED_VALUE, '$1""')), extendedFilename };
}

/**
 * {@link classifyPart} for a `form-data` disposition whose quoted values hold backslashes, read
 * as a browser wrote it (`browser`): names and filenames are its bytes (`browserNames`, for the
 * parser to decode in the form's charset; `name` and `filename` read as UTF-8 for messages; `%22`, `%0D`,
 * `%0A` unescaped), and the part is classified, and checked readable, as busboy will read the
 * value with `_` for each backslash (same length, so a filename of backslashes is still one).
 */
function classifyBrowserPart(disposition: string, browser: BrowserDisposition, dispositionAt: number, headers: Map<string, string>, busboyParts: BusboyPartReader): PartHeadInfo {
  const type = disposition.split(';')[0]!.trim().toLowerCase();
  if (type !== 'form-data') {
    return isToken(type) ? { kind: 'other', name: undefined, filename: undefined, otherType: type } : { kind: 'other', name: undefined, filename: undefined, unreadable: true };
  }
  let patched = disposition;
  for (const at of browser.backslashes) patched = `${patched.slice(0, at)}_${patched.slice(at + 1)}`;
  const part = classifyPart(`Content-Disposition: ${patched}\r\n${headers.has('content-type') ? `Content-Type: ${headers.get('content-type')!}\r\n` : ''}\r\n`, busboyParts);
  const read = (key: string) => {
    const text = browser.params.get(key);
    return text === undefined ? undefined : unescapeFormDataName(text);
  };
  const extended = browser.params.has('filename*');
  const name = read('name');
  const filename = extended ? undefined : read('filename');
  return {
    ...part,
    name: name === undefined ? undefined : fromLatin1(name),
    filename: extended ? part.filename : filename === undefined ? undefined : fromLatin1(filename),
    backslashes: browser.backslashes.map((at) => dispositionAt + at),
    browserNames: { name, filename },
    extendedFilename: extended,
  };
}

interface DispositionParams {
  name?: string | undefined;
  /** `filename`, or the decoded `filename*` when there is one. */
  filename?: string | undefined;
}

function parseDisposition(value: string): { type: string; params: DispositionParams } {
  try {
    const parsed = parseContentDisposition(value);
    const p = parsed.parameters;
    // `filename` is a decoded `filename*` when the part has one (content-disposition 3 keeps no
    // `filename*` key then): text already, not latin1-read bytes.
    const extended = p['filename*'] !== undefined || (p.filename !== undefined && EXTENDED_FILENAME.test(value));
    return {
      type: parsed.type,
      params: {
        // a decoded `name*` likewise
        name: p.name === undefined ? undefined : EXTENDED_NAME.test(value.replace(QUOTED_VALUE, '$1""')) ? p.name : fromLatin1(p.name),
        filename: p.filename === undefined ? undefined : extended ? p.filename : fromLatin1(p.filename),
      },
    };
  } catch {
    // Lenient fallback for what content-disposition refuses (duplicate or odd parameters).
    const type = value.split(';')[0]!.trim().toLowerCase();
    const name = /;\s*name\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(value);
    const filename = /;\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(value);
    return {
      type,
      params: {
        name: name ? fromLatin1(name[1] ?? name[2]!) : undefined,
        filename: filename ? fromLatin1(filename[1] ?? filename[2]!) : undefined,
      },
    };
  }
}

/** A `filename*` parameter in a `Content-Disposition` value. */
const EXTENDED_FILENAME = /;\s*filename\*\s*=/i;

/** Header text was read as latin1; parameter values read as UTF-8 bytes, for the guard's own messages (the parser decodes names in the form's charset). */
function fromLatin1(text: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\u0000-\u007f]/.test(text) ? Buffer.from(text, 'latin1').toString('utf8') : text;
}
