/**
 * Byte ranges (RFC 9110 §14): the `Range` request header (parsed with `range-parser`),
 * `Content-Range`, and `If-Range`. Streaming a range of a body is in `range-body.ts`.
 *
 * ```ts
 * parseRange('bytes=0-99,200-', 1000);
 * // { kind: 'satisfiable', ranges: [{ start: 0, end: 99 }, { start: 200, end: 999 }] }
 * formatContentRange({ start: 0, end: 99 }, 1000); // 'bytes 0-99/1000'
 * ```
 *
 * @module
 */
import { combineRanges, parse as parseRanges } from 'range-parser';
import { parseHttpDate, httpSeconds } from './dates.ts';
import { parseEtag, strongCompare } from './etag.ts';
import { isToken } from '../gateway/fields.ts';
import { isBlank } from './syntax.ts';
import type { OptionNames } from '../gateway/option-names.ts';

/** An inclusive byte range: `end` is the last byte's offset, as in `Content-Range`. */
export interface ByteRange {
  /** Offset of the first byte. */
  readonly start: number;
  /** Offset of the last byte (inclusive). */
  readonly end: number;
}

/** Why a `Range` header was ignored (the response is then a plain 200). */
export type RangeIgnoredReason = 'absent' | 'malformed' | 'unit' | 'too-many' | 'empty';

/** What a `Range` header asks of a representation of known length. */
export type RangeResult =
  | {
      /** `satisfiable` (send 206 with `ranges`), `unsatisfiable` (send 416) or `ignored` (send 200 whole, `reason` says why). */
      readonly kind: 'satisfiable';
      /** The ranges to send, clamped to the size, in request order (coalesced with `combine`). */
      readonly ranges: readonly ByteRange[];
    }
  | { readonly kind: 'unsatisfiable' }
  | { readonly kind: 'ignored'; readonly reason: RangeIgnoredReason };

/** Options of {@link parseRange}. */
export interface RangeOptions {
  /**
   * Coalesce overlapping and adjacent ranges (RFC 9110 §14.2 allows it), keeping request
   * order otherwise: a coalesced range stands where the first of its specs was asked
   * (`bytes=5-6,20-30,0-10` gives `0-10`, then `20-30`). Default `true`; a single-pass
   * multipart stream needs it.
   */
  combine?: boolean | undefined;
  /**
   * More range-specs than this and the header is ignored (a cheap DoS guard). Default 100; a
   * positive integer (`Infinity` lifts the cap), anything else a `RangeError`.
   */
  maxRanges?: number | undefined;
}

/** Every option of {@link RangeOptions}, checked by `req.rangeFor` (`checkOptions`); `tsc` fails when it and the type differ. */
export const RANGE_OPTIONS = { combine: true, maxRanges: true } as const satisfies OptionNames<RangeOptions>;

const SPEC = /^(\d*)-(\d*)$/;

/**
 * Evaluates a `Range` header against a representation of `size` bytes (RFC 9110 §14.1.1,
 * §14.2).
 *
 * - `satisfiable`: the ranges to send, clamped to the size (`bytes=-500` on 100 bytes is the
 *   whole representation, RFC 9110 §14.1.1).
 * - `unsatisfiable`: no range-spec overlaps the representation: answer 416 with
 *   `Content-Range: bytes *\/size`.
 * - `ignored`: serve the whole representation with 200, because the header is absent or
 *   empty (`absent`), breaks the grammar or has a spec whose last byte precedes its first
 *   (`malformed`), uses a unit other than `bytes` (`unit`, compared case-insensitively), has
 *   more than `maxRanges` specs (`too-many`), or asks a suffix of an empty representation,
 *   which no `Content-Range` can describe (`empty`).
 *
 * Empty list elements (`bytes=0-1,,5-6`) and whitespace around specs are tolerated.
 *
 * @param size - the representation's length in bytes.
 * @throws RangeError when `size` is not a non-negative safe integer, or `maxRanges` not a
 *   positive integer (`NaN` from an unset variable would lift the cap): programming errors.
 */
export function parseRange(
  header: string | null | undefined,
  size: number,
  options: RangeOptions = {},
): RangeResult {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`representation size must be a non-negative integer, got ${size}`);
  }
  const maxRanges = options.maxRanges ?? 100;
  if (!(maxRanges >= 1 && (Number.isInteger(maxRanges) || maxRanges === Infinity))) {
    throw new RangeError(`maxRanges must be a positive integer, got ${String(maxRanges)}`);
  }
  if (typeof header !== 'string' || isBlank(header)) return ignored('absent');
  const eq = header.indexOf('=');
  const unit = eq === -1 ? '' : header.slice(0, eq).trim();
  if (!isToken(unit)) return ignored('malformed');
  if (unit.toLowerCase() !== 'bytes') return ignored('unit');
  const specs: string[] = [];
  let suffixOfEmpty = false;
  for (const element of header.slice(eq + 1).split(',')) {
    const spec = element.trim();
    if (spec === '') continue;
    const m = SPEC.exec(spec);
    if (!m || (m[1] === '' && m[2] === '')) return ignored('malformed');
    if (m[1] !== '' && m[2] !== '' && bigger(m[1]!, m[2]!)) return ignored('malformed');
    if (specs.length >= maxRanges) return ignored('too-many');
    if (m[1] === '' && Number(m[2]) > 0 && size === 0) suffixOfEmpty = true;
    // A suffix longer than the representation selects all of it (RFC 9110 §14.1.1).
    specs.push(m[1] === '' && Number(m[2]) > size ? '0-' : spec);
  }
  if (specs.length === 0) return ignored('malformed');
  if (suffixOfEmpty) return ignored('empty');
  const parsed = parseRanges(size, `bytes=${specs.join(',')}`);
  if ((parsed.code & 1) !== 0) return ignored('malformed');
  if (parsed.ranges.length === 0) return { kind: 'unsatisfiable' };
  const ranges = options.combine ?? true ? combineRanges(parsed.ranges) : parsed.ranges;
  return { kind: 'satisfiable', ranges: ranges.map(({ start, end }) => ({ start, end })) };
}

