/**
 * An `Error` carrying a `statusCode` (Fastify's `@fastify/error`, `@fastify/sensible`'s
 * `httpErrors`, `http-errors` as Express and Koa use it) is a 500 in tsgi, where those
 * frameworks answer its status: the logged 500 says why, and what to throw instead.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HTTPServiceUnavailable, Request, type ServerHandle, serve } from 'tsgi';
import { errors } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import { errorLog } from './node-helpers.ts';

const servers: ServerHandle[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** An app throwing `error`. */
const throwing = (error: unknown) => Request.application(() => { throw error; });

describe('an error with a statusCode', () => {
  it('is a 500 whose log line says the status is not read and what to throw', async () => {
    const log = errorLog();
    const client = new TestClient(errors(throwing(Object.assign(new Error('Note 3 not found'), { statusCode: 404 })), { log }));
    expect((await client.get('/notes/3', { status: 500 })).statusCode).toBe(500);
    expect(log.text).toMatch(/^\[tsgi\] GET \/notes\/3 HTTP\/1\.1 500: Error: Note 3 not found\n/);
    expect(log.text).toContain('\n  (the error\'s statusCode 404 is not read: only an HTTPException sets the status; to answer 404, throw one, as abort(404) does)\n');
    expect(log.messages).toHaveLength(1);
  });

  it('reads status too (http-errors sets both), and says it under the server\'s own 500', async () => {
    const log = errorLog();
    const server = await serve(throwing(Object.assign(new Error('Conflict'), { status: 409 })), { host: '127.0.0.1', port: 0, log });
    servers.push(server);
    const res = await fetch(new URL('/x', server.url), { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(500);
    await res.arrayBuffer();
    await expect.poll(() => log.text).toContain("(the error's status 409 is not read: only an HTTPException sets the status; to answer 409, throw one, as abort(409) does)");
  });

  it("is advice for a status the app meant, not an order: an API client's 429 about its own request", async () => {
    const log = errorLog();
    // An SDK's error (OpenAI's APIError, Octokit's, axios's) carries the upstream's status: answering it is a choice.
    const upstream = Object.assign(new Error('Rate limit reached for requests'), { status: 429 });
    await new TestClient(errors(throwing(upstream), { log })).get('/summary', { status: 500, allowErrors: true });
    expect(log.text).toContain("(the error's status 429 is not read: only an HTTPException sets the status; to answer 429, throw one, as abort(429) does)");
  });

  it('says nothing for an HTTPException (a 503 with a cause, logged), a status outside 400 to 599, or a plain error', async () => {
    const log = errorLog();
    // A statusCode 500 (http-errors' createError()) was answered as it said: nothing to add.
    for (const error of [Object.assign(new Error('odd'), { statusCode: 200 }), Object.assign(new Error('internal'), { statusCode: 500, expose: false }), Object.assign(new Error('text'), { status: 'failed' }), new Error('plain'), new HTTPServiceUnavailable('down', { cause: new Error('the database') })]) {
      await new TestClient(errors(throwing(error), { log })).get('/', { status: '*', allowErrors: true });
    }
    expect(log.text).toContain('the database');
    expect(log.text).not.toContain('is not read');
  });
});
