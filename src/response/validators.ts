/**
 * Validators and dates of a `Response`: `ETag`, `Last-Modified`, `Date`, `Expires`, `Age`,
 * `Retry-After`.
 *
 * @module
 */
import { type HttpDateInit, deltaSeconds, etag, httpDate, retryAfter } from '../http/converters.ts';
import { type Members, field, fromHeaders } from '../http/descriptors.ts';
import type { RetryAfter } from '../http/dates.ts';
import { type EntityTag, strongEtag } from '../http/etag.ts';
import type { Response } from './response.ts';

/** Validator and date headers of a {@link Response}. */
export interface ResponseValidators {
  /**
   * The entity tag (`ETag`, RFC 9110 §8.8.3) as `{ tag, weak }`, the tag without its quotes,
   * or `null` when absent or malformed. Set it to an opaque tag (`'abc'`, quoted for you), a
   * quoted one (`'"abc"'`, `'W/"abc"'`), `{ tag, weak }` or `{ value, weak }`, or `null` to
   * remove it.
   *
   * @throws TypeError when the tag holds a character an entity tag cannot (`"`, a space, a
   *   control character, one above U+00FF).
   */
  get etag(): EntityTag | null;
  set etag(value: string | EntityTag | { value: string; weak?: boolean } | null);

  /**
   * Sets a strong `ETag` from a hash of the body in memory (`strongEtag`: SHA-1, base64url),
   * as Werkzeug's `add_etag`. Keeps an existing `ETag` unless `overwrite`; `weak` marks it weak.
   *
   * @throws TypeError when the body is streamed: `await res.readBody()` first, or set `etag`
   *   from something cheaper (a version, `statEtag`).
   */
  addEtag(options?: { overwrite?: boolean; weak?: boolean }): this;

  /**
   * `Last-Modified` (RFC 9110 §8.8.2) as a `Date`, or `null` when absent or not an HTTP-date.
   * Set a `Date`, milliseconds since the epoch, or an HTTP-date string (sent to the second);
   * `null` removes it.
   *
   * @throws RangeError for an invalid date; TypeError for a string that is not an HTTP-date.
   */
  get lastModified(): Date | null;
  set lastModified(value: HttpDateInit | null);

  /** `Date` (RFC 9110 §6.6.1), as {@link Response.lastModified}. The server adds one when absent. */
  get date(): Date | null;
  set date(value: HttpDateInit | null);

  /**
   * `Expires` (RFC 9111 §5.3), as {@link Response.lastModified}. An invalid value such as `0`
   * reads as `null` (caches take it as "already expired"). See also {@link Response.cacheExpires}.
   */
  get expires(): Date | null;
  set expires(value: HttpDateInit | null);

  /**
   * `Age` (RFC 9111 §5.1) in whole **seconds**, or `null` when absent or invalid.
   *
   * @throws RangeError when set to a negative or fractional number.
   */
  get age(): number | null;
  set age(value: number | null);

  /**
   * `Retry-After` (RFC 9110 §10.2.3): `{ seconds }` or `{ date }`, or `null`. Set a number of
   * **seconds** or a `Date`; `null` removes it.
   *
   * @throws RangeError for a negative or fractional number, or an invalid date.
   */
  get retryAfter(): RetryAfter | null;
  set retryAfter(value: number | Date | null);
}

export const validatorMembers: Members<Response, ResponseValidators> = {
  etag: field(fromHeaders('ETag'), etag),
  addEtag(options = {}) {
    if (this.isStreamed) throw new TypeError('cannot hash a streamed body: await res.readBody() first, or set res.etag');
    if (!options.overwrite && this.headers.has('etag')) return this;
    const tag = strongEtag(this.body as Uint8Array);
    this.headers.set('ETag', options.weak ? `W/${tag}` : tag);
    return this;
  },
  lastModified: field(fromHeaders('Last-Modified'), httpDate),
  date: field(fromHeaders('Date'), httpDate),
  expires: field(fromHeaders('Expires'), httpDate),
  age: field(fromHeaders('Age'), deltaSeconds),
  retryAfter: field(fromHeaders('Retry-After'), retryAfter),
};
