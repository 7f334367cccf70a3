/**
 * URL converters: the typed placeholders of a route pattern (`<int:id>`), after Werkzeug's
 * `routing.converters`.
 *
 * @module
 */
import { shownText, shownValue } from '../gateway/shown.ts';

/**
 * A converter: what a `<name:variable>` placeholder matches, and how its text becomes a value
 * and a value becomes text again (Werkzeug's `BaseConverter`).
 *
 * @example
 * ```ts
 * const slug: Converter<string> = {
 *   regex: '[a-z0-9]+(?:-[a-z0-9]+)*',
 *   toValue: (text) => text,
 *   toUrl: (value) => value,
 * };
 * const routes = new RouteMap({ post: '/blog/<slug:name>' }, { converters: { slug } });
 * ```
 */
export interface Converter<T> {
  /**
   * The text it matches, as a regular expression source without anchors and without capture
   * groups (use `(?:…)`), run with the `s` flag (`.` matches a line break too) and without
   * `u`, so a Unicode property escape (`\p{L}`) is refused by `new RouteMap` (there it would be
   * the text `p{L}`): match more and check the property in {@link Converter.toValue}; so is a
   * code point escape (`\u{41}`, there `u` 41 times): write `\u0041`. It cannot
   * match `/` unless {@link Converter.crossesSlashes} is set, even when it would (`.+`): its
   * text is one segment's, or part of one, after a `path` placeholder too. Sharing a segment,
   * tail or host with other placeholders (`/q/<a>-<slug:s>`), it takes the longest text the
   * ones after it leave, as a greedy regex does (a lazy `+?` one too), found without
   * backtracking: in time linear in the text for a regex that is one character class repeated
   * (`[a-z-]+`, `\w{2,8}`), at most quadratic for any other (docs/routing.md#which-rule-answers).
   */
  readonly regex: string;
  /**
   * The value of the matched text (percent-decoded); `undefined` refuses the match, so the
   * next rule is tried, else the request is a `404` (Werkzeug's `ValidationError`). A
   * `toValue` that throws a `SyntaxError`, `RangeError`, `URIError` or `atob`'s
   * `InvalidCharacterError` (a `DOMException`) refuses too (as Django takes a converter's
   * `ValueError` for no match): a text JavaScript's readers cannot read (`BigInt('zz')`,
   * `new Date('2024-13-45T00:00:00Z').toISOString()`, `atob('a')`) is a `404`, not a `500`.
   * An `HTTPException` it throws is the answer (`throw new HTTPBadRequest('…')` for a `400`
   * with a reason, as a Flask converter raises `BadRequest`); any other error (a `TypeError`,
   * a bug) is the app's failure, logged and answered `500`, as Werkzeug and Django answer it.
   */
  toValue(text: string): T | undefined;
  /**
   * The URL text of a value (before percent-encoding), for `build`, which refuses (a
   * `TypeError`) a text the regex does not match, or one holding a `/` unless
   * {@link Converter.crossesSlashes} is set (`PATH_INFO` decodes `%2F` to `/`: the URL would
   * lead to other segments).
   */
  toUrl(value: T): string;
  /** True for a converter that matches across `/` (the `path` converter); default false. */
  readonly crossesSlashes?: boolean | undefined;
  /**
   * The order among placeholders that could match the same segment, lower first; default 100
   * (`string`). `int` and `float` are 50, `uuid` 40, `any` 30, `path` 200.
   */
  readonly weight?: number | undefined;
}


