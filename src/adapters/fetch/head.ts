/**
 * The status and header fields of a fetch `Response`, from what the app gave to
 * `startResponse`: the same checks and drops as the Node adapter's `sendHead`.
 *
 * @module
 */
import { HOP_BY_HOP } from '../../gateway/fields.ts';
import { describe } from '../../gateway/body.ts';
import { isBodilessStatus, parseStatus } from '../../gateway/status.ts';

const DIGITS = /^\d+$/;

/** What a fetch `Response` is built from. */
export interface FetchHead {
  /** The status code, 200–599 (fetch refuses others: the constructor throws a RangeError). */
  code: number;
  /** The reason phrase, for `statusText`. */
  reason: string;
  /**
   * The header fields to send, as `Response` takes them: a record when every name is there
   * once (the runtimes build their `Headers` faster from one), else the pairs.
   */
  fields: Record<string, string> | Array<[string, string]>;
  /** The app's `Content-Length`, or -1. */
  declared: number;
  /** True when the response carries no body: HEAD, 1xx, 204, 304. */
  noBody: boolean;
}

/**
 * Checks the status and headers an app gave and answers what to send. `length` is the body
 * length when the whole body is in hand: an app `Content-Length` must then match it (not for
 * HEAD, where it describes the GET body); for HEAD without one, a non-empty length is added as
 * `Content-Length` (the runtime computes it for the other answers). An app `Content-Length`
 * on a 204 is dropped (RFC 9110 §8.6); hop-by-hop fields are dropped (the runtime owns the
 * connection, so `Connection: close` is dropped too).
 *
 * @throws TypeError for anything the app got wrong: no `startResponse`, an invalid or 1xx
 *   status, a header that is not a pair of strings, a bad or mismatched `Content-Length`.
 */
export function fetchHead(
  status: string | undefined,
  headers: Array<[string, string]> | undefined,
  method: string,
  length: number | undefined,
): FetchHead {
  if (status === undefined || headers === undefined) throw new TypeError('the app produced a body without calling startResponse');
  const { code, reason } = parseStatus(status);
  if (code < 200) throw new TypeError(`invalid final status: ${JSON.stringify(status)}`);
  let fields = headers;
  let declared = -1;
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i];
    if (!Array.isArray(pair)) throw new TypeError(`header ${i} is not a [name, value] pair (${describe(pair)})`);
    const name = pair[0];
    const value = pair[1];
    if (typeof name !== 'string' || typeof value !== 'string') {
      throw new TypeError(`invalid header pair: ${describe(name)}, ${describe(value)}`);
    }
    // Only names as long as Content-Length or a hop-by-hop field need a closer look.
    const n = name.length;
    let drop = false;
    if (n === 14 || n === 2 || n === 7 || n === 10 || n >= 16) {
      const lower = name.toLowerCase();
      if (lower === 'content-length') {
        if (declared !== -1 || !DIGITS.test(value)) throw new TypeError(`invalid Content-Length from the app: ${JSON.stringify(value)}`);
        declared = Number(value);
        drop = code === 204;
      } else drop = HOP_BY_HOP.has(lower);
    }
    if (drop) {
      if (fields === headers) fields = headers.slice(0, i);
    } else if (fields !== headers) fields.push(pair);
  }
  const head = method === 'HEAD';
  const bodiless = isBodilessStatus(code);
  if (length !== undefined && !bodiless && !head && declared !== -1 && declared !== length) {
    throw new TypeError(`the app declared Content-Length: ${declared} but its body has ${length} bytes`);
  }
  if (head && declared === -1 && length !== undefined && length !== 0 && !bodiless) {
    fields = fields === headers ? [...headers, ['Content-Length', String(length)]] : (fields.push(['Content-Length', String(length)]), fields);
  }
  return { code, reason, fields: toInit(fields), declared, noBody: head || bodiless };
}

/** The pairs as a record, or the pairs themselves when a name repeats (`Set-Cookie`). */
function toInit(fields: Array<[string, string]>): Record<string, string> | Array<[string, string]> {
  const record: Record<string, string> = {};
  for (let i = 0; i < fields.length; i++) {
    const name = fields[i]![0];
    if (record[name] !== undefined || name === '__proto__') return fields;
    record[name] = fields[i]![1];
  }
  return record;
}
