/**
 * Text in a response's charset, both ways, for the filters that read and write text: UTF-8 and
 * the WHATWG single-byte encodings (`windows-1252`, `iso-8859-*`, `koi8-*`, …), whose encoder
 * is the platform's `TextDecoder` table read backwards.
 *
 * @module
 */
import { Buffer } from 'node:buffer';

/** What a {@link TextCodec} decodes with: `TextDecoder`'s streaming `decode`. */
export interface StreamDecoder {
  decode(input?: Uint8Array, options?: { stream?: boolean }): string;
}

/** A charset the filters can decode and encode. */
export interface TextCodec {
  /** The WHATWG name: `utf-8`, `windows-1252`, … */
  readonly encoding: string;
  /** A fresh decoder; use `decode(chunk, { stream: true })` so characters split between chunks survive. */
  decoder(): StreamDecoder;
  /**
   * Encodes `text`; a character the charset cannot hold becomes `unencodable(char)` (which must
   * answer ASCII), by default `?`.
   */
  encode(text: string, unencodable?: (char: string) => string): Uint8Array;
}

/**
 * A character as a numeric character reference (`✓` → `&#10003;`), which HTML and XML read as
 * the character in text and attribute values: how {@link TextCodec.encode} writes, in markup, a
 * character the charset cannot hold (WHATWG Encoding's "html" error mode, as browsers encode a
 * form).
 */
export const characterReference = (char: string): string => `&#${char.codePointAt(0)};`;

const SINGLE_BYTE = /^(?:windows-\d+|iso-8859-\d+|koi8-[ru]|ibm866|macintosh|x-mac-cyrillic)$/;
const tables = new Map<string, Map<number, number>>();

/** The WHATWG name of a charset label, or null when the platform does not know it. */
export function encodingName(label: string): string | null {
  try {
    return new TextDecoder(label).encoding;
  } catch {
    return null;
  }
}

/**
 * The codec for a charset label (case-insensitive; `latin1` and `iso-8859-1` are WHATWG's
 * `windows-1252`), or null for a charset these filters cannot write (UTF-16, the multi-byte East
 * Asian ones, unknown labels).
 */
export function textCodec(label: string): TextCodec | null {
  const encoding = encodingName(label);
  if (encoding === 'utf-8') {
    return {
      encoding,
      decoder: () => new TextDecoder('utf-8', { ignoreBOM: true }),
      encode: (text) => Buffer.from(text, 'utf8'),
    };
  }
  if (encoding === null || !SINGLE_BYTE.test(encoding)) return null;
  const table = byteTable(encoding);
  return {
    encoding,
    decoder: () => new TextDecoder(encoding),
    encode(text, unencodable = () => '?') {
      const bytes: number[] = [];
      for (const char of text) {
        const code = char.codePointAt(0)!;
        const byte = code < 0x80 ? code : table.get(code);
        if (byte !== undefined) bytes.push(byte);
        else for (const c of unencodable(char)) bytes.push(c.charCodeAt(0) & 0x7f);
      }
      return Uint8Array.from(bytes);
    },
  };
}

/** Code point → byte for a single-byte encoding, read off its decoder. */
function byteTable(encoding: string): Map<number, number> {
  let table = tables.get(encoding);
  if (table === undefined) {
    table = new Map();
    const decoder = new TextDecoder(encoding);
    for (let byte = 0x80; byte <= 0xff; byte++) {
      const char = decoder.decode(Uint8Array.of(byte));
      if (char !== '\uFFFD') table.set(char.codePointAt(0)!, byte);
    }
    tables.set(encoding, table);
  }
  return table;
}
