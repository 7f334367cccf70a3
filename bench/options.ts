/**
 * The options of bench/run.ts: flags, their environment variables, and their defaults (see the
 * table in docs/performance.md).
 *
 * @module
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BROWSER_FIELDS, ROUTE_NAMES, type Route, selectRoutes } from './routes.ts';
import { DEFAULT_TARGETS, TARGET_GROUPS, TARGETS, type Target, selectTargets } from './targets.ts';

/** One run's settings. */
export interface Settings {
  rounds: number;
  duration: number;
  warmup: number;
  connections: number;
  pipelining: number;
  targets: string[];
  /** The routes the route targets are measured on (all four unless `--routes`). */
  routes: Route[];
  mode: 'child' | 'inprocess';
  profile: string | undefined;
  pin: boolean;
  /** Restart every server process before each round after the first, and warm it up again. */
  fresh: boolean;
  retries: number;
  /**
   * The header fields of every request: `minimal` (the load generator's own, and what a route
   * needs) or `browser` (also {@link BROWSER_FIELDS}: a browser's page request behind a proxy).
   */
  headers: 'minimal' | 'browser';
}

/** The `--help` text. */
export const USAGE = `Usage: npm run bench -- [--rounds N] [--duration S] [--warmup S] [--connections N]
                       [--pipelining N] [--targets ${DEFAULT_TARGETS.join(',')}] [--routes ${ROUTE_NAMES.join(',')}]
                       [--mode child|inprocess] [--retries N] [--pin] [--fresh] [--headers minimal|browser]
                       [--profile] [--profile-dir DIR] [--quick]
Known targets (--targets takes names and groups, comma-separated; [opt-in] targets run only when named;
[routes] targets answer /hello, /stack, /stream and /echo, each measured unless --routes picks some):
${TARGETS.map((t) => `  ${t.name.padEnd(12)} ${t.label}${t.routes ? ' [routes]' : ''}${t.default === false ? ' [opt-in]' : ''}`).join('\n')}
Target groups:
${Object.entries(TARGET_GROUPS).map(([name, members]) => `  ${name.padEnd(12)} ${members.join(',')}`).join('\n')}
Compare tsgi with the frameworks: npm run bench -- --targets frameworks`;

/** The header fields `settings.headers` adds to every request (none for `minimal`). */
export function extraFields(settings: Pick<Settings, 'headers'>): Readonly<Record<string, string>> | undefined {
  return settings.headers === 'browser' ? BROWSER_FIELDS : undefined;
}

/** `'a, b,,c'` → `['a', 'b', 'c']`. */
const list = (text: string): string[] =>
  text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);

/**
 * Reads the settings from the command line and the environment (a flag wins).
 *
 * @throws Error naming the option for a value out of range or an impossible combination.
 */
export function settingsFrom(argv: string[], env: NodeJS.ProcessEnv): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      pipelining: { type: 'string' },
      targets: { type: 'string' },
      routes: { type: 'string' },
      mode: { type: 'string' },
      profile: { type: 'boolean' },
      'profile-dir': { type: 'string' },
      pin: { type: 'boolean' },
      fresh: { type: 'boolean' },
      retries: { type: 'string' },
      headers: { type: 'string' },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick === true;
  const number = (flag: string | undefined, envValue: string | undefined, fallback: number, min: number, max: number, name: string): number => {
    const text = flag ?? envValue;
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new Error(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(text)}`);
    }
    return value;
  };
  const mode = values.mode ?? env.BENCH_MODE ?? 'child';
  if (mode !== 'child' && mode !== 'inprocess') throw new Error(`--mode must be child or inprocess, got ${JSON.stringify(mode)}`);
  const profileEnv = env.BENCH_PROFILE;
  let profile: string | undefined;
  if (values.profile || values['profile-dir'] !== undefined || (profileEnv !== undefined && profileEnv !== '' && profileEnv !== '0')) {
    profile = path.resolve(
      values['profile-dir'] ?? (profileEnv && profileEnv !== '1' ? profileEnv : path.join(os.tmpdir(), `tsgi-bench-profile-${Date.now()}`)),
    );
    if (mode !== 'child') throw new Error('--profile needs --mode child (it profiles the server process)');
  }
  const pin = values.pin === true || env.BENCH_PIN === '1';
  if (pin && (mode !== 'child' || os.platform() !== 'linux')) {
    throw new Error('--pin needs --mode child on Linux (it uses taskset)');
  }
  const headers = values.headers ?? (env.BENCH_HEADERS || 'minimal');
  if (headers !== 'minimal' && headers !== 'browser') throw new Error(`--headers must be minimal or browser, got ${JSON.stringify(headers)}`);
  const fresh = values.fresh === true || env.BENCH_FRESH === '1';
  if (fresh && mode !== 'child') throw new Error('--fresh needs --mode child (it restarts the server processes)');
  if (fresh && profile !== undefined) throw new Error('--fresh and --profile do not go together (one profile per server process)');
  return {
    rounds: Math.round(number(values.rounds, env.BENCH_ROUNDS, quick ? 2 : 10, 1, 50, 'rounds')),
    duration: number(values.duration, env.BENCH_DURATION, quick ? 1 : 2, 0.5, 60, 'duration'),
    warmup: number(values.warmup, env.BENCH_WARMUP, quick ? 1 : 2, 0, 60, 'warmup'),
    connections: Math.round(number(values.connections, env.BENCH_CONNECTIONS, 50, 1, 1000, 'connections')),
    pipelining: Math.round(number(values.pipelining, env.BENCH_PIPELINING, 1, 1, 100, 'pipelining')),
    targets: list(values.targets ?? env.BENCH_TARGETS ?? DEFAULT_TARGETS.join(',')),
    routes: selectRoutes(list(values.routes ?? env.BENCH_ROUTES ?? ROUTE_NAMES.join(','))),
    mode,
    profile,
    pin,
    fresh,
    retries: Math.round(number(values.retries, env.BENCH_RETRIES, 6, 0, 100, 'retries')),
    headers,
  };
}

/**
 * `--name`'s value among a script's parsed `values` as a whole number of at least `min`
 * (bench/alloc-profile.ts, bench/instructions.ts); throws naming the flag otherwise.
 */
export function wholeNumberOption(values: Readonly<Record<string, unknown>>, name: string, min: number): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} takes a whole number ≥ ${min}`);
  return n;
}

/**
 * The targets named in `list` (comma-separated names or groups of bench/targets.ts), each one
 * that answers the four routes; throws naming any that does not (a runtime target).
 */
export function routeTargetsOf(list: string): Target[] {
  const targets = selectTargets(list.split(','));
  const unrouted = targets.filter((t) => !t.routes);
  if (unrouted.length > 0) throw new Error(`not a route target: ${unrouted.map((t) => t.name).join(', ')}`);
  return targets;
}
