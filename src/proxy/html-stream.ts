/**
 * The streaming engine of `rewriteHtml`: parse5's tokenizer fed byte strings, the output written
 * from the source itself (by offset), and the bookkeeping of elements whose end a handler waits
 * for (to append, to drop content).
 *
 * @module
 */
import { once } from 'node:events';
import type { EndTag, StartTag } from 'parse5-sax-parser';
import { HtmlElement, editsOf, startTagOf } from './html-element.ts';
import type { ByteText } from './html-text.ts';
import type { Selector } from './html-selector.ts';
import { TokenStream, VOID } from './html-tokens.ts';
import { OpenElements } from './html-open-elements.ts';
import { MAX_TOKEN_BYTES } from './html-limits.ts';

/** A handler with its selector. */
export interface Rule {
  selector: Selector;
  handle(element: HtmlElement): void;
}

/** An element whose end a handler waits for. */
interface Watch {
  /** The element's name as parse5 reads it (`li`, SVG's `clipPath`): its end tag is written before `after` when the source leaves it out. */
  name: string;
  append: string;
  after: string;
  /** `all`: drop everything up to and with the end tag; `content`: up to it. */
  drop: 'none' | 'all' | 'content';
}

/** Where a token lies in the source. */
interface Located {
  sourceCodeLocation?: { startOffset: number; endOffset: number } | null | undefined;
}

/**
 * Rewrites one document: {@link HtmlRewrite.write} takes a chunk of bytes (a latin1 string)
 * and answers the output it allows so far; {@link HtmlRewrite.end} answers the rest. Text and
 * comments go out as they arrive; only a tag (or doctype, or `<`, `&…` that may start one)
 * split between two chunks is held back until it is complete.
 *
 * What is held back is bounded by `maxTokenBytes`: parse5 keeps (and copies on every chunk) all
 * input since the start of an unfinished tag or doctype, so a token without end would cost
 * time quadratic in its length. Once more than that is held back after a chunk, the rewrite
 * stops: elements waiting for their end are closed as at the end of the body (their appended
 * content goes out, a removed element's drop ends), and the rest of the body, from the held
 * back token on, passes through byte for byte without being parsed.
 */
export class HtmlRewrite {
  private readonly stream = new TokenStream();
  /** Past {@link maxTokenBytes} held back: no longer parsing, everything passes through. */
  private through = false;
  private readonly maxTokenBytes: number;
  /** The open elements, those a handler waits for the end of with their {@link Watch}. */
  private readonly open: OpenElements<Watch>;
  private dropping = 0;
  private readonly rules: readonly Rule[];
  private readonly text: ByteText;
  /** The input not yet sent (or dropped), from source offset {@link sent}. */
  private source = '';
  private sent = 0;
  private out = '';

  /**
   * @param text The conversions of the document's charset, decided before its first byte is
   *   read (`charsetSniffer`: a byte order mark, the `Content-Type`, an XML declaration, a
   *   `<meta>`, a legacy page's windows-1252).
   * @param maxTokenBytes The most input held back after a chunk (an unfinished tag or doctype)
   *   before the rewrite gives up and passes the rest through (see the class).
   * @param xml True for an XHTML document (`application/xhtml+xml`), read as XML reads it: a
   *   self-closing tag of any element is the whole element.
   */
  constructor(
    rules: readonly Rule[],
    text: ByteText,
    maxTokenBytes = MAX_TOKEN_BYTES,
    xml = false,
  ) {
    this.stream.xml = xml;
    this.open = new OpenElements((watch) => this.close(watch, ''), xml);
    this.rules = rules;
    this.maxTokenBytes = maxTokenBytes;
    this.text = text;
    const stream = this.stream;
    stream.on('startTag', (tag: StartTag) => this.onStartTag(tag));
    stream.on('endTag', (tag: EndTag) => this.onEndTag(tag));
    const pass = (token: Located) => this.pass(token.sourceCodeLocation?.endOffset ?? this.sent);
    stream.on('text', pass);
    stream.on('comment', pass);
    stream.on('doctype', (token: Located) => {
      const at = token.sourceCodeLocation;
      if (at) this.open.doctype(this.source.slice(at.startOffset - this.sent, at.endOffset - this.sent));
      pass(token);
    });
  }

  write(bytes: string): string {
    if (this.through) return bytes;
    this.source += bytes;
    this.stream.write(bytes);
    this.pass(this.stream.settled());
    this.stream.relieve();
    if (this.source.length > this.maxTokenBytes) this.giveUp();
    return this.take();
  }

  /** Stops rewriting: closes what waits for an end tag, and lets what is held back through. */
  private giveUp(): void {
    this.through = true;
    this.open.clear();
    this.out += this.source;
    this.sent += this.source.length;
    this.source = '';
  }

  async end(): Promise<string> {
    if (this.through) return this.take();
    const finished = once(this.stream, 'finish');
    this.stream.end();
    await finished;
    // A tag cut off by the end of the body: its source as it was.
    this.pass(this.sent + this.source.length);
    this.open.clear();
    return this.take();
  }

  private take(): string {
    const out = this.out;
    this.out = '';
    return out;
  }

  private emit(raw: string): void {
    if (this.dropping === 0) this.out += raw;
  }

  /** Sends (or, inside a dropped element, drops) the source up to offset `end`. */
  private pass(end: number): void {
    if (end <= this.sent) return;
    this.emit(this.source.slice(0, end - this.sent));
    this.source = this.source.slice(end - this.sent);
    this.sent = end;
  }

