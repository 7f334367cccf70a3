/**
 * Entity tags (src/http/etag.ts): parsing and formatting, RFC 9110 §8.8.3.2 comparison,
 * If-Match / If-None-Match sets with `*`, lenient parsing of hostile values, body hashes.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HTTPPreconditionFailed, Request, Response } from 'tsgi';
import { EtagSet, evaluatePreconditions, formatEtag, parseEtag, statEtag, strongCompare, strongEtag, weakCompare } from 'tsgi/http';
import { request, start } from './node-helpers.ts';

describe('parseEtag / formatEtag', () => {
  it('parses strong and weak tags', () => {
    expect(parseEtag('"xyzzy"')).toEqual({ tag: 'xyzzy', weak: false });
    expect(parseEtag('W/"xyzzy"')).toEqual({ tag: 'xyzzy', weak: true });
    expect(parseEtag('  ""  ')).toEqual({ tag: '', weak: false });
    expect(parseEtag('"a,b"')).toEqual({ tag: 'a,b', weak: false });
    expect(parseEtag('"\u00e9"')).toEqual({ tag: '\u00e9', weak: false });
  });

  it('leniently accepts unquoted tags and a lower-case w/', () => {
    expect(parseEtag('abc')).toEqual({ tag: 'abc', weak: false });
    expect(parseEtag('W/abc')).toEqual({ tag: 'abc', weak: true });
    expect(parseEtag('w/"abc"')).toEqual({ tag: 'abc', weak: true });
  });

  it.each([
    [null],
    [undefined],
    [''],
    ['"unterminated'],
    ['"a" "b"'],
    ['"a", "b"'],
    ['"sp ace"'],
    ['"tab\there"'],
    ['"nul\u0000"'],
    ['"a"b'],
    ['*'],
    ['W/'],
    ['"\u0100"'],
  ])('answers null for %j', (value) => {
    expect(parseEtag(value)).toBeNull();
  });

  it('formats tags, normalizing already quoted strings', () => {
    expect(formatEtag('abc')).toBe('"abc"');
    expect(formatEtag('abc', true)).toBe('W/"abc"');
    expect(formatEtag({ tag: 'x', weak: true })).toBe('W/"x"');
    expect(formatEtag('"abc"')).toBe('"abc"');
    expect(formatEtag('W/"abc"')).toBe('W/"abc"');
    expect(formatEtag('"abc"', true)).toBe('W/"abc"');
    expect(formatEtag('')).toBe('""');
  });

  it.each(['a"b', 'sp ace', 'line\nfeed', '\u0100', '"a"b"'])('refuses to format %j', (tag) => {
    expect(() => formatEtag(tag)).toThrow(TypeError);
  });

  it('round-trips any etagc string', () => {
    const etagc = fc.integer({ min: 0x21, max: 0xff }).filter((c) => c !== 0x22 && c !== 0x7f).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(fc.array(etagc, { maxLength: 30 }).map((a) => a.join('')), fc.boolean(), (tag, weak) => {
        expect(parseEtag(formatEtag({ tag, weak }))).toEqual({ tag, weak });
        expect(new EtagSet(`${formatEtag({ tag, weak })}, "z"`).tags[0]).toEqual({ tag, weak });
      }),
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (value) => {
        const tag = parseEtag(value);
        if (tag) expect(parseEtag(formatEtag(tag))).toEqual(tag);
        const set = new EtagSet(value);
        expect(() => set.toString()).not.toThrow();
        expect(set.contains('"x"')).toBe(set.any || set.tags.some((t) => t.tag === 'x' && !t.weak));
      }),
    );
  });
});

describe('comparison (RFC 9110 §8.8.3.2 table)', () => {
  it.each([
    ['W/"1"', 'W/"1"', false, true],
    ['W/"1"', 'W/"2"', false, false],
    ['W/"1"', '"1"', false, true],
    ['"1"', '"1"', true, true],
  ])('%s vs %s: strong %s, weak %s', (a, b, strong, weak) => {
    expect(strongCompare(a, b)).toBe(strong);
    expect(weakCompare(a, b)).toBe(weak);
    expect(strongCompare(b, a)).toBe(strong);
    expect(weakCompare(b, a)).toBe(weak);
  });

  it('unparsable strings compare unequal', () => {
    expect(weakCompare('"a', '"a')).toBe(false);
    expect(strongCompare('', '')).toBe(false);
  });
});

describe('EtagSet', () => {
  it('absent and empty', () => {
    for (const value of [undefined, null, '', '   ']) {
      const set = new EtagSet(value);
      expect(set.present).toBe(false);
      expect(set.any).toBe(false);
      expect(set.contains('"a"')).toBe(false);
    }
  });

  it('* contains everything, also a representation without tag', () => {
    const set = new EtagSet(' * ');
    expect(set.any).toBe(true);
    expect(set.contains('"x"')).toBe(true);
    expect(set.contains(null)).toBe(true);
    expect(set.toString()).toBe('*');
    expect(new EtagSet('"a", *').any).toBe(true);
  });

  it('contains compares strongly by default, weakly on request', () => {
    const set = new EtagSet('"a", W/"b" ,"c,d"');
    expect(set.tags).toEqual([
      { tag: 'a', weak: false },
      { tag: 'b', weak: true },
      { tag: 'c,d', weak: false },
    ]);
    expect(set.contains('"a"')).toBe(true);
    expect(set.contains('W/"a"')).toBe(false);
    expect(set.contains('W/"a"', { weak: true })).toBe(true);
    expect(set.contains('"b"')).toBe(false);
    expect(set.contains('"b"', { weak: true })).toBe(true);
    expect(set.contains({ tag: 'c,d', weak: false })).toBe(true);
    expect(set.contains(null)).toBe(false);
    expect(set.contains(undefined, { weak: true })).toBe(false);
    expect(set.toString()).toBe('"a", W/"b", "c,d"');
  });

  it('drops malformed members and keeps the rest', () => {
    const set = new EtagSet('"ok", "bad space", junk"x, "two" "tags", , "last"');
    expect(set.tags.map((t) => t.tag)).toEqual(['ok', 'last']);
    expect(new EtagSet('"a", "unterminated').tags).toEqual([{ tag: 'a', weak: false }]);
  });

  it('accepts unquoted members (quotes stripped by a proxy)', () => {
    const set = new EtagSet('abc, W/def');
    expect(set.contains('"abc"')).toBe(true);
    expect(set.contains('"def"', { weak: true })).toBe(true);
  });

  it('a present header with no usable tag contains nothing', () => {
    const set = new EtagSet(' , ,');
    expect(set.present).toBe(true);
    expect(set.tags).toEqual([]);
    expect(set.contains('"a"')).toBe(false);
  });

  it('duplicate header lines joined with ", " form one set', () => {
    const set = new EtagSet(['"a"', 'W/"b"'].join(', '));
    expect(set.tags).toHaveLength(2);
  });

  it('hostile overlong values parse in linear time', () => {
    const set = new EtagSet(`${'W/'.repeat(50_000)}"x", ${'"'.repeat(50_001)}`);
    expect(set.tags).toEqual([]);
    expect(new EtagSet(`${'"a", '.repeat(20_000)}"b"`).tags).toHaveLength(20_001);
  });
});

describe('strongEtag / statEtag', () => {
  it('hashes bytes, strings and chunk lists alike', () => {
    const expected = `"${createHash('sha1').update('hello world').digest('base64url')}"`;
    const bytes = new TextEncoder().encode('hello world');
    expect(strongEtag('hello world')).toBe(expected);
    expect(strongEtag(bytes)).toBe(expected);
    expect(strongEtag([bytes.subarray(0, 3), bytes.subarray(3)])).toBe(expected);
    expect(parseEtag(expected)).toEqual({ tag: expected.slice(1, -1), weak: false });
  });

  it('sha256 on request; different bodies differ', () => {
    const tag = strongEtag('x', 'sha256');
    expect(tag).toBe(`"${createHash('sha256').update('x').digest('base64url')}"`);
    expect(strongEtag('a')).not.toBe(strongEtag('b'));
  });

  it('statEtag is strong unless asked weak, and changes with size or mtime', () => {
    expect(statEtag({ size: 255, mtimeMs: 4096.7 })).toBe('"ff-1000"');
    expect(statEtag({ size: 255, mtimeMs: 4096.7 }, { weak: true })).toBe('W/"ff-1000"');
    expect(parseEtag(statEtag({ size: 1, mtimeMs: 2 }))?.weak).toBe(false);
    expect(parseEtag(statEtag({ size: 1, mtimeMs: 2 }, { weak: true }))?.weak).toBe(true);
    expect(statEtag({ size: 1, mtimeMs: 2 })).not.toBe(statEtag({ size: 1, mtimeMs: 3 }));
    expect(statEtag({ size: 1, mtimeMs: 2 })).not.toBe(statEtag({ size: 2, mtimeMs: 2 }));
  });
});

describe('a bare tag given by code (RFC 9110 §8.8.3: `W` and `/` are etagc)', () => {
  it('EtagSet.contains reads it as formatEtag and res.etag send it', () => {
    const res = new Response('x');
    res.etag = 'W/abc';
    expect(res.headers.get('etag')).toBe('"W/abc"');
    expect(formatEtag('W/abc')).toBe('"W/abc"');
    expect(new EtagSet(res.headers.get('etag')).contains('W/abc')).toBe(true);
    expect(new EtagSet('W/"abc"').contains('W/abc', { weak: true })).toBe(false);
    // quoted forms and plain bare tags read as before
    expect(new EtagSet('"v3"').contains('v3')).toBe(true);
    expect(new EtagSet('W/"v3"').contains('w/"v3"', { weak: true })).toBe(true);
    expect(new EtagSet('"a"').contains('sp ace')).toBe(false);
    // a received header value is still read leniently (quotes stripped by a proxy)
    expect(parseEtag('W/abc')).toEqual({ tag: 'abc', weak: true });
    expect(evaluatePreconditions({ method: 'GET', ifNoneMatch: 'W/"abc"' }, { etag: 'W/abc' }).outcome).toBe('not-modified');
  });

  it('over a socket, an If-Match naming the ETag the app sent holds', async () => {
    const version = 'W/abc';
    const server = await start(
      Request.application((req) => {
        if (req.method === 'PUT' && !req.ifMatch.contains(version)) throw new HTTPPreconditionFailed();
        const res = new Response(req.method === 'PUT' ? 'updated' : 'doc');
        res.etag = version;
        return res;
      }),
    );
    const url = `http://127.0.0.1:${server.port}/doc`;
    const got = await request(url);
    expect(got.headers.etag).toBe('"W/abc"');
    const put = await request(url, { method: 'PUT', headers: { 'If-Match': got.headers.etag! }, body: 'new' });
    expect(put.status).toBe(200);
    expect(put.body.toString()).toBe('updated');
  });
});
