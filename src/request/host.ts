/**
 * Host and port: the default port of each scheme, and splitting `host[:port]`.
 *
 * @module
 */

/** The default port of each URL scheme. */
export const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443, ws: 80, wss: 443 };

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
