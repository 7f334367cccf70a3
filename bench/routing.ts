/**
 * Route matching cost against the number of rules: tsgi's `RouteMap` against Hono's
 * `RegExpRouter` and find-my-way on the same rule sets of 10, 100 and 1000 rules
 * (docs/performance.md, "Routing").
 *
 * `npm run bench:routing` (or `node bench/routing.ts [--quick]`). An in-process
 * micro-benchmark: each router answers the same list of request paths (every rule hit once,
 * plus one path in ten that matches nothing), in rounds that alternate the routers; the figure
 * is the median time per lookup in nanoseconds. Bounded: about 30 s (`--quick`: about 5 s).
 *
 * @module
 */
import os from 'node:os';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import FindMyWay from 'find-my-way';
import { RouteMap } from 'tsgi/routing';

/** One rule in each router's syntax. */
export interface BenchRule {
  tsgi: string;
  hono: string;
  fmw: string;
  /** A path it matches. */
  sample: string;
}

/**
 * `n` rules (a multiple of 5): per resource `r<k>`, a static path, a parameter, a parameter
 * then static text, two parameters, and a wildcard for the rest of the path.
 */
export function ruleSet(n: number): BenchRule[] {
  const rules: BenchRule[] = [];
  for (let k = 0; rules.length < n; k++) {
    rules.push(
      { tsgi: `/r${k}`, hono: `/r${k}`, fmw: `/r${k}`, sample: `/r${k}` },
      { tsgi: `/r${k}/<id>`, hono: `/r${k}/:id`, fmw: `/r${k}/:id`, sample: `/r${k}/42` },
      { tsgi: `/r${k}/<id>/edit`, hono: `/r${k}/:id/edit`, fmw: `/r${k}/:id/edit`, sample: `/r${k}/42/edit` },
      { tsgi: `/r${k}/<id>/items/<item>`, hono: `/r${k}/:id/items/:item`, fmw: `/r${k}/:id/items/:item`, sample: `/r${k}/42/items/7` },
      { tsgi: `/files/r${k}/<path:rest>`, hono: `/files/r${k}/*`, fmw: `/files/r${k}/*`, sample: `/files/r${k}/a/b/c.txt` },
    );
  }
  return rules.slice(0, n);
}

/** The request paths: every rule's sample, and one path in ten that no rule matches, shuffled (fixed seed). */
export function requestPaths(rules: BenchRule[]): string[] {
  const paths = rules.map((r) => r.sample);
  for (let i = 0; i < Math.max(1, rules.length / 10); i++) paths.push(`/missing/${i}/x`);
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = paths.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [paths[i], paths[j]] = [paths[j]!, paths[i]!];
  }
  return paths;
}

/** A router under test: built from the rules, answering the index of the rule a path matches, or -1. */
export interface BenchRouter {
  name: string;
  build(rules: BenchRule[]): (path: string) => number;
}

export const ROUTERS: BenchRouter[] = [
  {
    name: 'tsgi RouteMap',
    build(rules) {
      // As RouteMap.app dispatches: the endpoint's name picks the handler (here, the rule's index).
      const routes = new RouteMap(Object.fromEntries(rules.map((r, i) => [`e${i}`, r.tsgi])));
      const index: Record<string, number> = Object.fromEntries(rules.map((_, i) => [`e${i}`, i]));
      return (path) => {
        const found = routes.lookup('GET', path);
        return found.kind === 'match' ? index[found.rule.endpoint]! : -1;
      };
    },
  },
  {
    name: 'Hono RegExpRouter',
    build(rules) {
      const router = new RegExpRouter<number>();
      rules.forEach((r, i) => router.add('GET', r.hono, i));
      return (path) => {
        const [handlers] = router.match('GET', path);
        return handlers.length > 0 ? (handlers[0]![0] as number) : -1;
      };
    },
  },
  {
    name: 'find-my-way',
    build(rules) {
      const router = FindMyWay();
      rules.forEach((r, i) => router.on('GET', r.fmw, () => {}, { index: i }));
      return (path) => {
        const found = router.find('GET', path);
        return found ? (found.store as { index: number }).index : -1;
      };
    },
  },
];

/** Nanoseconds per lookup: the paths answered in a loop for about `ms` milliseconds. */
function measure(lookup: (path: string) => number, paths: string[], ms: number): number {
  let count = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (const path of paths) sink += lookup(path);
    count += paths.length;
    now = process.hrtime.bigint();
  }
  if (sink === Number.MIN_SAFE_INTEGER) console.log(sink); // keep the work observable
  return Number(now - start) / count;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const rounds = quick ? 3 : 7;
  const ms = quick ? 150 : 600;
  console.log(`tsgi routing benchmark — ${new Date().toISOString()}`);
  console.log(`node ${process.version}, ${os.cpus().length} CPU(s): ${os.cpus()[0]?.model ?? 'unknown'}; ${rounds} rounds × ${ms} ms per router and size`);
  const sizes = [10, 100, 1000];
  const table: Array<Record<string, string>> = [];
  for (const size of sizes) {
    const rules = ruleSet(size);
    const paths = requestPaths(rules);
    const lookups = ROUTERS.map((router) => {
      const started = performance.now();
      const lookup = router.build(rules);
      lookup(paths[0]!); // Hono compiles its matcher on the first match
      return { router, lookup, buildMs: performance.now() - started, samples: [] as number[] };
    });
    for (const { lookup } of lookups) measure(lookup, paths, ms / 2); // warm-up
    for (let round = 0; round < rounds; round++) {
      const order = lookups.map((_, i) => lookups[(i + round) % lookups.length]!);
      for (const entry of order) entry.samples.push(measure(entry.lookup, paths, ms));
    }
    for (const entry of lookups) {
      table.push({ rules: String(size), router: entry.router.name, 'ns/lookup': median(entry.samples).toFixed(0), 'build ms': entry.buildMs.toFixed(1) });
    }
  }
  console.table(table);
}

if (import.meta.main) await main();
