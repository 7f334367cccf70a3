/**
 * Compiling a route pattern (`/items/<int:id>/edit`) into the segments the matcher walks and
 * the parts URL building joins (Werkzeug's `Rule`).
 *
 * @module
 */
import { type Converter, BUILTIN_CONVERTERS, anyConverter, isAnyConverter, matchesNoSlash, stringConverter, wholeMatch } from './converters.ts';
import { anyWords, convertedWithArgs } from './converter-args.ts';
import { shownText } from '../gateway/shown.ts';
import { uFlagEscapeReason } from './unicode-escape.ts';
import { asciiHostName, ipv6Form, isValidHost } from '../http/host.ts';
import { foreignSyntaxAround } from '../http/router-syntax.ts';
import { queryOrFragmentIn } from '../http/query-in-path.ts';
import { escapesIn } from '../http/escapes-in-path.ts';
import { GuardedRegExp } from './guarded-regex.ts';

/** A `<converter:name>` placeholder of a pattern. */
export interface Placeholder {
  readonly name: string;
  readonly converter: Converter<unknown>;
  /**
   * Names the converter by identity (and, for `any(…)`, by its words): placeholders with the
   * same key convert the same texts the same way, whatever their regexes.
   */
  readonly key: string;
}

/** A piece of a pattern: static text (decoded) or a placeholder. */
export type Part = string | Placeholder;

/** One `/`-separated segment of a pattern, before any placeholder that crosses slashes. */
export interface Segment {
  /** The whole segment when it has no placeholder. */
  readonly text: string | null;
  /** Matches a dynamic segment, one capture group per placeholder. */
  readonly regex: RegExp | null;
  /** True for a segment that is one built-in `string` placeholder: any non-empty segment is its value. */
  readonly anything: boolean;
  readonly placeholders: readonly Placeholder[];
  /** Identifies segments that match and convert the same texts the same way (they share a trie node). */
  readonly key: string;
  /** Lower is tried first: the weight of its converters, less for more static text. */
  readonly weight: number;
}

/** The host pattern of a rule (`<user>.example.com`). */
export interface HostPattern {
  /** The pattern as written. */
  readonly text: string;
  readonly parts: readonly Part[];
  /** Matches a whole host, one capture group per placeholder. */
  readonly regex: RegExp;
  readonly placeholders: readonly Placeholder[];
  /** Identifies host patterns that match and convert the same hosts the same way (see {@link partsKey}). */
  readonly key: string;
  /** The host itself when the pattern has no placeholder (as compared: lower case, its port kept); else `null`. */
  readonly literal: string | null;
  /**
   * Lower is tried first among rules with a host at the same path: 0 without placeholders
   * (`api.example.com` before `<user>.example.com`), else as a segment's weight.
   */
  readonly weight: number;
}

