import { Buffer } from 'node:buffer';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, HTTPException, HTTPForbidden, Request, Response, serve } from 'tsgi';
import { encodeMultipart, parseForm } from 'tsgi/forms';

let dir: string;
let server: Awaited<ReturnType<typeof serve>>;
const seenPaths: string[] = [];

/** A raw gateway app: parses the form and answers a JSON summary of it. */
const app: App = async (environ, start) => {
  try {
    const form = await parseForm(environ['tsgi.input'], environ.CONTENT_TYPE, {
      tmpDir: dir,
      maxFileSize: 1024 * 1024,
      contentLength: environ.CONTENT_LENGTH ? Number(environ.CONTENT_LENGTH) : null,
    });
    try {
      const files = [];
      for (const [key, file] of form.files) {
        if (file.path) seenPaths.push(file.path);
        const bytes = await file.bytes();
        let sum = 0;
        for (const b of bytes) sum = (sum + b) % 65521;
        files.push({ key, filename: file.filename, contentType: file.contentType, size: file.size, inMemory: file.inMemory, sum });
      }
      start('200 OK', [['Content-Type', 'application/json']]);
      return [new TextEncoder().encode(JSON.stringify({ fields: [...form.fields], files }))];
    } finally {
      await form.cleanup();
    }
  } catch (error) {
    if (error instanceof HTTPException) return error.respond(environ, start);
    throw error;
  }
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsgi-forms-server-'));
  server = await serve(app, { port: 0 });
});
afterAll(async () => {
  // After a 413 the rest of the upload stays unread: the adapter's bounded lingering close
  // must still let the server close well before its 10 s timeout.
  const started = Date.now();
  await server.close();
  expect(Date.now() - started).toBeLessThan(5_000);
  await rm(dir, { recursive: true, force: true });
});

const checksum = (bytes: Uint8Array) => {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) % 65521;
  return sum;
};

