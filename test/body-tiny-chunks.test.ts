// A body sent in tiny chunks (chunked, 1-byte chunks: Node's parser hands over one Buffer for
// each) must cost the server about its size while a reader gathers it, not an object of some
// hundred bytes per byte: a 490 kB form field so sent held over 100 MB (the tests send 250 kB) before it was joined.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response, serve } from 'tsgi';
import { parseForm } from 'tsgi/forms';
import { gc } from './gc.ts';

const VALUE = 250_000;

/** Sends `a=` and VALUE bytes of `x` as a chunked body of 1-byte chunks; answers the response text. */
async function sendTiny(url: string, contentType: string): Promise<string> {
  const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
  let answer = '';
  socket.on('data', (data) => (answer += data));
  socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\na=\r\n`);
  const wire = '1\r\nx\r\n'.repeat(VALUE) + '0\r\n\r\n';
  for (let i = 0; i < wire.length; i += 65_536) {
    if (!socket.write(wire.slice(i, i + 65_536))) await new Promise((resolve) => socket.once('drain', resolve));
  }
  await new Promise((resolve) => socket.on('close', resolve));
  return answer.slice(answer.indexOf('\r\n\r\n') + 4);
}

/** Sends a multipart body (boundary `B`): `head`, VALUE bytes of `x` in 1-byte chunks, `tail`; answers the response text. */
async function sendMultipart(url: string, head: string, tail: string): Promise<string> {
  const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
  let answer = '';
  socket.on('data', (data) => (answer += data));
  socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n');
  const wire = `${head.length.toString(16)}\r\n${head}\r\n${'1\r\nx\r\n'.repeat(VALUE)}${tail.length.toString(16)}\r\n${tail}\r\n0\r\n\r\n`;
  for (let i = 0; i < wire.length; i += 65_536) {
    if (!socket.write(wire.slice(i, i + 65_536))) await new Promise((resolve) => socket.once('drain', resolve));
  }
  await new Promise((resolve) => socket.on('close', resolve));
  return answer.slice(answer.indexOf('\r\n\r\n') + 4);
}

/** The most the heap grew, after a full collection, while `read` ran: sampled every few ms. */
async function heapGrowth<T>(read: () => Promise<T>): Promise<{ value: T; growth: number }> {
  gc();
  const before = process.memoryUsage().heapUsed;
  let growth = 0;
  const sample = setInterval(() => {
    gc();
    growth = Math.max(growth, process.memoryUsage().heapUsed - before);
  }, 100);
  try {
    const value = await read();
    gc();
    growth = Math.max(growth, process.memoryUsage().heapUsed - before);
    return { value, growth };
  } finally {
    clearInterval(sample);
  }
}

async function withServer(app: App, run: (url: string) => Promise<void>): Promise<void> {
  const server = await serve(app, { port: 0, host: '127.0.0.1' });
  try {
    await run(server.url);
  } finally {
    await server.close();
  }
}

describe('a body sent in 1-byte chunks, over a real socket', () => {
  it('req.form() holds about the size of the field while it arrives, not 100 MB', { timeout: 60_000 }, async () => {
    let growth = 0;
    await withServer(
      Request.application(async (req) => {
        const measured = await heapGrowth(() => req.form());
        growth = measured.growth;
        return new Response(String(measured.value.get('a')?.length));
      }),
      async (url) => {
        expect(await sendTiny(url, 'application/x-www-form-urlencoded')).toBe(String(VALUE));
      },
    );
    expect(growth).toBeLessThan(20 * 1024 * 1024);
  });

  it('req.text() holds about the size of the body while it arrives, not 100 MB', { timeout: 60_000 }, async () => {
    let growth = 0;
    await withServer(
      Request.application(async (req) => {
        const measured = await heapGrowth(() => req.text());
        growth = measured.growth;
        return new Response(String(measured.value.length));
      }),
      async (url) => {
        expect(await sendTiny(url, 'text/plain')).toBe(String(VALUE + 2));
      },
    );
    expect(growth).toBeLessThan(20 * 1024 * 1024);
  });

  it('a multipart text field holds about its size while it arrives, with req.form() and req.parts()', { timeout: 60_000 }, async () => {
    for (const reader of ['form', 'parts'] as const) {
      let growth = 0;
      await withServer(
        Request.application(async (req) => {
          const measured = await heapGrowth(async () => {
            if (reader === 'form') return (await req.form()).get('f');
            for await (const part of req.parts()) if (part.kind === 'field') return part.value;
            return undefined;
          });
          growth = measured.growth;
          return new Response(String(measured.value?.length));
        }),
        async (url) => {
          const head = '--B\r\nContent-Disposition: form-data; name="f"\r\n\r\n';
          expect(await sendMultipart(url, head, '\r\n--B--\r\n')).toBe(String(VALUE));
        },
      );
      expect([reader, growth < 20 * 1024 * 1024]).toEqual([reader, true]);
    }
  });

  it('a small file of req.files() held in memory holds about its size while it arrives', { timeout: 60_000 }, async () => {
    let growth = 0;
    await withServer(
      Request.application(async (req) => {
        const measured = await heapGrowth(() => req.files());
        growth = measured.growth;
        return new Response(String(measured.value.get('f')?.size));
      }),
      async (url) => {
        const head = '--B\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n\r\n';
        expect(await sendMultipart(url, head, '\r\n--B--\r\n')).toBe(String(VALUE));
      },
    );
    expect(growth).toBeLessThan(20 * 1024 * 1024);
  });

  it('keeps every byte in order, whatever the mix of chunk sizes (bytes(), a urlencoded form)', async () => {
    // Tiny chunks, then larger ones between them: 1, 2 and 3 bytes, 1500, 20 000 (past a block).
    const sizes = [...Array.from({ length: 40 }, (_, i) => (i % 3) + 1), 1500, 5, 20_000, ...Array.from({ length: 3000 }, (_, i) => (i % 7) + 1), 1024, 1023, 7];
    const total = sizes.reduce((sum, size) => sum + size, 0);
    const body = new Uint8Array(total).map((_, i) => 97 + ((i * 7) % 26)); // letters: no '&', '=' nor '%'
    body[0] = 0x61; // 'a'
    body[1] = 0x3d; // '='
    const chunks = (): AsyncIterable<Uint8Array> => ({
      async *[Symbol.asyncIterator]() {
        let at = 0;
        for (const size of sizes) {
          yield body.slice(at, at + size);
          at += size;
        }
      },
    });
    const req = Request.blank('/', { method: 'POST', headers: { 'Content-Type': 'text/plain' } });
    req.environ['tsgi.input'] = chunks();
    req.environ.CONTENT_LENGTH = String(total);
    expect(Buffer.from(await req.bytes()).equals(Buffer.from(body))).toBe(true);
    const form = await parseForm(chunks(), 'application/x-www-form-urlencoded');
    expect(form.fields.get('a')).toBe(Buffer.from(body.subarray(2)).toString('latin1'));
  });
});
