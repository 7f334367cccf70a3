/**
 * Where a head past Node's `maxHeaderSize` overflowed: in the request line (a request target
 * too long, answered `414 URI Too Long` as nginx and Python's `http.server`, Werkzeug's, do) or
 * in the header fields (`431`). Node's parser reports both as `HPE_HEADER_OVERFLOW`; the bytes
 * of the read it was parsing (`rawPacket`) and how far it got (`bytesParsed`) tell them apart.
 *
 * @module
 */
import { METHODS } from 'node:http';

const SP = 0x20;
const LF = 0x0a;
const KNOWN_METHODS: ReadonlySet<string> = new Set(METHODS);

/** The parts of Node's parser error read here (`clientError`'s error). */
export interface ParserErrorBytes {
  bytesParsed?: unknown;
  rawPacket?: unknown;
}

/**
 * Whether an `HPE_HEADER_OVERFLOW` happened in the request line. The parser stops where the
 * piece it was counting ends: the request target ends at a space, a field value at its line's
 * end; a piece still running at the end of the read is placed by the start of its line, a
 * method and a space for a request line. When that start came in an earlier read (a long line
 * that arrived in several reads, overflowing in a read holding neither its start nor its end)
 * nothing tells, and the answer is false (the `431` Node gives).
 */
export function overflowsRequestLine(error: ParserErrorBytes): boolean {
  const { rawPacket: raw, bytesParsed: at } = error;
  if (!Buffer.isBuffer(raw) || typeof at !== 'number' || !Number.isInteger(at) || at <= 0 || at > raw.length) return false;
  if (at < raw.length) return raw[at] === SP;
  const lineStart = raw.lastIndexOf(LF, at - 1) + 1;
  return startsRequestLine(raw.subarray(lineStart, at));
}

/** Whether `line` begins as a request line does: a method Node knows, then a space. */
function startsRequestLine(line: Buffer): boolean {
  const space = line.indexOf(SP);
  return space > 0 && KNOWN_METHODS.has(line.toString('latin1', 0, space));
}
