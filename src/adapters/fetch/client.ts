/**
 * The client's address (`REMOTE_ADDR`, `REMOTE_PORT`) and the protocol version of a fetch
 * request, from what each runtime hands its handler besides the request.
 *
 * @module
 */
import type { Environ } from '../../gateway/types.ts';
import { lazyEnvironKey } from '../environ-rules.ts';
import { inWorkers } from '../../gateway/workers.ts';

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

/** The client's address and port as Bun or Deno tell them, `undefined` when they do not. */
function peerOf(environ: Environ): { address?: string; port?: string } | undefined {
  const env = environ['tsgi.fetch_env'] as Partial<BunServer & DenoInfo>;
  if (typeof env.requestIP === 'function') {
    const info = env.requestIP(environ['tsgi.fetch_request'] as globalThis.Request);
    return info ? { address: info.address, port: String(info.port) } : undefined;
  }
  const remote = env.remoteAddr;
  return remote ? { address: remote.hostname, port: remote.port === undefined ? undefined : String(remote.port) } : undefined;
}

/** Where an environ keeps its peer once the runtime was asked (see {@link peerOnce}). */
const PEER = Symbol('tsgi.fetch_peer');

/** The peer of a request whose runtime did not say. */
const NO_PEER: { address?: string; port?: string } = {};

/**
 * The peer, asked of the runtime once, when `REMOTE_ADDR` or `REMOTE_PORT` is first read:
 * Bun's `server.requestIP()` costs about 2 µs per call, more than the rest of the environ,
 * and Deno's `info.remoteAddr` about 0.7 µs the first time for each request.
 */
function peerOnce(environ: Environ): { address?: string; port?: string } {
  const slots = environ as unknown as Record<symbol, { address?: string; port?: string } | undefined>;
  return (slots[PEER] ??= peerOf(environ) ?? NO_PEER);
}

const LAZY_ADDRESS = lazyEnvironKey('REMOTE_ADDR', (environ) => peerOnce(environ).address);
const LAZY_PORT = lazyEnvironKey('REMOTE_PORT', (environ) => peerOnce(environ).port);

/**
 * Sets `REMOTE_ADDR`, `REMOTE_PORT` and, where known, `SERVER_PROTOCOL` from the runtime:
 *
 * - Bun: `server.requestIP(request)` (`env` is the `Server`), asked when first read;
 * - Deno: `info.remoteAddr` (`env` is the `ServeHandlerInfo`), read when first needed;
 * - `@hono/node-server`: the socket of `env.incoming`, and its HTTP version;
 * - srvx: `request.ip`;
 * - Cloudflare Workers: the `CF-Connecting-IP` field, which Cloudflare's edge sets (a local
 *   `workerd` passes on whatever the client sent), and `request.cf.httpProtocol`.
 *
 * Anywhere else both stay `undefined`.
 */
export function setClientAddress(environ: Environ, request: globalThis.Request, env: unknown): void {
  if (isObject(env)) {
    if (typeof env.requestIP === 'function' || 'remoteAddr' in env) {
      Object.defineProperty(environ, 'REMOTE_ADDR', LAZY_ADDRESS);
      Object.defineProperty(environ, 'REMOTE_PORT', LAZY_PORT);
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
    if (typeof protocol === 'string' && protocol.startsWith('HTTP/')) environ.SERVER_PROTOCOL = protocol;
  }
  environ.REMOTE_ADDR = address;
  environ.REMOTE_PORT = undefined;
}
