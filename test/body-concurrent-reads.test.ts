// Two readers of one request body at once (a signature check reading the body while the form
// parse runs): each would take some of the chunks, and one would answer an empty or partial body
// in silence. The second reader must fail loudly instead, whatever order they start in.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Request, Response, serve } from 'tsgi';
import { decodeBody } from 'tsgi/middleware';

/** 2 MB of urlencoded pairs: many chunks on the socket, so the two reads interleave. */
const BIG = Array.from({ length: 40 }, (_, i) => `k${i}=${'v'.repeat(50_000)}`).join('&');

type Outcome = { fields: number } | { bytes: number } | { error: string };

type Reader = 'form' | 'bytes' | 'parts' | 'stream' | 'limitedStream';

/** Iterates `body` whole and answers how many bytes it gave. */
async function count(body: AsyncIterable<Uint8Array>): Promise<Outcome> {
  let bytes = 0;
  for await (const chunk of body) bytes += chunk.byteLength;
  return { bytes };
}

/** Serves `app`'s two reads of the body started together, and answers what each got. */
async function bothReads(
  first: Reader,
  second: Reader,
  body: string | Uint8Array,
  headers: Record<string, string>,
  wrap: (app: ReturnType<typeof Request.application>) => Parameters<typeof serve>[0] = (app) => app,
): Promise<Outcome[]> {
  const form = async (req: Request): Promise<Outcome> => ({ fields: (await req.form()).size });
  const bytes = async (req: Request): Promise<Outcome> => ({ bytes: (await req.bytes()).byteLength });
  const parts = async (req: Request): Promise<Outcome> => {
    let fields = 0;
    for await (const part of req.parts()) if (part.kind === 'field') fields++;
    return { fields };
  };
  const stream = (req: Request): Promise<Outcome> => count(req.stream());
  const limitedStream = (req: Request): Promise<Outcome> => count(req.stream({ maxBodySize: 10 * 1024 ** 2 }));
  const readers = { form, bytes, parts, stream, limitedStream };
  const server = await serve(
    wrap(
      Request.application(async (req) => {
        const settled = await Promise.allSettled([readers[first](req), readers[second](req)]);
        return Response.json(settled.map((result) => (result.status === 'fulfilled' ? result.value : { error: (result.reason as Error).message })));
      }),
    ),
    { port: 0, host: '127.0.0.1', log: { write: () => {} } },
  );
  try {
    const res = await fetch(server.url, { method: 'POST', body, headers });
    expect(res.status).toBe(200);
    return (await res.json()) as Outcome[];
  } finally {
    await server.close();
  }
}

const urlencoded = { 'Content-Type': 'application/x-www-form-urlencoded' };
const busy = /^the request body is being read by (the form parse \(req\.form\(\), files\(\) or params\(\)\)|req\.bytes\(\), text\(\), json\(\) or copy\(\)|req\.stream\(\)): await that read before reading the body again/;

