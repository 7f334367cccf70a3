/**
 * What the memory scripts (bench/proxy-memory.ts, bench/upload-memory.ts) share: building dist/,
 * running a server as JavaScript that imports the compiled package (the memory of an installed
 * tsgi, without the TypeScript loader of a source run, which alone adds about 17 MB), asking it
 * for its resident set size, and a time limit.
 *
 * @module
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Appended to a server's code (which defines `server` with its `url`): answers RSS probes, tells
 * its URL, and exits with its parent.
 */
const PROBE = `
process.on('message', () => process.send({ rss: process.memoryUsage().rss, maxRss: process.resourceUsage().maxRSS * 1024 }));
process.send({ url: server.url });
process.once('disconnect', () => process.exit(0));
`;

/** A server process's memory, bytes: now, and its peak so far. */
export interface Memory {
  rss: number;
  maxRss: number;
}

const children: ChildProcess[] = [];
process.once('exit', () => children.forEach((child) => child.kill()));

/** Resolves with a child process's first message (killed when this process exits). */
export function ready<T>(child: ChildProcess): Promise<{ child: ChildProcess; first: T }> {
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`a child process exited early (${code})`)));
    child.once('message', (first) => resolve({ child, first: first as T }));
  });
}

/** Builds dist/ (`npm run build`), which the servers import as `../dist/…`. */
export function buildDist(): void {
  console.log('building dist/ (npm run build) …');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

/**
 * Runs `code` (an ES module, run from bench/, so `../dist/index.js` is the package; it must
 * define `server` with its `url`) in a Node process of its own with `args` after it; resolves
 * once it listens, with its URL and a probe of its memory.
 */
export async function startServer(code: string, args: string[] = []): Promise<{ url: string; probe: () => Promise<Memory> }> {
  const { child, first } = await ready<{ url: string }>(
    spawn(process.execPath, ['--input-type=module', '-e', code + PROBE, ...args], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const probe = () =>
    new Promise<Memory>((resolve) => {
      child.once('message', (m) => resolve(m as Memory));
      child.send('probe');
    });
  return { url: first.url, probe };
}

/** Stops this process with an error after `seconds`, naming `script`. */
export function limitTime(script: string, seconds: number): void {
  setTimeout(() => {
    console.error(`${script}: time limit (${seconds} s) reached`);
    process.exit(1);
  }, seconds * 1000).unref();
}

/** Bytes as `12.3 MB` (10^6 bytes). */
export const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
