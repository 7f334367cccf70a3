/**
 * Instructions per request of a benchmark target's server process: a measure the rest of the
 * machine cannot disturb, next to `npm run bench`'s requests per second (which move by 10–25 %
 * between runs on a shared machine) and bench/alloc-profile.ts's bytes. Each target's server
 * process (bench/server-process.ts) runs under Valgrind's callgrind, which counts every
 * instruction the process executes, all its threads (the garbage collector's and the JIT
 * compiler's included); counting is off while autocannon warms the server up, on for a fixed
 * number of requests of one route, and the count is read back (`callgrind_control`).
 *
 * ```sh
 * node bench/instructions.ts                                       # node, tsgi-app on /hello
 * node bench/instructions.ts --targets node,tsgi-app,fastify,hono --route echo
 * node bench/instructions.ts --targets tsgi-app --repeat 2 --top 15
 * ```
 *
 * Options: `--targets` (route targets of bench/targets.ts, default `node,tsgi-app`), `--route`
 * (`hello`, `stack`, `stream` or `echo`; default `hello`), `--requests` (counted, default
 * 3,000), `--warmup` (requests before counting, default 40,000), `--connections` (default 10),
 * `--repeat` (counted windows per target, one after the other in the same process, default 1),
 * `--top` (the functions with the most instructions of the last window, default 0: Node's C++
 * and V8's builtins by symbol, JIT-compiled JavaScript by name through `node --perf-basic-prof`).
 *
 * Before the windows reported, one more is counted and dropped. Each window starts and ends with
 * a young-generation collection; the young generation is held at 16 MiB and the old one starts at
 * 512 MiB, V8 runs no background tasks and no memory reducer (`NODE_FLAGS`), so that what a
 * window counts depends on the requests alone and not on timing: the same window of the same
 * target repeats within about 1 % from run to run, on a loaded machine too. Windows of one
 * process still differ (a scavenge that promotes, code still being optimised after 40,000
 * requests under Valgrind): compare the same `--requests`, `--warmup` and `--repeat` only.
 *
 * Needs Linux and `valgrind` (Debian: `apt-get install valgrind`); hardware counters (`perf stat
 * -e instructions`) would be cheaper, but this project's virtual machines expose none (`perf`
 * answers `<not supported>`). Under Valgrind the server runs 20–50 times slower, so a target
 * takes about 30–90 s; the counts do not depend on that speed. Every server process exits after
 * 5 minutes at most.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { type ServerProcess, startServerProcess, killServers } from './servers.ts';
import { selectRoutes } from './routes.ts';
import { BASELINE } from './targets.ts';
import { routeTargetsOf, wholeNumberOption } from './options.ts';
import { fmt, nodeLabel } from './stats.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    targets: { type: 'string', default: 'node,tsgi-app' },
    route: { type: 'string', default: 'hello' },
    requests: { type: 'string', default: '3000' },
    warmup: { type: 'string', default: '40000' },
    connections: { type: 'string', default: '10' },
    repeat: { type: 'string', default: '1' },
    top: { type: 'string', default: '0' },
  },
});
const count = (name: keyof typeof values, min: number): number => wholeNumberOption(values, name, min);
const requests = count('requests', 1);
const warmup = count('warmup', 0);
const connections = count('connections', 1);
const repeat = count('repeat', 1);
const top = count('top', 0);
const [route] = selectRoutes([String(values.route)]);
const targets = routeTargetsOf(String(values.targets));

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  console.error('bench/instructions.ts needs valgrind (Debian: apt-get install valgrind)');
  process.exit(2);
}

const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-instructions-'));
process.once('SIGINT', () => {
  killServers();
  rmSync(dir, { recursive: true, force: true });
  process.exit(130);
});

/** Sends `amount` requests of the route to `url`, `connections` at a time; answers how many failed. */
async function send(url: string, amount: number): Promise<number> {
  if (amount === 0) return 0;
  const result = await autocannon({ url, connections, amount, timeout: 30, method: route!.method, headers: route!.headers, body: route!.body });
  return result.errors + result.timeouts + result.non2xx;
}

/** Runs `callgrind_control` with `args` against the process `pid` (it waits for the process to answer). */
const control = (pid: number, ...args: string[]): void => void execFileSync('callgrind_control', [...args, String(pid)], { stdio: 'ignore', timeout: 60_000 });

/**
 * The JavaScript functions V8 compiled in process `pid`, from the map `node --perf-basic-prof`
 * writes (`/tmp/perf-<pid>.map`: start and size in hex, then the name), sorted by start.
 */
function readPerfMap(pid: number): Array<{ start: number; end: number; name: string }> {
  let text = '';
  try {
    text = readFileSync(`/tmp/perf-${pid}.map`, 'utf8');
  } catch {
    return [];
  }
  const entries: Array<{ start: number; end: number; name: string }> = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.+)$/.exec(line);
    if (m) entries.push({ start: parseInt(m[1]!, 16), end: parseInt(m[1]!, 16) + parseInt(m[2]!, 16), name: m[3]! });
  }
  return entries.sort((a, b) => a.start - b.start);
}

