/**
 * Streaming `application/x-www-form-urlencoded` parsing with limits.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { ByteList } from '../gateway/byte-list.ts';
import { charsetPairDecoder, formBytes } from '../http/form-decoding.ts';
import { openInput } from '../gateway/input.ts';
import { FormCharset } from './form-charset.ts';
import { readFailure } from './input.ts';
import type { MultiDict } from '../datastructures/multidict.ts';
import { type FormLimits, bodyTooLarge, limitExceeded, quoteName } from './limits.ts';

const AMP = 0x26;
const EQUALS = 0x3d;
const PERCENT = 0x25;
const UNDERSCORE = 0x5f;

/**
 * Parses an `application/x-www-form-urlencoded` body into `fields`, pair by pair as the bytes
 * arrive, so no more than one pair (at most twice `maxFieldSize` bytes) is ever held.
 *
 * Decoding is the WHATWG URL Standard's (as `URLSearchParams` and `MultiDict.fromQueryString`):
 * `+` is a space, escapes are UTF-8, a malformed escape is kept as written, invalid UTF-8
 * becomes U+FFFD, empty pairs (`a&&b`) are skipped, `a` alone is `a: ''`. With another
 * `charset` (a WHATWG encoding name, e.g. `shift_jis`, `windows-1252`: the one the body
 * declared, as a page in that encoding submits its form), the escapes of a name and a value
 * are turned into bytes first and the bytes decoded in it (WebOb's transcoding), bytes it
 * cannot decode becoming U+FFFD too. Without one (`undefined`: the body declared none, as
 * browsers send it), a `_charset_` field, wherever it comes, names the charset of every pair
 * (HTML's form submission fills a hidden `_charset_` input with the encoding it sent the form
 * in, as for a multipart form: see `form-charset.ts`), UTF-8 when there is none; the pairs are
 * decoded as UTF-8 as they arrive, and those that read otherwise (not all ASCII) decoded
 * again at the body's end once a `_charset_` names another charset.
 *
 * Limits: each pair counts as one part (`maxParts`) and one field (`maxFields`); `maxFieldSize`
 * bounds the percent-encoded bytes of a name and, separately, of a value; `maxBodySize` the
 * whole body. Reading stops at the first byte past a limit, or when `signal` aborts (the parse
 * then throws its reason); `input` is not closed, only detached from (`openInput`).
 *
 * @returns the number of body bytes read (0 for an empty body: nothing was taken from it).
 * @throws HTTPContentTooLarge (413) past a limit, naming it; HTTPBadRequest (400) when the
 *   body breaks off (see `readFailure`); HTTPUnsupportedMediaType (415) for a `_charset_` field
 *   naming no charset the server decodes (see `FormCharset.note`).
 */
export async function parseUrlencoded(
  input: AsyncIterable<Uint8Array>,
  limits: FormLimits,
  fields: MultiDict<string>,
  signal?: AbortSignal,
  charset?: string,
): Promise<number> {
  const held = charset === undefined ? new CharsetFieldPairs(fields) : null;
  const decode = charset === undefined || charset === 'utf-8' ? decodePair : legacyDecoder(charset);
  const parser = new PairSplitter(limits, decode, held === null ? (pair) => addPairs(fields, decode(pair)) : (pair) => held.add(pair));
  let received = 0;
  const { chunks, detach } = openInput(input);
  // An abort ends a waiting read (a Node stream's answers done); the check below then throws.
  signal?.addEventListener('abort', detach, { once: true });
  try {
    for (;;) {
      let step: IteratorResult<Uint8Array>;
      try {
        step = await chunks.next();
      } catch (error) {
        signal?.throwIfAborted();
        throw readFailure(input, error);
      }
      signal?.throwIfAborted();
      if (step.done) break;
      received += step.value.byteLength;
      if (received > limits.maxBodySize) {
        throw bodyTooLarge(limits.maxBodySize);
      }
      parser.push(step.value);
    }
    parser.endPair();
    held?.finish();
    return received;
  } catch (error) {
    detach();
    throw error;
  } finally {
    signal?.removeEventListener('abort', detach);
  }
}

/**
 * Splits a byte stream at `&`, counting each pair's name and value bytes as they arrive, and
 * hands each pair's bytes to `onPair`; `decode` names a field in a limit's message.
 */
class PairSplitter {
  readonly #limits: FormLimits;
  readonly #decode: (pair: Buffer) => Array<[string, string]>;
  readonly #onPair: (pair: Buffer) => void;
  /** The current pair's bytes (tiny chunks copied together: see `ByteList`). */
  #pieces = new ByteList();
  #nameBytes = 0;
  #valueBytes = 0;
  #sawEquals = false;
  #pairs = 0;

  constructor(limits: FormLimits, decode: (pair: Buffer) => Array<[string, string]>, onPair: (pair: Buffer) => void) {
    this.#limits = limits;
    this.#decode = decode;
    this.#onPair = onPair;
  }

  push(chunk: Uint8Array): void {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    while (start < buf.length) {
      const amp = buf.indexOf(AMP, start);
      const end = amp === -1 ? buf.length : amp;
      this.#take(buf, start, end);
      if (amp === -1) return;
      this.endPair();
      start = amp + 1;
      // A run of `&` holds no pair (the URL Standard skips empty sequences): stepped over here,
      // not one `indexOf` call each, which made a body of them cost 15 times its reading.
      while (start < buf.length && buf[start] === AMP) start++;
    }
  }

