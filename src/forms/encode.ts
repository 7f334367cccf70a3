/**
 * Form body encoders, for tests and for `Request.blank(url, { form, files })`.
 *
 * @module
 */
import { shownValue } from '../gateway/shown.ts';
import { Buffer } from 'node:buffer';
import mime from 'mime-types';
import { MultiDict } from '../datastructures/multidict.ts';
import { concatBytes } from '../gateway/body.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';
import { formatMediaType } from '../http/media-type.ts';
import { assertFieldValue } from '../gateway/fields.ts';
import { escapeFormDataName } from './form-data-name.ts';
import { isBoundary } from './multipart.ts';

/** A file to put in a multipart body. */
export interface FileSpec {
  /**
   * The filename sent in `Content-Disposition`. It may be `''` (an empty file input), but such
   * a part is read back as a file only with type `application/octet-stream` (the default):
   * busboy takes a part with neither filename nor that type for a text field. With an empty
   * `content` too it is what a browser sends for a file input with no file chosen, which the
   * form readers (`form()`, `files()`, `parseForm`) leave out.
   */
  filename: string;
  /** The content; a string is encoded as UTF-8. */
  content: string | Uint8Array;
  /**
   * The part's `Content-Type`; default from the filename's extension, else
   * `application/octet-stream`. Written as it is: one holding a character no header field
   * takes (a CR or LF, which would start a header of its own, another control character, one
   * past U+00FF) is a `TypeError`.
   */
  contentType?: string | undefined;
}

/** Every key of a {@link FileSpec}; `tsc` fails when it and the type differ. */
const FILE_SPEC = { filename: true, content: true, contentType: true } as const satisfies OptionNames<FileSpec>;

/** Text fields: a record (an array value repeats the name) or ordered pairs. */
export type FormFieldsInit = Record<string, string | readonly string[]> | Iterable<readonly [string, string]>;

/** Files: a record from field name to one file or several, or ordered pairs. */
export type FormFilesInit = Record<string, FileSpec | readonly FileSpec[]> | Iterable<readonly [string, FileSpec]>;

/** An encoded body with the `Content-Type` to send it with. */
export interface EncodedForm {
  /** The whole encoded body, as bytes (its length is the `Content-Length`). */
  body: Uint8Array;
  /**
   * The `Content-Type` header value: `application/x-www-form-urlencoded`, or
   * `multipart/form-data; boundary=…` naming the boundary the body uses.
   */
  contentType: string;
}

const encoder = new TextEncoder();

/**
 * Encodes fields as `application/x-www-form-urlencoded` (WHATWG URL Standard: UTF-8, space as
 * `+`), in order.
 *
 * @example
 * ```ts
 * encodeUrlencoded({ q: 'a b', tag: ['x', 'y'] }).body; // bytes of 'q=a+b&tag=x&tag=y'
 * ```
 */
export function encodeUrlencoded(fields: FormFieldsInit = {}): EncodedForm {
  const text = new MultiDict<string>(fields as Record<string, string | string[]>).toString();
  return { body: encoder.encode(text), contentType: 'application/x-www-form-urlencoded' };
}

/** Options of {@link encodeMultipart}. */
export interface EncodeMultipartOptions {
  /**
   * The boundary to use: an RFC 2046 §5.1.1 boundary, 1 to 70 letters, digits and
   * `'()+_,-./:=?` or spaces, not ending in a space (the `Content-Type` quotes one that is no
   * token: `boundary="----=_Part_1"`). Default a random one (`tsgi-` and 32 hex digits).
   */
  boundary?: string | undefined;
}

/** Every option of {@link EncodeMultipartOptions}; `tsc` fails when it and the type differ. */
const ENCODE_MULTIPART_OPTIONS = { boundary: true } as const satisfies OptionNames<EncodeMultipartOptions>;

/** Form entries in order, a text field's value or a file each: what a form submits (HTML "constructing the entry list"). */
export type FormEntriesInit = Iterable<readonly [string, string | FileSpec]>;

