/**
 * Content negotiation (src/http/accept.ts): RFC 9110 §12.5 specificity and weights as
 * `negotiator` applies them, the malformed-header rule, identity rules for Accept-Encoding,
 * RFC 4647 language matching, and properties (never throws; `quality` agrees with the order
 * given; the same answers as `negotiator` on well-formed headers, for languages where its
 * rule and RFC 4647 agree).
 */
import fc from 'fast-check';
import Negotiator from 'negotiator';
import { describe, expect, it } from 'vitest';
import { Accept, AcceptCharset, AcceptEncoding, AcceptLanguage } from 'tsgi/http';

describe('Accept', () => {
  it('absent: everything acceptable at q=1, in offer order', () => {
    for (const header of [undefined, null]) {
      const accept = new Accept(header);
      expect(accept.present).toBe(false);
      expect(accept.malformed).toBe(false);
      expect(accept.quality('image/png')).toBe(1);
      expect(accept.acceptableOffers(['b/b', 'a/a'])).toEqual(['b/b', 'a/a']);
      expect(accept.bestMatch(['text/html', 'application/json'])).toBe('text/html');
      expect(accept.toString()).toBe('');
    }
  });

  it('empty or only commas: treated as absent', () => {
    for (const header of ['', '  ', ' , ,']) {
      const accept = new Accept(header);
      expect(accept.present).toBe(false);
      expect(accept.malformed).toBe(false);
      expect(accept.quality('x/y')).toBe(1);
    }
  });

  it('RFC 9110 §12.5.1: the most specific range decides', () => {
    const accept = new Accept('text/*;q=0.3, text/plain;q=0.7, text/plain;format=flowed, text/plain;format=fixed;q=0.4, */*;q=0.5');
    expect(accept.quality('text/plain;format=flowed')).toBe(1);
    expect(accept.quality('text/plain')).toBe(0.7);
    expect(accept.quality('text/html')).toBe(0.3);
    expect(accept.quality('image/jpeg')).toBe(0.5);
    expect(accept.quality('text/plain;format=fixed')).toBe(0.4);
    expect(accept.quality('text/html;level=3')).toBe(0.3);
  });

  it('the example of the brief: text/html;q=0.5, text/*;q=0.9', () => {
    const accept = new Accept('text/html;q=0.5, text/*;q=0.9');
    expect(accept.quality('text/html')).toBe(0.5);
    expect(accept.quality('text/plain')).toBe(0.9);
    expect(accept.bestMatch(['text/html', 'text/plain'])).toBe('text/plain');
    expect(accept.quality('application/json')).toBe(0);
  });

  it('q=0 excludes, even under a wildcard', () => {
    const accept = new Accept('*/*, application/xml;q=0');
    expect(accept.acceptableOffers(['application/xml', 'application/json'])).toEqual(['application/json']);
    expect(accept.bestMatch(['application/xml'])).toBeNull();
    expect(accept.bestMatch(['application/xml'], 'fallback')).toBe('fallback');
  });

  it('orders by quality, then specificity, then header position, then offer order (negotiator)', () => {
    expect(new Accept('text/html, application/json').acceptableOffers(['application/json', 'text/html'])).toEqual([
      'text/html',
      'application/json',
    ]);
    expect(new Accept('*/*').acceptableOffers(['b/b', 'a/a'])).toEqual(['b/b', 'a/a']);
    expect(new Accept('text/*, */*').bestMatch(['image/png', 'text/x', 'text/y'])).toBe('text/x');
    expect(new Accept('*/*, text/html').acceptableOffers(['image/png', 'text/html'])).toEqual(['text/html', 'image/png']);
    expect(new Accept('text/*;q=0.5, */*;q=0.5, text/html;q=0.5').acceptableOffers(['a/b', 'text/x', 'text/html'])).toEqual(
      ['text/html', 'text/x', 'a/b'],
    );
  });

  it('case-insensitive types and parameter values; parameters must all match', () => {
    const accept = new Accept('TEXT/HTML;Level=1');
    expect(accept.quality('text/html;level=1')).toBe(1);
    expect(accept.quality('text/html;LEVEL=1')).toBe(1);
    expect(accept.quality('text/html')).toBe(0);
    expect(accept.quality('text/html;level=2')).toBe(0);
    expect(new Accept('text/html;a=1;b=2').quality('text/html;a=1')).toBe(0);
    expect(new Accept('text/html;a="1"').quality('text/html; a=1')).toBe(1);
  });

  it('duplicate ranges (two header lines joined) resolve to the higher weight', () => {
    const joined = ['text/html;q=0.1', 'text/html;q=0.8'].join(', ');
    expect(new Accept(joined).quality('text/html')).toBe(0.8);
  });

  it('parameters after q are accept-ext and ignored for matching', () => {
    const accept = new Accept('text/html;q=0.5;level=1');
    expect(accept.quality('text/html')).toBe(0.5);
    expect(accept.ranges[0]!.params).toEqual({});
  });

  it('offers that are neither media types nor known extensions match nothing when the header is present', () => {
    expect(new Accept('*/*').quality('not a type')).toBe(0);
    expect(new Accept('*/*').quality('json')).toBe(1); // an extension: application/json
    expect(new Accept(undefined).quality('not a type')).toBe(1);
  });

  it('exposes ranges in header order and a canonical toString', () => {
    const accept = new Accept(' text/HTML ;Q=0.50 ,, application/json;charset="utf-8" , text/x;a="b c";q=0');
    expect(accept.ranges).toEqual([
      { value: 'text/html', q: 0.5, params: {} },
      { value: 'application/json', q: 1, params: { charset: 'utf-8' } },
      { value: 'text/x', q: 0, params: { a: 'b c' } },
    ]);
    expect(accept.toString()).toBe('text/html;q=0.5, application/json;charset=utf-8, text/x;a="b c";q=0');
    expect(new Accept(accept.toString()).ranges).toEqual(accept.ranges);
  });

  it.each([
    ['text', 'no subtype'],
    ['*/html', 'wildcard type with a subtype'],
    ['text/html;q=2', 'q above 1'],
    ['text/html;q=1.5', 'q above 1'],
    ['text/html;q=0.1234', 'four decimals'],
    ['text/html;q=-0.5', 'negative q'],
    ['text/html;q=abc', 'q not a number'],
    ['text/html;q="0.5"', 'quoted q'],
    ['text/html;q=', 'empty q'],
    ['text/html;level', 'parameter without value'],
    ['text/html;a="unterminated', 'unterminated quote'],
    ['text/html junk', 'stray token'],
    ['text/html;a = 1', 'whitespace around ='],
    ['text/h\u00e9ml', 'non-ASCII'],
    ['text/html\u0000', 'NUL'],
    ['text/html, @/x', 'one bad element among good ones'],
  ])('malformed %j (%s) is treated as absent', (header) => {
    const accept = new Accept(header);
    expect(accept.malformed).toBe(true);
    expect(accept.present).toBe(false);
    expect(accept.ranges).toEqual([]);
    expect(accept.quality('text/html')).toBe(1);
    expect(accept.bestMatch(['application/json', 'text/html'])).toBe('application/json');
    expect(accept.toString()).toBe('');
  });

  it('accepts valid edge forms: q=1.000, q=0., OWS around ;, empty params, quoted-pairs', () => {
    for (const header of ['text/html;q=1.000', 'text/html;q=0.', 'text/html ; q=0.5', 'text/html;;q=1', 'text/html;a="x\\"y"']) {
      expect(new Accept(header).malformed, header).toBe(false);
    }
    expect(new Accept('text/html;q=0.').quality('text/html')).toBe(0);
  });

  it('an overlong hostile header stays linear and never throws', () => {
    const header = `${'text/html;q=0.5, '.repeat(5_000)}*/*;q=0.1`;
    const accept = new Accept(header);
    expect(accept.present).toBe(true);
    expect(accept.quality('text/html')).toBe(0.5);
    const quoted = new Accept(`text/html;a="${'\\'.repeat(100_001)}`);
    expect(quoted.malformed).toBe(true);
  });
});

