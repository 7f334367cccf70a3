/**
 * A live dashboard, end to end over real sockets (docs/response.md, "A live dashboard"): one
 * publisher fanned out to event streams under requestId → accessLog → compress → timeout,
 * served through tsgi's own `proxy` as a second hop, read incrementally by undici's `fetch`.
 * No clock decides: each event is published only once the client has the one before, so an
 * event held back by `compress` or the proxy (no flush) stalls the test instead of passing late.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Request, Response, compose } from 'tsgi';
import { accessLog, compress, requestId, timeout } from 'tsgi/middleware';
import { proxy } from 'tsgi/proxy';
import { sleep, start } from './node-helpers.ts';

const clients = new Set<{ queue: string[]; wake: () => void }>();
const history: string[] = [];

function publish(data: string): void {
  history.push(data);
  for (const client of clients) {
    client.queue.push(data);
    client.wake();
  }
}

const site = Request.application(async (req) => {
  if (req.path === '/poll') {
    await sleep(400); // a long poll held past the timeout below
    return Response.json({ news: false });
  }
  const after = Number(req.headers.get('last-event-id') ?? history.length);
  return Response.eventStream(
    (async function* () {
      const client = { queue: history.slice(after), wake: () => {} };
      clients.add(client);
      let id = after;
      try {
        yield { retry: 500 };
        while (!req.signal.aborted) {
          const data = client.queue.shift();
          if (data !== undefined) yield { id: String(++id), event: 'tick', data };
          else await new Promise<void>((wake) => { client.wake = wake; req.signal.addEventListener('abort', () => wake(), { once: true }); });
        }
      } finally {
        clients.delete(client);
      }
    })(),
    { heartbeat: 0.1 },
  );
});

const lines: string[] = [];
const app = compose(requestId, (inner) => accessLog(inner, { log: { write: (line: string) => void lines.push(line) } }), compress, (inner) => timeout(inner, { ms: 200 }))(site);
const gateways: ReturnType<typeof proxy>[] = [];
afterAll(() => Promise.all(gateways.map((gateway) => gateway.close())));

/** The app on one server, and `proxy` to it on another (both closed after the test): the edge's URL. */
async function edgeUrl(): Promise<string> {
  const origin = await start(app);
  const gateway = proxy(origin.url);
  gateways.push(gateway);
  return (await start(gateway)).url;
}

/** Reads the stream's events (blank-line separated blocks) as they come. */
function reader(body: ReadableStream<Uint8Array>) {
  const source = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    async next(): Promise<string> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          return block;
        }
        const { value, done } = await source.read();
        if (done) throw new Error('the stream ended');
        buffer += value;
      }
    },
    cancel: () => source.cancel(),
  };
}

/** Reads blocks until one holds `data: <data>`; the comments met on the way are counted. */
async function untilData(stream: ReturnType<typeof reader>, data: string): Promise<{ block: string; comments: number }> {
  let comments = 0;
  for (;;) {
    const block = await stream.next();
    if (block.startsWith(':')) comments++;
    else if (block.includes(`data: ${data}`)) return { block, comments };
  }
}

/** Skips the opening comments; the first event is the `retry`, sent once the client is subscribed. */
async function firstEvent(stream: ReturnType<typeof reader>): Promise<void> {
  let block = await stream.next();
  while (block.startsWith(':')) block = await stream.next();
  expect(block).toBe('retry: 500');
}

describe('a live dashboard through compress and a proxy hop', () => {
  it('sends each event at once, gzipped, pings while idle, resumes from Last-Event-ID, and forgets a client that leaves', async () => {
    const edge = await edgeUrl();
    const res = await fetch(`${edge}/live`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const stream = reader(res.body!);
    // Subscribed once `retry` comes; the stream outlives `timeout`'s 200 ms, its opening comment
    // having started the answer in time.
    await firstEvent(stream);
    for (let n = 1; n <= 5; n++) {
      publish(`n${n}`);
      expect((await untilData(stream, `n${n}`)).block).toContain(`id: ${history.length}`);
    }
    // Idle past the timeout: heartbeats keep coming, the stream is not cut.
    await sleep(350);
    publish('late');
    const late = await untilData(stream, 'late');
    expect(late.comments).toBeGreaterThanOrEqual(2);
    expect(clients.size).toBe(1);
    await stream.cancel();
    await expect.poll(() => clients.size, { timeout: 2000 }).toBe(0);

    // A reconnect with the last id it saw gets what it missed, then the live events.
    publish('missed');
    const again = await fetch(`${edge}/live`, { headers: { 'last-event-id': String(history.length - 1) } });
    const resumed = reader(again.body!);
    await firstEvent(resumed);
    expect((await untilData(resumed, 'missed')).block).toContain(`id: ${history.length}`);
    publish('after');
    await untilData(resumed, 'after');
    await resumed.cancel();
    await expect.poll(() => clients.size, { timeout: 2000 }).toBe(0);
  });

  it('answers a long poll held past the timeout 503, as docs/middleware.md says', async () => {
    const res = await fetch(`${await edgeUrl()}/poll`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('within 200 ms');
  });
});