/** A compiled rule. */
export interface CompiledRule {
  readonly endpoint: string;
  readonly pattern: string;
  /** Methods it answers (HEAD added with GET), upper case. */
  readonly methods: ReadonlySet<string>;
  readonly strictSlashes: boolean;
  /**
   * True when a path whose repeated slashes merged match this rule is redirected there
   * (Werkzeug's `merge_slashes`); the pattern's own repeated slashes are then merged too.
   */
  readonly mergeSlashes: boolean;
  /**
   * The host the rule answers on (its `host` pattern, static text in lower case, IPv6
   * literals in their RFC 5952 form), matched
   * whole against the request's host; `null` for a rule that answers on any host.
   */
  readonly host: HostPattern | null;
  /** Every part of the pattern in order, for building (repeated slashes merged with `mergeSlashes`). */
  readonly parts: readonly Part[];
  /** The segments matched one by one. */
  readonly segments: readonly Segment[];
  /** The rest of the path from the first slash-crossing placeholder on, matched whole. */
  readonly tail: {
    readonly regex: RegExp;
    /** Identifies tails that match and convert the same texts the same way (see {@link partsKey}). */
    readonly key: string;
    readonly placeholders: readonly Placeholder[];
    /**
     * For each placeholder, true when it is a whole segment and does not cross slashes
     * (`<name>` in `/<path:dir>/<name>`): its text is then the segment, which may not be `.`
     * or `..` (see the matcher's `walk`).
     */
    readonly wholeSegment: readonly boolean[];
    /**
     * For each placeholder, its converter's anchored regex when the tail's regex matches it as
     * text of one segment instead (see `tailOf`): the matched text must then pass it; else `null`.
     */
    readonly inSegment: readonly (RegExp | null)[];
  } | null;
  /** Every placeholder, in order: the host's first, then the path's. */
  readonly placeholders: readonly Placeholder[];
  /**
   * True when a placeholder or default is named `__proto__`: its value is defined as an own
   * property of the values, where an assignment would set their prototype (and be lost).
   */
  readonly protoName: boolean;
  /**
   * True when placeholders share a segment or the tail (`/files/<name>.<ext>`): their texts
   * could be read back split otherwise, which `build` checks.
   */
  readonly sharesSegments: boolean;
  /** The rule's `defaults` (a copy), added to its matched values; `null` without. */
  readonly defaults: Readonly<Record<string, unknown>> | null;
  /** The names the rule takes: its placeholders' and its defaults' (Werkzeug's `Rule.arguments`). */
  readonly arguments: ReadonlySet<string>;
  /** Where a match redirects to instead of reaching a handler (`redirectTo`); `null` without. */
  readonly redirectTo: RedirectTo | null;
  /**
   * The rules of the same endpoint, in build order before this one, whose defaults can stand
   * for this rule's values (same names; Werkzeug's `provides_defaults_for`): a match whose
   * values equal one's defaults is redirected to its URL.
   */
  readonly defaultsFrom: readonly CompiledRule[];
  /** True when a match of the rule may redirect (`redirectTo`, or `defaultsFrom` not empty): the only check a match pays. */
  readonly redirects: boolean;
}

/**
 * A compiled `redirectTo`: a path template (its static text and the rule's placeholders, in
 * order), or the function given.
 */
export type RedirectTo =
  | { readonly template: string; readonly parts: readonly Part[] }
  | ((values: Readonly<Record<string, unknown>>) => string);

/**
 * Arguments: no `(`, and no `)` but inside a quoted argument (`any('a)b', c)`): a quote that
 * closes before the next `(` or `>` and is then followed by `,` or `)` opens one, any other
 * quote is text (`it's`); so a quoted run never reaches past the placeholder's `>`, and a
 * pattern read before is read the same. Each character can be read one way only, and a scan
 * for the `)` stops at the next `(`, so a pattern of many unclosed `<a(` is read in linear
 * time, not rescanned to its end from each one.
 */
const ARGUMENTS = String.raw`(?:[^()'"]|'(?=[^'(>]*'\s*[,)])[^'(>]*'|'(?![^'(>]*'\s*[,)])|"(?=[^"(>]*"\s*[,)])[^"(>]*"|"(?![^"(>]*"\s*[,)]))*`;

/** `<converter(arguments):name>`, `<converter:name>`, `<name>` (see {@link ARGUMENTS}). */
const PLACEHOLDER = new RegExp(String.raw`<(?:([A-Za-z_]\w*)(?:\((${ARGUMENTS})\))?:)?([A-Za-z_]\w*)>`, 'g');
const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const converterIds = new WeakMap<Converter<unknown>, number>();
let lastConverterId = 0;

/** A key for `converter` itself: the same object always gets the same key, another object another. */
function identityKey(converter: Converter<unknown>): string {
  let id = converterIds.get(converter);
  if (id === undefined) converterIds.set(converter, (id = ++lastConverterId));
  return `#${id}`;
}

/**
 * The converter a placeholder names, built-in or the map's own, with its key (see {@link Placeholder.key}).
 *
 * @param inHost true in a host pattern, matched against the request's host in lower case: an
 *   `any` word in upper case, which could never match, is a `TypeError`.
 */
