/**
 * A Worker for test/runtimes/fetch-cut-upload-raw.test.ts: a raw app that reads `tsgi.input`
 * itself and lets its failure propagate, under `errors` and `accessLog` (`/errors`) or bare
 * under `accessLog` (`/bare`), or one reading it with `req.bytes()` (`/bytes`), served by `toFetchHandler` with an error log of its own.
 * `/logged` answers the lines logged so far: `handler: …`, `errors: …` (the first line of each,
 * which names the request) and `<path>: access: <status> <outcome>`.
 */
import { type App, Request as TsgiRequest, Response as TsgiResponse } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { accessLog, errors } from 'tsgi/middleware';

const lines: string[] = [];
const errorLog = (tag: string) => ({ write: (line: string) => void lines.push(`${tag}: ${line.split('\n')[0]}`) });
const access = {
  format: 'json' as const,
  log: {
    write: (line: string) => {
      const { url, status, outcome } = JSON.parse(line) as { url: string; status: number; outcome: string };
      lines.push(`${url}: access: ${status} ${outcome}`);
    },
  },
};

const raw: App = async (environ, startResponse) => {
  for await (const _chunk of environ['tsgi.input'] as AsyncIterable<Uint8Array>);
  startResponse('200 OK', []);
  return [];
};
const underErrors = toFetchHandler(accessLog(errors(raw, { log: errorLog('errors') }), access), { log: errorLog('handler') });
const bare = toFetchHandler(accessLog(raw, access), { log: errorLog('handler') });
/** An app that reads the body with `req.bytes()`, which answers the cut `400` itself (`/bytes`). */
const reading = toFetchHandler(accessLog(TsgiRequest.application(async (req) => new TsgiResponse(String((await req.bytes()).byteLength))), access), { log: errorLog('handler') });

export default {
  fetch(request: Request, env: unknown, ctx: unknown): Promise<Response> | Response {
    const path = new URL(request.url).pathname;
    if (path === '/logged') return new Response(lines.join('\n'));
    return (path === '/errors' ? underErrors : path === '/bytes' ? reading : bare)(request, env, ctx);
  },
};
