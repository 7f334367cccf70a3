/**
 * The HTML rewriter works on the document's bytes, one character per byte (latin1): the
 * tokenizer only needs ASCII to find tags, untouched source goes back out byte for byte
 * whatever the charset, and a character split between two chunks is never cut in half. This
 * module converts between that form and real text in the document's charset.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { decodeHTMLAttribute } from 'entities/decode';
import { type TextCodec, characterReference, encodingName, textCodec } from './text-codec.ts';

/** Conversions between text and the byte form of one document. */
export interface ByteText {
  /**
   * `text` (markup or an escaped value) in the document's charset, as a byte string; a
   * character the charset cannot hold becomes a numeric character reference (`&#8364;`), which
   * HTML reads the same in text and attribute values.
   */
  toBytes(text: string): string;
  /**
   * An attribute value as the source wrote it (a byte string, quotes taken off) as the browser
   * reads it: the bytes decoded in the document's charset, then line breaks normalized, NUL made
   * U+FFFD and character references decoded (`caf&eacute;` and `caf\xE9` in windows-1252 are both
   * `café`).
   */
  attributeValue(source: string): string;
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The conversions for a document in `charset` (the `Content-Type` parameter; absent means
 * unknown: non-ASCII text is then written as character references and read as UTF-8), or null
 * for a charset whose bytes are not ASCII-compatible, which the rewriter leaves alone: UTF-16,
 * and ISO-2022-JP, whose kanji are pairs of bytes 0x21–0x7E after `ESC $ B` (`<p` is one), so
 * markup cannot be told from text byte by byte, nor ASCII inserted there.
 */
export function byteText(charset: string | undefined): ByteText | null {
  const name = charset === undefined ? null : encodingName(charset);
  if (name !== null && (name.startsWith('utf-16') || name === 'iso-2022-jp' || name === 'replacement')) return null;
  const codec: TextCodec | null = name === null ? null : textCodec(name);
  const decoder = new TextDecoder(name ?? 'utf-8');
  return {
    toBytes(text) {
      if (!NON_ASCII.test(text)) return text;
      if (codec === null) return text.replace(/[^\x00-\x7f]/gu, characterReference);
      return Buffer.from(codec.encode(text, characterReference)).toString('latin1');
    },
    attributeValue(source) {
      const text = NON_ASCII.test(source) ? decoder.decode(Buffer.from(source, 'latin1')) : source;
      return decodeHTMLAttribute(text.replace(/\r\n?/g, '\n').replaceAll('\0', '\uFFFD'));
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
