/**
 * An ordered, multi-valued, case-insensitive list of header fields (Werkzeug's `Headers`,
 * WebOb's `ResponseHeaders`), named `HeaderList` so it never shadows the fetch `Headers`
 * global. Names keep the case they were given; lookups ignore case.
 *
 * @module
 */
import vary from 'vary';
import { assertHeader, fieldText, sameFieldName } from '../gateway/fields.ts';
import { shownValue } from '../gateway/shown.ts';

/**
 * @internal `HeaderList.set` without the checks, for fields the toolkit builds itself from
 * known-valid parts (a byte count, a constant): replaces every `name` field in `list` with one.
 */
export function replaceField(list: Array<[string, string]>, name: string, value: string): void {
  let index = -1;
  for (let i = 0; i < list.length; i++) {
    if (!sameFieldName(list[i]![0], name)) continue;
    if (index === -1) {
      index = i;
      list[i] = [name, value];
    } else {
      list.splice(i--, 1);
    }
  }
  if (index === -1) list.push([name, value]);
}

/**
 * @internal Adds field names to the `Vary` of `list`, in place, with the `vary` package: once
 * each, case-insensitively, and not at all when `Vary: *` is there; several `Vary` fields
 * become one (RFC 9110 §5.3 lets a list field be split or joined).
 */
export function appendVary(list: Array<[string, string]>, fields: string | string[]): void {
  const current: string[] = [];
  for (const pair of list) if (sameFieldName(pair[0], 'vary')) current.push(pair[1]);
  const next = vary.append(current.join(', '), fields);
  if (next !== '') replaceField(list, 'Vary', next);
}

/**
 * The list {@link adoptList} hands the `HeaderList` it builds, set only for that call: the
 * constructor takes it instead of an empty array it would replace at once (32 bytes a
 * `Response`, and a `Response` copy for each layer `getResponse` hands it through).
 */
let adopting: Array<[string, string]> | undefined;

/**
 * What a `HeaderList` can be built from: `[name, value]` pairs, a record (a list of values for
 * a repeated field, or another iterable of them, `undefined` or `null` for none), or another
 * `HeaderList`. Numbers are converted to strings, as by {@link HeaderList.set}. A pair that is
 * not an array of two (`['x']`, a string `'ab'`), or a value of another type (an object, `NaN`),
 * is a `TypeError`, where it would be sent as `undefined` or `[object Object]`.
 */
export type HeaderListInit =
  | Iterable<readonly [string, string | number]>
  | Record<string, string | number | readonly (string | number)[] | null | undefined>
  | HeaderList;

/**
 * Response header fields as `[name, value]` pairs in order.
 *
 * Every mutator validates its input (a token name, a value without CR/LF/NUL) and throws a
 * `TypeError` otherwise, so a header can never smuggle a second line (RFC 9110 §5.5).
 * `get` answers the first value, as Werkzeug does; `getAll` answers every value, so several
 * `Set-Cookie` lines stay several. Lookups compare names ignoring ASCII case only (RFC 9110
 * §5.1): a non-ASCII character never matches a letter `toLowerCase()` would fold it into.
 *
 * @example
 * ```ts
 * const h = new HeaderList({ 'Content-Type': 'text/plain' });
 * h.add('Set-Cookie', 'a=1');
 * h.add('Set-Cookie', 'b=2');
 * h.getAll('set-cookie'); // ['a=1', 'b=2']
 * ```
 */
export class HeaderList implements Iterable<[string, string]> {
  /** The pairs, in order; the same array is handed to `startResponse`. Do not mutate. */
  readonly list: Array<[string, string]>;

