/**
 * Serving a `Response` whose `conditionalResponse` is on (WebOb's `conditional_response`):
 * the preconditions of RFC 9110 §13.2.2 and byte ranges (§14) are decided when the response
 * is served, from the request's headers and the response's `ETag`, `Last-Modified`,
 * `Content-Length` and status. A streamed body is sliced as it streams, never buffered.
 *
 * @module
 */
import { type Body, type Environ, type StartResponse } from '../gateway/types.ts';
import { closingSource, discardBody } from '../gateway/body.ts';
import { HeaderList } from '../http/header-list.ts';
import { codingsOf } from '../http/codings.ts';
import { type PreconditionResult, evaluatePreconditions, failedConditionHeaders, notModifiedHeaders } from '../http/conditional.ts';
import { type ByteRange, formatContentRange, parseRange } from '../http/range.ts';
import { MultipartByteranges, sliceBody } from '../http/range-body.ts';
import { serveErrorBody } from './error-body.ts';

/** The description of the 412 answer (and of `HTTPPreconditionFailed`). */
export const PRECONDITION_FAILED = 'A precondition of the request did not hold.';

/** The description of the 416 answer (and of `HTTPRangeNotSatisfiable`). */
export const RANGE_NOT_SATISFIABLE = 'The requested range cannot be served.';

/** `generator` reading `source`, as a body whose early close also closes `source` (see `closingSource`). */
function closing(generator: AsyncGenerator<Uint8Array, void, undefined>, source: Body): AsyncIterable<Uint8Array> {
  return closingSource(generator, () => void discardBody(source));
}

function header(environ: Environ, key: string): string | null {
  const value = environ[key];
  return typeof value === 'string' ? value : null;
}

/**
 * A response as planned before preconditions and ranges are looked at: what
 * {@link servePlanned} serves.
 */
export interface PlannedResponse {
  /** The planned status code, e.g. `200`. */
  readonly statusCode: number;
  /** The planned status line, e.g. `'200 OK'`, sent when the plan goes ahead. */
  readonly status: string;
  /**
   * The planned header fields, holding the `ETag` and `Last-Modified` the preconditions are
   * compared with. Never changed: a copy is made when fields must be added.
   */
  readonly headers: HeaderList;
  /** The body: bytes in memory, or a stream (closed unread when it is not sent). */
  readonly body: Uint8Array | Body;
  /** The body's complete length in bytes; `null` when unknown, which turns ranges off. */
  readonly length: number | null;
  /**
   * Reads bytes `range.start` to `range.end` (inclusive) of the body, e.g. with positional
   * reads of a file (see `MultipartByteranges.stream`). When given, a 206 is sent from it and
   * the planned `body` is closed unread; default: the ranges are cut from `body`.
   */
  readonly readRange?: ((range: ByteRange) => Body) | undefined;
}

/** True when `headers` name a content coding other than `identity` (RFC 9110 §8.4). */
function hasContentCoding(headers: HeaderList): boolean {
  return headers.getAll('content-encoding').some((value) => codingsOf(value, 'identity').length > 0);
}

/**
 * The digests of the content as sent, which a part of it does not match: `Content-Digest`
 * (RFC 9530 §2: of the message content; a 206's is the part's, Appendix B.3) and `Content-MD5`
 * (RFC 1864: of the body sent). Dropped from a 206 rather than computed again over the part.
 * `Repr-Digest` (RFC 9530 §3) and `Digest` (RFC 3230 §4.3.2) are of the whole representation,
 * which the part is a range of: they stay.
 */
const CONTENT_DIGEST_FIELDS = ['content-digest', 'content-md5'];

/** The methods whose answer is the selected representation itself, evaluated for preconditions. */
const SELECTING_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);
const PROCEED: PreconditionResult = { outcome: 'proceed', status: 200, range: false };

/**
 * Serves `plan` with preconditions and ranges evaluated, in this order:
 *
 * 1. For GET and HEAD, `evaluatePreconditions` (If-Match, If-Unmodified-Since, If-None-Match,
 *    If-Modified-Since) against the planned `ETag` and `Last-Modified`, for a 2xx status:
 *    **304** with the headers `notModifiedHeaders` keeps and no body, or **412** (the body of
 *    an `HTTPPreconditionFailed`, negotiated by `Accept`, with `Vary: Accept`, after the
 *    planned fields `failedConditionHeaders` keeps: `Set-Cookie`, `Vary`, `Cache-Control`…). The planned
 *    body is closed unread. Another method's answer (PUT, POST, DELETE, PATCH…) is made
 *    after the method was performed, with the new state's validators: its preconditions are
 *    not evaluated (a 412 then would hide a write that happened, RFC 9110 §13.1.1); the
 *    handler checks them before writing.
 * 2. A 200 to GET or HEAD whose length is known gets `Accept-Ranges: bytes`, unless the plan
 *    has `Accept-Ranges` already; `Accept-Ranges: none` turns ranges off.
 * 3. For GET, when `If-Range` (if any) holds, `Range` is evaluated with `parseRange`: one range
 *    → **206** with `Content-Range` and the slice (without the whole content's
 *    `Content-Digest` and `Content-MD5`, which the part does not match; RFC 9530 §2); several → **206** `multipart/byteranges`
 *    (overlapping ranges coalesced, exact `Content-Length`), or the whole 200 when the plan
 *    has a `Content-Encoding` (the multipart body would be mislabelled as coded); none
 *    satisfiable → **416** with `Content-Range: bytes *\/length` (the body of an
 *    `HTTPRangeNotSatisfiable`, negotiated, with `Vary: Accept` and the fields
 *    `failedConditionHeaders` keeps); an ignored header (bad
 *    syntax, another unit, over 100 ranges) → the whole 200. The slices come from
 *    `plan.readRange` when given, else from the body.
 * 4. HEAD gets the headers of what GET would get, without a body (the planned one is closed
 *    unread).
 *
 * Every answer that sends none of the planned bytes (304, 412, 416, HEAD, an empty body in
 * memory) is an array, so a caller knows nothing will read its source; so is a 206 cut from
 * bytes in memory, one range or several, without `readRange`.
 * A streamed body shorter than its length makes the sliced body throw, so the server aborts
 * the connection instead of ending it cleanly.
 *
 * @throws what `startResponse` throws.
 */
