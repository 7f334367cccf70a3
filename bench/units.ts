/**
 * What one run measures: units, each one target on one route (`tsgi-app /stack`) or a
 * single-URL target (`proxy-tsgi`), grouped by route so that the targets of a route alternate
 * with each other, and checked before they are measured.
 *
 * @module
 */
import { type Route, type RouteName, checkAnswer } from './routes.ts';
import { BASELINE, HELLO, type Target } from './targets.ts';
import { bigBody } from './upstream.ts';

/** One thing measured. */
export interface Unit {
  /** `<target> /<route>`, or the target's name for a single-URL target. */
  name: string;
  target: Target;
  /** The route, for a route target. */
  route: Route | undefined;
  /** What is loaded. */
  url: string;
  /** Loaded with undici (a large answer). */
  large: boolean;
  /** The unit its ratios are computed against (the baseline on the same route), if measured. */
  baseline: string | undefined;
}

/** The units of a route, or of the single-URL targets (`route` undefined). */
export interface Group {
  route: RouteName | undefined;
  units: Unit[];
}

/** The name of `target` on `route`. */
export const unitName = (target: string, route?: RouteName): string => (route === undefined ? target : `${target} /${route}`);

/**
 * The units of a run, grouped: one group per route (in the order of `routes`), with every route
 * target on it, then one group for the single-URL targets. A unit's baseline, when measured too,
 * is `node` on the same route; for a single-URL target its own `baseline` (the proxies: tsgi's),
 * else `node /hello` (the same hello-world).
 */
export function unitsOf(targets: readonly Target[], routes: readonly Route[], urls: Record<string, string>): Group[] {
  const unit = (target: Target, route: Route | undefined, baseline: string): Unit => ({
    name: unitName(target.name, route?.name),
    target,
    route,
    url: route ? new URL(route.path, urls[target.name]).href : urls[target.name]!,
    large: route ? route.large === true : target.bodySize !== undefined,
    baseline,
  });
  const routed = targets.filter((t) => t.routes);
  const single = targets.filter((t) => !t.routes);
  const groups: Group[] = routes.map((route) => ({
    route: route.name,
    units: routed.map((target) => unit(target, route, unitName(BASELINE, route.name))),
  }));
  const baseOf = (name: string) => (targets.find((t) => t.name === name)?.routes ? unitName(name, 'hello') : name);
  groups.push({ route: undefined, units: single.map((target) => unit(target, undefined, baseOf(target.baseline ?? BASELINE))) });
  const names = new Set(groups.flatMap((g) => g.units.map((u) => u.name)));
  for (const u of groups.flatMap((g) => g.units)) {
    if (u.baseline === u.name || !names.has(u.baseline!)) u.baseline = undefined;
  }
  return groups.filter((g) => g.units.length > 0);
}

/**
 * Asks every unit once, with `fields` added to each request as the run adds them: the same
 * status and body (and for routes the Content-Type and `X-Mw-*` fields), or the figures would
 * compare nothing.
 *
 * @throws Error listing every unit that answered wrongly.
 */
export async function checkUnits(units: readonly Unit[], fields?: Readonly<Record<string, string>>): Promise<void> {
  const wrong: string[] = [];
  for (const unit of units) {
    const problems = unit.route ? await checkAnswer(unit.url, unit.route, fields) : await checkSingle(unit, fields);
    if (problems.length > 0) wrong.push(`${unit.name}: ${problems.join('; ')}`);
  }
  if (wrong.length > 0) throw new Error(`some targets answer wrongly, so nothing was measured:\n  ${wrong.join('\n  ')}`);
}

/** A single-URL target: 200 and {@link HELLO}, or its `bodySize` bytes of `bigBody`. */
async function checkSingle(unit: Unit, fields?: Readonly<Record<string, string>>): Promise<string[]> {
  const response = await fetch(unit.url, { headers: fields, signal: AbortSignal.timeout(5000) });
  const body = Buffer.from(await response.arrayBuffer());
  const size = unit.target.bodySize;
  const expected = size === undefined ? Buffer.from(HELLO) : bigBody(size);
  if (response.status === 200 && body.equals(expected)) return [];
  const said = size === undefined ? JSON.stringify(body.toString().slice(0, 80)) : `${body.length} bytes`;
  return [`answered ${response.status} ${said}, expected 200 ${size === undefined ? JSON.stringify(HELLO) : `${size} bytes`}`];
}
