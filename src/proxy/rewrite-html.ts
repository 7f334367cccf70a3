/**
 * Streaming HTML rewriting ({@link rewriteHtml}) on parse5's tokenizer: handlers by element
 * selector, the untouched source passed through byte for byte.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { type App, type AppLike, type Body, toApp } from '../gateway/types.ts';
import { refusePromise } from '../gateway/sync-callback.ts';
import { markNotAnApp } from '../gateway/not-an-app.ts';
import { responseMediaType } from './response-type.ts';
import { Request } from '../request/request.ts';
import { bodyFilter } from '../middleware/body-filter.ts';
import { checkVersion } from '../middleware/etag-version.ts';
import type { HtmlElement } from './html-element.ts';
import { type ByteText, byteText } from './html-text.ts';
import { type CharsetSniffer, contentTypeCharset } from './charset-sniff.ts';
import { parseSelector } from './html-selector.ts';
import type { HtmlRewrite, Rule } from './html-stream.ts';
import { MAX_TOKEN_BYTES } from './html-limits.ts';
import { loadCharsetSniffer, loadHtmlParser } from './html-parser.ts';
import { UrlMap, type UpstreamUrls, publicBase } from './url-map.ts';
import { rewriteRefresh } from './rewrite-location.ts';
import { mapSrcset } from './srcset.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';

/**
 * A handler of {@link rewriteHtml}: called with each matching element, and the request, as the
 * tag streams past, so it must do its work before it returns. An `async` handler (which
 * TypeScript lets through, and Cloudflare's `HTMLRewriter` waits for) is a `TypeError` once it
 * answers its promise: the body fails, as for a handler that throws (what it awaited would
 * change a tag already sent). Look up what it needs before, in a middleware above the filter.
 */
export type ElementHandler = (element: HtmlElement, req: Request) => void;

/** Options of {@link rewriteHtml}. */
export interface RewriteHtmlOptions {
  /**
   * Handlers by selector (`head`, `a[href]`, `link[rel=stylesheet]`, `img, script[src]`; see
   * the selector syntax below). Every handler whose selector matches an element is called, in
   * the order given, with the same element.
   */
  elements?: Record<string, ElementHandler> | undefined;
  /**
   * The upstream's URL(s), as for `rewriteLocation`: links pointing at them (`href`, `src`,
   * each URL of `srcset`, `imagesrcset` and the `ping` of `<a>` and `<area>`, `action`, `formaction`, `poster`, `data`, the
   * `background` of `<body>`, `<table>`, `<td>` and `<th>`, the `cite` of `<blockquote>`, `<q>`,
   * `<del>` and `<ins>`, the `longdesc` of `<img>`, `<iframe>` and `<frame>`, an `<object>`'s
   * `codebase`, `classid` and each URL of `archive` (the last two read against `codebase`, as
   * HTML 4.01 §13.3 reads them), SVG's `href` and `xlink:href` of
   * `<a>`, `<use>`, `<image>`, `<feImage>` and `<script>`, and the URL of
   * `<meta http-equiv=refresh>`),
   * absolute or as absolute paths, are rewritten to the public URL before your handlers run,
   * as `rewriteLocation` maps them (below the mount prefix, unless `proxy` sent the prefix
   * upstream: `stripScriptName: false`).
   */
  upstream?: UpstreamUrls | undefined;
  /**
   * The most bytes of one unfinished tag or doctype the rewriter holds back (default 1 MiB,
   * `Infinity` for no bound). parse5 copies all of an unfinished token on every chunk, so a
   * tag or attribute value without end costs time quadratic in its length. When more than this
   * is held back after a chunk, the rewriter stops: elements waiting for their end tag are
   * closed as at the end of the body, and the rest of the body (from that tag on) passes
   * through byte for byte, not rewritten. Text, comments, script and style content, however
   * long, are never held back and do not count.
   */
  maxTokenBytes?: number | undefined;
  /**
   * The version of the rules (`'banner-2'`; visible ASCII but `"`), folded into the weak `ETag`
   * of each response the filter rewrites: the upstream's `"x"` is sent as `W/"x~banner-2"`.
   * Change it when the rules change: a client or cache revalidating a page rewritten by other
   * rules (`W/"x~banner-1"`) gets the page again, rewritten by these, where without a version it
   * would be answered 304 for as long as the upstream's page stays the same. Conditional
   * requests keep working: a weak tag of this version is sent upstream with the upstream's own
   * beside it (`W/"x~banner-2", W/"x"`), and its 304 carries `W/"x~banner-2"`. Default: none, the tag is only weakened.
   * Pages cached before a version was first set (`W/"x"`) still revalidate against the
   * upstream's tag: set one from the start.
   */
  version?: string | undefined;
}

