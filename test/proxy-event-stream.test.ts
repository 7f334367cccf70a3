/**
 * proxy() in front of a server-sent-events upstream (an LLM-style token stream), over real
 * sockets: the head reaches the client when the upstream sends it, not with the first event,
 * under the filters and `timeout` too.
 */
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { type App, Request, compose } from 'tsgi';
import { TestClient } from 'tsgi/testing';
import { callApp, compress, timeout, transformBody } from 'tsgi/middleware';
import { decodeContent, proxy, replaceText } from 'tsgi/proxy';
import { start } from './node-helpers.ts';

let flooded = 0;
const MiB = 1024 * 1024;

/**
 * What the upstream holds back under `?hold=<id>` (its event, or its second JSON line) until
 * the test calls {@link release}, or 5 s pass; and the ids whose held part went out. A test
 * reads `sent` when the client gets the head (or first line): no clock decides, only the order.
 */
const holding = new Map<string, () => void>();
const sent = new Set<string>();
let nextId = 0;

function holdUntilReleased(id: string, res: http.ServerResponse, send: () => void): void {
  const go = () => {
    clearTimeout(timer);
    holding.delete(id);
    sent.add(id);
    send();
  };
  const timer = setTimeout(go, 5000);
  holding.set(id, go);
  res.on('close', () => clearTimeout(timer));
}

/** Lets the upstream send what it holds for `id`. */
function release(id: string): void {
  holding.get(id)?.();
}

/** An upstream that sends an event-stream head at once and its one event when released (`?hold`) or after `?delay` ms. */
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
    // Two JSON lines, the second held back (see `holdUntilReleased`), as a streamed API (Ollama, a log tail) sends them.
    res.writeHead(200, { 'content-type': query.get('ndjson')! });
    res.write('{"token":"a","secret":"s1"}\n');
    holdUntilReleased(query.get('hold')!, res, () => res.end('{"token":"b","secret":"s2"}\n'));
    return;
  }
  if (query.has('seq')) {
    // RFC 7464 records (RS, a JSON text, LF), pretty-printed: LF inside them too; the second held back.
    res.writeHead(200, { 'content-type': 'application/json-seq' });
    res.write('\x1e{\n  "token": "a \\"}\\" ]",\n  "secret": "s1"\n}\n');
    holdUntilReleased(query.get('hold')!, res, () => res.end('\x1e[\n  "b",\n  "secret": "s2"\n]\n\x1e"c\\n, \\"secret\\": \\"s3\\""\n'));
    return;
  }
  const delay = Number(query.get('delay') ?? 0);
  if (query.has('gzip')) {
    // The event gzipped, as an upstream behind its own compression sends it.
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
    res.flushHeaders();
    holdUntilReleased(query.get('hold')!, res, () => res.end(gzipSync('data: {"token":"a","secret":"s"}\n\n')));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  if (query.has('die')) {
    setTimeout(() => res.socket?.destroy(), delay);
    return;
  }
  if (query.has('hold')) {
    holdUntilReleased(query.get('hold')!, res, () => res.end('data: {"token":"a","secret":"s"}\n\n'));
    return;
  }
  const timer = setTimeout(() => res.end('data: {"token":"a","secret":"s"}\n\n'), delay);
  res.on('close', () => clearTimeout(timer));
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

/**
 * GET `path` + `hold=<a new id>` (the upstream holds its event back); answers the status, and
 * whether the held event had gone out when the head came (it must not have: the head is passed
 * on without waiting for it), then releases it; the body once it ends.
 */
function heldGet(path: string): Promise<{ status: number; eventSentFirst: boolean; body: Promise<string> }> {
  const id = String(nextId++);
  const target = `${path}${path.includes('?') ? '&' : '?'}hold=${id}`;
  return new Promise((resolve, reject) => {
    http
      .get(target, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        const body = new Promise<string>((r) => res.on('end', () => r(Buffer.concat(chunks).toString())));
        resolve({ status: res.statusCode ?? 0, eventSentFirst: sent.has(id), body });
        release(id);
      })
      .on('error', reject);
  });
}

