/**
 * `res.toFetch()` sends the dates an origin server may send, as `respond()` does: a
 * `Last-Modified` later than the moment it is sent goes out as that moment (RFC 9110
 * §8.8.2.1), served by a fetch server (@hono/node-server) over a socket.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve as honoServe } from '@hono/node-server';
import { expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { parseHttpDate } from 'tsgi/http';
import { request, start } from './node-helpers.ts';

const DAY = 24 * 60 * 60 * 1000;

/** A response whose `Last-Modified` is a day ahead (a row written by a host whose clock runs ahead). */
function ahead(): Response {
  const res = new Response('page', { contentType: 'text/plain' });
  res.lastModified = Date.now() + DAY;
  return res;
}

it('toFetch() sends a future Last-Modified as the time it is sent, as respond() does, and the Response keeps its own', async () => {
  const server = await new Promise<http.Server>((resolve) => {
    const started = honoServe({ fetch: () => ahead().toFetch(), hostname: '127.0.0.1', port: 0 }, () => resolve(started as http.Server));
  });
  try {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const res = await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const after = Date.now();
    expect(res.body.toString()).toBe('page');
    const sent = parseHttpDate(res.headers['last-modified']!)!.getTime();
    expect(sent).toBeGreaterThanOrEqual(before);
    expect(sent).toBeLessThanOrEqual(after);
    // Not later than the Date the answer carries (RFC 9110 §8.8.2.1).
    expect(sent).toBeLessThanOrEqual(parseHttpDate(res.headers.date!)!.getTime());
  } finally {
    server.closeAllConnections();
    server.close();
  }
  // As serve() sends it.
  const served = await start(Request.application(() => ahead()));
  const viaServe = await request(served.url);
  expect(parseHttpDate(viaServe.headers['last-modified']!)!.getTime()).toBeLessThanOrEqual(Date.now());
  const kept = ahead();
  kept.toFetch();
  expect(kept.lastModified!.getTime()).toBeGreaterThan(Date.now());
});
