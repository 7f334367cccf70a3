/**
 * Checking an options object: a misspelled option of a middleware (`cors(app, { origins })`,
 * `proxyFix(app, { x_for: 1 })`) or of a call (`req.json({ maxsize })`, `client.post(url,
 * { jsonn })`) would otherwise run silently with the default. TypeScript catches an excess key
 * only in an object literal; this catches it in plain JavaScript and in a config object built
 * elsewhere.
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
 * An option that is itself an options object (`proxy(url, { tls: { … } })`): where it is, for
 * the messages, and which other keys it takes.
 */
export interface NestedOptions {
  /** Its path from the top options, as the messages name it: `'tls'` (`unknown option "tls.rejectUnauthorised"`). */
  readonly option: string;
  /**
   * Keys taken as well as `known` but not listed in the message: the names Node accepts in an
   * object of which only `known` is read (`proxy`'s `tls`: Node's other `tls.connect` options),
   * so an object spread from another client's options passes. A misspelling of one is still
   * named as meant.
   */
  readonly alsoAccepted?: Readonly<Record<string, true>> | undefined;
  /**
   * `true` for an object handed to Node whole (`serve`'s `tls` and `server`): `known` is what
   * the installed `@types/node` lists, so a key outside it is refused only when it is close to
   * a listed name (a misspelling); any other may be an option of a newer Node and passes.
   */
  readonly handedToNode?: boolean | undefined;
}

/**
 * Throws unless `options` is `undefined` or a plain object (prototype `null` or an
 * `Object.prototype`, another realm's included) whose own enumerable string keys are all in
 * `known`. A known key holding `undefined` passes.
 *
 * Cheap enough per call (`req.json(options)`, `client.get(url, options)`): `undefined` returns
 * at once, and a known object is walked with `for…in` and `Object.hasOwn`, allocating nothing;
 * the names and the message are built only to throw.
 *
 * @param where - what is being built or called, as the message names it (`'cors'`,
 *   `'new CookieSessions'`, `'req.json'`).
 * @param options - the value given where the options go.
 * @param known - the options' names, from an {@link OptionNames} list.
 * @param at - which argument `options` is, default `'second'` (`name(app, options)`); or,
 *   for an option that is itself an options object, a {@link NestedOptions}.
 * @throws TypeError for a function, string, array, `null` or other non-plain-object options
 *   (`accessLog(app, fn)`), saying what that argument (or option) is; and for an unknown key,
 *   naming it (with its path, `"tls.rejectUnauthorised"`, in a nested object) and, when one is
 *   close (edit distance, case, `_` or `-`), the option it likely meant; another framework's
 *   name for an option (`bodyLimit`, `fileSize`, `limits`, a cookie's `signed`) is told
 *   what to write instead.
 */
export function checkOptions(where: string, options: unknown, known: Readonly<Record<string, true>>, at: OptionsArgument | NestedOptions = 'second'): void {
  if (options === undefined) return;
  if (!isPlainObject(options)) throw notOptions(where, options, known, at);
  // `for…in` rather than `Object.keys`: no array on the path that passes. A plain object
  // inherits no enumerable key but from a polluted `Object.prototype`, which is skipped.
  for (const key in options) {
    if (Object.hasOwn(known, key) || !Object.hasOwn(options, key)) continue;
    const error = unknownOption(where, key, known, at);
    if (error !== null) throw error;
  }
}

/** The error for `options` that are no plain object. */
function notOptions(where: string, options: unknown, known: Readonly<Record<string, true>>, at: OptionsArgument | NestedOptions): TypeError {
  const names = Object.keys(known);
  const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? ', …' : '');
  const place = typeof at === 'string' ? `the ${at} argument` : `the ${at.option} option`;
  return new TypeError(`${where}: ${place} is ${typeof at === 'string' ? 'the' : 'an'} options object ({ ${shown} }), not ${kindOf(options)}`);
}

/** The error for the unknown `key`, or `null` for a key let through (see {@link NestedOptions}). */
function unknownOption(where: string, key: string, known: Readonly<Record<string, true>>, at: OptionsArgument | NestedOptions): TypeError | null {
  const nested = typeof at === 'string' ? undefined : at;
  if (nested?.alsoAccepted !== undefined && Object.hasOwn(nested.alsoAccepted, key)) return null;
  const names = Object.keys(known);
  const other = otherName(key, known);
  const close = other === null ? closest(key, nested?.alsoAccepted === undefined ? names : [...names, ...Object.keys(nested.alsoAccepted)]) : null;
  if (close === null && other === null && nested?.handedToNode === true) return null;
  const hint = other !== null ? `: ${other}` : close === null ? '' : `: did you mean ${JSON.stringify(close)}?`;
  const path = nested === undefined ? key : `${nested.option}.${key}`;
  const list = nested?.handedToNode === true ? '' : ` (${nested === undefined ? 'options' : `options of ${nested.option}`}: ${names.join(', ')})`;
  return new TypeError(`${where}: unknown option ${JSON.stringify(path)}${hint}${list}`);
}

