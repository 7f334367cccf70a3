/**
 * Byte ranges (src/http/range.ts, src/http/range-body.ts): Range evaluation per RFC 9110
 * §14, Content-Range, If-Range, and streaming slices / multipart bodies without buffering.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ByteRange, evaluateIfRange, formatContentRange, parseContentRange, parseRange } from 'tsgi/http';
import { readBody } from '../src/gateway/body.ts';
import { MultipartByteranges, sliceBody } from '../src/http/range-body.ts';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytesOf = (s: string) => new TextEncoder().encode(s);

describe('parseRange', () => {
  it.each([
    ['bytes=0-499', 10000, [[0, 499]]],
    ['bytes=500-999', 10000, [[500, 999]]],
    ['bytes=-500', 10000, [[9500, 9999]]],
    ['bytes=9500-', 10000, [[9500, 9999]]],
    ['bytes=0-0,-1', 10000, [[0, 0], [9999, 9999]]],
    ['bytes=0-999999', 100, [[0, 99]]],
    ['bytes=-500', 100, [[0, 99]]],
    ['bytes=0-9999999999999999999999999', 100, [[0, 99]]],
    [`bytes=-${'9'.repeat(400)}`, 100, [[0, 99]]],
    ['BYTES = 1-2', 100, [[1, 2]]],
    ['bytes= 1-2 , ,4-5,', 100, [[1, 2], [4, 5]]],
    ['bytes=0-1,200-300', 100, [[0, 1]]],
  ])('%j on %d bytes → %j', (header, size, expected) => {
    const result = parseRange(header, size);
    expect(result).toEqual({ kind: 'satisfiable', ranges: expected.map(([start, end]) => ({ start, end })) });
  });

  it('coalesces overlapping and adjacent ranges by default, keeping request order', () => {
    expect(parseRange('bytes=50-60,0-10,5-20,21-25', 100)).toEqual({
      kind: 'satisfiable',
      ranges: [
        { start: 50, end: 60 },
        { start: 0, end: 25 },
      ],
    });
    // A coalesced range takes the place of the first of its specs asked for (5-6 here, before 20-30).
    expect(parseRange('bytes=5-6,20-30,0-10', 100)).toEqual({
      kind: 'satisfiable',
      ranges: [
        { start: 0, end: 10 },
        { start: 20, end: 30 },
      ],
    });
    expect(parseRange('bytes=0-10,5-20', 100, { combine: false })).toEqual({
      kind: 'satisfiable',
      ranges: [
        { start: 0, end: 10 },
        { start: 5, end: 20 },
      ],
    });
  });

  it.each([
    ['bytes=100-', 100],
    ['bytes=100-200', 100],
    ['bytes=-0', 100],
    ['bytes=0-', 0],
    ['bytes=5-10', 0],
    ['bytes=200-300,400-', 100],
  ])('%j on %d bytes is unsatisfiable', (header, size) => {
    expect(parseRange(header, size)).toEqual({ kind: 'unsatisfiable' });
  });

  it.each([
    [undefined, 'absent'],
    [null, 'absent'],
    ['', 'absent'],
    ['  ', 'absent'],
    ['bytes', 'malformed'],
    ['=0-1', 'malformed'],
    ['bytes=', 'malformed'],
    ['bytes=,', 'malformed'],
    ['bytes=-', 'malformed'],
    ['bytes=a-b', 'malformed'],
    ['bytes=1', 'malformed'],
    ['bytes=1-2-3', 'malformed'],
    ['bytes=-1-2', 'malformed'],
    ['bytes=5-1', 'malformed'],
    ['bytes=0-1,5-1', 'malformed'],
    ['bytes=99999999999999999999-1', 'malformed'],
    ['bytes=+1-2', 'malformed'],
    ['bytes=0x10-20', 'malformed'],
    ['bytes=1.5-2', 'malformed'],
    ['byt es=0-1', 'malformed'],
    [['bytes=0-1', 'bytes=5-6'].join(', '), 'malformed'],
    ['items=0-1', 'unit'],
    ['none=0-1', 'unit'],
    ['bytes=-5', 'empty'],
  ])('%j is ignored (%s)', (header, reason) => {
    const size = reason === 'empty' ? 0 : 100;
    expect(parseRange(header, size)).toEqual({ kind: 'ignored', reason });
  });

  it('too many ranges are ignored', () => {
    const many = `bytes=${Array.from({ length: 101 }, (_, i) => `${i * 2}-${i * 2}`).join(',')}`;
    expect(parseRange(many, 1000)).toEqual({ kind: 'ignored', reason: 'too-many' });
    expect(parseRange(many, 1000, { maxRanges: 200 }).kind).toBe('satisfiable');
    expect(parseRange('bytes=0-1,3-4', 1000, { maxRanges: 1 })).toEqual({ kind: 'ignored', reason: 'too-many' });
    expect(parseRange(many, 1000, { maxRanges: Infinity }).kind).toBe('satisfiable');
    // NaN (Number() of an unset variable) lifted the cap in silence, 0 ignored every Range.
    for (const maxRanges of [NaN, 0, -1, 1.5, '5' as never]) {
      expect(() => parseRange(many, 1000, { maxRanges }), String(maxRanges)).toThrow(/^maxRanges must be a positive integer, got /);
    }
  });

  it('a hostile header with thousands of ranges stays cheap', () => {
    const huge = `bytes=${'0-0,'.repeat(50_000)}0-0`;
    expect(parseRange(huge, 10)).toEqual({ kind: 'ignored', reason: 'too-many' });
  });

  it('refuses an impossible size', () => {
    for (const size of [-1, 1.5, NaN, Infinity]) expect(() => parseRange('bytes=0-1', size)).toThrow(RangeError);
  });

  it('property: never throws; satisfiable ranges lie inside the representation', () => {
    const spec = fc.oneof(
      fc.tuple(fc.nat(300), fc.nat(300)).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
      fc.nat(300).map((a) => `${a}-`),
      fc.nat(300).map((a) => `-${a}`),
    );
    const header = fc.oneof(fc.array(spec, { minLength: 1, maxLength: 5 }).map((s) => `bytes=${s.join(',')}`), fc.string());
    fc.assert(
      fc.property(header, fc.nat(250), (h, size) => {
        const result = parseRange(h, size);
        if (result.kind === 'satisfiable') {
          for (const { start, end } of result.ranges) {
            expect(0 <= start && start <= end && end < size).toBe(true);
          }
        }
      }),
    );
  });
});

describe('Content-Range', () => {
  it('formats ranges, unknown lengths and unsatisfied ranges', () => {
    expect(formatContentRange({ start: 0, end: 4 }, 10)).toBe('bytes 0-4/10');
    expect(formatContentRange({ start: 0, end: 4 }, null)).toBe('bytes 0-4/*');
    expect(formatContentRange(null, 10)).toBe('bytes */10');
  });

  it.each([
    [{ start: 5, end: 4 }, 10],
    [{ start: 0, end: 10 }, 10],
    [{ start: -1, end: 4 }, 10],
    [{ start: 0.5, end: 4 }, 10],
    [null, null],
    [{ start: 0, end: 1 }, -5],
  ])('refuses %j / %s', (range, size) => {
    expect(() => formatContentRange(range, size)).toThrow(RangeError);
  });

  it('parses what it formats and lenient case', () => {
    expect(parseContentRange('bytes 0-4/10')).toEqual({ unit: 'bytes', range: { start: 0, end: 4 }, size: 10 });
    expect(parseContentRange('bytes 0-4/*')).toEqual({ unit: 'bytes', range: { start: 0, end: 4 }, size: null });
    expect(parseContentRange('bytes */10')).toEqual({ unit: 'bytes', range: null, size: 10 });
    expect(parseContentRange(' Bytes 1-1/2 ')).toEqual({ unit: 'bytes', range: { start: 1, end: 1 }, size: 2 });
  });

  it.each([
    null,
    '',
    'bytes',
    'bytes 0-4',
    'bytes 4-0/10',
    'bytes 0-10/10',
    'bytes */*',
    'bytes -1-4/10',
    'bytes 0-4/10/10',
    'bytes=0-4/10',
    `bytes 0-${'9'.repeat(20)}/*`,
    `bytes 0-4/${'9'.repeat(300)}`,
  ])('answers null for %j', (value) => {
    expect(parseContentRange(value)).toBeNull();
  });

  it('round-trips', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.nat(), fc.boolean(), (a, b, extra, known) => {
        const range = { start: Math.min(a, b), end: Math.max(a, b) };
        const size = known ? range.end + 1 + extra : null;
        expect(parseContentRange(formatContentRange(range, size))).toEqual({ unit: 'bytes', range, size });
        expect(parseContentRange(formatContentRange(null, extra))).toEqual({ unit: 'bytes', range: null, size: extra });
      }),
    );
  });
});

