/**
 * docs/response.md's "Streaming server rendering (React)" recipe, run as written over real
 * sockets, with test/ssr-fake-react.ts standing in for `react` and `react-dom/server` (it
 * streams as React 19 does): the shell before the boundaries' data, compressed and flushed;
 * a failed shell a logged 500; a fatal error after the shell a cut response, logged once; a
 * client leaving or a HEAD aborting the render with no timer left behind.
 */
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { type MockInstance, afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { App } from 'tsgi';
import { start, until } from './node-helpers.ts';
import { boundaryText, state } from './ssr-fake-react.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const FAKE = fileURLToPath(new URL('./ssr-fake-react.ts', import.meta.url));

/** The recipe's code block, its React imports pointed at the stand-in. */
function recipe(): string {
  const text = readFileSync(path.join(ROOT, 'docs/response.md'), 'utf8');
  const at = text.indexOf('\n## Streaming server rendering (React)\n');
  expect(at).toBeGreaterThan(-1);
  const code = /```ts\n([\s\S]*?)```/.exec(text.slice(at))![1]!;
  for (const from of ["'react'", "'react-dom/server'", "'./app.tsx'"]) expect(code).toContain(`from ${from}`);
  return code.replace(/from '(react|react-dom\/server|\.\/app\.tsx)'/g, `from ${JSON.stringify(FAKE)}`);
}

const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-ssr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'ssr.ts');
writeFileSync(file, recipe());
const { app, webApp } = (await import(file)) as { app: App; webApp: App };

interface Received {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Decoded text, and when it came (ms after the request). */
  chunks: Array<{ at: number; text: string }>;
  /** True when the body ended as a complete message (the chunked body terminated). */
  complete: boolean;
}

/** GETs (or HEADs) `path`, decoding gzip as it comes; `leaveAfter` ms: the client hangs up then. */
function get(url: string, options: { method?: string; gzip?: boolean; leaveAfter?: number } = {}): Promise<Received> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', agent: false, headers: options.gzip === false ? {} : { 'Accept-Encoding': 'gzip' } }, (res) => {
      const out: Received = { status: res.statusCode!, headers: res.headers, chunks: [], complete: false };
      const decoded = res.headers['content-encoding'] === 'gzip' ? res.pipe(zlib.createGunzip()) : res;
      decoded.on('data', (chunk: Buffer) => out.chunks.push({ at: performance.now() - t0, text: chunk.toString() }));
      // The decoder's last output may come after the response's close: wait for both.
      let waiting = decoded === res ? 1 : 2;
      const settle = () => {
        if (--waiting === 0) resolve(out);
      };
      if (decoded !== res) {
        decoded.on('end', settle);
        decoded.on('error', settle); // a cut gzip stream: `complete` tells
      }
      res.on('error', () => {});
      res.on('close', () => {
        out.complete = res.complete;
        // A cut response: the decoder is unpiped, not ended; what it decoded is in `chunks`.
        if (!res.complete) setImmediate(() => resolve(out));
        else settle();
      });
      if (options.leaveAfter !== undefined) setTimeout(() => req.destroy(), options.leaveAfter);
    });
    req.on('error', (error) => (options.leaveAfter === undefined ? reject(error) : undefined));
    req.end();
  });
}

const text = (r: Received) => r.chunks.map((c) => c.text).join('');

/** Runs `check` with `console.error` (where React's `onError` logs) silenced and recorded, restored after. */
async function withConsoleError(check: (error: MockInstance<typeof console.error>) => Promise<void>): Promise<void> {
  const error = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    await check(error);
  } finally {
    error.mockRestore();
  }
}

beforeEach(() => {
  state.aborts.length = 0;
  state.errors.length = 0;
});

