/**
 * The status and header fields of a fetch `Response`, from what the app gave to
 * `startResponse`: the same checks and drops as the Node adapter's `sendHead`.
 *
 * @module
 */
import { type ParsedStatus, hasNoContent } from '../../gateway/status.ts';
import { appDeclaredLength, checkDeclaredLength, fieldRole } from '../../gateway/head-rules.ts';
import { neverStarted } from '../../gateway/start-errors.ts';
import { fieldsAsText, inWorkers } from '../../gateway/workers.ts';
import { inDeno } from '../../gateway/runtime.ts';
import { assertHeader } from '../../gateway/fields.ts';

/** What a fetch `Response` is built from. */
export interface FetchHead {
  /** The status code, 200–599 (fetch refuses others: the constructor throws a RangeError). */
  code: number;
  /** The reason phrase, for `statusText`. */
  reason: string;
  /** The header fields to send, in order (several `Set-Cookie` stay several). */
  fields: Array<[string, string]>;
  /** The app's `Content-Length`, or -1. */
  declared: number;
  /** True when the response carries no body: HEAD, 1xx, 204, 205, 304. */
  noBody: boolean;
  /**
   * True for an answer to HEAD that goes without `Content-Length` (the GET body's length is not
   * known): {@link fetchResponse} then gives the runtime a body of unknown length, not `null`.
   */
  unframed: boolean;
}

/**
 * True for a status whose answer must carry no content, and whose `Content-Length` (the app's)
 * is dropped: 204 No Content (RFC 9110 §8.6) and 205 Reset Content (§15.3.6; `0` takes its
 * place: {@link RESET_LENGTH}). A fetch `Response` refuses a body with either (they are null
 * body statuses of the Fetch Standard), so a body the app gives them is dropped, as for HEAD,
 * rather than answered 500.
 */
const dropsContentLength = (code: number): boolean => code === 204 || code === 205;

/**
 * The framing of a 205's empty content (RFC 9110 §15.3.6, docs/spec.md §7.1), as `serve()` sends
 * it: without it `@hono/node-server` sent the null body chunked, a zero-length chunk.
 */
const RESET_LENGTH: [string, string] = ['Content-Length', '0'];

/**
 * Checks the status and headers an app gave and answers what to send. `status` is the one the
 * app gave, parsed when it was given (`givenStatus`): its parse, or the TypeError that refuses it. `length` is the body
 * length when the whole body is in hand: an app `Content-Length` must then match it (not for
 * HEAD, where it describes the GET body); for HEAD without one, a non-empty length is added as
 * `Content-Length` (the runtime computes it for the other answers). A 204 or 205 carries no
 * body and no app `Content-Length` (RFC 9110 §8.6, §15.3.6): whatever body the app gives it is
 * dropped, and a 205 is framed with `Content-Length: 0` instead, as `serve()` frames it; hop-by-hop fields are dropped (the runtime owns the connection, so
 * `Connection: close` is dropped too). The fields sent are checked against the gateway rules
 * (`assertHeader`, docs/spec.md §5: a token name, a value of HTAB, SP, VCHAR and U+0080–U+00FF
 * only), as Node's `writeHead` checks them under `serve()`.
 *
 * @throws TypeError for anything the app got wrong: no `startResponse`, an invalid or 1xx
 *   status, a header that is not a pair of strings or breaks those rules, a bad or mismatched
 *   `Content-Length`.
 */