describe('evaluateIfRange', () => {
  const lastModified = new Date(Date.UTC(2024, 0, 1, 12, 0, 0, 500));
  const current = { etag: '"v1"', lastModified };

  it('absent or empty If-Range lets the Range apply', () => {
    expect(evaluateIfRange(undefined, current)).toBe(true);
    expect(evaluateIfRange('', current)).toBe(true);
  });

  it('an entity tag must match strongly', () => {
    expect(evaluateIfRange('"v1"', current)).toBe(true);
    expect(evaluateIfRange('"v2"', current)).toBe(false);
    expect(evaluateIfRange('W/"v1"', current)).toBe(false);
    expect(evaluateIfRange('"v1"', { etag: 'W/"v1"' })).toBe(false);
    expect(evaluateIfRange('"v1"', {})).toBe(false);
    expect(evaluateIfRange('"v1', current)).toBe(false);
  });

  it('a date must equal Last-Modified to the second', () => {
    expect(evaluateIfRange('Mon, 01 Jan 2024 12:00:00 GMT', current)).toBe(true);
    expect(evaluateIfRange('Mon, 01 Jan 2024 12:00:00 GMT', { lastModified: 'Mon, 01 Jan 2024 12:00:00 GMT' })).toBe(true);
    expect(evaluateIfRange('Mon, 01 Jan 2024 12:00:01 GMT', current)).toBe(false);
    expect(evaluateIfRange('Mon, 01 Jan 2024 11:59:59 GMT', current)).toBe(false);
    expect(evaluateIfRange('Mon, 01 Jan 2024 12:00:00 GMT', { etag: '"v1"' })).toBe(false);
    expect(evaluateIfRange('Mon, 01 Jan 2024 12:00:00 GMT', { lastModified: 'garbage' })).toBe(false);
  });

  it('a date matches only a Last-Modified at least a second before the Date (a strong validator)', () => {
    const ifRange = 'Mon, 01 Jan 2024 12:00:00 GMT';
    expect(evaluateIfRange(ifRange, { ...current, date: new Date(Date.UTC(2024, 0, 1, 12, 0, 0, 900)) })).toBe(false);
    expect(evaluateIfRange(ifRange, { ...current, date: 'Mon, 01 Jan 2024 12:00:00 GMT' })).toBe(false);
    expect(evaluateIfRange(ifRange, { ...current, date: 'Mon, 01 Jan 2024 12:00:01 GMT' })).toBe(true);
    // Default: now. A Last-Modified of this second (or ahead of the clock) is weak.
    expect(evaluateIfRange(new Date().toUTCString(), { lastModified: new Date() })).toBe(false);
  });

  it('garbage never matches', () => {
    for (const value of ['v1', '*', 'yesterday', '"v1", "v2"']) expect(evaluateIfRange(value, current)).toBe(false);
  });
});

