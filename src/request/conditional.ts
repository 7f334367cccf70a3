/**
 * The negotiation, conditional, caching and credential headers of a `Request`, parsed into
 * header objects and cached while the raw header is unchanged. Each never throws on a
 * malformed header, and each is settable with the raw header value (or `null` to remove it).
 *
 * @module
 */
import { httpDate, liveCacheControl, parsed, text } from '../http/converters.ts';
import { type Members, legacy, cachedField, field, fromEnviron, liveField } from '../http/descriptors.ts';
import { Accept, AcceptCharset, AcceptEncoding, AcceptLanguage } from '../http/accept.ts';
import { type Authorization, parseAuthorization } from '../http/authorization.ts';
import type { CacheControl } from '../http/cache-control.ts';
import { parseHttpDate } from '../http/dates.ts';
import { type EntityTag, EtagSet, parseEtag } from '../http/etag.ts';
import { type RangeOptions, type RangeResult, parseRange } from '../http/range.ts';
import type { Request } from './request.ts';

/** Negotiation, conditional, caching and credential headers of a {@link Request}. */
export interface RequestConditions {
  /**
   * `Accept` (RFC 9110 §12.5.1) as an {@link Accept}: `bestMatch(offers, default?)`,
   * `acceptableOffers(offers)`, `quality(offer)`, `present`. A malformed header reads as
   * absent (everything acceptable); never throws. Set the raw header, or `null` to remove it.
   *
   * @example
   * ```ts
   * const type = req.accept.bestMatch(['text/html', 'application/json'], 'text/html');
   * ```
   */
  get accept(): Accept;
  set accept(value: string | null);

  /** `Accept-Language` (RFC 9110 §12.5.4) as an {@link AcceptLanguage}; as {@link Request.accept}. */
  get acceptLanguage(): AcceptLanguage;
  set acceptLanguage(value: string | null);

  /**
   * `Accept-Encoding` (RFC 9110 §12.5.3) as an {@link AcceptEncoding}; as {@link Request.accept},
   * except that an absent or malformed header accepts `identity` only (no compression).
   */
  get acceptEncoding(): AcceptEncoding;
  set acceptEncoding(value: string | null);

  /** `Accept-Charset` (RFC 9110 §12.5.2) as an {@link AcceptCharset}; as {@link Request.accept}. */
  get acceptCharset(): AcceptCharset;
  set acceptCharset(value: string | null);

  /**
   * `If-Match` (RFC 9110 §13.1.1) as an {@link EtagSet}: `present`, `any` (`*`), `tags`,
   * `contains(etag)` (strong comparison). Never throws; unusable members are dropped. Set the
   * raw header or `null`.
   */
  get ifMatch(): EtagSet;
  set ifMatch(value: string | null);

  /**
   * `If-None-Match` (RFC 9110 §13.1.2) as an {@link EtagSet}; compare with
   * `contains(etag, { weak: true })`, as the RFC asks for this header.
   */
  get ifNoneMatch(): EtagSet;
  set ifNoneMatch(value: string | null);

  /**
   * `If-Modified-Since` (RFC 9110 §13.1.3) as a `Date`, or `null` when absent or not a valid
   * HTTP-date. Set a `Date`, milliseconds since the epoch, or `null`.
   *
   * @throws RangeError when set to an invalid date.
   */
  get ifModifiedSince(): Date | null;
  set ifModifiedSince(value: Date | number | null);

  /** `If-Unmodified-Since` (RFC 9110 §13.1.4), as {@link Request.ifModifiedSince}. */
  get ifUnmodifiedSince(): Date | null;
  set ifUnmodifiedSince(value: Date | number | null);

  /**
   * `If-Range` (RFC 9110 §13.1.5): an entity tag (`{ tag, weak }`), a `Date`, or `null` when
   * absent or neither. A present but unusable `If-Range` makes a conditional response send the
   * whole representation (see `evaluateIfRange`). Set the raw header or `null`.
   */
  get ifRange(): EntityTag | Date | null;
  set ifRange(value: string | null);

  /**
   * The raw `Range` header (RFC 9110 §14.2), or `null`. Its meaning depends on the length of
   * what is served: see {@link Request.rangeFor}. Set the raw header or `null`.
   */
  range: string | null;

  /**
   * The `Range` header evaluated for a representation of `length` bytes (WebOb's
   * `range.range_for_length`), with `range-parser` (see `parseRange`): `satisfiable` with the
   * ranges (coalesced), `unsatisfiable` (answer 416), or `ignored` with the reason (serve the
   * whole). `If-Range` is not considered here; conditional responses do it for you.
   *
   * @throws RangeError when `length` is not a non-negative integer.
   */
  rangeFor(length: number, options?: RangeOptions): RangeResult;

  /**
   * `Cache-Control` (RFC 9111 §5.2) as a live {@link CacheControl} (`maxAge`, `noCache`,
   * `noStore`, `maxStale`, `onlyIfCached`, …): setting a field rewrites `HTTP_CACHE_CONTROL`,
   * so the app below sees it. Malformed directives are dropped, never thrown.
   */
  get cacheControl(): CacheControl;

  /**
   * `Authorization` (RFC 9110 §11.6.2) parsed: `scheme` (lower-cased), `token68` or `params`;
   * Basic decoded to `username` and `password`, Bearer to `token`. `null` when absent or
   * malformed, never a throw. Set the raw header (`basicAuthorization(user, password)`) or `null`.
   */
  get authorization(): Authorization | null;
  set authorization(value: string | null);
}

/** A request header parsed by `parse`, cached while unchanged, set as raw text. */
const header = <T>(key: string, parse: (raw: string | null) => T) => legacy(cachedField(fromEnviron(key), parsed(parse)));

export const conditionMembers: Members<Request, RequestConditions> = {
  accept: header('HTTP_ACCEPT', (raw) => new Accept(raw)),
  acceptLanguage: header('HTTP_ACCEPT_LANGUAGE', (raw) => new AcceptLanguage(raw)),
  acceptEncoding: header('HTTP_ACCEPT_ENCODING', (raw) => new AcceptEncoding(raw)),
  acceptCharset: header('HTTP_ACCEPT_CHARSET', (raw) => new AcceptCharset(raw)),
  ifMatch: header('HTTP_IF_MATCH', (raw) => new EtagSet(raw)),
  ifNoneMatch: header('HTTP_IF_NONE_MATCH', (raw) => new EtagSet(raw)),
  ifModifiedSince: legacy(cachedField(fromEnviron('HTTP_IF_MODIFIED_SINCE'), httpDate)),
  ifUnmodifiedSince: legacy(cachedField(fromEnviron('HTTP_IF_UNMODIFIED_SINCE'), httpDate)),
  ifRange: header('HTTP_IF_RANGE', (raw) => parseEtag(raw) ?? parseHttpDate(raw)),
  range: legacy(field(fromEnviron('HTTP_RANGE'), text)),
  rangeFor(length, options) {
    return parseRange(this.range, length, options);
  },
  cacheControl: legacy(liveField(fromEnviron('HTTP_CACHE_CONTROL'), liveCacheControl)),
  authorization: header('HTTP_AUTHORIZATION', parseAuthorization),
};