  constructor(init?: HeaderListInit) {
    if (adopting !== undefined) {
      // `adoptList`'s call: its list, without making an empty one to throw away.
      this.list = adopting;
      adopting = undefined;
      return;
    }
    this.list = [];
    if (init === undefined || init === null) return;
    if (init instanceof HeaderList) {
      for (const [name, value] of init.list) this.list.push([name, value]);
    } else if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const pair of init as Iterable<readonly [string, string | number]>) {
        if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError(`a header pair is [name, value], not ${Array.isArray(pair) ? `an array of ${pair.length}` : shownValue(pair)}`);
        this.add(pair[0], pair[1]);
      }
    } else {
      for (const [name, value] of Object.entries(init)) {
        if (typeof value === 'string') this.add(name, value);
        else if (value === undefined || value === null) continue;
        else if (typeof (value as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function') for (const v of value as Iterable<string | number>) this.add(name, v);
        else this.add(name, value as string | number);
      }
    }
  }

  /** The first value of `name`, or `null`. */
  get(name: string): string | null {
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      const pair = list[i]!;
      if (sameFieldName(pair[0], name)) return pair[1];
    }
    return null;
  }

  /** Every value of `name`, in order (empty when absent). */
  getAll(name: string): string[] {
    const out: string[] = [];
    for (const [key, value] of this.list) if (sameFieldName(key, name)) out.push(value);
    return out;
  }

  /** True when at least one `name` field is present. */
  has(name: string): boolean {
    return this.get(name) !== null;
  }

  /**
   * Replaces every `name` field with one field (kept at the first one's position).
   * `null` or `undefined` deletes the field; a number is written in decimal (so is a bigint,
   * and a boolean as `true` or `false`, taken from JavaScript callers as fetch's `Headers` takes them).
   *
   * @throws TypeError for an invalid name, a value with CR/LF/NUL, or a value that is neither a
   *   string nor a finite number (an object, a symbol, `NaN`, `Infinity`).
   */
  set(name: string, value: string | number | null | undefined): this {
    if (value === null || value === undefined) {
      this.delete(name);
      return this;
    }
    const text = typeof value === 'string' ? value : fieldText(name, value);
    assertHeader(name, text);
    replaceField(this.list, name, text);
    return this;
  }

  /**
   * Appends a field, keeping the ones already there (`Set-Cookie`, `Vary`, `Link`…). A number
   * is written in decimal (so is a bigint, and a boolean as `true` or `false`, as by {@link set}).
   *
   * @throws TypeError for an invalid name, a value with CR/LF/NUL, or a value that is neither a
   *   string nor a finite number (`undefined`, `null`, an object, a symbol, `NaN`), which would
   *   be sent as `undefined` or `[object Object]`.
   */
  add(name: string, value: string | number): this {
    const text = typeof value === 'string' ? value : fieldText(name, value);
    assertHeader(name, text);
    this.list.push([name, text]);
    return this;
  }

  /** Same as {@link HeaderList.add}, under the Fetch API's name. */
  append(name: string, value: string | number): this {
    return this.add(name, value);
  }

  /** Removes every `name` field; answers how many were removed. */
  delete(name: string): number {
    let removed = 0;
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (sameFieldName(this.list[i]![0], name)) {
        this.list.splice(i, 1);
        removed++;
      }
    }
    return removed;
  }

  /** Removes every field. */
  clear(): void {
    this.list.length = 0;
  }

  /** The number of fields (a repeated name counts each time). */
  get size(): number {
    return this.list.length;
  }

  /** The distinct names, in first-seen order, in the case first given. */
  keys(): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const [name] of this.list) {
      const lower = name.toLowerCase();
      if (!seen.has(lower)) {
        seen.add(lower);
        out.push(name);
      }
    }
    return out;
  }

  /**
   * The pairs, in order, as they are when called (copies, as {@link HeaderList.toList} makes):
   * deleting or adding fields in the loop neither skips nor repeats a pair, nor loops for ever,
   * and changing a pair changes nothing here (as `MultiDict.entries`). Read {@link HeaderList.list}
   * to look without copying.
   */
  entries(): IterableIterator<[string, string]> {
    return this.toList()[Symbol.iterator]();
  }

  /** The pairs, as {@link HeaderList.entries} gives them. */
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /** A copy of the pairs, for `startResponse`. */
  toList(): Array<[string, string]> {
    return this.list.map(([name, value]) => [name, value]);
  }

  /**
   * The fields as a null-prototype record of lower-case names; repeated names are joined with
   * `, ` (Set-Cookie with `\n`). A field named `constructor` or `__proto__` is a key like any other.
   */
  toJSON(): Record<string, string> {
    const out: Record<string, string> = Object.create(null);
    for (const [name, value] of this.list) {
      const key = name.toLowerCase();
      const sep = key === 'set-cookie' ? '\n' : ', ';
      out[key] = key in out ? out[key] + sep + value : value;
    }
    return out;
  }
}

/**
 * @internal A `HeaderList` over `list` itself, not a copy of it: for `Response`'s copy
 * (`Response[COPY]`), which hands over a fresh array. Not exported from the package.
 */
export function adoptList(list: Array<[string, string]>): HeaderList {
  adopting = list;
  return new HeaderList();
}
