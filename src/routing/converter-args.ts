/**
 * Converter arguments (`<int(min=1, signed=True):n>`), read as Werkzeug's
 * `parse_converter_args` reads them, and the built-in converters they make.
 *
 * @module
 */
import { type Converter, type NumberBounds, boundedFloatConverter, boundedIntConverter, lengthConverter } from './converters.ts';
import { shownText, shownValue } from '../gateway/shown.ts';

/** A converter argument's value: one of Python's literals (`None` is `null`; a bare word a string). */
export type ConverterArg = number | boolean | string | null;

/** One argument as written: positional (`name` undefined) or by keyword. */
interface Item {
  readonly name: string | undefined;
  readonly value: ConverterArg;
}

/**
 * Python's digits: `1000`, `1_000` (an underscore between two digits). Each repetition takes one
 * digit, so a run of digits can be split one way only: no backtracking over it.
 */
const DIGITS = String.raw`\d(?:_?\d)*`;

/** A quoted string, no escapes: its text in group 1 (`"…"`) or 2 (`'…'`). */
const QUOTES = String.raw`(?:"([^"]*)"|'([^']*)')`;

/** A quoted string as Python writes it, `u`/`r` prefixes allowed (see {@link QUOTES}). */
const QUOTED = String.raw`[uUrR]?${QUOTES}`;

/**
 * One argument and the comma after it (or the end), from the sticky position: an optional
 * `name=`, then `True`/`False`/`None`, a number (`1`, `-2.5`, `1.`, `.5`, `1e3`, `1_000`; a
 * sign is more than Werkzeug reads), a quoted string (`'a'`, `"a"`, Python's `u`/`r` prefixes
 * allowed, no escapes), or a bare word (`about`, read as a string). Linear in the text: no two
 * adjacent quantifiers can take the same characters.
 */
const ITEM = new RegExp(
  String.raw`\s*(?:([A-Za-z_]\w*)\s*=\s*)?(?:(True|False|None)|([+-]?(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:[eE][+-]?${DIGITS})?)|${QUOTED}|([A-Za-z_][\w.]*))\s*(?:,|$)`,
  'y',
);

/**
 * One word of `any(…)` and the comma after it (or the end), from the sticky position: a quoted
 * string followed by the comma (its text, commas and `)` included; no `u`/`r` prefix, so
 * `u'a'` stays the word it was), else the text up to the next comma. Linear: the quoted try stops at the next quote, the text at the next comma.
 */
const WORD = new RegExp(String.raw`\s*(?:${QUOTES}\s*(,|$)|([^,]*)(,|$))`, 'y');

const CONSTANTS: Readonly<Record<string, ConverterArg>> = { True: true, False: false, None: null };

/**
 * The arguments in `text` (what is between a converter's parentheses), in order.
 *
 * @throws TypeError naming the converter and the text from where it cannot be read.
 */
function parseArgs(converter: string, text: string): Item[] {
  const items: Item[] = [];
  const trimmed = text.trim();
  for (let at = 0; at < trimmed.length; ) {
    ITEM.lastIndex = at;
    const match = ITEM.exec(trimmed);
    if (!match) throw new TypeError(`${converter}(): cannot read the arguments ${shownText(text)}: at ${shownText(trimmed.slice(at))}`);
    const [, name, constant, number, double, single, word] = match;
    const value = constant !== undefined ? CONSTANTS[constant]! : number !== undefined ? Number(number.replaceAll('_', '')) : (double ?? single ?? word)!;
    items.push({ name, value });
    at = ITEM.lastIndex;
  }
  return items;
}

/**
 * The arguments by parameter name, as Python binds a call's (positional ones in order,
 * then keywords).
 *
 * @throws TypeError for too many positional arguments, an unknown keyword, or one given twice.
 */
