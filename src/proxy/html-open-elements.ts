/**
 * Where the elements of a streamed document end ({@link OpenElements}): the stack of open
 * elements of HTML's tree builder, as far as it decides where an element whose end tag the
 * source leaves out ends — the optional end tags of WHATWG HTML §13.1.2.4 and the tree
 * construction steps that imply them (§13.2.6: "generate implied end tags", "close a p
 * element", the table and select insertion modes). No tree is built: one small entry per open
 * element, dropped when the element ends.
 *
 * @module
 */
import { html, parse } from 'parse5';

/** An open element: its name (lower-case), namespace, and what the rewriter attached to it. */
interface Entry<W> {
  name: string;
  /** In SVG or MathML. */
  foreign: boolean;
  watch: W | undefined;
  /** Ended by its end tag while elements opened inside it stay open (the adoption agency): off {@link OpenElements}' positions. */
  closed: boolean;
}

/** The elements "generate implied end tags" ends (§13.2.6.3). */
const IMPLIED = new Set(['dd', 'dt', 'li', 'optgroup', 'option', 'p', 'rb', 'rp', 'rt', 'rtc']);
/** Start tags that close an open `p` in button scope ("in body"; `table` only outside quirks mode). */
const CLOSES_P = new Set([
  'address', 'article', 'aside', 'blockquote', 'center', 'details', 'dialog', 'dir', 'div', 'dl', 'fieldset', 'figcaption', 'figure',
  'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hgroup', 'hr', 'listing', 'main', 'menu', 'nav', 'ol', 'p', 'plaintext',
  'pre', 'search', 'section', 'summary', 'ul', 'xmp',
]);
const HEADINGS = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
/** What may stay inside `head` ("in head"): any other start tag ends it. */
const HEAD_CONTENT = new Set(['base', 'basefont', 'bgsound', 'link', 'meta', 'noframes', 'noscript', 'script', 'style', 'template', 'title', 'head']);
/** The elements the adoption agency handles: their end tag ends them alone when a block is open inside. */
const FORMATTING = new Set(['a', 'b', 'big', 'code', 'em', 'font', 'i', 'nobr', 's', 'small', 'strike', 'strong', 'tt', 'u']);
/** SVG's and MathML's HTML integration points, lower-case: special, and bounds of every scope. */
const INTEGRATION_POINTS = new Set(['foreignobject', 'desc', 'title', 'mi', 'mo', 'mn', 'ms', 'mtext', 'annotation-xml']);
/** HTML elements that bound "has an element in scope" (§13.2.4.2). */
const SCOPE = new Set(['applet', 'caption', 'html', 'table', 'td', 'th', 'marquee', 'object', 'template']);
const LIST_ITEM_SCOPE = new Set([...SCOPE, 'ol', 'ul']);
const BUTTON_SCOPE = new Set([...SCOPE, 'button']);
const TABLE_SCOPE = new Set(['html', 'table', 'template']);
const TABLE_SECTIONS = new Set(['tbody', 'thead', 'tfoot']);
/** What bounds a table's scope but is no table (a table inside one of them is inside the outer table). */
const TABLE_SCOPE_ONLY = new Set(['html', 'template']);
/** What a `table` start tag can be inside without ending the open table: a cell, a caption, or outside any table. */
const TABLE_HOLDERS = new Set(['td', 'th', 'caption', 'html', 'template']);
/** Start tags that end the open table part (row, cell, caption, section) they cannot be inside, by the table each may sit in. */
const TABLE_CONTEXT = new Map<string, ReadonlySet<string>>([
  ['tr', new Set([...TABLE_SECTIONS, 'table'])],
  ['td', new Set([...TABLE_SECTIONS, 'tr', 'table'])],
  ['th', new Set([...TABLE_SECTIONS, 'tr', 'table'])],
  ...['tbody', 'thead', 'tfoot', 'caption', 'colgroup'].map((name) => [name, new Set(['table'])] as const),
  ['col', new Set(['colgroup', 'table'])],
]);
const SPECIAL = html.SPECIAL_ELEMENTS[html.NS.HTML];

