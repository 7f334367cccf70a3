/**
 * The element selectors of `rewriteHtml`: a small subset of CSS, enough to pick elements by
 * name and attributes while the document streams (no ancestors, no siblings).
 *
 * @module
 */
import { asciiLowercase } from './ascii.ts';

/** What a selector looks at: the tag name and a way to read attributes. */
export interface SelectorTarget {
  readonly tagName: string;
  getAttribute(name: string): string | null;
}

type Test = (value: string) => boolean;
/** An attribute condition: its lower-case name, its test, and that test ignoring ASCII case (for {@link ANY_CASE_VALUES}). */
type Condition = [name: string, test: Test, anyCase: Test];
interface Compound {
  /** Lower-case tag name, or null for any (`*` or none given). */
  tag: string | null;
  attributes: Condition[];
}

/**
 * The attributes whose values selectors match ignoring ASCII case on an HTML element in an
 * HTML document (WHATWG HTML, "case-sensitivity of selectors"), as a browser's
 * `querySelector('link[rel=stylesheet]')` finds `<LINK REL="StyleSheet">`.
 */
const ANY_CASE_VALUES: ReadonlySet<string> = new Set([
  'accept', 'accept-charset', 'align', 'alink', 'axis', 'bgcolor', 'charset', 'checked', 'clear', 'codetype', 'color', 'compact',
  'declare', 'defer', 'dir', 'direction', 'disabled', 'enctype', 'face', 'frame', 'hreflang', 'http-equiv', 'lang', 'language',
  'link', 'media', 'method', 'multiple', 'nohref', 'noresize', 'noshade', 'nowrap', 'readonly', 'rel', 'rev', 'rules', 'scope',
  'scrolling', 'selected', 'shape', 'target', 'text', 'type', 'valign', 'valuetype', 'vlink',
]);

/** A parsed selector list. */
export interface Selector {
  /** The tag names it can match, or null when it can match any tag. */
  readonly tags: ReadonlySet<string> | null;
  /**
   * Whether `target` matches; `html` when it is an HTML element in an HTML document (not XHTML,
   * not SVG or MathML), whose {@link ANY_CASE_VALUES} are then compared ignoring ASCII case.
   */
  matches(target: SelectorTarget, html?: boolean): boolean;
}

/** A compound: a tag name or `*`, then attribute conditions, whose quoted values may hold `]`. */
const COMPOUND = /^\s*([A-Za-z][A-Za-z0-9-]*|\*)?((?:\[(?:[^\]"']|"[^"]*"|'[^']*')*\])*)\s*$/;
/** An attribute condition: name, operator, the value (double-quoted, single-quoted or bare), and its `i` or `s` flag. */
const ATTRIBUTE = /\[\s*([^\s~|^$*="'\]]+)\s*(?:([~^$*]?=)\s*(?:"([^"]*)"|'([^']*)'|([^\s"'\]]+))\s*(?:([iIsS])\s*)?)?\]/g;

/**
 * Parses a selector list: comma-separated compounds of an optional tag name (or `*`) and any
 * number of attribute conditions — `[attr]` (present), `[attr=v]` (equal), `[attr^=v]`
 * (starts with), `[attr$=v]` (ends with), `[attr*=v]` (contains), `[attr~=v]` (one of the
 * space-separated words); values bare or quoted (a quoted one may hold `,` and `]`: `[content="a, b"]`).
 * Names are case-insensitive; values are not, but for those HTML lists (`rel`, `type`,
 * `http-equiv`, `lang`…: {@link ANY_CASE_VALUES}) on an HTML element in an HTML document, which
 * match in any ASCII case, as in browsers. A value may end with a flag (Selectors Level 4 §6.3,
 * in either case): `i` matches it in any ASCII case, in any document and for any attribute
 * (`[type="text/javascript" i]`); `s` as written, even for those HTML lists.
 * Examples: `head`, `a[href]`, `link[rel=stylesheet]`, `a[href^="http://old.example.com"], img`.
 *
 * @throws TypeError for anything else (combinators, pseudo-classes, classes and ids, a flag
 *   without a value or other than `i` and `s`).
 */
export function parseSelector(text: string): Selector {
  const compounds: Compound[] = splitList(text).map((part) => {
    const match = COMPOUND.exec(part);
    if (!match || (match[1] === undefined && match[2] === '')) throw new TypeError(`rewriteHtml: unsupported selector ${JSON.stringify(text)}`);
    const attributes: Compound['attributes'] = [];
    let consumed = '';
    for (const m of match[2]!.matchAll(ATTRIBUTE)) {
      consumed += m[0];
      const expected = m[3] ?? m[4] ?? m[5] ?? '';
      const exact = condition(m[2], expected);
      const folded = condition(m[2], asciiLowercase(expected));
      const anyCase: Test = (value) => folded(asciiLowercase(value));
      // Selectors 4 §6.3: `i` compares in any ASCII case, `s` as written, whatever the attribute.
      const flag = m[6]?.toLowerCase();
      attributes.push([m[1]!.toLowerCase(), flag === 'i' ? anyCase : exact, flag === 's' ? exact : anyCase]);
    }
    if (consumed.length !== match[2]!.length) throw new TypeError(`rewriteHtml: unsupported selector ${JSON.stringify(text)}`);
    const tag = match[1] === undefined || match[1] === '*' ? null : match[1].toLowerCase();
    return { tag, attributes };
  });
  const tags = compounds.some((c) => c.tag === null) ? null : new Set(compounds.map((c) => c.tag!));
  return {
    tags,
    matches(target, html = false) {
      return compounds.some(
        (c) => (c.tag === null || c.tag === target.tagName) && c.attributes.every(([name, test, anyCase]) => {
          const value = target.getAttribute(name);
          return value !== null && (html && ANY_CASE_VALUES.has(name) ? anyCase : test)(value);
        }),
      );
    },
  };
}

/**
 * The compounds of a selector list: `text` cut at each comma outside brackets, where a quoted
 * value may hold one (`meta[content="width=device-width, initial-scale=1"]`, a CSS string).
 */
function splitList(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== '') {
      if (c === quote) quote = '';
    } else if (depth > 0 && (c === '"' || c === "'")) quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && depth > 0) depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function condition(operator: string | undefined, expected: string): Test {
  switch (operator) {
    case undefined:
      return () => true;
    case '=':
      return (value) => value === expected;
    case '^=':
      return (value) => expected !== '' && value.startsWith(expected);
    case '$=':
      return (value) => expected !== '' && value.endsWith(expected);
    case '*=':
      return (value) => expected !== '' && value.includes(expected);
    default:
      return (value) => value.split(/[\t\n\f\r ]+/).includes(expected);
  }
}
