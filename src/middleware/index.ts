/**
 * The middleware toolkit: each export wraps an app (`name(app, options?) => App`) or, for
 * `mount` and `cascade`, builds one app from several. See docs/middleware.md.
 *
 * @module
 */
export { type AppWrapper, type DefinedMiddleware, type MiddlewareHandler, compose, defineMiddleware } from './compose.ts';
export { type MountMap, type MountOptions, cleanPath, mount } from './mount.ts';
export { type ErrorsOptions, type LogTarget, errors } from './errors.ts';
export { type StackFrame, debugResponse, parseStack, renderTraceback } from './traceback.ts';
export { type CascadeOptions, cascade } from './cascade.ts';
export { type LintedApp, LintError, checkEnviron, lint } from './lint.ts';
export { type AccessLogEntry, type AccessLogFormat, type AccessLogOptions, accessLog, escapeLogField, formatLogTime } from './access-log.ts';
export { type BodyHooks, type StartedApp, callApp, wrapBody } from './call-app.ts';
