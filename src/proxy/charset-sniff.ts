/**
 * A document's charset from its first bytes, as browsers find it when the `Content-Type`
 * does not settle it: a byte order mark (WHATWG Encoding, "BOM sniff"), in XML the
 * `encoding` of its XML declaration (RFC 7303 §4.3), and in HTML a `<meta charset>` in the
 * first 1024 bytes (WHATWG HTML §13.2.3.2, "prescan a byte stream to determine its
 * encoding"), and, for an HTML page that declares none, windows-1252 when those bytes are not
 * UTF-8 ({@link undeclaredCharset}). One decision for `replaceText` and `rewriteHtml`
 * ({@link charsetSniffer}), which must know the charset before they read a byte of text.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import type { StartTag } from 'parse5-sax-parser';
import { metaContentCharset } from './meta-content-charset.ts';
import { bomEncoding } from '../http/charset.ts';
import { encodingName } from './text-codec.ts';
import type { TokenStream } from './html-tokens.ts';

/** How many bytes at the start of an HTML document a `<meta>` declaring its charset is looked for in (HTML §13.2.3.2: "only the first 1024 bytes"). */
export const PRESCAN_BYTES = 1024;

/**
 * {@link bomEncoding} of the first bytes of a body that may not all have come: undefined while
 * they are too few to tell (none yet, or the beginning of a BOM: `EF`, `EF BB`, `FE`, `FF`).
 */
function sniffBom(bytes: Uint8Array): string | null | undefined {
  const bom = bomEncoding(bytes);
  if (bom !== null || bytes.length >= 3) return bom;
  const [b0, b1] = bytes;
  if (b0 === undefined) return undefined;
  if (b1 === undefined) return b0 === 0xef || b0 === 0xfe || b0 === 0xff ? undefined : null;
  return b0 === 0xef && b1 === 0xbb ? undefined : null;
}

/**
 * The charset a `<meta>` start tag declares, as the HTML encoding sniffing prescan reads it:
 * its `charset` attribute, or the charset its `content` names when `http-equiv` is
 * `content-type` (read as browsers read it, {@link metaContentCharset}), as its WHATWG name; undefined for any other tag or a label the platform does not
 * know. (UTF-16 declared in a byte stream means UTF-8, `x-user-defined` windows-1252.)
 *
 * @param getAttribute Reads an attribute of the tag (null when absent).
 */
export function declaredCharset(tagName: string, getAttribute: (name: string) => string | null): string | undefined {
  if (tagName !== 'meta') return undefined;
  const charset = getAttribute('charset')?.trim() || undefined;
  const content = getAttribute('content');
  const declared = charset ?? (getAttribute('http-equiv')?.trim().toLowerCase() === 'content-type' && content !== null ? metaContentCharset(content) : undefined);
  return declared === undefined ? undefined : inByteStream(declared);
}

/**
 * The WHATWG name of a label a document declares in its own bytes, or undefined for a label the
 * platform does not know. Bytes that declare UTF-16 in ASCII are not UTF-16: UTF-8 (HTML's
 * prescan, "get an encoding" then UTF-16 → UTF-8); `x-user-defined` is windows-1252.
 */
function inByteStream(label: string): string | undefined {
  const name = encodingName(label);
  if (name === null) return undefined;
  return name.startsWith('utf-16') ? 'utf-8' : name === 'x-user-defined' ? 'windows-1252' : name;
}

/**
 * The charset the `charset` parameter of a response's `Content-Type` names, as browsers take
 * it: its WHATWG name (`latin1` is `windows-1252`), or undefined when there is none or its
 * label is one the platform does not know (`charset=None`, `charset=bogus`). Browsers ignore
 * such a label: WHATWG Encoding's "get an encoding" fails, and HTML's encoding sniffing
 * algorithm (WHATWG HTML §13.2.3.1) goes on to the body's own declarations, so the one rule of
 * `replaceText` and `rewriteHtml` reads them (a BOM, the XML declaration, the `<meta>`
 * prescan) as for a type without a charset.
 */
export function contentTypeCharset(label: string | undefined): string | undefined {
  return label === undefined ? undefined : (encodingName(label) ?? undefined);
}

