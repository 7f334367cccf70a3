/**
 * The rules of one endpoint (Werkzeug's rules sharing an endpoint): compiled in the order
 * written, sorted for building, the redirect a match of one owes to another's `defaults`
 * (`redirect_defaults`), and the rule `build` takes for given values (`Map.build`,
 * `Rule.suitable_for`).
 *
 * @module
 */
import type { Converter } from './converters.ts';
import { type CompiledRule, type RuleDefaults, compileRule } from './rule.ts';
import { buildPath, hasValue, pathOf } from './build.ts';
import { compileRedirectTo, redirectTarget } from './redirect-to.ts';
import type { RouteSpec, RuleSpec } from './types.ts';
import { type OptionNames, booleanOption, checkOptions, closest } from '../gateway/option-names.ts';
import { shownValue } from '../gateway/shown.ts';

/** The keys of a rule object. */
const RULE_KEYS = { path: true, methods: true, strictSlashes: true, mergeSlashes: true, host: true, defaults: true, redirectTo: true } as const satisfies OptionNames<Exclude<RuleSpec, string>>;

/**
 * Throws unless `one` is a pattern string or a plain rule object with a string `path`, a
 * `strictSlashes` and `mergeSlashes` that are booleans when given, `methods` a non-empty array
 * of strings when given, and no key other than a rule's: TypeScript lets an extra key (`method` for `methods`) through
 * `RouteMap`'s const type parameter, and the rule would silently answer GET only; an empty
 * `methods` would answer no request (a 405 for every method), and a string (`'POST'`) crashed
 * inside `compileRule` (Werkzeug: "'methods' should be a list of strings").
 */
function checkRule(endpoint: string, one: unknown): void {
  if (typeof one === 'string') return;
  const where = `new RouteMap: the rule of ${JSON.stringify(endpoint)}`;
  if (typeof one !== 'object' || one === null || Array.isArray(one)) {
    throw new TypeError(`${where} is a pattern string or an object { path, methods, … }, not ${one === null ? 'null' : Array.isArray(one) ? 'an array' : `a ${typeof one}`}`);
  }
  checkOptions(where, one, RULE_KEYS);
  if (typeof (one as { path?: unknown }).path !== 'string') throw new TypeError(`${where} has no path`);
  // `'false'` from a config file would otherwise be read as on by `compileRule`.
  booleanOption(where, 'strictSlashes', (one as { strictSlashes?: unknown }).strictSlashes);
  booleanOption(where, 'mergeSlashes', (one as { mergeSlashes?: unknown }).mergeSlashes);
  const wrong = wrongMethods((one as { methods?: unknown }).methods);
  if (wrong !== undefined) throw new TypeError(`${where}: methods must be a non-empty array of method names (as ['GET', 'POST']), not ${wrong}`);
}

/** What is wrong with a rule's `methods` (`"POST" (a string)`, `[], which answers no request`), or `undefined` when it is left out or right. */
function wrongMethods(methods: unknown): string | undefined {
  if (methods === undefined) return undefined;
  if (!Array.isArray(methods)) return shownValue(methods);
  if (methods.length === 0) return '[], which answers no request';
  const name = (methods as unknown[]).find((m) => typeof m !== 'string');
  return name === undefined ? undefined : `an array holding ${shownValue(name)}`;
}

/**
 * The rules of `endpoint` from its spec (one rule, or an array of them): as written (the order
 * they are matched in), and in build order: those answering `GET` first (Werkzeug builds with
 * the default method first), those with `redirectTo` last (a URL that redirects is built only
 * when no other suits, as Werkzeug's `alias` rules), then more names (placeholders and
 * defaults) first, then more defaults first, else as written (Werkzeug's `build_compare_key`). Each knows the rules
 * before it in that order whose defaults stand for its values.
 *
 * @throws TypeError for an empty array; a rule neither a string nor a plain object, a rule object
 *   without a string `path` or with a key a rule does not have (`method`, naming `methods`), a
 *   `methods` that is not a non-empty array of strings; and as `compileRule` and `compileRedirectTo`.
 */
