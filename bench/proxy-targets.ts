/**
 * The proxy benchmark's targets (`npm run bench -- --targets proxy`): the same upstream
 * (bench/upstream.ts, its own process) reached through tsgi's `proxy`, through http-proxy-3 and
 * through Hono's `proxy` helper on @hono/node-server, each for `/` (13 bytes) and `/1mib`
 * (1 MiB). Every proxy is written the way its documentation shows, defaults left on.
 *
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { BIG_SIZE } from './upstream.ts';
import { type Running, type Target, listen } from './targets.ts';

let upstream: Promise<string> | undefined;
let child: ChildProcess | undefined;

/** The upstream's URL; it is forked at the first call and killed when this process exits. */
export function upstreamUrl(): Promise<string> {
  return (upstream ??= new Promise((resolve, reject) => {
    child = fork(fileURLToPath(new URL('./upstream.ts', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('error', reject);
    child.once('message', (message) => resolve(`http://127.0.0.1:${(message as { port: number }).port}`));
    process.once('exit', () => child?.kill());
  }));
}

/**
 * CPU time of the upstream process so far (user + system, µs), or 0 when none was started: the
 * benchmark counts it as part of the system under test, not as a disturbance.
 */
export function upstreamCpu(): Promise<number> {
  const proc = child;
  if (!proc || !proc.connected) return Promise.resolve(0);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(0), 2000);
    const onMessage = (message: { cpu?: number }) => {
      if (typeof message.cpu === 'number') done(message.cpu);
    };
    const done = (cpu: number) => {
      clearTimeout(timer);
      proc.off('message', onMessage);
      resolve(cpu);
    };
    proc.on('message', onMessage);
    proc.send({ type: 'probe' });
  });
}

type Start = (upstream: string) => Promise<Running>;

const starters: Record<string, { label: string; start: Start }> = {
  'proxy-tsgi': {
    label: 'tsgi serve(proxy(upstream))',
    start: async (origin) => {
      // Imported here, so the server process of another target loads none of it (its memory is its own).
      const [{ serve }, { proxy }] = await Promise.all([import('../src/index.ts'), import('../src/entries/proxy.ts')]);
      const app = proxy(origin);
      const server = await serve(app, { host: '127.0.0.1', port: 0 });
      return { url: `${server.url}/`, close: async () => { await server.close({ timeout: 0 }); await app.close(); } };
    },
  },
  'proxy-http-proxy-3': {
    // Given a keep-alive agent: without one http-proxy opens a new upstream connection per
    // request (agent: false), which would measure connection set-up, not the proxy.
    label: 'http-proxy-3: createProxyServer({ target, agent: keep-alive }).web(req, res) on node:http',
    start: async (origin) => {
      const { createProxyServer } = await import('http-proxy-3');
      const agent = new http.Agent({ keepAlive: true });
      const server = createProxyServer({ target: origin, agent });
      const running = await listen((req, res) => server.web(req, res));
      return { url: running.url, close: async () => { await running.close(); server.close(); agent.destroy(); } };
    },
  },
  'proxy-hono': {
    label: "Hono 4: app.all('*', (c) => proxy(upstream + c.req.path, { ...c.req, headers })) from hono/proxy on @hono/node-server 2",
    start: async (origin) => {
      const [{ Hono }, { proxy: honoProxy }, { getRequestListener }] = await Promise.all([import('hono'), import('hono/proxy'), import('@hono/node-server')]);
      const app = new Hono().all('*', (c) => honoProxy(`${origin}${c.req.path}`, { ...c.req, headers: { ...c.req.header(), 'X-Forwarded-For': '127.0.0.1' } }));
      return listen(getRequestListener(app.fetch));
    },
  },
};

/** The proxy targets: each proxy for `/` and, with the suffix `-1m`, for `/1mib`. */
export const PROXY_TARGETS: readonly Target[] = Object.entries(starters).flatMap(([name, { label, start }]) => [
  {
    name,
    label: `${label}, GET / (13 bytes)`,
    default: false,
    baseline: name === 'proxy-tsgi' ? undefined : 'proxy-tsgi',
    start: async () => start(await upstreamUrl()),
  },
  {
    name: `${name}-1m`,
    label: `${label}, GET /1mib (1 MiB)`,
    default: false,
    bodySize: BIG_SIZE,
    baseline: name === 'proxy-tsgi' ? undefined : 'proxy-tsgi-1m',
    start: async () => {
      const running = await start(await upstreamUrl());
      return { url: `${running.url}1mib`, close: running.close };
    },
  },
]);
