/**
 * The middleware toolkit: each export wraps an app (`name(app, options?) => App`) or, for
 * `mount` and `cascade`, builds one app from several. See docs/middleware.md.
 *
 * @module
 */
export { compose } from '../gateway/compose.ts';
export { type MiddlewareHandler, defineMiddleware } from '../request/middleware.ts';
export { type MountMap, type MountOptions, cleanPath, mount } from './mount.ts';
export { type ErrorsOptions, errors } from './errors.ts';
export { type StackFrame, debugResponse, parseStack, renderTraceback } from './traceback.ts';
export { type CascadeOptions, cascade } from './cascade.ts';
export { type LintedApp, LintError, checkEnviron, lint } from './lint.ts';
export { type AccessLogEntry, type AccessLogFormat, type AccessLogOptions, accessLog, escapeLogField, formatLogTime } from './access-log.ts';
export { type StartedApp, callApp } from '../gateway/call-app.ts';
export { type BodyHooks, type WrapBodyOptions, wrapBody } from '../gateway/body-watch.ts';
export { authUserKey, safeCompare, setRemoteUser, staticUsers } from './auth-util.ts';
export { type BasicAuthOptions, type BasicVerify, basicAuth } from './basic-auth.ts';
export { type BearerAuthOptions, type BearerVerify, type InsufficientScopeOptions, bearerAuth, insufficientScope } from './bearer-auth.ts';
export { authTicketKey, type AuthTicketOptions, AuthTickets, type CookieTarget, type RememberOptions, type Ticket } from './auth-ticket.ts';
export { type ProxyFixOptions, type ProxyFixOrig, parseForwarded, proxyFix, proxyFixOrigKey } from './proxy-fix.ts';
export { type Coding, type CompressOptions, compress } from './compress.ts';
export { type DirectoryOptions, type FileOptions, directoryApp, fileApp, isBelow, joinBelow, realBelow, safeSegments, serveFile } from './static.ts';
