/**
 * Running the `tsgi` CLI as a child process with the project's Node (vitest runs under it):
 * `node --conditions=tsgi-source src/cli/main.ts …`, as `npm start` does. Every process is
 * started in its own process group and killed (with its workers) after each test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Cli {
  readonly child: ChildProcess;
  /** Everything written to stdout / stderr so far. */
  readonly out: { stdout: string; stderr: string };
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: Cli[] = [];

/**
 * Starts the CLI in its own process group, so afterEach can kill it and any workers. `fd3`, a
 * descriptor of this process, becomes the CLI's descriptor 3 (a socket for `--fd 3`).
 */
export function cli(args: string[], env: Record<string, string | undefined> = {}, fd3?: number): Cli {
  const child = spawn(process.execPath, ['--conditions=tsgi-source', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, PORT: undefined, WEB_CONCURRENCY: undefined, FORWARDED_ALLOW_IPS: undefined, ...env },
    stdio: fd3 === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', fd3],
    detached: true,
  });
  const out = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (out.stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (out.stderr += text));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const handle = { child, out, exited };
  running.push(handle);
  return handle;
}

afterEach(async () => {
  for (const { child, exited } of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      await exited;
    } else {
      // The primary is gone; make sure no worker of its group outlives it.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // no process left in the group
      }
    }
  }
});

/** The start line: `Serving on <url> (<protocols>, <processes>, Node <version>, reload <on|off>)`. */
export const START_LINE = /^Serving on ((?:https?:\/\/|unix:)\S+) \((.*)\)$/m;

/** Waits for the start line on stdout and answers the URL; fails if the CLI exits first. */
export async function servingUrl(run: Cli, timeout = 15_000): Promise<string> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const match = START_LINE.exec(run.out.stdout);
    if (match) return match[1]!;
    if (run.child.exitCode !== null || run.child.signalCode !== null) {
      throw new Error(`the CLI exited before serving: ${run.out.stderr}`);
    }
    if (Date.now() > deadline) throw new Error(`no "Serving on" line; stderr: ${run.out.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** One GET on a fresh connection; fails after `timeout` ms without an answer. */
export function get(url: string, headers: Record<string, string> = {}, timeout = 10_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false, timeout }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in ${timeout} ms`)));
    req.on('error', reject);
  });
}

/** Whether a process with this id exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs the CLI to its end. */
export async function finish(args: string[], env: Record<string, string | undefined> = {}) {
  const run = cli(args, env);
  const { code } = await run.exited;
  return { code, stdout: run.out.stdout, stderr: run.out.stderr };
}

/** Waits until `predicate` holds, polling every 25 ms; throws `message()` after `timeout` ms. */
export async function waitFor(predicate: () => boolean, message: () => string, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
