/**
 * examples/spa.ts, a built single-page app and its JSON API from one server, attacked over a
 * real socket as a browser and a CDN would: the history fallback, the cache headers of hashed
 * assets and of index.html, the precompressed copies under `compress`, a video's ranges, the
 * app mounted under a prefix, and paths that try to leave the build.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compress, errors, mount } from 'tsgi/middleware';
import { api, app as shipped, spaApp } from '../examples/spa.ts';
import { parseRaw, rawExchange, rawGet, request, start } from './node-helpers.ts';

let dir: string;
let dist: string;
const INDEX = '<!doctype html><title>spa</title><script type="module" src="/assets/app-3f2a9c.js"></script>';
const JS = `export const routes = ${JSON.stringify(Array.from({ length: 200 }, (_, i) => `/page/${i}`))};\n`;
const VIDEO = Buffer.alloc(2 * 1024 * 1024, 7);
VIDEO.write('ftypisom', 4);

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-spa-'));
  dist = path.join(dir, 'dist');
  mkdirSync(path.join(dist, 'assets'), { recursive: true });
  writeFileSync(path.join(dist, 'index.html'), INDEX);
  writeFileSync(path.join(dist, 'assets', 'app-3f2a9c.js'), JS);
  writeFileSync(path.join(dist, 'assets', 'app-3f2a9c.js.br'), zlib.brotliCompressSync(JS));
  writeFileSync(path.join(dist, 'assets', 'app-3f2a9c.js.gz'), zlib.gzipSync(JS));
  writeFileSync(path.join(dist, 'favicon.ico'), Buffer.alloc(1150, 1));
  writeFileSync(path.join(dist, 'video.mp4'), VIDEO);
  writeFileSync(path.join(dist, '.env'), 'SECRET=1');
  writeFileSync(path.join(dir, 'secret.txt'), 'outside the build');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const site = () => errors(compress(spaApp(dist, api)));

describe('examples/spa.ts over a socket', () => {
  it('answers a deep link with index.html (200, no-cache), and a missing asset, API route or file with 404', async () => {
    const server = await start(site());
    const deep = await request(`${server.url}/settings/profile?tab=2`, { headers: { accept: 'text/html' } });
    expect([deep.status, deep.body.toString(), deep.headers['content-type'], deep.headers['cache-control']]).toEqual([200, INDEX, 'text/html; charset=utf-8', 'no-cache']);
    const home = await request(`${server.url}/`);
    expect([home.status, home.body.toString(), home.headers['cache-control']]).toEqual([200, INDEX, 'no-cache']);
    // A 304 for the page through the fallback: its ETag is index.html's.
    const again = await request(`${server.url}/settings/profile`, { headers: { 'if-none-match': deep.headers.etag! } });
    expect(again.status).toBe(304);
    for (const missing of ['/assets/missing.js', '/assets/', '/robots.txt', '/old-chunk.js', '/.env']) {
      const res = await request(`${server.url}${missing}`, { headers: { accept: 'text/html' } });
      expect([missing, res.status, res.body.toString()]).not.toContain(INDEX);
      expect([missing, res.status]).toEqual([missing, 404]);
    }
    const apiMissing = await request(`${server.url}/api/unknown`, { headers: { accept: 'application/json' } });
    expect([apiMissing.status, apiMissing.headers['content-type']]).toEqual([404, 'application/json']);
    const health = await request(`${server.url}/api/health`);
    expect(JSON.parse(health.body.toString())).toEqual({ status: 'ok' });
    const post = await request(`${server.url}/settings/profile`, { method: 'POST' });
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
    // A file of the build is there too, for GET only; a missing one is not.
    const postFile = await request(`${server.url}/favicon.ico`, { method: 'POST' });
    expect([postFile.status, postFile.headers.allow]).toEqual([405, 'GET, HEAD']);
    expect((await request(`${server.url}/old-chunk.js`, { method: 'POST' })).status).toBe(404);
    // A body no app reads is not read (nor held to be replayed to the next app): its 405 comes first.
    const big = await request(`${server.url}/settings/profile`, { method: 'POST', body: new Uint8Array(8 * 1024 * 1024) });
    expect([big.status, big.headers.allow]).toEqual([405, 'GET, HEAD']);
  });

  it('sends hashed assets immutable and precompressed (never compressed twice), other files no-cache', async () => {
    const server = await start(site());
    const br = await request(`${server.url}/assets/app-3f2a9c.js`, { headers: { 'accept-encoding': 'gzip, deflate, br, zstd' } });
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect([br.headers['content-encoding'], br.headers.vary, br.headers['content-length']]).toEqual(['br', 'Accept-Encoding', String(br.body.length)]);
    expect(zlib.brotliDecompressSync(br.body).toString()).toBe(JS);
    // The build's copy (its own strong tag), not one `compress` made (a weak W/ tag).
    expect(br.headers.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+-br"$/);
    const plain = await request(`${server.url}/assets/app-3f2a9c.js`);
    expect([plain.body.toString(), plain.headers['content-encoding'], plain.headers.vary]).toEqual([JS, undefined, 'Accept-Encoding']);
    const favicon = await request(`${server.url}/favicon.ico`);
    expect([favicon.status, favicon.headers['cache-control'], favicon.body.length]).toEqual([200, 'no-cache', 1150]);
  });

  it('lets a <video> seek: ranges, If-Range, several ranges, 416 past the end, HEAD', async () => {
    const server = await start(site());
    const media = { 'accept-encoding': 'identity;q=1, *;q=0' };
    const whole = await request(`${server.url}/video.mp4`, { method: 'HEAD' });
    expect([whole.headers['accept-ranges'], whole.headers['content-length'], whole.headers['content-type']]).toEqual(['bytes', String(VIDEO.length), 'video/mp4']);
    const seek = await request(`${server.url}/video.mp4`, { headers: { ...media, range: 'bytes=1048576-', 'if-range': whole.headers.etag! } });
    expect([seek.status, seek.headers['content-range'], seek.body.length]).toEqual([206, `bytes 1048576-${VIDEO.length - 1}/${VIDEO.length}`, VIDEO.length - 1048576]);
    const changed = await request(`${server.url}/video.mp4`, { headers: { range: 'bytes=0-1', 'if-range': '"an-older-build"' } });
    expect([changed.status, changed.body.length]).toEqual([200, VIDEO.length]);
    const two = await request(`${server.url}/video.mp4`, { headers: { range: 'bytes=0-7,-4' } });
    expect([two.status, two.headers['content-type']?.split(';')[0], two.headers['content-length']]).toEqual([206, 'multipart/byteranges', String(two.body.length)]);
    const past = await request(`${server.url}/video.mp4`, { headers: { range: `bytes=${VIDEO.length}-` } });
    expect([past.status, past.headers['content-range']]).toEqual([416, `bytes */${VIDEO.length}`]);
  });

  it('works mounted under /app/: the bare prefix redirects to it with its slash, deep links get the page', async () => {
    const server = await start(errors(compress(mount({ '/app': spaApp(dist, api) }))));
    const bare = await request(`${server.url}/app?x=1`);
    expect([bare.status, bare.headers.location]).toEqual([301, `${server.url}/app/?x=1`]);
    const deep = await request(`${server.url}/app/settings/profile`);
    expect([deep.status, deep.body.toString()]).toEqual([200, INDEX]);
    const asset = await request(`${server.url}/app/assets/app-3f2a9c.js`);
    expect([asset.status, asset.headers['cache-control']]).toEqual([200, 'public, max-age=31536000, immutable']);
    expect((await request(`${server.url}/app/assets/nope.js`)).status).toBe(404);
  });

  it('never serves a file outside the build or a dotfile, whatever the request-target', async () => {
    const server = await start(site());
    const port = Number(new URL(server.url).port);
    // `..` in any spelling is redirected to the clean path (by `mount`), which stays inside the build.
    const answers: Record<string, [number, string | undefined]> = {};
    for (const target of ['/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e/secret.txt', '/x%00.js', '/assets/%5c..%5c..%5csecret.txt', '/..\\secret.txt', '/%2eenv', '/.env', '/secret.txt']) {
      const res = parseRaw((await rawExchange(port, rawGet(target))).raw);
      expect(res.rest, target).not.toContain('outside the build');
      expect(res.rest, target).not.toContain('SECRET');
      answers[target] = [res.status, res.header('location')];
    }
    expect(answers).toEqual({
      '/..%2fsecret.txt': [308, 'http://127.0.0.1/secret.txt'],
      '/assets/..%2f..%2fsecret.txt': [308, 'http://127.0.0.1/secret.txt'],
      '/%2e%2e/secret.txt': [308, 'http://127.0.0.1/secret.txt'],
      '/x%00.js': [404, undefined],
      '/assets/%5c..%5c..%5csecret.txt': [404, undefined],
      '/..\\secret.txt': [404, undefined],
      '/%2eenv': [404, undefined],
      '/.env': [404, undefined],
      '/secret.txt': [404, undefined],
    });
  });

  it('serves the small build next to it as shipped', async () => {
    const server = await start(shipped);
    const home = await request(`${server.url}/somewhere/deep`);
    expect([home.status, home.headers['cache-control']]).toEqual([200, 'no-cache']);
    expect(home.body.toString()).toContain('/assets/app-3f2a9c.css');
    const css = await request(`${server.url}/assets/app-3f2a9c.css`);
    expect([css.status, css.headers['cache-control']]).toEqual([200, 'public, max-age=31536000, immutable']);
  });
});
