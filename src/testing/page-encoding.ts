/**
 * The encoding the test client reads a page in, as a browser does (WHATWG HTML §13.2.3.1,
 * "encoding sniffing algorithm").
 *
 * @module
 */
import { parseMediaType } from '../http/media-type.ts';
import { contentTypeCharset, documentCharset } from '../proxy/charset-sniff.ts';
import { TokenStream } from '../proxy/html-tokens.ts';

/**
 * The WHATWG name of the encoding a page is read in: the `charset` of its `Content-Type` when
 * the platform knows the label; else, for an HTML page (`text/html`,
 * `application/xhtml+xml`), the one its bytes declare: a byte order mark, an XHTML page's XML
 * declaration, a `<meta charset>` or `<meta http-equiv="Content-Type" content="…; charset=…">`
 * ending within the first 1024 bytes (HTML §13.2.3.2, the prescan browsers run); else, for a
 * `text/html` page whose first 1024 bytes are not UTF-8, windows-1252 (HTML §13.2.3.1, the
 * legacy default browsers read it in, as `replaceText` and `rewriteHtml` do); else UTF-8.
 * An unknown label (`charset=None`) counts as none, as browsers ignore it.
 *
 * @param contentType The response's `Content-Type` (null when it has none).
 * @param body The whole body.
 */
export function pageEncoding(contentType: string | null, body: Uint8Array): string {
  const type = parseMediaType(contentType);
  return contentTypeCharset(type.parameters.charset) ?? documentCharset(body, type.type, TokenStream) ?? 'utf-8';
}
