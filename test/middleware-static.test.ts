import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, Request } from 'tsgi';
import { compress, directoryApp, fileApp, lint } from 'tsgi/middleware';
import { readBody } from '../src/gateway/body.ts';
import { safeSegments } from '../src/middleware/safe-path.ts';
import { dechunk, parseRaw, rawExchange, rawGet, request, start } from './node-helpers.ts';

let dir: string;
let root: string;
let big: Buffer;
const SECRET = 'TOP-SECRET-OUTSIDE-THE-ROOT';
const HELLO = 'hello, static world\n';
const MTIME = new Date('2024-03-01T12:00:00Z');

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-static-'));
  root = path.join(dir, 'public');
  mkdirSync(path.join(root, 'sub', 'deeper'), { recursive: true });
  mkdirSync(path.join(root, 'empty'));
  mkdirSync(path.join(root, 'listed'));
  mkdirSync(path.join(dir, 'public-evil')); // a sibling whose name starts like the root
  writeFileSync(path.join(dir, 'secret.txt'), SECRET);
  writeFileSync(path.join(dir, 'public-evil', 'secret.txt'), SECRET);
  writeFileSync(path.join(root, 'index.html'), '<h1>home</h1>');
  writeFileSync(path.join(root, 'hello.txt'), HELLO);
  writeFileSync(path.join(root, 'style.css'), 'body { color: red }');
  writeFileSync(path.join(root, 'data.unknownext'), 'xx');
  writeFileSync(path.join(root, 'empty.txt'), '');
  writeFileSync(path.join(root, '.env'), 'PASSWORD=1');
  writeFileSync(path.join(root, 'sub', 'a.txt'), 'A');
  writeFileSync(path.join(root, 'sub', 'index.html'), '<p>sub index</p>');
  big = randomBytes(300_000);
  writeFileSync(path.join(root, 'big.bin'), big);
  utimesSync(path.join(root, 'hello.txt'), MTIME, MTIME);
  // listing material
  for (const name of ['b.txt', 'a.txt', '<script>x.txt', 'sp ace&.txt', '.hidden']) writeFileSync(path.join(root, 'listed', name), name);
  mkdirSync(path.join(root, 'listed', 'zdir'));
  mkdirSync(path.join(root, 'listed', 'adir'));
  // symlinks: one inside, two pointing out
  symlinkSync(path.join(root, 'hello.txt'), path.join(root, 'inlink.txt'));
  symlinkSync(path.join(dir, 'secret.txt'), path.join(root, 'outlink.txt'));
  symlinkSync(dir, path.join(root, 'outdir'));
  symlinkSync(path.join(dir, 'secret.txt'), path.join(root, 'listed', 'zz-outlink.txt'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Mounts `app` at /static by hand (SCRIPT_NAME gets the prefix), as mount() would. */
function mounted(app: App): App {
  return (environ, startResponse) => {
    const pathInfo = environ.PATH_INFO;
    if (pathInfo === '/static' || pathInfo.startsWith('/static/')) {
      environ.SCRIPT_NAME += '/static';
      environ.PATH_INFO = pathInfo.slice('/static'.length);
    }
    return app(environ, startResponse);
  };
}

async function raw(port: number, target: string, extra = '', method = 'GET') {
  const result = await rawExchange(port, rawGet(target, extra, method));
  return parseRaw(result.raw);
}

describe('directoryApp over a socket', () => {
  it('serves a file with type, length, validators and Accept-Ranges', async () => {
    const server = await start(lint(directoryApp(root)));
    const res = await request(`${server.url}/hello.txt`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(HELLO);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['content-length']).toBe(String(HELLO.length));
    expect(res.headers.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(res.headers['last-modified']).toBe(MTIME.toUTCString());
    expect(res.headers['accept-ranges']).toBe('bytes');
    // No maxAge: revalidated at each use, never reused on a browser's own heuristic (Werkzeug's send_file).
    expect(res.headers['cache-control']).toBe('no-cache');
    const css = await request(`${server.url}/style.css`);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const unknown = await request(`${server.url}/data.unknownext`);
    expect(unknown.headers['content-type']).toBe('application/octet-stream');
    const empty = await request(`${server.url}/empty.txt`);
    expect([empty.status, empty.body.length, empty.headers['content-length']]).toEqual([200, 0, '0']);
  });

  it('answers HEAD with the headers only, and 405 with Allow for other methods', async () => {
    const server = await start(lint(directoryApp(root)));
    const head = await request(`${server.url}/big.bin`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(big.length));
    expect(head.body.length).toBe(0);
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await request(`${server.url}/hello.txt`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
    }
  });

  it('streams a large file from disk intact, in reads of at most 64 KiB', async () => {
    const server = await start(lint(directoryApp(root)));
    const res = await request(`${server.url}/big.bin`);
    expect(res.status).toBe(200);
    expect(Buffer.compare(res.body, big)).toBe(0);
    // In-process: the body is a stream of bounded chunks, not the file in one piece.
    const chunks: Uint8Array[] = [];
    const environ = Request.blank('/big.bin').environ;
    const body = await directoryApp(root)(environ, () => {});
    for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(4);
    expect(Math.max(...chunks.map((c) => c.byteLength))).toBeLessThanOrEqual(64 * 1024);
    expect(Buffer.compare(Buffer.concat(chunks), big)).toBe(0);
  });

  it('finishes a download with the old bytes when a new file is renamed over it meanwhile; the next request gets the new one', async () => {
    const own = mkdtempSync(path.join(os.tmpdir(), 'tsgi-static-swap-'));
    try {
      const before = Buffer.alloc(8 * 1024 * 1024, 'a');
      const after = Buffer.alloc(3 * 1024 * 1024, 'b');
      writeFileSync(path.join(own, 'video.mp4'), before);
      const server = await start(lint(directoryApp(own)));
      const { received, etag } = await new Promise<{ received: Buffer; etag: string }>((resolve, reject) => {
        const req = http.get(`${server.url}/video.mp4`, { agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.once('data', () => {
            // An atomic deploy: the new file is written aside, then renamed over the old one.
            res.pause();
            writeFileSync(path.join(own, 'video.mp4.tmp'), after);
            renameSync(path.join(own, 'video.mp4.tmp'), path.join(own, 'video.mp4'));
            res.resume();
          });
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ received: Buffer.concat(chunks), etag: res.headers.etag! }));
          res.on('error', reject);
        });
        req.on('error', reject);
      });
      expect([received.length, received.equals(before)]).toEqual([before.length, true]);
      const next = await request(`${server.url}/video.mp4`, { headers: { 'if-none-match': etag } });
      expect([next.status, next.body.equals(after)]).toEqual([200, true]);
      expect(next.headers.etag).not.toBe(etag);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('answers conditional requests: 304 for If-None-Match / If-Modified-Since, 412 for If-Match', async () => {
    const server = await start(lint(directoryApp(root, { maxAge: 60 })));
    const first = await request(`${server.url}/hello.txt`);
    const etag = first.headers.etag!;
    expect(first.headers['cache-control']).toBe('public, max-age=60');
    const byTag = await request(`${server.url}/hello.txt`, { headers: { 'if-none-match': `"other", ${etag}` } });
    expect(byTag.status).toBe(304);
    expect(byTag.body.length).toBe(0);
    expect(byTag.headers.etag).toBe(etag);
    expect(byTag.headers['cache-control']).toBe('public, max-age=60');
    expect(byTag.headers['content-type']).toBeUndefined();
    const byDate = await request(`${server.url}/hello.txt`, { headers: { 'if-modified-since': MTIME.toUTCString() } });
    expect(byDate.status).toBe(304);
    const older = await request(`${server.url}/hello.txt`, { headers: { 'if-modified-since': new Date(MTIME.getTime() - 5000).toUTCString() } });
    expect(older.status).toBe(200);
    const failed = await request(`${server.url}/hello.txt`, { headers: { 'if-match': '"something-else"' } });
    expect(failed.status).toBe(412);
    const unmodified = await request(`${server.url}/hello.txt`, { headers: { 'if-unmodified-since': new Date(MTIME.getTime() - 5000).toUTCString() } });
    expect(unmodified.status).toBe(412);
    const garbage = await request(`${server.url}/hello.txt`, { headers: { 'if-none-match': 'W/"unterminated', 'if-modified-since': 'yesterday' } });
    expect(garbage.status).toBe(200);
  });

  it('under compress: the gzip copy carries the weakened ETag, and revalidating it gets a 304 for that copy', async () => {
    const own = mkdtempSync(path.join(os.tmpdir(), 'tsgi-static-gzip-'));
    try {
      writeFileSync(path.join(own, 'page.html'), `<p>${'static and compressed '.repeat(200)}</p>`);
      const server = await start(lint(compress(directoryApp(own))));
      const identity = await request(`${server.url}/page.html`);
      const etag = identity.headers.etag!;
      expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
      const gzipped = await request(`${server.url}/page.html`, { headers: { 'accept-encoding': 'gzip' } });
      expect([gzipped.headers['content-encoding'], gzipped.headers.etag, gzipped.headers.vary]).toEqual(['gzip', `W/${etag}`, 'Accept-Encoding']);
      const revalidated = await request(`${server.url}/page.html`, { headers: { 'accept-encoding': 'gzip', 'if-none-match': `W/${etag}` } });
      expect([revalidated.status, revalidated.headers.etag, revalidated.headers.vary]).toEqual([304, `W/${etag}`, 'Accept-Encoding']);
      // A range resumed with the gzip copy's (weak) tag restarts whole; with the file's own tag it resumes.
      const weakResume = await request(`${server.url}/page.html`, { headers: { range: 'bytes=3-5', 'if-range': `W/${etag}` } });
      expect(weakResume.status).toBe(200);
      const resume = await request(`${server.url}/page.html`, { headers: { range: 'bytes=3-5', 'if-range': etag } });
      expect([resume.status, resume.body.toString()]).toEqual([206, 'sta']);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('serves byte ranges: one, suffix, several (multipart), unsatisfiable, ignored', async () => {
    const server = await start(lint(directoryApp(root)));
    const one = await request(`${server.url}/hello.txt`, { headers: { range: 'bytes=0-4' } });
    expect(one.status).toBe(206);
    expect(one.headers['content-range']).toBe(`bytes 0-4/${HELLO.length}`);
    expect(one.body.toString()).toBe('hello');
    const suffix = await request(`${server.url}/hello.txt`, { headers: { range: 'bytes=-6' } });
    expect(suffix.body.toString()).toBe(HELLO.slice(-6));
    // across a 64 KiB read boundary of a large file
    const across = await request(`${server.url}/big.bin`, { headers: { range: 'bytes=65530-65545' } });
    expect(Buffer.compare(across.body, big.subarray(65530, 65546))).toBe(0);
    const several = await request(`${server.url}/hello.txt`, { headers: { range: 'bytes=0-4,7-12' } });
    expect(several.status).toBe(206);
    const type = several.headers['content-type']!;
    const boundary = /boundary=(\S+)/.exec(type)![1]!;
    expect(type).toMatch(/^multipart\/byteranges; boundary=/);
    expect(several.headers['content-length']).toBe(String(several.body.length));
    const text = several.body.toString();
    expect(text).toContain(`--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-4/${HELLO.length}\r\n\r\nhello`);
    expect(text).toContain(`Content-Range: bytes 7-12/${HELLO.length}\r\n\r\n${HELLO.slice(7, 13)}`);
    expect(text.endsWith(`--${boundary}--\r\n`)).toBe(true);
    const unsatisfiable = await request(`${server.url}/hello.txt`, { headers: { range: 'bytes=1000-2000' } });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers['content-range']).toBe(`bytes */${HELLO.length}`);
    const malformed = await request(`${server.url}/hello.txt`, { headers: { range: 'bytes=5-1' } });
    expect([malformed.status, malformed.body.toString()]).toEqual([200, HELLO]);
    const otherUnit = await request(`${server.url}/hello.txt`, { headers: { range: 'lines=1-2' } });
    expect(otherUnit.status).toBe(200);
    // If-Range: a date equal to Last-Modified honours the range, and so does the (strong) ETag,
    // not its weak form (RFC 9110 §13.1.5 compares strongly).
    const byDate = await request(`${server.url}/hello.txt`, { headers: { range: 'bytes=0-4', 'if-range': MTIME.toUTCString() } });
    expect(byDate.status).toBe(206);
    const etag = (await request(`${server.url}/hello.txt`)).headers.etag!;
    const byTag = await request(`${server.url}/hello.txt`, { headers: { range: 'bytes=0-4', 'if-range': etag } });
    expect([byTag.status, byTag.body.toString(), byTag.headers['content-range']]).toEqual([206, HELLO.slice(0, 5), `bytes 0-4/${HELLO.length}`]);
    const byWeakTag = await request(`${server.url}/hello.txt`, { headers: { range: 'bytes=0-4', 'if-range': `W/${etag}` } });
    expect([byWeakTag.status, byWeakTag.body.toString()]).toEqual([200, HELLO]);
    // If-Match compares strongly too: the file's ETag lets a conditional GET through.
    const ifMatch = await request(`${server.url}/hello.txt`, { headers: { 'if-match': etag } });
    expect(ifMatch.status).toBe(200);
    const stale = await request(`${server.url}/hello.txt`, { headers: { range: 'bytes=0-4', 'if-range': '"old"' } });
    expect([stale.status, stale.body.toString()]).toEqual([200, HELLO]);
    // HEAD ignores Range.
    const head = await request(`${server.url}/hello.txt`, { method: 'HEAD', headers: { range: 'bytes=0-4' } });
    expect([head.status, head.headers['content-length']]).toEqual([200, String(HELLO.length)]);
  });

  it('redirects a directory without its slash (301, query kept, mount prefix kept) and serves its index', async () => {
    const server = await start(lint(mounted(directoryApp(root))));
    const res = await request(`${server.url}/static/sub?x=1&y=%20`);
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe(`${server.url}/static/sub/?x=1&y=%20`);
    const top = await request(`${server.url}/static`);
    expect([top.status, top.headers.location]).toEqual([301, `${server.url}/static/`]);
    const index = await request(`${server.url}/static/sub/`);
    expect([index.status, index.body.toString()]).toEqual([200, '<p>sub index</p>']);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    const home = await request(`${server.url}/static/`);
    expect(home.body.toString()).toBe('<h1>home</h1>');
    // no index, no listing
    const empty = await request(`${server.url}/static/empty/`);
    expect(empty.status).toBe(404);
    // a file with a trailing slash
    const slash = await request(`${server.url}/static/hello.txt/`);
    expect(slash.status).toBe(404);
    // a custom index list, and index: false
    const custom = await start(directoryApp(root, { index: ['missing.html', 'a.txt'] }));
    expect((await request(`${custom.url}/sub/`)).body.toString()).toBe('A');
    const none = await start(directoryApp(root, { index: false }));
    expect((await request(`${none.url}/sub/`)).status).toBe(404);
  });

  it('renders an escaped, sorted listing when asked (directories first, no dotfiles, no escaping links)', async () => {
    const server = await start(lint(mounted(directoryApp(root, { listing: true }))));
    const res = await request(`${server.url}/static/listed/`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = res.body.toString();
    expect(html).toContain('<title>Index of /static/listed/</title>');
    expect(html).not.toContain('<script>');
    expect(html).toContain('<a href="./%3Cscript%3Ex.txt">&lt;script&gt;x.txt</a>');
    expect(html).toContain('<a href="./sp%20ace%26.txt">sp ace&amp;.txt</a>');
    expect(html).not.toContain('.hidden');
    expect(html).not.toContain('zz-outlink'); // points out of the root
    const names = [...html.matchAll(/<a href="[^"]*">([^<]*)<\/a>/g)].map((m) => m[1]);
    expect(names).toEqual(['../', 'adir/', 'zdir/', '&lt;script&gt;x.txt', 'a.txt', 'b.txt', 'sp ace&amp;.txt']);
    const top = await request(`${server.url}/static/empty/`);
    expect(top.body.toString()).toContain('<a href="../">../</a>');
    const rootListing = await start(directoryApp(path.join(root, 'listed'), { listing: true }));
    expect((await request(`${rootListing.url}/`)).body.toString()).not.toContain('../');
  });

  it('sorts the listing by code point, as documented: U+FB01 before U+1F600 (not by UTF-16 unit)', async () => {
    const unicode = path.join(dir, 'unicode-listing');
    mkdirSync(unicode);
    for (const name of ['\u{1F600}.txt', '\uFB01.txt', 'z.txt']) writeFileSync(path.join(unicode, name), name);
    const server = await start(directoryApp(unicode, { listing: true }));
    const html = (await request(`${server.url}/`)).body.toString();
    const names = [...html.matchAll(/<a href="[^"]*">([^<]*)<\/a>/g)].map((m) => m[1]);
    expect(names).toEqual(['z.txt', '\uFB01.txt', '\u{1F600}.txt']);
  });

  it('never serves anything outside the root, whatever the request-target (raw sockets)', async () => {
    const server = await start(directoryApp(root));
    const attempts = [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/..%2fsecret.txt',
      '/sub/..%2f..%2fsecret.txt',
      '/sub/%2e%2e/%2e%2e/secret.txt',
      '/.%2e/secret.txt',
      '/..%5csecret.txt',
      '/%5c..%5csecret.txt',
      '/sub%5c..%5c..%5csecret.txt',
      '/hello.txt%00.png',
      '/%00',
      '/C:/Windows/win.ini',
      '/c:%5cwindows',
      '/../public-evil/secret.txt',
      '/outlink.txt',
      '/outdir/secret.txt',
    ];
    for (const target of attempts) {
      const res = await raw(server.port, target);
      expect(res.status, target).toBe(404);
      expect(res.rest, target).not.toContain(SECRET);
    }
    // a literal backslash or a dot-dot the server refuses before the app: never a 200
    for (const target of ['/..\\secret.txt', '/sub/../../secret.txt']) {
      const res = await raw(server.port, target);
      expect([400, 404], target).toContain(res.status);
      expect(res.rest, target).not.toContain(SECRET);
    }
    // an absolute path, read as below the root after a 308 to its clean URL (on this host)
    for (const target of [`/${encodeURIComponent(path.join(dir, 'secret.txt'))}`, `//${dir.slice(1)}/secret.txt`]) {
      const res = await raw(server.port, target);
      expect(res.status, target).toBe(308);
      expect(res.header('location'), target).toBe(`http://127.0.0.1${path.join(dir, 'secret.txt')}`);
      expect((await raw(server.port, path.join(dir, 'secret.txt'))).status).toBe(404);
    }
    // what stays inside is fine; repeated slashes and `.` go to the clean URL first, as under mount
    expect((await raw(server.port, '/sub/..%2fhello.txt')).status).toBe(404);
    expect((await raw(server.port, '/./hello.txt')).header('location')).toBe('http://127.0.0.1/hello.txt');
    expect((await raw(server.port, '//hello.txt')).header('location')).toBe('http://127.0.0.1/hello.txt');
    expect((await raw(server.port, '/inlink.txt')).status).toBe(200);
    // out through a link and back in: the real path is inside, so it is served
    expect((await raw(server.port, '/outdir/public/hello.txt')).status).toBe(200);
  });

  it('refuses a segment ending in a dot or a space (Windows opens `secret.txt` for `secret.txt.`), and lists none', async () => {
    const pub = mkdtempSync(path.join(dir, 'trailing-'));
    // Linux keeps these names as they are; Windows strips the dots and spaces, so a guard above
    // that refuses `/secret.txt` would let `/secret.txt.` open the same file there.
    for (const name of ['secret.txt.', 'secret.txt ', 'secret.txt. .', 'plain.txt']) writeFileSync(path.join(pub, name), SECRET);
    mkdirSync(path.join(pub, 'dir.'));
    writeFileSync(path.join(pub, 'dir.', 'x.txt'), SECRET);
    const server = await start(directoryApp(pub, { listing: true }));
    for (const target of ['/secret.txt.', '/secret.txt%20', '/secret.txt.%20.', '/dir./x.txt', '/dir./', '/.ENV', '/.Env.']) {
      const res = await raw(server.port, target);
      expect([target, res.status], target).toEqual([target, 404]);
    }
    expect((await raw(server.port, '/plain.txt')).status).toBe(200);
    const listing = (await raw(server.port, '/')).rest;
    expect(listing).toContain('plain.txt');
    expect(listing).not.toMatch(/secret|dir\./);
  });

  it('follows symlinks out of the root only when followSymlinks is set', async () => {
    const server = await start(directoryApp(root, { followSymlinks: true }));
    const res = await raw(server.port, '/outlink.txt');
    expect([res.status, res.rest]).toEqual([200, SECRET]);
    // still no `..`
    expect((await raw(server.port, '/%2e%2e/secret.txt')).status).toBe(404);
  });

  it('names and types a file by the name asked for, not by the symlink target it stays inside the root through', async () => {
    mkdirSync(path.join(root, 'store'), { recursive: true });
    writeFileSync(path.join(root, 'store', '9f86d081'), '%PDF-1.4');
    symlinkSync(path.join(root, 'store', '9f86d081'), path.join(root, 'report.pdf'));
    const server = await start(directoryApp(root, { download: true }));
    const res = await raw(server.port, '/report.pdf');
    expect(res.status).toBe(200);
    expect(res.header('content-type')).toBe('application/pdf');
    expect(res.header('content-disposition')).toBe('attachment; filename=report.pdf');
  });

  it('hides a dotfile reached through a symlink with a plain name, as the dotfile itself', async () => {
    symlinkSync(path.join(root, '.env'), path.join(root, 'envlink'));
    expect((await raw((await start(directoryApp(root))).port, '/envlink')).status).toBe(404);
    expect((await raw((await start(directoryApp(root, { dotfiles: 'deny' }))).port, '/envlink')).status).toBe(403);
    const allowed = await raw((await start(directoryApp(root, { dotfiles: 'allow' }))).port, '/envlink');
    expect([allowed.status, allowed.rest]).toEqual([200, 'PASSWORD=1']);
  });

  it('hides a dotfile reached through a plainly named symlink when symlinks are followed, in the root or out of it', async () => {
    const site = path.join(dir, 'dotlinks');
    const pub = path.join(site, 'public');
    mkdirSync(path.join(pub, '.git'), { recursive: true });
    mkdirSync(path.join(pub, 'idx'));
    writeFileSync(path.join(site, '.env'), SECRET);
    writeFileSync(path.join(pub, '.secret'), SECRET);
    writeFileSync(path.join(pub, '.git', 'config'), SECRET);
    writeFileSync(path.join(pub, 'plain.txt'), HELLO);
    symlinkSync('../.env', path.join(pub, 'config')); // out of the root, to a dotfile
    symlinkSync('.secret', path.join(pub, 'x')); // in the root
    symlinkSync('.git', path.join(pub, 'repo')); // a directory: /repo/config
    symlinkSync('../.secret', path.join(pub, 'idx', 'index.html')); // an index file
    const followed = await start(directoryApp(pub, { followSymlinks: true, listing: true }));
    for (const target of ['/config', '/x', '/repo/config', '/repo/']) expect([target, (await raw(followed.port, target)).status]).toEqual([target, 404]);
    const index = await raw(followed.port, '/idx/');
    expect([index.status, index.rest.includes(SECRET)]).toEqual([200, false]); // the listing, not the file
    expect((await raw((await start(directoryApp(pub, { index: 'index.html' }))).port, '/idx/')).status).toBe(404);
    const plain = await raw(followed.port, '/plain.txt');
    expect([plain.status, plain.rest]).toEqual([200, HELLO]);
    const denied = await start(directoryApp(pub, { followSymlinks: true, dotfiles: 'deny' }));
    expect((await raw(denied.port, '/config')).status).toBe(403);
    expect((await raw(denied.port, '/x')).status).toBe(403);
    const allowed = await start(directoryApp(pub, { followSymlinks: true, dotfiles: 'allow' }));
    for (const target of ['/config', '/x', '/repo/config', '/idx/']) {
      const res = await raw(allowed.port, target);
      expect([target, res.status, res.rest]).toEqual([target, 200, SECRET]);
    }
  });

  it('serves /.well-known/ at the root whatever dotfiles says, and hides the dotfiles below it', async () => {
    const pub = path.join(dir, 'wellknown', 'public');
    mkdirSync(path.join(pub, '.well-known', 'acme-challenge'), { recursive: true });
    mkdirSync(path.join(pub, 'sub', '.well-known'), { recursive: true });
    writeFileSync(path.join(pub, '.well-known', 'acme-challenge', 'tok3n'), 'tok3n.thumbprint');
    writeFileSync(path.join(pub, '.well-known', 'security.txt'), 'Contact: mailto:security@example.com\n');
    writeFileSync(path.join(pub, '.well-known', '.htpasswd'), SECRET);
    writeFileSync(path.join(pub, 'sub', '.well-known', 'x.txt'), SECRET);
    writeFileSync(path.join(pub, '.env'), SECRET);
    symlinkSync('../.env', path.join(pub, '.well-known', 'env.txt'));
    symlinkSync('.well-known/security.txt', path.join(pub, 'security.txt'));
    for (const dotfiles of ['ignore', 'deny'] as const) {
      for (const followSymlinks of [false, true]) {
        const server = await start(directoryApp(pub, { dotfiles, followSymlinks }));
        const challenge = await raw(server.port, '/.well-known/acme-challenge/tok3n');
        expect([challenge.status, challenge.rest]).toEqual([200, 'tok3n.thumbprint']);
        expect((await raw(server.port, '/%2ewell-known/security.txt')).status).toBe(200);
        expect((await raw(server.port, '/security.txt')).status).toBe(200); // a link into it
        const refused = dotfiles === 'deny' ? 403 : 404;
        for (const target of ['/.well-known/.htpasswd', '/.well-known/env.txt', '/sub/.well-known/x.txt', '/.Well-Known/security.txt', '/.well-known-x/y']) {
          expect([dotfiles, followSymlinks, target, (await raw(server.port, target)).status]).toEqual([dotfiles, followSymlinks, target, refused]);
        }
      }
    }
  });

  it('lists exactly the entries it serves: no link that answers 404, no served entry left out', async () => {
    const site = path.join(dir, 'listing-agrees');
    const pub = path.join(site, 'public');
    mkdirSync(path.join(pub, '.well-known'), { recursive: true });
    mkdirSync(path.join(pub, '.git'));
    mkdirSync(path.join(pub, 'sub', '.well-known'), { recursive: true });
    writeFileSync(path.join(site, '.env'), SECRET);
    writeFileSync(path.join(site, 'outside.txt'), HELLO);
    writeFileSync(path.join(pub, '.env'), SECRET);
    writeFileSync(path.join(pub, 'plain.txt'), HELLO);
    writeFileSync(path.join(pub, 'back\\slash.txt'), HELLO); // a name no request path can hold
    writeFileSync(path.join(pub, 'C:drive.txt'), HELLO); // a name refused as a Windows drive
    // A name that is no UTF-8 (Node reads it with U+FFFD in place of the bytes, a name no file has).
    writeFileSync(Buffer.concat([Buffer.from(`${pub}/latin1-`), Buffer.from([0xe9]), Buffer.from('.txt')]), HELLO);
    writeFileSync(path.join(pub, '.well-known', 'security.txt'), HELLO);
    writeFileSync(path.join(pub, '.well-known', '.htpasswd'), SECRET);
    writeFileSync(path.join(pub, 'sub', '.well-known', 'x.txt'), SECRET);
    symlinkSync('.env', path.join(pub, 'envlink')); // a plain name for a dotfile
    symlinkSync('.git', path.join(pub, 'repo')); // a plain name for a dot directory
    symlinkSync('../.env', path.join(pub, 'config')); // out of the root, to a dotfile
    symlinkSync('../outside.txt', path.join(pub, 'out.txt')); // out of the root
    symlinkSync('plain.txt', path.join(pub, 'inlink.txt'));
    const names = readdirSync(pub).concat(readdirSync(path.join(pub, '.well-known')).map((n) => `.well-known/${n}`), ['sub/.well-known']);
    for (const dotfiles of ['ignore', 'deny', 'allow'] as const) {
      for (const followSymlinks of [false, true]) {
        const server = await start(directoryApp(pub, { dotfiles, followSymlinks, listing: true, index: false }));
        const label = `dotfiles: ${dotfiles}, followSymlinks: ${followSymlinks}`;
        const listed = new Set<string>();
        for (const folder of ['/', '/.well-known/', '/sub/']) {
          const page = await raw(server.port, folder);
          expect([label, folder, page.status]).toEqual([label, folder, 200]);
          for (const [, href] of page.rest.matchAll(/<a href="\.\/([^"]+)">/g)) {
            const target = `${folder}${href!.replaceAll('&amp;', '&')}`;
            listed.add(decodeURIComponent(target.replace(/\/$/, '')).slice(1));
            // Every link opens: a file, or a directory's listing.
            expect([label, target, (await raw(server.port, target)).status]).toEqual([label, target, 200]);
          }
        }
        for (const name of names) {
          const target = `/${name.split('/').map(encodeURIComponent).join('/')}`;
          const { status } = await raw(server.port, target);
          const served = status === 200 || status === 301;
          // Every entry served is listed.
          expect([label, name, served && !listed.has(name)]).toEqual([label, name, false]);
        }
      }
    }
  });

  it.skipIf(process.getuid?.() === 0)('answers 403 for a directory listing the process may not read', async () => {
    const locked = path.join(root, 'locked-dir');
    mkdirSync(locked);
    chmodSync(locked, 0o311);
    try {
      const server = await start(directoryApp(root, { listing: true }));
      expect((await raw(server.port, '/locked-dir/')).status).toBe(403);
      expect(server.log.text).toBe('');
    } finally {
      chmodSync(locked, 0o755);
    }
  });

  it('refuses at once a dotfiles or index of another kind, naming it (was: dotfiles read as ignore, a 500 per directory request)', () => {
    expect(() => directoryApp(root, { dotfiles: 'Allow' as 'allow' })).toThrow(new TypeError(`directoryApp: dotfiles must be 'ignore', 'deny' or 'allow', got "Allow"`));
    expect(() => directoryApp(root, { dotfiles: true as unknown as 'allow' })).toThrow(new TypeError(`directoryApp: dotfiles must be 'ignore', 'deny' or 'allow', got true`));
    const index = 'directoryApp: index must be a file name, a list of them or false';
    expect(() => directoryApp(root, { index: ['index.html', 5 as unknown as string] })).toThrow(new TypeError(`${index}, got ["index.html",5]`));
    expect(() => directoryApp(root, { index: true as unknown as string })).toThrow(new TypeError(`${index}, got true`));
    expect(() => directoryApp(root, { index: '' })).toThrow(new TypeError(`${index}, got ""`));
    for (const ok of [undefined, false, 'home.htm', ['index.html', 'index.htm'], []] as const) expect(() => directoryApp(root, { index: ok })).not.toThrow();
    for (const ok of [undefined, 'ignore', 'deny', 'allow'] as const) expect(() => directoryApp(root, { dotfiles: ok })).not.toThrow();
  });

  it('hides dotfiles by default, denies or allows them on request', async () => {
    const hidden = await start(directoryApp(root));
    expect((await raw(hidden.port, '/.env')).status).toBe(404);
    expect((await raw(hidden.port, '/%2eenv')).status).toBe(404);
    const denied = await start(directoryApp(root, { dotfiles: 'deny' }));
    expect((await raw(denied.port, '/.env')).status).toBe(403);
    const allowed = await start(directoryApp(root, { dotfiles: 'allow' }));
    const res = await raw(allowed.port, '/.env');
    expect([res.status, res.rest]).toEqual([200, 'PASSWORD=1']);
  });

  it.skipIf(process.getuid?.() === 0)('answers 403 for a file the process may not read', async () => {
    const file = path.join(root, 'locked.txt');
    writeFileSync(file, 'locked');
    chmodSync(file, 0o000);
    try {
      const server = await start(directoryApp(root));
      expect((await raw(server.port, '/locked.txt')).status).toBe(403);
    } finally {
      chmodSync(file, 0o644);
    }
  });

  it.skipIf(process.getuid?.() === 0)('leaves out of the listing a file or directory the process may not read, as a request for it answers 403', async () => {
    const perms = path.join(root, 'perms');
    mkdirSync(path.join(perms, 'closed-dir'), { recursive: true });
    mkdirSync(path.join(perms, 'open-dir'));
    writeFileSync(path.join(perms, 'open.txt'), 'open');
    writeFileSync(path.join(perms, 'closed.txt'), 'closed');
    chmodSync(path.join(perms, 'closed.txt'), 0o000);
    chmodSync(path.join(perms, 'closed-dir'), 0o000);
    try {
      const server = await start(directoryApp(root, { listing: true }));
      const page = await raw(server.port, '/perms/');
      const links = [...page.rest.matchAll(/href="\.\/([^"]+)"/g)].map((m) => m[1]);
      expect(links).toEqual(['open-dir/', 'open.txt']);
      expect((await raw(server.port, '/perms/closed.txt')).status).toBe(403);
      expect((await raw(server.port, '/perms/closed-dir/')).status).toBe(403);
    } finally {
      chmodSync(path.join(perms, 'closed.txt'), 0o644);
      chmodSync(path.join(perms, 'closed-dir'), 0o755);
    }
  });

  it('refuses a FIFO instead of waiting for a writer', async () => {
    const { execFileSync } = await import('node:child_process');
    const fifo = path.join(root, 'pipe.txt');
    execFileSync('mkfifo', [fifo]);
    try {
      const server = await start(directoryApp(root));
      expect((await raw(server.port, '/pipe.txt')).status).toBe(404);
      const direct = await start(fileApp(fifo));
      expect((await raw(direct.port, '/')).status).toBe(404);
    } finally {
      rmSync(fifo);
    }
  });

  it('refuses a Unix socket as not a regular file (open fails with ENXIO): 404, not a 500', async () => {
    const { createServer } = await import('node:net');
    const socketPath = path.join(root, 'app.sock');
    const listener = createServer();
    await new Promise<void>((resolve) => listener.listen(socketPath, resolve));
    try {
      const direct = await start(fileApp(socketPath));
      expect((await raw(direct.port, '/')).status).toBe(404);
      expect(direct.log.text).toBe('');
      const server = await start(directoryApp(root));
      expect((await raw(server.port, '/app.sock')).status).toBe(404);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it('answers 404 when the root does not exist', async () => {
    const server = await start(directoryApp(path.join(dir, 'nope')));
    expect((await raw(server.port, '/hello.txt')).status).toBe(404);
  });

  it('follows a root whose symlink is swapped while it runs (an atomic deploy: current → releases/2)', async () => {
    const site = path.join(dir, 'site');
    for (const release of ['1', '2']) {
      mkdirSync(path.join(site, 'releases', release, 'sub'), { recursive: true });
      writeFileSync(path.join(site, 'releases', release, 'sub', 'v.txt'), `release ${release}`);
    }
    const current = path.join(site, 'current');
    symlinkSync(path.join(site, 'releases', '1'), current);
    const server = await start(directoryApp(current, { listing: true }));
    expect((await raw(server.port, '/sub/v.txt')).rest).toBe('release 1');
    const next = path.join(site, 'current.next');
    symlinkSync(path.join(site, 'releases', '2'), next);
    renameSync(next, current);
    expect((await raw(server.port, '/sub/v.txt')).rest).toBe('release 2');
    expect((await raw(server.port, '/sub/')).rest).toContain('v.txt');
    // what leaves the new root is still refused
    symlinkSync(path.join(site, 'releases', '1', 'sub', 'v.txt'), path.join(site, 'releases', '2', 'old.txt'));
    expect((await raw(server.port, '/old.txt')).status).toBe(404);
  });

  it('keeps hiding the dotfiles of a swapped root whose links are followed (an atomic deploy with followSymlinks)', async () => {
    const site = path.join(dir, 'site-followed');
    for (const release of ['1', '2']) {
      mkdirSync(path.join(site, 'releases', release, '.git'), { recursive: true });
      writeFileSync(path.join(site, 'releases', release, '.git', 'config'), SECRET);
      writeFileSync(path.join(site, 'releases', release, 'v.txt'), `release ${release}`);
      symlinkSync('.git', path.join(site, 'releases', release, 'repo')); // /repo/config is .git/config
    }
    const current = path.join(site, 'current');
    symlinkSync(path.join(site, 'releases', '1'), current);
    const server = await start(directoryApp(current, { followSymlinks: true, listing: true }));
    expect((await raw(server.port, '/v.txt')).rest).toBe('release 1');
    expect((await raw(server.port, '/repo/config')).status).toBe(404);
    const next = path.join(site, 'current.next');
    symlinkSync(path.join(site, 'releases', '2'), next);
    renameSync(next, current);
    const leaked = await raw(server.port, '/repo/config');
    expect([leaked.status, leaked.rest.includes(SECRET)]).toEqual([404, false]);
    expect((await raw(server.port, '/v.txt')).rest).toBe('release 2');
    expect((await raw(server.port, '/')).rest).not.toContain('repo');
  });

  it('closes the file when a body is dropped unread or half-read (no descriptor leak)', async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const app = directoryApp(root);
    const before = fds();
    for (let i = 0; i < 20; i++) {
      const body = (await app(Request.blank('/big.bin').environ, () => {})) as AsyncIterable<Uint8Array>;
      const iterator = body[Symbol.asyncIterator]();
      if (i % 2) await iterator.next();
      await iterator.return!();
    }
    expect(fds()).toBeLessThanOrEqual(before);
    // a client that leaves mid-download
    const server = await start(app);
    await new Promise<void>((resolve) => {
      import('node:http').then(({ default: http }) => {
        const req = http.get(`${server.url}/big.bin`, { agent: false }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => {});
      });
    });
    // Closed once the server has seen the client go: polled, not looked at after a fixed 50 ms.
    await expect.poll(fds, { timeout: 5000 }).toBeLessThanOrEqual(before + 1);
  });
});

describe('fileApp', () => {
  it('serves one file for any path, with a download name when asked', async () => {
    const server = await start(fileApp(path.join(root, 'hello.txt'), { download: 'grüße.txt', headers: { 'X-Content-Type-Options': 'nosniff' } }));
    const res = await request(`${server.url}/any/where?q=1`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(HELLO);
    expect(res.headers['content-disposition']).toBe(`attachment; filename=grusse.txt; filename*=UTF-8''gr%C3%BC%C3%9Fe.txt`);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('lets a field of headers replace the one the other options set, never sending two', async () => {
    const immutable = 'public, max-age=31536000, immutable';
    const fields = (res: { headers: Array<[string, string]> }, name: string) => res.headers.filter(([key]) => key.toLowerCase() === name).map(([, value]) => value);
    const file = await start(fileApp(path.join(root, 'hello.txt'), { maxAge: 60, headers: { 'Cache-Control': immutable, 'Content-Type': 'text/plain; charset=iso-8859-1' } }));
    const one = await raw(file.port, '/');
    expect([fields(one, 'cache-control'), fields(one, 'content-type')]).toEqual([[immutable], ['text/plain; charset=iso-8859-1']]);
    const tree = await start(directoryApp(root, { maxAge: 60, download: true, headers: { 'Cache-Control': immutable, 'Content-Type': 'application/x-mine', 'Content-Disposition': 'inline', 'Accept-Ranges': 'none' } }));
    const each = await raw(tree.port, '/hello.txt', 'Range: bytes=0-4\r\n');
    expect(each.status).toBe(200); // Accept-Ranges: none turns ranges off
    expect([fields(each, 'cache-control'), fields(each, 'content-type'), fields(each, 'content-disposition'), fields(each, 'accept-ranges')]).toEqual([
      [immutable],
      ['application/x-mine'],
      ['inline'],
      ['none'],
    ]);
    expect(each.rest).toBe(HELLO);
  });

  it('sends maxAge as valid delta-seconds, and refuses one that is not a number at once', async () => {
    const cacheControl = async (maxAge: number) => (await raw((await start(fileApp(path.join(root, 'hello.txt'), { maxAge }))).port, '/')).header('cache-control');
    expect(await cacheControl(Infinity)).toBe('public, max-age=2147483648');
    expect(await cacheControl(1e12)).toBe('public, max-age=2147483648');
    expect(await cacheControl(59.9)).toBe('public, max-age=59');
    expect(await cacheControl(-5)).toBe('public, max-age=0');
    const byDefault = await raw((await start(fileApp(path.join(root, 'hello.txt')))).port, '/');
    expect(byDefault.header('cache-control')).toBe('no-cache');
    const own = await raw((await start(fileApp(path.join(root, 'hello.txt'), { headers: { 'cache-control': 'private, max-age=5' } }))).port, '/');
    expect(own.header('cache-control')).toBe('private, max-age=5');
    expect(() => fileApp(path.join(root, 'hello.txt'), { maxAge: Number(undefined) })).toThrow(TypeError);
    expect(() => directoryApp(root, { maxAge: NaN })).toThrow('directoryApp: maxAge must be a number of seconds (Number(process.env.MAX_AGE)), got NaN');
  });

  it('refuses a maxAge that is no number (an environment variable as it is) when built, naming the app and what to write', () => {
    const file = path.join(root, 'hello.txt');
    for (const maxAge of ['', null, true, '3600', 3600n]) {
      const shown = typeof maxAge === 'string' ? `${JSON.stringify(maxAge)} (a string)` : typeof maxAge === 'bigint' ? '3600n (a bigint)' : String(maxAge);
      const wanted = (where: string) => new TypeError(`${where}: maxAge must be a number of seconds (Number(process.env.MAX_AGE)), got ${shown}`);
      expect(() => fileApp(file, { maxAge: maxAge as unknown as number }), shown).toThrow(wanted('fileApp'));
      expect(() => directoryApp(root, { maxAge: maxAge as unknown as number }), shown).toThrow(wanted('directoryApp'));
    }
  });

  it('refuses an empty contentType when built: it sent an empty Content-Type field', () => {
    for (const contentType of ['', ' ']) {
      const wanted = (where: string) => new TypeError(`${where}: contentType must be a media type ('text/plain; charset=utf-8'), or left out to take it from the file name, got ${JSON.stringify(contentType)} (a string)`);
      expect(() => fileApp(path.join(root, 'hello.txt'), { contentType })).toThrow(wanted('fileApp'));
      expect(() => directoryApp(root, { contentType })).toThrow(wanted('directoryApp'));
    }
  });

  it('answers 404 for a missing file or a directory, and takes a contentType', async () => {
    expect((await request(`${(await start(fileApp(path.join(root, 'missing.txt')))).url}/`)).status).toBe(404);
    expect((await request(`${(await start(fileApp(root))).url}/`)).status).toBe(404);
    const typed = await start(fileApp(path.join(root, 'data.unknownext'), { contentType: 'application/x-custom' }));
    expect((await request(`${typed.url}/`)).headers['content-type']).toBe('application/x-custom');
  });

  it('keeps a chunked body intact over a raw HTTP/1.1 exchange', async () => {
    const server = await start(fileApp(path.join(root, 'big.bin')));
    const result = await rawExchange(server.port, rawGet('/'));
    const res = parseRaw(result.raw);
    expect(res.status).toBe(200);
    const body = res.header('transfer-encoding') === 'chunked' ? dechunk(res.rest) : res.rest;
    expect(Buffer.compare(Buffer.from(body, 'latin1'), big)).toBe(0);
  });
});

describe('safeSegments', () => {
  it('splits clean paths and refuses escaping ones', () => {
    expect(safeSegments('/a/./b//c/')).toEqual(['a', 'b', 'c']);
    expect(safeSegments('')).toEqual([]);
    for (const bad of ['/..', '/a/../b', '/a\\b', '/a\0', '/C:', '/c:/x', '/a/D:x']) expect(safeSegments(bad), bad).toBeNull();
    expect(safeSegments('/a..b/..c')).toEqual(['a..b', '..c']);
    for (const bad of ['/c..', '/a./b', '/a ', '/...', '/a. ']) expect(safeSegments(bad), bad).toBeNull();
  });

  it('is what the app uses: a body read in-process equals the file', async () => {
    const body = await fileApp(path.join(root, 'hello.txt'))(Request.blank('/').environ, () => {});
    expect(Buffer.from(await readBody(body)).toString()).toBe(HELLO);
  });
});