/** Every option of {@link RewriteHtmlOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const REWRITE_HTML_OPTIONS = { elements: true, upstream: true, maxTokenBytes: true, version: true } as const satisfies OptionNames<RewriteHtmlOptions>;

/** Link attributes that hold a list of image candidates (`url 2x, url 480w`), not one URL. */
const SRCSET_ATTRIBUTES = new Set(['srcset', 'imagesrcset']);
/** Link attributes that hold URLs separated by white space: `ping`, and an `<object>`'s `archive` (HTML 4.01 §13.3). */
const URL_LIST_ATTRIBUTES = new Set(['ping', 'archive']);
/** An `<object>`'s attributes read against its `codebase`, not the page (HTML 4.01 §13.3; `data` is read against the page, as browsers read it). */
const CODEBASE_RELATIVE = new Set(['classid', 'archive']);

/**
 * The attributes of each element that hold a URL the browser follows or loads from, or shows
 * as a link. SVG's references (`<use>` of an icon sprite, `<image>`, `<feImage>`, `<script>`)
 * are `href` or the older `xlink:href`; `background` is the image of a legacy `<body>` or
 * table, which browsers still load (Apache's mod_proxy_html maps it too); `ping` of `<a>` and
 * `<area>` is a list of URLs the browser POSTs to when the link is followed. `cite` (the
 * source of a quote or the reason for an edit: HTML's URL-valued attributes) and `longdesc`
 * (a legacy long description, which screen readers follow) are loaded by no browser but
 * exposed as links; an `<object>`'s `codebase`, `classid` and `archive` (HTML 4.01) are
 * plugin URLs, the last two read against `codebase`: all in mod_proxy_html's default table.
 */
const LINK_ATTRIBUTES: Record<string, readonly string[]> = {
  a: ['href', 'xlink:href', 'ping'], area: ['href', 'ping'], link: ['href', 'imagesrcset'], base: ['href'], img: ['src', 'srcset', 'longdesc'], script: ['src', 'href', 'xlink:href'],
  iframe: ['src', 'longdesc'], frame: ['src', 'longdesc'], embed: ['src'], source: ['src', 'srcset'], track: ['src'], audio: ['src'], video: ['src', 'poster'],
  input: ['src', 'formaction'], button: ['formaction'], form: ['action'], object: ['data', 'codebase', 'classid', 'archive'],
  blockquote: ['cite'], q: ['cite'], del: ['cite'], ins: ['cite'],
  use: ['href', 'xlink:href'], image: ['href', 'xlink:href'], feimage: ['href', 'xlink:href'],
  body: ['background'], table: ['background'], td: ['background'], th: ['background'],
};