/**
 * The open elements of one document, innermost last. {@link start} and {@link end} are given
 * each tag as it streams past and end the elements HTML implies it ends, innermost first,
 * calling `ended` with what was attached to each ({@link push}); {@link clear} ends them all (at
 * the end of the document).
 *
 * What ends an element, as browsers read HTML:
 * - its end tag, or the end tag of an element it is inside (`</ul>` ends an open `li` in it),
 *   when that element is in scope as the tree builder looks for it; `</body>` and `</html>` end
 *   everything inside them;
 * - a start tag that cannot be inside it: `p` by a block (`div`, `ul`, `table` outside quirks
 *   mode, `h1`…, the list of "in body"); `li` by the next `li` of its list; `dt`, `dd` by the next
 *   `dt` or `dd`; `option` by an `option` or `optgroup`, `optgroup` by an `optgroup`; `rb`, `rt`,
 *   `rtc`, `rp` by the next of them in a `ruby`; `tr`, `td`, `th`, `thead`, `tbody`, `tfoot`,
 *   `caption`, `colgroup` by the table part that follows them (`<tr>` ends an open row and cell);
 *   an `a` by the next `a`; `head` by anything but head content (`<body>`, `<div>`); SVG and
 *   MathML by an HTML-only tag (`<p>`, `<div>`);
 * - an end tag of `a`, `b`, `font` and the other formatting elements ends only that element when a
 *   block (`p`, `div`) is open inside it: browsers move the block out of it (the adoption agency).
 *
 * An end tag of an element not open, or not in scope (`</span>` with a `div` open inside the
 * `span`, `</p>` inside a `button` in a `p`) ends nothing, as browsers ignore it. Text is not
 * looked at (text in `head` does not end it). In an XHTML document (`xml`) nothing is implied:
 * an end tag ends the innermost open element of its name (and the elements inside it), and
 * `<body>` ends `head`.
 *
 * Every look-up takes time bounded by the number of names involved, not by the depth of the
 * stack: the positions of the open elements are kept by name (a page of unclosed `<div>`s
 * stays linear).
 */
export class OpenElements<W> {
  private readonly stack: Array<Entry<W>> = [];
  /** Stack positions of the open HTML elements by name, innermost last. */
  private readonly positions = new Map<string, number[]>();
  /** Stack positions of the open SVG and MathML elements by name, innermost last. */
  private readonly foreignPositions = new Map<string, number[]>();
  /** Positions of the open special elements (§13.2.4.2), innermost last. */
  private readonly specials: number[] = [];
  /** Positions of the open elements that bound each scope (its HTML elements; SVG's and MathML's integration points but for table scope). */
  private readonly bounds: ReadonlyArray<{ scope: ReadonlySet<string>; at: number[] }> = [SCOPE, LIST_ITEM_SCOPE, BUTTON_SCOPE, TABLE_SCOPE].map((scope) => ({ scope, at: [] }));
  /** Positions of the open special elements but `address`, `div`, `p`: those an `li`, `dd`, `dt` start tag does not look past. */
  private readonly itemBlockers: number[] = [];
  /** Positions of the open HTML (not SVG or MathML) elements. */
  private readonly htmlPositions: number[] = [];
  /** Quirks mode (§13.2.6.4.1): a document without a doctype, or with a legacy one. */
  private quirks = true;
  /** A start tag or doctype has been seen: a doctype after it is ignored. */
  private started = false;
  /**
   * The form element pointer (§13.2.6.4.7 "in body"): set by a `form` opened outside a
   * `template`, cleared only by a `</form>` outside one, even when another end tag ended the
   * form before (`<div><form></div>`).
   */
  private formPointer = false;

  private readonly ended: (watch: W) => void;
  private readonly xml: boolean;

  /**
   * @param ended Called with the attached value of each element that ends by implication (not
   *   by its own end tag), innermost first.
   * @param xml True for an XHTML document, read as XML.
   */
  constructor(ended: (watch: W) => void, xml = false) {
    this.ended = ended;
    this.xml = xml;
  }

  /** Reads the document's doctype (its source, `<!DOCTYPE html>`), which decides quirks mode as parse5 decides it. */
  doctype(source: string): void {
    if (this.started || this.xml) return;
    // Only the first counts: browsers ignore a doctype after it, as after a tag.
    this.started = true;
    this.quirks = parse(source).mode === html.DOCUMENT_MODE.QUIRKS;
  }

  /**
   * True for a start tag the browser drops, which opens nothing and ends nothing: an HTML
   * `form` while the form element pointer is set and no `template` is open (§13.2.6.4.7 "in
   * body": `<form><form>` builds one form, which the first `</form>` ends), and in a table
   * outside a cell ({@link popsAtOnce}) while the pointer is set or a `template` is open
   * (§13.2.6.4.9 "in table"). Asked before {@link start}; never in XHTML.
   */
  drops(name: string, foreign: boolean): boolean {
    if (name !== 'form' || foreign || this.xml) return false;
    const template = this.last('template') !== -1;
    return this.inTable() ? this.formPointer || template : this.formPointer && !template;
  }

