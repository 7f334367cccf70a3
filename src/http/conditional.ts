/**
 * Conditional requests (RFC 9110 §13): one pure function that evaluates the precondition
 * headers in the order of precedence of §13.2.2 and says what to send, and the list of
 * headers a 304 drops.
 *
 * ```ts
 * const result = evaluatePreconditions(
 *   { method: 'GET', ifNoneMatch: '"v1"', range: 'bytes=0-99' },
 *   { status: 200, etag: '"v1"', lastModified: new Date() },
 * );
 * // { outcome: 'not-modified', status: 304, range: false, decidedBy: 'if-none-match' }
 * ```
 *
 * @module
 */
import { httpSeconds, parseHttpDate } from './dates.ts';
import { EtagSet, parseEtag } from './etag.ts';
import { evaluateIfRange } from './range.ts';
import { isBlank } from './syntax.ts';

/** The request side: the method and the raw precondition headers (absent: `null`/omitted). */
export interface PreconditionRequest {
  /** The request method, case-sensitive (`GET`, `HEAD`, `PUT`, …). */
  method: string;
  /** `If-Match` (§13.1.1): `*` or a list of entity-tags, compared strongly; unparsable matches nothing. */
  ifMatch?: string | null | undefined;
  /** `If-None-Match` (§13.1.2): `*` or a list of entity-tags, compared weakly; unparsable matches nothing. */
  ifNoneMatch?: string | null | undefined;
  /** `If-Modified-Since` (§13.1.3): an HTTP-date; used for GET and HEAD only, ignored when not a valid date or when `If-None-Match` is sent. */
  ifModifiedSince?: string | null | undefined;
  /** `If-Unmodified-Since` (§13.1.4): an HTTP-date; ignored when not a valid date or when `If-Match` is sent. */
  ifUnmodifiedSince?: string | null | undefined;
  /** `If-Range` (§13.1.5): an entity-tag (compared strongly) or an HTTP-date (must equal `Last-Modified` to the second, one at least a second before the response's `date`); decides whether `Range` applies (see `evaluateIfRange`). */
  ifRange?: string | null | undefined;
  /** `Range` (§14.2): only whether a non-blank one was sent matters here; parse it with `parseRange` when the result's `range` is true. */
  range?: string | null | undefined;
}

/** The response side: what would be sent without the preconditions. */
export interface PreconditionResource {
  /** The status without preconditions; default 200. */
  status?: number | undefined;
  /** The representation's current `ETag` value (`"x"` or `W/"x"`), if it has one. */
  etag?: string | null | undefined;
  /** Its `Last-Modified`, as a `Date` or a header value, if known. */
  lastModified?: Date | string | null | undefined;
  /**
   * When the response is sent (its `Date`), as a `Date` or an HTTP-date header value; default
   * (and for a value that is not an HTTP-date) now. Used only for `If-Range`: a date there
   * matches only a `Last-Modified` at least one second before this one (RFC 9110 §8.8.2.2,
   * see `evaluateIfRange`).
   */
  date?: Date | string | null | undefined;
  /**
   * Whether a current representation exists (what `*` matches); default true. Pass false
   * for e.g. a PUT that would create the resource.
   */
  exists?: boolean | undefined;
}

/** What to do: send the response as planned, a 304, or a 412. */
export type PreconditionOutcome = 'proceed' | 'not-modified' | 'precondition-failed';

/** The answer of {@link evaluatePreconditions}. */
export interface PreconditionResult {
  /** `proceed` (send as planned), `not-modified` (send 304) or `precondition-failed` (send 412). */
  readonly outcome: PreconditionOutcome;
  /** The status to send: the planned one, 304 or 412. */
  readonly status: number;
  /**
   * True when the `Range` header should be evaluated (with `parseRange`): the outcome is
   * `proceed`, the method is GET, the status 200, a `Range` was sent and `If-Range` (if any)
   * holds. False means: ignore `Range`, send the whole representation.
   */
  readonly range: boolean;
  /** The header that decided a 304 or 412. */
  readonly decidedBy?: 'if-match' | 'if-unmodified-since' | 'if-none-match' | 'if-modified-since' | undefined;
}

/** Methods that select no representation, whose preconditions are ignored (§13.2.1). */
const IGNORING_METHODS = new Set(['CONNECT', 'OPTIONS', 'TRACE']);

/**
 * Evaluates preconditions in RFC 9110 §13.2.2 order:
 *
 * 1. `If-Match` (strong comparison; `*` matches when the representation exists); false → 412.
 * 2. Else `If-Unmodified-Since` (ignored when not a single valid HTTP-date or when
 *    `lastModified` is unknown); modified since → 412.
 * 3. `If-None-Match` (weak comparison; `*` matches when it exists); a match → 304 for GET
 *    and HEAD, 412 for other methods.
 * 4. Else, for GET and HEAD, `If-Modified-Since` (ignored like step 2); not modified → 304.
 * 5. For GET on a 200, `Range` applies unless `If-Range` fails (see `evaluateIfRange`).
 *
 * All preconditions are ignored (outcome `proceed`) when the planned status is neither 2xx
 * nor 412, and for CONNECT, OPTIONS and TRACE (§13.2.1). A present but unparsable `If-Match`
 * matches nothing (→ 412); an unparsable `If-None-Match` matches nothing (→ proceed). Dates
 * compare at one-second resolution. Never throws.
 */