/**
 * Encodes fields, then files, as `multipart/form-data` (RFC 7578) the way browsers do, with a
 * random boundary that occurs in no value. To send fields and files in another order (a
 * browser sends them in the order of the controls on the page), see
 * {@link encodeMultipartEntries}.
 *
 * Names and filenames go in quoted strings as UTF-8, escaped as browsers escape them (HTML
 * Living Standard, "multipart/form-data encoding algorithm"): `"` as `%22`, CR as `%0D`, LF as
 * `%0A`, a backslash as it is; the form readers (and `Request.formData()`) read those three
 * back. Other control characters are percent-encoded too (`%09`), and are read back as written.
 * Values and file contents are sent byte for byte.
 *
 * @example
 * ```ts
 * const { body, contentType } = encodeMultipart(
 *   { title: 'Hello' },
 *   { upload: { filename: 'a.txt', content: 'hi' } },
 * );
 * ```
 * @throws TypeError when a given `boundary` is no RFC 2046 boundary (empty, past 70
 *   characters, a `"`, `;` or CR in it, or a space at its end) or occurs in the content; for
 *   options that are not a plain object or hold an unknown key (`boundry`), for a file's
 *   `contentType` holding a character no header field takes (CR, LF, another control
 *   character, one past U+00FF), and for a file that is no {@link FileSpec}
 *   object or holds another key (`encodeMultipart: unknown option "files.doc.contents": did you
 *   mean "content"?`: the file would go empty), a file whose `filename` is no string or whose
 *   `content` is neither a string nor a `Uint8Array` (left out), and a field whose value is
 *   neither a string nor a file (a number, `null`). A {@link FileSpec} among `fields` is sent as
 *   a file, in its place, as Werkzeug's `data` mixes them. `Request.blank` and the test
 *   client's `files` come here too.
 */
export function encodeMultipart(
  fields: FormFieldsInit = {},
  files: FormFilesInit = {},
  options: EncodeMultipartOptions = {},
): EncodedForm {
  checkOptions('encodeMultipart', options, ENCODE_MULTIPART_OPTIONS, 'third');
  const entries: Array<[string, string | FileSpec]> = [...new MultiDict<string>(fields as Record<string, string | string[]>)];
  for (const [name, value] of entries) {
    if (typeof value === 'string') continue;
    // A file among the fields is sent as a file, as Werkzeug's `data` and WebOb's `POST` mix them.
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new TypeError(`encodeMultipart: the field ${JSON.stringify(name)} is text (a string) or a file ({ filename, content }), not ${shownValue(value)}`);
    }
    checkFileSpec('encodeMultipart', name, value);
  }
  for (const [name, file] of new MultiDict<FileSpec>(files as Record<string, FileSpec | FileSpec[]>)) {
    checkFileSpec('encodeMultipart', name, file);
    entries.push([name, file]);
  }
  return encodeMultipartEntries(entries, options);
}

/**
 * Encodes `entries` as `multipart/form-data` (RFC 7578) in their order, text fields and files
 * mixed, as a browser submits a form: one part per entry, in the order of the controls on the
 * page (HTML Living Standard §4.10.21.4, "constructing the entry list"). Parts are written as
 * {@link encodeMultipart} writes them (same quoting, same random boundary, a file's type from
 * its extension by default).
 *
 * @example
 * ```ts
 * const { body, contentType } = encodeMultipartEntries([
 *   ['csrf', 'token'],
 *   ['upload', { filename: 'a.txt', content: 'hi' }],
 *   ['note', 'after the file'],
 * ]);
 * ```
 * @throws TypeError as {@link encodeMultipart} does: a given `boundary` that is no RFC 2046
 *   boundary or is in the content, an unknown option, a file value that is no {@link FileSpec}
 *   or whose `contentType` holds a character no header field takes.
 */