const redact = (app: Parameters<typeof replaceText>[0]) => replaceText(app, { replacements: [[/"secret":"[^"]*"/g, '"secret":"***"']] });

describe('an event-stream upstream slow to its first event', () => {
  it('passes the head on when the upstream sends it (EventSource opens), not with the first event', async () => {
    const server = await start(proxy(url));
    const reply = await heldGet(`${server.url}/`);
    expect(reply.status).toBe(200);
    expect(reply.eventSentFirst).toBe(false);
    expect(await reply.body).toBe('data: {"token":"a","secret":"s"}\n\n');
  });

  it('does so under compress, replaceText and decodeContent too', async () => {
    const server = await start(compose(compress, redact, decodeContent)(proxy(url)));
    const reply = await heldGet(`${server.url}/`);
    expect(reply.status).toBe(200);
    expect(reply.eventSentFirst).toBe(false);
    expect(await reply.body).toBe('data: {"token":"a","secret":"***"}\n\n');
  });

  it('does so when decodeContent decodes a gzipped event stream', async () => {
    const server = await start(compose(redact, decodeContent)(proxy(url)));
    const reply = await heldGet(`${server.url}/?gzip`);
    expect(reply.status).toBe(200);
    expect(reply.eventSentFirst).toBe(false);
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
        // Far above the head's time, far below the upstream's 5 s fallback: a head held for its event gets the 503.
        { ms: 2000 },
      ),
    );
    const reply = await heldGet(`${server.url}/`);
    expect(reply.status).toBe(200);
    expect(reply.eventSentFirst).toBe(false);
    expect(await reply.body).toBe('data: {"token":"a","secret":"s"}\n\n');
    expect(counted).toBe(34);
  });

  it('is not answered 503 by timeout() when the head came in time', async () => {
    const server = await start(timeout(proxy(url), { ms: 2000 }));
    const reply = await heldGet(`${server.url}/`);
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
      const id = String(nextId++);
      const first = await new Promise<{ line: string; secondSentFirst: boolean; body: Promise<string> }>((resolve, reject) => {
        http
          .get(`${server.url}/?ndjson=${encodeURIComponent(type)}&hold=${id}`, { agent: false }, (res) => {
            let text = '';
            const body = new Promise<string>((r) => res.on('end', () => r(text)));
            res.on('data', (chunk: Buffer) => {
              if (text === '') {
                resolve({ line: chunk.toString(), secondSentFirst: sent.has(id), body });
                release(id);
              }
              text += chunk.toString();
            });
          })
          .on('error', reject);
      });
      expect(first.line).toBe('{"token":"a","secret":"***"}\n');
      // The first line came while the upstream still held the second back.
      expect(first.secondSentFirst).toBe(false);
      expect(await first.body).toBe('{"token":"a","secret":"***"}\n{"token":"b","secret":"***"}\n');
    });
  }
});

describe('an application/json-seq stream (RFC 7464) under replaceText', () => {
  it('replaces each record whole, LF inside it or not, and sends it once its JSON text is complete', async () => {
    // The secret and the comma before it, across the line break: a cut at each LF would miss it.
    const server = await start(replaceText(proxy(url), { replacements: [[/,\s*"secret": "[^"]*"/g, '']] }));
    const id = String(nextId++);
    const first = await new Promise<{ record: string; secondSentFirst: boolean; body: Promise<string> }>((resolve, reject) => {
      http
        .get(`${server.url}/?seq&hold=${id}`, { agent: false }, (res) => {
          let text = '';
          const body = new Promise<string>((r) => res.on('end', () => r(text)));
          res.on('data', (chunk: Buffer) => {
            if (text === '') {
              resolve({ record: chunk.toString(), secondSentFirst: sent.has(id), body });
              release(id);
            }
            text += chunk.toString();
          });
        })
        .on('error', reject);
    });
    // Brackets and escaped quotes inside a string close nothing: the record ends at the LF after its "}".
    expect(first.record).toBe('\x1e{\n  "token": "a \\"}\\" ]"\n}\n');
    // The first record came while the upstream still held the second back.
    expect(first.secondSentFirst).toBe(false);
    expect(await first.body).toBe('\x1e{\n  "token": "a \\"}\\" ]"\n}\n\x1e[\n  "b"\n]\n\x1e"c\\n, \\"secret\\": \\"s3\\""\n');
  });

  it('cuts the same records however the body is chunked: one character at a time, or whole', async () => {
    const seq = '\x1e{"a": "x\\\\",\n "b": [1,\n 2]}\n\x1e12\n\x1e{"truncated": [3\n\x1e{"b": 4}\n';
    const app = (pieces: string[]): App => (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'application/json-seq']]);
      return (async function* () {
        for (const piece of pieces) yield new TextEncoder().encode(piece);
      })();
    };
    // `\n$`: the LF that ends a record (a truncated one ends at the next RS); a cut at an inner LF would add a match.
    const options = { replacements: [[/\n$/g, '!\n']] as Array<[RegExp, string]> };
    const whole = await new TestClient(replaceText(app([seq]), options)).get('/');
    const split = await new TestClient(replaceText(app([...seq]), options)).get('/');
    expect(whole.textBody).toBe('\x1e{"a": "x\\\\",\n "b": [1,\n 2]}!\n\x1e12!\n\x1e{"truncated": [3!\n\x1e{"b": 4}!\n');
    expect(split.textBody).toBe(whole.textBody);
  });
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