const XML_DECLARATION = '<?xml';
/** The `encoding` pseudo-attribute of an XML declaration (XML 1.0 §4.3.3, `EncodingDecl`). */
const ENCODING_DECL = /[\x20\t\r\n]encoding[\x20\t\r\n]*=[\x20\t\r\n]*(["'])([A-Za-z][A-Za-z0-9._-]*)\1/;

/**
 * The encoding the XML declaration at the very start of `head` (bytes as a latin1 string)
 * names in its `encoding` (`<?xml version="1.0" encoding="ISO-8859-1"?>`; XML 1.0 §4.3.3, read
 * when no BOM or `charset` parameter says otherwise: RFC 7303 §4.3), as its WHATWG name. Null
 * when `head` starts with no declaration, or with one without `encoding` or with a label the
 * platform does not know; undefined while `head` may still be the start of one (no `?>` yet).
 */
export function xmlDeclarationCharset(head: string): string | null | undefined {
  if (!XML_DECLARATION.startsWith(head.slice(0, XML_DECLARATION.length))) return null;
  if (head.length <= XML_DECLARATION.length) return undefined;
  if (!/[\x20\t\r\n]/.test(head[XML_DECLARATION.length]!)) return null;
  const end = head.indexOf('?>', XML_DECLARATION.length);
  if (end === -1) return undefined;
  const label = ENCODING_DECL.exec(head.slice(0, end))?.[2];
  return (label === undefined ? undefined : inByteStream(label)) ?? null;
}

/**
 * {@link declaredCharset} of a start tag as parse5's tokenizer gives it (with its source
 * location: byte offsets of a body read as latin1), when the HTML prescan reads it: the tag
 * ends, its `>` included, within the first {@link PRESCAN_BYTES} bytes. WHATWG HTML
 * §13.2.3.2 aborts the prescan, which then declares nothing, when it reaches its end condition
 * (those bytes) at any point, "including during instances of the get an attribute algorithm":
 * a `<meta>` that starts before byte 1024 and ends after it is not read. Undefined for any
 * other tag, one ending later, or a label the platform does not know. The one test of both
 * `replaceText` ({@link CharsetSniffer}) and `rewriteHtml`, so that they read a page alike.
 */
export function metaCharset(tag: StartTag): string | undefined {
  const end = tag.sourceCodeLocation?.endOffset;
  if (end === undefined || end > PRESCAN_BYTES) return undefined;
  return declaredCharset(tag.tagName, (name) => tag.attrs.find((attr) => attr.name === name)?.value ?? null);
}

/**
 * The charset of an HTML page that declares none (no BOM, `charset` parameter or `<meta>`),
 * from `head`, its first bytes (at most {@link PRESCAN_BYTES}): UTF-8 when they are UTF-8, else
 * windows-1252, the default browsers read such a page in (WHATWG HTML §13.2.3.1, "encoding
 * sniffing algorithm": the implementation-defined default, windows-1252 in most locales; as
 * browsers detect UTF-8). Windows-1252 maps every byte to a character and back, so a filter
 * decoding a legacy page in it gives back every byte it does not rewrite, where UTF-8 would
 * make each one that is not UTF-8 U+FFFD. A character cut at the end of `head` is UTF-8 unless
 * `whole` says the body ends there.
 *
 * @param whole True when `head` is the whole body.
 */
function undeclaredCharset(head: Uint8Array, whole: boolean): 'utf-8' | 'windows-1252' {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: !whole });
    return 'utf-8';
  } catch {
    return 'windows-1252';
  }
}

const EMPTY: Buffer = Buffer.alloc(0);

/** Nothing read after a byte order mark: the `Content-Type` names the charset. */
const DECLARED: SniffedDeclarations = { xml: false, meta: false, legacy: false };

/** The charset of a body that declares none (told apart by {@link CharsetSniffer.defaulted}). */
const FALLBACK = 'utf-8';

/** What {@link CharsetSniffer} reads after a byte order mark, for a body whose `Content-Type` names no charset. */
export interface SniffedDeclarations {
  /** The `encoding` of an XML declaration at the start ({@link xmlDeclarationCharset}): XML types. */
  xml: boolean;
  /** A `<meta>` ending within the first {@link PRESCAN_BYTES} bytes ({@link metaCharset}): HTML. */
  meta: boolean;
  /**
   * With `meta`, when no `<meta>` declares a charset: {@link undeclaredCharset} of the first
   * {@link PRESCAN_BYTES} bytes (windows-1252 when they are not UTF-8) instead of the fallback:
   * `text/html`, whose undeclared default is a legacy one (not XML, whose default is UTF-8).
   */
  legacy: boolean;
}

