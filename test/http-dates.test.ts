/**
 * HTTP dates and delta-seconds (src/http/dates.ts): the three RFC 9110 §5.6.7 formats,
 * null for every bad date, IMF-fixdate output, RFC 9111 §1.2.2 overflow, Retry-After.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDeltaSeconds, formatHttpDate, formatRetryAfter, parseDeltaSeconds, parseHttpDate, parseRetryAfter } from 'tsgi/http';
import { MAX_DELTA_SECONDS, httpSeconds, retryAfterSeconds } from '../src/http/dates.ts';

const EXAMPLE = Date.UTC(1994, 10, 6, 8, 49, 37);

describe('parseHttpDate', () => {
  it.each([
    ['Sun, 06 Nov 1994 08:49:37 GMT', 'IMF-fixdate'],
    ['Sunday, 06-Nov-94 08:49:37 GMT', 'RFC 850'],
    ['Sun Nov  6 08:49:37 1994', 'asctime'],
    ['Sun Nov 06 08:49:37 1994', 'asctime with two-digit day'],
    ['sun, 06 nov 1994 08:49:37 gmt', 'lower case'],
    ['  Sun,  06 Nov 1994 08:49:37 GMT  ', 'extra spaces'],
    ['Sun, 6 Nov 1994 08:49:37 GMT', 'one-digit day'],
    ['Sun, 06 Nov 1994 08:49:37 UTC', 'UTC'],
    ['Mon, 06 Nov 1994 08:49:37 GMT', 'wrong weekday (not checked)'],
  ])('parses %j (%s)', (value) => {
    expect(parseHttpDate(value)?.getTime()).toBe(EXAMPLE);
  });

  it.each([
    [null],
    [undefined],
    [''],
    ['garbage'],
    ['Sun, 06 Nov 1994 08:49:37'],
    ['Sun, 06 Nov 1994 08:49:37 PST'],
    ['Sun, 06 Nov 1994 08:49:37 +0000'],
    ['Sun, 31 Nov 1994 08:49:37 GMT'],
    ['Sun, 30 Feb 2000 08:49:37 GMT'],
    ['Sun, 29 Feb 1900 08:49:37 GMT'],
    ['Sun, 00 Nov 1994 08:49:37 GMT'],
    ['Sun, 06 Nov 1994 24:00:00 GMT'],
    ['Sun, 06 Nov 1994 08:60:00 GMT'],
    ['Sun, 06 Nov 1994 08:49:61 GMT'],
    ['Sun, 06 Foo 1994 08:49:37 GMT'],
    ['Sun, 06 Nov 94 08:49:37 GMT'],
    ['Sun, 06 Nov 19940 08:49:37 GMT'],
    ['Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT'],
    ['Sun, 06 Nov 1994 8:49:37 GMT'],
    ['1994-11-06T08:49:37Z'],
    ['784111777'],
    [`Sun, 06 Nov 1994 08:49:37 GMT${' '.repeat(100)}`],
    ['Sun, \uff10\uff16 Nov 1994 08:49:37 GMT'],
  ])('answers null for %j', (value) => {
    expect(parseHttpDate(value)).toBeNull();
  });

  it('keeps Feb 29 in leap years and a leap second in its minute', () => {
    expect(parseHttpDate('Tue, 29 Feb 2000 00:00:00 GMT')?.toISOString()).toBe('2000-02-29T00:00:00.000Z');
    expect(parseHttpDate('Sat, 31 Dec 2016 23:59:60 GMT')?.toISOString()).toBe('2016-12-31T23:59:59.000Z');
  });

  it('reads years below 100 and up to 9999 literally', () => {
    expect(parseHttpDate('Mon, 01 Jan 0001 00:00:00 GMT')?.getUTCFullYear()).toBe(1);
    expect(parseHttpDate('Fri, 31 Dec 9999 23:59:59 GMT')?.getUTCFullYear()).toBe(9999);
  });

  it('RFC 850 two-digit years: more than 50 years ahead means last century', () => {
    const now = Date.UTC(2025, 0, 1);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', now)?.getUTCFullYear()).toBe(1994);
    expect(parseHttpDate('Sunday, 06-Nov-75 08:49:37 GMT', now)?.getUTCFullYear()).toBe(2075);
    expect(parseHttpDate('Sunday, 06-Nov-76 08:49:37 GMT', now)?.getUTCFullYear()).toBe(1976);
    expect(parseHttpDate('Sunday, 06-Nov-25 08:49:37 GMT', now)?.getUTCFullYear()).toBe(2025);
  });

  it('never throws and never answers an Invalid Date', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (value) => {
        const date = parseHttpDate(value);
        if (date !== null) expect(Number.isNaN(date.getTime())).toBe(false);
      }),
    );
  });
});

describe('formatHttpDate', () => {
  it('formats IMF-fixdate, dropping milliseconds', () => {
    expect(formatHttpDate(new Date(EXAMPLE + 999))).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(formatHttpDate(EXAMPLE)).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(formatHttpDate(Date.UTC(2000, 1, 29))).toBe('Tue, 29 Feb 2000 00:00:00 GMT');
  });

  it('pads years below 1000', () => {
    const date = new Date(0);
    date.setUTCFullYear(999, 0, 1);
    expect(formatHttpDate(date)).toBe('Tue, 01 Jan 0999 00:00:00 GMT');
  });

  it.each([NaN, 8.64e15, -1e14])('throws RangeError for %s', (ms) => {
    expect(() => formatHttpDate(ms)).toThrow(RangeError);
  });

  it('round-trips through every format at second resolution', () => {
    const instant = fc.integer({ min: Date.parse('0000-01-01T00:00:00Z'), max: Date.parse('9999-12-31T23:59:59.999Z') });
    fc.assert(
      fc.property(instant, (ms) => {
        const text = formatHttpDate(ms);
        expect(text).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
        expect(parseHttpDate(text)?.getTime()).toBe(httpSeconds(ms) * 1000);
        const d = new Date(ms);
        const asctime = `${text.slice(0, 3)} ${text.slice(8, 11)} ${String(d.getUTCDate()).padStart(2, ' ')} ${text.slice(17, 25)} ${text.slice(12, 16)}`;
        expect(parseHttpDate(asctime)?.getTime()).toBe(httpSeconds(ms) * 1000);
      }),
    );
  });
});

describe('delta-seconds', () => {
  it.each([
    ['0', 0],
    ['60', 60],
    [' 60 ', 60],
    ['007', 7],
    ['2147483647', 2147483647],
    ['2147483648', MAX_DELTA_SECONDS],
    ['2147483649', MAX_DELTA_SECONDS],
    ['99999999999999999999999999', MAX_DELTA_SECONDS],
    [`${'0'.repeat(50)}5`, 5],
    ['9'.repeat(10_000), MAX_DELTA_SECONDS],
  ])('parses %j as %d', (value, expected) => {
    expect(parseDeltaSeconds(value)).toBe(expected);
  });

  it.each([null, undefined, '', '-1', '1.5', '1e3', '"60"', '0x10', '60s', '+5', '٣'])('answers null for %j', (value) => {
    expect(parseDeltaSeconds(value)).toBeNull();
  });

  it('formats non-negative integers and refuses the rest', () => {
    expect(formatDeltaSeconds(0)).toBe('0');
    expect(formatDeltaSeconds(3600)).toBe('3600');
    expect(formatDeltaSeconds(2 ** 40)).toBe('2147483648');
    for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53]) expect(() => formatDeltaSeconds(bad)).toThrow(RangeError);
  });

  it('round-trips', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_DELTA_SECONDS }), (n) => {
        expect(parseDeltaSeconds(formatDeltaSeconds(n))).toBe(n);
      }),
    );
  });
});

describe('Retry-After', () => {
  it('parses seconds or a date', () => {
    expect(parseRetryAfter('120')).toEqual({ seconds: 120 });
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT')).toEqual({ date: new Date(EXAMPLE) });
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter('-5')).toBeNull();
    expect(parseRetryAfter(undefined)).toBeNull();
  });

  it('formats seconds or a date', () => {
    expect(formatRetryAfter(120)).toBe('120');
    expect(formatRetryAfter(new Date(EXAMPLE))).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(() => formatRetryAfter(-1)).toThrow(RangeError);
  });

  it('retryAfterSeconds counts from now, never below 0', () => {
    expect(retryAfterSeconds('30', EXAMPLE)).toBe(30);
    expect(retryAfterSeconds('Sun, 06 Nov 1994 08:50:37 GMT', EXAMPLE)).toBe(60);
    expect(retryAfterSeconds('Sun, 06 Nov 1994 08:40:37 GMT', EXAMPLE)).toBe(0);
    expect(retryAfterSeconds('nope', EXAMPLE)).toBeNull();
  });
});