describe('AcceptCharset', () => {
  it('matches case-insensitively, * for the rest, q=0 excludes', () => {
    const accept = new AcceptCharset('iso-8859-5, unicode-1-1;q=0.8, *;q=0.1, latin1;q=0');
    expect(accept.quality('ISO-8859-5')).toBe(1);
    expect(accept.quality('unicode-1-1')).toBe(0.8);
    expect(accept.quality('utf-8')).toBe(0.1);
    expect(accept.quality('latin1')).toBe(0);
    expect(accept.acceptableOffers(['utf-8', 'latin1', 'iso-8859-5'])).toEqual(['iso-8859-5', 'utf-8']);
  });

  it('absent or empty: everything acceptable; malformed: treated as absent', () => {
    expect(new AcceptCharset(undefined).quality('x')).toBe(1);
    expect(new AcceptCharset('').quality('x')).toBe(1);
    const bad = new AcceptCharset('utf-8;q=x');
    expect(bad.malformed).toBe(true);
    expect(bad.quality('latin1')).toBe(1);
    expect(new AcceptCharset('utf 8').malformed).toBe(true);
  });
});

describe('AcceptEncoding', () => {
  it('absent: identity only (negotiator/nginx practice), present=false', () => {
    const accept = new AcceptEncoding(undefined);
    expect(accept.present).toBe(false);
    expect(accept.acceptableOffers(['br', 'gzip', 'identity'])).toEqual(['identity']);
    expect(accept.bestMatch(['br', 'gzip'])).toBeNull();
  });

  it('empty: identity only (RFC 9110 §12.5.3), present=true', () => {
    const accept = new AcceptEncoding('');
    expect(accept.present).toBe(true);
    expect(accept.acceptableOffers(['gzip', 'identity'])).toEqual(['identity']);
  });

  it('malformed: like absent', () => {
    const accept = new AcceptEncoding('gzip;q=5');
    expect(accept.malformed).toBe(true);
    expect(accept.acceptableOffers(['gzip', 'identity'])).toEqual(['identity']);
  });

  it('identity is acceptable unless excluded, ranked after equally weighted listed codings', () => {
    expect(new AcceptEncoding('gzip').acceptableOffers(['identity', 'gzip'])).toEqual(['gzip', 'identity']);
    expect(new AcceptEncoding('gzip;q=0.5, br').quality('identity')).toBe(0.5);
    expect(new AcceptEncoding('gzip;q=0').quality('identity')).toBe(1);
    expect(new AcceptEncoding('identity;q=0').quality('identity')).toBe(0);
    expect(new AcceptEncoding('*;q=0').acceptableOffers(['identity', 'gzip'])).toEqual([]);
    expect(new AcceptEncoding('*;q=0, identity;q=0.2').acceptableOffers(['identity', 'gzip'])).toEqual(['identity']);
    expect(new AcceptEncoding('*').quality('identity')).toBe(1);
  });

  it('* matches unlisted codings; the specific entry wins', () => {
    const accept = new AcceptEncoding('br;q=0, *;q=0.5, gzip');
    expect(accept.acceptableOffers(['br', 'zstd', 'gzip'])).toEqual(['gzip', 'zstd']);
  });

  it('x-gzip is gzip, codings are case-insensitive', () => {
    expect(new AcceptEncoding('x-gzip').quality('gzip')).toBe(1);
    expect(new AcceptEncoding('GZIP;q=0.3').quality('x-gzip')).toBe(0.3);
    expect(new AcceptEncoding('x-compress').quality('compress')).toBe(1);
  });
});

