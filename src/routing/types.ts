/**
 * The types of routes: a rule's spec, and the values its pattern gives, read from the pattern
 * text by template-literal types (`'/items/<int:id>'` → `{ id: number }`).
 *
 * @module
 */
import type { Converter } from './converters.ts';

/**
 * One rule: a pattern (`'/items/<int:id>'`), or a pattern with options.
 *
 * - `methods`: the methods it answers, a non-empty array, default `['GET']` (written in upper
 *   case; a request's method is compared as sent, RFC 9110 §9.1); `HEAD` comes with `GET`, and
 *   `OPTIONS` is answered for every rule (see `RouteMap.app`). An empty array, which would
 *   answer no request, or one that is no array of strings, is a `TypeError`.
 * - `strictSlashes`: with `true` (the map's default), a pattern ending in `/` answers a path
 *   without it with a 308 redirect to the path with it, and a pattern without the slash does
 *   not match a path with one (Werkzeug, Flask); with `false` both forms match.
 * - `mergeSlashes`: with `true` (the map's default), a path with repeated slashes that
 *   matches the rule once they are merged (`/items//3` for `/items/<int:id>`) answers a 308
 *   redirect to the merged path, and `//` in the pattern is merged (Werkzeug's
 *   `merge_slashes`); with `false` such a path does not match (404), and the pattern's `//`
 *   is kept, matched and built as written. A `path` value's own `//` is never merged.
 * - `host`: the host the rule answers on, a pattern with placeholders as the path's
 *   (`'<user>.example.com'`, `'api.example.com'`, `'localhost:8000'`; Werkzeug's
 *   `Rule(host=…)` under `host_matching`). It is matched whole, in lower case, against the
 *   request's `Host` (else `SERVER_NAME`) without a trailing dot, with its port unless the
 *   scheme's default; an IPv6 address in any written form, in the rule and in `Host`, as the
 *   one form RFC 5952 gives it (`'[0:0::2]'` matches `Host: [::2]` and builds `[::2]`; a
 *   bracketed host that is no address, `'[::1::2]'`, is a `TypeError`, as is text no `Host`
 *   holds: a space, `%`, `@`, a port past 65535, an `any` word in Unicode). Its values join the
 *   path's (`user`). A `string` placeholder matches
 *   dots too, as in Werkzeug (`a.b.example.com` gives `user` = `a.b`); placeholders see the host
 *   in lower case (`any` words in upper case are a `TypeError`). Without `host`, a rule
 *   answers on any host; at the same path, a rule with a host that matches is tried first,
 *   a host without placeholders before one with them (`api.example.com` before
 *   `<user>.example.com`, whatever the order of the rules), as Werkzeug does.
 *   `urls.build` gives a full URL when the host differs from the request's.
 */
export type RuleSpec =
  | string
  | {
      readonly path: string;
      readonly methods?: readonly string[] | undefined;
      readonly strictSlashes?: boolean | undefined;
      readonly mergeSlashes?: boolean | undefined;
      readonly host?: string | undefined;
      /**
       * Values the rule gives its endpoint's handler without a placeholder for them (Werkzeug's
       * `Rule(…, defaults={'page': 1})`): `{ path: '/users/', defaults: { page: 1 } }` next to
       * `'/users/page/<int:page>'` gives `page` = 1 at `/users/`. A URL of another rule of the
       * endpoint with the same names (and the same `host` pattern, if any) whose values equal
       * them (`/users/page/1`) answers a 308 to this rule's (`/users/`, query kept; Werkzeug's
       * `redirect_defaults`) for a method this rule answers, and `build` takes
       * this rule when the values given leave them out or equal them (compared with `===`).
       * A name may not be one of the rule's placeholders.
       */
      readonly defaults?: Readonly<Record<string, unknown>> | undefined;
      /**
       * Answer a 308 Permanent Redirect instead of calling a handler (Werkzeug's `redirect_to`):
       * a path template (`'/items/<id>'`, `<name>` being the rule's placeholder, written by its
       * converter as `build` does) under the request's `SCRIPT_NAME`, the request's query kept;
       * or a function of the rule's values answering such a path, percent-encoded (the request's
       * query kept unless it has its own `?` or a `#`), or a full `http:`/`https:` URL, used as
       * it is (another scheme, `javascript:`, is refused with a 400, as by every redirect).
       * An endpoint whose rules all redirect needs no handler.
       */
      readonly redirectTo?: string | ((values: Readonly<Record<string, unknown>>) => string) | undefined;
    };

