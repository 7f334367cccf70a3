/**
 * A live, case-insensitive view of the request headers held in an environ (WebOb's
 * `EnvironHeaders`).
 *
 * @module
 */
import { type Environ } from '../gateway/types.ts';
import { assertHeader, fieldText, isToken } from '../gateway/fields.ts';
import { headerEnvironKey, headerName } from '../gateway/header-keys.ts';

/**
 * Request headers read from and written to an environ. Reads see what middleware changed;
 * writes change what the app below sees. Repeated headers arrive joined into one value
 * (`, `, or `; ` for Cookie), as the server put them in the environ.
 *
 * Header names with `_` never reach the environ (servers drop them), so `get('X_Forwarded_For')`
 * finds nothing rather than `X-Forwarded-For`. Names compare in ASCII case only (RFC 9110 §5.1),
 * so a name that is not a token finds nothing either: `get('hoſt')` (long s, which JavaScript
 * upper-cases to `S`) is not `Host`.
 */
export class EnvironHeaders implements Iterable<[string, string]> {
  /** The environ this view reads and writes. */
  readonly environ: Environ;

  constructor(environ: Environ) {
    this.environ = environ;
  }

  /** The value of `name`, or `null` (always for a name with `_` or that is not a token). */
  get(name: string): string | null {
    if (!storable(name)) return null;
    const value = this.environ[headerEnvironKey(name)];
    return typeof value === 'string' ? value : null;
  }

  /** True when `name` is present. */
  has(name: string): boolean {
    return this.get(name) !== null;
  }

  /**
   * Sets (or with `null` or `undefined`, deletes) a header in the environ, as
   * `HeaderList.set` does: a finite number is written in decimal (`set('Content-Length', 42)`
   * stores `'42'`), a bigint or a boolean as `String()` writes it (`10n` is `10`, `true` is `true`).
   *
   * @throws TypeError for an invalid name (including one with `_`), a value with CR/LF/NUL, or
   *   a value of another type (an object, a symbol, `NaN`, `Infinity`).
   */
  set(name: string, value: string | number | null | undefined): void {
    if (value === null || value === undefined) {
      this.delete(name);
      return;
    }
    const text = typeof value === 'string' ? value : fieldText(name, value);
    assertHeader(name, text);
    if (name.includes('_')) throw new TypeError(`header names with "_" cannot be stored in an environ: ${name}`);
    this.environ[headerEnvironKey(name)] = text;
  }

  /** Removes `name` (nothing for a name with `_` or that is not a token). */
  delete(name: string): void {
    if (storable(name)) delete this.environ[headerEnvironKey(name)];
  }

  /**
   * The names present, as `Title-Case`: those `get` finds. Stray `HTTP_CONTENT_TYPE` /
   * `HTTP_CONTENT_LENGTH` keys (some servers add them) are skipped, as Werkzeug does: those
   * headers live in `CONTENT_TYPE` / `CONTENT_LENGTH`. So is a key no header name maps to (not
   * upper case, `HTTP_` alone, a name that is not a token), which no server makes.
   */
  keys(): string[] {
    const out: string[] = [];
    for (const key of Object.keys(this.environ)) {
      if (key === 'HTTP_CONTENT_TYPE' || key === 'HTTP_CONTENT_LENGTH') continue;
      const name = headerName(key);
      if (name === null || typeof this.environ[key] !== 'string') continue;
      if (storable(name) && headerEnvironKey(name) === key) out.push(name);
    }
    return out;
  }

  /**
   * `[name, value]` pairs: the names present when the iteration began ({@link keys}), each
   * with its value when reached. A header deleted in the loop before it is reached is skipped,
   * never answered as `null`; one added in the loop is not visited.
   */
  *entries(): IterableIterator<[string, string]> {
    for (const name of this.keys()) {
      const value = this.get(name);
      if (value !== null) yield [name, value];
    }
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /** A record of lower-cased names to values. */
  toJSON(): Record<string, string> {
    const out: Record<string, string> = Object.create(null);
    for (const [name, value] of this.entries()) out[name.toLowerCase()] = value;
    return out;
  }
}

/**
 * True when `name` can be a request header in an environ: a token (RFC 9110 §5.1) without `_`.
 * Anything else would reach another header's key through `toUpperCase()`, which folds
 * non-ASCII letters into ASCII ones (`ſ` → `S`, `ß` → `SS`).
 */
function storable(name: string): boolean {
  return isToken(name) && !name.includes('_');
}
