/**
 * Declaring a wrapper's attributes once (WebOb's `descriptors.py`): an attribute is a
 * {@link Source} (an environ key, a response header) read through a converter (see
 * `converters.ts`), declared in one table line; the class accessor that carries its TSDoc
 * calls it, so "go to definition" reaches the accessor and the compiler checks the setter.
 *
 * A wrapper declares the attributes of a concern as an abstract class in its own file, merged
 * into the wrapper's type (`interface Response extends ResponseValidators {}`) and installed on
 * its prototype with {@link installParts}. Accessors and methods live on the prototype, once,
 * like those of a class body: no closure or property per instance.
 *
 * @example
 * ```ts
 * const LAST_MODIFIED = field(fromHeaders('Last-Modified'), httpDate);
 *
 * export abstract class ResponseDates {
 *   declare readonly headers: HeaderList;
 *   /** `Last-Modified` as a Date, or `null`. *\/
 *   get lastModified(): Date | null { return LAST_MODIFIED.get(this); }
 *   set lastModified(value: HttpDateInit | null) { LAST_MODIFIED.set(this, value); }
 * }
 * // response.ts
 * export interface Response extends ResponseDates {}
 * installParts(Response, [ResponseDates]);
 * ```
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import type { HeaderList } from './header-list.ts';
import { assertFieldValue } from '../gateway/fields.ts';
import { headerName } from '../gateway/header-keys.ts';

/**
 * A wrapper attribute's behaviour, declared once in a table line and called from the class
 * accessor that documents it (`get etag() { return ETAG.get(this); }`), so "go to definition"
 * lands on the accessor and the compiler checks the setter's type against the converter's.
 */
export interface Attribute<Self, Get, Set = Get> {
  get(self: Self): Get;
  set(self: Self, value: Set): void;
}

/** The constructor of a wrapper part or of the wrapper itself (see {@link installParts}). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClass = abstract new (...args: any[]) => object;

/**
 * Installs the members of each part class on `target`'s prototype, as if written in its class
 * body (accessors and methods, non-enumerable; `constructor` skipped). A wrapper declares the
 * attributes of one concern as an abstract class in its own file (`ResponseValidators`) and
 * merges it into the wrapper's type with `interface Response extends ResponseValidators {}`.
 * Parts use no `super` and no private `#fields`: they see the wrapper through `this` only.
 *
 * @throws TypeError when two parts, or a part and the target, define the same member.
 */
export function installParts(target: AnyClass, parts: readonly AnyClass[]): void {
  const prototype = target.prototype as object;
  for (const part of parts) {
    for (const name of Reflect.ownKeys(part.prototype as object)) {
      if (name === 'constructor') continue;
      if (Object.prototype.hasOwnProperty.call(prototype, name)) {
        throw new TypeError(`${target.name}.${String(name)} is defined twice (${part.name})`);
      }
      const descriptor = Object.getOwnPropertyDescriptor(part.prototype, name)!;
      Object.defineProperty(prototype, name, { ...descriptor, enumerable: false });
    }
  }
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

/**
 * An environ key (a request header's `HTTP_*` key, `CONTENT_LENGTH`, `REMOTE_USER`…): non-strings
 * read as absent. Writing a request header's key refuses what `req.headers.set` refuses (CR, LF,
 * NUL, another control character but HTAB, a character above U+00FF: RFC 9110 §5.5), with the
 * same `TypeError` naming the field (`invalid value for header If-None-Match: …`); another key
 * (`REMOTE_USER`) is no field and is written as given.
 */
export function fromEnviron(key: string): Source<{ readonly environ: Environ }> {
  const field = headerName(key);
  return {
    read(self) {
      const value = self.environ[key];
      return typeof value === 'string' ? value : null;
    },
    write(self, raw) {
      if (raw === null) delete self.environ[key];
      else {
        if (field !== null) assertFieldValue(field, raw);
        self.environ[key] = raw;
      }
    },
  };
}

/**
 * A response header. Reads the first field, or with `all` every field joined with `, `
 * (comma-separated lists such as `Vary`, RFC 9110 §5.3), or by `join` when given (which
 * implies `all`; `null` when there is no line). Writing replaces every field with one, under
 * `name` as given.
 */
export function fromHeaders(
  name: string,
  options: { all?: boolean | undefined; join?: ((lines: readonly string[]) => string | null) | undefined } = {},
): Source<{ readonly headers: HeaderList }> {
  const key = name.toLowerCase();
  const join = options.join ?? (options.all ? joinLines : undefined);
  return {
    read(self) {
      return join === undefined ? self.headers.get(key) : join(self.headers.getAll(key));
    },
    write(self, raw) {
      self.headers.set(name, raw);
    },
  };
}

/** A field's lines as one comma-separated list (RFC 9110 §5.3); `null` when there is none. */
function joinLines(lines: readonly string[]): string | null {
  return lines.length < 2 ? (lines[0] ?? null) : lines.join(', ');
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
export function field<Self, Get, Set>(source: Source<Self>, converter: Converter<Get, Set>): Attribute<Self, Get, Set> {
  return {
    get(self) {
      return converter.parse(source.read(self));
    },
    set(self, value) {
      source.write(self, converter.format(value));
    },
  };
}

/** As {@link field}, the parsed value kept while the raw text is unchanged (the same object is answered). */
export function cachedField<Self, Get, Set>(source: Source<Self>, converter: Converter<Get, Set>): Attribute<Self & ParseCache, Get, Set> {
  const slot = slots++;
  return {
    get(self) {
      const raw = source.read(self);
      const hit = recall(self, slot, raw);
      return hit === MISS ? remember(self, slot, raw, converter.parse(raw)) : (hit as Get);
    },
    set(self, value) {
      source.write(self, converter.format(value));
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
): { get(self: Self & ParseCache): T } {
  const slot = slots++;
  return {
    get(self) {
      const raw = source.read(self);
      const hit = recall(self, slot, raw);
      if (hit !== MISS) return hit as T;
      const value: T = create(raw, (next) => {
        source.write(self, next);
        remember(self, slot, next, value);
      });
      return remember(self, slot, raw, value);
    },
  };
}
