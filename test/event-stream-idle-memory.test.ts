/**
 * What a quiet event stream keeps while its source is idle and heartbeats go out: nothing more
 * per heartbeat. The stream waits for the source's next event with one reaction on that
 * promise, not a fresh `Promise.race` at each heartbeat: each race left a reaction on it,
 * held until the source's next event came (about 350 bytes each: a dashboard channel quiet for
 * a day, at the default 15 s, kept 2 MB per client), measured over a real socket.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { Request, Response, type ServerSentEvent } from 'tsgi';
import { start, until } from './node-helpers.ts';

describe('an event stream whose source is idle', () => {
  it('attaches one reaction to the pending next event, however many heartbeats go out', async () => {
    let reactions = 0;
    let release: (() => void) | undefined;
    /** A source whose next event comes only when released; counts the reactions put on its promise. */
    const source: AsyncIterable<ServerSentEvent> = {
      [Symbol.asyncIterator]() {
        let sent = false;
        return {
          next() {
            if (sent) return new Promise<IteratorResult<ServerSentEvent>>(() => {});
            const next = new Promise<IteratorResult<ServerSentEvent>>((resolve) => {
              release = () => {
                sent = true;
                resolve({ done: false, value: { data: 'news' } });
              };
            });
            const then = next.then;
            Object.defineProperty(next, 'then', {
              value(this: typeof next, ...args: Parameters<typeof then>) {
                reactions++;
                return then.apply(this, args);
              },
            });
            return next;
          },
        };
      },
    };
    const server = await start(Request.application(() => Response.eventStream(source, { heartbeat: 0.005 })));
    let text = '';
    const req = http.get(`${server.url}/`, { agent: false }, (res) => res.on('data', (chunk: Buffer) => (text += chunk.toString())));
    req.on('error', () => {});
    await until(() => text.split(': ping').length > 30);
    expect(reactions).toBeLessThanOrEqual(1);
    release!();
    await until(() => text.includes('data: news'));
    req.destroy();
  });
});
