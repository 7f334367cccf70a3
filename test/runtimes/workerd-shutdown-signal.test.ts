/**
 * `tsgi.signal` (`req.signal`) under `toFetchHandler(app, { shutdownSignal })` on workerd, over
 * a real socket on 127.0.0.1: workerd never aborts `request.signal` itself, so when the
 * shutdown signal ends an event stream, plain or under `compress`, it is the adapter's abort
 * (`server shutting down`) that stops a source waiting on `req.signal` alone and runs its
 * `finally`. The signal is each request's own, aborted 300 ms in (workerd runs nothing of one
 * request from another's: see the script). Runs test/runtimes/scripts/workerd-shutdown-signal.ts.
 */
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningServer, startWorkerd } from './rows.ts';

let server: RunningServer;

beforeAll(async () => {
  server = await startWorkerd(fileURLToPath(new URL('./scripts/workerd-shutdown-signal.ts', import.meta.url)), '/ready');
});
afterAll(() => server?.stop());

/** GETs `path` with `Accept-Encoding: coding`: its coding, and a promise of its bytes and whether it ended whole. */
function open(path: string, coding: string): Promise<{ encoding?: string; done: Promise<{ bytes: Buffer; complete: boolean }> }> {
  return new Promise((resolve, reject) => {
    http.get(`${server.origin}${path}`, { headers: { 'accept-encoding': coding }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      const done = new Promise<{ bytes: Buffer; complete: boolean }>((settle) => res.on('close', () => settle({ bytes: Buffer.concat(chunks), complete: res.complete })));
      resolve({ encoding: res.headers['content-encoding'], done });
    }).on('error', reject);
  });
}

/** `/seen`, as the Worker tells it. */
async function seen(): Promise<{ waiting: number } & Record<'/plain' | '/coded', { reason?: string; cleaned: boolean }>> {
  return (await (await fetch(`${server.origin}/seen`)).json()) as never;
}

/** Polls `/seen` until `ready` holds of it, for up to 5 s; answers the last one. */
async function seenUntil(ready: (value: Awaited<ReturnType<typeof seen>>) => boolean): Promise<Awaited<ReturnType<typeof seen>>> {
  let value = await seen();
  for (let waited = 0; waited < 5000 && !ready(value); waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = await seen();
  }
  return value;
}

it('aborts req.signal of a plain and a coded event stream its shutdown signal ends, with server shutting down', async () => {
  const plain = await open('/plain', 'identity');
  const coded = await open('/coded', 'gzip');
  expect([plain.encoding, coded.encoding]).toEqual([undefined, 'gzip']);
  const [plainRead, codedRead] = await Promise.all([plain.done, coded.done]);
  expect([plainRead.complete, plainRead.bytes.toString()]).toEqual([true, 'data: one\n\n']);
  expect([codedRead.complete, zlib.gunzipSync(codedRead.bytes).toString()]).toEqual([true, 'data: one\n\n']);
  const after = await seenUntil((value) => value['/plain'].cleaned && value['/coded'].cleaned);
  expect(after).toMatchObject({
    '/plain': { reason: 'server shutting down', cleaned: true },
    '/coded': { reason: 'server shutting down', cleaned: true },
  });
});
