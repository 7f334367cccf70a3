/**
 * proxy() in front of a server-sent-events upstream (an LLM-style token stream), over real
 * sockets: the head reaches the client when the upstream sends it, not with the first event,
 * under the filters and `timeout` too.
 */
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { Request, compose } from 'tsgi';
import { callApp, compress, timeout, transformBody } from 'tsgi/middleware';
import { decodeContent, proxy, replaceText } from 'tsgi/proxy';
import { start } from './node-helpers.ts';

let flooded = 0;
const MiB = 1024 * 1024;

/** An upstream that sends an event-stream head at once and its one event after `?delay` ms. */
const upstream = http.createServer((req, res) => {
  const query = new URL(req.url ?? '/', 'http://x').searchParams;
  if (query.has('flood')) {
    // 1 KiB events as fast as the proxy takes them; what went out is counted in `flooded`.
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const event = `data: ${'x'.repeat(1018)}\n\n`;
    const pump = () => {
      while (!res.destroyed) {
        flooded += event.length;
        if (!res.write(event)) return void res.once('drain', pump);
      }
    };
    pump();
    return;
  }
  if (query.has('ndjson')) {
    // Two JSON lines 600 ms apart, as a streamed API (Ollama, a log tail) sends them.
    res.writeHead(200, { 'content-type': query.get('ndjson')! });
    res.write('{"token":"a","secret":"s1"}\n');
    const timer = setTimeout(() => res.end('{"token":"b","secret":"s2"}\n'), 600);
    res.on('close', () => clearTimeout(timer));
    return;
  }
  const delay = Number(query.get('delay') ?? 0);
  if (query.has('gzip')) {
    // The event gzipped, as an upstream behind its own compression sends it.
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
    res.flushHeaders();
    const timer = setTimeout(() => res.end(gzipSync('data: {"token":"a","secret":"s"}\n\n')), delay);
    res.on('close', () => clearTimeout(timer));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  if (query.has('die')) {
    setTimeout(() => res.socket?.destroy(), delay);
    return;
  }
  const timer = setTimeout(() => res.end('data: {"token":"a","secret":"s"}\n\n'), delay);
  res.on('close', () => clearTimeout(timer));
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

/** GET `path`; answers the status and when the head came, and the body once it ends. */
function timedGet(target: string): Promise<{ status: number; headAfter: number; body: Promise<string> }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    http
      .get(target, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        const body = new Promise<string>((r) => res.on('end', () => r(Buffer.concat(chunks).toString())));
        resolve({ status: res.statusCode ?? 0, headAfter: Date.now() - started, body });
      })
      .on('error', reject);
  });
}

const redact = (app: Parameters<typeof replaceText>[0]) => replaceText(app, { replacements: [[/"secret":"[^"]*"/g, '"secret":"***"']] });

describe('an event-stream upstream slow to its first event', () => {
  it('passes the head on when the upstream sends it (EventSource opens), not with the first event', async () => {
    const server = await start(proxy(url));
    const reply = await timedGet(`${server.url}/?delay=600`);
    expect(reply.status).toBe(200);
    expect(reply.headAfter).toBeLessThan(400);
    expect(await reply.body).toBe('data: {"token":"a","secret":"s"}\n\n');
  });

  it('does so under compress, replaceText and decodeContent too', async () => {
    const server = await start(compose(compress, redact, decodeContent)(proxy(url)));
    const reply = await timedGet(`${server.url}/?delay=600`);
    expect(reply.status).toBe(200);
    expect(reply.headAfter).toBeLessThan(400);
    expect(await reply.body).toBe('data: {"token":"a","secret":"***"}\n\n');
  });

  it('does so when decodeContent decodes a gzipped event stream', async () => {
    const server = await start(compose(redact, decodeContent)(proxy(url)));
    const reply = await timedGet(`${server.url}/?delay=600&gzip`);
    expect(reply.status).toBe(200);
    expect(reply.headAfter).toBeLessThan(400);
    expect(await reply.body).toBe('data: {"token":"a","secret":"***"}\n\n');
  });

  it('does so under a transformBody middleware that passes chunks on', async () => {
    // A byte counter, as an SSE gateway adds one: each chunk passed on as it is.
    let counted = 0;
    const server = await start(
      timeout(
        async (environ, startResponse) => {
          const { status, headers, body } = await callApp(proxy(url), environ);
          startResponse(status, headers);
          return transformBody(body, {
            transform: (chunk) => {
              counted += chunk.byteLength;
              return chunk;
            },
          });
        },
        { ms: 300 },
      ),
    );
    const reply = await timedGet(`${server.url}/?delay=600`);
    expect(reply.status).toBe(200);
    expect(reply.headAfter).toBeLessThan(250);
    expect(await reply.body).toBe('data: {"token":"a","secret":"s"}\n\n');
    expect(counted).toBe(34);
  });

  it('is not answered 503 by timeout() when the head came in time', async () => {
    const server = await start(timeout(proxy(url), { ms: 300 }));
    const reply = await timedGet(`${server.url}/?delay=600`);
    expect(reply.status).toBe(200);
    expect(await reply.body).toBe('data: {"token":"a","secret":"s"}\n\n');
  });

  it('cuts the connection when the upstream dies before the first event: an error EventSource reconnects after, not a 502 page', async () => {
    const server = await start(proxy(url));
    const outcome = await new Promise<string>((resolve) => {
      http.get(`${server.url}/?delay=100&die`, { agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(`clean end ${res.statusCode}`));
        res.on('error', () => resolve(`cut ${res.statusCode} ${res.headers['content-type']}`));
      });
    });
    expect(outcome).toBe('cut 200 text/event-stream');
  });
});

describe('a line-delimited JSON stream under replaceText', () => {
  for (const type of ['application/x-ndjson', 'application/jsonl', 'application/json-seq']) {
    it(`rewrites ${type} by default, and sends each line once it is complete`, async () => {
      const server = await start(redact(proxy(url)));
      const first = await new Promise<{ line: string; after: number; body: Promise<string> }>((resolve, reject) => {
        const started = Date.now();
        http
          .get(`${server.url}/?ndjson=${encodeURIComponent(type)}`, { agent: false }, (res) => {
            let text = '';
            const body = new Promise<string>((r) => res.on('end', () => r(text)));
            res.on('data', (chunk: Buffer) => {
              if (text === '') resolve({ line: chunk.toString(), after: Date.now() - started, body });
              text += chunk.toString();
            });
          })
          .on('error', reject);
      });
      expect(first.line).toBe('{"token":"a","secret":"***"}\n');
      expect(first.after).toBeLessThan(400);
      expect(await first.body).toBe('{"token":"a","secret":"***"}\n{"token":"b","secret":"***"}\n');
    });
  }
});

describe('a steady reader slower than an upstream of small chunks', () => {
  it('keeps the proxy from reading ahead (backpressure holds, memory bounded)', async () => {
    const app = proxy(url);
    flooded = 0;
    const started = await callApp(app, Request.blank('/?flood').environ);
    const body = (started.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    let consumed = 0;
    let largest = 0;
    const until = Date.now() + 1500;
    try {
      while (Date.now() < until) {
        const step = await body.next();
        if (step.done === true) break;
        consumed += step.value.byteLength;
        largest = Math.max(largest, step.value.buffer.byteLength);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      // Socket buffers on both sides of the upstream connection and the proxy's 64 KiB queue.
      expect(flooded - consumed).toBeLessThan(12 * MiB);
      // What a chunk handed on keeps alive: undici's read, not everything read ahead.
      expect(largest).toBeLessThan(MiB);
    } finally {
      await body.return?.();
      await app.close();
    }
  });
});
