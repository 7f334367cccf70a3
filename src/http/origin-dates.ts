/**
 * A response's `Last-Modified` and `Date` as an origin server sends them (RFC 9110 §8.8.2.1,
 * §6.6.1), from one reading of the clock. Internal: used by `Response` serving and `fileApp`.
 *
 * @module
 */
import { formatHttpDate, httpSeconds, parseHttpDate, pastLastModified } from './dates.ts';
import { HeaderList } from './header-list.ts';

/**
 * `headers` as sent at `now` (ms since the epoch; default `Date.now()`, read only when there is a `Last-Modified`): a `Last-Modified`
 * later than `now` is sent as `now` (see `pastLastModified`), and one that falls in the second
 * of `now`, when `headers` has no `Date`, comes with a `Date` of `now` too. Node's own `Date`
 * is a string cached for up to a second, refreshed by a timer a busy event loop delays: it
 * could name the second before, and a `Last-Modified` must not be later than the `Date`.
 * `headers` itself when nothing changes, else a copy. Never throws.
 */
export function originDates(headers: HeaderList, now?: number): HeaderList {
  const value = headers.get('last-modified');
  if (value === null) return headers;
  // The clock is read only for a response that has a Last-Modified (the fast path has none).
  now ??= Date.now();
  const past = pastLastModified(value, now);
  const date = parseHttpDate(past);
  const dated = date !== null && httpSeconds(date) === httpSeconds(now) && !headers.has('date');
  if (past === value && !dated) return headers;
  const sent = new HeaderList(headers).set('Last-Modified', past);
  if (dated) sent.set('Date', formatHttpDate(now));
  return sent;
}
