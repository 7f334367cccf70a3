/**
 * Run by test/runtimes/fetch-shutdown-signal.test.ts under Bun and Deno: two event streams
 * served by the runtime under `toFetchHandler(app, { shutdownSignal })`, one plain
 * (`/plain`), one under `compress` (`/coded`, gzip), whose sources send one event and then
 * wait on `req.signal` alone. The signal is aborted once both wait, then the server shuts down
 * gracefully (Deno's `server.shutdown()`, Bun's `server.stop()`). Prints one JSON line: how the
 * shutdown went and how long it took (ms), and for each stream what the client read, whether it
 * ended cleanly, the message `req.signal` aborted with, and whether the source's `finally` ran.
 */
import { Request } from 'tsgi';
import { toFetchHandler } from 'tsgi/fetch';
import { compress } from 'tsgi/middleware';
import { listenOnRuntime } from './listen.ts';
import { seen, waitingStream } from './shutdown-signal-streams.ts';

let waitingCount = 0;
let bothWait: () => void = () => undefined;
const bothWaiting = new Promise<void>((resolve) => (bothWait = resolve));

const app = compress(
  Request.application((req) =>
    waitingStream(req, seen[req.pathInfo]!, () => {
      if (++waitingCount === 2) bothWait();
    }),
  ),
);

const stopping = new AbortController();
const { port, shutdown } = listenOnRuntime(toFetchHandler(app, { shutdownSignal: stopping.signal }));

/** Reads `path` as it comes: its coding, and a promise of its text and how it ended. */
async function open(path: string, coding: string): Promise<{ encoding: string | null; done: Promise<{ text: string; outcome: string }> }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { 'Accept-Encoding': coding } });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const done = (async () => {
    let text = '';
    try {
      for (;;) {
        const step = await reader.read();
        if (step.done) return { text, outcome: 'ended' };
        text += decoder.decode(step.value, { stream: true });
      }
    } catch (error) {
      return { text, outcome: `failed: ${(error as Error).message}` };
    }
  })();
  return { encoding: response.headers.get('content-encoding'), done };
}

const plain = await open('/plain', 'identity');
const coded = await open('/coded', 'gzip');
const limit = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms, `still waiting after ${ms} ms`));
const waited = await Promise.race([bothWaiting.then(() => 'both'), limit(5000)]);
const begun = Date.now();
stopping.abort();
const ended = await Promise.race([shutdown().then(() => 'done'), limit(5000)]);
const took = Date.now() - begun;
const results = await Promise.race([Promise.all([plain.done, coded.done]), limit(2000)]);
await new Promise((resolve) => setTimeout(resolve, 50));
const [plainRead, codedRead] = Array.isArray(results) ? results : [undefined, undefined];
console.log(
  JSON.stringify({
    waited,
    shutdown: ended,
    took,
    plain: { encoding: plain.encoding, ...plainRead, ...seen['/plain'] },
    coded: { encoding: coded.encoding, ...codedRead, ...seen['/coded'] },
  }),
);
process.exit(0);
