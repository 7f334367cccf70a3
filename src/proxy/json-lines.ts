/**
 * Line-delimited JSON streams (NDJSON, JSON Lines, RFC 7464 JSON text sequences): which media
 * types they are sent as ({@link isJsonLinesType}), and where their records end
 * ({@link LineSplitter}), so the text filters can send each record as soon as it is complete.
 *
 * @module
 */
import type { EventPieces } from './event-stream.ts';

/** The media types of line-delimited JSON, lower-case, without parameters. */
const JSON_LINES: ReadonlySet<string> = new Set([
  'application/x-ndjson', // NDJSON (ndjson.org), Ollama, Elasticsearch's _bulk
  'application/ndjson',
  'application/jsonl', // JSON Lines (jsonlines.org)
  'application/x-jsonl',
  'application/jsonlines',
  'application/x-jsonlines',
  'application/json-seq', // RFC 7464: each record starts with RS and ends with LF
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