/** A body of `size` bytes 0..255 repeating, cut in chunks of the given sizes, that records what was read. */
function source(size: number, chunkSizes: number[]) {
  const all = Uint8Array.from({ length: size }, (_, i) => i % 251);
  const state = { chunksRead: 0, closed: false };
  async function* body() {
    try {
      let pos = 0;
      let i = 0;
      while (pos < size) {
        const n = Math.max(1, chunkSizes[i++ % chunkSizes.length]!);
        state.chunksRead++;
        yield all.slice(pos, pos + n);
        pos += n;
      }
    } finally {
      state.closed = true;
    }
  }
  return { all, state, body };
}

describe('sliceBody', () => {
  it('skips and trims chunks, and closes the source early', async () => {
    const { all, state, body } = source(100, [10]);
    const out = await readBody(sliceBody(body(), { start: 15, end: 34 }));
    expect(out).toEqual(all.slice(15, 35));
    expect(state.chunksRead).toBe(4);
    expect(state.closed).toBe(true);
  });

  it('works on sync iterables and zero-length chunks', async () => {
    const chunks = [bytesOf('hel'), new Uint8Array(0), bytesOf('lo wor'), bytesOf('ld')];
    expect(text(await readBody(sliceBody(chunks, { start: 2, end: 8 })))).toBe('llo wor');
    expect(text(await readBody(sliceBody(chunks, { start: 10, end: 10 })))).toBe('d');
  });

  it('throws when the body is shorter than the range', async () => {
    await expect(readBody(sliceBody([bytesOf('short')], { start: 2, end: 10 }))).rejects.toThrow(/ended at byte 5/);
  });

  it('throws on a chunk that is not bytes', async () => {
    await expect(readBody(sliceBody(['text' as unknown as Uint8Array], { start: 0, end: 1 }))).rejects.toThrow(TypeError);
  });

  it('property: equals slicing the whole body, for any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 200 }), fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 8 }), fc.nat(), fc.nat(), async (size, chunks, a, b) => {
        const { all, body } = source(size, chunks);
        const range = { start: Math.min(a % size, b % size), end: Math.max(a % size, b % size) };
        expect(await readBody(sliceBody(body(), range))).toEqual(all.slice(range.start, range.end + 1));
      }),
      { numRuns: 150 },
    );
  });
});

