/**
 * Scenario: a file upload and download service built as docs/forms.md and
 * docs/middleware-static.md show it, driven over a socket as curl, browsers and hostile clients
 * drive it. Multipart uploads of several files are streamed to disk with `req.parts()` within
 * per-file and per-request limits (a 413 while the body streams, the partial file removed);
 * types are checked by extension and by the part's declared type; stored names come from
 * `safeFilename` (no traversal from `../` or `\`, Unicode kept); a client that hangs up leaves
 * nothing on disk; a part without a name, or with a filename split over RFC 2231 continuations,
 * is a 400 (both came back as a field named '' or a text field holding the file). `PUT
 * /files/<name>` takes a raw body (Content-Length or chunked, `Expect: 100-continue` refused
 * before the body); downloads come from `fileApp` (Content-Disposition with `filename*`,
 * Range, multipart/byteranges, If-Range, 304, HEAD); deletes need `If-Match`; the listing is
 * JSON; the upload progress layer of docs/forms.md counts the body as it is read.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type App,
  HTTPBadRequest,
  HTTPMethodNotAllowed,
  HTTPNotFound,
  HTTPPreconditionFailed,
  HTTPPreconditionRequired,
  HTTPUnsupportedMediaType,
  Request,
  Response,
  serve,
} from 'tsgi';
import { safeFilename } from 'tsgi/forms';
import { statEtag } from 'tsgi/http';
import { fileApp, mount } from 'tsgi/middleware';
import { gcBuffers } from './gc.ts';
import { deferred, errorLog, rawExchange, until } from './node-helpers.ts';

/** Bytes: 1 MiB a file in a form or a PUT (300 MB in the manual run, scaled down). */
const MAX_FILE = 1024 * 1024;
const MAX_FILES = 3;
/** The declared types each extension may come with. */
const TYPES: Record<string, string[]> = { '.txt': ['text/plain'], '.pdf': ['application/pdf'], '.bin': ['application/octet-stream'] };

function allowedType(name: string, declared: string | null): void {
  const allowed = TYPES[extname(name).toLowerCase()];
  if (allowed === undefined) throw new HTTPUnsupportedMediaType(`${name}: this type of file is not taken.`);
  if (declared !== null && !allowed.includes(declared)) throw new HTTPUnsupportedMediaType(`${name}: declared ${declared}, expected ${allowed.join(' or ')}.`);
}

// The progress layer of docs/forms.md ("Upload progress").
const uploads = new Map<string, { received: number; total: number | null; done: boolean }>();
const trackProgress =
  (app: App): App =>
  (environ, startResponse) => {
    const id = new Request(environ).query.get('progress');
    if (id !== undefined && environ.REQUEST_METHOD === 'POST' && !uploads.has(id)) {
      const entry = { received: 0, total: environ.CONTENT_LENGTH ? Number(environ.CONTENT_LENGTH) : null, done: false };
      const input = environ['tsgi.input'];
      uploads.set(id, entry);
      environ['tsgi.input'] = (async function* () {
        for await (const chunk of input) {
          entry.received += chunk.byteLength;
          yield chunk;
        }
        entry.done = true;
      })();
    }
    return app(environ, startResponse);
  };
const progressApp = Request.application((req) => {
  const entry = uploads.get(req.query.get('id') ?? '');
  if (entry === undefined) throw new HTTPNotFound('No upload in progress under this id.');
  return Response.json(entry, { headers: { 'Cache-Control': 'no-store' } });
});

/** The limits of `/upload`, and those of `/archive`, which takes one large file. */
const FORM_LIMITS = { maxFileSize: MAX_FILE, maxFiles: MAX_FILES, maxFieldSize: 1000, maxBodySize: 4 * MAX_FILE };
const BIG = 40 * 1024 * 1024;
const ARCHIVE_LIMITS = { ...FORM_LIMITS, maxFileSize: BIG, maxBodySize: 2 * BIG };