function converterFor(name: string, args: string | undefined, converters: Readonly<Record<string, Converter<unknown>>>, pattern: string, inHost: boolean, placeholder: string): Pick<Placeholder, 'converter' | 'key'> {
  if (name === 'any' && args !== undefined && !Object.hasOwn(converters, 'any')) {
    const words = anyWords(args);
    if (inHost) refuseHostWords(words, pattern, placeholder);
    return { converter: anyConverter(words), key: `any${JSON.stringify(words)}` };
  }
  const converter = Object.hasOwn(converters, name) ? converters[name] : undefined;
  if (!converter) throw new TypeError(`${pattern}: unknown converter ${JSON.stringify(name)} (known: any, ${Object.keys(converters).join(', ')})`);
  if (args !== undefined) {
    let made: ReturnType<typeof convertedWithArgs>;
    try {
      made = convertedWithArgs(name, args, converter !== BUILTIN_CONVERTERS[name]);
    } catch (error) {
      throw new TypeError(`${pattern}: ${(error as Error).message}`, { cause: error });
    }
    // Arguments that are the defaults (`int()`) leave the converter itself, sharing its trie nodes and fast path.
    if (made) return made;
  }
  // Before compiling: without the u flag `[\u{E0}-\u{FF}]` is no valid class, a vaguer refusal.
  const unflagged = uFlagEscapeReason(converter.regex);
  if (unflagged !== undefined) throw new TypeError(`${pattern}: the converter ${name}'s regex ${unflagged}`);
  let groups: number;
  try {
    groups = new RegExp(`${converter.regex}|`).exec('')!.length - 1;
  } catch (error) {
    throw new TypeError(`${pattern}: the converter ${name} has an invalid regex: ${(error as Error).message}`);
  }
  if (groups > 0) throw new TypeError(`${pattern}: the converter ${name}'s regex has capture groups: use (?:…)`);
  return { converter, key: identityKey(converter) };
}

/**
 * A character no host holds as a `Host` field carries it (RFC 3986 §3.2.2: a reg-name in lower
 * case, an IPv6 literal's brackets, the `:` before a port): servers answer 400 to a `Host`
 * with one (see `isValidHost`), and a field's leading or trailing space is no part of it.
 */
