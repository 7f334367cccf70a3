/**
 * The negotiation, conditional, caching and credential headers of a `Request`, parsed into
 * header objects and cached while the raw header is unchanged. Each never throws on a
 * malformed header, and each is settable with the raw header value (or `null` to remove it);
 * a value a header field cannot carry throws, as `req.headers.set` does.
 *
 * @module
 */
import { httpTime, liveCacheControl, parsed, text } from '../http/converters.ts';
import { PARSED, type ParsedValues, cachedField, field, fromEnviron, liveField } from '../http/descriptors.ts';
import type { Environ } from '../gateway/types.ts';
import { Accept, AcceptCharset, AcceptEncoding, AcceptLanguage } from '../http/accept.ts';
import { type Authorization, parseAuthorization } from '../http/authorization.ts';
import type { CacheControl } from '../http/cache-control.ts';
import { dateAt, parseHttpDate } from '../http/dates.ts';
import { type EntityTag, EtagSet, parseEtag } from '../http/etag.ts';
import { RANGE_OPTIONS, type RangeOptions, type RangeResult, parseRange } from '../http/range.ts';
import { checkOptions } from '../gateway/option-names.ts';

/** A request header parsed by `parse`, cached while unchanged, set as raw text. */
const header = <T>(key: string, parse: (raw: string | null) => T) => cachedField(fromEnviron(key), parsed(parse));

const ACCEPT = header('HTTP_ACCEPT', (raw) => new Accept(raw));
const ACCEPT_LANGUAGE = header('HTTP_ACCEPT_LANGUAGE', (raw) => new AcceptLanguage(raw));
const ACCEPT_ENCODING = header('HTTP_ACCEPT_ENCODING', (raw) => new AcceptEncoding(raw));
const ACCEPT_CHARSET = header('HTTP_ACCEPT_CHARSET', (raw) => new AcceptCharset(raw));
const IF_MATCH = header('HTTP_IF_MATCH', (raw) => new EtagSet(raw));
const IF_NONE_MATCH = header('HTTP_IF_NONE_MATCH', (raw) => new EtagSet(raw));
const IF_MODIFIED_SINCE = cachedField(fromEnviron('HTTP_IF_MODIFIED_SINCE'), httpTime);
const IF_UNMODIFIED_SINCE = cachedField(fromEnviron('HTTP_IF_UNMODIFIED_SINCE'), httpTime);
const IF_RANGE = header('HTTP_IF_RANGE', (raw) => parseEtag(raw) ?? parseHttpDate(raw)?.getTime() ?? null);
const RANGE = field(fromEnviron('HTTP_RANGE'), text);
const CACHE_CONTROL = liveField(fromEnviron('HTTP_CACHE_CONTROL'), liveCacheControl);
const AUTHORIZATION = header('HTTP_AUTHORIZATION', parseAuthorization);

/**
 * Negotiation, conditional, caching and credential headers of a `Request` (installed on it;
 * see `descriptors.ts`). Each setter taking raw text throws a `TypeError` for a value a header
 * field cannot carry (CR, LF, NUL, another control character but HTAB, a character above
 * U+00FF: RFC 9110 §5.5), as `req.headers.set` refuses it (`invalid value for header Accept: …`;
 * `Authorization`'s value is not quoted).
 */
export abstract class RequestConditions {
  declare readonly environ: Environ;
  abstract [PARSED](): ParsedValues;

  /**
   * `Accept` (RFC 9110 §12.5.1) as an {@link Accept}: `bestMatch(offers, default?)`,
   * `acceptableOffers(offers)`, `quality(offer)`, `present`. A malformed header reads as
   * absent (everything acceptable); never throws. Set the raw header, or `null` to remove it.
   *
   * @example
   * ```ts
   * const type = req.accept.bestMatch(['text/html', 'application/json'], 'text/html');
   * ```
   *
   * @throws TypeError when set to a value a header field cannot carry (see {@link RequestConditions}).
   */
  get accept(): Accept {
    return ACCEPT.get(this);
  }
  set accept(value: string | null) {
    ACCEPT.set(this, value);
  }

  /**
   * `Accept-Language` (RFC 9110 §12.5.4) as an {@link AcceptLanguage}; as {@link RequestConditions.accept}.
   *
   * @throws TypeError when set to a value a header field cannot carry (see {@link RequestConditions}).
   */
  get acceptLanguage(): AcceptLanguage {
    return ACCEPT_LANGUAGE.get(this);
  }
  set acceptLanguage(value: string | null) {
    ACCEPT_LANGUAGE.set(this, value);
  }

  /**
   * `Accept-Encoding` (RFC 9110 §12.5.3) as an {@link AcceptEncoding}; as
   * {@link RequestConditions.accept}, except that an absent or malformed header accepts
   * `identity` only (no compression).
   */
  get acceptEncoding(): AcceptEncoding {
    return ACCEPT_ENCODING.get(this);
  }
  set acceptEncoding(value: string | null) {
    ACCEPT_ENCODING.set(this, value);
  }

  /**
   * `Accept-Charset` (RFC 9110 §12.5.2) as an {@link AcceptCharset}; as {@link RequestConditions.accept}.
   *
   * @throws TypeError when set to a value a header field cannot carry (see {@link RequestConditions}).
   */
  get acceptCharset(): AcceptCharset {
    return ACCEPT_CHARSET.get(this);
  }
  set acceptCharset(value: string | null) {
    ACCEPT_CHARSET.set(this, value);
  }