/** busboy's (and multer's) limits, each with the tsgi form limit it is. */
const BUSBOY_LIMITS: Readonly<Record<string, string>> = { fileSize: 'maxFileSize', files: 'maxFiles', fields: 'maxFields', parts: 'maxParts', fieldSize: 'maxFieldSize' };

/**
 * What to write for `key` when it is another framework's name for one of `known` (Fastify's
 * `bodyLimit`, busboy's and multer's `fileSize` and `limits`, Express's `signed` cookies), or
 * `null`: said only where the option it stands for is among `known`.
 */
function otherName(key: string, known: Readonly<Record<string, true>>): string | null {
  // busboy's limits by their own names, and no other name: `serve`'s `headers` is no `maxHeaders`.
  const max = Object.hasOwn(BUSBOY_LIMITS, key) ? BUSBOY_LIMITS[key]! : null;
  if (max !== null && Object.hasOwn(known, max)) return `did you mean ${JSON.stringify(max)}?`;
  if (key === 'bodyLimit' && Object.hasOwn(known, 'maxBodySize')) return 'did you mean "maxBodySize"?';
  if (key === 'limits' && Object.hasOwn(known, 'maxFileSize')) return 'give the limits themselves, { maxFileSize, maxFiles, … }';
  if (key === 'signed' && Object.hasOwn(known, 'httpOnly')) {
    return 'tsgi signs no single cookie: keep a signed value in a CookieSessions session, or a login in AuthTickets';
  }
  return null;
}

/**
 * A boolean option, checked: `true` or `false` as given, `undefined` (left out) as `fallback`.
 * A value of another type throws rather than being read by its truthiness: `'false'` from an
 * environment variable is truthy, and `'true'` read as `false` turns a feature off unsaid.
 *
 * @param where - the middleware or call, for the message (`'cors'`).
 * @param option - the option's path, for the message (`'credentials'`, `'contentSecurityPolicy.nonce'`).
 * @throws TypeError `cors: credentials must be true or false, got "true"`.
 */
export function booleanOption(where: string, option: string, value: unknown, fallback = false): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${where}: ${option} must be true or false, got ${JSON.stringify(value) ?? String(value)}`);
  return value;
}

/**
 * A boolean option of a per-call options object (`urls.build`, `res.addEtag`, `form.set`,
 * `new Response`), checked at the cost of one comparison, on the branch a truthy value takes
 * anyway: `true` is `true`, a falsy value (`undefined`, left out) `false`, and a truthy value of
 * another type (`'false'` from an environment variable, `1`) throws as {@link booleanOption}
 * does. A falsy non-boolean (`0`, `''`, `null`) passes as `false`: it turns nothing on.
 *
 * @param where - the call, for the message (`'urls.build'`).
 * @param option - the option's name, for the message (`'external'`).
 * @throws TypeError `urls.build: external must be true or false, got "false"`.
 */
export function truthyOption(where: string, option: string, value: unknown): boolean {
  return value ? value === true || booleanOption(where, option, value) : false;
}

/** An object literal's kind: its prototype is `null` or an `Object.prototype` (this realm's, or a `vm` context's or iframe's). */
export function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/**
 * What `value` is, for the message: `null`, `undefined`, `a function`, `a string`, `an array`, `a Map object`,
 * `a Uint8Array object`, or for `Object.create(base)` (whose inherited keys would go unchecked)
 * what to write instead.
 */
export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') {
    const name = Object.hasOwn(Object.getPrototypeOf(value) as object, 'constructor') ? ((value as object).constructor?.name ?? '') : '';
    return name === '' ? 'an object inheriting from another (Object.create(base)): spread it, { ...base }' : `${/^(?!Uint)[AEIOU][a-z]/.test(name) ? 'an' : 'a'} ${name} object`;
  }
  return `a ${typeof value}`;
}

/**
 * The known name `key` most likely misspells, or `null`: the same letters ignoring case, `_`
 * and `-` (`maxage`, `x_for`), the start of a name (`maxMatchLen`), or a few letters off
 * (`origins`, `stauts`: about one edit in four letters, a swap of two counting one).
 */
export function closest(key: string, names: readonly string[]): string | null {
  const loose = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');
  const wanted = loose(key);
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.floor(wanted.length / 4)) + 1;
  for (const name of names) {
    const known = loose(name);
    // The same name but for case, `_` and `-` first (`Items` is `items`, not `item`), then a start.
    const distance = known === wanted ? 0 : wanted.length >= 4 && known.startsWith(wanted) ? 1 : editDistance(wanted, known);
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
