/**
 * Header converters for the wrappers' attributes (see `descriptors.ts`): each turns the raw
 * header text into the value an attribute answers (never throwing: a malformed header reads
 * as absent) and a value set back into header text (throwing on an invalid value).
 *
 * @module
 */
import { parse as parseContentDisposition } from 'content-disposition';
import type { Converter } from './descriptors.ts';
import { isToken } from '../gateway/fields.ts';
import { CacheControl } from './cache-control.ts';
import { type MediaType, parseMediaType } from './media-type.ts';
import { type RetryAfter, formatDeltaSeconds, formatHttpDate, formatRetryAfter, parseDeltaSeconds, parseHttpDate, parseRetryAfter } from './dates.ts';
import { type EntityTag, formatEtag, parseEtag } from './etag.ts';
import { type ByteRange, type ContentRange, formatContentRange, parseContentRange } from './range.ts';
import { type Challenge, formatWwwAuthenticate, parseWwwAuthenticate } from './www-authenticate.ts';

/**
 * An instant for a date header (`res.lastModified`, `date`, `expires`): a `Date`, a number of
 * **milliseconds** since the epoch (as `Date.now()` or `stat.mtimeMs` give; WebOb and Werkzeug
 * take seconds), or an HTTP-date string (RFC 9110 §5.6.7), sent as an IMF-fixdate. Setting an
 * invalid `Date` or a number that is none throws a `RangeError`, a string that is no HTTP-date
 * a `TypeError`; `null` removes the field.
 */
export type HttpDateInit = Date | number | string;

/** The disposition type and parameters of `Content-Disposition` (RFC 6266), names lower-cased. */
export interface ContentDispositionValue {
  /** `attachment`, `inline`, …, lower-cased. */
  type: string;
  /**
   * Parameters such as `filename`, names lower-cased. A `filename*` (RFC 8187, UTF-8 or
   * ISO-8859-1) is decoded into `filename` and not kept; one in another charset is kept as sent.
   */
  parameters: Record<string, string>;
}

/** The raw text as is; `null` when absent. */
export const text: Converter<string | null> = {
  parse: (raw) => raw,
  format: (value) => value,
};

/** Parsed by `parse` (often into a header object: `Accept`, `EtagSet`…), set as raw text. */
export function parsed<T>(parse: (raw: string | null) => T): Converter<T, string | null> {
  return { parse, format: text.format };
}

/**
 * A date, as `parseHttpDate` reads it (`null` when absent or not an HTTP-date); set a
 * {@link HttpDateInit}, sent to the second.
 *
 * @throws RangeError for an invalid date; TypeError for a string that is not an HTTP-date.
 */
export const httpDate: Converter<Date | null, HttpDateInit | null> = {
  parse: (raw) => parseHttpDate(raw),
  format: (value) => (value === null ? null : formatHttpDate(toDate(value))),
};

/**
 * As {@link httpDate}, the instant read as **milliseconds** since the epoch: what a cached
 * attribute keeps, answering a new `Date` per read with `dateAt` (a cached `Date` would be one
 * mutable object shared by every read).
 *
 * @throws RangeError for an invalid date; TypeError for a string that is not an HTTP-date.
 */
export const httpTime: Converter<number | null, HttpDateInit | null> = {
  parse: (raw) => parseHttpDate(raw)?.getTime() ?? null,
  format: httpDate.format,
};

function toDate(value: HttpDateInit): Date {
  if (typeof value !== 'string') return new Date(value);
  const date = parseHttpDate(value);
  if (date === null) throw new TypeError(`not an HTTP-date: ${JSON.stringify(value)}`);
  return date;
}

/** Whole **seconds** (RFC 9111 §1.2.2); `null` when absent or invalid. @throws RangeError for a negative or fractional number. */
export const deltaSeconds: Converter<number | null> = {
  parse: (raw) => parseDeltaSeconds(raw),
  format: (value) => (value === null ? null : formatDeltaSeconds(value)),
};

/**
 * `Retry-After` (RFC 9110 §10.2.3): `{ seconds }` or `{ date }`; set seconds, a Date, or a
 * string of digits (seconds) or an HTTP-date (see `formatRetryAfter`).
 */
export const retryAfter: Converter<RetryAfter | null, number | Date | string | null> = {
  parse: (raw) => parseRetryAfter(raw),
  format: (value) => (value === null ? null : formatRetryAfter(value)),
};

/**
 * A byte count (`Content-Length`): digits matching `pattern`, else `null`.
 *
 * @throws TypeError when set to anything but a non-negative safe integer or `null`.
 */
export function byteCount(pattern: RegExp): Converter<number | null> {
  return {
    parse: (raw) => (raw !== null && pattern.test(raw) ? Number(raw) : null),
    format(value) {
      if (value !== null && !(Number.isSafeInteger(value) && value >= 0)) {
        throw new TypeError(`invalid Content-Length: ${value}`);
      }
      return value === null ? null : String(value);
    },
  };
}

/** An entity tag (`{ tag, weak }`); set an opaque or quoted tag, `{ tag, weak }` or `{ value, weak }`. */
export const etag: Converter<EntityTag | null, string | EntityTag | { value: string; weak?: boolean | undefined } | null> = {
  parse: (raw) => parseEtag(raw),
  format(value) {
    if (value === null) return null;
    if (typeof value === 'string' || 'tag' in value) return formatEtag(value);
    return formatEtag({ tag: value.value, weak: value.weak ?? false });
  },
};

