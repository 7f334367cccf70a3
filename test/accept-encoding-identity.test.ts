/**
 * `identity;q=0` (or `*;q=0` without an `identity` entry): RFC 9110 §12.5.3 makes the uncoded
 * body unacceptable. `compress` and `directoryApp({ precompressed: true })` then send a coding
 * the client accepts when they have one, and otherwise the uncoded body, `200` and not `406`,
 * as nginx, Express's `compression`, Hono's `compress` and WhiteNoise do (RFC 9110 §12.1 lets
 * a server disregard the preference). Over a socket on 127.0.0.1.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { compress, directoryApp } from 'tsgi/middleware';
import { bytes, request, start } from './node-helpers.ts';

const TEXT = `<p>${'hello, identity refused '.repeat(120)}</p>`;

/** The status, coding, Vary and decoded body of a GET of `url` with `accept`. */
async function get(url: string, accept: string): Promise<[number, string | undefined, string | undefined, string]> {
  const res = await request(url, { headers: { 'accept-encoding': accept } });
  const coding = res.headers['content-encoding'];
  const body = coding === 'br' ? zlib.brotliDecompressSync(res.body) : coding === 'gzip' ? zlib.gunzipSync(res.body) : res.body;
  return [res.status, coding, res.headers.vary, body.toString()];
}

describe('compress: a client that refuses identity', () => {
  const page = (type: string, text: string): App => (_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', type]]);
    return [bytes(text)];
  };

  it('gets a coding it accepts, else the body uncoded: 200, never 406', async () => {
    const server = await start(compress(page('text/html', TEXT)));
    const url = `${server.url}/`;
    expect(await get(url, 'identity;q=0, gzip')).toEqual([200, 'gzip', 'Accept-Encoding', TEXT]);
    expect(await get(url, '*;q=0, br;q=0.5')).toEqual([200, 'br', 'Accept-Encoding', TEXT]);
    expect(await get(url, 'IDENTITY;Q=0, *')).toEqual([200, 'br', 'Accept-Encoding', TEXT]);
    for (const accept of ['identity;q=0', '*;q=0', 'identity;q=0, compress', 'gzip;q=0, br;q=0, identity;q=0']) {
      expect(await get(url, accept), accept).toEqual([200, undefined, 'Accept-Encoding', TEXT]);
    }
  });

  it('sends a body below threshold, or of a type it leaves alone, uncoded too', async () => {
    const small = await start(compress(page('text/html', 'hi')));
    expect(await get(`${small.url}/`, 'identity;q=0, gzip')).toEqual([200, undefined, 'Accept-Encoding', 'hi']);
    const image = await start(compress(page('image/png', TEXT)));
    expect(await get(`${image.url}/`, 'identity;q=0, gzip')).toEqual([200, undefined, undefined, TEXT]);
  });
});

describe('directoryApp({ precompressed: true }): a client that refuses identity', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'tsgi-identity-'));
    writeFileSync(path.join(root, 'app.js'), TEXT);
    writeFileSync(path.join(root, 'app.js.br'), zlib.brotliCompressSync(TEXT));
    writeFileSync(path.join(root, 'app.js.gz'), zlib.gzipSync(TEXT));
    writeFileSync(path.join(root, 'gz-only.css'), TEXT);
    writeFileSync(path.join(root, 'gz-only.css.gz'), zlib.gzipSync(TEXT));
    writeFileSync(path.join(root, 'plain.txt'), TEXT);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('gets the copy it accepts, else the file itself: 200, never 406', async () => {
    const server = await start(directoryApp(root, { precompressed: true }));
    expect(await get(`${server.url}/app.js`, 'identity;q=0, gzip')).toEqual([200, 'gzip', 'Accept-Encoding', TEXT]);
    expect(await get(`${server.url}/app.js`, '*;q=0, br;q=0.5, gzip;q=0.4')).toEqual([200, 'br', 'Accept-Encoding', TEXT]);
    expect(await get(`${server.url}/gz-only.css`, 'identity;q=0, *')).toEqual([200, 'gzip', 'Accept-Encoding', TEXT]);
    for (const [file, accept] of [['app.js', 'identity;q=0'], ['app.js', '*;q=0'], ['gz-only.css', 'identity;q=0, br']] as const) {
      expect(await get(`${server.url}/${file}`, accept), `${file} ${accept}`).toEqual([200, undefined, 'Accept-Encoding', TEXT]);
    }
    expect(await get(`${server.url}/plain.txt`, 'identity;q=0')).toEqual([200, undefined, undefined, TEXT]);
  });

  it('answers a Range from the file itself', async () => {
    const server = await start(directoryApp(root, { precompressed: true }));
    const res = await request(`${server.url}/app.js`, { headers: { 'accept-encoding': 'identity;q=0, gzip', range: 'bytes=0-2' } });
    expect([res.status, res.headers['content-encoding'], res.body.toString()]).toEqual([206, undefined, '<p>']);
  });
});