export function servePlanned(plan: PlannedResponse, environ: Environ, startResponse: StartResponse): Body {
  const method = environ.REQUEST_METHOD;
  const { statusCode: status, headers: planned, body, length, readRange } = plan;
  // A write's answer is made after the write: its validators are the new state's, so the
  // preconditions the write was made under cannot be evaluated against them (RFC 9110 §13.1.1:
  // the method must not be performed when they fail). The handler checks them first.
  const result = !SELECTING_METHODS.has(method) ? PROCEED : evaluatePreconditions(
    {
      method,
      ifMatch: header(environ, 'HTTP_IF_MATCH'),
      ifNoneMatch: header(environ, 'HTTP_IF_NONE_MATCH'),
      ifModifiedSince: header(environ, 'HTTP_IF_MODIFIED_SINCE'),
      ifUnmodifiedSince: header(environ, 'HTTP_IF_UNMODIFIED_SINCE'),
      ifRange: header(environ, 'HTTP_IF_RANGE'),
      range: header(environ, 'HTTP_RANGE'),
    },
    {
      status,
      etag: planned.get('etag'),
      lastModified: planned.get('last-modified'),
      // Looked up only for an If-Range (its date must be a second older); none: now.
      date: environ.HTTP_IF_RANGE === undefined ? undefined : planned.get('date'),
    },
  );
  // The body is closed once the head is accepted: a `startResponse` that throws (a layer above
  // refusing it) leaves it to the caller, which closes it then (see `serveWithoutCalls`).
  if (result.outcome === 'not-modified') {
    startResponse('304 Not Modified', notModifiedHeaders(planned.list));
    discardBody(body);
    return [];
  }
  if (result.outcome === 'precondition-failed') {
    const answer = serveErrorBody(412, PRECONDITION_FAILED, failedConditionHeaders(planned.list), environ, startResponse);
    discardBody(body);
    return answer;
  }

  const head = method === 'HEAD';
  const streamed = !(body instanceof Uint8Array);
  const acceptRanges = planned.get('accept-ranges');
  const rangeable = status === 200 && length !== null && (method === 'GET' || head) && acceptRanges?.trim().toLowerCase() !== 'none';
  let headers = planned;
  if (rangeable && acceptRanges === null) headers = new HeaderList(planned).set('Accept-Ranges', 'bytes');

  if (rangeable && result.range) {
    const wanted = parseRange(header(environ, 'HTTP_RANGE'), length);
    if (wanted.kind === 'unsatisfiable') {
      const fields = failedConditionHeaders(planned.list);
      fields.unshift(['Content-Range', formatContentRange(null, length)]);
      const answer = serveErrorBody(416, RANGE_NOT_SATISFIABLE, fields, environ, startResponse);
      discardBody(body);
      return answer;
    }
    // Several ranges of coded bytes would make a multipart body that the representation's
    // `Content-Encoding` mislabels (clients decode it as gzip): the whole 200 is sent instead.
    if (wanted.kind === 'satisfiable' && (wanted.ranges.length === 1 || !hasContentCoding(planned))) {
      const ranges = wanted.ranges;
      if (headers === planned) headers = new HeaderList(planned);
      for (const name of CONTENT_DIGEST_FIELDS) headers.delete(name);
      if (readRange) discardBody(body);
      let partial: Body;
      if (ranges.length === 1) {
        const range = ranges[0]!;
        headers.set('Content-Range', formatContentRange(range, length));
        headers.set('Content-Length', range.end - range.start + 1);
        if (readRange) partial = readRange(range);
        else partial = streamed ? closing(sliceBody(body, range), body) : [body.subarray(range.start, range.end + 1)];
      } else {
        const parts = new MultipartByteranges(ranges, { size: length, contentType: planned.get('content-type') });
        headers.set('Content-Type', parts.contentType);
        headers.set('Content-Length', parts.length);
        if (readRange) partial = parts.stream(readRange);
        // Bytes in memory give their parts in memory: a layer above (`etag`) can tell it so.
        else partial = streamed ? closing(parts.stream(body), body) : parts.chunks(body);
      }
      startResponse('206 Partial Content', headers.list);
      return partial;
    }
  }

  startResponse(plan.status, headers.list);
  if (head) {
    discardBody(body);
    return [];
  }
  if (streamed) return body;
  return body.byteLength === 0 ? [] : [body];
}