describe('MultipartByteranges', () => {
  const ranges: ByteRange[] = [
    { start: 6, end: 10 },
    { start: 0, end: 4 },
  ];

  it('builds the RFC 9110 §14.6 layout with an exact length', async () => {
    const parts = new MultipartByteranges(ranges, { size: 12, contentType: 'text/plain', boundary: 'THIS_STRING_SEPARATES' });
    expect(parts.contentType).toBe('multipart/byteranges; boundary=THIS_STRING_SEPARATES');
    const out = await readBody(parts.stream(bytesOf('hello world!')));
    expect(text(out)).toBe(
      '--THIS_STRING_SEPARATES\r\nContent-Type: text/plain\r\nContent-Range: bytes 6-10/12\r\n\r\nworld' +
        '\r\n--THIS_STRING_SEPARATES\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-4/12\r\n\r\nhello' +
        '\r\n--THIS_STRING_SEPARATES--\r\n',
    );
    expect(out.byteLength).toBe(parts.length);
  });

  it('a single-pass body sends parts in ascending order, same length, and is closed early', async () => {
    const { all, state, body } = source(1000, [100]);
    const parts = new MultipartByteranges(
      [
        { start: 450, end: 460 },
        { start: 10, end: 20 },
      ],
      { size: 1000, boundary: 'b' },
    );
    const out = await readBody(parts.stream(body()));
    expect(out.byteLength).toBe(parts.length);
    const expected = [
      '--b\r\nContent-Range: bytes 10-20/1000\r\n\r\n',
      all.slice(10, 21),
      '\r\n--b\r\nContent-Range: bytes 450-460/1000\r\n\r\n',
      all.slice(450, 461),
      '\r\n--b--\r\n',
    ];
    expect(out).toEqual(Uint8Array.from(expected.flatMap((p) => [...(typeof p === 'string' ? bytesOf(p) : p)])));
    expect(state.chunksRead).toBe(5);
    expect(state.closed).toBe(true);
  });

  it('a range reader is called per range, in request order', async () => {
    const calls: ByteRange[] = [];
    const parts = new MultipartByteranges(ranges, { size: 12, boundary: 'x' });
    const all = bytesOf('hello world!');
    const out = await readBody(
      parts.stream((range) => {
        calls.push(range);
        return [all.slice(range.start, range.end + 1)];
      }),
    );
    expect(calls).toEqual(ranges);
    expect(out.byteLength).toBe(parts.length);
    await expect(readBody(parts.stream(() => [bytesOf('ab')]))).rejects.toThrow(/too few/);
    await expect(readBody(parts.stream(() => [bytesOf('abcdefgh')]))).rejects.toThrow(/too many/);
  });

  it('a random boundary by default, quoted in Content-Type when it is not a token', () => {
    const a = new MultipartByteranges(ranges, { size: 12 });
    const b = new MultipartByteranges(ranges, { size: 12 });
    expect(a.boundary).toMatch(/^[0-9a-f]{32}$/);
    expect(a.boundary).not.toBe(b.boundary);
    expect(new MultipartByteranges(ranges, { size: 12, boundary: 'a:b' }).contentType).toBe('multipart/byteranges; boundary="a:b"');
  });

  it('refuses bad input at construction', () => {
    expect(() => new MultipartByteranges([{ start: 0, end: 12 }], { size: 12 })).toThrow(RangeError);
    expect(() => new MultipartByteranges(ranges, { size: 12, boundary: 'bad\r\nboundary' })).toThrow(TypeError);
    expect(() => new MultipartByteranges(ranges, { size: 12, boundary: 'x'.repeat(71) })).toThrow(TypeError);
    expect(() => new MultipartByteranges(ranges, { size: 12, contentType: 'text/plain\r\nX-Evil: 1' })).toThrow(TypeError);
  });

  it('a single-pass body cannot serve overlapping ranges; a short body fails', async () => {
    const overlapping = new MultipartByteranges(
      [
        { start: 0, end: 5 },
        { start: 3, end: 8 },
      ],
      { size: 12 },
    );
    await expect(readBody(overlapping.stream([bytesOf('hello world!')]))).rejects.toThrow(TypeError);
    const parts = new MultipartByteranges(ranges, { size: 12 });
    await expect(readBody(parts.stream([bytesOf('hello')]))).rejects.toThrow(/before the last range/);
  });

  it('property: every source kind yields the same bytes and the announced length', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 5 }),
        async (size, chunks, pairs) => {
          const header = `bytes=${pairs.map(([a, b]) => `${Math.min(a % size, b % size)}-${Math.max(a % size, b % size)}`).join(',')}`;
          const result = parseRange(header, size);
          if (result.kind !== 'satisfiable') throw new Error('expected satisfiable');
          const { all, body } = source(size, chunks);
          const parts = new MultipartByteranges(result.ranges, { size, contentType: 'application/octet-stream', boundary: 'q' });
          const fromBytes = await readBody(parts.stream(all));
          const fromReader = await readBody(parts.stream((r) => [all.slice(r.start, r.end + 1)]));
          const fromStream = await readBody(parts.stream(body()));
          expect(fromBytes.byteLength).toBe(parts.length);
          expect(fromReader).toEqual(fromBytes);
          expect(fromStream.byteLength).toBe(parts.length);
          const sorted = [...result.ranges].sort((a, b) => a.start - b.start);
          const again = new MultipartByteranges(sorted, { size, contentType: 'application/octet-stream', boundary: 'q' });
          expect(fromStream).toEqual(await readBody(again.stream(all)));
        },
      ),
      { numRuns: 100 },
    );
  });
});
