/**
 * The baseline and tsgi's own targets of the benchmark, each answering the four routes of
 * bench/routes.ts: `node` (a raw `node:http` handler, the baseline every ratio is against),
 * `node-empty` (the same with Node's `optimizeEmptyRequests`, which `serve()` sets; opt-in),
 * `node-chunked` (the same without `Content-Length`, opt-in), `node-await` (the same answering
 * `/stack` after five nested awaited calls: what any five async middleware cost at least;
 * opt-in), `tsgi-raw`, `tsgi-app` and `tsgi-hooks` (the apps of bench/tsgi-apps.ts, imported when they
 * start, so the baseline's process loads no tsgi code and its memory is its own).
 *
 * @module
 */
import type http from 'node:http';
import { listen } from './listen.ts';
import { HELLO, MIDDLEWARES, streamChunks } from './routes.ts';

/** The 5 fields of `/stack`, for the baseline: `x-mw-1: 1` … `x-mw-5: 1`. */
const STACK_FIELDS = Object.fromEntries(Array.from({ length: MIDDLEWARES }, (_, i) => [`x-mw-${i + 1}`, '1']));

/**
 * Writes every chunk of `body` to `res`, waiting for `drain` when `write()` asks to, then ends
 * it; stops when the response closes first (the client went away). The loop tsgi's server runs
 * for a streamed body, written by hand: cheaper than `stream.pipeline()`.
 */
async function writeAll(res: http.ServerResponse, body: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const chunk of body) {
    if (res.destroyed) return;
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done).off('close', done);
          resolve();
        };
        res.on('drain', done).on('close', done);
      });
    }
  }
  res.end();
}

/**
 * The baseline: one `node:http` handler answering the four routes with the same bytes as every
 * target; with `length`, `/hello`, `/stack` and `/echo` carry `Content-Length` (what tsgi and the
 * frameworks send), without it Node frames them chunked. `/stream` is chunked either way (its
 * length is not known ahead), written from the async generator with backpressure.
 */
export function nodeHandler(length: boolean): http.RequestListener {
  const text = (type: string, body: string, extra?: Record<string, string>) =>
    length ? { 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra } : { 'content-type': type, ...extra };
  return (req, res) => {
    switch (req.url) {
      case '/hello':
        res.writeHead(200, text('text/plain', HELLO));
        res.end(HELLO);
        return;
      case '/stack':
        res.writeHead(200, text('text/plain', HELLO, STACK_FIELDS));
        res.end(HELLO);
        return;
      case '/stream':
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        void writeAll(res, streamChunks());
        return;
      case '/echo': {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          let body: string;
          try {
            body = JSON.stringify(JSON.parse(Buffer.concat(chunks).toString()));
          } catch {
            res.writeHead(400).end();
            return;
          }
          res.writeHead(200, text('application/json', body));
          res.end(body);
        });
        return;
      }
      default:
        res.writeHead(404).end();
    }
  };
}

/**
 * `n` nested async calls, each awaiting the next: the promise work of `n` awaited middleware
 * layers with nothing else, for the `node-await` target.
 */
async function awaitLayers(n: number): Promise<void> {
  if (n > 0) await awaitLayers(n - 1);
}

/** What bench/targets.ts lists for these targets. */
export const TSGI_TARGETS = [
  {
    name: 'node',
    label: 'raw node:http handler answering with Content-Length (baseline)',
    start: () => listen(nodeHandler(true)),
  },
  {
    name: 'node-empty',
    label: "the baseline with Node's optimizeEmptyRequests (what serve() sets: no request stream events without a body)",
    default: false,
    start: () => listen(nodeHandler(true), { optimizeEmptyRequests: true }),
  },
  {
    name: 'node-chunked',
    label: 'the baseline without Content-Length (chunked framing)',
    default: false,
    start: () => listen(nodeHandler(false)),
  },
  {
    name: 'node-await',
    label: 'the baseline answering /stack after 5 nested awaited async calls (the floor of 5 async layers)',
    default: false,
    start: () => {
      const handler = nodeHandler(true);
      return listen(async (req, res) => {
        if (req.url === '/stack') await awaitLayers(MIDDLEWARES);
        handler(req, res);
      });
    },
  },
  {
    name: 'tsgi-raw',
    label: 'tsgi serve(), raw gateway apps; /stack: 5 middlewares wrapping startResponse',
    start: async () => (await import('./tsgi-apps.ts')).serveApp('raw'),
  },
  {
    name: 'tsgi-app',
    label: 'tsgi serve(), Request.application handlers; /stack: 5 defineMiddleware layers',
    start: async () => (await import('./tsgi-apps.ts')).serveApp('request'),
  },
  {
    name: 'tsgi-hooks',
    label: 'tsgi serve(), Request.application handlers; /stack: 5 defineMiddleware({ after }) hook layers',
    start: async () => (await import('./tsgi-apps.ts')).serveApp('hooks'),
  },
] as const;
