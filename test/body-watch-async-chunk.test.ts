/**
 * A `chunk` hook of `wrapBody` that answers a promise (written `async`, as `end`, `close` and
 * `error` may be; TypeScript lets it through): on an async body the chunk is handed on once the
 * promise settles, and a rejection is the hook's failure, as a throw is (the body closed, the
 * `error` hook told, the response cut); on a sync body it goes to `closeError`. Never an
 * unhandled rejection, which ends the Node process.
 */
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { wrapBody } from 'tsgi/middleware';
import { rawExchange, sleep, start, until } from './node-helpers.ts';
import { recordUnhandledRejections } from './helpers.ts';

const unhandled = recordUnhandledRejections();

/** Three chunks, produced one by one; `finished` once its `finally` has run. */
function threeChunks(): { app: App; finished: () => boolean } {
  let done = false;
  const app = Request.application(
    () =>
      new Response(
        (async function* () {
          try {
            for (const part of ['one\n', 'two\n', 'three\n']) yield new TextEncoder().encode(part);
          } finally {
            done = true;
          }
        })(),
      ),
  );
  return { app, finished: () => done };
}

describe('a wrapBody chunk hook answering a promise', () => {
  it('that rejects fails the body as a throw does: closed, reported to error, the response cut (socket)', async () => {
    const { app, finished } = threeChunks();
    const reported: unknown[] = [];
    const quota: App = async (environ, startResponse) => {
      let seen = 0;
      return wrapBody(await app(environ, startResponse), {
        chunk: async () => {
          await sleep(1);
          if (++seen === 2) throw new Error('quota exceeded');
        },
        error: (error) => void reported.push(error),
      });
    };
    const server = await start(quota);
    const { raw } = await rawExchange(server.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw).toContain('one\n');
    expect(raw).not.toContain('two\n');
    expect(raw.endsWith('0\r\n\r\n')).toBe(false); // the chunked body is never terminated
    await until(() => finished());
    expect(reported.map((error) => (error as Error).message)).toEqual(['quota exceeded']);
    await until(() => server.log.text.includes('quota exceeded'));
    await sleep(20);
    expect(unhandled).toEqual([]);
  });

  it('on a sync body sends its rejection to closeError', async () => {
    const lost: unknown[] = [];
    const body = wrapBody([new Uint8Array([1])], { chunk: async () => Promise.reject(new Error('late')), closeError: (error) => void lost.push(error) });
    expect([...(body as Iterable<Uint8Array>)]).toHaveLength(1);
    await sleep(20);
    expect(lost.map((error) => (error as Error).message)).toEqual(['late']);
    expect(unhandled).toEqual([]);
  });
});
