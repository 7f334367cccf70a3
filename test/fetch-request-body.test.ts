/**
 * toFetchHandler and a request body whose stream fails: a client gone mid-upload is a 400 to
 * the body readers (Deno's `BadResource` included, see test/runtimes/fetch-cut-upload.test.ts),
 * but a failure that is not the client's, a bug in a stream the user put in front of the
 * handler, stays an app error: a logged 500, not a 400 that hides it. Over a real socket with
 * `@hono/node-server`.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve as honoServe } from '@hono/node-server';
import { expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { errorLog } from './node-helpers.ts';

it("answers a bug in the user's own request-body stream as an app error (logged 500), not as the client's body breaking off", async () => {
  const log = errorLog();
  const handler = toFetchHandler(
    Request.application(async (req) => new Response(`read ${(await req.bytes()).byteLength}`)),
    { log },
  );
  const buggy = new TransformStream<Uint8Array, Uint8Array>({
    transform() {
      throw new TypeError('checksum is not a function');
    },
  });
  const fetchHandler = (request: globalThis.Request) =>
    handler(new globalThis.Request(request, { body: request.body!.pipeThrough(buggy), duplex: 'half' } as RequestInit));
  const server = await new Promise<http.Server>((resolve) => {
    const started = honoServe({ fetch: fetchHandler, hostname: '127.0.0.1', port: 0 }, () => resolve(started as http.Server));
  });
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`, { method: 'POST', body: 'payload' });
    expect(res.status).toBe(500);
    await res.text();
    expect(log.text).toMatch(/^\[tsgi\] POST \/upload HTTP\/1\.1: TypeError: checksum is not a function/);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