const NOT_IN_HOST = /[^a-z0-9\-._~!$&'()*+,;=:[\]]/;

/**
 * Throws for an `any()` word of a host pattern that no request's host holds, as the host is
 * matched in lower case and in its ASCII form: a word in upper case or in Unicode (naming the
 * words to write: `<any(eu,xn--caf-dma):w>`), or one holding what no host does (a space).
 */
function refuseHostWords(words: readonly string[], pattern: string, placeholder: string): void {
  for (const word of words) {
    const form = asciiHostName(word);
    if (form === word && !NOT_IN_HOST.test(word)) continue;
    if (form === null || NOT_IN_HOST.test(form)) throw new TypeError(`${pattern}: any() never matches ${shownText(word)}, which no host holds (RFC 3986 §3.2.2)`);
    // eslint-disable-next-line no-control-regex
    const how = /[^\x00-\x7f]/.test(word) ? 'in its ASCII form' : 'in lower case';
    throw new TypeError(`${pattern}: a host is matched ${how}, so any() never matches ${shownText(word)}: write <any(${words.map((w) => asciiHostName(w) ?? w).join(',')}):${placeholder}>`);
  }
}

/** The number of rules named for an optional part, in words. */
const COUNTS: Readonly<Record<number, string>> = { 2: 'two', 3: 'three', 4: 'four' };

/**
 * Throws for a rule written in Express or Hono syntax (`'/posts/:id'`, `'/files/*'`,
 * `'/flights/:from-:to'`, `'/posts{/:id}'`): its text would be matched literally, so every
 * request it was meant for would be a silent 404. The message names the rule and the pattern to
 * write, or for an optional part the rules (two, or one per combination of several parts).
 */
function refuseForeignSyntax(endpoint: string, pattern: string): void {
  // Placeholders are left out: a converter's arguments may hold any text.
  const foreign = foreignSyntaxAround(pattern, PLACEHOLDER);
  if (foreign === null) return;
  const written = foreign.patterns.map((fixed) => JSON.stringify(fixed));
  if (foreign.optional) {
    throw new TypeError(
      `${endpoint} (${pattern}): ${JSON.stringify(foreign.text)} is an optional part in Express/Hono syntax, matched here as literal text (a silent 404): write ${COUNTS[written.length] ?? written.length} rules for the endpoint, ${endpoint}: [${written.join(', ')}] (a value the shorter rule lacks is undefined, or give it by that rule's defaults)`,
    );
  }
  throw new TypeError(
    `${endpoint} (${pattern}): ':name' and '*' are Express/Hono syntax, matched here as literal text (a silent 404): write ${written[0]} (<int:id> for a number, <path:rest> for the rest of the path, slashes included)`,
  );
}

/**
 * Throws for a pattern whose static text holds a `?` or `#` (`'/search?q=<q>'`, `'/page#top'`):
 * a rule is matched against `PATH_INFO`, the path without the query and fragment (a browser
 * sends no fragment), so it could match only a path holding an encoded `%3F` or `%23`, never
 * the request meant; Werkzeug takes such a rule without a word. A `?` or `#` inside a
 * placeholder's arguments (`<any('why?', 'c#'):w>`) is a word of it and stays. The message
 * names the path to write, and where the query (`req.query`) or the fragment (`anchor`) goes.
 */
function refuseQueryOrFragment(endpoint: string, pattern: string): void {
  // Placeholders blanked out, each keeping its length, so that `at` is a position in `pattern`.
  const found = queryOrFragmentIn(pattern.replace(PLACEHOLDER, (placeholder) => ' '.repeat(placeholder.length)));
  if (found === null) return;
  const { at, reason } = found;
  const path = JSON.stringify(pattern.slice(0, at));
  const rest = pattern.slice(at + 1);
  const why = `${endpoint} (${pattern}): a pattern is matched against the path alone, ${reason}`;
  if (found.char === '?') {
    const names = [...rest.matchAll(PLACEHOLDER)].map((match) => match[3]!);
    const example = names.length === 0 ? '' : ` (urls.build('${endpoint}', { ${names.join(', ')} }) gives ${pattern.slice(0, at)}?${names[0]}=…)`;
    throw new TypeError(
      `${why}: write ${path}, read the query in the handler with req.query (Werkzeug's request.args), and build it with values the pattern does not use${example}`,
    );
  }
  const anchor = rest.search(PLACEHOLDER) === -1 ? `anchor: ${shownText(rest)}` : 'anchor';
  throw new TypeError(
    `${why}: write ${path}, and build the fragment with urls.build('${endpoint}', values, { ${anchor} })`,
  );
}

/**
 * Throws for a pattern (or a `redirectTo` template) whose static text holds a percent-encoded
 * escape (`'/caf%C3%A9'`, `'/docs/my%20page'`, copied from an address bar): rules match the
 * decoded path (`PATH_INFO`: `/café`), so it would match only a client that encoded the `%`
 * itself (`/caf%25C3%25A9`), a silent 404, and `build` would write that; Werkzeug takes it
 * without a word. The message names the text to write, its escapes decoded. A `%` that starts
 * no escape (`'/100%'`) or a run that is no UTF-8 (`'/10%each'`: see `escapesIn`) is text, and
 * a placeholder's arguments (matched by `placeholders`) are left as they are.
 *
 * @param where - what names the pattern, leading the message (`endpoint (pattern)`).
 */
export function refuseEscapes(where: string, pattern: string, placeholders: RegExp = PLACEHOLDER): void {
  const found = escapesIn(pattern, placeholders);
  if (found === null) return;
  throw new TypeError(`${where}: ${JSON.stringify(found.escape)} is a percent-encoded escape, matched here as literal text (a silent 404: rules match the decoded path): write ${JSON.stringify(found.written)}`);
}

/** Splits a pattern into parts (static text and placeholders); `inHost` for a host pattern (see `converterFor`). */
function parseParts(pattern: string, converters: Readonly<Record<string, Converter<unknown>>>, inHost = false): Part[] {
  const parts: Part[] = [];
  const names = new Set<string>();
  let at = 0;
  for (const match of pattern.matchAll(PLACEHOLDER)) {
    if (match.index > at) parts.push(pattern.slice(at, match.index));
    const name = match[3]!;
    if (names.has(name)) throw new TypeError(`${pattern}: the placeholder ${name} appears twice`);
    names.add(name);
    parts.push({ name, ...converterFor(match[1] ?? 'default', match[2], converters, pattern, inHost, name) });
    at = match.index + match[0].length;
  }
  if (at < pattern.length) parts.push(pattern.slice(at));
  for (const part of parts) if (typeof part === 'string' && /[<>]/.test(part)) throw malformedPlaceholder(pattern, part);
  return parts;
}

/**
 * The TypeError for static text of a pattern (or a `redirectTo` template) that still holds a
 * `<` or `>`: a placeholder that did not parse (`<int id>`, an unclosed `<int:id`). It shows the
 * text from that bracket on, cut after 100 characters, and the form to write.
 * @param where the pattern, or what names the template, leading the message.
 */
export function malformedPlaceholder(where: string, part: string): TypeError {
  const from = part.search(/[<>]/);
  return new TypeError(`${where}: malformed placeholder near ${shownText(part.slice(from))}: write <name> or <converter:name>, as <int:id>`);
}

/** The regex source of parts, one capture group per placeholder. */
const source = (parts: readonly Part[]) => parts.map((p) => (typeof p === 'string' ? escapeRegex(p) : `(${p.converter.regex})`)).join('');

/**
 * The regex matching `parts` whole. The `s` flag, as `build` checks values with: a decoded
 * `PATH_INFO` may hold any character (`%0A` is a line feed), and `.` in a converter's regex
 * (the `path` converter's `[^/].*?`) must match it too.
 */
const wholeRegex = (parts: readonly Part[]) =>
  // Two placeholders or more backtrack on a text they do not match: a check runs first (see GuardedRegExp).
  parts.filter((p) => typeof p !== 'string').length > 1 ? new GuardedRegExp(`^${source(parts)}$`, 's', parts) : new RegExp(`^${source(parts)}$`, 's');

/**
 * The order of parts that could match the same text, lower first: 0 for static text only, else
 * the highest weight of their converters, less for more static text (up to 99 characters).
 */
function weightOf(parts: readonly Part[], placeholders: readonly Placeholder[]): number {
  if (placeholders.length === 0) return 0;
  const staticLength = parts.reduce((n, p) => n + (typeof p === 'string' ? p.length : 0), 0);
  return Math.max(...placeholders.map((p) => p.converter.weight ?? 100)) - Math.min(staticLength, 99) / 100;
}

/**
 * A key for `parts` (of a segment, a tail or a host): the same for parts that match and convert
 * the same texts the same way, whatever their placeholders' names (`<id>` and `<name>`).
 */
const partsKey = (parts: readonly Part[]): string => JSON.stringify(parts.map((p) => (typeof p === 'string' ? p : [p.key])));

function segmentOf(parts: Part[]): Segment {
  const placeholders = parts.filter((p): p is Placeholder => typeof p !== 'string');
  if (placeholders.length === 0) {
    const text = parts.join('');
    return { text, regex: null, anything: false, placeholders, key: `=${text}`, weight: 0 };
  }
  const weight = weightOf(parts, placeholders);
  const key = partsKey(parts);
  // The fast path (no regex, no toValue) is for the built-in string converter only: its value is the text.
  const anything = parts.length === 1 && placeholders[0]!.converter === stringConverter;
  return { text: null, regex: wholeRegex(parts), anything, placeholders, key, weight };
}

/** What a tail's regex matches for a converter of one segment whose regex matches the empty text (see `tailOf`). */
const SEGMENT_OR_EMPTY: Converter<string> = { regex: '[^/]*', toValue: (text) => text, toUrl: (value) => value };

/**
 * True when `converter` stays in one segment but its regex may match a `/` (a custom one's
 * `.+` or `[^.]+`): in a tail, where the text is matched whole, its regex would take a `/`.
 * The built-ins' (but `path`) and `any`'s never do.
 */
const mayTakeSlash = (converter: Converter<unknown>): boolean => !converter.crossesSlashes && !matchesNoSlash(converter.regex) && !isAnyConverter(converter);

/**
 * The tail of a rule: `segments` from the first slash-crossing placeholder on, and their
 * `parts` joined by `/`. A placeholder that does not cross slashes but whose regex may match
 * one is matched by the tail's regex as text of one segment (`[^/]+`, `[^/]*` when its regex
 * matches the empty text), which its converter's regex must then match whole (`inSegment`):
 * `.+` after `<path:dir>` takes `c.txt` of `a/b/c.txt`, not `b/c.txt`, a value `build`
 * refuses, as `Converter.regex` says.
 */
function tailOf(segments: readonly Part[][], parts: readonly Part[]): NonNullable<CompiledRule['tail']> {
  const placeholders = parts.filter((p): p is Placeholder => typeof p !== 'string');
  const alone = new Set(segments.flatMap(([only, ...more]) => (more.length === 0 && typeof only === 'object' && !only.converter.crossesSlashes ? [only] : [])));
  const matched = parts.map((p) => {
    if (typeof p === 'string' || !mayTakeSlash(p.converter)) return p;
    return { ...p, converter: wholeMatch(p.converter).test('') ? SEGMENT_OR_EMPTY : stringConverter };
  });
  return {
    regex: wholeRegex(matched),
    key: partsKey(parts),
    placeholders,
    wholeSegment: placeholders.map((p) => alone.has(p)),
    inSegment: placeholders.map((p) => (mayTakeSlash(p.converter) ? wholeMatch(p.converter) : null)),
  };
}

/** Options of one rule (see `RouteSpec`). */
export interface RuleOptions {
  methods?: readonly string[] | undefined;
  strictSlashes?: boolean | undefined;
  mergeSlashes?: boolean | undefined;
  host?: string | undefined;
  defaults?: Readonly<Record<string, unknown>> | undefined;
}

/** The defaults of a map's rules (see `RouteMapOptions`). */
export interface RuleDefaults {
  readonly strictSlashes: boolean;
  readonly mergeSlashes: boolean;
}

/** `path` with each run of slashes made one (`/a//b///c` → `/a/b/c`), as Werkzeug's `re.sub("/{2,}", "/", path)`. */
export const mergeSlashes = (path: string): string => path.replace(/\/{2,}/g, '/');

/**
 * Static text of a host pattern as a `Host` field carries it: lower case, each label written in
 * Unicode (`bücher`) in its ASCII form (`xn--bcher-kva`, see `asciiHostName`), a `:port` kept.
 * `placeholderBefore` / `placeholderAfter`: a placeholder touches the first / last label,
 * whose ASCII form cannot be known without its value.
 *
 * @throws TypeError for a label in Unicode next to a placeholder, or one no URL can carry.
 */
function asciiHostText(text: string, placeholderBefore: boolean, placeholderAfter: boolean, host: string, endpoint: string): string {
  const labels = text.toLowerCase().split('.');
  return labels
    .map((label, i) => {
      const colon = label.indexOf(':');
      const name = colon === -1 ? label : label.slice(0, colon);
      const ascii = asciiHostName(name);
      if (ascii === name) return label;
      if ((i === 0 && placeholderBefore) || (i === labels.length - 1 && colon === -1 && placeholderAfter)) {
        throw new TypeError(`${host}: a label in Unicode cannot hold a placeholder: write the label's ASCII form (xn--…) (${endpoint})`);
      }
      if (ascii === null) throw new TypeError(`route host must be a host name: ${JSON.stringify(host)} (${endpoint})`);
      return colon === -1 ? ascii : ascii + label.slice(colon);
    })
    .join('.');
}

/**
 * Static text of a host pattern with each IPv6 literal in the one form of its address
 * (`[0:0::2]` → `[::2]`, RFC 5952; see `ipv6Form`), the form the request's host is compared in.
 *
 * @throws TypeError for a bracketed text that is no IPv6 address (`[::1::2]`), which no
 *   `Host` could match (the adapters answer 400 to it).
 */
function ipv6HostText(text: string, host: string, endpoint: string): string {
  return text.replace(/\[[^\]]*\]/g, (literal) => {
    if (!isValidHost(literal)) throw new TypeError(`route host ${JSON.stringify(host)} (${endpoint}): ${literal} is no IPv6 address, which no Host could name`);
    return ipv6Form(literal);
  });
}

