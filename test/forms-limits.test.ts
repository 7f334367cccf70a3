import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HTTPContentTooLarge, HTTPException } from 'tsgi';
import { DEFAULT_FORM_LIMITS, encodeMultipart, parseForm, type ParseFormOptions } from 'tsgi/forms';

const enc = new TextEncoder();
const BOUNDARY = 'limit-test-boundary';
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;
const CHUNK = 64 * 1024;

/**
 * An endless body: `head`, then `repeat` forever. It counts the bytes it hands out, so a test
 * can assert the parser stopped early (an endless body cannot be buffered whole).
 */
function endless(head: string, repeat: string | Uint8Array) {
  const state = { pulled: 0 };
  const unit = typeof repeat === 'string' ? enc.encode(repeat) : repeat;
  const times = Math.max(1, Math.floor(CHUNK / unit.length));
  const block = new Uint8Array(unit.length * times);
  for (let i = 0; i < times; i++) block.set(unit, i * unit.length);
  const input = (async function* () {
    const first = enc.encode(head);
    state.pulled += first.length;
    yield first;
    for (;;) {
      state.pulled += block.length;
      yield block;
    }
  })();
  return { input, state };
}

async function expect413(promise: Promise<unknown>, limit: string, detail: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(HTTPContentTooLarge);
  const error = caught as HTTPException;
  expect(error.code).toBe(413);
  expect(error.detail!.startsWith(`${limit} exceeded: `)).toBe(true);
  expect(error.detail).toMatch(detail);
}

async function* chunked(body: Uint8Array, size = 1000): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < body.length; i += size) yield body.slice(i, i + size);
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsgi-limits-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fieldHead = (name: string) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`;
const fileHead = (name: string, filename: string) =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`;