  /**
   * `If-Match` (RFC 9110 §13.1.1) as an {@link EtagSet}: `present`, `any` (`*`), `tags`,
   * `contains(etag)` (strong comparison). Never throws; unusable members are dropped. Set the
   * raw header or `null`.
   *
   * @throws TypeError when set to a value a header field cannot carry (see {@link RequestConditions}).
   */
  get ifMatch(): EtagSet {
    return IF_MATCH.get(this);
  }
  set ifMatch(value: string | null) {
    IF_MATCH.set(this, value);
  }

  /**
   * `If-None-Match` (RFC 9110 §13.1.2) as an {@link EtagSet}; compare with
   * `contains(etag, { weak: true })`, as the RFC asks for this header.
   *
   * @throws TypeError when set to a value a header field cannot carry (see {@link RequestConditions}).
   */
  get ifNoneMatch(): EtagSet {
    return IF_NONE_MATCH.get(this);
  }
  set ifNoneMatch(value: string | null) {
    IF_NONE_MATCH.set(this, value);
  }

  /**
   * `If-Modified-Since` (RFC 9110 §13.1.3) as a `Date`, or `null` when absent or not a valid
   * HTTP-date. Each read answers a new `Date` (the header's instant is cached as a number), so
   * changing one (`setTime`, `setHours`) changes no other read, as WebOb's and Werkzeug's
   * immutable datetimes. Set a `Date`, milliseconds since the epoch, or `null`.
   *
   * @throws RangeError when set to an invalid date.
   */
  get ifModifiedSince(): Date | null {
    return dateAt(IF_MODIFIED_SINCE.get(this));
  }
  set ifModifiedSince(value: Date | number | null) {
    IF_MODIFIED_SINCE.set(this, value);
  }

  /** `If-Unmodified-Since` (RFC 9110 §13.1.4), as {@link RequestConditions.ifModifiedSince}. */
  get ifUnmodifiedSince(): Date | null {
    return dateAt(IF_UNMODIFIED_SINCE.get(this));
  }
  set ifUnmodifiedSince(value: Date | number | null) {
    IF_UNMODIFIED_SINCE.set(this, value);
  }

  /**
   * `If-Range` (RFC 9110 §13.1.5): an entity tag (`{ tag, weak }`), a `Date`, or `null` when
   * absent or neither; the `Date` is a new one per read, as {@link RequestConditions.ifModifiedSince}'s.
   * A present but unusable `If-Range` makes a conditional response send the whole
   * representation (see `evaluateIfRange`). Set the raw header or `null`.
   *
   * @throws TypeError when set to a value a header field cannot carry (see {@link RequestConditions}).
   */
  get ifRange(): EntityTag | Date | null {
    const value = IF_RANGE.get(this);
    return typeof value === 'number' ? new Date(value) : value;
  }
  set ifRange(value: string | null) {
    IF_RANGE.set(this, value);
  }

  /**
   * The raw `Range` header (RFC 9110 §14.2), or `null`. Its meaning depends on the length of
   * what is served: see {@link RequestConditions.rangeFor}. Set the raw header or `null`.
   *
   * @throws TypeError when set to a value a header field cannot carry (see {@link RequestConditions}).
   */
  get range(): string | null {
    return RANGE.get(this);
  }
  set range(value: string | null) {
    RANGE.set(this, value);
  }

  /**
   * The `Range` header evaluated for a representation of `length` bytes (WebOb's
   * `range.range_for_length`), with `range-parser` (see `parseRange`): `satisfiable` with the
   * ranges (coalesced), `unsatisfiable` (answer 416), or `ignored` with the reason (serve the
   * whole). `If-Range` is not considered here; conditional responses do it for you.
   *
   * @throws RangeError when `length` is not a non-negative integer or `maxRanges` not a positive
   *   integer; TypeError for options
   *   that are not a plain object or hold an unknown key (`req.rangeFor: unknown option
   *   "maxrange": did you mean "maxRanges"?`).
   */
  rangeFor(length: number, options?: RangeOptions): RangeResult {
    checkOptions('req.rangeFor', options, RANGE_OPTIONS);
    return parseRange(this.range, length, options);
  }

  /**
   * `Cache-Control` (RFC 9111 §5.2) as a live {@link CacheControl} (`maxAge`, `noCache`,
   * `noStore`, `maxStale`, `onlyIfCached`, …): setting a field rewrites `HTTP_CACHE_CONTROL`,
   * so the app below sees it. Malformed directives are dropped, never thrown.
   */
  get cacheControl(): CacheControl {
    return CACHE_CONTROL.get(this);
  }

  /**
   * `Authorization` (RFC 9110 §11.6.2) parsed: `scheme` (lower-cased), `token68` or `params`;
   * Basic decoded to `username` and `password`, Bearer to `token`. `null` when absent or
   * malformed, never a throw. Set the raw header (`basicAuthorization(user, password)`) or `null`.
   *
   * @throws TypeError when set to a value a header field cannot carry (see {@link RequestConditions}).
   */
  get authorization(): Authorization | null {
    return AUTHORIZATION.get(this);
  }
  set authorization(value: string | null) {
    AUTHORIZATION.set(this, value);
  }
}
