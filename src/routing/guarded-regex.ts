/**
 * A linear-time check in front of the regex of a segment, tail or host that holds two or more
 * placeholders (`/r/<a>-<b>-<c>.txt`, `/docs/<path:page>-<a>-<b>`, `<shop>-<region>.example.com`).
 *
 * Such a regex (`^([^/]+)-([^/]+)-([^/]+)\.txt$`) backtracks: on a text it does not match, the
 * engine tries every split, so its time grows with the length to the power of the number of
 * placeholders. One crafted request of 4,000 dashes held the server for 13 s with three
 * placeholders, and 1,024 for 47 s with four (Werkzeug's routing has the same weakness). The
 * check walks the pattern over the text once per part, keeping the set of places each part can
 * end at: a static text where it occurs; a placeholder of a built-in converter over the texts
 * its regex takes (`converters.ts`' `textShape`: digits for `int`, digits, `.` and digits for
 * `float`, a `-` first when signed, a UUID, an `any()` word, `string`'s lengths in characters),
 * so `x-x-…-x-y.txt` for `<a>-<b>-<c>-<int:d>.txt` (46 s at 4,000 dashes when only the static
 * texts were walked) fails here; any other placeholder anywhere past its converter's fewest
 * characters, and not past a `/` when its converter never matches one (`matchesNoSlash`). A
 * text whose end no walk reaches cannot match, and the regex is not run; for the built-in
 * converters one that passes does match, found without backtracking over other splits. A
 * custom converter's regex is not walked, so a rule with one (its regex neither a built-in's nor
 * `path`'s) is matched past the check by `split-match.ts`, which decides each split point once,
 * and not by the regex, which would still backtrack on a text the custom regex refuses.
 *
 * @module
 */
import { type Converter, type TextShape, matchesNoSlash, pathConverter, textShape, uuidConverter, wholeMatch } from './converters.ts';
import { SplitMatcher } from './split-match.ts';

/**
 * A step of the check: a static text, or a placeholder: the texts its built-in converter takes
 * (`shape`), else its fewest characters and whether it may hold a `/`.
 */
type Step = string | { readonly min: number; readonly slash: boolean; readonly shape: TextShape | null };

/** A pattern's parts as the check reads them: static texts, and placeholders with their converter's regex. */
export type GuardedParts = readonly (string | { readonly converter: Converter<unknown> })[];

/** A regex whose `exec` runs only on texts that pass the check above: same matches, same captures. */
export class GuardedRegExp extends RegExp {
  readonly #steps: readonly Step[];
  /** True when a step has a `shape`: the text is then walked whole, `/` or not. */
  readonly #shaped: boolean;
  /** Matches in place of the regex when a placeholder's regex is not walked (see `isWalked`). */
  readonly #split: SplitMatcher | null;

  constructor(source: string, flags: string, parts: GuardedParts) {
    super(source, flags);
    const steps: Step[] = [];
    for (const part of parts) {
      if (typeof part !== 'string') {
        const converter = part.converter;
        steps.push({ min: wholeMatch(converter).test('') ? 0 : 1, slash: !matchesNoSlash(converter.regex), shape: textShape(converter) });
      } else if (typeof steps.at(-1) === 'string') {
        // Static texts next to each other (a tail's `/` and the text after it) are one.
        steps[steps.length - 1] += part;
      } else if (part !== '') {
        steps.push(part);
      }
    }
    this.#steps = steps;
    this.#shaped = steps.some((step) => typeof step !== 'string' && step.shape !== null);
    this.#split = parts.some((part) => typeof part !== 'string' && !isWalked(part.converter)) ? new SplitMatcher(parts) : null;
  }

