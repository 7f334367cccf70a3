/**
 * Matching a path against every rule at once: a trie of path segments, as Werkzeug's
 * `StateMachineMatcher`, so the cost grows with the depth of the path, not the number of
 * rules.
 *
 * @module
 */
import type { Converter } from './converters.ts';
import { type CompiledRule, type HostPattern, type Segment, mergeSlashes } from './rule.ts';
import { redirectOf } from './endpoint.ts';
import { RuleList } from './rule-list.ts';
import { insertInOrder } from './sorted-insert.ts';

class Node {
  /** Children by the exact text of the next segment. */
  readonly static = new Map<string, Node>();
  /** Children by a dynamic segment, tried in weight order. */
  readonly dynamic: Array<{ segment: Segment; node: Node }> = [];
  /** The same children by their segment's key (see `Segment.key`), for adding rules. */
  readonly dynamicByKey = new Map<string, { segment: Segment; node: Node }>();
  /** Rules whose segments end here. */
  readonly rules = new RuleList();
  /** Rules that match the rest of the path from here whole (a slash-crossing placeholder). */
  readonly tails = new RuleList(tailWeight);
}

/**
 * The rule a lookup matched, as `routes.lookup` shows it (Werkzeug's `Rule`: `rule`,
 * `endpoint`, `methods`).
 */
export interface MatchedRule {
  /** The endpoint's name (the key in the rules given to `RouteMap`). */
  readonly endpoint: string;
  /** The rule's path pattern as written (`'/items/<int:id>'`), Werkzeug's `Rule.rule`. */
  readonly pattern: string;
  /** The methods it answers, upper case (`HEAD` added with `GET`). */
  readonly methods: ReadonlySet<string>;
}

/** What a lookup found: {@link Lookup} for users, {@link Found} (the compiled rule) in the matcher. */
type LookupOf<Rule> =
  | {
      /** Which outcome: `match`, `method` (405), `slash`, `merge` or `redirect` (redirects) or `none` (404); the other keys depend on it. */
      readonly kind: 'match';
      /** The rule that matched the path and method. */
      readonly rule: Rule;
      /** Its placeholders' converted values and its `defaults`, by name (own properties, `__proto__` included). */
      readonly values: Record<string, unknown>;
    }
  /** Rules match the path, but none the method: these are the methods they answer. */
  | { readonly kind: 'method'; readonly allowed: ReadonlySet<string> }
  /** The path with a trailing slash matches a rule with strict slashes: redirect there. */
  | { readonly kind: 'slash' }
  /**
   * The path with its repeated slashes merged (`/a//b` → `/a/b`; a trailing slash added when a
   * strict rule has one) is a rule's with `mergeSlashes`: redirect to `path` (a `PATH_INFO`).
   */
  | { readonly kind: 'merge'; readonly path: string }
  /**
   * The rule matched redirects: to another rule of its endpoint whose `defaults` equal the
   * values (`/users/page/1` → `/users/`), or to its `redirectTo`. `to` is a percent-encoded
   * path from the map's root (to put under `SCRIPT_NAME`), or a full URL a `redirectTo`
   * function answered.
   */
  | { readonly kind: 'redirect'; readonly to: string }
  | { readonly kind: 'none' };

/** What a lookup found (`routes.lookup`, `urls.lookup`): the outcome, and for a match the rule and its values. */
export type Lookup = LookupOf<MatchedRule>;

/** What a lookup found, with the compiled rule: the matcher's own answer. */
export type Found = LookupOf<CompiledRule>;

const NONE: Found = Object.freeze({ kind: 'none' });
/** The dynamic edges a `.` or `..` segment tries: none (see `walk`). */
const NO_EDGES: Node['dynamic'] = [];
/** True for `.` and `..`, the texts no placeholder in one segment takes (see `walk`). */
const isDotSegment = (text: string): boolean => text === '.' || text === '..';
const SLASH: Found = Object.freeze({ kind: 'slash' });

