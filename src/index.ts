/**
 * tsgi — the TypeScript gateway interface, with WebOb/Werkzeug-style wrappers.
 *
 * Every public name is exported from here.
 *
 * @module
 */
export * from './gateway/types.ts';
export * from './gateway/environ-key.ts';
export * from './gateway/status.ts';
export * from './gateway/fields.ts';
export * from './gateway/body.ts';
export * from './gateway/compose.ts';
export { HeaderList, type HeaderListInit } from './http/header-list.ts';
export * from './datastructures/multidict.ts';
export * from './datastructures/environ-headers.ts';
export * from './http/media-type.ts';
export * from './http/charset.ts';
export * from './http/cookies.ts';
export * from './http/url.ts';
export * from './http/accept.ts';
export * from './http/etag.ts';
export * from './http/dates.ts';
export * from './http/range.ts';
export * from './http/range-body.ts';
export * from './http/conditional.ts';
export * from './http/cache-control.ts';
export * from './http/authorization.ts';
export * from './http/www-authenticate.ts';
export * from './forms/index.ts';
export * from './exceptions.ts';
export * from './response/response.ts';
export { reasonPhrase } from './response/status.ts';
export type { ContentDispositionValue, HttpDateInit } from './http/converters.ts';
export * from './request/request.ts';
export * from './request/input.ts';
export * from './gateway/log.ts';
export * from './adapters/node/index.ts';
export * from './middleware/index.ts';
