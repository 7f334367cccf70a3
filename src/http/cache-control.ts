/**
 * `Cache-Control` (RFC 9111 §5.2) as a live object for requests and responses: camelCase
 * fields for the registered directives, extensions kept in order, and an `onChange` callback
 * fired with the new header value whenever something is set, so a Response can rewrite its
 * header (`res.cacheControl.maxAge = 60`).
 *
 * ```ts
 * const cc = new CacheControl('public, max-age=60, foo="bar, baz"', (value) => save(value));
 * cc.maxAge;            // 60
 * cc.get('foo');        // 'bar, baz'
 * cc.noCache = ['Set-Cookie'];
 * String(cc);           // 'public, max-age=60, foo="bar, baz", no-cache="Set-Cookie"'
 * ```
 *
 * Parsing never throws. Directive names are case-insensitive (kept lower-case); a directive
 * that is not `token [= token / quoted-string]` (whitespace around `=` tolerated) is dropped,
 * the others kept; a repeated directive keeps its first value (RFC 9111 §4.2.1). Arguments
 * are read in either token or quoted form (`max-age="60"`), as RFC 9111 §5.2 asks.
 * Delta-seconds beyond 2^31 read as 2147483648 (RFC 9111 §1.2.2); an invalid one
 * (`max-age=-1`, `max-age=1.5`, `max-age` without a value) reads as 0, the "treat it as
 * stale" reading RFC 9111 §4.2.1 encourages.
 *
 * @module
 */
import { MAX_DELTA_SECONDS, parseDeltaSeconds } from './dates.ts';
import { isToken } from '../gateway/fields.ts';
import { Cursor, quoteString, tokenOrQuoted } from './syntax.ts';

/** A directive's argument: a string, or `true` when it has none (`no-store`). */
export type DirectiveValue = string | true;

type Kind = 'seconds' | 'flag' | 'fields' | 'stale';

/** Registered directives: property, directive name, kind (RFC 9111 §5.2, RFC 5861, 8246, 9111). */
const FIELDS: ReadonlyArray<readonly [string, string, Kind]> = [
  ['maxAge', 'max-age', 'seconds'],
  ['sMaxAge', 's-maxage', 'seconds'],
  ['staleWhileRevalidate', 'stale-while-revalidate', 'seconds'],
  ['staleIfError', 'stale-if-error', 'seconds'],
  ['minFresh', 'min-fresh', 'seconds'],
  ['maxStale', 'max-stale', 'stale'],
  ['noCache', 'no-cache', 'fields'],
  ['private', 'private', 'fields'],
  ['noStore', 'no-store', 'flag'],
  ['public', 'public', 'flag'],
  ['mustRevalidate', 'must-revalidate', 'flag'],
  ['proxyRevalidate', 'proxy-revalidate', 'flag'],
  ['immutable', 'immutable', 'flag'],
  ['noTransform', 'no-transform', 'flag'],
  ['onlyIfCached', 'only-if-cached', 'flag'],
  ['mustUnderstand', 'must-understand', 'flag'],
];

const REGISTERED = new Set(FIELDS.map(([, name]) => name));

function seconds(value: DirectiveValue): number {
  return value === true ? 0 : (parseDeltaSeconds(value) ?? 0);
}