/**
 * The host pattern `host` (`<user>.example.com`, `api.example.com:8080`, `[::1]:8000`), its
 * static text in lower case and without a trailing dot, as hosts are compared (RFC 3986
 * §3.2.2; see `comparableHostName`), a name in Unicode in its ASCII form (`bücher.example`
 * matches and builds `xn--bcher-kva.example`, the form browsers send), an IPv6 literal in its
 * RFC 5952 form (`[0:0::2]` matches and builds `[::2]`).
 *
 * @throws TypeError for a host that is no string, empty or with `/` or a `*` (`*.example.com`:
 *   write `<sub>.example.com`), a label in Unicode that holds a placeholder (`café-<n>.example`),
 *   an `any` word in upper case or in Unicode (`<any(EU,US):r>`, `<any(café):s>`, which no host
 *   in lower case and ASCII matches) or holding what no host does, a bracketed text that is no
 *   IPv6 address (`[::1::2]`), static text holding a character no host does (a space, `%`, `@`)
 *   or, without placeholders, a host no `Host` can be (`localhost:80000`): servers answer 400
 *   to such a `Host`, so the rule would match no request; and as for a path pattern.
 */
function compileHost(host: string, converters: Readonly<Record<string, Converter<unknown>>>, endpoint: string): HostPattern {
  if (typeof host !== 'string' || host === '' || host.includes('/')) throw new TypeError(`route host must be a host name, without '/': ${JSON.stringify(host)} (${endpoint})`);
  if (host.includes('*') && !/<[^>]*\*[^>]*>/.test(host)) {
    throw new TypeError(`route host ${JSON.stringify(host)} (${endpoint}): a wildcard matches no host: write a placeholder, as ${JSON.stringify(host.replace(/\*/g, '<sub>'))}`);
  }
  const parts = parseParts(host, converters, true).map((p, i, all) =>
    typeof p === 'string' ? ipv6HostText(asciiHostText(p, i > 0 && typeof all[i - 1] !== 'string', i < all.length - 1 && typeof all[i + 1] !== 'string', host, endpoint), host, endpoint) : p,
  );
  const last = parts.at(-1);
  // `example.com.` or `example.com.:8000`: the request's host is compared without the dot.
  if (typeof last === 'string') parts[parts.length - 1] = last.replace(/\.(?=(?::\d*)?$)/, '');
  const where = `route host ${JSON.stringify(host)} (${endpoint})`;
  for (const part of parts) {
    const char = typeof part === 'string' ? NOT_IN_HOST.exec(part)?.[0] : undefined;
    if (char !== undefined) throw new TypeError(`${where}: ${shownText(char)} is no character of a host (RFC 3986 §3.2.2), so no Host matches it`);
  }
  const placeholders = parts.filter((p): p is Placeholder => typeof p !== 'string');
  if (placeholders.length === 0 && !isValidHost(parts.join(''))) {
    throw new TypeError(`${where}: no Host can be ${shownText(parts.join(''))} (RFC 9112 §3.2: a uri-host and a port up to 65535), so no Host matches it`);
  }
  const literal = placeholders.length === 0 ? parts.join('') : null;
  return { text: host, parts, regex: wholeRegex(parts), key: partsKey(parts), literal, placeholders, weight: weightOf(parts, placeholders) };
}

