/**
 * A raw app that leaves `for await (const chunk of environ['tsgi.input'])` with `break`, then
 * loops over it again: under toFetchHandler (over a real socket with `@hono/node-server`) and
 * under serve(), the second loop must answer alike, and never end as if the body were complete
 * (docs/spec.md §3).
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve as honoServe } from '@hono/node-server';
import { expect, it } from 'vitest';
import { type App, serve } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';

/** 2 MB: many chunks on the socket. */
const BIG = 'x'.repeat(2 * 1024 * 1024);

/** Reads the first chunk, breaks, then loops again: answers what each loop got, or the second loop's error. */
const app: App = async (environ, startResponse) => {
  let first = 0;
  for await (const chunk of environ['tsgi.input']) {
    first += chunk.byteLength;
    break;
  }
  let second: number | string = 0;
  try {
    for await (const chunk of environ['tsgi.input']) second += chunk.byteLength;
  } catch (error) {
    second = `${(error as Error).name}: ${(error as Error).message}`;
  }
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return [new TextEncoder().encode(JSON.stringify({ first: first > 0, second, whole: typeof second === 'number' && first + second === BIG.length }))];
};

async function underFetch(): Promise<unknown> {
  const handler = toFetchHandler(app);
  const server = await new Promise<http.Server>((resolve) => {
    const started = honoServe({ fetch: handler, hostname: '127.0.0.1', port: 0 }, () => resolve(started as http.Server));
  });
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { method: 'POST', body: BIG });
    return await res.json();
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

async function underServe(): Promise<unknown> {
  const server = await serve(app, { port: 0, host: '127.0.0.1', log: { write: () => {} } });
  try {
    const res = await fetch(server.url, { method: 'POST', body: BIG });
    return await res.json();
  } finally {
    await server.close();
  }
}

it('a second loop over tsgi.input after a break answers under toFetchHandler as under serve(), never as a complete body', async () => {
  const node = await underServe();
  const fetched = await underFetch();
  expect(node).toMatchObject({ whole: true });
  expect(fetched).toEqual(node);
});