  #take(buf: Buffer, start: number, end: number): void {
    if (start === end) return;
    if (this.#sawEquals) {
      this.#valueBytes += end - start;
    } else {
      const eq = buf.indexOf(EQUALS, start);
      if (eq !== -1 && eq < end) {
        this.#sawEquals = true;
        this.#nameBytes += eq - start;
        this.#valueBytes += end - eq - 1;
      } else {
        this.#nameBytes += end - start;
      }
    }
    const max = this.#limits.maxFieldSize;
    if (this.#nameBytes > max) throw limitExceeded('maxFieldSize', `a field name is larger than ${max} bytes`);
    this.#pieces.push(buf.subarray(start, end));
    if (this.#valueBytes > max) {
      const pair = asBuffer(this.#pieces.bytes());
      const name = this.#decode(pair.subarray(0, pair.indexOf(EQUALS)))[0]?.[0] ?? '';
      throw limitExceeded('maxFieldSize', `field ${quoteName(name)} is larger than ${max} bytes`);
    }
  }

  /** Ends the current pair (at `&` or the end of the body) and adds it to the fields. */
  endPair(): void {
    const pieces = this.#pieces;
    if (pieces.size === 0) return; // an empty pair (`&&`): nothing taken, nothing to reset
    this.#pieces = new ByteList();
    this.#nameBytes = 0;
    this.#valueBytes = 0;
    this.#sawEquals = false;
    const limits = this.#limits;
    this.#pairs++;
    if (this.#pairs > limits.maxParts) throw limitExceeded('maxParts', `the form has more than ${limits.maxParts} parts`);
    if (this.#pairs > limits.maxFields) throw limitExceeded('maxFields', `the form has more than ${limits.maxFields} fields`);
    this.#onPair(asBuffer(pieces.bytes()));
  }
}

/** Adds decoded pairs to `fields`. */
function addPairs(fields: MultiDict<string>, pairs: Array<[string, string]>): void {
  for (const [name, value] of pairs) fields.add(name, value);
}

/**
 * Text a pair decodes to the same in every charset a `_charset_` field can name, as in UTF-8:
 * ASCII (the pair's bytes were all ASCII), bar the three controls ISO-2022-JP reads otherwise.
 */
const SAME_IN_EVERY_CHARSET = /^[\0-\x0d\x10-\x1a\x1c-\x7f]*$/;

/**
 * The pairs of a body that declared no charset, decoded as UTF-8 as they arrive: a
 * `_charset_` field among them, wherever it comes, names the charset they are all in (the
 * last one wins). Only the pairs whose bytes could read otherwise in it (not all ASCII) are
 * held as bytes, as views of the input's chunks where a pair lies in one (the input's chunks
 * are not reused once read: `ByteList` keeps them likewise), and decoded again at the end
 * when one names another charset than UTF-8.
 */
class CharsetFieldPairs {
  readonly #fields: MultiDict<string>;
  readonly #charset = new FormCharset();
  /** The pairs that could decode otherwise, with the index of their field in `#fields`. */
  readonly #raw: Array<{ at: number; pair: Buffer }> = [];

  constructor(fields: MultiDict<string>) {
    this.#fields = fields;
  }

  /**
   * Adds one pair decoded as UTF-8, and takes note of it if it is a `_charset_` field.
   *
   * @throws HTTPUnsupportedMediaType (415) for a `_charset_` naming no charset the server decodes.
   */
  add(pair: Buffer): void {
    const eq = pair.indexOf(EQUALS);
    if (mayBeCharsetField(pair, eq)) this.#charset.note(latin1(pair.subarray(0, eq)), latin1(pair.subarray(eq + 1)));
    const fields = this.#fields;
    for (const [name, value] of decodePair(pair)) {
      if (!SAME_IN_EVERY_CHARSET.test(name) || !SAME_IN_EVERY_CHARSET.test(value)) this.#raw.push({ at: fields.size, pair });
      fields.add(name, value);
    }
  }

  /**
   * Once the body is read: when its `_charset_` named another charset than UTF-8, the fields
   * that read otherwise in it are decoded again, in place (the others are the same).
   */
  finish(): void {
    const encoding = this.#charset.encoding;
    if (encoding === 'utf-8') return;
    const decode = charsetPairDecoder(encoding);
    const fields = this.#fields;
    const all = [...fields];
    for (const { at, pair } of this.#raw) all[at] = decode(pair);
    for (const name of fields.keys()) fields.delete(name);
    addPairs(fields, all);
  }
}

/**
 * Whether the name before `eq` (the pair's first `=`, -1 for none) can spell `_charset_`: 9
 * bytes starting with `_`, or up to 27 with escapes (`%5F`); any other is another field, not
 * decoded to check.
 */
function mayBeCharsetField(pair: Buffer, eq: number): boolean {
  if (eq < 9 || eq > 27) return false;
  if (pair[0] === UNDERSCORE) return eq === 9 || hasPercentBefore(pair, eq);
  return pair[0] === PERCENT;
}

/** Whether `pair` has a `%` before index `end`. */
function hasPercentBefore(pair: Buffer, end: number): boolean {
  const percent = pair.indexOf(PERCENT);
  return percent !== -1 && percent < end;
}

/** The bytes a urlencoded name or value stands for, one character a byte (ASCII stays ASCII). */
function latin1(part: Buffer): string {
  return Buffer.from(formBytes(part)).toString('latin1');
}

/** `bytes` as a `Buffer` over the same memory. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes one UTF-8 `name=value` pair; the leading `&` stops `URLSearchParams` from eating a leading `?`. */
function decodePair(pair: Buffer): Array<[string, string]> {
  return [...new URLSearchParams(`&${pair.toString('utf8')}`)];
}

/** {@link charsetPairDecoder} as the splitter calls it. */
function legacyDecoder(charset: string): (pair: Buffer) => Array<[string, string]> {
  const decode = charsetPairDecoder(charset);
  return (pair) => [decode(pair)];
}
