// A req.stream() made before another reader, or left part-way: what a later read gets.
import { describe, expect, it } from 'vitest';
import { Request, Response, serve } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { serveFetch } from './fetch-helpers.ts';

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

describe('req.stream() read to its end, over a real socket', () => {
  it('bytes(), text(), json() and form() after it fail naming req.stream() instead of answering an empty body', async () => {
    for (const read of ['bytes', 'text', 'json', 'form'] as const) {
      const got = await post(async (req) => {
        const streamed = await count(req.stream());
        if (read === 'bytes') return { streamed, later: (await req.bytes()).byteLength };
        if (read === 'form') return { streamed, later: [...(await req.form())] };
        return { streamed, later: await req[read]({ maxBodySize: Infinity }) };
      }, read === 'form' ? new URLSearchParams('a=1&b=2') : BIG);
      expect((got as { error: string }).error, read).toMatch(/^the request body was read by req\.stream\(\) and not kept/);
    }
  });

  it('a limited stream read to its end leaves the body consumed too', async () => {
    const got = await post(async (req) => {
      const streamed = await count(req.stream({ maxBodySize: 10 * 1024 ** 2 }));
      return { streamed, later: (await req.bytes()).byteLength };
    }, BIG);
    expect((got as { error: string }).error).toMatch(/^the request body was read by req\.stream\(\) and not kept/);
  });

  it('a second req.stream() after it fails the same way, rather than yield nothing', async () => {
    const got = await post(async (req) => ({ first: await count(req.stream()), second: await count(req.stream()) }), BIG);
    expect((got as { error: string }).error).toMatch(/^the request body was read by req\.stream\(\) and not kept/);
  });

  it('under toFetchHandler (@hono/node-server) too', async () => {
    const served = await serveFetch(
      toFetchHandler(
        Request.application(async (req) => {
          const streamed = await count(req.stream());
          try {
            return Response.json({ streamed, later: (await req.bytes()).byteLength });
          } catch (error) {
            return Response.json({ streamed, error: (error as Error).message });
          }
        }),
      ),
    );
    try {
      const res = await fetch(served.url, { method: 'POST', body: BIG });
      const got = (await res.json()) as { streamed: number; error?: string };
      expect(got.streamed).toBe(BIG.length);
      expect(got.error).toMatch(/^the request body was read by req\.stream\(\) and not kept/);
    } finally {
      await served.close();
    }
  });

  it('a kept body streamed to its end stays kept', async () => {
    const got = await post(async (req) => {
      await req.bytes();
      const streamed = await count(req.stream());
      return { streamed, later: (await req.bytes()).byteLength };
    }, BIG);
    expect(got).toEqual({ streamed: BIG.length, later: BIG.length });
  });

  it('an empty body streamed to its end still reads as empty: nothing was taken from it', async () => {
    const got = await post(async (req) => ({ streamed: await count(req.stream()), later: (await req.bytes()).byteLength }), '');
    expect(got).toEqual({ streamed: 0, later: 0 });
  });
});

describe('a body read and not kept through a spread copy of the environ, over a real socket', () => {
  // A raw layer may hand its app `{ ...environ, PATH_INFO }`: the body it reads is the one the
  // layer's environ still holds.
  it('a read by the layer after the copy was read by req.stream() or form() fails naming that reader, not with an empty body', async () => {
    for (const reader of ['stream', 'form'] as const) {
      const got = await post(async (req) => {
        const copy = new Request({ ...req.environ });
        if (reader === 'stream') await count(copy.stream());
        else await copy.form();
        return { later: (await req.bytes()).byteLength };
      }, new URLSearchParams('a=1&b=2'));
      const name = reader === 'stream' ? 'req\\.stream\\(\\)' : 'the form parse';
      expect((got as { error: string }).error, reader).toMatch(new RegExp(`^the request body was read by ${name}`));
    }
  });
});
