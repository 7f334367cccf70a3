/**
 * URL path quoting and unquoting, as WebOb's `url_quote` with `PATH_SAFE`.
 *
 * @module
 */

const PATH_SAFE = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
const REQUOTE: Record<string, string> = {
  '%2F': '/', '%24': '$', '%26': '&', '%2B': '+', '%2C': ',', '%3B': ';', '%3D': '=', '%3A': ':', '%40': '@',
};

/**
 * Percent-encodes a decoded path for use in a URL: UTF-8 bytes outside RFC 3986 `pchar` and
 * `/` are escaped (so `%` becomes `%25`, a space `%20`, `é` `%C3%A9`); `/` and sub-delims stay.
 * Lone surrogates become U+FFFD first, so it never throws.
 */
export function quotePath(path: string): string {
  if (PATH_SAFE.test(path)) return path;
  return encodeURIComponent(path.toWellFormed()).replace(/%(?:2F|24|26|2B|2C|3B|3D|3A|40)/g, (m) => REQUOTE[m]!);
}

/**
 * Percent-decodes a URL path as UTF-8 (RFC 3986 §2.1). `%2F` becomes `/`, as in every CGI
 * server; the raw form stays in `REQUEST_URI`.
 *
 * @throws URIError for a malformed escape (`%zz`, a lone `%`) or bytes that are not UTF-8.
 */
export function unquotePath(path: string): string {
  return path.includes('%') ? decodeURIComponent(path) : path;
}

/**
 * A character a URI's query may not hold (RFC 3986 §3.4: `pchar`, `/`, `?`), or a `%` that
 * starts no escape. A whole code point (`u`): the two halves of an emoji's surrogate pair are
 * one character to encode, each alone a `URIError` of `encodeURIComponent`.
 */
const NOT_QUERY = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]|%(?![0-9A-Fa-f]{2})/gu;
const QUERY_SAFE = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/;

/**
 * A query string (without `?`) made a valid URI query, as Werkzeug's `iri_to_uri` writes it:
 * each character a query may not hold percent-encoded in UTF-8 (`"` → `%22`, `<` → `%3C`,
 * `日` → `%E6%97%A5`, a `%` that starts no escape → `%25`), escapes already there and every
 * other character kept, so it reads back as the same values. Lone surrogates become U+FFFD
 * first, so it never throws.
 */
export function quoteQuery(query: string): string {
  if (QUERY_SAFE.test(query)) return query;
  return query.toWellFormed().replace(NOT_QUERY, (c) => encodeURIComponent(c));
}