/**
 * Rewrites HTML responses as they stream, on a real HTML tokenizer
 * (`parse5-html-rewriting-stream`): each element whose start tag matches a selector is handed
 * to its handlers, which change attributes and insert, replace or remove content
 * ({@link HtmlElement}). Everything not touched is sent byte for byte as the app sent it,
 * whatever its charset; text and comments go out as they arrive, and only a tag split between
 * two chunks is held back until complete, so output follows input chunk by chunk once the
 * charset is known (below; a tag cut off by the end of the body goes out as it was). A tag or
 * doctype held back past `maxTokenBytes` (1 MiB) stops the rewriting: the rest of the body
 * passes through untouched. In SVG and MathML a self-closing tag (`<path/>`) is a whole
 * element, and in an `application/xhtml+xml`
 * page any self-closing tag (`<div/>`, `<script src="a.js"/>`), as browsers read XHTML (XML).
 * An element ends where browsers end it: at its end tag, or, left out (`<li>`, `<p>`, `<td>`,
 * `<option>` on legacy pages), where HTML implies it, at the next `<li>` or the parent's end tag
 * ({@link HtmlElement}; docs/proxy.md, "Where an element ends"); a `<form>` directly in a table
 * (not in a cell) at its own start tag, as the browser pops it, empty, at once.
 * Typical uses: a stylesheet link appended to `head`, a banner prepended to `body`, links to
 * the upstream made public (`upstream`).
 *
 * Applies to `text/html` and `application/xhtml+xml` responses (one `Content-Type` of one
 * media type: two fields or a list, `text/html; charset=utf-8, text/plain`, pass through, as
 * an answer of no type) without a `Content-Encoding`
 * (put {@link decodeContent} below it for compressed upstreams) in any ASCII-compatible charset
 * (UTF-16 and ISO-2022-JP, declared anywhere, pass through untouched), found as `replaceText`
 * finds it, by the same code: UTF-8 when the body starts with its byte order mark (as browsers
 * read it, whatever is declared), else the `Content-Type` parameter (one whose label no browser
 * knows, `charset=None`, is ignored, as browsers ignore it), or else, for
 * `application/xhtml+xml`, the `encoding` of the XML declaration it starts with (RFC 7303
 * §4.3), or else the one a `<meta charset>` (or `<meta http-equiv=content-type>`) ending
 * within the first 1024 bytes declares (one that starts before byte 1024 and ends after it
 * declares nothing, as HTML's prescan reads it), elements before that `<meta>` included; or
 * else, for `text/html`, windows-1252 when its first 1024 bytes (all of a shorter body) are not
 * UTF-8 (a legacy page, read as browsers read an undeclared one, WHATWG HTML §13.2.3.1). A page
 * that declares none and is UTF-8 so far is read as UTF-8, and what a handler writes in it
 * that is not ASCII as character references (`&#233;`), which any charset reads. Until the
 * charset is known, the first bytes of a page without a `charset` parameter are held back:
 * fewer than 1024, until a `<meta>` declares one (a page with the parameter: at most 2, the
 * start of a byte order mark);
 * attribute values are read and written in it. Like every body filter, it drops
 * `Content-Length` (a body that does not keep to it still fails, as without a filter) and
 * `Accept-Ranges`, weakens a strong `ETag` (of a HEAD answer too: it gets the fields GET gets), drops
 * `Last-Modified` (the upstream's date, not the rewritten page's, which changes with the rules:
 * nginx's `sub_filter_last_modified off`; also from the 304 answering for a rewritten page), and leaves
 * 204 and 304 answers, other types, and any response whose `Cache-Control` has `no-transform`
 * untouched (RFC 9110 §7.7: a proxy must not transform its content; its fields and bytes pass
 * as they came); a
 * 206 (or 416) to a range request for an HTML page is replaced by the whole page, rewritten
 * (the app is asked again without `Range`; docs/proxy.md, "Range requests").
 *
 * Selectors: comma-separated, each an optional tag name or `*` with attribute conditions
 * `[a]`, `[a=v]`, `[a^=v]`, `[a$=v]`, `[a*=v]`, `[a~=v]`. A handler that throws makes the body
 * throw: the server cuts the connection and logs the error.
 *
 * @example
 * ```ts
 * import { proxy, rewriteHtml } from 'tsgi/proxy';
 *
 * export const app = rewriteHtml(proxy(OLD), {
 *   upstream: [OLD, 'http://old.example.com'],
 *   elements: {
 *     head: (el) => el.append('<link rel="stylesheet" href="/static/theme.css">', { html: true }),
 *     body: (el) => el.prepend('<div class="banner">You are viewing the old site.</div>', { html: true }),
 *     'a[target=_blank]': (el) => el.setAttribute('rel', 'noopener'),
 *   },
 * });
 * ```
 * @throws TypeError (at once) for an unsupported selector, a handler that is not a function, an
 *   `upstream` that is not an http(s) URL, a `maxTokenBytes` below 1, or a `version` that cannot
 *   be part of an entity tag; given itself where an app goes (`serve(rewriteHtml)`,
 *   `mount({ '/x': rewriteHtml })`), a TypeError from there, when built, naming it a filter.
 */