describe('parseForm over a real socket', () => {
  it('parses a FormData body sent by fetch, spooling the big file, then cleans up', async () => {
    const big = new Uint8Array(700 * 1024).map((_, i) => (i * 7) % 256);
    const fd = new FormData();
    fd.append('title', 'Grüße');
    fd.append('tag', 'a');
    fd.append('tag', 'b');
    fd.append('doc', new Blob(['hello'], { type: 'text/plain' }), 'hello.txt');
    fd.append('big', new Blob([big]), 'big.bin');
    const res = await fetch(server.url, { method: 'POST', body: fd });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { fields: unknown; files: unknown };
    expect(json.fields).toEqual([['title', 'Grüße'], ['tag', 'a'], ['tag', 'b']]);
    expect(json.files).toEqual([
      { key: 'doc', filename: 'hello.txt', contentType: 'text/plain', size: 5, inMemory: true, sum: checksum(new TextEncoder().encode('hello')) },
      { key: 'big', filename: 'big.bin', contentType: 'application/octet-stream', size: big.length, inMemory: false, sum: checksum(big) },
    ]);
    expect(seenPaths.length).toBeGreaterThan(0);
    expect(await readdir(dir)).toEqual([]);
  });

  it('parses a hand-built multipart body', async () => {
    const { body, contentType } = encodeMultipart({ 'ключ': 'значение' }, { f: { filename: 'notes.md', content: '# hi' } });
    const res = await fetch(server.url, { method: 'POST', body, headers: { 'Content-Type': contentType } });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { fields: unknown; files: unknown };
    expect(json.fields).toEqual([['ключ', 'значение']]);
    expect(json.files).toMatchObject([{ key: 'f', filename: 'notes.md', contentType: 'text/markdown', size: 4 }]);
  });

  it('takes a Content-Type whose parameters end in ";" (an empty parameter, RFC 9110 §5.6.6), with form() and parts()', async () => {
    const { body, contentType } = encodeMultipart({ a: '1' }, { f: { filename: 'a.txt', content: 'hi' } });
    for (const type of [`${contentType};`, `${contentType} ; `, `${contentType};; charset=utf-8`]) {
      const res = await fetch(server.url, { method: 'POST', body, headers: { 'Content-Type': type } });
      expect([type, res.status]).toEqual([type, 200]);
      const json = (await res.json()) as { fields: unknown; files: unknown };
      expect(json.fields).toEqual([['a', '1']]);
      expect(json.files).toMatchObject([{ key: 'f', filename: 'a.txt', size: 2 }]);
    }
    const parts = await serve(
      Request.application(async (req) => {
        const seen: string[] = [];
        for await (const part of req.parts()) seen.push(part.kind === 'field' ? `${part.fieldName}=${part.value}` : `${part.filename}:${await new Response(part.body).text()}`);
        return Response.json(seen);
      }),
      { port: 0, host: '127.0.0.1' },
    );
    try {
      const res = await fetch(parts.url, { method: 'POST', body, headers: { 'Content-Type': `${contentType};` } });
      expect([res.status, await res.json()]).toEqual([200, ['a=1', 'a.txt:hi']]);
    } finally {
      await parts.close();
    }
  });

  it('answers 413 naming the limit for an oversized upload, and removes its temporary file', async () => {
    const { body, contentType } = encodeMultipart({}, { f: { filename: 'huge.bin', content: new Uint8Array(3 * 1024 * 1024) } });
    const res = await fetch(server.url, { method: 'POST', body, headers: { 'Content-Type': contentType } });
    expect(res.status).toBe(413);
    expect(await res.text()).toContain("maxFileSize exceeded: file 'huge.bin' is larger than 1048576 bytes");
    expect(await readdir(dir)).toEqual([]);
  });

  it('names an oversized upload by its filename* (RFC 8187) or its raw UTF-8 filename in the 413', async () => {
    for (const [disposition, named] of [
      ["form-data; name=\"f\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.bin", '日本.bin'],
      ["form-data; name=\"f\"; filename=\"x.bin\"; filename*=UTF-8''%C3%A9t%C3%A9.bin", 'été.bin'],
      ['form-data; name="f"; filename="日本.bin"', '日本.bin'],
    ]) {
      const head = Buffer.from(`--b0\r\nContent-Disposition: ${disposition}\r\nContent-Type: application/octet-stream\r\n\r\n`, 'utf8');
      const body = Buffer.concat([head, Buffer.alloc(2 * 1024 * 1024), Buffer.from('\r\n--b0--\r\n')]);
      const res = await fetch(server.url, { method: 'POST', body, headers: { 'Content-Type': 'multipart/form-data; boundary=b0' } });
      expect(res.status).toBe(413);
      expect(await res.text()).toContain(`maxFileSize exceeded: file '${named}' is larger than 1048576 bytes`);
    }
  });

  it('keeps the form limits with a repeated boundary parameter: the first one splits the body, as busboy reads it', async () => {
    const part = (name: string) => `--a\r\nContent-Disposition: form-data; name="${name}"\r\nX-Pad: ${'p'.repeat(9000)}\r\n\r\nv\r\n`;
    const body = `${part('x')}${part('y')}--a--\r\n`;
    for (const contentType of ['multipart/form-data; boundary=a', 'multipart/form-data; boundary=a; boundary=b', 'multipart/form-data; BOUNDARY="a"; boundary=b']) {
      const res = await fetch(server.url, { method: 'POST', body, headers: { 'Content-Type': contentType } });
      expect(res.status, contentType).toBe(413);
      expect(await res.text(), contentType).toContain('maxPartHeaderSize exceeded');
    }
    // the second boundary is not the body's: nothing is parsed past what the limits watched
    const res = await fetch(server.url, { method: 'POST', body, headers: { 'Content-Type': 'multipart/form-data; boundary=b; boundary=a' } });
    expect(res.status).toBe(400);
  });

  it('counts a part with filename="" and a text type as the field busboy reads, not as a file', async () => {
    // 100 files (the default maxFiles) and one such part: the limit is not exceeded.
    const files = Array.from({ length: 100 }, (_, i): [string, { filename: string; content: string }] => ['f', { filename: `${i}.txt`, content: 'x' }]);
    const { body, contentType } = encodeMultipart({}, files, { boundary: 'B' });
    const extra = '--B\r\nContent-Disposition: form-data; name="note"; filename=""\r\nContent-Type: text/plain\r\n\r\nhello\r\n';
    const text = Buffer.concat([Buffer.from(extra), body]);
    const res = await fetch(server.url, { method: 'POST', body: text, headers: { 'Content-Type': contentType } });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { fields: unknown; files: unknown[] };
    expect(json.fields).toEqual([['note', 'hello']]);
    expect(json.files).toHaveLength(100);
  });

  it('takes a file input left empty (filename="", no bytes, as browsers send it) for no file at all', async () => {
    // Chrome's body for <input name="title"> and an <input type="file" name="attachment"> with no file chosen.
    const body =
      '--B\r\nContent-Disposition: form-data; name="title"\r\n\r\nGroceries\r\n' +
      '--B\r\nContent-Disposition: form-data; name="attachment"; filename=""\r\nContent-Type: application/octet-stream\r\n\r\n\r\n' +
      '--B\r\nContent-Disposition: form-data; name="scan"; filename="empty.txt"\r\nContent-Type: text/plain\r\n\r\n\r\n--B--\r\n';
    const res = await fetch(server.url, { method: 'POST', body, headers: { 'Content-Type': 'multipart/form-data; boundary=B' } });
    expect(res.status).toBe(200);
    const json = (await res.json()) as { fields: unknown; files: Array<{ key: string }> };
    expect(json.fields).toEqual([['title', 'Groceries']]);
    // a chosen file that happens to be empty is still an upload
    expect(json.files.map((f) => f.key)).toEqual(['scan']);
  });

  it('does not count a file input left empty against maxFiles (form() and parts())', async () => {
    const limited = await serve(
      Request.application(async (req) => {
        if (req.pathInfo === '/parts') {
          const seen: string[] = [];
          for await (const part of req.parts({ maxFiles: 1, maxParts: req.query.has('few') ? 5 : 1000 })) if (part.kind === 'file') seen.push(`${part.fieldName}:${part.filename}`);
          return Response.json(seen);
        }
        return Response.json([...(await req.files({ maxFiles: 1, maxParts: req.query.has('few') ? 5 : 1000 }))].map(([key, file]) => `${key}:${file.filename}`));
      }),
      { host: '127.0.0.1', port: 0 },
    );
    try {
      const empty = (name: string) => `--B\r\nContent-Disposition: form-data; name="${name}"; filename=""\r\nContent-Type: application/octet-stream\r\n\r\n\r\n`;
      const chosen = (name: string) => `--B\r\nContent-Disposition: form-data; name="${name}"; filename="${name}.txt"\r\nContent-Type: text/plain\r\n\r\nx\r\n`;
      const post = async (path: string, body: string) => {
        const res = await fetch(new URL(path, limited.url), { method: 'POST', body, headers: { 'Content-Type': 'multipart/form-data; boundary=B' } });
        return [res.status, res.status === 200 ? await res.json() : (await res.text()).includes('maxFiles exceeded')];
      };
      // a cover image chosen, the second attachment input left empty (before and after it)
      expect(await post('/', `${empty('a')}${chosen('cover')}${empty('b')}--B--\r\n`)).toEqual([200, ['cover:cover.txt']]);
      expect(await post('/parts', `${empty('a')}${chosen('cover')}${empty('b')}--B--\r\n`)).toEqual([200, ['a:', 'cover:cover.txt', 'b:']]);
      // two files chosen are still one too many; so is a nameless part with content
      expect(await post('/', `${chosen('cover')}${chosen('other')}--B--\r\n`)).toEqual([413, true]);
      const nameless = '--B\r\nContent-Disposition: form-data; name="raw"\r\nContent-Type: application/octet-stream\r\n\r\nbytes\r\n';
      expect(await post('/', `${chosen('cover')}${nameless}--B--\r\n`)).toEqual([413, true]);
      // empty file parts are free of maxFiles, not of maxParts: a body of many is still refused
      const many = async (path: string) => {
        const res = await fetch(new URL(`${path}?few`, limited.url), { method: 'POST', body: `${Array.from({ length: 6 }, (_, i) => empty(`e${i}`)).join('')}--B--\r\n`, headers: { 'Content-Type': 'multipart/form-data; boundary=B' } });
        return [res.status, (await res.text()).includes('maxParts exceeded')];
      };
      expect(await many('/')).toEqual([413, true]);
      expect(await many('/parts')).toEqual([413, true]);
    } finally {
      await limited.close({ timeout: 500 });
    }
  });

  it('takes a urlencoded body declared charset=UTF8 (a WHATWG label of UTF-8)', async () => {
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF8' };
    const res = await fetch(server.url, { method: 'POST', body: 'a=%E2%82%AC&b=2', headers });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { fields: unknown }).fields).toEqual([['a', '€'], ['b', '2']]);
  });

  it('reads a urlencoded body declared in any WHATWG name of US-ASCII (us-ascii, ascii, ANSI_X3.4-1968) as UTF-8, its superset', async () => {
    for (const charset of ['us-ascii', 'ascii', 'ASCII', 'ANSI_X3.4-1968']) {
      const headers = { 'Content-Type': `application/x-www-form-urlencoded; charset=${charset}` };
      const res = await fetch(server.url, { method: 'POST', body: 'name=h%C3%A9llo', headers });
      expect(res.status, charset).toBe(200);
      expect(((await res.json()) as { fields: unknown }).fields, charset).toEqual([['name', 'héllo']]);
    }
  });

  it('decodes a urlencoded body in the charset it declares (Shift_JIS, ISO-8859-1, windows-1252), as WebOb does', async () => {
    const post = async (charset: string, body: string) => {
      const headers = { 'Content-Type': `application/x-www-form-urlencoded; charset=${charset}` };
      const res = await fetch(server.url, { method: 'POST', body, headers });
      return [res.status, res.status === 200 ? ((await res.json()) as { fields: unknown }).fields : await res.text()];
    };
    expect(await post('Shift_JIS', 'city=%93%8C%8B%9E&name=%8E%52%93%63+%91%BE%98%59')).toEqual([200, [['city', '東京'], ['name', '山田 太郎']]]);
    expect(await post('iso-8859-1', 'name=Jos%E9&price=5%80')).toEqual([200, [['name', 'José'], ['price', '5€']]]); // the WHATWG label: windows-1252
    expect(await post('euc-jp', '%C6%FC%CB%DC=%C6%FC%CB%DC')).toEqual([200, [['日本', '日本']]]);
    // escapes stay bytes until decoded: a malformed one is kept, a %2B is a plus, + a space
    expect(await post('latin1', 'a=%zz%E9&b=1%2B1+2')).toEqual([200, [['a', '%zzé'], ['b', '1+1 2']]]);
    // a label no decoder knows, and UTF-16 (no ASCII '=' or '&'), are still refused
    expect(await post('bogus', 'a=1')).toEqual([415, expect.stringContaining('bogus')]);
    expect(await post('utf-16le', 'a=1')).toEqual([415, expect.stringContaining('utf-16le')]);
  });

  it('answers 415 for a multipart text field in a charset busboy cannot decode, instead of handing the app no string', async () => {
    // busboy decodes UTF-8, US-ASCII, ISO-8859-1 and UTF-16LE itself; any other part charset
    // (Shift_JIS from a Japanese feature phone, windows-1251…) came out as undefined.
    const sjis = Buffer.from([0x93, 0xfa, 0x96, 0x7b]); // 日本
    for (const charset of ['shift_jis', 'windows-1251', 'no-such-charset']) {
      const body = Buffer.concat([
        Buffer.from(`--B\r\nContent-Disposition: form-data; name="city"\r\nContent-Type: text/plain; charset=${charset}\r\n\r\n`),
        sjis,
        Buffer.from('\r\n--B--\r\n'),
      ]);
      const res = await fetch(server.url, { method: 'POST', body, headers: { 'Content-Type': 'multipart/form-data; boundary=B' } });
      expect(res.status, charset).toBe(415);
      expect(await res.text(), charset).toContain(`field 'city' is in a charset the server cannot decode`);
    }
    // the charsets busboy decodes still are
    const latin1 = Buffer.concat([
      Buffer.from('--B\r\nContent-Disposition: form-data; name="name"\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n'),
      Buffer.from('Jos\xe9', 'latin1'),
      Buffer.from('\r\n--B--\r\n'),
    ]);
    const res = await fetch(server.url, { method: 'POST', body: latin1, headers: { 'Content-Type': 'multipart/form-data; boundary=B' } });
    expect(((await res.json()) as { fields: unknown }).fields).toEqual([['name', 'José']]);
  });

  it('answers 415 for a part whose filename* is in a charset busboy cannot decode, instead of dropping the upload in silence', async () => {
    const post = async (disposition: string) => {
      const body = `--B\r\nContent-Disposition: form-data; ${disposition}\r\n\r\nhello\r\n--B--\r\n`;
      const res = await fetch(server.url, { method: 'POST', body, headers: { 'Content-Type': 'multipart/form-data; boundary=B' } });
      return [res.status, res.status === 200 ? await res.json() : await res.text()];
    };
    for (const disposition of [`name="doc"; filename*=shift_jis''%93%FA.txt`, `name="doc"; filename="x.txt"; filename*=EUC-JP''%C6%FC.txt`]) {
      expect(await post(disposition), disposition).toEqual([415, expect.stringContaining(`part 'doc'`)]);
    }
    // the charsets busboy decodes still name the file
    expect(await post(`name="doc"; filename*=UTF-8''%E6%97%A5.txt`)).toEqual([200, { fields: [], files: [expect.objectContaining({ key: 'doc', filename: '日.txt', size: 5 })] }]);
    expect(await post(`name="doc"; filename*=iso-8859-1''caf%E9.txt`)).toEqual([200, { fields: [], files: [expect.objectContaining({ key: 'doc', filename: 'café.txt' })] }]);
    // what looks like such a parameter inside a quoted filename is part of the name
    expect(await post(`name="doc"; filename="notes; v*=draft'1.txt"`)).toEqual([200, { fields: [], files: [expect.objectContaining({ key: 'doc', filename: "notes; v*=draft'1.txt" })] }]);
  });

  it('answers 400 for a truncated multipart body', async () => {
    const { body, contentType } = encodeMultipart({ a: '1' });
    const res = await fetch(server.url, { method: 'POST', body: body.subarray(0, body.length - 10), headers: { 'Content-Type': contentType } });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/Malformed multipart body/);
  });

  it('stops reading a chunked upload that never ends', async () => {
    const { contentType } = encodeMultipart();
    const boundary = contentType.split('boundary=')[1]!;
    const url = new URL(server.url);
    let sent = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, method: 'POST', path: '/', headers: { 'Content-Type': contentType } });
      req.on('response', (res) => {
        res.resume();
        req.destroy();
        resolve(res.statusCode!);
      });
      req.on('error', (error) => (sent > 0 ? undefined : reject(error)));
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="endless.bin"\r\n\r\n`);
      const chunk = new Uint8Array(64 * 1024);
      const pump = () => {
        while (!req.destroyed && sent < 64 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
      };
      pump();
    });
    expect(status).toBe(413);
    expect(sent).toBeLessThan(16 * 1024 * 1024);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('Request.application over a real socket: a form parse the handler did not wait for', () => {
  it('does not hold the answer back until the upload is complete, and removes its files', async () => {
    const spool = await mkdtemp(join(tmpdir(), 'tsgi-forms-early-'));
    let parse: Promise<unknown> | undefined;
    const early = await serve(
      Request.application(async (req) => {
        parse = req.files({ tmpDir: spool, spoolThreshold: 10 }).catch(() => 'stopped');
        // the upload has started spooling; the handler refuses without waiting for the rest
        while ((await readdir(spool)).length === 0) await new Promise((r) => setTimeout(r, 5));
        throw new HTTPForbidden();
      }),
      { port: 0 },
    );
    try {
      const head = `--B\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n\r\n${'x'.repeat(1000)}`;
      const socket = net.connect(Number(new URL(early.url).port), '127.0.0.1');
      socket.on('error', () => {});
      let received = '';
      const answered = new Promise<string>((resolve) => {
        socket.on('data', (chunk: Buffer) => {
          received += chunk.toString('latin1');
          if (received.includes('\r\n\r\n')) resolve(received.split('\r\n')[0]!);
        });
        setTimeout(() => resolve('no answer'), 3_000);
      });
      // The body is declared far longer than what is sent: the client waits for the answer.
      socket.write(`POST / HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 100000\r\n\r\n${head}`);
      expect(await answered).toBe('HTTP/1.1 403 Forbidden');
      expect(await parse).toBe('stopped');
      expect(await readdir(spool)).toEqual([]);
      socket.destroy();
    } finally {
      await early.close();
      await rm(spool, { recursive: true, force: true });
    }
  });
});

describe('Request.application over a real socket: the body after a form parse', () => {
  /** An app that parses the form, then reads the body whole (a webhook checking a signature over the raw body). */
  async function bodyAfterForm(send: (url: string) => Promise<globalThis.Response>) {
    const server = await serve(
      Request.application(async (req) => {
        const fields = [...(await req.form())];
        try {
          const body = new TextDecoder().decode(await req.bytes());
          return Response.json({ fields, body, again: new TextDecoder().decode(await req.bytes()) });
        } catch (error) {
          return Response.json({ fields, error: (error as Error).message });
        }
      }),
      { port: 0, log: { write: () => {} } },
    );
    try {
      return (await (await send(server.url)).json()) as { fields: unknown; body?: string; again?: string; error?: string };
    } finally {
      await server.close();
    }
  }

  it('refuses to read a urlencoded body it did not keep, saying to call req.bytes() first, instead of answering it empty', async () => {
    const raw = 'token=abc&text=hello+world%21';
    const answer = await bodyAfterForm((url) => fetch(url, { method: 'POST', body: raw, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }));
    expect(answer.fields).toEqual([['token', 'abc'], ['text', 'hello world!']]);
    expect(answer.error).toMatch(/read by the form parse \(req\.form\(\), files\(\) or params\(\)\) and not kept: read it with await req\.bytes\(\) first to keep it/);
  });

  it('refuses to read a multipart body it did not keep, saying to call req.bytes() first, instead of answering it empty', async () => {
    const fd = new FormData();
    fd.append('a', '1');
    const answer = await bodyAfterForm((url) => fetch(url, { method: 'POST', body: fd }));
    expect(answer.fields).toEqual([['a', '1']]);
    expect(answer.error).toMatch(/read by the form parse .* and not kept: read it with await req\.bytes\(\) first to keep it/);
  });

  it.each([
    ['urlencoded, Content-Length: 0', { 'Content-Type': 'application/x-www-form-urlencoded' }, ''],
    ['multipart, Content-Length: 0', { 'Content-Type': 'multipart/form-data; boundary=B' }, ''],
    ['no Content-Type, no body', {}, undefined],
    ['urlencoded, an empty chunked body', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'chunked'],
  ] as const)('reads an empty body as empty after the form parse (%s): nothing was taken from it, as WebOb', async (_name, headers, body) => {
    const answer = await bodyAfterForm((url) =>
      fetch(url, {
        method: 'POST',
        headers,
        ...(body === 'chunked' ? { body: new ReadableStream({ start: (c) => c.close() }), duplex: 'half' } : body === undefined ? {} : { body }),
      } as RequestInit),
    );
    expect(answer).toEqual({ fields: [], body: '', again: '' });
  });

  it('RequestBody.parseForm TSDoc says what a read of the body after the parse does, for either form type', async () => {
    const source = await readFile(new URL('../src/request/body.ts', import.meta.url), 'utf8');
    const doc = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*async parseForm\(/.exec(source)![1]!.replace(/\s*\n\s*\*\s?/g, ' ');
    // What the server does: a urlencoded body is not kept either (the test above).
    const answer = await bodyAfterForm((url) => fetch(url, { method: 'POST', body: 'a=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }));
    expect(answer.error).toMatch(/not kept/);
    expect(doc).not.toMatch(/urlencoded body stays readable/);
    expect(doc).toMatch(/The body is not kept \(a urlencoded body's pairs are split as it streams, a multipart body's files are spooled\)/);
  });

  it('keeps a multipart body read whole first', async () => {
    const server = await serve(
      Request.application(async (req) => {
        const raw = await req.bytes();
        const fields = [...(await req.form())];
        return Response.json({ fields, same: (await req.bytes()) === raw });
      }),
      { port: 0 },
    );
    try {
      const fd = new FormData();
      fd.append('a', '1');
      expect(await (await fetch(server.url, { method: 'POST', body: fd })).json()).toEqual({ fields: [['a', '1']], same: true });
    } finally {
      await server.close();
    }
  });
});

describe('Request.application over a real socket: form options after the first read', () => {
  /** An app that reads the fields, then the files with a limit of its own (Flask's `request.form`, then `request.files`). */
  async function formThenFiles(options: { maxFileSize?: number; tmpDir?: string }, body: FormData) {
    const errors: string[] = [];
    const server = await serve(
      Request.application(async (req) => {
        const fields = [...(await req.form())];
        try {
          const files = await req.files(options);
          return Response.json({ fields, sizes: [...files.values()].map((file) => file.size) });
        } catch (error) {
          if (error instanceof HTTPException) throw error;
          return Response.json({ fields, error: `${(error as Error).name}: ${(error as Error).message}` });
        }
      }),
      { port: 0, log: { write: (line: string) => void errors.push(line) } },
    );
    try {
      const res = await fetch(server.url, { method: 'POST', body });
      return { status: res.status, answer: (await res.json()) as { fields: unknown; sizes?: number[]; error?: string } };
    } finally {
      await server.close();
    }
  }

  it('refuses a limit given after the form was parsed without it, instead of ignoring it', async () => {
    const fd = new FormData();
    fd.append('note', 'hi');
    fd.append('file', new Blob([new Uint8Array(2000)]), 'big.bin');
    const { status, answer } = await formThenFiles({ maxFileSize: 1000 }, fd);
    expect(status).toBe(200);
    expect(answer.fields).toEqual([['note', 'hi']]);
    expect(answer.sizes).toBeUndefined();
    expect(answer.error).toMatch(/^TypeError: the form of this request was already read with other options \(maxFileSize 104857600, not 1000\)/);
  });

  it('takes options equal to those the form was parsed with', async () => {
    const fd = new FormData();
    fd.append('file', new Blob([new Uint8Array(10)]), 'small.bin');
    const { answer } = await formThenFiles({ maxFileSize: 100 * 1024 * 1024 }, fd);
    expect(answer).toEqual({ fields: [], sizes: [10] });
  });

  it('takes the default folder for the uploads spelled out, however it is written', async () => {
    for (const tmpDir of [tmpdir(), `${tmpdir()}/`, `${tmpdir()}/./`]) {
      const fd = new FormData();
      fd.append('file', new Blob([new Uint8Array(10)]), 'small.bin');
      const { answer } = await formThenFiles({ tmpDir }, fd);
      expect(answer, tmpDir).toEqual({ fields: [], sizes: [10] });
    }
  });
});

describe('Request.application over a real socket: saveTo', () => {
  it('saves a spooled upload with the mode a new file gets, as an in-memory one, not the private mode of its temporary file', async () => {
    const saved = await mkdtemp(join(tmpdir(), 'tsgi-forms-saved-'));
    const app = Request.application(async (req) => {
      const files = await req.files({ spoolThreshold: 100 });
      for (const file of files.values()) await file.saveTo(join(saved, file.filename));
      return new Response('ok');
    });
    const handle = await serve(app, { port: 0 });
    try {
      const body = new FormData();
      body.append('f', new Blob(['small']), 'small.txt');
      body.append('f', new Blob([new Uint8Array(1000)]), 'large.bin');
      const res = await fetch(`http://127.0.0.1:${handle.port}/`, { method: 'POST', body });
      expect(res.status).toBe(200);
      const small = (await stat(join(saved, 'small.txt'))).mode & 0o777;
      const large = (await stat(join(saved, 'large.bin'))).mode & 0o777;
      expect(small).not.toBe(0o600);
      expect(large).toBe(small);
    } finally {
      await handle.close();
      await rm(saved, { recursive: true, force: true });
    }
  });
});

