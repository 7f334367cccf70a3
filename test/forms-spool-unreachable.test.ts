/**
 * The temporary files of an upload whose handler never finishes: `timeout()` (or the client
 * leaving) ends the response, the handler stays stuck on a promise nothing will settle, so the
 * request's cleanup (run when the handler's response is done) never comes. Once nothing can
 * reach the parsed form any more (the stuck handler included), its `tsgi-upload-*` folder is
 * removed when V8 collects it, as Python's `tempfile` files vanish: a long-running server does
 * not fill its temporary folder one hung upload at a time.
 *
 * Runs with V8's `gc()` turned on for this worker.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Request, Response } from 'tsgi';
import { parseForm } from 'tsgi/forms';
import { timeout } from 'tsgi/middleware';
import { request, sleep, start } from './node-helpers.ts';
import { gc } from './gc.ts';

const BOUNDARY = 'spool-boundary';
/** A multipart body with one 4 KiB file: spooled, as the handler asks for spoolThreshold 1024. */
const BODY = Buffer.concat([
  Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
  Buffer.alloc(4096, 120),
  Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
]);

let parent: string;
beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), 'tsgi-spool-test-'));
});
afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

/** The `tsgi-upload-*` folders left under `parent` once V8 has collected what it can (up to ~3 s). */
async function foldersAfterCollection(): Promise<string[]> {
  let left = await readdir(parent);
  for (let i = 0; i < 30 && left.length > 0; i++) {
    gc();
    await sleep(100);
    left = await readdir(parent);
  }
  return left;
}

describe('spooled uploads nothing can reach any more', () => {
  it('are removed when a handler stuck after req.files() was given up on by timeout()', async () => {
    let parsed = 0;
    const stuck = Request.application(async (req) => {
      const files = await req.files({ spoolThreshold: 1024, tmpDir: parent });
      if (files.get('f')?.inMemory === false) parsed++;
      await new Promise(() => {}); // a bug: a promise nothing settles
      return new Response('never');
    });
    // The timeout comes once the form is parsed (a loaded machine takes well over 100 ms for it).
    const server = await start(timeout(stuck, { ms: 1000 }));
    try {
      const N = 5;
      for (let i = 0; i < N; i++) {
        const res = await request(`${server.url}/`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, body: BODY });
        expect(res.status).toBe(503);
      }
      expect(parsed).toBe(N);
      expect(await foldersAfterCollection()).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('keep the files of a handler that is only slow, even one holding nothing but the path: the request holds its form', async () => {
    const slow = Request.application(async (req) => {
      const path = (await req.files({ spoolThreshold: 1024, tmpDir: parent })).get('f')!.path!;
      for (let i = 0; i < 10; i++) {
        gc();
        await sleep(50);
      }
      return new Response(String((await readFile(path)).byteLength));
    });
    const server = await start(slow);
    try {
      const res = await request(`${server.url}/`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, body: BODY });
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('4096');
      expect(await readdir(parent)).toEqual([]); // removed at the request's end, not by V8
    } finally {
      await server.close();
    }
  });

  it('keep the files of an upload that work the stuck handler started still holds (the FileUpload, not its path)', async () => {
    const read = Promise.withResolvers<number>();
    const stuck = Request.application(async (req) => {
      const upload = (await req.files({ spoolThreshold: 1024, tmpDir: parent })).get('f')!;
      // Work left running with the FileUpload itself: it keeps the folder however long the form is unreachable.
      setTimeout(() => void upload.bytes().then((data) => read.resolve(data.byteLength), read.reject), 3000);
      await new Promise(() => {});
      return new Response('never');
    });
    // The timeout comes once the form is parsed (a loaded machine takes well over 100 ms for it).
    const server = await start(timeout(stuck, { ms: 1000 }));
    try {
      const res = await request(`${server.url}/`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, body: BODY });
      expect(res.status).toBe(503);
      for (let i = 0; i < 10; i++) {
        gc();
        await sleep(50);
      }
      expect(await readdir(parent)).toHaveLength(1);
      expect(await read.promise).toBe(4096);
      expect(await foldersAfterCollection()).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('keep the files of a form that is still held (parseForm, without cleanup)', async () => {
    async function* body() {
      yield new Uint8Array(BODY);
    }
    const form = await parseForm(body(), `multipart/form-data; boundary=${BOUNDARY}`, { spoolThreshold: 1024, tmpDir: parent });
    const file = form.files.get('f')!;
    expect(file.inMemory).toBe(false);
    gc();
    await sleep(100);
    gc();
    expect(await readdir(parent)).toHaveLength(1);
    expect((await file.bytes()).byteLength).toBe(4096);
    await form.cleanup();
    expect(await readdir(parent)).toEqual([]);
  });
});
