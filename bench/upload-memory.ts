/**
 * Peak memory of a server while `req.files()` parses a 200 MiB multipart upload (issue 14:
 * under 100 MB). The server runs in a process of its own from the compiled dist/ (built first):
 * a `Request.application` whose handler calls `req.files()` with limits just above the upload
 * (the defaults stop at 100 MiB), then hashes each file from its spooled copy and answers its
 * size and SHA-256 as JSON. This process streams the body with backpressure (one file part, the
 * bytes generated as they are sent), checks size and hash, and prints the server's RSS at rest
 * and its peak (`process.resourceUsage().maxRSS`). Bounded: it stops by itself after 5 minutes.
 *
 * ```sh
 * node bench/upload-memory.ts          # 200 MiB
 * node bench/upload-memory.ts 1024     # 1 GiB: the peak should not follow the size
 * ```
 *
 * @module
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { buildDist, limitTime, mb, startServer } from './memory-process.ts';
import { nodeLabel } from './stats.ts';
import { bigBody, writeBytes } from './upstream.ts';

const MiB = 1024 * 1024;
const TARGET = 100e6;

/** The server: `req.files()`, then each file's size and SHA-256 read back from where it was kept. */
const SERVER = `
import { createHash } from 'node:crypto';
import { Request, Response, serve } from '../dist/index.js';
const limit = Number(process.argv.at(-1));
const app = Request.application(async (req) => {
  const files = await req.files({ maxBodySize: limit, maxFileSize: limit });
  const parsed = process.resourceUsage().maxRSS * 1024;
  const answer = [];
  for (const [field, file] of files) {
    const hash = createHash('sha256');
    for await (const chunk of file.stream()) hash.update(chunk);
    answer.push({ field, size: file.size, inMemory: file.inMemory, sha256: hash.digest('hex') });
  }
  return Response.json({ parsed, files: answer });
});
const server = await serve(app, { host: '127.0.0.1', port: 0 });
`;

const size = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 200) * MiB;
limitTime('upload-memory', 300);
buildDist();
const { url, probe } = await startServer(SERVER, [String(size + MiB)]);
console.log(`upload memory — one ${size / MiB} MiB file through req.files() (${nodeLabel()})`);
console.log(`server process at rest: RSS ${mb((await probe()).rss)}`);

const boundary = 'tsgi-bench-upload-boundary';
const head = Buffer.from(
  `--${boundary}\r\nContent-Disposition: form-data; name="upload"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
);
const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
const sent = createHash('sha256');
const started = performance.now();
const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
  const req = http.request(
    `${url}/upload`,
    {
      method: 'POST',
      headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': head.length + size + tail.length },
    },
    (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    },
  );
  req.on('error', reject);
  req.write(head);
  // The file's bytes: i mod 251, block after block (251 × 256 bytes, so the pattern runs on),
  // never the boundary; hashed as they go out.
  const body = {
    write: (chunk: Uint8Array) => (sent.update(chunk), req.write(chunk)),
    once: (event: 'drain', listener: () => void) => req.once(event, listener),
    end: () => req.end(tail),
  };
  writeBytes(body, size, bigBody(251 * 256));
});
const seconds = (performance.now() - started) / 1000;
const after = await probe();
const { parsed, files } =
  answer.status === 200
    ? (JSON.parse(answer.text) as { parsed: number; files: Array<{ size: number; sha256: string; inMemory: boolean }> })
    : { parsed: 0, files: [] };
const intact = files.length === 1 && files[0]!.size === size && files[0]!.sha256 === sent.digest('hex');
console.log(
  `upload: ${answer.status} ${intact ? 'the file arrived whole (size and SHA-256 match)' : `WRONG: ${answer.text.slice(0, 200)}`} ` +
    `in ${seconds.toFixed(1)} s (${(size / MiB / seconds).toFixed(0)} MiB/s); spooled to disk: ${files[0]?.inMemory === false}`,
);
const met = after.maxRss < TARGET;
console.log(`peak RSS of the server process once req.files() had parsed the body: ${mb(parsed)}`);
console.log(`peak RSS of the server process: ${mb(after.maxRss)} (target < ${mb(TARGET)}: ${met ? 'met' : 'NOT met'}); RSS now ${mb(after.rss)}`);
process.exit(intact && met ? 0 : 1);
