/**
 * Writing the status line and headers of a response: checking what the app gave to
 * `startResponse`, dropping hop-by-hop fields, choosing the framing (`Content-Length`, chunked,
 * or close-delimited).
 *
 * @module
 */
import { HOP_BY_HOP } from '../../gateway/fields.ts';
import { describe } from '../../gateway/body.ts';
import { isBodilessStatus, parseStatus } from '../../gateway/status.ts';
import type { ExchangeState } from './state.ts';

const DIGITS = /^\d+$/;

/** True when a Connection field value lists the `close` option (RFC 9112 §9.6). */
function hasCloseOption(value: string): boolean {
  for (const option of value.split(',')) if (option.trim().toLowerCase() === 'close') return true;
  return false;
}

/**
 * Sends the status line and headers of `exchange`. `length` is the body length when known (the
 * whole body is in hand): it becomes `Content-Length` unless the app gave one, which must then
 * match. An app `Content-Length` on a 204 is dropped (RFC 9110 §8.6); hop-by-hop fields are
 * dropped, `Connection: close` honoured; HEAD, 204 and 304 are marked bodiless.
 *
 * @throws TypeError for anything the app got wrong (no startResponse, invalid status or
 *   header, bad or mismatched Content-Length); nothing has been written then.
 */
export function sendHead(exchange: ExchangeState, length: number | undefined): void {
  const status = exchange.status;
  const headers = exchange.headers;
  if (status === undefined || headers === undefined) {
    throw new TypeError('the app produced a body without calling startResponse');
  }
  const { code, reason } = parseStatus(status);
  if (code < 200) throw new TypeError(`invalid final status: ${JSON.stringify(status)}`);
  const res = exchange.res;
  const flat: string[] = [];
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
    if (n === 14 || n === 2 || n === 7 || n === 10 || n >= 16) {
      const lower = name.toLowerCase();
      if (lower === 'content-length') {
        if (declared !== -1 || !DIGITS.test(value)) {
          throw new TypeError(`invalid Content-Length from the app: ${JSON.stringify(value)}`);
        }
        declared = Number(value);
        if (code === 204) continue; // RFC 9110 §8.6: never on a 204
      } else if (HOP_BY_HOP.has(lower)) {
        if (lower === 'connection' && hasCloseOption(value)) res.shouldKeepAlive = false;
        continue;
      }
    }
    flat.push(name, value);
  }
  const head = exchange.environ.REQUEST_METHOD === 'HEAD';
  const bodiless = isBodilessStatus(code);
  exchange.noBody = head || bodiless;
  if (length !== undefined && !bodiless) {
    if (declared === -1) {
      // A HEAD answered with an empty body says nothing about the GET body's length.
      if (!head || length !== 0) flat.push('Content-Length', String(length));
    } else if (declared !== length && !head) {
      throw new TypeError(`the app declared Content-Length: ${declared} but its body has ${length} bytes`);
    }
  }
  if (exchange.state?.closing) res.shouldKeepAlive = false;
  exchange.checkUnreadBody();
  // Throws for invalid names and values before anything is written. HTTP/2 has no reason
  // phrase (RFC 9113 §8.3.2): Node warns when given one.
  if (exchange.http2) res.writeHead(code, flat);
  else res.writeHead(code, reason, flat);
  if (length === undefined) {
    // A stream must match the length it declared: Node throws on the write or end that breaks it.
    if (declared !== -1) res.strictContentLength = true;
    else if (!res.chunkedEncoding && !exchange.noBody && !exchange.http2) exchange.closeDelimited = true;
  }
}