describe('Request.application over a real socket: safeFilename', () => {
  it('gives a name a file system takes (255 bytes at most, the extension kept) for a client filename too long for one', async () => {
    const saved = await mkdtemp(join(tmpdir(), 'tsgi-forms-names-'));
    const app = Request.application(async (req) => {
      const names = [];
      for (const file of (await req.files()).values()) {
        await file.saveTo(join(saved, file.safeFilename));
        names.push(file.safeFilename);
      }
      return Response.json(names);
    });
    const handle = await serve(app, { port: 0 });
    try {
      const body = new FormData();
      body.append('f', new Blob(['a']), `${'a'.repeat(300)}.txt`);
      body.append('f', new Blob(['b']), `${'é'.repeat(200)}.pdf`);
      body.append('f', new Blob(['c']), `${'😀'.repeat(70)}`);
      const res = await fetch(`http://127.0.0.1:${handle.port}/`, { method: 'POST', body });
      expect(res.status).toBe(200);
      const names = (await res.json()) as string[];
      const bytes = (name: string) => Buffer.byteLength(name);
      expect(names[0]).toBe(`${'a'.repeat(251)}.txt`);
      expect(names[1]).toBe(`${'é'.repeat(125)}.pdf`);
      expect(names[2]).toBe('😀'.repeat(63));
      expect(names.map(bytes).every((n) => n <= 255)).toBe(true);
      expect((await readdir(saved)).sort()).toEqual([...names].sort());
    } finally {
      await handle.close();
      await rm(saved, { recursive: true, force: true });
    }
  });
});