export function compileEndpoint(endpoint: string, spec: RouteSpec, converters: Readonly<Record<string, Converter<unknown>>>, defaults: RuleDefaults): { written: CompiledRule[]; build: CompiledRule[] } {
  const specs = Array.isArray(spec) ? (spec as readonly unknown[]) : [spec];
  if (specs.length === 0) throw new TypeError(`the route ${JSON.stringify(endpoint)} has no rule`);
  const compiled = specs.map((one) => {
    checkRule(endpoint, one);
    const { path, redirectTo, ...options } = (typeof one === 'string' ? { path: one } : one) as { path: string; redirectTo?: unknown } & Parameters<typeof compileRule>[2];
    const rule = compileRule(endpoint, path, options, converters, defaults);
    return redirectTo === undefined ? rule : { ...rule, redirectTo: compileRedirectTo(rule, redirectTo), redirects: true };
  });
  if (compiled.length === 1) return { written: compiled, build: compiled };
  // Werkzeug's build_compare_key: redirecting rules last (as its alias rules), then more arguments first, then
  // more defaults; a stable sort keeps the written order.
  const byKey = [...compiled].sort((a, b) => redirecting(a) - redirecting(b) || b.arguments.size - a.arguments.size || defaultCount(b) - defaultCount(a));
  const final = new Map<CompiledRule, CompiledRule>();
  byKey.forEach((rule, i) => {
    const defaultsFrom = byKey.slice(0, i).filter((r) => providesDefaultsFor(r, rule));
    final.set(rule, defaultsFrom.length === 0 ? rule : { ...rule, defaultsFrom, redirects: true });
  });
  const sorted = byKey.map((rule) => final.get(rule)!);
  // Build order: the rules answering GET first, as Werkzeug's build tries the default method first.
  const build = [...sorted.filter((r) => r.methods.has('GET')), ...sorted.filter((r) => !r.methods.has('GET'))];
  return { written: compiled.map((rule) => final.get(rule)!), build };
}

const redirecting = (rule: CompiledRule) => (rule.redirectTo === null ? 0 : 1);
const defaultCount = (rule: CompiledRule) => (rule.defaults === null ? 0 : Object.keys(rule.defaults).length);

/**
 * Whether `r`'s defaults can stand for `rule`'s values (Werkzeug's `provides_defaults_for`): it
 * has defaults, takes the same names, and answers on the same host pattern.
 */
function providesDefaultsFor(r: CompiledRule, rule: CompiledRule): boolean {
  if (r.defaults === null || r === rule || r.redirectTo !== null || (r.host?.text ?? null) !== (rule.host?.text ?? null)) return false;
  return r.arguments.size === rule.arguments.size && [...r.arguments].every((name) => rule.arguments.has(name));
}

/**
 * Whether `rule` can be built with `values` (Werkzeug's `Rule.suitable_for`): each placeholder
 * has a value, and each default is left out or given equal (`===`).
 */
function suitable(rule: CompiledRule, values: Readonly<Record<string, unknown>>): boolean {
  for (const p of rule.placeholders) if (!hasValue(values, p.name)) return false;
  if (rule.defaults !== null) {
    for (const [name, value] of Object.entries(rule.defaults)) if (hasValue(values, name) && values[name] !== value) return false;
  }
  return true;
}

/**
 * Where a match of `rule` with `values` (its defaults included) and `method` (`null`: any)
 * redirects, or `undefined` when it answers: first a rule before it whose defaults equal the
 * values and that answers the method (its path, Werkzeug's `redirect_defaults`), then the
 * rule's `redirectTo` (see `redirectTarget`; `null` when its template cannot be written with
 * the values, a 404).
 */
