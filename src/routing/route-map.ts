/**
 * The route map: named rules with typed placeholders, matched by a segment trie, and the
 * gateway app that dispatches to a handler per endpoint (Werkzeug's `routing.Map`).
 *
 * @module
 */
import type { App, Environ } from '../gateway/types.ts';
import { defineEnvironKey, environOf } from '../gateway/environ-key.ts';
import { asciiHostName, comparableHostName, splitHost, withPort } from '../http/host.ts';
import { Response } from '../response/response.ts';
import { Request } from '../request/request.ts';
import type { HandlerResult } from '../request/application.ts';
import { type Converter, BUILTIN_CONVERTERS } from './converters.ts';
import type { CompiledRule } from './rule.ts';
import { type Lookup, Matcher } from './matcher.ts';
import { BUILD_OPTIONS, type BuildArgs, type RouteTable, UrlAdapter, allowHeader } from './adapter.ts';
import { fragment } from './build.ts';
import { buildFor, compileEndpoint, rulesOf } from './endpoint.ts';
import type { BuildValuesOf, ConverterMap, EndpointOf, HandledEndpointOf, RouteSpec, RuleSpec, ValuesOf } from './types.ts';
import { type OptionNames, booleanOption, checkOptions, isPlainObject, kindOf } from '../gateway/option-names.ts';

/** Options of `new RouteMap(routes, options)`. */
export interface RouteMapOptions<C extends ConverterMap> {
  /**
   * Custom converters by name (`{ slug }` makes `<slug:name>`); they win over built-ins, and
   * one named `default` is the converter of a placeholder written without one (`<name>`), its
   * values typed by it, as Werkzeug's `Map(converters={'default': …})`.
   */
  converters?: C | undefined;
  /** The default of each rule's `strictSlashes`: `true` (Werkzeug's default). */
  strictSlashes?: boolean | undefined;
  /**
   * The default of each rule's `mergeSlashes`: `true` (Werkzeug's `Map(merge_slashes=True)`,
   * its default since 1.0): a path with repeated slashes (`/a//b`) that matches a rule once
   * they are merged is redirected there (308, query kept), and a pattern's own `//` is merged.
   */
  mergeSlashes?: boolean | undefined;
}

/** Every option of {@link RouteMapOptions}, checked at construction (`checkOptions`); `tsc` fails when it and the type differ. */
const ROUTE_MAP_OPTIONS = { converters: true, strictSlashes: true, mergeSlashes: true } as const satisfies OptionNames<RouteMapOptions<ConverterMap>>;

/**
 * The match, under `tsgi.route_args` (`routeArgsKey`) from the moment the handler is called:
 * the environ is shared, so a middleware above the map reads it once the app answered, or
 * when its body is over (a metrics layer labelling requests by route). Absent when the map
 * answered by itself (404, 405, the `OPTIONS` 204, a redirect).
 */
export interface RouteArgs {
  /** The endpoint's name, the route table's key (`'item'`). */
  endpoint: string;
  /**
   * The rule's path pattern as written (`'/items/<int:id>'`), without the mount's prefix
   * (`SCRIPT_NAME`) or the rule's `host`: Werkzeug's `request.url_rule.rule`, Express's
   * `req.route.path`, a bounded label for metrics and traces where the raw path is not.
   */
  rule: string;
  /** The placeholders' converted values (`{ id: 3 }`). */
  values: Record<string, unknown>;
}

/** `environ['tsgi.route_args']`: what the route map matched (WSGI's `wsgiorg.routing_args`). */
export const routeArgsKey = defineEnvironKey<RouteArgs>('tsgi.route_args');

/**
 * A handler of one endpoint: the request, the values of its pattern (typed from it), and the
 * map bound to the request for building URLs. It answers what a `Request.application` handler
 * answers (a `Response`, an `HTTPException`, a string, another app).
 */
export type RouteHandler<V, R, C extends ConverterMap = {}> = (req: Request, values: V, urls: UrlAdapter<R, C>) => HandlerResult | Promise<HandlerResult>;

/**
 * A handler for every endpoint of route table `R`, but those whose rules all redirect
 * (`redirectTo`). With several rules, the values are those any of them gives: a name all give
 * is required, one only some give optional.
 */
export type RouteHandlers<R, C extends ConverterMap = {}> = { [E in HandledEndpointOf<R>]: RouteHandler<ValuesOf<R, E, C>, R, C> };