/** A comma-separated list, trimmed, empty elements dropped; set a value, a list or `null`. */
export const list: Converter<string[], string | Iterable<string> | null> = {
  parse(raw) {
    const out: string[] = [];
    for (const item of raw?.split(',') ?? []) {
      const value = item.trim();
      if (value !== '') out.push(value);
    }
    return out;
  },
  format: (value) => (value === null || typeof value === 'string' ? value : [...value].join(', ')),
};

/**
 * As {@link list}, for a field whose value must name something (`1#`, as `Content-Language`;
 * or an empty one says nothing, as `Vary`): a list with no element removes the field instead
 * of writing it empty.
 */
export const nonEmptyList: Converter<string[], string | Iterable<string> | null> = {
  parse: list.parse,
  format(value) {
    const raw = list.format(value);
    return raw === null || list.parse(raw).length === 0 ? null : raw;
  },
};

/**
 * Checks that each of `members` is one token (RFC 9110 §5.6.2), as a field that is a list of
 * tokens needs (`Allow`, `Vary`, `Content-Language`, `Accept-Ranges`): what {@link tokenListOf}
 * and `HTTPMethodNotAllowed` refuse.
 *
 * @param name - the field, named in the error.
 * @throws TypeError, naming the field and the first member that is not a token (an empty
 *   string, a space, a comma, a member that is no string): `invalid Vary: "Accept Encoding" is
 *   not a token`.
 */
export function assertTokens(name: string, members: readonly unknown[]): void {
  for (const member of members) {
    if (!isToken(member as string)) throw new TypeError(`invalid ${name}: ${JSON.stringify(member)} is not a token`);
  }
}

/**
 * `converter` for a field that is a list of tokens (RFC 9110 §5.6.1, §5.6.2: `Allow`, `Vary`,
 * `Content-Language`, `Accept-Ranges`), its setter refusing what is no such list: a header
 * value whose comma-separated members, trimmed, are not all tokens, or a list with a member
 * that is not one token (`'Accept Encoding'`, `''`, `'GET, POST'`), as `addVary` refuses a
 * name (the `vary` package). A list is read once (a generator may be given) and handed on as
 * its header value, the members joined with `, `. Reading is `converter`'s.
 *
 * @param name - the field, named in the error.
 * @param options.refuseEmpty - for a field of at least one member that has no empty form
 *   (`1#`, as `Accept-Ranges`, RFC 9110 §14.3): a value without a member (`''`, `' , '`, `[]`)
 *   is refused too, this the reason given. Default: such a value is `converter`'s to format.
 * @throws TypeError, naming the field and the member: `invalid Vary: "Accept Encoding" is not
 *   a token`; with `refuseEmpty`, naming the field and that reason for a value without one.
 */
export function tokenListOf<T>(
  name: string,
  converter: Converter<T, string | Iterable<string> | null>,
  options: { refuseEmpty?: string | undefined } = {},
): Converter<T, string | Iterable<string> | null> {
  return {
    parse: (raw) => converter.parse(raw),
    format(value) {
      if (value === null) return converter.format(null);
      const members = typeof value === 'string' ? list.parse(value) : [...value];
      assertTokens(name, members);
      if (members.length === 0 && options.refuseEmpty !== undefined) throw new TypeError(`invalid ${name}: ${options.refuseEmpty}`);
      return converter.format(typeof value === 'string' ? value : members.join(', '));
    },
  };
}

/** `Content-Range` (RFC 9110 §14.4); set a header value or `{ range, size }`. */
export const contentRange: Converter<ContentRange | null, string | { range: ByteRange | null; size: number | null } | null> = {
  parse: (raw) => parseContentRange(raw),
  format: (value) => (value === null || typeof value === 'string' ? value : formatContentRange(value.range, value.size)),
};

/** `Content-Disposition` (RFC 6266) by `content-disposition`; `null` when absent, malformed or without a type. */
export const contentDisposition: Converter<ContentDispositionValue | null, string | null> = {
  parse(raw) {
    if (raw === null) return null;
    try {
      const value = parseContentDisposition(raw);
      return value.type === '' ? null : { type: value.type, parameters: { ...value.parameters } };
    } catch {
      return null;
    }
  },
  format: text.format,
};

/** `WWW-Authenticate` (RFC 9110 §11.6.1) challenges; set challenges or a header value. */
export const wwwAuthenticate: Converter<Challenge[] | null, Challenge | readonly Challenge[] | string | null> = {
  parse: (raw) => parseWwwAuthenticate(raw),
  format: (value) => (value === null || typeof value === 'string' ? value : formatWwwAuthenticate(value)),
};

/**
 * The `create` of a `liveField` for `Cache-Control` (RFC 9111 §5.2), on requests and
 * responses: a live {@link CacheControl} over `raw` (`null` when absent) whose changes are
 * committed as the new header value, `null` (the header removed) when no directive is left.
 */
export function liveCacheControl(raw: string | null, commit: (raw: string | null) => void): CacheControl {
  return new CacheControl(raw, (value) => commit(value || null));
}

const mediaTypes = new Map<string, MediaType>();

/**
 * `parseMediaType(raw)`, frozen and remembered (a few hundred distinct values at most), since
 * a response reads its `Content-Type` several times. Never throws.
 */
export function mediaTypeOf(raw: string | null | undefined): Readonly<MediaType> {
  const key = raw ?? '';
  let value = mediaTypes.get(key);
  if (value === undefined) {
    const { type, parameters } = parseMediaType(key);
    value = Object.freeze({ type, parameters: Object.freeze(parameters) });
    if (mediaTypes.size >= 256) mediaTypes.clear();
    mediaTypes.set(key, value);
  }
  return value;
}
