/**
 * Matching a segment, tail or host whose placeholders share it when one of them has a regex
 * the backtracking check (`guarded-regex.ts`) cannot read: a custom converter's
 * (`[a-z-]+`). Its regex joined with the others' (`^([^/]+)-([^/]+)-([^/]+)-([a-z-]+)$`)
 * backtracks on a text it refuses, trying every split: `/u/<a>-<b>-<c>-<slug:d>` took 1.5 s
 * on 400 dashes and an `A`, growing with the fourth power of the length (Werkzeug compiles the
 * same one regex). Here each split point is decided once: working back from the end, the
 * places each part can start from so that the parts after it match the rest (a static text
 * where it occurs; a placeholder where its converter's regex matches the text up to such a
 * place). A converter whose regex is one character class repeated (`[a-z-]+`, `\w{2,8}`, the
 * built-in `string`'s `[^/]+`) is read as runs of that class, found in one pass over the text:
 * such a rule is matched in time about linear in the text's length. Any other regex runs on a
 * text from a start to an end at most once per pair (a start is settled at its first end), so
 * the cost is at most quadratic in the length times the number of parts, never exponential.
 *
 * The split taken is then the one the joined regex takes when each converter's regex prefers
 * its longest text (greedy, as every built-in's but `path`, which prefers its shortest, and
 * `any()`, which tries its words in order): from the start, each placeholder takes the
 * longest (`path`: the shortest; `any()`: the first word) text after which the rest matches.
 *
 * @module
 */
import { type Converter, pathConverter, textShape } from './converters.ts';

/** A pattern's parts: static texts, and placeholders with their converter. */
export type SplitParts = readonly (string | { readonly converter: Converter<unknown> })[];

/**
 * A regex that is one character class (or `\d`, `\w`, `\s`, `.`, their negations) repeated
 * greedily (`[a-z-]+`, `[^/]*`, `\w{2,8}`): its texts are the runs of characters of the class
 * from `min` to `max` long (UTF-16 units, as the regex counts them without the `u` flag).
 */
interface Run {
  /** One character of the class, sticky. */
  readonly one: RegExp;
  readonly min: number;
  readonly max: number;
}

/** A placeholder as matched here. */
interface Slot {
  /** Its regex anchored at the end of the text given, from `lastIndex`. */
  readonly regex: RegExp;
  /** Its regex from `lastIndex`, not anchored at the end: a start where it does not match is no start. */
  readonly prefix: RegExp;
  /** The order its ends are tried in when the split is taken. */
  readonly order: 'longest' | 'shortest' | readonly string[];
  /** Its regex read as a run of one class, decided without running it per end; else `null`. */
  readonly run: Run | null;
}

/** `<class or escape><greedy quantifier>`: the regexes read as a {@link Run}. */
const RUN = /^(\[(?:\\.|[^\\\]])+\]|\\[dDwWsS]|\.)(?:(\+)|(\*)|\{(\d+)(?:(,)(\d*))?\})$/s;

/** `regex` as a {@link Run}, or `null` when it is no run of one class. */
function runOf(regex: string): Run | null {
  const found = RUN.exec(regex);
  if (found === null) return null;
  const [, one, plus, star, least, comma, most] = found;
  const min = plus !== undefined ? 1 : star !== undefined ? 0 : Number(least);
  const max = plus !== undefined || star !== undefined || (comma !== undefined && most === '') ? Infinity : comma === undefined ? min : Number(most);
  return { one: new RegExp(one!, 'ys'), min, max };
}

/** For each place of `text`, where the run of characters of `one`'s class from it ends. */
function runEnds(one: RegExp, text: string): Int32Array {
  const ends = new Int32Array(text.length + 1);
  ends[text.length] = text.length;
  for (let i = text.length - 1; i >= 0; i--) {
    one.lastIndex = i;
    ends[i] = one.test(text) ? ends[i + 1]! : i;
  }
  return ends;
}

type Step = string | Slot;

/** Matches a text against parts, finding the split without backtracking (see the module). */
export class SplitMatcher {
  readonly #steps: readonly Step[];

  constructor(parts: SplitParts) {
    const steps: Step[] = [];
    for (const part of parts) {
      if (typeof part !== 'string') {
        const { converter } = part;
        const shape = textShape(converter);
        const order = shape?.kind === 'words' ? shape.words : converter.regex === pathConverter.regex ? 'shortest' : 'longest';
        const run = typeof order === 'string' ? runOf(converter.regex) : null;
        steps.push({ regex: new RegExp(`(?:${converter.regex})$`, 'ys'), prefix: new RegExp(`(?:${converter.regex})`, 'ys'), order, run });
      } else if (typeof steps.at(-1) === 'string') {
        steps[steps.length - 1] += part;
      } else if (part !== '') {
        steps.push(part);
      }
    }
    this.#steps = steps;
  }