export function rewriteHtml(app: AppLike, options: RewriteHtmlOptions = {}): App {
  // The app first: called as an app all the same (past `toApp`), the environ is named, not taken for options.
  const inner = toApp(app);
  checkOptions('rewriteHtml', options, REWRITE_HTML_OPTIONS);
  const maxTokenBytes = options.maxTokenBytes ?? MAX_TOKEN_BYTES;
  const version = checkVersion('rewriteHtml', options.version);
  if (typeof maxTokenBytes !== 'number' || !(maxTokenBytes >= 1)) throw new TypeError('rewriteHtml: maxTokenBytes must be a number of bytes, at least 1');
  const rules: Array<{ selector: ReturnType<typeof parseSelector>; handler: ElementHandler }> = [];
  if (options.upstream !== undefined) {
    const map = new UrlMap(options.upstream);
    rules.push({ selector: parseSelector([...Object.keys(LINK_ATTRIBUTES), 'meta[http-equiv]'].join(',')), handler: linkHandler(map) });
  }
  for (const [selector, handler] of Object.entries(options.elements ?? {})) {
    if (typeof handler !== 'function') throw new TypeError(`rewriteHtml: the handler for ${JSON.stringify(selector)} is not a function`);
    rules.push({ selector: parseSelector(selector), handler: synchronous(selector, handler) });
  }
  return bodyFilter(inner, (headers, environ) => {
    const type = responseMediaType(headers);
    if (type.type !== 'text/html' && type.type !== 'application/xhtml+xml') return null;
    const coding = headers.get('content-encoding');
    if (coding !== null && coding.trim().toLowerCase() !== 'identity') return null;
    // An unknown label is no charset: the <meta> is looked for, as browsers do.
    const charset = contentTypeCharset(type.parameters.charset);
    const text = byteText(charset);
    if (text === null || rules.length === 0) return null;
    const req = new Request(environ);
    const bound: Rule[] = rules.map(({ selector, handler }) => ({ selector, handle: (element) => handler(element, req) }));
    const xml = type.type === 'application/xhtml+xml';
    return (body) => rewriteBody(body, bound, text, type.type, charset, maxTokenBytes, xml);
  }, { dropsLastModified: true, etagVersion: version });
}

/** `handler`, refusing a promise it answers ({@link ElementHandler}): a `TypeError` the body fails with. */
function synchronous(selector: string, handler: ElementHandler): ElementHandler {
  return (element, req) => {
    refusePromise(
      handler(element, req),
      `rewriteHtml: the handler for ${JSON.stringify(selector)} answered a promise: handlers run as the tag streams past and cannot be waited for (the tag is sent by then); make it synchronous, and look up what it needs in a middleware above the filter`,
    );
  };
}

// Given where an app goes (`serve(rewriteHtml)`, `mount({ '/x': rewriteHtml })`), it is named when built.
markNotAnApp(rewriteHtml, 'rewriteHtml, a response filter, not an app: give it the app whose HTML it rewrites, rewriteHtml(app, { elements: { … } }), as rewriteHtml(proxy(upstream), { … })');

/**
 * The body rewritten once the charset sniffer of `type` and the `Content-Type`'s `declared`
 * charset (`charsetSniffer`) found its charset (the bytes it holds back meanwhile included): read in `text`, the `Content-Type`'s (or no charset), when the bytes decided none
 * ({@link CharsetSniffer.defaulted}), else in the one they decided; one the rewriter cannot read
 * (UTF-16, ISO-2022-JP: {@link byteText}) passes the body through untouched.
 */
