/**
 * Running the `tsgi` CLI as a child process with the project's Node (vitest runs under it):
 * `node --conditions=tsgi-source src/cli/main.ts …`, as `npm start` does. Every process is
 * started in its own process group and killed (with its workers) after each test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll } from 'vitest';

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
 * `launcher` is a command that starts the CLI in turn (`['systemd-socket-activate', '-l',
 * '127.0.0.1:8000']`), with the CLI's command line after its own arguments.
 */
export function cli(args: string[], env: Record<string, string | undefined> = {}, fd3?: number, launcher: readonly string[] = []): Cli {
  const command = [process.execPath, '--conditions=tsgi-source', 'src/cli/main.ts', ...args];
  const [file, ...rest] = [...launcher, ...command];
  const child = spawn(file!, rest, {
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

/**
 * Waits for the start line on `stream` (stdout; stderr under `--access-log-format json`) and
 * answers the URL; fails if the CLI exits first.
 */
export async function servingUrl(run: Cli, timeout = 30_000, stream: 'stdout' | 'stderr' = 'stdout'): Promise<string> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const match = START_LINE.exec(run.out[stream]);
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

/** A keep-alive connection as a proxy keeps one upstream: raw bytes, so a reset or close shows. */
export interface KeptConnection {
  /** Sends `GET path` (or a 5-byte POST) on the connection and answers the raw response. */
  send(path: string, method?: 'GET' | 'POST'): Promise<string>;
  /** Resolves when the server has closed the connection. */
  readonly closed: Promise<void>;
  /** Whether the server has closed it. */
  isClosed(): boolean;
  destroy(): void;
}

/** Opens a {@link KeptConnection} to `url` (`http://host:port`). */
export async function keptConnection(url: string): Promise<KeptConnection> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.setEncoding('latin1');
  let received = '';
  let closed = false;
  socket.on('data', (text: string) => (received += text));
  socket.on('error', () => {});
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void ended.then(() => (closed = true));
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return {
    async send(path, method = 'GET') {
      received = '';
      socket.write(
        method === 'GET'
          ? `GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`
          : `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello`,
      );
      // Complete once the head and as many body bytes as Content-Length says have come, or the connection ends.
      await waitFor(() => {
        const end = received.indexOf('\r\n\r\n');
        const length = /\r\ncontent-length: *(\d+)/i.exec(received)?.[1];
        return closed || (end !== -1 && length !== undefined && received.length >= end + 4 + Number(length));
      }, () => `no answer to ${method} ${path}: ${JSON.stringify(received)}`);
      return received;
    },
    closed: ended,
    isClosed: () => closed,
    destroy: () => socket.destroy(),
  };
}

/**
 * Writes app modules for `tsgi serve` (file name → source) into a new temporary folder before
 * the test file's tests, and removes the folder after them. Answers the path of one of them.
 */
export function appModules(prefix: string, files: Record<string, string>): (name: string) => string {
  let folder: string | undefined;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), prefix));
    for (const [name, source] of Object.entries(files)) writeFileSync(join(folder, name), source);
  });
  afterAll(() => {
    if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
  });
  return (name) => join(folder!, name);
}

/** `tsgi serve` run on a pseudo-terminal (`script`), its output so far, and its stop. */
export interface TerminalRun {
  /** All it printed so far, colour codes and carriage returns included. */
  output(): string;
  /** Ctrl-C on the terminal, then, past 5 s, a SIGKILL to the whole group. */
  stop(): Promise<void>;
}

/**
 * Runs `tsgi serve` with `args` on a pseudo-terminal (`script` gives it one), colours on.
 * Stopped by Ctrl-C on the terminal: a SIGKILL to `script` alone hangs the terminal up, and the
 * server, which ignores SIGHUP in its own session, was left running.
 */
export function onTerminal(args: string[]): TerminalRun {
  const command = [process.execPath, '--conditions=tsgi-source', 'src/cli/main.ts', 'serve', ...args].join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '' }, detached: true });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
  return {
    output: () => out,
    async stop() {
      const exited = new Promise((resolve) => child.once('close', resolve));
      child.stdin.write('\x03');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
    },
  };
}
