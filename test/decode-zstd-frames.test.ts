/**
 * zstd bodies of several frames (`cat a.zst b.zst`; RFC 8878 §3.1: zstd data is one or more
 * frames), over a real socket: `decodeContent` and `decodeBody` decode every frame, whether
 * the frames come in one chunk (node:zlib's decoder stopped at the end of the first, the rest
 * dropped) or apart; bytes after the last frame that start none are ignored in a response (as after gzip) and a 400 that says so in a request;
 * a frame cut short at any point of its structure is refused on every Node (Node 22.23's
 * decoder ends one without a word).
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { decodeBody } from 'tsgi/middleware';
import { decodeContent } from 'tsgi/proxy';
import { request, start } from './node-helpers.ts';
import { cutPoints } from './fixtures/zstd-frames.ts';

/** zlib has zstd from Node 22.15 and 23.8; `engines` accepts any 22. */
const hasZstd = typeof zlib.zstdCompressSync === 'function';
const frame = (text: string | Buffer) => zlib.zstdCompressSync(text);
/** A frame of `text` ending in a 4-byte checksum (RFC 8878 §3.1.1: Content_Checksum), of several blocks when `text` passes 128 KiB. */
const checkedFrame = (text: string | Buffer) => zlib.zstdCompressSync(text, { params: { [zlib.constants.ZSTD_c_checksumFlag]: 1 } });

/** `whole` cut short at each point of its structure ({@link cutPoints}): Node 22.23's decoder ends every one of them without a word. */
const cuts = (whole: Buffer): Buffer[] => cutPoints(whole).map((length) => whole.subarray(0, length));

/** An app answering `chunks` as a zstd-coded text/plain body. */
function zstdPage(chunks: Uint8Array[]): App {
  return (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain'], ['Content-Encoding', 'zstd']]);
    return (async function* () {
      for (const chunk of chunks) yield chunk;
    })();
  };
}