function bindArgs(converter: string, params: readonly string[], items: readonly Item[]): Map<string, ConverterArg> {
  const bound = new Map<string, ConverterArg>();
  const positional = items.filter((item) => item.name === undefined);
  if (positional.length > params.length) {
    throw new TypeError(params.length === 0 ? `${converter}() takes no arguments` : `${converter}() takes at most ${params.length} arguments (${positional.length} given)`);
  }
  positional.forEach((item, i) => bound.set(params[i]!, item.value));
  for (const { name, value } of items) {
    if (name === undefined) continue;
    if (!params.includes(name)) {
      throw new TypeError(params.length === 0 ? `${converter}() takes no arguments` : `${converter}() takes no argument ${name} (it takes ${params.join(', ')})`);
    }
    if (bound.has(name)) throw new TypeError(`${converter}() got ${name} twice`);
    bound.set(name, value);
  }
  return bound;
}

/** The bound arguments of one converter, read by type. */
class Args {
  readonly converter: string;
  readonly bound: ReadonlyMap<string, ConverterArg>;

  constructor(converter: string, bound: ReadonlyMap<string, ConverterArg>) {
    this.converter = converter;
    this.bound = bound;
  }

  #refuse(name: string, wanted: string, value: ConverterArg): never {
    throw new TypeError(`${this.converter}(): ${name} takes ${wanted}, not ${shownValue(value)}`);
  }

  /** An integer argument (`null` when not given or `None`, if `nullable`), at least `least`. */
  integer(name: string, fallback: number | null, least: number, nullable: boolean): number | null {
    const value = this.bound.has(name) ? this.bound.get(name)! : fallback;
    if (value === null && nullable) return null;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) this.#refuse(name, nullable ? 'an integer or None' : 'an integer', value);
    if (value < least) this.#refuse(name, `an integer from ${least}`, value);
    return value;
  }

  /** A finite number argument, or `null` (not given, or `None`). */
  number(name: string): number | null {
    const value = this.bound.get(name) ?? null;
    if (value !== null && (typeof value !== 'number' || !Number.isFinite(value))) this.#refuse(name, 'a number or None', value);
    return value;
  }

  /** A boolean argument (`True`/`False`), false when not given. */
  boolean(name: string): boolean {
    const value = this.bound.get(name) ?? false;
    if (typeof value !== 'boolean') this.#refuse(name, 'True or False', value);
    return value;
  }

  /** Refuses a lower bound over an upper one (a rule that could match nothing). */
  ordered(lowName: string, low: number | null, highName: string, high: number | null): void {
    if (low !== null && high !== null && low > high) throw new TypeError(`${this.converter}(): ${lowName} ${low} is over ${highName} ${high}`);
  }
}

/**
 * The `min`, `max` and `signed` of a number converter.
 *
 * @throws TypeError for `min` over `max`, or a `max` under 0 without `signed` (its regex takes
 *   no `-`): a rule that would match nothing.
 */
function boundsOf(args: Args, integer: boolean): NumberBounds {
  const min = integer ? args.integer('min', null, -Infinity, true) : args.number('min');
  const max = integer ? args.integer('max', null, -Infinity, true) : args.number('max');
  args.ordered('min', min, 'max', max);
  const signed = args.boolean('signed');
  if (!signed && max !== null && max < 0) throw new TypeError(`${args.converter}(): max ${max} is under 0 without signed=True: the rule would match nothing`);
  return { min, max, signed };
}

/**
 * Refuses `fixed_digits` whose texts hold no number within the bounds: `digits` digits hold 0
 * to 10^digits − 1, and with `signed` down to −(10^(digits−1) − 1), the `-` counting as one
 * (`fixed_digits=2, min=100`: a rule that would match nothing).
 */
function checkFixedDigits(digits: number, { min, max, signed }: NumberBounds): void {
  if (digits === 0) return;
  const highest = 10 ** digits - 1;
  const lowest = signed && digits > 1 ? -(10 ** (digits - 1) - 1) : 0;
  const outside = min !== null && min > highest ? `min ${min}` : max !== null && max < lowest ? `max ${max}` : null;
  if (outside !== null) throw new TypeError(`int(): ${digits} digits hold ${lowest} to ${highest}, outside ${outside}: the rule would match nothing`);
}

/** A converter made from arguments, with its key (the same arguments, the same key), or `null` for the defaults. */
type Made = { readonly converter: Converter<unknown>; readonly key: string } | null;

