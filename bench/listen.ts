/**
 * Serving a Node `(req, res)` handler on 127.0.0.1 for the benchmark, and the shape of a
 * started target server.
 *
 * @module
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A started server. */
export interface Running {
  /** `http://127.0.0.1:<port>/` (a fixed route's URL for the single-route targets). */
  url: string;
  /** Stops the server; resolves when it is closed. */
  close(): Promise<void>;
}

/**
 * Serves a Node `(req, res)` handler with `node:http` on 127.0.0.1 and a free port; the
 * helper for every framework that can give such a handler. `options` go to
 * `http.createServer` (default none).
 */
export function listen(handler: http.RequestListener, options: http.ServerOptions = {}): Promise<Running> {
  const server = http.createServer(options, handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