export function redirectOf(rule: CompiledRule, values: Readonly<Record<string, unknown>>, method: string | null): string | null | undefined {
  for (const r of rule.defaultsFrom) {
    if ((method !== null && !r.methods.has(method)) || !suitable(r, values)) continue;
    try {
      return pathOf(r, { ...values, ...r.defaults });
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
    }
  }
  if (rule.redirectTo === null) return undefined;
  return redirectTarget(rule.redirectTo, rule, values) ?? null;
}

/** A rule built: the rule taken, its path and query (see `buildPath`). */
export interface Built {
  readonly rule: CompiledRule;
  readonly path: string;
  readonly query: string;
}

/**
 * The first of `rules` (in build order) that `values` suit and that builds (Werkzeug's
 * `MapAdapter.build`): among the rules answering `GET`, then the others, the first whose host
 * `onHost` accepts (the request's, or none), else the first built. After a rule refuses the
 * values (a converter's `TypeError`, as Werkzeug's `ValidationError`), only rules taking each
 * of its placeholders' names are tried (`['/p/<int:id>', '/p/<id>']` builds `/p/abc`), so a
 * refused value never goes into another rule's query. One rule without defaults is built at
 * once, its errors as they are.
 *
 * @throws TypeError for no rule suiting the values (naming what each needs), or the first
 *   suitable rule's `TypeError` when none builds (see `buildPath`).
 */
export function buildFor(endpoint: string, rules: readonly CompiledRule[], values: Readonly<Record<string, unknown>>, onHost: (rule: CompiledRule) => boolean): Built {
  const only = rules[0]!;
  if (rules.length === 1 && only.defaults === null) return { rule: only, ...buildPath(only, values) };
  let first: Built | undefined;
  let refused: unknown;
  // The placeholders of the rules that refused the values: a later rule must take each of
  // them, so a value one refused never moves into another's query (`/archive/?year=-5`).
  let refusedNames: string[] = [];
  let withGet = true;
  for (const rule of rules) {
    if (withGet && !rule.methods.has('GET')) {
      if (first) return first;
      withGet = false;
    }
    if (!suitable(rule, values) || refusedNames.some((name) => !rule.arguments.has(name))) continue;
    try {
      const built = { rule, ...buildPath(rule, values) };
      if (onHost(rule)) return built;
      first ??= built;
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      refused ??= error;
      refusedNames = [...refusedNames, ...rule.placeholders.map((p) => p.name)];
    }
  }
  if (first) return first;
  throw refused ?? new TypeError(`${endpoint}: no rule takes these values (${rules.map((r) => needs(r, values)).join('; ')})`);
}

/** What `rule` needs that `values` lack or contradict: `/users/ needs page 1 (by default) or none`. */
function needs(rule: CompiledRule, values: Readonly<Record<string, unknown>>): string {
  const missing = rule.placeholders.filter((p) => !hasValue(values, p.name)).map((p) => p.name);
  const contradicted = Object.keys(rule.defaults ?? {}).filter((name) => hasValue(values, name) && values[name] !== rule.defaults![name]);
  const wants = [...(missing.length ? [`a value for ${missing.join(', ')}`] : []), ...contradicted.map((name) => `${name} left out or equal to its default`)];
  return `${rule.pattern} needs ${wants.join(' and ')}`;
}

/**
 * The rules of `endpoint` in build order (see {@link compileEndpoint}), from a map's rules by
 * endpoint.
 *
 * @throws TypeError for an endpoint the map lacks, naming the one it most likely misspells
 *   (`no route named "itme": did you mean "item"?`), as Werkzeug's `BuildError` does.
 */
export function rulesOf(byEndpoint: ReadonlyMap<string, readonly CompiledRule[]>, endpoint: string): readonly CompiledRule[] {
  const rules = byEndpoint.get(endpoint);
  if (rules !== undefined) return rules;
  const close = closest(String(endpoint), [...byEndpoint.keys()]);
  throw new TypeError(`no route named ${JSON.stringify(endpoint)}${close === null ? '' : `: did you mean ${JSON.stringify(close)}?`}`);
}