async function* rewriteBody(
  body: Body,
  rules: Rule[],
  text: ByteText,
  type: string,
  declared: string | undefined,
  maxTokenBytes: number,
  xml: boolean,
): AsyncGenerator<Uint8Array, void, undefined> {
  // parse5 loads with the first page rewritten (html-parser.ts).
  const { HtmlRewrite: Rewrite } = await loadHtmlParser();
  const sniffer = await loadCharsetSniffer(type, declared);
  /** Undefined while the charset is not known; null for one the rewriter cannot read. */
  let rewrite: HtmlRewrite | null | undefined;
  for await (const chunk of body) {
    const bytes = rewrite === undefined ? sniffer.push(chunk) : chunk;
    if (bytes === undefined) continue;
    rewrite ??= rewriting(Rewrite, sniffer, rules, text, maxTokenBytes, xml);
    if (rewrite === null) {
      if (bytes.byteLength > 0) yield bytes;
      continue;
    }
    const out = rewrite.write(latin1(bytes));
    if (out !== '') yield Buffer.from(out, 'latin1');
  }
  let rest = '';
  if (rewrite === undefined) {
    // The body ended before the charset was known: all of it is held back.
    const held = sniffer.end();
    rewrite = rewriting(Rewrite, sniffer, rules, text, maxTokenBytes, xml);
    if (rewrite === null) {
      if (held.byteLength > 0) yield held;
      return;
    }
    rest = rewrite.write(latin1(held));
  }
  if (rewrite === null) return;
  rest += await rewrite.end();
  if (rest !== '') yield Buffer.from(rest, 'latin1');
}

/** The rewrite of a page in the charset `sniffer` decided; null for one it cannot read. */
function rewriting(
  Rewrite: typeof HtmlRewrite,
  sniffer: CharsetSniffer,
  rules: Rule[],
  text: ByteText,
  maxTokenBytes: number,
  xml: boolean,
): HtmlRewrite | null {
  const decided = sniffer.defaulted ? text : byteText(sniffer.charset);
  return decided === null ? null : new Rewrite(rules, decided, maxTokenBytes, xml);
}

/** Bytes as the rewriter reads them: one character per byte. */
function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/**
 * Each URL of a list separated by ASCII white space (`ping`, HTML's "set of space-separated
 * tokens"; `archive`) mapped by `toPublic`, the white space kept; `undefined` when none is mapped.
 */
function mapUrlList(value: string, toPublic: (url: string) => string | undefined): string | undefined {
  let changed = false;
  const mapped = value.replace(/[^\t\n\f\r ]+/g, (url) => {
    const to = toPublic(url);
    if (to === undefined || to === url) return url;
    changed = true;
    return to;
  });
  return changed ? mapped : undefined;
}

/** Maps the link attributes of an element from the upstream to the public URL. */
function linkHandler(map: UrlMap): ElementHandler {
  return (element, req) => {
    const base = publicBase(req.environ);
    if (element.tagName === 'meta') {
      const content = element.getAttribute('content');
      if (content === null || element.getAttribute('http-equiv')?.toLowerCase() !== 'refresh') return;
      const mapped = rewriteRefresh(content, map, base);
      if (mapped !== undefined) element.setAttribute('content', mapped);
      return;
    }
    // As the page has it, before it is mapped: what `classid` and `archive` are read against.
    const codebase = element.tagName === 'object' ? element.getAttribute('codebase') : null;
    const onPage = (url: string): string | undefined => map.toPublic(url, base);
    const onCodebase = codebase === null ? onPage : (url: string): string | undefined => map.toPublicAgainst(url, codebase, base);
    for (const name of LINK_ATTRIBUTES[element.tagName] ?? []) {
      const value = element.getAttribute(name);
      if (value === null) continue;
      const toPublic = CODEBASE_RELATIVE.has(name) ? onCodebase : onPage;
      const mapped = SRCSET_ATTRIBUTES.has(name) ? mapSrcset(value, toPublic) : URL_LIST_ATTRIBUTES.has(name) ? mapUrlList(value, toPublic) : toPublic(value);
      if (mapped !== undefined && mapped !== value) element.setAttribute(name, mapped);
    }
  };
}