/**
 * The values of `rule` from the converted texts in path order, then its defaults, each an own
 * property (so `<constructor>` and `<toString>` are plain names; `<__proto__>` is defined, not
 * assigned).
 */
function valuesOf(rule: CompiledRule, converted: unknown[]): Record<string, unknown> {
  const placeholders = rule.placeholders;
  if (rule.protoName) {
    const values: Record<string, unknown> = {};
    const define = (name: string, value: unknown) => Object.defineProperty(values, name, { value, enumerable: true, writable: true, configurable: true });
    for (let i = 0; i < placeholders.length; i++) define(placeholders[i]!.name, converted[i]);
    for (const [name, value] of Object.entries(rule.defaults ?? {})) define(name, value);
    return values;
  }
  const values: Record<string, unknown> = {};
  for (let i = 0; i < placeholders.length; i++) values[placeholders[i]!.name] = converted[i];
  return rule.defaults === null ? values : Object.assign(values, rule.defaults);
}

/** A search in progress: the path's segments, the method, what has been converted so far. */
interface Search {
  /** The path the segments come from (`PATH_INFO`, with its leading `/`). */
  readonly path: string;
  /** The request's host, for rules with a `host` (`null`: none of them matches). */
  readonly host: string | null;
  readonly segments: string[];
  readonly method: string | null;
  readonly converted: unknown[];
  /** True to skip rules with strict slashes (the path had a trailing slash they lack). */
  readonly looseOnly: boolean;
  /** Methods of rules that matched the path but not the method. */
  allowed: Set<string> | null;
}

/**
 * Converts the captures of `match` with `placeholders`' converters onto `out`; false when one
 * refuses: answers `undefined`, or throws one of the errors that say a text is no value (see
 * {@link isNoValue}), so a URL its converter cannot read is the next rule's, else a 404. Any
 * other error goes on: an `HTTPException` is the answer (`HTTPBadRequest` with a reason, as a
 * Flask converter raises `BadRequest`), anything else the app's failure, logged and a 500.
 */
function convert(match: RegExpExecArray, placeholders: Segment['placeholders'], out: unknown[]): boolean {
  for (let i = 0; i < placeholders.length; i++) {
    const value = toValueOrRefuse(placeholders[i]!.converter, match[i + 1]!);
    if (value === undefined) return false;
    out.push(value);
  }
  return true;
}

/** `converter.toValue(text)`, `undefined` (a refusal) when it throws an error of {@link isNoValue}. */
function toValueOrRefuse(converter: Converter<unknown>, text: string): unknown {
  try {
    return converter.toValue(text);
  } catch (error) {
    if (isNoValue(error)) return undefined;
    throw error;
  }
}

/**
 * Whether `error` says a text is no value: the errors JavaScript's own readers throw for one
 * (`SyntaxError` from `BigInt('zz')` or `JSON.parse`, `RangeError` from an invalid date's
 * `toISOString()`, `URIError` from `decodeURIComponent`, the `DOMException` named
 * `InvalidCharacterError` from `atob` for text that is no base64), the counterpart of the
 * `ValueError` Django takes for no match (Python's base64 error is one). Not a `TypeError` nor
 * any other error: a bug of the converter, or of what it called, must not pass for a 404
 * nobody sees (Werkzeug and Django answer it 500).
 */
function isNoValue(error: unknown): boolean {
  if (error instanceof SyntaxError || error instanceof RangeError || error instanceof URIError) return true;
  return error instanceof DOMException && error.name === 'InvalidCharacterError';
}

/**
 * The values of `pattern`'s placeholders in `host` (a request's host, lower case), or
 * `undefined` when it does not match or a converter refuses.
 */
function matchHost(pattern: HostPattern, host: string | null): unknown[] | undefined {
  if (host === null) return undefined;
  const match = pattern.regex.exec(host);
  if (!match) return undefined;
  const values: unknown[] = [];
  return convert(match, pattern.placeholders, values) ? values : undefined;
}

