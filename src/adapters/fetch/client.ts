/**
 * The client's address (`REMOTE_ADDR`, `REMOTE_PORT`) and the protocol version of a fetch
 * request, from what each runtime hands its handler besides the request.
 *
 * @module
 */
import type { Environ } from '../../gateway/types.ts';
import { inWorkers } from '../../gateway/workers.ts';

/** Cloudflare's `request.cf.httpProtocol`: `HTTP/1.1`, or `HTTP/2` and `HTTP/3` without a minor version. */
const CF_PROTOCOL = /^HTTP\/(\d)(?:\.(\d))?$/;

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

/**
 * The client's address and port as Bun (`env` its `Server`) or Deno (`env` its
 * `ServeHandlerInfo`) tell them, `undefined` when they do not, or when asking throws (Deno's
 * `TypeError: Request closed` for a request already over): the address is optional, never
 * worth a 500.
 */
function peerOf(request: globalThis.Request, env: Partial<BunServer & DenoInfo>): { address?: string; port?: string } | undefined {
  try {
    if (typeof env.requestIP === 'function') {
      const info = env.requestIP(request);
      return info ? { address: info.address, port: String(info.port) } : undefined;
    }
    const remote = env.remoteAddr;
    return remote ? { address: remote.hostname, port: remote.port === undefined ? undefined : String(remote.port) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sets `REMOTE_ADDR`, `REMOTE_PORT` and, where known, `SERVER_PROTOCOL` from the runtime:
 *
 * - Bun: `server.requestIP(request)` (`env` is the `Server`);
 * - Deno: `info.remoteAddr` (`env` is the `ServeHandlerInfo`);
 * - `@hono/node-server`: the socket of `env.incoming`, and its HTTP version;
 * - srvx: `request.ip`;
 * - Cloudflare Workers: the `CF-Connecting-IP` field, which Cloudflare's edge sets (a local
 *   `workerd` passes on whatever the client sent), and `request.cf.httpProtocol` (`HTTP/2` and
 *   `HTTP/3` named `HTTP/2.0` and `HTTP/3.0`, as the environ names versions).
 *
 * Anywhere else both stay `undefined`. Bun and Deno are asked now, as the request comes in,
 * not when the app first reads the key: once the answer is over Bun 1.4 answers `null` and
 * Deno 2.9 throws `TypeError: Request closed`, and an app may read the address then (a log
 * line or cleanup run after the answer, the `finally` of a stream whose client left).
 */
export function setClientAddress(environ: Environ, request: globalThis.Request, env: unknown): void {
  if (isObject(env)) {
    if (typeof env.requestIP === 'function' || 'remoteAddr' in env) {
      const peer = peerOf(request, env as Partial<BunServer & DenoInfo>);
      environ.REMOTE_ADDR = peer?.address;
      environ.REMOTE_PORT = peer?.port;
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
  let address: string | undefined;
  if (typeof ip === 'string') {
    address = ip;
  } else if (inWorkers) {
    address = request.headers.get('cf-connecting-ip') ?? undefined;
    const protocol = (request as { cf?: { httpProtocol?: unknown } }).cf?.httpProtocol;
    // The edge says `HTTP/2` and `HTTP/3`; the environ names every version `HTTP/<major>.<minor>`.
    const version = typeof protocol === 'string' ? CF_PROTOCOL.exec(protocol) : null;
    if (version) environ.SERVER_PROTOCOL = `HTTP/${version[1]}.${version[2] ?? '0'}`;
  }
  environ.REMOTE_ADDR = address;
  environ.REMOTE_PORT = undefined;
}
