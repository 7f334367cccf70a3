/**
 * Host and port: the default port of each scheme, the host a request asked for, and
 * splitting `host[:port]`.
 *
 * @module
 */
import type { Environ } from '../gateway/types.ts';

/** The default port of each URL scheme. */
export const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443, ws: 80, wss: 443 };

/**
 * @internal The host and port the client asked for (`Request.host`): the `Host` header as
 * sent (`HTTP_HOST`, e.g. `example.com:8080`), else `SERVER_NAME` (an IPv6 address put in
 * brackets, as Werkzeug does) with `:SERVER_PORT` unless it is the default port of
 * `tsgi.url_scheme`. Never throws.
 */
export function hostOf(environ: Environ): string {
  const header = environ.HTTP_HOST;
  if (typeof header === 'string' && header !== '') return header;
  const port = environ.SERVER_PORT;
  let name = environ.SERVER_NAME ?? '';
  if (name.includes(':') && !name.startsWith('[')) name = `[${name}]`;
  return port && Number(port) !== DEFAULT_PORTS[environ['tsgi.url_scheme']] ? `${name}:${port}` : name;
}

/**
 * Splits `host[:port]` into the name and the port number (`null` when absent or not a valid
 * port). IPv6 literals keep their brackets.
 */
export function splitHost(host: string): [string, number | null] {
  let name = host;
  let portText = '';
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close !== -1) {
      name = host.slice(0, close + 1);
      if (host.charCodeAt(close + 1) === 58) portText = host.slice(close + 2);
    }
  } else {
    const colon = host.lastIndexOf(':');
    if (colon !== -1) {
      name = host.slice(0, colon);
      portText = host.slice(colon + 1);
    }
  }
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : null;
  return [name, port !== null && port <= 65535 ? port : null];
}
