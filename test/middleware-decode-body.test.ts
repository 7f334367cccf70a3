/**
 * `decodeBody` (tsgi/middleware) over a real socket: each coding, lists of codings,
 * concatenated gzip members, `identity`; its answers (415 with `Accept-Encoding`, 400 for
 * corrupt data, 413 past the coded or the decoded size, while streaming, the decoder stopped
 * early); the readers below (`req.json()`, `req.form()`, a multipart upload, a raw read, a
 * `proxy`), and its options.
 */
import http2 from 'node:http2';
import net from 'node:net';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type App, type Environ, Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { decodeBody, lint } from 'tsgi/middleware';
import { proxy } from 'tsgi/proxy';
import { rawExchange, request, start, until } from './node-helpers.ts';
import { countZstdOutput, rleFrame } from './fixtures/zstd-frames.ts';

/** zlib has zstd from Node 22.15 and 23.8; `engines` accepts any 22. */
const hasZstd = typeof zlib.zstdCompressSync === 'function';
const zlibFunctions = zlib as unknown as Record<string, unknown>;

/** Runs `test` with zlib's zstd functions hidden, as on a Node without zstd (22.0 to 22.14). */
async function withoutZstd(test: () => Promise<void>): Promise<void> {
  const hidden = ['createZstdDecompress', 'zstdCompressSync'].map((name) => [name, zlibFunctions[name]] as const);
  for (const [name] of hidden) delete zlibFunctions[name];
  try {
    await test();
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

describe('decodeBody', () => {
  it('decodes gzip, x-gzip, deflate, br and zstd bodies for req.json(), and passes identity and uncoded bodies', async () => {
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
    expect([plain.status, plain.body.toString()]).toEqual([202, '{"accepted":3}']);
  });

  it('without the layer, the same gzip body is refused by req.json() with 415', async () => {
    const server = await start(ingest);
    const res = await post(server.url, zlib.gzipSync(batch), { 'Content-Encoding': 'gzip' });
    expect([res.status, res.headers['accept-encoding']]).toEqual([415, 'identity']);
  });

  it('undoes a list of codings right to left, and concatenated gzip members in turn', async () => {
    const server = await start(decodeBody(ingest));
    const listed = await post(server.url, zlib.brotliCompressSync(zlib.gzipSync(batch)), { 'Content-Encoding': 'gzip, br' });
    expect([listed.status, listed.body.toString()]).toEqual([202, '{"accepted":3}']);
    // Names are case-insensitive, with optional whitespace; identity is no coding, an empty element nothing.
    const spelled = await post(server.url, zlib.brotliCompressSync(zlib.gzipSync(batch)), { 'Content-Encoding': ' GZip ,identity,, BR ' });
    expect([spelled.status, spelled.body.toString()]).toEqual([202, '{"accepted":3}']);
    const twice = await post(server.url, zlib.gzipSync(zlib.gzipSync(batch)), { 'Content-Encoding': 'gzip, x-gzip' });
    expect([twice.status, twice.body.toString()]).toEqual([202, '{"accepted":3}']);
    const members = Buffer.concat([zlib.gzipSync('[1,2,'), zlib.gzipSync('3]')]);
    const joined = await post(server.url, members, { 'Content-Encoding': 'gzip' });
    expect([joined.status, joined.body.toString()]).toEqual([202, '{"accepted":3}']);
  });

  it('decodes a urlencoded form for req.form() and a multipart upload for req.files()', async () => {
    const form = Request.application(async (req) => {
      if (req.contentType === 'multipart/form-data') {
        const [fields, files] = [await req.form(), await req.files()];
        const file = files.get('data')!;
        return new Response(`${fields.get('note')} ${file.filename} ${(await file.text()).length}`);
      }
      return new Response((await req.form()).get('q') ?? '-');
    });
    const server = await start(decodeBody(form));
    const res = await post(server.url, zlib.gzipSync('q=coded+form'), { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Encoding': 'gzip' });
    expect([res.status, res.body.toString()]).toEqual([200, 'coded form']);
    const content = 'x'.repeat(200_000);
    const multipart = [
      '--b0undary\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n',
      '--b0undary\r\nContent-Disposition: form-data; name="data"; filename="log.txt"\r\nContent-Type: text/plain\r\n\r\n',
      `${content}\r\n--b0undary--\r\n`,
    ].join('');
    const upload = await post(server.url, zlib.brotliCompressSync(multipart), { 'Content-Type': 'multipart/form-data; boundary=b0undary', 'Content-Encoding': 'br' });
    expect([upload.status, upload.body.toString()]).toEqual([200, 'hello log.txt 200000']);
  });

  it('answers 415 with the codings it accepts for an unknown coding, 400 for corrupt or cut data', async () => {
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
    expect([cut.status, cut.body.toString()]).toEqual([400, expect.stringContaining('The body is not valid gzip data.')]);
    for (const coding of hasZstd ? ['br', 'deflate', 'zstd'] : ['br', 'deflate']) {
      const bad = await post(server.url, batch, { 'Content-Encoding': coding });
      expect([coding, bad.status, bad.body.toString()]).toEqual([coding, 400, expect.stringContaining(`The body is not valid ${coding} data.`)]);
    }
    // The inner coding of a list is named when it is the one that fails.
    const inner = await post(server.url, zlib.brotliCompressSync(batch), { 'Content-Encoding': 'gzip, br' });
    expect([inner.status, inner.body.toString()]).toEqual([400, expect.stringContaining('The body is not valid gzip data.')]);
    expect(server.log.text).toBe('');
  });

  it("keeps its 415's reason short whatever the client sent: three codings named at most, each cut after 40 characters; the readers' own 415 too", async () => {
    const long = 'x'.repeat(5000);
    const server = await start(decodeBody(ingest, { maxCodings: 10 }));
    const res = await post(server.url, batch, { 'Content-Encoding': `${long}, a, b, c` });
    expect(res.status).toBe(415);
    expect(res.body.toString()).toContain(`Content-Encoding ${'x'.repeat(40)}…, a, b and 1 more is not supported.`);
    expect(res.body.length).toBeLessThan(300);
    // Without the layer, req.json() refuses any coding itself, as briefly.
    const bare = await start(ingest);
    const refused = await post(bare.url, batch, { 'Content-Encoding': `${long}, ${'gzip, '.repeat(1000)}br` });
    expect(refused.status).toBe(415);
    expect(refused.body.toString()).toContain(`The body is sent with Content-Encoding ${'x'.repeat(40)}…, gzip, gzip and 999 more, which this reader does not decode: send it uncoded.`);
    expect(refused.body.length).toBeLessThan(300);
    expect(server.log.text + bare.log.text).toBe('');
  });

  it('answers 415 for zstd on a Node without it (22.0 to 22.14), not a 500, and leaves zstd out of Accept-Encoding', async () => {
    await withoutZstd(async () => {
      const server = await start(decodeBody(ingest));
      const res = await post(server.url, batch, { 'Content-Encoding': 'zstd' });
      expect([res.status, res.headers['accept-encoding']]).toEqual([415, 'gzip, deflate, br']);
      expect(res.body.toString()).toContain('Content-Encoding zstd is not supported.');
      expect((await post(server.url, zlib.gzipSync(batch), { 'Content-Encoding': 'gzip' })).status).toBe(202);
      expect(() => decodeBody(ingest, { codings: ['gzip', 'zstd'] })).toThrow(/cannot decode zstd/);
    });
  });

  it('stops a decompression bomb at the decoded limit while streaming, the decoder having made little more than the limit', async () => {
    // Counts every byte a gzip decoder makes, read or not: each member's raw inflater (zlib's createInflateRaw cannot be replaced).
    const gunzip = zlib.InflateRaw.prototype as unknown as { push(chunk: unknown, encoding?: BufferEncoding): boolean };
    let produced = 0;
    gunzip.push = function (this: typeof gunzip, chunk: unknown, encoding?: BufferEncoding) {
      if (chunk instanceof Uint8Array) produced += chunk.byteLength;
      return Object.getPrototypeOf(gunzip).push.call(this, chunk, encoding);
    };
    try {
      const seen: { read: number; produced: number; status: number }[] = [];
      const app = Request.application(async (req) => {
        let read = 0;
        try {
          for await (const chunk of req.stream()) read += chunk.byteLength;
        } catch (error) {
          seen.push({ read, produced, status: (error as { code: number }).code });
          throw error;
        }
        return new Response(String(read));
      });
      const server = await start(decodeBody(app, { maxSize: MiB }));
      const member = zlib.gzipSync(Buffer.alloc(MiB));          // 1 MiB of zeros in ~1 kB
      const bomb = Buffer.concat(Array.from({ length: 64 }, () => member)); // 64 MiB decoded
      expect(bomb.byteLength).toBeLessThan(128 * 1024);
      const res = await post(server.url, bomb, { 'Content-Encoding': 'gzip' });
      expect(res.status).toBe(413);
      expect(res.body.toString()).toContain('maxSize exceeded: the decoded body is larger than 1048576 bytes');
      expect(seen).toHaveLength(1);
      expect(seen[0]!.status).toBe(413);
      expect(seen[0]!.read).toBeLessThanOrEqual(MiB);
      expect(seen[0]!.produced).toBeGreaterThan(MiB);
      expect(seen[0]!.produced).toBeLessThanOrEqual(MiB + 64 * 1024);
      const fits = await post(server.url, zlib.gzipSync(Buffer.alloc(MiB)), { 'Content-Encoding': 'gzip' });
      expect([fits.status, fits.body.toString()]).toEqual([200, String(MiB)]);
    } finally {
      delete (gunzip as { push?: unknown }).push;
    }
  });

  it('stops a Brotli bomb under a reader with no limit of its own; by default, past 100 MiB', async () => {
    const server = await start(decodeBody(raw, { maxSize: MiB }));
    const brotli = await post(server.url, zlib.brotliCompressSync(Buffer.alloc(16 * MiB)), { 'Content-Encoding': 'br' });
    expect([brotli.status, brotli.body.toString()]).toEqual([413, expect.stringContaining('maxSize exceeded: the decoded body is larger than 1048576 bytes')]);
    const byDefault = await start(decodeBody(raw));
    const declared = await post(byDefault.url, zlib.gzipSync(batch), { 'Content-Encoding': 'gzip', 'Content-Length': String(100 * MiB + 1) });
    expect([declared.status, declared.body.toString()]).toEqual([413, expect.stringContaining('maxSize exceeded: the request body is larger than 104857600 bytes')]);
  });

  it('bounds the coded side too: empty gzip members are refused, by Content-Length or while streaming', async () => {
    const server = await start(decodeBody(raw, { maxSize: 16 * 1024 }));
    const empties = Buffer.concat(Array.from({ length: 2000 }, () => zlib.gzipSync(''))); // ~40 kB, decodes to nothing
    const declared = await post(server.url, empties, { 'Content-Encoding': 'gzip' });
    expect(declared.status).toBe(413);
    const chunked = await post(server.url, empties, { 'Content-Encoding': 'gzip', 'Transfer-Encoding': 'chunked' });
    expect(chunked.status).toBe(413);
  });

  it('bounds every decoding of a list: a gzip of empty gzip members is refused, not decoded for ever', async () => {
    const server = await start(decodeBody(raw, { maxSize: 16 * 1024 }));
    const empties = Buffer.concat(Array.from({ length: 2000 }, () => zlib.gzipSync(''))); // ~40 kB, decodes to nothing
    const nested = zlib.gzipSync(empties); // well under the coded bound
    expect(nested.byteLength).toBeLessThan(4 * 1024);
    const res = await post(server.url, nested, { 'Content-Encoding': 'gzip, gzip' });
    expect([res.status, res.body.toString()]).toEqual([413, expect.stringContaining('maxSize exceeded: the decoded body is larger than 16384 bytes')]);
  });

  it('answers 415 for more codings than maxCodings (2 by default), before a decoder is made', async () => {
    const server = await start(decodeBody(raw));
    const res = await post(server.url, zlib.gzipSync(zlib.gzipSync(zlib.gzipSync(batch))), { 'Content-Encoding': 'gzip, gzip, gzip' });
    expect([res.status, res.headers['accept-encoding']]).toEqual([415, hasZstd ? 'gzip, deflate, br, zstd' : 'gzip, deflate, br']);
    expect(res.body.toString()).toContain('More than 2 content codings.');
    const one = await start(decodeBody(raw, { maxCodings: 1 }));
    const two = await post(one.url, zlib.gzipSync(zlib.gzipSync(batch)), { 'Content-Encoding': 'gzip, gzip' });
    expect([two.status, two.body.toString()]).toEqual([415, expect.stringContaining('More than 1 content codings.')]);
    expect((await post(one.url, zlib.gzipSync(batch), { 'Content-Encoding': 'gzip' })).body.toString()).toBe(String(batch.byteLength));
  });

  it('accepts only the codings given, x-gzip with gzip, and lists them in a 415', async () => {
    const server = await start(decodeBody(raw, { codings: ['gzip'] }));
    const br = await post(server.url, zlib.brotliCompressSync(batch), { 'Content-Encoding': 'br' });
    expect([br.status, br.headers['accept-encoding'], br.body.toString()]).toEqual([415, 'gzip', expect.stringContaining('Content-Encoding br is not supported.')]);
    const gzip = await post(server.url, zlib.gzipSync(batch), { 'Content-Encoding': 'x-gzip' });
    expect([gzip.status, gzip.body.toString()]).toEqual([200, String(batch.byteLength)]);
  });

  it('fails the read of a client gone mid-body as the reader does (400, not corrupt data), logging nothing', async () => {
    const seen: string[] = [];
    const app = Request.application(async (req) => {
      try {
        await req.json({ maxBodySize: Infinity });
      } catch (error) {
        seen.push(`${(error as { code: number }).code} ${(error as Error).message}`);
        throw error;
      }
      return new Response('read');
    });
    const server = await start(decodeBody(app));
    const body = zlib.gzipSync(Buffer.from(JSON.stringify(Array.from({ length: 50_000 }, (_, i) => ({ i, r: Math.random() })))));
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body.subarray(0, body.length >> 1), () => setTimeout(() => socket.destroy(), 50));
    await until(() => seen.length > 0);
    expect(seen).toEqual(['400 The request body could not be read completely.']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.log.text).toBe('');
  });

  it('under Expect: 100-continue, answers a declared size past maxSize 413 without 100 Continue, and sends 100 Continue once a reader starts', async () => {
    const server = await start(decodeBody(ingest, { maxSize: 1024 }));
    const head = (length: number) => `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`;
    const refused = await rawExchange(server.port, head(2048));
    expect(refused.raw).toMatch(/^HTTP\/1\.1 413 /);
    expect(refused.raw).not.toContain('100 Continue');
    const body = zlib.gzipSync(batch);
    const accepted = await new Promise<string>((resolve) => {
      const socket = net.connect(server.port, '127.0.0.1');
      let got = '';
      socket.on('data', (chunk: Buffer) => {
        got += chunk.toString('latin1');
        if (got === 'HTTP/1.1 100 Continue\r\n\r\n') socket.write(body);
      });
      socket.on('close', () => resolve(got));
      socket.write(head(body.byteLength));
    });
    expect(accepted).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 202 [^]*\{"accepted":3\}$/);
  });

  it('decodes an HTTP/2 body, which has no Content-Length nor Transfer-Encoding, and drops the field of a stream with no body', async () => {
    const server = await start(decodeBody(ingest), { http2: 'h2c' });
    const session = http2.connect(server.url);
    try {
      const exchange = (body: Uint8Array | null) =>
        new Promise<[unknown, string]>((resolve, reject) => {
          const stream = session.request({ ':method': 'POST', ':path': '/', 'content-type': 'application/json', 'content-encoding': 'gzip' }, { endStream: body === null });
          let status: unknown;
          let text = '';
          stream.on('response', (headers) => (status = headers[':status']));
          stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          stream.on('end', () => resolve([status, text])).on('error', reject);
          if (body !== null) stream.end(body);
        });
      expect(await exchange(zlib.gzipSync(batch))).toEqual([202, '{"accepted":3}']);
      // No body: req.json()'s 400 for an empty body, not its 415 for the field.
      const [status, text] = await exchange(null);
      expect([status, text]).toEqual([400, expect.stringContaining('The body is empty')]);
    } finally {
      session.close();
    }
  });

  it('refuses bad options when built', () => {
    expect(() => decodeBody(raw, { maxSize: -1 })).toThrow(TypeError);
    expect(() => decodeBody(raw, { maxSize: Infinity })).toThrow(/maxSize must be a non-negative integer/);
    expect(() => decodeBody(raw, { maxCodings: 0 })).toThrow(/maxCodings must be an integer >= 1/);
    expect(() => decodeBody(raw, { codings: ['compress' as 'gzip'] })).toThrow(/unknown coding "compress"/);
  });

  it('lets through what is not the decoder\'s: a read begun after the answer fails as discarded, not as corrupt data', async () => {
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

  it('hands the app below no Content-Encoding, Content-Length or digest of the coded bytes, and a readable body', async () => {
    const fields: unknown[] = [];
    const app: App = async (environ, startResponse) => {
      fields.push(environ.HTTP_CONTENT_ENCODING, environ.CONTENT_LENGTH, environ.HTTP_CONTENT_DIGEST, environ.HTTP_REPR_DIGEST, environ.HTTP_DIGEST, environ.HTTP_CONTENT_MD5, environ['tsgi.input_terminated']);
      const size = (await new Request(environ).bytes()).byteLength;
      startResponse('200 OK', []);
      return [new TextEncoder().encode(String(size))];
    };
    const server = await start(decodeBody(app));
    const digests = { 'Content-Digest': 'sha-256=:AAAA:', 'Repr-Digest': 'sha-256=:AAAA:', Digest: 'SHA-256=AAAA', 'Content-MD5': 'AAAA' };
    const res = await post(server.url, zlib.gzipSync(batch), { 'Content-Encoding': 'gzip', ...digests });
    expect([res.status, res.body.toString()]).toEqual([200, String(batch.byteLength)]);
    expect(fields).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, true]);
  });

  it('reads an empty coded body as an empty body, as without a coding: no 415 from the readers below, no 400 for zero bytes', async () => {
    const read = Request.application(async (req) => {
      if (req.path === '/json') return Response.json(await req.json());
      return new Response(`form ${[...(await req.form()).keys()].length}`);
    });
    const server = await start(decodeBody(read));
    for (const framing of [{ 'Content-Length': '0' }, { 'Transfer-Encoding': 'chunked' }] as Record<string, string>[]) {
      const form = await post(server.url, '', { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Encoding': 'gzip', ...framing });
      expect([framing, form.status, form.body.toString()]).toEqual([framing, 200, 'form 0']);
      const json = await post(`${server.url}/json`, '', { 'Content-Encoding': 'br', ...framing });
      expect([framing, json.status, json.headers['accept-encoding']]).toEqual([framing, 400, undefined]);
      expect(json.body.toString()).toContain('The body is empty: a JSON value was expected.');
    }
    // A coding this layer would refuse is nothing to refuse on no body either.
    expect((await post(server.url, '', { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Encoding': 'compress', 'Content-Length': '0' })).status).toBe(200);
    expect(server.log.text).toBe('');
  });

  it('reads an environ without tsgi.input as an empty body, as the readers do without this layer', async () => {
    // A hand-made environ (a test's, a gateway's) that says chunked but has no input: the form
    // is empty and the text '' below decodeBody too, not a 400 "could not be read completely".
    const read = Request.application(async (req) => new Response(`form ${[...(await req.form()).keys()].length}, text ${JSON.stringify(await req.text())}`));
    for (const app of [read, decodeBody(read)]) {
      const req = Request.blank('/', { method: 'POST', headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip', 'Transfer-Encoding': 'chunked' } });
      delete (req.environ as Partial<Environ>)['tsgi.input'];
      if (app === read) delete (req.environ as Partial<Environ>).HTTP_CONTENT_ENCODING;
      const res = await req.getResponse(app);
      expect([res.statusCode, await res.text()]).toEqual([200, 'form 0, text ""']);
    }
  });

  it('passes a request without a coding and identity untouched; a GET with the field and no body loses the field', async () => {
    const seen: Environ[] = [];
    const app: App = (environ, startResponse) => {
      seen.push({ ...environ });
      startResponse('204 No Content', []);
      return [];
    };
    const server = await start(decodeBody(app));
    expect((await request(server.url, { headers: { 'Content-Encoding': 'gzip' } })).status).toBe(204);
    expect((await post(server.url, batch, { 'Content-Encoding': 'identity' })).status).toBe(204);
    expect((await post(server.url, batch)).status).toBe(204);
    expect(seen.map((environ) => [environ.HTTP_CONTENT_ENCODING, environ.CONTENT_LENGTH])).toEqual([
      [undefined, undefined],
      ['identity', String(batch.byteLength)],
      [undefined, String(batch.byteLength)],
    ]);
    expect(seen.every((environ) => environ['tsgi.input_terminated'] !== true)).toBe(true);
  });

  it('makes a proxy below forward the decoded body, chunked, without the coding', async () => {
    const received: { encoding: unknown; length: unknown; chunked: unknown; body: string }[] = [];
    const upstream = await start(
      Request.application(async (req) => {
        received.push({
          encoding: req.environ.HTTP_CONTENT_ENCODING,
          length: req.environ.CONTENT_LENGTH,
          chunked: req.environ.HTTP_TRANSFER_ENCODING,
          body: await req.text(),
        });
        return new Response('stored', { status: 201 });
      }),
    );
    const server = await start(decodeBody(proxy(upstream.url)));
    const res = await post(server.url, zlib.gzipSync(batch), { 'Content-Encoding': 'gzip' });
    expect([res.status, res.body.toString()]).toEqual([201, 'stored']);
    expect(received).toEqual([{ encoding: undefined, length: undefined, chunked: 'chunked', body: batch.toString() }]);
    const corrupt = await post(server.url, batch, { 'Content-Encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
  });

  it('decodes under the fetch handler too (node:zlib; Bun, Deno and workerd with nodejs_compat have it), the environ below passing lint', async () => {
    const handler = toFetchHandler(decodeBody(lint(ingest)));
    const coded = new globalThis.Request('http://localhost/ingest', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'br' },
      body: new Blob([zlib.brotliCompressSync(batch)]).stream(),
      duplex: 'half',
    } as RequestInit);
    const res = await handler(coded);
    expect([res.status, await res.text()]).toEqual([202, '{"accepted":3}']);
    const corrupt = await handler(new globalThis.Request('http://localhost/ingest', { method: 'POST', headers: { 'Content-Encoding': 'gzip' }, body: batch }));
    expect([corrupt.status, await corrupt.text()]).toEqual([400, expect.stringContaining('The body is not valid gzip data.')]);
  });
});

describe.skipIf(!hasZstd)('decodeBody: zstd', () => {
  it('stops a zstd bomb (32 kB making 1 GiB) at the decoded limit while streaming, the decoder having made little more than the limit', async () => {
    const zstdOutput = countZstdOutput();
    try {
      const server = await start(decodeBody(raw, { maxSize: MiB }));
      const bomb = rleFrame(17, 2 ** 30);
      expect(bomb.byteLength).toBeLessThan(33 * 1024);
      const res = await post(server.url, bomb, { 'Content-Encoding': 'zstd' });
      expect([res.status, res.body.toString()]).toEqual([413, expect.stringContaining('maxSize exceeded: the decoded body is larger than 1048576 bytes')]);
      expect(zstdOutput.produced()).toBeLessThanOrEqual(MiB + 256 * 1024);
      const chunked = await post(server.url, bomb, { 'Content-Encoding': 'zstd', 'Transfer-Encoding': 'chunked' });
      expect(chunked.status).toBe(413);
    } finally {
      zstdOutput.restore();
    }
  });

  it('refuses a zstd window past 8 MiB with a 400 naming it (RFC 9659 §3), and decodes one of 8 MiB', async () => {
    const server = await start(decodeBody(raw, { maxSize: 32 * MiB }));
    for (const windowLog of [24, 27, 31]) {
      // A few bytes whose decoder would hold up to 2^windowLog bytes (128 MiB at 27) for this request.
      const res = await post(server.url, rleFrame(windowLog, 16 * MiB), { 'Content-Encoding': 'zstd' });
      expect([res.status, res.body.toString()], String(windowLog)).toEqual([400, expect.stringContaining('zstd window is larger than 8 MiB')]);
    }
    const fits = await post(server.url, rleFrame(23, 16 * MiB), { 'Content-Encoding': 'zstd' });
    expect([fits.status, fits.body.toString()]).toEqual([200, String(16 * MiB)]);
  });
});