describe('Request.application over a real socket: saveTo onto an existing file', () => {
  it('leaves the file it would replace as it was when the temporary file cannot be read', async () => {
    const saved = await mkdtemp(join(tmpdir(), 'tsgi-forms-keep-'));
    const dest = join(saved, 'report.bin');
    const app = Request.application(async (req) => {
      const [file] = [...(await req.files({ spoolThreshold: 100 })).values()];
      await writeFile(dest, 'previous');
      await rm(file!.path!); // gone from under the upload (a tmp cleaner, a move)
      const error = await file!.saveTo(dest).then(() => null, (e: NodeJS.ErrnoException) => e.code);
      return new Response(`${error} ${await readFile(dest, 'utf8')}`);
    });
    const handle = await serve(app, { port: 0 });
    try {
      const body = new FormData();
      body.append('f', new Blob([new Uint8Array(1000)]), 'large.bin');
      const res = await fetch(`http://127.0.0.1:${handle.port}/`, { method: 'POST', body });
      expect(await res.text()).toBe('ENOENT previous');
    } finally {
      await handle.close();
      await rm(saved, { recursive: true, force: true });
    }
  });
});

describe('Request.application over a real socket: safeFilename cut at a grapheme', () => {
  it('cuts a long name between user-perceived characters (no half emoji sequence), never down to a dotfile', async () => {
    const app = Request.application(async (req) => Response.json((await req.files()).getAll('f').map((file) => file.safeFilename)));
    const handle = await serve(app, { port: 0 });
    try {
      const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}'; // 18 UTF-8 bytes, one grapheme
      const body = new FormData();
      body.append('f', new Blob(['a']), `${family.repeat(40)}.txt`);
      body.append('f', new Blob(['b']), `a${'\u0301'.repeat(300)}.txt`); // one grapheme of 601 bytes
      const res = await fetch(`http://127.0.0.1:${handle.port}/`, { method: 'POST', body });
      const names = (await res.json()) as string[];
      expect(names[0]).toBe(`${family.repeat(13)}.txt`);
      expect(names[1]!.startsWith('a')).toBe(true);
      expect(names[1]!.endsWith('.txt')).toBe(true);
      expect(names.every((name) => Buffer.byteLength(name) <= 255)).toBe(true);
    } finally {
      await handle.close();
    }
  });
});