/** The safe integer `text` (digits, maybe after `-`) reads as, else `undefined` (too large to be exact). */
function readInt(text: string): number | undefined {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** The finite number `text` (`digits.digits`, maybe after `-`) reads as, else `undefined` (past `Number.MAX_VALUE`). */
function readFloat(text: string): number | undefined {
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * `<string:name>` (the default, `<name>`): any non-empty text without `/`. In a pattern it
 * takes Werkzeug's arguments `length`, `minlength`, `maxlength` (`<string(length=2):lang>`,
 * docs/routing.md#converter-arguments). `toUrl` throws a `TypeError` for a value that is no
 * string (a number included: convert it first, as the types say).
 */
export const stringConverter: Converter<string> = { regex: '[^/]+', toValue: (text) => text, toUrl: (value) => stringOf(value, 'a string placeholder'), weight: 100 };

/**
 * `value` when it is a string, for a converter's `toUrl`.
 *
 * @throws TypeError naming `what` (`a string placeholder takes a string, not 5`) otherwise.
 */
function stringOf(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new TypeError(`${what} takes a string, not ${shownValue(value)}`);
  return value;
}

/**
 * `<int:id>`: decimal digits, as a safe integer (`007` reads 7; too large a number does not match).
 * In a pattern it takes Werkzeug's arguments `fixed_digits`, `min`, `max`, `signed`
 * (`<int(min=1):page>`, docs/routing.md#converter-arguments).
 */
export const intConverter: Converter<number> = {
  regex: '\\d+',
  toValue: readInt,
  toUrl: (value) => {
    if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`an int placeholder takes a non-negative safe integer, not ${shownValue(value)}`);
    return String(value);
  },
  weight: 50,
};

/**
 * `value` (non-negative, finite) as `digits.digits` with the digits of its shortest round-trip
 * form: `1e-7` is `0.0000001`, `1e21` is `1000000000000000000000.0`, `3` is `3.0`.
 */
function plainDecimal(value: number): string {
  const [mantissa, exponent] = String(value).split('e') as [string, string | undefined];
  const [whole, fraction = ''] = mantissa.split('.') as [string, string | undefined];
  const digits = whole + fraction;
  // Where the decimal point falls in `digits`.
  const point = whole.length + Number(exponent ?? 0);
  if (point <= 0) return `0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${digits}${'0'.repeat(point - digits.length)}.0`;
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * `<float:x>`: `digits.digits`, as a finite number (Werkzeug's `FloatConverter`); digits too
 * many for a double (past `Number.MAX_VALUE`, which reads as `Infinity`) do not match, as a
 * too large `<int>` does not. It builds from any non-negative finite number, written without
 * an exponent so that the URL matches back. In a pattern it takes Werkzeug's arguments `min`,
 * `max`, `signed` (`<float(signed=True):x>`, docs/routing.md#converter-arguments).
 */
export const floatConverter: Converter<number> = {
  regex: '\\d+\\.\\d+',
  toValue: readFloat,
  toUrl: (value) => {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`a float placeholder takes a non-negative finite number, not ${shownValue(value)}`);
    return plainDecimal(value);
  },
  weight: 50,
};

/** `<path:rest>`: the rest of the path, slashes included (not starting with one); `toUrl` throws a `TypeError` for a value that is no string. */
export const pathConverter: Converter<string> = {
  regex: '[^/].*?',
  toValue: (text) => text,
  toUrl: (value) => stringOf(value, 'a path placeholder'),
  crossesSlashes: true,
  weight: 200,
};

/**
 * `<uuid:key>`: an RFC 9562 UUID in its 8-4-4-4-12 hex form, read in lower case; `toUrl`
 * throws a `TypeError` for a value that is no string.
 */
export const uuidConverter: Converter<string> = {
  regex: '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}',
  toValue: (text) => text.toLowerCase(),
  toUrl: (value) => {
    if (typeof value !== 'string') throw new TypeError(`a uuid placeholder takes a UUID string, not ${shownValue(value)}`);
    return value.toLowerCase();
  },
  weight: 40,
};

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The converters `anyConverter` made, with their words (none holds `/`: see
 * {@link isAnyConverter}).
 */
const ANY_CONVERTERS = new WeakMap<Converter<unknown>, readonly string[]>();

/** True for a converter `anyConverter` made, whose regex (its words) never matches a `/`. */
export const isAnyConverter = (converter: Converter<unknown>): boolean => ANY_CONVERTERS.has(converter);

/** `<any(a,b,c):name>`: one of the words listed (Werkzeug's `AnyConverter`). */
export function anyConverter(words: readonly string[]): Converter<string> {
  if (words.length === 0 || words.some((word) => word === '' || word.includes('/'))) {
    throw new TypeError(`any() takes non-empty words without '/': ${JSON.stringify(words)}`);
  }
  const allowed = new Set(words);
  const converter: Converter<string> = {
    regex: `(?:${words.map(escapeRegex).join('|')})`,
    toValue: (text) => text,
    toUrl: (value) => {
      if (!allowed.has(value)) throw new TypeError(`${typeof value === 'string' ? shownText(value) : shownValue(value)} is not one of ${words.join(', ')}`);
      return value;
    },
    weight: 30,
  };
  ANY_CONVERTERS.set(converter as Converter<unknown>, [...words]);
  return converter;
}

/** Werkzeug's `min` and `max` of a number placeholder (`null`: no bound). */
export interface NumberBounds {
  readonly min: number | null;
  readonly max: number | null;
  /** True to match (and build) a leading `-`; default false. */
  readonly signed: boolean;
}

/** `from 1 to 9`, `from 1`, `up to 9` (with a leading space), or `''` without bounds. */
function boundsText({ min, max }: NumberBounds): string {
  if (min !== null) return max !== null ? ` from ${min} to ${max}` : ` from ${min}`;
  return max !== null ? ` up to ${max}` : '';
}

/** `read`, refusing (`undefined`) a value outside `bounds`. */
function bounded(read: (text: string) => number | undefined, { min, max }: NumberBounds): (text: string) => number | undefined {
  return (text) => {
    const value = read(text);
    return value === undefined || (min !== null && value < min) || (max !== null && value > max) ? undefined : value;
  };
}

/**
 * Checks that `what` can build `value` (any value given to `build`): a number that `isNumber`
 * accepts, not negative unless `signed`, within the bounds.
 *
 * @throws TypeError naming `what` (`an int placeholder from 1`) otherwise.
 */
function checkNumber(value: unknown, what: string, kind: string, isNumber: (value: unknown) => boolean, { min, max, signed }: NumberBounds): asserts value is number {
  if (!isNumber(value) || (!signed && (value as number) < 0)) throw new TypeError(`${what} takes a ${signed ? '' : 'non-negative '}${kind}, not ${shownValue(value)}`);
  if ((min !== null && (value as number) < min) || (max !== null && (value as number) > max)) throw new TypeError(`${what} takes no ${value}`);
}

/** The regexes of `int` and `float` with `signed=True`. */
const SIGNED_INT = '-?\\d+';
const SIGNED_FLOAT = '-?\\d+\\.\\d+';

/**
 * `<int(fixed_digits=4, min=1, max=9999, signed=False):n>` (Werkzeug's `IntegerConverter`
 * arguments): `fixedDigits` (0: any number of digits) is the exact length of the text, a `-`
 * counting as one of them (Werkzeug's `zfill`: `-1` is `-01` with 3), and the number built is
 * zero-padded to it; a value outside `min`/`max` does not match. Weight 50, as `int`.
 * `toUrl` throws a `TypeError` for a value the rule could not match back.
 */
export function boundedIntConverter(fixedDigits: number, bounds: NumberBounds): Converter<number> {
  const what = `an int placeholder${fixedDigits ? ` of ${fixedDigits} digits` : ''}${boundsText(bounds)}`;
  const read = bounded((text) => (fixedDigits && text.length !== fixedDigits ? undefined : readInt(text)), bounds);
  return {
    regex: bounds.signed ? SIGNED_INT : intConverter.regex,
    // `-0` reads as 0, as Python's int('-0').
    toValue: (text) => {
      const value = read(text);
      return value === 0 ? 0 : value;
    },
    toUrl: (value) => {
      checkNumber(value, what, 'safe integer', Number.isSafeInteger, bounds);
      if (!fixedDigits) return String(value);
      const text = value < 0 ? `-${String(-value).padStart(fixedDigits - 1, '0')}` : String(value).padStart(fixedDigits, '0');
      if (text.length > fixedDigits) throw new TypeError(`${what} takes at most ${fixedDigits} digits, not ${value}`);
      return text;
    },
    weight: 50,
  };
}

/**
 * `<float(min=0.0, max=1.0, signed=False):x>` (Werkzeug's `FloatConverter` arguments): a
 * value outside `min`/`max` does not match. Weight 50, as `float`. `toUrl` throws a
 * `TypeError` for a value the rule could not match back.
 */
export function boundedFloatConverter(bounds: NumberBounds): Converter<number> {
  const what = `a float placeholder${boundsText(bounds)}`;
  return {
    regex: bounds.signed ? SIGNED_FLOAT : floatConverter.regex,
    toValue: bounded(readFloat, bounds),
    toUrl: (value) => {
      checkNumber(value, what, 'finite number', Number.isFinite, bounds);
      return value < 0 ? `-${plainDecimal(-value)}` : plainDecimal(value);
    },
    weight: 50,
  };
}

/** The characters (code points, as Python counts them) of `text`. */
function characters(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * One character (code point) other than `/`: a surrogate pair, else one UTF-16 unit that is
 * not the first half of a pair (without the `u` flag, backtracking would otherwise split a
 * pair into two characters: `length=2` matching one emoji).
 */
const CHARACTER = '(?:[\\uD800-\\uDBFF][\\uDC00-\\uDFFF]|[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|[^/\\uD800-\\uDBFF])';

/**
 * `<string(minlength=2, maxlength=8):s>`, `<string(length=2):s>` (Werkzeug's
 * `UnicodeConverter` arguments): a segment of `min` to `max` characters (code points, as
 * Werkzeug counts them; `max` `null`: no upper bound). The lengths are in the regex, as
 * Werkzeug's `[^/]{2}`, so a segment with two placeholders (`<string(length=2):a><b>`) is
 * split by them. Weight 100, as `string`. `toUrl` throws a `TypeError` for a value that is
 * no string or has another length.
 */
export function lengthConverter(min: number, max: number | null): Converter<string> {
  const fits = (text: string) => {
    const count = characters(text);
    return count >= min && (max === null || count <= max);
  };
  const what = `a string placeholder of ${min === max ? min : max === null ? `at least ${min}` : `${min} to ${max}`} characters`;
  return {
    regex: `${CHARACTER}{${min},${max ?? ''}}`,
    toValue: (text) => text,
    toUrl: (value) => {
      if (!fits(stringOf(value, what))) throw new TypeError(`${what} takes no ${shownText(value)}`);
      return value;
    },
    weight: 100,
  };
}

/** The converters every route map knows, by name. */
export const BUILTIN_CONVERTERS: Readonly<Record<string, Converter<unknown>>> = {
  default: stringConverter,
  string: stringConverter,
  int: intConverter,
  float: floatConverter,
  path: pathConverter,
  uuid: uuidConverter,
} as Record<string, Converter<unknown>>;

/**
 * True when a converter regex is one of the built-in converters' that never matches a `/`
 * (`string` and its lengths, `int`, `float`, `uuid`, signed or not; not `path`, nor `any`,
 * whose words may hold one): what routing's backtracking check may rely on
 * (src/routing/guarded-regex.ts). A custom converter's regex counts when it is one of these.
 */
export function matchesNoSlash(regex: string): boolean {
  return (
    regex === stringConverter.regex ||
    regex === intConverter.regex ||
    regex === floatConverter.regex ||
    regex === uuidConverter.regex ||
    regex === SIGNED_INT ||
    regex === SIGNED_FLOAT ||
    /^\{\d+,\d*\}$/.test(regex.startsWith(CHARACTER) ? regex.slice(CHARACTER.length) : '')
  );
}

/**
 * The texts a built-in converter's regex takes, as routing's backtracking check walks them
 * (src/routing/guarded-regex.ts): `number`, decimal digits (`\d+`, `int`), with a `.` and more
 * digits (`\d+\.\d+`, `float`), after an optional `-` when `signed`; `uuid`, its 36
 * characters; `words`, one of `any()`'s words; `characters`, from `min` to `max` characters
 * (code points, `null`: no most) other than `/` (`string` with `length`, `minlength` or
 * `maxlength`).
 */
export type TextShape =
  | { readonly kind: 'number'; readonly signed: boolean; readonly fraction: boolean }
  | { readonly kind: 'uuid' }
  | { readonly kind: 'words'; readonly words: readonly string[] }
  | { readonly kind: 'characters'; readonly min: number; readonly max: number | null };

const SHAPES: Readonly<Record<string, TextShape>> = {
  [intConverter.regex]: { kind: 'number', signed: false, fraction: false },
  [SIGNED_INT]: { kind: 'number', signed: true, fraction: false },
  [floatConverter.regex]: { kind: 'number', signed: false, fraction: true },
  [SIGNED_FLOAT]: { kind: 'number', signed: true, fraction: true },
  [uuidConverter.regex]: { kind: 'uuid' },
};

/**
 * What texts `converter` takes (see {@link TextShape}), read from its regex as
 * {@link matchesNoSlash} reads it (a custom converter with the regex of `int` counts as `int`),
 * or its words for one `anyConverter` made; `null` for `string` without lengths (any text
 * without `/`), `path` and any other regex, of which the check knows only the fewest characters.
 */
export function textShape(converter: Converter<unknown>): TextShape | null {
  const words = ANY_CONVERTERS.get(converter);
  if (words !== undefined) return { kind: 'words', words };
  const regex = converter.regex;
  const shape = Object.hasOwn(SHAPES, regex) ? SHAPES[regex]! : null;
  if (shape !== null || !regex.startsWith(CHARACTER)) return shape;
  const lengths = /^\{(\d+),(\d*)\}$/.exec(regex.slice(CHARACTER.length));
  return lengths ? { kind: 'characters', min: Number(lengths[1]), max: lengths[2] === '' ? null : Number(lengths[2]) } : null;
}

const WHOLE = new WeakMap<Converter<unknown>, RegExp>();

/** The converter's regex anchored at both ends (`s` flag: a path may hold any character), made once per converter. */
export function wholeMatch(converter: Converter<unknown>): RegExp {
  let regex = WHOLE.get(converter);
  if (!regex) WHOLE.set(converter, (regex = new RegExp(`^(?:${converter.regex})$`, 's')));
  return regex;
}
