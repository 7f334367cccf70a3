/**
 * Reading a response as HTML: parse5 (the WHATWG HTML parsing algorithm, as a browser parses)
 * builds the tree, css-select finds elements by CSS selector.
 *
 * @module
 */
import { parse } from 'parse5';
import { adapter } from 'parse5-htmlparser2-tree-adapter';
import { selectAll } from 'css-select';
import { textContent } from 'domutils';
import type { Document, Element, ParentNode } from 'domhandler';

export type { Document, Element } from 'domhandler';

/** The listed form-associated elements (HTML §4.10.2): those a form's entry list is made of. */
const LISTED = new Set(['button', 'fieldset', 'input', 'object', 'output', 'select', 'textarea']);

/** The form each element the parser created was associated with by its form element pointer. */
const PARSER_OWNERS = new WeakMap<Element, Element>();

/** The root of `node`'s tree: its document, or the top of a tree not in one. */
function rootOf(node: ParentNode): ParentNode {
  let root = node;
  while (root.parent) root = root.parent;
  return root;
}

/**
 * The tree adapter, plus the form owner the parser gives a form-associated element as it
 * creates it (HTML §13.2.6.1, "create an element for a token"): the form its form element
 * pointer points to, outside a template, for a listed element without a `form` attribute,
 * when the element goes in that form's tree. So a `<form>` opened inside a `<table>`, which
 * the parser leaves empty, still owns the controls of the rows after it, as in a browser.
 */
const treeAdapter: typeof adapter = {
  ...adapter,
  onElementCreated(element, { intendedParent, formElement, isInTemplate }) {
    if (formElement === null || isInTemplate || !LISTED.has(element.name) || element.attribs.form !== undefined) return;
    if (rootOf(intendedParent) === rootOf(formElement)) PARSER_OWNERS.set(element, formElement);
  },
};

/** Parses a whole HTML document as a browser does (never throws: HTML has no syntax errors). */
export function parseHtml(html: string): Document {
  return parse(html, { treeAdapter });
}

/**
 * The form the parser associated `element` with as it created it (see `treeAdapter`), or
 * `undefined`: an element that was in no form's reach, or has a `form` attribute. That owner
 * stays when the element is inserted (HTML §4.10.17.3: a parser-inserted element is not reset).
 */
export function parserFormOwner(element: Element): Element | undefined {
  return PARSER_OWNERS.get(element);
}

/**
 * The elements of `root` that match a CSS selector (Selectors Level 4 as css-select knows
 * it), in document order.
 *
 * @throws SyntaxError for a selector css-select cannot parse.
 */
export function select(root: Document | Element, selector: string): Element[] {
  try {
    return selectAll(selector, root) as Element[];
  } catch (error) {
    throw new SyntaxError(`invalid CSS selector ${JSON.stringify(selector)}: ${(error as Error).message}`);
  }
}

/** An element's text with runs of whitespace folded to one space and trimmed (what a reader sees). */
export function visibleText(element: Element): string {
  return textContent(element).replace(/\s+/g, ' ').trim();
}

/**
 * An element's text with ASCII whitespace stripped and collapsed (HTML's "strip and collapse
 * ASCII whitespace", what an `<option>` without a `value` submits): a no-break space stays.
 */
export function asciiCollapsedText(element: Element): string {
  return textContent(element).replace(/[\t\n\f\r ]+/g, ' ').replace(/^ | $/g, '');
}

/** An element's attribute, or `null` when it has none. */
export function attribute(element: Element, name: string): string | null {
  return element.attribs[name] ?? null;
}

/**
 * One element of a parsed page, for assertions: its tag, attributes and text. What
 * `TestResponse.select` answers.
 */
export interface PageElement {
  /** The tag name in lower case: `a`, `input`. */
  readonly tagName: string;
  /** The attributes, names in lower case. */
  readonly attributes: Readonly<Record<string, string>>;
  /** The text content, whitespace folded to single spaces and trimmed. */
  readonly text: string;
}

/** The {@link PageElement} view of a parsed element. */
export function elementView(element: Element): PageElement {
  return { tagName: element.name, attributes: { ...element.attribs }, text: visibleText(element) };
}
