/**
 * Bytes allocated per request, by site, in a benchmark target's server process: a steady
 * measure next to `npm run bench`'s requests per second, which move by 10–25 % between runs on
 * a noisy machine while allocation hardly moves at all. Each target runs in its own process
 * (bench/server-process.ts); after a warm-up, V8's sampling heap profiler counts everything the
 * process allocates, collected objects included (bench/allocation-sampling.ts), while
 * autocannon sends a fixed number of requests.
 *
 * ```sh
 * node bench/alloc-profile.ts                                   # tsgi-app /stack
 * node bench/alloc-profile.ts --targets node,tsgi-app,hono --route stack --top 15
 * node bench/alloc-profile.ts --targets tsgi-app --route hello --depth 3
 * ```
 *
 * Options: `--targets` (route targets of bench/targets.ts, default `tsgi-app`), `--route`
 * (`hello`, `stack`, `stream` or `echo`; default `stack`), `--requests` (sampled, default
 * 50,000), `--warmup` (requests before sampling, default 20,000), `--connections` (default 50),
 * `--top` (sites shown per target, default 12; 0 for the totals alone), `--depth` (frames per
 * site, default 1). The sampling is statistical (one sample per KiB on average): totals
 * repeat within about 1 %. Bounded: every server process exits after 5 minutes at most.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { type ServerProcess, startServerProcess, killServers } from './servers.ts';
import { selectRoutes } from './routes.ts';
import { routeTargetsOf, wholeNumberOption } from './options.ts';
import { fmt, nodeLabel } from './stats.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    targets: { type: 'string', default: 'tsgi-app' },
    route: { type: 'string', default: 'stack' },
    requests: { type: 'string', default: '50000' },
    warmup: { type: 'string', default: '20000' },
    connections: { type: 'string', default: '50' },
    top: { type: 'string', default: '12' },
    depth: { type: 'string', default: '1' },
  },
});
const count = (name: keyof typeof values, min: number): number => wholeNumberOption(values, name, min);
const requests = count('requests', 1);
const warmup = count('warmup', 0);
const connections = count('connections', 1);
const top = count('top', 0);
const depth = count('depth', 1);
const [route] = selectRoutes([String(values.route)]);
const targets = routeTargetsOf(String(values.targets));

process.once('SIGINT', () => {
  killServers();
  process.exit(130);
});

/** Sends `amount` requests of the route to `url`, `connections` at a time; answers how many failed. */
async function send(url: string, amount: number): Promise<number> {
  if (amount === 0) return 0;
  const result = await autocannon({
    url,
    connections,
    amount,
    timeout: 5,
    method: route!.method,
    headers: route!.headers,
    body: route!.body,
  });
  return result.errors + result.timeouts + result.non2xx;
}

console.log(`allocation per request — ${nodeLabel()}, /${route!.name}, ${fmt(requests)} requests sampled after ${fmt(warmup)}, ${connections} connections`);
const totals: Array<[string, number]> = [];
for (const target of targets) {
  let server: ServerProcess | undefined;
  try {
    server = await startServerProcess([target.name], 300);
    const url = new URL(route!.path, server.url).href;
    let failed = await send(url, warmup);
    await server.startAllocations();
    failed += await send(url, requests);
    const report = await server.stopAllocations(depth);
    if (failed > 0) console.log(`  (${target.name}: ${failed} requests failed)`);
    const perRequest = report.bytes / requests;
    totals.push([target.name, perRequest]);
    console.log(`\n${target.name}: ${fmt(perRequest)} bytes per request`);
    for (const { site, bytes } of report.sites.slice(0, top)) console.log(`${fmt(bytes / requests).padStart(8)}  ${site}`);
  } finally {
    await server?.stop();
  }
}
if (totals.length > 1) {
  console.log('\nbytes per request:');
  for (const [name, bytes] of totals) console.log(`  ${name.padEnd(16)} ${fmt(bytes).padStart(8)}`);
}
