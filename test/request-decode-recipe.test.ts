/**
 * docs/request.md's "Compressed request bodies" recipe, run as written over a real socket: the
 * `decodeBody` layer (gzip, deflate, br, zstd, lists of codings, concatenated gzip members),
 * its answers (415 for an unknown coding, 400 for corrupt data, 413 past the coded or the
 * decoded size, while streaming), and the NDJSON reader (line by line, a line limit, an event
 * limit, under `decodeBody` too).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { type App, type Middleware, Request, Response } from 'tsgi';
import { request, start, until } from './node-helpers.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const text = readFileSync(path.join(ROOT, 'docs/request.md'), 'utf8');
const at = text.indexOf('\n## Compressed request bodies: a `Content-Encoding` layer\n');
const section = text.slice(at, text.indexOf('\n## ', at + 1));
const [layer, , ndjsonCode] = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-decode-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(path.join(dir, 'decode.ts'), layer!);
// The NDJSON handler writes to the reader's `sink`: here an array.
writeFileSync(path.join(dir, 'ndjson.ts'), `export const seen: unknown[] = [];\nconst sink = { async write(event: unknown) { seen.push(event); } };\n${ndjsonCode!}`);
const { decodeBody } = (await import(path.join(dir, 'decode.ts'))) as { decodeBody: Middleware<{ maxBodySize?: number }> };
const { ndjson, seen } = (await import(path.join(dir, 'ndjson.ts'))) as { ndjson: App; seen: unknown[] };
/** zlib has zstd from Node 22.15 and 23.8; `engines` accepts any 22. */
const hasZstd = typeof zlib.zstdCompressSync === 'function';
/**
 * Runs `test` with the recipe loaded again as on a Node without zstd (22.0 to 22.14): zlib's
 * zstd functions hidden while it loads and runs.
 */
async function withoutZstd(test: (decode: Middleware<{ maxBodySize?: number }>) => Promise<void>): Promise<void> {
  const zlibFunctions = zlib as unknown as Record<string, unknown>;
  const hidden = ['createZstdDecompress', 'createZstdCompress', 'zstdCompressSync', 'zstdDecompressSync'].map((name) => [name, zlibFunctions[name]] as const);
  for (const [name] of hidden) delete zlibFunctions[name];
  try {
    writeFileSync(path.join(dir, 'decode-without-zstd.ts'), layer!);
    await test(((await import(path.join(dir, 'decode-without-zstd.ts'))) as { decodeBody: Middleware<{ maxBodySize?: number }> }).decodeBody);
  } finally {
    for (const [name, value] of hidden) if (value !== undefined) zlibFunctions[name] = value;
  }
}

const MiB = 1024 * 1024;
/** Answers the JSON batch's length; `req.json()`'s own limit is lifted, so only the layer's applies. */
const ingest = Request.application(async (req) => {
  const batch = await req.json<unknown[]>({ maxBodySize: Infinity });
  return Response.json({ accepted: batch.length }, { status: 202 });
});
/** Reads the body raw, with no limit of its own. */
const raw = Request.application(async (req) => new Response(`${(await req.bytes()).byteLength}`));
const batch = Buffer.from(JSON.stringify([{ name: 'click' }, { name: 'view' }, { name: 'scroll' }]));

const post = (url: string, body: Uint8Array | string, headers: Record<string, string> = {}) =>
  request(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers } });

