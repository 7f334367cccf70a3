/**
 * The Fastify 5 row of the conformance suite: examples/everywhere.ts through `toNodeHandler`,
 * on every method and path. Fastify parses some bodies itself (JSON, text) before a route runs:
 * one catch-all content-type parser that leaves the stream unread keeps the body for
 * `tsgi.input`; `reply.hijack()` tells Fastify the response is written by someone else.
 */
import Fastify from 'fastify';
import { toNodeHandler } from 'tsgi/node';
import { app } from '../../../examples/everywhere.ts';

// Aborted on SIGTERM, before `fastify.close()`: event streams end then, which close() would wait for.
const stopping = new AbortController();
const handler = toNodeHandler(app, { shutdownSignal: stopping.signal });
const fastify = Fastify({ bodyLimit: 1024 ** 3 });
fastify.removeAllContentTypeParsers();
fastify.addContentTypeParser('*', (_request, _payload, done) => done(null));
fastify.all('/*', (request, reply) => {
  reply.hijack();
  handler(request.raw, reply.raw);
});
const url = await fastify.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
console.log(`Serving on ${url}`);
process.once('SIGTERM', async () => {
  stopping.abort();
  await fastify.close();
  process.exit(0);
});
