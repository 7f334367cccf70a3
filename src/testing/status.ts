/**
 * Status expectations of the test client (WebTest's `status=`).
 *
 * @module
 */
import type { StatusExpectation } from './options.ts';

const CLASS = /^[1-5]xx$/i;
const CODE = /^\d{3}$/;

/**
 * True when `code` meets `expected`: a number is that code, `'404'` too, `'4xx'` any code of
 * that class, `'*'` any code, a list any of its items; `undefined` means `2xx` or `3xx`.
 *
 * @throws TypeError for an item that is none of those (`'4x'`, `'ok'`), so a typo cannot pass.
 */
export function statusMatches(code: number, expected: StatusExpectation | undefined): boolean {
  if (expected === undefined) return code >= 200 && code < 400;
  const items = Array.isArray(expected) ? (expected as ReadonlyArray<number | string>) : [expected as number | string];
  // Every item is checked before any is matched: a typo after a matching item fails too.
  const tests = items.map((item): ((status: number) => boolean) => {
    if (typeof item === 'number' && Number.isInteger(item)) return (status) => item === status;
    if (typeof item === 'string') {
      if (item === '*') return () => true;
      if (CODE.test(item)) return (status) => Number(item) === status;
      if (CLASS.test(item)) return (status) => Math.floor(status / 100) === Number(item[0]);
    }
    throw new TypeError(`invalid status expectation ${JSON.stringify(item)}: use a code (404), a class ('4xx'), '*' or a list of those`);
  });
  return tests.some((test) => test(code));
}

/** The expectation in words, for failure messages: `2xx or 3xx`, `404`, `200, 304`. */
export function describeExpectation(expected: StatusExpectation | undefined): string {
  if (expected === undefined) return '2xx or 3xx';
  return Array.isArray(expected) ? expected.join(', ') : String(expected);
}
