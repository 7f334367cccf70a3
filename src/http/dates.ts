/**
 * HTTP dates and delta-seconds: `Date`, `Expires`, `Last-Modified`, `If-Modified-Since`,
 * `If-Unmodified-Since`, `If-Range` dates (RFC 9110 §5.6.7), `Age` (RFC 9111 §5.1) and
 * `Retry-After` (RFC 9110 §10.2.3).
 *
 * Parsers never throw and never answer an Invalid Date: bad input is `null`.
 *
 * @module
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MONTH = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

/** `Sun, 06 Nov 1994 08:49:37 GMT` (a one-digit day is tolerated). */
const IMF_FIXDATE = new RegExp(
  `^(?:mon|tue|wed|thu|fri|sat|sun), +(\\d{1,2}) +${MONTH} +(\\d{4}) +${TIME} +(?:gmt|utc)$`,
  'i',
);
/** `Sunday, 06-Nov-94 08:49:37 GMT` (obsolete RFC 850). */
const RFC850_DATE = new RegExp(
  `^(?:mon|tues|wednes|thurs|fri|satur|sun)day, +(\\d{2})-${MONTH}-(\\d{2}) +${TIME} +(?:gmt|utc)$`,
  'i',
);
/** `Sun Nov  6 08:49:37 1994` (ANSI C asctime()). */
const ASCTIME_DATE = new RegExp(
  `^(?:mon|tue|wed|thu|fri|sat|sun) +${MONTH} +(\\d{1,2}) +${TIME} +(\\d{4})$`,
  'i',
);

/** Largest delta-seconds a recipient keeps (RFC 9111 §1.2.2): 2^31. */
export const MAX_DELTA_SECONDS = 2147483648;

function build(year: number, month: string, day: string, h: string, m: string, s: string): Date | null {
  const monthIndex = MONTHS.indexOf(month.toLowerCase());
  const dayNumber = Number(day);
  const hours = Number(h);
  const minutes = Number(m);
  const seconds = Math.min(Number(s), 59); // a leap second (60) is kept in its minute
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const lastDay = monthIndex === 1 ? (leap ? 29 : 28) : DAYS_IN_MONTH[monthIndex]!;
  if (dayNumber < 1 || dayNumber > lastDay || hours > 23 || minutes > 59 || Number(s) > 60) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, dayNumber);
  date.setUTCHours(hours, minutes, seconds, 0);
  return date;
}

/**
 * Parses an HTTP-date in any of the three formats of RFC 9110 §5.6.7: IMF-fixdate, the
 * obsolete RFC 850 form and asctime. Lenient in what is harmless: case, runs of spaces,
 * surrounding whitespace, a one-digit day, `UTC` for `GMT`; the weekday name is not checked
 * against the date. A two-digit RFC 850 year more than 50 years ahead of `now` is taken as
 * the most recent past year with those digits.
 *
 * @returns the instant, or `null` for anything else (a list of dates, an impossible day such
 *   as Feb 30, an hour of 24, overlong or non-string input).
 */
