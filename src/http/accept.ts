/**
 * Proactive content negotiation (RFC 9110 §12.5): `Accept`, `Accept-Charset`,
 * `Accept-Encoding` and `Accept-Language`, one class each, built from the raw header value
 * (`null`/`undefined` when the header was not sent). Matching and ordering are `negotiator`'s,
 * except language matching (RFC 4647, see {@link AcceptLanguage}); validation, `present` and
 * `quality(offer)` are ours (see `accept-header.ts`). Nothing here throws on bad input.
 *
 * ```ts
 * const accept = new Accept('text/html;q=0.5, text/*;q=0.9, application/json');
 * accept.bestMatch(['text/html', 'application/json']); // 'application/json'
 * accept.quality('text/plain');                        // 0.9
 * accept.acceptableOffers(['text/html', 'image/png']); // ['text/html']
 * ```
 *
 * Every class answers `quality(offer)`, `acceptableOffers(offers)`, `bestMatch(offers,
 * default?)`, `present`, `malformed`, `ranges` and `toString()`; see {@link AcceptHeader}.
 *
 * **Order of `acceptableOffers`** (`negotiator`'s rules, for languages too): higher quality
 * first; then the more specific matching range (see each class); then the range that comes
 * first in the header; then the offer that comes first in the list given. So with `Accept: text/html,
 * application/json` both are q=1 and equally specific, and `text/html` wins because the client
 * listed it first, whatever the order of the offers.
 *
 * @module
 */
import { type AcceptRange, AcceptHeader, negotiateCanonical } from './accept-header.ts';
import { languageRangeSpecificity } from './language-range.ts';
import { parseMediaType } from './media-type.ts';
import mime from 'mime-types';

export { AcceptHeader, type AcceptRange } from './accept-header.ts';

/** Trims OWS and lower-cases what precedes the first `;`, as `negotiator` reads an offer (`AcceptLanguage` too). */
function offerType(offer: string): string {
  const semi = offer.indexOf(';');
  return (semi === -1 ? offer : offer.slice(0, semi)).replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase();
}

/**
 * An offer as a media type: a shorthand without `/` (`json`, `html`, `.csv`) is the type
 * `mime-types` gives its extension (`application/json`, `text/html`, `text/csv`), as Express's
 * `req.accepts('json')` reads it; anything else (and a shorthand nobody knows) as given.
 */
function offerMediaType(offer: string): string {
  if (offer.indexOf('/') !== -1) return offer;
  const type = mime.lookup(offer.trim());
  return type === false ? offer : type;
}

interface ParsedOffer {
  type: string;
  subtype: string;
  params: Record<string, string>;
}

/**
 * `Accept` (RFC 9110 §12.5.1): media ranges such as `text/html`, `text/*`, `*\/*`, with
 * parameters. Offers are media types (`text/html; level=1`).
 *
 * Specificity (`negotiator`): an exact type counts 4, an exact subtype 2, and parameters 1;
 * a range with parameters matches only offers whose parameters have the same values
 * (case-insensitively; a range parameter `*` matches any value). So `text/html;level=1` beats
 * `text/html` beats `text/*` beats `*\/*`.
 *
 * An offer may also be a file extension, as Express's `req.accepts('json')` takes one (the
 * `accepts` package): `json`, `html`, `.csv` are matched as the type `mime-types` gives them
 * (`application/json`, `text/html`, `text/csv`) and answered as given, so
 * `bestMatch(['html', 'json'])` answers `'html'` or `'json'`. An offer that is neither
 * `type/subtype` nor a known extension matches nothing (but is acceptable, like every offer,
 * when the header is absent).
 */
export class Accept extends AcceptHeader {
  #offer: string | null = null;
  #parsed: ParsedOffer | null = null;

  /** @param value - the raw `Accept` header, or `null`/`undefined` when not sent. */
  constructor(value?: string | null) {
    super(value, 'media');
  }

  /** The offer as `negotiator` reads it, or `null` when it is not `type/subtype`. */
  #parse(offer: string): ParsedOffer | null {
    if (offer !== this.#offer) {
      this.#offer = offer;
      const type = offerMediaType(offer);
      const full = offerType(type);
      const slash = full.indexOf('/');
      const params = parseMediaType(type).parameters;
      delete params.q;
      this.#parsed = slash === -1 ? null : { type: full.slice(0, slash), subtype: full.slice(slash + 1), params };
    }
    return this.#parsed;
  }

  protected specificity(range: AcceptRange, offer: string): number {
    const p = this.#parse(offer);
    if (p === null) return -1;
    const slash = range.value.indexOf('/');
    const type = range.value.slice(0, slash);
    const subtype = range.value.slice(slash + 1);
    let s = 0;
    if (type === p.type) s |= 4;
    else if (type !== '*') return -1;
    if (subtype === p.subtype) s |= 2;
    else if (subtype !== '*') return -1;
    const names = Object.keys(range.params);
    if (names.length > 0) {
      for (const name of names) {
        const want = range.params[name]!;
        if (want !== '*' && want.toLowerCase() !== (p.params[name] ?? '').toLowerCase()) return -1;
      }
      s |= 1;
    }
    return s;
  }

  protected negotiate(offers: readonly string[]): string[] {
    // Media types (the error bodies' negotiation, most calls) go straight to `negotiator`: the
    // rewriting's arrays and map are for a list holding an extension.
    for (let i = 0; i < offers.length; i++) {
      if (offers[i]!.indexOf('/') === -1) return negotiateCanonical(offers, offerMediaType, (list) => this.negotiator.mediaTypes(list));
    }
    return this.negotiator.mediaTypes(offers as string[]);
  }
}