function ignored(reason: RangeIgnoredReason): RangeResult {
  return { kind: 'ignored', reason };
}

/** Compares two decimal digit strings by value, without overflowing: a > b. */
function bigger(a: string, b: string): boolean {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  return x.length !== y.length ? x.length > y.length : x > y;
}

/** A parsed `Content-Range` (RFC 9110 §14.4). */
export interface ContentRange {
  /** The range unit, lower-cased (`bytes`). */
  readonly unit: string;
  /** The range sent, or `null` for an unsatisfied range (`bytes *\/1000`). */
  readonly range: ByteRange | null;
  /** The complete length, or `null` when unknown (`*`). */
  readonly size: number | null;
}

const CONTENT_RANGE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) +(?:(\d+)-(\d+)\/(\d+|\*)|\*\/(\d+))$/;

/**
 * Parses a `Content-Range` value: `bytes 0-4/10`, `bytes 0-4/*` or `bytes *\/10`.
 *
 * @returns the parts, or `null` when malformed: bad syntax, a last byte before the first or
 *   not below the complete length, or a number above `Number.MAX_SAFE_INTEGER`.
 */
export function parseContentRange(value: string | null | undefined): ContentRange | null {
  if (typeof value !== 'string' || value.length > 200) return null;
  const m = CONTENT_RANGE.exec(value.trim());
  if (!m) return null;
  const unit = m[1]!.toLowerCase();
  const numbers = [m[2], m[3], m[4], m[5]].map((n) => (n === undefined || n === '*' ? null : Number(n)));
  if (numbers.some((n) => n !== null && !Number.isSafeInteger(n))) return null;
  const [start, end, size, unsatisfiedSize] = numbers;
  if (start === null || end === null) return { unit, range: null, size: unsatisfiedSize! };
  if (end < start || (size != null && end >= size)) return null;
  return { unit, range: { start, end }, size: size ?? null };
}

/**
 * Formats a `Content-Range` in bytes: `bytes 0-4/10`, `bytes 0-4/*` when `size` is `null`,
 * or `bytes *\/10` (for a 416) when `range` is `null`.
 *
 * @throws RangeError for an impossible combination: a range outside `size`, `end < start`,
 *   non-integers, or `range` and `size` both `null`.
 */
export function formatContentRange(range: ByteRange | null, size: number | null): string {
  const ok = (n: number | null) => n === null || (Number.isSafeInteger(n) && n >= 0);
  if (!ok(size) || (range === null && size === null)) {
    throw new RangeError(`invalid complete length ${String(size)}`);
  }
  if (range === null) return `bytes */${size}`;
  const { start, end } = range;
  if (!ok(start) || !ok(end) || end < start || (size !== null && end >= size)) {
    throw new RangeError(`invalid range ${start}-${end}/${String(size)}`);
  }
  return `bytes ${start}-${end}/${size ?? '*'}`;
}

/**
 * Evaluates `If-Range` (RFC 9110 §13.1.5): answers whether the `Range` header may be
 * honoured. True when `If-Range` is absent or empty (whitespace alone: SP, HTAB); for an
 * entity tag, true only when it is strong and strongly matches `current.etag` (a weak tag
 * never matches); for an HTTP-date,
 * true only when it equals `current.lastModified` to the second and that second is over:
 * `lastModified` is at least one second before `current.date`, the time the response is sent
 * (RFC 9110 §8.8.2.2; default now, also for a `date` that is not an HTTP-date). A
 * `Last-Modified` in the second of the `Date` may name two versions, the one the client has
 * and a later one of the same second, so a range of the current one would not fit the
 * client's bytes (Apache asks for a minute). Anything else (garbage, a missing validator) is
 * false: send the whole representation.
 *
 * This is the part of §8.8.2.2 a server can check: a client whose copy was read in the second
 * of its `Last-Modified` and that resumes later is not caught (the RFC forbids it to send that
 * date). Pass no `lastModified` when you know it is not a strong validator (a resource that
 * changes several times a second); prefer a strong `etag`.
 */
export function evaluateIfRange(
  ifRange: string | null | undefined,
  current: {
    etag?: string | null | undefined;
    lastModified?: Date | string | null | undefined;
    /** When the response is sent (its `Date`), as a `Date` or a header value; default now. */
    date?: Date | string | null | undefined;
  },
): boolean {
  if (typeof ifRange !== 'string' || isBlank(ifRange)) return true;
  const text = ifRange.trim();
  if (text.startsWith('"') || text.startsWith('W/')) {
    const tag = parseEtag(text);
    return tag !== null && current.etag != null && strongCompare(tag, current.etag);
  }
  const date = parseHttpDate(text);
  const lastModified =
    typeof current.lastModified === 'string' ? parseHttpDate(current.lastModified) : current.lastModified;
  if (date === null || lastModified == null || httpSeconds(date) !== httpSeconds(lastModified)) return false;
  const sent = typeof current.date === 'string' ? parseHttpDate(current.date) : current.date;
  return httpSeconds(lastModified) < httpSeconds(sent ?? new Date());
}