/**
 * Whether `routes` is a table `Object.entries` reads whole: an object literal (or one without a
 * prototype), or a class's instance holding its routes as own fields (`new Routes()` with
 * `home = '/'`), which `new RouteMap` read so before it checked; not `null`, a primitive, a
 * function, an array, or a `Map` or other iterable (whose entries are no own fields: a map of no
 * route), nor an `Object.create(base)`, whose inherited routes would be left out unsaid.
 */
function isRouteTable(routes: unknown): boolean {
  if (isPlainObject(routes)) return true;
  if (typeof routes !== 'object' || routes === null || Array.isArray(routes) || Symbol.iterator in routes) return false;
  const proto = Object.getPrototypeOf(routes) as object;
  return Object.hasOwn(proto, 'constructor') && typeof (proto as { constructor: unknown }).constructor === 'function';
}

/**
 * Named routes with typed placeholders (Werkzeug's `Map` of `Rule`s): each key is an
 * endpoint, each value its pattern or `{ path, methods, strictSlashes, mergeSlashes, host,
 * defaults, redirectTo }` (see {@link RuleSpec}), or an array of them, several rules for the
 * endpoint (see {@link RouteSpec}). Placeholders are `<converter:name>`: `string` (the default, `<name>`),
 * `int`, `float`, `path` (slashes included), `uuid`, `any(a,b,c)`, and custom converters.
 * `int`, `float` and `string` take Werkzeug's arguments (`<int(min=1):page>`,
 * `<int(fixed_digits=4, signed=True):n>`, `<float(max=1.0):x>`, `<string(length=2):lang>`):
 * a value outside them does not match, and `build` refuses it.
 * The values reach handlers typed from the pattern text: `'/items/<int:id>'` gives
 * `{ id: number }`.
 *
 * Matching walks a trie of path segments (static segments first, then placeholders by
 * converter weight), so its cost grows with the depth of the path, not the number of rules.
 * `routes.app(handlers)` is the gateway app; `routes.bind(req)` the bound {@link UrlAdapter}
 * for matching and building by hand.
 *
 * @example
 * ```ts
 * const routes = new RouteMap({
 *   index: '/',
 *   item: '/items/<int:id>',
 *   edit: { path: '/items/<int:id>/edit', methods: ['GET', 'POST'] },
 * });
 * export const app = routes.app({
 *   index: (req, _, urls) => new Response(`<a href="${urls.build('item', { id: 3 })}">3</a>`, { contentType: 'text/html' }),
 *   item: (req, { id }) => Response.json({ id }),   // id: number
 *   edit: (req, { id }, urls) => redirect(urls.build('item', { id })),
 * });
 * ```
 * @throws TypeError (from the constructor) for a pattern that does not start with `/`, an
 *   unknown converter, converter arguments it does not take (that cannot be read, an unknown
 *   keyword, a wrong type: `<int(min='1'):n>`, any for `path`, `uuid` or a custom converter),
 *   a placeholder named twice, `any` words in upper case or in Unicode in a `host` (matched in
 *   lower case and in its ASCII form), a `host` holding what no `Host` field can (`'api.example.com '`,
 *   `'user@example.com'`, `'localhost:80000'`), a
 *   `methods` that is not a non-empty array of method names (`[]` would answer no request, as
 *   would `'POST'`, a string), an invalid method, an endpoint with an empty array of rules,
 *   `defaults` that name one of the rule's placeholders, a `redirectTo` template that does not
 *   start with `/` or names no placeholder of the rule; a segment in Express/Hono syntax
 *   (`'/posts/:id'`, `'/files/*'`: write `'/posts/<id>'`, `'/files/<path:rest>'`), which would
 *   be matched as literal text; a `?` or `#` in a pattern (`'/search?q=<q>'`), which the path
 *   it is matched against never holds (read the query with `req.query`; `build` puts values
 *   the pattern does not use in it); a percent-encoded escape in a pattern's or template's text
 *   (`'/caf%C3%A9'`: rules match the decoded path, write `'/café'`); a `strictSlashes` or `mergeSlashes` (of the map or of a rule)
 *   that is not a boolean; a rule matching the same requests as one before it (the same
 *   pattern but for its placeholders' names, the same host, a method both answer but `HEAD` and
 *   `OPTIONS`: `{ list: '/items', create: '/items' }`), which would never answer (Werkzeug 3.2's
 *   `DuplicateRuleError`); options that are not a plain object or hold an unknown key; `routes`
 *   that are not an object of endpoints (`null`, a string, an array of patterns, whose endpoints
 *   would be named `'0'`, `'1'`…, a `Map`; a plain object or a class's instance with the routes
 *   as its own fields is taken).
 */
