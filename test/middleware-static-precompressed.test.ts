/**
 * directoryApp with `precompressed: true` serves the precompressed copies a build leaves next to a file (`app.js.br`,
 * `app.js.gz`) to the clients that accept their coding, over a socket.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compress, directoryApp, lint } from 'tsgi/middleware';
import { request, start } from './node-helpers.ts';

let dir: string;
let root: string;
const JS = `export const greeting = ${JSON.stringify('hello, precompressed world '.repeat(100))};\n`;
const BR = zlib.brotliCompressSync(JS);
const GZ = zlib.gzipSync(JS);
const BUILT = new Date('2024-03-01T12:00:00Z');

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-precompressed-'));
  root = path.join(dir, 'dist');
  mkdirSync(path.join(root, 'assets'), { recursive: true });
  const write = (name: string, content: string | Buffer, date = BUILT) => {
    writeFileSync(path.join(root, name), content);
    utimesSync(path.join(root, name), date, date);
  };
  write('assets/app.js', JS);
  write('assets/app.js.br', BR);
  write('assets/app.js.gz', GZ);
  write('assets/gz-only.css', `body{color:red}\n`.repeat(100));
  write('assets/gz-only.css.gz', zlib.gzipSync(`body{color:red}\n`.repeat(100)));
  write('assets/plain.js', JS);
  // Rebuilt after its copies were made: they are stale.
  write('assets/stale.js', JS, new Date(BUILT.getTime() + 60_000));
  write('assets/stale.js.br', zlib.brotliCompressSync('export const old = 1;\n'));
  // Compressed by the brotli CLI, which copies the file's mtime with utime(): whole seconds.
  write('assets/cli.js', JS, new Date(BUILT.getTime() + 700));
  write('assets/cli.js.br', BR, BUILT);
  write('index.html', `<!doctype html><title>spa</title>${'<p>x</p>'.repeat(200)}`);
  write('index.html.gz', zlib.gzipSync(`<!doctype html><title>spa</title>${'<p>x</p>'.repeat(200)}`));
  write('.secret.br', 'not for anyone');
  write('leak.js', JS);
  symlinkSync(path.join(root, '.secret.br'), path.join(root, 'leak.js.br'));
  writeFileSync(path.join(dir, 'outside.gz'), zlib.gzipSync('outside the root'));
  write('out.js', JS);
  symlinkSync(path.join(dir, 'outside.gz'), path.join(root, 'out.js.gz'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('directoryApp: precompressed copies', () => {
  it('serves no copy without precompressed: true (the default): the file itself, no Vary', async () => {
    for (const options of [{}, { precompressed: false }]) {
      const server = await start(lint(directoryApp(root, options)));
      const res = await request(`${server.url}/assets/app.js`, { headers: { 'accept-encoding': 'br, gzip' } });
      expect([res.status, res.headers['content-encoding'], res.headers.vary, res.headers['accept-ranges'], res.body.toString()]).toEqual([200, undefined, undefined, 'bytes', JS]);
      const index = await request(`${server.url}/`, { headers: { 'accept-encoding': 'gzip' } });
      expect([index.headers['content-encoding'], index.headers.vary]).toEqual([undefined, undefined]);
      // A file named by its copy's name is still served as it is.
      const copy = await request(`${server.url}/assets/app.js.br`, { headers: { 'accept-encoding': 'br' } });
      expect([copy.status, copy.headers['content-encoding'], Buffer.compare(copy.body, BR)]).toEqual([200, undefined, 0]);
    }
  });

  it('serves the .br or .gz copy with its coding, length and own strong ETag, and Vary on every answer', async () => {
    const server = await start(lint(directoryApp(root, { precompressed: true })));
    const identity = await request(`${server.url}/assets/app.js`);
    expect([identity.status, identity.body.toString(), identity.headers['content-encoding'], identity.headers.vary]).toEqual([200, JS, undefined, 'Accept-Encoding']);
    const br = await request(`${server.url}/assets/app.js`, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.status).toBe(200);
    expect(Buffer.compare(br.body, BR)).toBe(0);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(br.headers['content-length']).toBe(String(BR.length));
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect(br.headers.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+-br"$/);
    expect(br.headers.etag).not.toBe(identity.headers.etag);
    const gz = await request(`${server.url}/assets/app.js`, { headers: { 'accept-encoding': 'br;q=0.5, gzip' } });
    expect([gz.headers['content-encoding'], gz.headers['content-length'], gz.headers.etag]).toEqual(['gzip', String(GZ.length), expect.stringMatching(/-gzip"$/)]);
    expect(Buffer.compare(gz.body, GZ)).toBe(0);
    const onlyGz = await request(`${server.url}/assets/gz-only.css`, { headers: { 'accept-encoding': 'br, gzip' } });
    expect([onlyGz.headers['content-encoding'], zlib.gunzipSync(onlyGz.body).toString()]).toEqual(['gzip', `body{color:red}\n`.repeat(100)]);
    const refused = await request(`${server.url}/assets/app.js`, { headers: { 'accept-encoding': 'br;q=0, gzip;q=0.5, identity' } });
    expect([refused.headers['content-encoding'], refused.body.toString()]).toEqual([undefined, JS]);
    // HEAD: the fields GET would get.
    const head = await request(`${server.url}/assets/app.js`, { method: 'HEAD', headers: { 'accept-encoding': 'br' } });
    expect([head.headers['content-encoding'], head.headers['content-length'], head.body.length]).toEqual(['br', String(BR.length), 0]);
    // An index file has its copies too.
    const index = await request(`${server.url}/`, { headers: { 'accept-encoding': 'gzip' } });
    expect([index.headers['content-encoding'], index.headers['content-type']]).toEqual(['gzip', 'text/html; charset=utf-8']);
    // A file without copies is as before: no Vary.
    const plain = await request(`${server.url}/assets/plain.js`, { headers: { 'accept-encoding': 'br, gzip' } });
    expect([plain.headers['content-encoding'], plain.headers.vary]).toEqual([undefined, undefined]);
  });

  it('revalidates the coded copy with its own tag (304 with Vary), and serves ranges from the identity file only', async () => {
    const server = await start(lint(directoryApp(root, { precompressed: true })));
    const br = await request(`${server.url}/assets/app.js`, { headers: { 'accept-encoding': 'br' } });
    const etag = br.headers.etag!;
    const revalidated = await request(`${server.url}/assets/app.js`, { headers: { 'accept-encoding': 'br', 'if-none-match': etag } });
    expect([revalidated.status, revalidated.headers.etag, revalidated.headers.vary]).toEqual([304, etag, 'Accept-Encoding']);
    // The coded copy offers no ranges; a Range is answered from the identity bytes, uncoded.
    expect(br.headers['accept-ranges']).toBe('none');
    const part = await request(`${server.url}/assets/app.js`, { headers: { 'accept-encoding': 'br, gzip', range: 'bytes=0-5' } });
    expect([part.status, part.body.toString(), part.headers['content-encoding'], part.headers['content-range'], part.headers.vary]).toEqual([
      206,
      JS.slice(0, 6),
      undefined,
      `bytes 0-5/${JS.length}`,
      'Accept-Encoding',
    ]);
    // Resuming with the coded copy's tag restarts whole (identity), never a coded part.
    const resume = await request(`${server.url}/assets/app.js`, { headers: { 'accept-encoding': 'br', range: 'bytes=0-5', 'if-range': etag } });
    expect([resume.status, resume.body.toString(), resume.headers['content-encoding']]).toEqual([200, JS, undefined]);
    const several = await request(`${server.url}/assets/app.js`, { headers: { 'accept-encoding': 'br', range: 'bytes=0-1,4-5' } });
    expect([several.status, several.headers['content-encoding']]).toEqual([206, undefined]);
  });

  it('ignores a copy older than the file, a link to a dotfile and a link out of the root', async () => {
    const server = await start(lint(directoryApp(root, { precompressed: true })));
    const stale = await request(`${server.url}/assets/stale.js`, { headers: { 'accept-encoding': 'br' } });
    expect([stale.headers['content-encoding'], stale.body.toString()]).toEqual([undefined, JS]);
    const leak = await request(`${server.url}/leak.js`, { headers: { 'accept-encoding': 'br' } });
    expect([leak.headers['content-encoding'], leak.body.toString()]).toEqual([undefined, JS]);
    const out = await request(`${server.url}/out.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect([out.headers['content-encoding'], out.body.toString()]).toEqual([undefined, JS]);
  });

  it('serves a copy whose mtime the compressor copied to the second only (brotli -k): not stale', async () => {
    const server = await start(lint(directoryApp(root, { precompressed: true })));
    const res = await request(`${server.url}/assets/cli.js`, { headers: { 'accept-encoding': 'br' } });
    expect([res.headers['content-encoding'], Buffer.compare(res.body, BR)]).toEqual(['br', 0]);
  });

  it('under compress: the copy is sent as it is, never compressed twice; another coding is made on the fly', async () => {
    const server = await start(lint(compress(directoryApp(root, { precompressed: true }))));
    const br = await request(`${server.url}/assets/app.js`, { headers: { 'accept-encoding': 'br' } });
    expect([br.headers['content-encoding'], br.headers.vary, br.headers['content-length']]).toEqual(['br', 'Accept-Encoding', String(BR.length)]);
    expect(zlib.brotliDecompressSync(br.body).toString()).toBe(JS);
    const deflate = await request(`${server.url}/assets/app.js`, { headers: { 'accept-encoding': 'deflate' } });
    expect([deflate.headers['content-encoding'], deflate.headers.vary, zlib.inflateSync(deflate.body).toString()]).toEqual(['deflate', 'Accept-Encoding', JS]);
    const etag = br.headers.etag!;
    const revalidated = await request(`${server.url}/assets/app.js`, { headers: { 'accept-encoding': 'br', 'if-none-match': etag } });
    expect([revalidated.status, revalidated.headers.etag, revalidated.headers.vary]).toEqual([304, etag, 'Accept-Encoding']);
  });
});