export function evaluatePreconditions(
  request: PreconditionRequest,
  resource: PreconditionResource = {},
): PreconditionResult {
  const status = resource.status ?? 200;
  const method = request.method;
  const proceed = (range: boolean): PreconditionResult => ({ outcome: 'proceed', status, range });
  if (IGNORING_METHODS.has(method) || !((status >= 200 && status < 300) || status === 412)) {
    return proceed(false);
  }
  const exists = resource.exists ?? true;
  const etag = exists ? (resource.etag ?? null) : null;
  // The `ETag` as sent: read as a received value is (`parseEtag`), not as a tag code gives.
  const tag = parseEtag(etag);
  const lastModified = exists ? toDate(resource.lastModified) : null;
  const getOrHead = method === 'GET' || method === 'HEAD';

  const ifMatch = new EtagSet(request.ifMatch);
  if (ifMatch.present) {
    const holds = ifMatch.any ? exists : tag !== null && ifMatch.contains(tag);
    if (!holds) return failed('if-match');
  } else {
    const since = parseHttpDate(request.ifUnmodifiedSince);
    if (since && lastModified && httpSeconds(lastModified) > httpSeconds(since)) {
      return failed('if-unmodified-since');
    }
  }

  const ifNoneMatch = new EtagSet(request.ifNoneMatch);
  if (ifNoneMatch.present) {
    const matches = ifNoneMatch.any ? exists : tag !== null && ifNoneMatch.contains(tag, { weak: true });
    if (matches) return getOrHead ? notModified('if-none-match') : failed('if-none-match');
  } else if (getOrHead) {
    const since = parseHttpDate(request.ifModifiedSince);
    if (since && lastModified && httpSeconds(lastModified) <= httpSeconds(since)) {
      return notModified('if-modified-since');
    }
  }

  const wantsRange = typeof request.range === 'string' && !isBlank(request.range);
  if (method !== 'GET' || status !== 200 || !wantsRange) return proceed(false);
  return proceed(evaluateIfRange(request.ifRange, { etag, lastModified, date: resource.date }));
}

function failed(decidedBy: PreconditionResult['decidedBy']): PreconditionResult {
  return { outcome: 'precondition-failed', status: 412, range: false, decidedBy };
}

function notModified(decidedBy: PreconditionResult['decidedBy']): PreconditionResult {
  return { outcome: 'not-modified', status: 304, range: false, decidedBy };
}

function toDate(value: Date | string | null | undefined): Date | null {
  if (value == null) return null;
  const date = typeof value === 'string' ? parseHttpDate(value) : value;
  return date && !Number.isNaN(date.getTime()) ? date : null;
}

/**
 * Representation headers a 304 does not carry (RFC 9110 §15.4.5: it sends only what helps a
 * cache update; `ETag`, `Last-Modified`, `Cache-Control`, `Expires`, `Vary`,
 * `Content-Location` and `Date` stay). Werkzeug's list (minus `Last-Modified`, which RFC 9110
 * finds useful to caches) plus `Content-Disposition`, `Transfer-Encoding` and `Content-Digest`
 * (RFC 9530 §2: the digest of the message's content, which a 304 has none of; like
 * `Content-MD5`, RFC 1864), lower-case. `Repr-Digest` and `Digest`, of the representation the
 * cache holds, stay.
 */
export const NOT_MODIFIED_DROPPED_HEADERS: ReadonlySet<string> = new Set([
  'allow',
  'content-digest',
  'content-disposition',
  'content-encoding',
  'content-language',
  'content-length',
  'content-md5',
  'content-range',
  'content-type',
  'transfer-encoding',
]);

/**
 * Fields of a planned response a 412 or 416 made in its place drops, lower-case: those that
 * describe its representation (the content the error does not send): those a 304 drops, plus
 * the validators (`ETag`, `Last-Modified`), `Content-Location` and the digests
 * (`Content-Digest`, `Repr-Digest`, `Digest`; RFC 9530), which an error body would claim to be
 * that content's; and its freshness (`Cache-Control`, `Expires`, `Pragma`), which would make
 * the error storable (RFC 9111 §3): a shared cache keys on the URL, not on `If-Match` or
 * `Range`, and would serve the 412 or 416 to requests that asked for the page itself. Neither
 * status is cacheable by heuristics (RFC 9110 §15.1), so without them the error is not stored.
 */
export const ERROR_DROPPED_HEADERS: ReadonlySet<string> = new Set([
  ...NOT_MODIFIED_DROPPED_HEADERS,
  'cache-control',
  'content-location',
  'content-digest',
  'digest',
  'etag',
  'expires',
  'last-modified',
  'pragma',
  'repr-digest',
]);

/**
 * The fields of a planned response a 412 or 416 made in its place keeps (order kept): those
 * describing the response rather than the representation (`Set-Cookie`, `Vary`,
 * `Access-Control-*`, the app's own), without {@link ERROR_DROPPED_HEADERS}.
 * Werkzeug's 412 and WebOb's 416 keep the response's headers likewise; RFC 9110 §15.5.13 asks
 * nothing more of a 412, §15.5.17 a `Content-Range: bytes *\/length` of a 416 (added by the
 * caller).
 */
export function failedConditionHeaders(headers: Iterable<readonly [string, string]>): Array<[string, string]> {
  return headersWithout(headers, ERROR_DROPPED_HEADERS);
}

/** The headers of a 304 made from a planned response's headers (order kept). */
export function notModifiedHeaders(headers: Iterable<readonly [string, string]>): Array<[string, string]> {
  return headersWithout(headers, NOT_MODIFIED_DROPPED_HEADERS);
}

/** `headers` without the fields named in `dropped` (lower-case), order kept. */
function headersWithout(headers: Iterable<readonly [string, string]>, dropped: ReadonlySet<string>): Array<[string, string]> {
  const kept: Array<[string, string]> = [];
  for (const [name, value] of headers) {
    if (!dropped.has(name.toLowerCase())) kept.push([name, value]);
  }
  return kept;
}
