/**
 * Status codes and reason phrases of a `Response` (RFC 9110 §15).
 *
 * @module
 */
import statuses from 'statuses';
import { parseStatus } from '../gateway/status.ts';

/** Reason phrases for codes `statuses` does not know, by class (WebOb's generic reasons). */
const GENERIC_REASONS: Record<number, string> = {
  1: 'Continue',
  2: 'Success',
  3: 'Multiple Choices',
  4: 'Unknown Client Error',
  5: 'Unknown Server Error',
};

/** RFC 9110 §15 renamed these; `statuses` still has the RFC 7231 phrases. */
const RFC9110_REASONS: Record<number, string> = {
  413: 'Content Too Large',
  422: 'Unprocessable Content',
};

/**
 * The reason phrase of `code` (RFC 9110 §15: its own names for 413 and 422, else `statuses`),
 * or the generic phrase of its class for an unregistered code (WebOb's rule).
 */
export function reasonPhrase(code: number): string {
  return RFC9110_REASONS[code] ?? statuses.message[code] ?? GENERIC_REASONS[Math.floor(code / 100)] ?? 'Unknown';
}

/**
 * Parses a status given as a number or a status line (trimmed, then read by `parseStatus`),
 * into its code and the status line to send: `"<code> <reason>"`, with the standard reason
 * phrase when none was given.
 *
 * @throws TypeError unless it is an integer 100–599, or a line `"<code> <reason>"` with such
 *   a code and a reason free of control characters; its message shows the value given (the
 *   type of one that is neither a number nor a string: a BigInt, a symbol, an object).
 */
export function toStatus(status: number | string): { code: number; line: string } {
  let code = 0;
  let reason = '';
  if (typeof status === 'number') {
    if (Number.isInteger(status)) code = status;
  } else if (typeof status === 'string') {
    try {
      ({ code, reason } = parseStatus(status.trim()));
    } catch {
      // reported below, with the value as given
    }
  }
  if (code < 100 || code > 599) throw new TypeError(`invalid HTTP status: ${shown(status)}`);
  return { code, line: `${code} ${reason || reasonPhrase(code)}` };
}

/** `status` for the error message: a string quoted, a number as is, else its type. */
function shown(status: unknown): string {
  if (typeof status === 'string') return JSON.stringify(status);
  if (typeof status === 'number') return String(status);
  return `a value of type ${status === null ? 'null' : typeof status}, not a number or a string`;
}
