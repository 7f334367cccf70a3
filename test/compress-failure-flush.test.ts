/**
 * `compress` and a body that fails half-way: the rows the app gave before its failure are
 * coded and flushed (a sync flush, not the coding's end) before the failure goes on, so the
 * client decodes every one of them, as it reads them without `compress`, and then sees the
 * cut: a truncated coded stream, never a whole one ending cleanly. One that fails before
 * anything went out fails at its first step, so `errors` answers a whole 500 in its place.
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type App } from 'tsgi';
import { compress, errors } from 'tsgi/middleware';
import { bytes, parseRaw, rawExchangeStrict, rawGet, sleep, start } from './node-helpers.ts';

const ROWS = 300;
const row = (i: number) => `${i},"customer ${i}",c${i}@example.com\n`;

/** An export whose first row goes out alone (the head with it), then 300 rows at once (under 16 KiB), then a failure. */
const failingExport: App = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/csv']]);
  return (async function* () {
    yield bytes('id,name,email\n');
    await sleep(20);
    for (let i = 0; i < ROWS; i++) yield bytes(row(i));
    throw new Error('the cursor died');
  })();
};

/** The chunks of a chunked body as far as they arrived whole, and whether its last chunk came. */
function chunksSoFar(rest: Buffer): { data: Buffer; ended: boolean } {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = rest.indexOf('\r\n', at);
    if (eol === -1) return { data: Buffer.concat(parts), ended: false };
    const size = parseInt(rest.subarray(at, eol).toString('latin1'), 16);
    if (size === 0) return { data: Buffer.concat(parts), ended: true };
    if (eol + 2 + size > rest.length) return { data: Buffer.concat(parts), ended: false };
    parts.push(rest.subarray(eol + 2, eol + 2 + size));
    at = eol + 4 + size;
  }
}

const decoders: Record<string, (data: Buffer) => Buffer> = {
  // A truncated stream decodes as far as it goes (no end of the coding required).
  gzip: (data) => zlib.gunzipSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  deflate: (data) => zlib.inflateSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH }),
  br: (data) => zlib.brotliDecompressSync(data, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }),
};

describe('compress and a body that fails half-way', () => {
  for (const [coding, decode] of Object.entries(decoders)) {
    it(`${coding}: the client decodes every row the app gave before its failure, then the cut`, async () => {
      const server = await start(compress(failingExport));
      try {
        const { raw } = await rawExchangeStrict(server.port, rawGet('/', `Accept-Encoding: ${coding}\r\n`));
        const head = parseRaw(raw);
        expect([head.status, head.header('Content-Encoding'), head.header('Transfer-Encoding')]).toEqual([200, coding, 'chunked']);
        const { data, ended } = chunksSoFar(Buffer.from(head.rest, 'latin1'));
        // A cut, never a clean end.
        expect(ended).toBe(false);
        expect(decode(data).toString()).toBe('id,name,email\n' + Array.from({ length: ROWS }, (_, i) => row(i)).join(''));
        // Not a whole coded stream: decoding it as one fails (it has no end).
        if (coding === 'gzip') expect(() => zlib.gunzipSync(data)).toThrow();
        expect(server.log.text).toContain('the cursor died');
      } finally {
        await server.close();
      }
    });
  }
});

/** An export whose rows come at once once its first wait ends (under 16 KiB, held for one flush), then a failure: nothing went out. */
const failingAtOnce: App = (_environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/csv']]);
  return (async function* () {
    await sleep(20);
    for (let i = 0; i < ROWS; i++) yield bytes(row(i));
    throw new Error('the cursor died at once');
  })();
};

describe('compress and a body that fails before anything went out', () => {
  it('passes the failure on at the first step, so errors answers its own whole 500, not held rows and a cut', async () => {
    // `debug` makes errors' page tell of the failure: the server's own 500 (for a body failing
    // at its second step, after the held rows) would not.
    const server = await start(errors(compress(failingAtOnce), { debug: true }));
    try {
      const head = parseRaw((await rawExchangeStrict(server.port, rawGet('/', 'Accept-Encoding: gzip\r\n'))).raw);
      expect([head.status, head.header('Content-Encoding')]).toEqual([500, undefined]);
      expect(head.rest).toContain('the cursor died at once');
    } finally {
      await server.close();
    }
  });
});
