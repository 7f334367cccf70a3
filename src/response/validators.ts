/**
 * Validators and dates of a `Response`: `ETag`, `Last-Modified`, `Date`, `Expires`, `Age`,
 * `Retry-After`.
 *
 * @module
 */
import { type HttpDateInit, deltaSeconds, etag, httpDate, retryAfter } from '../http/converters.ts';
import { field, fromHeaders } from '../http/descriptors.ts';
import type { HeaderList } from '../http/header-list.ts';
import type { RetryAfter } from '../http/dates.ts';
import { type EntityTag, strongEtag } from '../http/etag.ts';
import { type OptionNames, checkOptions, truthyOption } from '../gateway/option-names.ts';

/** The options of `res.addEtag` (`checkOptions`). */
const ADD_ETAG_OPTIONS = { overwrite: true, weak: true } as const satisfies OptionNames<NonNullable<Parameters<ResponseValidators['addEtag']>[0]>>;

const ETAG = field(fromHeaders('ETag'), etag);
const LAST_MODIFIED = field(fromHeaders('Last-Modified'), httpDate);
const DATE = field(fromHeaders('Date'), httpDate);
const EXPIRES = field(fromHeaders('Expires'), httpDate);
const AGE = field(fromHeaders('Age'), deltaSeconds);
const RETRY_AFTER = field(fromHeaders('Retry-After'), retryAfter);

/** Validator and date headers of a `Response` (installed on it; see `descriptors.ts`). */
export abstract class ResponseValidators {
  declare readonly headers: HeaderList;
  abstract get body(): unknown;
  abstract isStreamed(): boolean;

  /**
   * The entity tag (`ETag`, RFC 9110 §8.8.3) as `{ tag, weak }`, the tag without its quotes,
   * or `null` when absent or malformed. Set it to an opaque tag (`'abc'`, quoted for you), a
   * quoted one (`'"abc"'`, `'W/"abc"'`), `{ tag, weak }` or `{ value, weak }`, or `null` to
   * remove it.
   *
   * @throws TypeError when the tag holds a character an entity tag cannot (`"`, a space, a
   *   control character, one above U+00FF).
   */
  get etag(): EntityTag | null {
    return ETAG.get(this);
  }
  set etag(value: string | EntityTag | { value: string; weak?: boolean | undefined } | null) {
    ETAG.set(this, value);
  }

  /**
   * Sets a strong `ETag` from a hash of the body in memory (`strongEtag`: SHA-1, base64url),
   * as Werkzeug's `add_etag`. Keeps an existing `ETag` unless `overwrite`; `weak` marks it weak.
   *
   * @throws TypeError when the body is streamed: `await res.bytes()` first, or set `etag`
   *   from something cheaper (a version, `statEtag`); for options that are not a plain
   *   object or hold an unknown key (`overwite`), or an `overwrite` or `weak` that is truthy but
   *   not `true` (`'false'`).
   */
  addEtag(options: { overwrite?: boolean | undefined; weak?: boolean | undefined } = {}): this {
    checkOptions('res.addEtag', options, ADD_ETAG_OPTIONS, 'first');
    if (this.isStreamed()) throw new TypeError('cannot hash a streamed body: await res.bytes() first, or set res.etag');
    // `'false'` is truthy: each checked with one comparison, on the branch a truthy value takes.
    if (!truthyOption('res.addEtag', 'overwrite', options.overwrite) && this.headers.has('etag')) return this;
    const tag = strongEtag(this.body as Uint8Array);
    this.headers.set('ETag', truthyOption('res.addEtag', 'weak', options.weak) ? `W/${tag}` : tag);
    return this;
  }

  /**
   * `Last-Modified` (RFC 9110 §8.8.2) as a `Date`, or `null` when absent or not an HTTP-date;
   * read from the header each time, so each read is a new `Date` a handler may change. Set a `Date`, milliseconds since the epoch, or an HTTP-date string (sent to the second);
   * `null` removes it. One later than the time the response is served is sent, and compared
   * with `If-Modified-Since`, as that time (RFC 9110 §8.8.2.1); this property keeps it.
   *
   * @throws RangeError for an invalid date; TypeError for a string that is not an HTTP-date.
   */
  get lastModified(): Date | null {
    return LAST_MODIFIED.get(this);
  }
  set lastModified(value: HttpDateInit | null) {
    LAST_MODIFIED.set(this, value);
  }

  /** `Date` (RFC 9110 §6.6.1), as `lastModified`. The server adds one when absent. */
  get date(): Date | null {
    return DATE.get(this);
  }
  set date(value: HttpDateInit | null) {
    DATE.set(this, value);
  }

  /**
   * `Expires` (RFC 9111 §5.3), as `lastModified`. An invalid value such as `0` reads as `null`
   * (caches take it as "already expired"). See also `cacheExpires`.
   */
  get expires(): Date | null {
    return EXPIRES.get(this);
  }
  set expires(value: HttpDateInit | null) {
    EXPIRES.set(this, value);
  }

  /**
   * `Age` (RFC 9111 §5.1) in whole **seconds**, or `null` when absent or invalid. More than
   * 2^31 seconds is sent, and read, as 2^31 (RFC 9111 §1.2.2).
   *
   * @throws RangeError when set to a negative or fractional number.
   */
  get age(): number | null {
    return AGE.get(this);
  }
  set age(value: number | null) {
    AGE.set(this, value);
  }

  /**
   * `Retry-After` (RFC 9110 §10.2.3): `{ seconds }` or `{ date }`, or `null`. Set a number of
   * **seconds**, a `Date`, or a string: digits are seconds (`'120'`, as Werkzeug's
   * `retry_after` setter reads them), an HTTP-date a date; `null` removes it.
   *
   * @throws RangeError for a negative or fractional number, or an invalid date; TypeError for
   *   a string that is neither seconds nor an HTTP-date (`'soon'`, `'1.5'`, an ISO date).
   */
  get retryAfter(): RetryAfter | null {
    return RETRY_AFTER.get(this);
  }
  set retryAfter(value: number | Date | string | null) {
    RETRY_AFTER.set(this, value);
  }
}
