/**
 * The limits of an HTTP/2 request's header list under `serve()`: how many field lines
 * (`maxHeaderListPairs`) and how many octets (`SETTINGS_MAX_HEADER_LIST_SIZE`), both tied to
 * the HTTP/1.1 limits (`maxHeadersCount`, `maxHeaderSize`) so that a request one protocol
 * serves, the other serves too.
 *
 * @module
 */
import http from 'node:http';
import type http2 from 'node:http2';

/** HTTP/2 settings: streams per connection as nginx (128) and Go (250) keep them, not Node's 2^32-1. */
const H2_SETTINGS: http2.Settings = { maxConcurrentStreams: 128 };

/**
 * Field lines an HTTP/2 request may carry past `maxHeadersCount` for its Cookie crumbs: a
 * client may send one Cookie line per cookie (RFC 9113 §8.2.3; Chromium does, for HPACK), which
 * the environ joins into one `HTTP_COOKIE` and `maxHeaders` counts as one field. 180 is the
 * most cookies Chromium and Firefox keep for one site. Node resets a stream past its
 * `maxHeaderListPairs` before the app's handler sees it; with this allowance, a request with
 * too many other fields reaches the handler and is answered `431`.
 */
const COOKIE_CRUMBS = 180;

/** HTTP/2 pseudo-fields a request may carry (`:method`, `:scheme`, `:authority`, `:path`, `:protocol`), with room to spare. */
const PSEUDO_FIELDS = 8;

/**
 * Octets an HTTP/2 field line may take past the bytes Node's HTTP/1 parser counts for it
 * against `maxHeaderSize` (the request target, each field's name and value): the 32 of RFC 9113
 * §6.5.2, and up to 8 that HTTP/1.1 does not write or Node does not count there (a Cookie crumb
 * repeats the name `cookie`, 6, where HTTP/1.1 writes `; `, 2; a pseudo-field's name, `:method`
 * and `:scheme` with their values).
 */
const LINE_OVERHEAD = 40;

/** The largest `SETTINGS_MAX_HEADER_LIST_SIZE` (RFC 9113 §6.5.2: a 32-bit value), which Node checks. */
const MAX_SETTING = 2 ** 32 - 1;

/** What {@link h2HeaderLimits} gives the `http2.create*Server` call. */
export interface H2HeaderLimits {
  /** Field lines a request may carry (pseudo-fields included), past which Node resets its stream. */
  maxHeaderListPairs: number;
  /** The HTTP/2 settings, `maxHeaderListSize` among them unless the user's settings set it. */
  settings: http2.Settings;
}

/**
 * The header list limits of the HTTP/2 server of `serve()`, from `maxHeadersCount` (Node's
 * HTTP/1 field count) and the user's `server` options, which win (`maxHeaderListPairs`, each
 * of `settings`). `maxHeaderListPairs`: `maxHeadersCount` and 188 lines (pseudo-fields and
 * Cookie crumbs). `settings.maxHeaderListSize`, advertised to the client and enforced by Node
 * (it resets a stream past it, `ENHANCE_YOUR_CALM`, before any handler sees it): the HTTP/1.1
 * `maxHeaderSize` (the user's `server.maxHeaderSize`, else Node's, 16 KiB unless
 * `--max-http-header-size` says otherwise) plus 40 octets per line of `maxHeaderListPairs`, so
 * that every head HTTP/1.1 takes is taken as an HTTP/2 header list (16 384 + 40 × 289 = 27 944
 * octets by default, where Node sets no limit but nghttp2's 8 `CONTINUATION` frames). Left out
 * when the user's `settings` give `maxHeaderListSize` or its alias `maxHeaderSize`.
 */
export function h2HeaderLimits(maxHeadersCount: number, server: http.ServerOptions & http2.ServerOptions): H2HeaderLimits {
  const maxHeaderListPairs = server.maxHeaderListPairs ?? maxHeadersCount + PSEUDO_FIELDS + COOKIE_CRUMBS;
  // `maxHeaderSize` is Node's alias of `maxHeaderListSize` in settings (it wins, with a warning).
  const given: http2.Settings & { maxHeaderSize?: number } = server.settings ?? {};
  if (given.maxHeaderListSize !== undefined || given.maxHeaderSize !== undefined) return { maxHeaderListPairs, settings: { ...H2_SETTINGS, ...given } };
  const maxHeaderListSize = Math.min(MAX_SETTING, (server.maxHeaderSize ?? http.maxHeaderSize) + LINE_OVERHEAD * maxHeaderListPairs);
  return { maxHeaderListPairs, settings: { ...H2_SETTINGS, maxHeaderListSize, ...given } };
}