  override exec(text: string): RegExpExecArray | null {
    // A segment or a host holds no `/`: without shapes, each step's earliest end decides.
    const could = !this.#shaped && !text.includes('/') ? fitsEarliest(this.#steps, text) : couldMatch(this.#steps, text);
    if (!could) return null;
    if (this.#split === null) return super.exec(text);
    const captures = this.#split.match(text);
    return captures === null ? null : Object.assign([text, ...captures] as [string, ...string[]], { index: 0, input: text, groups: undefined });
  }
}

/**
 * True when the check knows the texts `converter`'s regex takes (a built-in's, `path`'s, or the
 * same regex), so that a text passing it is matched by the regex without backtracking over
 * splits; false for a custom converter's own regex.
 */
const isWalked = (converter: Converter<unknown>): boolean =>
  textShape(converter) !== null || matchesNoSlash(converter.regex) || converter.regex === pathConverter.regex;

/**
 * The longest text walked in buffers kept between checks (the check is synchronous and runs no
 * converter code, so no two checks use them at once); a longer one (past a server's request
 * line, from `routes.lookup`) gets its own, so none is kept at its size.
 */
const KEPT = 8192;
const KEPT_REACH = new Uint8Array(KEPT + 1);
const KEPT_NEXT = new Uint8Array(KEPT + 1);
/** The kept buffers of {@link characterEnds}, made at its first use. */
let keptCounts: { counts: Int32Array; reached: Int32Array } | undefined;

/** The UUID converter's regex from a given place (`lastIndex`): its texts are 36 characters. */
const UUID_AT = new RegExp(uuidConverter.regex, 'y');

/**
 * False when no split of `text` into the steps exists: `reach[i]` is 1 when the parts so far
 * can end at `i`. Each step costs one pass over the text (a static one, one `indexOf` per
 * place it occurs; `any()`'s words one `startsWith` per word and place reached).
 */
function couldMatch(steps: readonly Step[], text: string): boolean {
  const n = text.length;
  let reach = n <= KEPT ? KEPT_REACH : new Uint8Array(n + 1);
  let next = n <= KEPT ? KEPT_NEXT : new Uint8Array(n + 1);
  reach.fill(0, 0, n + 1);
  reach[0] = 1;
  for (const step of steps) {
    next.fill(0, 0, n + 1);
    let any: boolean;
    if (typeof step === 'string') any = staticEnds(step, text, reach, next);
    else if (step.shape === null) any = placeholderEnds(step.min, step.slash, text, reach, next);
    else any = shapeEnds(step.shape, text, reach, next);
    if (!any) return false;
    [reach, next] = [next, reach];
  }
  return reach[n] === 1;
}

/** Marks in `next` the ends of `step` where it occurs at a place in `reach`; true when one is. */
function staticEnds(step: string, text: string, reach: Uint8Array, next: Uint8Array): boolean {
  let any = false;
  for (let at = text.indexOf(step); at !== -1; at = text.indexOf(step, at + 1)) {
    if (reach[at] === 1) {
      next[at + step.length] = 1;
      any = true;
    }
  }
  return any;
}

/**
 * Marks in `next` the ends of a placeholder of any text of `min` characters or more, from a
 * place in `reach`, not past a `/` unless `slash`; true when one is.
 */
function placeholderEnds(min: number, slash: boolean, text: string, reach: Uint8Array, next: Uint8Array): boolean {
  let any = false;
  // The earliest place a placeholder can start from, since the last `/` it may not cross.
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    if (!slash && i > 0 && text.charCodeAt(i - 1) === 0x2f) start = -1;
    if (start === -1 && reach[i] === 1) start = i;
    if (start !== -1 && i - start >= min) {
      next[i] = 1;
      any = true;
    }
  }
  return any;
}

/** Marks in `next` the ends of a text `shape` takes from a place in `reach`; true when one is. */
function shapeEnds(shape: TextShape, text: string, reach: Uint8Array, next: Uint8Array): boolean {
  if (shape.kind === 'number') return numberEnds(shape.signed, shape.fraction, text, reach, next);
  if (shape.kind === 'characters') return characterEnds(shape.min, shape.max, text, reach, next);
  let any = false;
  for (let i = 0; i < text.length; i++) {
    if (reach[i] !== 1) continue;
    if (shape.kind === 'uuid') {
      UUID_AT.lastIndex = i;
      if (UUID_AT.test(text)) {
        next[i + 36] = 1;
        any = true;
      }
      continue;
    }
    for (const word of shape.words) {
      if (text.startsWith(word, i)) {
        next[i + word.length] = 1;
        any = true;
      }
    }
  }
  return any;
}

