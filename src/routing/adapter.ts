/**
 * A route map bound to one request (Werkzeug's `MapAdapter`): matching its path, building URLs
 * under its `SCRIPT_NAME`.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';
import { comparableHostName, withPort } from '../http/host.ts';
import { quotePath } from '../http/url.ts';
import { quotedScriptName } from '../http/raw-path.ts';
import { HTTPMethodNotAllowed, HTTPNotFound } from '../exceptions/client-errors.ts';
import { HTTPPermanentRedirect } from '../exceptions/redirects.ts';
import { Request } from '../request/request.ts';
import type { CompiledRule } from './rule.ts';
import type { Lookup, Matcher } from './matcher.ts';
import { buildHost, fragment } from './build.ts';
import { buildFor, rulesOf } from './endpoint.ts';
import { isFullUrl } from './redirect-to.ts';
import type { BuildValues, BuildValuesOf, ConverterMap, EndpointOf, HandledEndpointOf, ValuesOf } from './types.ts';
import { type OptionNames, checkOptions, truthyOption } from '../gateway/option-names.ts';

/** The rules of a map, as its adapters use them. */
export interface RouteTable {
  readonly matcher: Matcher;
  /** Each endpoint's rules, in build order (see `compileEndpoint`). */
  readonly byEndpoint: ReadonlyMap<string, readonly CompiledRule[]>;
}

/** Options of {@link UrlAdapter.build}. */
export interface BuildOptions {
  /** A full URL (scheme and host of the request) instead of a path; default false (Werkzeug's `force_external`). */
  external?: boolean | undefined;
  /**
   * A fragment, appended as `#anchor`: percent-encoded as UTF-8 but for the characters a
   * fragment may hold (RFC 3986 §3.5, `/` and `?` included, as Flask's `_anchor`): `/users/3`
   * gives `#/users/3`, `a b#c` `#a%20b%23c`.
   */
  anchor?: string | undefined;
}

/** Every option of {@link BuildOptions}, checked by `urls.build` and `RouteMap.build` (`checkOptions`); `tsc` fails when it and the type differ. */
export const BUILD_OPTIONS = { external: true, anchor: true } as const satisfies OptionNames<BuildOptions>;

/**
 * What {@link UrlAdapter.match} found: the endpoint and its typed values (a union over the
 * endpoints but those whose rules all redirect).
 */
export type RouteMatch<R, C extends ConverterMap = {}> = {
  [E in HandledEndpointOf<R>]: {
    /** The matched rule's endpoint, as given to the rule. */
    endpoint: E;
    /** The placeholders' values, converted by their converters (`<int:id>` → a number), and the rule's `defaults`, by name. */
    values: ValuesOf<R, E, C>;
  };
}[HandledEndpointOf<R>];

/** The arguments of `build` for endpoint `E`: values required when its pattern has placeholders. */
export type BuildArgs<V> = {} extends V
  ? [values?: BuildValues<V>, options?: BuildOptions]
  : [values: BuildValues<V>, options?: BuildOptions];

/**
 * A route map bound to a request, as handlers receive it (`urls`): `urls.build('item',
 * { id: 3 })` gives `/items/3` under the request's `SCRIPT_NAME` (so a mounted app builds its
 * own prefix into every URL), `urls.match()` finds the endpoint of the request's path.
 * Werkzeug's `MapAdapter`; got from `routes.bind(req)`.
 */
export class UrlAdapter<R, C extends ConverterMap = {}> {
  readonly #table: RouteTable;
  readonly #req: Request;
  #host: string | undefined;

  /** Made by `routes.bind(req)` (and for each request by `routes.app`), not by hand. */
  constructor(table: RouteTable, environ: Environ) {
    this.#table = table;
    this.#req = new Request(environ);
  }

  /**
   * The request's host as rules with a `host` match it (Werkzeug's `MapAdapter.server_name`
   * under `host_matching`, from `get_host`): the `Host` header (else `SERVER_NAME`), in lower
   * case and without a trailing dot (as `mount` compares hosts), an IPv6 literal in its RFC
   * 5952 form (`[0:0::2]` is `[::2]`), with its port unless the scheme's default
   * (`example.com`, `example.com:8080`; `Example.com.:80` is `example.com`).
   */
  get host(): string {
    if (this.#host === undefined) {
      const req = this.#req;
      // The default port left out, as in `hostUrl`.
      this.#host = withPort(comparableHostName(req.hostname), req.port, req.scheme);
    }
    return this.#host;
  }

