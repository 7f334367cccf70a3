/**
 * Streaming text replacement in responses ({@link replaceText}), in the response's charset.
 *
 * @module
 */
import { type App, type AppLike, type Body, type Environ, toApp } from '../gateway/types.ts';
import { markNotAnApp } from '../gateway/not-an-app.ts';
import { sendsHeadEarly } from '../gateway/body.ts';
import { responseMediaType } from './response-type.ts';
import { bodyFilter } from '../middleware/body-filter.ts';
import { checkVersion } from '../middleware/etag-version.ts';
import { type EventPieces, EventSplitter } from './event-stream.ts';
import { isJsonLinesType, jsonLinesSplitter } from './json-lines.ts';
import { isTextType } from './text-types.ts';
import { type Replacement, TextReplacer } from './text-replacer.ts';
import { characterReference, encodingName, textCodec } from './text-codec.ts';
import { utf8Escaping } from './utf8-escape.ts';
import { contentTypeCharset } from './charset-sniff.ts';
import { loadCharsetSniffer } from './html-parser.ts';
import { type OptionNames, checkOptions } from '../gateway/option-names.ts';

/** Options of {@link replaceText}. */
export interface ReplaceTextOptions {
  /** `[pattern, replacement]` pairs, applied in order, each to the output of the one before. */
  replacements: ReadonlyArray<readonly [pattern: string | RegExp, replacement: Replacement]>;
  /**
   * The longest text, in characters (UTF-16 code units), a RegExp pattern can match; default
   * 1024. A RegExp's matches are found across chunk boundaries by holding back the last
   * `maxMatchLength - 1` characters until more text comes; a longer match split between chunks
   * is missed. It is also how far back `\b` and lookbehind see: the last `maxMatchLength`
   * characters already sent are searched as context, which no match starts in (so `^` matches
   * only at the start of the body). A string pattern ignores it: it holds back only an end of
   * the text that begins the pattern.
   */
  maxMatchLength?: number | undefined;
  /**
   * Decides from the media type (`text/css`, lower-case, no parameters) whether to rewrite a
   * response; not called for one whose `Content-Type` is not one media type (two fields, or a
   * list: `text/html; charset=utf-8, text/plain`), which passes through as an answer of no type. Default: `text/*`, JSON (`application/json`, `+json`), line-delimited JSON
   * (`application/x-ndjson`, `application/jsonl`, `application/json-seq` and aliases), JavaScript
   * (`application/javascript`, `application/ecmascript`, and the legacy `application/x-javascript`
   * and `application/x-ecmascript`) and XML (`application/xml`, `+xml`).
   */
  filter?: ((type: string, environ: Environ) => boolean) | undefined;
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

/** Every option of {@link ReplaceTextOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const REPLACE_TEXT_OPTIONS = { replacements: true, maxMatchLength: true, filter: true, version: true } as const satisfies OptionNames<ReplaceTextOptions>;

/**
 * Replaces strings or RegExp matches in text responses as they stream, matching across chunk
 * boundaries (see {@link ReplaceTextOptions.maxMatchLength}), with the results of
 * `String.prototype.replaceAll` over the whole text: every occurrence of a string, every match
 * of a RegExp with or without its `g` flag (nginx's `sub_filter` replaces the first only, by
 * default). The body is decoded in its
 * charset, replaced, and encoded back in the same charset. The charset is found as browsers
 * find it: UTF-8 (or UTF-16) when the body starts with that byte order mark, whatever is
 * declared (WHATWG Encoding, "decode"; the BOM is kept); else the `Content-Type` parameter
 * (one whose label no browser knows, `charset=None`, is ignored, as browsers ignore it, and as
 * `rewriteHtml` does); else, for XML (`application/xml`, `text/xml`, `+xml`), the `encoding` of the XML declaration
 * it starts with (`<?xml version="1.0" encoding="ISO-8859-1"?>`, RFC 7303 §4.3);
 * else, for `text/html` and `application/xhtml+xml`, the one a `<meta charset>` or
 * `<meta http-equiv="Content-Type" content="…; charset=…">` ending within the first 1024 bytes
 * declares (WHATWG HTML §13.2.3.2, "prescan a byte stream"; as `rewriteHtml` reads it); else,
 * for `text/html`, UTF-8 when its first 1024 bytes (all of a shorter body; a character cut at
 * byte 1024 counts as UTF-8) are UTF-8, and windows-1252 when they are not (a legacy page, read
 * as browsers read an undeclared one, WHATWG HTML §13.2.3.1: every byte is a character, so the
 * bytes outside a match come back unchanged, as `rewriteHtml` leaves them); else UTF-8 (the
 * default of XML, `application/xhtml+xml` included, XML 1.0 §4.3.3; JSON and JavaScript are
 * UTF-8, and other text, `text/plain` among it, is not held back to be looked at; a `<meta>`
 * past byte 1024 is not read). UTF-8 and the
 * single-byte charsets (`iso-8859-1`, `windows-1252`, …) are rewritten; other charsets
 * (UTF-16, Shift_JIS, unknown labels: named by a BOM, an XML declaration or a `<meta>`, or a
 * known one declared, even when a UTF-8 BOM follows: the fields are settled before the body), and compressed bodies (put
 * `decodeContent` below), pass through untouched. A replacement character the
 * charset cannot hold (`✓` in a windows-1252 page) is sent, in HTML and XML, as a numeric
 * character reference (`&#10003;`), as `rewriteHtml` writes it and browsers read it; in other
 * text, which has no such escape, as `?`. A byte that is not UTF-8 in a body read as UTF-8
 * (an undeclared HTML page whose legacy bytes come after byte 1024, an undeclared stylesheet)
 * comes back as it came, for the browser to read as it would have; a RegExp sees it as one
 * character U+DC80 to U+DCFF (Python's `surrogateescape`).
 *
 * Like every body filter, it drops `Content-Length` (a body that does not keep to it still
 * fails, as without a filter) and `Accept-Ranges`, weakens a strong
 * `ETag` (of a HEAD answer too: it gets the fields GET gets), drops `Last-Modified` (the
 * upstream's date, not the replaced text's, which changes with the rules: nginx's
 * `sub_filter_last_modified off`; also from the 304 answering for a replaced response), and
 * leaves 204 and 304 answers untouched, and so any response whose `Cache-Control` has
 * `no-transform` (RFC 9110 §7.7: a proxy must not transform its content; its fields and bytes
 * pass as they came); a 206 (or 416) to a range request
 * for a type it rewrites is replaced by the whole, rewritten (the app is asked again without
 * `Range`).
 *
 * Each chunk of output is sent as soon as it is final, so streams still flow. To find the
 * charset, the first bytes are held back until it is known: up to 2 (a beginning of a BOM),
 * in XML without a `charset` parameter up to the end of an XML declaration, and for an HTML
 * page without one fewer than 1024, until a `<meta>` declares one (never the whole body). A
 * string pattern
 * holds back only the end of the text that could begin a match (`sec` for `secret`). A RegExp
 * cannot be asked whether text is the start of a match, so it holds back `maxMatchLength - 1`
 * characters until more text comes or the body ends; in a `text/event-stream` (server-sent
 * events), each event is replaced and sent as soon as the blank line that ends it has come,
 * as if the body ended there: a match never spans two events, `$` and lookahead see the end
 * of the event, and `^` and lookbehind its start; in line-delimited JSON
 * (`application/x-ndjson`, `application/jsonl`…), each line once its line feed has come, the
 * same way, and in `application/json-seq` (RFC 7464) each record: from its RS to the LF after
 * its JSON text, LFs inside a pretty-printed record included. A RegExp match of no characters (`/a?/`) is
 * skipped, unlike `String.prototype.replace`. Nothing is sent early because the source
 * pauses, so the output is the same whatever the timing and the chunking. For other streamed types that must flow, prefer string
 * patterns or a small `maxMatchLength`.
 *
 * @example
 * ```ts
 * import { proxy, replaceText } from 'tsgi/proxy';
 *
 * export const app = replaceText(proxy(OLD), {
 *   replacements: [
 *     ['http://old.example.com', 'https://www.example.com/legacy'],
 *     [/Copyright (\d{4})/g, 'Copyright $1–2025'],
 *   ],
 * });
 * ```
 * @throws TypeError (at once) for an empty or non-string, non-RegExp pattern, a replacement that
 *   is neither a string nor a function, a `maxMatchLength` below 1, or a `version` that cannot
 *   be part of an entity tag; given itself where an app goes (`serve(replaceText)`,
 *   `mount({ '/x': replaceText })`), a TypeError from there, when built, naming it a filter.
 */
export function replaceText(app: AppLike, options: ReplaceTextOptions): App {
  // The app first: called as an app all the same (past `toApp`), the environ is named, not taken for options.
  const inner = toApp(app);
  checkOptions('replaceText', options, REPLACE_TEXT_OPTIONS);
  const maxMatchLength = options.maxMatchLength ?? 1024;
  if (!Number.isInteger(maxMatchLength) || maxMatchLength < 1) throw new TypeError('replaceText: maxMatchLength must be a whole number of characters >= 1');
  const pairs = [...options.replacements];
  for (const [pattern, replacement] of pairs) new TextReplacer(pattern, replacement, maxMatchLength);
  const filter = options.filter ?? isTextType;
  const version = checkVersion('replaceText', options.version);
  return bodyFilter(inner, (headers, environ) => {
    const type = responseMediaType(headers);
    if (type.type === '' || !filter(type.type, environ) || pairs.length === 0) return null;
    const coding = headers.get('content-encoding');
    if (coding !== null && coding.trim().toLowerCase() !== 'identity') return null;
    // An unknown label is no charset: the body's declarations are read, as browsers do.
    const declared = contentTypeCharset(type.parameters.charset);
    // A declared charset it cannot write is left alone, BOM or not: the head is decided before the body.
    if (declared !== undefined && textCodec(declared) === null) return null;
    const html = type.type === 'text/html' || type.type === 'application/xhtml+xml';
    const xml = type.type === 'application/xml' || type.type === 'text/xml' || type.type.endsWith('+xml');
    const replacers = pairs.map(([p, r]) => new TextReplacer(p, r, maxMatchLength));
    const newSplitter = type.type === 'text/event-stream' ? () => new EventSplitter() : isJsonLinesType(type.type) ? () => jsonLinesSplitter(type.type) : null;
    // Markup writes a character its charset cannot hold as a reference, as rewriteHtml does; other text has no way.
    const unencodable = html || xml ? characterReference : undefined;
    return (body) => replaceStream(body, type.type, declared, replacers, newSplitter?.() ?? null, unencodable);
  }, { dropsLastModified: true, etagVersion: version });
}

// Given where an app goes (`serve(replaceText)`, `mount({ '/x': replaceText })`), it is named when built.
markNotAnApp(replaceText, 'replaceText, a response filter, not an app: give it the app whose text it replaces, replaceText(app, { replacements: [[from, to]] }), as replaceText(proxy(upstream), { … })');

const EMPTY = new Uint8Array(0);

/** Cuts a stream into the units replaced as if each were a whole body (events, records). */
interface UnitSplitter {
  split(text: string): EventPieces;
}

/**
 * The body, decoded, replaced and encoded back, in the charset the sniffer of `type` and the
 * `Content-Type`'s `declared` charset finds (`charsetSniffer`; the bytes it holds back meanwhile
 * are replaced with the rest); a charset it cannot write passes the body
 * through untouched. With a `splitter`, each unit it cuts (an event of an event stream, a
 * record of line-delimited JSON) is replaced and sent once complete, as if the body ended there.
 * A character the charset cannot hold is written as `unencodable` answers it (by default `?`).
 */
async function* replaceStream(
  body: Body,
  type: string,
  declared: string | undefined,
  replacers: TextReplacer[],
  splitter: UnitSplitter | null,
  unencodable: ((char: string) => string) | undefined,
): AsyncGenerator<Uint8Array, void, undefined> {
  const early = sendsHeadEarly(body);
  const sniffer = await loadCharsetSniffer(type, declared);
  /** Decodes, replaces and encodes back; null for a charset it cannot write. Made once the sniffer decided. */
  let replace: ((bytes: Uint8Array, flush: boolean) => Uint8Array) | null | undefined;
  /** True once a chunk went out (the head with it). */
  let sent = false;
  for await (const chunk of body) {
    // The app's empty chunk sends its head before any content (an event stream waiting for its
    // first event, spec §6): passed on while nothing was sent, unless the body is an array.
    if (chunk.byteLength === 0 && !sent && early) {
      sent = true;
      yield chunk;
      continue;
    }
    const bytes = replace === undefined ? sniffer.push(chunk) : chunk;
    if (bytes === undefined) continue;
    replace ??= replacing(sniffer.charset!, replacers, splitter, unencodable);
    const out = replace === null ? bytes : replace(bytes, false);
    if (out.byteLength > 0) {
      sent = true;
      yield out;
    }
  }
  const rest = replace === undefined ? sniffer.end() : EMPTY;
  replace ??= replacing(sniffer.charset!, replacers, splitter, unencodable);
  const out = replace === null ? rest : replace(rest, true);
  if (out.byteLength > 0) yield out;
}

/**
 * The body's bytes in `charset` decoded, replaced and encoded back, piece by piece (all that is
 * held back answered with `flush`, at the end of the body); null for a charset it cannot write.
 */
function replacing(
  charset: string,
  replacers: TextReplacer[],
  splitter: UnitSplitter | null,
  unencodable: ((char: string) => string) | undefined,
): ((bytes: Uint8Array, flush: boolean) => Uint8Array) | null {
  // UTF-8 keeps its bytes that are not UTF-8, for the browser to read as it would have.
  const codec = encodingName(charset) === 'utf-8' ? utf8Escaping : textCodec(charset);
  if (codec === null) return null;
  const decoder = codec.decoder();
  const run = (text: string, flush: boolean) => replacers.reduce((out, replacer) => replacer.push(out, flush), text);
  return (bytes, flush) => {
    const text = decoder.decode(bytes, { stream: !flush });
    const pieces = splitter === null ? { ends: [], rest: text } : splitter.split(text);
    let out = '';
    for (const end of pieces.ends) out += run(end, true);
    out += run(pieces.rest, flush);
    return out === '' ? EMPTY : codec.encode(out, unencodable);
  };
}
