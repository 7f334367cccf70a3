/**
 * tsgi/testing's TestClient with a streamed request body read after the call is over (a
 * promise the handler left running, or a read `timeout` cut short): as under `serve()`, where
 * the server discards or cuts an unread body once the answer is out, the read fails, and never
 * resolves with an empty or shorter body taken for the whole one (spec §3). The body the app
 * had not begun fails as discarded; one it was reading fails as broken off (400).
 */
import { describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { timeout } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';

const encoder = new TextEncoder();

/** What a read settled with: its byte count, or the error's name, status and message. */
function outcome(read: Promise<Uint8Array>): Promise<string> {
  return read.then(
    (bytes) => `read ${bytes.byteLength} bytes`,
    (error: Error & { code?: number }) => `${error.name}${error.code === undefined ? '' : ` ${error.code}`}: ${error.message}`,
  );
}

describe('a streamed request body read after the call is over', () => {
  it('fails as discarded, as under serve(), when the app had not begun it: never an empty body', async () => {
    let late: Promise<string> | undefined;
    const app = Request.application((req) => {
      late = new Promise((resolve) => setTimeout(resolve, 20)).then(() => outcome(req.bytes()));
      return new Response('accepted', { status: 202 });
    });
    async function* body() {
      yield encoder.encode('{"id":1}');
    }
    const res = await new TestClient(app).post('/', { body: body() });
    expect(res.statusCode).toBe(202);
    expect(await late).toMatch(/^Error: The request body was discarded once the response was sent/);
  });

  it('fails a read under way as a body broken off (400), as under serve(), when timeout answered first: never the part read as the whole', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reading: Promise<string> | undefined;
    const app = Request.application(async (req) => {
      reading = outcome(req.bytes());
      await reading;
      return new Response('stored');
    });
    async function* body() {
      yield encoder.encode('{"id":1,');
      await held; // the rest comes after the 503
      yield encoder.encode('"name":"x"}');
    }
    const res = await new TestClient(timeout(app, { ms: 50 })).post('/', { body: body(), status: 503 });
    expect(res.statusCode).toBe(503);
    release();
    expect(await reading).toMatch(/^HTTPBadRequest 400: The request body could not be read completely/);
  });
});
