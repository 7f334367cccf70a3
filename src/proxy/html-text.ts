/**
 * The HTML rewriter works on the document's bytes, one character per byte (latin1): the
 * tokenizer only needs ASCII to find tags, untouched source goes back out byte for byte
 * whatever the charset, and a character split between two chunks is never cut in half. This
 * module converts between that form and real text in the document's charset.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { type TextCodec, encodingName, textCodec } from './text-codec.ts';

/** Conversions between text and the byte form of one document. */
export interface ByteText {
  /**
   * `text` (markup or an escaped value) in the document's charset, as a byte string; a
   * character the charset cannot hold becomes a numeric character reference (`&#8364;`), which
   * HTML reads the same in text and attribute values.
   */
  toBytes(text: string): string;
  /** A byte string (an attribute value as tokenized) back to text. */
  fromBytes(bytes: string): string;
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The conversions for a document in `charset` (the `Content-Type` parameter; absent means
 * unknown: non-ASCII text is then written as character references and read as UTF-8), or null
 * for a charset whose bytes are not ASCII-compatible (UTF-16), which the rewriter leaves alone.
 */
export function byteText(charset: string | undefined): ByteText | null {
  const name = charset === undefined ? null : encodingName(charset);
  if (name !== null && (name.startsWith('utf-16') || name === 'replacement')) return null;
  const codec: TextCodec | null = name === null ? null : textCodec(name);
  const decoder = new TextDecoder(name ?? 'utf-8');
  const reference = (char: string) => `&#${char.codePointAt(0)};`;
  return {
    toBytes(text) {
      if (!NON_ASCII.test(text)) return text;
      if (codec === null) return text.replace(/[^\x00-\x7f]/gu, reference);
      return Buffer.from(codec.encode(text, reference)).toString('latin1');
    },
    fromBytes(bytes) {
      if (!NON_ASCII.test(bytes)) return bytes;
      // Character references above U+00FF were decoded by the tokenizer already: keep them.
      return bytes.replace(/[\x80-\xff]+/g, (run) => decoder.decode(Buffer.from(run, 'latin1')));
    },
  };
}

/** `&`, `<`, `>` escaped, for text content. */
export function escapeText(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** `&` and `"` escaped, for a double-quoted attribute value. */
export function escapeAttribute(value: string): string {
  return value.replace(/[&"]/g, (c) => (c === '&' ? '&amp;' : '&quot;'));
}