  /**
   * Takes an HTML `form` start tag in a table outside any cell or caption (`<table><form>`,
   * `<tr><form>`, or in what the table fosters out, `<table><div><form>`: the "in table", "in
   * table body" and "in row" insertion modes, §13.2.6.4.9): the browser inserts that form and
   * pops it at once, an element with no content, and sets the form element pointer, through
   * which the fields that follow are its own; it ends an open `colgroup` first, and no `p`.
   * Answers true having done so (nothing is to be pushed), false for any other tag ({@link start}
   * takes it). Asked after {@link drops}; never in XHTML.
   */
  popsAtOnce(name: string, foreign: boolean): boolean {
    if (name !== 'form' || foreign || this.xml || !this.inTable()) return false;
    // "In column group": anything else ends the colgroup and is read "in table".
    if (this.topIs('colgroup')) this.endAt(this.stack.length - 1);
    this.formPointer = true;
    return true;
  }

  /**
   * Ends what the start tag `name` (lower-case) implies ends, before it; answers whether the
   * element is foreign (`foreign`: read in SVG or MathML; true also for an integration point,
   * `foreignObject`, `mi`, whose content is read as HTML).
   */
  start(name: string, foreign: boolean): boolean {
    this.started = true;
    const top = this.stack.at(-1);
    if (this.xml) {
      if (name === 'body') this.endAt(this.last('head'));
      return foreign;
    }
    if (foreign || (top?.foreign && INTEGRATION_POINTS.has(name) && !isPoint(top))) return true;
    // An HTML-only tag leaves SVG and MathML (§13.2.6.5): what is open since the last HTML element or integration point ends.
    if (top?.foreign) this.endAt(Math.max(this.htmlPositions.at(-1) ?? -1, this.lastOf(INTEGRATION_POINTS, true)) + 1);
    this.implyEnds(name);
    return false;
  }

  /** Opens the element of the last start tag (not for a void element), with `watch` attached. */
  push(name: string, foreign: boolean, watch: W | undefined): void {
    if (name === 'form' && !foreign && !this.xml && this.last('template') === -1) this.formPointer = true;
    const at = this.stack.length;
    const entry: Entry<W> = { name, foreign, watch, closed: false };
    this.stack.push(entry);
    const positions = this.positionsOf(foreign);
    const list = positions.get(name);
    if (list === undefined) positions.set(name, [at]);
    else list.push(at);
    if (isSpecial(entry)) {
      this.specials.push(at);
      if (foreign || (name !== 'address' && name !== 'div' && name !== 'p')) this.itemBlockers.push(at);
    }
    if (!foreign) this.htmlPositions.push(at);
    for (let i = 0; i < this.bounds.length; i++) {
      const { scope, at: list } = this.bounds[i]!;
      if (foreign ? scope !== TABLE_SCOPE && isPoint(entry) : scope.has(name)) list.push(at);
    }
  }

  /**
   * Ends what the end tag `name` (lower-case) ends: the elements inside its element, by
   * implication (`ended`), then its element, at this tag: answers what is attached to that
   * element (undefined when nothing is, or the tag ends nothing).
   */
  end(name: string): W | undefined {
    if (name === 'form' && !this.xml && this.last('template') === -1) this.formPointer = false;
    const own = this.xml ? Math.max(this.last(name), this.last(name, true)) : this.endTarget(name);
    if (own === -1) return undefined;
    const entry = this.stack[own]!;
    if (!this.xml && !entry.foreign && FORMATTING.has(name) && (this.specials.at(-1) ?? -1) > own) {
      // The adoption agency: the formatting element alone ends; the block inside it stays open.
      this.unindex(name, false);
      entry.closed = true;
      const watch = entry.watch;
      entry.watch = undefined;
      return watch;
    }
    this.endAt(own + 1);
    this.pop();
    return entry.watch;
  }

  /**
   * True when what follows is read as HTML: no element is open, or the innermost is an HTML
   * element or an SVG or MathML integration point whose content is HTML (`foreignObject`, `mi`;
   * not `annotation-xml`, whose content is HTML only with an HTML `encoding`, which is not kept).
   */
  readsHtml(): boolean {
    const top = this.stack.at(-1);
    return top === undefined || !top.foreign || (isPoint(top) && top.name !== 'annotation-xml');
  }

