/**
 * The types of routes: a rule's spec, and the values its pattern gives, read from the pattern
 * text by template-literal types (`'/items/<int:id>'` → `{ id: number }`).
 *
 * @module
 */
import type { Converter } from './converters.ts';

/**
 * One route: a pattern (`'/items/<int:id>'`), or a pattern with options.
 *
 * - `methods`: the methods it answers, default `['GET']` (written in upper case; a request's
 *   method is compared as sent, RFC 9110 §9.1); `HEAD` comes with `GET`, and
 *   `OPTIONS` is answered for every rule (see `RouteMap.app`).
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
 *   scheme's default; its values join the path's (`user`). A `string` placeholder matches
 *   dots too, as in Werkzeug (`a.b.example.com` gives `user` = `a.b`). Without `host`, a rule
 *   answers on any host; at the same path, a rule with a host that matches is tried first,
 *   a host without placeholders before one with them (`api.example.com` before
 *   `<user>.example.com`, whatever the order of the rules), as Werkzeug does.
 *   `urls.build` gives a full URL when the host differs from the request's.
 */
export type RouteSpec =
  | string
  | {
      readonly path: string;
      readonly methods?: readonly string[] | undefined;
      readonly strictSlashes?: boolean | undefined;
      readonly mergeSlashes?: boolean | undefined;
      readonly host?: string | undefined;
    };

/** The pattern of a {@link RouteSpec}. */
export type PatternOf<S> = S extends string ? S : S extends { readonly path: infer P extends string } ? P : never;

/** The host pattern of a {@link RouteSpec} (`''` without one). */
export type HostOf<S> = S extends { readonly host: infer H extends string } ? H : '';

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

/** One placeholder's entry: `int:id` → `{ id: number }`, `name` → `{ name: string }`. */
type Entry<Inside extends string, C extends ConverterMap> = Inside extends `${infer Conv}:${infer Name}`
  ? { [K in Name]: ValueOf<Conv, C> }
  : { [K in Inside]: string };

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

/** A value `build` puts in the query: repeated for an array, left out when `null` or `undefined`. */
export type QueryValue = string | number | boolean | null | undefined | ReadonlyArray<string | number | boolean>;

/** The values of `build` for a route: its placeholders' values, then any extra ones for the query. */
export type BuildValues<V> = V & Readonly<Record<string, unknown>>;

/** The endpoints of a route table. */
export type EndpointOf<R> = Extract<keyof R, string>;

/** The values of endpoint `E` of route table `R`: its host's placeholders' and its path's. */
export type ValuesOf<R, E extends keyof R, C extends ConverterMap> = RouteValues<`${HostOf<R[E]>}${PatternOf<R[E]>}`, C>;