describe.skipIf(!hasZstd)('zstd frames one after another', () => {
  const hello = frame('hello ');
  const world = frame('world');
  const big = Buffer.from('zstd frames, one after another. '.repeat(5000));

  it('decodeContent decodes every frame, in one chunk or apart, a large one too', async () => {
    const bodies: Array<[Uint8Array[], string]> = [
      [[Buffer.concat([hello, world])], 'hello world'],
      [[hello, world], 'hello world'],
      [[Buffer.concat([hello, world.subarray(0, 3)]), world.subarray(3)], 'hello world'],
      [[Buffer.concat([frame(big), hello, world])], `${big.toString()}hello world`],
    ];
    for (const [chunks, text] of bodies) {
      const server = await start(decodeContent(zstdPage(chunks)));
      const res = await request(server.url);
      expect([res.status, res.body.byteLength, res.body.toString() === text]).toEqual([200, Buffer.byteLength(text), true]);
      expect(server.log.text).toBe('');
    }
  });

  it('refuses a body of more than 1024 frames ending inside one chunk as corrupt (a decoder each), where it dropped all but the first', async () => {
    const flood = Buffer.concat(Array.from({ length: 1100 }, () => frame('')));
    const server = await start(decodeContent(zstdPage([flood])));
    const res = await request(server.url);
    expect([res.status, res.body.toString()]).toEqual([502, expect.stringContaining('not valid zstd')]);
    expect(server.log.text).toContain('more than 1024 zstd frames');
  });

  it('decodeContent ignores bytes after the last frame that start none, in its chunk or a later one, as it ignores them after gzip', async () => {
    for (const tail of ['\n', 'garbage', '\x28\xb5\x2f\x00junk']) {
      const after = Buffer.from(tail, 'latin1');
      for (const chunks of [[Buffer.concat([hello, world, after])], [hello, world, after], [Buffer.concat([hello, world]), after, Buffer.from('more')]]) {
        const server = await start(decodeContent(zstdPage(chunks)));
        const res = await request(server.url);
        expect([JSON.stringify(tail), chunks.length, res.status, res.body.toString()]).toEqual([JSON.stringify(tail), chunks.length, 200, 'hello world']);
        expect(server.log.text).toBe('');
      }
    }
    // A body that starts with no frame is still no zstd (a 502), and a later frame cut short
    // is corrupt data (the head went out with the first frame's text: the connection is cut).
    const noFrame = await start(decodeContent(zstdPage([Buffer.from('garbage')])));
    expect((await request(noFrame.url)).status).toBe(502);
    expect(noFrame.log.text).toContain('not valid zstd');
    const cut = await start(decodeContent(zstdPage([hello, world.subarray(0, world.byteLength - 2)])));
    await expect(request(cut.url)).rejects.toThrow();
    expect(cut.log.text).toContain('not valid zstd');
  });

  it('decodeContent refuses a frame cut short at any point, on every Node (Node 22.23\'s decoder ends one without a word), and not a whole one or a skippable frame', async () => {
    const whole = checkedFrame(big);
    // Several blocks (its content is past 128 KiB), then a checksum: a cut inside each.
    expect(cutPoints(whole).length).toBeGreaterThanOrEqual(12);
    const skippable = Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    const bodies: Array<[string, Uint8Array[]]> = [
      ...cuts(whole).map((cut): [string, Uint8Array[]] => [`cut at ${cut.byteLength}`, [cut]]),
      ['a second frame cut short in the first one\'s chunk', [Buffer.concat([hello, world.subarray(0, world.byteLength - 2)])]],
      ['a skippable frame cut short', [skippable.subarray(0, 9)]],
      ['a frame cut after a skippable one', [Buffer.concat([skippable, world.subarray(0, 7)])]],
    ];
    for (const [name, chunks] of bodies) {
      const server = await start(decodeContent(zstdPage(chunks)));
      // Refused before the head (a 502), or once the first frame's text went out (the connection cut).
      const status = await request(server.url).then((res) => res.status, () => 'cut');
      expect([name, status === 502 || status === 'cut', server.log.text]).toEqual([name, true, expect.stringContaining('not valid zstd (unexpected end of file)')]);
    }
    for (const chunks of [[whole], [whole.subarray(0, 7), whole.subarray(7)], [skippable, whole]]) {
      const server = await start(decodeContent(zstdPage(chunks)));
      const res = await request(server.url);
      expect([res.status, res.body.byteLength, server.log.text]).toEqual([200, big.byteLength, '']);
    }
  });

  it('decodeBody decodes every frame for the reader, and answers bytes after them that are no frame 400', async () => {
    const echo = Request.application(async (req) => new Response(await req.text()));
    const server = await start(decodeBody(echo));
    const post = (body: Uint8Array) => request(server.url, { method: 'POST', body, headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'zstd' } });
    const both = await post(Buffer.concat([hello, world]));
    expect([both.status, both.body.toString()]).toEqual([200, 'hello world']);
    const garbage = await post(Buffer.concat([hello, Buffer.from('garbage')]));
    expect([garbage.status, garbage.body.toString()]).toEqual([400, expect.stringContaining('The body has bytes after its zstd data.')]);
    const noFrame = await post(Buffer.from('garbage'));
    expect([noFrame.status, noFrame.body.toString()]).toEqual([400, expect.stringContaining('The body is not valid zstd data.')]);
    // A frame cut short is refused on every Node (Node 22.23's decoder ends one without a word).
    for (const cut of [...cuts(checkedFrame(big)), Buffer.concat([hello, world.subarray(0, world.byteLength - 2)])]) {
      const res = await post(cut);
      expect([cut.byteLength, res.status, res.body.toString()]).toEqual([cut.byteLength, 400, expect.stringContaining('The body is not valid zstd data.')]);
    }
    expect(server.log.text).toBe('');
  });
});