export class RouteMap<const R extends Readonly<Record<string, RouteSpec>>, const C extends ConverterMap = {}> {
  /** The route table as given. */
  readonly routes: R;
  readonly #table: RouteTable;

  constructor(routes: R, options: RouteMapOptions<C> = {}) {
    if (!isRouteTable(routes)) {
      throw new TypeError(`new RouteMap: the routes are an object from endpoint name to pattern ({ home: '/', item: '/items/<int:id>' }), not ${kindOf(routes)}`);
    }
    checkOptions('new RouteMap', options, ROUTE_MAP_OPTIONS);
    this.routes = routes;
    const converters = { ...BUILTIN_CONVERTERS, ...(options.converters as Record<string, Converter<unknown>> | undefined) };
    const matcher = new Matcher();
    const byEndpoint = new Map<string, readonly CompiledRule[]>();
    const defaults = {
      strictSlashes: booleanOption('new RouteMap', 'strictSlashes', options.strictSlashes, true),
      mergeSlashes: booleanOption('new RouteMap', 'mergeSlashes', options.mergeSlashes, true),
    };
    for (const [endpoint, spec] of Object.entries(routes)) {
      const { written, build } = compileEndpoint(endpoint, spec, converters, defaults);
      for (const rule of written) matcher.add(rule);
      byEndpoint.set(endpoint, build);
    }
    this.#table = { matcher, byEndpoint };
  }