export function parseHttpDate(
  value: string | null | undefined,
  now: Date | number = Date.now(),
): Date | null {
  if (typeof value !== 'string' || value.length > 64) return null;
  const text = value.trim();
  let m = IMF_FIXDATE.exec(text);
  if (m) return build(Number(m[3]), m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  m = ASCTIME_DATE.exec(text);
  if (m) return build(Number(m[6]), m[1]!, m[2]!, m[3]!, m[4]!, m[5]!);
  m = RFC850_DATE.exec(text);
  if (m) {
    const thisYear = new Date(now).getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + Number(m[3]);
    if (year > thisYear + 50) year -= 100;
    return build(year, m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  }
  return null;
}

/**
 * Formats an instant as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), dropping
 * milliseconds. Numbers are milliseconds since the epoch.
 *
 * @throws RangeError for an invalid date or one outside the years 0000–9999.
 */
export function formatHttpDate(date: Date | number): string {
  const d = new Date(date);
  const year = d.getUTCFullYear();
  if (Number.isNaN(d.getTime()) || year < 0 || year > 9999) {
    throw new RangeError(`cannot format ${String(date)} as an HTTP-date`);
  }
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const month = MONTHS[d.getUTCMonth()]!;
  return (
    `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${month[0]!.toUpperCase()}${month.slice(1)} ` +
    `${pad(year, 4)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} GMT`
  );
}

/**
 * A new `Date` at `time` (**milliseconds** since the epoch), or `null` for `null`: how a
 * wrapper's cached date view answers a `Date` of its own per read, so a handler changing one
 * (`setTime`, `setHours`) changes no other read (WebOb's and Werkzeug's datetimes are immutable).
 */
export function dateAt(time: number | null): Date | null {
  return time === null ? null : new Date(time);
}

/**
 * An instant truncated to whole seconds since the epoch, the resolution of HTTP dates, for
 * comparing a `Last-Modified` with an `If-Modified-Since`.
 */
export function httpSeconds(date: Date | number): number {
  return Math.floor(new Date(date).getTime() / 1000);
}

/**
 * Parses delta-seconds (RFC 9111 §1.2.2): `1*DIGIT`, surrounding whitespace ignored. Values
 * beyond 2^31 answer 2^31 (as the RFC requires).
 *
 * @returns whole seconds, or `null` for anything else (negative, fractional, empty, quoted).
 */
export function parseDeltaSeconds(value: string | null | undefined): number | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (!/^\d+$/.test(text)) return null;
  const digits = text.replace(/^0+(?=\d)/, '');
  return digits.length > 10 ? MAX_DELTA_SECONDS : Math.min(Number(digits), MAX_DELTA_SECONDS);
}

/**
 * Formats whole seconds as delta-seconds (RFC 9111 §1.2.2); more than 2^31 (68 years) is
 * written 2^31, which a sender should not exceed and a recipient takes any larger value as
 * (`res.age`, and a `Retry-After` in seconds, as `Cache-Control`'s `max-age`).
 *
 * @throws RangeError unless `seconds` is a non-negative safe integer.
 */
export function formatDeltaSeconds(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new RangeError(`delta-seconds must be a non-negative integer, got ${seconds}`);
  }
  return String(Math.min(seconds, MAX_DELTA_SECONDS));
}

/** A parsed `Retry-After`: a delay in seconds or a date. */
export type RetryAfter = { readonly seconds: number } | { readonly date: Date };

/**
 * Parses `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.
 *
 * @returns `{ seconds }`, `{ date }`, or `null` when neither parses.
 */
export function parseRetryAfter(value: string | null | undefined): RetryAfter | null {
  const seconds = parseDeltaSeconds(value);
  if (seconds !== null) return { seconds };
  const date = parseHttpDate(value);
  return date ? { date } : null;
}

/**
 * Formats `Retry-After` (RFC 9110 §10.2.3): a number of seconds as delay-seconds, a `Date` as
 * an HTTP-date. A string is read as the field's value, as Werkzeug's `retry_after` setter takes
 * one: digits are seconds (`'120'`, as {@link parseDeltaSeconds} reads them), an HTTP-date
 * (any of the three forms {@link parseHttpDate} reads) is sent as an IMF-fixdate.
 *
 * @throws RangeError for a negative or fractional number, or an unformattable date; TypeError
 *   for a string that is neither (`'soon'`, `'1.5'`, an ISO date):
 *   `invalid Retry-After: "soon" is neither seconds nor an HTTP-date`.
 */
export function formatRetryAfter(value: number | Date | string): string {
  if (typeof value === 'number') return formatDeltaSeconds(value);
  if (typeof value !== 'string') return formatHttpDate(value);
  const seconds = parseDeltaSeconds(value);
  if (seconds !== null) return String(seconds);
  const date = parseHttpDate(value);
  if (date === null) throw new TypeError(`invalid Retry-After: ${JSON.stringify(value)} is neither seconds nor an HTTP-date`);
  return formatHttpDate(date);
}

/**
 * Seconds from `now` until a `Retry-After` says to retry: the delay itself, or the time until
 * its date (0 when the date has passed); `null` when the value does not parse.
 */
export function retryAfterSeconds(
  value: string | null | undefined,
  now: Date | number = Date.now(),
): number | null {
  const parsed = parseRetryAfter(value);
  if (parsed === null) return null;
  if ('seconds' in parsed) return parsed.seconds;
  return Math.max(0, httpSeconds(parsed.date) - httpSeconds(now));
}

/**
 * A `Last-Modified` value as an origin server may send it (RFC 9110 §8.8.2.1): `value` itself
 * when it is not a valid HTTP-date or not later than `now` (ms since the epoch; default
 * `Date.now()`), else `now` as an IMF-fixdate, the message's origination date. A date in the
 * future (a clock running ahead where the row or file was written) would otherwise come back
 * in `If-Modified-Since` and make every change until then answer 304. Apache does the same.
 * Never throws.
 */
export function pastLastModified(value: string, now: number = Date.now()): string {
  const date = parseHttpDate(value);
  return date !== null && httpSeconds(date) > httpSeconds(now) ? formatHttpDate(now) : value;
}
