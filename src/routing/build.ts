/**
 * Building a URL from a rule and values (Werkzeug's `Rule.build`): the pattern with each
 * placeholder's value written by its converter, extra values in the query.
 *
 * @module
 */
import { quotePath } from '../http/url.ts';
import { asciiLabels, isValidHost } from '../http/host.ts';
import type { CompiledRule, Placeholder } from './rule.ts';
import { wholeMatch } from './converters.ts';
import { shownText, shownValue } from '../gateway/shown.ts';

/**
 * What a path is built from: a rule, or a `redirectTo` template (its text as `pattern`, its
 * placeholders those of its `parts`).
 */
export type Buildable = Pick<CompiledRule, 'endpoint' | 'pattern' | 'parts'> & Partial<Pick<CompiledRule, 'placeholders'>>;

/** True when `values` has an own value for `name` other than `null` and `undefined`. */
export const hasValue = (values: Readonly<Record<string, unknown>>, name: string): boolean => Object.hasOwn(values, name) && values[name] !== undefined && values[name] !== null;

/**
 * The names of `rule`'s placeholders that `values` gives no value (see {@link hasValue}), in
 * order (a rule's host's first), each once: all of them, as Werkzeug's `BuildError` lists the
 * values to specify.
 */
function missingNames(rule: Buildable, values: Readonly<Record<string, unknown>>): string[] {
  const placeholders = rule.placeholders ?? rule.parts.filter((part): part is Placeholder => typeof part !== 'string');
  return [...new Set(placeholders.filter((p) => !hasValue(values, p.name)).map((p) => p.name))];
}

/** A `.` or `..` segment of a path. */
const DOT_SEGMENT = /\/\.\.?(?=\/|$)/;

/**
 * The text of `part`'s value in `values`, as its converter writes it (not yet encoded). Only
 * `values`' own properties count (see {@link buildPath}).
 *
 * @throws TypeError as {@link convertedText} and {@link checkedText}.
 */
function valueText(rule: Buildable, part: Placeholder, values: Readonly<Record<string, unknown>>): string {
  return checkedText(rule, part, convertedText(rule, part, values));
}

/**
 * The text `part`'s converter writes for its value in `values` (own properties only), unchecked.
 *
 * @throws TypeError when the value is missing (or `null`): naming every placeholder of the rule
 *   (its host's too) left without one; when its converter refuses it (its
 *   `toUrl` throws a `TypeError`: thrown again as `endpoint (pattern): <name>: message`, the
 *   original as `cause`; other errors pass unchanged), or `toUrl` answers no string.
 */
function convertedText(rule: Buildable, part: Placeholder, values: Readonly<Record<string, unknown>>): string {
  // Own values only: a missing `constructor` or `toString` is not Object.prototype's.
  if (!hasValue(values, part.name)) throw new TypeError(`${rule.endpoint} (${rule.pattern}) needs a value for ${missingNames(rule, values).join(', ')}`);
  const value = values[part.name];
  let raw: string;
  try {
    raw = part.converter.toUrl(value);
  } catch (error) {
    // A converter's TypeError, with where it came from; other errors (a custom converter's own) pass as they are.
    if (error instanceof TypeError) throw new TypeError(`${rule.endpoint} (${rule.pattern}): <${part.name}>: ${error.message}`, { cause: error });
    throw error;
  }
  if (typeof raw !== 'string') throw new TypeError(`${rule.endpoint} (${rule.pattern}): <${part.name}>: toUrl answered ${shownValue(raw)}, not a string`);
  return raw;
}

/**
 * `raw`, the text written for `part`, once checked to lead back to the rule.
 *
 * @throws TypeError when the text does not match the converter's regex, or it holds a `/` and
 *   the converter does not cross slashes (a custom one's regex `.+`: `PATH_INFO` decodes `%2F`
 *   to `/`, so the text would be read as more segments, another rule's): each URL would not
 *   lead back to the rule.
 */
function checkedText(rule: Buildable, part: Placeholder, raw: string): string {
  // A URL that would not match its own rule again is refused (an empty string, a word any() lacks…).
  if (!wholeMatch(part.converter).test(raw)) throw new TypeError(`${rule.endpoint} (${rule.pattern}): ${shownText(raw)} does not match <${part.name}>`);
  if (!part.converter.crossesSlashes && raw.includes('/')) {
    throw new TypeError(`${rule.endpoint} (${rule.pattern}): <${part.name}>: ${shownText(raw)} holds a "/", which its converter does not cross (PATH_INFO decodes %2F to "/")`);
  }
  return raw;
}

