/**
 * Writing the status line and headers of a response: checking what the app gave to
 * `startResponse`, dropping hop-by-hop fields, choosing the framing (`Content-Length`, chunked,
 * or close-delimited).
 *
 * @module
 */
import { hasNoContent, isBodilessStatus } from '../../gateway/status.ts';
import { appDeclaredLength, checkDeclaredLength, fieldRole, finalStatus } from '../../gateway/head-rules.ts';
import type { ExchangeState } from './state.ts';
import { assertHeader, isRequiredUpgrade } from '../../gateway/fields.ts';
import { http2FieldValue, writeHttp2Head } from './http2-compat.ts';
import vary from 'vary';
import { settleHead } from '../../gateway/server-status.ts';
import { writeHttp1Head } from './write-head.ts';

/** True when a Connection field value lists `option` (lower case: `close`, `upgrade`; RFC 9110 §7.6.1), case-insensitively. */
export function hasConnectionOption(value: string, option: string): boolean {
  for (const listed of value.split(',')) if (listed.trim().toLowerCase() === option) return true;
  return false;
}

/** `first` and the field names of `more` not in it, as one `Vary` value (`*` wins); a value that is not a list of tokens is appended as it is. */
function joinVary(first: string, more: string): string {
  try {
    return vary.append(first, more);
  } catch {
    return `${first}, ${more}`;
  }
}

/**
 * Keeps the list fields set on `res` before the app answered (by Express or Connect middleware
 * in front of `toNodeHandler`: `res.cookie()`, a session, the `cors` package's `Vary: Origin`)
 * when the app sends the same field. Node's `writeHead` replaces an earlier field of a name it
 * is given, which would drop them: `Set-Cookie` fields never replace one another (RFC 6265
 * §3), so the earlier ones go ahead of the app's; `Vary` lists are joined (RFC 9110 §12.5.5),
 * so a cache keys on both sides' fields. Any other field set earlier is replaced by the app's,
 * as `writeHead` does.
 */
function keepEarlierListFields(res: ExchangeState['res'], flat: string[]): void {
  const cookies = res.getHeader('set-cookie');
  const earlierVary = res.getHeader('vary');
  if (cookies === undefined && earlierVary === undefined) return;
  let ourCookies = false;
  let varyAt = -1;
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    if (name === 'set-cookie') ourCookies = true;
    else if (name === 'vary' && earlierVary !== undefined) {
      // One field with both lists: the earlier's fields first, the app's added once each.
      if (varyAt === -1) {
        varyAt = i;
        flat[i + 1] = joinVary(String(earlierVary), flat[i + 1]!);
      } else {
        flat[varyAt + 1] = joinVary(flat[varyAt + 1]!, flat[i + 1]!);
        flat.splice(i, 2);
        i -= 2;
      }
    }
  }
  if (!ourCookies || cookies === undefined) return;
  const kept: string[] = [];
  for (const value of Array.isArray(cookies) ? cookies : [String(cookies)]) kept.push('Set-Cookie', value);
  flat.unshift(...kept);
}

/**
 * Sends the status line and headers of `exchange`. `length` is the body length when known (the
 * whole body is in hand): it becomes `Content-Length` unless the app gave one, which must then
 * match. An app `Content-Length` on a 204 is dropped (RFC 9110 §8.6); a 205 gets
 * `Content-Length: 0` in place of the app's, as it carries no content (§15.3.6); hop-by-hop
 * fields are dropped, `Connection: close` honoured, but a 426's `Upgrade` on HTTP/1.1, sent
 * with `Connection: upgrade` (`isRequiredUpgrade`); HEAD, 204, 205 and 304 are marked
 * bodiless (`noBody`: the caller writes none of the app's bytes).
 *
 * @throws TypeError for anything the app got wrong (no startResponse, invalid status or
 *   header, bad or mismatched Content-Length); nothing has been written then. Field names and
 *   values are checked on HTTP/2 as Node checks them on HTTP/1.1 (`assertHeader`: a token, no
 *   CR, LF, NUL or character above U+00FF); there, a value's leading and trailing blanks are
 *   dropped (`http2FieldValue`).
 */