/**
 * Compiles one rule.
 *
 * @throws TypeError for a pattern that does not start with `/`, names an unknown converter,
 *   gives a converter arguments it does not take (see `convertedWithArgs`), repeats a placeholder name (in its path or host) or has a stray `<` or `>`; for an
 *   invalid method; for an empty `host` or one with `/`; for `defaults` that are no object or
 *   name a placeholder; for Express/Hono syntax (`:id`, `:from-:to`, `*`, `{/:id}`), naming the pattern (or two) to write;
 *   for a `?` or `#` in the pattern's text (`/search?q=<q>`), which the path never holds; for a
 *   percent-encoded escape in it (`/caf%C3%A9`: see `refuseEscapes`).
 */
export function compileRule(endpoint: string, pattern: string, options: RuleOptions, converters: Readonly<Record<string, Converter<unknown>>>, defaults: RuleDefaults): CompiledRule {
  // Express 5's `'{/:lang}/about'` opens with its optional group: told the rules to write, not to add a '/'.
  if (pattern.startsWith('{/')) refuseForeignSyntax(endpoint, pattern);
  if (!pattern.startsWith('/')) throw new TypeError(`route pattern must start with '/': ${JSON.stringify(pattern)} (${endpoint})`);
  refuseForeignSyntax(endpoint, pattern);
  const merge = options.mergeSlashes ?? defaults.mergeSlashes;
  const parts = parseParts(merge ? mergeSlashes(pattern) : pattern, converters);
  refuseQueryOrFragment(endpoint, pattern);
  refuseEscapes(`${endpoint} (${pattern})`, pattern);
  // Split the parts into segments at each '/' of the static text.
  const segmentParts: Part[][] = [[]];
  for (const part of parts) {
    if (typeof part !== 'string') {
      segmentParts.at(-1)!.push(part);
      continue;
    }
    const pieces = part.split('/');
    pieces.forEach((piece, i) => {
      if (i > 0) segmentParts.push([]);
      if (piece) segmentParts.at(-1)!.push(piece);
    });
  }
  segmentParts.shift(); // before the leading '/'
  const crossing = segmentParts.findIndex((seg) => seg.some((p) => typeof p !== 'string' && p.converter.crossesSlashes));
  const matched = crossing === -1 ? segmentParts : segmentParts.slice(0, crossing);
  const tailParts = crossing === -1 ? [] : segmentParts.slice(crossing).flatMap((seg, i) => (i === 0 ? seg : ['/', ...seg]));
  const methods = new Set((options.methods ?? ['GET']).map((m) => m.toUpperCase()));
  for (const method of methods) if (!/^[!#$%&'*+\-.^_`|~0-9A-Z]+$/.test(method)) throw new TypeError(`invalid method ${JSON.stringify(method)} (${endpoint})`);
  if (methods.has('GET')) methods.add('HEAD');
  const host = options.host === undefined ? null : compileHost(options.host, converters, endpoint);
  const pathPlaceholders = parts.filter((p): p is Placeholder => typeof p !== 'string');
  for (const p of host?.placeholders ?? []) {
    if (pathPlaceholders.some((q) => q.name === p.name)) throw new TypeError(`${pattern}: the placeholder ${p.name} appears in the host ${options.host} too`);
  }
  const placeholders = host ? [...host.placeholders, ...pathPlaceholders] : pathPlaceholders;
  const values = defaultsOf(options.defaults, placeholders, pattern, endpoint);
  const names = placeholders.map((p) => p.name);
  if (values) names.push(...Object.keys(values));
  const segments = matched.map(segmentOf);
  const tail = crossing === -1 ? null : tailOf(segmentParts.slice(crossing), tailParts);
  return {
    endpoint,
    pattern,
    methods,
    strictSlashes: options.strictSlashes ?? defaults.strictSlashes,
    mergeSlashes: merge,
    host,
    parts,
    segments,
    tail,
    placeholders,
    protoName: names.includes('__proto__'),
    sharesSegments: segments.some((s) => s.placeholders.length > 1) || (tail?.placeholders.length ?? 0) > 1,
    defaults: values,
    arguments: new Set(names),
    redirectTo: null,
    defaultsFrom: [],
    redirects: false,
  };
}

/**
 * A copy of a rule's `defaults` (its own enumerable properties), `null` for none or `{}`.
 *
 * @throws TypeError when `defaults` is not a plain object, or names one of the rule's placeholders.
 */
function defaultsOf(defaults: unknown, placeholders: readonly Placeholder[], pattern: string, endpoint: string): Record<string, unknown> | null {
  if (defaults === undefined) return null;
  if (typeof defaults !== 'object' || defaults === null || Array.isArray(defaults)) throw new TypeError(`${pattern}: defaults must be an object of values (${endpoint})`);
  const copy: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(defaults)) {
    if (placeholders.some((p) => p.name === name)) throw new TypeError(`${pattern}: the default ${name} is a placeholder of the rule too (${endpoint})`);
    Object.defineProperty(copy, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return Object.keys(copy).length > 0 ? copy : null;
}