/**
 * One route: a rule (see {@link RuleSpec}), or several rules for one endpoint (Werkzeug's
 * rules sharing an endpoint, Flask's stacked `@app.route`): `[{ path: '/users/', defaults:
 * { page: 1 } }, '/users/page/<int:page>']`. They are matched each in its place among the
 * map's rules; `build` tries them in Werkzeug's order (those answering `GET` first, those with
 * `redirectTo` last, then more placeholders and defaults first, else as written) and takes the
 * first whose placeholders all have a value and whose defaults the values leave out or equal.
 */
export type RouteSpec = RuleSpec | readonly RuleSpec[];

/** The rules of a {@link RouteSpec}, one by one (a union). */
export type RulesOf<S> = S extends readonly (infer One)[] ? One : S;

/** The pattern of a {@link RouteSpec} (of each of its rules: a union). */
export type PatternOf<S> = RulesOf<S> extends infer One ? (One extends string ? One : One extends { readonly path: infer P extends string } ? P : never) : never;

/** The host pattern of a {@link RouteSpec} (`''` without one; of each of its rules: a union). */
export type HostOf<S> = RulesOf<S> extends infer One ? (One extends { readonly host: infer H extends string } ? H : '') : never;


/** Custom converters by name, as `RouteMap`'s `converters` option takes them. */
export type ConverterMap = Readonly<Record<string, Converter<any>>>;

/** The value types of the built-in converters. */
interface BuiltinValues {
  default: string;
  string: string;
  int: number;
  float: number;
  path: string;
  uuid: string;
}

/** The value type of the converter named `N` (custom converters first; `int(min=1)` is `int`'s). */
type ValueOf<N extends string, C extends ConverterMap> = N extends keyof C
  ? C[N] extends Converter<infer T>
    ? T
    : never
  : N extends `any(${string})`
    ? string
    : N extends `${infer Name}(${string})`
      ? ValueOf<Name, C>
      : N extends keyof BuiltinValues
        ? BuiltinValues[N]
        : unknown;

/**
 * One placeholder's entry: `int:id` → `{ id: number }`, `name` → `{ name: string }` (the
 * `default` converter's type: a custom `default` wins, as at run time).
 */
type Entry<Inside extends string, C extends ConverterMap> = Inside extends `${infer Conv}:${infer Name}`
  ? { [K in Name]: ValueOf<Conv, C> }
  : { [K in Inside]: ValueOf<'default', C> };

/**
 * The entries of the placeholders in `P`. A placeholder with arguments ends at the `>` after
 * its `):name`, as the pattern is read at run time, so arguments may hold `:`, `>`, `(` or
 * quotes (`<any('a:b', c>d):w>`), and a quoted word `):` (`<any('a):b', c):w>`); without
 * arguments, at the first `>`.
 */
type Entries<P extends string, C extends ConverterMap> = P extends `${string}<${infer After}`
  ? After extends `${infer Conv}(${infer Tail}`
    ? Conv extends `${string}${'<' | '>' | ':' | '/'}${string}`
      ? Simple<After, C>
      : WithArgs<Conv, '', Tail, After, C>
    : Simple<After, C>
  : {};

/**
 * The entry of a placeholder `<Conv(…` whose arguments so far are `Args` and whose text after
 * them is `Tail`: the arguments end at the first `):` followed by a name and `>` (a `):` before
 * it is inside a quoted word); none: `After` read as a placeholder without arguments.
 */
type WithArgs<Conv extends string, Args extends string, Tail extends string, After extends string, C extends ConverterMap> =
  Tail extends `${infer More}):${infer Name}>${infer Rest}`
    ? IsName<Name> extends true
      ? { [K in Name]: ValueOf<`${Conv}(${Args}${More})`, C> } & Entries<Rest, C>
      : WithArgs<Conv, `${Args}${More}):`, `${Name}>${Rest}`, After, C>
    : Simple<After, C>;

/** The characters of a placeholder's name after its first (`\w`). */
type NameChar = Chars<'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_'>;
type Chars<S extends string, Found extends string = never> = S extends `${infer H}${infer T}` ? Chars<T, Found | H> : Found;

/** Whether `N` is a placeholder name as the pattern is read (`[A-Za-z_]\w*`). */
type IsName<N extends string> = N extends `${infer H}${infer T}` ? (H extends Exclude<NameChar, Digit> ? IsWord<T> : false) : false;
type IsWord<N extends string> = N extends `${infer H}${infer T}` ? (H extends NameChar ? IsWord<T> : false) : true;
type Digit = Chars<'0123456789'>;