describe('Request.application over a real socket: a layer below the owner passing a copy of the environ', () => {
  // Outer layer (owns the request's end) → raw layer spreading the environ → inner handler.
  const copying =
    (inner: App): App =>
    (environ, startResponse) =>
      inner({ ...environ, PATH_INFO: '/inner' }, startResponse);

  it("removes the uploads the inner handler parsed on the copy once the answer is sent", async () => {
    const spool = await mkdtemp(join(tmpdir(), 'tsgi-forms-copy-'));
    let path: string | undefined;
    const inner = Request.application(async (req) => {
      const file = (await req.files({ tmpDir: spool, spoolThreshold: 10 })).get('f') as { path?: string; size: number };
      path = file.path;
      return new Response(`${req.pathInfo}:${file.size}`);
    });
    const outer = Request.application(async (req) => {
      const res = await req.getResponse(copying(inner));
      res.headers.set('X-Outer', '1');
      return res;
    });
    const copied = await serve(outer, { port: 0 });
    try {
      const fd = new FormData();
      fd.set('f', new Blob(['x'.repeat(4096)]), 'a.bin');
      const res = await fetch(copied.url, { method: 'POST', body: fd });
      expect(await res.text()).toBe('/inner:4096');
      expect(res.headers.get('x-outer')).toBe('1');
      expect(path).toBeDefined();
      // The server has answered; the owner's end runs as its body ends.
      for (let i = 0; i < 50 && (await readdir(spool)).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await readdir(spool)).toEqual([]);
    } finally {
      await copied.close();
      await rm(spool, { recursive: true, force: true });
    }
  });

  it('closes a streamed answer the inner handler got on the copy and nobody sent', async () => {
    let closed = false;
    const streaming = Request.application(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull: (controller) => controller.enqueue(new TextEncoder().encode('never sent')),
            cancel: () => void (closed = true),
          }),
        ),
    );
    const dropping = Request.application(async (req) => {
      const res = await req.getResponse(streaming);
      return new Response(`dropped ${res.statusCode}`);
    });
    const outer = Request.application(async (req) => req.getResponse(copying(dropping)));
    const copied = await serve(outer, { port: 0 });
    try {
      const res = await fetch(copied.url);
      expect(await res.text()).toBe('dropped 200');
      for (let i = 0; i < 50 && !closed; i++) await new Promise((r) => setTimeout(r, 10));
      expect(closed).toBe(true);
    } finally {
      await copied.close();
    }
  });
});

