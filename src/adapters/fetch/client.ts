/**
 * The client's address (`REMOTE_ADDR`, `REMOTE_PORT`) and the protocol version of a fetch
 * request, from what each runtime hands its handler besides the request.
 *
 * @module
 */
import type { Environ } from '../../gateway/types.ts';

/** Bun's `Server` (the second argument of `Bun.serve`'s `fetch`). */
interface BunServer {
  requestIP(request: globalThis.Request): { address: string; port: number } | null;
}

/** Deno's `ServeHandlerInfo` (the second argument of `Deno.serve`'s handler). */
interface DenoInfo {
  remoteAddr: { hostname?: string; port?: number };
}

/** `@hono/node-server`'s bindings: the Node request behind the fetch `Request`. */
interface NodeBindings {
  incoming: { httpVersion?: string; socket?: { remoteAddress?: string; remotePort?: number } | null };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** True inside a Cloudflare Worker (the documented runtime check). */
const inWorkers = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === 'Cloudflare-Workers';

/**
 * Sets `REMOTE_ADDR`, `REMOTE_PORT` and, where known, `SERVER_PROTOCOL` from the runtime:
 *
 * - Bun: `server.requestIP(request)` (`env` is the `Server`);
 * - Deno: `info.remoteAddr` (`env` is the `ServeHandlerInfo`);
 * - `@hono/node-server`: the socket of `env.incoming`, and its HTTP version;
 * - srvx: `request.ip`;
 * - Cloudflare Workers: the `CF-Connecting-IP` field, which Cloudflare's edge sets (a local
 *   `workerd` passes on whatever the client sent), and `request.cf.httpProtocol`.
 *
 * Anywhere else both stay `undefined`.
 */
export function setClientAddress(environ: Environ, request: globalThis.Request, env: unknown): void {
  if (isObject(env)) {
    if (typeof env.requestIP === 'function') {
      const info = (env as unknown as BunServer).requestIP(request);
      if (info) {
        environ.REMOTE_ADDR = info.address;
        environ.REMOTE_PORT = String(info.port);
      }
      return;
    }
    if (isObject(env.remoteAddr)) {
      const { hostname, port } = (env as unknown as DenoInfo).remoteAddr;
      environ.REMOTE_ADDR = hostname;
      environ.REMOTE_PORT = port === undefined ? undefined : String(port);
      return;
    }
    if (isObject(env.incoming)) {
      const incoming = (env as unknown as NodeBindings).incoming;
      environ.REMOTE_ADDR = incoming.socket?.remoteAddress;
      const port = incoming.socket?.remotePort;
      environ.REMOTE_PORT = port === undefined ? undefined : String(port);
      if (incoming.httpVersion) environ.SERVER_PROTOCOL = `HTTP/${incoming.httpVersion}`;
      return;
    }
  }
  const ip = (request as { ip?: unknown }).ip;
  if (typeof ip === 'string') {
    environ.REMOTE_ADDR = ip;
    return;
  }
  if (inWorkers) {
    environ.REMOTE_ADDR = request.headers.get('cf-connecting-ip') ?? undefined;
    const protocol = (request as { cf?: { httpProtocol?: unknown } }).cf?.httpProtocol;
    if (typeof protocol === 'string' && protocol.startsWith('HTTP/')) environ.SERVER_PROTOCOL = protocol;
  }
}