/**
 * Finds a body's charset from its first bytes, holding them back until it knows: a byte order
 * mark (any text: it wins over the declared charset, as WHATWG Encoding's "decode" has it);
 * else, with `declarations.xml`, the `encoding` of an XML declaration that ends within the
 * first {@link PRESCAN_BYTES} bytes; else, with `declarations.meta`, the charset a `<meta>`
 * that ends within them declares (read with `rewriteHtml`'s tokenizer, so a `<meta>` in a
 * comment or a script does not count); else, with `declarations.legacy`, windows-1252 when
 * those bytes (all of a shorter body) are not UTF-8 ({@link undeclaredCharset}); else
 * `fallback`. Holds back at most 2 bytes (a
 * beginning of a BOM) without declarations to read, and fewer than 1024 with them.
 */
export class CharsetSniffer {
  /** The WHATWG name of the charset, once decided (by {@link push} answering bytes, or {@link end}). */
  charset: string | undefined;
  /**
   * True once decided when {@link charset} is the fallback (the declared charset, or UTF-8): no
   * byte order mark, no declaration read in the bytes, and no legacy page (windows-1252).
   * `rewriteHtml` then writes what it adds to a page that declares no charset as character
   * references, which any charset reads.
   */
  defaulted = false;
  /** The bytes held back (fewer than {@link PRESCAN_BYTES}). */
  private held = EMPTY;
  /** What is looked for next: a BOM, then an XML declaration, then a `<meta>`. */
  private stage: 'bom' | 'xml' | 'meta' = 'bom';
  /** The prescan's tokenizer, once it looks for a `<meta>`. */
  private meta: TokenStream | null = null;
  private found: string | undefined;
  /** The bytes the prescan has been given, at most {@link PRESCAN_BYTES}. */
  private scanned = 0;
  private readonly declarations: SniffedDeclarations;
  private readonly fallback: string;
  private readonly tokens: typeof TokenStream | undefined;

  /**
   * @param fallback The charset when the bytes decide none (the declared one, or UTF-8).
   * @param declarations What is read after a BOM (nothing when the `Content-Type` names a charset).
   * @param tokens parse5's tokenizer (html-parser.ts loads it), when `declarations.meta`.
   * @throws TypeError when `declarations.meta` and no `tokens` (a bug of tsgi's).
   */
  constructor(fallback: string, declarations: SniffedDeclarations, tokens?: typeof TokenStream) {
    if (declarations.meta && tokens === undefined) throw new TypeError('CharsetSniffer: a <meta> prescan needs the tokenizer (loadHtmlParser)');
    this.fallback = fallback;
    this.declarations = declarations;
    this.tokens = tokens;
  }

  /**
   * Takes the next chunk; answers every byte held so far, this chunk's included, once the
   * charset is decided ({@link charset}), else undefined (they are held, copied: the app may
   * reuse its chunk). Not called again after it answered.
   */
  push(chunk: Uint8Array): Uint8Array | undefined {
    // A view of the chunk when nothing is held (copied only if it is held in turn), else a new buffer.
    const view = this.held.length === 0;
    const bytes = view ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([this.held, chunk]);
    const head = Math.min(bytes.length, PRESCAN_BYTES);
    if (this.stage === 'bom') {
      const bom = sniffBom(bytes);
      if (bom === undefined) return this.hold(bytes, view);
      if (bom !== null) return this.decide(bom, bytes);
      this.stage = 'xml';
    }
    if (this.stage === 'xml') {
      const declared = this.declarations.xml ? xmlDeclarationCharset(bytes.toString('latin1', 0, head)) : null;
      if (declared === undefined && head < PRESCAN_BYTES) return this.hold(bytes, view);
      if (typeof declared === 'string') return this.decide(declared, bytes);
      this.stage = 'meta';
    }
    if (!this.declarations.meta) return this.decide(this.fallback, bytes);
    if (this.meta === null) {
      this.meta = new this.tokens!();
      this.meta.on('startTag', (tag: StartTag) => (this.found ??= metaCharset(tag)));
    }
    this.meta.write(bytes.toString('latin1', this.scanned, head));
    this.scanned = head;
    if (this.found !== undefined) return this.decide(this.found, bytes);
    if (head < PRESCAN_BYTES) return this.hold(bytes, view);
    return this.undeclared(bytes.subarray(0, PRESCAN_BYTES), false, bytes);
  }

