/**
 * tsgi — the TypeScript gateway interface, with WebOb/Werkzeug-style wrappers.
 *
 * The package root: the gateway types, `Request` and `Response`, the HTTP exceptions,
 * `defineMiddleware`/`compose` and `serve`. The middleware set is `tsgi/middleware`,
 * header parsers `tsgi/http`, form parsing `tsgi/forms`, the Node adapter `tsgi/node`.
 * Every name is exported explicitly; `test/exports.test.ts` holds the list.
 *
 * @module
 */
export type { App, AppLike, Body, EarlyHints, Environ, LogStream, Middleware, StartResponse } from './gateway/types.ts';
export { TSGI_VERSION, toApp } from './gateway/types.ts';
export { compose } from './gateway/compose.ts';
export { type EnvironKey, defineEnvironKey } from './gateway/environ-key.ts';
export { HeaderList, type HeaderListInit } from './http/header-list.ts';
export { EnvironHeaders } from './datastructures/environ-headers.ts';
export { MultiDict } from './datastructures/multidict.ts';
export { Response, type ResponseInit, type StreamedResponse } from './response/response.ts';
export type { ResponseBody } from './response/body.ts';
export type { ContentDispositionValue, HttpDateInit } from './http/converters.ts';
export type { EventStreamOptions, ServerSentEvent } from './response/event-stream.ts';
export { type Handler, type MiddlewareHandler, type MiddlewareHooks, Request } from './request/request.ts';
export type { HandlerResult } from './request/application.ts';
export type { BlankOptions } from './request/blank.ts';
export { DEFAULT_TEXT_LIMITS, type FormOptions, type JsonOptions, type ReadOptions } from './request/body.ts';
export { defineMiddleware } from './request/middleware.ts';
export { type ExceptionClass, HTTPException, type HTTPExceptionOptions, type RequestLike } from './exceptions/base.ts';
export { HTTPRedirection, HTTPMultipleChoices, HTTPMovedPermanently, HTTPFound, HTTPSeeOther, HTTPNotModified, HTTPUseProxy, HTTPTemporaryRedirect, HTTPPermanentRedirect } from './exceptions/redirects.ts';
export { HTTPClientError, HTTPBadRequest, HTTPUnauthorized, HTTPPaymentRequired, HTTPForbidden, HTTPNotFound, HTTPMethodNotAllowed, HTTPNotAcceptable, HTTPProxyAuthenticationRequired, HTTPRequestTimeout, HTTPConflict, HTTPGone, HTTPLengthRequired, HTTPPreconditionFailed, HTTPContentTooLarge, HTTPURITooLong, HTTPUnsupportedMediaType, HTTPRangeNotSatisfiable, HTTPExpectationFailed, HTTPImATeapot, HTTPMisdirectedRequest, HTTPUnprocessableContent, HTTPLocked, HTTPFailedDependency, HTTPTooEarly, HTTPUpgradeRequired, HTTPPreconditionRequired, HTTPTooManyRequests, HTTPRequestHeaderFieldsTooLarge, HTTPUnavailableForLegalReasons } from './exceptions/client-errors.ts';
export { HTTPServerError, HTTPInternalServerError, HTTPNotImplemented, HTTPBadGateway, HTTPServiceUnavailable, HTTPGatewayTimeout, HTTPVersionNotSupported, HTTPVariantAlsoNegotiates, HTTPInsufficientStorage, HTTPLoopDetected, HTTPNotExtended, HTTPNetworkAuthenticationRequired } from './exceptions/server-errors.ts';
export { abort, redirect, statusExceptions } from './exceptions/abort.ts';
export { type CloseOptions, type ServeOptions, type ServerHandle, serve } from './adapters/node/serve.ts';