describe('two reads of a request body at once, over a real socket', () => {
  it('form() then bytes(): the form gets every field, bytes() fails saying the body is being read', async () => {
    const [form, bytes] = await bothReads('form', 'bytes', BIG, urlencoded);
    expect(form).toEqual({ fields: 40 });
    expect((bytes as { error: string }).error).toMatch(busy);
  });

  it('bytes() then form(): bytes() gets the whole body, form() fails instead of answering an empty form', async () => {
    const [bytes, form] = await bothReads('bytes', 'form', BIG, urlencoded);
    expect(bytes).toEqual({ bytes: BIG.length });
    expect((form as { error: string }).error).toMatch(busy);
  });

  it('bytes() then parts(): bytes() gets the whole body, the loop fails instead of yielding no part', async () => {
    const [bytes, parts] = await bothReads('bytes', 'parts', BIG, urlencoded);
    expect(bytes).toEqual({ bytes: BIG.length });
    expect((parts as { error: string }).error).toMatch(busy);
  });

  it('under decodeBody, a small gzip body: the second reader fails instead of answering an empty body', async () => {
    const coded = gzipSync('a=1&b=2');
    const headers = { ...urlencoded, 'Content-Encoding': 'gzip' };
    const [form, bytes] = await bothReads('form', 'bytes', coded, headers, (app) => decodeBody(app));
    expect(form).toEqual({ fields: 2 });
    expect((bytes as { error: string }).error).toMatch(busy);
    const [bytes2, form2] = await bothReads('bytes', 'form', coded, headers, (app) => decodeBody(app));
    expect(bytes2).toEqual({ bytes: 7 });
    expect((form2 as { error: string }).error).toMatch(busy);
  });

  // req.stream() claims the body from its first read until it ends, fails or is returned.
  for (const stream of ['stream', 'limitedStream'] as const) {
    describe(stream === 'stream' ? 'req.stream()' : 'req.stream({ maxBodySize })', () => {
      for (const other of ['form', 'bytes', 'parts'] as const) {
        it(`${stream} iterated, then ${other}(): the stream gets every byte, ${other}() fails saying the body is being read`, async () => {
          const [streamed, second] = await bothReads(stream, other, BIG, urlencoded);
          expect(streamed).toEqual({ bytes: BIG.length });
          expect((second as { error: string }).error).toMatch(busy);
          expect((second as { error: string }).error).toContain('req.stream()');
        });
      }

      for (const other of ['form', 'bytes'] as const) {
        it(`${other}(), then ${stream} iterated: ${other}() gets the whole body, the stream fails instead of taking some of it`, async () => {
          const [first, streamed] = await bothReads(other, stream, BIG, urlencoded);
          expect(first).toEqual(other === 'form' ? { fields: 40 } : { bytes: BIG.length });
          expect((streamed as { error: string }).error).toMatch(busy);
        });
      }

      it('under decodeBody, a small gzip body: the second reader fails instead of answering an empty body', async () => {
        const coded = gzipSync('a=1&b=2');
        const headers = { ...urlencoded, 'Content-Encoding': 'gzip' };
        const [streamed, form] = await bothReads(stream, 'form', coded, headers, (app) => decodeBody(app));
        expect(streamed).toEqual({ bytes: 7 });
        expect((form as { error: string }).error).toMatch(busy);
        const [bytes, streamed2] = await bothReads('bytes', stream, coded, headers, (app) => decodeBody(app));
        expect(bytes).toEqual({ bytes: 7 });
        expect((streamed2 as { error: string }).error).toMatch(busy);
      });
    });
  }

  it('req.stream() gives the body back once it ends, is returned early or is never iterated', async () => {
    const server = await serve(
      Request.application(async (req) => {
        const mode = req.query.get('mode');
        const stream = req.stream(mode === 'limited' ? { maxBodySize: 10 * 1024 ** 2 } : undefined);
        if (mode === 'unread') return Response.json({ bytes: (await req.bytes()).byteLength });
        let streamed = 0;
        for await (const chunk of stream) {
          streamed += chunk.byteLength;
          if (mode === 'break') break;
        }
        // Read on after the stream: the error of a body read and not kept once it ended, not a
        // refusal (nor an empty body); after a break, that of a body left part-way (nor the rest of it).
        const rest = await req.bytes().then(
          (bytes) => bytes.byteLength,
          (error: Error) => error.message,
        );
        return Response.json(typeof rest === 'string' ? { error: rest } : { total: streamed + rest });
      }),
      { port: 0, host: '127.0.0.1' },
    );
    try {
      for (const mode of ['end', 'limited']) {
        const res = await fetch(`${server.url}?mode=${mode}`, { method: 'POST', body: BIG, headers: urlencoded });
        expect(((await res.json()) as { error: string }).error).toMatch(/^the request body was read by req\.stream\(\) and not kept/);
      }
      const left = await fetch(`${server.url}?mode=break`, { method: 'POST', body: BIG, headers: urlencoded });
      expect(((await left.json()) as { error: string }).error).toMatch(/^the request body was read by req\.stream\(\), left part-way/);
      const res = await fetch(`${server.url}?mode=unread`, { method: 'POST', body: BIG, headers: urlencoded });
      expect(await res.json()).toEqual({ bytes: BIG.length });
    } finally {
      await server.close();
    }
  });

  it('a req.stream() that fails gives the body back: a later read gets its error, not a refusal', async () => {
    const server = await serve(
      Request.application(async (req) => {
        const failure = await count(req.stream({ maxBodySize: 1000 })).catch((error: Error) => error.message);
        const later = await req.bytes().catch((error: Error) => error.message);
        return Response.json({ failure, later });
      }),
      { port: 0, host: '127.0.0.1' },
    );
    try {
      // Chunked, so the limit is passed while streaming rather than refused before reading.
      const body = new Blob([BIG]).stream();
      const res = await fetch(server.url, { method: 'POST', body, headers: urlencoded, duplex: 'half' } as RequestInit);
      const { failure, later } = (await res.json()) as { failure: string; later: string };
      expect(failure).toMatch(/maxBodySize exceeded: the request body is larger than 1000 bytes/);
      expect(later).toBe(failure);
    } finally {
      await server.close();
    }
  });

  it('one read after the other still works: bytes() first keeps the body for the form', async () => {
    const server = await serve(
      Request.application(async (req) => {
        const raw = await req.bytes();
        return Response.json({ bytes: raw.byteLength, fields: (await req.form()).size });
      }),
      { port: 0, host: '127.0.0.1' },
    );
    try {
      const res = await fetch(server.url, { method: 'POST', body: BIG, headers: urlencoded });
      expect(await res.json()).toEqual({ bytes: BIG.length, fields: 40 });
    } finally {
      await server.close();
    }
  });
});