function checkSeconds(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Cache-Control seconds must be a non-negative integer, got ${value}`);
  }
  return String(Math.min(value, MAX_DELTA_SECONDS));
}

function read(value: DirectiveValue | undefined, kind: Kind): unknown {
  if (kind === 'flag') return value !== undefined;
  if (value === undefined) return kind === 'fields' ? false : null;
  if (kind === 'seconds') return seconds(value);
  if (kind === 'stale') return value === true ? true : seconds(value);
  if (value === true) return true;
  const names = value.split(',').map((n) => n.trim()).filter((n) => n !== '');
  return names.length > 0 ? names : true;
}

function write(value: unknown, kind: Kind): DirectiveValue | undefined {
  if (value == null || value === false) return undefined;
  if (value === true && kind !== 'seconds') return true;
  if (kind === 'flag') throw new TypeError(`expected a boolean, got ${String(value)}`);
  if (kind === 'fields') {
    if (!Array.isArray(value) || !value.every((n) => typeof n === 'string' && isToken(n))) {
      throw new TypeError(`expected true or a list of field names, got ${String(value)}`);
    }
    return value.length > 0 ? value.join(', ') : true;
  }
  if (typeof value !== 'number') throw new TypeError(`expected a number of seconds, got ${String(value)}`);
  return checkSeconds(value);
}

/**
 * A parsed `Cache-Control` header. Fields read `null` (numbers) or `false` (flags) when the
 * directive is absent; setting `null`, `undefined` or `false` removes it. Numbers above 2^31
 * are stored as 2147483648. Setting an invalid value (a negative or fractional number, a
 * non-token field name, a string for a flag) throws `RangeError` or `TypeError` and changes
 * nothing. Request-only directives: `maxStale`, `minFresh`,
 * `onlyIfCached`; response-only: `sMaxAge`, `public`, `private`, `mustRevalidate`,
 * `proxyRevalidate`, `immutable`, `mustUnderstand`, `staleWhileRevalidate`.
 */
export class CacheControl {
  /** `max-age`: seconds the response stays fresh, or a request's maximum acceptable age. */
  declare maxAge: number | null;
  /** `s-maxage`: `max-age` for shared caches. */
  declare sMaxAge: number | null;
  /** `stale-while-revalidate` (RFC 5861 §3): seconds a stale response may serve while revalidating. */
  declare staleWhileRevalidate: number | null;
  /** `stale-if-error` (RFC 5861 §4): seconds a stale response may serve on errors. */
  declare staleIfError: number | null;
  /** `min-fresh` (request): seconds of freshness still required. */
  declare minFresh: number | null;
  /** `max-stale` (request): `true` (any staleness) or the seconds of staleness accepted. */
  declare maxStale: number | true | null;
  /** `no-cache`: `true`, or the field names it applies to (`no-cache="Set-Cookie"`). */
  declare noCache: boolean | string[];
  /** `private`: `true`, or the field names it applies to. */
  declare 'private': boolean | string[];
  /** `no-store`. */
  declare noStore: boolean;
  /** `public`. */
  declare 'public': boolean;
  /** `must-revalidate`. */
  declare mustRevalidate: boolean;
  /** `proxy-revalidate`. */
  declare proxyRevalidate: boolean;
  /** `immutable` (RFC 8246). */
  declare immutable: boolean;
  /** `no-transform`. */
  declare noTransform: boolean;
  /** `only-if-cached` (request). */
  declare onlyIfCached: boolean;
  /** `must-understand`. */
  declare mustUnderstand: boolean;

  readonly #directives = new Map<string, DirectiveValue>();
  readonly #onChange: ((value: string) => void) | undefined;

  static {
    for (const [property, name, kind] of FIELDS) {
      Object.defineProperty(CacheControl.prototype, property, {
        configurable: true,
        get(this: CacheControl) {
          return read(this.#directives.get(name), kind);
        },
        set(this: CacheControl, value: unknown) {
          this.set(name, write(value, kind) ?? null);
        },
      });
    }
  }

  /**
   * @param value - the raw header (`null`/`undefined` when absent; duplicate header lines
   *   joined with `, ` parse as one list, but an unterminated quoted-string in one line then
   *   takes in the lines after it: a `Response`'s `cacheControl` parses each line on its own).
   * @param onChange - called with the new header value (`''` when no directive is left)
   *   after every change.
   */
  constructor(value?: string | null, onChange?: (value: string) => void) {
    this.#onChange = onChange;
    if (typeof value === 'string') parseInto(value, this.#directives);
  }

  /** A directive's argument by name (case-insensitive): a string, `true` when it has none, or `undefined`. */
  get(name: string): DirectiveValue | undefined {
    return this.#directives.get(name.toLowerCase());
  }

  /** True when the directive is present. */
  has(name: string): boolean {
    return this.#directives.has(name.toLowerCase());
  }

  /**
   * Sets any directive (`true`: without argument; `null`: removes it), keeping its position
   * when present. The argument is quoted on output when it is not a token.
   *
   * @throws TypeError for a name that is not a token, or an argument with control characters.
   */
  set(name: string, value: DirectiveValue | null): this {
    if (!isToken(name)) throw new TypeError(`invalid Cache-Control directive ${JSON.stringify(name)}`);
    if (typeof value === 'string') quoteString(value); // validates
    const key = name.toLowerCase();
    if (value === null) this.#directives.delete(key);
    else this.#directives.set(key, value);
    this.#onChange?.(this.toString());
    return this;
  }

  /** Removes a directive; answers whether it was present. */
  delete(name: string): boolean {
    const had = this.has(name);
    if (had) this.set(name, null);
    return had;
  }

  /** The directives that have no field here, in header order. */
  get extensions(): Record<string, DirectiveValue> {
    const out: Record<string, DirectiveValue> = Object.create(null);
    for (const [name, value] of this.#directives) if (!REGISTERED.has(name)) out[name] = value;
    return out;
  }

  /** All directives in header order, as `[name, argument]`. */
  entries(): Array<[string, DirectiveValue]> {
    return [...this.#directives];
  }

  /** The header value: directives in order, `no-cache`/`private` lists always quoted. */
  toString(): string {
    const parts: string[] = [];
    for (const [name, value] of this.#directives) {
      if (value === true) parts.push(name);
      else if (name === 'no-cache' || name === 'private') parts.push(`${name}=${quoteString(value)}`);
      else parts.push(`${name}=${tokenOrQuoted(value)}`);
    }
    return parts.join(', ');
  }
}

/**
 * The value of a field's lines with `Cache-Control` syntax (`Cache-Control`,
 * `CDN-Cache-Control`, `Surrogate-Control`) taken together as one list (RFC 9110 §5.3), each
 * line parsed on its own first: a quoted-string cannot span lines, so a malformed line (an
 * unterminated `no-cache="Set-Cookie`) loses its own directives only, not the next lines'.
 * `null` when there is no line; a single line as it is.
 */
export function joinCacheControlLines(lines: readonly string[]): string | null {
  if (lines.length < 2) return lines[0] ?? null;
  return lines.map((line) => new CacheControl(line).toString()).join(', ');
}

function parseInto(value: string, directives: Map<string, DirectiveValue>): void {
  const c = new Cursor(value);
  for (c.skipEmptyElements(); !c.done; c.skipEmptyElements()) {
    const name = c.token()?.toLowerCase();
    let argument: DirectiveValue | null = true;
    c.ows();
    if (name !== undefined && c.eat('=')) {
      c.ows();
      argument = c.tokenOrQuoted();
    }
    if (name === undefined || argument === null || !c.endOfElement()) {
      c.skipElement();
      continue;
    }
    if (!directives.has(name)) directives.set(name, argument);
  }
}
