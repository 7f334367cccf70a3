/**
 * The `Expect` field (RFC 9110 §10.1.1) as `serve()` reads it, shared with the `TestClient`,
 * which answers the same requests the same way. Internal: not part of the public API.
 *
 * @module
 */

/** The detail of `serve()`'s `417 Expectation Failed` (after `Expectation Failed: `). */
export const UNMET_EXPECTATION = 'the only expectation this server meets is 100-continue';

/** A field value that lists no member (RFC 9110 §5.6.1: empty elements are not members). */
const EMPTY_LIST = /^[\t ,]*$/;

/** An `Expect` that names `100-continue`, in any case: the test of Node's HTTP/1 server (`continueExpression`). */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/**
 * What an `Expect` field value asks of the server: `'none'` for a value that lists nothing
 * (empty, blanks and commas: nothing to refuse, as Apache ignores it), `'continue'` for one
 * that names `100-continue` in any case (the value is case-insensitive), `'unmet'` for any
 * other expectation, which the server answers `417 Expectation Failed` without calling the app.
 */
export function expectationOf(value: string): 'none' | 'continue' | 'unmet' {
  if (EMPTY_LIST.test(value)) return 'none';
  return CONTINUE.test(value) ? 'continue' : 'unmet';
}