  /** The map bound to a request (or its environ): matching its path, building URLs under its `SCRIPT_NAME`. */
  bind(req: Request | Environ): UrlAdapter<R, C> {
    return new UrlAdapter(this.#table, req instanceof Request ? req.environ : environOf(req));
  }

  /**
   * What the map finds for a path (a `PATH_INFO`) and method (case-sensitive, as RFC 9110
   * §9.1 says: `GET`, not `get`), without a request: `match`
   * with the rule and typed-by-converter values, `method` with the methods the path's rules
   * answer, `slash` when a strict rule with a trailing slash matches the path with it (and
   * answers the method, or the path's own rules, if any, lack it; a static segment's slash
   * rule is reached before placeholder rules: `/settings` for `/settings/` and `/<username>`;
   * `OPTIONS`, which every rule answers, is led where any method is), `merge` with the path to redirect to
   * when only the path with its repeated slashes merged matches (see `mergeSlashes`),
   * `redirect` with `to` when the rule matched redirects (its `redirectTo`, or another rule's
   * `defaults` equal to its values; see {@link RuleSpec}), `none`.
   * Rules with a `host` take part only when `host` (`name[:port]`, a `Host` field's value) is
   * given and matches it, read as a request's `Host` is (any case, a trailing dot dropped:
   * `Alice.Example.com.` is `alice.example.com`; a name in Unicode in its ASCII form; an IPv6
   * address in its RFC 5952 form, `[0:0::2]` is `[::2]`). With `scheme` (`req.scheme`: `http`,
   * `https`, any case), its default port is left out, as `routes.bind(req).lookup()` and the
   * map's app leave it out (Werkzeug's `get_host`): `alice.example.com:80` with `http` is
   * `alice.example.com`, with `https` it keeps its port. Without `scheme`, no port is a
   * default one and the host is matched as given, port included (Werkzeug's
   * `Map.bind(server_name)`): `alice.example.com:80` matches no rule for `alice.example.com`.
   * `scheme` without `host` changes nothing.
   */
  lookup(method: string, pathInfo: string, host?: string, scheme?: string): Lookup {
    const matched = host === undefined ? null : matchedHost(host, scheme?.toLowerCase() ?? '');
    return this.#table.matcher.lookup(pathInfo, method, matched);
  }

  /**
   * The path of `endpoint` from the root (no `SCRIPT_NAME`; inside a request use
   * `urls.build`, which has it), values the pattern does not use in the query, `anchor` as
   * the fragment.
   *
   * @throws TypeError for an unknown endpoint (naming the one it likely misspells), a missing value (naming every placeholder left
   *   without one), or one its converter refuses;
   *   for `external: true` or a rule with a `host`, which need a request's scheme and host
   *   (`routes.bind(req).build`); for options that are not a plain object or hold an unknown
   *   key (`RouteMap.build: unknown option "externl": did you mean "external"?`).
   */
  build<E extends EndpointOf<R>>(endpoint: E, ...[values, options]: BuildArgs<BuildValuesOf<R, E, C>>): string {
    checkOptions('RouteMap.build', options, BUILD_OPTIONS, 'third');
    const rules = rulesOf(this.#table.byEndpoint, endpoint);
    const built = options?.external ? undefined : buildFor(endpoint, rules, (values ?? {}) as Record<string, unknown>, (rule) => rule.host === null);
    if (built === undefined || built.rule.host !== null) {
      throw new TypeError(`routes.build(${JSON.stringify(endpoint)}) has no request to take a host from: use routes.bind(req).build for an external URL or a rule with a host`);
    }
    return built.path + built.query + fragment(options?.anchor);
  }

  /**
   * The gateway app dispatching each request to the handler of its endpoint, with the values
   * and the bound map (`urls`); mountable under `mount()`, URLs built with its prefix. It
   * answers by itself:
   *
   * - 404 Not Found when no rule matches the path;
   * - 405 Method Not Allowed with `Allow` when rules match the path but not the method;
   * - `OPTIONS` with 204 No Content and `Allow`, unless a rule lists `OPTIONS`; as every rule
   *   answers it (Flask), it is redirected where any method would be (`/settings` for
   *   `/settings/` and `/<username>`); else the first rule matching the path that lists it
   *   answers (a catch-all `/<path:rest>` for `OPTIONS` included);
   * - `HEAD` through the `GET` handler (the server sends no body);
   * - 308 Permanent Redirect to the path with its trailing slash for a strict rule that has
   *   one (query kept);
   * - 308 Permanent Redirect to the path with its repeated slashes merged (`/a//b` → `/a/b`,
   *   query kept) when only that matches a rule, unless the rule has `mergeSlashes: false`;
   * - 308 Permanent Redirect for a rule with `redirectTo` (to its target), and for a rule whose
   *   values equal the `defaults` of another rule of its endpoint (to that rule's URL, query
   *   kept: Werkzeug's `redirect_defaults`); `OPTIONS` gets it where every method of the path
   *   does, else the 204 (a `POST` handler next to a `GET` alias: a preflight passes).
   *
   * `handlers` has one for each endpoint but those whose rules all redirect.
   *
   * A rule with a `host` answers only on that host (see {@link RouteSpec}). The match is also
   * in the environ under {@link routeArgsKey} (`tsgi.route_args`).
   */
  app(handlers: RouteHandlers<R, C>): App {
    for (const [endpoint, rules] of this.#table.byEndpoint) {
      if (rules.every((rule) => rule.redirectTo !== null)) continue;
      const handler = (handlers as Record<string, unknown>)[endpoint];
      // An endpoint `toString` is not handled by Object.prototype's (a class's methods still are handlers).
      if (typeof handler !== 'function' || handler === (Object.prototype as unknown as Record<string, unknown>)[endpoint]) {
        throw new TypeError(`no handler for the route ${JSON.stringify(endpoint)}`);
      }
    }
    const byName = handlers as unknown as Record<string, RouteHandler<unknown, R, C>>;
    return Request.application((req) => {
      const urls = this.bind(req);
      const found = urls.lookup();
      if (found.kind === 'match') {
        routeArgsKey.set(req, { endpoint: found.rule.endpoint, rule: found.rule.pattern, values: found.values });
        return byName[found.rule.endpoint]!(req, found.values, urls);
      }
      if (found.kind === 'method' && req.method === 'OPTIONS') {
        return new Response(null, { status: 204, headers: { Allow: allowHeader(found.allowed).join(', ') } });
      }
      return urls.failure(found);
    });
  }
}

/**
 * The bound adapter type of a route map, for helpers that take `urls`:
 * `function nav(urls: UrlsOf<typeof routes>) { return urls.build('index'); }`.
 */
export type UrlsOf<M> = M extends RouteMap<infer R, infer C> ? UrlAdapter<R, C> : never;

/**
 * `host` (`name[:port]`) as host rules match it: the name lower case without a trailing dot,
 * in its ASCII form when written in Unicode (`bücher.example` → `xn--bcher-kva.example`), an
 * IPv6 literal in its RFC 5952 form (`[0:0::2]` → `[::2]`; see `comparableHostName`), the
 * port left out when it is the default of `scheme` (lower case; `''` for none).
 */
function matchedHost(host: string, scheme: string): string {
  const [written, port] = splitHost(host);
  const name = asciiHostName(written) ?? written;
  if (port !== null) return withPort(comparableHostName(name), port, scheme);
  // No port, or one that is none (`host:abc`): that text stays, to match no rule.
  return written.length === host.length ? comparableHostName(name) : host.toLowerCase();
}
