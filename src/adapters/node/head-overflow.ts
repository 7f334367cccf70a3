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
 * after a colon ends a request target. A piece still running at the end of a read holding
 * neither the start of its line nor its end (a long line in several reads) tells nothing, and
 * the answer is false (the `431` Node gives).
 */
export function overflowsRequestLine(error: ParserErrorBytes): boolean {
  const { rawPacket: raw, bytesParsed: at } = error;
  if (!Buffer.isBuffer(raw) || typeof at !== 'number' || !Number.isInteger(at) || at <= 0 || at > raw.length) return false;
  const ended = at < raw.length;
  if (ended && raw[at] !== SP) return false;
  const lineStart = raw.lastIndexOf(LF, at - 1) + 1;
  if (lineStart === 0 && ended) return raw[at - 1] !== COLON;
  return startsRequestLine(raw.subarray(lineStart, at));
}

/** Whether `line` begins as a request line does: a method Node knows, then a space. */
function startsRequestLine(line: Buffer): boolean {
  const space = line.indexOf(SP);
  return space > 0 && KNOWN_METHODS.has(line.toString('latin1', 0, space));
}
