/**
 * The engine shared by the Accept-* classes of `accept.ts`: validation (RFC 9110 §12.4.2,
 * §12.5), `quality(offer)`, and the hand-over to `negotiator` for matching and ordering.
 *
 * **Who does what.** `negotiator` decides which offers are acceptable and in which order
 * (`acceptableOffers`, `bestMatch`): its rules are the ones Express, Koa and Fastify users
 * already get. The exception is `Accept-Language`, whose RFC 4647 matching `negotiator` cannot
 * express (it compares only the primary subtag): there `preferred()` orders the offers the way
 * `negotiator` would, with `AcceptLanguage`'s own specificity. This module does only what
 * `negotiator` cannot:
 *
 * - **Validation.** `negotiator` reads anything and never says a header was garbage. Here a
 *   header is malformed when any non-empty list element breaks the RFC 9110 grammar: a range
 *   that is not `type/subtype`, `type/*` or `*\/*` (Accept), a token (Accept-Charset /
 *   -Encoding) or an RFC 4647 language-range (`en`, `zh-Hant-TW`, `*`); a parameter that is
 *   not `token=token` or `token="quoted"`; a weight that is not a qvalue (`0` to `1`, at most
 *   three decimals, unquoted); or stray characters. A malformed header is treated exactly as
 *   an absent one (as WebOb does) and `malformed` says so. Empty list elements (`a, , b`) and
 *   OWS around `;` are allowed (RFC 9110 §5.6.1.2 / §5.6.6). An empty `Accept`,
 *   `Accept-Charset` or `Accept-Language` is treated as absent too (as Werkzeug does).
 *   A well-formed header is handed to `negotiator` in canonical form (see `toString()`), so
 *   parameters after the weight (RFC 7231 `accept-ext`) never take part in matching.
 * - **`present`**, **`malformed`**, **`ranges`**: what was sent.
 * - **`quality(offer)`**: the weight of one offer, computed with `negotiator`'s own matching
 *   rules (re-stated in each subclass; `AcceptLanguage`'s own), so that `quality(o) > 0`
 *   exactly when `o` is in `acceptableOffers`, which is sorted by non-increasing quality
 *   (tested as a property).
 *
 * @module
 */
import Negotiator from 'negotiator';
import { Cursor, tokenOrQuoted } from './syntax.ts';
import { shownText, shownValue } from '../gateway/shown.ts';

/** One element of an Accept-* header, in header order. */
export interface AcceptRange {
  /** The range as sent (`text/*`, `en-US`, `gzip`, `*`); media types are lower-cased. */
  readonly value: string;
  /** The weight, 0 to 1 (1 when no `q` was sent). */
  readonly q: number;
  /** Media-range parameters before the weight, names lower-cased (Accept only). */
  readonly params: Readonly<Record<string, string>>;
}

/** Which grammar an Accept-* header follows. */
export type AcceptKind = 'media' | 'charset' | 'encoding' | 'language';

const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;
const LANGUAGE_RANGE = /^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$/;

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze(Object.create(null));

/**
 * What the subclasses use of a `negotiator` instance: its orderings of offers. Declared here
 * so the shipped types do not name the `negotiator` package, whose types a consumer lacks.
 */
export interface OfferNegotiator {
  mediaTypes(offers?: readonly string[]): string[];
  charsets(offers?: readonly string[]): string[];
  encodings(offers?: readonly string[]): string[];
}

/** The request header `negotiator` reads for each kind it negotiates (not languages). */
const HEADER_NAMES: Readonly<Record<AcceptKind, string>> = {
  media: 'accept',
  charset: 'accept-charset',
  encoding: 'accept-encoding',
  language: 'accept-language', // unused: AcceptLanguage orders with preferred()
};

const same = (value: string): string => value;

/**
 * The shared engine of `Accept`, `AcceptCharset`, `AcceptEncoding` and `AcceptLanguage`;
 * subclasses say how a range matches an offer (as `negotiator` does, or for languages as
 * RFC 4647 does) and who orders the offers. Not constructed directly.
 */
export abstract class AcceptHeader {
  /** The header value as received, or `null` when it was not sent. */
  readonly value: string | null;
  /** True when the header was sent, well-formed, and so constrains the answer. */
  readonly present: boolean;
  /** True when a header was sent but ignored as malformed (see the module notes). */
  readonly malformed: boolean;
  /** The parsed elements in header order (empty when absent or malformed). */
  readonly ranges: readonly AcceptRange[];
  readonly #kind: AcceptKind;
  #negotiator: OfferNegotiator | undefined;

