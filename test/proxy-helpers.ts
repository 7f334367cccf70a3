/**
 * Shared helpers of test/proxy*.test.ts and test/filters*.test.ts: the upstream in its own
 * process (test/fixtures/upstream.ts), and small clients.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { type ProxyApp, type ProxyOptions, proxy } from 'tsgi/proxy';

/** The forked upstream: its HTTP and raw-TCP base URLs. */
export interface Upstream {
  url: string;
  raw: string;
  stop(): Promise<void>;
}

/** Forks test/fixtures/upstream.ts and waits until it listens. */
export function startUpstream(): Promise<Upstream> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./fixtures/upstream.ts', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`upstream exited early (${code})`)));
    child.once('message', (message) => {
      const { http, raw } = message as { http: number; raw: number };
      resolve({
        url: `http://127.0.0.1:${http}`,
        raw: `http://127.0.0.1:${raw}`,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill();
          }),
      });
    });
  });
}

export const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/** The SHA-256 of `pattern(0, size)` (test/fixtures/upstream.ts) without holding it all. */
export function patternSha(size: number): string {
  const hash = createHash('sha256');
  const block = Buffer.allocUnsafe(251 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = i % 251;
  for (let at = 0; at < size; at += block.length) hash.update(block.subarray(0, Math.min(block.length, size - at)));
  return hash.digest('hex');
}

/**
 * The upstream for one test file: started before its tests, stopped after them, together with
 * every proxy made by `to()`.
 */
export function useUpstream(): { readonly url: string; readonly raw: string; to(url: string, options?: ProxyOptions): ProxyApp } {
  let upstream: Upstream | undefined;
  const apps: ProxyApp[] = [];
  beforeAll(async () => {
    upstream = await startUpstream();
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await upstream?.stop();
  });
  return {
    get url() {
      return upstream!.url;
    },
    get raw() {
      return upstream!.raw;
    },
    to(url, options) {
      const app = proxy(url, options);
      apps.push(app);
      return app;
    },
  };
}
