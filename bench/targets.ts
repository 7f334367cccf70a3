/**
 * The servers the benchmark compares. Two kinds:
 *
 * - **route targets** (`routes: true`): the baseline `node`, `tsgi-raw`, `tsgi-app`, `tsgi-hooks`
 *   (bench/tsgi-targets.ts) and the frameworks `express`, `koa`, `hono`, `h3`, `fastify`
 *   (bench/framework-targets.ts, opt-in). Each answers the four routes of bench/routes.ts
 *   (`/hello`, `/stack`, `/stream`, `/echo`) under its URL, byte for byte the same; each route
 *   is measured and compared with `node` on the same route.
 * - **single-URL targets**: the proxies (bench/proxy-targets.ts, `--targets proxy`) and the Bun
 *   and Deno targets (bench/runtime-targets.ts, `--targets fetch`), measured at their `url`.
 *
 * A plain `npm run bench` measures `node`, `tsgi-raw`, `tsgi-app` and `tsgi-hooks`; `--targets frameworks` (a
 * {@link TARGET_GROUPS group}) adds the five frameworks.
 *
 * This list is the extension point. To add a framework, install it as a dev dependency and add
 * a function answering the four routes to bench/framework-targets.ts (`listen()` serves any Node
 * `(req, res)` handler); import the framework inside it, so a run that does not select it never
 * loads it. The runner checks every route of every target before it measures, and
 * test/bench-targets.test.ts does the same for every entry.
 *
 * @module
 */
import { type Running, listen } from './listen.ts';
import { FRAMEWORK_TARGETS } from './framework-targets.ts';
import { PROXY_TARGETS } from './proxy-targets.ts';
import { HELLO } from './routes.ts';
import { FETCH_GROUP, RUNTIME_TARGETS } from './runtime-targets.ts';
import { TSGI_TARGETS } from './tsgi-targets.ts';

export { HELLO, type Running, listen };

/** One benchmark target. */
export interface Target {
  /** Short id, used by `--targets` and in the output. */
  name: string;
  /** One line saying what is measured. */
  label: string;
  /** Measured when `--targets` is not given; default true. */
  default?: boolean;
  /**
   * Answers the four routes of bench/routes.ts under its `url`; otherwise it answers `GET` at
   * its `url` with {@link HELLO}, or with `bigBody(bodySize)` of bench/upstream.ts.
   */
  routes?: boolean;
  /**
   * The size in bytes of the body it answers when that is not {@link HELLO}: then the body is
   * `bigBody(bodySize)` of bench/upstream.ts (the proxy benchmark's 1 MiB answer).
   */
  bodySize?: number;
  /** The target its ratios are computed against, when not {@link BASELINE} (the proxies: tsgi's). */
  baseline?: string;
  /** Starts the server on 127.0.0.1 and an ephemeral port. */
  start(): Promise<Running>;
}

/** The name of the target every ratio is computed against. */
export const BASELINE = 'node';

/** Every known target, in the order they are measured within a round (rotated each round). */
export const TARGETS: readonly Target[] = [
  ...TSGI_TARGETS.map((t) => ({ ...t, routes: true })),
  ...FRAMEWORK_TARGETS.map((t) => ({ ...t, routes: true, default: false })),
  // The proxies (bench/proxy-targets.ts): tsgi's proxy, http-proxy-3 and Hono's proxy helper, in
  // front of one upstream in its own process; `--targets proxy`.
  ...PROXY_TARGETS,
  // Bun and Deno (bench/runtime-targets.ts): tsgi's toFetchHandler and Hono, each a process of
  // its own; `--targets fetch`.
  ...RUNTIME_TARGETS,
];

/**
 * Named groups of targets, accepted wherever a target name is (`--targets frameworks`,
 * `BENCH_TARGETS=frameworks`), alone or mixed with names (`--targets frameworks,node-length`).
 *
 * - `frameworks`: the default set plus every framework tsgi is compared with — `node`,
 *   `tsgi-raw`, `tsgi-app`, `tsgi-hooks`, `express`, `koa`, `hono`, `h3`, `fastify`: 9 targets
 *   × 4 routes.
 *   With the default settings (10 rounds × 2 s) a run takes about 15 minutes; `--rounds 5`
 *   about 8, `--routes hello,stack` half that.
 * - `proxy`: the same upstream through tsgi's `proxy`, http-proxy-3 and Hono's `proxy` helper,
 *   for a 13-byte and a 1 MiB answer (`proxy-tsgi`, `proxy-http-proxy-3`, `proxy-hono`, and
 *   each with `-1m`); ratios against tsgi's. About 3 minutes with the default settings.
 * - `fetch`: tsgi through `toFetchHandler` and Hono on Bun and on Deno, a hello-world and a
 *   5-middleware stack each — `bun-tsgi`, `bun-tsgi-stack`, `bun-hono`, `bun-hono-stack`, and
 *   the same four on Deno (about 4 minutes with the defaults).
 */
export const TARGET_GROUPS: Readonly<Record<string, readonly string[]>> = {
  frameworks: [BASELINE, 'tsgi-raw', 'tsgi-app', 'tsgi-hooks', ...FRAMEWORK_TARGETS.map((t) => t.name)],
  proxy: PROXY_TARGETS.map((t) => t.name),
  fetch: FETCH_GROUP,
};

/** The names measured when `--targets` is not given. */
export const DEFAULT_TARGETS: readonly string[] = TARGETS.filter((t) => t.default !== false).map((t) => t.name);

/**
 * Picks targets by name, keeping the order asked for. A {@link TARGET_GROUPS group} name stands
 * for its members, in the group's order; a target named twice (directly or through a group) is
 * measured once, at its first place.
 *
 * @throws Error naming the unknown ones and listing the known targets and groups.
 */
export function selectTargets(names: readonly string[]): Target[] {
  const expanded = names.flatMap((name) => (Object.hasOwn(TARGET_GROUPS, name) ? TARGET_GROUPS[name]! : [name]));
  const unknown = expanded.filter((name) => !TARGETS.some((t) => t.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `unknown target(s): ${unknown.join(', ')}; known: ${TARGETS.map((t) => t.name).join(', ')}; ` +
        `groups: ${Object.keys(TARGET_GROUPS).join(', ')}`,
    );
  }
  return [...new Set(expanded)].map((name) => TARGETS.find((t) => t.name === name)!);
}

/** The servers {@link startTargets} started. */
export interface StartedTargets {
  /** Each target's URL by name, in the order started. */
  urls: Record<string, string>;
  /** Closes every server; resolves when all are closed (a failing close is ignored). */
  close(): Promise<void>;
}

/**
 * Starts the targets `names` select (see {@link selectTargets}), one after the other.
 *
 * @throws what `selectTargets` or a target's `start` throws (rejects), after closing the
 *   servers already started.
 */
export async function startTargets(names: readonly string[]): Promise<StartedTargets> {
  const running: Running[] = [];
  const urls: Record<string, string> = {};
  const close = async () => void (await Promise.allSettled(running.map((server) => server.close())));
  try {
    for (const target of selectTargets(names)) {
      const server = await target.start();
      running.push(server);
      urls[target.name] = server.url;
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { urls, close };
}
