/**
 * The origin of a fetch request whose URL is its path alone: Bun makes `request.url` `/x` (no
 * scheme, no host) when it has no Host to build the URL from (an HTTP/1.0 request without one,
 * as health checks send it; a Host it cannot parse), where Deno puts `localhost` and its port.
 *
 * @module
 */

/** Bun's `Server` (the second argument of `Bun.serve`'s `fetch`), as far as its own URL goes. */
interface BunServer {
  requestIP(request: globalThis.Request): unknown;
  url: URL | string;
}

/**
 * The origin to read a path-only request URL against: Bun's `server.url` (`http://127.0.0.1:3000`,
 * `https://…` under TLS) when `env` is Bun's `Server`, else `http://localhost`.
 */
export function serverOrigin(env: unknown): string {
  const server = env as Partial<BunServer> | null | undefined;
  if (typeof server === 'object' && server !== null && typeof server.requestIP === 'function' && server.url !== undefined) {
    const url = String(server.url);
    const origin = URL.canParse(url) ? new URL(url).origin : 'null';
    if (origin !== 'null') return origin;
  }
  return 'http://localhost';
}