  /**
   * The URL of `endpoint` with `values`: its path under the request's `SCRIPT_NAME`
   * (`/app/items/3`), values the pattern does not use in the query (`?page=2`), a full URL
   * with `external`. For a rule with a `host` other than the request's ({@link UrlAdapter.host}),
   * a full URL on that host, with the request's scheme (`https://bob.example.com/app/`), as
   * Werkzeug builds across hosts. With several rules for the endpoint, the first that the
   * values suit (each placeholder given, each default left out or equal; those answering `GET`
   * first, those with `redirectTo` last, then more placeholders and defaults first), on the
   * request's host if one is, as
   * Werkzeug's `url_for`: `build('users')` and `build('users', { page: 1 })` give `/users/`
   * for `[{ path: '/users/', defaults: { page: 1 } }, '/users/page/<int:page>']`, `{ page: 2 }`
   * `/users/page/2`.
   *
   * @throws TypeError for an unknown endpoint (naming the one it likely misspells), a missing value (naming every placeholder, the
   *   host's too, left without one), a value its converter refuses
   *   (with several rules, when no other rule taking that name builds it: a refused value is
   *   never put in another rule's query), a host value that makes no valid host, values no
   *   rule of the endpoint takes, an `external` that is truthy but not `true` (`'false'`), or
   *   options that are not a plain object or hold an unknown key
   *   (`urls.build: unknown option "anchors": did you mean "anchor"?`).
   */
  build<E extends EndpointOf<R>>(endpoint: E, ...[values, options]: BuildArgs<BuildValuesOf<R, E, C>>): string {
    checkOptions('urls.build', options, BUILD_OPTIONS, 'third');
    const rules = rulesOf(this.#table.byEndpoint, endpoint);
    const given = (values ?? {}) as Record<string, unknown>;
    const built = buildFor(endpoint, rules, given, (r) => r.host === null || buildHost(r, given) === this.host);
    const rule = built.rule;
    const path = `${quotedScriptName(this.#req.environ)}${built.path}${built.query}${fragment(options?.anchor)}`;
    // `'false'` is truthy: checked with one comparison, on the branch a truthy value takes anyway.
    const external = truthyOption('urls.build', 'external', options?.external);
    if (rule.host !== null) {
      const host = buildHost(rule, given);
      return external || host !== this.host ? `${this.#req.scheme}://${host}${path}` : path;
    }
    return external ? `${this.#req.hostUrl}${path}` : path;
  }

  /**
   * What the map finds for `pathInfo` and `method` (default the request's), on the request's
   * host ({@link UrlAdapter.host}).
   */
  lookup(method: string = this.#req.method, pathInfo: string = this.#req.pathInfo): Lookup {
    const matcher = this.#table.matcher;
    return matcher.lookup(pathInfo, method, matcher.hostRules ? this.host : null);
  }

  /**
   * The endpoint and values for `pathInfo` and `method`, by default the request's (Werkzeug's
   * `MapAdapter.match`).
   *
   * @throws HTTPNotFound when no rule matches the path; HTTPMethodNotAllowed (with `Allow`,
   *   `OPTIONS` included) when rules match the path but not the method;
   *   HTTPPermanentRedirect (308, the request's query kept) to the path matched (`pathInfo`
   *   when given, under the request's `SCRIPT_NAME`) with a trailing slash when only a strict
   *   rule with one matches, or with its repeated slashes merged when only that matches a rule
   *   (`mergeSlashes`); HTTPPermanentRedirect to a rule's `redirectTo`, or to the URL of another
   *   rule of the endpoint whose `defaults` equal the values (see `RuleSpec`).
   */
  match(method?: string, pathInfo: string = this.#req.pathInfo): RouteMatch<R, C> {
    const found = this.lookup(method, pathInfo);
    if (found.kind === 'match') return { endpoint: found.rule.endpoint, values: found.values } as RouteMatch<R, C>;
    throw this.failure(found, pathInfo);
  }

  /**
   * The exception a failed lookup answers with (see {@link UrlAdapter.match}); `pathInfo` is
   * the path that was looked up (default the request's), which a `slash` redirect appends its
   * `/` to (a `merge` redirect leads to its own `path`).
   */
  failure(found: Exclude<Lookup, { kind: 'match' }>, pathInfo: string = this.#req.pathInfo): HTTPNotFound | HTTPMethodNotAllowed | HTTPPermanentRedirect {
    if (found.kind === 'method') return new HTTPMethodNotAllowed(allowHeader(found.allowed));
    if (found.kind === 'slash') return this.#redirect(quotePath(`${pathInfo}/`));
    if (found.kind === 'merge') return this.#redirect(quotePath(found.path));
    if (found.kind === 'redirect') return isFullUrl(found.to) ? new HTTPPermanentRedirect(found.to) : this.#redirect(found.to);
    return new HTTPNotFound();
  }

  /**
   * The 308 to `path` (percent-encoded) under the request's `SCRIPT_NAME`, the request's query
   * kept unless `path` has its own query or a fragment (a `redirectTo` function's).
   */
  #redirect(path: string): HTTPPermanentRedirect {
    const req = this.#req;
    const query = /[?#]/.test(path) ? '' : req.queryString;
    return new HTTPPermanentRedirect(`${req.hostUrl}${quotedScriptName(req.environ)}${path}${query ? `?${query}` : ''}`);
  }

  /** The methods the rules for `pathInfo` answer (`OPTIONS` included), sorted; empty when none match. */
  allowedMethods(pathInfo: string = this.#req.pathInfo): string[] {
    const found = this.lookup('', pathInfo);
    return found.kind === 'method' ? allowHeader(found.allowed) : [];
  }
}

/** The `Allow` list: the methods, `OPTIONS` added, sorted. */
export function allowHeader(methods: Iterable<string>): string[] {
  return [...new Set([...methods, 'OPTIONS'])].sort();
}
