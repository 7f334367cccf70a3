/**
 * Caching headers of a `Response`: `Cache-Control`, `Expires` by `cacheExpires`, `Vary`.
 *
 * @module
 */
import { liveCacheControl, nonEmptyList, tokenListOf } from '../http/converters.ts';
import { PARSED, type ParseCache, type ParsedValues, field, fromHeaders, liveField } from '../http/descriptors.ts';
import { type HeaderList, appendVary } from '../http/header-list.ts';
import { type CacheControl, joinCacheControlLines } from '../http/cache-control.ts';
import { MAX_DELTA_SECONDS, formatHttpDate } from '../http/dates.ts';

const CACHE_CONTROL = liveField(fromHeaders('Cache-Control', { join: joinCacheControlLines }), liveCacheControl);
const VARY = field(fromHeaders('Vary', { all: true }), tokenListOf('Vary', nonEmptyList));
const EXPIRED = 'Thu, 01 Jan 1970 00:00:00 GMT';

/** Caching headers of a `Response` (installed on it; see `descriptors.ts`). */
export abstract class ResponseCaching implements ParseCache {
  declare readonly headers: HeaderList;
  abstract [PARSED](): ParsedValues;

  /**
   * `Cache-Control` (RFC 9111 §5.2) as a live {@link CacheControl}: setting a field rewrites
   * the header (`res.cacheControl.maxAge = 60`, `res.cacheControl.noStore = true`), and the
   * object is re-parsed when the header is changed by other means. Removing every directive
   * removes the header. Never throws on a malformed header (bad directives are dropped).
   */
  get cacheControl(): CacheControl {
    return CACHE_CONTROL.get(this);
  }

  /**
   * Makes the response cacheable for `seconds` (WebOb's `cache_expires`): `max-age=seconds`
   * (dropping a bare `no-cache` and `no-store`; other directives stay, a `no-cache` naming fields,
   * `no-cache="Set-Cookie"`, among them) and `Expires` that many seconds
   * from now. `0` means do not cache: `Cache-Control: no-cache, no-store, must-revalidate,
   * max-age=0` (other directives stay), `Expires` in the past (1970) and `Pragma: no-cache` for
   * HTTP/1.0 caches. More than 2^31 seconds (68 years) counts as 2^31, in `max-age` (RFC 9111
   * §1.2.2) and `Expires` alike.
   *
   * @throws RangeError unless `seconds` is a non-negative integer.
   */
  cacheExpires(seconds: number): this {
    if (!Number.isSafeInteger(seconds) || seconds < 0) {
      throw new RangeError(`cacheExpires() takes whole seconds >= 0, got ${seconds}`);
    }
    const cc = this.cacheControl;
    if (seconds === 0) {
      cc.noCache = true;
      cc.noStore = true;
      cc.mustRevalidate = true;
      cc.maxAge = 0;
      this.headers.set('Expires', EXPIRED);
      this.headers.set('Pragma', 'no-cache');
    } else {
      // A bare `no-cache` (revalidate each time) is what a lifetime replaces; one naming fields
      // (`no-cache="Set-Cookie"`) lets the rest be stored and still keeps those fields from a
      // shared cache (RFC 9111 §5.2.2.4, §7.3): it stays, as `private="Set-Cookie"` does.
      if (cc.noCache === true) cc.noCache = false;
      cc.noStore = false;
      cc.maxAge = seconds;
      // Beyond 2^31 seconds (68 years) `max-age` says 2^31 (RFC 9111 §1.2.2), and so does `Expires`.
      this.headers.set('Expires', formatHttpDate(Date.now() + Math.min(seconds, MAX_DELTA_SECONDS) * 1000));
      this.headers.delete('pragma');
    }
    return this;
  }

  /**
   * `Vary` (RFC 9110 §12.5.5) as a list of field names (`*` included as is); set a list, or
   * `null` or an empty list to remove it. A header value is taken as a comma-separated list.
   *
   * @throws TypeError for a name that is not a token (RFC 9110 §5.1: `res.vary = ['Accept
   *   Encoding']`, `invalid Vary: "Accept Encoding" is not a token`), as `addVary` throws; a
   *   member of a list is one name.
   */
  get vary(): string[] {
    return VARY.get(this);
  }
  set vary(value: Iterable<string> | null) {
    VARY.set(this, value);
  }

  /**
   * Adds field names to `Vary` with the `vary` package: once each, case-insensitively, and
   * not at all when `Vary: *` is already there.
   *
   * @throws TypeError for a field name that is not a token.
   */
  addVary(...fields: string[]): this {
    appendVary(this.headers.list, fields);
    return this;
  }
}
