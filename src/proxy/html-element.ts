/**
 * One element as a `rewriteHtml` handler sees it ({@link HtmlElement}): its name and attributes,
 * and the changes a handler asks for, applied by the rewriter as the document streams.
 *
 * @module
 */
import { type ByteText, escapeAttribute, escapeText } from './html-text.ts';
import { type OptionNames, booleanOption, checkOptions } from '../gateway/option-names.ts';

/** How inserted content is read: as text (escaped, the default) or as HTML markup. */
export interface ContentOptions {
  /** True to insert `content` as HTML; default false: it is text, and `<`, `>`, `&` are escaped. */
  html?: boolean | undefined;
}

/** Every option of {@link ContentOptions}; `tsc` fails when it and the type differ. */
const CONTENT_OPTIONS = { html: true } as const satisfies OptionNames<ContentOptions>;

/** The changes asked for on one element, as byte strings ready to send. */
export interface ElementEdits {
  touched: boolean;
  before: string;
  after: string;
  prepend: string;
  append: string;
  /** Set: the element and its content are replaced by this (`''` for `remove()`). */
  replacement: string | undefined;
  /** Set: the content is replaced by this, the tags kept. */
  inner: string | undefined;
  /** Attribute name → new value, or null to remove it. */
  attributes: Map<string, string | null>;
}

/** A start tag as the tokenizer gives it (parse5's `TagSource`, with source locations). */
export interface TagSource {
  tagName: string;
  /** parse5's: in SVG and MathML, names camel-cased (`viewBox`) and `xlink:href` split into `prefix` and `name`. */
  attrs: ReadonlyArray<Attribute>;
  selfClosing: boolean;
  sourceCodeLocation?: { startOffset: number; attrs?: Record<string, { startOffset: number; endOffset: number }> } | null | undefined;
}

/** An attribute of a {@link TagSource}. */
interface Attribute {
  name: string;
  prefix?: string | undefined;
  value: string;
}

/**
 * The attribute's name as written, lower-case (`viewbox`, `xlink:href`): the key of its source
 * location, and the name handlers read it by, whatever parse5 made of it in SVG or MathML.
 */
function nameOf(attr: Attribute): string {
  return (attr.prefix ? `${attr.prefix}:${attr.name}` : attr.name).toLowerCase();
}

/** Where an element came from: its start tag, the tag's source text, the document's charset. */
interface ElementSource {
  tag: TagSource;
  raw: string;
  text: ByteText;
}

// Read the private state of an element; set in the class's static block (private fields, not
// WeakMaps: the rewriter makes one element per matching tag, and a link-heavy page has
// hundreds of thousands).
let sourceOf: (element: HtmlElement) => ElementSource;
let editsOfElement: (element: HtmlElement) => ElementEdits;

/** The edits made on `element` (for the rewriter). */
export function editsOf(element: HtmlElement): ElementEdits {
  return editsOfElement(element);
}

/**
 * An element of the document being rewritten, given to the handlers whose selector it matches
 * as its start tag streams past. Handlers read and change its attributes and insert or remove
 * content around and inside it; the rewriter sends the start tag as it was, byte for byte,
 * unless an attribute changed (then only the changed attributes are rewritten, and the repeats of
 * an attribute, which browsers ignore, are dropped: removing the first would expose the next).
 *
 * Content inserted is text unless `{ html: true }` is given. Text and attribute values are
 * written in the document's charset; a character it cannot hold becomes a character reference.
 * `prepend`, `append` and `setInnerContent` do nothing on void elements (`link`, `img`, `meta`,
 * …), which have no content. A `form` directly in a table, outside a cell, has none either: the
 * browser pops it at once (WHATWG HTML §13.2.6.4.9 "in table"), and the fields after it are its
 * own through the form element pointer; what they insert goes right after its start tag, and
 * `after` writes no `</form>`, which would clear that pointer. The end of the element is where the browser ends it: its end tag,
 * or, when the source leaves that out, where HTML implies it (WHATWG HTML §13.1.2.4, "Optional
 * tags"): an `li` at the next `<li>` or `</ul>`, a `p` at a block (`<div>`) or its parent's end
 * tag, a `td` at the next cell or row, an `option` at the next `<option>`, `head` at `<body>`,
 * anything at its parent's end tag or the end of the document (docs/proxy.md, "Where an element
 * ends"). In an XHTML page (XML) nothing is implied.
 */
export class HtmlElement {
  /** The tag name, lower-case: `a`, `head`, `clippath`. */
  readonly tagName: string;

