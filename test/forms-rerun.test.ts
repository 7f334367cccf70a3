/**
 * A handler run a second time on the same environ reads the uploads the first run parsed, or
 * parses them again: `cascade` handing the request to a second app, `getResponse` called twice
 * from a handler, and a raw layer that keeps the body (`await req.bytes()`) and runs the app
 * again after its first answer ended. Over a real socket, with files large enough to be
 * spooled to disk (past the 1 MiB `spoolThreshold`).
 */
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { cascade } from 'tsgi/middleware';
import { encodeMultipart } from 'tsgi/forms';
import { request, start } from './node-helpers.ts';

const SIZE = 2 * 1024 * 1024;
const { body, contentType } = encodeMultipart({ a: '1' }, { f: { filename: 'f.txt', content: 'x'.repeat(SIZE) } });

/** Reads the upload whole and answers `status` with its size. */
const reader = (status: number) =>
  Request.application(async (req) => {
    const file = (await req.files()).getOne('f');
    return new Response(`${status} ${(await file.bytes()).byteLength}`, { status });
  });

async function post(app: App): Promise<{ status: number; body: string; log: string }> {
  const server = await start(app);
  const res = await request(server.url, { method: 'POST', body, headers: { 'Content-Type': contentType } });
  return { status: res.status, body: res.body.toString(), log: server.log.text };
}

describe('uploads read again by a second run on the same environ', () => {
  it('cascade: the app after a skipped one that read the files reads them too', async () => {
    expect(await post(cascade([reader(404), reader(200)]))).toMatchObject({ status: 200, body: `200 ${SIZE}` });
  });

  it('getResponse twice in a handler (a retry): both runs read the files', async () => {
    const inner = reader(200);
    const app = Request.application(async (req) => {
      const first = await (await req.getResponse(inner)).text();
      return new Response(`${first} | ${await (await req.getResponse(inner)).text()}`);
    });
    expect(await post(app)).toMatchObject({ status: 200, body: `200 ${SIZE} | 200 ${SIZE}` });
  });

  it('a raw layer that kept the body runs the app again after its first answer ended: the second run parses the form anew', async () => {
    const inner = reader(200);
    const retry: App = async (environ, startResponse) => {
      await new Request(environ).bytes(); // the body kept, replayable
      const first = await inner(environ, () => {});
      for await (const _ of first); // the first answer read to its end: its request ended, its uploads removed
      return inner(environ, startResponse);
    };
    const res = await post(retry);
    expect(res.log).toBe('');
    expect(res).toMatchObject({ status: 200, body: `200 ${SIZE}` });
  });
});