describe('AcceptLanguage', () => {
  it('a range matches itself, and tags whose primary subtag it is (the exact tag first)', () => {
    const accept = new AcceptLanguage('en');
    expect(accept.acceptableOffers(['en-US', 'en', 'fr', 'eng'])).toEqual(['en', 'en-US']);
    expect(new AcceptLanguage('zh-Hant').quality('zh-Hant')).toBe(1);
    expect(new AcceptLanguage('zh').quality('zh-Hant-TW')).toBe(1);
  });

  it('RFC 4647 §3.3.1 basic filtering: a range accepts the tags it is a prefix of, up to a "-"', () => {
    const accept = new AcceptLanguage('zh-Hant');
    expect(accept.quality('zh-Hant-TW')).toBe(1);
    expect(accept.quality('ZH-hant-hk')).toBe(1);
    expect(accept.quality('zh-Hans')).toBe(0);
    expect(accept.quality('zh-Hans-TW')).toBe(0);
    expect(accept.quality('zh-Hantx')).toBe(0);
    expect(accept.quality('zh')).toBe(1); // lookup fallback, below
    expect(accept.acceptableOffers(['zh-Hans', 'zh-Hant-TW', 'zh-Hant-HK'])).toEqual(['zh-Hant-TW', 'zh-Hant-HK']);
    expect(accept.bestMatch(['zh-Hans-CN', 'zh-Hant-TW'])).toBe('zh-Hant-TW');
    expect(new AcceptLanguage('de-DE').quality('de-DE-1996')).toBe(1);
    expect(new AcceptLanguage('*').quality('zh-Hant-TW')).toBe(1);
  });

  it('RFC 4647 §3.4 lookup fallback: a tag that is a prefix of a range is accepted, less specifically', () => {
    expect(new AcceptLanguage('de-DE-1996').quality('de-DE')).toBe(1);
    expect(new AcceptLanguage('de-DE-1996').quality('de')).toBe(1);
    expect(new AcceptLanguage('de-DE-1996').quality('de-AT')).toBe(0);
    expect(new AcceptLanguage('zh-Hant-TW').acceptableOffers(['zh', 'zh-Hant', 'zh-Hans'])).toEqual(['zh-Hant', 'zh']);
    expect(new AcceptLanguage('en-x-twain').quality('en-x')).toBe(0); // lookup never stops at a singleton
    expect(new AcceptLanguage('en-x-twain').quality('en')).toBe(1);
  });

  it('the most specific matching range gives the weight (RFC 9110 §12.5.4)', () => {
    const accept = new AcceptLanguage('en;q=0.4, en-US;q=0.9, *;q=0.1');
    expect(accept.quality('en-US')).toBe(0.9);
    expect(accept.quality('en-US-x-twain')).toBe(0.9);
    expect(accept.quality('en-GB')).toBe(0.4);
    expect(accept.quality('de')).toBe(0.1);
    expect(accept.acceptableOffers(['de', 'en-GB', 'en-US'])).toEqual(['en-US', 'en-GB', 'de']);
    expect(new AcceptLanguage('zh-Hant;q=0.5, zh;q=1').quality('zh-Hant-TW')).toBe(0.5);
    expect(new AcceptLanguage('zh;q=1, zh-Hant;q=0.5').bestMatch(['zh-Hant-TW', 'zh-Hans-CN'])).toBe('zh-Hans-CN');
  });

  it('q=0 excludes what the range matches by filtering, never a shorter tag', () => {
    const gb = new AcceptLanguage('en-GB;q=0, en');
    expect(gb.quality('en-GB')).toBe(0);
    expect(gb.quality('en-GB-oxendict')).toBe(0);
    expect(gb.quality('en')).toBe(1);
    expect(gb.acceptableOffers(['en-GB', 'en-US', 'en'])).toEqual(['en', 'en-US']);
    const en = new AcceptLanguage('en;q=0, en-GB');
    expect(en.acceptableOffers(['en', 'en-US', 'en-GB'])).toEqual(['en-GB']);
    expect(new AcceptLanguage('en-GB;q=0').quality('en')).toBe(0); // nothing accepts en
    expect(new AcceptLanguage('en-GB;q=0, *').quality('en')).toBe(1);
    expect(new AcceptLanguage('*;q=0, de-DE').acceptableOffers(['de', 'fr'])).toEqual(['de']);
  });

  it('a range also accepts the bare language of its tag, less specifically', () => {
    const accept = new AcceptLanguage('de-DE, *;q=0.1');
    expect(accept.quality('de')).toBe(1);
    expect(accept.acceptableOffers(['en', 'de', 'de-AT'])).toEqual(['de', 'en', 'de-AT']);
    expect(new AcceptLanguage('de-DE;q=0.5, de;q=0.2').quality('de')).toBe(0.2);
    expect(new AcceptLanguage('de-DE;q=0.3, de-AT;q=0.8').quality('de')).toBe(0.8);
  });

  it("at equal weight the client's order counts: a fallback for the first choice before a match of the second", () => {
    expect(new AcceptLanguage('de-DE, en').bestMatch(['en-US', 'de'])).toBe('de');
    expect(new AcceptLanguage('en, de-DE').bestMatch(['de', 'en-US'])).toBe('en-US');
    expect(new AcceptLanguage('en, de-DE').acceptableOffers(['de-DE', 'en'])).toEqual(['en', 'de-DE']);
  });

  it('offers are trimmed, and "_" in an offer reads as "-" (Werkzeug); the offer is answered unchanged', () => {
    const accept = new AcceptLanguage('pt-BR, pt;q=0.5');
    expect(accept.quality('pt_BR')).toBe(1);
    expect(accept.quality(' pt-br ')).toBe(1);
    expect(accept.bestMatch(['pt_PT', 'pt_BR'])).toBe('pt_BR');
    expect(accept.quality('')).toBe(0);
  });

  it('case-insensitive; q=0 excludes', () => {
    const accept = new AcceptLanguage('EN-us, fr;q=0');
    expect(accept.quality('en-US')).toBe(1);
    expect(accept.quality('fr-CA')).toBe(0);
  });

  it.each(['en_US', 'toolonglang', 'en-', '-en', 'en--us', 'en-*', 'en;q=1.1', '12'])('malformed %j → absent', (header) => {
    const accept = new AcceptLanguage(header);
    expect(accept.malformed).toBe(true);
    expect(accept.quality('fr')).toBe(1);
  });

  it('a typical browser header', () => {
    const accept = new AcceptLanguage('fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5');
    expect(accept.bestMatch(['en', 'de', 'fr'])).toBe('fr');
    expect(accept.acceptableOffers(['it', 'de', 'en-GB'])).toEqual(['en-GB', 'de', 'it']);
  });
});

