/**
 * `tsgi/routing`: URL routing and URL building (Werkzeug's `routing.Map`, `Rule`,
 * `MapAdapter`). See docs/routing.md.
 *
 * @module
 */
export { RouteMap, type RouteMapOptions, type RouteHandler, type RouteHandlers, type RouteArgs, routeArgsKey, type UrlsOf } from '../routing/route-map.ts';
export { UrlAdapter, type BuildOptions, type BuildArgs, type RouteMatch } from '../routing/adapter.ts';
export { type Converter, anyConverter, floatConverter, intConverter, pathConverter, stringConverter, uuidConverter } from '../routing/converters.ts';
export type { Lookup, MatchedRule } from '../routing/matcher.ts';
export type { BuildValues, BuildValuesOf, ConverterMap, EndpointOf, HostOf, PatternOf, RouteSpec, RouteValues, RuleSpec, ValuesOf } from '../routing/types.ts';