/** The trie of a rule set. */
export class Matcher {
  readonly #root = new Node();
  /** Rules without placeholders by their whole path: the common case in one lookup. */
  readonly #exact = new Map<string, RuleList>();
  /** True once a rule ends with `/`: only then can a path without one be redirected. */
  #slashRules = false;
  /** True once a rule has `mergeSlashes`: only then is a path with `//` tried merged. */
  #mergeRules = false;
  #hostRules = false;

  /** True once a rule has a `host`: only then does a lookup need the request's host. */
  get hostRules(): boolean {
    return this.#hostRules;
  }

  add(rule: CompiledRule): void {
    if (rule.pattern.endsWith('/')) this.#slashRules = true;
    if (rule.mergeSlashes) this.#mergeRules = true;
    if (rule.host !== null) this.#hostRules = true;
    if (rule.parts.every((part) => typeof part === 'string')) {
      // The pattern as compiled (its slashes merged with mergeSlashes): its one static part.
      const text = rule.parts.join('');
      let list = this.#exact.get(text);
      if (list === undefined) this.#exact.set(text, (list = new RuleList()));
      list.add(rule);
    }
    let node = this.#root;
    for (const segment of rule.segments) {
      if (segment.text !== null) {
        let next = node.static.get(segment.text);
        if (!next) node.static.set(segment.text, (next = new Node()));
        node = next;
        continue;
      }
      let edge = node.dynamicByKey.get(segment.key);
      if (!edge) {
        edge = { segment, node: new Node() };
        node.dynamicByKey.set(segment.key, edge);
        // After the edges of lower or equal weight: among equals, the one added first is tried first.
        insertInOrder(node.dynamic, edge, (a, b) => a.segment.weight < b.segment.weight);
      }
      node = edge.node;
    }
    if (rule.tail) {
      node.tails.refuseDuplicate(rule);
      node.tails.add(rule);
    } else {
      node.rules.refuseDuplicate(rule);
      node.rules.add(rule);
    }
  }

  /**
   * Finds the rule for `path` (a `PATH_INFO`) and `method` (`null`: any method): the first
   * rule by specificity (static segments before placeholders, lower converter weight first)
   * that matches both, a rule for the path with a trailing slash it lacks counting as found
   * where the path ends (`slash` for a strict one, so `/settings` goes to a strict
   * `/settings/` before `/<username>`, as in Werkzeug); else, when the path lacks a trailing
   * slash that a strict rule has, `slash`; else the methods of the rules that match the path.
   * A path with a trailing slash no rule has is looked up without it among the rules without
   * strict slashes (match or methods). When the path's rules lack the method, a rule of the other form (with or
   * without the slash) that answers it is taken (`slash` or a match), else their methods.
   * When none of that answers and the path has `//`, the path with its slashes merged is
   * looked up the same way: a rule there with `mergeSlashes` gives `merge` (Werkzeug's
   * `merge_slashes`; a `path` placeholder's value keeps its `//`, as it matched first).
   * A `.` or `..` segment is no value of a placeholder in one segment (`build` refuses it):
   * only static segments and slash-crossing tails (`path`) take it.
   * A rule with a `host` takes part only when it matches `host` (the request's, lower case,
   * without a trailing dot, with its port unless the scheme's default: `urls.host`;
   * `null`: never), and is tried before the rules
   * without one at the same path; its host's values come first in `values`, its defaults last.
   * A match of a rule that redirects (another rule's defaults equal to its values, answering
   * `method`; its `redirectTo`) gives `redirect` (or `none` when a template cannot hold the values). `OPTIONS`, which
   * every rule answers, is looked up as any method, then matched at that path (see `#options`).
   */
  lookup(path: string, method: string | null, host: string | null = null): Found {
    return method === 'OPTIONS' ? this.#options(path, host) : this.#find(path, method, host);
  }

