/**
 * `tsgi/proxy`: filtering and rewriting services — the upstream proxy app and the response
 * filters that rewrite what it (or any app) answers. See docs/proxy.md.
 *
 * @module
 */
export { type ProxyApp, proxy } from '../proxy/proxy.ts';
export type { ProxyOptions, ProxyTlsOptions } from '../proxy/proxy-options.ts';
export type { HeaderEdits } from '../proxy/header-edits.ts';
export { type UpstreamTiming, upstreamTimingKey } from '../gateway/upstream-timing-key.ts';
export { type RewriteLocationOptions, rewriteLocation } from '../proxy/rewrite-location.ts';
export type { UpstreamUrls } from '../proxy/url-map.ts';
export { type DecodeContentOptions, decodeContent } from '../proxy/decode-content.ts';
export { type ElementHandler, type RewriteHtmlOptions, rewriteHtml } from '../proxy/rewrite-html.ts';
export { type ContentOptions, type HtmlElement } from '../proxy/html-element.ts';
export { type ReplaceTextOptions, replaceText } from '../proxy/replace-text.ts';
export type { Replacement } from '../proxy/text-replacer.ts';