export function fetchHead(
  status: Readonly<ParsedStatus> | TypeError | undefined,
  headers: Array<[string, string]> | undefined,
  method: string,
  length: number | undefined,
): FetchHead {
  if (status === undefined || headers === undefined) throw neverStarted();
  if (status instanceof TypeError) throw status;
  const { code, reason } = status;
  const pairs = headers!;
  let fields = pairs;
  let declared = -1;
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i]!;
    const role = fieldRole(pair, i);
    let drop = role !== '';
    if (role === 'content-length') {
      declared = appDeclaredLength(pair[1], declared);
      drop = dropsContentLength(code);
    }
    if (drop) {
      if (fields === pairs) fields = pairs.slice(0, i);
    } else {
      // Checked here, as Node's writeHead checks them under serve(): fetch's `Headers` take a
      // control character and send it, and @hono/node-server's `Response` checks nothing until
      // its writeHead throws, answered by its own 500 that shows the client the error message.
      assertHeader(pair[0], pair[1]);
      if (fields !== pairs) fields.push(pair);
    }
  }
  if (code === 205) fields = fields === pairs ? [...pairs, RESET_LENGTH] : (fields.push(RESET_LENGTH), fields);
  const head = method === 'HEAD';
  const bodiless = hasNoContent(code);
  if (length !== undefined && !bodiless) checkDeclaredLength(declared, length, head);
  const known = length !== undefined && length !== 0;
  if (head && declared === -1 && known && !bodiless) {
    fields = fields === pairs ? [...pairs, ['Content-Length', String(length)]] : (fields.push(['Content-Length', String(length)]), fields);
  }
  return { code, reason, fields, declared, noBody: head || bodiless, unframed: head && declared === -1 && !known && !bodiless };
}

/**
 * True on Deno, whose `Response` builds its `Headers` from an init about 2 µs slower (six
 * fields) than by appending to them afterwards. Elsewhere the init is the faster way (Bun
 * builds its `Headers` fastest from a record) or the only faithful one: `@hono/node-server`'s
 * `Response` adds a default `Content-Type` to a bytes body when its `headers` are read, and
 * reading them leaves its fast path.
 */
const APPEND_FIELDS = inDeno;

/**
 * The fetch `Response` of `head` with `body` (`null` for none; for a HEAD of unknown length, a
 * body that ends at once: see {@link unknownLength}): the fields in the constructor's init (a record
 * when no name repeats, which the runtimes build their `Headers` from fastest, else the
 * pairs), or on Deno appended to the new response's `headers` (see {@link APPEND_FIELDS}).
 * The fields and their checks are the same either way: the Fetch Standard fills `Headers`
 * from an init by the same append. On workerd, values of octets above 0x7F go as the text
 * those octets are the UTF-8 of (`fieldsAsText`), so that the same octets go out.
 */
export function fetchResponse(given: Uint8Array | ReadableStream<Uint8Array> | null, head: FetchHead): Response {
  const body = given === null && head.unframed ? unknownLength() : given;
  const fields = inWorkers ? fieldsAsText(head.fields) : head.fields;
  if (inWorkers && isCoded(fields)) {
    return new globalThis.Response(body, { status: head.code, statusText: head.reason, headers: toInit(fields), encodeBody: 'manual' } as ResponseInit);
  }
  if (!APPEND_FIELDS) {
    return new globalThis.Response(body, { status: head.code, statusText: head.reason, headers: toInit(fields) });
  }
  const response = new globalThis.Response(body, { status: head.code, statusText: head.reason });
  const headers = response.headers;
  for (let i = 0; i < fields.length; i++) headers.append(fields[i]![0], fields[i]![1]);
  return response;
}

/**
 * An empty body that ends a turn later, for an answer to HEAD without `Content-Length`: Bun and
 * Deno frame a `null` body (and Bun a stream already ended) with `Content-Length: 0`, which a
 * HEAD must not claim unless the GET body is empty (RFC 9110 §8.6); `serve()` sends no length
 * there. Given this, Deno sends no length and Bun `Transfer-Encoding: chunked`, the GET's
 * framing; no runtime sends a HEAD any content.
 */
function unknownLength(): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async pull(controller) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      controller.close();
    },
  });
}

/**
 * True when the fields name a `Content-Encoding`: the body is then already coded (by
 * `compress`, or by the app itself). workerd reads that field on a `Response` as an order
 * to encode the body itself unless the init says `encodeBody: 'manual'`, so without it a gzip
 * or br answer went out coded twice, and buffered whole.
 */
function isCoded(fields: Array<[string, string]>): boolean {
  for (let i = 0; i < fields.length; i++) {
    const name = fields[i]![0];
    if (name.length === 16 && name.toLowerCase() === 'content-encoding') return true;
  }
  return false;
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
