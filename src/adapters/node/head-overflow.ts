/**
 * Where a head past Node's `maxHeaderSize` overflowed: in the request line (a request target
 * too long, answered `414 URI Too Long` as nginx and Python's `http.server`, Werkzeug's, do) or
 * in the header fields (`431`). Node's parser reports both as `HPE_HEADER_OVERFLOW`; the bytes
 * of the read it was parsing (`rawPacket`) and how far it got (`bytesParsed`) tell them apart,
 * and when that read lies inside one line, holding neither its start nor its end, the rest of
 * that line does ({@link LineTail}).
 *
 * @module
 */
import { METHODS } from 'node:http';

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const COLON = 0x3a;
const KNOWN_METHODS: ReadonlySet<string> = new Set(METHODS);

/** The parts of Node's parser error read here (`clientError`'s error). */
export interface ParserErrorBytes {
  bytesParsed?: unknown;
  rawPacket?: unknown;
}

/**
 * Whether an `HPE_HEADER_OVERFLOW` happened in the request line. Node's parser counts the
 * request target, field names and field values, each when it ends or at the end of the read,
 * and stops there: on the space after a request target, past the colon of a field name (on
 * the space of `Name: value`, so a space alone does not tell), past the CR of a field value.
 * The line it stopped in is told by its start, a method and a space for a request line (a
 * field name has no space); a line begun in an earlier read, by where it stopped: a space not
 * after a colon ends a request target. A read inside one line, holding neither its start nor
 * its end (a long line in three reads or more): a space in it makes it a field value (a
 * request target has none, and one that ended there would have stopped the parser on it);
 * without one it tells nothing, and the answer is `undefined`: the rest of the line tells
 * ({@link LineTail}).
 */
export function overflowsRequestLine(error: ParserErrorBytes): boolean | undefined {
  const { rawPacket: raw, bytesParsed: at } = error;
  if (!Buffer.isBuffer(raw) || typeof at !== 'number' || !Number.isInteger(at) || at <= 0 || at > raw.length) return false;
  const ended = at < raw.length;
  if (ended && raw[at] !== SP) return false;
  const lineStart = raw.lastIndexOf(LF, at - 1) + 1;
  if (lineStart === 0 && ended) return raw[at - 1] !== COLON;
  const line = raw.subarray(lineStart, at);
  if (startsRequestLine(line)) return true;
  return lineStart === 0 && line.indexOf(SP) === -1 ? undefined : false;
}

/** Whether `line` begins as a request line does: a method Node knows, then a space. */
function startsRequestLine(line: Buffer): boolean {
  const space = line.indexOf(SP);
  return space > 0 && KNOWN_METHODS.has(line.toString('latin1', 0, space));
}

/** What a request line ends with after its target's space: `HTTP/`, a digit, `.`, a digit, CR, LF. */
const VERSION_END = Buffer.from('HTTP/0.0\r\n', 'latin1');

/**
 * The rest of a line that overflowed the head inside one read of its own
 * ({@link overflowsRequestLine} answered `undefined`), read as the client sends it, a chunk at
 * a time, nothing kept: the request line when it goes on with no space up to one space, then
 * `HTTP/d.d` and CRLF (RFC 9112 §3: `method SP request-target SP HTTP-version`, a target
 * with no space); a field line otherwise (its value ends at a CRLF, and may hold spaces). A
 * field value whose end reads exactly ` HTTP/1.1` after the overflow, with no other space, is
 * taken for a request target: only the status of the refusal differs.
 */
export class LineTail {
  /** Bytes of {@link VERSION_END} matched after the target's space; -1 while in the target. */
  #matched = -1;

  /**
   * Reads `chunk`, the next bytes of the line: `true` once the line proves a request line,
   * `false` once it proves a field line, `undefined` while it has not ended.
   */
  push(chunk: Uint8Array): boolean | undefined {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (this.#matched === -1) {
        if (byte === SP) this.#matched = 0;
        else if (byte === CR || byte === LF) return false;
        continue;
      }
      const expected = VERSION_END[this.#matched]!;
      const fits = expected === 0x30 ? byte >= 0x30 && byte <= 0x39 : byte === expected;
      if (!fits) return false;
      if (++this.#matched === VERSION_END.length) return true;
    }
    return undefined;
  }
}