/**
 * `Accept-Charset` (RFC 9110 §12.5.2): charset names compared case-insensitively (an exact
 * name counts 1); `*` matches any charset (0).
 */
export class AcceptCharset extends AcceptHeader {
  /** @param value - the raw `Accept-Charset` header, or `null`/`undefined` when not sent. */
  constructor(value?: string | null) {
    super(value, 'charset');
  }

  protected specificity(range: AcceptRange, offer: string): number {
    if (range.value.toLowerCase() === offer.toLowerCase()) return 1;
    return range.value === '*' ? 0 : -1;
  }

  protected negotiate(offers: readonly string[]): string[] {
    return this.negotiator.charsets(offers);
  }
}

/** Content-coding aliases recipients treat as equivalent (RFC 9110 §8.4.1.1, §8.4.1.3). */
const CODING_ALIASES: ReadonlyMap<string, string> = new Map([
  ['x-gzip', 'gzip'],
  ['x-compress', 'compress'],
]);

/** The coding `name` stands for, lower-cased, aliases resolved (`X-GZIP` → `gzip`). */
function coding(name: string): string {
  const lower = name.toLowerCase();
  return CODING_ALIASES.get(lower) ?? lower;
}

/**
 * `Accept-Encoding` (RFC 9110 §12.5.3): content codings compared case-insensitively (an exact
 * name counts 1), with `x-gzip`/`x-compress` equal to `gzip`/`compress`; `*` matches any
 * coding (0).
 *
 * `identity` (no coding) is acceptable unless excluded by `identity;q=0`, or by `*;q=0`
 * without a more specific `identity` entry; when the header does not mention it (nor `*`), its
 * quality is the lowest non-zero weight in the header (1 if none) and it ranks after the
 * listed codings of equal weight (`negotiator`'s rule).
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
    if (coding(range.value) === coding(offer)) return 1;
    return range.value === '*' ? 0 : -1;
  }

  protected override unmatched(offer: string): number {
    if (coding(offer) !== 'identity') return 0;
    let q = 1;
    for (const range of this.ranges) if (range.q > 0 && range.q < q) q = range.q;
    return q;
  }

  protected override absentOffers(offers: readonly string[]): string[] {
    return this.negotiate(offers); // no ranges: negotiator reads an empty header
  }

  protected override canonical(value: string): string {
    return coding(value);
  }

  protected negotiate(offers: readonly string[]): string[] {
    return negotiateCanonical(offers, coding, (list) => this.negotiator.encodings(list));
  }
}

/**
 * `Accept-Language` (RFC 9110 §12.5.4): language ranges matched against the offered tags by
 * RFC 4647, case-insensitively, with `_` in an offer read as `-` (see `language-range.ts`):
 *
 * - a range equal to the offer is the most specific (`en-US` ↔ `en-US`);
 * - a range that is a prefix of the offer up to a `-` accepts it (RFC 4647 §3.3.1 basic
 *   filtering, WebOb's `basic_filtering`): `zh-Hant` accepts `zh-Hant-TW` and `zh-Hant-HK`,
 *   not `zh-Hans`; `en` accepts `en-US`;
 * - a range that the offer is a prefix of accepts it too, unless its weight is 0 (RFC 4647
 *   §3.4 lookup's subtag truncation, WebOb's `lookup`, Werkzeug's `best_match` fallback):
 *   `de-DE` accepts `de`, `de-DE-1996` accepts `de-DE`; `en-GB;q=0` does not exclude `en`;
 * - `*` accepts anything, least specifically.
 *
 * The weight is that of the most specific matching range: an exact match, else the range
 * sharing the most leading subtags with the offer (`zh-Hant;q=0.5, zh` gives `zh-Hant-TW`
 * 0.5; `en-GB;q=0, en` excludes `en-GB` and accepts `en-US`; `en;q=0, en-GB` accepts only
 * `en-GB`). Offers are ordered as `negotiator` orders (see the module notes) with this
 * specificity.
 */
export class AcceptLanguage extends AcceptHeader {
  #offer = '';
  #tag = '';

  /** @param value - the raw `Accept-Language` header, or `null`/`undefined` when not sent. */
  constructor(value?: string | null) {
    super(value, 'language');
  }

  protected specificity(range: AcceptRange, offer: string): number {
    if (offer !== this.#offer) {
      this.#offer = offer;
      this.#tag = offerType(offer).replaceAll('_', '-');
    }
    return languageRangeSpecificity(range.value, range.q, this.#tag);
  }

  protected negotiate(offers: readonly string[]): string[] {
    return this.preferred(offers);
  }
}
