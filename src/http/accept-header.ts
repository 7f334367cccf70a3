/**
 * The engine shared by the Accept-* classes of `accept.ts`: parsing (RFC 9110 §12.4.2,
 * §12.5) and ordering.
 *
 * **Malformed headers.** A header is malformed when any non-empty list element breaks the
 * RFC 9110 grammar: a range that is not `type/subtype`, `type/*` or `*\/*` (Accept), a
 * token (Accept-Charset / -Encoding) or an RFC 4647 language-range (`en`, `zh-Hant-TW`, `*`);
 * a parameter that is not `token=token` or `token="quoted"`; a weight that is not a qvalue
 * (`0` to `1`, at most three decimals, unquoted); or stray characters. A malformed header is
 * treated exactly as an absent one (as WebOb does) and `malformed` says so. Empty list elements
 * (`a, , b`) and OWS around `;` are allowed (RFC 9110 §5.6.1.2 / §5.6.6). An empty
 * `Accept`, `Accept-Charset` or `Accept-Language` is treated as absent too (as Werkzeug does).
 *
 * **Why not `negotiator` directly.** It cannot answer an offer's quality, cannot say whether
 * a header is malformed, breaks ties by header position instead of offer order, and only
 * compares the primary language subtag. This module keeps its matching rules (specificity,
 * duplicates resolved to the higher weight) and is tested against it as an oracle.
 *
 * @module
 */
import { Cursor, tokenOrQuoted } from './syntax.ts';

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

/** A match of one range against one offer: its weight and specificity (higher wins). */
export interface AcceptMatch {
  q: number;
  s: number;
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze(Object.create(null));

const NO_MATCH: AcceptMatch = { q: 0, s: -Infinity };

/**
 * The shared engine of `Accept`, `AcceptCharset`, `AcceptEncoding` and `AcceptLanguage`;
 * subclasses say how a range matches an offer. Not constructed directly.
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

  protected constructor(value: string | null | undefined, kind: AcceptKind) {
    this.value = typeof value === 'string' ? value : null;
    const ranges = this.value === null ? [] : parseRanges(this.value, kind);
    this.malformed = ranges === null;
    const empty = ranges !== null && ranges.length === 0;
    this.present = ranges !== null && !(empty && kind !== 'encoding') && this.value !== null;
    this.ranges = Object.freeze(this.present ? ranges! : []);
  }

  /** Specificity of `range` for `offer`, or -Infinity when it does not match. */
  protected abstract specificity(range: AcceptRange, offer: string): number;

  /** The match used when no range applies (an absent header accepts everything). */
  protected fallback(_offer: string): AcceptMatch {
    return this.present ? NO_MATCH : { q: 1, s: 0 };
  }

  private match(offer: string): AcceptMatch {
    let best = NO_MATCH;
    for (const range of this.ranges) {
      const s = this.specificity(range, offer);
      if (s > best.s || (s === best.s && s !== -Infinity && range.q > best.q)) best = { q: range.q, s };
    }
    return best === NO_MATCH ? this.fallback(offer) : best;
  }

  /**
   * The weight the client gives `offer`, 0 to 1: that of the most specific matching range
   * (RFC 9110 §12.4.2, §12.5); 0 when nothing matches or the match has `q=0`.
   */
  quality(offer: string): number {
    return this.match(offer).q;
  }

  /**
   * The acceptable offers (quality above 0), best first: by quality, then by the specificity
   * of the range that matched, then in the order given.
   */
  acceptableOffers(offers: readonly string[]): string[] {
    return offers
      .map((offer, index) => ({ offer, index, ...this.match(offer) }))
      .filter((m) => m.q > 0)
      .sort((a, b) => b.q - a.q || b.s - a.s || a.index - b.index)
      .map((m) => m.offer);
  }

  /** The best acceptable offer, else `defaultValue` (`null` when not given). */
  bestMatch(offers: readonly string[]): string | null;
  bestMatch<T>(offers: readonly string[], defaultValue: T): string | T;
  bestMatch(offers: readonly string[], defaultValue: unknown = null): unknown {
    return this.acceptableOffers(offers)[0] ?? defaultValue;
  }

  /** The header in canonical form (`''` when absent or malformed). */
  toString(): string {
    return this.ranges
      .map((r) => {
        let out = r.value;
        for (const [k, v] of Object.entries(r.params)) out += `;${k}=${tokenOrQuoted(v)}`;
        return r.q === 1 ? out : `${out};q=${r.q}`;
      })
      .join(', ');
  }
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