describe('Request.application over a real socket: a form its streamed body parses', () => {
  it('removes the uploads once the body is sent, as for a form the handler parsed before answering', async () => {
    const spool = await mkdtemp(join(tmpdir(), 'tsgi-forms-late-'));
    const enc = new TextEncoder();
    // Answers at once, then reads the upload while streaming its progress.
    const progress = Request.application(
      (req) =>
        new Response(
          (async function* () {
            yield enc.encode('reading\n');
            const file = (await req.files({ tmpDir: spool, spoolThreshold: 10 })).get('f') as { size: number };
            yield enc.encode(`got ${file.size}\n`);
          })(),
        ),
    );
    const late = await serve(progress, { port: 0 });
    try {
      const fd = new FormData();
      fd.set('f', new Blob(['x'.repeat(4096)]), 'a.bin');
      const res = await fetch(late.url, { method: 'POST', body: fd });
      expect(await res.text()).toBe('reading\ngot 4096\n');
      for (let i = 0; i < 50 && (await readdir(spool)).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await readdir(spool)).toEqual([]);
    } finally {
      await late.close();
      await rm(spool, { recursive: true, force: true });
    }
  });

  it('keeps them while the body reads them after calling an app through getResponse', async () => {
    const spool = await mkdtemp(join(tmpdir(), 'tsgi-forms-late-inner-'));
    const enc = new TextEncoder();
    const inner = Request.application(() => 'inner');
    const progress = Request.application(
      (req) =>
        new Response(
          (async function* () {
            yield enc.encode('reading\n');
            const file = (await req.files({ tmpDir: spool, spoolThreshold: 10 })).get('f')!;
            // An app called now must not end the request the body is still part of.
            yield enc.encode(`${await (await req.getResponse(inner)).text()}\n`);
            yield enc.encode(`read ${(await file.bytes()).byteLength}\n`);
          })(),
        ),
    );
    const late = await serve(progress, { port: 0, log: { write() {} } });
    try {
      const fd = new FormData();
      fd.set('f', new Blob(['x'.repeat(4096)]), 'a.bin');
      const res = await fetch(late.url, { method: 'POST', body: fd });
      expect(await res.text()).toBe('reading\ninner\nread 4096\n');
      for (let i = 0; i < 50 && (await readdir(spool)).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await readdir(spool)).toEqual([]);
    } finally {
      await late.close();
      await rm(spool, { recursive: true, force: true });
    }
  });
});