  protected constructor(value: string | null | undefined, kind: AcceptKind) {
    this.value = typeof value === 'string' ? value : null;
    const ranges = this.value === null ? [] : parseRanges(this.value, kind);
    this.malformed = ranges === null;
    const empty = ranges !== null && ranges.length === 0;
    this.present = ranges !== null && !(empty && kind !== 'encoding') && this.value !== null;
    this.ranges = Object.freeze(this.present ? ranges! : []);
    this.#kind = kind;
  }

  /**
   * The specificity of `range` for `offer` (higher is more specific; `negotiator`'s, or for
   * languages RFC 4647's), or -1 when the range does not match the offer.
   */
  protected abstract specificity(range: AcceptRange, offer: string): number;

  /** The acceptable `offers`, best first: {@link AcceptHeader.negotiator}'s or {@link AcceptHeader.preferred}'s order. */
  protected abstract negotiate(offers: readonly string[]): string[];

  /** A range value as handed to `negotiator`; as is unless a subclass resolves aliases. */
  protected canonical(value: string): string {
    return value;
  }

  /**
   * A `negotiator` reading the header in canonical form (the ranges, each value through
   * {@link AcceptHeader.canonical}; `''` when absent or malformed), built on first use: the
   * header never changes.
   */
  protected get negotiator(): OfferNegotiator {
    return (this.#negotiator ??= new Negotiator({
      headers: { [HEADER_NAMES[this.#kind]]: formatRanges(this.ranges, (value) => this.canonical(value)) },
    }));
  }

  /** The weight of an offer no range matches: 1 when the header is absent, else 0. */
  protected unmatched(_offer: string): number {
    return this.present ? 0 : 1;
  }

  /** The acceptable offers when no usable header was sent: all of them, in the order given. */
  protected absentOffers(offers: readonly string[]): string[] {
    return [...offers];
  }

  /**
   * The range that decides `offer`: the most specific match, then the higher weight, then the
   * earlier in the header; `null` when no range matches.
   */
  #decide(offer: string): { specificity: number; q: number; position: number } | null {
    let specificity = -1;
    let q = 0;
    let position = -1;
    for (let i = 0; i < this.ranges.length; i++) {
      const range = this.ranges[i]!;
      const s = this.specificity(range, offer);
      if (s > specificity || (s === specificity && s >= 0 && range.q > q)) {
        specificity = s;
        q = range.q;
        position = i;
      }
    }
    return specificity >= 0 ? { specificity, q, position } : null;
  }

  /**
   * The weight the client gives `offer`, 0 to 1: that of the most specific matching range
   * (ties: the higher weight), by each subclass's matching rules; 0 when nothing matches or the
   * match has `q=0`; 1 for anything when the header is absent or malformed (Accept-Encoding:
   * see there).
   *
   * @throws TypeError when `offer` is not a string.
   */
  quality(offer: string): number {
    if (typeof offer !== 'string') throw new TypeError(`${this.constructor.name}.quality: the offer must be a string, got ${shownValue(offer)}`);
    return this.#decide(offer)?.q ?? this.unmatched(offer);
  }

  /**
   * The offers with quality above 0, ordered by {@link AcceptHeader.specificity} with
   * `negotiator`'s comparison (see {@link AcceptHeader.acceptableOffers}): for a subclass whose
   * matching `negotiator` cannot express. Unmatched offers are left out.
   */
  protected preferred(offers: readonly string[]): string[] {
    const ranked: { offer: string; index: number; specificity: number; q: number; position: number }[] = [];
    offers.forEach((offer, index) => {
      const match = this.#decide(offer);
      if (match !== null && match.q > 0) ranked.push({ offer, index, ...match });
    });
    ranked.sort((a, b) => b.q - a.q || b.specificity - a.specificity || a.position - b.position || a.index - b.index);
    return ranked.map((r) => r.offer);
  }

  /**
   * The acceptable offers (quality above 0), best first, as `negotiator` orders them (for
   * `AcceptLanguage`, in the same way by its own matching): by quality; then by the specificity
   * of the range that matched; then by the position of that range in the header (earlier
   * first); then in the order given. Without a usable header, every offer in the order given
   * (Accept-Encoding: `identity` only).
   *
   * @throws TypeError when `offers` is not an array of strings, naming the first item that is
   *   not one (`AcceptLanguage.acceptableOffers: offer 1 must be a string, got undefined`).
   */
  acceptableOffers(offers: readonly string[]): string[] {
    checkOffers(offers, this, 'acceptableOffers');
    return this.#acceptable(offers);
  }

