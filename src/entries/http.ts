/**
 * `tsgi/http`: header field parsers and formatters (RFC 9110/9111 and friends). The header
 * parsers read a malformed value as absent and never throw; the formatters throw on a bad value
 * to format, as do `parseStatus` (a status line an app gave: `TypeError`) and `unquotePath` (a
 * malformed escape: `URIError`). The wrappers use them for their typed attributes; use them
 * directly on raw environs and header lists. Each is described on the page of its capability
 * (docs/conditional.md, docs/caching.md, docs/authorization.md, docs/negotiation.md, …).
 *
 * @module
 */
export { Accept, AcceptCharset, AcceptEncoding, AcceptHeader, AcceptLanguage, type AcceptRange } from '../http/accept.ts';
export { type Authorization, basicAuthorization, bearerAuthorization, formatAuthorization, parseAuthorization } from '../http/authorization.ts';
export { CacheControl, type DirectiveValue } from '../http/cache-control.ts';
export {
  type PreconditionOutcome,
  type PreconditionRequest,
  type PreconditionResource,
  type PreconditionResult,
  evaluatePreconditions,
  notModifiedHeaders,
} from '../http/conditional.ts';
export { type CookieOptions, parseCookieHeader, serializeSetCookie } from '../http/cookies.ts';
export { type RetryAfter, formatDeltaSeconds, formatHttpDate, formatRetryAfter, parseDeltaSeconds, parseHttpDate, parseRetryAfter } from '../http/dates.ts';
export { type EntityTag, EtagSet, formatEtag, parseEtag, statEtag, strongCompare, strongEtag, weakCompare } from '../http/etag.ts';
export { splitHost } from '../http/host.ts';
export { DEFAULT_IPV6_SUBNET, clientPrefix } from '../http/client-prefix.ts';
export { type MediaType, formatMediaType, isTextType, parseMediaType } from '../http/media-type.ts';
export {
  type ByteRange,
  type ContentRange,
  type RangeIgnoredReason,
  type RangeOptions,
  type RangeResult,
  evaluateIfRange,
  formatContentRange,
  parseContentRange,
  parseRange,
} from '../http/range.ts';
export { quotePath, unquotePath } from '../http/url.ts';
export { type Challenge, formatChallenge, formatWwwAuthenticate, parseWwwAuthenticate } from '../http/www-authenticate.ts';
export { parseForwarded } from '../middleware/proxy-fix.ts';
export { type ParsedStatus, isBodilessStatus, parseStatus } from '../gateway/status.ts';
export { HOP_BY_HOP, isToken } from '../gateway/fields.ts';
export { reasonPhrase } from '../response/status.ts';
export { escapeHtml } from '../response/error-body.ts';
export { absoluteLocation } from '../exceptions/redirects.ts';
