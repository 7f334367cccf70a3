/**
 * A linear-time check in front of the regex of a segment, tail or host that holds two or more
 * placeholders (`/r/<a>-<b>-<c>.txt`, `<shop>-<region>.example.com`).
 *
 * Such a regex (`^([^/]+)-([^/]+)-([^/]+)\.txt$`) backtracks: on a text it does not match, the
 * engine tries every split, so its time grows with the length to the power of the number of
 * placeholders. One crafted request of 4,000 dashes held the server for 13 s with three
 * placeholders, and 1,024 for 47 s with four (Werkzeug's routing has the same weakness). The
 * check reads the text once: the pattern's static texts must appear in order, the first at the
 * start when the pattern starts with one, the last at the end when it ends with one, each
 * placeholder taking at least as many characters as its converter must. A text that fails it
 * cannot match, and the regex is not run; for the built-in `string` converter (any characters
 * but `/`) a text that passes it matches, found without backtracking over other splits.
 *
 * @module
 */

/** A step of the check: a static text, or the fewest characters a placeholder takes. */
type Step = string | number;

/** A pattern's parts as the check reads them: static texts, and placeholders with their converter's regex. */
export type GuardedParts = readonly (string | { readonly converter: { readonly regex: string } })[];

/** A regex whose `exec` runs only on texts that pass the check above: same matches, same captures. */
export class GuardedRegExp extends RegExp {
  readonly #steps: readonly Step[];

  constructor(source: string, flags: string, parts: GuardedParts) {
    super(source, flags);
    const steps: Step[] = [];
    for (const part of parts) {
      const step = typeof part === 'string' ? part : new RegExp(`^(?:${part.converter.regex})$`, 's').test('') ? 0 : 1;
      // Static texts next to each other (a tail's `/` and the text after it) are one.
      if (typeof step === 'string' && typeof steps.at(-1) === 'string') steps[steps.length - 1] += step;
      else if (step !== '') steps.push(step);
    }
    this.#steps = steps;
  }

  override exec(text: string): RegExpExecArray | null {
    return couldMatch(this.#steps, text) ? super.exec(text) : null;
  }
}

/** False when `text` cannot match the steps: their static texts in order, each placeholder taking its fewest characters. */
function couldMatch(steps: readonly Step[], text: string): boolean {
  let at = 0;
  let afterPlaceholder = false;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (typeof step === 'number') {
      at += step;
      if (at > text.length) return false;
      afterPlaceholder = true;
      continue;
    }
    if (!afterPlaceholder) {
      if (!text.startsWith(step, at)) return false;
      at += step.length;
    } else if (i === steps.length - 1) {
      // The last static text ends the text, after what the placeholders before it need.
      return text.length - step.length >= at && text.endsWith(step);
    } else {
      // The earliest place leaves the most room to the parts after it.
      const found = text.indexOf(step, at);
      if (found === -1) return false;
      at = found + step.length;
    }
    afterPlaceholder = false;
  }
  return afterPlaceholder || at === text.length;
}
