/**
 * The values of the date and time inputs of an HTML form as a browser holds them: HTML's date
 * and time microsyntaxes (HTML Living Standard §2.3.5), which the value sanitization algorithms
 * of the `date`, `month`, `week`, `time` and `datetime-local` inputs apply (§4.10.5.1.7–11).
 *
 * @module
 */

/** The input types whose value is a date or a time. */
export const DATE_TIME_TYPES: ReadonlySet<string> = new Set(['date', 'month', 'week', 'time', 'datetime-local']);

const DATE = /^(\d{4,})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4,})-(\d{2})$/;
const WEEK = /^(\d{4,})-W(\d{2})$/;
/** §2.3.5.4: hours and minutes, optionally seconds, optionally one to three digits of a fraction. */
const TIME = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;
/** §2.3.5.5: a date, a `T` or a space, a time. */
const LOCAL = /^(\d{4,}-\d{2}-\d{2})[T ](.*)$/;

const isLeapYear = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

/** The days of `month` (1–12) of `year`, in the proleptic Gregorian calendar. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** §2.3.5.2 valid date string: a year above 0 of four digits or more, a month, a day of it. */
function isDate(text: string): boolean {
  const match = DATE.exec(text);
  if (match === null) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return year > 0 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/** §2.3.5.1 valid month string. */
function isMonth(text: string): boolean {
  const match = MONTH.exec(text);
  return match !== null && Number(match[1]) > 0 && Number(match[2]) >= 1 && Number(match[2]) <= 12;
}

/** The weekday of 1 January of `year` (0 Sunday … 6 Saturday), by Gauss's formula, for any year. */
function newYearWeekday(year: number): number {
  const y = year - 1;
  return (1 + 5 * (y % 4) + 4 * (y % 100) + 6 * (y % 400)) % 7;
}

/**
 * §2.3.5.8 valid week string: a week from 1 to the year's last, 53 when the year starts on a
 * Thursday, or on a Wednesday in a leap year (ISO 8601 weeks), 52 otherwise.
 */
function isWeek(text: string): boolean {
  const match = WEEK.exec(text);
  if (match === null) return false;
  const [year, week] = [Number(match[1]), Number(match[2])];
  const first = newYearWeekday(year);
  const weeks = first === 4 || (first === 3 && isLeapYear(year)) ? 53 : 52;
  return year > 0 && week >= 1 && week <= weeks;
}

/** §2.3.5.4 valid time string, its parts (`null` when it is none). */
function timeParts(text: string): RegExpExecArray | null {
  const match = TIME.exec(text);
  if (match === null || Number(match[1]) > 23 || Number(match[2]) > 59 || (match[3] !== undefined && Number(match[3]) > 59)) return null;
  return match;
}

/**
 * §2.3.5.5 valid normalized local date and time string of `text`, or `''` when `text` is no
 * valid local date and time string: a `T` between date and time, and the time in its shortest
 * form (no seconds when they are zero, a fraction without its trailing zeros).
 */
function normalizedLocal(text: string): string {
  const match = LOCAL.exec(text);
  const time = match === null || !isDate(match[1]!) ? null : timeParts(match[2]!);
  if (time === null) return '';
  const [, hours, minutes, seconds = '00', fraction = ''] = time;
  const digits = fraction.replace(/0+$/, '');
  const shortest = digits !== '' ? `${hours}:${minutes}:${seconds}.${digits}` : seconds === '00' ? `${hours}:${minutes}` : `${hours}:${minutes}:${seconds}`;
  return `${match![1]}T${shortest}`;
}

/**
 * The value a `date`, `month`, `week`, `time` or `datetime-local` input holds for `value`, by
 * its type's value sanitization algorithm (HTML §4.10.5.1.7–11): `value` itself when it is a
 * valid string of its type (`2024-02-29`, `2024-12`, `2020-W53`, `09:05:00.500`), normalized for
 * `datetime-local` (`2024-01-02 10:00:00.000` → `2024-01-02T10:00`), else `''`: a date
 * written otherwise (`06/12/2026`, `2023-02-29`, ` 2024-01-01`) shows an empty input, and is
 * sent empty, as in a browser.
 */
export function dateTimeValue(type: string, value: string): string {
  switch (type) {
    case 'date':
      return isDate(value) ? value : '';
    case 'month':
      return isMonth(value) ? value : '';
    case 'week':
      return isWeek(value) ? value : '';
    case 'time':
      return timeParts(value) === null ? '' : value;
    default:
      return normalizedLocal(value);
  }
}
