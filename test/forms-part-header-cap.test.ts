import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Request, type Response as TsgiResponse, Response, serve } from 'tsgi';
import { parseForm } from 'tsgi/forms';

/** busboy's own cap on a part's header block, CRLFs included. */
const CAP = 16 * 1024;
const BOUNDARY = 'cap-boundary';

/** A one-field body whose part header block is exactly `size` bytes, CRLFs included. */
function bodyWithHeaderBlock(size: number): string {
  const disposition = 'Content-Disposition: form-data; name="a"\r\n';
  const padStart = 'X-Pad: ';
  const pad = 'p'.repeat(size - disposition.length - padStart.length - 4);
  const head = `${disposition}${padStart}${pad}\r\n\r\n`;
  expect(head.length).toBe(size);
  return `--${BOUNDARY}\r\n${head}v\r\n--${BOUNDARY}--\r\n`;
}

let server: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  server = await serve(Request.application(async (req): Promise<TsgiResponse> => {
    const form = await req.form({ maxPartHeaderSize: CAP });
    return new Response(`a=${form.get('a')}`);
  }), { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server.close();
});

const post = (body: string) => fetch(server.url, { method: 'POST', body, headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` } });

describe("maxPartHeaderSize and busboy's 16 KiB cap", () => {
  it('refuses a value above the cap with a TypeError naming it, Infinity included', async () => {
    for (const value of [CAP + 1, 64 * 1024, Infinity]) {
      const error = await parseForm((async function* () {})(), `multipart/form-data; boundary=${BOUNDARY}`, { maxPartHeaderSize: value }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, String(value)).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/maxPartHeaderSize.*16384/);
    }
  });

  it('takes a block busboy counts at exactly its cap, over a socket', async () => {
    // two field lines: busboy counts 3 bytes twice (the second line's first byte, each value's first)
    const res = await post(bodyWithHeaderBlock(CAP - 3));
    expect(await res.text()).toBe('a=v');
    expect(res.status).toBe(200);
  });

  it("answers a block busboy counts past its cap with the 413 naming the limit, not busboy's 400", async () => {
    for (const size of [CAP - 2, CAP, CAP + 1]) {
      const res = await post(bodyWithHeaderBlock(size));
      expect(res.status, String(size)).toBe(413);
      expect(await res.text(), String(size)).toContain('maxPartHeaderSize exceeded: the headers of part 1 are ');
    }
  });
});