  /** The placeholders' texts, in order, when `text` matches the parts whole; else `null`. */
  match(text: string): string[] | null {
    const runs = this.#steps.map((step) => (typeof step !== 'string' && step.run !== null ? runEnds(step.run.one, text) : null));
    const starts = this.#starts(text, runs);
    if (starts === null) return null;
    const captures: string[] = [];
    let at = 0;
    for (let k = 0; k < this.#steps.length; k++) {
      const step = this.#steps[k]!;
      if (typeof step === 'string') {
        at += step.length;
        continue;
      }
      const end = pickEnd(step, text, at, starts[k + 1]!, runs[k]!);
      captures.push(text.slice(at, end));
      at = end;
    }
    return captures;
  }

  /**
   * For each step, the places (in order) it can start from so that it and the steps after it
   * match the rest of `text`; `null` when the first step cannot start at 0.
   */
  #starts(text: string, runs: readonly (Int32Array | null)[]): number[][] | null {
    const steps = this.#steps;
    const n = text.length;
    const starts: number[][] = new Array<number[]>(steps.length + 1);
    starts[steps.length] = [n];
    for (let k = steps.length - 1; k >= 0; k--) {
      const step = steps[k]!;
      const after = starts[k + 1]!;
      const found: number[] = [];
      if (typeof step === 'string') {
        for (const end of after) if (end >= step.length && text.startsWith(step, end - step.length)) found.push(end - step.length);
      } else {
        const run = step.run;
        const ends = runs[k]!;
        for (const start of candidates(steps, k, text)) {
          let j = lowerBound(after, start + (run?.min ?? 0));
          if (run !== null) {
            if (j < after.length && after[j]! <= Math.min(ends[start]!, start + run.max)) found.push(start);
            continue;
          }
          // Past the last end alone, the end's own test says as much.
          if (after.length - j > 1) {
            step.prefix.lastIndex = start;
            if (!step.prefix.test(text)) continue;
          }
          // The first end after it that the placeholder reaches settles the start.
          for (; j < after.length; j++) if (matchesTo(step.regex, text, start, after[j]!)) break;
          if (j < after.length) found.push(start);
        }
      }
      if (found.length === 0) return null;
      starts[k] = found;
    }
    return starts[0]![0] === 0 ? starts : null;
  }
}

/** True when `regex` (anchored at the end, sticky) matches `text` from `start` to `end` whole. */
function matchesTo(regex: RegExp, text: string, start: number, end: number): boolean {
  regex.lastIndex = start;
  return regex.test(end === text.length ? text : text.slice(0, end));
}

/**
 * The places step `k` (a placeholder) may start from, in order: 0 for the first step; just
 * after each place the static text before it occurs; anywhere after another placeholder.
 */
function candidates(steps: readonly Step[], k: number, text: string): number[] {
  if (k === 0) return [0];
  const before = steps[k - 1]!;
  const places: number[] = [];
  if (typeof before === 'string') {
    for (let at = text.indexOf(before); at !== -1; at = text.indexOf(before, at + 1)) places.push(at + before.length);
  } else {
    for (let at = 0; at <= text.length; at++) places.push(at);
  }
  return places;
}

/** The index of the first of `sorted` (ascending) that is `value` or more. */
function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * The end `slot` takes from `at` among `ends` (places the rest matches from), in its order
 * (see the module); `runs`, where each run of its class ends, for a {@link Run}.
 */
function pickEnd(slot: Slot, text: string, at: number, ends: readonly number[], runs: Int32Array | null): number {
  const first = lowerBound(ends, at + (slot.run?.min ?? 0));
  if (slot.run !== null) {
    // The longest: the last end the run reaches (its quantifier is greedy).
    const last = lowerBound(ends, Math.min(runs![at]!, at + slot.run.max) + 1) - 1;
    if (last >= first) return ends[last]!;
  } else if (typeof slot.order !== 'string') {
    for (const word of slot.order) {
      const end = at + word.length;
      if (text.startsWith(word, at) && ends[lowerBound(ends, end)] === end) return end;
    }
  } else if (slot.order === 'shortest') {
    for (let j = first; j < ends.length; j++) if (matchesTo(slot.regex, text, at, ends[j]!)) return ends[j]!;
  } else {
    for (let j = ends.length - 1; j >= first; j--) if (matchesTo(slot.regex, text, at, ends[j]!)) return ends[j]!;
  }
  // Unreachable: `at` is a start from which the slot reaches one of `ends`.
  throw new Error('routing: no split found after the check passed');
}