function fileService(dir: string): App {
  const partFile = () => join(dir, `.${crypto.randomUUID()}.part`);
  const upload = (limits: typeof FORM_LIMITS) => Request.application(async (req) => {
    if (req.method !== 'POST') throw new HTTPMethodNotAllowed(['POST']);
    const parts: { part: string; name: string; filename: string; size: number }[] = [];
    const fields: Record<string, string[]> = {};
    try {
      for await (const item of req.parts(limits)) {
        if (item.kind === 'field') {
          (fields[item.fieldName] ??= []).push(item.value);
          continue;
        }
        if (!item.filename) continue; // a file input left empty
        const name = item.safeFilename;
        if (!name) throw new HTTPBadRequest(`No usable name in ${JSON.stringify(item.filename)}.`);
        allowedType(name, item.contentType);
        const part = partFile();
        parts.push({ part, name, filename: item.filename, size: 0 });
        await pipeline(item.body, createWriteStream(part, { flags: 'wx' }), { signal: req.signal });
        parts.at(-1)!.size = (await stat(part)).size;
      }
      if (parts.length === 0) throw new HTTPBadRequest('No file in the form.');
      for (const { part, name } of parts) await rename(part, join(dir, name)); // all or nothing
    } finally {
      await Promise.all(parts.map(({ part }) => rm(part, { force: true })));
    }
    return Response.json({ stored: parts.map(({ name, filename, size }) => ({ name, filename, size })), fields }, { status: 201 });
  });
  const files = Request.application(async (req) => {
    if (req.pathInfo === '' || req.pathInfo === '/') {
      const names = (await readdir(dir)).filter((name) => !name.startsWith('.')).sort();
      return Response.json(await Promise.all(names.map(async (name) => ({ name, size: (await stat(join(dir, name))).size }))));
    }
    const asked = req.pathInfo.slice(1);
    const name = safeFilename(asked);
    if (!name || name !== asked) throw new HTTPNotFound();
    const path = join(dir, name);
    if (req.method === 'GET' || req.method === 'HEAD') return fileApp(path, { download: name, headers: { 'X-Content-Type-Options': 'nosniff' } });
    if (req.method === 'PUT') {
      allowedType(name, null); // before the first read: refused in place of 100 Continue
      const existed = await stat(path).then(() => true, () => false);
      const part = partFile();
      try {
        await pipeline(req.stream({ maxBodySize: MAX_FILE }), createWriteStream(part, { flags: 'wx' }), { signal: req.signal });
        await rename(part, path);
      } finally {
        await rm(part, { force: true });
      }
      return new Response(null, { status: existed ? 204 : 201 });
    }
    if (req.method === 'DELETE') {
      const found = await stat(path).catch(() => null);
      if (found === null) throw new HTTPNotFound();
      if (!req.ifMatch.present) throw new HTTPPreconditionRequired('Send If-Match with the ETag you downloaded.');
      if (!req.ifMatch.contains(statEtag(found))) throw new HTTPPreconditionFailed('The file changed since.');
      await rm(path);
      return new Response(null, { status: 204 });
    }
    throw new HTTPMethodNotAllowed(['GET', 'HEAD', 'PUT', 'DELETE']);
  });
  return mount({ '/upload': trackProgress(upload(FORM_LIMITS)), '/archive': upload(ARCHIVE_LIMITS), '/progress': progressApp, '/files': files });
}

let dir: string;
let server: Awaited<ReturnType<typeof serve>>;
let url: string;
let port: number;
const log = errorLog();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsgi-scenario-uploads-'));
  server = await serve(fileService(dir), { host: '127.0.0.1', port: 0, log });
  url = server.url.replace(/\/$/, '');
  port = Number(new URL(url).port);
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const onDisk = async () => (await readdir(dir)).sort();
const partsLeft = async () => (await readdir(dir)).filter((name) => name.endsWith('.part'));
const B = 'scenario-boundary';
/** A multipart body by hand: each part a disposition, a type (or none) and content. */
const multipart = (parts: [disposition: string, type: string | null, content: string][], close = true) =>
  parts.map(([disposition, type, content]) => `--${B}\r\nContent-Disposition: ${disposition}\r\n${type === null ? '' : `Content-Type: ${type}\r\n`}\r\n${content}\r\n`).join('') +
  (close ? `--${B}--\r\n` : '');