  /** Ends every open element (the end of the document). */
  clear(): void {
    this.endAt(0);
  }

  /** Where the element the end tag `name` ends sits in the stack, or -1 when it ends none (§13.2.6.4.7, "in body" and the table modes). */
  private endTarget(name: string): number {
    // In SVG or MathML, the innermost foreign element of the name since the last HTML element (§13.2.6.5, "any other end tag").
    if (this.foreignPositions.size > 0) {
      const foreign = this.last(name, true);
      if (foreign > (this.htmlPositions.at(-1) ?? -1)) return foreign;
    }
    if (name === 'body' || name === 'html') {
      const at = this.last(name);
      if (at !== -1) return at;
      // Not written (implied by the document): what is inside ends all the same.
      this.endAt(name === 'body' ? this.last('html') + 1 : 0);
      return -1;
    }
    if (name === 'p') return this.inScope(this.last('p'), BUTTON_SCOPE);
    if (name === 'li') return this.inScope(this.last('li'), LIST_ITEM_SCOPE);
    if (HEADINGS.has(name)) return this.inScope(this.lastOf(HEADINGS), SCOPE);
    if (name === 'head' || name === 'template') return this.last(name);
    if (name === 'tbody' && this.inScope(this.last(name), TABLE_SCOPE) === -1) {
      // The tbody the browser implies around rows written directly in a table (not in the source) ends with what is in it.
      const table = this.last('table');
      if (table > this.lastOf(TABLE_SCOPE_ONLY) && this.lastOf(['tr', 'td', 'th']) > table) this.endAt(table + 1);
      return -1;
    }
    if (TABLE_CONTEXT.has(name) || name === 'table') return this.inScope(this.last(name), TABLE_SCOPE);
    const at = this.last(name);
    if (SPECIAL.has(html.getTagID(name))) return this.inScope(at, SCOPE);
    // Any other end tag: the innermost element of the name, unless a special element is open inside it (but for the formatting elements).
    return FORMATTING.has(name) || (this.specials.at(-1) ?? -1) < at ? at : -1;
  }

  /** Ends what the HTML start tag `name` implies ends. */
  private implyEnds(name: string): void {
    const top = this.stack.at(-1);
    if (top !== undefined && !top.foreign) {
      const below = this.stack.at(-2);
      const head = top.name === 'head' ? this.stack.length - 1 : top.name === 'noscript' && below?.name === 'head' && !below.foreign ? this.stack.length - 2 : -1;
      if (head !== -1 && !HEAD_CONTENT.has(name)) this.endAt(head);
      if (top.name === 'colgroup' && name !== 'col' && name !== 'template') this.endAt(this.stack.length - 1);
    }
    const context = TABLE_CONTEXT.get(name);
    if (context !== undefined) {
      // The innermost table part or table the tag belongs in: what is open inside it ends.
      const holder = this.lastOf(context);
      if (holder > this.lastOf(TABLE_SCOPE_ONLY)) this.endAt(holder + 1);
      return;
    }
    switch (name) {
      case 'table': {
        // A table inside a table (not in a cell or caption) ends it first.
        const table = this.last('table');
        if (table !== -1 && table > this.lastOf(TABLE_HOLDERS)) this.endAt(table);
        if (this.quirks) return;
        break;
      }
      case 'li':
      case 'dd':
      case 'dt': {
        const item = name === 'li' ? this.last('li') : Math.max(this.last('dd'), this.last('dt'));
        if (item !== -1 && (this.itemBlockers.at(-1) ?? -1) <= item) this.endAt(item);
        break;
      }
      case 'option':
        if (this.topIs('option')) this.endAt(this.stack.length - 1);
        return;
      case 'optgroup':
        if (this.topIs('option')) this.endAt(this.stack.length - 1);
        if (this.topIs('optgroup')) this.endAt(this.stack.length - 1);
        return;
      case 'rb':
      case 'rtc':
      case 'rp':
      case 'rt':
        if (this.inScope(this.last('ruby'), SCOPE) !== -1) this.endImplied(name === 'rp' || name === 'rt' ? 'rtc' : undefined);
        return;
      case 'button':
        this.endAt(this.inScope(this.last('button'), SCOPE));
        return;
      case 'a': {
        // An `a` inside an open `a` (since the last cell, caption or object) ends it, as `</a>` would.
        const a = this.last('a');
        if (a !== -1 && a > this.lastOf(SCOPE)) {
          const watch = this.end('a');
          if (watch !== undefined) this.ended(watch);
        }
        return;
      }
      case 'select':
      case 'input':
      case 'keygen':
      case 'textarea': {
        // Directly in a select (its options aside), these end it ("in select").
        let at = this.stack.length - 1;
        while (at >= 0 && !this.stack[at]!.foreign && (this.stack[at]!.name === 'option' || this.stack[at]!.name === 'optgroup')) at--;
        if (at >= 0 && this.stack[at]!.name === 'select' && !this.stack[at]!.foreign) this.endAt(at);
        return;
      }
      default:
        if (!CLOSES_P.has(name)) return;
    }
    // "Close a p element" when one is in button scope.
    this.endAt(this.inScope(this.last('p'), BUTTON_SCOPE));
    if (HEADINGS.has(name) && HEADINGS.has(this.stack.at(-1)?.name ?? '') && !this.stack.at(-1)!.foreign) this.endAt(this.stack.length - 1);
  }

