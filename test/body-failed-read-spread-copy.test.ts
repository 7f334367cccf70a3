/**
 * A read of a live request body that failed after it began (a `413` past a reader's
 * `maxBodySize`, a body broken off) leaves the input itself failed, not only the environ read
 * from: a raw layer that handed its app a spread copy (`inner({ ...environ, PATH_INFO }, …)`)
 * and reads the body after it gets the same error, as after a body read and not kept, rather
 * than the rest of the body, whose start the failed read took, as if it were the whole. Over a
 * real socket, and under the TestClient with a streamed body.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { type App, Request, Response } from 'tsgi';
import { callApp } from 'tsgi/middleware';
import { TestClient } from 'tsgi/testing';
import { start } from './node-helpers.ts';

const encoder = new TextEncoder();

/** Answers 413 when its JSON body passes 16 bytes (its own `maxBodySize`), else what it read. */
const api = Request.application(async (req) => {
  try {
    return Response.json(await req.json({ maxBodySize: 16 }));
  } catch (error) {
    return new Response(`refused ${(error as { code?: number }).code}`, { status: 413 });
  }
});

/**
 * A raw layer that gives `app` a spread copy of the environ, then reads the body itself (an
 * audit of what was posted) and answers what its read gave.
 */
function auditAfter(app: App): App {
  return async (environ, startResponse) => {
    const started = await callApp(app, { ...environ, PATH_INFO: '/api' });
    await started.close();
    const audit = await new Request(environ).bytes().then(
      (bytes) => `audit read ${bytes.byteLength} bytes`,
      (error: Error & { code?: number }) => `audit failed: ${error.code ?? error.name} ${error.message}`,
    );
    startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
    return [encoder.encode(`${started.status} | ${audit}`)];
  };
}

/** POSTs a chunked body of `first`, then `rest` 100 ms later, and answers the body of the answer. */
function postChunked(url: string, first: string, rest: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'Transfer-Encoding': 'chunked', 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.write(first);
    setTimeout(() => req.end(rest), 100);
  });
}

describe("a failed read of the body, seen from a layer that gave its app a spread copy of the environ", () => {
  it('fails there with the same 413 under serve(), not with the rest of the body as the whole', async () => {
    const server = await start(auditAfter(api));
    const text = await postChunked(server.url, `[${'1,'.repeat(12)}1]`, '["the rest"]');
    expect(text).toBe('413 Content Too Large | audit failed: 413 maxBodySize exceeded: the request body is larger than 16 bytes');
  });

  it('fails there with the same 413 under the TestClient (a streamed body)', async () => {
    async function* body() {
      yield encoder.encode(`[${'1,'.repeat(12)}1]`);
      yield encoder.encode('["the rest"]');
    }
    const res = await new TestClient(auditAfter(api)).post('/', { body: body(), headers: { 'Content-Type': 'application/json' } });
    expect(res.textBody).toBe('413 Content Too Large | audit failed: 413 maxBodySize exceeded: the request body is larger than 16 bytes');
  });
});
