/**
 * parse5, for `rewriteHtml` and for the `<meta>` prescan of `replaceText` and `rewriteHtml`
 * (charset-sniff.ts), loaded with the first body that needs it rather than when `tsgi/proxy` is
 * imported: parse5, its rewriting stream and SAX parser and the tokenizer built on them are
 * about 20 files and 3–4 MB of resident memory, which an app using only `proxy()` or
 * `decodeContent` never needs. The modules of tsgi that extend parse5's classes
 * (html-tokens.ts, html-stream.ts, html-open-elements.ts) are imported here, at that first body.
 *
 * @module
 */
import type { HtmlRewrite } from './html-stream.ts';
import type { TokenStream } from './html-tokens.ts';
import { type CharsetSniffer, charsetSniffer, readsMeta } from './charset-sniff.ts';
import { importOnce } from '../gateway/import-once.ts';

/** The classes the HTML filters make from parse5. */
export interface HtmlParser {
  /** parse5's rewriting stream as the rewriter and the prescan drive it. */
  TokenStream: typeof TokenStream;
  /** The rewriting engine of `rewriteHtml`. */
  HtmlRewrite: typeof HtmlRewrite;
}

/**
 * parse5 and the modules built on it, imported on the first call and kept. A failed import
 * (parse5 not installed) is not kept: its error, Node's `ERR_MODULE_NOT_FOUND` naming the
 * package, fails the body being filtered (the connection is cut, or the server answers 500
 * before the head), and the next call tries again.
 */
export const loadHtmlParser: () => Promise<HtmlParser> = importOnce(() =>
  Promise.all([import('./html-tokens.ts'), import('./html-stream.ts')]).then(([tokens, stream]) => ({ TokenStream: tokens.TokenStream, HtmlRewrite: stream.HtmlRewrite })),
);

/**
 * {@link charsetSniffer} of a body of media type `type` whose `Content-Type` names `declared`,
 * parse5 loaded first when the sniffer reads a `<meta>` (an HTML page that names no charset).
 */
export async function loadCharsetSniffer(type: string, declared: string | undefined): Promise<CharsetSniffer> {
  return charsetSniffer(type, declared, readsMeta(type, declared) ? (await loadHtmlParser()).TokenStream : undefined);
}
