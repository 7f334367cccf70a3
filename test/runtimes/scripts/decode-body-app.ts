/**
 * The fetch handler of test/runtimes/decode-body.test.ts, the same on Bun, Deno and workerd
 * (its default export is the Worker): `accessLog` (json, `redactQuery: ['token']`) over
 * `decodeBody` (`maxSize` 64 KiB) over an app that answers `req.json()` as JSON, under
 * `toFetchHandler(app, { redactQuery: ['token'] })`. `/size` answers the decoded size (`req.bytes()`); `/cut` and `/cut-coded` log why their read
 * failed (`gone <path> <message>`); `/boom` throws (an error line in the
 * handler's `log`); `/logged` answers the lines logged so far (access lines and error lines),
 * one a line, without logging itself.
 */
import { Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { accessLog, decodeBody } from 'tsgi/middleware';

const lines: string[] = [];

const api = Request.application(async (req) => {
  if (req.path === '/logged') return new Response(lines.join('\n'));
  if (req.path === '/boom') throw new Error('boom');
  if (req.path === '/size') return new Response(String((await req.bytes()).byteLength));
  if (req.path === '/cut' || req.path === '/cut-coded') {
    try {
      await req.bytes();
    } catch (error) {
      lines.push(`gone ${req.path} ${(error as Error).message}`);
      throw error;
    }
  }
  return Response.json(await req.json());
});

const logged = accessLog(decodeBody(api, { maxSize: 64 * 1024 }), {
  format: 'json',
  redactQuery: ['token'],
  log: {
    write: (line: string) => {
      if (!line.includes('"/logged"')) lines.push(line.trim());
    },
  },
});

/** The handler; the Worker's `fetch`. */
export const handler = toFetchHandler(logged, {
  redactQuery: ['token'],
  log: { write: (line: string) => void lines.push(line.split('\n')[0]!) },
});

export default { fetch: handler };
