/**
 * `req.parts()` over a real socket (`serve()`): fields and files in body order, each file's
 * body read as it arrives, limits while streaming, backpressure down to the socket, a client
 * that hangs up mid-part, a loop left early, and the other body readers before and after.
 */
import { Buffer } from 'node:buffer';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type default as http, request as httpRequest } from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { type App, type AppLike, HTTPContentTooLarge, HTTPException, MultiDict, Request, Response } from 'tsgi';
import { cors, errors } from 'tsgi/middleware';
import { DEFAULT_FORM_LIMITS, type FilePart, type FormPart, encodeMultipart } from 'tsgi/forms';
import { deferred, request, sleep, start } from './node-helpers.ts';

const BOUNDARY = 'parts-test-boundary';
const CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

/** The head of a file part, as a browser sends it. */
const fileHead = (name: string, filename: string, type = 'application/octet-stream') =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`;
const fieldPart = (name: string, value: string) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const closing = `--${BOUNDARY}--\r\n`;

/** A sum of the bytes, to compare contents without keeping them. */
function checksum(chunks: Iterable<Uint8Array>, sum = 0): number {
  for (const chunk of chunks) for (const b of chunk) sum = (sum + b) % 65521;
  return sum;
}

/**
 * A raw client posting `before`, then `size` bytes of file content (`fill`), then `after`, with
 * `Content-Length` (unless `truncate`: it then hangs up after `truncate` content bytes),
 * writing with backpressure. Answers the response text once the server closes or answers.
 */
function postStreaming(
  port: number,
  { before, size, after, truncate }: { before: string; size: number; after: string; truncate?: number },
): { response: Promise<string>; sent: () => number } {
  const socket = net.connect({ port, host: '127.0.0.1' });
  const head = Buffer.from(before, 'latin1');
  const tail = Buffer.from(after, 'latin1');
  const length = head.length + size + tail.length;
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(120);
  const received: Buffer[] = [];
  socket.on('data', (data: Buffer) => received.push(data));
  socket.on('error', () => {});
  const response = new Promise<string>((resolve) => socket.on('close', () => resolve(Buffer.concat(received).toString('latin1'))));
  socket.write(`POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: ${CONTENT_TYPE}\r\nContent-Length: ${length}\r\n\r\n`);
  socket.write(head);
  const limit = truncate ?? size;
  const pump = () => {
    while (sent < limit && socket.writable) {
      const piece = chunk.subarray(0, Math.min(chunk.byteLength, limit - sent));
      sent += piece.byteLength;
      if (!socket.write(piece)) return void socket.once('drain', pump);
    }
    if (truncate !== undefined) socket.destroy();
    else socket.write(tail);
  };
  pump();
  return { response, sent: () => sent };
}

/** The listeners on a request stream's events that a reader uses. */
const listeners = (stream: http.IncomingMessage): number =>
  ['readable', 'data', 'end', 'error', 'close'].reduce((sum, event) => sum + stream.listenerCount(event), 0);

/** An app answering 413/400/415 for an HTTPException, as `Request.application` does, with the detail as text. */
const answer = (error: unknown): Response => {
  if (error instanceof HTTPException) return new Response(`${error.code} ${error.detail ?? ''}`, { status: error.code });
  throw error;
};

/** The `uploadApp` of docs/forms.md's S3-style example, as written there. */
async function docsUploadApp(): Promise<(bucket: unknown) => AppLike> {
  const docs = readFileSync(new URL('../docs/forms.md', import.meta.url), 'utf8');
  const code = /```ts\n((?:(?!```)[\s\S])*export const uploadApp[\s\S]*?)```/.exec(docs)![1]!;
  const dir = mkdtempSync(path.join(tmpdir(), 'tsgi-docs-parts-'));
  const file = path.join(dir, 'upload.ts');
  writeFileSync(file, code);
  try {
    return ((await import(file)) as { uploadApp: (bucket: unknown) => AppLike }).uploadApp;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('req.parts() over a real socket', () => {
  it('yields fields and files in body order; a file body reads as a stream or an async iterable, and one left unread is skipped', async () => {
    const seen: unknown[] = [];
    let lateRead: unknown;
    const server = await start(
      Request.application(async (req) => {
        let skipped: FilePart | undefined;
        for await (const part of req.parts()) {
          if (part.kind === 'field') {
            seen.push(['field', part.fieldName, part.value]);
          } else if (part.fieldName === 'skip') {
            seen.push(['skipped', part.filename]);
            skipped = part;
          } else if (part.fieldName === 'a') {
            const chunks: Uint8Array[] = [];
            for await (const chunk of part.body) chunks.push(chunk);
            seen.push(['file', part.fieldName, part.filename, part.safeFilename, part.contentType, Buffer.concat(chunks).toString()]);
          } else {
            const text = await new Response(part.body).text();
            seen.push(['file', part.fieldName, part.filename, part.safeFilename, part.contentType, text.length, checksum([Buffer.from(text)])]);
          }
        }
        lateRead = await skipped!.body.getReader().read().catch((error: unknown) => error);
        return new Response('ok');
      }),
    );
    const big = 'x'.repeat(300 * 1024);
    const fd = new FormData();
    fd.append('title', 'Grüße');
    fd.append('a', new Blob(['hello'], { type: 'text/plain' }), '../etc/a.txt');
    fd.append('tag', 'one');
    fd.append('skip', new Blob([new Uint8Array(200 * 1024)]), 'ignored.bin');
    fd.append('big', new Blob([big]), 'big.txt'); // no type: application/octet-stream
    fd.append('tag', 'two');
    const res = await fetch(server.url, { method: 'POST', body: fd });
    expect(res.status).toBe(200);
    expect(seen).toEqual([
      ['field', 'title', 'Grüße'],
      ['file', 'a', '../etc/a.txt', 'a.txt', 'text/plain', 'hello'],
      ['field', 'tag', 'one'],
      ['skipped', 'ignored.bin'],
      ['file', 'big', 'big.txt', 'big.txt', 'application/octet-stream', big.length, checksum([Buffer.from(big)])],
      ['field', 'tag', 'two'],
    ]);
    expect(String(lateRead)).toContain('the body of file part "ignored.bin" was skipped');
  });

  it('keeps the bytes the server holds bounded while a slow sink reads a large part: the client is slowed down', async () => {
    const size = 24 * 1024 * 1024;
    const firstChunk = deferred();
    const samples: number[] = [];
    let socketReadWhilePaused = -1;
    let total = 0;
    let sum = 0;
    const server = await start(
      Request.application(async (req) => {
        const stream = (req.environ['tsgi.input'] as unknown as { stream: http.IncomingMessage }).stream;
        const head = stream.socket.bytesRead; // request head and what came with it
        for await (const part of req.parts({ maxFileSize: Infinity, maxBodySize: Infinity })) {
          if (part.kind !== 'file') continue;
          let chunks = 0;
          for await (const chunk of part.body) {
            total += chunk.byteLength;
            sum = checksum([chunk], sum);
            if (chunks++ === 0) {
              firstChunk.resolve();
              await sleep(400); // the sink stalls: the client keeps trying to send
              socketReadWhilePaused = stream.socket.bytesRead - head;
            } else if (chunks % 16 === 0) {
              await sleep(1); // a slow sink
            }
            // Taken from the socket but not yet handed to the sink.
            samples.push(stream.socket.bytesRead - head - total);
          }
        }
        return new Response(`${total}`);
      }),
    );
    const client = postStreaming(server.port, { before: fileHead('file', 'big.bin'), size, after: `\r\n${closing}` });
    await firstChunk.promise;
    const text = await client.response;
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text.endsWith(`\r\n\r\n${size}`)).toBe(true);
    expect(sum).toBe((120 * size) % 65521);
    // While the sink stalled, the server stopped reading the socket: the rest waited in the
    // kernel's buffers and the client, not in the server's memory.
    expect(socketReadWhilePaused).toBeGreaterThan(0);
    expect(socketReadWhilePaused).toBeLessThan(2 * 1024 * 1024);
    expect(Math.max(...samples)).toBeLessThan(1024 * 1024);
  });

  it('a limit passed mid-part fails the read of that part with the 413 naming it; the next part never comes', async () => {
    let readError: unknown;
    const later: string[] = [];
    const server = await start(
      Request.application(async (req) => {
        try {
          for await (const part of req.parts({ maxFileSize: 100_000 })) {
            if (part.kind === 'field') later.push(part.fieldName);
            else {
              try {
                for await (const _chunk of part.body);
              } catch (error) {
                readError = error;
                throw error;
              }
            }
          }
        } catch (error) {
          return answer(error);
        }
        return new Response('ok');
      }),
    );
    const client = postStreaming(server.port, { before: fileHead('file', 'big.iso'), size: 1024 * 1024, after: `\r\n${fieldPart('after', 'x')}${closing}` });
    const text = await client.response;
    expect(text).toMatch(/^HTTP\/1\.1 413/);
    expect(text).toContain("maxFileSize exceeded: file 'big.iso' is larger than 100000 bytes");
    expect(readError).toBeInstanceOf(HTTPException);
    expect((readError as HTTPException).code).toBe(413);
    expect(later).toEqual([]);
  });

  it('counts fields, files and parts while streaming, and refuses before reading what it can', async () => {
    const server = await start(
      Request.application(async (req) => {
        const names: string[] = [];
        try {
          for await (const part of req.parts({ maxFields: 2, maxFiles: 1, maxBodySize: 10_000 })) names.push(part.fieldName);
        } catch (error) {
          return answer(error);
        }
        return new Response(names.join(','));
      }),
    );
    const post = (body: string | Uint8Array, headers: http.OutgoingHttpHeaders = {}) =>
      request(server.url, { method: 'POST', body, headers: { 'Content-Type': CONTENT_TYPE, ...headers } });
    const fields = await post(`${fieldPart('a', '1')}${fieldPart('b', '2')}${fieldPart('c', '3')}${closing}`);
    expect([fields.status, fields.body.toString()]).toEqual([413, '413 maxFields exceeded: the form has more than 2 fields']);
    const files = await post(`${fileHead('f', '1.txt')}1\r\n${fileHead('g', '2.txt')}2\r\n${closing}`);
    expect([files.status, files.body.toString()]).toEqual([413, '413 maxFiles exceeded: the form has more than 1 files']);
    const declared = await post('x'.repeat(20_000));
    expect([declared.status, declared.body.toString()]).toEqual([413, '413 maxBodySize exceeded: the request body is larger than 10000 bytes']);
    const chunked = await new Promise<string>((resolve, reject) => {
      // No Content-Length: counted as it streams, refused at the chunk that passes the limit.
      const req = httpRequest(server.url, { method: 'POST', headers: { 'Content-Type': CONTENT_TYPE }, agent: false }, (res) => {
        let text = `${res.statusCode} `;
        res.on('data', (chunk: Buffer) => (text += chunk));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.write(`${fileHead('f', 'big.bin')}`);
      const piece = 'y'.repeat(4096);
      const write = (left: number): void => {
        if (left === 0) return void req.end(`\r\n${closing}`);
        if (req.destroyed) return;
        req.write(piece, () => setImmediate(write, left - 1));
      };
      write(5);
    });
    expect(chunked).toBe('413 413 maxBodySize exceeded: the request body is larger than 10000 bytes');
    const truncated = await post(`${fieldPart('a', '1')}--${BOUNDARY}\r\nContent-Disposition: form-data; name="b"\r\n\r\nno end`);
    expect(truncated.status).toBe(400);
    expect(truncated.body.toString()).toContain('Malformed multipart body');
    const noBoundary = await post('', { 'Content-Type': 'multipart/form-data' });
    expect([noBoundary.status, noBoundary.body.toString()]).toEqual([400, '400 multipart/form-data without a boundary parameter']);
    const gzip = await post(`${fieldPart('a', '1')}${closing}`, { 'Content-Encoding': 'gzip' });
    expect(gzip.status).toBe(415);
    const ok = await post(`${fieldPart('a', '1')}${fileHead('f', '1.txt')}1\r\n${closing}`);
    expect([ok.status, ok.body.toString()]).toEqual([200, 'a,f']);
    const urlencoded = await post('x=1&y=2', { 'Content-Type': 'application/x-www-form-urlencoded' });
    expect([urlencoded.status, urlencoded.body.toString()]).toEqual([200, 'x,y']);
    const shiftJis = await post('%93%8C%8B%9E=1&%91%E5%8D%E3=2', { 'Content-Type': 'application/x-www-form-urlencoded; charset=shift_jis' });
    expect([shiftJis.status, shiftJis.body.toString()]).toEqual([200, '東京,大阪']);
    const json = await post('{}', { 'Content-Type': 'application/json' });
    expect([json.status, json.body.toString()]).toEqual([200, '']);
  });

  it('a client that hangs up mid-part fails the read of the part with a 400, and leaves no listener on the request', async () => {
    const failed = deferred<unknown>();
    let stream: http.IncomingMessage | undefined;
    let baseline = -1;
    const server = await start(
      Request.application(async (req) => {
        stream = (req.environ['tsgi.input'] as unknown as { stream: http.IncomingMessage }).stream;
        baseline = listeners(stream);
        for await (const part of req.parts()) {
          if (part.kind !== 'file') continue;
          try {
            for await (const _chunk of part.body) await sleep(1);
          } catch (error) {
            failed.resolve(error);
            throw error;
          }
        }
        return new Response('ok');
      }),
    );
    postStreaming(server.port, { before: fileHead('file', 'big.bin'), size: 4 * 1024 * 1024, after: closing, truncate: 512 * 1024 });
    const error = (await failed.promise) as HTTPException;
    expect(error).toBeInstanceOf(HTTPException);
    expect(error.code).toBe(400);
    expect(error.detail).toBe('The request body could not be read completely.');
    expect(['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE']).toContain((error.cause as { code?: string }).code);
    await sleep(20);
    expect(listeners(stream!)).toBe(baseline);
    const after = await request(server.url, { method: 'POST', body: `${fieldPart('a', '1')}${closing}`, headers: { 'Content-Type': CONTENT_TYPE } });
    expect(after.status).toBe(200);
  });

  it('a loop left early answers at once; the rest of the body is not read, and later readers are told why', async () => {
    let bytesError: unknown;
    let stream: http.IncomingMessage | undefined;
    let leftOver = -1;
    const server = await start(
      Request.application(async (req) => {
        stream = (req.environ['tsgi.input'] as unknown as { stream: http.IncomingMessage }).stream;
        const before = listeners(stream);
        let first: FormPart | undefined;
        for await (const part of req.parts()) {
          first = part;
          break;
        }
        leftOver = listeners(stream) - before;
        bytesError = await req.bytes().catch((error: unknown) => error);
        return new Response(`first ${first?.fieldName}`);
      }),
    );
    const client = postStreaming(server.port, { before: `${fieldPart('note', 'hi')}${fileHead('file', 'big.bin')}`, size: 64 * 1024 * 1024, after: closing });
    const text = await client.response;
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text.endsWith('first note')).toBe(true);
    expect(client.sent()).toBeLessThan(64 * 1024 * 1024);
    expect(String(bytesError)).toContain('the request body was read by req.parts() and not kept: read it with await req.bytes() first to keep it');
    expect(leftOver).toBe(0);
    const after = await request(server.url, { method: 'POST', body: `${fieldPart('a', '1')}${closing}`, headers: { 'Content-Type': CONTENT_TYPE } });
    expect(after.status).toBe(200);
  });

  it('runs once per body: after form() it throws the error the other readers give, form() after it throws; after bytes() it reads the copy', async () => {
    const { body, contentType } = encodeMultipart({ a: '1' }, { f: { filename: 'f.txt', content: 'F' } });
    const outcomes: Record<string, string> = {};
    const server = await start(
      Request.application(async (req) => {
        const order = req.query.get('order');
        const parts = async () => {
          const names: string[] = [];
          for await (const part of req.parts()) names.push(part.kind === 'file' ? `${part.fieldName}=${await new Response(part.body).text()}` : `${part.fieldName}=${part.value}`);
          return names.join(',');
        };
        const outcome = (promise: Promise<unknown>) => promise.then(String, (error: unknown) => `${(error as Error).constructor.name}: ${(error as Error).message}`);
        if (order === 'form-then-parts') outcomes[order] = `${[...(await req.form())].join()} | ${await outcome(parts())}`;
        if (order === 'parts-then-form') outcomes[order] = `${await parts()} | ${await outcome(req.form())}`;
        if (order === 'parts-twice') outcomes[order] = `${await parts()} | ${await outcome(parts())}`;
        if (order === 'bytes-then-parts') outcomes[order] = `${(await req.bytes()).byteLength > 0} | ${await parts()} | ${await parts()} | ${[...(await req.form())].join()}`;
        return new Response('ok');
      }),
    );
    for (const order of ['form-then-parts', 'parts-then-form', 'parts-twice', 'bytes-then-parts']) {
      const res = await request(`${server.url}/?order=${order}`, { method: 'POST', body, headers: { 'Content-Type': contentType } });
      expect(res.status).toBe(200);
    }
    const consumed = (reader: string) => `Error: the request body was read by ${reader} and not kept: read it with await req.bytes() first to keep it`;
    expect(outcomes).toEqual({
      'form-then-parts': `a,1 | ${consumed('the form parse (req.form(), files() or params())')}`,
      'parts-then-form': `a=1,f=F | ${consumed('req.parts()')}`,
      'parts-twice': `a=1,f=F | ${consumed('req.parts()')}`,
      'bytes-then-parts': 'true | a=1,f=F | a=1,f=F | a,1',
    });
  });

  it('docs/forms.md: the S3-style example streams each file to a slow bucket, and removes what it stored when the client hangs up', async () => {
    const uploadApp = await docsUploadApp();
    const objects = new Map<string, { contentType: string; size: number; sum: number }>();
    const bucket = {
      async put(key: string, body: ReadableStream<Uint8Array>, { contentType }: { contentType: string }) {
        let size = 0;
        let sum = 0;
        for await (const chunk of body) {
          size += chunk.byteLength;
          sum = checksum([chunk], sum);
          objects.set(key, { contentType, size, sum }); // a partial object while it uploads
          await sleep(1); // the store's own pace
        }
      },
      async delete(key: string) {
        objects.delete(key);
      },
    };
    const server = await start(uploadApp(bucket));
    const size = 3 * 1024 * 1024;
    const ok = postStreaming(server.port, { before: `${fieldPart('title', 'holiday')}${fileHead('photo', 'a.jpg', 'image/jpeg')}`, size, after: `\r\n${closing}` });
    const text = await ok.response;
    expect(text).toMatch(/^HTTP\/1\.1 201/);
    const { title, keys } = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { title: string; keys: string[] };
    expect(title).toBe('holiday');
    expect(keys).toHaveLength(1);
    expect(objects.get(keys[0]!)).toEqual({ contentType: 'image/jpeg', size, sum: (120 * size) % 65521 });
    objects.clear();
    const putting = deferred();
    bucket.put = ((put) => async (...args: Parameters<typeof put>) => {
      putting.resolve();
      return put(...args);
    })(bucket.put);
    postStreaming(server.port, { before: fileHead('photo', 'b.jpg', 'image/jpeg'), size, after: closing, truncate: 1024 * 1024 });
    await putting.promise;
    await sleep(300);
    expect(objects.size).toBe(0);
  });

  it('docs/forms.md: the S3-style example stores nothing for a file input left empty, as a browser sends it, and answers 400', async () => {
    const uploadApp = await docsUploadApp();
    const stored: string[] = [];
    const bucket = {
      async put(key: string, body: ReadableStream<Uint8Array>) {
        for await (const _chunk of body);
        stored.push(key);
      },
      async delete() {},
    };
    const server = await start(uploadApp(bucket));
    // <input type="file"> with no file chosen: filename="", application/octet-stream, no bytes.
    const body = `${fieldPart('title', 'holiday')}${fileHead('photo', '')}\r\n${closing}`;
    const res = await request(server.url, { method: 'POST', body, headers: { 'Content-Type': CONTENT_TYPE } });
    expect(res.status).toBe(400);
    expect(res.body.toString()).toContain('No file in the form.');
    expect(stored).toEqual([]);
  });
});

describe('req.parts() into a sink that wraps errors', () => {
  it('docs/forms.md: the S3-style example over fetch answers a malformed body 400, not the 500 of fetch failed', async () => {
    const uploadApp = await docsUploadApp();
    const store = await start(
      Request.application(async (req) => {
        await req.bytes();
        return new Response('stored');
      }),
    );
    // A put by fetch, as the docs suggest: fetch rejects with `TypeError: fetch failed`, the body's error as its cause.
    const bucket = {
      async put(key: string, body: ReadableStream<Uint8Array>) {
        const res = await fetch(`${store.url}/${key}`, { method: 'PUT', body, duplex: 'half' } as RequestInit);
        if (!res.ok) throw new Error(`PUT ${key}: ${res.status}`);
      },
      async delete() {},
    };
    const server = await start(uploadApp(bucket));
    // The file part never ends: no closing boundary.
    const truncated = await request(server.url, { method: 'POST', body: `${fileHead('photo', 'a.jpg', 'image/jpeg')}${'x'.repeat(100_000)}`, headers: { 'Content-Type': CONTENT_TYPE } });
    expect(truncated.status).toBe(400);
    expect(truncated.body.toString()).toContain('Malformed multipart body');
    expect(server.log.text).toBe('');
  });
});

/**
 * A sink that PUTs `body` to `store` with fetch, as the docs suggest: fetch rejects with
 * `TypeError: fetch failed`, the body's error as its `cause`. `failed` settles with that error.
 */
function fetchSink(storeUrl: string): { put(body: ReadableStream<Uint8Array>): Promise<void>; failed: Promise<unknown> } {
  const failed = deferred<unknown>();
  return {
    failed: failed.promise,
    async put(body) {
      try {
        const res = await fetch(`${storeUrl}/object`, { method: 'PUT', body, duplex: 'half' } as RequestInit);
        if (!res.ok) throw new Error(`PUT: ${res.status}`);
      } catch (error) {
        failed.resolve(error);
        throw error;
      }
    },
  };
}

/** A slow object store: reads each PUT body a chunk at a time, with a pause between chunks. */
const slowStore = () =>
  start(
    Request.application(async (req) => {
      for await (const _chunk of req.stream()) await sleep(1);
      return new Response('stored');
    }),
  );

describe('a body failure wrapped by the sink answers itself (its 413 or 400), not a 500', () => {
  // The part's head comes in the first chunk, its content past the limit in later ones.
  const bigFile = `${fileHead('a', 'a.bin')}${'a'.repeat(1024 * 1024)}\r\n${closing}`;

  it('Request.application: a file part past maxFileSize streamed by fetch answers 413, and nothing is logged', async () => {
    const store = await slowStore();
    const sink = fetchSink(store.url);
    const server = await start(
      Request.application(async (req) => {
        for await (const part of req.parts({ maxFileSize: 200_000 })) if (part.kind === 'file') await sink.put(part.body);
        return new Response('ok');
      }),
    );
    const res = await request(server.url, { method: 'POST', body: bigFile, headers: { 'Content-Type': CONTENT_TYPE } });
    const wrapped = (await sink.failed) as Error;
    expect([wrapped.name, (wrapped.cause as HTTPException).code]).toEqual(['TypeError', 413]);
    expect(res.status).toBe(413);
    expect(res.body.toString()).toContain('maxFileSize exceeded');
    expect(server.log.text).toBe('');
  });

  it('Request.application: the error of user code wrapping it (Error with cause, two levels deep) answers the same 413', async () => {
    const store = await slowStore();
    const sink = fetchSink(store.url);
    const server = await start(
      Request.application(async (req) => {
        for await (const part of req.parts({ maxFileSize: 200_000 })) {
          if (part.kind !== 'file') continue;
          try {
            await sink.put(part.body);
          } catch (cause) {
            throw new Error('upload failed', { cause });
          }
        }
        return new Response('ok');
      }),
    );
    const res = await request(server.url, { method: 'POST', body: bigFile, headers: { 'Content-Type': CONTENT_TYPE } });
    expect(res.status).toBe(413);
    expect(server.log.text).toBe('');
  });

  it('a client that hangs up mid-upload is not logged as an app error: Request.application, a raw app bare and under errors()', async () => {
    const store = await slowStore();
    let sink = fetchSink(store.url);
    const upload = async (req: Request) => {
      for await (const part of req.parts()) if (part.kind === 'file') await sink.put(part.body);
    };
    const raw: App = async (environ, startResponse) => {
      await upload(new Request(environ));
      startResponse('200 OK', []);
      return [];
    };
    const apps: AppLike[] = [Request.application(async (req) => (await upload(req), new Response('ok'))), raw, errors(raw)];
    for (const app of apps) {
      sink = fetchSink(store.url);
      const server = await start(app);
      postStreaming(server.port, { before: fileHead('file', 'big.bin'), size: 4 * 1024 * 1024, after: closing, truncate: 512 * 1024 });
      const wrapped = (await sink.failed) as Error;
      expect([wrapped.name, (wrapped.cause as HTTPException).code]).toEqual(['TypeError', 400]);
      await sleep(50);
      expect(server.log.text).toBe('');
    }
  });

  it('a genuine app error stays a logged 500: a cause that is another HTTPException than the body failure, a cycle of causes', async () => {
    const later: unknown[] = [];
    const server = await start(
      Request.application(async (req) => {
        let failure: unknown;
        try {
          for await (const part of req.parts({ maxFileSize: 200_000 })) if (part.kind === 'file') await new Response(part.body).bytes();
        } catch (error) {
          failure = error;
        }
        // A later reader gets the failed read's 413, not the consumed body's error.
        later.push(await req.bytes().catch((error: unknown) => (error as HTTPException).code));
        if (req.query.get('kind') === 'other') {
          // The body did fail with a 413, but this error wraps one of its own making.
          throw new Error('quota check failed', { cause: new HTTPContentTooLarge('quota') });
        }
        const looped = new Error('looped') as Error & { cause?: unknown };
        looped.cause = new Error('inner', { cause: looped });
        throw failure === undefined ? new Error('no failure') : looped;
      }),
    );
    for (const kind of ['other', 'cycle']) {
      const res = await request(`${server.url}/?kind=${kind}`, { method: 'POST', body: bigFile, headers: { 'Content-Type': CONTENT_TYPE } });
      expect(res.status).toBe(500);
    }
    expect(later).toEqual([413, 413]);
    expect(server.log.text).toContain('quota check failed');
    expect(server.log.text).toContain('looped');
  });

  it('a raw gateway app under serve(), bare and under errors(): the wrapped 413 answers 413, nothing logged', async () => {
    const store = await slowStore();
    const raw: App = async (environ, startResponse) => {
      const sink = fetchSink(store.url);
      for await (const part of new Request(environ).parts({ maxFileSize: 200_000 })) if (part.kind === 'file') await sink.put(part.body);
      startResponse('200 OK', []);
      return [];
    };
    for (const app of [raw, errors(raw)]) {
      const server = await start(app);
      const res = await request(server.url, { method: 'POST', body: bigFile, headers: { 'Content-Type': CONTENT_TYPE } });
      expect(res.status).toBe(413);
      expect(server.log.text).toBe('');
    }
  });
});

describe('a body failure wrapped by the sink, under a middleware that edits the head (cors)', () => {
  it("a raw app's wrapped 413 is answered by cors() itself, so the page carries its grant, and nothing is logged", async () => {
    const store = await slowStore();
    const bigFile = `${fileHead('a', 'a.bin')}${'a'.repeat(1024 * 1024)}\r\n${closing}`;
    const raw: App = async (environ, startResponse) => {
      const sink = fetchSink(store.url);
      for await (const part of new Request(environ).parts({ maxFileSize: 200_000 })) if (part.kind === 'file') await sink.put(part.body);
      startResponse('200 OK', []);
      return [];
    };
    const server = await start(cors(raw));
    const res = await request(server.url, {
      method: 'POST',
      body: bigFile,
      headers: { 'Content-Type': CONTENT_TYPE, Origin: 'https://app.example' },
    });
    expect(res.status).toBe(413);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(server.log.text).toBe('');
  });
});

describe('a body failure after the head', () => {
  it('serve() cuts a response whose body fails after its head with a file part past maxFileSize, and logs nothing (the client caused it)', async () => {
    const bigFile = `${fileHead('a', 'a.bin')}${'a'.repeat(1024 * 1024)}\r\n${closing}`;
    let failure: unknown;
    const app: App = (environ, startResponse) =>
      (async function* () {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        yield new TextEncoder().encode('reading\n');
        await sleep(20); // the head is out
        try {
          for await (const part of new Request(environ).parts({ maxFileSize: 200_000 })) if (part.kind === 'file') await new Response(part.body).bytes();
        } catch (error) {
          failure = error;
          throw error;
        }
        yield new TextEncoder().encode('read\n');
      })();
    const server = await start(app);
    const res = await request(server.url, { method: 'POST', body: bigFile, headers: { 'Content-Type': CONTENT_TYPE } }).catch((error: unknown) => error);
    expect((failure as HTTPException).code).toBe(413);
    expect(res).toBeInstanceOf(Error); // cut: the client's read of the body fails
    await sleep(50);
    expect(server.log.text).toBe('');
  });
});

describe('req.parts() TSDoc', () => {
  it('the @example of RequestBody.parts runs as written: fields by their name, files to the bucket, a body limit as large as the file limit', async () => {
    const source = readFileSync(new URL('../src/request/body.ts', import.meta.url), 'utf8');
    const doc = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*parts\(/.exec(source)![1]!;
    const example = /@example\s*\n\s*\* ```ts\n([\s\S]*?)\n\s*\* ```/.exec(doc)![1]!.replace(/^\s*\* ?/gm, '');
    const run = new Function('req', 'fields', 'bucket', 'crypto', `return (async () => {\n${example}\n})();`) as (...args: unknown[]) => Promise<void>;
    const stored: Array<[string, string]> = [];
    const bucket = { put: async (key: string, body: ReadableStream<Uint8Array>) => void stored.push([key.replace(/[0-9a-f-]{36}$/, 'ID'), await new Response(body).text()]) };
    let asked: Record<string, number> = {};
    const server = await start(
      Request.application(async (req) => {
        const fields = new MultiDict<string>();
        const parts = req.parts.bind(req);
        req.parts = (options) => {
          asked = { ...options } as Record<string, number>;
          return parts(options);
        };
        await run(req, fields, bucket, globalThis.crypto);
        return Response.json([...fields]);
      }),
    );
    const { body, contentType } = encodeMultipart({ title: 'holiday' }, { photo: { filename: 'a.jpg', content: 'JPEG' } });
    const res = await request(server.url, { method: 'POST', body, headers: { 'Content-Type': contentType } });
    expect([res.status, JSON.parse(res.body.toString())]).toEqual([200, [['title', 'holiday']]]);
    expect(stored).toEqual([['uploads/ID', 'JPEG']]);
    // A file limit above the body limit (default 100 MiB) would never be reached.
    expect(asked.maxBodySize ?? DEFAULT_FORM_LIMITS.maxBodySize).toBeGreaterThanOrEqual(asked.maxFileSize ?? DEFAULT_FORM_LIMITS.maxFileSize);
  });
});

describe('req.parts() gives its claim on the body back, over a real socket', () => {
  // A raw layer may hand its app a spread copy of the environ (`{ ...environ, PATH_INFO }`): the
  // app's parts() loop reads the body the layer's environ still holds.
  it('a reader of the same body after the loop (ended, left with break, or failed) gets the consumed-body error, not "being read by"', async () => {
    const { body, contentType } = encodeMultipart({ a: '1', b: '2', c: '3' }, { f: { filename: 'f.txt', content: 'F' } });
    const server = await start(
      Request.application(async (req) => {
        const how = req.query.get('how');
        const names: string[] = [];
        let failure = '';
        try {
          for await (const part of new Request({ ...req.environ }).parts(how === 'fail' ? { maxFields: 1 } : {})) {
            names.push(part.fieldName);
            if (how === 'break') break;
          }
        } catch (error) {
          failure = (error as Error).message;
        }
        const later = await req.bytes().then(
          (bytes) => `${bytes.byteLength} bytes`,
          (error: Error) => error.message,
        );
        return Response.json({ names, failure, later });
      }),
    );
    const consumed = 'the request body was read by req.parts() and not kept: read it with await req.bytes() first to keep it';
    for (const how of ['end', 'break', 'fail']) {
      const res = await request(`${server.url}/?how=${how}`, { method: 'POST', body, headers: { 'Content-Type': contentType } });
      const got = JSON.parse(res.body.toString()) as { names: string[]; failure: string; later: string };
      if (how !== 'fail') expect(got.names, how).toEqual(how === 'end' ? ['a', 'b', 'c', 'f'] : ['a']);
      if (how === 'fail') expect(got.failure).toMatch(/maxFields/);
      expect(got.later, how).toBe(consumed);
    }
  });
});

describe('req.parts() over a req.stream({ maxBodySize }) put in tsgi.input (a per-prefix body limit), over a real socket', () => {
  it('reads the parts through the limited stream, instead of failing with a 400 at once', async () => {
    const { body, contentType } = encodeMultipart({ a: '1' }, { f: { filename: 'f.txt', content: 'F'.repeat(10_000) } });
    const server = await start(
      Request.application(async (req) => {
        // What examples/gateway.ts's limitBody does for the app below it.
        req.environ['tsgi.input'] = new Request(req.environ).stream({ maxBodySize: Number(req.query.get('limit')) });
        const names: string[] = [];
        try {
          for await (const part of req.parts()) names.push(part.kind === 'file' ? `${part.fieldName}=${(await new Response(part.body).bytes()).byteLength}` : part.fieldName);
        } catch (error) {
          return Response.json({ names, error: `${(error as HTTPException).code ?? ''} ${(error as Error).message}` });
        }
        return Response.json({ names });
      }),
    );
    const res = await request(`${server.url}/?limit=${1024 * 1024}`, { method: 'POST', body, headers: { 'Content-Type': contentType } });
    expect(JSON.parse(res.body.toString())).toEqual({ names: ['a', 'f=10000'] });
  });
});

describe('req.parts() claims the body at the loop\'s first step, not at the call (Werkzeug reads its stream lazily), over a real socket', () => {
  it('parts() called but not iterated leaves the body to req.form(); the loop started after it is refused, naming the form parse', async () => {
    const { body, contentType } = encodeMultipart({ a: '1' }, { f: { filename: 'f.txt', content: 'F' } });
    const server = await start(
      Request.application(async (req) => {
        const parts = req.parts();
        const form = await req.form();
        const files = await req.files();
        const later = await parts.next().then(
          () => 'iterated',
          (error: Error) => `${error.constructor.name}: ${error.message}`,
        );
        return Response.json({ fields: [...form], files: [...files].map(([name, file]) => [name, file.filename]), later });
      }),
    );
    const res = await request(server.url, { method: 'POST', body, headers: { 'Content-Type': contentType } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({
      fields: [['a', '1']],
      files: [['f', 'f.txt']],
      later: 'Error: the request body was read by the form parse (req.form(), files() or params()) and not kept: read it with await req.bytes() first to keep it',
    });
  });

  it('a loop started reads the body for itself: req.form() after its first part names req.parts()', async () => {
    const { body, contentType } = encodeMultipart({ a: '1', b: '2' });
    const server = await start(
      Request.application(async (req) => {
        const parts = req.parts();
        const first = await parts.next();
        const form = await req.form().then(
          () => 'read',
          (error: Error) => error.message,
        );
        await parts.return?.();
        return Response.json({ first: (first.value as FormPart).fieldName, form });
      }),
    );
    const res = await request(server.url, { method: 'POST', body, headers: { 'Content-Type': contentType } });
    expect(JSON.parse(res.body.toString())).toEqual({
      first: 'a',
      form: 'the request body was read by req.parts() and not kept: read it with await req.bytes() first to keep it',
    });
  });
});
