/**
 * What `serve()` refuses of an HTTP/2 request's head before the app sees it, as Node's HTTP/1
 * parser refuses it over HTTP/1.1: Node's HTTP/2 server passes on any method, any `:path`
 * length and, before the client acknowledged the server's SETTINGS, any header list size.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { HTTPException } from '../../exceptions/base.ts';
import { HTTPRequestHeaderFieldsTooLarge, HTTPURITooLong } from '../../exceptions/client-errors.ts';
import { HTTPNotImplemented } from '../../exceptions/server-errors.ts';
import { type H2RequestLimits, headerListSize } from './h2-header-limits.ts';
import { UNKNOWN_METHOD, isKnownMethod } from '../../http/methods.ts';
import { TARGET_TOO_LONG } from './client-error.ts';

/**
 * The refusal of `req`, an HTTP/2 request under `serve()`, in the order HTTP/1.1 meets them in
 * its head: a method outside `http.METHODS` (`FOO`, a lower-case `get`), `501` (RFC 9110
 * §15.6.2); a `:path` longer than `limits.targetLength`, `414` (RFC 9110 §15.5.15, as a request
 * line past `maxHeaderSize` is answered); a header list past `limits.headerListSize`, `431`
 * (RFC 6585 §5); `null` for a request the app may see. Node holds a header list to its setting
 * only once the client acknowledged it (and the setting is kept above this size).
 */
export function h2RequestRefusal(req: IncomingMessage, limits: H2RequestLimits): HTTPException | null {
  if (!isKnownMethod(req.method)) return new HTTPNotImplemented(UNKNOWN_METHOD);
  // `:path` as Node decodes it (Latin-1: one character per octet).
  if ((req.url?.length ?? 0) > limits.targetLength) return new HTTPURITooLong(TARGET_TOO_LONG);
  if (headerListSize(req.rawHeaders) > limits.headerListSize) {
    return new HTTPRequestHeaderFieldsTooLarge(`the header list is larger than ${limits.headerListSize} octets`);
  }
  return null;
}
