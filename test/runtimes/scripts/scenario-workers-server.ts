/**
 * Serves test/runtimes/scripts/scenario-workers-app.ts with `serve()` on Node, examples/public
 * under `/public`; prints `Serving on <url>`.
 */
import { serve } from 'tsgi';
import { directoryApp } from 'tsgi/middleware';
import { makeApp } from './scenario-workers-app.ts';

const server = await serve(makeApp(process.env.SESSION_SECRET!, directoryApp('examples/public')), { host: '127.0.0.1', port: 0, maxBodySize: 64 * 1024 });
console.log(`Serving on ${server.url}`);
