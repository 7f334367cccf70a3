/**
 * A rule's `redirectTo` (Werkzeug's `Rule(redirect_to=…)`): the path template compiled
 * against the rule's placeholders, and the target a match redirects to.
 *
 * @module
 */
import { type CompiledRule, type Part, type RedirectTo, malformedPlaceholder, refuseEscapes } from './rule.ts';
import { foreignSyntaxAround } from '../http/router-syntax.ts';
import { pathOf } from './build.ts';
import { shownText } from '../gateway/shown.ts';

/** A `<name>` of a template (anything between `<` and `>`, checked to be a placeholder's name). */
const NAME = /<([^<>]*)>/g;

/** A full URL (`https://…`), as a function's target may be: used as it is. */
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * The compiled `redirectTo` of `rule`: a function as it is; a template (`'/items/<id>'`) split
 * into its static text and the rule's placeholders by name.
 *
 * @throws TypeError for a template that does not start with `/`, holds `?` or `#`, a
 *   percent-encoded escape (`/new%20page`, which `build` would encode again: see
 *   `refuseEscapes`), a stray `<`
 *   or `>`, Express/Hono syntax (`/posts/:id`, `*`, `/posts{/:id}`), or a `<name>` that is not one of the rule's placeholders (`<int:id>` included:
 *   the converter is the rule's), or for a `redirectTo` that is neither a string nor a function.
 */
export function compileRedirectTo(rule: CompiledRule, target: unknown): RedirectTo {
  if (typeof target === 'function') return target as RedirectTo;
  const where = `${rule.pattern} (${rule.endpoint}): redirectTo`;
  if (typeof target !== 'string') throw new TypeError(`${where} must be a path template or a function`);
  if (!target.startsWith('/') || /[?#]/.test(target)) throw new TypeError(`${where} must be a path starting with '/', without query or fragment: ${JSON.stringify(target)}`);
  const foreign = foreignSyntaxAround(target, NAME)?.text;
  if (foreign !== undefined) {
    const names = rule.placeholders.map((p) => p.name).join(', ') || 'it has none';
    throw new TypeError(`${where}: ${JSON.stringify(foreign)} is Express/Hono syntax, written here as literal text (every match would redirect to it): name the rule's placeholder as <name> (${names})`);
  }
  refuseEscapes(where, target, NAME);
  const parts: Part[] = [];
  let at = 0;
  for (const match of target.matchAll(NAME)) {
    if (match.index > at) parts.push(target.slice(at, match.index));
    const placeholder = rule.placeholders.find((p) => p.name === match[1]);
    if (!placeholder) throw new TypeError(`${where}: ${JSON.stringify(match[0])} names none of the rule's placeholders (${rule.placeholders.map((p) => p.name).join(', ') || 'it has none'})`);
    parts.push(placeholder);
    at = match.index + match[0].length;
  }
  if (at < target.length) parts.push(target.slice(at));
  for (const part of parts) if (typeof part === 'string' && /[<>]/.test(part)) throw malformedPlaceholder(where, part);
  return { template: target, parts };
}

/**
 * Where a match of `rule` with `values` redirects to: a percent-encoded path from the map's root
 * (a template's, each value written by its placeholder's converter as `build` writes it), or
 * what the function answers (a path starting with `/`, or a full URL); `undefined` when a
 * template cannot be written with the values (as `build` refuses them: a `..` segment, a
 * converter's `TypeError`), so the path leads nowhere (a 404).
 *
 * @throws TypeError when the function answers something else than a path or full URL; what
 *   the function throws, and a custom converter's errors other than a `TypeError`.
 */
export function redirectTarget(redirect: RedirectTo, rule: CompiledRule, values: Readonly<Record<string, unknown>>): string | undefined {
  if (typeof redirect !== 'function') {
    try {
      return pathOf({ endpoint: rule.endpoint, pattern: redirect.template, parts: redirect.parts }, values);
    } catch (error) {
      if (error instanceof TypeError) return undefined;
      throw error;
    }
  }
  const to: unknown = redirect(values);
  if (typeof to !== 'string' || !(to.startsWith('/') || isFullUrl(to))) {
    throw new TypeError(`${rule.pattern} (${rule.endpoint}): redirectTo answered ${typeof to === 'string' ? shownText(to) : typeof to}, not a path starting with '/' or a full URL`);
  }
  return to;
}

/** True for a target that is a full URL (`https://…`), used as it is (else a path under `SCRIPT_NAME`). */
export const isFullUrl = (to: string): boolean => ABSOLUTE.test(to);
