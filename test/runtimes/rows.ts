/**
 * The servers of the conformance suite (the rows of its table): each runs examples/everywhere.ts
 * in a process of its own, started from the project's devDependencies, and prints
 * `Serving on <url>` (workerd prints nothing: its port is chosen here and polled).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorker } from '../../examples/worker-bundle.ts';
import { freePort } from '../free-port.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const bin = (relative: string) => path.join(ROOT, 'node_modules', relative);

/** A started server process. */
export interface RunningServer {
  /** `http://127.0.0.1:<port>` plus the row's prefix: where examples/everywhere.ts answers. */
  base: string;
  /** The origin alone, `http://127.0.0.1:<port>`. */
  origin: string;
  /** The mount prefix of the app on this server (`''` or `/tsgi`). */
  prefix: string;
  /** The server process id (its peak memory is read from /proc). */
  pid: number;
  /** What the process wrote so far, standard output and error (the app's error log). */
  output(): string;
  /** Stops the process (SIGTERM, then SIGKILL after 2 s). */
  stop(): Promise<void>;
  /** Settles when the process exits: its exit code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** One row: a server and the cases it cannot pass, each with the reason. */
export interface Row {
  name: string;
  /** What serves the app. */
  label: string;
  /** Case name → why this server cannot give the common answer. */
  unsupported: Record<string, string>;
  /**
   * Whether the server sends `103 Early Hints` (`req.sendEarlyHints` answers `true`): Node's
   * (`toNodeHandler`), not the fetch adapters' (a fetch `Response` has no 1xx).
   */
  earlyHints: boolean;
  start(): Promise<RunningServer>;
}

/**
 * Spawns `command` and resolves once it printed `Serving on <url>` (or, with `url` given, once
 * that URL answers), within 30 s; rejects with its output otherwise.
 */
export async function launch(command: string, args: string[], options: { prefix?: string; url?: string; readyPath?: string; cwd?: string; env?: Record<string, string>; cleanup?: () => void } = {}): Promise<RunningServer> {
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  // Never outlive the suite, whatever happens to it.
  const lifetime = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000);
  lifetime.unref();
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    clearTimeout(lifetime);
    options.cleanup?.();
  };
  const deadline = Date.now() + 30_000;
  let origin: string | undefined;
  while (origin === undefined) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`${command} did not start:\n${stdout}\n${stderr}`);
    }
    if (options.url) {
      const ok = await fetch(`${options.url}${options.readyPath ?? '/hangup/status'}`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
      if (ok) origin = options.url;
    } else {
      origin = /Serving on (http:\/\/[^\s/]+)/.exec(stdout)?.[1]?.replace('localhost', '127.0.0.1');
    }
    if (origin === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const prefix = options.prefix ?? '';
  return { base: origin + prefix, origin, prefix, pid: child.pid!, output: () => stdout + stderr, stop, exited };
}

/** Node itself: the binary running this suite (the project's pinned Node under npm scripts). */
const node = (script: string, args: string[] = [], prefix = '') => launch(process.execPath, ['--conditions=tsgi-source', script, ...args], { prefix });

/** The name of the conformance case that stops the server (test/runtimes/cases.ts), run last. */
export const GRACEFUL_STOP = 'graceful stop: SIGTERM ends an open event stream';

const COOKIE_JOINED = 'joins repeated Cookie fields with ", " (its fetch Headers), not "; " (RFC 6265 §5.4); the adapter sees only the joined value';

/** Every row, in the order of the table. */
export const ROWS: Row[] = [
  {
    name: 'node serve()',
    earlyHints: true,
    label: '`tsgi serve examples/everywhere.ts:app` (serve() on node:http)',
    unsupported: {},
    start: () => node('src/cli/main.ts', ['serve', 'examples/everywhere.ts:app', '--port', '0']),
  },
  {
    name: 'express',
    earlyHints: true,
    label: 'examples/express.ts: Express 5, toNodeHandler mounted at /tsgi',
    unsupported: {},
    start: () => node('examples/express.ts', [], '/tsgi'),
  },
  {
    name: 'fastify',
    earlyHints: true,
    label: 'test/runtimes/servers/fastify.ts: Fastify 5, toNodeHandler in a hijacked catch-all route',
    unsupported: {},
    start: () => node('test/runtimes/servers/fastify.ts'),
  },
  {
    name: 'hono-node',
    earlyHints: false,
    label: 'test/runtimes/servers/hono-node.ts: toFetchHandler on @hono/node-server',
    unsupported: {},
    start: () => node('test/runtimes/servers/hono-node.ts'),
  },
  {
    name: 'bun',
    earlyHints: false,
    label: 'examples/bun.ts: toFetchHandler on Bun.serve',
    unsupported: {},
    start: () => launch(bin('.bin/bun'), ['--conditions=tsgi-source', 'examples/bun.ts']),
  },
  {
    name: 'deno',
    earlyHints: false,
    label: 'examples/deno.ts: toFetchHandler on Deno.serve',
    unsupported: {},
    start: () =>
      launch(bin('deno/deno'), [
        'run',
        '--allow-net',
        '--allow-env',
        '--allow-read',
        '--allow-write',
        '--unstable-no-legacy-abort',
        '--conditions=tsgi-source',
        'examples/deno.ts',
      ]),
  },
  {
    name: 'workerd',
    earlyHints: false,
    label: 'examples/worker.ts bundled, on workerd (examples/workerd.capnp)',
    unsupported: {
      cookies: `workerd ${COOKIE_JOINED}`,
      [GRACEFUL_STOP]: 'a Worker is told nothing of workerd’s shutdown (an open stream was still running 3 s after SIGTERM): there is no signal to give toFetchHandler’s shutdownSignal',
      'client address': 'a Worker learns the client address from CF-Connecting-IP, which Cloudflare’s edge sets; a local workerd has no such field',
    },
    start: () => startWorkerd(),
  },
];

/**
 * Bundles `entry` (default examples/worker.ts) as wrangler would and serves it on workerd with
 * examples/workerd.capnp, on a free port of 127.0.0.1. Ready once `readyPath` answers a 2xx
 * (the default is examples/everywhere.ts's `/hangup/status`). `compatibilityFlags`, when given,
 * replace the file's (`["nodejs_compat"]`); `bindings` are text bindings (a Worker's variables
 * and secrets: `env.NAME`); `http` are the socket's options (`cfBlobHeader`: the request field
 * read as JSON for `request.cf`, as Cloudflare's edge fills it; `forwardedProtoHeader`: the one
 * whose `https` makes the request URL https, as behind the edge); with `assets`, a directory, the Worker's
 * `env.ASSETS` is a service serving its files by URL path (workerd's `disk` service, in the
 * place of Workers Static Assets). Rejects with workerd's output when it stops
 * first (a Worker that throws as it loads).
 */
export async function startWorkerd(
  entry?: string,
  readyPath = '/hangup/status',
  compatibilityFlags?: string[],
  { bindings = {}, http = {}, assets }: { bindings?: Record<string, string>; http?: { cfBlobHeader?: string; forwardedProtoHeader?: string }; assets?: string } = {},
): Promise<RunningServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-workerd-'));
  await bundleWorker(path.join(dir, 'worker.js'), entry);
  let config = readFileSync(path.join(ROOT, 'examples/workerd.capnp'), 'utf8');
  const line = 'compatibilityFlags = ["nodejs_compat"],';
  if (!config.includes(line) || !config.includes('http = ()') || !config.includes('services = [ (name = "main", worker = .worker) ],')) throw new Error('examples/workerd.capnp: no compatibilityFlags, http socket or services line to replace');
  const flags = compatibilityFlags === undefined ? line : `compatibilityFlags = ${JSON.stringify(compatibilityFlags)},`;
  const texts = Object.entries(bindings).map(([name, text]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(text)})`);
  if (assets !== undefined) {
    texts.push('(name = "ASSETS", service = "assets")');
    config = config.replace('services = [ (name = "main", worker = .worker) ],', `services = [ (name = "main", worker = .worker), (name = "assets", disk = (path = ${JSON.stringify(assets)})) ],`);
  }
  config = config.replace(line, texts.length === 0 ? flags : `${flags}\n  bindings = [ ${texts.join(', ')} ],`);
  const socket = Object.entries(http).map(([name, value]) => `${name} = ${JSON.stringify(value)}`);
  config = config.replace('http = ()', `http = (${socket.join(', ')})`);
  writeFileSync(path.join(dir, 'workerd.capnp'), config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return launch(bin('.bin/workerd'), ['serve', path.join(dir, 'workerd.capnp'), '--socket-addr', `http=127.0.0.1:${port}`], {
    url,
    readyPath,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  });
}

/** Peak resident memory of a process so far (Linux `VmHWM`), in bytes; undefined elsewhere. */
export function peakMemory(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
