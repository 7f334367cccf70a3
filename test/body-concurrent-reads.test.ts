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

/** Serves `app`'s two reads of the body started together, and answers what each got. */
async function bothReads(
  first: 'form' | 'bytes',
  second: 'form' | 'bytes' | 'parts',
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
  const readers = { form, bytes, parts };
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
const busy = /^the request body is being read by (the form parse \(req\.form\(\), files\(\) or params\(\)\)|req\.bytes\(\), text\(\) or json\(\)): await that read before reading the body again/;

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