export function encodeMultipartEntries(entries: FormEntriesInit, options: EncodeMultipartOptions = {}): EncodedForm {
  checkOptions('encodeMultipartEntries', options, ENCODE_MULTIPART_OPTIONS, 'second');
  return encodeMultipartIn(entries, options, encodeUtf8);
}

/**
 * Checks the file `value` of the field `name`: a {@link FileSpec} object with no other key, a
 * string `filename` and a string or `Uint8Array` `content`.
 *
 * @throws TypeError naming the key (`encodeMultipart: files.doc.content must be a string or a
 *   Uint8Array, not undefined`), where a missing content failed deep inside with `Cannot read
 *   properties of undefined`.
 */
function checkFileSpec(where: string, name: string, value: unknown): asserts value is FileSpec {
  checkOptions(where, value as object, FILE_SPEC, { option: `files.${name}` });
  const { filename, content } = value as Partial<FileSpec>;
  if (typeof filename !== 'string') throw new TypeError(`${where}: files.${name}.filename must be a string ('' for none), not ${shownValue(filename)}`);
  if (typeof content !== 'string' && !(content instanceof Uint8Array)) {
    throw new TypeError(`${where}: files.${name}.content must be a string or a Uint8Array, not ${shownValue(content)}`);
  }
}

/** UTF-8, the text encoding of {@link encodeMultipartEntries}. */
const encodeUtf8 = (text: string): Uint8Array => encoder.encode(text);

/**
 * {@link encodeMultipartEntries} (its options checked by the caller) with the names, filenames
 * and text values encoded by `encodeText`: UTF-8 there, the form's encoding for the test
 * client's submission of a legacy page's form (HTML's "multipart/form-data encoding
 * algorithm" encodes them in the encoding picked for the form). Part heads are ASCII but for
 * the names, so an ASCII-compatible encoding writes them as UTF-8 does.
 *
 * @throws TypeError as {@link encodeMultipartEntries}.
 */
export function encodeMultipartIn(entries: FormEntriesInit, options: EncodeMultipartOptions, encodeText: (text: string) => Uint8Array): EncodedForm {
  if (options.boundary !== undefined && !isBoundary(options.boundary)) {
    throw new TypeError(
      `the multipart boundary ${JSON.stringify(options.boundary)} is no RFC 2046 boundary: 1 to 70 letters, digits, spaces and '()+_,-./:=?, not ending in a space`,
    );
  }
  const parts: Array<{ head: string; content: Uint8Array }> = [];
  for (const [name, value] of entries) {
    if (typeof value === 'string') {
      parts.push({ head: `Content-Disposition: form-data; name="${escapeFormDataName(name)}"`, content: encodeText(value) });
      continue;
    }
    checkFileSpec('encodeMultipartEntries', name, value);
    if (value.contentType !== undefined) assertFieldValue('Content-Type', value.contentType); // no CR or LF to start a header of its own
    const type = value.contentType ?? (mime.lookup(value.filename) || 'application/octet-stream');
    parts.push({
      head: `Content-Disposition: form-data; name="${escapeFormDataName(name)}"; filename="${escapeFormDataName(value.filename)}"\r\nContent-Type: ${type}`,
      content: typeof value.content === 'string' ? encoder.encode(value.content) : value.content,
    });
  }
  let boundary = options.boundary ?? randomBoundary();
  while (parts.some((part) => includes(part.content, boundary))) {
    if (options.boundary !== undefined) throw new TypeError('the multipart boundary occurs in the content');
    boundary = randomBoundary();
  }
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    chunks.push(encoder.encode(`--${boundary}\r\n`), encodeText(`${part.head}\r\n\r\n`), part.content, encoder.encode('\r\n'));
  }
  chunks.push(encoder.encode(`--${boundary}--\r\n`));
  return { body: concatBytes(chunks), contentType: formatMediaType('multipart/form-data', { boundary }) };
}

function randomBoundary(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `tsgi-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

function includes(haystack: Uint8Array, needle: string): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).includes(needle, 0, 'latin1');
}