  /**
   * `OPTIONS`, which every rule answers (automatically unless it lists it, as Flask's rules
   * carry it): a redirect any method would get (`slash`, `merge`) or `none` comes first
   * (`/settings` for `/settings/` and `/<username>` is redirected, as `GET` is). A path its
   * rules answer is looked up for `OPTIONS` as for any method, so the first rule matching it
   * that lists `OPTIONS` answers, a catch-all `/<path:rest>` included (a hand-written preflight
   * handler); else `method` with the methods the path's rules answer (those of a 405), also
   * when only the path's other form (with or without its slash) lists `OPTIONS`. A rule's own
   * redirect (`redirectTo`, another rule's `defaults`) is answered only where every method the
   * path answers gets it; where another rule answers a method itself (a `POST` handler next to a
   * `GET` alias), its methods, whatever the order the rules are written in.
   */
  #options(path: string, host: string | null): Found {
    const chosen = this.#find(path, null, host);
    if (chosen.kind === 'redirect' && this.#redirectsEveryMethod(path, host)) return chosen;
    if (chosen.kind !== 'match' && chosen.kind !== 'redirect') return chosen;
    const own = this.#find(path, 'OPTIONS', host);
    if (own.kind === 'match' || own.kind === 'method' || own.kind === 'redirect') return own;
    const allowed = this.#find(path, '', host);
    return allowed.kind === 'method' || chosen.kind !== 'match' ? allowed : { kind: 'method', allowed: chosen.rule.methods };
  }

  /** True when each method the rules for `path` answer is redirected by its rule (see `#options`). */
  #redirectsEveryMethod(path: string, host: string | null): boolean {
    const allowed = this.#find(path, '', host);
    if (allowed.kind !== 'method') return true;
    for (const method of allowed.allowed) if (this.#find(path, method, host).kind !== 'redirect') return false;
    return true;
  }

  #find(path: string, method: string | null, host: string | null): Found {
    const found = this.#lookup(path, method, host);
    if (found.kind === 'match') return found.rule.redirects ? redirected(found, method) : found;
    if (found.kind === 'slash' || !this.#mergeRules || path.indexOf('//') === -1) return found;
    return this.#merged(path, method, host, found);
  }

