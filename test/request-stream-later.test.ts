// A req.stream() made before another reader, or left part-way: what a later read gets.
import { describe, expect, it } from 'vitest';
import { Request, Response, serve } from 'tsgi';

/** 2 MB: many chunks on the socket. */
const BIG = 'x'.repeat(2 * 1024 * 1024);

/** Serves `app`, POSTs `body` to it over 127.0.0.1, and answers the JSON it answered. */
async function post(app: (req: Request) => Promise<unknown>, body: string | URLSearchParams): Promise<unknown> {
  const server = await serve(
    Request.application(async (req) => {
      try {
        return Response.json(await app(req));
      } catch (error) {
        return Response.json({ error: (error as Error).message });
      }
    }),
    { port: 0, host: '127.0.0.1', log: { write: () => {} } },
  );
  try {
    const res = await fetch(server.url, { method: 'POST', body });
    expect(res.status).toBe(200);
    return await res.json();
  } finally {
    await server.close();
  }
}

/** How many bytes iterating `body` gives. */
async function count(body: AsyncIterable<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const chunk of body) bytes += chunk.byteLength;
  return bytes;
}

describe('req.stream() and the readers around it, over a real socket', () => {
  it('a stream made before bytes() and iterated after it replays the kept body (Werkzeug)', async () => {
    const got = await post(async (req) => {
      const stream = req.stream();
      const bytes = await req.bytes();
      return { bytes: bytes.byteLength, streamed: await count(stream) };
    }, BIG);
    expect(got).toEqual({ bytes: BIG.length, streamed: BIG.length });
  });

  it('a limited stream made before bytes() replays the kept body too', async () => {
    const got = await post(async (req) => {
      const stream = req.stream({ maxBodySize: 10 * 1024 ** 2 });
      await req.bytes();
      return { streamed: await count(stream) };
    }, BIG);
    expect(got).toEqual({ streamed: BIG.length });
  });

  it('a stream made before form() and iterated after it fails saying the form parse read the body', async () => {
    const got = await post(async (req) => {
      const stream = req.stream();
      await req.form();
      return { streamed: await count(stream) };
    }, new URLSearchParams('a=1&b=2'));
    expect((got as { error: string }).error).toMatch(/^the request body was read by the form parse/);
  });

  it('bytes() after a break out of req.stream() part-way fails instead of answering the rest', async () => {
    const got = await post(async (req) => {
      for await (const chunk of req.stream()) if (chunk.byteLength > 0) break;
      return { bytes: (await req.bytes()).byteLength };
    }, BIG);
    expect((got as { error: string }).error).toMatch(/^the request body was read by req\.stream\(\)/);
  });

  it('bytes() after a break out of a limited req.stream() part-way fails too', async () => {
    const got = await post(async (req) => {
      for await (const chunk of req.stream({ maxBodySize: 10 * 1024 ** 2 })) if (chunk.byteLength > 0) break;
      return { bytes: (await req.bytes()).byteLength };
    }, BIG);
    expect((got as { error: string }).error).toMatch(/^the request body was read by req\.stream\(\)/);
  });

  it('a stream of a kept body left with break leaves it kept', async () => {
    const got = await post(async (req) => {
      await req.bytes();
      for await (const chunk of req.stream()) if (chunk.byteLength > 0) break;
      return { bytes: (await req.bytes()).byteLength };
    }, BIG);
    expect(got).toEqual({ bytes: BIG.length });
  });
});

describe('a req.stream() put in tsgi.input itself (a per-prefix body limit), over a real socket', () => {
  it('reads the input it was made over, not itself: the app below reads the body, or a 413 past the limit', async () => {
    const got = await post(async (req) => {
      // What examples/gateway.ts's limitBody does for the app below it.
      req.environ['tsgi.input'] = new Request(req.environ).stream({ maxBodySize: 3 * 1024 * 1024 });
      return { read: (await req.bytes()).byteLength };
    }, BIG);
    expect(got).toEqual({ read: BIG.length });
    const limited = await post(async (req) => {
      req.environ['tsgi.input'] = new Request(req.environ).stream({ maxBodySize: 1024 });
      return { read: (await req.bytes()).byteLength };
    }, BIG);
    expect(limited).toEqual({ error: expect.stringMatching(/1024/) });
  });
});