/** The name of the compiled code holding `address`, or undefined (binary search of `map`). */
function jsName(map: ReadonlyArray<{ start: number; end: number; name: string }>, address: number): string | undefined {
  let lo = 0;
  let hi = map.length - 1;
  let found: { start: number; end: number; name: string } | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (map[mid]!.start <= address) {
      found = map[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found && address < found.end ? found.name : undefined;
}

/**
 * The instruction total of a callgrind dump, and (with `annotate`) its functions with the most
 * self instructions: JIT-compiled JavaScript named from the perf map of process `pid`, the same
 * function's code of several tiers added together.
 */
function readDump(file: string, pid: number, annotate: boolean): { total: number; functions: Array<[string, number]> } {
  const total = Number(/^totals: (\d+)/m.exec(readFileSync(file, 'utf8'))?.[1]);
  if (!Number.isFinite(total)) throw new Error(`no totals in ${file}`);
  if (top === 0 || !annotate) return { total, functions: [] };
  const annotated = execFileSync('callgrind_annotate', ['--threshold=100', file], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const map = readPerfMap(pid);
  const byName = new Map<string, number>();
  for (const line of annotated.split('\n')) {
    const m = /^\s*([\d,]+) \([\d. ]+%\)\s+(.+)$/.exec(line);
    if (!m || m[2]!.includes('PROGRAM TOTALS')) continue;
    let name = m[2]!.replace(/ \[[^\]]*\]$/, '').replace(/^\?\?\?:/, '');
    const address = /^0x([0-9a-f]+)$/.exec(name);
    if (address) name = `${jsName(map, parseInt(address[1]!, 16)) ?? 'JavaScript, unnamed'}`.replace(/^(JS|LazyCompile):[*~^+]?/, '');
    byName.set(name, (byName.get(name) ?? 0) + Number(m[1]!.replace(/,/g, '')));
  }
  return { total, functions: [...byName].sort((a, b) => b[1] - a[1]).slice(0, top) };
}

/**
 * Node's flags for the counted server. The young generation is held at one size (16 MiB, the
 * size it grows to under load anyway), so how often it is collected depends on the bytes
 * allocated alone; the old generation starts large (512 MiB) and the memory reducer (a timer)
 * is off, so no major collection starts at a moment that depends on time. `--single-threaded`
 * keeps V8's work (compiling, collecting) on the main thread: Valgrind runs one thread at a
 * time, and threads waiting for each other would count instructions that depend on its
 * scheduling. The code V8 ends up running is the same; it may be optimised at other moments.
 */
const NODE_FLAGS = ['--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16', '--single-threaded', '--no-memory-reducer', '--initial-old-space-size=512'];
const wrapper = ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', `--callgrind-out-file=${dir}/%p.out`, '--quiet'];
console.log(`instructions per request — ${nodeLabel()}, valgrind callgrind, /${route!.name}, ${fmt(requests)} requests counted after ${fmt(warmup)}, ${connections} connections`);
const results: Array<[string, number[]]> = [];
try {
  for (const target of targets) {
    let server: ServerProcess | undefined;
    try {
      server = await startServerProcess([target.name], 300, top > 0 ? [...NODE_FLAGS, '--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=${dir}/v8.log`] : NODE_FLAGS, false, wrapper);
      const url = new URL(route!.path, server.url).href;
      let failed = await send(url, warmup);
      control(server.pid, '--instr=on');
      const counts: number[] = [];
      let functions: Array<[string, number]> = [];
      // Window 0 settles the process after counting starts and is not reported (the first
      // window counted was 1.5–3 times the next ones in trials). Each window starts and ends
      // with a young-generation collection, so that it pays for the collection of its own
      // garbage, however much of it an earlier window left.
      for (let window = 0; window <= repeat; window++) {
        await server.scavenge();
        control(server.pid, '--zero');
        failed += await send(url, requests);
        await server.scavenge();
        control(server.pid, '--dump');
        const dump = readDump(`${dir}/${server.pid}.out.${window + 1}`, server.pid, window > 0);
        if (window === 0) continue;
        counts.push(dump.total / requests);
        functions = dump.functions;
      }
      if (failed > 0) console.log(`  (${target.name}: ${failed} requests failed)`);
      results.push([target.name, counts]);
      console.log(`\n${target.name}: ${counts.map((n) => fmt(n)).join(', ')} instructions per request`);
      for (const [name, n] of functions) console.log(`${fmt(n / requests).padStart(10)}  ${name}`);
    } finally {
      await server?.stop();
      if (server) rmSync(`/tmp/perf-${server.pid}.map`, { force: true });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const baseline = results.find(([name]) => name === BASELINE)?.[1];
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`\ninstructions per request, /${route!.name}${baseline ? ` (ratio: ${BASELINE}'s ÷ the target's, above 1 is fewer)` : ''}:`);
for (const [name, counts] of results) {
  const ratio = baseline ? `  ${(mean(baseline) / mean(counts)).toFixed(3)}` : '';
  console.log(`  ${name.padEnd(16)} ${fmt(mean(counts)).padStart(10)}${ratio}`);
}
