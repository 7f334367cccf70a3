/**
 * Line-delimited JSON streams (NDJSON, JSON Lines, RFC 7464 JSON text sequences): which media
 * types they are sent as ({@link isJsonLinesType}), and where their records end
 * ({@link LineSplitter}, {@link JsonSeqSplitter} for `application/json-seq`), so the text
 * filters can send each record as soon as it is complete.
 *
 * @module
 */
import type { EventPieces } from './event-stream.ts';

/** The media type of RFC 7464 JSON text sequences, whose records may hold LFs. */
export const JSON_SEQ = 'application/json-seq';

/** The media types of line-delimited JSON, lower-case, without parameters. */
const JSON_LINES: ReadonlySet<string> = new Set([
  'application/x-ndjson', // NDJSON (ndjson.org), Ollama, Elasticsearch's _bulk
  'application/ndjson',
  'application/jsonl', // JSON Lines (jsonlines.org)
  'application/x-jsonl',
  'application/jsonlines',
  'application/x-jsonlines',
  JSON_SEQ, // RFC 7464: each record starts with RS and ends with LF, and may hold LFs
]);

/**
 * True when `type` (a media type, lower-case, without parameters) is one of line-delimited
 * JSON: `application/x-ndjson`, `application/ndjson`, `application/jsonl`,
 * `application/x-jsonl`, `application/jsonlines`, `application/x-jsonlines` or
 * `application/json-seq` (RFC 7464).
 */
export function isJsonLinesType(type: string): boolean {
  return JSON_LINES.has(type);
}

/** The splitter of a line-delimited JSON type: {@link JsonSeqSplitter} for `application/json-seq`, else {@link LineSplitter}. */
export function jsonLinesSplitter(type: string): LineSplitter | JsonSeqSplitter {
  return type === JSON_SEQ ? new JsonSeqSplitter() : new LineSplitter();
}

/**
 * Cuts an `application/json-seq` body (RFC 7464), given in pieces, into its records: before
 * each RS (U+001E), which starts a record, and after the LF that follows a complete JSON text,
 * so a record goes out as soon as it is whole, not when the next one starts. A record may hold
 * LFs of its own (a pretty-printed text, RFC 7464 §2.2 lets a JSON text hold any whitespace):
 * an LF ends one only outside strings and brackets, after a value. Strings are followed through
 * their escapes (`"a \"}\""` closes nothing); a truncated record (`{"a": [1` then RS, RFC 7464
 * §2.3) ends at the next RS or the end of the body. Only that state (inside a string, after a
 * backslash, the bracket depth, whether a value started) is kept between pieces, so the cuts
 * are the same however the body is pieced.
 */
export class JsonSeqSplitter {
  private inString = false;
  private escaped = false;
  private depth = 0;
  private valueStarted = false;
  /** Text of the record being read was answered as `rest` already (this piece's or an earlier one's). */
  private open = false;

  /** Cuts the next piece of the stream. */
  split(text: string): EventPieces {
    const ends: string[] = [];
    let at = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x1e) {
        // RS: the record before it is over, whatever it held.
        if (this.open || i > at) ends.push(text.slice(at, i));
        at = i;
        this.inString = this.escaped = this.valueStarted = false;
        this.depth = 0;
        this.open = true;
      } else if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c /* \ */) this.escaped = true;
        else if (c === 0x22 /* " */) this.inString = false;
      } else if (c === 0x0a) {
        if (this.depth === 0 && this.valueStarted) {
          ends.push(text.slice(at, i + 1));
          at = i + 1;
          this.valueStarted = false;
          this.open = false;
        }
      } else if (c === 0x22) {
        this.inString = true;
        this.valueStarted = true;
      } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        this.depth++;
        this.valueStarted = true;
      } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
        if (this.depth > 0) this.depth--;
      } else if (c !== 0x20 && c !== 0x09 && c !== 0x0d) {
        this.valueStarted = true; // a number, true, false, null (or what is not JSON)
      }
    }
    if (at < text.length) this.open = true;
    return { ends, rest: text.slice(at) };
  }
}

/**
 * Cuts a line-delimited body, given in pieces, after each LF (a CRLF ends with one too): each
 * piece in `ends` completes one line. Nothing is kept between pieces.
 */
export class LineSplitter {
  /** Cuts the next piece of the stream. */
  split(text: string): EventPieces {
    const ends: string[] = [];
    let at = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', at)) {
      ends.push(text.slice(at, end + 1));
      at = end + 1;
    }
    return { ends, rest: text.slice(at) };
  }
}
