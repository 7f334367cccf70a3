/**
 * Converting between a `Response` and a fetch (WHATWG) `Response`: `Response.fromFetch()`
 * and `res.toFetch()`.
 *
 * @module
 */
import type { Body } from '../gateway/types.ts';
import { CONNECTION_FIELDS, isRequiredUpgrade } from '../gateway/fields.ts';
import { fromReadableStream, toReadableStream } from '../gateway/stream.ts';
import { bodyClosedEarly } from '../gateway/abort.ts';
import type { HeaderList, HeaderListInit } from '../http/header-list.ts';
import { READ_HOOK, type ResponseBody, TAKE_STREAM } from './body.ts';
import { bodilessFields } from './serve.ts';
import { bytesOnly } from './text-chunks.ts';
import { originDates } from '../http/origin-dates.ts';
import { fieldOctets, inWorkers } from '../gateway/workers.ts';

/** Statuses a fetch `Response` must have no body for (WHATWG Fetch "null body status"). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** Conversion of a `Response` to a fetch `Response` (installed on it; see `descriptors.ts`). */
export abstract class ResponseFetch {
  declare readonly headers: HeaderList;
  abstract get status(): string;
  abstract get statusCode(): number;
  abstract get body(): Uint8Array | Body;
  abstract isStreamed(): boolean;
  abstract [TAKE_STREAM](): Body;
  declare [READ_HOOK]: (() => void) | undefined;

  /**
   * This response as a fetch `Response` (for Bun, Deno, workers, or a framework's `fetch`
   * handler): the status and reason phrase, every header field in order (several
   * `Set-Cookie` lines stay several), and the body: bytes in memory as they are, a stream as
   * a pull-based `ReadableStream` whose cancel closes the body iterator. A status that may
   * carry no content (204, 205, 304) gets a `null` body, its stream closed, and no
   * `Content-Type` or `Content-Length` (a 304 keeps one that is not its empty body's, RFC 9110
   * §8.6). Hop-by-hop fields are left out. A `Last-Modified` later than the moment of the call
   * is sent as that moment, with a `Date` (RFC 9110 §8.8.2.1), as `respond()` sends it; the
   * response keeps its own.
   *
   * @throws RangeError for a status fetch cannot represent (below 200 or above 599);
   *   TypeError for a header value fetch refuses, and for a stream that can be read once and
   *   was already sent or read (see `respond`).
   */
  toFetch(): globalThis.Response {
    const headers = new globalThis.Headers();
    const code = this.statusCode;
    // Without content, the fields that describe it go too, as `respond()` drops them.
    // A future Last-Modified sent as now, with a Date from this clock (RFC 9110 §8.8.2.1), as `respond()` sends it.
    const sent = originDates(this.headers).list;
    const fields = NULL_BODY.has(code) ? bodilessFields(sent, code, this.isStreamed() ? -1 : (this.body as Uint8Array).byteLength) : sent;
    for (const [name, value] of fields) {
      if (!CONNECTION_FIELDS.has(name.toLowerCase())) headers.append(name, value);
    }
    const reason = this.status.slice(4);
    let body: Uint8Array | ReadableStream<Uint8Array> | null;
    const stream = this.isStreamed() ? this[TAKE_STREAM]() : null;
    if (stream === null) this[READ_HOOK]?.();
    if (NULL_BODY.has(code)) {
      body = null;
      if (stream !== null) void toReadableStream(stream).cancel();
    } else {
      body = stream !== null ? toReadableStream(stream) : (this.body as Uint8Array);
    }
    return new globalThis.Response(body, { status: code, statusText: reason, headers });
  }
}

/** The constructor of a `Response` or of a subclass (see `Response.fromFetch`). */
type ResponseClass<R> = new (body?: ResponseBody, init?: { status?: number | string | undefined; headers?: HeaderListInit | undefined; contentType?: string | null | undefined }) => R;

/** `Response.fromFetch(response)` for the class `Class` (see there). */
export function fromFetchResponse<R extends { readonly headers: HeaderList }>(Class: ResponseClass<R>, response: globalThis.Response): R {
  if (response.bodyUsed) throw new TypeError('the fetch response body was already read');
  // A WHATWG Fetch "network error": status 0, no fields, no body; what a service worker answers to fail the request.
  if (response.type === 'error') {
    throw new TypeError('Response.fromFetch: a network-error response (Response.error(): type "error", status 0) is no HTTP answer: fetch() never resolves with one; a handler answering it failed the request');
  }
  const fields: Array<[string, string]> = [];
  for (const [name, value] of response.headers) {
    // The fields the server drops from an app's answer, no more: `Proxy-Authenticate` stays (a
    // 407 must carry it; `fetch()` never yields one, a handler's own does), and so does a 426's
    // `Upgrade` (see `isRequiredUpgrade`).
    if (name === 'set-cookie' || (CONNECTION_FIELDS.has(name) && !isRequiredUpgrade(name, response.status))) continue;
    fields.push([name, inWorkers ? fieldOctets(value) : value]);
  }
  for (const cookie of response.headers.getSetCookie()) fields.push(['set-cookie', inWorkers ? fieldOctets(cookie) : cookie]);
  const status = response.statusText ? `${response.status} ${response.statusText}` : response.status;
  const body = response.body === null ? null : bytesOnly(fromReadableStream(response.body, undefined, bodyClosedEarly));
  const res = new Class(body, { status, headers: fields, contentType: null });
  // No body: maybe the answer to a HEAD, whose `Content-Length` is the length of the GET body it
  // does not carry, or none (RFC 9110 §8.6). The length declared is kept, as `getResponse` keeps a
  // HEAD answer's; without one, none is sent rather than the empty body's 0, which would tell a
  // HEAD client of a streamed GET that it is empty (the server sends 0 for a GET's empty body).
  if (body !== null) return res;
  const declared = response.headers.get('content-length')?.trim();
  if (declared !== undefined && /^\d+$/.test(declared)) res.headers.set('Content-Length', declared);
  else res.headers.delete('Content-Length');
  return res;
}