  /**
   * `merge` when `path` with its slashes merged is a `mergeSlashes` rule's, else `found` (what
   * `path` itself gave). As for a trailing slash, any method leads there when `path` had no
   * rules (the 405 is answered after the redirect); after a `method`, only a rule there
   * that answers it.
   */
  #merged(path: string, method: string | null, host: string | null, found: Found): Found {
    const merged = mergeSlashes(path);
    const wanted = found.kind === 'none' ? null : method;
    const there = this.#lookup(merged, wanted, host);
    if (there.kind === 'match') return there.rule.mergeSlashes ? { kind: 'merge', path: merged } : found;
    if (there.kind !== 'slash') return found;
    // The rule that asks for the trailing slash decides.
    const slashed = this.#lookup(`${merged}/`, wanted, host);
    return slashed.kind === 'match' && slashed.rule.mergeSlashes ? { kind: 'merge', path: `${merged}/` } : found;
  }

  #lookup(path: string, method: string | null, host: string | null): Found {
    const exact = this.#exact.get(path);
    if (exact !== undefined && method !== null) {
      const found = exactMatch(exact.inOrder(host), method, host);
      if (found !== undefined) return found;
    }
    if (path.charCodeAt(0) !== 47 /* / */ && path !== '') return NONE;
    // The segments after the leading '/' ('' for a trailing one); what split('/') gives, cheaper.
    const segments: string[] = [];
    if (path !== '') {
      let start = 1;
      for (let end = path.indexOf('/', 1); end !== -1; end = path.indexOf('/', start)) {
        segments.push(path.slice(start, end));
        start = end + 1;
      }
      segments.push(path.slice(start));
    }
    const found = this.#search(host, path, segments, method);
    if (found.kind === 'match' || found.kind === 'slash') return found;
    // Past here the path's own rules lack the method (`method`) or there are none (`none`): the
    // other form of the path (with or without its trailing slash) is tried. After a `method`,
    // only a rule there that answers the method takes over, as in Werkzeug (POST /items and
    // GET /items/: a GET of /items is redirected, not refused); else the 405 stands.
    const last = segments.length - 1;
    if (last >= 0 && segments[last] === '') {
      // /items/ for a rule /items without strict slashes: answered as /items (a 405 included).
      const loose = this.#search(host, path.slice(0, -1), segments.slice(0, last), method, true);
      if (found.kind === 'none' || loose.kind === 'match') return loose;
      // Both forms' rules lack the method: the 405 lists what either answers (as Werkzeug's `have_match_for`).
      return found.kind === 'method' && loose.kind === 'method' ? { kind: 'method', allowed: new Set([...found.allowed, ...loose.allowed]) } : found;
    }
    if (!this.#slashRules) return found;
    // /items for a rule /items/: a redirect with strict slashes, else answered as /items/.
    segments.push('');
    const slashed = this.#search(host, `${path}/`, segments, found.kind === 'none' ? null : method);
    if (slashed.kind === 'method' && found.kind === 'method') {
      // Both forms' rules lack the method: the 405 lists too what a rule with the slash and
      // without strict slashes answers here (a strict one redirects instead, as in Werkzeug).
      const loose = this.#search(host, `${path}/`, segments, method, true);
      return loose.kind === 'method' ? { kind: 'method', allowed: new Set([...found.allowed, ...loose.allowed]) } : found;
    }
    if (slashed.kind !== 'match') return found;
    if (slashed.rule.strictSlashes) return SLASH;
    return found.kind === 'none' ? this.#search(host, `${path}/`, segments, method) : slashed;
  }

  #search(host: string | null, path: string, segments: string[], method: string | null, looseOnly = false): Found {
    const search: Search = { path, host, segments, method, converted: [], looseOnly, allowed: null };
    const found = walk(this.#root, 0, search);
    if (found) return found;
    return search.allowed ? { kind: 'method', allowed: search.allowed } : NONE;
  }
}

/** The first of `rules` (of a static path) answering `method` on `host`, else `undefined`. */
function exactMatch(rules: readonly CompiledRule[], method: string, host: string | null): Found | undefined {
  for (const rule of rules) {
    if (!rule.methods.has(method)) continue;
    if (rule.host === null) return { kind: 'match', rule, values: rule.defaults === null ? {} : valuesOf(rule, []) };
    const values = matchHost(rule.host, host);
    if (values !== undefined) return { kind: 'match', rule, values: valuesOf(rule, values) };
  }
  return undefined;
}

/**
 * A match of a rule that may redirect (`defaults` of another rule of its endpoint, `redirectTo`):
 * the redirect, `none` when its `redirectTo` template cannot be written with the values, else
 * the match.
 */
function redirected(found: Found & { kind: 'match' }, method: string | null): Found {
  const to = redirectOf(found.rule, found.values, method);
  if (to === undefined) return found;
  return to === null ? NONE : { kind: 'redirect', to };
}

