/**
 * Run by test/runtimes/deno-permissions.test.ts under `deno run --allow-net` alone: a urlencoded
 * and a multipart form (a small file, kept in memory) through `toFetchHandler`, no server.
 * Prints one line per form: the status and the body.
 */
import { Request, Response } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { encodeMultipart } from 'tsgi/forms';

const handler = toFetchHandler(
  Request.application(async (req) => {
    const files = await req.files();
    const form = await req.form();
    return Response.json({ fields: Object.fromEntries(form), files: files.getAll('file').map((file) => file.size) });
  }),
);

const multipart = encodeMultipart({ a: '1' }, { file: { filename: 'a.txt', contentType: 'text/plain', content: 'hello' } });
const requests = [
  new globalThis.Request('http://127.0.0.1/', { method: 'POST', body: 'a=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }),
  new globalThis.Request('http://127.0.0.1/', { method: 'POST', body: multipart.body, headers: { 'Content-Type': multipart.contentType } }),
];
for (const request of requests) {
  const response = await handler(request);
  console.log(response.status, await response.text());
}
