/**
 * The `fetch` targets of the benchmark: tsgi through `toFetchHandler` and Hono, each as a
 * hello-world and under five middleware, on Bun (`Bun.serve`) and on Deno (`Deno.serve`), run
 * from the project's devDependencies (bench/runtime-server.ts in a process of its own).
 * `npm run bench -- --targets fetch` measures them side by side, alternating rounds.
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Running, Target } from './targets.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SCRIPT = path.join(ROOT, 'bench/runtime-server.ts');

/** The command line of each runtime. */
const RUNTIMES: Record<'bun' | 'deno', { label: string; command: string; args: string[] }> = {
  bun: { label: 'Bun.serve', command: path.join(ROOT, 'node_modules/.bin/bun'), args: [SCRIPT] },
  deno: {
    label: 'Deno.serve',
    command: path.join(ROOT, 'node_modules/deno/deno'),
    args: ['run', '--allow-net', '--allow-env', '--allow-read', '--unstable-no-legacy-abort', SCRIPT],
  },
};

/** The processes started, for the server process's CPU probe. */
const children = new Set<ChildProcess>();

/**
 * CPU time used so far by the runtime processes still running, in microseconds: user + system
 * (`total`) and system alone (`system`, the kernel's share), from Linux `/proc/<pid>/stat`;
 * 0 elsewhere. The benchmark's server process adds it to its own.
 */
export function runtimeCpu(): { total: number; system: number } {
  let user = 0;
  let system = 0;
  for (const child of children) {
    try {
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      user += Number(fields[11]);
      system += Number(fields[12]);
    } catch {
      // Not Linux, or the process is gone.
    }
  }
  // USER_HZ is 100 on Linux.
  return { total: ((user + system) / 100) * 1e6, system: (system / 100) * 1e6 };
}

/**
 * The resident set size of the runtime processes still running, now (`rss`) and at its peak
 * (`maxRss`), in bytes (Linux `VmRSS` and `VmHWM` of `/proc/<pid>/status`, summed), or undefined
 * when none runs or elsewhere.
 */
export function runtimeMemory(): { rss: number; maxRss: number } | undefined {
  let memory: { rss: number; maxRss: number } | undefined;
  for (const child of children) {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kib = (field: string) => Number(new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
      memory = { rss: (memory?.rss ?? 0) + kib('VmRSS'), maxRss: (memory?.maxRss ?? 0) + kib('VmHWM') };
    } catch {
      // Not Linux, or the process is gone.
    }
  }
  return memory;
}

/** Starts `bench/runtime-server.ts <variant>` on a runtime; resolves when it listens (20 s at most). */
function startRuntime(runtime: 'bun' | 'deno', variant: string): Promise<Running> {
  const { command, args } = RUNTIMES[runtime];
  const child = spawn(command, [...args, variant], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    children.delete(child);
  };
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      void close();
      reject(new Error(`${runtime} ${variant} did not start in 20 s: ${output}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${runtime} ${variant} exited (code ${code}): ${output}`));
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /Serving on (http:\/\/\S+)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ url: `${url}/`, close });
      }
    });
  });
}

const VARIANTS = [
  ['tsgi', 'tsgi toFetchHandler, raw app returning [bytes]'],
  ['tsgi-stack', 'tsgi toFetchHandler, the same app under 5 middleware (one field each)'],
  ['hono', 'Hono 4, app.get("/", (c) => c.text())'],
  ['hono-stack', 'Hono 4, the same under 5 app.use() middleware (one field each)'],
] as const;

/** Every runtime target, opt-in: `bun-tsgi`, `bun-tsgi-stack`, `bun-hono`, …, `deno-hono-stack`. */
export const RUNTIME_TARGETS: Target[] = (['bun', 'deno'] as const).flatMap((runtime) =>
  VARIANTS.map(([variant, label]) => ({
    name: `${runtime}-${variant}`,
    label: `${label}, on ${RUNTIMES[runtime].label}`,
    default: false,
    start: () => startRuntime(runtime, variant),
  })),
);

/** The `fetch` group: every runtime target, tsgi next to Hono on each runtime. */
export const FETCH_GROUP: readonly string[] = RUNTIME_TARGETS.map((t) => t.name);

/** Pairs the run compares (`a / b` per round): tsgi against Hono, same runtime, same stack. */
export const RUNTIME_PAIRS: ReadonlyArray<readonly [string, string]> = (['bun', 'deno'] as const).flatMap((runtime) => [
  [`${runtime}-tsgi`, `${runtime}-hono`] as const,
  [`${runtime}-tsgi-stack`, `${runtime}-hono-stack`] as const,
]);