/** Depth-first search from `node` at segment `i`; `undefined` when nothing matched here. */
function walk(node: Node, i: number, search: Search): Found | undefined {
  const { segments, converted } = search;
  if (i === segments.length) {
    const found = pick(node.rules, search, converted);
    if (found) return found;
    // The path ends here; a rule for it with a trailing slash that answers the method decides
    // now, before placeholders elsewhere are tried (Werkzeug: /settings is redirected to a
    // strict /settings/, not taken by /<username>).
    const slashed = node.static.get('');
    if (slashed && !search.looseOnly) {
      const withSlash = withTrailingSlash(pick(slashed.rules, search, converted, false));
      if (withSlash) return withSlash;
    }
  } else {
    const text = segments[i]!;
    const child = node.static.get(text);
    if (child) {
      const found = walk(child, i + 1, search);
      if (found) return found;
    }
    // A `.` or `..` segment is no placeholder's value: `build` refuses it (a client resolves it
    // away), so a handler building its own URL from it would fail. Static rules and `path`
    // values still take it (not a tail's placeholder in one segment, below).
    const dynamic = isDotSegment(text) ? NO_EDGES : node.dynamic;
    for (const { segment, node: next } of dynamic) {
      const depth = converted.length;
      if (segment.anything) {
        if (text === '') continue;
        converted.push(text);
      } else {
        const match = segment.regex!.exec(text);
        if (!match || !convert(match, segment.placeholders, converted)) {
          converted.length = depth;
          continue;
        }
      }
      const found = walk(next, i + 1, search);
      if (found) return found;
      converted.length = depth;
    }
  }
  if (!node.tails.empty && i < segments.length) {
    let offset = 1;
    for (let j = 0; j < i; j++) offset += segments[j]!.length + 1;
    const rest = search.path.slice(offset);
    for (const rule of node.tails.inOrder(search.host)) {
      const tail = rule.tail!;
      let match = tail.regex.exec(rest);
      // A tail that needs a trailing slash the path lacks (/docs/<path:page>/ for /docs/a/b), as above.
      const slash = !match && !search.looseOnly && rule.pattern.endsWith('/') && !rest.endsWith('/');
      if (slash) match = tail.regex.exec(`${rest}/`);
      if (!match || tail.wholeSegment.some((whole, k) => whole && isDotSegment(match[k + 1]!))) continue;
      // A placeholder matched as one segment's text (see `tailOf`) must be its converter's.
      if (tail.inSegment.some((regex, k) => regex !== null && !regex.test(match[k + 1]!))) continue;
      const depth = converted.length;
      if (convert(match, tail.placeholders, converted)) {
        const found = pickFrom([rule], search, converted, !slash);
        const answer = slash ? withTrailingSlash(found) : found;
        if (answer) return answer;
      }
      converted.length = depth;
    }
  }
  return undefined;
}

/**
 * What a rule found for the path with a trailing slash it lacks answers: the redirect for a
 * strict rule, else the match; nothing when no rule answered the method (a `method` noted by
 * `pick` is not an answer: the other rules are tried, and the 405 or the redirect whatever the
 * method is decided after the search).
 */
function withTrailingSlash(found: Found | undefined): Found | undefined {
  if (found?.kind !== 'match') return undefined;
  return found.rule.strictSlashes ? SLASH : found;
}

/**
 * The first of `rules` that answers the method, noting the methods of those that do not
 * (unless `note` is false: rules for the path with a slash it lacks are not its rules).
 */
function pick(rules: RuleList, search: Search, converted: unknown[], note = true): Found | undefined {
  return pickFrom(rules.inOrder(search.host), search, converted, note);
}

/** {@link pick} over `rules` in their order. */
function pickFrom(rules: readonly CompiledRule[], search: Search, converted: unknown[], note: boolean): Found | undefined {
  for (const rule of rules) {
    if (search.looseOnly && rule.strictSlashes) continue;
    let values = converted;
    if (rule.host !== null) {
      const hostValues = matchHost(rule.host, search.host);
      if (hostValues === undefined) continue;
      values = [...hostValues, ...converted];
    }
    if (search.method === null || rule.methods.has(search.method)) return { kind: 'match', rule, values: valuesOf(rule, values) };
    if (!note) continue;
    search.allowed ??= new Set();
    for (const m of rule.methods) search.allowed.add(m);
  }
  return undefined;
}

/** The order of tails: lower converter weight first, then more static text first. */
function tailWeight(rule: CompiledRule): number {
  const staticLength = rule.parts.reduce((n, p) => n + (typeof p === 'string' ? p.length : 0), 0);
  return Math.max(...rule.tail!.placeholders.map((p) => p.converter.weight ?? 100)) - Math.min(staticLength, 999) / 1000;
}