  /** The source of a tag, taken off the input (what comes before it passed on). */
  private takeTag(tag: Located): string {
    const location = tag.sourceCodeLocation!;
    this.pass(location.startOffset);
    const raw = this.source.slice(0, location.endOffset - this.sent);
    this.source = this.source.slice(raw.length);
    this.sent = location.endOffset;
    return raw;
  }

  private onStartTag(tag: StartTag): void {
    const raw = this.takeTag(tag);
    // Lower-case as selectors are: parse5 gives SVG's camel-cased names (`clipPath`).
    const name = tag.tagName.toLowerCase();
    // A tag the browser drops (`<form>` inside an open form) is no element: passed as it came, matched by nothing.
    if (this.open.drops(name, this.stream.foreign)) {
      this.emit(raw);
      return;
    }
    // A form in a table (not in a cell) is popped as soon as it is inserted: empty, as a void element, but with no end tag to leave out.
    if (this.open.popsAtOnce(name, this.stream.foreign)) {
      this.rewriteStartTag(tag, name, raw, 'empty', !this.stream.xml);
      return;
    }
    // Void elements, and self-closing ones in SVG and MathML (in XHTML, all), have no content and no end tag.
    const isVoid = VOID.has(name) || (tag.selfClosing && (this.stream.foreign || this.stream.xml));
    // What the tag implies ends (an open `<p>` at `<div>`) ends before it.
    const foreign = this.open.start(name, this.stream.foreign);
    const watch = this.rewriteStartTag(tag, name, raw, isVoid ? 'void' : 'open', !this.stream.xml && !foreign);
    if (!isVoid) this.open.push(name, foreign, watch);
  }

  /**
   * Runs the handlers on a start tag and sends it as they changed it (nothing inside a dropped
   * element); answers the watch on its end, when a handler waits for it. `kind`: `open` for an
   * element whose content follows; `void` for one with no content (what `prepend`, `append`
   * and `setInnerContent` insert is dropped); `empty` for one the browser pops at once, a form in
   * a table ({@link OpenElements.popsAtOnce}): what they insert goes right after its start tag,
   * read as the browser reads what follows it there, and `after` follows with no end tag written
   * (a `</form>` would clear the form element pointer, taking the fields that follow from the form).
   * `html` for an HTML element of an HTML document (not XHTML, SVG or MathML), whose selectors
   * match some attribute values in any case (`Selector.matches`).
   */
  private rewriteStartTag(tag: StartTag, name: string, raw: string, kind: 'open' | 'void' | 'empty', html: boolean): Watch | undefined {
    if (this.dropping > 0) return;
    let element: HtmlElement | undefined;
    for (const rule of this.rules) {
      if (rule.selector.tags !== null && !rule.selector.tags.has(name)) continue;
      element ??= new HtmlElement(tag, raw, this.text);
      if (rule.selector.matches(element, html)) rule.handle(element);
    }
    const edits = element && editsOf(element);
    if (!edits?.touched) {
      this.emit(raw);
      return undefined;
    }
    this.emit(edits.before);
    if (edits.replacement !== undefined) {
      this.emit(edits.replacement);
      if (kind === 'open') return this.watch({ name: tag.tagName, append: '', after: edits.after, drop: 'all' });
      this.emit(edits.after);
      return undefined;
    }
    this.emit(startTagOf(element!));
    if (kind !== 'open') {
      if (kind === 'empty') this.emit((edits.inner ?? edits.prepend) + edits.append);
      this.emit(edits.after);
      return undefined;
    }
    this.emit(edits.inner ?? edits.prepend);
    if (edits.inner !== undefined) return this.watch({ name: tag.tagName, append: edits.append, after: edits.after, drop: 'content' });
    if (edits.append !== '' || edits.after !== '') return this.watch({ name: tag.tagName, append: edits.append, after: edits.after, drop: 'none' });
    return undefined;
  }

  private onEndTag(tag: EndTag): void {
    const raw = this.takeTag(tag);
    // What is inside its element ends first (their appended content before the tag), then its element.
    const watch = this.open.end(tag.tagName.toLowerCase());
    // An end tag that ended the SVG or MathML elements open (`</div>` in `<div><svg>`): what follows is HTML.
    if (this.open.readsHtml()) this.stream.leaveForeign();
    if (watch === undefined) this.emit(raw);
    else this.close(watch, raw);
  }

  /** Starts dropping what follows when the watch drops content. */
  private watch(watch: Watch): Watch {
    if (watch.drop !== 'none') this.dropping++;
    return watch;
  }

  /**
   * Ends a watched element: at its end tag (`endTag`, its source), or where the source implies
   * its end (`''`). Content inserted after an element whose end is implied goes after its end
   * tag, written out (`<li>one</li>[after]<li>two`): without it, the browser would read that
   * content as the end of the element's content, the element ending only at the next tag. Not
   * when the rewrite gives up ({@link giveUp}): the element has not ended, the rest of the body
   * follows unparsed.
   */
  private close(watch: Watch, endTag: string): void {
    if (watch.drop === 'all') {
      this.dropping--;
      this.emit(watch.after);
      return;
    }
    if (watch.drop === 'content') this.dropping--;
    this.emit(watch.append);
    this.emit(endTag === '' && watch.after !== '' && !this.through ? `</${watch.name}>` : endTag);
    this.emit(watch.after);
  }
}
