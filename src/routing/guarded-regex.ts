/**
 * A linear-time check in front of the regex of a segment, tail or host that holds two or more
 * placeholders (`/r/<a>-<b>-<c>.txt`, `/docs/<path:page>-<a>-<b>`, `<shop>-<region>.example.com`).
 *
 * Such a regex (`^([^/]+)-([^/]+)-([^/]+)\.txt$`) backtracks: on a text it does not match, the
 * engine tries every split, so its time grows with the length to the power of the number of
 * placeholders. One crafted request of 4,000 dashes held the server for 13 s with three
 * placeholders, and 1,024 for 47 s with four (Werkzeug's routing has the same weakness). The
 * check walks the pattern over the text once per part, keeping the set of places each part can
 * end at: a static text where it occurs, a placeholder anywhere past its converter's fewest
 * characters, and not past a `/` when its converter never matches one (`string`, `int`,
 * `float`, `uuid`: `matchesNoSlash`). A text whose end no walk reaches cannot match, and the
 * regex is not run; for those converters (and `path`) one that passes does match, found
 * without backtracking over other splits.
 *
 * @module
 */
import { type Converter, matchesNoSlash, wholeMatch } from './converters.ts';

/** A step of the check: a static text, or a placeholder's fewest characters and whether it may hold a `/`. */
type Step = string | { readonly min: number; readonly slash: boolean };

/** A pattern's parts as the check reads them: static texts, and placeholders with their converter's regex. */
export type GuardedParts = readonly (string | { readonly converter: Converter<unknown> })[];

/** A regex whose `exec` runs only on texts that pass the check above: same matches, same captures. */
export class GuardedRegExp extends RegExp {
  readonly #steps: readonly Step[];

  constructor(source: string, flags: string, parts: GuardedParts) {
    super(source, flags);
    const steps: Step[] = [];
    for (const part of parts) {
      if (typeof part !== 'string') {
        steps.push({ min: wholeMatch(part.converter).test('') ? 0 : 1, slash: !matchesNoSlash(part.converter.regex) });
      } else if (typeof steps.at(-1) === 'string') {
        // Static texts next to each other (a tail's `/` and the text after it) are one.
        steps[steps.length - 1] += part;
      } else if (part !== '') {
        steps.push(part);
      }
    }
    this.#steps = steps;
  }

  override exec(text: string): RegExpExecArray | null {
    return couldMatch(this.#steps, text) ? super.exec(text) : null;
  }
}

/**
 * False when no split of `text` into the steps exists: `reach[i]` is 1 when the parts so far
 * can end at `i`. Each step costs one pass over the text (a static one, one `indexOf` per
 * place it occurs).
 */
function couldMatch(steps: readonly Step[], text: string): boolean {
  // A segment or a host holds no `/`: each step's earliest end decides, nothing allocated.
  if (!text.includes('/')) return fitsEarliest(steps, text);
  const n = text.length;
  let reach = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  reach[0] = 1;
  for (const step of steps) {
    next.fill(0);
    let any = false;
    if (typeof step === 'string') {
      for (let at = text.indexOf(step); at !== -1; at = text.indexOf(step, at + 1)) {
        if (reach[at] === 1) {
          next[at + step.length] = 1;
          any = true;
        }
      }
    } else {
      // The earliest place a placeholder can start from, since the last `/` it may not cross.
      let start = -1;
      for (let i = 0; i <= n; i++) {
        if (!step.slash && i > 0 && text.charCodeAt(i - 1) === 0x2f) start = -1;
        if (start === -1 && reach[i] === 1) start = i;
        if (start !== -1 && i - start >= step.min) {
          next[i] = 1;
          any = true;
        }
      }
    }
    if (!any) return false;
    [reach, next] = [next, reach];
  }
  return reach[n] === 1;
}

/**
 * {@link couldMatch} for a text without `/`, where every placeholder may take any characters:
 * the parts so far end anywhere from their earliest end on after a placeholder, so the earliest
 * place of each static text leaves the most room to the parts after it, and the last static
 * text must end the text.
 */
function fitsEarliest(steps: readonly Step[], text: string): boolean {
  let at = 0;
  let afterPlaceholder = false;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (typeof step !== 'string') {
      at += step.min;
      if (at > text.length) return false;
      afterPlaceholder = true;
    } else if (!afterPlaceholder) {
      if (!text.startsWith(step, at)) return false;
      at += step.length;
    } else if (i === steps.length - 1) {
      return text.length - step.length >= at && text.endsWith(step);
    } else {
      const found = text.indexOf(step, at);
      if (found === -1) return false;
      at = found + step.length;
      afterPlaceholder = false;
    }
  }
  return afterPlaceholder || at === text.length;
}