describe.each([
  ['renderToPipeableStream (a PassThrough)', () => app],
  ['renderToReadableStream', () => webApp],
])("docs/response.md's React recipe, %s", (_name, appOf) => {
  it('sends the shell, compressed, before the boundaries resolve, then each one as it comes', async () => {
    const server = await start(appOf());
    const res = await get(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.complete).toBe(true);
    const shell = res.chunks.findIndex((c) => c.text.includes('<main>shell</main>'));
    const first = res.chunks.findIndex((c) => c.text.includes(boundaryText(0)));
    // The shell decodes on its own, well before the first boundary's data (400 ms) is there (a
    // loaded machine took 123 ms to send it).
    expect(res.chunks[shell]!.at).toBeLessThan(300);
    expect(res.chunks.slice(0, shell + 1).map((c) => c.text).join('')).not.toContain('data 0');
    expect(res.chunks[first]!.at).toBeGreaterThanOrEqual(390);
    expect(res.chunks[first]!.at).toBeLessThan(res.chunks.at(-1)!.at + 1);
    expect(text(res)).toContain('<link rel="preload" as="script" href="/assets/client.js"/>');
    expect(text(res).endsWith(`${boundaryText(1)}</body></html>`)).toBe(true);
    expect(server.log.text).toBe('');
    await until(() => state.timers === 0);
  });

  it('answers a shell that fails with a 500 before anything is sent, logged once', async () => {
    const server = await start(appOf());
    const res = await get(`${server.url}/shell-error`);
    expect(res.status).toBe(500);
    expect(res.complete).toBe(true);
    expect(text(res)).not.toContain('shell');
    expect(server.log.messages.join('').match(/the shell failed/g)).toHaveLength(1);
    expect(state.timers).toBe(0);
  });

  it('lets React recover from an error inside a boundary, and logs it once', () =>
    withConsoleError(async (error) => {
      const server = await start(appOf());
      const res = await get(`${server.url}/boundary-error`);
      expect(res.status).toBe(200);
      expect(res.complete).toBe(true);
      expect(text(res)).toContain('$RX("B:0")');
      expect(error.mock.calls.map((call) => String(call[0]))).toEqual(['Error: the data of boundary 0 failed']);
      expect(server.log.text).toBe('');
    }));

  it('cuts the response on a fatal error after the shell: the client sees no clean end; logged once', () =>
    withConsoleError(async (error) => {
      const server = await start(appOf());
      const res = await get(`${server.url}/fatal`, { gzip: false });
      expect(res.status).toBe(200);
      expect(text(res)).toContain('<main>shell</main>');
      expect(res.complete).toBe(false);
      await until(() => server.log.text !== '');
      expect(server.log.messages.join('').match(/a fatal error after the shell/g)).toHaveLength(1);
      expect(error.mock.calls.map((call) => String(call[0]))).toEqual(['Error: a fatal error after the shell']); // onError's
      expect(state.timers).toBe(0);
    }));

  it('aborts the render when the client leaves mid-stream, and leaves no timer behind', () =>
    withConsoleError(async (error) => {
      const server = await start(appOf());
      const res = await get(`${server.url}/`, { leaveAfter: 60 });
      expect(res.complete).toBe(false);
      expect(text(res)).toContain('<main>shell</main>');
      await until(() => state.aborts.length > 0 && state.timers === 0);
      expect(state.aborts).toHaveLength(1);
      expect(state.errors.length).toBeGreaterThan(0);
      expect(error).not.toHaveBeenCalled(); // the aborted boundaries are not logged as errors
      expect(server.log.text).toBe('');
    }));

  it('answers HEAD with the fields of the GET and no body, the render aborted', () =>
    withConsoleError(async (error) => {
      const server = await start(appOf());
      const res = await get(`${server.url}/`, { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(res.headers['content-length']).toBeUndefined();
      expect(res.chunks).toEqual([]);
      await until(() => state.aborts.length > 0 && state.timers === 0);
      expect(state.errors.length).toBeGreaterThan(0); // React told onError of each boundary it left
      expect(error).not.toHaveBeenCalled();            // and the recipe kept them out of the log
      expect(server.log.text).toBe('');
    }));
});
