/**
 * The response filters (`replaceText`, `rewriteHtml`, `decodeContent`) and an app's
 * `Content-Length` the server refuses (not decimal digits alone, or given twice: docs/spec.md
 * §5): without a filter that answer is a logged 500. A filter that changes the body drops the
 * field, which used to turn that 500 into a 200 (and a 304 to a client holding the changed
 * page's weak tag into a 304). Over a socket.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { App } from 'tsgi';
import { decodeContent, replaceText, rewriteHtml } from 'tsgi/proxy';
import { request, start } from './node-helpers.ts';

const TEXT = '<p>The quick brown fox jumps over the lazy dog.</p>'.repeat(100);

/** A raw app answering `status` with `fields` and `body` in memory. */
const answering =
  (status: string, fields: Array<[string, string]>, body: Uint8Array): App =>
  (_environ, startResponse) => {
    startResponse(status, fields);
    return status.startsWith('304') ? [] : [body];
  };

const plain = new TextEncoder().encode(TEXT);
const coded = gzipSync(TEXT);

describe('response filters: a Content-Length the server refuses', () => {
  const cases: Array<[string, (app: App) => App, Array<[string, string]>, Uint8Array]> = [
    ['replaceText', (app) => replaceText(app, { replacements: [['fox', 'cat']] }), [['Content-Type', 'text/html']], plain],
    ['rewriteHtml', (app) => rewriteHtml(app, { upstream: 'http://old.example' }), [['Content-Type', 'text/html']], plain],
    ['decodeContent', (app) => decodeContent(app), [['Content-Type', 'text/html'], ['Content-Encoding', 'gzip']], coded],
  ];

  it.each(cases)('%s leaves it to the server: 500 to GET and HEAD', async (_name, filter, fields, body) => {
    for (const length of [[['Content-Length', '9000x']], [['Content-Length', String(body.byteLength)], ['Content-Length', String(body.byteLength)]]] as Array<Array<[string, string]>>) {
      const server = await start(filter(answering('200 OK', [...fields, ...length], body)));
      for (const method of ['GET', 'HEAD']) {
        const res = await request(`http://127.0.0.1:${server.port}/`, { method });
        expect([method, length, res.status]).toEqual([method, length, 500]);
      }
      expect(server.log.text).toMatch(/Content-Length/);
      await server.close();
    }
  });

  it('leaves a 304 with such a field to the server, even to a client holding the changed page', async () => {
    const server = await start(replaceText(answering('304 Not Modified', [['ETag', '"v1"'], ['Content-Length', '9000x']], plain), { replacements: [['fox', 'cat']] }));
    const res = await request(`http://127.0.0.1:${server.port}/`, { headers: { 'if-none-match': 'W/"v1"' } });
    expect(res.status).toBe(500);
  });

  it('still changes an answer whose one Content-Length is digits alone', async () => {
    const server = await start(replaceText(answering('200 OK', [['Content-Type', 'text/html'], ['Content-Length', String(plain.byteLength)]], plain), { replacements: [['fox', 'cat']] }));
    const res = await request(`http://127.0.0.1:${server.port}/`);
    expect([res.status, res.body.toString().includes('quick brown cat')]).toEqual([200, true]);
  });
});