describe('limits trip while streaming an endless body (multipart)', () => {
  it('has Werkzeug-like defaults', () => {
    expect(DEFAULT_FORM_LIMITS).toMatchObject({ maxFieldSize: 500_000, maxParts: 1000 });
  });

  it('maxFileSize', async () => {
    const max = 1024 * 1024;
    const { input, state } = endless(fileHead('upload', 'a.bin'), 'x');
    await expect413(parseForm(input, MULTIPART, { maxFileSize: max, tmpDir: dir, spoolThreshold: 1024 }), 'maxFileSize', /file 'a\.bin' is larger than 1048576 bytes/);
    expect(state.pulled).toBeLessThan(max + 3 * CHUNK);
    expect(await readdir(dir)).toEqual([]); // the spooled part was removed
  });

  it('maxFieldSize (default 500 000 bytes)', async () => {
    const { input, state } = endless(fieldHead('comment'), 'y');
    await expect413(parseForm(input, MULTIPART), 'maxFieldSize', /field 'comment' is larger than 500000 bytes/);
    expect(state.pulled).toBeLessThan(500_000 + 3 * CHUNK);
  });

  it('maxBodySize', async () => {
    const max = 2 * 1024 * 1024;
    const { input, state } = endless(fileHead('f', 'big.iso'), 'z');
    await expect413(parseForm(input, MULTIPART, { maxBodySize: max, tmpDir: dir }), 'maxBodySize', /larger than 2097152 bytes/);
    expect(state.pulled).toBeLessThanOrEqual(max + CHUNK);
    expect(await readdir(dir)).toEqual([]);
  });

  it('maxBodySize against a declared Content-Length, before reading', async () => {
    const { input, state } = endless(fieldHead('a'), 'a');
    await expect413(parseForm(input, MULTIPART, { maxBodySize: 100, contentLength: 101 }), 'maxBodySize', /100 bytes/);
    expect(state.pulled).toBe(0);
  });

  it('maxParts', async () => {
    const { input, state } = endless('', `${fieldHead('p')}v\r\n`);
    await expect413(parseForm(input, MULTIPART, { maxParts: 10 }), 'maxParts', /more than 10 parts/);
    expect(state.pulled).toBeLessThanOrEqual(CHUNK);
  });

  it('maxParts default 1000', async () => {
    const { input, state } = endless('', `${fieldHead('p')}v\r\n`);
    await expect413(parseForm(input, MULTIPART), 'maxParts', /more than 1000 parts/);
    expect(state.pulled).toBeLessThanOrEqual(2 * CHUNK);
  });

  it('maxFields', async () => {
    const { input, state } = endless('', `${fieldHead('p')}v\r\n`);
    await expect413(parseForm(input, MULTIPART, { maxFields: 5 }), 'maxFields', /more than 5 fields/);
    expect(state.pulled).toBeLessThanOrEqual(CHUNK);
  });

  it('maxFiles', async () => {
    const { input, state } = endless('', `${fileHead('f', 'x.bin')}data\r\n`);
    await expect413(parseForm(input, MULTIPART, { maxFiles: 3, tmpDir: dir, spoolThreshold: 0 }), 'maxFiles', /more than 3 files/);
    expect(state.pulled).toBeLessThanOrEqual(CHUNK);
    expect(await readdir(dir)).toEqual([]); // the three spooled files were removed
  });

  it('maxPartHeaderSize (default 8192 bytes) on an endless header line', async () => {
    const { input, state } = endless(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\nX-Pad: `, 'p');
    await expect413(parseForm(input, MULTIPART), 'maxPartHeaderSize', /headers of part 1 are larger than 8192 bytes/);
    expect(state.pulled).toBeLessThanOrEqual(2 * CHUNK);
  });

  it('maxPartHeaderSize on a long filename', async () => {
    const { body, contentType } = encodeMultipart({}, { f: { filename: `${'n'.repeat(300)}.txt`, content: 'x' } });
    await expect413(parseForm(chunked(body), contentType, { maxPartHeaderSize: 256 }), 'maxPartHeaderSize', /256 bytes/);
  });

  it('an endless preamble is bounded by maxBodySize', async () => {
    const { input, state } = endless('', 'junk before any boundary ');
    await expect413(parseForm(input, MULTIPART, { maxBodySize: 1_000_000 }), 'maxBodySize', /1000000/);
    expect(state.pulled).toBeLessThanOrEqual(1_000_000 + CHUNK);
  });
});

describe('limits are exact (multipart)', () => {
  const cases: Array<[string, ParseFormOptions, (n: number) => ReturnType<typeof encodeMultipart>]> = [
    ['maxFieldSize', { maxFieldSize: 10 }, (n) => encodeMultipart({ f: 'v'.repeat(n) })],
    ['maxFileSize', { maxFileSize: 10 }, (n) => encodeMultipart({}, { f: { filename: 'a', content: 'v'.repeat(n) } })],
    ['maxFields', { maxFields: 10 }, (n) => encodeMultipart(Array.from({ length: n }, (_, i): [string, string] => [`k${i}`, 'v']))],
    ['maxFiles', { maxFiles: 10 }, (n) => encodeMultipart({}, { f: Array.from({ length: n }, () => ({ filename: 'a', content: 'b' })) })],
    ['maxParts', { maxParts: 10 }, (n) => encodeMultipart(Array.from({ length: n }, (): [string, string] => ['k', 'v']))],
  ];
  it.each(cases)('%s: at the limit passes, one past fails', async (limit, options, build) => {
    for (const size of [1, 1000]) {
      const ok = build(10);
      const form = await parseForm(chunked(ok.body, size), ok.contentType, options);
      expect(form.fields.size + form.files.size).toBeGreaterThan(0);
      const over = build(11);
      await expect413(parseForm(chunked(over.body, size), over.contentType, options), limit, /10/);
    }
  });

  it('maxPartHeaderSize counts the header block, CRLFs included', async () => {
    const head = 'Content-Disposition: form-data; name="a"\r\n\r\n';
    const raw = enc.encode(`--${BOUNDARY}\r\n${head}v\r\n--${BOUNDARY}--\r\n`);
    const form = await parseForm(chunked(raw, 3), MULTIPART, { maxPartHeaderSize: head.length });
    expect(form.fields.get('a')).toBe('v');
    await expect413(parseForm(chunked(raw, 3), MULTIPART, { maxPartHeaderSize: head.length - 1 }), 'maxPartHeaderSize', /part 1/);
  });

  it("maxPartHeaderSize past busboy's own 16 KiB cap is a TypeError, as docs/forms.md's limits table says", async () => {
    const raw = enc.encode(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--${BOUNDARY}--\r\n`);
    await expect(parseForm(chunked(raw), MULTIPART, { maxPartHeaderSize: 64 * 1024 })).rejects.toThrow(/maxPartHeaderSize must be at most 16384/);
    const docs = await readFile(new URL('../docs/forms.md', import.meta.url), 'utf8');
    const row = docs.split('\n').find((line) => line.startsWith('| `maxPartHeaderSize` |'));
    expect(row).toMatch(/16 KiB/);
  });

  it('a value that only looks like a boundary is content, not a part', async () => {
    const { body, contentType } = encodeMultipart({ a: `x\r\n--${BOUNDARY}\r\n--other` }, {}, { boundary: 'real-boundary' });
    const form = await parseForm(chunked(body, 2), contentType, { maxParts: 1 });
    expect(form.fields.get('a')).toBe(`x\r\n--${BOUNDARY}\r\n--other`);
  });

  it('refuses invalid limit options', async () => {
    await expect(parseForm(chunked(new Uint8Array()), MULTIPART, { maxFiles: -1 })).rejects.toThrow(TypeError);
    await expect(parseForm(chunked(new Uint8Array()), MULTIPART, { maxFieldSize: Number.NaN })).rejects.toThrow(TypeError);
  });
});

