import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { fileApp } from 'tsgi/middleware';
import { request, sleep, start } from './node-helpers.ts';

const DAY = 86_400_000;
const seconds = (value: string | undefined) => Date.parse(value!) / 1000;

/** `Last-Modified` is the `Date`: both from one reading of the clock. */
function sentAsDate(headers: Record<string, string | string[] | undefined>): void {
  expect(headers['last-modified']).toBe(headers.date);
}

describe('a Last-Modified in the future is sent as the Date (RFC 9110 §8.8.2.1)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-future-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('for a Response, conditional or not, and it is what If-Modified-Since is compared with (socket)', async () => {
    const row = { updatedAt: Date.now() + DAY }; // a row written by a host whose clock runs ahead
    const server = await start(Request.application((req) => {
      const res = new Response(`article ${row.updatedAt}`, { conditionalResponse: req.queryString !== 'plain' });
      res.lastModified = row.updatedAt;
      return res;
    }));
    for (const url of [`${server.url}/`, `${server.url}/?plain`]) {
      const res = await request(url);
      expect(res.status).toBe(200);
      sentAsDate(res.headers);
    }
    const seen = (await request(`${server.url}/`)).headers['last-modified']!;
    await sleep(1100);
    row.updatedAt = Date.now(); // edited: after what the client was given, before the future date
    // The client revalidates with what it was given: the edit is seen (with the future date, a 304).
    const again = await request(`${server.url}/`, { headers: { 'if-modified-since': seen } });
    expect(again.status).toBe(200);
    expect(again.body.toString()).toBe(`article ${row.updatedAt}`);
  });

  it('for fileApp, whose file has an mtime ahead of the clock (socket)', async () => {
    const file = path.join(dir, 'ahead.txt');
    writeFileSync(file, 'from a build machine whose clock runs ahead');
    const ahead = new Date(Date.now() + DAY);
    utimesSync(file, ahead, ahead);
    const server = await start(fileApp(file));
    const res = await request(server.url);
    expect(res.status).toBe(200);
    sentAsDate(res.headers);
  });
});

describe('a future Last-Modified sent as now is never later than the Date the server sends', () => {
  it('even when the second turns while the app works, after Node cached its Date (socket)', async () => {
    const server = await start(Request.application((req) => {
      if (req.pathInfo === '/prime') return new Response('primed'); // Node caches its Date string
      const turn = (Math.floor(Date.now() / 1000) + 1) * 1000 + 30;
      while (Date.now() < turn); // a busy app: Node's timer refreshing its Date cannot run
      const res = new Response('article');
      res.lastModified = Date.now() + DAY;
      return res;
    }));
    try {
      // Both requests in the same second, late in it.
      while (Date.now() % 1000 < 850 || Date.now() % 1000 > 900) await sleep(5);
      await request(`${server.url}/prime`);
      const res = await request(`${server.url}/late`);
      expect(seconds(res.headers['last-modified'] as string)).toBeLessThanOrEqual(seconds(res.headers.date as string));
    } finally {
      await server.close();
    }
  });
});