/** The entries of `After` (the text after a `<`) whose placeholder has no arguments, then the rest's. */
type Simple<After extends string, C extends ConverterMap> = After extends `${infer Inside}>${infer Rest}` ? Entry<Inside, C> & Entries<Rest, C> : {};

/**
 * The values a pattern's placeholders give, typed by converter: `RouteValues<'/items/<int:id>/<path:rest>'>`
 * is `{ id: number; rest: string }`.
 */
export type RouteValues<P extends string, C extends ConverterMap = {}> = { [K in keyof Entries<P, C>]: Entries<P, C>[K] };

/**
 * A value `build` puts in the query: repeated for an array, left out when `null` or
 * `undefined` (in an array too). Any other value (an object, a `Date`) is a `TypeError`.
 */
export type QueryValue = QueryItem | null | undefined | ReadonlyArray<QueryItem | null | undefined>;

/** One value of the query, as `String` writes it. */
type QueryItem = string | number | boolean | bigint;

/** The values of `build` for a route: its placeholders' values, then any extra ones for the query. */
export type BuildValues<V> = V & Readonly<Record<string, unknown>>;

/** The endpoints of a route table. */
export type EndpointOf<R> = Extract<keyof R, string>;

/** A default's type as a handler sees it: a literal widened (`1` is `number`), anything else as it is. */
type Widened<T> = T extends string ? string : T extends number ? number : T extends boolean ? boolean : T extends bigint ? bigint : T;

/** The `defaults` of rule `S` (`{}` without), literals widened. */
type DefaultsOf<S> = { -readonly [K in keyof DefaultValues<S>]: Widened<DefaultValues<S>[K]> };

/** The `defaults` of rule `S` as given (`{}` without). */
type DefaultValues<S> = S extends { readonly defaults: infer D extends Readonly<Record<string, unknown>> } ? D : {};

/** The values one rule `S` gives: its host's and path's placeholders' and its defaults. */
type RuleValues<S, C extends ConverterMap> = RouteValues<`${HostOf<S>}${PatternOf<S>}`, C> & DefaultsOf<S>;

/** The keys of any member of union `U`. */
type AnyKey<U> = U extends unknown ? keyof U : never;

/**
 * One object type for a union of rules' values: a name every rule gives is required, with
 * the union of its types; one only some give is optional (`['/a/', '/a/<int:n>']` gives
 * `{ n?: number }`).
 */
type Merged<U> = [U] extends [never]
  ? {}
  : { [K in Extract<keyof U, string>]: U extends unknown ? (K extends keyof U ? U[K] : never) : never } & {
      [K in Exclude<AnyKey<U>, keyof U> & string]?: U extends unknown ? (K extends keyof U ? U[K] : never) : never;
    };

/** Flattens an intersection into one object type, for readable hovers. */
type Flat<T> = { [K in keyof T]: T[K] };

/**
 * The values of endpoint `E` of route table `R`, as its handler gets them: its host's and
 * path's placeholders' and its defaults; with several rules, a name all of them give is
 * required, one only some give optional (rules that redirect, `redirectTo`, reach no handler
 * and are left out).
 */
export type ValuesOf<R, E extends keyof R, C extends ConverterMap> = Flat<Merged<RulesValues<Exclude<RulesOf<R[E]>, Redirecting>, C>>>;

/** A rule that redirects (`redirectTo`) instead of reaching a handler. */
type Redirecting = { readonly redirectTo: string | ((...args: never[]) => string) };

/** Each rule's values, distributed over the union of rules. */
type RulesValues<S, C extends ConverterMap> = S extends unknown ? Flat<RuleValues<S, C>> : never;

/**
 * The values `build` takes for endpoint `E`: for one of its rules, its placeholders' (required)
 * and its defaults (left out, or the very value: `page?: 1`), a union over its rules.
 */
export type BuildValuesOf<R, E extends keyof R, C extends ConverterMap> = RulesBuildValues<RulesOf<R[E]>, C>;

type RulesBuildValues<S, C extends ConverterMap> = S extends unknown
  ? Flat<RouteValues<`${HostOf<S>}${PatternOf<S>}`, C> & { -readonly [K in keyof DefaultValues<S>]?: DefaultValues<S>[K] }>
  : never;

/** The endpoints of `R` that need a handler: those with a rule that does not redirect (`redirectTo`). */
export type HandledEndpointOf<R> = { [E in EndpointOf<R>]: RulesOf<R[E]> extends Redirecting ? never : E }[EndpointOf<R>];
