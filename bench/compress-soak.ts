/**
 * Memory soak of `compress` under clients that hang up mid-stream (issue: RSS grew from 135 to
 * 336 MB over 1,200 aborted brotli streams while the V8 heap stayed flat).
 *
 * Starts a server in a child process whose app streams an endless text body through
 * `compress`, then opens connections (`--concurrency`, default 20, at a time) that ask for
 * `br` (or `--coding gzip`, `identity`), read a few compressed chunks and destroy the socket:
 * first `--warmup` of them (default 5,000), then `--streams` measured ones (default 5,000).
 * The child reports its RSS, V8 heap (used of committed), external memory and the zlib
 * handles alive (created minus destroyed, from `async_hooks`), after a GC, every tenth of
 * the way; the verdict compares RSS at the end with RSS after the warm-up.
 *
 * What it showed (2026-12-02, Node 24): no compressor is left open (the live count stays
 * near the concurrency and falls to 0 at the end). RSS rises for the first few thousand
 * streams while V8 grows its young generation to its maximum under the allocation rate
 * (committed heap 32 → 142 MB with 11 MB used), then stays flat; the figures in the issue
 * were that growth, not a leak. A brotli window of 2^19 bytes (nginx's `brotli_window`
 * default) keeps each live stream's encoder small.
 *
 * ```sh
 * node bench/compress-soak.ts [--warmup 5000] [--streams 5000] [--concurrency 20] [--coding br]
 * ```
 *
 * Loopback only; bounded by the stream count and a 10-minute limit.
 *
 * @module
 */
import { fork } from 'node:child_process';
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '20' },
    coding: { type: 'string', default: 'br' },
    child: { type: 'boolean', default: false },
  },
});

interface Figures {
  rss: number;
  heap: number;
  heapTotal: number;
  external: number;
  live: number;
}

if (values.child) await runServer();
else await runSoak();

/** The child: a compressed endless stream, and memory figures on request. */
async function runServer(): Promise<void> {
  const { serve } = await import('../src/index.ts');
  const { compress } = await import('../src/entries/middleware.ts');
  // Count compressors alive: zlib handles created minus those whose native side was closed.
  const { createHook } = await import('node:async_hooks');
  const handles = new Set<number>();
  createHook({
    init(id, type) {
      if (type === 'ZLIB') handles.add(id);
    },
    destroy(id) {
      handles.delete(id);
    },
  }).enable();
  const line = new TextEncoder().encode(`${'tsgi compresses this line of text again and again. '.repeat(20)}\n`);
  const app = compress((_environ, startResponse) => {
    startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
    return (async function* () {
      for (;;) {
        yield line;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
  });
  const server = await serve(app, { host: '127.0.0.1', port: 0, log: { write() {} } });
  process.on('message', (message: string) => {
    if (message === 'figures') {
      globalThis.gc?.();
      const m = process.memoryUsage();
      process.send!({ rss: m.rss, heap: m.heapUsed, heapTotal: m.heapTotal, external: m.external + m.arrayBuffers, live: handles.size } satisfies Figures);
    } else if (message === 'stop') void server.close().then(() => process.exit(0));
  });
  process.send!({ port: server.port });
}

/** The parent: the hanging-up clients, and the report. */
async function runSoak(): Promise<void> {
  const measured = Number(values.streams);
  const warmupStreams = Number(values.warmup);
  const streams = warmupStreams + measured;
  const concurrency = Number(values.concurrency);
  const child = fork(new URL(import.meta.url), ['--child'], { execArgv: ['--expose-gc', '--conditions=tsgi-source'] });
  const limit = setTimeout(() => {
    console.error('compress-soak: time limit reached');
    child.kill();
    process.exit(1);
  }, 600_000);
  const next = <T>() => new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T)));
  const { port } = await next<{ port: number }>();
  const figures = async (): Promise<Figures> => {
    const answer = next<Figures>();
    child.send('figures');
    return answer;
  };
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;
  const show = (label: string, f: Figures) =>
    console.log(`${label.padEnd(22)} rss ${mb(f.rss).padStart(9)}  heap ${mb(f.heap).padStart(8)} of ${mb(f.heapTotal).padStart(8)}  external ${mb(f.external).padStart(8)}  live compressors ${f.live}`);

  show('start', await figures());
  let started = 0;
  let done = 0;
  let warm: Figures | undefined;
  const oneStream = () =>
    new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let received = 0;
      socket.on('data', (chunk) => {
        received += chunk.byteLength;
        if (received > 2000) socket.destroy();
      });
      socket.on('close', () => resolve());
      socket.on('error', () => undefined);
      socket.write(`GET / HTTP/1.1\r\nHost: soak\r\nAccept-Encoding: ${values.coding}\r\n\r\n`);
    });
  const worker = async () => {
    while (started < streams) {
      started++;
      await oneStream();
      done++;
      if (done % Math.ceil(streams / 10) === 0 || done === warmupStreams) {
        const now = await figures();
        if (done === warmupStreams) warm = now;
        show(`${done === warmupStreams ? 'warm: ' : ''}after ${done} streams`, now);
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const end = await figures();
  show(`after ${done} streams`, end);
  const base = warm ?? end;
  const change = end.rss - base.rss;
  console.log(`${done} aborted ${values.coding} streams in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`RSS over the last ${measured}: ${mb(base.rss)} → ${mb(end.rss)} (${change >= 0 ? '+' : ''}${(100 * change / base.rss).toFixed(1)} %); live compressors at the end: ${end.live}`);
  child.send('stop');
  clearTimeout(limit);
}