/** True for the code of an ASCII digit, what `\d` matches without the `u` flag. */
const isDigit = (code: number): boolean => code >= 48 && code <= 57;

/**
 * Marks in `next` the ends of a number from a place in `reach`: digits (`\d+`), then a `.` and
 * digits with `fraction` (`\d+\.\d+`), a `-` first when `signed`; true when one is. One pass,
 * with what the text up to each place can be: after the `-`, in the digits, after the `.`, in
 * the digits after it.
 */
function numberEnds(signed: boolean, fraction: boolean, text: string, reach: Uint8Array, next: Uint8Array): boolean {
  let any = false;
  let minus = false;
  let digits = false;
  let point = false;
  let decimals = false;
  for (let i = 0; ; i++) {
    if (fraction ? decimals : digits) {
      next[i] = 1;
      any = true;
    }
    if (i === text.length) return any;
    const code = text.charCodeAt(i);
    const digit = isDigit(code);
    const start = reach[i] === 1 || minus;
    minus = signed && reach[i] === 1 && code === 0x2d;
    decimals = fraction && (point || decimals) && digit;
    point = fraction && digits && code === 0x2e;
    digits = (start || digits) && digit;
  }
}

/** True for a UTF-16 high (first) surrogate. */
const isHigh = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
/** True for a UTF-16 low (second) surrogate. */
const isLow = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/**
 * Marks in `next` the ends of a text of `min` to `max` characters (code points, `max` `null`:
 * no most) other than `/`, as `string`'s lengths count them, from a place in `reach`; true when
 * one is. A surrogate pair is one character, and no text ends between its halves; one starting
 * at its second half counts it as a character (as the converter's regex reads it). The places a
 * text may start from, for each end, are one run (the counts only grow), found with two
 * pointers that only move forward: one pass.
 */
function characterEnds(min: number, max: number | null, text: string, reach: Uint8Array, next: Uint8Array): boolean {
  const n = text.length;
  const { counts, reached } = n <= KEPT ? (keptCounts ??= countBuffers(KEPT)) : countBuffers(n);
  // counts[i]: the characters before i (a pair counted at its first half); reached[i]: the
  // places in reach before i.
  counts[0] = 0;
  reached[0] = 0;
  for (let i = 0; i < n; i++) {
    counts[i + 1] = counts[i]! + (betweenHalves(text, i) ? 0 : 1);
    reached[i + 1] = reached[i]! + reach[i]!;
  }
  // The characters from i to an end: counts[end] - since(i); since(i) grows with i.
  const since = (i: number) => counts[i]! - (betweenHalves(text, i) ? 1 : 0);
  let any = false;
  let first = 0;
  let last = -1;
  for (let end = 0; end <= n; end++) {
    if (end > 0 && text.charCodeAt(end - 1) === 0x2f) first = end;
    while (last < end && since(last + 1) <= counts[end]! - min) last++;
    if (max !== null) while (first <= last && since(first) < counts[end]! - max) first++;
    if (first > last || reached[last + 1]! - reached[first]! === 0) continue;
    // No text ends between a pair's halves (the empty one, at its start, aside).
    if (betweenHalves(text, end) && !(min === 0 && reach[end] === 1)) continue;
    next[end] = 1;
    any = true;
  }
  return any;
}

/** The buffers of {@link characterEnds} for a text of `n` characters. */
const countBuffers = (n: number) => ({ counts: new Int32Array(n + 1), reached: new Int32Array(n + 1) });

/** True when `i` falls between the halves of a surrogate pair of `text`. */
function betweenHalves(text: string, i: number): boolean {
  return i > 0 && i < text.length && isHigh(text.charCodeAt(i - 1)) && isLow(text.charCodeAt(i));
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