  readonly #source: ElementSource;
  readonly #edits: ElementEdits = { touched: false, before: '', after: '', prepend: '', append: '', replacement: undefined, inner: undefined, attributes: new Map() };

  static {
    sourceOf = (element) => element.#source;
    editsOfElement = (element) => element.#edits;
  }

  /** @internal Made by the rewriter for each matching start tag. */
  constructor(tag: TagSource, raw: string, text: ByteText) {
    this.tagName = tag.tagName.toLowerCase();
    this.#source = { tag, raw, text };
  }

  /**
   * The attribute's value as the browser reads it — its bytes decoded in the document's charset,
   * character references decoded (`caf&eacute;` is `café`) — or null when absent.
   */
  getAttribute(name: string): string | null {
    const lower = name.toLowerCase();
    const changed = editsOf(this).attributes;
    if (changed.has(lower)) return changed.get(lower)!;
    const attr = sourceOf(this).tag.attrs.find((a) => nameOf(a) === lower);
    return attr === undefined ? null : valueOf(this, attr);
  }

  /** True when the element has the attribute. */
  hasAttribute(name: string): boolean {
    return this.getAttribute(name) !== null;
  }

  /** Every attribute as `[name, value]`, names lower-case, in source order (changes included, added ones last). */
  get attributes(): Array<[string, string]> {
    const { tag } = sourceOf(this);
    const changed = editsOf(this).attributes;
    const out: Array<[string, string]> = [];
    for (const attr of tag.attrs) {
      const name = nameOf(attr);
      const value = changed.has(name) ? changed.get(name)! : valueOf(this, attr);
      if (value !== null) out.push([name, value]);
    }
    for (const [name, value] of changed) if (value !== null && !tag.attrs.some((a) => nameOf(a) === name)) out.push([name, value]);
    return out;
  }