  /**
   * The body ended: decides with what came (no BOM in fewer bytes than one, no XML declaration
   * without its `?>`, no `<meta>` found: the held bytes are the whole body), and answers the
   * bytes held.
   */
  end(): Uint8Array {
    const held = this.held;
    if (this.found !== undefined) return this.decide(this.found, held);
    return this.undeclared(held, true, held);
  }

  /**
   * Decides when the bytes declare no charset: windows-1252 with `declarations.legacy` when
   * `head` is not UTF-8 ({@link undeclaredCharset}), else the fallback ({@link defaulted}).
   */
  private undeclared(head: Uint8Array, whole: boolean, bytes: Buffer): Buffer {
    const legacy = this.declarations.legacy && undeclaredCharset(head, whole) === 'windows-1252';
    return legacy ? this.decide('windows-1252', bytes) : this.decide(this.fallback, bytes, true);
  }

  private hold(bytes: Buffer, view: boolean): undefined {
    this.held = view ? Buffer.from(bytes) : bytes;
    return undefined;
  }

  private decide(charset: string, bytes: Buffer, defaulted = false): Buffer {
    this.charset = charset;
    this.defaulted = defaulted;
    this.meta?.destroy();
    this.meta = null;
    this.held = EMPTY;
    return bytes;
  }
}

/**
 * The {@link CharsetSniffer} of a body of media type `type` (lower-case, no parameters) whose
 * `Content-Type` names `declared` ({@link contentTypeCharset}): the one decision of
 * `replaceText` and `rewriteHtml`, so that they read a page alike: a byte order mark; else
 * `declared`; else an XML type's XML declaration (`application/xml`, `text/xml`, `+xml`:
 * `application/xhtml+xml` too), an HTML page's `<meta>` (`text/html`,
 * `application/xhtml+xml`), windows-1252 for a `text/html` page whose first 1024 bytes are not
 * UTF-8; else UTF-8. `declared` and that UTF-8 are the fallback ({@link CharsetSniffer.defaulted}).
 */
export function charsetSniffer(type: string, declared: string | undefined, tokens?: typeof TokenStream): CharsetSniffer {
  if (declared !== undefined) return new CharsetSniffer(declared, DECLARED);
  const xml = type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml');
  return new CharsetSniffer(FALLBACK, { xml, meta: readsMeta(type, declared), legacy: type === 'text/html' }, tokens);
}

/**
 * Whether {@link charsetSniffer}`(type, declared)` looks for a `<meta>`, and so needs parse5's
 * tokenizer: an HTML page (`text/html`, `application/xhtml+xml`) whose `Content-Type` names no charset.
 */
export function readsMeta(type: string, declared: string | undefined): boolean {
  return declared === undefined && (type === 'text/html' || type === 'application/xhtml+xml');
}

/**
 * The charset a whole HTML document (`type`: `text/html` or `application/xhtml+xml`, lower-case,
 * no parameters) is read in when its `Content-Type` names none, decided as `replaceText` and
 * `rewriteHtml` decide it ({@link charsetSniffer}): a byte order mark, in XHTML the `encoding`
 * of its XML declaration, a `<meta charset>` or `<meta http-equiv="Content-Type">` that ends
 * within the first 1024 bytes (WHATWG HTML §13.2.3.2), else, for a `text/html` page whose first
 * 1024 bytes (all of a shorter one) are not UTF-8, windows-1252 (HTML §13.2.3.1's legacy
 * default); as its WHATWG name (`shift_jis`). Undefined when none of these applies (a page
 * whose first bytes are UTF-8), and for any other type: the caller's default (UTF-8) applies.
 * For a browser's reading of a page whose `Content-Type` names no charset (the test client's).
 */
export function documentCharset(bytes: Uint8Array, type: string, tokens: typeof TokenStream): string | undefined {
  if (type !== 'text/html' && type !== 'application/xhtml+xml') return undefined;
  const sniffer = charsetSniffer(type, undefined, tokens);
  if (sniffer.push(bytes) === undefined) sniffer.end();
  return sniffer.defaulted ? undefined : sniffer.charset;
}