/**
 * The path of `rule` with `values` (percent-encoded, not yet under `SCRIPT_NAME`) and the
 * query of the values the rule does not take (its placeholders' and defaults' names;
 * `?a=1&b=2`, or `''`): a string, number, boolean or bigint, an array repeating its name;
 * `null` and `undefined` are left out (in an array too, as Werkzeug's `url_for`). Only
 * `values`' own properties count: a placeholder named `constructor` or `toString` needs its
 * own value, not the prototype's (a `__proto__` value is given as `{ ['__proto__']: v }`, not
 * `{ __proto__: v }`, which sets the prototype).
 *
 * @throws TypeError when a placeholder has no value (or `null`), its converter refuses it, the
 *   text does not match the converter's regex or holds a `/` its converter does not cross, or the path has a `.` or `..` segment (`..` as a
 *   `string` value, `a/../b` as a `path` one), which clients resolve away (RFC 3986 §5.2.4),
 *   or placeholders sharing a segment would be read back as other texts (`/files/<name>.<ext>`
 *   with `ext` = `tar.gz`: `a.tar` and `gz`): each URL would not lead back to the rule and values;
 *   and for a query value that is none of those (an object, a `Date`: see `queryText`).
 */
export function buildPath(rule: CompiledRule, values: Readonly<Record<string, unknown>>): { path: string; query: string } {
  if (!rule.sharesSegments) return { path: pathOf(rule, values), query: queryOf(rule, values) };
  const texts = new Map<string, string>();
  const path = pathOf(rule, values, texts);
  checkReadBack(rule, texts);
  return { path, query: queryOf(rule, values) };
}

/**
 * Checks that the path built for `rule` is read back, by the regexes the matcher runs on each
 * segment and on the tail, into `texts`, the texts its values were written as
 * (`/files/<name>.<ext>` with `ext` = `tar.gz` would be read as `a.tar` and `gz`).
 *
 * @throws TypeError when a segment or the tail would be split into other texts.
 */
function checkReadBack(rule: CompiledRule, texts: ReadonlyMap<string, string>): void {
  let raw = '';
  for (const part of rule.parts) raw += typeof part === 'string' ? part : texts.get(part.name)!;
  // The text before the tail has no `/` in its values: its segments are the matcher's.
  const segments = raw.slice(1).split('/');
  rule.segments.forEach((segment, i) => segment.regex && readBack(rule, segment.regex, segment.placeholders, segments[i]!, texts));
  if (rule.tail) readBack(rule, rule.tail.regex, rule.tail.placeholders, segments.slice(rule.segments.length).join('/'), texts);
}

/**
 * Checks that `regex` (of two placeholders or more) reads `text` back into `texts`, the texts
 * each placeholder was written as.
 *
 * @throws TypeError showing the split it reads otherwise.
 */
function readBack(rule: CompiledRule, regex: RegExp, placeholders: readonly Placeholder[], text: string, texts: ReadonlyMap<string, string>): void {
  if (placeholders.length < 2) return;
  const match = regex.exec(text);
  if (match && placeholders.every((p, i) => match[i + 1] === texts.get(p.name))) return;
  const read = match ? placeholders.map((p, i) => `<${p.name}> ${shownText(match[i + 1]!)}`).join(', ') : 'nothing';
  throw new TypeError(`${rule.endpoint} (${rule.pattern}): ${shownText(text)} would be read back as ${read}: the URL would not lead back to these values`);
}

/**
 * The path of `rule` (or of a `redirectTo` template) with `values`, percent-encoded, not yet
 * under `SCRIPT_NAME`; `texts`, when given, gets each placeholder's text before encoding.
 *
 * @throws TypeError as {@link buildPath}.
 */
export function pathOf(rule: Buildable, values: Readonly<Record<string, unknown>>, texts?: Map<string, string>): string {
  let path = '';
  for (const part of rule.parts) {
    if (typeof part === 'string') {
      path += quotePath(part);
      continue;
    }
    const raw = valueText(rule, part, values);
    texts?.set(part.name, raw);
    path += quotePath(raw);
  }
  // A client removes `.` and `..` segments before sending (RFC 3986 §5.2.4): `/items/..` would reach `/`.
  if (DOT_SEGMENT.test(path)) throw new TypeError(`${rule.endpoint} (${rule.pattern}): the path ${shownText(path)} has a "." or ".." segment, which a client resolves away (RFC 3986 §5.2.4)`);
  return path;
}

/**
 * The query (`?a=1&b=2`, or `''`) of the `values` not named in `rule.arguments` (its
 * placeholders and defaults).
 *
 * @throws TypeError as {@link queryText}.
 */
function queryOf(rule: CompiledRule, values: Readonly<Record<string, unknown>>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (rule.arguments.has(name) || value === undefined || value === null) continue;
    if (!Array.isArray(value)) query.append(name, queryText(rule, name, value, 'is'));
    else for (const one of value) if (one !== undefined && one !== null) query.append(name, queryText(rule, name, one, 'holds'));
  }
  const text = query.toString();
  return text ? `?${text}` : '';
}