const postRaw = (body: string, contentType = `multipart/form-data; boundary=${B}`) =>
  fetch(`${url}/upload`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
/** A body of `size` bytes of `a`, in 64 KiB chunks made as they are read; `pulled` counts what was taken. */
function streamed(size: number, head = '', tail = '') {
  const chunk = new Uint8Array(64 * 1024).fill(97);
  const counter = { pulled: 0 };
  let sent = -1;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === -1) {
        sent = 0;
        return controller.enqueue(new TextEncoder().encode(head));
      }
      if (sent >= size) {
        controller.enqueue(new TextEncoder().encode(tail));
        return controller.close();
      }
      const piece = chunk.subarray(0, Math.min(chunk.byteLength, size - sent));
      sent += piece.byteLength;
      counter.pulled = sent;
      controller.enqueue(piece);
    },
  });
  return { body, counter };
}

describe('multipart uploads', () => {
  it('stores several files, streamed to disk, with the fields in body order', async () => {
    const form = new FormData();
    form.append('note', 'first');
    form.append('note', 'second');
    form.append('files', new Blob(['hello\n'], { type: 'text/plain' }), 'a.txt');
    form.append('files', new Blob([new Uint8Array(200_000)], { type: 'application/octet-stream' }), 'b.bin');
    const res = await fetch(`${url}/upload`, { method: 'POST', body: form });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({
      stored: [
        { name: 'a.txt', filename: 'a.txt', size: 6 },
        { name: 'b.bin', filename: 'b.bin', size: 200_000 },
      ],
      fields: { note: ['first', 'second'] },
    });
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('hello\n');
  });

  it('streams a large file to disk with the server’s memory flat', async () => {
    const { body } = streamed(
      BIG,
      `--${B}\r\nContent-Disposition: form-data; name="f"; filename="large.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      `\r\n--${B}--\r\n`,
    );
    // The buffers alive in this process (client and server), collected first: a parse that kept
    // the file, or read ahead of the disk, would hold tens of MiB of it.
    gcBuffers();
    const before = process.memoryUsage().arrayBuffers;
    let growth = 0;
    const sampler = setInterval(() => {
      gcBuffers();
      growth = Math.max(growth, process.memoryUsage().arrayBuffers - before);
    }, 200);
    try {
      const res = await fetch(`${url}/archive`, { method: 'POST', headers: { 'Content-Type': `multipart/form-data; boundary=${B}` }, body, duplex: 'half' } as RequestInit);
      expect(res.status).toBe(201);
    } finally {
      clearInterval(sampler);
    }
    // A parse that kept the file holds all 40 MiB of it; what is in flight, client and server,
    // measures 0.2 MiB, idle or loaded. (Counted after one collection, the buffers it had freed
    // but not yet swept made it look like 20 to 36 MiB under load.)
    expect(growth).toBeLessThan(BIG / 8);
    expect((await stat(join(dir, 'large.bin'))).size).toBe(BIG);
    await rm(join(dir, 'large.bin'));
  });

  it('a file past maxFileSize is a 413 while the body streams, the partial file removed, nothing stored', async () => {
    const { body, counter } = streamed(
      64 * MAX_FILE,
      `--${B}\r\nContent-Disposition: form-data; name="f"; filename="huge.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      `\r\n--${B}--\r\n`,
    );
    const res = await fetch(`${url}/upload`, { method: 'POST', headers: { 'Content-Type': `multipart/form-data; boundary=${B}` }, body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.text()).toContain(`maxFileSize exceeded: file 'huge.bin' is larger than ${MAX_FILE} bytes`);
    expect(counter.pulled).toBeLessThan(16 * MAX_FILE); // answered long before the 64 MiB were sent
    expect(await partsLeft()).toEqual([]);
    expect(await onDisk()).not.toContain('huge.bin');
  });

  it('too many files is a 413 naming the limit, and none of the form is stored', async () => {
    const form = new FormData();
    for (let i = 0; i <= MAX_FILES; i++) form.append('f', new Blob(['x'], { type: 'text/plain' }), `many${i}.txt`);
    const res = await fetch(`${url}/upload`, { method: 'POST', body: form });
    expect(res.status).toBe(413);
    expect(await res.text()).toContain(`maxFiles exceeded: the form has more than ${MAX_FILES} files`);
    expect((await onDisk()).filter((name) => name.startsWith('many'))).toEqual([]);
    expect(await partsLeft()).toEqual([]);
  });

  it('checks the type by extension and by the part’s declared type', async () => {
    const form = (type: string, name: string) => {
      const data = new FormData();
      data.append('f', new Blob(['x'], { type }), name);
      return data;
    };
    expect((await fetch(`${url}/upload`, { method: 'POST', body: form('image/png', 'c.txt') })).status).toBe(415);
    expect((await fetch(`${url}/upload`, { method: 'POST', body: form('application/octet-stream', 'setup.exe') })).status).toBe(415);
    expect((await fetch(`${url}/upload`, { method: 'POST', body: form('text/plain; charset=utf-8', 'c.txt') })).status).toBe(201);
  });

  it('makes safe names of hostile filenames and keeps Unicode ones for display', async () => {
    const cases: [disposition: string, stored: string][] = [
      ['form-data; name="f"; filename="../../etc/passwd.txt"', 'passwd.txt'],
      ['form-data; name="f"; filename="C:\\Users\\me\\win.txt"', 'win.txt'],
      ['form-data; name="f"; filename="say %22hi%22.txt"', 'say "hi".txt'],
      ['form-data; name="f"; filename="😀 résumé.txt"', '😀 résumé.txt'],
      [`form-data; name="f"; filename="fallback.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt`, '日本.txt'],
    ];
    for (const [disposition, stored] of cases) {
      const res = await postRaw(multipart([[disposition, 'text/plain', 'data']]));
      expect(res.status, disposition).toBe(201);
      expect(((await res.json()) as { stored: { name: string }[] }).stored[0]!.name).toBe(stored);
    }
    const dots = await postRaw(multipart([['form-data; name="f"; filename=".."', 'text/plain', 'data']]));
    expect(dots.status).toBe(400);
    const nul = await postRaw(multipart([['form-data; name="f"; filename="a\u0000b.txt"', 'text/plain', 'data']]));
    expect(nul.status).toBe(400);
    expect((await readdir(join(dir, '..'))).filter((name) => name === 'passwd.txt')).toEqual([]);
  });

  it('answers 400 to malformed forms: no boundary, never closed, a part with no name, a filename in continuations', async () => {
    const file: [string, string, string] = ['form-data; name="f"; filename="ok.txt"', 'text/plain', 'data'];
    const noBoundary = await postRaw(multipart([file]), 'multipart/form-data');
    expect(noBoundary.status).toBe(400);
    const open = await postRaw(multipart([file], false));
    expect(open.status).toBe(400);
    expect(await open.text()).toContain('no closing boundary');
    // Both came back as a form that looked fine: the file under the name '', the file's content as a text field.
    const nameless = await postRaw(multipart([['form-data; filename="nameless.txt"', 'text/plain', 'data']]));
    expect(nameless.status).toBe(400);
    expect(await nameless.text()).toContain('part 1 has no name');
    const continued = await postRaw(multipart([['form-data; name="f"; filename*0="con"; filename*1="t.txt"', 'text/plain', 'data']]));
    expect(continued.status).toBe(400);
    expect(await continued.text()).toContain('filename*0');
    expect(await onDisk()).not.toContain('nameless.txt');
  });

  it('keeps duplicate field names, and skips a file input left empty', async () => {
    const res = await postRaw(
      multipart([
        ['form-data; name="tag"', null, 'a'],
        ['form-data; name="tag"', null, 'b'],
        ['form-data; name="empty"; filename=""', 'application/octet-stream', ''],
        ['form-data; name="f"; filename="tags.txt"', 'text/plain', 'data'],
      ]),
    );
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ stored: [{ name: 'tags.txt' }], fields: { tag: ['a', 'b'] } });
  });

  it('a client that hangs up mid-upload leaves nothing on disk, and the server keeps serving', async () => {
    const socket = net.connect(port, '127.0.0.1');
    const head = `--${B}\r\nContent-Disposition: form-data; name="f"; filename="hangup.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
    socket.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=${B}\r\nContent-Length: ${3 * MAX_FILE}\r\n\r\n${head}`);
    socket.write(Buffer.alloc(MAX_FILE / 2, 97));
    await until(() => socket.bytesWritten > MAX_FILE / 2);
    let sawPart = false;
    while (!sawPart) sawPart = (await partsLeft()).length > 0; // the part file is being written
    socket.destroy();
    while ((await partsLeft()).length > 0) await new Promise((r) => setTimeout(r, 5));
    expect(await onDisk()).not.toContain('hangup.bin');
    expect((await fetch(`${url}/files/`)).status).toBe(200);
    expect(log.text).toBe('');
  });

  it('reports the progress of an upload as it is read', async () => {
    const gate = deferred();
    const half = 256 * 1024;
    const head = `--${B}\r\nContent-Disposition: form-data; name="f"; filename="progress.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
    const tail = `\r\n--${B}--\r\n`;
    const total = head.length + 2 * half + tail.length;
    let step = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        step++;
        if (step === 1) controller.enqueue(new TextEncoder().encode(head));
        else if (step === 2) controller.enqueue(new Uint8Array(half));
        else if (step === 3) {
          await gate.promise;
          controller.enqueue(new Uint8Array(half));
        } else {
          controller.enqueue(new TextEncoder().encode(tail));
          controller.close();
        }
      },
    });
    const answer = fetch(`${url}/upload?progress=p1`, {
      method: 'POST',
      headers: { 'Content-Type': `multipart/form-data; boundary=${B}`, 'Content-Length': String(total) },
      body,
      duplex: 'half',
    } as RequestInit);
    let seen = { received: 0, total: 0, done: false };
    while (seen.received < head.length + half) {
      const res = await fetch(`${url}/progress?id=p1`);
      if (res.status === 200) seen = (await res.json()) as typeof seen;
      else await res.arrayBuffer();
    }
    expect(seen).toEqual({ received: head.length + half, total, done: false });
    gate.resolve();
    expect((await answer).status).toBe(201);
    expect(await (await fetch(`${url}/progress?id=p1`)).json()).toEqual({ received: total, total, done: true });
  });
});

describe('PUT /files/<name>', () => {
  it('refuses a type it does not take in place of 100 Continue, and takes an allowed one after it', async () => {
    const refused = await rawExchange(port, 'PUT /files/run.exe HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n');
    expect(refused.raw).toMatch(/^HTTP\/1\.1 415 /);
    expect(refused.raw).not.toContain('100 Continue');
    const tooBig = await rawExchange(port, `PUT /files/big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: ${MAX_FILE + 1}\r\nExpect: 100-continue\r\n\r\n`);
    expect(tooBig.raw).toMatch(/^HTTP\/1\.1 413 /);
    const socket = net.connect(port, '127.0.0.1');
    let raw = '';
    socket.on('data', (data: Buffer) => {
      raw += data.toString('latin1');
      if (raw.startsWith('HTTP/1.1 100 Continue\r\n\r\n') && !raw.includes('201')) socket.write('hello');
    });
    socket.write('PUT /files/put.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    await new Promise((resolve) => socket.on('close', resolve));
    expect(raw).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201 /);
    expect(await readFile(join(dir, 'put.txt'), 'utf8')).toBe('hello');
  });

  it('takes a chunked body, and answers a chunked one past the limit 413 without reading it all', async () => {
    const chunked = await rawExchange(port, 'PUT /files/chunked.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    expect(chunked.raw).toMatch(/^HTTP\/1\.1 201 /);
    expect(await readFile(join(dir, 'chunked.txt'), 'utf8')).toBe('hello world');
    const { body, counter } = streamed(64 * MAX_FILE);
    const res = await fetch(`${url}/files/endless.bin`, { method: 'PUT', body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(counter.pulled).toBeLessThan(16 * MAX_FILE);
    expect(await partsLeft()).toEqual([]);
    expect(await onDisk()).not.toContain('endless.bin');
  });

  it('of concurrent uploads of one name, one wins whole', async () => {
    const bodies = ['1', '2', '3', '4', '5'].map((digit) => digit.repeat(100_000));
    const answers = await Promise.all(bodies.map((body) => fetch(`${url}/files/same.txt`, { method: 'PUT', body })));
    expect(answers.map((res) => res.status).sort()).toContain(201);
    expect(answers.every((res) => res.status === 201 || res.status === 204)).toBe(true);
    expect(bodies).toContain(await readFile(join(dir, 'same.txt'), 'utf8'));
    expect(await partsLeft()).toEqual([]);
  });

  it('refuses a name that is not a plain file name', async () => {
    expect((await fetch(`${url}/files/..%2Fescape.txt`, { method: 'PUT', body: 'x' })).status).toBe(404);
    expect((await fetch(`${url}/files/.hidden.txt`, { method: 'PUT', body: 'x' })).status).toBe(404);
  });
});

describe('downloads, deletes and the listing', () => {
  const body = 'abcdefghijklmnopqrstuvwxyz'.repeat(4); // 104 bytes
  beforeAll(async () => {
    expect((await fetch(`${url}/files/letters.txt`, { method: 'PUT', body })).status).toBeLessThan(300);
  });

  it('sends the file as an attachment, a Unicode name in filename*', async () => {
    const res = await fetch(`${url}/files/${encodeURIComponent('😀 résumé.txt')}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="? resume.txt"; filename*=UTF-8''%F0%9F%98%80%20r%C3%A9sum%C3%A9.txt`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe('data');
  });

  it('resumes a download, answers several ranges, a stale If-Range whole, a known ETag 304, HEAD without a body', async () => {
    const full = await fetch(`${url}/files/letters.txt`);
    const etag = full.headers.get('etag')!;
    expect(await full.text()).toBe(body);
    const resumed = await fetch(`${url}/files/letters.txt`, { headers: { Range: 'bytes=100-', 'If-Range': etag } });
    expect(resumed.status).toBe(206);
    expect(resumed.headers.get('content-range')).toBe('bytes 100-103/104');
    expect(await resumed.text()).toBe('wxyz');
    const several = await fetch(`${url}/files/letters.txt`, { headers: { Range: 'bytes=0-1,26-27' } });
    expect(several.status).toBe(206);
    expect(several.headers.get('content-type')).toMatch(/^multipart\/byteranges; boundary=/);
    const parts = await several.text();
    expect(parts).toContain('Content-Range: bytes 0-1/104\r\n\r\nab\r\n');
    expect(parts).toContain('Content-Range: bytes 26-27/104\r\n\r\nab\r\n');
    const stale = await fetch(`${url}/files/letters.txt`, { headers: { Range: 'bytes=100-', 'If-Range': '"stale"' } });
    expect(stale.status).toBe(200);
    expect(await stale.text()).toBe(body);
    const cached = await fetch(`${url}/files/letters.txt`, { headers: { 'If-None-Match': etag } });
    expect(cached.status).toBe(304);
    expect(cached.headers.get('etag')).toBe(etag);
    const head = await rawExchange(port, 'HEAD /files/letters.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(head.raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(head.raw).toContain('\r\nContent-Length: 104\r\n');
    expect(head.raw.endsWith('\r\n\r\n')).toBe(true);
    const done = await fetch(`${url}/files/letters.txt`, { headers: { Range: 'bytes=104-' } });
    expect(done.status).toBe(416);
    expect(done.headers.get('content-range')).toBe('bytes */104');
  });

  it('deletes only with a matching If-Match', async () => {
    expect((await fetch(`${url}/files/tags.txt`, { method: 'DELETE' })).status).toBe(428);
    expect((await fetch(`${url}/files/tags.txt`, { method: 'DELETE', headers: { 'If-Match': '"other"' } })).status).toBe(412);
    const etag = (await fetch(`${url}/files/tags.txt`, { method: 'HEAD' })).headers.get('etag')!;
    expect((await fetch(`${url}/files/tags.txt`, { method: 'DELETE', headers: { 'If-Match': `W/${etag}` } })).status).toBe(412);
    expect((await fetch(`${url}/files/tags.txt`, { method: 'DELETE', headers: { 'If-Match': etag } })).status).toBe(204);
    expect((await fetch(`${url}/files/tags.txt`)).status).toBe(404);
  });

  it('lists the files as JSON, never a part file in progress', async () => {
    const res = await fetch(`${url}/files/`);
    expect(res.headers.get('content-type')).toBe('application/json');
    const list = (await res.json()) as { name: string; size: number }[];
    expect(list).toContainEqual({ name: 'letters.txt', size: 104 });
    expect(list).toContainEqual({ name: '日本.txt', size: 4 });
    expect(list.every(({ name }) => !name.startsWith('.'))).toBe(true);
  });
});
