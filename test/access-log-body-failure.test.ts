/**
 * accessLog's status for an app error that wraps a failed read of the request body (a sink's
 * `TypeError: fetch failed` whose cause is the 413): the server answers the body's 4xx, and the
 * line says that status, not 500.
 */
import { describe, expect, it } from 'vitest';
import { type App, Request } from 'tsgi';
import { accessLog } from 'tsgi/middleware';
import { parseRaw, rawExchange, start } from './node-helpers.ts';

describe('accessLog and a wrapped body failure', () => {
  it('logs the 4xx the client got when the app throws an error wrapping the body read failure', async () => {
    const lines: string[] = [];
    const uploading: App = async (environ) => {
      try {
        await new Request(environ).bytes({ maxBodySize: 10 });
      } catch (error) {
        throw new Error('upload failed', { cause: error });
      }
      throw new Error('the body was short enough');
    };
    const server = await start(accessLog(uploading, { log: { write: (line: string) => void lines.push(line) }, format: 'common' }));
    // Chunked, so the limit is met while streaming (the read fails; a declared length is refused before it).
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('x'.repeat(1000)));
        controller.close();
      },
    });
    const res = await fetch(`${server.url}/upload`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    await res.arrayBuffer();
    for (let i = 0; i < 100 && lines.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/"POST \/upload HTTP\/1\.1" 413 /);
  });

  it("answers serve()'s maxBodySize 413 under a format that counts the bytes read (json), as under the others, when a raw app wraps it", async () => {
    // A raw app streaming tsgi.input into a sink whose failure wraps the read's error (fetch's
    // `TypeError: fetch failed`, whose cause is the 413).
    const sink: App = async (environ, startResponse) => {
      try {
        for await (const _chunk of environ['tsgi.input']);
      } catch (error) {
        throw new Error('upload failed', { cause: error });
      }
      startResponse('200 OK', []);
      return [];
    };
    const upload = `POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n14\r\n${'x'.repeat(20)}\r\n0\r\n\r\n`;
    for (const format of ['common', 'json'] as const) {
      const lines: string[] = [];
      const server = await start(accessLog(sink, { log: { write: (line: string) => void lines.push(line) }, format }), { maxBodySize: 10 });
      const res = parseRaw((await rawExchange(server.port, upload)).raw);
      expect({ format, status: res.status, logged: server.log.text }).toEqual({ format, status: 413, logged: '' });
      for (let i = 0; i < 100 && lines.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(lines[0]).toMatch(format === 'json' ? /"status":413/ : /" 413 /);
    }
  });
});
