/**
 * examples/everywhere.ts inside Express 5: `toNodeHandler(app)` is a `(req, res)` handler, so
 * it mounts with `use`. Express's mount path becomes `SCRIPT_NAME` (`/tsgi`), the rest of the
 * path `PATH_INFO`, and the app builds its URLs (redirects, `applicationUrl`) with the prefix.
 *
 * ```sh
 * node --conditions=tsgi-source examples/express.ts      # PORT=8000 HOST=127.0.0.1 by default
 * curl http://127.0.0.1:8000/tsgi/env/x                   # SCRIPT_NAME "/tsgi", PATH_INFO "/env/x"
 * curl http://127.0.0.1:8000/                             # Express's own route
 * ```
 *
 * On SIGTERM it stops gracefully: `toNodeHandler`'s `shutdownSignal` ends the event streams in
 * flight (`server.close()` would otherwise wait for them for ever) and tells long polls
 * (`req.shutdownSignal`).
 *
 * Mount tsgi before any Express middleware that reads request bodies (`express.json()`): a
 * body they consumed is gone for `tsgi.input`.
 *
 * @module
 */
import express from 'express';
import { toNodeHandler } from 'tsgi/node';
import { app } from './everywhere.ts';

/** Aborted when the server begins to stop: event streams end then (see the SIGTERM handler below). */
const stopping = new AbortController();

/** The Express app: the tsgi app at `/tsgi`, one Express route at `/`. */
export const web = express();
web.use('/tsgi', toNodeHandler(app, { shutdownSignal: stopping.signal }));
web.get('/', (_req, res) => {
  res.type('text/plain').send('Express here; the tsgi app is at /tsgi/\n');
});

if (import.meta.main) {
  const host = process.env.HOST ?? '127.0.0.1';
  const server = web.listen(Number(process.env.PORT ?? 8000), host, () => {
    const address = server.address();
    console.log(`Serving on http://${host}:${typeof address === 'object' && address ? address.port : ''}`);
  });
  // A graceful stop: the answers in flight finish (event streams end at once, as complete
  // responses), idle connections close, then the process exits.
  process.once('SIGTERM', () => {
    stopping.abort();
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  });
}
