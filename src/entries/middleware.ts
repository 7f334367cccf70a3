/**
 * `tsgi/middleware`: the middleware set, each `name(app, options?) => App` (or, for `mount`,
 * `cascade` and the static apps, an app built from several), and the helpers for writing
 * middleware on the raw interface (`callApp`, `wrapBody`, `transformBody`, `bindBody`). See docs/middleware.md.
 *
 * @module
 */
export { type MountMap, type MountOptions, mount } from '../middleware/mount.ts';
export { type ErrorsOptions, errors } from '../middleware/errors.ts';
export { type ErrorPageRenderer, type ErrorPagesOptions, errorPages } from '../middleware/error-pages.ts';
export { type CascadeOptions, cascade } from '../middleware/cascade.ts';
export { type LintedApp, LintError, lint } from '../middleware/lint.ts';
export { type AccessLogEntry, type AccessLogFormat, type AccessLogOptions, accessLog } from '../middleware/access-log.ts';
export { redactQuery } from '../gateway/redact-query.ts';
export { authUserKey, safeCompare, staticUsers } from '../middleware/auth-util.ts';
export { type BasicAuthOptions, type BasicVerify, basicAuth } from '../middleware/basic-auth.ts';
export { type BearerAuthOptions, type BearerVerify, type InsufficientScopeOptions, bearerAuth, insufficientScope } from '../middleware/bearer-auth.ts';
export { type AuthTicketOptions, AuthTickets, type CookieTarget, type RememberOptions, type Ticket, authTicketKey } from '../middleware/auth-ticket.ts';
export { type CookieSessionOptions, CookieSessions, sessionKey, sessionOf } from '../middleware/cookie-session.ts';
export { type Flash, type Session, type SessionState } from '../middleware/session.ts';
export { type CrossOriginProtectionOptions, crossOriginProtection } from '../middleware/csrf.ts';
export { type MethodOverrideOptions, methodOverride, originalMethodKey } from '../middleware/method-override.ts';
export { type ProxyFixOptions, type ProxyFixOrig, proxyFix, proxyFixOrigKey } from '../middleware/proxy-fix.ts';
export { type Coding, type CompressOptions, compress } from '../middleware/compress.ts';
export { type EtagOptions, etag } from '../middleware/etag.ts';
export { type CorsOptions, type CorsOriginResult, cors } from '../middleware/cors.ts';
export { type DecodeBodyCoding, type DecodeBodyOptions, decodeBody } from '../middleware/decode-body.ts';
export { type RequestIdOptions, requestId, requestIdKey } from '../middleware/request-id.ts';
export { type TimeoutOptions, timeout } from '../middleware/timeout.ts';
export {
  type ContentSecurityPolicyOptions,
  type SecureHeaderSetting,
  type SecureHeadersOptions,
  cspNonce,
  secureHeaders,
} from '../middleware/secure-headers.ts';
export { type CspDirectiveName, type CspDirectives } from '../http/csp.ts';
export { type FileOptions, fileApp } from '../middleware/static-file.ts';
export { type DirectoryOptions, directoryApp } from '../middleware/static-directory.ts';
export { type StartedApp, callApp } from '../gateway/call-app.ts';
export { type BodyHooks, type WrapBodyOptions, wrapBody } from '../gateway/body-watch.ts';
export { type BodyTransformController, type BodyTransformer, type TransformedChunks, transformBody } from '../gateway/body-transform.ts';
export { type BodyContextRunner, bindBody } from '../gateway/body-context.ts';