describe('limits trip while streaming an endless body (urlencoded)', () => {
  const URLENCODED = 'application/x-www-form-urlencoded';

  it('maxFieldSize on an endless value', async () => {
    const { input, state } = endless('first=1&comment=', 'a');
    await expect413(parseForm(input, URLENCODED), 'maxFieldSize', /field 'comment' is larger than 500000 bytes/);
    expect(state.pulled).toBeLessThan(500_000 + 2 * CHUNK);
  });

  it('maxFieldSize on an endless name', async () => {
    const { input, state } = endless('', 'n');
    await expect413(parseForm(input, URLENCODED, { maxFieldSize: 1000 }), 'maxFieldSize', /field name/);
    expect(state.pulled).toBeLessThanOrEqual(CHUNK);
  });

  it('maxFields and maxParts on endless pairs', async () => {
    const a = endless('', 'a=1&');
    await expect413(parseForm(a.input, URLENCODED, { maxFields: 20 }), 'maxFields', /more than 20 fields/);
    expect(a.state.pulled).toBeLessThanOrEqual(CHUNK);
    const b = endless('', 'a=1&');
    await expect413(parseForm(b.input, URLENCODED), 'maxParts', /more than 1000 parts/);
    expect(b.state.pulled).toBeLessThanOrEqual(CHUNK);
  });

  it('maxBodySize', async () => {
    const { input, state } = endless('', 'a=1234567890&');
    await expect413(parseForm(input, URLENCODED, { maxBodySize: 100_000, maxParts: Infinity, maxFields: Infinity }), 'maxBodySize', /100000/);
    expect(state.pulled).toBeLessThanOrEqual(100_000 + CHUNK);
  });

  it('a run of `&` is stepped over, not paid for byte by byte: it holds no pair, so only maxBodySize bounds it', async () => {
    // The URL Standard skips empty sequences, so neither maxFields nor maxFieldSize counts
    // `&&&…`; each `&` cost an indexOf call and an allocation, 15 times the reading of the
    // bytes: the forms' 100 MiB default held the event loop for half a minute. The same bytes
    // as one value (a copy and a decode) are the yardstick.
    const amps = new Uint8Array(8 * 1024 * 1024).fill(0x26);
    const value = new Uint8Array(8 * 1024 * 1024).fill(0x61);
    value[0] = 0x3d;
    const time = async (body: Uint8Array): Promise<number> => {
      const started = performance.now();
      await parseForm(chunked(body, CHUNK), URLENCODED, { maxFieldSize: Infinity });
      return performance.now() - started;
    };
    await time(amps.subarray(0, CHUNK)); // warm
    // The best of three alternating runs each: a pause of a loaded machine lands in one run, not all.
    let run = Infinity;
    let yardstick = Infinity;
    for (let round = 0; round < 3; round++) {
      run = Math.min(run, await time(amps));
      yardstick = Math.min(yardstick, await time(value));
    }
    expect(run, `8 MiB of '&' in ${run.toFixed(0)} ms, as one value in ${yardstick.toFixed(0)} ms`).toBeLessThan(3 * yardstick + 100);
  });

  it('exact: a value of maxFieldSize bytes passes', async () => {
    const ok = enc.encode(`a=${'v'.repeat(10)}`);
    expect((await parseForm(chunked(ok, 3), URLENCODED, { maxFieldSize: 10 })).fields.get('a')).toBe('v'.repeat(10));
    await expect413(parseForm(chunked(enc.encode(`a=${'v'.repeat(11)}`), 3), URLENCODED, { maxFieldSize: 10 }), 'maxFieldSize', /'a'/);
  });
});

describe('limits (property)', () => {
  it('a form parses exactly when it is within every limit; otherwise 413 names a limit it breaks', async () => {
    const utf8 = (t: string) => enc.encode(t).length;
    const value = fc.string({ unit: 'binary', maxLength: 12 });
    const limit = fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'ç'), value), { maxLength: 6 }),
        fc.array(fc.tuple(fc.constantFrom('f', 'g'), fc.uint8Array({ maxLength: 12 })), { maxLength: 4 }),
        fc.record({ maxFieldSize: limit, maxFileSize: limit, maxParts: limit, maxFields: limit, maxFiles: limit }),
        fc.integer({ min: 1, max: 64 }),
        async (fields, files, limits, chunkSize) => {
          const options = Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) as ParseFormOptions;
          const { body, contentType } = encodeMultipart(
            fields,
            files.map(([k, content]): [string, { filename: string; content: Uint8Array }] => [k, { filename: 'x.bin', content }]),
          );
          const broken = new Set<string>();
          const cap = (k: keyof typeof limits) => limits[k] ?? Infinity;
          if (fields.length + files.length > cap('maxParts')) broken.add('maxParts');
          if (fields.length > cap('maxFields')) broken.add('maxFields');
          if (files.length > cap('maxFiles')) broken.add('maxFiles');
          if (fields.some(([, v]) => utf8(v) > cap('maxFieldSize'))) broken.add('maxFieldSize');
          if (files.some(([, c]) => c.length > cap('maxFileSize'))) broken.add('maxFileSize');
          let outcome: string;
          try {
            const form = await parseForm(chunked(body, chunkSize), contentType, options);
            expect(form.fields.size).toBe(fields.length);
            expect(form.files.size).toBe(files.length);
            outcome = 'ok';
          } catch (error) {
            expect(error).toBeInstanceOf(HTTPContentTooLarge);
            outcome = (error as HTTPException).detail!.split(' ')[0]!;
          }
          if (broken.size === 0) expect(outcome).toBe('ok');
          else expect(broken).toContain(outcome);
        },
      ),
      { numRuns: 200 },
    );
  });
});
