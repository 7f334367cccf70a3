/**
 * Declaring a wrapper's attributes once, as accessors on its prototype (WebOb's
 * `descriptors.py`): an attribute is a {@link Source} (an environ key, a response header)
 * read through a converter (see `converters.ts`), so forty header attributes cost forty short
 * table lines instead of forty getter/setter pairs.
 *
 * A wrapper declares the attributes of a concern as an interface carrying their TSDoc, merged
 * into the class (`interface Request extends RequestUrl {}`), and installs a table of
 * {@link Members} implementing it with {@link defineMembers}. Accessors and methods live on
 * the prototype, once, like those of a class body: no closure or property per instance.
 *
 * @example
 * ```ts
 * export interface ResponseDates {
 *   /** `Last-Modified` as a Date, or `null`. *\/
 *   get lastModified(): Date | null;
 *   set lastModified(value: HttpDateInit | null);
 * }
 * export const dateMembers: Members<Response, ResponseDates> = {
 *   lastModified: field(fromHeaders('Last-Modified'), httpDate),
 * };
 * defineMembers(Response.prototype, dateMembers);
 * ```
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import type { HeaderList } from './header-list.ts';

/** A getter and, for a writable attribute, a setter, called with the wrapper as `this`. */
export interface Accessor<Self, Get, Set = Get> {
  get(this: Self): Get;
  set?(this: Self, value: Set): void;
}

/**
 * The implementation of the interface `Shape` for `Self`: one entry per member, a function
 * for a method, an {@link Accessor} for an attribute (its getter checked against the
 * attribute's type; setter types are not checked, TypeScript cannot read them from `Shape`).
 */
export type Members<Self, Shape> = {
  readonly [K in keyof Shape]-?: [Shape[K]] extends [(...args: infer A) => infer R]
    ? (this: Self, ...args: A) => R
    : Accessor<Self, Shape[K], never>;
};

/**
 * Installs members on a prototype as a class body would: methods writable, everything
 * non-enumerable and configurable.
 */
export function defineMembers<Self extends object>(
  prototype: Self,
  members: Readonly<Record<string, Accessor<Self, unknown, never> | ((this: Self, ...args: never[]) => unknown)>>,
): void {
  for (const [name, member] of Object.entries(members)) {
    const descriptor: PropertyDescriptor = typeof member === 'function' ? { value: member, writable: true } : { get: member.get, set: member.set };
    Object.defineProperty(prototype, name, { ...descriptor, enumerable: false, configurable: true });
  }
}

/** The same attribute without its setter (assigning it then throws in strict code). */
export function readOnly<Self, Get>(accessor: Accessor<Self, Get, never>): Accessor<Self, Get, never> {
  return { get: accessor.get };
}

// ---- parse cache ----

/** The key of the method answering a wrapper's parse cache (see {@link ParseCache}). */
export const PARSED: unique symbol = Symbol('tsgi.parsed');

/** Raw header value and parsed object, by attribute (each cached attribute has a slot). */
export type ParsedValues = Array<readonly [string | null, unknown] | undefined>;

/**
 * A wrapper with a parse cache, answered by a method so the cache itself can stay private:
 * `#parsed: ParsedValues | undefined; [PARSED]() { return (this.#parsed ??= []); }`.
 * Wrappers that parse nothing allocate nothing, and `console.log(req)` shows no cache.
 */
export interface ParseCache {
  [PARSED](): ParsedValues;
}

const MISS: unique symbol = Symbol('miss');

/** The number of cache slots handed out (one per cached attribute of any wrapper). */
let slots = 0;

/** The value remembered in `slot` when it was parsed from the same `raw` text, else `MISS`. */
function recall(self: ParseCache, slot: number, raw: string | null): unknown {
  const hit = self[PARSED]()[slot];
  return hit !== undefined && hit[0] === raw ? hit[1] : MISS;
}

/** Remembers `value` as parsed from `raw` in `slot`, and answers it. */
function remember<T>(self: ParseCache, slot: number, raw: string | null, value: T): T {
  self[PARSED]()[slot] = [raw, value];
  return value;
}

// ---- sources ----

/** Where an attribute's raw text lives: `null` when absent; writing `null` removes it. */
export interface Source<Self> {
  read(self: Self): string | null;
  write(self: Self, raw: string | null): void;
}

/** An environ key (a request header's `HTTP_*` key, `CONTENT_LENGTH`, `REMOTE_USER`…): non-strings read as absent. */
export function fromEnviron(key: string): Source<{ readonly environ: Environ }> {
  return {
    read(self) {
      const value = self.environ[key];
      return typeof value === 'string' ? value : null;
    },
    write(self, raw) {
      if (raw === null) delete self.environ[key];
      else self.environ[key] = raw;
    },
  };
}

/**
 * A response header. Reads the first field, or with `all` every field joined with `, `
 * (comma-separated lists such as `Vary`, RFC 9110 §5.3). Writing replaces every field with
 * one, under `name` as given.
 */
export function fromHeaders(name: string, options: { all?: boolean } = {}): Source<{ readonly headers: HeaderList }> {
  const key = name.toLowerCase();
  const all = options.all ?? false;
  return {
    read(self) {
      if (!all) return self.headers.get(key);
      const lines = self.headers.getAll(key);
      return lines.length < 2 ? (lines[0] ?? null) : lines.join(', ');
    },
    write(self, raw) {
      self.headers.set(name, raw);
    },
  };
}

// ---- attributes ----

/** Converts between a source's raw text and an attribute's value. */
export interface Converter<Get, Set = Get> {
  /** The value of the raw text (`null`: absent). Never throws. */
  parse(raw: string | null): Get;
  /** The raw text of a value (`null` removes the source); throws on an invalid value. */
  format(value: Set): string | null;
}

/** An attribute reading and writing `source` through `converter`, parsed on every read. */
export function field<Self, Get, Set>(source: Source<Self>, converter: Converter<Get, Set>): Accessor<Self, Get, Set> {
  return {
    get() {
      return converter.parse(source.read(this));
    },
    set(value) {
      source.write(this, converter.format(value));
    },
  };
}

/** As {@link field}, the parsed value kept while the raw text is unchanged (the same object is answered). */
export function cachedField<Self, Get, Set>(source: Source<Self>, converter: Converter<Get, Set>): Accessor<Self & ParseCache, Get, Set> {
  const slot = slots++;
  return {
    get() {
      const raw = source.read(this);
      const hit = recall(this, slot, raw);
      return hit === MISS ? remember(this, slot, raw, converter.parse(raw)) : (hit as Get);
    },
    set(value) {
      source.write(this, converter.format(value));
    },
  };
}

/**
 * A read-only attribute answering a live object built by `create` from the raw text and
 * cached while that text is unchanged. The object writes itself back with `commit(raw)`, which
 * keeps it cached (WebOb's `cache_control`, `GET`): `res.cacheControl.maxAge = 60` rewrites
 * the header and the next read answers the same object.
 */
export function liveField<Self, T>(
  source: Source<Self>,
  create: (raw: string | null, commit: (raw: string | null) => void) => T,
): Accessor<Self & ParseCache, T, never> {
  const slot = slots++;
  return {
    get() {
      const raw = source.read(this);
      const hit = recall(this, slot, raw);
      if (hit !== MISS) return hit as T;
      const value: T = create(raw, (next) => {
        source.write(this, next);
        remember(this, slot, next, value);
      });
      return remember(this, slot, raw, value);
    },
  };
}
