/**
 * The charset of a form's text fields: UTF-8, or the one its `_charset_` field names (HTML's
 * form submission: a hidden input named `_charset_` is sent with the encoding the browser used
 * for the form, that of a legacy page, whatever its enctype; RFC 7578 §4.6). A
 * `multipart/form-data` form's, and an `application/x-www-form-urlencoded` one's that declares
 * no `charset` (see `urlencoded.ts`).
 *
 * busboy hands each field without a `charset` of its own over as its bytes (read as latin1
 * text, one character a byte: see `openParser`), and each part's field name and filename
 * likewise (browsers write them in the form's encoding too); {@link FormCharset.decode} decodes them.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { HTTPUnsupportedMediaType } from '../exceptions/client-errors.ts';
import { formEncoding } from '../http/form-decoding.ts';

/** The field naming the form's charset (HTML's, matched ASCII case-insensitively). */
const CHARSET_FIELD = '_charset_';

/** Text of ASCII characters only: the same in UTF-8 as in the latin1 reading of its bytes. */
const ASCII = /^[\x00-\x7f]*$/;

/** The text fields' charset of one multipart form, as its `_charset_` field names it. */
export class FormCharset {
  /** The decoder of the fields in another charset than UTF-8, once a `_charset_` field named one. */
  #decoder: InstanceType<typeof TextDecoder> | null = null;

  /** The WHATWG encoding the fields are in: `utf-8` until a `_charset_` field names another. */
  get encoding(): string {
    return this.#decoder?.encoding ?? 'utf-8';
  }

  /**
   * Takes note of a text field in body order: a `_charset_` field decides the charset of the
   * fields decoded after it.
   *
   * @param bytes - the field's value as its bytes read as latin1 text (a `_charset_` field
   *   holds an encoding label: ASCII; an empty one names nothing).
   * @throws HTTPUnsupportedMediaType (415) for a `_charset_` naming no charset the server
   *   decodes (a label the WHATWG Encoding Standard does not know, or UTF-16, which browsers
   *   never submit a form in), as a urlencoded body declaring one is refused.
   */
  note(name: string, bytes: string): void {
    if (name.length !== CHARSET_FIELD.length || name.toLowerCase() !== CHARSET_FIELD) return;
    // An empty one (a client that sends the hidden input as the page has it) names nothing.
    if (bytes.trim() === '') return;
    const encoding = formEncoding(bytes);
    if (encoding === null) {
      throw new HTTPUnsupportedMediaType(`Field _charset_ names ${JSON.stringify(bytes.slice(0, 100))}, not a charset this server decodes: send the form in UTF-8.`);
    }
    // A byte order mark is kept as U+FEFF, as busboy's own decoding keeps it.
    this.#decoder = encoding === 'utf-8' ? null : new TextDecoder(encoding, { ignoreBOM: true });
  }

  /**
   * {@link FormCharset.note}, its refusal (the 415) handed to `fail` rather than thrown, as the
   * parsers report their failures: `false` when the field was refused.
   */
  noted(name: string, bytes: string, fail: (error: unknown) => void): boolean {
    try {
      this.note(name, bytes);
      return true;
    } catch (error) {
      fail(error);
      return false;
    }
  }

  /**
   * A field's value decoded in the form's charset (see {@link FormCharset.note}); bytes it
   * cannot decode become U+FFFD, as busboy's UTF-8 decoding makes them.
   *
   * @param bytes - the value's bytes read as latin1 text, as busboy hands them over.
   */
  decode(bytes: string): string {
    const decoder = this.#decoder;
    if (decoder === null) return ASCII.test(bytes) ? bytes : Buffer.from(bytes, 'latin1').toString('utf8');
    return decoder.decode(Buffer.from(bytes, 'latin1'));
  }
}
