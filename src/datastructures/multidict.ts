/**
 * An ordered map from keys to several values, for query strings and forms (WebOb's and
 * Werkzeug's `MultiDict`).
 *
 * @module
 */
import { HTTPBadRequest } from '../exceptions/client-errors.ts';
import { charsetPairDecoder, formEncoding } from '../http/form-decoding.ts';

/**
 * Keys with one or more values each, in the order they were added.
 *
 * `get(key)` answers the **first** value, as Werkzeug's `MultiDict` does (WebOb answers the
 * last): with `?tag=a&tag=b`, `get('tag')` is `'a'`. Use `getAll` for every value and
 * `getOne` when exactly one is required.
 *
 * @example
 * ```ts
 * const q = MultiDict.fromQueryString('a=1&b=2&a=3');
 * q.get('a');      // '1'
 * q.getAll('a');   // ['1', '3']
 * q.getOne('b');   // '2'; throws HTTPBadRequest for 'a' (two values) or 'c' (none)
 * ```
 */
export class MultiDict<V = string> implements Iterable<[string, V]> {
  readonly #items: Array<[string, V]> = [];

  constructor(init?: Iterable<readonly [string, V]> | Record<string, V | readonly V[]>) {
    if (!init) return;
    if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const [key, value] of init as Iterable<readonly [string, V]>) this.add(key, value);
    } else {
      for (const [key, value] of Object.entries(init as Record<string, V | readonly V[]>)) {
        if (Array.isArray(value)) for (const v of value) this.add(key, v);
        else this.add(key, value as V);
      }
    }
  }

  /**
   * Parses an `application/x-www-form-urlencoded` string (a query string, without `?`).
   * `+` is a space; a malformed `%` escape is kept as written and invalid UTF-8 becomes
   * U+FFFD (WHATWG URL), so parsing never throws. `a=&b` gives `a: ''` and `b: ''`. A leading
   * `?` is part of the first key (`?a=1` is key `?a`), as it is in `/p??a=1`'s query.
   *
   * @param charset - the charset the escapes encode, a WHATWG encoding label; default UTF-8.
   *   A browser submits a GET form in the encoding of its page, so a page in Shift_JIS gets
   *   `?q=%93%8C%8B%9E`: `MultiDict.fromQueryString(req.queryString, 'shift_jis')` reads
   *   `東京` (WebOb's `req.url_encoding`). Bytes it cannot decode become U+FFFD. Read as a
   *   urlencoded body declaring it is: US-ASCII (`us-ascii`, `ascii`, `ANSI_X3.4-1968`) is
   *   UTF-8 (a subset), `iso-8859-1` is
   *   `windows-1252`, as browsers read them.
   * @throws RangeError for a `charset` the WHATWG Encoding Standard does not know, or UTF-16.
   */
  static fromQueryString(qs: string, charset?: string): MultiDict<string> {
    const out = new MultiDict<string>();
    const encoding = formEncoding(charset);
    if (encoding === null) throw new RangeError(`MultiDict.fromQueryString: no query is in charset ${JSON.stringify(charset)}: give a WHATWG encoding label other than UTF-16`);
    if (qs.length === 0) return out;
    if (encoding === 'utf-8') {
      for (const [key, value] of queryPairs(qs)) out.add(key, value);
      return out;
    }
    const decode = charsetPairDecoder(encoding);
    const bytes = new TextEncoder();
    for (const pair of qs.split('&')) {
      if (pair !== '') out.add(...decode(bytes.encode(pair)));
    }
    return out;
  }

  /** The first value of `key`, or `undefined`. */
  get(key: string): V | undefined;
  /** The first value of `key`, or `fallback`. */
  get<D>(key: string, fallback: D): V | D;
  get(key: string, fallback?: unknown): unknown {
    for (const [k, v] of this.#items) if (k === key) return v;
    return fallback;
  }

  /** Every value of `key`, in order (empty when absent). */
  getAll(key: string): V[] {
    const out: V[] = [];
    for (const [k, v] of this.#items) if (k === key) out.push(v);
    return out;
  }

  /**
   * The one value of `key` (WebOb's `getone`).
   *
   * @throws HTTPBadRequest (400) when `key` has no value or several, naming the key.
   */
  getOne(key: string): V {
    const all = this.getAll(key);
    if (all.length === 1) return all[0]!;
    throw new HTTPBadRequest(
      all.length === 0 ? `Missing parameter: ${key}` : `Parameter ${key} was given ${all.length} times`,
    );
  }

  /** True when `key` has at least one value. */
  has(key: string): boolean {
    for (const [k] of this.#items) if (k === key) return true;
    return false;
  }

  /** Appends a value to `key`. */
  add(key: string, value: V): this {
    this.#items.push([key, value]);
    return this;
  }

  /**
   * Replaces every value of `key` with `value`, at the position of the first one (Werkzeug's
   * `d[key] = value`); appended when `key` is new.
   */
  set(key: string, value: V): this {
    const first = this.#items.findIndex(([k]) => k === key);
    if (first === -1) {
      this.#items.push([key, value]);
      return this;
    }
    this.delete(key);
    this.#items.splice(first, 0, [key, value]);
    return this;
  }

  /** Removes every value of `key`; answers how many were removed. */
  delete(key: string): number {
    let removed = 0;
    for (let i = this.#items.length - 1; i >= 0; i--) {
      if (this.#items[i]![0] === key) {
        this.#items.splice(i, 1);
        removed++;
      }
    }
    return removed;
  }

  /** The number of key/value pairs (a repeated key counts each time). */
  get size(): number {
    return this.#items.length;
  }

  /** The distinct keys in first-seen order. */
  keys(): string[] {
    return [...new Set(this.#items.map(([k]) => k))];
  }

  /** Every value, in order. */
  values(): V[] {
    return this.#items.map(([, v]) => v);
  }

  /**
   * The pairs, in order, as they are when called: each pair is a copy (changing one changes
   * nothing here), and adding or deleting while iterating neither skips nor repeats a pair.
   */
  entries(): IterableIterator<[string, V]> {
    return this.#items.map(([k, v]): [string, V] => [k, v])[Symbol.iterator]();
  }

  /** The pairs, as {@link entries} gives them. */
  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  /** A record of the first value per key. */
  toObject(): Record<string, V> {
    const out: Record<string, V> = Object.create(null);
    for (const [k, v] of this.#items) if (!(k in out)) out[k] = v;
    return out;
  }

  /** A record of every value per key. */
  toJSON(): Record<string, V[]> {
    const out: Record<string, V[]> = Object.create(null);
    for (const [k, v] of this.#items) (out[k] ??= []).push(v);
    return out;
  }

  /** `a=1&a=2` form, URL-encoded (string values only). */
  toString(): string {
    const params = new URLSearchParams();
    for (const [k, v] of this.#items) params.append(k, String(v));
    return params.toString();
  }
}

/**
 * @internal The pairs of a query string, `qs` read whole: `new URLSearchParams(qs)` drops a
 * leading `?`, but in a query string (`/p??a=1` has `?a=1`) that `?` belongs to the first key,
 * as the WHATWG URL parser and Werkzeug read it.
 */
export function queryPairs(qs: string): URLSearchParams {
  return new URLSearchParams(qs.charCodeAt(0) === 63 /* ? */ ? `&${qs}` : qs);
}
