/**
 * Proactive content negotiation (RFC 9110 §12.5): `Accept`, `Accept-Charset`,
 * `Accept-Encoding` and `Accept-Language`, one class each, built from the raw header value
 * (`null`/`undefined` when the header was not sent). Nothing here throws on bad input.
 *
 * ```ts
 * const accept = new Accept('text/html;q=0.5, text/*;q=0.9, application/json');
 * accept.bestMatch(['text/html', 'application/json']); // 'application/json'
 * accept.quality('text/plain');                        // 0.9
 * accept.acceptableOffers(['text/html', 'image/png']); // ['text/html']
 * ```
 *
 * Every class answers `quality(offer)`, `acceptableOffers(offers)` (best first: quality,
 * then specificity of the matching range, then offer order), `bestMatch(offers, default?)`,
 * `present`, `malformed`, `ranges` and `toString()`; see {@link AcceptHeader} and the notes
 * on malformed headers in `accept-header.ts`.
 *
 * @module
 */
import { type AcceptMatch, type AcceptRange, AcceptHeader } from './accept-header.ts';
import { parseMediaType, type MediaType } from './media-type.ts';

export { AcceptHeader, type AcceptRange } from './accept-header.ts';

/**
 * `Accept` (RFC 9110 §12.5.1): media ranges such as `text/html`, `text/*`, `*\/*`, with
 * parameters. `type/subtype` beats `type/*` beats `*\/*`; a range with parameters matches
 * only offers that carry the same parameters (values compared case-insensitively) and beats
 * the same range without them. Offers are media types (`text/html; level=1`); an offer that
 * is not `type/subtype` matches nothing (but is acceptable when the header is absent).
 */
export class Accept extends AcceptHeader {
  #offer = '';
  #parsed: MediaType = parseMediaType('');

  /** @param value - the raw `Accept` header, or `null`/`undefined` when not sent. */
  constructor(value?: string | null) {
    super(value, 'media');
  }

  protected specificity(range: AcceptRange, offer: string): number {
    if (offer !== this.#offer) {
      this.#offer = offer;
      this.#parsed = parseMediaType(offer);
    }
    const { type: full, parameters } = this.#parsed;
    const slash = full.indexOf('/');
    if (slash === -1) return -Infinity;
    const [type, subtype] = range.value.split('/') as [string, string];
    let base = 0;
    if (type !== '*') {
      if (type !== full.slice(0, slash)) return -Infinity;
      base = 1;
      if (subtype !== '*') {
        if (subtype !== full.slice(slash + 1)) return -Infinity;
        base = 2;
      }
    }
    const names = Object.keys(range.params);
    for (const name of names) {
      if (range.params[name]!.toLowerCase() !== parameters[name]?.toLowerCase()) return -Infinity;
    }
    return base * 1000 + names.length;
  }
}

/**
 * `Accept-Charset` (RFC 9110 §12.5.2): charset names compared case-insensitively; `*`
 * matches any charset not listed more specifically.
 */
export class AcceptCharset extends AcceptHeader {
  /** @param value - the raw `Accept-Charset` header, or `null`/`undefined` when not sent. */
  constructor(value?: string | null) {
    super(value, 'charset');
  }

  protected specificity(range: AcceptRange, offer: string): number {
    if (range.value === '*') return 0;
    return range.value.toLowerCase() === offer.toLowerCase() ? 1 : -Infinity;
  }
}

/** Content-coding aliases recipients treat as equivalent (RFC 9110 §8.4.1.1, §8.4.1.3). */
const CODING_ALIASES: Record<string, string> = { 'x-gzip': 'gzip', 'x-compress': 'compress' };

function coding(name: string): string {
  const lower = name.toLowerCase();
  return CODING_ALIASES[lower] ?? lower;
}

/**
 * `Accept-Encoding` (RFC 9110 §12.5.3): content codings compared case-insensitively, with
 * `x-gzip`/`x-compress` equal to `gzip`/`compress`; `*` matches any coding not listed.
 *
 * `identity` (no coding) is acceptable unless excluded by `identity;q=0`, or by `*;q=0`
 * without a more specific `identity` entry; when the header does not mention it, its quality
 * is the lowest non-zero weight in the header (1 if none) and it ranks after an explicitly
 * listed coding of equal weight (as `negotiator` does).
 *
 * An empty header means identity only (RFC 9110 §12.5.3). **An absent or malformed header
 * also means identity only**: RFC 9110 would allow any coding, but compressing for a client
 * that did not ask breaks curl and old clients, so we follow `negotiator`, nginx and
 * Express. `present` still tells the cases apart.
 */
export class AcceptEncoding extends AcceptHeader {
  /** @param value - the raw `Accept-Encoding` header, or `null`/`undefined` when not sent. */
  constructor(value?: string | null) {
    super(value, 'encoding');
  }

  protected specificity(range: AcceptRange, offer: string): number {
    if (range.value === '*') return 0;
    return coding(range.value) === coding(offer) ? 1 : -Infinity;
  }

  protected override fallback(offer: string): AcceptMatch {
    if (coding(offer) !== 'identity') return { q: 0, s: -Infinity };
    let q = 1;
    for (const range of this.ranges) if (range.q > 0 && range.q < q) q = range.q;
    return { q, s: -1 };
  }
}

/**
 * `Accept-Language` (RFC 9110 §12.5.4) with RFC 4647 §3.3.1 basic filtering: a range
 * matches a tag equal to it or starting with it followed by `-` (`en` matches `en-US`;
 * longer ranges are more specific), compared case-insensitively; `*` matches any tag.
 *
 * Like `negotiator` and Werkzeug, a range also matches an offer that is a prefix of it
 * (`de-DE` accepts the offer `de`), less specifically than any basic-filtering match but more
 * than `*`: clients rarely list the bare language, and servers rarely offer every region.
 */
export class AcceptLanguage extends AcceptHeader {
  /** @param value - the raw `Accept-Language` header, or `null`/`undefined` when not sent. */
  constructor(value?: string | null) {
    super(value, 'language');
  }

  protected specificity(range: AcceptRange, offer: string): number {
    if (range.value === '*') return 0;
    const r = range.value.toLowerCase();
    const o = offer.toLowerCase();
    const rangeTags = r.split('-').length;
    if (o === r || o.startsWith(`${r}-`)) return 1000 + rangeTags;
    if (r.startsWith(`${o}-`)) return Math.max(1, 500 - (rangeTags - o.split('-').length));
    return -Infinity;
  }
}
