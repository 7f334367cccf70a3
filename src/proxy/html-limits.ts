/**
 * The bound of `rewriteHtml`'s tokenizer, known before parse5 is loaded (html-parser.ts).
 *
 * @module
 */

/** The default bound on the input `HtmlRewrite` holds back: 1 MiB. */
export const MAX_TOKEN_BYTES = 1024 * 1024;