  /**
   * The best acceptable offer, else `defaultValue` (`null` when not given).
   *
   * @throws TypeError when `offers` is not an array of strings (`bestMatch('json')`: write
   *   `bestMatch(['json'])`), as `acceptableOffers` and `quality` refuse theirs.
   */
  bestMatch(offers: readonly string[]): string | null;
  bestMatch<T>(offers: readonly string[], defaultValue: T): string | T;
  bestMatch(offers: readonly string[], defaultValue: unknown = null): unknown {
    checkOffers(offers, this, 'bestMatch');
    return this.#acceptable(offers)[0] ?? defaultValue;
  }

  #acceptable(offers: readonly string[]): string[] {
    return this.present ? this.negotiate(offers) : this.absentOffers(offers);
  }

  /** The header in canonical form (`''` when absent or malformed). */
  toString(): string {
    return formatRanges(this.ranges, same);
  }
}

/**
 * Throws the `TypeError` of `header.method` (`Accept.bestMatch: …`) unless `offers` is an array
 * of strings: a string would be read as its characters (`'j'` for `bestMatch('json')`) where no
 * header was sent, and fail inside `negotiator` where one was.
 */
function checkOffers(offers: readonly string[], header: AcceptHeader, method: string): void {
  if (!Array.isArray(offers)) {
    const example = typeof offers === 'string' ? ` (${method}([${shownText(offers)}]))` : '';
    throw new TypeError(`${header.constructor.name}.${method}: the offers must be an array of strings${example}, got ${shownValue(offers)}`);
  }
  for (let i = 0; i < offers.length; i++) {
    if (typeof offers[i] !== 'string') {
      throw new TypeError(`${header.constructor.name}.${method}: offer ${i} must be a string, got ${shownValue(offers[i])}`);
    }
  }
}

/** Ranges as header text, each value through `value`: `a;p=v;q=0.5, b`. */
function formatRanges(ranges: readonly AcceptRange[], value: (value: string) => string): string {
  return ranges
    .map((r) => {
      let out = value(r.value);
      for (const [k, v] of Object.entries(r.params)) out += `;${k}=${tokenOrQuoted(v)}`;
      return r.q === 1 ? out : `${out};q=${r.q}`;
    })
    .join(', ');
}

/**
 * Runs `negotiate` on offers rewritten by `canonical` (e.g. `x-gzip` → `gzip`) and answers the
 * original offers in the order it chose. Equal rewritten offers get equal priorities and are
 * ordered by position, so the k-th one answered is the k-th one given.
 */
export function negotiateCanonical(
  offers: readonly string[],
  canonical: (offer: string) => string,
  negotiate: (offers: string[]) => string[],
): string[] {
  const rewritten = offers.map(canonical);
  const positions = new Map<string, number[]>();
  rewritten.forEach((value, index) => {
    const list = positions.get(value);
    if (list) list.push(index);
    else positions.set(value, [index]);
  });
  return negotiate(rewritten).map((value) => offers[positions.get(value)!.shift()!]!);
}

/** Parses a header into ranges, or `null` when malformed (see the module notes). */
function parseRanges(header: string, kind: AcceptKind): AcceptRange[] | null {
  const c = new Cursor(header);
  const ranges: AcceptRange[] = [];
  c.skipEmptyElements();
  while (!c.done) {
    let value = c.token();
    if (value === null) return null;
    if (kind === 'media') {
      const subtype = c.eat('/') ? c.token() : null;
      if (subtype === null || (value === '*' && subtype !== '*')) return null;
      value = `${value}/${subtype}`.toLowerCase();
    } else if (kind === 'language' && !LANGUAGE_RANGE.test(value)) {
      return null;
    }
    let params: Record<string, string> = NO_PARAMS;
    let q = 1;
    let weighted = false;
    for (;;) {
      c.ows();
      if (!c.eat(';')) break;
      c.ows();
      const next = c.peek();
      if (next === 0x3b || next === 0x2c || next === -1) continue; // empty parameter
      const name = c.token()?.toLowerCase();
      if (name === undefined || !c.eat('=')) return null;
      const quoted = c.peek() === 0x22;
      const paramValue = c.tokenOrQuoted();
      if (paramValue === null) return null;
      if (weighted) continue; // accept-ext after the weight (RFC 7231 §5.3.2): ignored
      if (name === 'q') {
        if (quoted || !QVALUE.test(paramValue)) return null;
        q = Number(paramValue);
        weighted = true;
      } else if (kind === 'media') {
        if (params === NO_PARAMS) params = Object.create(null) as Record<string, string>;
        params[name] = paramValue;
      }
    }
    if (!c.endOfElement()) return null;
    ranges.push({ value, q, params });
    c.skipEmptyElements();
  }
  return ranges;
}
