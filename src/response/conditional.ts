/**
 * Serving a `Response` whose `conditionalResponse` is on (WebOb's `conditional_response`):
 * the preconditions of RFC 9110 §13.2.2 and byte ranges (§14) are decided when the response
 * is served, from the request's headers and the response's `ETag`, `Last-Modified`,
 * `Content-Length` and status. A streamed body is sliced as it streams, never buffered.
 *
 * @module
 */
import { type Body, type Environ, type StartResponse, closeBody, openBody } from '../gateway.ts';
import { Headers } from '../datastructures/headers.ts';
import { HTTPPreconditionFailed, HTTPRangeNotSatisfiable } from '../exceptions.ts';
import { evaluatePreconditions, notModifiedHeaders } from '../http/conditional.ts';
import { formatContentRange, parseRange } from '../http/range.ts';
import { MultipartByteranges, sliceBody } from '../http/range-body.ts';
import type { Response } from '../response.ts';

/**
 * Closes a body that will not be sent: a generator's `return()` runs its `finally`, a Node
 * stream is destroyed. What that throws is ignored (the response is already decided).
 */
export function discardBody(body: Body | Uint8Array): void {
  if (body instanceof Uint8Array || Array.isArray(body)) return;
  const direct = body as { return?: () => unknown };
  try {
    if (typeof direct.return === 'function') {
      const result = direct.return();
      if (result instanceof Promise) result.catch(() => {});
      return;
    }
    closeBody(openBody(body));
  } catch {
    // closing is best effort
  }
}

/**
 * `generator` as a body that also closes `source` when it is closed before its first step (an
 * async generator that never started cannot close what it would have read).
 */
function closing(generator: AsyncGenerator<Uint8Array, void, undefined>, source: Body): AsyncIterable<Uint8Array> {
  let started = false;
  const iterator: AsyncIterableIterator<Uint8Array> = {
    next() {
      started = true;
      return generator.next();
    },
    async return() {
      await generator.return();
      if (!started) discardBody(source);
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

function header(environ: Environ, key: string): string | null {
  const value = environ[key];
  return typeof value === 'string' ? value : null;
}

/**
 * Serves `res` with preconditions and ranges evaluated, in this order:
 *
 * 1. `evaluatePreconditions` (If-Match, If-Unmodified-Since, If-None-Match,
 *    If-Modified-Since) against the response's `ETag` and `Last-Modified`, for a 2xx status:
 *    **304** with the headers `notModifiedHeaders` keeps and no body, or **412** (an
 *    `HTTPPreconditionFailed` body, negotiated by `Accept`). The planned body is closed unread.
 * 2. A 200 to GET or HEAD whose length is known (a body in memory, or a stream with
 *    `Content-Length`) gets `Accept-Ranges: bytes`, unless the response set `Accept-Ranges`
 *    itself; `Accept-Ranges: none` turns ranges off.
 * 3. For GET, when `If-Range` (if any) holds, `Range` is evaluated with `parseRange`: one range
 *    → **206** with `Content-Range` and the slice; several → **206** `multipart/byteranges`
 *    (overlapping ranges coalesced, exact `Content-Length`); none satisfiable → **416** with
 *    `Content-Range: bytes *\/length`; an ignored header (bad syntax, another unit, over 100
 *    ranges) → the whole 200.
 * 4. HEAD gets the headers of what GET would get, without a body.
 *
 * A streamed body shorter than its `Content-Length` makes the sliced body throw, so the server
 * aborts the connection instead of ending it cleanly.
 */
export function serveConditional(res: Response, environ: Environ, startResponse: StartResponse): Body {
  const method = environ.REQUEST_METHOD;
  const status = res.statusCode;
  const result = evaluatePreconditions(
    {
      method,
      ifMatch: header(environ, 'HTTP_IF_MATCH'),
      ifNoneMatch: header(environ, 'HTTP_IF_NONE_MATCH'),
      ifModifiedSince: header(environ, 'HTTP_IF_MODIFIED_SINCE'),
      ifUnmodifiedSince: header(environ, 'HTTP_IF_UNMODIFIED_SINCE'),
      ifRange: header(environ, 'HTTP_IF_RANGE'),
      range: header(environ, 'HTTP_RANGE'),
    },
    { status, etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified') },
  );
  const body = res.body;
  if (result.outcome === 'not-modified') {
    discardBody(body);
    startResponse('304 Not Modified', notModifiedHeaders(res.headers.list));
    return [];
  }
  if (result.outcome === 'precondition-failed') {
    discardBody(body);
    return new HTTPPreconditionFailed().getResponse(environ).respond(environ, startResponse);
  }

  const head = method === 'HEAD';
  const length = res.isStreamed ? res.contentLength : (body as Uint8Array).byteLength;
  const acceptRanges = res.headers.get('accept-ranges');
  const rangeable = status === 200 && length !== null && (method === 'GET' || head) && acceptRanges?.trim().toLowerCase() !== 'none';
  const headers = new Headers(res.headers);
  if (rangeable && acceptRanges === null) headers.set('Accept-Ranges', 'bytes');

  if (rangeable && result.range) {
    const wanted = parseRange(header(environ, 'HTTP_RANGE'), length);
    if (wanted.kind === 'unsatisfiable') {
      discardBody(body);
      return new HTTPRangeNotSatisfiable(undefined, { length }).getResponse(environ).respond(environ, startResponse);
    }
    if (wanted.kind === 'satisfiable') {
      const ranges = wanted.ranges;
      let partial: Body;
      if (ranges.length === 1) {
        const range = ranges[0]!;
        headers.set('Content-Range', formatContentRange(range, length));
        headers.set('Content-Length', range.end - range.start + 1);
        partial = res.isStreamed
          ? closing(sliceBody(body as Body, range), body as Body)
          : [(body as Uint8Array).subarray(range.start, range.end + 1)];
      } else {
        const parts = new MultipartByteranges(ranges, { size: length, contentType: res.headers.get('content-type') });
        headers.set('Content-Type', parts.contentType);
        headers.set('Content-Length', parts.length);
        partial = res.isStreamed ? closing(parts.stream(body as Body), body as Body) : parts.stream(body as Uint8Array);
      }
      startResponse('206 Partial Content', headers.list);
      return partial;
    }
  }

  startResponse(res.status, headers.list);
  if (head) {
    discardBody(body);
    return [];
  }
  if (res.isStreamed) return body as Body;
  const bytes = body as Uint8Array;
  return bytes.byteLength === 0 ? [] : [bytes];
}