/** A built-in converter that takes arguments: Werkzeug's parameters in order, and what they make. */
interface Maker {
  readonly params: readonly string[];
  make(args: Args): Made;
}

const intMaker: Maker = {
  params: ['fixed_digits', 'min', 'max', 'signed'],
  make(args) {
    const fixedDigits = args.integer('fixed_digits', 0, 0, false)!;
    const bounds = boundsOf(args, true);
    checkFixedDigits(fixedDigits, bounds);
    if (fixedDigits === 0 && bounds.min === null && bounds.max === null && !bounds.signed) return null;
    return { converter: boundedIntConverter(fixedDigits, bounds) as Converter<unknown>, key: `int${JSON.stringify([fixedDigits, bounds.min, bounds.max, bounds.signed])}` };
  },
};

const floatMaker: Maker = {
  params: ['min', 'max', 'signed'],
  make(args) {
    const bounds = boundsOf(args, false);
    if (bounds.min === null && bounds.max === null && !bounds.signed) return null;
    return { converter: boundedFloatConverter(bounds) as Converter<unknown>, key: `float${JSON.stringify([bounds.min, bounds.max, bounds.signed])}` };
  },
};

const stringMaker: Maker = {
  params: ['minlength', 'maxlength', 'length'],
  make(args) {
    // As in Werkzeug, `length` wins over `minlength` and `maxlength`.
    const length = args.integer('length', null, 1, true);
    const min = length ?? args.integer('minlength', 1, 1, false)!;
    const max = length ?? args.integer('maxlength', null, 1, true);
    args.ordered('minlength', min, 'maxlength', max);
    if (min === 1 && max === null) return null;
    return { converter: lengthConverter(min, max) as Converter<unknown>, key: `string${JSON.stringify([min, max])}` };
  },
};

/** The built-in converters' makers by name; `path` and `uuid` take no arguments. */
const MAKERS: Readonly<Record<string, Maker>> = { int: intMaker, float: floatMaker, string: stringMaker, default: stringMaker };

/**
 * The built-in converter `name` (`int`, `float`, `string`, `default`) made with the arguments
 * `text` (Werkzeug's `int(min=1)`: positional and keyword, Python literals), with its key; `null`
 * when the arguments are the defaults (`int()`, `string(minlength=1)`): the converter itself.
 *
 * @throws TypeError (without the pattern, which the caller adds) for arguments that cannot be
 *   read, too many, an unknown keyword, one given twice, a wrong type or an impossible value
 *   (`fixed_digits=-1`, `length=0`, `min` over `max`; bounds no matched text can meet, which
 *   would make a rule that matches nothing: `max=-1` without `signed`, `fixed_digits=2` with
 *   `min=100`), and for any argument to `path`, `uuid`
 *   or a custom converter.
 */
export function convertedWithArgs(name: string, text: string, custom: boolean): Made {
  const maker = custom || !Object.hasOwn(MAKERS, name) ? undefined : MAKERS[name];
  const items = parseArgs(name, text);
  if (custom && items.length > 0) throw new TypeError(`${name}() is a custom converter, which takes no arguments`);
  const bound = bindArgs(name, maker?.params ?? [], items);
  return maker ? maker.make(new Args(name, bound)) : null;
}

/**
 * The words of `any(…)` from `text` (what is between its parentheses), in order: a quoted word
 * as a Python string (`any("a,b", 'c)')` is `a,b` and `c)`), any
 * other as the text between commas, trimmed, quotes around it dropped (`a-b`, `c>d`, `it's`,
 * `'p'q'` is `p'q`). Empty words are kept, for `anyConverter` to refuse.
 */
export function anyWords(text: string): string[] {
  const words: string[] = [];
  for (let at = 0, more = true; more; at = WORD.lastIndex) {
    WORD.lastIndex = at;
    // The second branch matches anything up to a comma or the end: never null.
    const [, double, single, quotedEnd, bare, bareEnd] = WORD.exec(text)!;
    words.push(double ?? single ?? bare!.trim().replace(/^(['"])(.*)\1$/, '$2'));
    more = (quotedEnd ?? bareEnd) === ',';
  }
  return words;
}
