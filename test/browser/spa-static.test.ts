/**
 * examples/spa.ts in Chromium (playwright-core): a deep link loads the page and its hashed
 * module (the precompressed Brotli copy), a reload keeps the route and reuses the immutable
 * module without asking again, and a `<video>` element seeks through byte ranges. Run with
 * `npm run test:browser`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ServerHandle, serve } from 'tsgi';
import { compress, errors } from 'tsgi/middleware';
import { api, spaApp } from '../../examples/spa.ts';
import { launchChromium } from './chromium.ts';

const JS = `document.body.dataset.route = location.pathname;\n// ${'padding '.repeat(300)}\n`;
/** A WAV the `<video>` element can seek in by byte offset: 8 kHz mono 16-bit PCM, 320 s (5 MB). */
function wav(seconds: number, rate = 8000): Buffer {
  const data = Buffer.alloc(rate * seconds * 2);
  for (let i = 0; i < rate * seconds; i++) data.writeInt16LE(Math.round(Math.sin((i / rate) * 2 * Math.PI * 440) * 8000), i * 2);
  const head = Buffer.alloc(44);
  head.write('RIFF', 0);
  head.writeUInt32LE(36 + data.length, 4);
  head.write('WAVEfmt ', 8);
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20); // PCM
  head.writeUInt16LE(1, 22); // mono
  head.writeUInt32LE(rate, 24);
  head.writeUInt32LE(rate * 2, 28);
  head.writeUInt16LE(2, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36);
  head.writeUInt32LE(data.length, 40);
  return Buffer.concat([head, data]);
}

let dist: string;
let browser: Browser;
let server: ServerHandle;
const arrived: string[] = [];

beforeAll(async () => {
  dist = mkdtempSync(path.join(os.tmpdir(), 'tsgi-spa-browser-'));
  mkdirSync(path.join(dist, 'assets'));
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>spa</title><script type="module" src="/assets/app-3f2a9c.js"></script><video id="v" preload="metadata" src="/tone.wav"></video>');
  writeFileSync(path.join(dist, 'favicon.ico'), Buffer.alloc(64));
  writeFileSync(path.join(dist, 'assets', 'app-3f2a9c.js'), JS);
  writeFileSync(path.join(dist, 'assets', 'app-3f2a9c.js.br'), zlib.brotliCompressSync(JS));
  writeFileSync(path.join(dist, 'tone.wav'), wav(320));
  const app = errors(compress(spaApp(dist, api)));
  server = await serve(
    (environ, startResponse) => {
      arrived.push(`${environ.PATH_INFO} ${environ.HTTP_RANGE ?? '-'}`);
      return app(environ, startResponse);
    },
    { host: '127.0.0.1', port: 0, log: { write() {} } },
  );
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dist, { recursive: true, force: true });
});

it('loads and reloads a deep link, and seeks a <video> through byte ranges', async () => {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (message) => void (message.type() === 'error' && problems.push(message.text())));
  const encodings: string[] = [];
  page.on('response', (res) => void (res.url().endsWith('.js') && encodings.push(`${res.status()} ${res.headers()['content-encoding']} ${/-br"$/.test(res.headers()['etag'] ?? '') ? 'build copy' : 'made here'}`)));
  await page.goto(`${server.url}/settings/profile`);
  await page.waitForSelector('body[data-route]');
  await page.reload();
  await page.waitForSelector('body[data-route]');
  expect(await page.locator('body').getAttribute('data-route')).toBe('/settings/profile');
  // Asked once, as Brotli: the reload reused the immutable copy.
  expect(arrived.filter((line) => line.startsWith('/assets/'))).toEqual(['/assets/app-3f2a9c.js -']);
  expect(encodings[0]).toBe('200 br build copy'); // the build's .br (its strong -br tag), not compress's
  // A string, run in the page (the suite's types have no DOM).
  const seek = await page.evaluate(`(async () => {
    const video = document.getElementById('v');
    if (video.readyState < 1) await new Promise((ready) => video.addEventListener('loadedmetadata', ready, { once: true }));
    const seeked = new Promise((done) => video.addEventListener('seeked', done, { once: true }));
    video.currentTime = 300;
    await seeked;
    return { duration: video.duration, currentTime: video.currentTime };
  })()`);
  expect(seek).toEqual({ duration: 320, currentTime: 300 });
  // 300 s in is byte 44 + 300 * 16000: the seek asked for a range from about there.
  const starts = arrived.filter((line) => line.startsWith('/tone.wav bytes=')).map((line) => Number(/bytes=(\d+)-/.exec(line)![1]));
  expect(starts.some((start) => start > 4_700_000 && start <= 44 + 300 * 16000)).toBe(true);
  expect(problems).toEqual([]);
});
