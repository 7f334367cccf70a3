/**
 * Memory over many keep-alive requests (issue 14: after 10,000 requests the server's RSS is
 * within 10% of where it was after the first 1,000). A benchmark target (default `tsgi-app`,
 * any route target of bench/targets.ts works, `node` or a framework for comparison) runs in a
 * server process of its own (bench/server-process.ts, from source, with `--expose-gc`); this
 * process sends the requests over `--connections` keep-alive connections (default 10), cycling
 * through the four routes of bench/routes.ts (or those `--routes` names) and checking every
 * answer's status and body. After every tenth of the requests it has the server collect its
 * garbage and report its RSS; the verdict compares the end with the first 1,000.
 *
 * ```sh
 * node bench/keepalive-memory.ts                          # tsgi-app, 10,000 requests, all routes
 * node bench/keepalive-memory.ts --target node            # the raw node:http baseline
 * node bench/keepalive-memory.ts --requests 50000 --routes stack,echo
 * ```
 *
 * Loopback only; bounded by the request count and a 5-minute limit.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { limitTime, mb } from './memory-process.ts';
import { ROUTE_NAMES, selectRoutes } from './routes.ts';
import { startServerProcess } from './servers.ts';
import { nodeLabel } from './stats.ts';
import { selectTargets } from './targets.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'tsgi-app' },
    requests: { type: 'string', default: '10000' },
    connections: { type: 'string', default: '10' },
    routes: { type: 'string', default: ROUTE_NAMES.join(',') },
  },
});
const WARM = 1000;
const total = Number(values.requests);
const connections = Number(values.connections);
if (!Number.isInteger(total) || total < 2 * WARM) throw new Error(`--requests must be a whole number of at least ${2 * WARM}`);
const [target] = selectTargets([values.target]);
if (!target!.routes) throw new Error(`--target must be a target answering the four routes, not ${target!.name}`);
const routes = selectRoutes(values.routes.split(',').map((r) => r.trim()));

limitTime('keepalive-memory', 300);
const server = await startServerProcess([target!.name], 300, ['--expose-gc']);
const pool = new Pool(new URL(server.url).origin, { connections, pipelining: 1 });
console.log(
  `keep-alive memory — ${target!.name}, ${total.toLocaleString('en-US')} requests over ${connections} connections, ` +
    `routes ${routes.map((r) => `/${r.name}`).join(' ')} (${nodeLabel()})`,
);
const start = await server.probe({ gc: true });
console.log(`${'at start'.padStart(16)}  RSS ${mb(start.rss)}`);

let sent = 0;
let wrong = 0;
/** Sends requests on every connection until `upTo` have been sent, and waits for their answers. */
async function sendUpTo(upTo: number): Promise<void> {
  const loop = async () => {
    while (sent < upTo) {
      const route = routes[sent++ % routes.length]!;
      const { statusCode, body } = await pool.request({ path: `/${route.path}`, method: route.method, headers: route.headers, body: route.body });
      const bytes = Buffer.from(await body.arrayBuffer());
      if (statusCode !== 200 || !bytes.equals(route.expected)) wrong++;
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
}

const started = performance.now();
let afterWarm = start;
const step = Math.ceil(total / 10);
for (let upTo = WARM; ; upTo = Math.min(total, upTo + step)) {
  await sendUpTo(upTo);
  const now = await server.probe({ gc: true });
  if (upTo === WARM) afterWarm = now;
  const change = (now.rss - afterWarm.rss) / afterWarm.rss;
  console.log(`${`after ${upTo.toLocaleString('en-US')}`.padStart(16)}  RSS ${mb(now.rss)}  (${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)}% of the RSS after ${WARM.toLocaleString('en-US')})`);
  if (upTo === total) {
    const seconds = (performance.now() - started) / 1000;
    const met = Math.abs(change) <= 0.1;
    console.log(`${total.toLocaleString('en-US')} requests in ${seconds.toFixed(1)} s, ${wrong} wrong answers; peak RSS ${mb(now.maxRss)}`);
    console.log(`RSS after ${total.toLocaleString('en-US')} within 10% of the RSS after ${WARM.toLocaleString('en-US')}: ${met ? 'met' : 'NOT met'}`);
    await pool.close();
    await server.stop();
    process.exit(met && wrong === 0 ? 0 : 1);
  }
}
