/**
 * A layer that begins iterating `tsgi.input` and leaves the iteration open (reads a chunk to
 * sniff it, and neither finishes nor returns) hands on a stream with a `readable` listener,
 * which keeps it out of flowing mode: the body readers below must still answer (the rest of
 * the body, spec §3: what the layer read is gone), under serve() as in the TestClient, where
 * `req.text()` waited for ever for `data` that never came.
 */
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { TestClient } from 'tsgi/testing';
import { start } from './node-helpers.ts';

/** Reads the body's first chunk and leaves its iteration open. */
const sniff = (app: App): App => async (environ, startResponse) => {
  const chunks = environ['tsgi.input'][Symbol.asyncIterator]();
  const first = await chunks.next();
  environ['sniff.bytes'] = first.done ? 0 : first.value.byteLength;
  return app(environ, startResponse);
};

const text = Request.application(async (req) => new Response(`rest: ${JSON.stringify(await req.text())}`));
const form = Request.application(async (req) => new Response(`fields: ${JSON.stringify([...(await req.form()).keys()])}`));

async function post(port: number, body: string, type: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body, headers: { 'content-type': type }, signal: AbortSignal.timeout(3000) });
  return { status: res.status, text: await res.text() };
}

describe('a body reader below a layer that left an iteration of tsgi.input open', () => {
  it('answers req.text() with the rest of the body, served as in the TestClient', async () => {
    const app = sniff(text);
    const server = await start(app);
    expect(await post(server.port, 'hello', 'text/plain')).toEqual({ status: 200, text: 'rest: ""' });
    const res = await new TestClient(app).post('/', { body: 'hello', headers: { 'content-type': 'text/plain' } });
    expect(await res.text()).toBe('rest: ""');
  });

  it('answers req.form() with what is left', async () => {
    const server = await start(sniff(form));
    expect(await post(server.port, 'a=1&b=2', 'application/x-www-form-urlencoded')).toEqual({ status: 200, text: 'fields: []' });
  });
});