  /** True when the innermost open table is inside no cell, caption or `template`: tags are read "in table" (or "in table body", "in row"). */
  private inTable(): boolean {
    const table = this.last('table');
    return table !== -1 && table > this.lastOf(TABLE_HOLDERS);
  }

  /** "Generate implied end tags" (but for `except`). */
  private endImplied(except?: string): void {
    let at = this.stack.length;
    while (at > 0 && !this.stack[at - 1]!.foreign && IMPLIED.has(this.stack[at - 1]!.name) && this.stack[at - 1]!.name !== except) at--;
    this.endAt(at);
  }

  private topIs(name: string): boolean {
    const top = this.stack.at(-1);
    return top !== undefined && !top.foreign && top.name === name;
  }

  /** The position of the innermost open element `name` (HTML, or `foreign`), or -1. */
  private last(name: string, foreign = false): number {
    return this.positionsOf(foreign).get(name)?.at(-1) ?? -1;
  }

  /** The position of the innermost open element of one of `names`, or -1. */
  private lastOf(names: Iterable<string>, foreign = false): number {
    let at = -1;
    for (const name of names) at = Math.max(at, this.last(name, foreign));
    return at;
  }

  /** `target` (a position) when no element that bounds `scope` is open inside it; else -1 (§13.2.4.2). */
  private inScope(target: number, scope: ReadonlySet<string>): number {
    return (this.bounds.find((bound) => bound.scope === scope)!.at.at(-1) ?? -1) > target ? -1 : target;
  }

  /** Ends the elements from position `at` on (none for -1), innermost first. */
  private endAt(at: number): void {
    if (at < 0) return;
    while (this.stack.length > at) {
      const watch = this.pop().watch;
      if (watch !== undefined) this.ended(watch);
    }
  }

  /** The positions of the HTML elements, or of the foreign ones. */
  private positionsOf(foreign: boolean): Map<string, number[]> {
    return foreign ? this.foreignPositions : this.positions;
  }

  /** Forgets the innermost position of `name` (and the name with its last one: a page of many names leaves none behind). */
  private unindex(name: string, foreign: boolean): void {
    const positions = this.positionsOf(foreign);
    const list = positions.get(name)!;
    list.pop();
    if (list.length === 0) positions.delete(name);
  }

  /** Takes the innermost element off the stack and its positions. */
  private pop(): Entry<W> {
    const at = this.stack.length - 1;
    const entry = this.stack.pop()!;
    if (!entry.closed) this.unindex(entry.name, entry.foreign);
    if (this.specials.at(-1) === at) this.specials.pop();
    for (let i = 0; i < this.bounds.length; i++) {
      const list = this.bounds[i]!.at;
      if (list[list.length - 1] === at) list.pop();
    }
    if (this.itemBlockers.at(-1) === at) this.itemBlockers.pop();
    if (this.htmlPositions.at(-1) === at) this.htmlPositions.pop();
    return entry;
  }
}

function isPoint(entry: Entry<unknown>): boolean {
  return entry.foreign && INTEGRATION_POINTS.has(entry.name);
}

function isSpecial(entry: Entry<unknown>): boolean {
  return entry.foreign ? isPoint(entry) : SPECIAL.has(html.getTagID(entry.name));
}