export function sendHead(exchange: ExchangeState, length: number | undefined): void {
  const headers = exchange.headers;
  const { code, reason } = finalStatus(exchange.status, headers);
  const res = exchange.res;
  // Room for every pair and the Content-Length added below, filled by index and the unused
  // slots popped: an empty list gets 17 slots at its first push (V8's growth), about 100 bytes
  // more a response.
  const flat: string[] = new Array<string>(2 * headers!.length + 2);
  let n = 0;
  const http2 = exchange.http2;
  // A 426's Upgrade goes on HTTP/1.1 (`isRequiredUpgrade`), with `Connection: upgrade`.
  const upgrades = code === 426 && !http2 && exchange.environ.SERVER_PROTOCOL === 'HTTP/1.1';
  let upgrade = false;
  let declared = -1;
  for (let i = 0; i < headers!.length; i++) {
    const pair = headers![i]!;
    const role = fieldRole(pair, i);
    if (role !== '') {
      if (role === 'content-length') {
        declared = appDeclaredLength(pair[1], declared);
        // RFC 9110 §8.6: never on a 204; a 205's is replaced by 0 below (§15.3.6).
        if (code === 204 || code === 205) continue;
      } else if (upgrades && isRequiredUpgrade(role, code)) {
        upgrade = true;
      } else {
        if (role === 'connection' && hasConnectionOption(pair[1], 'close')) res.shouldKeepAlive = false;
        continue;
      }
    }
    // Node checks names and values on HTTP/1.1 only: its HTTP/2 response would send a CR, LF or
    // NUL (RFC 9113 §8.2.1: a malformed answer, split in two by a proxy that turns it into HTTP/1.1),
    // or the blanks around a value that make a client drop the field.
    if (http2) {
      assertHeader(pair[0], pair[1]);
      flat[n++] = pair[0];
      flat[n++] = http2FieldValue(pair[1]);
    } else {
      flat[n++] = pair[0];
      flat[n++] = pair[1];
    }
  }
  const head = exchange.environ.REQUEST_METHOD === 'HEAD';
  const bodiless = isBodilessStatus(code);
  exchange.noBody = head || hasNoContent(code);
  // A 205 still frames its empty content (§15.3.6), whatever body the app gave.
  if (code === 205) {
    flat[n++] = 'Content-Length';
    flat[n++] = '0';
  }
  else if (length !== undefined && !bodiless) {
    if (declared === -1) {
      // A HEAD answered with an empty body says nothing about the GET body's length.
      if (!head || length !== 0) {
        flat[n++] = 'Content-Length';
        flat[n++] = String(length);
      }
    } else checkDeclaredLength(declared, length, head);
  }
  if (exchange.state?.closing) res.shouldKeepAlive = false;
  exchange.checkUnreadBody();
  // RFC 9110 §7.8: the sender of Upgrade lists it in Connection. A Connection field makes Node
  // leave out its own and keep the connection unless it says `close`, so it says so here when
  // the connection is to end (after an unread body too, which the line above decides).
  if (upgrade) {
    flat[n++] = 'Connection';
    flat[n++] = res.shouldKeepAlive ? 'upgrade' : 'close, upgrade';
  }
  // No hole may reach Node: the slots of dropped fields go (`pop`, not `length =`, a slow path).
  while (flat.length > n) flat.pop();
  // Only on someone else's server (`toNodeHandler`) can fields be on `res` before the app answered.
  const embedded = exchange.state === undefined;
  if (embedded) keepEarlierListFields(res, flat);
  // Throws for invalid names and values before anything is written. HTTP/2 has no reason
  // phrase (RFC 9113 §8.3.2): Node warns when given one.
  if (exchange.http2) writeHttp2Head(res, code, flat);
  else if (embedded) writeHttp1Head(res, code, reason, flat);
  else res.writeHead(code, reason, flat);
  if (length === undefined) {
    // A stream must match the length it declared: on HTTP/1.1 Node throws on the write or end
    // that breaks it; its HTTP/2 response has no such check, so `pump` counts (RFC 9113 §8.1.1).
    if (declared !== -1) {
      if (exchange.http2) exchange.declaredStreamLength = exchange.noBody ? -1 : declared;
      else res.strictContentLength = true;
    }
    else if (!res.chunkedEncoding && !exchange.noBody && !exchange.http2) exchange.closeDelimited = true;
  }
  // The head is out: what a layer left to run then (accessLog's line) runs now.
  settleHead(exchange.environ);
}
