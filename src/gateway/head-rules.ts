/**
 * The rules for what an app gives to `startResponse`, shared by the Node and fetch adapters:
 * a final status, header pairs of strings, one decimal `Content-Length`, hop-by-hop fields left
 * to the server (docs/spec.md §5, §7.1).
 *
 * @module
 */
import { CONNECTION_FIELDS, sameFieldName } from './fields.ts';
import { describe } from './body.ts';
import { neverStarted } from './start-errors.ts';
import { type ParsedStatus, parseStatus } from './status.ts';

/**
 * The status the app gave, parsed, once it is known that the app called `startResponse`.
 *
 * @throws TypeError when it did not (`status` or `headers` undefined), or for an invalid or
 *   1xx status (a final answer is 200–999).
 */
export function finalStatus(status: string | undefined, headers: unknown): Readonly<ParsedStatus> {
  if (status === undefined || headers === undefined) throw neverStarted();
  // An app answers the same few statuses over and over: the last one's parse is kept (one
  // comparison instead of a slice, a regular expression and an object per response).
  if (status === lastStatus) return lastParsed!;
  const parsed = parseStatus(status);
  if (parsed.code < 200) throw new TypeError(`invalid final status: ${JSON.stringify(status)}`);
  lastStatus = status;
  lastParsed = parsed;
  return parsed;
}

/**
 * {@link finalStatus} of a `status` given to `startResponse` (with its headers, so never
 * unstarted), parsed when it is given, or the TypeError it throws, kept to be thrown where the
 * head is built: an adapter that must know the code at once (the fetch adapter, to tell a
 * 204's body source that the body is dropped) parses the status line once, not again for the head.
 */
export function givenStatus(status: string): Readonly<ParsedStatus> | TypeError {
  try {
    return finalStatus(status, true);
  } catch (error) {
    return error as TypeError;
  }
}

/** The last status {@link finalStatus} parsed, and its parse (shared: callers only read it). */
let lastStatus: string | undefined;
let lastParsed: Readonly<ParsedStatus> | undefined;

/**
 * Checks header pair number `index` of the app's list and tells what the server must do
 * with it: `''` to send it as it is, `'content-length'`, or the lower-case name of a
 * hop-by-hop field (RFC 9110 §7.6.1) but `Proxy-Authenticate`, or of `HTTP2-Settings`, which
 * the server drops (`CONNECTION_FIELDS`).
 *
 * @throws TypeError when the pair is not two strings.
 */
export function fieldRole(pair: unknown, index: number): string {
  if (!Array.isArray(pair)) throw new TypeError(`header ${index} is not a [name, value] pair (${describe(pair)})`);
  const name: unknown = pair[0];
  const value: unknown = pair[1];
  if (typeof name !== 'string' || typeof value !== 'string') throw new TypeError(`invalid header pair: ${describe(name)}, ${describe(value)}`);
  // Only names as long as Content-Length or a hop-by-hop field need a closer look.
  const n = name.length;
  if (n !== 14 && n !== 2 && n !== 7 && n !== 10 && n < 16) return '';
  // Content-Length is compared in place, in any spelling (no lower-cased copy, a new string per
  // response); only the other names of these lengths are lower-cased to look up.
  if (n === 14 && sameFieldName(name, 'content-length')) return 'content-length';
  const lower = name.toLowerCase();
  return CONNECTION_FIELDS.has(lower) ? lower : '';
}

/**
 * The app's `Content-Length` value as a number.
 *
 * @param previous - the one already seen, or -1.
 * @throws TypeError for a second one or a value that is not decimal digits.
 */
export function appDeclaredLength(value: string, previous: number): number {
  if (previous !== -1) throw new TypeError(`Content-Length given twice by the app: ${JSON.stringify(value)}`);
  if (!isDigits(value)) throw new TypeError(`invalid Content-Length from the app: ${JSON.stringify(value)}`);
  return Number(value);
}

/**
 * The app's `Content-Length` in `list` as the server reads it ({@link appDeclaredLength}): its
 * value in bytes, -1 when there is none, or -2 when the server refuses it (given twice, or not
 * decimal digits alone), its 500 whatever the status or method. Allocates nothing.
 */
export function declaredLengthOf(list: ReadonlyArray<readonly [string, string]>): number {
  let value: string | undefined;
  for (let i = 0; i < list.length; i++) {
    const pair = list[i]!;
    if (pair[0].length !== 14 || !sameFieldName(pair[0], 'content-length')) continue;
    if (value !== undefined || !isDigits(pair[1])) return -2;
    value = pair[1];
  }
  return value === undefined ? -1 : Number(value);
}

/**
 * True when {@link appDeclaredLength} refuses the app's `Content-Length` fields in `list`
 * (given twice, or not decimal digits alone), so the server answers 500: a layer that would
 * drop or replace the field (`compress`) leaves such an answer as it is, for the server to
 * refuse as without that layer, whatever the client asked for. Allocates nothing.
 */
export function refusesDeclaredLength(list: ReadonlyArray<readonly [string, string]>): boolean {
  return declaredLengthOf(list) === -2;
}

/** True for one or more ASCII digits (`/^\d+$/`, without a regular expression's call on every response). */
function isDigits(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/**
 * Checks a whole body's `length` against the app's `declared` Content-Length (-1: none).
 * HEAD answers are not checked (their Content-Length describes the GET body).
 *
 * @throws TypeError on a mismatch.
 */
export function checkDeclaredLength(declared: number, length: number, head: boolean): void {
  if (declared !== -1 && declared !== length && !head) {
    throw new TypeError(`the app declared Content-Length: ${declared} but its body has ${length} bytes`);
  }
}

/**
 * Checks the bytes of a body read so far, `sent`, against the app's `declared` Content-Length
 * (-1: none), as they are read: a body that proves longer fails at once, before the rest is
 * read (its end is checked by {@link checkDeclaredLength}).
 *
 * @throws TypeError once `sent` is past `declared`.
 */
export function checkNotLonger(declared: number, sent: number): void {
  if (declared !== -1 && sent > declared) throw new TypeError(`the app declared Content-Length: ${declared} but its body is longer`);
}