describe('Accept: extensions as offers (Express\'s req.accepts(\'json\'))', () => {
  it('matches json, html, .csv as the types mime-types gives them, and answers them as given', () => {
    const browser = new Accept('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
    expect(browser.bestMatch(['json', 'html'])).toBe('html');
    expect(browser.quality('json')).toBe(0.8);
    expect(browser.quality('html')).toBe(1);
    const api = new Accept('application/json');
    expect(api.bestMatch(['html', 'json'])).toBe('json');
    expect(api.acceptableOffers(['html', '.json', 'text/plain'])).toEqual(['.json']);
    expect(new Accept('text/csv;q=0.5, application/json').acceptableOffers(['csv', 'json'])).toEqual(['json', 'csv']);
  });

  it('a word mime-types does not know matches nothing, as before; without Accept every offer is acceptable', () => {
    expect(new Accept('*/*').bestMatch(['no-such-extension'])).toBe(null);
    expect(new Accept('*/*').quality('no-such-extension')).toBe(0);
    expect(new Accept(null).bestMatch(['json', 'html'])).toBe('json');
  });

  it('an extension and its full type offered together keep their own places', () => {
    const accept = new Accept('application/json');
    expect(accept.acceptableOffers(['json', 'application/json', 'html'])).toEqual(['json', 'application/json']);
  });
});

describe('properties', () => {
  const classes = [Accept, AcceptCharset, AcceptEncoding, AcceptLanguage];

  it('never throws on arbitrary strings; answers stay in range', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('__proto__', 'constructor', 'x-gzip', '*')), { maxLength: 5 }),
        (header, offers) => {
          for (const Class of classes) {
            const accept = new Class(header);
            for (const offer of offers) {
              const q = accept.quality(offer);
              expect(q >= 0 && q <= 1).toBe(true);
            }
            const acceptable = accept.acceptableOffers(offers);
            expect(acceptable.every((o) => offers.includes(o))).toBe(true);
            expect(typeof accept.toString()).toBe('string');
            expect(accept.present && accept.malformed).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  const mediaType = fc.constantFrom('text/html', 'text/plain', 'application/json', 'image/png', 'application/xml');
  const mediaRange = fc.oneof(mediaType, fc.constantFrom('text/*', 'application/*', '*/*'));
  const qvalue = fc.constantFrom('0', '0.1', '0.5', '0.9', '1', '0.25', '1.0');
  const element = (range: fc.Arbitrary<string>) =>
    fc.tuple(range, fc.option(qvalue, { nil: undefined })).map(([r, q]) => (q === undefined ? r : `${r};q=${q}`));
  const header = (range: fc.Arbitrary<string>) => fc.array(element(range), { minLength: 1, maxLength: 6 }).map((l) => l.join(', '));

  it('acceptableOffers is sorted by quality, and holds exactly the offers with quality > 0', () => {
    const offer = fc.oneof(mediaType, fc.constantFrom('html', 'txt', 'json', 'png', 'xml', '.json', 'no-such-extension'));
    fc.assert(
      fc.property(header(mediaRange), fc.uniqueArray(offer, { maxLength: 5 }), (h, offers) => {
        const accept = new Accept(h);
        const acceptable = accept.acceptableOffers(offers);
        expect(new Set(acceptable)).toEqual(new Set(offers.filter((o) => accept.quality(o) > 0)));
        for (let i = 1; i < acceptable.length; i++) {
          expect(accept.quality(acceptable[i - 1]!)).toBeGreaterThanOrEqual(accept.quality(acceptable[i]!));
        }
        expect(accept.bestMatch(offers)).toBe(acceptable[0] ?? null);
      }),
    );
  });

  /** quality(o) > 0 exactly for the offers negotiator accepts, and its order never contradicts quality. */
  function agreesWithQuality(accept: { quality(o: string): number; acceptableOffers(o: readonly string[]): string[] }, offers: string[]) {
    const acceptable = accept.acceptableOffers(offers);
    expect([...acceptable].sort()).toEqual(offers.filter((o) => accept.quality(o) > 0).sort());
    for (let i = 1; i < acceptable.length; i++) {
      expect(accept.quality(acceptable[i - 1]!)).toBeGreaterThanOrEqual(accept.quality(acceptable[i]!));
    }
  }

  it('quality agrees with negotiator for media ranges with parameters', () => {
    const withParams = fc.tuple(mediaRange, fc.constantFrom('', ';level=1', ';level=2', ';a=*', ';level=1;a=x', ';LEVEL="1"')).map(([r, p]) => r + p);
    const offer = fc.tuple(mediaType, fc.constantFrom('', ';level=1', '; level=2', ';a=x;level=1', ';a=y')).map(([t, p]) => t + p);
    fc.assert(
      fc.property(header(withParams), fc.array(offer, { maxLength: 6 }), (h, offers) => {
        agreesWithQuality(new Accept(h), offers);
      }),
      { numRuns: 300 },
    );
  });

  it('quality agrees with the order given for languages, charsets and encodings', () => {
    const tag = fc.constantFrom('en', 'en-US', 'en-GB', 'EN-us', 'fr', 'fr-CA', 'de', 'de-DE-1996', 'zh-Hant', 'zh-Hant-TW', 'zh', '*');
    fc.assert(
      fc.property(header(tag), fc.array(tag, { maxLength: 6 }), (h, offers) => {
        agreesWithQuality(new AcceptLanguage(h), offers);
      }),
      { numRuns: 300 },
    );
    const charset = fc.constantFrom('utf-8', 'UTF-8', 'iso-8859-1', 'utf-16', '*');
    fc.assert(
      fc.property(header(charset), fc.array(charset, { maxLength: 5 }), (h, offers) => {
        agreesWithQuality(new AcceptCharset(h), offers);
      }),
    );
    const coding = fc.constantFrom('gzip', 'x-gzip', 'br', 'deflate', 'identity', 'IDENTITY', 'zstd', '*');
    fc.assert(
      fc.property(fc.oneof(header(coding), fc.constant('')), fc.array(coding, { maxLength: 6 }), (h, offers) => {
        agreesWithQuality(new AcceptEncoding(h), offers);
      }),
      { numRuns: 300 },
    );
  });

  it('toString round-trips the parsed ranges', () => {
    fc.assert(
      fc.property(header(mediaRange), (h) => {
        const accept = new Accept(h);
        expect(new Accept(accept.toString()).ranges).toEqual(accept.ranges);
      }),
    );
  });

  it('answers exactly what negotiator answers on well-formed headers (order included)', () => {
    fc.assert(
      fc.property(header(mediaRange), fc.uniqueArray(mediaType, { maxLength: 5 }), (h, offers) => {
        const expected = new Negotiator({ headers: { accept: h } }).mediaTypes(offers);
        expect(new Accept(h).acceptableOffers(offers)).toEqual(expected);
      }),
    );
    const charset = fc.constantFrom('utf-8', 'iso-8859-1', 'utf-16', 'UTF-8');
    fc.assert(
      fc.property(header(fc.oneof(charset, fc.constant('*'))), fc.uniqueArray(charset, { maxLength: 4 }), (h, offers) => {
        const expected = new Negotiator({ headers: { 'accept-charset': h } }).charsets(offers);
        expect(new AcceptCharset(h).acceptableOffers(offers)).toEqual(expected);
      }),
    );
    const coding = fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'zstd');
    fc.assert(
      fc.property(header(fc.oneof(coding, fc.constant('*'))), fc.uniqueArray(coding, { maxLength: 5 }), (h, offers) => {
        const expected = new Negotiator({ headers: { 'accept-encoding': h } }).encodings(offers);
        expect(new AcceptEncoding(h).acceptableOffers(offers)).toEqual(expected);
      }),
    );
  });

  it('languages: negotiator\'s acceptable set where its primary-subtag rule and RFC 4647 agree', () => {
    // Tags of at most two subtags and no q=0: the rules differ only for longer tags (zh-Hant ↔
    // zh-Hant-TW) and for q=0 ranges, which exclude no shorter tag here. The order differs by
    // design (a fallback is as specific as a prefix match here, negotiator ranks it higher).
    const tag = fc.constantFrom('en', 'en-US', 'en-GB', 'fr', 'fr-CA', 'de', 'EN-us');
    const weighted = fc
      .array(fc.tuple(fc.oneof(tag, fc.constant('*')), fc.constantFrom('', ';q=0.1', ';q=0.5', ';q=1')), { minLength: 1, maxLength: 6 })
      .map((l) => l.map(([r, q]) => r + q).join(', '));
    fc.assert(
      fc.property(weighted, fc.uniqueArray(tag, { maxLength: 5 }), (h, offers) => {
        const expected = new Negotiator({ headers: { 'accept-language': h } }).languages(offers);
        const accept = new AcceptLanguage(h);
        expect([...accept.acceptableOffers(offers)].sort()).toEqual([...expected].sort());
      }),
    );
  });

  it('languages: an RFC 4647 basic-filtering match is acceptable unless a q=0 range also matches; only a lookup fallback adds to them', () => {
    const tag = fc.constantFrom('zh', 'zh-Hant', 'zh-Hant-TW', 'zh-Hans', 'zh-Hans-CN', 'de-DE-1996', 'de-DE', 'de', '*');
    const offer = fc.constantFrom('zh', 'zh-Hant', 'zh-Hant-TW', 'zh-Hant-HK', 'ZH-HANS-cn', 'de', 'de-DE-1996', 'de-AT');
    const filters = (range: string, o: string) => {
      const r = range.toLowerCase();
      const t = o.toLowerCase();
      return r === '*' || t === r || t.startsWith(`${r}-`);
    };
    fc.assert(
      fc.property(header(tag), fc.array(offer, { maxLength: 6 }), (h, offers) => {
        const accept = new AcceptLanguage(h);
        for (const o of offers) {
          const matching = accept.ranges.filter((r) => filters(r.value, o));
          const excluded = matching.some((r) => r.q === 0 && r.value !== '*');
          if (matching.some((r) => r.q > 0) && !excluded) {
            expect(accept.quality(o), `${h} / ${o}`).toBeGreaterThan(0);
          }
          if (!matching.some((r) => r.q > 0) && !accept.ranges.some((r) => r.q > 0 && filters(o, r.value))) {
            expect(accept.quality(o), `${h} / ${o}`).toBe(0);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('offers named like Object.prototype members are plain strings (regression)', () => {
    for (const offer of ['__proto__', 'constructor', 'toString']) {
      expect(new AcceptEncoding('').quality(offer)).toBe(0);
      expect(new AcceptEncoding('*').acceptableOffers([offer])).toEqual([offer]);
      expect(new Accept('*/*').quality(offer)).toBe(0);
      expect(new AcceptLanguage('*').acceptableOffers([offer])).toEqual([offer]);
    }
  });

  it('x-gzip offers keep their place: equal codings are answered in offer order', () => {
    expect(new AcceptEncoding('*').acceptableOffers(['gzip', 'br', 'x-gzip'])).toEqual(['gzip', 'br', 'x-gzip']);
    expect(new AcceptEncoding('x-gzip, br;q=0.5').acceptableOffers(['br', 'x-gzip', 'gzip'])).toEqual(['x-gzip', 'gzip', 'br']);
  });
});
