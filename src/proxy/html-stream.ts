/**
 * The streaming engine of `rewriteHtml`: parse5's `RewritingStream` fed byte strings, its
 * output collected as it is produced, and the bookkeeping of elements whose end a handler
 * waits for (to append, to drop content).
 *
 * @module
 */
import { once } from 'node:events';
import { RewritingStream } from 'parse5-html-rewriting-stream';
import type { EndTag, StartTag } from 'parse5-sax-parser';
import { HtmlElement, editsOf, startTagOf } from './html-element.ts';
import type { ByteText } from './html-text.ts';
import type { Selector } from './html-selector.ts';

/** A handler with its selector. */
export interface Rule {
  selector: Selector;
  handle(element: HtmlElement): void;
}

/** An element whose end tag is waited for. */
interface Watch {
  name: string;
  /** Open elements of the same name inside it. */
  depth: number;
  append: string;
  after: string;
  /** `all`: drop everything up to and with the end tag; `content`: up to it. */
  drop: 'none' | 'all' | 'content';
}

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'keygen', 'link', 'meta', 'param', 'source', 'track', 'wbr']);

/** parse5's rewriting stream with its output collected synchronously (no stream buffering). */
class Collector extends RewritingStream {
  out = '';
  override push(chunk: unknown): boolean {
    if (typeof chunk === 'string') this.out += chunk;
    return true;
  }
}

/**
 * Rewrites one document: {@link HtmlRewrite.write} takes a chunk of bytes (a latin1 string)
 * and answers the output it allows so far; {@link HtmlRewrite.end} answers the rest. A tag
 * split between two chunks is held back until it is complete.
 */
export class HtmlRewrite {
  private readonly stream = new Collector();
  private readonly watches: Watch[] = [];
  private dropping = 0;
  private readonly rules: readonly Rule[];
  private readonly text: ByteText;

  constructor(rules: readonly Rule[], text: ByteText) {
    this.rules = rules;
    this.text = text;
    const stream = this.stream;
    stream.on('startTag', (tag: StartTag, raw: string) => this.onStartTag(tag, raw));
    stream.on('endTag', (tag: EndTag, raw: string) => this.onEndTag(tag, raw));
    const pass = (_token: unknown, raw: string) => this.emit(raw);
    stream.on('text', pass);
    stream.on('comment', pass);
    stream.on('doctype', pass);
  }

  write(bytes: string): string {
    this.stream.write(bytes);
    return this.take();
  }

  async end(): Promise<string> {
    const finished = once(this.stream, 'finish');
    this.stream.end();
    await finished;
    while (this.watches.length > 0) this.close(this.watches.pop()!, '');
    return this.take();
  }

  private take(): string {
    const out = this.stream.out;
    this.stream.out = '';
    return out;
  }

  private emit(raw: string): void {
    if (this.dropping === 0 && raw !== '') this.stream.emitRaw(raw);
  }

  private onStartTag(tag: StartTag, raw: string): void {
    const name = tag.tagName;
    if (name === 'body') this.closeImplied('head');
    if (!VOID.has(name)) for (const watch of this.watches) if (watch.name === name) watch.depth++;
    if (this.dropping > 0) return;
    let element: HtmlElement | undefined;
    for (const rule of this.rules) {
      if (rule.selector.tags !== null && !rule.selector.tags.has(name)) continue;
      element ??= new HtmlElement(tag, raw, this.text);
      if (rule.selector.matches(element)) rule.handle(element);
    }
    const edits = element && editsOf(element);
    if (!edits?.touched) {
      this.emit(raw);
      return;
    }
    this.emit(edits.before);
    const isVoid = VOID.has(name);
    if (edits.replacement !== undefined) {
      this.emit(edits.replacement);
      if (isVoid) this.emit(edits.after);
      else this.watch({ name, depth: 0, append: '', after: edits.after, drop: 'all' });
      return;
    }
    this.emit(startTagOf(element!));
    if (isVoid) {
      this.emit(edits.after);
      return;
    }
    this.emit(edits.inner ?? edits.prepend);
    if (edits.inner !== undefined) this.watch({ name, depth: 0, append: edits.append, after: edits.after, drop: 'content' });
    else if (edits.append !== '' || edits.after !== '') this.watch({ name, depth: 0, append: edits.append, after: edits.after, drop: 'none' });
  }

  private onEndTag(tag: EndTag, raw: string): void {
    const index = this.watches.findLastIndex((watch) => watch.name === tag.tagName);
    const watch = this.watches[index];
    if (watch === undefined || watch.depth > 0) {
      if (watch) watch.depth--;
      this.emit(raw);
      return;
    }
    while (this.watches.length - 1 > index) this.close(this.watches.pop()!, '');
    this.close(this.watches.pop()!, raw);
  }

  /** Closes the innermost watch of `name` (and those inside it) when a tag implies its end. */
  private closeImplied(name: string): void {
    const index = this.watches.findLastIndex((watch) => watch.name === name);
    if (index === -1) return;
    while (this.watches.length > index) this.close(this.watches.pop()!, '');
  }

  private watch(watch: Watch): void {
    if (watch.drop !== 'none') this.dropping++;
    this.watches.push(watch);
  }

  private close(watch: Watch, endTag: string): void {
    if (watch.drop === 'all') {
      this.dropping--;
      this.emit(watch.after);
      return;
    }
    if (watch.drop === 'content') this.dropping--;
    this.emit(watch.append);
    this.emit(endTag);
    this.emit(watch.after);
  }
}
