/**
 * A `?` or `#` in a path that is matched against `PATH_INFO`: a `RouteMap` rule or a `mount`
 * key. `PATH_INFO` is the request target's path alone, the query in `QUERY_STRING` and no
 * fragment at all (a browser never sends one, RFC 9110 §7.1), so such a path could match only a
 * request whose path holds an encoded `%3F` or `%23`, never the one meant: both refuse it with
 * the words given here.
 *
 * @module
 */

/** Where a `?` or `#` first is in a path, and why the path cannot hold it (see {@link queryOrFragmentIn}). */
export interface QueryOrFragment {
  /** Its index in the text searched. */
  at: number;
  /** `?` or `#`. */
  char: '?' | '#';
  /**
   * What follows "matched against the path alone": `which holds no query: the '?' would match
   * only an encoded %3F in the path`, or the same for `#` and `%23`, after "and browsers send no
   * fragment".
   */
  reason: string;
}

/**
 * The first `?` or `#` of `path`, or `null` when it holds neither. A caller blanks out first
 * the text where either is no delimiter (a placeholder's arguments, `<any('why?'):w>`).
 */
export function queryOrFragmentIn(path: string): QueryOrFragment | null {
  const at = path.search(/[?#]/);
  if (at === -1) return null;
  return path[at] === '?'
    ? { at, char: '?', reason: "which holds no query: the '?' would match only an encoded %3F in the path" }
    : { at, char: '#', reason: "and browsers send no fragment: the '#' would match only an encoded %23 in the path" };
}
