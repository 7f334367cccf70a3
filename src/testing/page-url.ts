/**
 * Resolving a URL written in a page (a link's `href`) as a browser does (HTML's "encoding-parsing
 * a URL"): against the page's base URL, its query written in the page's encoding (URL Standard,
 * the query state with an encoding override), so a link of a Shift_JIS page sends its query in
 * Shift_JIS, as the page's forms are sent.
 *
 * @module
 */
import { formEncoder, formEncoderLoading } from './form-encoding.ts';
import { pageEncoding } from './page-encoding.ts';
import { iconvLoaded } from './iconv-loader.ts';
import { type Document, select } from './html.ts';

/** C0 controls and space, which the URL parser strips from either end of its input. */
const ENDS = /^[\u0000-\u0020]+|[\u0000-\u0020]+$/g;

/**
 * `query` (the text after a URL's `?`) with each non-ASCII character percent-encoded in
 * `encoding`, one it cannot hold as `%26%23N%3B` (URL Standard, "percent-encode after
 * encoding"); ASCII left for the URL parser, which percent-encodes it as it always does.
 */
function encodedQuery(query: string, encoding: string): string {
  const encode = formEncoder(encoding);
  let out = '';
  for (const char of query.toWellFormed()) {
    const code = char.codePointAt(0)!;
    if (code < 0x80) {
      out += char;
      continue;
    }
    const bytes = encode(char);
    // The encoder writes `&#N;` for a character the encoding cannot hold ("html" error mode).
    if (String.fromCharCode(...bytes) === `&#${code};`) out += `%26%23${code}%3B`;
    else for (const byte of bytes) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * `href` resolved against `base` (the page's base URL), as a browser parses a URL of a page in
 * `encoding` (a WHATWG name, lower case: the page's, `pageEncoding`): the query `href` writes,
 * in that encoding (UTF-8 for a UTF-16 page, as HTML's "get an output encoding" makes it), the
 * rest (path, fragment) in UTF-8, as for any URL.
 *
 * @throws TypeError for an `href` that is no URL; TestClientError for a query with non-ASCII
 *   text in an encoding this client cannot write (see `formEncoder`), Error for one that needs
 *   iconv-lite before `formEncoderLoading` loaded it.
 */
export function pageUrl(href: string, base: string, encoding: string): URL {
  const url = new URL(href, base);
  const query = legacyQuery(href, encoding);
  if (query === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) return url;
  url.search = `?${encodedQuery(query, encoding)}`;
  return url;
}

/**
 * What {@link pageUrl} needs loaded first for `href` in a page in `encoding`: iconv-lite, for a
 * query with non-ASCII text in an East Asian multi-byte encoding (see `formEncoderLoading`);
 * else `null`, so a page whose links need no encoder never loads it.
 */
export function pageUrlLoading(href: string, encoding: string): Promise<unknown> | null {
  return legacyQuery(href, encoding) === null ? null : formEncoderLoading(encoding);
}

/** The `href` of the first `<base>` of `document` that has one (HTML §4.2.3), else `null`. */
function baseHref(document: Document): string | null {
  return select(document, 'base[href]')[0]?.attribs.href ?? null;
}

/**
 * The document base URL of a page (HTML §2.4.1) fetched from `fallback`, in `encoding` (as for
 * {@link pageUrl}): the `href` of its first `<base>` that has one, resolved against `fallback`
 * as a URL of the page (HTML §4.2.3, "set the frozen base URL": parsed with the document's
 * character encoding, so the non-ASCII text of its query is in the page's encoding, as a link's
 * is); `fallback` itself without one, or when that `href` is no URL. Links and form actions
 * resolve against it, and keep its query when they write none (`#top`, an empty `href`).
 *
 * @throws as {@link pageUrl} for a query of the `href` in an encoding this client cannot write,
 *   or that needs iconv-lite before {@link documentBaseLoading} loaded it.
 */
export function documentBaseUrl(document: Document, fallback: string, encoding: string): string {
  const href = baseHref(document);
  // Not `URL.parse`: Node 22.1 on, and `engines` says 22.
  return href === null || !URL.canParse(href, fallback) ? fallback : pageUrl(href, fallback, encoding).href;
}

/** What {@link documentBaseUrl} needs loaded first for a page in `encoding`, as {@link pageUrlLoading} says for its `<base href>`; else `null`. */
export function documentBaseLoading(document: Document, encoding: string): Promise<unknown> | null {
  const href = baseHref(document);
  return href === null ? null : pageUrlLoading(href, encoding);
}

/**
 * What a page needs loaded before its URLs can be read synchronously (`form.action`): iconv-lite,
 * when the page (`contentType`, `body`, read as `pageEncoding` reads it) is in an encoding that
 * neither UTF-8 nor a single-byte table writes (Shift_JIS, EUC-KR, Big5…); else `null`. The
 * client waits for it before it answers such a page, so `form.action` reads the same whether or
 * not an earlier `submit()` or `click()` loaded it.
 */
export function pageEncoderLoading(contentType: string | null, body: Uint8Array): Promise<unknown> | null {
  // Once loaded, no page is sniffed for it again.
  return iconvLoaded() !== undefined ? null : formEncoderLoading(pageEncoding(contentType, body));
}

/**
 * The query `href` writes itself (after its `?`, before its `#`), when it holds non-ASCII text
 * and `encoding` is not one URLs are written in as UTF-8 (UTF-8, UTF-16: HTML's "get an output
 * encoding"); else `null`: the URL parser's own query is right (without a `?` of its own, the
 * URL's query is the base URL's).
 */
function legacyQuery(href: string, encoding: string): string | null {
  if (encoding === 'utf-8' || encoding === 'utf-16le' || encoding === 'utf-16be' || encoding === 'replacement') return null;
  // The input as the parser reads it: its ends stripped, tabs and line breaks dropped.
  const input = href.replace(ENDS, '').replace(/[\t\n\r]/g, '');
  const hash = input.indexOf('#');
  const beforeHash = hash === -1 ? input : input.slice(0, hash);
  const mark = beforeHash.indexOf('?');
  if (mark === -1) return null;
  const query = beforeHash.slice(mark + 1);
  return /[^\u0000-\u007f]/.test(query) ? query : null;
}
