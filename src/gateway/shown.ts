/**
 * How a refused build value appears in a `TypeError`'s message, which reaches logs: enough to
 * see what went wrong, no more.
 *
 * @module
 */

/** The characters of a string shown; the rest is cut to `…`. */
const SHOWN_LENGTH = 100;

/** `text` in double quotes, escaped as JSON (no line breaks reach a log), cut after 100 characters. */
export function shownText(text: string): string {
  return JSON.stringify(text.length > SHOWN_LENGTH ? `${text.slice(0, SHOWN_LENGTH)}…` : text);
}

/**
 * `value` as a refusal shows it: a string quoted, cut after 100 characters and said to be one
 * (`"3" (a string)`), a bigint as `3n (a bigint)`, an object or function by its type only (`an
 * object`: its contents may be private, and its `toString` is not called), else as text (`-1`,
 * `NaN`, `true`).
 */
export function shownValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `${shownText(value)} (a string)`;
    case 'bigint':
      return `${value}n (a bigint)`;
    case 'object':
      return value === null ? 'null' : 'an object';
    case 'function':
      return 'a function';
    default:
      return String(value);
  }
}
