/**
 * Finding one link on a page by its text, its `href` or a selector (WebTest's `res.click`).
 *
 * @module
 */
import { type Document, type Element, attribute, select, visibleText } from './html.ts';
import { TestClientError } from './error.ts';
import { type OptionNames } from '../gateway/option-names.ts';

/** Which link {@link TestResponse.click} follows. */
export interface LinkQuery {
  /** Text the link's visible text contains (a string), or matches (a RegExp). */
  text?: string | RegExp | undefined;
  /** Text its `href` contains, or a RegExp it matches. */
  href?: string | RegExp | undefined;
  /** A CSS selector the link matches; default `a[href], area[href]`. */
  selector?: string | undefined;
  /** Which of several matching links, counting from 0; without it, several matches fail. */
  index?: number | undefined;
}

/** Every key of {@link LinkQuery}; `tsc` fails when it and the type differ. */
export const LINK_QUERY = { text: true, href: true, selector: true, index: true } as const satisfies OptionNames<LinkQuery>;

const matches = (value: string, wanted: string | RegExp | undefined) =>
  wanted === undefined || (typeof wanted === 'string' ? value.includes(wanted) : wanted.test(value));

/**
 * The `href` of the one link of `document` that `query` describes.
 *
 * @throws TestClientError when no link matches, or several do and no `index` says which
 *   (the message lists them); SyntaxError for an invalid selector.
 */
export function findLink(document: Document, query: LinkQuery): string {
  const candidates = select(document, query.selector ?? 'a[href], area[href]').filter(
    (element: Element) => attribute(element, 'href') !== null && matches(visibleText(element), query.text) && matches(attribute(element, 'href')!, query.href),
  );
  const describe = (element: Element) => `${JSON.stringify(visibleText(element))} → ${attribute(element, 'href')}`;
  const wanted = JSON.stringify({ ...query, text: query.text?.toString(), href: query.href?.toString() });
  if (candidates.length === 0) throw new TestClientError(`no link matches ${wanted}`);
  if (query.index !== undefined) {
    const chosen = candidates[query.index];
    if (!chosen) throw new TestClientError(`only ${candidates.length} link(s) match ${wanted}, no index ${query.index}`);
    return attribute(chosen, 'href')!;
  }
  if (candidates.length > 1) {
    throw new TestClientError(`${candidates.length} links match ${wanted}; pass index to choose:\n${candidates.map(describe).join('\n')}`);
  }
  return attribute(candidates[0]!, 'href')!;
}