describe("docs/request.md's decodeBody recipe", () => {
  it('is in the docs', () => {
    expect(at).toBeGreaterThan(-1);
    expect(ndjsonCode).toContain('lines(req.stream(');
  });

  it('decodes gzip, x-gzip, deflate, br and zstd bodies for req.json()', async () => {
    const server = await start(decodeBody(ingest));
    const coded: [string, Uint8Array][] = [
      ['gzip', zlib.gzipSync(batch)],
      ['x-gzip', zlib.gzipSync(batch)],
      ['deflate', zlib.deflateSync(batch)],
      ['br', zlib.brotliCompressSync(batch)],
      ...(hasZstd ? [['zstd', zlib.zstdCompressSync(batch)] as [string, Uint8Array]] : []),
      ['identity', batch],
    ];
    for (const [coding, body] of coded) {
      const res = await post(server.url, body, { 'Content-Encoding': coding });
      expect([coding, res.status, res.body.toString()]).toEqual([coding, 202, '{"accepted":3}']);
    }
    const plain = await post(server.url, batch);
    expect(plain.status).toBe(202);
  });

  it('undoes a list of codings right to left, and concatenated gzip members in turn', async () => {
    const server = await start(decodeBody(ingest));
    const listed = await post(server.url, zlib.brotliCompressSync(zlib.gzipSync(batch)), { 'Content-Encoding': 'gzip, br' });
    expect([listed.status, listed.body.toString()]).toEqual([202, '{"accepted":3}']);
    // Names are case-insensitive, with optional whitespace; identity is no coding, an empty element nothing.
    const spelled = await post(server.url, zlib.brotliCompressSync(zlib.gzipSync(batch)), { 'Content-Encoding': ' GZip ,identity,, BR ' });
    expect([spelled.status, spelled.body.toString()]).toEqual([202, '{"accepted":3}']);
    const members = Buffer.concat([zlib.gzipSync('[1,2,'), zlib.gzipSync('3]')]);
    const joined = await post(server.url, members, { 'Content-Encoding': 'gzip' });
    expect([joined.status, joined.body.toString()]).toEqual([202, '{"accepted":3}']);
  });

  it('decodes a urlencoded form for req.form()', async () => {
    const form = Request.application(async (req) => new Response((await req.form()).get('q') ?? '-'));
    const server = await start(decodeBody(form));
    const res = await post(server.url, zlib.gzipSync('q=coded+form'), { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Encoding': 'gzip' });
    expect([res.status, res.body.toString()]).toEqual([200, 'coded form']);
  });

  it('answers 415 with the codings it knows for an unknown coding, 400 for corrupt or cut data', async () => {
    const server = await start(decodeBody(ingest));
    const unknown = await post(server.url, batch, { 'Content-Encoding': 'gzip, compress' });
    expect(unknown.status).toBe(415);
    expect(unknown.headers['accept-encoding']).toBe(hasZstd ? 'gzip, deflate, br, zstd' : 'gzip, deflate, br');
    expect(unknown.body.toString()).toContain('Content-Encoding compress is not supported.');
    const corrupt = await post(server.url, batch, { 'Content-Encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect(corrupt.body.toString()).toContain('The body is not valid gzip data.');
    const whole = zlib.gzipSync(batch);
    const cut = await post(server.url, whole.subarray(0, whole.length - 6), { 'Content-Encoding': 'gzip' });
    expect(cut.status).toBe(400);
    for (const coding of hasZstd ? ['br', 'deflate', 'zstd'] : ['br', 'deflate']) {
      const bad = await post(server.url, batch, { 'Content-Encoding': coding });
      expect([coding, bad.status]).toEqual([coding, 400]);
    }
  });

  it('answers 415 for zstd on a Node without it (22.0 to 22.14), not a 500, and leaves zstd out of Accept-Encoding', async () => {
    await withoutZstd(async (decode) => {
      const server = await start(decode(ingest));
      const res = await post(server.url, batch, { 'Content-Encoding': 'zstd' });
      expect([res.status, res.headers['accept-encoding']]).toEqual([415, 'gzip, deflate, br']);
      expect(res.body.toString()).toContain('Content-Encoding zstd is not supported.');
      expect((await post(server.url, zlib.gzipSync(batch), { 'Content-Encoding': 'gzip' })).status).toBe(202);
    });
  });

  it('stops a decompression bomb at the decoded limit, even under a reader with no limit', async () => {
    const server = await start(decodeBody(raw));
    const member = zlib.gzipSync(Buffer.alloc(MiB));          // 1 MiB of zeros in ~1 kB
    const bomb = Buffer.concat(Array.from({ length: 64 }, () => member)); // 64 MiB decoded
    expect(bomb.byteLength).toBeLessThan(128 * 1024);
    const before = process.memoryUsage().rss;
    const res = await post(server.url, bomb, { 'Content-Encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(res.body.toString()).toContain('The decoded body is larger than 1048576 bytes.');
    expect(process.memoryUsage().rss - before).toBeLessThan(48 * MiB);
    const br = zlib.brotliCompressSync(Buffer.alloc(16 * MiB));
    const brotli = await post(server.url, br, { 'Content-Encoding': 'br' });
    expect(brotli.status).toBe(413);
    const fits = await post(server.url, zlib.gzipSync(Buffer.alloc(MiB)), { 'Content-Encoding': 'gzip' });
    expect([fits.status, fits.body.toString()]).toEqual([200, String(MiB)]);
  });

  it('bounds the coded side too: empty gzip members are refused, by Content-Length or while streaming', async () => {
    const server = await start(decodeBody(raw, { maxBodySize: 16 * 1024 }));
    const empties = Buffer.concat(Array.from({ length: 2000 }, () => zlib.gzipSync(''))); // ~40 kB, decodes to nothing
    const declared = await post(server.url, empties, { 'Content-Encoding': 'gzip' });
    expect(declared.status).toBe(413);
    const chunked = await post(server.url, empties, { 'Content-Encoding': 'gzip', 'Transfer-Encoding': 'chunked' });
    expect(chunked.status).toBe(413);
  });

  it('bounds every decoding of a list: a gzip of empty gzip members is refused, not decoded for ever', async () => {
    const server = await start(decodeBody(raw, { maxBodySize: 16 * 1024 }));
    const empties = Buffer.concat(Array.from({ length: 2000 }, () => zlib.gzipSync(''))); // ~40 kB, decodes to nothing
    const nested = zlib.gzipSync(empties); // well under the coded bound
    expect(nested.byteLength).toBeLessThan(4 * 1024);
    const res = await post(server.url, nested, { 'Content-Encoding': 'gzip, gzip' });
    expect([res.status, res.body.toString()]).toEqual([413, expect.stringContaining('The decoded body is larger than 16384 bytes.')]);
  });

  it('answers 415 for more than two codings, before a decoder is made', async () => {
    const server = await start(decodeBody(raw));
    const res = await post(server.url, zlib.gzipSync(zlib.gzipSync(zlib.gzipSync(batch))), { 'Content-Encoding': 'gzip, gzip, gzip' });
    expect(res.status).toBe(415);
    expect(res.body.toString()).toContain('More than 2 content codings.');
  });

  it('lets through what is not zlib\'s: a read begun after the answer fails as discarded, not as corrupt data', async () => {
    const seen: string[] = [];
    const late = Request.application((req) => {
      const res = new Response('accepted', { status: 202 });
      res.callOnClose(async () => {
        await req.json().catch((error: Error) => seen.push(`${error.name}: ${error.message}`));
      });
      return res;
    });
    const server = await start(decodeBody(late));
    expect((await post(server.url, zlib.gzipSync(batch), { 'Content-Encoding': 'gzip' })).status).toBe(202);
    await until(() => seen.length === 1);
    expect(seen[0]).toMatch(/^Error: The request body was discarded once the response was sent/);
  });

  it('hands the app below no Content-Encoding and no Content-Length, and a readable body', async () => {
    const fields: unknown[] = [];
    const app: App = async (environ, startResponse) => {
      fields.push(environ.HTTP_CONTENT_ENCODING, environ.CONTENT_LENGTH, environ['tsgi.input_terminated']);
      const size = (await new Request(environ).bytes()).byteLength;
      startResponse('200 OK', []);
      return [new TextEncoder().encode(String(size))];
    };
    const server = await start(decodeBody(app));
    const res = await post(server.url, zlib.gzipSync(batch), { 'Content-Encoding': 'gzip' });
    expect([res.status, res.body.toString()]).toEqual([200, String(batch.byteLength)]);
    expect(fields).toEqual([undefined, undefined, true]);
  });

  it('passes a GET with the field and no body untouched', async () => {
    const seenEncoding: unknown[] = [];
    const app: App = (environ, startResponse) => {
      seenEncoding.push(environ.HTTP_CONTENT_ENCODING);
      startResponse('204 No Content', []);
      return [];
    };
    const server = await start(decodeBody(app));
    const res = await request(server.url, { headers: { 'Content-Encoding': 'gzip' } });
    expect(res.status).toBe(204);
    expect(seenEncoding).toEqual(['gzip']);
  });
});

describe("docs/request.md's NDJSON reader", () => {
  const lines = (count: number) => Array.from({ length: count }, (_, i) => JSON.stringify({ i })).join('\n');

  it('reads the events line by line, blank lines and a last line without newline included', async () => {
    seen.length = 0;
    const server = await start(ndjson);
    const res = await post(server.url, `${lines(3)}\n\n${JSON.stringify({ i: 3 })}`, { 'Content-Type': 'application/x-ndjson' });
    expect([res.status, res.body.toString()]).toEqual([202, '{"accepted":4}']);
    expect(seen).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }]);
  });

  it('reads a gzip batch under decodeBody', async () => {
    seen.length = 0;
    const server = await start(decodeBody(ndjson));
    const res = await post(server.url, zlib.gzipSync(lines(500)), { 'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip' });
    expect([res.status, res.body.toString()]).toEqual([202, '{"accepted":500}']);
    expect(seen).toHaveLength(500);
  });

  it('answers 413 for a line past its limit or too many events, 422 for a line that is no JSON', async () => {
    const server = await start(ndjson);
    const long = await post(server.url, `{"a":"${'x'.repeat(70 * 1024)}"}\n`);
    expect(long.status).toBe(413);
    expect(long.body.toString()).toContain('A line is longer than 65536 characters.');
    const many = await post(server.url, lines(10_001));
    expect(many.status).toBe(413);
    expect(many.body.toString()).toContain('More than 10000 events in one batch.');
    const bad = await post(server.url, '{"i":0}\nnot json\n');
    expect(bad.status).toBe(422);
    expect(bad.body.toString()).toContain('Line 2 is not JSON.');
  });
});