  /**
   * Sets an attribute (added after the others when absent, its name written in the document's
   * charset as values are). @throws TypeError for a name with space, quote, `=`, `<`, `>` or `/`.
   */
  setAttribute(name: string, value: string): this {
    if (!/^[^\s"'>/=<\x00-\x1f]+$/.test(name)) throw new TypeError(`invalid attribute name: ${JSON.stringify(name)}`);
    return this.edit((e) => e.attributes.set(name.toLowerCase(), String(value)));
  }

  /** Removes an attribute. */
  removeAttribute(name: string): this {
    return this.edit((e) => e.attributes.set(name.toLowerCase(), null));
  }

  /** Inserts content just before the element. */
  before(content: string, options?: ContentOptions): this {
    return this.edit((e) => (e.before += this.encode(content, options, 'before')));
  }

  /**
   * Inserts content just after the element: after its end tag, which is written out when the
   * source leaves it out (`<li>one</li>[content]<li>two`), as the browser would otherwise read the
   * content as part of the element.
   */
  after(content: string, options?: ContentOptions): this {
    return this.edit((e) => (e.after = this.encode(content, options, 'after') + e.after));
  }

  /** Inserts content at the start of the element's content (right after the start tag). */
  prepend(content: string, options?: ContentOptions): this {
    return this.edit((e) => (e.prepend = this.encode(content, options, 'prepend') + e.prepend));
  }

  /**
   * Inserts content at the end of the element's content: right before its end tag, or, when the
   * source leaves that out, before the tag that implies its end (`<li>one[content]<li>two`).
   */
  append(content: string, options?: ContentOptions): this {
    return this.edit((e) => (e.append += this.encode(content, options, 'append')));
  }

  /** Replaces the element's content, keeping its tags. */
  setInnerContent(content: string, options?: ContentOptions): this {
    return this.edit((e) => (e.inner = this.encode(content, options, 'setInnerContent')));
  }

  /** Replaces the whole element, tags and content, with `content`. */
  replace(content: string, options?: ContentOptions): this {
    return this.edit((e) => (e.replacement = this.encode(content, options, 'replace')));
  }

  /** Removes the element with its content. */
  remove(): this {
    return this.edit((e) => (e.replacement = ''));
  }

  private edit(change: (e: ElementEdits) => unknown): this {
    const e = editsOf(this);
    e.touched = true;
    change(e);
    return this;
  }

  /**
   * `content` as bytes to send: escaped unless `options.html`; `method` names the caller when
   * `options` hold an unknown key or an `html` that is not a boolean (`'false'` would insert
   * markup unescaped).
   */
  private encode(content: string, options: ContentOptions | undefined, method: string): string {
    let html = false;
    // The message's name is built only when there are options to check: this runs per element edited.
    if (options !== undefined) {
      const where = `element.${method}`;
      checkOptions(where, options, CONTENT_OPTIONS);
      html = booleanOption(where, 'html', options.html);
    }
    const text = String(content);
    return sourceOf(this).text.toBytes(html ? text : escapeText(text));
  }
}

/**
 * The value of one of the element's attributes as the browser reads it, from its source (the
 * tokenizer's value mixes decoded references with undecoded bytes, which cannot be told apart).
 */
function valueOf(element: HtmlElement, attr: Attribute): string {
  const { tag, raw, text } = sourceOf(element);
  const name = nameOf(attr);
  const at = tag.sourceCodeLocation?.attrs?.[name];
  if (at === undefined) return attr.value;
  const tagStart = tag.sourceCodeLocation!.startOffset;
  // `name`, `name=v`, `name = "v"`, `name='v'`: the source past the name, `=` and quotes.
  const written = raw.slice(at.startOffset - tagStart + name.length, at.endOffset - tagStart);
  const value = /^[\t\n\f\r ]*(?:=[\t\n\f\r ]*)?([^]*)$/.exec(written)![1]!;
  const quote = value[0];
  const unquoted = (quote === '"' || quote === "'") ? value.slice(1, value.endsWith(quote) && value.length > 1 ? -1 : undefined) : value;
  return text.attributeValue(unquoted);
}

/**
 * The start tag of `element` for the output: the source as it was when no attribute changed;
 * otherwise the source with each changed attribute written anew (`name="value"`), removed ones
 * and repeated ones ({@link duplicatesOf}) cut out and new ones added before the end of the tag.
 */
export function startTagOf(element: HtmlElement): string {
  const { tag, raw, text } = sourceOf(element);
  const changed = editsOf(element).attributes;
  if (changed.size === 0) return raw;
  const location = tag.sourceCodeLocation;
  const tagStart = location?.startOffset ?? 0;
  const attrLocations = location?.attrs ?? {};
  const splices: Array<[start: number, end: number, text: string]> = [];
  const added: string[] = [];
  for (const [name, value] of changed) {
    const at = attrLocations[name];
    const quoted = value === null ? '' : `="${text.toBytes(escapeAttribute(value))}"`;
    if (at === undefined) {
      // The name in the document's charset as the value is (a byte string: `é` is two bytes in UTF-8, and U+013C `ļ` never its low byte, `<`).
      if (value !== null) added.push(` ${text.toBytes(name)}${quoted}`);
      continue;
    }
    let start = at.startOffset - tagStart;
    // The name as the source wrote it (`HREF`), so only the value changes.
    const written = value === null ? '' : raw.slice(start, start + name.length) + quoted;
    if (value === null) while (start > 0 && /\s/.test(raw[start - 1]!)) start--;
    splices.push([start, at.endOffset - tagStart, written]);
  }
  for (const [start, end] of duplicatesOf(raw, tagStart, attrLocations)) splices.push([start, end, '']);
  let out = raw;
  for (const [start, end, replacement] of splices.sort((a, b) => b[0] - a[0])) out = out.slice(0, start) + replacement + out.slice(end);
  const close = tag.selfClosing && out.endsWith('/>') ? out.length - 2 : out.length - 1;
  return out.slice(0, close) + added.join('') + out.slice(close);
}

/**
 * Where the tag `raw` repeats an attribute (`<a onclick=x href=y onclick=z>`): each run of
 * source after a located attribute, up to the next one or the end of the tag, that is more than
 * white space and `/`, without the white space and `/` that end it. parse5 locates only the first
 * of a name, which is the one browsers read (HTML's tokenizer drops the others); the others are
 * cut out of a tag written anew, since a removed or renamed first one would let the browser read
 * the next.
 */
function duplicatesOf(raw: string, tagStart: number, locations: Record<string, { startOffset: number; endOffset: number }>): Array<[start: number, end: number]> {
  const spans = Object.values(locations).map((at) => [at.startOffset - tagStart, at.endOffset - tagStart] as const).sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  spans.forEach(([, from], i) => {
    const gap = raw.slice(from, spans[i + 1]?.[0] ?? raw.length - 1).replace(/[\t\n\f\r /]+$/, '');
    if (gap !== '') out.push([from, from + gap.length]);
  });
  return out;
}
