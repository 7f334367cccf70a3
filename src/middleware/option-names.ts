/**
 * Checking an options object at construction: a misspelled option of a middleware (`cors(app,
 * { origins })`, `proxyFix(app, { x_for: 1 })`) would otherwise run silently with the default.
 * TypeScript catches an excess key only in an object literal; this catches it in plain
 * JavaScript and in a config object built elsewhere.
 *
 * @module
 */

/**
 * Every option of an options type, each `true`: write the list next to the type as
 * `{ … } as const satisfies OptionNames<XOptions>`, so an option added to the type and not to
 * the list (or a listed name the type lacks) fails `tsc`.
 */
export type OptionNames<T> = { readonly [K in keyof Required<T>]-?: true };

/** Which argument the options are, for the message about a non-object: `'first'`, `'second'`, `'third'`. */
export type OptionsArgument = 'first' | 'second' | 'third';

/**
 * Throws unless `options` is `undefined` or a plain object (prototype `null` or an
 * `Object.prototype`, another realm's included) whose own enumerable string keys are all in `known`. Call it once, where the
 * middleware is built, never per request. A known key holding `undefined` passes.
 *
 * @param where - what is being built, as the message names it (`'cors'`, `'new CookieSessions'`).
 * @param options - the value given where the options go.
 * @param known - the options' names, from an {@link OptionNames} list.
 * @param argument - which argument `options` is; default `'second'` (`name(app, options)`).
 * @throws TypeError for a function, string, array, `null` or other non-plain-object options
 *   (`accessLog(app, fn)`), saying what that argument is; and for an unknown key, naming it
 *   and, when one is close (edit distance, case, `_` or `-`), the option it likely meant.
 */
export function checkOptions(where: string, options: unknown, known: Readonly<Record<string, true>>, argument: OptionsArgument = 'second'): void {
  if (options === undefined) return;
  const names = Object.keys(known);
  if (!isPlainObject(options)) {
    const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? ', …' : '');
    throw new TypeError(`${where}: the ${argument} argument is the options object ({ ${shown} }), not ${kindOf(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(known, key)) continue;
    const close = closest(key, names);
    const hint = close === null ? '' : `: did you mean ${JSON.stringify(close)}?`;
    throw new TypeError(`${where}: unknown option ${JSON.stringify(key)}${hint} (options: ${names.join(', ')})`);
  }
}

/** An object literal's kind: its prototype is `null` or an `Object.prototype` (this realm's, or a `vm` context's or iframe's). */
function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/**
 * What `value` is, for the message: `a function`, `a string`, `an array`, `a Map object`, or
 * for `Object.create(base)` (whose inherited keys would go unchecked) what to write instead.
 */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') {
    const name = Object.hasOwn(Object.getPrototypeOf(value) as object, 'constructor') ? ((value as object).constructor?.name ?? '') : '';
    return name === '' ? 'an object inheriting from another (Object.create(base)): spread it, { ...base }' : `a ${name} object`;
  }
  return `a ${typeof value}`;
}

/**
 * The known name `key` most likely misspells, or `null`: the same letters ignoring case, `_`
 * and `-` (`maxage`, `x_for`), the start of a name (`maxMatchLen`), or a few letters off
 * (`origins`, `stauts`: about one edit in four letters, a swap of two counting one).
 */
function closest(key: string, names: readonly string[]): string | null {
  const loose = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');
  const wanted = loose(key);
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.floor(wanted.length / 4)) + 1;
  for (const name of names) {
    const known = loose(name);
    const distance = wanted.length >= 4 && known.startsWith(wanted) ? 1 : editDistance(wanted, known);
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best;
}

/** Edit distance between `a` and `b`: insertions, deletions, substitutions and swaps of neighbours (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, d[i - 2]![j - 2]! + 1);
      d[i]![j] = value;
    }
  }
  return d[a.length]![b.length]!;
}
