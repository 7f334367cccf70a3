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

/**
 * How far past the header list size `serve()` answers `431` for Node resets a stream itself:
 * the `SETTINGS_MAX_HEADER_LIST_SIZE` advertised, and enforced by Node once acknowledged, is
 * this many times that size. Node resets a stream past its setting before any handler sees it
 * (`RST_STREAM` `ENHANCE_YOUR_CALM`, no answer), so the setting is kept above the size that is
 * answered `431`; it still bounds what one stream's header list may hold in memory.
 */
const HARD_LIMIT_FACTOR = 2;

/** What `serve()` holds an HTTP/2 request's head to before the app sees it (`h2RequestRefusal`). */
export interface H2RequestLimits {
  /**
   * The most octets a request's header list may take (RFC 9113 §6.5.2: each field line's name
   * and value plus 32, pseudo-fields included) before the server answers it `431`.
   */
  readonly headerListSize: number;
  /**
   * The longest `:path` (in octets) before the server answers it `414`, as Node's HTTP/1
   * parser answers a request line past `maxHeaderSize`: that size, or the list size the user
   * set for HTTP/2 (`settings.maxHeaderListSize`) when set.
   */
  readonly targetLength: number;
}

/** What {@link h2HeaderLimits} gives the `http2.create*Server` call, and the sizes answered `431` and `414`. */
export interface H2HeaderLimits {
  /** Field lines a request may carry (pseudo-fields included), past which Node resets its stream. */
  maxHeaderListPairs: number;
  /**
   * The HTTP/2 settings: `maxHeaderListSize` is {@link HARD_LIMIT_FACTOR} times
   * {@link H2HeaderLimits.headerListSize} (at most 2^32-1); the user's other settings as given.
   */
  settings: http2.Settings;
  /**
   * The most octets a request's header list may take (RFC 9113 §6.5.2: each field line's name
   * and value plus 32, pseudo-fields included) before the server answers it `431`
   * ({@link headerListSize}).
   */
  headerListSize: number;
  /** The longest `:path` before the server answers `414` ({@link H2RequestLimits.targetLength}). */
  targetLength: number;
}

/**
 * The header list limits of the HTTP/2 server of `serve()`, from `maxHeadersCount` (Node's
 * HTTP/1 field count) and the user's `server` options, which win (`maxHeaderListPairs`, each
 * of `settings`). `maxHeaderListPairs`: `maxHeadersCount` and 188 lines (pseudo-fields and
 * Cookie crumbs). `headerListSize`, past which a request is answered `431` as over HTTP/1.1:
 * the user's `settings.maxHeaderListSize` (or its alias `settings.maxHeaderSize`), else the
 * HTTP/1.1 `maxHeaderSize` (the user's `server.maxHeaderSize`, else Node's, 16 KiB unless
 * `--max-http-header-size` says otherwise) plus 40 octets per line of `maxHeaderListPairs`, so
 * that every head HTTP/1.1 takes is taken as an HTTP/2 header list (16 384 + 40 × 289 = 27 944
 * octets by default). `targetLength`, past which a `:path` is answered `414` as over HTTP/1.1:
 * the HTTP/1.1 `maxHeaderSize` (16 KiB), or the user's HTTP/2 list size when given.
 * `settings.maxHeaderListSize`, advertised to the client and enforced by
 * Node once acknowledged: twice that (55 888 by default), so that a list past `headerListSize`
 * reaches the server to be answered; only past twice it does Node reset the stream.
 */
export function h2HeaderLimits(maxHeadersCount: number, server: http.ServerOptions & http2.ServerOptions): H2HeaderLimits {
  const maxHeaderListPairs = server.maxHeaderListPairs ?? maxHeadersCount + PSEUDO_FIELDS + COOKIE_CRUMBS;
  // `maxHeaderSize` is Node's alias of `maxHeaderListSize` in settings (it wins, with a warning).
  const { maxHeaderSize: alias, ...given }: http2.Settings & { maxHeaderSize?: number } = server.settings ?? {};
  const headSize = server.maxHeaderSize ?? http.maxHeaderSize;
  const setSize = alias ?? given.maxHeaderListSize;
  const headerListSize = Math.min(MAX_SETTING, setSize ?? headSize + LINE_OVERHEAD * maxHeaderListPairs);
  const maxHeaderListSize = Math.min(MAX_SETTING, HARD_LIMIT_FACTOR * headerListSize);
  return { maxHeaderListPairs, settings: { ...H2_SETTINGS, ...given, maxHeaderListSize }, headerListSize, targetLength: Math.min(setSize ?? headSize, headerListSize) };
}

/**
 * The size of a request's header list as RFC 9113 §6.5.2 counts it, and Node against its
 * setting: each field line's name and value, plus 32 octets, pseudo-fields and each Cookie
 * crumb included. `raw` alternates names and values (`rawHeaders`), whose strings hold one
 * character per octet as Node decodes them (Latin-1).
 */
export function headerListSize(raw: readonly string[]): number {
  let size = 0;
  for (let i = 0; i < raw.length; i++) size += raw[i]!.length;
  return size + 16 * raw.length;
}