/**
 * The text of one query value `value` of `name`: a string as it is, a number, boolean or
 * bigint as `String` writes it (`1.5`, `false`, `12`).
 *
 * @param how - `'is'` for the value itself, `'holds'` for an item of its array (the message's
 *   verb).
 * @throws TypeError for any other value, naming `name` and what is taken: an object or array
 *   (in an array), which `String` writes as `[object Object]` or joins with commas (Werkzeug's
 *   `url_encode` writes its `str()`, never what a link meant); a `Date`, whose `String` is its
 *   local-time text in English, told to be given as text (`toISOString()`, or the form its
 *   reader parses); a function or a symbol.
 */
function queryText(rule: Buildable, name: string, value: unknown, how: 'is' | 'holds'): string {
  const type = typeof value;
  if (type === 'string') return value as string;
  if (type === 'number' || type === 'boolean' || type === 'bigint') return String(value);
  const where = `${rule.endpoint} (${rule.pattern}): the query value ${name} ${how}`;
  if (value instanceof Date) throw new TypeError(`${where} a Date: give it as text, as ${name}.toISOString()`);
  throw new TypeError(`${where} ${type === 'object' ? 'an object' : `a ${type}`}: give ${QUERY_TAKES}`);
}

/** What a query value may be, as {@link queryText}'s refusal says it. */
const QUERY_TAKES = 'a string, number, boolean or bigint, or an array of them (null and undefined are left out)';

/**
 * `raw`, the text of a host placeholder's value, as a `Host` field carries it: in Unicode
 * (`Jürgen`), in its ASCII form (`xn--jrgen-kva`, IDNA as the WHATWG URL parser and browsers
 * write it), as the static labels of `rule.host` are written; ASCII text as it is.
 *
 * @param labels - whether the placeholder fills whole labels: the ASCII form is a whole label's.
 * @throws TypeError for text in Unicode sharing its label with other text (the pattern's, or
 *   another placeholder's: `<name>-shop.example` with `bü`, whose label has no ASCII form the
 *   pattern could match), or that no URL can carry (`bü@evil`).
 */
function hostText(rule: CompiledRule, part: Placeholder, raw: string, labels: boolean): string {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(raw)) return raw;
  const where = `${rule.endpoint} (${rule.pattern}): <${part.name}>: ${shownText(raw)}`;
  if (!labels) {
    throw new TypeError(`${where} is in Unicode, and shares its label in ${rule.host!.text}: only a whole label has an ASCII form (xn--…) to write`);
  }
  const ascii = asciiLabels(raw);
  if (ascii === null) throw new TypeError(`${where} makes no host name`);
  return ascii;
}

/**
 * Whether the placeholder at `parts[i]` fills whole labels of a host: the start of the host or
 * a `.` before it, and its end, a `.` or the `:` of a port after it.
 */
function fillsLabels(parts: CompiledRule['parts'], i: number): boolean {
  const before = parts[i - 1];
  const after = parts[i + 1];
  return (before === undefined || (typeof before === 'string' && before.endsWith('.'))) && (after === undefined || (typeof after === 'string' && /^[.:]/.test(after)));
}

/**
 * The host of `rule` (it has one) with `values`, in lower case (Werkzeug's `Rule.build` of
 * the domain part): `alice.example.com` for `<user>.example.com` and `{ user: 'Alice' }`; a
 * value in Unicode in its ASCII form, as the static labels are (`{ user: 'Jürgen' }`:
 * `xn--jrgen-kva.example.com`, IDNA; see {@link hostText}), checked by its converter so.
 *
 * @throws TypeError as {@link buildPath} (`<a>-<b>.example.com` with `b` = `c-d` is read back
 *   as `a-c` and `d`), and when the text is no valid host (`uri-host [":" port]`, RFC 9112
 *   §3.2: a space, `%`, `@`…), or a value in Unicode sharing its label with other text.
 */
export function buildHost(rule: CompiledRule, values: Readonly<Record<string, unknown>>): string {
  const pattern = rule.host!;
  const texts = new Map<string, string>();
  let host = '';
  for (const [i, part] of pattern.parts.entries()) {
    if (typeof part === 'string') host += part;
    else {
      const raw = hostText(rule, part, convertedText(rule, part, values), fillsLabels(pattern.parts, i));
      const text = checkedText(rule, part, raw).toLowerCase();
      texts.set(part.name, text);
      host += text;
    }
  }
  if (!isValidHost(host)) throw new TypeError(`${rule.endpoint} (${rule.pattern}): ${JSON.stringify(host)} is not a valid host`);
  readBack(rule, pattern.regex, pattern.placeholders, host, texts);
  return host;
}

/**
 * The `#fragment` of a built URL for `anchor`, or `''` without one: percent-encoded as UTF-8
 * but for the characters a fragment may hold (RFC 3986 §3.5: a path's, `/` included, and
 * `?`), as Flask's `url_for(_anchor=…)`, so a hash router's `/users/3` stays `#/users/3`; a
 * space, `#`, `%` and non-ASCII are encoded; a lone surrogate becomes U+FFFD first, as in
 * `quotePath`, so it never throws.
 */
export function fragment(anchor: string | undefined): string {
  return anchor === undefined ? '' : `#${quotePath(anchor).replaceAll('%3F', '?')}`;
}
